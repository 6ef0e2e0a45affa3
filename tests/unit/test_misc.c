/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* swiotlb_strerror for every code the API returns, swiotlb_max_mapping_size
 * for several min_align_masks (and that it is really the limit), names. */
#include "unit.h"

static void test_strerror(void)
{
	static const int codes[] = { EINVAL, E2BIG, ENOSPC, ETIMEDOUT, ENOMEM, EBUSY };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *n = swiotlb_strerror(-codes[i]);
		const char *p = swiotlb_strerror(codes[i]);
		CHECK(n != NULL && n[0] != '\0');
		CHECK(p != NULL && p[0] != '\0');
		CHECK(strcmp(n, p) == 0);
		for (size_t j = 0; j < i; j++) /* distinct codes, distinct texts */
			CHECK(strcmp(n, swiotlb_strerror(-codes[j])) != 0);
	}
	CHECK(swiotlb_strerror(0) != NULL && swiotlb_strerror(0)[0] != '\0');
	CHECK(swiotlb_strerror(-123456) != NULL && swiotlb_strerror(-123456)[0] != '\0');
}

static void test_max_mapping(void)
{
	struct swiotlb_mem *mem = mem_new(1 * MIB, 1, NULL);
	static const struct { uint32_t mask; size_t max; } t[] = {
		{ 0, 256 * KIB },
		{ 1, 256 * KIB - 2048 },
		{ 2047, 256 * KIB - 2048 },
		{ 4095, 252 * KIB },
		{ 8191, 248 * KIB },
		{ 65535, 192 * KIB },
	};
	uint8_t *buf = aligned_alloc(65536, 512 * KIB);
	CHECK(buf != NULL);
	util_fill(buf, 512 * KIB, 3);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct swiotlb_dev *d = dev_new(mem, "m", t[i].mask, 0);
		CHECK_EQ(swiotlb_max_mapping_size(d), t[i].max);
		swiotlb_addr_t a;
		CHECK_EQ(swiotlb_map(d, buf, t[i].max + 1, SWIOTLB_TO_DEVICE, 0, &a), -E2BIG);
		/* the max fits with the worst-case offset */
		uint8_t *orig = buf + t[i].mask;
		CHECK_OK(swiotlb_map(d, orig, t[i].max, SWIOTLB_TO_DEVICE, 0, &a));
		CHECK_EQ(a & t[i].mask, (uintptr_t)orig & t[i].mask);
		CHECK_MEM(swiotlb_addr_to_cpu(d, a), orig, t[i].max);
		CHECK_OK(swiotlb_unmap(d, a, t[i].max, SWIOTLB_TO_DEVICE, 0));
		CHECK_OK(swiotlb_dev_destroy(d));
	}
	CHECK_EQ(util_mem_stats(mem).used_slots, 0);
	free(buf);
	CHECK_OK(swiotlb_mem_destroy(mem));
}

int main(void)
{
	test_strerror();
	test_max_mapping();
	printf("test_misc: ok\n");
	return 0;
}
