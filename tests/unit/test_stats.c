/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Statistics: slot counts, maps, bytes copied in each direction (maps,
 * unmaps, syncs), high-water mark and its reset, failed maps, and the
 * per-device counters of two devices sharing a memory. */
#include "unit.h"

/* State every step below shares, in the order main() runs them: the
 * running totals (to, from, maps) and per-device counts carry over. */
static struct logcap cap;
static struct swiotlb_mem *mem;
static struct swiotlb_dev *d1, *d2, *d3; /* disk, nic (min_align 4095), direct */
static uint8_t *buf;
static uint64_t to, from, maps;          /* expected memory totals so far */

/* A fresh memory: every counter zero, one pool of 1 MiB. */
static void fresh_memory_counts_nothing(void)
{
	mem = mem_new(1 * MIB, 1, &cap);
	struct swiotlb_stats st = util_mem_stats(mem);
	CHECK_EQ(st.total_slots, 512);
	CHECK_EQ(st.used_slots, 0);
	CHECK_EQ(st.hiwater_slots, 0);
	CHECK_EQ(st.mappings, 0);
	CHECK_EQ(st.maps, 0);
	CHECK_EQ(st.bytes_to_device, 0);
	CHECK_EQ(st.bytes_from_device, 0);
	CHECK_EQ(st.failed_maps, 0);
	CHECK_EQ(st.pools, 1);
	CHECK_EQ(st.grown_pools, 0);
	CHECK_EQ(st.grows, 0);
	CHECK_EQ(st.shrinks, 0);
	CHECK_EQ(st.transient_pools, 0);
	CHECK_EQ(st.transient_slots, 0);
	CHECK_EQ(st.pool_bytes, 1 * MIB);
	CHECK_EQ(st.waits, 0);
	CHECK_EQ(st.coherent_allocs, 0);
}

/* Three devices on the memory, and a source buffer. */
static void make_devices(void)
{
	d1 = dev_new(mem, "disk", 0, 0);
	d2 = dev_new(mem, "nic", 4095, 0);
	struct swiotlb_dev_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.name = "direct";
	d3 = swiotlb_dev_create(mem, &dc); /* dma_mask 0: never bounces */
	CHECK(d3 != NULL);
	CHECK(strcmp(swiotlb_dev_name(d1), "disk") == 0);
	CHECK(strcmp(swiotlb_dev_name(d2), "nic") == 0);

	buf = aligned_alloc(4096, 512 * KIB);
	CHECK(buf != NULL);
	util_fill(buf, 512 * KIB, 1);
}

/* d1 maps TO_DEVICE: bytes in, none out; slot and mapping counts follow. */
static void count_to_device_map(void)
{
	struct swiotlb_stats st;
	swiotlb_addr_t a1;

	/* d1: TO_DEVICE 1000: in 1000, out 0 */
	CHECK_OK(swiotlb_map(d1, buf, 1000, SWIOTLB_TO_DEVICE, 0, &a1));
	to += 1000; maps++;
	st = util_mem_stats(mem);
	CHECK_EQ(st.maps, maps);
	CHECK_EQ(st.mappings, 1);
	CHECK_EQ(st.used_slots, 1);
	CHECK_EQ(st.hiwater_slots, 1);
	CHECK_EQ(st.bytes_to_device, to);
	CHECK_EQ(st.bytes_from_device, from);
	CHECK_OK(swiotlb_unmap(d1, a1, 1000, SWIOTLB_TO_DEVICE, 0));
	st = util_mem_stats(mem);
	CHECK_EQ(st.bytes_from_device, 0);
	CHECK_EQ(st.used_slots, 0);
	CHECK_EQ(st.mappings, 0);
	CHECK_EQ(st.hiwater_slots, 1);
}

