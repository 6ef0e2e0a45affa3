/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Regression tests for defects found by review and adversarial testing:
 * each one failed on the code before its fix. */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <time.h>

#include "unit.h"

/* Milliseconds on the monotonic clock. */
static uint64_t ms_now(void)
{
	return util_now_ns() / 1000000;
}

struct waiter_arg {
	struct swiotlb_dev *dev;
	void *buf;
	int rc;
	swiotlb_addr_t addr;
	uint64_t done_ms;
};

static void *may_block_map(void *arg)
{
	struct waiter_arg *w = arg;

	w->rc = swiotlb_map_timeout(w->dev, w->buf, 32 * KIB, SWIOTLB_TO_DEVICE, 0, 2000,
				    &w->addr);
	w->done_ms = ms_now();
	return NULL;
}

/* A MAY_BLOCK map waiting for room under max_size is served when a
 * transient pool's memory comes back, not at its deadline. */
static void test_waiter_woken_by_transient_release(void)
{
	struct swiotlb_mem_config mc = { .size = 256 * KIB, .nareas = 1, .dynamic = true,
					 .max_size = 256 * KIB + 64 * KIB,
					 .grow_size = 256 * KIB };
	struct swiotlb_mem *mem = swiotlb_mem_create(&mc);
	struct swiotlb_dev *dev;
	static uint8_t fill_buf[256 * KIB], t1[32 * KIB], t2[32 * KIB], t3[32 * KIB];
	swiotlb_addr_t big, a1, a2;
	struct waiter_arg w = { .buf = t3 };
	pthread_t th;
	uint64_t t_unmap;

	CHECK(mem != NULL);
	dev = dev_new(mem, "waiter", 0, 0);
	w.dev = dev;
	/* fill the shared pool with one mapping per segment */
	CHECK_OK(swiotlb_map(dev, fill_buf, 256 * KIB, SWIOTLB_TO_DEVICE, 0, &big));
	CHECK_OK(swiotlb_map(dev, t1, 32 * KIB, SWIOTLB_TO_DEVICE, 0, &a1)); /* transient */
	CHECK_OK(swiotlb_map(dev, t2, 32 * KIB, SWIOTLB_TO_DEVICE, 0, &a2)); /* transient */
	CHECK_EQ(util_mem_stats(mem).transient_pools, 2);
	CHECK_OK(pthread_create(&th, NULL, may_block_map, &w));
	usleep(100 * 1000); /* the waiter is queued */
	t_unmap = ms_now();
	CHECK_OK(swiotlb_unmap(dev, a1, 32 * KIB, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(pthread_join(th, NULL));
	CHECK_OK(w.rc);
	/* served after the grace period that frees the transient pool, far
	 * before the 2000 ms deadline */
	CHECK(w.done_ms - t_unmap < 1000);
	CHECK_OK(swiotlb_unmap(dev, w.addr, 32 * KIB, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(dev, a2, 32 * KIB, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(dev, big, 256 * KIB, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
}

/* Maps that can never succeed do not grow the memory. */
static void test_no_useless_growth(void)
{
	struct swiotlb_mem_config mc = { .size = 256 * KIB, .nareas = 1, .dynamic = true };
	struct swiotlb_mem *mem = swiotlb_mem_create(&mc);
	struct swiotlb_dev_config dc = { .name = "bnd64k", .force_bounce = true,
					 .seg_boundary_mask = 64 * KIB - 1 };
	struct swiotlb_dev *dev, *dev32;
	static uint8_t buf[100 * KIB];
	swiotlb_addr_t a;

	CHECK(mem != NULL);
	dev = swiotlb_dev_create(mem, &dc);
	CHECK(dev != NULL);
	/* a 64 KiB boundary bounds the mapping size */
	CHECK_EQ(swiotlb_max_mapping_size(dev), 64 * KIB);
	for (int i = 0; i < 100; i++)
		CHECK_EQ(swiotlb_map(dev, buf, sizeof(buf), SWIOTLB_TO_DEVICE, 0, &a), -E2BIG);
	usleep(50 * 1000);
	CHECK_EQ(util_mem_stats(mem).grows, 0);
	CHECK_EQ(util_mem_stats(mem).pool_bytes, 256 * KIB);

	/* a 32-bit device on a memory without a limit: grown pools cannot
	 * be placed for it, so it gets transient pools and no growth */
	struct swiotlb_dev_config dc32 = { .name = "dma32", .force_bounce = true,
					   .dma_mask = 0xffffffffull };
	dev32 = swiotlb_dev_create(mem, &dc32);
	if (dev32) { /* refused when the initial pool landed above 4 GiB */
		swiotlb_addr_t held[8];
		int n = 0;

		while (n < 8 && swiotlb_map(dev32, buf, 64 * KIB, SWIOTLB_TO_DEVICE,
					    SWIOTLB_ATTR_NO_WARN, &held[n]) == 0)
			n++;
		usleep(50 * 1000);
		CHECK_EQ(util_mem_stats(mem).grows, 0);
		while (n-- > 0)
			CHECK_OK(swiotlb_unmap(dev32, held[n], 64 * KIB, SWIOTLB_TO_DEVICE, 0));
		CHECK_OK(swiotlb_dev_destroy(dev32));
	}
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
}

/* Bad input found by adversarial tests: clear errors, nothing changed. */
static void test_misuse_holes(void)
{
	struct swiotlb_mem_config mc = { .size = 256 * KIB, .nareas = 1, .dynamic = true };
	struct swiotlb_mem *mem = swiotlb_mem_create(&mc);
	struct swiotlb_dev *dev;
	static uint8_t big[256 * KIB], small[4096];
	swiotlb_addr_t a, hold;
	struct swiotlb_stats s0;

	CHECK(mem != NULL);
	dev = dev_new(mem, "misuse", 0, 0);
	s0 = util_mem_stats(mem);
	/* a buffer that wraps the address space */
	CHECK_EQ(swiotlb_map(dev, (void *)(UINTPTR_MAX - 99), 4096, SWIOTLB_TO_DEVICE, 0, &a),
		 -EINVAL);
	CHECK_EQ(util_mem_stats(mem).maps, s0.maps);
	/* strerror of any int is defined */
	CHECK(swiotlb_strerror(INT_MIN) != NULL);
	CHECK(swiotlb_strerror(INT_MAX) != NULL);
	/* a second unmap of a transient mapping: -EINVAL, counted */
	CHECK_OK(swiotlb_map(dev, big, sizeof(big), SWIOTLB_TO_DEVICE, 0, &hold));
	CHECK_OK(swiotlb_map(dev, small, sizeof(small), SWIOTLB_FROM_DEVICE, 0, &a));
	CHECK_EQ(util_mem_stats(mem).transient_pools, 1);
	CHECK_OK(swiotlb_unmap(dev, a, sizeof(small), SWIOTLB_FROM_DEVICE, 0));
	uint64_t errs = util_dev_stats(dev).errors;
	CHECK_EQ(swiotlb_unmap(dev, a, sizeof(small), SWIOTLB_FROM_DEVICE, 0), -EINVAL);
	CHECK_EQ(swiotlb_sync_for_cpu(dev, a, 16, SWIOTLB_FROM_DEVICE), -EINVAL);
	CHECK_EQ(util_dev_stats(dev).errors, errs + 2);
	CHECK_OK(swiotlb_unmap(dev, hold, sizeof(big), SWIOTLB_TO_DEVICE, 0));
	/* swiotlb_free with a wrong size refuses and keeps the allocation */
	void *c = swiotlb_alloc(dev, 100, &a);
	CHECK(c != NULL);
	CHECK_EQ(swiotlb_free(dev, c, 200, a), -EINVAL);
	CHECK_EQ(util_mem_stats(mem).coherent_allocs, 1);
	CHECK_OK(swiotlb_free(dev, c, 100, a));
	CHECK_EQ(util_mem_stats(mem).coherent_allocs, 0);
	/* NULL scatter-gather arrays are logged misuse */
	errs = util_dev_stats(dev).errors;
	CHECK_EQ(swiotlb_map_sg(dev, NULL, 3, SWIOTLB_TO_DEVICE, 0, NULL), -EINVAL);
	CHECK_EQ(swiotlb_unmap_sg(dev, NULL, 3, SWIOTLB_TO_DEVICE, 0), -EINVAL);
	CHECK_EQ(swiotlb_sync_sg_for_cpu(dev, NULL, 3, SWIOTLB_FROM_DEVICE), -EINVAL);
	CHECK_EQ(util_dev_stats(dev).errors, errs + 3);
	/* a scatter-gather map that fails part way takes its statistics back */
	{
		static uint8_t e0[4096], e1[10000], e2[300 * KIB];
		struct swiotlb_sg sg[3] = { { e0, sizeof(e0), 0 }, { e1, sizeof(e1), 0 },
					    { e2, sizeof(e2), 0 } }; /* too big: -E2BIG */
		struct swiotlb_stats before = util_mem_stats(mem), after;
		struct swiotlb_dev_stats dbefore = util_dev_stats(dev), dafter;
		size_t failed = 99;

		CHECK_EQ(swiotlb_map_sg(dev, sg, 3, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN,
					&failed), -E2BIG);
		CHECK_EQ(failed, 2);
		after = util_mem_stats(mem);
		dafter = util_dev_stats(dev);
		CHECK_EQ(after.maps, before.maps);
		CHECK_EQ(after.bytes_to_device, before.bytes_to_device);
		CHECK_EQ(after.used_slots, before.used_slots);
		CHECK_EQ(after.mappings, before.mappings);
		CHECK_EQ(dafter.maps, dbefore.maps);
		CHECK_EQ(dafter.unmaps, dbefore.unmaps);
		CHECK_EQ(dafter.bytes_to_device, dbefore.bytes_to_device);
		CHECK_EQ(dafter.mappings, dbefore.mappings);
	}
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));

	/* grow_size = SIZE_MAX used to disable growth silently */
	struct swiotlb_mem_config bad = { .size = 256 * KIB, .dynamic = true,
					  .grow_size = SIZE_MAX };
	errno = 0;
	CHECK(swiotlb_mem_create(&bad) == NULL);
	CHECK_EQ(errno, EINVAL);
}

struct snapshot_arg {
	struct swiotlb_mem *mem;
	_Atomic bool stop;
	int backwards;
};

static void *snapshot_loop(void *arg)
{
	struct snapshot_arg *sa = arg;
	uint64_t last_maps = 0, last_bytes = 0;

	while (!atomic_load_explicit(&sa->stop, memory_order_relaxed)) {
		struct swiotlb_stats st = util_mem_stats(sa->mem);

		if (st.maps < last_maps || st.bytes_to_device < last_bytes)
			sa->backwards++;
		last_maps = st.maps;
		last_bytes = st.bytes_to_device;
	}
	return NULL;
}

/* Statistics are complete (maps in live transient pools count at once)
 * and monotonic (a snapshot during a shrink never goes backwards). */
static void test_stats_monotonic(void)
{
	struct swiotlb_mem_config mc = { .size = 256 * KIB, .nareas = 1, .dynamic = true,
					 .grow_size = 256 * KIB, .shrink_delay_ms = 1 };
	struct swiotlb_mem *mem = swiotlb_mem_create(&mc);
	struct swiotlb_dev *dev;
	static uint8_t big[256 * KIB], small[8 * KIB];
	struct snapshot_arg sa = { .mem = mem };
	swiotlb_addr_t hold, a;
	pthread_t th;

	CHECK(mem != NULL);
	dev = dev_new(mem, "stats", 0, 0);
	CHECK_OK(swiotlb_map(dev, big, sizeof(big), SWIOTLB_TO_DEVICE, 0, &hold));
	CHECK_OK(swiotlb_map(dev, small, sizeof(small), SWIOTLB_TO_DEVICE, 0, &a));
	CHECK_EQ(util_mem_stats(mem).transient_pools, 1);
	CHECK_EQ(util_mem_stats(mem).maps, 2);
	CHECK_EQ(util_mem_stats(mem).bytes_to_device, sizeof(big) + sizeof(small));
	CHECK_OK(swiotlb_unmap(dev, a, sizeof(small), SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(mem).maps, 2);
	CHECK_OK(pthread_create(&th, NULL, snapshot_loop, &sa));
	/* grown pools come and go under the snapshots */
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 50 && util_mem_stats(mem).grown_pools == 0; i++)
			usleep(2000);
		if (swiotlb_map(dev, small, sizeof(small), SWIOTLB_TO_DEVICE, 0, &a) == 0)
			CHECK_OK(swiotlb_unmap(dev, a, sizeof(small), SWIOTLB_TO_DEVICE, 0));
		for (int i = 0; i < 50 && util_mem_stats(mem).grown_pools != 0; i++)
			usleep(2000);
	}
	atomic_store_explicit(&sa.stop, true, memory_order_relaxed);
	CHECK_OK(pthread_join(th, NULL));
	CHECK(util_mem_stats(mem).shrinks > 0);
	CHECK_EQ(sa.backwards, 0);
	CHECK_OK(swiotlb_unmap(dev, hold, sizeof(big), SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
}

int main(void)
{
	test_waiter_woken_by_transient_release();
	test_no_useless_growth();
	test_misuse_holes();
	test_stats_monotonic();
	printf("test_regress: ok\n");
	return 0;
}
