/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The run cache's steal protocol against a failing map (runcache.c): a
 * cached run is never both in its owner's cache and given back or
 * handed out by someone else.  The pool has one slot.  O, the owner, maps
 * a, unmaps it (lock-free, into its cache: push) and maps b of the same
 * shape (from its cache: pop), and keeps b.  T maps t: when the slot is
 * taken its map takes every cached run back (_swiotlb_devcount_drain():
 * steal = BUSY, B2, wait until the owner is out, give the runs back) and
 * tries again; it keeps t.  O's busy = 1, B1, look at steal against T's
 * steal = BUSY, B2, look at busy is the store-buffering shape.
 * Asserted: b and t are never both mapped (one slot); each mapping that
 * succeeded unmaps with its own bytes copied back; then no slot is used
 * (none leaked or freed twice).
 * With -DMODEL_RUNCACHE_NO_FENCES (B1 and B2 compiled out) expected to
 * FAIL: O reads steal as NONE and T reads busy as 0, both take the run.
 */
#include "harness.h"

static struct swiotlb_mem *mem;
static struct swiotlb_dev *dev;
static swiotlb_addr_t addr_b, addr_t;
static unsigned char buf_a[3] = { 0xa, 0xa, 0xa }, buf_b[3] = { 0xb, 0xb, 0xb };
static unsigned char buf_t[3] = { 0x7, 0x7, 0x7 };
static int rc_b = -1, rc_t = -1;

static void *owner(void *arg)
{
	swiotlb_addr_t a;

	(void)arg;
	if (swiotlb_map(dev, buf_a, sizeof(buf_a), SWIOTLB_BIDIRECTIONAL, SWIOTLB_ATTR_NO_WARN,
			&a) != 0)
		return NULL;
	assert(swiotlb_unmap(dev, a, sizeof(buf_a), SWIOTLB_BIDIRECTIONAL, 0) == 0);
	rc_b = swiotlb_map(dev, buf_b, sizeof(buf_b), SWIOTLB_BIDIRECTIONAL,
			   SWIOTLB_ATTR_NO_WARN, &addr_b);
	return NULL;
}

static void *thief(void *arg)
{
	(void)arg;
	rc_t = swiotlb_map(dev, buf_t, sizeof(buf_t), SWIOTLB_BIDIRECTIONAL,
			   SWIOTLB_ATTR_NO_WARN, &addr_t);
	return NULL;
}

int main(void)
{
	pthread_t to, tt;

	mem = h_mem(H_SLOT_SIZE, false, 0);
	dev = h_dev(mem, false);
	to = h_spawn(owner, NULL);
	tt = h_spawn(thief, NULL);
	pthread_join(to, NULL);
	pthread_join(tt, NULL);
	assert(rc_b != 0 || rc_t != 0);
	if (rc_b == 0) {
		assert(swiotlb_unmap(dev, addr_b, sizeof(buf_b), SWIOTLB_BIDIRECTIONAL, 0) == 0);
		assert(buf_b[0] == 0xb);
	}
	if (rc_t == 0) {
		assert(swiotlb_unmap(dev, addr_t, sizeof(buf_t), SWIOTLB_BIDIRECTIONAL, 0) == 0);
		assert(buf_t[0] == 0x7);
	}
	assert(H_USED_EXACT(mem) == 0);
	return 0;
}
