/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MAY_BLOCK wait/wake on pool memory (the store-buffering shape of
 * wait.c): the memory is at max_size with a transient pool live; W maps
 * with MAY_BLOCK and can only be served by a new transient pool; F unmaps
 * the transient mapping; R, standing for the resize thread that F's
 * release wakes, reclaims: after the grace period the pool is freed and
 * gives its bytes back (pool_caps_release()).  W's nwaiters increment and
 * its retry's relaxed load of pool_bytes against F's decrement of
 * pool_bytes and its load of nwaiters (on R): without the seq_cst fences F1
 * (wait.c) and F2 (waitq_notify_caps()) both loads may miss and W sleeps
 * forever (a liveness violation; timeouts are not modelled).
 */
#include "harness.h"

static struct swiotlb_mem *mem;
static struct swiotlb_dev *dev;
static swiotlb_addr_t addr0, addr2;
static unsigned char buf0[3], buf1[3], buf2[3];

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
	assert(swiotlb_unmap(dev, addr2, sizeof(buf2), SWIOTLB_TO_DEVICE, 0) == 0);
	return NULL;
}

/* the resize thread, woken by F's release (through its lock, here the
 * join) */
static void *reclaimer(void *arg)
{
	pthread_join(*(pthread_t *)arg, NULL);
	H_RECLAIM(mem);
	return NULL;
}

int main(void)
{
	struct swiotlb_mem_config c = {
		.size = H_SLOT_SIZE,
		.nareas = 1,
		.provider = &h_provider,
		.dynamic = true,
		.max_size = 2 * PAGE_SZ, /* the initial pool and one transient pool */
		.grow_size = SEG_SIZE,
	};
	pthread_t tw, tf, tr;

	h_frames_init();
	mem = swiotlb_mem_create(&c);
	assert(mem);
	dev = h_dev(mem, false);
	assert(swiotlb_map(dev, buf0, sizeof(buf0), SWIOTLB_TO_DEVICE, 0, &addr0) == 0);
	/* the shared pool is full: a transient pool, which reaches max_size */
	assert(swiotlb_map(dev, buf2, sizeof(buf2), SWIOTLB_TO_DEVICE, 0, &addr2) == 0);
	tw = h_spawn(waiter, NULL);
	tf = h_spawn(freer, NULL);
	tr = h_spawn(reclaimer, &tf);
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	return 0;
}
