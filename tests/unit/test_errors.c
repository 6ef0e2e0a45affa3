/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every error path: the right code, and nothing changed (stats identical,
 * original buffers untouched, the pool still maps). */
#include "unit.h"

static struct swiotlb_mem *mem;
static struct swiotlb_dev *dev;
static uint8_t *probe_buf;
static unsigned long dev_einval; /* -EINVAL results on `dev` so far */

static void same_stats(const struct swiotlb_stats *a, const struct swiotlb_stats *b, int line)
{
#define F(x) if (a->x != b->x) { fprintf(stderr, "test_errors.c:%d: stats." #x " changed: %llu -> %llu\n", \
		line, (unsigned long long)a->x, (unsigned long long)b->x); exit(1); }
	F(total_slots) F(used_slots) F(hiwater_slots) F(mappings) F(maps) F(bytes_to_device)
	F(bytes_from_device) F(failed_maps) F(pools) F(coherent_allocs) F(pool_bytes)
#undef F
}

/* Stats identical to *snap, then a probe map/unmap works; re-snapshot. */
static void intact_(struct swiotlb_stats *snap, int line)
{
	struct swiotlb_stats now = util_mem_stats(mem);
	same_stats(snap, &now, line);
	swiotlb_addr_t a = 0;
	util_fill(probe_buf, 3000, 77);
	if (swiotlb_map(dev, probe_buf, 3000, SWIOTLB_BIDIRECTIONAL, 0, &a) != 0) {
		fprintf(stderr, "test_errors.c:%d: probe map failed\n", line);
		exit(1);
	}
	CHECK_PAT(swiotlb_addr_to_cpu(dev, a), 3000, 77);
	CHECK_OK(swiotlb_unmap(dev, a, 3000, SWIOTLB_BIDIRECTIONAL, 0));
	*snap = util_mem_stats(mem);
	CHECK_EQ(snap->used_slots, now.used_slots);
	CHECK_EQ(snap->mappings, now.mappings);
}
#define INTACT(s) intact_((s), __LINE__)
#define EINVAL_ON_DEV(expr) do { CHECK_EQ((expr), -EINVAL); dev_einval++; } while (0)