/* d2 maps FROM_DEVICE: copied in at map, out at sync_for_cpu and unmap. */
static void count_from_device_map_and_syncs(void)
{
	swiotlb_addr_t a2;

	/* d2: FROM_DEVICE 3000 (copied in too) and back */
	CHECK_OK(swiotlb_map(d2, buf + 100, 3000, SWIOTLB_FROM_DEVICE, 0, &a2));
	to += 3000; maps++;
	CHECK_EQ(util_mem_stats(mem).bytes_to_device, to);
	CHECK_EQ(util_mem_stats(mem).used_slots, 2); /* 100 + 3000 > 2048 */
	/* FROM_DEVICE: sync_for_device is a no-op and copies nothing */
	CHECK_OK(swiotlb_sync_for_device(d2, a2, 3000, SWIOTLB_FROM_DEVICE));
	CHECK_EQ(util_mem_stats(mem).bytes_to_device, to);
	CHECK_OK(swiotlb_sync_for_cpu(d2, a2 + 10, 100, SWIOTLB_FROM_DEVICE));
	from += 100;
	CHECK_EQ(util_mem_stats(mem).bytes_from_device, from);
	CHECK_OK(swiotlb_unmap(d2, a2, 3000, SWIOTLB_FROM_DEVICE, 0));
	from += 3000;
	CHECK_EQ(util_mem_stats(mem).bytes_from_device, from);
	CHECK_EQ(util_mem_stats(mem).hiwater_slots, 2);
}

/* BIDIRECTIONAL syncs count both ways; SKIP_CPU_SYNC copies nothing. */
static void count_bidirectional_syncs(void)
{
	struct swiotlb_stats st;
	swiotlb_addr_t a1;

	/* d1: BIDIRECTIONAL 5000, syncs, unmap with SKIP_CPU_SYNC */
	CHECK_OK(swiotlb_map(d1, buf, 5000, SWIOTLB_BIDIRECTIONAL, 0, &a1));
	to += 5000; maps++;
	CHECK_OK(swiotlb_sync_for_cpu(d1, a1 + 4000, 100, SWIOTLB_BIDIRECTIONAL));
	from += 100;
	CHECK_OK(swiotlb_sync_for_device(d1, a1 + 1, 200, SWIOTLB_BIDIRECTIONAL));
	to += 200;
	CHECK_OK(swiotlb_unmap(d1, a1, 5000, SWIOTLB_BIDIRECTIONAL, SWIOTLB_ATTR_SKIP_CPU_SYNC));
	st = util_mem_stats(mem);
	CHECK_EQ(st.bytes_to_device, to);
	CHECK_EQ(st.bytes_from_device, from);
}

/* TO_DEVICE: sync_for_cpu copies nothing, sync_for_device does. */
static void count_to_device_syncs(void)
{
	struct swiotlb_stats st;
	swiotlb_addr_t a2;

	/* d2: TO_DEVICE: sync_for_cpu is a no-op */
	CHECK_OK(swiotlb_map(d2, buf, 7000, SWIOTLB_TO_DEVICE, 0, &a2));
	to += 7000; maps++;
	CHECK_OK(swiotlb_sync_for_cpu(d2, a2, 7000, SWIOTLB_TO_DEVICE));
	CHECK_OK(swiotlb_sync_for_device(d2, a2 + 6999, 1, SWIOTLB_TO_DEVICE));
	to += 1;
	CHECK_OK(swiotlb_unmap(d2, a2, 7000, SWIOTLB_TO_DEVICE, 0));
	st = util_mem_stats(mem);
	CHECK_EQ(st.bytes_to_device, to);
	CHECK_EQ(st.bytes_from_device, from);
	CHECK_EQ(st.maps, maps);
}

