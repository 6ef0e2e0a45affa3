/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Copy rules for every direction: map copies in (all directions), unmap
 * copies back (FROM_DEVICE/BIDIRECTIONAL, not with SKIP_CPU_SYNC), syncs in
 * each direction, full and partial (sub-ranges at offsets), and never a
 * byte outside the mapping. */
#include "unit.h"

#define N 10000
#define GUARD 8192

static const enum swiotlb_dir dirs[3] = { SWIOTLB_BIDIRECTIONAL, SWIOTLB_TO_DEVICE,
					  SWIOTLB_FROM_DEVICE };

static bool copies_back(enum swiotlb_dir d) { return d != SWIOTLB_TO_DEVICE; }
static bool copies_out(enum swiotlb_dir d) { return d != SWIOTLB_FROM_DEVICE; }

struct ctx {
	struct swiotlb_mem *mem;
	struct swiotlb_dev *dev;
	uint8_t *buf; /* GUARD + off + N + GUARD */
	uint8_t *exp;
	size_t len;
	size_t off;
};

static uint8_t *orig_of(struct ctx *c) { return c->buf + GUARD + c->off; }

/* Device writes pattern `seed` into the bounce buffer's [0, n), and also
 * scribbles over the slack of its slots before and after the mapping
 * (memory of this mapping's run that must never reach the original). */
static void device_write(struct ctx *c, swiotlb_addr_t a, size_t n, uint32_t seed)
{
	uint8_t *b = swiotlb_addr_to_cpu(c->dev, a);
	CHECK(b != NULL);
	size_t head = a & (SWIOTLB_SLOT_SIZE - 1);
	size_t tail = round_up_sz((a & (SWIOTLB_SLOT_SIZE - 1)) + n, SWIOTLB_SLOT_SIZE) - head - n;
	memset(b - head, 0xEE, head);
	memset(b + n, 0xEE, tail);
	util_fill(b, n, seed);
}

static void reset(struct ctx *c, uint32_t seed)
{
	util_fill(c->buf, c->len, seed);
	memcpy(c->exp, c->buf, c->len);
}

/* unmap copies back only for FROM_DEVICE/BIDIRECTIONAL without SKIP. */
static void t_map_unmap(struct ctx *c, enum swiotlb_dir d, unsigned attrs)
{
	uint8_t *orig = orig_of(c);
	reset(c, 100 + d);
	swiotlb_addr_t a = 0;
	struct swiotlb_stats st0 = util_mem_stats(c->mem);
	CHECK_OK(swiotlb_map(c->dev, orig, N, d, 0, &a));
	CHECK(swiotlb_is_bounce(c->dev, a));
	CHECK(a != (swiotlb_addr_t)(uintptr_t)orig);
	/* copied in for every direction, FROM_DEVICE included */
	CHECK_MEM(swiotlb_addr_to_cpu(c->dev, a), orig, N);
	CHECK_EQ(util_mem_stats(c->mem).bytes_to_device - st0.bytes_to_device, N);
	CHECK_MEM(c->buf, c->exp, c->len);
	device_write(c, a, N, 200 + d);
	CHECK_MEM(c->buf, c->exp, c->len); /* nothing reaches the CPU yet */
	CHECK_OK(swiotlb_unmap(c->dev, a, N, d, attrs));
	if (copies_back(d) && !(attrs & SWIOTLB_ATTR_SKIP_CPU_SYNC)) {
		util_fill(c->exp + GUARD + c->off, N, 200 + d);
		CHECK_EQ(util_mem_stats(c->mem).bytes_from_device - st0.bytes_from_device, N);
	} else {
		CHECK_EQ(util_mem_stats(c->mem).bytes_from_device, st0.bytes_from_device);
	}
	CHECK_MEM(c->buf, c->exp, c->len);
	CHECK_EQ(util_mem_stats(c->mem).used_slots, 0);
}

struct range { size_t at, len; };
static const struct range ranges[] = {
	{ 0, N }, { 0, 1 }, { 1234, 777 }, { N - 1, 1 }, { 2000, 3000 },
	{ 2047, 2 }, { 4095, 4097 }, { 5, N - 5 },
};
#define NRANGES (sizeof(ranges) / sizeof(ranges[0]))

/* sync_for_cpu of a sub-range copies exactly that range back (FROM/BIDI). */
static void t_sync_for_cpu(struct ctx *c, enum swiotlb_dir d)
{
	uint8_t *orig = orig_of(c);
	for (size_t r = 0; r < NRANGES; r++) {
		reset(c, 300 + (uint32_t)r);
		swiotlb_addr_t a = 0;
		CHECK_OK(swiotlb_map(c->dev, orig, N, d, 0, &a));
		device_write(c, a, N, 400 + (uint32_t)r);
		struct swiotlb_stats st0 = util_mem_stats(c->mem);
		CHECK_OK(swiotlb_sync_for_cpu(c->dev, a + ranges[r].at, ranges[r].len, d));
		if (copies_back(d)) {
			for (size_t i = 0; i < ranges[r].len; i++)
				c->exp[GUARD + c->off + ranges[r].at + i] = util_pat(400 + (uint32_t)r, ranges[r].at + i);
			CHECK_EQ(util_mem_stats(c->mem).bytes_from_device - st0.bytes_from_device, ranges[r].len);
		} else {
			CHECK_EQ(util_mem_stats(c->mem).bytes_from_device, st0.bytes_from_device);
		}
		CHECK_MEM(c->buf, c->exp, c->len);
		/* the bounce buffer is not modified by sync_for_cpu */
		CHECK_PAT(swiotlb_addr_to_cpu(c->dev, a), N, 400 + (uint32_t)r);
		CHECK_OK(swiotlb_unmap(c->dev, a, N, d, SWIOTLB_ATTR_SKIP_CPU_SYNC));
		CHECK_MEM(c->buf, c->exp, c->len);
	}
}

