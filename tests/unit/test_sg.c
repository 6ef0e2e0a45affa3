/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Scatter-gather: round trip, sync_sg in both directions, and a failure in
 * the middle (too big, pool exhausted): earlier entries are unmapped again,
 * *failed is the index, the entry's error is returned, nothing leaks. */
#include "unit.h"

#define NE 6
static const size_t sg_len[NE] = { 1, 700, 2048, 5000, 4096, 33333 };
static const size_t sg_off[NE] = { 0, 13, 2048, 4095, 0, 1 };

static uint8_t *mk_entries(struct swiotlb_sg *sg, uint32_t seed)
{
	size_t total = 0;
	for (int i = 0; i < NE; i++)
		total += 4096 + sg_off[i] + sg_len[i] + 4096;
	uint8_t *base = aligned_alloc(4096, round_up_sz(total, 4096));
	CHECK(base != NULL);
	uint8_t *p = base;
	for (int i = 0; i < NE; i++) {
		p = (uint8_t *)round_up_sz((uintptr_t)p, 4096) + 4096;
		sg[i].cpu = p + sg_off[i];
		sg[i].len = sg_len[i];
		sg[i].addr = 0;
		util_fill(sg[i].cpu, sg[i].len, seed + (uint32_t)i);
		p += sg_off[i] + sg_len[i];
	}
	return base;
}

static void test_round_trip(struct swiotlb_mem *mem, struct swiotlb_dev *dev)
{
	struct swiotlb_sg sg[NE];
	uint8_t *base = mk_entries(sg, 10);
	size_t failed = 12345;
	CHECK_OK(swiotlb_map_sg(dev, sg, NE, SWIOTLB_BIDIRECTIONAL, 0, &failed));
	size_t slots = 0;
	for (int i = 0; i < NE; i++) {
		CHECK(swiotlb_is_bounce(dev, sg[i].addr));
		CHECK_EQ(sg[i].addr & 4095, (uintptr_t)sg[i].cpu & 4095); /* min_align 4095 */
		CHECK_PAT(swiotlb_addr_to_cpu(dev, sg[i].addr), sg[i].len, 10 + (uint32_t)i);
		slots += NSLOTS(sg[i].len + ((uintptr_t)sg[i].cpu & 2047));
	}
	struct swiotlb_stats st = util_mem_stats(mem);
	CHECK_EQ(st.mappings, NE);
	CHECK_EQ(st.used_slots, slots);
	for (int i = 0; i < NE; i++)
		util_fill(swiotlb_addr_to_cpu(dev, sg[i].addr), sg[i].len, 20 + (uint32_t)i);
	CHECK_OK(swiotlb_unmap_sg(dev, sg, NE, SWIOTLB_BIDIRECTIONAL, 0));
	for (int i = 0; i < NE; i++)
		CHECK_PAT(sg[i].cpu, sg[i].len, 20 + (uint32_t)i);
	st = util_mem_stats(mem);
	CHECK_EQ(st.mappings, 0);
	CHECK_EQ(st.used_slots, 0);
	/* failed may be NULL on success */
	CHECK_OK(swiotlb_map_sg(dev, sg, NE, SWIOTLB_TO_DEVICE, 0, NULL));
	for (int i = 0; i < NE; i++)
		util_fill(swiotlb_addr_to_cpu(dev, sg[i].addr), sg[i].len, 30 + (uint32_t)i);
	CHECK_OK(swiotlb_unmap_sg(dev, sg, NE, SWIOTLB_TO_DEVICE, 0));
	for (int i = 0; i < NE; i++) /* TO_DEVICE: no copy back */
		CHECK_PAT(sg[i].cpu, sg[i].len, 20 + (uint32_t)i);
	CHECK_EQ(util_mem_stats(mem).used_slots, 0);
	free(base);
}

