/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Coherent allocations: page aligned, zeroed (even over dirty slots), the
 * device address translates back to the pointer, they count as used slots
 * and coherent_allocs, swiotlb_free gives them back, bad frees -EINVAL. */
#include "unit.h"

int main(void)
{
	struct fenv e;
	fenv_init(&e, 256 * KIB, 1);
	struct swiotlb_dev *dev = dev_new(e.mem, "coh", 0, 0);
	uint8_t *src = aligned_alloc(4096, 256 * KIB);
	CHECK(src != NULL);
	memset(src, 0xAA, 256 * KIB);

	/* dirty every slot of the pool, then free it: the cursor is back at 0 */
	swiotlb_addr_t m = map_ok(dev, src, 256 * KIB, SWIOTLB_TO_DEVICE);
	CHECK_EQ(m, FIX_DEVBASE);
	CHECK_OK(swiotlb_unmap(dev, m, 256 * KIB, SWIOTLB_TO_DEVICE, 0));

	/* a 1-slot mapping makes the cursor odd */
	swiotlb_addr_t one = map_ok(dev, src, 1, SWIOTLB_TO_DEVICE);
	CHECK_EQ(one, FIX_DEVBASE);

	swiotlb_addr_t a = 0;
	uint8_t *p = swiotlb_alloc(dev, 5000, &a);
	CHECK(p != NULL);
	CHECK_EQ((uintptr_t)p & 4095, 0);
	CHECK_EQ(a & 4095, 0);
	CHECK_EQ(a, FIX_DEVBASE + 2 * 2048); /* page aligned: slot 2, not 1 */
	CHECK(swiotlb_addr_to_cpu(dev, a) == p);
	CHECK(p == (uint8_t *)e.region + (a - FIX_DEVBASE));
	CHECK(swiotlb_is_bounce(dev, a));
	for (size_t i = 0; i < 8192; i++) /* the whole rounded-up size */
		CHECK_EQ(p[i], 0);
	struct swiotlb_stats st = util_mem_stats(e.mem);
	CHECK_EQ(st.used_slots, 1 + 4);
	CHECK_EQ(st.coherent_allocs, 1);
	CHECK_EQ(st.mappings, 1); /* a coherent allocation is not a mapping */
	memset(p, 0x55, 8192);      /* it is usable memory */

	/* a second allocation does not overlap */
	swiotlb_addr_t b = 0;
	uint8_t *q = swiotlb_alloc(dev, 4096, &b);
	CHECK(q != NULL);
	CHECK(b >= a + 8192 || b + 4096 <= a);
	for (size_t i = 0; i < 4096; i++)
		CHECK_EQ(q[i], 0);
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 1 + 4 + 2);
	CHECK_EQ(util_mem_stats(e.mem).coherent_allocs, 2);

	/* bad frees change nothing */
	st = util_mem_stats(e.mem);
	CHECK_EQ(swiotlb_free(dev, p, 5000, b), -EINVAL);
	CHECK_EQ(swiotlb_free(dev, q, 4096, a), -EINVAL);
	CHECK_EQ(swiotlb_free(dev, p + 4096, 4096, a + 4096), -EINVAL);
	CHECK_EQ(swiotlb_free(dev, p, 16384, a), -EINVAL);
	CHECK_EQ(swiotlb_free(dev, src, 4096, (swiotlb_addr_t)(uintptr_t)src), -EINVAL);
	CHECK_EQ(swiotlb_free(dev, swiotlb_addr_to_cpu(dev, one), 1, one), -EINVAL);
	struct swiotlb_stats st2 = util_mem_stats(e.mem);
	CHECK_EQ(st2.used_slots, st.used_slots);
	CHECK_EQ(st2.coherent_allocs, st.coherent_allocs);
	CHECK_EQ(st2.mappings, st.mappings);
	CHECK_EQ(p[0], 0x55); /* not zeroed / not released */

	CHECK_OK(swiotlb_free(dev, p, 5000, a));
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 1 + 2);
	CHECK_EQ(util_mem_stats(e.mem).coherent_allocs, 1);
	CHECK_EQ(swiotlb_free(dev, p, 5000, a), -EINVAL); /* double free */
	CHECK_OK(swiotlb_free(dev, q, 4096, b));
	CHECK_OK(swiotlb_unmap(dev, one, 1, SWIOTLB_TO_DEVICE, 0));
	st = util_mem_stats(e.mem);
	CHECK_EQ(st.used_slots, 0);
	CHECK_EQ(st.coherent_allocs, 0);
	CHECK_EQ(st.mappings, 0);

	/* a full segment, zeroed again after reuse */
	uint8_t *r = swiotlb_alloc(dev, 256 * KIB, &a);
	CHECK(r != NULL);
	CHECK_EQ(a, FIX_DEVBASE);
	for (size_t i = 0; i < 256 * KIB; i++)
		CHECK_EQ(r[i], 0);
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 128);
	/* the pool is full: alloc fails with ENOSPC, a map with -ENOSPC */
	errno = 0;
	CHECK(swiotlb_alloc(dev, 1, &b) == NULL);
	CHECK_EQ(errno, ENOSPC);
	CHECK_EQ(swiotlb_map(dev, src, 1, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, &b), -ENOSPC);
	memset(r, 0x11, 256 * KIB);
	CHECK_OK(swiotlb_free(dev, r, 256 * KIB, a));
	r = swiotlb_alloc(dev, 1, &a); /* 1 byte -> one page, zeroed */
	CHECK(r != NULL);
	CHECK_EQ(a & 4095, 0);
	for (size_t i = 0; i < 4096; i++)
		CHECK_EQ(r[i], 0);
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 2);
	CHECK_OK(swiotlb_free(dev, r, 1, a));

	/* size limits */
	errno = 0;
	CHECK(swiotlb_alloc(dev, 256 * KIB + 1, &a) == NULL);
	CHECK_EQ(errno, E2BIG);
	errno = 0;
	CHECK(swiotlb_alloc(dev, 0, &a) == NULL);
	CHECK_EQ(errno, EINVAL);

	/* a live coherent allocation keeps the device busy */
	r = swiotlb_alloc(dev, 4096, &a);
	CHECK(r != NULL);
	CHECK_EQ(swiotlb_dev_destroy(dev), -EBUSY);
	CHECK_OK(swiotlb_free(dev, r, 4096, a));
	CHECK_EQ(util_mem_stats(e.mem).used_slots, 0);
	free(src);
	CHECK_OK(swiotlb_dev_destroy(dev));
	fenv_fini(&e);
	printf("test_alloc: ok\n");
	return 0;
}
