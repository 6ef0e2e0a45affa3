/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ABA on the run cache's claims, with a generation that wraps (built
 * with -DSWIOTLB_MODEL_TAG_GEN_BITS=1: two remaps bring a head's tag
 * back).  The pool has one slot.  U2 maps d (3 bytes) and hands its
 * address to U1 (a relaxed store), unmaps d (lock-free, into its cache),
 * maps e (2 bytes: the same run, from its cache, a new generation),
 * unmaps e, maps f (2 bytes, the same run again: the generation has
 * wrapped to d's) and keeps f; it stops when its unmap of d fails.  U1
 * unmaps d too, a racing double unmap: lock-free (unmap_to_cache(); its
 * block counts a map, as if it had mapped for the device before), or
 * with -DABA_LOCKED under the area lock (unmap_locked(): it never did).
 * U1 may read d's tag, and then swap f's identical one.  With -DABA_AREA
 * U2's unmaps free under the area lock (its block counts no map before
 * each, as for a thread that only unmaps), so e and f are placed by the
 * area search (record_mapping()) instead of being remapped from its
 * cache: the tag U1 swaps was then published by the area's release store.
 * Asserted: at most one unmap of d succeeds; no copy-back writes past
 * e's or f's 2 bytes (a sentinel) or anything but d's bytes into d's
 * buffer; f unmaps afterwards; then no slot is used.
 */
#include "harness.h"

static struct swiotlb_mem *mem;
static struct swiotlb_dev *dev;
static _Atomic swiotlb_addr_t handoff;
static swiotlb_addr_t addr_f;
static unsigned char buf_d[3] = { 0xd, 0xd, 0xd }, buf_e[3] = { 0xe, 0xe, 0x5e };
static unsigned char buf_f[3] = { 0xf, 0xf, 0x5f };
static int rc_u1 = -1, rc_u2 = -1, rc_f = -1;

static void *u1(void *arg)
{
	swiotlb_addr_t a;

	(void)arg;
#ifndef ABA_LOCKED
	H_PRETEND_MAPPED(dev); /* the lock-free unmap is for threads that map too */
#endif
	a = atomic_load_explicit(&handoff, memory_order_relaxed);
	if (a)
		rc_u1 = swiotlb_unmap(dev, a, sizeof(buf_d), SWIOTLB_BIDIRECTIONAL, 0);
	return NULL;
}

/* -DABA_AREA: U2's next unmap frees under the area lock (see the top). */
static void u2_no_cache(void)
{
#ifdef ABA_AREA
	st_relaxed(&_swiotlb_devcount_get(dev)->maps, 0);
#endif
}

static void *u2(void *arg)
{
	swiotlb_addr_t a;

	(void)arg;
	if (swiotlb_map(dev, buf_d, sizeof(buf_d), SWIOTLB_BIDIRECTIONAL, SWIOTLB_ATTR_NO_WARN, &a) != 0)
		return NULL;
	atomic_store_explicit(&handoff, a, memory_order_relaxed);
	u2_no_cache();
	rc_u2 = swiotlb_unmap(dev, a, sizeof(buf_d), SWIOTLB_BIDIRECTIONAL, 0);
	if (rc_u2 != 0) /* U1's unmap won: nothing to wrap */
		return NULL;
	if (swiotlb_map(dev, buf_e, 2, SWIOTLB_BIDIRECTIONAL, SWIOTLB_ATTR_NO_WARN, &a) != 0)
		return NULL;
	u2_no_cache();
	assert(swiotlb_unmap(dev, a, 2, SWIOTLB_BIDIRECTIONAL, 0) == 0);
	rc_f = swiotlb_map(dev, buf_f, 2, SWIOTLB_BIDIRECTIONAL, SWIOTLB_ATTR_NO_WARN, &addr_f);
	return NULL;
}

int main(void)
{
	pthread_t t1, t2;

	mem = h_mem(H_SLOT_SIZE, false, 0);
	dev = h_dev(mem, false);
	t1 = h_spawn(u1, NULL);
	t2 = h_spawn(u2, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	assert(rc_u1 != 0 || rc_u2 != 0);
	assert(buf_d[0] == 0xd && buf_d[2] == 0xd);
	assert(buf_e[2] == 0x5e && buf_f[2] == 0x5f);
	if (rc_f == 0)
		assert(swiotlb_unmap(dev, addr_f, 2, SWIOTLB_BIDIRECTIONAL, 0) == 0);
	assert(H_USED_EXACT(mem) == 0);
	return 0;
}
