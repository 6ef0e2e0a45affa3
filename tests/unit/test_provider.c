/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Providers: the mmap provider places pools below a limit (device address
 * = CPU address); a 32-bit device bounces buffers above 4 GiB and maps
 * buffers below it directly; the fixed provider carves pools first-fit out
 * of a region with its own device address and merges freed pools; a custom
 * provider sees the documented alloc/free calls. */
#include <sys/mman.h>

#include "unit.h"

#define FOUR_G ((uint64_t)1 << 32)

static void *mmap_at(uint64_t hint, size_t len)
{
	void *p = mmap((void *)(uintptr_t)hint, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if ((uintptr_t)p != hint) { /* old kernels ignore NOREPLACE */
		munmap(p, len);
		return NULL;
	}
	return p;
}

static void *mmap_low(size_t len)
{
#ifdef MAP_32BIT
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (p != MAP_FAILED)
		return p;
#endif
	for (uint64_t h = 0x40000000; h < 0xf0000000; h += 0x01000000) {
		void *q = mmap_at(h, len);
		if (q)
			return q;
	}
	return NULL;
}

static void test_limit_4g(void)
{
	struct swiotlb_mem_config mc;
	memset(&mc, 0, sizeof(mc));
	mc.size = 1 * MIB;
	mc.nareas = 1;
	mc.limit = 0xffffffff;
	struct swiotlb_mem *mem = swiotlb_mem_create(&mc);
	CHECK(mem != NULL);
	CHECK_EQ(util_mem_stats(mem).total_slots, 512);

	/* every slot of the pool is below 4 GiB: fill it completely */
	struct swiotlb_dev *fb = dev_new(mem, "force", 0, 0);
	uint8_t *src = aligned_alloc(4096, 256 * KIB);
	CHECK(src != NULL);
	util_fill(src, 256 * KIB, 1);
	swiotlb_addr_t a[4];
	for (int i = 0; i < 4; i++) {
		a[i] = map_ok(fb, src, 256 * KIB, SWIOTLB_TO_DEVICE);
		CHECK(a[i] + 256 * KIB - 1 <= 0xffffffffull);
		/* identity: device address == CPU address */
		CHECK(swiotlb_addr_to_cpu(fb, a[i]) == (void *)(uintptr_t)a[i]);
		CHECK_MEM((void *)(uintptr_t)a[i], src, 256 * KIB);
	}
	CHECK_EQ(util_mem_stats(mem).used_slots, 512);
	for (int i = 0; i < 4; i++)
		CHECK_OK(swiotlb_unmap(fb, a[i], 256 * KIB, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_dev_destroy(fb));

	/* a 32-bit device without force_bounce */
	struct swiotlb_dev_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.name = "dma32";
	dc.dma_mask = 0xffffffff;
	struct swiotlb_dev *dev = swiotlb_dev_create(mem, &dc);
	CHECK(dev != NULL);

	/* a buffer above 4 GiB bounces */
	uint8_t *high = malloc(64 * KIB);
	CHECK(high != NULL);
	uint8_t *high_m = NULL;
	if ((uintptr_t)high < FOUR_G) {
		high_m = mmap(NULL, 64 * KIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(high_m != MAP_FAILED);
		free(high);
		high = high_m;
	}
	CHECK((uintptr_t)high > FOUR_G);
	util_fill(high, 64 * KIB, 2);
	swiotlb_addr_t b;
	CHECK_OK(swiotlb_map(dev, high, 64 * KIB, SWIOTLB_BIDIRECTIONAL, 0, &b));
	CHECK(b != (swiotlb_addr_t)(uintptr_t)high);
	CHECK(swiotlb_is_bounce(dev, b));
	CHECK(b + 64 * KIB - 1 <= 0xffffffffull);
	CHECK_MEM((void *)(uintptr_t)b, high, 64 * KIB);
	util_fill((void *)(uintptr_t)b, 64 * KIB, 3);
	CHECK_OK(swiotlb_unmap(dev, b, 64 * KIB, SWIOTLB_BIDIRECTIONAL, 0));
	CHECK_PAT(high, 64 * KIB, 3);
	struct swiotlb_dev_stats ds = util_dev_stats(dev);
	CHECK_EQ(ds.maps, 1);
	CHECK_EQ(ds.direct_maps, 0);

	/* a buffer below 4 GiB is mapped directly */
	uint8_t *low = mmap_low(64 * KIB);
	CHECK(low != NULL);
	CHECK((uintptr_t)low + 64 * KIB - 1 <= 0xffffffffull);
	util_fill(low, 64 * KIB, 4);
	struct swiotlb_stats st0 = util_mem_stats(mem);
	swiotlb_addr_t d;
	CHECK_OK(swiotlb_map(dev, low, 64 * KIB, SWIOTLB_FROM_DEVICE, 0, &d));
	CHECK_EQ(d, (uintptr_t)low);
	CHECK(!swiotlb_is_bounce(dev, d));
	CHECK(swiotlb_addr_to_cpu(dev, d) == NULL);
	struct swiotlb_stats st1 = util_mem_stats(mem);
	CHECK_EQ(st1.used_slots, st0.used_slots);
	CHECK_EQ(st1.maps, st0.maps);
	CHECK_EQ(st1.bytes_to_device, st0.bytes_to_device);
	CHECK_OK(swiotlb_sync_for_cpu(dev, d, 64 * KIB, SWIOTLB_FROM_DEVICE));
	CHECK_OK(swiotlb_unmap(dev, d, 64 * KIB, SWIOTLB_FROM_DEVICE, 0));
	CHECK_PAT(low, 64 * KIB, 4);
	ds = util_dev_stats(dev);
	CHECK_EQ(ds.maps, 1);
	CHECK_EQ(ds.direct_maps, 1);
	munmap(low, 64 * KIB);

	/* a buffer straddling 4 GiB bounces; its part below maps directly */
	uint8_t *st = mmap_at(FOUR_G - 4096, 8192);
	if (st) {
		util_fill(st, 8192, 5);
		CHECK_OK(swiotlb_map(dev, st, 8192, SWIOTLB_TO_DEVICE, 0, &b));
		CHECK(swiotlb_is_bounce(dev, b));
		CHECK(b != FOUR_G - 4096);
		CHECK_MEM((void *)(uintptr_t)b, st, 8192);
		CHECK_OK(swiotlb_unmap(dev, b, 8192, SWIOTLB_TO_DEVICE, 0));
		CHECK_OK(swiotlb_map(dev, st, 4096, SWIOTLB_TO_DEVICE, 0, &b));
		CHECK_EQ(b, FOUR_G - 4096);
		CHECK(!swiotlb_is_bounce(dev, b));
		CHECK_OK(swiotlb_unmap(dev, b, 4096, SWIOTLB_TO_DEVICE, 0));
		munmap(st, 8192);
	} else {
		printf("note: could not map at 4 GiB - 4 KiB; straddle case skipped\n");
	}
	CHECK_EQ(util_mem_stats(mem).used_slots, 0);
	if (high_m)
		munmap(high_m, 64 * KIB);
	else
		free(high);
	free(src);
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
}

/* A 32-bit device cannot use a pool that lies above 4 GiB. */
static void test_mask_below_pool(void)
{
	/* a fixed region whose device addresses are all above 4 GiB */
	uint8_t *region = aligned_alloc(4096, 1 * MIB);
	CHECK(region != NULL);
	struct swiotlb_provider *p = swiotlb_provider_fixed(region, 0x500000000ull, 1 * MIB);
	CHECK(p != NULL);
	struct swiotlb_mem_config mc;
	memset(&mc, 0, sizeof(mc));
	mc.size = 512 * KIB;
	mc.nareas = 1;
	mc.provider = p;
	struct swiotlb_mem *mem = swiotlb_mem_create(&mc);
	CHECK(mem != NULL);
	struct swiotlb_dev_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.dma_mask = 0xffffffff;
	dc.force_bounce = true;
	errno = 0;
	CHECK(swiotlb_dev_create(mem, &dc) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK_OK(swiotlb_mem_destroy(mem));
	/* a limit the fixed region cannot satisfy */
	mc.limit = 0xffffffff;
	errno = 0;
	CHECK(swiotlb_mem_create(&mc) == NULL);
	CHECK_EQ(errno, ENOMEM);
	swiotlb_provider_destroy(p);
	free(region);
}

static swiotlb_addr_t pool_base(struct swiotlb_mem *mem)
{
	/* first map of a fresh one-area pool lands in slot 0 */
	struct swiotlb_dev *d = dev_new(mem, "probe", 0, 0);
	uint8_t x = 1;
	swiotlb_addr_t a = map_ok(d, &x, 1, SWIOTLB_TO_DEVICE);
	CHECK_OK(swiotlb_unmap(d, a, 1, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_dev_destroy(d));
	return a;
}

static struct swiotlb_mem *fixed_mem(struct swiotlb_provider *p, size_t size)
{
	struct swiotlb_mem_config mc;
	memset(&mc, 0, sizeof(mc));
	mc.size = size;
	mc.nareas = 1;
	mc.provider = p;
	return swiotlb_mem_create(&mc);
}

static void test_fixed(void)
{
	const swiotlb_addr_t dbase = 0x100200000ull;
	const size_t rlen = 2 * MIB;
	uint8_t *region = aligned_alloc(4096, rlen);
	CHECK(region != NULL);
	memset(region, 0, rlen);
	struct swiotlb_provider *p = swiotlb_provider_fixed(region, dbase, rlen);
	CHECK(p != NULL);

	struct swiotlb_mem *m1 = fixed_mem(p, 512 * KIB);
	CHECK(m1 != NULL);
	CHECK_EQ(pool_base(m1), dbase); /* first fit: start of the region */
	struct swiotlb_dev *dev = dev_new(m1, "fixed", 0, 0);
	uint8_t *src = aligned_alloc(4096, 64 * KIB);
	CHECK(src != NULL);
	util_fill(src, 64 * KIB, 9);
	for (int i = 0; i < 20; i++) {
		size_t size = 1 + (size_t)i * 3001;
		swiotlb_addr_t a = map_ok(dev, src + i, size, SWIOTLB_BIDIRECTIONAL);
		CHECK(a >= dbase && a + size <= dbase + rlen);
		uint8_t *c = swiotlb_addr_to_cpu(dev, a);
		CHECK(c == region + (a - dbase));
		CHECK_MEM(c, src + i, size);
		CHECK(swiotlb_addr_to_cpu(dev, (swiotlb_addr_t)(uintptr_t)c) == NULL);
		CHECK(!swiotlb_is_bounce(dev, (swiotlb_addr_t)(uintptr_t)c));
		util_fill(c, size, 10 + (uint32_t)i);
		CHECK_OK(swiotlb_unmap(dev, a, size, SWIOTLB_BIDIRECTIONAL, 0));
		CHECK_PAT(src + i, size, 10 + (uint32_t)i);
		util_fill(src, 64 * KIB, 9);
	}
	CHECK(!swiotlb_is_bounce(dev, dbase - 1));
	CHECK(swiotlb_addr_to_cpu(dev, dbase + 4 * MIB) == NULL);
	CHECK_OK(swiotlb_dev_destroy(dev));

	/* first fit, non-overlapping, freed pools merged back */
	struct swiotlb_mem *m2 = fixed_mem(p, 512 * KIB);
	CHECK(m2 != NULL);
	CHECK_EQ(pool_base(m2), dbase + 512 * KIB);
	struct swiotlb_mem *m3 = fixed_mem(p, 1 * MIB);
	CHECK(m3 != NULL);
	CHECK_EQ(pool_base(m3), dbase + 1 * MIB);
	CHECK_OK(swiotlb_mem_destroy(m1));
	errno = 0;
	CHECK(fixed_mem(p, 1 * MIB) == NULL); /* only a 512 KiB hole */
	CHECK_EQ(errno, ENOMEM);
	struct swiotlb_mem *m4 = fixed_mem(p, 256 * KIB);
	CHECK(m4 != NULL);
	CHECK_EQ(pool_base(m4), dbase);
	CHECK_OK(swiotlb_mem_destroy(m4));
	CHECK_OK(swiotlb_mem_destroy(m2));
	m4 = fixed_mem(p, 1 * MIB); /* [0, 512K) and [512K, 1M) merged */
	CHECK(m4 != NULL);
	CHECK_EQ(pool_base(m4), dbase);
	CHECK_OK(swiotlb_mem_destroy(m4));
	CHECK_OK(swiotlb_mem_destroy(m3));
	m4 = fixed_mem(p, 2 * MIB); /* everything merged */
	CHECK(m4 != NULL);
	CHECK_EQ(pool_base(m4), dbase);
	CHECK_OK(swiotlb_mem_destroy(m4));
	swiotlb_provider_destroy(p);

	errno = 0;
	CHECK(swiotlb_provider_fixed(NULL, dbase, rlen) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(swiotlb_provider_fixed(region, dbase, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	free(src);
	free(region);
}

/* A custom provider: called once per pool, with the limit; free gets back
 * exactly what alloc returned. */
struct cprov {
	int allocs, frees, fail;
	size_t len, align;
	swiotlb_addr_t limit;
	void *cpu;
	swiotlb_addr_t addr;
	size_t free_len;
	void *free_cpu;
	swiotlb_addr_t free_addr;
};

static int cp_alloc(void *ctx, size_t len, size_t align, swiotlb_addr_t limit, void **cpu,
		    swiotlb_addr_t *addr)
{
	struct cprov *c = ctx;
	c->allocs++;
	c->len = len;
	c->align = align;
	c->limit = limit;
	if (c->fail)
		return -ENOMEM;
	void *p = aligned_alloc(align, round_up_sz(len, align));
	if (!p)
		return -ENOMEM;
	*cpu = c->cpu = p;
	*addr = c->addr = 0x700000000000ull; /* not the CPU address */
	return 0;
}

static void cp_free(void *ctx, void *cpu, swiotlb_addr_t addr, size_t len)
{
	struct cprov *c = ctx;
	c->frees++;
	c->free_cpu = cpu;
	c->free_addr = addr;
	c->free_len = len;
	free(cpu);
}

static void test_custom(void)
{
	struct cprov c;
	memset(&c, 0, sizeof(c));
	struct swiotlb_provider prov = { .version = SWIOTLB_PROVIDER_VERSION, .name = "counting",
					 .ctx = &c, .alloc = cp_alloc, .free = cp_free };
	struct swiotlb_mem_config mc;
	memset(&mc, 0, sizeof(mc));
	mc.size = 1 * MIB;
	mc.nareas = 1;
	mc.provider = &prov;
	mc.limit = 0x7fffffffffffull;
	struct swiotlb_mem *mem = swiotlb_mem_create(&mc);
	CHECK(mem != NULL);
	CHECK_EQ(c.allocs, 1);
	CHECK_EQ(c.len, 1 * MIB);
	CHECK(c.align >= 4096 && (c.align & (c.align - 1)) == 0);
	CHECK_EQ(c.limit, 0x7fffffffffffull);
	CHECK_EQ(util_mem_stats(mem).pool_bytes, 1 * MIB);
	struct swiotlb_dev *dev = dev_new(mem, "custom", 0, 0);
	uint8_t buf[100];
	util_fill(buf, sizeof(buf), 1);
	swiotlb_addr_t a = map_ok(dev, buf, sizeof(buf), SWIOTLB_TO_DEVICE);
	CHECK(a >= c.addr && a < c.addr + 1 * MIB);
	CHECK(swiotlb_addr_to_cpu(dev, a) == (uint8_t *)c.cpu + (a - c.addr));
	CHECK_MEM(swiotlb_addr_to_cpu(dev, a), buf, sizeof(buf));
	CHECK_OK(swiotlb_unmap(dev, a, sizeof(buf), SWIOTLB_TO_DEVICE, 0));
	CHECK_EQ(c.allocs, 1); /* never on the map path */
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_EQ(c.frees, 0);
	CHECK_OK(swiotlb_mem_destroy(mem));
	CHECK_EQ(c.frees, 1);
	CHECK(c.free_cpu == c.cpu);
	CHECK_EQ(c.free_addr, c.addr);
	CHECK_EQ(c.free_len, c.len);

	/* provider failure: ENOMEM, nothing to free */
	memset(&c, 0, sizeof(c));
	c.fail = 1;
	errno = 0;
	CHECK(swiotlb_mem_create(&mc) == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK(c.allocs >= 1);
	CHECK_EQ(c.frees, 0);
}

static void test_mmap_default(void)
{
	struct swiotlb_provider *p = swiotlb_provider_mmap(0);
	CHECK(p != NULL);
	struct swiotlb_mem_config mc;
	memset(&mc, 0, sizeof(mc));
	mc.size = 256 * KIB;
	mc.provider = p;
	struct swiotlb_mem *mem = swiotlb_mem_create(&mc);
	CHECK(mem != NULL);
	struct swiotlb_dev *dev = dev_new(mem, "mm", 0, 0);
	uint8_t buf[5000];
	util_fill(buf, sizeof(buf), 7);
	swiotlb_addr_t a = map_ok(dev, buf, sizeof(buf), SWIOTLB_TO_DEVICE);
	CHECK(swiotlb_addr_to_cpu(dev, a) == (void *)(uintptr_t)a);
	CHECK_EQ(a & 4095, 0);
	CHECK_MEM((void *)(uintptr_t)a, buf, sizeof(buf));
	CHECK_OK(swiotlb_unmap(dev, a, sizeof(buf), SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
	swiotlb_provider_destroy(p); /* static default: ignored */
	CHECK(swiotlb_provider_mmap(0) == p);
}

int main(void)
{
	test_limit_4g();
	test_mask_below_pool();
	test_fixed();
	test_custom();
	test_mmap_default();
	printf("test_provider: ok\n");
	return 0;
}
