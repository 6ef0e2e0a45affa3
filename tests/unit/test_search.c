/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Slot search rules: min_align_mask offset preservation, alloc_align_mask
 * and padding slots, page alignment, segments and seg_boundary_mask,
 * release merging, the area cursor (and its wrap-around), area fallback,
 * exhaustion and recovery.  All pools have a known device base (fixed
 * provider) and one area unless the test is about areas. */
#include "unit.h"

static uint8_t *buf_new(size_t len, size_t align)
{
	uint8_t *p = aligned_alloc(align, round_up_sz(len, align));
	CHECK(p != NULL);
	return p;
}

/* NVMe: bounce & 4095 == orig & 4095, for many offsets and sizes. */
static void test_min_align_offsets(void)
{
	struct fenv e;
	fenv_init(&e, 1 * MIB, 1);
	struct swiotlb_dev *dev = dev_new(e.mem, "nvme", 4095, 0);
	uint8_t *src = buf_new(256 * KIB + 8192, 4096);
	static const size_t offs[] = { 0, 1, 2, 3, 7, 64, 511, 1023, 2047, 2048, 2049,
				       3000, 3071, 4094, 4095, 4096 + 5, 8192 + 2048 + 1 };
	static const size_t sizes[] = { 1, 3, 100, 2047, 2048, 2049, 4095, 4096, 5000,
					65536, 200001 };
	uint32_t seed = 1;
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (size_t j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			size_t off = offs[i], size = sizes[j];
			uint8_t *orig = src + off;
			util_fill(orig, size, seed);
			swiotlb_addr_t a = 0;
			CHECK_OK(swiotlb_map(dev, orig, size, SWIOTLB_BIDIRECTIONAL, 0, &a));
			CHECK(swiotlb_is_bounce(dev, a));
			CHECK_EQ(a & 4095, (uintptr_t)orig & 4095);
			CHECK(a >= FIX_DEVBASE && a + size <= FIX_DEVBASE + 1 * MIB);
			/* run = nslots(size + (orig & 2047)) slots */
			struct swiotlb_stats st = util_mem_stats(e.mem);
			CHECK_EQ(st.used_slots, NSLOTS(size + ((uintptr_t)orig & 2047)));
			CHECK_EQ(st.mappings, 1);
			uint8_t *b = swiotlb_addr_to_cpu(dev, a);
			CHECK(b != NULL);
			CHECK(b == (uint8_t *)e.region + (a - FIX_DEVBASE));
			CHECK_PAT(b, size, seed);
			CHECK_OK(swiotlb_unmap(dev, a, size, SWIOTLB_BIDIRECTIONAL, 0));
			CHECK_PAT(orig, size, seed);
			CHECK_EQ(util_mem_stats(e.mem).used_slots, 0);
			seed++;
		}
	}
	free(src);
	CHECK_OK(swiotlb_dev_destroy(dev));
	fenv_fini(&e);
}

/* swiotlb_map_align: the run starts on a multiple of alloc_align_mask+1
 * and is round_up(size + offset, alloc_align_mask+1) long. */