static void test_sync_sg(struct swiotlb_mem *mem, struct swiotlb_dev *dev)
{
	struct swiotlb_sg sg[NE];
	uint8_t *base = mk_entries(sg, 40);
	CHECK_OK(swiotlb_map_sg(dev, sg, NE, SWIOTLB_FROM_DEVICE, 0, NULL));
	for (int i = 0; i < NE; i++) {
		CHECK_PAT(swiotlb_addr_to_cpu(dev, sg[i].addr), sg[i].len, 40 + (uint32_t)i);
		util_fill(swiotlb_addr_to_cpu(dev, sg[i].addr), sg[i].len, 50 + (uint32_t)i);
	}
	CHECK_OK(swiotlb_sync_sg_for_cpu(dev, sg, NE, SWIOTLB_FROM_DEVICE));
	for (int i = 0; i < NE; i++)
		CHECK_PAT(sg[i].cpu, sg[i].len, 50 + (uint32_t)i);
	/* FROM_DEVICE: sync_for_device is a no-op */
	for (int i = 0; i < NE; i++)
		util_fill(sg[i].cpu, sg[i].len, 60 + (uint32_t)i);
	CHECK_OK(swiotlb_sync_sg_for_device(dev, sg, NE, SWIOTLB_FROM_DEVICE));
	for (int i = 0; i < NE; i++)
		CHECK_PAT(swiotlb_addr_to_cpu(dev, sg[i].addr), sg[i].len, 50 + (uint32_t)i);
	CHECK_OK(swiotlb_unmap_sg(dev, sg, NE, SWIOTLB_FROM_DEVICE, SWIOTLB_ATTR_SKIP_CPU_SYNC));
	for (int i = 0; i < NE; i++)
		CHECK_PAT(sg[i].cpu, sg[i].len, 60 + (uint32_t)i);

	CHECK_OK(swiotlb_map_sg(dev, sg, NE, SWIOTLB_TO_DEVICE, 0, NULL));
	for (int i = 0; i < NE; i++)
		util_fill(sg[i].cpu, sg[i].len, 70 + (uint32_t)i);
	CHECK_OK(swiotlb_sync_sg_for_device(dev, sg, NE, SWIOTLB_TO_DEVICE));
	for (int i = 0; i < NE; i++)
		CHECK_PAT(swiotlb_addr_to_cpu(dev, sg[i].addr), sg[i].len, 70 + (uint32_t)i);
	/* TO_DEVICE: sync_for_cpu is a no-op */
	for (int i = 0; i < NE; i++)
		util_fill(swiotlb_addr_to_cpu(dev, sg[i].addr), sg[i].len, 80 + (uint32_t)i);
	CHECK_OK(swiotlb_sync_sg_for_cpu(dev, sg, NE, SWIOTLB_TO_DEVICE));
	for (int i = 0; i < NE; i++)
		CHECK_PAT(sg[i].cpu, sg[i].len, 70 + (uint32_t)i);
	CHECK_OK(swiotlb_unmap_sg(dev, sg, NE, SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(mem).used_slots, 0);
	CHECK_EQ(util_mem_stats(mem).mappings, 0);
	free(base);
}

/* An entry over the max mapping size in the middle. */
static void test_fail_too_big(struct swiotlb_mem *mem, struct swiotlb_dev *dev)
{
	uint8_t *big = aligned_alloc(4096, 512 * KIB);
	CHECK(big != NULL);
	util_fill(big, 512 * KIB, 90);
	/* one unrelated live mapping, which must survive */
	swiotlb_addr_t keep = map_ok(dev, big, 100, SWIOTLB_TO_DEVICE);
	struct swiotlb_stats st0 = util_mem_stats(mem);
	struct swiotlb_dev_stats ds0 = util_dev_stats(dev);
	struct swiotlb_sg sg[4] = {
		{ big + 4096, 3000, 0 },
		{ big + 16384 + 5, 9000, 0 },
		{ big + 65536, swiotlb_max_mapping_size(dev) + 1, 0 },
		{ big + 8192, 10, 0 },
	};
	size_t failed = 999;
	CHECK_EQ(swiotlb_map_sg(dev, sg, 4, SWIOTLB_FROM_DEVICE, 0, &failed), -E2BIG);
	CHECK_EQ(failed, 2);
	struct swiotlb_stats st = util_mem_stats(mem);
	CHECK_EQ(st.used_slots, st0.used_slots);
	CHECK_EQ(st.mappings, st0.mappings);
	CHECK_EQ(st.bytes_from_device, st0.bytes_from_device); /* no copy back */
	CHECK_EQ(util_dev_stats(dev).mappings, ds0.mappings);
	CHECK_PAT(big, 512 * KIB, 90);
	/* the first entry fails */
	sg[0].len = 300 * KIB;
	failed = 999;
	CHECK_EQ(swiotlb_map_sg(dev, sg, 4, SWIOTLB_TO_DEVICE, 0, &failed), -E2BIG);
	CHECK_EQ(failed, 0);
	CHECK_EQ(util_mem_stats(mem).used_slots, st0.used_slots);
	/* size 0 entry in the middle: -EINVAL */
	sg[0].len = 3000;
	sg[2].len = 0;
	failed = 999;
	CHECK_EQ(swiotlb_map_sg(dev, sg, 4, SWIOTLB_TO_DEVICE, 0, &failed), -EINVAL);
	CHECK_EQ(failed, 2);
	CHECK_EQ(util_mem_stats(mem).used_slots, st0.used_slots);
	CHECK_EQ(util_mem_stats(mem).mappings, st0.mappings);
	/* the pool still works and the unrelated mapping is intact */
	CHECK_PAT(swiotlb_addr_to_cpu(dev, keep), 100, 90);
	CHECK_OK(swiotlb_unmap(dev, keep, 100, SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(mem).used_slots, 0);
	free(big);
}

/* The pool runs out in the middle of the list. */
static void test_fail_exhausted(void)
{
	struct logcap cap = { 0 };
	struct swiotlb_mem *mem = mem_new_mode(256 * KIB, 1, &cap, true); /* kernel cursor */
	struct swiotlb_dev *dev = dev_new(mem, "sgfull", 0, 0);
	uint8_t *buf = aligned_alloc(4096, 512 * KIB);
	CHECK(buf != NULL);
	util_fill(buf, 512 * KIB, 95);
	swiotlb_addr_t hold = map_ok(dev, buf, 100 * 2048, SWIOTLB_TO_DEVICE); /* 0..99 */
	struct swiotlb_stats st0 = util_mem_stats(mem);
	CHECK_EQ(st0.used_slots, 100);
	struct swiotlb_sg sg[4] = {
		{ buf + 4096, 10 * 2048, 0 },  /* 100..109 */
		{ buf + 65536, 10 * 2048, 0 }, /* 110..119 */
		{ buf + 131072, 10 * 2048, 0 },/* does not fit */
		{ buf + 262144, 10, 0 },
	};
	size_t failed = 999;
	CHECK_EQ(swiotlb_map_sg(dev, sg, 4, SWIOTLB_BIDIRECTIONAL, SWIOTLB_ATTR_NO_WARN, &failed),
		 -ENOSPC);
	CHECK_EQ(failed, 2);
	/* NO_WARN: an exhausted pool is not reported, by map nor by map_sg */
	if (cap.count != 0)
		fprintf(stderr, "logged with NO_WARN: %s\n", cap.last);
	CHECK_EQ(cap.count, 0);
	struct swiotlb_stats st = util_mem_stats(mem);
	CHECK_EQ(st.used_slots, 100);
	CHECK_EQ(st.mappings, 1);
	CHECK_EQ(st.bytes_from_device, st0.bytes_from_device);
	CHECK_PAT(buf, 512 * KIB, 95);
	/* the freed entries are usable again: 28 slots are free */
	struct swiotlb_sg sg2[2] = { { buf, 14 * 2048, 0 }, { buf + 65536, 14 * 2048, 0 } };
	CHECK_OK(swiotlb_map_sg(dev, sg2, 2, SWIOTLB_TO_DEVICE, 0, NULL));
	CHECK_EQ(util_mem_stats(mem).used_slots, 128);
	CHECK_OK(swiotlb_unmap_sg(dev, sg2, 2, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(dev, hold, 100 * 2048, SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(mem).used_slots, 0);
	free(buf);
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
}

int main(void)
{
	struct swiotlb_mem *mem = mem_new(2 * MIB, 1, NULL);
	struct swiotlb_dev *dev = dev_new(mem, "sg", 4095, 0);
	test_round_trip(mem, dev);
	test_sync_sg(mem, dev);
	test_fail_too_big(mem, dev);
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
	test_fail_exhausted();
	printf("test_sg: ok\n");
	return 0;
}