static void test_map_args(void)
{
	uint8_t buf[8192];
	swiotlb_addr_t a = 0x77;
	struct swiotlb_stats s = util_mem_stats(mem);

	CHECK_EQ(swiotlb_map(NULL, buf, 10, SWIOTLB_TO_DEVICE, 0, &a), -EINVAL);
	INTACT(&s);
	EINVAL_ON_DEV(swiotlb_map(dev, NULL, 10, SWIOTLB_TO_DEVICE, 0, &a));
	INTACT(&s);
	EINVAL_ON_DEV(swiotlb_map(dev, buf, 10, SWIOTLB_TO_DEVICE, 0, NULL));
	INTACT(&s);
	EINVAL_ON_DEV(swiotlb_map(dev, buf, 0, SWIOTLB_TO_DEVICE, 0, &a));
	INTACT(&s);
	EINVAL_ON_DEV(swiotlb_map(dev, buf, 10, (enum swiotlb_dir)7, 0, &a));
	INTACT(&s);
	EINVAL_ON_DEV(swiotlb_map(dev, buf, 10, (enum swiotlb_dir)3, 0, &a));
	INTACT(&s);
	EINVAL_ON_DEV(swiotlb_map(dev, buf, 10, (enum swiotlb_dir)-1, 0, &a));
	INTACT(&s);
	EINVAL_ON_DEV(swiotlb_map(dev, buf, 10, SWIOTLB_TO_DEVICE, 1u << 30, &a));
	INTACT(&s);
	CHECK_EQ(a, 0x77); /* *out untouched on error */

	/* over the max mapping size */
	CHECK_EQ(swiotlb_max_mapping_size(dev), 256 * KIB);
	uint8_t *big = aligned_alloc(4096, 512 * KIB);
	CHECK(big != NULL);
	util_fill(big, 512 * KIB, 3);
	CHECK_EQ(swiotlb_map(dev, big, 256 * KIB + 1, SWIOTLB_TO_DEVICE, 0, &a), -E2BIG);
	INTACT(&s);
	CHECK_EQ(swiotlb_map(dev, big, 512 * KIB, SWIOTLB_BIDIRECTIONAL, 0, &a), -E2BIG);
	INTACT(&s);
	CHECK_OK(swiotlb_map(dev, big, 256 * KIB, SWIOTLB_TO_DEVICE, 0, &a));
	CHECK_OK(swiotlb_unmap(dev, a, 256 * KIB, SWIOTLB_TO_DEVICE, 0));
	s = util_mem_stats(mem);

	/* NVMe device: 252 KiB */
	struct swiotlb_dev *nvme = dev_new(mem, "nvme", 4095, 0);
	CHECK_EQ(swiotlb_max_mapping_size(nvme), 252 * KIB);
	CHECK_EQ(swiotlb_map(nvme, big, 252 * KIB + 1, SWIOTLB_TO_DEVICE, 0, &a), -E2BIG);
	INTACT(&s);
	/* the largest mapping with the largest offset fits */
	CHECK_OK(swiotlb_map(nvme, big + 4095, 252 * KIB, SWIOTLB_TO_DEVICE, 0, &a));
	CHECK_EQ(a & 4095, 4095);
	CHECK_MEM(swiotlb_addr_to_cpu(nvme, a), big + 4095, 252 * KIB);
	CHECK_OK(swiotlb_unmap(nvme, a, 252 * KIB, SWIOTLB_TO_DEVICE, 0));
	s = util_mem_stats(mem);

	/* map_align: the mask must be 2^n - 1 below the segment size */
	CHECK_EQ(swiotlb_map_align(nvme, big, 10, SWIOTLB_TO_DEVICE, 0, 3000, &a), -EINVAL);
	INTACT(&s);
	CHECK_EQ(swiotlb_map_align(nvme, big, 10, SWIOTLB_TO_DEVICE, 0, 4096, &a), -EINVAL);
	INTACT(&s);
	CHECK_EQ(swiotlb_map_align(nvme, big, 10, SWIOTLB_TO_DEVICE, 0, 2 * SWIOTLB_SEGMENT_SIZE - 1, &a), -EINVAL);
	INTACT(&s);
	CHECK_EQ(swiotlb_map_align(nvme, big, 10, SWIOTLB_TO_DEVICE, 0, 1 * MIB - 1, &a), -EINVAL);
	INTACT(&s);
	CHECK_OK(swiotlb_map_align(nvme, big, 10, SWIOTLB_TO_DEVICE, 0, 65535, &a));
	CHECK_EQ(a & 65535, 0);
	CHECK_OK(swiotlb_unmap(nvme, a, 10, SWIOTLB_TO_DEVICE, 0));
	s = util_mem_stats(mem);
	CHECK_OK(swiotlb_dev_destroy(nvme));
	free(big);
}

