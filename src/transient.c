/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Transient pools: when the shared pools are full, a map of a dynamic
 * memory is served at once from a pool of exactly the needed size, owned
 * by the device and holding that one mapping; unmapping the mapping
 * releases the pool.
 */
#include "internal.h"

/*
 * A transient pool for one request of dev, holding that mapping already
 * (its slots claimed, metadata recorded) but not yet findable by lookups:
 * the caller copies the data in, then publishes it with
 * _swiotlb_transient_publish().  Exactly the needed size: the pool is
 * aligned to the request's alignment, so the run starts at slot 0, or at
 * the slot whose address bits match the original's under min_align_mask
 * (those leading slots are the only extra).  Below the device's dma_mask.
 * Runs outside any RCU read-side section and any library lock: the
 * provider and the pool_added hook may block.  NULL (with *first = -1)
 * when max_size or max_pools leaves no room, the provider fails or the
 * hook refuses.
 */
struct pool *_swiotlb_transient_create(struct swiotlb_dev *dev, const struct slot_req *rq,
				       int *first)
{
	struct swiotlb_mem *mem = dev->mem;
	size_t align = (rq->alloc_align_mask > rq->iotlb_align_mask ? rq->alloc_align_mask
								    : rq->iotlb_align_mask) +
		       1;
	size_t lead = rq->orig ? ((uintptr_t)rq->orig & rq->iotlb_align_mask) >> SLOT_SHIFT : 0;
	size_t bytes = ((size_t)rq->nslots + lead) << SLOT_SHIFT;
	swiotlb_addr_t limit = mem->cfg.limit;
	struct pool *p;
	int err;

	*first = -1;
	if (dev->dma_mask != UINT64_MAX && (!limit || dev->dma_mask < limit))
		limit = dev->dma_mask;
	if (_swiotlb_pool_bytes_allowed(mem, align_up(bytes, PAGE_SZ)) < align_up(bytes, PAGE_SZ))
		return NULL;
	p = _swiotlb_pool_create(mem, bytes, 1, limit, align > PAGE_SZ ? align : PAGE_SZ,
				 POOL_TRANSIENT, &err);
	if (!p)
		return NULL;
	p->owner = dev;
	*first = _swiotlb_area_find_slots(p, 0, rq);
	if (*first < 0) {
		_swiotlb_pool_destroy(p);
		return NULL;
	}
	/* one mapping per transient pool: nothing else may land here */
	st_relaxed(&p->retired, true);
	return p;
}

/* Make a transient pool from _swiotlb_transient_create() findable (its data
 * is in place); the caller then sets the device flag and fences (the add
 * shape).  On failure (-ENOMEM from the lookup) the pool is destroyed. */
int _swiotlb_transient_publish(struct swiotlb_dev *dev, struct pool *p)
{
	struct swiotlb_mem *mem = dev->mem;
	int rc = _swiotlb_lookup_add(&mem->lookup, p);

	if (rc < 0) {
		_swiotlb_pool_destroy(p);
		return rc;
	}
	stat_add(&dev->transient_live, 1);
	stat_add(&mem->stats.transient_live, 1);
	stat_add(&mem->stats.transient_created, 1);
	stat_add(&mem->stats.transient_slots, p->nslots);
	return 0;
}

/* Release a transient pool whose mapping was just unmapped (its counts
 * already went to the memory's transient_* counters, see area.c). */
void _swiotlb_transient_release(struct pool *p)
{
	struct swiotlb_dev *dev = (struct swiotlb_dev *)p->owner;
	struct swiotlb_mem *mem = p->mem;

	_swiotlb_lookup_del(&mem->lookup, p);
	sub_relaxed(&dev->transient_live, 1);
	sub_relaxed(&mem->stats.transient_live, 1);
	sub_relaxed(&mem->stats.transient_slots, p->nslots);
	_swiotlb_pool_free_rcu(p);
	/* the resize thread frees it after a grace period (and gives its
	 * memory back to max_size/max_pools waiters) */
	_swiotlb_resize_request_reclaim(mem);
}
