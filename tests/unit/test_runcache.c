/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-thread run caches (src/runcache.c): runs parked in a thread's cache
 * never make a map fail or a MAY_BLOCK waiter wait, never show in the
 * statistics, go back when their thread exits or their device is
 * destroyed, and a cached run is reused only where its alignment suits.
 * Every check holds with the caches off too (SWIOTLB_RUN_CACHE=0, or no
 * membarrier: ctest runs this test both ways). */
#include <pthread.h>

#include "unit.h"

#define POOL (256 * KIB) /* 128 slots */

static uint8_t big[POOL];

/* Milliseconds on the monotonic clock. */
static uint64_t ms_now(void)
{
	return util_now_ns() / 1000000;
}

/* A thread that maps and unmaps n buffers of 'size' for dev (so their
 * runs may park in its cache), then holds on (alive, idle) until told. */
struct parker {
	struct swiotlb_dev *dev;
	size_t size;
	int n;
	bool keep_live; /* leave the n mappings live instead */
	swiotlb_addr_t live[8];
	uint8_t buf[8][16 * KIB];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stage; /* 1: parked (or live), 2: unmap the live ones, 3: leave */
};

static void parker_wait(struct parker *p, int stage)
{
	pthread_mutex_lock(&p->lock);
	while (p->stage < stage)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

static void parker_set(struct parker *p, int stage)
{
	pthread_mutex_lock(&p->lock);
	p->stage = stage;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static void *parker_run(void *arg)
{
	struct parker *p = arg;

	for (int i = 0; i < p->n; i++)
		p->live[i] = map_ok(p->dev, p->buf[i], p->size, SWIOTLB_TO_DEVICE);
	if (!p->keep_live)
		for (int i = 0; i < p->n; i++)
			CHECK_OK(swiotlb_unmap(p->dev, p->live[i], p->size, SWIOTLB_TO_DEVICE, 0));
	parker_set(p, 1);
	if (p->keep_live) {
		parker_wait(p, 2);
		util_sleep_ms(100); /* the other thread is waiting by now */
		for (int i = 0; i < p->n; i++)
			CHECK_OK(swiotlb_unmap(p->dev, p->live[i], p->size, SWIOTLB_TO_DEVICE, 0));
	}
	parker_wait(p, 3);
	return NULL;
}

static void parker_start(struct parker *p, pthread_t *th, struct swiotlb_dev *dev, size_t size,
			 int n, bool keep_live)
{
	memset(p, 0, sizeof(*p));
	p->dev = dev;
	p->size = size;
	p->n = n;
	p->keep_live = keep_live;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	CHECK_OK(pthread_create(th, NULL, parker_run, p));
	parker_wait(p, 1);
}

static void parker_stop(struct parker *p, pthread_t th)
{
	parker_set(p, 3);
	CHECK_OK(pthread_join(th, NULL));
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
}

/* A map+unmap loop: statistics exact after each step, the copy-back
 * right, the run reused (hot reuse or the cache: the same address). */
static void loop_counts_exactly(void)
{
	struct swiotlb_mem *mem = mem_new(POOL, 1, NULL);
	struct swiotlb_dev *dev = dev_new(mem, "loop", 0, 0);
	static uint8_t buf[2000];
	swiotlb_addr_t first = 0;

	for (int i = 0; i < 20; i++) {
		util_fill(buf, sizeof(buf), (unsigned)i);
		swiotlb_addr_t a = map_ok(dev, buf, sizeof(buf), SWIOTLB_BIDIRECTIONAL);

		if (i == 0)
			first = a;
		CHECK_EQ(a, first);
		CHECK_EQ(util_mem_stats(mem).used_slots, 1);
		CHECK_EQ(util_mem_stats(mem).mappings, 1);
		CHECK_PAT(swiotlb_addr_to_cpu(dev, a), sizeof(buf), (unsigned)i);
		util_fill(swiotlb_addr_to_cpu(dev, a), sizeof(buf), (unsigned)i + 100);
		CHECK_OK(swiotlb_unmap(dev, a, sizeof(buf), SWIOTLB_BIDIRECTIONAL, 0));
		CHECK_PAT(buf, sizeof(buf), (unsigned)i + 100);
		struct swiotlb_stats st = util_mem_stats(mem);
		CHECK_EQ(st.used_slots, 0);
		CHECK_EQ(st.mappings, 0);
		CHECK_EQ(st.maps, (uint64_t)i + 1);
		CHECK_EQ(st.bytes_to_device, ((uint64_t)i + 1) * sizeof(buf));
		CHECK_EQ(st.bytes_from_device, ((uint64_t)i + 1) * sizeof(buf));
		CHECK_EQ(st.hiwater_slots, 1);
	}
	struct swiotlb_dev_stats ds = util_dev_stats(dev);
	CHECK_EQ(ds.maps, 20);
	CHECK_EQ(ds.unmaps, 20);
	CHECK_EQ(ds.mappings, 0);
	/* a wrong size or direction is refused and leaves the mapping */
	swiotlb_addr_t a = map_ok(dev, buf, sizeof(buf), SWIOTLB_TO_DEVICE);
	CHECK_EQ(swiotlb_unmap(dev, a, sizeof(buf) - 1, SWIOTLB_TO_DEVICE, 0), -EINVAL);
	CHECK_EQ(swiotlb_unmap(dev, a, sizeof(buf), SWIOTLB_FROM_DEVICE, 0), -EINVAL);
	CHECK_EQ(util_mem_stats(mem).mappings, 1);
	CHECK_OK(swiotlb_unmap(dev, a, sizeof(buf), SWIOTLB_TO_DEVICE, 0));
	/* and a second unmap of the same mapping is refused */
	CHECK_EQ(swiotlb_unmap(dev, a, sizeof(buf), SWIOTLB_TO_DEVICE, 0), -EINVAL);
	CHECK_EQ(util_mem_stats(mem).mappings, 0);
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
}

/* Runs another (idle) thread parked do not count as used, and a map that
 * needs them gets them. */
static void parked_runs_serve_a_full_map(void)
{
	struct swiotlb_mem *mem = mem_new(POOL, 1, NULL);
	struct swiotlb_dev *dev = dev_new(mem, "park", 0, 0);
	static struct parker p;
	pthread_t th;
	swiotlb_addr_t a;

	parker_start(&p, &th, dev, 8 * KIB, 8, false); /* 32 slots parked */
	CHECK_EQ(util_mem_stats(mem).used_slots, 0);
	CHECK_EQ(util_mem_stats(mem).mappings, 0);
	CHECK_EQ(util_mem_stats(mem).maps, 8);
	CHECK_OK(swiotlb_map(dev, big, POOL, SWIOTLB_TO_DEVICE, 0, &a)); /* every slot */
	CHECK_EQ(util_mem_stats(mem).used_slots, 128);
	CHECK_OK(swiotlb_unmap(dev, a, POOL, SWIOTLB_TO_DEVICE, 0));
	parker_stop(&p, th);
	CHECK_EQ(util_mem_stats(mem).used_slots, 0);
	CHECK_EQ(util_dev_stats(dev).maps, 9);
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
}

/* A MAY_BLOCK map that waits is served by unmaps on a thread that also
 * maps (it would park them otherwise) well before its deadline, and one
 * that starts while runs are parked does not wait at all. */
static void waiter_gets_runs_of_a_mapping_thread(void)
{
	struct swiotlb_mem *mem = mem_new(POOL, 1, NULL);
	struct swiotlb_dev *dev = dev_new(mem, "wait", 0, 0);
	static struct parker p;
	pthread_t th;
	swiotlb_addr_t hold, a;
	uint64_t t0;

	CHECK_OK(swiotlb_map(dev, big, 192 * KIB, SWIOTLB_TO_DEVICE, 0, &hold)); /* 96 slots */
	parker_start(&p, &th, dev, 16 * KIB, 4, true); /* 32 slots live: full */
	CHECK_EQ(util_mem_stats(mem).used_slots, 128);
	t0 = ms_now();
	parker_set(&p, 2); /* it unmaps 100 ms into our wait */
	CHECK_OK(swiotlb_map_timeout(dev, big, 64 * KIB, SWIOTLB_TO_DEVICE, 0, 5000, &a));
	CHECK(ms_now() - t0 < 2000);
	CHECK_OK(swiotlb_unmap(dev, a, 64 * KIB, SWIOTLB_TO_DEVICE, 0));
	parker_stop(&p, th);
	/* runs parked by an idle thread: the waiting map does not wait */
	parker_start(&p, &th, dev, 16 * KIB, 4, false);
	t0 = ms_now();
	CHECK_OK(swiotlb_map_timeout(dev, big, 64 * KIB, SWIOTLB_TO_DEVICE, 0, 5000, &a));
	CHECK(ms_now() - t0 < 2000);
	CHECK_EQ(util_mem_stats(mem).waits, 1);
	CHECK_EQ(util_mem_stats(mem).wait_timeouts, 0);
	CHECK_OK(swiotlb_unmap(dev, a, 64 * KIB, SWIOTLB_TO_DEVICE, 0));
	parker_stop(&p, th);
	CHECK_OK(swiotlb_unmap(dev, hold, 192 * KIB, SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(mem).used_slots, 0);
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
}

/* A thread that exits gives its parked runs back and keeps its counts;
 * a destroyed device's parked runs go back while their thread lives on,
 * and that thread can map for a new device afterwards. */
static void exit_and_destroy_give_back(void)
{
	struct swiotlb_mem *mem = mem_new(POOL, 1, NULL);
	struct swiotlb_dev *d1 = dev_new(mem, "d1", 0, 0);
	struct swiotlb_dev *d2 = dev_new(mem, "d2", 0, 0);
	static struct parker p;
	pthread_t th;
	swiotlb_addr_t a;

	parker_start(&p, &th, d1, 2000, 5, false);
	parker_stop(&p, th); /* exits */
	struct swiotlb_stats st = util_mem_stats(mem);
	CHECK_EQ(st.used_slots, 0);
	CHECK_EQ(st.maps, 5);
	CHECK_EQ(st.bytes_to_device, 5 * 2000);
	CHECK_EQ(util_dev_stats(d1).unmaps, 5);
	CHECK_OK(swiotlb_map(d2, big, POOL, SWIOTLB_TO_DEVICE, 0, &a));
	CHECK_OK(swiotlb_unmap(d2, a, POOL, SWIOTLB_TO_DEVICE, 0));

	parker_start(&p, &th, d1, 4096, 6, false); /* parked, thread alive */
	CHECK_OK(swiotlb_dev_destroy(d1));
	CHECK_EQ(util_mem_stats(mem).maps, 12);
	CHECK_OK(swiotlb_map(d2, big, POOL, SWIOTLB_TO_DEVICE, 0, &a));
	CHECK_OK(swiotlb_unmap(d2, a, POOL, SWIOTLB_TO_DEVICE, 0));
	parker_stop(&p, th);
	CHECK_EQ(util_mem_stats(mem).used_slots, 0);
	CHECK_EQ(util_mem_stats(mem).mappings, 0);
	CHECK_OK(swiotlb_dev_destroy(d2));
	CHECK_OK(swiotlb_mem_destroy(mem));
}

/* A cached run is reused only where its start suits the next map: the
 * offset a min_align_mask keeps, and an alloc_align_mask. */
static void cached_run_honours_alignment(void)
{
	struct swiotlb_mem *mem = mem_new(POOL, 1, NULL);
	struct swiotlb_dev *dev = dev_new(mem, "align", 4095, 0);
	static uint8_t page[3][4096] __attribute__((aligned(4096)));
	swiotlb_addr_t a;

	for (int i = 0; i < 6; i++) {
		/* alternate the buffer's half of its page: the bounce address
		 * keeps the low 12 bits of the buffer's */
		uint8_t *buf = &page[i % 3][(i & 1) ? 2048 + 100 : 100];

		a = map_ok(dev, buf, 1000, SWIOTLB_TO_DEVICE);
		CHECK_EQ(a & 4095, (uintptr_t)buf & 4095);
		CHECK_OK(swiotlb_unmap(dev, a, 1000, SWIOTLB_TO_DEVICE, 0));
	}
	for (int i = 0; i < 6; i++) {
		size_t mask = (i & 1) ? 16 * KIB - 1 : 0;

		CHECK_OK(swiotlb_map_align(dev, page[0], 1000, SWIOTLB_TO_DEVICE, 0, mask, &a));
		CHECK_EQ(a & mask, 0);
		CHECK_EQ(a & 4095, 0);
		CHECK_OK(swiotlb_unmap(dev, a, 1000, SWIOTLB_TO_DEVICE, 0));
	}
	CHECK_EQ(util_mem_stats(mem).used_slots, 0);
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
}

int main(void)
{
	loop_counts_exactly();
	parked_runs_serve_a_full_map();
	waiter_gets_runs_of_a_mapping_thread();
	exit_and_destroy_give_back();
	cached_run_honours_alignment();
	printf("runcache: exact counts, parked runs serve maps and waiters, exit/destroy give "
	       "back, alignment kept\n");
	return 0;
}
