/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The run cache against a MAY_BLOCK waiter: no lost wake-up.  The pool
 * has one slot.  O maps a and unmaps it: lock-free into its cache, unless
 * a thief is at work or a waiter waits (cache_enter()), then under the
 * area lock, where it sees the waiter and wakes it (wait.c).  W maps w
 * with MAY_BLOCK and keeps it; each of its retries takes every cached run
 * back first (_swiotlb_devcount_drain(), always).  W's nwaiters increment
 * (and steal = BUSY), F1 and B2, then its look at busy, against O's
 * busy = 1, B1, then its look at steal and nwaiters: store buffering.
 * The condition variable is the model's (model_env.h): a wait ends only
 * when signalled, so a waiter asleep while a's run sits in O's cache is
 * a liveness violation (genmc --check-liveness).  Asserted as well: W's
 * map succeeds.
 * With -DMODEL_RUNCACHE_NO_FENCES (B1 and B2 compiled out; F1 stays)
 * expected to FAIL: O misses nwaiters and parks the run, W misses busy
 * and the run, and sleeps.
 */
#include "harness.h"

static struct swiotlb_mem *mem;
static struct swiotlb_dev *dev;
static unsigned char buf_a[3], buf_w[3];

static void *owner(void *arg)
{
	swiotlb_addr_t a;

	(void)arg;
	if (swiotlb_map(dev, buf_a, sizeof(buf_a), SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN,
			&a) == 0)
		assert(swiotlb_unmap(dev, a, sizeof(buf_a), SWIOTLB_TO_DEVICE, 0) == 0);
	return NULL;
}

static void *waiter(void *arg)
{
	swiotlb_addr_t a;

	(void)arg;
	assert(swiotlb_map(dev, buf_w, sizeof(buf_w), SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_MAY_BLOCK,
			   &a) == 0);
	return NULL;
}

int main(void)
{
	pthread_t to, tw;

	mem = h_mem(H_SLOT_SIZE, false, 0);
	dev = h_dev(mem, false);
	to = h_spawn(owner, NULL);
	tw = h_spawn(waiter, NULL);
	pthread_join(to, NULL);
	pthread_join(tw, NULL);
	return 0;
}
