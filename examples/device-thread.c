// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * device-thread: map on one thread, work on the bounce buffers on a device
 * thread, unmap on a third.  The submitter maps each request and posts its
 * bounce address on a ring; the device inverts every byte there and posts
 * the request on a completion ring; the completion thread unmaps (copying
 * the result back) and checks it.  A ring's index is stored with release
 * and read with acquire, so what one thread wrote is seen by the next.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <swiotlb.h>

#define NREQ 256
#define LEN 512

struct ring {                  /* one producer, one consumer, NREQ posts */
	_Atomic unsigned tail;
	unsigned head;             /* the consumer's */
	struct { swiotlb_addr_t addr; unsigned id; } msg[NREQ];
};

static struct swiotlb_dev *dev;
static struct ring submitted, completed;
static unsigned char bufs[NREQ][LEN];

static void post(struct ring *r, swiotlb_addr_t addr, unsigned id)
{
	unsigned t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	r->msg[t].addr = addr;
	r->msg[t].id = id;
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

static unsigned take(struct ring *r, swiotlb_addr_t *addr)
{
	while (atomic_load_explicit(&r->tail, memory_order_acquire) == r->head)
		sched_yield();
	*addr = r->msg[r->head].addr;
	return r->msg[r->head++].id;
}

static void *device(void *arg)
{
	for (int n = 0; n < NREQ; n++) {
		swiotlb_addr_t addr;
		unsigned id = take(&submitted, &addr);
		unsigned char *p = swiotlb_addr_to_cpu(dev, addr);

		for (int i = 0; i < LEN; i++)
			p[i] = (unsigned char)~p[i];
		post(&completed, addr, id);
	}
	return NULL;
}

static void *completion(void *arg)
{
	long bad = 0;

	for (int n = 0; n < NREQ; n++) {
		swiotlb_addr_t addr;
		unsigned id = take(&completed, &addr);

		bad += swiotlb_unmap(dev, addr, LEN, SWIOTLB_BIDIRECTIONAL, 0) != 0;
		for (int i = 0; i < LEN; i++)
			bad += bufs[id][i] != (unsigned char)~id;
	}
	return (void *)bad;
}

int main(void)
{
	struct swiotlb_mem_config mc = { .size = 1 << 20 };
	struct swiotlb_dev_config dc = { .name = "dev0", .force_bounce = true };
	struct swiotlb_mem *mem = swiotlb_mem_create(&mc);
	pthread_t dt, ct;
	void *bad;

	dev = mem ? swiotlb_dev_create(mem, &dc) : NULL;
	if (!dev || pthread_create(&dt, NULL, device, NULL) ||
	    pthread_create(&ct, NULL, completion, NULL))
		return 1;
	for (unsigned id = 0; id < NREQ; id++) {
		swiotlb_addr_t addr;

		memset(bufs[id], (int)id, LEN);
		if (swiotlb_map(dev, bufs[id], LEN, SWIOTLB_BIDIRECTIONAL, 0, &addr))
			return 1;
		post(&submitted, addr, id);
	}
	pthread_join(dt, NULL);
	pthread_join(ct, &bad);
	printf("%d requests, %ld wrong bytes or failed unmaps\n", NREQ, (long)bad);
	return bad || swiotlb_dev_destroy(dev) || swiotlb_mem_destroy(mem);
}
