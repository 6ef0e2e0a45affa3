/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Two racing unmaps of one mapping (a double unmap): exactly one succeeds,
 * the buffer gets the device's bytes, and the slot is free afterwards (a
 * new map of the one-slot pool succeeds).  FROM_DEVICE: the copy-back
 * claim decides; TO_DEVICE (-DRACE_TO_DEVICE, harness unmap_race_nosync):
 * no claim, the re-check under the area lock decides.
 */
#include "harness.h"

#ifdef RACE_TO_DEVICE
#define RACE_DIR SWIOTLB_TO_DEVICE
#else
#define RACE_DIR SWIOTLB_FROM_DEVICE
#endif

static struct swiotlb_mem *mem;
static struct swiotlb_dev *dev;
static swiotlb_addr_t addr;
static unsigned char buf[3];
static int rc[2];

static void *unmapper(void *arg)
{
	int i = (int)(intptr_t)arg;

	rc[i] = swiotlb_unmap(dev, addr, sizeof(buf), RACE_DIR, 0);
	return NULL;
}

int main(void)
{
	pthread_t t0, t1;
	unsigned char *bounce;
	swiotlb_addr_t a;

	mem = h_mem(H_SLOT_SIZE, false, 0);
	dev = h_dev(mem, false);
	assert(swiotlb_map(dev, buf, sizeof(buf), RACE_DIR, 0, &addr) == 0);
	bounce = swiotlb_addr_to_cpu(dev, addr);
	bounce[0] = 9; /* the device wrote */
	t0 = h_spawn(unmapper, (void *)0);
	t1 = h_spawn(unmapper, (void *)1);
	pthread_join(t0, NULL);
	pthread_join(t1, NULL);
	assert((rc[0] == 0) + (rc[1] == 0) == 1);
	assert(RACE_DIR != SWIOTLB_FROM_DEVICE || buf[0] == 9);
	assert(swiotlb_map(dev, buf, sizeof(buf), SWIOTLB_FROM_DEVICE, 0, &a) == 0);
	return 0;
}
