/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Lookup index under concurrent lookups.  The index starts with 4 buckets
 * (-DSWIOTLB_LOOKUP_MIN_BUCKETS=4) holding the initial pool I and pool A.
 * W inserts a new pool B into the live table (3 entries: no rebuild),
 * removes A (a tombstone), frees it after a grace period, and inserts a
 * new pool D, which rebuilds the table (16 > 12 load units); the provider
 * gives D the memory A had: the same device addresses.
 * R looks them up in one read-side section: I is always found; B's
 * address, and A's (D's), give nothing or a pool not freed whose
 * descriptor covers the address (a plain read: without the bucket
 * store-release / load-acquire, or the table's, it races with the pool's
 * creation).
 */
#include "harness.h"

static struct swiotlb_mem *mem;
static struct pool *pool_a;

static void *writer(void *arg)
{
	struct pool *b, *d;

	(void)arg;
	b = H_POOL_CREATE(mem, H_SLOT_SIZE, H_POOL_SHARED);
	assert(b && H_PUBLISH(mem, b) == 0);
	H_UNPUBLISH(mem, pool_a);
	H_FREE_AFTER_GRACE(pool_a);
	d = H_POOL_CREATE(mem, H_SLOT_SIZE, H_POOL_SHARED);
	assert(d && H_PUBLISH(mem, d) == 0);
	return NULL;
}

static void check(swiotlb_addr_t start)
{
	struct pool *p = H_LOOKUP(mem, start + 5);

	assert(!p || (!H_FREED(p) && H_POOL_START(p) == start));
}

static void *reader(void *arg)
{
	(void)arg;
	H_RCU_READ_LOCK();
	check(h_frame_addr(2)); /* B */
	assert(H_LOOKUP(mem, h_frame_addr(0)) != NULL);
	check(h_frame_addr(1)); /* A, then D */
	H_RCU_READ_UNLOCK();
	return NULL;
}

int main(void)
{
	pthread_t tw, tr;

	mem = h_mem(H_SLOT_SIZE, false, 0);
	pool_a = H_POOL_CREATE(mem, H_SLOT_SIZE, H_POOL_SHARED);
	assert(pool_a && H_POOL_START(pool_a) == h_frame_addr(1));
	assert(H_PUBLISH(mem, pool_a) == 0);
	tw = h_spawn(writer, NULL);
	tr = h_spawn(reader, NULL);
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	return 0;
}