/* sync_for_device of a sub-range copies exactly that range out (TO/BIDI). */
static void t_sync_for_device(struct ctx *c, enum swiotlb_dir d)
{
	uint8_t *orig = orig_of(c);
	uint8_t *bexp = malloc(N);
	CHECK(bexp != NULL);
	for (size_t r = 0; r < NRANGES; r++) {
		reset(c, 500 + (uint32_t)r);
		swiotlb_addr_t a = 0;
		CHECK_OK(swiotlb_map(c->dev, orig, N, d, 0, &a));
		memcpy(bexp, orig, N);
		/* the CPU rewrites the whole original */
		util_fill(orig, N, 600 + (uint32_t)r);
		memcpy(c->exp, c->buf, c->len);
		struct swiotlb_stats st0 = util_mem_stats(c->mem);
		CHECK_OK(swiotlb_sync_for_device(c->dev, a + ranges[r].at, ranges[r].len, d));
		if (copies_out(d)) {
			memcpy(bexp + ranges[r].at, orig + ranges[r].at, ranges[r].len);
			CHECK_EQ(util_mem_stats(c->mem).bytes_to_device - st0.bytes_to_device, ranges[r].len);
		} else {
			CHECK_EQ(util_mem_stats(c->mem).bytes_to_device, st0.bytes_to_device);
		}
		CHECK_MEM(swiotlb_addr_to_cpu(c->dev, a), bexp, N);
		CHECK_MEM(c->buf, c->exp, c->len); /* CPU side unchanged */
		CHECK_OK(swiotlb_unmap(c->dev, a, N, d, SWIOTLB_ATTR_SKIP_CPU_SYNC));
		CHECK_MEM(c->buf, c->exp, c->len);
	}
	free(bexp);
}

/* Two syncs in a row at different places, then the normal unmap. */
static void t_sync_sequence(struct ctx *c, enum swiotlb_dir d)
{
	uint8_t *orig = orig_of(c);
	reset(c, 700);
	swiotlb_addr_t a = 0;
	CHECK_OK(swiotlb_map(c->dev, orig, N, d, 0, &a));
	uint8_t *b = swiotlb_addr_to_cpu(c->dev, a);
	/* device writes [100, 300) and syncs it to the CPU */
	util_fill(b + 100, 200, 701);
	CHECK_OK(swiotlb_sync_for_cpu(c->dev, a + 100, 200, d));
	if (copies_back(d))
		memcpy(c->exp + GUARD + c->off + 100, b + 100, 200);
	CHECK_MEM(c->buf, c->exp, c->len);
	/* CPU writes [5000, 5100) and syncs it to the device */
	util_fill(orig + 5000, 100, 702);
	memcpy(c->exp + GUARD + c->off + 5000, orig + 5000, 100);
	uint8_t before[100];
	memcpy(before, b + 5000, 100);
	CHECK_OK(swiotlb_sync_for_device(c->dev, a + 5000, 100, d));
	if (copies_out(d))
		CHECK_MEM(b + 5000, orig + 5000, 100);
	else
		CHECK_MEM(b + 5000, before, 100);
	/* unmap: the whole bounce buffer comes back for FROM/BIDI */
	uint8_t *bcopy = malloc(N);
	CHECK(bcopy != NULL);
	memcpy(bcopy, b, N);
	CHECK_OK(swiotlb_unmap(c->dev, a, N, d, 0));
	if (copies_back(d))
		memcpy(c->exp + GUARD + c->off, bcopy, N);
	CHECK_MEM(c->buf, c->exp, c->len);
	free(bcopy);
}

static void run(uint32_t min_align_mask, size_t off)
{
	struct ctx c;
	c.mem = mem_new(1 * MIB, 1, NULL);
	c.dev = dev_new(c.mem, "copy", min_align_mask, 0);
	c.off = off;
	c.len = GUARD + off + N + GUARD;
	c.buf = aligned_alloc(4096, round_up_sz(c.len, 4096));
	c.exp = malloc(c.len);
	CHECK(c.buf && c.exp);
	for (int i = 0; i < 3; i++) {
		t_map_unmap(&c, dirs[i], 0);
		t_map_unmap(&c, dirs[i], SWIOTLB_ATTR_SKIP_CPU_SYNC);
		t_sync_for_cpu(&c, dirs[i]);
		t_sync_for_device(&c, dirs[i]);
		t_sync_sequence(&c, dirs[i]);
	}
	struct swiotlb_stats st = util_mem_stats(c.mem);
	CHECK_EQ(st.used_slots, 0);
	CHECK_EQ(st.mappings, 0);
	free(c.buf);
	free(c.exp);
	CHECK_OK(swiotlb_dev_destroy(c.dev));
	CHECK_OK(swiotlb_mem_destroy(c.mem));
}

int main(void)
{
	static const size_t offs[] = { 0, 1, 777, 2048, 2049, 4095 };
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		run(0, offs[i]);
		run(4095, offs[i]);
	}
	printf("test_copy: ok\n");
	return 0;
}
