/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MAY_BLOCK wait/wake on slots: W maps with MAY_BLOCK while the
 * one-slot pool is full; F unmaps the mapping that fills it.  The real
 * wait.c runs (the waiter queue, nwaiters, the retry); the condition
 * variable is the model's (model_env.h): a wait ends only when signalled,
 * so a lost wake-up shows as a liveness violation (genmc
 * --check-liveness).  The waiter's nwaiters increment and its unlocked
 * look at the area's used count against the freer's store of used and
 * relaxed load of nwaiters is the store-buffering shape: expected to FAIL
 * until both sides have a full fence (or the waiter retries under the
 * area lock).
 */
#include "harness.h"

static struct swiotlb_mem *mem;
static struct swiotlb_dev *dev;
static swiotlb_addr_t addr0;
static unsigned char buf0[3], buf1[3];

static void *waiter(void *arg)
{
	swiotlb_addr_t a;

	(void)arg;
	assert(swiotlb_map(dev, buf1, sizeof(buf1), SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_MAY_BLOCK,
			   &a) == 0);
	return NULL;
}

static void *freer(void *arg)
{
	(void)arg;
	assert(swiotlb_unmap(dev, addr0, sizeof(buf0), SWIOTLB_TO_DEVICE, 0) == 0);
	return NULL;
}

int main(void)
{
	pthread_t tw, tf;

	mem = h_mem(H_SLOT_SIZE, false, 0);
	dev = h_dev(mem, false);
	assert(swiotlb_map(dev, buf0, sizeof(buf0), SWIOTLB_TO_DEVICE, 0, &addr0) == 0);
	tw = h_spawn(waiter, NULL);
	tf = h_spawn(freer, NULL);
	pthread_join(tw, NULL);
	pthread_join(tf, NULL);
	return 0;
}
