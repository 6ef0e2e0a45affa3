/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Delete shape, memory reused by the thread that waited for the grace
 * period: P0 runs the shrink step, which retires the idle grown pool G,
 * unpublishes it and frees it after a grace period; P0 then takes G's
 * memory back from the provider as a plain buffer, maps it directly (same
 * device address as G) and hands the address to P1 through a relaxed
 * store.  P1 must not find the stale pool G.
 */
#include "harness.h"

#define G_FRAME 1

static struct swiotlb_mem *mem;
static struct swiotlb_dev *dev;
static _Atomic swiotlb_addr_t handoff;
static unsigned char buf0[3], bufg[3];

static void reuse_and_hand_off(void)
{
	void *cpu = h_frame_take_plain(G_FRAME);
	swiotlb_addr_t a;

	if (!cpu)
		return;
	assert(swiotlb_map(dev, cpu, 3, SWIOTLB_TO_DEVICE, 0, &a) == 0);
	atomic_store_explicit(&handoff, a, memory_order_relaxed);
}

static void *p0(void *arg)
{
	(void)arg;
	H_SHRINK_STEP(mem);
	reuse_and_hand_off();
	return NULL;
}

static void *p1(void *arg)
{
	swiotlb_addr_t a = atomic_load_explicit(&handoff, memory_order_relaxed);

	(void)arg;
	if (!a)
		return NULL;
	assert(!swiotlb_is_bounce(dev, a));
	return NULL;
}

/* A grown pool G that was used once and is idle since the last poll. */
static void setup(void)
{
	swiotlb_addr_t a0, ag;

	mem = h_mem(H_SLOT_SIZE, true, 1);
	dev = h_dev(mem, true);
	assert(swiotlb_map(dev, buf0, sizeof(buf0), SWIOTLB_TO_DEVICE, 0, &a0) == 0);
	assert(H_GROW_STEP(mem));
	assert(swiotlb_map(dev, bufg, sizeof(bufg), SWIOTLB_TO_DEVICE, 0, &ag) == 0);
	assert(swiotlb_unmap(dev, ag, sizeof(bufg), SWIOTLB_TO_DEVICE, 0) == 0);
	atomic_store_explicit(&model_clock, 1, memory_order_relaxed);
	H_SHRINK_STEP(mem); /* first poll: G idle from now */
	atomic_store_explicit(&model_clock, 2000001, memory_order_relaxed);
}

#ifndef DELETE_OTHER
int main(void)
{
	pthread_t t0, t1;

	setup();
	t0 = h_spawn(p0, NULL);
	t1 = h_spawn(p1, NULL);
	pthread_join(t0, NULL);
	pthread_join(t1, NULL);
	return 0;
}
#endif
