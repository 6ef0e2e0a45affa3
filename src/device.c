/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Devices: what a device can reach (dma_mask, direct callback), its
 * alignment rules, its counters, and how a rejected call is reported.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Default direct check: identity mapping (device address = CPU virtual
 * address), reachable when the whole buffer is at or below dma_mask. */
static bool identity_direct(const struct swiotlb_dev *dev, const void *cpu, size_t size,
			    swiotlb_addr_t *addr)
{
	uintptr_t a = (uintptr_t)cpu;

	if (a + size - 1 < a || a + size - 1 > dev->dma_mask)
		return false;
	*addr = a;
	return true;
}

/* Could addr have been returned by a direct (not bounced) map of dev? */
bool _swiotlb_dev_addr_maybe_direct(const struct swiotlb_dev *dev, swiotlb_addr_t addr, size_t size)
{
	if (dev->force_bounce)
		return false;
	if (dev->direct)
		return true; /* the caller's translation: cannot tell */
	return addr + (size - 1) >= addr && addr + (size - 1) <= dev->dma_mask;
}

bool _swiotlb_dev_direct(const struct swiotlb_dev *dev, const void *cpu, size_t size,
			 swiotlb_addr_t *addr)
{
	if (dev->force_bounce)
		return false;
	if (dev->direct)
		return dev->direct(dev->direct_ctx, cpu, size, addr);
	return identity_direct(dev, cpu, size, addr);
}

/* A device whose dma_mask reaches no slot of any current pool can only
 * bounce through transient pools; without dynamic pools it is refused. */
static int dev_check_reach(struct swiotlb_mem *mem, const struct swiotlb_dev *dev)
{
	struct pool_set *s;
	bool ok = false;

	rcu_enter();
	/* pairs with the store-release in set_replace() (mem.c): see there */
	s = atomic_load_explicit(&mem->pools, memory_order_acquire);
	for (unsigned i = 0; i < s->n && !ok; i++)
		ok = pool_reachable(s->pools[i], dev);
	rcu_exit();
	return ok || mem->cfg.dynamic ? 0 : -EINVAL;
}

/* The memory's segment less min_align_mask rounded up to a slot, and at
 * most the device's segment boundary: a mapping never crosses it. */
static size_t dev_max_mapping(const struct swiotlb_dev *dev)
{
	size_t align = align_up(dev->min_align_mask, SLOT_SIZE);
	size_t run = dev->seg_size;

	if (dev->seg_boundary_mask < run - 1)
		run = (size_t)dev->seg_boundary_mask + 1;
	return run > align ? run - align : 0;
}

static int dev_config(struct swiotlb_dev *dev, const struct swiotlb_dev_config *c)
{
	if (c->min_align_mask & (c->min_align_mask + 1))
		return -EINVAL; /* must be 2^n - 1 */
	/* the kernel's segment, whatever the memory's: would leave no room for
	 * a mapping of a default memory, and struct slot's pad counts below it */
	if (c->min_align_mask >= SEG_SIZE - SLOT_SIZE)
		return -EINVAL;
	if (c->seg_boundary_mask && (c->seg_boundary_mask & (c->seg_boundary_mask + 1)))
		return -EINVAL;
	if (c->seg_boundary_mask && c->seg_boundary_mask < SLOT_SIZE - 1)
		return -EINVAL;
	dev->dma_mask = c->dma_mask ? c->dma_mask : UINT64_MAX;
	dev->min_align_mask = c->min_align_mask;
	dev->seg_boundary_mask = c->seg_boundary_mask ? c->seg_boundary_mask : UINT64_MAX;
	dev->seg_size = dev->mem->cfg.seg_size;
	dev->max_map = dev_max_mapping(dev);
	dev->force_bounce = c->force_bounce;
	dev->direct = c->direct;
	dev->direct_ctx = c->direct_ctx;
	if (c->name) {
		strncpy(dev->name, c->name, sizeof(dev->name) - 1);
		dev->name[sizeof(dev->name) - 1] = '\0';
	}
	return 0;
}

