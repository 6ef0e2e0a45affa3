/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Lookup index under concurrent lookups.  The index starts with 4 buckets
 * (-DSWIOTLB_LOOKUP_MIN_BUCKETS=4) holding the initial pool I and pools A
 * and C.  W removes A (a tombstone), frees it after a grace period, and
 * inserts a new pool B, which rebuilds the table (16 > 12 load units).
 * The provider gives B the memory A had: the same device addresses.
 * R looks them up in one read-side section: I and C are always found; the
 * address of A and B gives nothing, or a pool not freed whose descriptor
 * is visible and covers the address (a plain read: without the bucket
 * store-release / load-acquire it races with B's creation).
 */
#include "harness.h"

static struct swiotlb_mem *mem;
static struct pool *pool_a, *pool_c;

static void *writer(void *arg)
{
	struct pool *b;

	(void)arg;
	H_UNPUBLISH(mem, pool_a);
	H_FREE_AFTER_GRACE(pool_a);
	b = H_POOL_CREATE(mem, H_SLOT_SIZE, H_POOL_SHARED);
	assert(b && H_PUBLISH(mem, b) == 0);
	return NULL;
}

static void *reader(void *arg)
{
	struct pool *p;

	(void)arg;
	H_RCU_READ_LOCK();
	assert(H_LOOKUP(mem, h_frame_addr(0)) != NULL);
	p = H_LOOKUP(mem, h_frame_addr(1) + 5);
	assert(!p || (!H_FREED(p) && H_POOL_START(p) == h_frame_addr(1)));
	assert(H_LOOKUP(mem, h_frame_addr(2)) == pool_c);
	H_RCU_READ_UNLOCK();
	return NULL;
}

int main(void)
{
	pthread_t tw, tr;

	mem = h_mem(H_SLOT_SIZE, false, 0);
	pool_a = H_POOL_CREATE(mem, H_SLOT_SIZE, H_POOL_SHARED);
	pool_c = H_POOL_CREATE(mem, H_SLOT_SIZE, H_POOL_SHARED);
	assert(pool_a && pool_c && H_POOL_START(pool_a) == h_frame_addr(1));
	assert(H_PUBLISH(mem, pool_a) == 0 && H_PUBLISH(mem, pool_c) == 0);
	tw = h_spawn(writer, NULL);
	tr = h_spawn(reader, NULL);
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	return 0;
}
