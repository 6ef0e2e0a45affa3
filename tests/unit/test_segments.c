/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Larger segments (swiotlb_mem_config.segment_slots): refusal of bad
 * values, maximum mapping sizes, 1 MiB and 8 MiB mappings with offset
 * preservation, partial syncs, scatter-gather, coherent allocations,
 * growth and transient pools; the default segment still places like the
 * kernel; and the default placement keeps whole segments free where the
 * kernel's does not. */
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include <pthread.h>

#include "unit.h"

static struct swiotlb_mem *seg_mem(size_t size, unsigned seg_slots, bool strict, bool dynamic)
{
	struct swiotlb_mem_config mc;

	memset(&mc, 0, sizeof(mc));
	mc.size = size;
	mc.nareas = 1;
	mc.segment_slots = seg_slots;
	mc.strict_cursor = strict;
	mc.dynamic = dynamic;
	struct swiotlb_mem *m = swiotlb_mem_create(&mc);
	CHECK(m != NULL);
	return m;
}

static void test_refuse(void)
{
	static const unsigned bad[] = { 1, 64, 100, 129, 192, 1000, 8192, 65536 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct logcap cap = { 0 };
		struct swiotlb_mem_config mc;

		memset(&mc, 0, sizeof(mc));
		mc.size = 4 * MIB;
		mc.segment_slots = bad[i];
		mc.log = logcap_fn;
		mc.log_ctx = &cap;
		errno = 0;
		CHECK(swiotlb_mem_create(&mc) == NULL);
		CHECK_EQ(errno, EINVAL);
		CHECK_EQ(cap.count, 1);
		CHECK(strstr(cap.last, "segment_slots") != NULL);
	}
}

static void test_max_sizes(void)
{
	static const struct {
		unsigned seg;
		uint32_t mask;
		size_t max;
	} t[] = {
		{ 0, 0, 256 * KIB },  { 128, 4095, 252 * KIB },
		{ 512, 0, 1 * MIB },  { 512, 4095, 1 * MIB - 4 * KIB },
		{ 4096, 0, 8 * MIB }, { 4096, 4095, 8 * MIB - 4 * KIB },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct swiotlb_mem *m = seg_mem(16 * MIB, t[i].seg, false, false);
		struct swiotlb_dev *d = dev_new(m, "max", t[i].mask, 0);
		struct swiotlb_dev *b = dev_new(m, "boundary", 0, 64 * KIB - 1);
		static uint8_t buf[1500];
		swiotlb_addr_t a;

		CHECK_EQ(swiotlb_max_mapping_size(d), t[i].max);
		CHECK_EQ(swiotlb_max_mapping_size(b), 64 * KIB); /* the boundary rules */
		/* one byte too many: -E2BIG before the buffer is touched */
		CHECK_EQ(swiotlb_map(d, buf, t[i].max + 1, SWIOTLB_TO_DEVICE, 0, &a), -E2BIG);
		CHECK_EQ(swiotlb_map(b, buf, 64 * KIB + 1, SWIOTLB_TO_DEVICE, 0, &a), -E2BIG);
		CHECK_OK(swiotlb_dev_destroy(d));
		CHECK_OK(swiotlb_dev_destroy(b));
		CHECK_OK(swiotlb_mem_destroy(m));
	}
}

/* A mapping of 'size' bytes at page offset 'off' through a device with
 * min_align_mask 4095: offset kept, data in, partial syncs both ways,
 * data back on unmap. */