/* Maps of a device that never bounces leave the memory counters alone. */
static void direct_maps_not_counted(void)
{
	struct swiotlb_stats st;
	swiotlb_addr_t a3;

	/* direct maps are not bounce maps */
	CHECK_OK(swiotlb_map(d3, buf, 4096, SWIOTLB_BIDIRECTIONAL, 0, &a3));
	CHECK_EQ(a3, (uintptr_t)buf);
	CHECK_OK(swiotlb_unmap(d3, a3, 4096, SWIOTLB_BIDIRECTIONAL, 0));
	st = util_mem_stats(mem);
	CHECK_EQ(st.maps, maps);
	CHECK_EQ(st.bytes_to_device, to);
	CHECK_EQ(st.bytes_from_device, from);
}

/* High-water mark of used slots, and its reset to the current use. */
static void hiwater_and_its_reset(void)
{
	struct swiotlb_stats st;

	/* high-water: 3 live mappings of 1 + 3 + 64 slots */
	swiotlb_addr_t h[3];
	static const size_t hs[3] = { 10, 5000, 128 * KIB };
	for (int i = 0; i < 3; i++) {
		CHECK_OK(swiotlb_map(d1, buf, hs[i], SWIOTLB_TO_DEVICE, 0, &h[i]));
		to += hs[i]; maps++;
	}
	st = util_mem_stats(mem);
	CHECK_EQ(st.used_slots, 68);
	CHECK_EQ(st.hiwater_slots, 68);
	CHECK_EQ(st.mappings, 3);
	for (int i = 0; i < 3; i++)
		CHECK_OK(swiotlb_unmap(d1, h[i], hs[i], SWIOTLB_TO_DEVICE, 0));
	st = util_mem_stats(mem);
	CHECK_EQ(st.used_slots, 0);
	CHECK_EQ(st.hiwater_slots, 68);
	swiotlb_mem_reset_hiwater(mem);
	CHECK_EQ(util_mem_stats(mem).hiwater_slots, 0);
	CHECK_OK(swiotlb_map(d1, buf, 4096, SWIOTLB_TO_DEVICE, 0, &h[0]));
	to += 4096; maps++;
	CHECK_OK(swiotlb_map(d1, buf, 10, SWIOTLB_TO_DEVICE, 0, &h[1]));
	to += 10; maps++;
	CHECK_EQ(util_mem_stats(mem).hiwater_slots, 3);
	CHECK_OK(swiotlb_unmap(d1, h[1], 10, SWIOTLB_TO_DEVICE, 0));
	swiotlb_mem_reset_hiwater(mem); /* to the current use: 2 */
	CHECK_EQ(util_mem_stats(mem).hiwater_slots, 2);
	CHECK_OK(swiotlb_unmap(d1, h[0], 4096, SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(util_mem_stats(mem).hiwater_slots, 2);
}

/* -ENOSPC counts as a failed map, -E2BIG and -EINVAL do not. */
static void failed_maps_count_lack_of_slots(void)
{
	struct swiotlb_stats st;

	/* failed maps: lack of slots counts, -E2BIG / -EINVAL do not */
	swiotlb_addr_t full[4];
	for (int i = 0; i < 4; i++) {
		CHECK_OK(swiotlb_map(d1, buf, 256 * KIB, SWIOTLB_TO_DEVICE, 0, &full[i]));
		to += 256 * KIB; maps++;
	}
	CHECK_EQ(util_mem_stats(mem).used_slots, 512);
	CHECK_EQ(util_mem_stats(mem).hiwater_slots, 512);
	swiotlb_addr_t x;
	CHECK_EQ(swiotlb_map(d2, buf, 777, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, &x), -ENOSPC);
	CHECK_EQ(swiotlb_map(d2, buf, 9999, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, &x), -ENOSPC);
	CHECK_EQ(swiotlb_map(d2, buf, 555, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, &x), -ENOSPC);
	CHECK_EQ(swiotlb_map(d1, buf, 1, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, &x), -ENOSPC);
	CHECK_EQ(cap.count, 0); /* NO_WARN */
	CHECK_EQ(swiotlb_map(d1, buf, 300 * KIB, SWIOTLB_TO_DEVICE, 0, &x), -E2BIG);
	CHECK_EQ(swiotlb_map(d1, buf, 0, SWIOTLB_TO_DEVICE, 0, &x), -EINVAL);
	st = util_mem_stats(mem);
	CHECK_EQ(st.failed_maps, 4);
	CHECK_EQ(st.maps, maps);
	CHECK_EQ(st.bytes_to_device, to); /* failed maps copy nothing */
	for (int i = 0; i < 4; i++)
		CHECK_OK(swiotlb_unmap(d1, full[i], 256 * KIB, SWIOTLB_TO_DEVICE, 0));
}

/* Per-device counters, and their sums equal the memory's. */
static void device_counters_add_up(void)
{
	/* per-device counters */
	struct swiotlb_dev_stats s1 = util_dev_stats(d1), s2 = util_dev_stats(d2), s3 = util_dev_stats(d3);
	CHECK_EQ(s1.maps, 2 + 3 + 2 + 4);
	CHECK_EQ(s1.unmaps, s1.maps);
	CHECK_EQ(s1.mappings, 0);
	CHECK_EQ(s1.direct_maps, 0);
	CHECK_EQ(s1.bytes_to_device, 1000 + 5000 + 200 + 10 + 5000 + 128 * KIB + 4096 + 10 + 4 * 256 * KIB);
	CHECK_EQ(s1.bytes_from_device, 100);
	CHECK_EQ(s1.failed_maps, 1);
	CHECK_EQ(s1.errors, 1);
	CHECK_EQ(s2.maps, 2);
	CHECK_EQ(s2.unmaps, 2);
	CHECK_EQ(s2.mappings, 0);
	CHECK_EQ(s2.bytes_to_device, 3000 + 7000 + 1);
	CHECK_EQ(s2.bytes_from_device, 100 + 3000);
	CHECK_EQ(s2.failed_maps, 3);
	CHECK_EQ(s2.largest_failed, 9999);
	CHECK_EQ(s2.errors, 0);
	CHECK_EQ(s3.maps, 0);
	CHECK_EQ(s3.direct_maps, 1);
	CHECK_EQ(s3.bytes_to_device, 0);
	CHECK_EQ(s1.maps + s2.maps, maps);
	CHECK_EQ(s1.bytes_to_device + s2.bytes_to_device, to);
	CHECK_EQ(s1.bytes_from_device + s2.bytes_from_device, from);
}

/* Each -EINVAL rejection is one error of the calling device. */
static void einval_counts_one_error_on_its_device(void)
{
	/* errors: every call rejected with -EINVAL counts once, on its device;
	 * other failures (-E2BIG, -ENOSPC) are not errors */
	{
		struct swiotlb_dev *d4 = dev_new(mem, "errs", 0, 0);
		uint64_t e0 = util_dev_stats(d4).errors, e1 = util_dev_stats(d1).errors;
		uint8_t tiny[16];
		swiotlb_addr_t y = 0;
		void *cp;
		CHECK_EQ(e0, 0);
#define ONE_ERROR(expr) do { uint64_t eb0 = util_dev_stats(d4).errors; CHECK_EQ((expr), -EINVAL); \
	CHECK_EQ(util_dev_stats(d4).errors, eb0 + 1); } while (0)
		ONE_ERROR(swiotlb_map(d4, NULL, 10, SWIOTLB_TO_DEVICE, 0, &y));
		ONE_ERROR(swiotlb_map(d4, tiny, 0, SWIOTLB_TO_DEVICE, 0, &y));
		ONE_ERROR(swiotlb_map(d4, tiny, 10, (enum swiotlb_dir)9, 0, &y));
		ONE_ERROR(swiotlb_map(d4, tiny, 10, SWIOTLB_TO_DEVICE, 1u << 29, &y));
		ONE_ERROR(swiotlb_map_align(d4, tiny, 10, SWIOTLB_TO_DEVICE, 0, 100, &y));
		ONE_ERROR(swiotlb_map(d4, tiny, 10, SWIOTLB_TO_DEVICE, 0, NULL));
		CHECK_OK(swiotlb_map(d4, tiny, 10, SWIOTLB_TO_DEVICE, 0, &y));
		ONE_ERROR(swiotlb_unmap(d4, y, 11, SWIOTLB_TO_DEVICE, 0));
		ONE_ERROR(swiotlb_unmap(d4, y, 10, SWIOTLB_FROM_DEVICE, 0));
		ONE_ERROR(swiotlb_sync_for_cpu(d4, y, 11, SWIOTLB_TO_DEVICE));
		ONE_ERROR(swiotlb_sync_for_device(d4, y, 10, (enum swiotlb_dir)4));
		CHECK_OK(swiotlb_unmap(d4, y, 10, SWIOTLB_TO_DEVICE, 0));
		ONE_ERROR(swiotlb_unmap(d4, y, 10, SWIOTLB_TO_DEVICE, 0));
		cp = swiotlb_alloc(d4, 4096, &y);
		CHECK(cp != NULL);
		ONE_ERROR(swiotlb_free(d4, cp, 8192, y));
		CHECK_OK(swiotlb_free(d4, cp, 4096, y));
		{
			uint64_t eb0 = util_dev_stats(d4).errors;
			errno = 0;
			CHECK(swiotlb_alloc(d4, 0, &y) == NULL);
			CHECK_EQ(errno, EINVAL);
			CHECK_EQ(util_dev_stats(d4).errors, eb0 + 1);
		}
#undef ONE_ERROR
		/* -E2BIG is not an -EINVAL rejection */
		uint64_t eb = util_dev_stats(d4).errors;
		CHECK_EQ(swiotlb_map(d4, buf, 256 * KIB + 1, SWIOTLB_TO_DEVICE, 0, &y), -E2BIG);
		CHECK_EQ(util_dev_stats(d4).errors, eb);
		/* counted on the device that made the call only */
		CHECK_EQ(util_dev_stats(d1).errors, e1);
		CHECK_EQ(util_dev_stats(d4).maps, 1);
		CHECK_EQ(util_dev_stats(d4).unmaps, 1);
		CHECK_OK(swiotlb_dev_destroy(d4));
	}
}

/* Live mappings are counted per device. */
static void live_mappings_per_device(void)
{
	swiotlb_addr_t x;

	/* live mappings per device */
	CHECK_OK(swiotlb_map(d2, buf, 10, SWIOTLB_BIDIRECTIONAL, 0, &x));
	CHECK_EQ(util_dev_stats(d2).mappings, 1);
	CHECK_EQ(util_dev_stats(d1).mappings, 0);
	CHECK_EQ(util_mem_stats(mem).mappings, 1);
	CHECK_OK(swiotlb_unmap(d2, x, 10, SWIOTLB_BIDIRECTIONAL, 0));
	CHECK_EQ(util_dev_stats(d2).mappings, 0);
}

int main(void)
{
	struct swiotlb_stats st;

	fresh_memory_counts_nothing();
	make_devices();
	count_to_device_map();
	count_from_device_map_and_syncs();
	count_bidirectional_syncs();
	count_to_device_syncs();
	direct_maps_not_counted();
	hiwater_and_its_reset();
	failed_maps_count_lack_of_slots();
	device_counters_add_up();
	einval_counts_one_error_on_its_device();
	live_mappings_per_device();

	st = util_mem_stats(mem);
	CHECK_EQ(st.used_slots, 0);
	CHECK_EQ(st.mappings, 0);
	free(buf);
	CHECK_OK(swiotlb_dev_destroy(d1));
	CHECK_OK(swiotlb_dev_destroy(d2));
	CHECK_OK(swiotlb_dev_destroy(d3));
	CHECK_OK(swiotlb_mem_destroy(mem));
	printf("test_stats: ok\n");
	return 0;
}