static void test_unmap_args(void)
{
	enum { SZ = 5000 };
	uint8_t *buf = aligned_alloc(4096, 16384);
	CHECK(buf != NULL);
	uint8_t *orig = buf + 4096;
	util_fill(buf, 16384, 5);
	swiotlb_addr_t a;
	CHECK_OK(swiotlb_map(dev, orig, SZ, SWIOTLB_FROM_DEVICE, 0, &a));
	/* the device writes: a wrongly accepted unmap would copy this back */
	util_fill(swiotlb_addr_to_cpu(dev, a), SZ, 6);
	struct swiotlb_stats s = util_mem_stats(mem);
	struct swiotlb_dev_stats ds = util_dev_stats(dev);

	EINVAL_ON_DEV(swiotlb_unmap(dev, a + 2048, SZ, SWIOTLB_FROM_DEVICE, 0));     /* inside */
	EINVAL_ON_DEV(swiotlb_unmap(dev, a + 2048, SZ - 2048, SWIOTLB_FROM_DEVICE, 0));
	EINVAL_ON_DEV(swiotlb_unmap(dev, a + 1, SZ, SWIOTLB_FROM_DEVICE, 0));        /* misaligned */
	EINVAL_ON_DEV(swiotlb_unmap(dev, a + 1, SZ - 1, SWIOTLB_FROM_DEVICE, 0));
	EINVAL_ON_DEV(swiotlb_unmap(dev, a, SZ - 1, SWIOTLB_FROM_DEVICE, 0));        /* size */
	EINVAL_ON_DEV(swiotlb_unmap(dev, a, SZ + 1, SWIOTLB_FROM_DEVICE, 0));
	EINVAL_ON_DEV(swiotlb_unmap(dev, a, 6144, SWIOTLB_FROM_DEVICE, 0));          /* whole run */
	EINVAL_ON_DEV(swiotlb_unmap(dev, a, SZ, SWIOTLB_TO_DEVICE, 0));              /* direction */
	EINVAL_ON_DEV(swiotlb_unmap(dev, a, SZ, SWIOTLB_BIDIRECTIONAL, 0));
	EINVAL_ON_DEV(swiotlb_unmap(dev, a, SZ, (enum swiotlb_dir)7, 0));
	/* a free slot of the pool (after or before the mapping, whichever is
	 * inside the 512-slot pool) */
	swiotlb_addr_t fr = swiotlb_is_bounce(dev, a + 64 * 2048) ? a + 64 * 2048 : a - 64 * 2048;
	CHECK(swiotlb_is_bounce(dev, fr));
	EINVAL_ON_DEV(swiotlb_unmap(dev, fr, 10, SWIOTLB_FROM_DEVICE, 0));
	EINVAL_ON_DEV(swiotlb_unmap(dev, fr + 2048, 10, SWIOTLB_FROM_DEVICE, 0));
	if (swiotlb_is_bounce(dev, a - 1)) {
		EINVAL_ON_DEV(swiotlb_unmap(dev, a - 1, 10, SWIOTLB_FROM_DEVICE, 0));
		EINVAL_ON_DEV(swiotlb_sync_for_cpu(dev, a - 1, 2, SWIOTLB_FROM_DEVICE));
	}
	/* out-of-range syncs */
	EINVAL_ON_DEV(swiotlb_sync_for_cpu(dev, a, SZ + 1, SWIOTLB_FROM_DEVICE));
	/* sizes whose sum with the offset wraps around (found by fuzz_api) */
	EINVAL_ON_DEV(swiotlb_sync_for_cpu(dev, a + 1, SIZE_MAX, SWIOTLB_FROM_DEVICE));
	EINVAL_ON_DEV(swiotlb_sync_for_device(dev, a + 5, (size_t)-4, SWIOTLB_FROM_DEVICE));
	EINVAL_ON_DEV(swiotlb_sync_for_cpu(dev, a + SZ - 1, 2, SWIOTLB_FROM_DEVICE));
	EINVAL_ON_DEV(swiotlb_sync_for_cpu(dev, fr, 2, SWIOTLB_FROM_DEVICE));
	EINVAL_ON_DEV(swiotlb_sync_for_cpu(dev, a, 10, (enum swiotlb_dir)7));
	EINVAL_ON_DEV(swiotlb_sync_for_device(dev, a + SZ, 1, SWIOTLB_FROM_DEVICE));
	EINVAL_ON_DEV(swiotlb_sync_for_device(dev, a, 10, (enum swiotlb_dir)5));
	CHECK_EQ(swiotlb_unmap(NULL, a, SZ, SWIOTLB_FROM_DEVICE, 0), -EINVAL);
	CHECK_EQ(swiotlb_sync_for_cpu(NULL, a, SZ, SWIOTLB_FROM_DEVICE), -EINVAL);

	struct swiotlb_stats s2 = util_mem_stats(mem);
	same_stats(&s, &s2, __LINE__);
	CHECK_PAT(buf, 16384, 5);                           /* nothing copied back */
	CHECK_PAT(swiotlb_addr_to_cpu(dev, a), SZ, 6);      /* bounce intact */
	struct swiotlb_dev_stats ds2 = util_dev_stats(dev);
	CHECK_EQ(ds2.mappings, ds.mappings);
	CHECK_EQ(ds2.unmaps, ds.unmaps);

	/* a force_bounce device never hands out a direct address: an address
	 * in no pool is misuse (e.g. a second unmap of a transient mapping) */
	EINVAL_ON_DEV(swiotlb_unmap(dev, (swiotlb_addr_t)(uintptr_t)buf, 100, SWIOTLB_FROM_DEVICE, 0));
	EINVAL_ON_DEV(swiotlb_sync_for_cpu(dev, (swiotlb_addr_t)(uintptr_t)buf, 100, SWIOTLB_FROM_DEVICE));
	CHECK_PAT(buf, 16384, 5);
	s2 = util_mem_stats(mem);
	same_stats(&s, &s2, __LINE__);
	/* for a device that maps directly, a direct address is a no-op */
	struct swiotlb_dev_config dc = { .name = "direct" };
	struct swiotlb_dev *ddev = swiotlb_dev_create(mem, &dc);
	swiotlb_addr_t da;
	CHECK(ddev != NULL);
	CHECK_OK(swiotlb_map(ddev, buf, 100, SWIOTLB_FROM_DEVICE, 0, &da));
	CHECK_EQ(da, (swiotlb_addr_t)(uintptr_t)buf);
	CHECK_OK(swiotlb_unmap(ddev, da, 100, SWIOTLB_FROM_DEVICE, 0));
	CHECK_OK(swiotlb_sync_for_cpu(ddev, da, 100, SWIOTLB_FROM_DEVICE));
	CHECK_OK(swiotlb_dev_destroy(ddev));
	CHECK_PAT(buf, 16384, 5);
	s2 = util_mem_stats(mem);
	same_stats(&s, &s2, __LINE__);

	/* the right unmap works and copies back */
	CHECK_OK(swiotlb_unmap(dev, a, SZ, SWIOTLB_FROM_DEVICE, 0));
	CHECK_PAT(orig, SZ, 6);
	s = util_mem_stats(mem);
	/* double unmap */
	util_fill(orig, SZ, 7);
	EINVAL_ON_DEV(swiotlb_unmap(dev, a, SZ, SWIOTLB_FROM_DEVICE, 0));
	INTACT(&s);
	EINVAL_ON_DEV(swiotlb_sync_for_cpu(dev, a, SZ, SWIOTLB_FROM_DEVICE));
	CHECK_PAT(orig, SZ, 7);
	INTACT(&s);
	free(buf);
}