static void test_alloc_align(void)
{
	struct fenv e;
	fenv_init(&e, 1 * MIB, 1);
	struct swiotlb_dev *dev = dev_new(e.mem, "iommu", 0, 0);
	uint8_t *src = buf_new(64 * KIB, 4096);
	swiotlb_addr_t a0, a1, a2;
	util_fill(src, 64 * KIB, 7);

	a0 = map_ok(dev, src, 1, SWIOTLB_TO_DEVICE);
	CHECK_EQ(a0, FIX_DEVBASE); /* first map of a fresh 1-area pool: slot 0 */

	/* cursor is 1; a 16 KiB-aligned run must start at slot 8 */
	CHECK_OK(swiotlb_map_align(dev, src + 1, 100, SWIOTLB_TO_DEVICE, 0, 16383, &a1));
	CHECK_EQ(a1, FIX_DEVBASE + 16384);
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 1 + 8);
	CHECK_MEM(swiotlb_addr_to_cpu(dev, a1), src + 1, 100);

	/* cursor is 16 (8 + 8); 8 KiB alignment; 20000 -> 24576 bytes = 12 slots */
	CHECK_OK(swiotlb_map_align(dev, src + 3, 20000, SWIOTLB_TO_DEVICE, 0, 8191, &a2));
	CHECK_EQ(a2, FIX_DEVBASE + 16 * 2048);
	CHECK_EQ(a2 & 8191, 0);
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 1 + 8 + 12);
	CHECK_MEM(swiotlb_addr_to_cpu(dev, a2), src + 3, 20000);

	CHECK_OK(swiotlb_unmap(dev, a1, 100, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(dev, a2, 20000, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(dev, a0, 1, SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 0);
	CHECK_EQ(util_mem_stats(e.mem).mappings, 0);
	free(src);
	CHECK_OK(swiotlb_dev_destroy(dev));
	fenv_fini(&e);
}

/* min_align_mask 4095 + alloc_align_mask 4095 + orig offset >= 2048: one
 * leading padding slot, the run is page aligned, the bounce address keeps
 * the offset, and the used slots cover the whole (padded) run. */
static void test_padding_slots(void)
{
	struct fenv e;
	fenv_init(&e, 1 * MIB, 1);
	struct swiotlb_dev *dev = dev_new(e.mem, "nvme-iommu", 4095, 0);
	uint8_t *src = buf_new(64 * KIB, 4096);
	swiotlb_addr_t a0, a;

	util_fill(src, 64 * KIB, 11);
	a0 = map_ok(dev, src, 1, SWIOTLB_TO_DEVICE); /* orig & 4095 == 0 -> slot 0 */
	CHECK_EQ(a0, FIX_DEVBASE);

	/* offset 3000, size 100: alloc 4096 = 2 slots (1 pad); cursor 1 -> slot 2 */
	uint8_t *orig = src + 3000;
	CHECK_OK(swiotlb_map_align(dev, orig, 100, SWIOTLB_BIDIRECTIONAL, 0, 4095, &a));
	CHECK_EQ(a & 4095, 3000);
	CHECK_EQ(a, FIX_DEVBASE + 2 * 2048 + 3000);
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 1 + NSLOTS(round_up_sz(100 + 3000, 4096)));
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 1 + 2);
	CHECK_MEM(swiotlb_addr_to_cpu(dev, a), orig, 100);
	util_fill(swiotlb_addr_to_cpu(dev, a), 100, 12); /* device writes */
	CHECK_OK(swiotlb_unmap(dev, a, 100, SWIOTLB_BIDIRECTIONAL, 0));
	CHECK_PAT(orig, 100, 12);
	CHECK_PAT(src, 3000, 11);                         /* before untouched */
	for (size_t i = 3100; i < 64 * KIB; i++)           /* after untouched */
		CHECK_EQ(src[i], util_pat(11, i));
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 1);

	/* offset 3000, size 5000: alloc round_up(8000, 4096) = 8192 = 4 slots;
	 * cursor 4 -> run at slot 4, bounce = slot 5 + 952 */
	util_fill(src, 64 * KIB, 13);
	CHECK_OK(swiotlb_map_align(dev, orig, 5000, SWIOTLB_TO_DEVICE, 0, 4095, &a));
	CHECK_EQ(a & 4095, 3000);
	CHECK_EQ(a, FIX_DEVBASE + 4 * 2048 + 3000);
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 1 + 4);
	CHECK_MEM(swiotlb_addr_to_cpu(dev, a), orig, 5000);
	CHECK_OK(swiotlb_unmap(dev, a, 5000, SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 1);

	/* offset 2048 exactly: one pad slot, data slot starts at its beginning */
	CHECK_OK(swiotlb_map_align(dev, src + 2048, 10, SWIOTLB_TO_DEVICE, 0, 4095, &a));
	CHECK_EQ(a & 4095, 2048);
	CHECK_EQ((a - 2048) & 4095, 0);
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 1 + 2);
	CHECK_MEM(swiotlb_addr_to_cpu(dev, a), src + 2048, 10);
	CHECK_OK(swiotlb_unmap(dev, a, 10, SWIOTLB_TO_DEVICE, 0));

	CHECK_OK(swiotlb_unmap(dev, a0, 1, SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 0);
	CHECK_OK(swiotlb_dev_destroy(dev));

	/* min_align_mask 16383 with alloc_align_mask 16383, offset 10000:
	 * 4 padding slots, run of round_up(10100, 16384) = 8 slots */
	uint8_t *src16 = buf_new(64 * KIB, 16384);
	util_fill(src16, 64 * KIB, 14);
	dev = dev_new(e.mem, "granule16k", 16383, 0);
	CHECK_EQ(swiotlb_max_mapping_size(dev), 256 * KIB - 16 * KIB);
	CHECK_OK(swiotlb_map_align(dev, src16 + 10000, 100, SWIOTLB_TO_DEVICE, 0, 16383, &a));
	CHECK_EQ(a & 16383, 10000);
	CHECK(a >= FIX_DEVBASE && a + 100 <= FIX_DEVBASE + 1 * MIB);
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 8);
	CHECK_MEM(swiotlb_addr_to_cpu(dev, a), src16 + 10000, 100);
	CHECK_OK(swiotlb_unmap(dev, a, 100, SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 0);
	CHECK_EQ(util_mem_stats(e.mem).mappings, 0);
	CHECK_OK(swiotlb_dev_destroy(dev));
	free(src16);
	free(src);
	fenv_fini(&e);
}

