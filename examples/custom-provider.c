// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * custom-provider: pool memory from a region the caller owns, through a
 * provider written from scratch.
 *
 * The region stands for memory a device can reach that is set aside at
 * start-up; the device sees it at DEV_BASE, not at its CPU address.  The
 * memory is static (not dynamic), so the library asks for one pool, at
 * swiotlb_mem_create(), and gives it back at swiotlb_mem_destroy().  A
 * provider for a dynamic memory is also called from the library's growth
 * thread and needs a lock.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <swiotlb.h>

#define REGION_SIZE (1u << 20)
#define DEV_BASE ((swiotlb_addr_t)0x80000000) /* where the device sees it */

struct region {
	unsigned char *cpu;
	bool busy;                 /* the one pool is handed out */
	unsigned allocs, frees;
};

static int region_alloc(void *ctx, size_t len, size_t align, swiotlb_addr_t limit,
			void **cpu, swiotlb_addr_t *addr)
{
	struct region *r = ctx;

	if (r->busy || len > REGION_SIZE || DEV_BASE % align ||
	    (limit && DEV_BASE + len - 1 > limit))
		return -ENOMEM;
	r->busy = true;
	r->allocs++;
	*cpu = r->cpu;
	*addr = DEV_BASE;
	return 0;
}

static void region_free(void *ctx, void *cpu, swiotlb_addr_t addr, size_t len)
{
	struct region *r = ctx;

	r->busy = false;
	r->frees++;
}

int main(void)
{
	static unsigned char mem_region[REGION_SIZE] __attribute__((aligned(4096)));
	struct region r = { .cpu = mem_region };
	struct swiotlb_provider prov = {
		.version = SWIOTLB_PROVIDER_VERSION, .name = "region", .ctx = &r,
		.alloc = region_alloc, .free = region_free,
	};
	struct swiotlb_mem_config mc = { .size = REGION_SIZE, .provider = &prov };
	struct swiotlb_dev_config dc = { .name = "dev0", .force_bounce = true };
	char msg[] = "hello, device";
	struct swiotlb_mem *mem = swiotlb_mem_create(&mc);
	struct swiotlb_dev *dev = mem ? swiotlb_dev_create(mem, &dc) : NULL;
	swiotlb_addr_t addr;

	if (!dev || swiotlb_map(dev, msg, sizeof(msg), SWIOTLB_TO_DEVICE, 0, &addr)) {
		fprintf(stderr, "custom-provider: setup or map failed\n");
		return 1;
	}
	/* The bounce buffer is in the region, at the device's address. */
	printf("mapped at device address %#llx, %zu bytes into the region: \"%s\"\n",
	       (unsigned long long)addr, (size_t)(addr - DEV_BASE),
	       (char *)mem_region + (addr - DEV_BASE));
	if (addr < DEV_BASE || addr >= DEV_BASE + REGION_SIZE ||
	    memcmp(mem_region + (addr - DEV_BASE), msg, sizeof(msg)))
		return 1;
	if (swiotlb_unmap(dev, addr, sizeof(msg), SWIOTLB_TO_DEVICE, 0) ||
	    swiotlb_dev_destroy(dev) || swiotlb_mem_destroy(mem))
		return 1;
	printf("provider: %u alloc, %u free\n", r.allocs, r.frees);
	return r.allocs == 1 && r.frees == 1 ? 0 : 1;
}
