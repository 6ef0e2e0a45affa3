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
	(void)arg;
	assert(H_GROW_STEP(mem));
	h_map_hand_off(dev, buf1, sizeof(buf1), &handoff);
	return NULL;
}

static void *p1(void *arg)
{
	(void)arg;
	h_receive_check(dev, buf1, sizeof(buf1), &handoff, true);
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