SWIOTLB_API struct swiotlb_dev *swiotlb_dev_create_sized(struct swiotlb_mem *mem,
							 const struct swiotlb_dev_config *cfg,
							 size_t cfg_size)
{
	struct swiotlb_dev_config cc = { 0 };
	struct swiotlb_dev *dev;
	int rc;

	if (!mem) {
		errno = EINVAL;
		return NULL;
	}
	if (cfg && _swiotlb_abi_copy_in(&cc, sizeof(cc), cfg, cfg_size,
					ABI_SIZE_TO(struct swiotlb_dev_config, direct_ctx)) < 0) {
		_swiotlb_log(mem, SWIOTLB_LOG_ERR,
			     "swiotlb_dev_create: config of %zu bytes does not match this "
			     "library's (%zu bytes) or sets fields it does not know",
			     cfg_size, sizeof(cc));
		errno = EINVAL;
		return NULL;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		errno = ENOMEM;
		return NULL;
	}
	dev->mem = mem;
	rc = dev_config(dev, &cc);
	if (rc == 0)
		rc = dev_check_reach(mem, dev);
	dev->nshards = mem->cfg.nareas;
	dev->shards = aligned_alloc(CACHELINE, sizeof(*dev->shards) * dev->nshards);
	if (rc == 0 && !dev->shards)
		rc = -ENOMEM;
	if (rc < 0) {
		_swiotlb_log(mem, SWIOTLB_LOG_ERR, "device %s: invalid configuration (%s)",
			     dev->name[0] ? dev->name : "?", swiotlb_strerror(rc));
		free(dev->shards);
		free(dev);
		errno = -rc;
		return NULL;
	}
	memset(dev->shards, 0, sizeof(*dev->shards) * dev->nshards);
	_swiotlb_devcount_init(dev);
	pthread_mutex_lock(&mem->lock);
	mem->ndevs++;
	pthread_mutex_unlock(&mem->lock);
	return dev;
}

int64_t _swiotlb_dev_live(const struct swiotlb_dev *dev)
{
	struct dev_tcount_sum tc;
	int64_t live;

	_swiotlb_devcount_sum(dev, &tc);
	live = (int64_t)(tc.maps - tc.unmaps);
	for (unsigned i = 0; i < dev->nshards; i++) {
		const struct dev_shard *sh = &dev->shards[i];

		live += (int64_t)(ld_relaxed(&sh->maps) + ld_relaxed(&sh->allocs)) -
			(int64_t)(ld_relaxed(&sh->unmaps) + ld_relaxed(&sh->frees));
	}
	return live;
}

SWIOTLB_API int swiotlb_dev_destroy(struct swiotlb_dev *dev)
{
	struct swiotlb_mem *mem;
	int64_t live;

	if (!dev)
		return -EINVAL;
	mem = dev->mem;
	live = _swiotlb_dev_live(dev);
	if (live) {
		_swiotlb_log(mem, SWIOTLB_LOG_ERR,
			     "device %s: destroy refused: %lld live mapping(s)",
			     dev->name[0] ? dev->name : "?", (long long)live);
		return -EBUSY;
	}
	_swiotlb_devcount_fini(dev);
	pthread_mutex_lock(&mem->lock);
	mem->ndevs--;
	pthread_mutex_unlock(&mem->lock);
	free(dev->shards);
	free(dev);
	return 0;
}

/* Log a rejected call (and count it in the device's errors when it is
 * -EINVAL, i.e. misuse); returns err. */
int _swiotlb_dev_reject(struct swiotlb_dev *dev, int err, const char *what, swiotlb_addr_t addr,
			size_t size)
{
	if (err == -EINVAL)
		stat_add(&dev->errors, 1);
	_swiotlb_log(dev->mem, SWIOTLB_LOG_WARN, "%s: %s (addr %#llx, size %zu): %s",
		     dev_label(dev), what, (unsigned long long)addr, size, swiotlb_strerror(err));
	return err;
}

SWIOTLB_API const char *swiotlb_dev_name(const struct swiotlb_dev *dev)
{
	return dev ? dev->name : "";
}

SWIOTLB_API size_t swiotlb_max_mapping_size(const struct swiotlb_dev *dev)
{
	return dev ? dev_max_mapping_size(dev) : SEG_SIZE;
}