/* size >= 4096 without any mask: page-aligned runs; smaller: any slot. */
static void test_page_align(void)
{
	struct fenv e;
	fenv_init(&e, 1 * MIB, 1);
	struct swiotlb_dev *dev = dev_new(e.mem, "plain", 0, 0);
	uint8_t *src = buf_new(64 * KIB, 4096);
	util_fill(src, 64 * KIB, 21);
	swiotlb_addr_t a[5];
	a[0] = map_ok(dev, src, 1, SWIOTLB_TO_DEVICE);
	CHECK_EQ(a[0], FIX_DEVBASE);
	a[1] = map_ok(dev, src + 123, 4096, SWIOTLB_TO_DEVICE); /* cursor 1 -> slot 2 */
	CHECK_EQ(a[1], FIX_DEVBASE + 2 * 2048);
	CHECK_EQ(a[1] & 4095, 0);
	a[2] = map_ok(dev, src + 5, 1, SWIOTLB_TO_DEVICE);      /* slot 4 */
	CHECK_EQ(a[2], FIX_DEVBASE + 4 * 2048);
	a[3] = map_ok(dev, src + 7, 4095, SWIOTLB_TO_DEVICE);   /* slot 5: no page alignment */
	CHECK_EQ(a[3], FIX_DEVBASE + 5 * 2048);
	a[4] = map_ok(dev, src + 9, 8192, SWIOTLB_TO_DEVICE);   /* cursor 7 -> slot 8 */
	CHECK_EQ(a[4], FIX_DEVBASE + 8 * 2048);
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 1 + 2 + 1 + 2 + 4);
	CHECK_MEM(swiotlb_addr_to_cpu(dev, a[1]), src + 123, 4096);
	CHECK_MEM(swiotlb_addr_to_cpu(dev, a[3]), src + 7, 4095);
	CHECK_MEM(swiotlb_addr_to_cpu(dev, a[4]), src + 9, 8192);
	static const size_t sz[5] = { 1, 4096, 1, 4095, 8192 };
	for (int i = 0; i < 5; i++)
		CHECK_OK(swiotlb_unmap(dev, a[i], sz[i], SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 0);
	free(src);
	CHECK_OK(swiotlb_dev_destroy(dev));
	fenv_fini(&e);
}