static void big_mapping(struct swiotlb_dev *d, uint8_t *buf, size_t off, size_t size)
{
	uint8_t *orig = buf + off;
	swiotlb_addr_t a;

	util_fill(orig, size, 11);
	CHECK_OK(swiotlb_map(d, orig, size, SWIOTLB_BIDIRECTIONAL, 0, &a));
	CHECK_EQ(a & 4095, (uintptr_t)orig & 4095);
	uint8_t *bounce = swiotlb_addr_to_cpu(d, a);
	CHECK(bounce != NULL);
	CHECK_MEM(bounce, orig, size);
	/* the device writes in the middle; a partial sync brings only that */
	size_t at = size / 2 + 1234, len = 5000;
	util_fill(bounce + at, len, 12);
	CHECK_OK(swiotlb_sync_for_cpu(d, a + at, len, SWIOTLB_BIDIRECTIONAL));
	CHECK_PAT(orig + at, len, 12);
	CHECK_PAT(orig, at, 11);
	/* the CPU writes near the end; a partial sync hands that over */
	size_t at2 = size - 3000;
	util_fill(orig + at2, 777, 13);
	CHECK_OK(swiotlb_sync_for_device(d, a + at2, 777, SWIOTLB_BIDIRECTIONAL));
	CHECK_PAT(bounce + at2, 777, 13);
	/* the device rewrites everything; unmap copies it all back */
	util_fill(bounce, size, 14);
	CHECK_OK(swiotlb_unmap(d, a, size, SWIOTLB_BIDIRECTIONAL, 0));
	CHECK_PAT(orig, size, 14);
}

