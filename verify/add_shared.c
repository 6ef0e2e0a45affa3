/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Add shape with a shared pool: P0 runs the growth step itself (a new
 * shared pool published in the index and the pool set), maps from it (the
 * initial pool is full) and hands the address to P1 through a relaxed
 * store; P1 must find the mapping.
 */
#include "harness.h"

static struct swiotlb_mem *mem;
static struct swiotlb_dev *dev;
static _Atomic swiotlb_addr_t handoff;
static unsigned char buf0[3], buf1[3];

static void *p0(void *arg)
{
	swiotlb_addr_t a;

	(void)arg;
	buf1[0] = 7;
	assert(H_GROW_STEP(mem));
	assert(swiotlb_map(dev, buf1, sizeof(buf1), SWIOTLB_BIDIRECTIONAL, 0, &a) == 0);
	atomic_store_explicit(&handoff, a, memory_order_relaxed);
	return NULL;
}

static void *p1(void *arg)
{
	swiotlb_addr_t a = atomic_load_explicit(&handoff, memory_order_relaxed);

	(void)arg;
	if (!a)
		return NULL;
	assert(swiotlb_is_bounce(dev, a));
	assert(swiotlb_sync_for_cpu(dev, a, 1, SWIOTLB_BIDIRECTIONAL) == 0);
	assert(buf1[0] == 7);
	assert(swiotlb_unmap(dev, a, sizeof(buf1), SWIOTLB_BIDIRECTIONAL, 0) == 0);
	return NULL;
}

int main(void)
{
	swiotlb_addr_t a0;
	pthread_t t0, t1;

	mem = h_mem(H_SLOT_SIZE, false, 0);
	dev = h_dev(mem, false);
	assert(swiotlb_map(dev, buf0, sizeof(buf0), SWIOTLB_TO_DEVICE, 0, &a0) == 0);
	t0 = h_spawn(p0, NULL);
	t1 = h_spawn(p1, NULL);
	pthread_join(t0, NULL);
	pthread_join(t1, NULL);
	return 0;
}