static void test_free_args(void)
{
	struct swiotlb_stats s = util_mem_stats(mem);
	swiotlb_addr_t a = 0, m = 0;
	errno = 0;
	CHECK(swiotlb_alloc(dev, 0, &a) == NULL);
	CHECK_EQ(errno, EINVAL);
	dev_einval++;
	errno = 0;
	CHECK(swiotlb_alloc(dev, 256 * KIB + 1, &a) == NULL);
	CHECK_EQ(errno, E2BIG);
	errno = 0;
	CHECK(swiotlb_alloc(NULL, 4096, &a) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(swiotlb_alloc(dev, 4096, NULL) == NULL);
	CHECK_EQ(errno, EINVAL);
	dev_einval++;
	INTACT(&s);

	uint8_t *p = swiotlb_alloc(dev, 6000, &a);
	CHECK(p != NULL);
	s = util_mem_stats(mem);
	CHECK_EQ(s.coherent_allocs, 1);
	EINVAL_ON_DEV(swiotlb_free(dev, p + 4096, 6000, a + 4096));
	EINVAL_ON_DEV(swiotlb_free(dev, p, 6000, a + 4096));
	EINVAL_ON_DEV(swiotlb_free(dev, p + 4096, 6000, a));
	EINVAL_ON_DEV(swiotlb_free(dev, p, 12288, a));
	EINVAL_ON_DEV(swiotlb_free(dev, p, 100000, a));
	EINVAL_ON_DEV(swiotlb_free(dev, NULL, 6000, a));
	CHECK_EQ(swiotlb_free(NULL, p, 6000, a), -EINVAL);
	/* a streaming mapping is not a coherent allocation, and vice versa */
	uint8_t *pg = aligned_alloc(4096, 4096);
	CHECK(pg != NULL);
	util_fill(pg, 4096, 8);
	CHECK_OK(swiotlb_map(dev, pg, 4096, SWIOTLB_TO_DEVICE, 0, &m));
	struct swiotlb_stats s1 = util_mem_stats(mem);
	EINVAL_ON_DEV(swiotlb_free(dev, swiotlb_addr_to_cpu(dev, m), 4096, m));
	EINVAL_ON_DEV(swiotlb_unmap(dev, a, 6000, SWIOTLB_BIDIRECTIONAL, 0));
	struct swiotlb_stats s2 = util_mem_stats(mem);
	same_stats(&s1, &s2, __LINE__);
	CHECK_OK(swiotlb_unmap(dev, m, 4096, SWIOTLB_TO_DEVICE, 0));
	free(pg);
	s2 = util_mem_stats(mem);
	CHECK_EQ(s2.coherent_allocs, 1);
	CHECK_EQ(s2.used_slots, s.used_slots);
	memset(p, 0xab, 6000); /* still ours */
	CHECK_OK(swiotlb_free(dev, p, 6000, a));
	s = util_mem_stats(mem);
	CHECK_EQ(s.coherent_allocs, 0);
	EINVAL_ON_DEV(swiotlb_free(dev, p, 6000, a)); /* double free */
	INTACT(&s);
}

static void test_destroy_busy(void)
{
	struct swiotlb_stats s = util_mem_stats(mem);
	uint8_t buf[3000];
	util_fill(buf, sizeof(buf), 9);
	struct swiotlb_dev *d2 = dev_new(mem, "busy", 0, 0);
	swiotlb_addr_t a;
	CHECK_OK(swiotlb_map(d2, buf, sizeof(buf), SWIOTLB_BIDIRECTIONAL, 0, &a));
	CHECK_EQ(swiotlb_dev_destroy(d2), -EBUSY);
	/* still usable */
	CHECK_PAT(swiotlb_addr_to_cpu(d2, a), sizeof(buf), 9);
	util_fill(swiotlb_addr_to_cpu(d2, a), sizeof(buf), 10);
	swiotlb_addr_t b;
	CHECK_OK(swiotlb_map(d2, buf, 10, SWIOTLB_TO_DEVICE, 0, &b));
	CHECK_OK(swiotlb_unmap(d2, b, 10, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(d2, a, sizeof(buf), SWIOTLB_BIDIRECTIONAL, 0));
	CHECK_PAT(buf, sizeof(buf), 10);
	/* a live coherent allocation also keeps the device busy */
	swiotlb_addr_t ca;
	void *cp = swiotlb_alloc(d2, 4096, &ca);
	CHECK(cp != NULL);
	CHECK_EQ(swiotlb_dev_destroy(d2), -EBUSY);
	CHECK_OK(swiotlb_free(d2, cp, 4096, ca));
	CHECK_OK(swiotlb_dev_destroy(d2));
	CHECK_EQ(swiotlb_dev_destroy(NULL), -EINVAL);

	/* mem_destroy with devices attached */
	CHECK_EQ(swiotlb_mem_destroy(mem), -EBUSY);
	CHECK_EQ(swiotlb_mem_destroy(NULL), -EINVAL);
	struct swiotlb_stats now = util_mem_stats(mem);
	CHECK_EQ(now.used_slots, s.used_slots);
	CHECK_EQ(now.mappings, s.mappings);
	s = now;
	INTACT(&s);
	/* a new device can still attach */
	d2 = dev_new(mem, "late", 0, 0);
	CHECK_OK(swiotlb_dev_destroy(d2));

	/* stats arguments */
	struct swiotlb_stats st;
	CHECK_EQ(swiotlb_mem_stats(NULL, &st), -EINVAL);
	CHECK_EQ(swiotlb_mem_stats(mem, NULL), -EINVAL);
	struct swiotlb_dev_stats dst;
	CHECK_EQ(swiotlb_dev_stats(NULL, &dst), -EINVAL);
	CHECK_EQ(swiotlb_dev_stats(dev, NULL), -EINVAL);
	INTACT(&s);
}

static void test_create_args(void)
{
	/* a dma_mask below every pool makes no slot usable */
	struct swiotlb_dev_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.name = "tiny";
	dc.force_bounce = true;
	dc.dma_mask = 0xfff;
	errno = 0;
	CHECK(swiotlb_dev_create(mem, &dc) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(swiotlb_dev_create(NULL, NULL) == NULL);
	CHECK_EQ(errno, EINVAL);
	/* a NULL config is the defaults */
	struct swiotlb_dev *d = swiotlb_dev_create(mem, NULL);
	CHECK(d != NULL);
	CHECK(swiotlb_dev_name(d) != NULL);
	CHECK_EQ(strlen(swiotlb_dev_name(d)), 0);
	CHECK_OK(swiotlb_dev_destroy(d));
	/* a provider that cannot supply the pool */
	uint8_t *region = aligned_alloc(4096, 64 * KIB);
	CHECK(region != NULL);
	struct swiotlb_provider *prov = swiotlb_provider_fixed(region, 0x10000000, 64 * KIB);
	CHECK(prov != NULL);
	struct swiotlb_mem_config mc;
	memset(&mc, 0, sizeof(mc));
	mc.size = 1 * MIB;
	mc.nareas = 1;
	mc.provider = prov;
	errno = 0;
	CHECK(swiotlb_mem_create(&mc) == NULL);
	CHECK_EQ(errno, ENOMEM);
	swiotlb_provider_destroy(prov);
	free(region);
}

int main(void)
{
	mem = mem_new(1 * MIB, 1, NULL);
	dev = dev_new(mem, "err", 0, 0);
	probe_buf = malloc(4096);
	CHECK(probe_buf != NULL);
	test_map_args();
	test_unmap_args();
	test_free_args();
	test_destroy_busy();
	test_create_args();
	/* last: every -EINVAL on dev was counted once (per call: test_stats) */
	CHECK_EQ(util_dev_stats(dev).errors, dev_einval);
	struct swiotlb_stats st = util_mem_stats(mem);
	CHECK_EQ(st.used_slots, 0);
	CHECK_EQ(st.mappings, 0);
	CHECK_EQ(st.failed_maps, 0);
	free(probe_buf);
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
	printf("test_errors: ok\n");
	return 0;
}