static void test_big_mappings(void)
{
	uint8_t *buf = aligned_alloc(4096, 9 * MIB);
	CHECK(buf != NULL);
	/* 1 MiB exactly in 2 MiB segments, and the maximum of 1 MiB segments */
	struct swiotlb_mem *m = seg_mem(8 * MIB, 1024, false, false);
	struct swiotlb_dev *d = dev_new(m, "nvme", 4095, 0);
	big_mapping(d, buf, 0x234, 1 * MIB);
	big_mapping(d, buf, 0xffe, 2 * MIB - 4 * KIB);
	CHECK_OK(swiotlb_dev_destroy(d));
	CHECK_OK(swiotlb_mem_destroy(m));
	/* 8 MiB segments: the maximum with min_align_mask 4095, and 8 MiB
	 * exactly without it */
	m = seg_mem(32 * MIB, 4096, false, false);
	d = dev_new(m, "nvme", 4095, 0);
	big_mapping(d, buf, 0x800, 8 * MIB - 4 * KIB);
	big_mapping(d, buf, 0x1, 1 * MIB);
	struct swiotlb_dev *z = dev_new(m, "plain", 0, 0);
	swiotlb_addr_t a;
	util_fill(buf, 8 * MIB, 21);
	CHECK_OK(swiotlb_map(z, buf, 8 * MIB, SWIOTLB_TO_DEVICE, 0, &a));
	CHECK_MEM(swiotlb_addr_to_cpu(z, a), buf, 8 * MIB);
	CHECK_OK(swiotlb_unmap(z, a, 8 * MIB, SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(m).used_slots, 0);
	CHECK_OK(swiotlb_dev_destroy(z));
	CHECK_OK(swiotlb_dev_destroy(d));
	CHECK_OK(swiotlb_mem_destroy(m));
	free(buf);
}

static void test_sg(void)
{
	uint8_t *buf = aligned_alloc(4096, 6 * MIB);
	CHECK(buf != NULL);
	struct swiotlb_mem *m = seg_mem(16 * MIB, 1024, false, false);
	struct swiotlb_dev *d = dev_new(m, "sg", 0, 0);
	struct swiotlb_sg sg[3] = {
		{ buf, 1 * MIB, 0 },
		{ buf + 1 * MIB + 100, 700 * KIB, 0 },
		{ buf + 3 * MIB, 2 * MIB, 0 },
	};
	size_t failed = 99;

	util_fill(buf, 6 * MIB, 31);
	CHECK_OK(swiotlb_map_sg(d, sg, 3, SWIOTLB_BIDIRECTIONAL, 0, &failed));
	for (int i = 0; i < 3; i++) {
		uint8_t *b = swiotlb_addr_to_cpu(d, sg[i].addr);
		CHECK_MEM(b, sg[i].cpu, sg[i].len);
		util_fill(b, sg[i].len, 40 + (uint64_t)i);
	}
	CHECK_OK(swiotlb_unmap_sg(d, sg, 3, SWIOTLB_BIDIRECTIONAL, 0));
	for (int i = 0; i < 3; i++)
		CHECK_PAT(sg[i].cpu, sg[i].len, 40 + (uint64_t)i);
	/* an entry one byte over the segment fails and undoes the others */
	sg[2].len = 2 * MIB + 1;
	CHECK_EQ(swiotlb_map_sg(d, sg, 3, SWIOTLB_TO_DEVICE, 0, &failed), -E2BIG);
	CHECK_EQ(failed, 2);
	CHECK_EQ(util_mem_stats(m).used_slots, 0);
	CHECK_OK(swiotlb_dev_destroy(d));
	CHECK_OK(swiotlb_mem_destroy(m));
	free(buf);
}

static void test_coherent(void)
{
	struct swiotlb_mem *m = seg_mem(8 * MIB, 1024, false, false);
	struct swiotlb_dev *d = dev_new(m, "ring", 0, 0);
	swiotlb_addr_t a;
	uint8_t *p = swiotlb_alloc(d, 2 * MIB, &a);

	CHECK(p != NULL);
	CHECK_EQ(a % 4096, 0);
	for (size_t i = 0; i < 2 * MIB; i += 4096)
		CHECK_EQ(p[i], 0);
	errno = 0;
	CHECK(swiotlb_alloc(d, 2 * MIB + 1, &a) == NULL);
	CHECK_EQ(errno, E2BIG);
	CHECK_OK(swiotlb_free(d, p, 2 * MIB, a));
	CHECK_OK(swiotlb_dev_destroy(d));
	CHECK_OK(swiotlb_mem_destroy(m));
	/* the default memory keeps the kernel's 256 KiB limit */
	m = seg_mem(4 * MIB, 0, false, false);
	d = dev_new(m, "ring", 0, 0);
	errno = 0;
	CHECK(swiotlb_alloc(d, 256 * KIB + 1, &a) == NULL);
	CHECK_EQ(errno, E2BIG);
	CHECK_OK(swiotlb_dev_destroy(d));
	CHECK_OK(swiotlb_mem_destroy(m));
}

/* Dynamic memory with 2 MiB segments: a full pool is relieved by a
 * transient pool at once, and the grown pool (default grow size 1 MiB,
 * raised to one segment) can hold a whole segment. */
static void test_dynamic(void)
{
	uint8_t *buf = aligned_alloc(4096, 2 * MIB);
	CHECK(buf != NULL);
	struct swiotlb_mem *m = seg_mem(2 * MIB, 1024, false, true);
	struct swiotlb_dev *d = dev_new(m, "dyn", 4095, 0);
	swiotlb_addr_t a, b, c;
	size_t max = swiotlb_max_mapping_size(d);

	CHECK_EQ(max, 2 * MIB - 4 * KIB);
	util_fill(buf, max, 51);
	a = map_ok(d, buf, max, SWIOTLB_TO_DEVICE);
	b = map_ok(d, buf + 0x10, max, SWIOTLB_TO_DEVICE); /* transient */
	CHECK_EQ(b & 4095, 0x10);
	CHECK_MEM(swiotlb_addr_to_cpu(d, b), buf + 0x10, max - 0x10);
	CHECK(util_mem_stats(m).transient_created >= 1);
	for (int i = 0; i < 200 && util_mem_stats(m).grows == 0; i++)
		usleep(10000);
	CHECK_EQ(util_mem_stats(m).grows, 1);
	CHECK_EQ(util_mem_stats(m).total_slots, 2 * 1024); /* one more segment */
	c = map_ok(d, buf, max, SWIOTLB_TO_DEVICE);        /* in the grown pool */
	CHECK_EQ(util_mem_stats(m).transient_created, 1);
	CHECK_OK(swiotlb_unmap(d, a, max, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(d, b, max, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(d, c, max, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_dev_destroy(d));
	CHECK_OK(swiotlb_mem_destroy(m));
	free(buf);
}

/* A deterministic mixed sequence; returns the offsets of its mappings
 * from the pool's first mapping in out[] (strict placement). */
static void place_sequence(struct swiotlb_mem *m, swiotlb_addr_t *out, int n)
{
	struct swiotlb_dev *d = dev_new(m, "seq", 4095, 0);
	static uint8_t buf[300 * 1024];
	swiotlb_addr_t live[64];
	size_t lsize[64];
	uint64_t rng = 12345;

	for (int i = 0; i < n; i++) {
		int k = i % 64;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		if (i >= 64)
			CHECK_OK(swiotlb_unmap(d, live[k], lsize[k], SWIOTLB_TO_DEVICE, 0));
		lsize[k] = 512 + (size_t)(rng >> 33) % (200 * KIB);
		live[k] = map_ok(d, buf + (rng >> 20) % 4096, lsize[k], SWIOTLB_TO_DEVICE);
		out[i] = live[k];
	}
	for (int k = 0; k < 64 && k < n; k++)
		CHECK_OK(swiotlb_unmap(d, live[k], lsize[k], SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_dev_destroy(d));
}

/* segment_slots 0, 128 and an old caller's struct without the field
 * place the same sequence at the same places (the kernel's rules). */
static void test_default_unchanged(void)
{
	enum { N = 400 };
	static swiotlb_addr_t x[3][N];
	struct swiotlb_mem_config mc;

	memset(&mc, 0, sizeof(mc));
	mc.size = 16 * MIB;
	mc.nareas = 1;
	mc.strict_cursor = true;
	for (int v = 0; v < 3; v++) {
		mc.segment_slots = v == 1 ? 128 : 0;
		struct swiotlb_mem *m = swiotlb_mem_create_sized(
			&mc,
			v == 2 ? offsetof(struct swiotlb_mem_config, segment_slots) : sizeof(mc));
		CHECK(m != NULL);
		place_sequence(m, x[v], N);
		for (int i = N; i-- > 0;)
			x[v][i] -= x[v][0];
		CHECK_OK(swiotlb_mem_destroy(m));
	}
	CHECK_MEM(x[0], x[1], sizeof(x[0]));
	CHECK_MEM(x[0], x[2], sizeof(x[0]));
}

/*
 * The placement property: a 4 MiB pool (16 segments, one area) gets 1200
 * one-slot maps, every other one is unmapped, then 1038 more are mapped:
 * 1638 slots (80%) in use.  The kernel's cursor walks on past the holes
 * and touches every segment, so a 256 KiB map fails; the default
 * placement refills the holes first and leaves three segments empty.
 */
static void test_placement(void)
{
	enum { FIRST = 1200, MORE = 1038 };

	for (int strict = 0; strict < 2; strict++) {
		struct swiotlb_mem *m = seg_mem(4 * MIB, 0, strict, false);
		struct swiotlb_dev *d = dev_new(m, "small", 0, 0);
		static swiotlb_addr_t a[FIRST + MORE], big[3];
		static uint8_t buf[256 * KIB];
		int n = 0, ok = 0;

		for (int i = 0; i < FIRST; i++)
			a[n++] = map_ok(d, buf, 1500, SWIOTLB_TO_DEVICE);
		for (int i = 0; i < FIRST; i += 2)
			CHECK_OK(swiotlb_unmap(d, a[i], 1500, SWIOTLB_TO_DEVICE, 0));
		for (int i = 0; i < MORE; i++)
			a[n++] = map_ok(d, buf, 1500, SWIOTLB_TO_DEVICE);
		CHECK_EQ(util_mem_stats(m).used_slots, FIRST / 2 + MORE);
		for (int i = 0; i < 3; i++)
			ok += swiotlb_map(d, buf, 256 * KIB, SWIOTLB_TO_DEVICE,
					  SWIOTLB_ATTR_NO_WARN, &big[i]) == 0;
		CHECK_EQ(ok, strict ? 0 : 3);
		for (int i = 0; i < ok; i++)
			CHECK_OK(swiotlb_unmap(d, big[i], 256 * KIB, SWIOTLB_TO_DEVICE, 0));
		for (int i = 1; i < n; i++)
			if (i >= FIRST || i % 2)
				CHECK_OK(swiotlb_unmap(d, a[i], 1500, SWIOTLB_TO_DEVICE, 0));
		CHECK_EQ(util_mem_stats(m).used_slots, 0);
		CHECK_OK(swiotlb_dev_destroy(d));
		CHECK_OK(swiotlb_mem_destroy(m));
	}
}

/*
 * Best fit over segments: two segments of one-slot runs, the first
 * nearly empty (28 used), the second nearly full (118 used).  New runs of
 * that class go to the fuller one's holes, so the sparse one is left to
 * drain.  (Lowest-address first fit would refill the first one's holes.)
 */
/* Unmap on a thread that never maps for the device: its unmaps free under
 * the area lock (a run cache keeps runs only for threads that also map),
 * so the maps that follow are placed by the search. */
struct unmapper {
	struct swiotlb_dev *dev;
	const swiotlb_addr_t *a;
	int from, to;
	size_t size;
};

static void *unmapper_run(void *arg)
{
	struct unmapper *u = arg;

	for (int i = u->from; i < u->to; i++)
		CHECK_OK(swiotlb_unmap(u->dev, u->a[i], u->size, SWIOTLB_TO_DEVICE, 0));
	return NULL;
}

static void unmap_elsewhere(struct swiotlb_dev *d, const swiotlb_addr_t *a, int from, int to,
			    size_t size)
{
	struct unmapper u = { d, a, from, to, size };
	pthread_t th;

	CHECK_OK(pthread_create(&th, NULL, unmapper_run, &u));
	CHECK_OK(pthread_join(th, NULL));
}

static void test_fullest_first(void)
{
	enum { N = 256, MORE = 10 };
	struct swiotlb_mem *m = seg_mem(4 * MIB, 0, false, false);
	struct swiotlb_dev *d = dev_new(m, "small", 0, 0);
	static swiotlb_addr_t a[N], b[MORE];
	static uint8_t buf[1500];
	swiotlb_addr_t base;

	for (int i = 0; i < N; i++)
		a[i] = map_ok(d, buf, 1500, SWIOTLB_TO_DEVICE);
	base = a[0]; /* slot 0: the first map of an empty pool */
	/* 100 of segment 0's runs, 10 of segment 1's (not the latest run,
	 * so the cursor stays at slot 256, in an empty segment) */
	unmap_elsewhere(d, a, 0, 100, 1500);
	unmap_elsewhere(d, a, 130, 140, 1500);
	for (int i = 0; i < MORE; i++) {
		b[i] = map_ok(d, buf, 1500, SWIOTLB_TO_DEVICE);
		CHECK_EQ((b[i] - base) >> SWIOTLB_SLOT_SHIFT, 130 + i);
	}
	for (int i = 0; i < MORE; i++)
		CHECK_OK(swiotlb_unmap(d, b[i], 1500, SWIOTLB_TO_DEVICE, 0));
	for (int i = 100; i < N; i++)
		if (i < 130 || i >= 140)
			CHECK_OK(swiotlb_unmap(d, a[i], 1500, SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(m).used_slots, 0);
	CHECK_OK(swiotlb_dev_destroy(d));
	CHECK_OK(swiotlb_mem_destroy(m));
}

/* "buffer is full" names the device, the size, the slots and the largest
 * free run. */
static void test_full_message(void)
{
	struct logcap cap = { 0 };
	struct swiotlb_mem *m = mem_new(1 * MIB, 1, &cap);
	struct swiotlb_dev *d = dev_new(m, "nic0", 0, 0);
	static uint8_t buf[256 * KIB];
	swiotlb_addr_t a[4], b;

	for (int i = 0; i < 4; i++)
		a[i] = map_ok(d, buf, 200 * KIB, SWIOTLB_TO_DEVICE);
	CHECK_EQ(swiotlb_map(d, buf, 100 * KIB, SWIOTLB_TO_DEVICE, 0, &b), -ENOSPC);
	CHECK(strstr(cap.last, "nic0") != NULL);
	CHECK(strstr(cap.last, "sz: 102400 bytes") != NULL);
	CHECK(strstr(cap.last, "total 512 (slots), used 400 (slots)") != NULL);
	CHECK(strstr(cap.last, "largest free run 28 (slots)") != NULL);
	for (int i = 0; i < 4; i++)
		CHECK_OK(swiotlb_unmap(d, a[i], 200 * KIB, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_dev_destroy(d));
	CHECK_OK(swiotlb_mem_destroy(m));
}

int main(void)
{
	test_refuse();
	test_max_sizes();
	test_big_mappings();
	test_sg();
	test_coherent();
	test_dynamic();
	test_default_unchanged();
	test_placement();
	test_fullest_first();
	test_full_message();
	printf("test_segments: ok\n");
	return 0;
}
