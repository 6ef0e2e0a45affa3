/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Misuse under concurrency: two threads unmap the same mapping at the same
 * moment (a double unmap race), with and without copy-back, while a third
 * thread keeps mapping and unmapping its own buffers in the same pool so
 * that freed slots are reused at once.  Exactly one of the two unmaps must
 * succeed, the other must get -EINVAL, the caller's buffer must hold what
 * the "device" wrote (copied once, never bytes of a reused slot), the
 * neighbour's data must stay intact, and nothing may leak.
 */
#include <pthread.h>
#include <sched.h>

#include "stress.h"

#define SZ 6000

static struct swiotlb_dev *dev;
static _Atomic uint64_t go;          /* generation both racers wait for */
static _Atomic unsigned arrived;     /* racers done with this generation */
static _Atomic swiotlb_addr_t target;
static _Atomic unsigned target_attrs;
static _Atomic int results[2];
static _Atomic int stop_noise;

static void *racer(void *arg)
{
	int me = (int)(intptr_t)arg;
	uint64_t seen = 0;

	for (;;) {
		uint64_t g;

		/* pairs with the release store of 'go' in main() */
		while ((g = atomic_load_explicit(&go, memory_order_acquire)) == seen)
			sched_yield(); /* 4 threads on 2 CPUs: do not spin */
		if (g == UINT64_MAX)
			return NULL;
		seen = g;
		atomic_store_explicit(&results[me],
				      swiotlb_unmap(dev, atomic_load_explicit(&target,
									       memory_order_relaxed),
						    SZ, SWIOTLB_FROM_DEVICE,
						    atomic_load_explicit(&target_attrs,
									 memory_order_relaxed)),
				      memory_order_relaxed);
		/* pairs with the acquire load of 'arrived' in main() */
		atomic_fetch_add_explicit(&arrived, 1, memory_order_release);
	}
}

/* Maps and unmaps its own buffers in the same pool, so that slots freed by
 * the racers are reused at once, and checks its own bytes every time. */
static void *noise(void *arg)
{
	uint8_t *buf = malloc(SZ);
	uint64_t n = 0;

	(void)arg;
	CHECK(buf);
	while (!atomic_load_explicit(&stop_noise, memory_order_relaxed)) {
		swiotlb_addr_t a;

		util_fill(buf, SZ, 7000 + n);
		if (swiotlb_map(dev, buf, SZ, SWIOTLB_BIDIRECTIONAL, SWIOTLB_ATTR_NO_WARN, &a))
			continue;
		util_fill(swiotlb_addr_to_cpu(dev, a), SZ, 9000 + n);
		CHECK_OK(swiotlb_unmap(dev, a, SZ, SWIOTLB_BIDIRECTIONAL, 0));
		CHECK_EQ(util_verify(buf, SZ, 9000 + n), SZ);
		n++;
	}
	free(buf);
	return NULL;
}

int main(void)
{
	struct swiotlb_mem_config mc = { .size = 256 * 1024, .nareas = 1,
					 .log = stress_log };
	struct swiotlb_dev_config dc = { .name = "races", .force_bounce = true };
	struct swiotlb_mem *mem = swiotlb_mem_create(&mc);
	long iters = (long)(2000 * stress_scale());
	pthread_t r[2], nz;
	uint8_t *buf = malloc(SZ);
	long ok_copy = 0;

	CHECK(mem && buf);
	dev = swiotlb_dev_create(mem, &dc);
	CHECK(dev);
	CHECK_OK(pthread_create(&r[0], NULL, racer, (void *)0));
	CHECK_OK(pthread_create(&r[1], NULL, racer, (void *)1));
	CHECK_OK(pthread_create(&nz, NULL, noise, NULL));
	for (long i = 0; i < iters; i++) {
		unsigned attrs = (i & 1) ? SWIOTLB_ATTR_SKIP_CPU_SYNC : 0;
		swiotlb_addr_t a;
		int r0, r1;

		util_fill(buf, SZ, 100 + i);
		CHECK_OK(swiotlb_map(dev, buf, SZ, SWIOTLB_FROM_DEVICE, 0, &a));
		util_fill(swiotlb_addr_to_cpu(dev, a), SZ, 5000 + i); /* the device */
		atomic_store_explicit(&target, a, memory_order_relaxed);
		atomic_store_explicit(&target_attrs, attrs, memory_order_relaxed);
		atomic_store_explicit(&arrived, 0, memory_order_relaxed);
		/* pairs with the acquire load of 'go' in racer() */
		atomic_store_explicit(&go, (uint64_t)i + 1, memory_order_release);
		/* pairs with the release increment of 'arrived' in racer() */
		while (atomic_load_explicit(&arrived, memory_order_acquire) != 2)
			sched_yield();
		r0 = atomic_load_explicit(&results[0], memory_order_relaxed);
		r1 = atomic_load_explicit(&results[1], memory_order_relaxed);
		if (!((r0 == 0 && r1 == -EINVAL) || (r0 == -EINVAL && r1 == 0))) {
			fprintf(stderr, "races: iteration %ld: unmap results %d and %d, want one 0 "
				"and one -EINVAL\n", i, r0, r1);
			return 1;
		}
		if (attrs) {
			CHECK_EQ(util_verify(buf, SZ, 100 + i), SZ); /* nothing copied */
		} else {
			CHECK_EQ(util_verify(buf, SZ, 5000 + i), SZ); /* the device's bytes */
			ok_copy++;
		}
	}
	atomic_store_explicit(&go, UINT64_MAX, memory_order_release); /* pairs as above */
	atomic_store_explicit(&stop_noise, 1, memory_order_relaxed);
	CHECK_OK(pthread_join(r[0], NULL));
	CHECK_OK(pthread_join(r[1], NULL));
	CHECK_OK(pthread_join(nz, NULL));
	struct swiotlb_stats st = util_mem_stats(mem);
	CHECK_EQ(st.used_slots, 0);
	CHECK_EQ(st.mappings, 0);
	CHECK_EQ(util_dev_stats(dev).mappings, 0);
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
	free(buf);
	printf("races: %ld double-unmap races (%ld with copy-back): exactly one won each time\n",
	       iters, ok_copy);
	return 0;
}