/* Runs never cross a 128-slot segment or a seg_boundary_mask boundary. */
static void test_segments(void)
{
	struct fenv e;
	fenv_init(&e, 1 * MIB, 1);
	struct swiotlb_dev *dev = dev_new(e.mem, "seg", 0, 0);
	uint8_t *src = buf_new(256 * KIB, 4096);
	util_fill(src, 256 * KIB, 31);
	swiotlb_addr_t a, b;
	a = map_ok(dev, src, 100 * 2048, SWIOTLB_TO_DEVICE);
	CHECK_EQ(a, FIX_DEVBASE);
	/* slots 100..139 would cross the segment end at 128 */
	b = map_ok(dev, src, 40 * 2048, SWIOTLB_TO_DEVICE);
	CHECK_EQ(b, FIX_DEVBASE + 128 * 2048);
	CHECK_OK(swiotlb_unmap(dev, a, 100 * 2048, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(dev, b, 40 * 2048, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_dev_destroy(dev));
	fenv_fini(&e);

	/* seg_boundary_mask 0xffff: 64 KiB = 32 slots */
	fenv_init(&e, 1 * MIB, 1);
	dev = dev_new(e.mem, "bound64k", 0, 0xffff);
	a = map_ok(dev, src, 20 * 2048, SWIOTLB_TO_DEVICE);
	CHECK_EQ(a, FIX_DEVBASE);
	b = map_ok(dev, src, 20 * 2048, SWIOTLB_TO_DEVICE); /* 20..39 crosses 32 */
	CHECK_EQ(b, FIX_DEVBASE + 64 * KIB);
	CHECK_OK(swiotlb_unmap(dev, a, 20 * 2048, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(dev, b, 20 * 2048, SWIOTLB_TO_DEVICE, 0));

	/* random sizes/offsets, at most 8 live (always room: 16 chunks) */
	enum { LIVE = 8 };
	swiotlb_addr_t la[LIVE] = { 0 };
	size_t ls[LIVE] = { 0 };
	uint64_t r = 12345;
	for (int it = 0; it < 400; it++) {
		r = r * 6364136223846793005ull + 1442695040888963407ull;
		int k = (int)((r >> 33) % LIVE);
		if (ls[k]) {
			CHECK_OK(swiotlb_unmap(dev, la[k], ls[k], SWIOTLB_TO_DEVICE, 0));
			ls[k] = 0;
		}
		size_t size = 1 + (size_t)((r >> 13) % 65536);
		size_t off = (size_t)((r >> 45) % 4096);
		CHECK_OK(swiotlb_map(dev, src + off, size, SWIOTLB_TO_DEVICE, 0, &la[k]));
		ls[k] = size;
		CHECK((la[k] & ~(swiotlb_addr_t)0xffff) == ((la[k] + size - 1) & ~(swiotlb_addr_t)0xffff));
		CHECK(la[k] >= FIX_DEVBASE && la[k] + size <= FIX_DEVBASE + 1 * MIB);
		CHECK_MEM(swiotlb_addr_to_cpu(dev, la[k]), src + off, size);
	}
	for (int k = 0; k < LIVE; k++)
		if (ls[k])
			CHECK_OK(swiotlb_unmap(dev, la[k], ls[k], SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 0);
	CHECK_OK(swiotlb_dev_destroy(dev));
	free(src);
	fenv_fini(&e);
}

/* Freed runs merge with free neighbours in every order: after freeing
 * A, B, C of a one-segment pool, a full-segment map fits again. */
static void test_release_merging(void)
{
	static const int orders[6][3] = { { 1, 0, 2 }, { 0, 1, 2 }, { 2, 1, 0 },
					  { 0, 2, 1 }, { 2, 0, 1 }, { 1, 2, 0 } };
	struct fenv e;
	fenv_init(&e, 256 * KIB, 1);
	struct swiotlb_dev *dev = dev_new(e.mem, "merge", 0, 0);
	uint8_t *src = buf_new(256 * KIB, 4096);
	util_fill(src, 256 * KIB, 41);
	/* sizes < 4096 (2 slots each, no alignment) and 10-slot page-aligned */
	static const size_t sizes[2] = { 3000, 10 * 2048 };
	for (int s = 0; s < 2; s++) {
		for (int o = 0; o < 6; o++) {
			size_t sz = sizes[s];
			swiotlb_addr_t m[3];
			for (int i = 0; i < 3; i++)
				m[i] = map_ok(dev, src + i, sz, SWIOTLB_TO_DEVICE);
			/* cursor is back at 0 after every full-segment map */
			CHECK_EQ(m[0], FIX_DEVBASE);
			CHECK_EQ(m[1], m[0] + NSLOTS(sz) * 2048);
			CHECK_EQ(m[2], m[1] + NSLOTS(sz) * 2048);
			for (int i = 0; i < 3; i++)
				CHECK_OK(swiotlb_unmap(dev, m[orders[o][i]], sz, SWIOTLB_TO_DEVICE, 0));
			CHECK_EQ(util_mem_stats(e.mem).used_slots, 0);
			swiotlb_addr_t full;
			CHECK_OK(swiotlb_map(dev, src, 256 * KIB, SWIOTLB_TO_DEVICE, 0, &full));
			CHECK_EQ(full, FIX_DEVBASE);
			CHECK_MEM(swiotlb_addr_to_cpu(dev, full), src, 256 * KIB);
			CHECK_OK(swiotlb_unmap(dev, full, 256 * KIB, SWIOTLB_TO_DEVICE, 0));
		}
	}
	/* a live run in the middle blocks the full segment until freed */
	swiotlb_addr_t x = map_ok(dev, src, 3000, SWIOTLB_TO_DEVICE);
	swiotlb_addr_t y = map_ok(dev, src, 3000, SWIOTLB_TO_DEVICE);
	swiotlb_addr_t z = map_ok(dev, src, 3000, SWIOTLB_TO_DEVICE);
	CHECK_OK(swiotlb_unmap(dev, x, 3000, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(dev, z, 3000, SWIOTLB_TO_DEVICE, 0));
	swiotlb_addr_t full;
	CHECK_EQ(swiotlb_map(dev, src, 256 * KIB, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, &full), -ENOSPC);
	CHECK_OK(swiotlb_unmap(dev, y, 3000, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_map(dev, src, 256 * KIB, SWIOTLB_TO_DEVICE, 0, &full));
	CHECK_EQ(full, FIX_DEVBASE);
	CHECK_OK(swiotlb_unmap(dev, full, 256 * KIB, SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 0);
	free(src);
	CHECK_OK(swiotlb_dev_destroy(dev));
	fenv_fini(&e);
}

/* The cursor moves past each allocation and wraps at the area end. */
static void test_cursor_wrap(void)
{
	struct fenv e;
	fenv_init(&e, 256 * KIB, 1);
	struct swiotlb_dev *dev = dev_new(e.mem, "wrap", 0, 0);
	uint8_t *src = buf_new(256 * KIB, 4096);
	util_fill(src, 256 * KIB, 51);
	swiotlb_addr_t a, b, c;

	/* the cursor is not reset when everything is free */
	a = map_ok(dev, src, 1, SWIOTLB_TO_DEVICE);
	CHECK_EQ(a, FIX_DEVBASE);
	CHECK_OK(swiotlb_unmap(dev, a, 1, SWIOTLB_TO_DEVICE, 0));
	a = map_ok(dev, src, 1, SWIOTLB_TO_DEVICE);
	CHECK_EQ(a, FIX_DEVBASE + 2048);
	CHECK_OK(swiotlb_unmap(dev, a, 1, SWIOTLB_TO_DEVICE, 0));
	/* cursor 2 -> 102 slots here puts the cursor at 104 */
	a = map_ok(dev, src, 102 * 2048, SWIOTLB_TO_DEVICE);
	CHECK_EQ(a, FIX_DEVBASE + 2 * 2048);
	CHECK_OK(swiotlb_unmap(dev, a, 102 * 2048, SWIOTLB_TO_DEVICE, 0));
	/* fill near the end: 20 slots at 104..123 */
	b = map_ok(dev, src, 20 * 2048, SWIOTLB_TO_DEVICE);
	CHECK_EQ(b, FIX_DEVBASE + 104 * 2048);
	/* 30 slots do not fit at 124..127: the search wraps to slot 0 */
	c = map_ok(dev, src + 1, 30 * 2048, SWIOTLB_TO_DEVICE);
	CHECK_EQ(c, FIX_DEVBASE);
	CHECK_MEM(swiotlb_addr_to_cpu(dev, c), src + 1, 30 * 2048);
	/* 3 slots: cursor 30 */
	a = map_ok(dev, src, 5000, SWIOTLB_TO_DEVICE);
	CHECK_EQ(a, FIX_DEVBASE + 30 * 2048);
	CHECK_OK(swiotlb_unmap(dev, a, 5000, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(dev, b, 20 * 2048, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(dev, c, 30 * 2048, SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 0);
	free(src);
	CHECK_OK(swiotlb_dev_destroy(dev));
	fenv_fini(&e);
}

/* Default (non-strict) cursor: freeing the latest mapping of an area, or
 * emptying the area, moves the cursor back to the freed slots. */
static void test_hot_reuse(void)
{
	struct fenv e;
	fenv_init_mode(&e, 256 * KIB, 1, false);
	struct swiotlb_dev *dev = dev_new(e.mem, "hot", 0, 0);
	uint8_t src[8192];
	util_fill(src, sizeof(src), 55);
	swiotlb_addr_t a, b, c, d;
	for (int i = 0; i < 10; i++) { /* map/unmap loop stays on slot 0 */
		a = map_ok(dev, src, 100, SWIOTLB_TO_DEVICE);
		CHECK_EQ(a, FIX_DEVBASE);
		CHECK_OK(swiotlb_unmap(dev, a, 100, SWIOTLB_TO_DEVICE, 0));
	}
	a = map_ok(dev, src, 100, SWIOTLB_TO_DEVICE);          /* slot 0 */
	b = map_ok(dev, src, 3000, SWIOTLB_TO_DEVICE);         /* slots 1-2 */
	CHECK_EQ(b, FIX_DEVBASE + 2048);
	CHECK_OK(swiotlb_unmap(dev, b, 3000, SWIOTLB_TO_DEVICE, 0)); /* LIFO: back to 1 */
	c = map_ok(dev, src, 10, SWIOTLB_TO_DEVICE);
	CHECK_EQ(c, FIX_DEVBASE + 2048);
	CHECK_OK(swiotlb_unmap(dev, a, 100, SWIOTLB_TO_DEVICE, 0)); /* not the latest */
	/* two slots: a's freed slot (one, maybe in the thread's run cache)
	 * does not suit, and the cursor stays after c */
	d = map_ok(dev, src, 3000, SWIOTLB_TO_DEVICE);
	CHECK_EQ(d, FIX_DEVBASE + 2 * 2048);
	CHECK_OK(swiotlb_unmap(dev, c, 10, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(dev, d, 3000, SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 0);
	CHECK_OK(swiotlb_dev_destroy(dev));
	fenv_fini(&e);
}

static int pin_to_one_cpu(void)
{
	cpu_set_t set;
	CHECK_OK(sched_getaffinity(0, sizeof(set), &set));
	int cpu = -1;
	if (CPU_ISSET(0, &set))
		cpu = 0;
	for (int i = 0; cpu < 0 && i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			cpu = i;
	CHECK(cpu >= 0);
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	CHECK_OK(sched_setaffinity(0, sizeof(one), &one));
	CHECK_EQ(sched_getcpu(), cpu);
	return cpu;
}

/* Two areas: a map starts in the current CPU's area and falls back to the
 * other one when it is full. */
static void test_area_fallback(void)
{
	cpu_set_t saved;
	CHECK_OK(sched_getaffinity(0, sizeof(saved), &saved));
	int cpu = pin_to_one_cpu();
	unsigned home = (unsigned)cpu & 1, other = home ^ 1;

	struct fenv e;
	fenv_init(&e, 512 * KIB, 2);
	struct swiotlb_dev *dev = dev_new(e.mem, "areas", 0, 0);
	uint8_t *src = buf_new(256 * KIB, 4096);
	util_fill(src, 256 * KIB, 61);
	swiotlb_addr_t a, b, c, d;

	a = map_ok(dev, src, 1, SWIOTLB_TO_DEVICE);
	CHECK_EQ(a, FIX_DEVBASE + home * 256 * KIB);
	CHECK_OK(swiotlb_unmap(dev, a, 1, SWIOTLB_TO_DEVICE, 0));
	/* home area cursor is 1: a 126-slot run (page aligned) from slot 2
	 * leaves the home area with slots 0,1 free only */
	a = map_ok(dev, src, 126 * 2048, SWIOTLB_TO_DEVICE);
	CHECK_EQ(a, FIX_DEVBASE + home * 256 * KIB + 2 * 2048);
	/* 4 slots no longer fit at home: the other area, its slot 0 */
	b = map_ok(dev, src, 8192, SWIOTLB_TO_DEVICE);
	CHECK_EQ(b, FIX_DEVBASE + other * 256 * KIB);
	/* 1 slot still fits at home (cursor wrapped to 0) */
	c = map_ok(dev, src, 100, SWIOTLB_TO_DEVICE);
	CHECK_EQ(c, FIX_DEVBASE + home * 256 * KIB);
	d = map_ok(dev, src, 100, SWIOTLB_TO_DEVICE);
	CHECK_EQ(d, FIX_DEVBASE + home * 256 * KIB + 2048);
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 126 + 4 + 1 + 1);
	/* home is full; the rest of the other area (slots 4..127) */
	swiotlb_addr_t f;
	CHECK_OK(swiotlb_map(dev, src, 124 * 2048 - 7, SWIOTLB_TO_DEVICE, 0, &f));
	CHECK_EQ(f, FIX_DEVBASE + other * 256 * KIB + 4 * 2048);
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 256);
	swiotlb_addr_t g;
	CHECK_EQ(swiotlb_map(dev, src, 1, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, &g), -ENOSPC);
	CHECK_OK(swiotlb_unmap(dev, f, 124 * 2048 - 7, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(dev, a, 126 * 2048, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(dev, b, 8192, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(dev, c, 100, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(dev, d, 100, SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 0);
	free(src);
	CHECK_OK(swiotlb_dev_destroy(dev));
	fenv_fini(&e);
	CHECK_OK(sched_setaffinity(0, sizeof(saved), &saved));
}

/* -ENOSPC logs "buffer is full" (not with NO_WARN); unmapping recovers. */
static void test_exhaustion(void)
{
	struct fenv e;
	fenv_init(&e, 256 * KIB, 1);
	struct swiotlb_dev *dev = dev_new(e.mem, "nvme7", 0, 0);
	uint8_t *src = buf_new(256 * KIB, 4096);
	util_fill(src, 256 * KIB, 71);
	swiotlb_addr_t a, b = 0x1234;
	a = map_ok(dev, src, 256 * KIB, SWIOTLB_TO_DEVICE);
	CHECK_EQ(e.log.count, 0);

	CHECK_EQ(swiotlb_map(dev, src, 1, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, &b), -ENOSPC);
	CHECK_EQ(e.log.count, 0);
	CHECK_EQ(swiotlb_map(dev, src, 1000, SWIOTLB_FROM_DEVICE, 0, &b), -ENOSPC);
	CHECK_EQ(e.log.count, 1);
	CHECK(e.log.level == SWIOTLB_LOG_WARN || e.log.level == SWIOTLB_LOG_ERR);
	CHECK(strstr(e.log.last, "swiotlb buffer is full") != NULL);
	CHECK(strstr(e.log.last, "nvme7") != NULL);
	CHECK(strstr(e.log.last, "sz: 1000 bytes") != NULL);
	CHECK(strstr(e.log.last, "total 128 (slots)") != NULL);
	CHECK(strstr(e.log.last, "used 128 (slots)") != NULL);

	struct swiotlb_stats st = util_mem_stats(e.mem);
	CHECK_EQ(st.used_slots, 128);
	CHECK_EQ(st.mappings, 1);
	CHECK_EQ(st.failed_maps, 2);
	CHECK_EQ(st.maps, 1);
	CHECK_EQ(util_dev_stats(dev).failed_maps, 2);
	CHECK_EQ(util_dev_stats(dev).largest_failed, 1000);

	CHECK_OK(swiotlb_unmap(dev, a, 256 * KIB, SWIOTLB_TO_DEVICE, 0));
	b = map_ok(dev, src, 1000, SWIOTLB_FROM_DEVICE);
	CHECK_OK(swiotlb_unmap(dev, b, 1000, SWIOTLB_FROM_DEVICE, 0));
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 0);
	CHECK_EQ(e.log.count, 1);
	free(src);
	CHECK_OK(swiotlb_dev_destroy(dev));
	fenv_fini(&e);
}

int main(void)
{
	test_min_align_offsets();
	test_alloc_align();
	test_padding_slots();
	test_page_align();
	test_segments();
	test_release_merging();
	test_cursor_wrap();
	test_hot_reuse();
	test_area_fallback();
	test_exhaustion();
	printf("test_search: ok\n");
	return 0;
}
