/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Add shape: P0 maps while the only shared pool is full, so the map path
 * creates and publishes a transient pool, and hands the address to P1
 * through a relaxed store.  P1 loads it relaxed and must find the mapping:
 * is_bounce true, a sync and the unmap succeed.
 * P0's map is the device's first bounce (the pool was filled by another
 * device), so P1 also needs to see the device's 'bounced' flag, which it
 * reads before any RCU read-side section: the lookup acquire fence is not
 * helped by the RCU read lock's barrier.
 * Barriers: the bucket store-release/load-acquire (publication), the
 * map-path release fence and the lookup acquire fence.
 */
#include "harness.h"

static struct swiotlb_mem *mem;
static struct swiotlb_dev *dev, *dev_fill;
static _Atomic swiotlb_addr_t handoff;
static unsigned char buf0[3], buf1[3];

static void *p0(void *arg)
{
	(void)arg;
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

	mem = h_mem(H_SLOT_SIZE, true, 0);
	dev = h_dev(mem, false);
	dev_fill = h_dev(mem, false);
	/* fill the one-slot shared pool: P0's map needs a transient pool */
	assert(swiotlb_map(dev_fill, buf0, sizeof(buf0), SWIOTLB_TO_DEVICE, 0, &a0) == 0);
	t0 = h_spawn(p0, NULL);
	t1 = h_spawn(p1, NULL);
	pthread_join(t0, NULL);
	pthread_join(t1, NULL);
	return 0;
}
