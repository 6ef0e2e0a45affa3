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
 * (its slots claimed, metadata recorded).  Exactly the needed size: the
 * pool is aligned to the request's alignment, so the run starts at slot 0,
 * or at the slot whose address bits match the original's under
 * min_align_mask (those leading slots are the only extra).  Below the
 * device's dma_mask.
 * Added to the lookup with dev as owner (lookups for other devices do not
 * find it).  NULL when max_size forbids it or the provider fails.  Caller
 * is inside an RCU read-side section.
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

	if (dev->dma_mask != UINT64_MAX && (!limit || dev->dma_mask < limit))
		limit = dev->dma_mask;
	if (_swiotlb_pool_bytes_allowed(mem, align_up(bytes, PAGE_SZ)) < align_up(bytes, PAGE_SZ))
		return NULL;
	p = _swiotlb_pool_create(mem, bytes, 1, limit, align > PAGE_SZ ? align : PAGE_SZ,
				 POOL_TRANSIENT);
	if (!p)
		return NULL;
	p->owner = dev;
	*first = _swiotlb_area_find_slots(p, 0, rq);
	if (*first < 0 || _swiotlb_lookup_add(&mem->lookup, p) < 0) {
		*first = -1;
		_swiotlb_pool_destroy(p);
		return NULL;
	}
	/* one mapping per transient pool: nothing else may land here */
	st_relaxed(&p->retired, true);
	stat_add(&dev->transient_live, 1);
	stat_add(&mem->stats.transient_live, 1);
	stat_add(&mem->stats.transient_created, 1);
	stat_add(&mem->stats.transient_slots, p->nslots);
	return p;
}

/* Release a transient pool whose mapping was just unmapped. */
void _swiotlb_transient_release(struct pool *p)
{
	struct swiotlb_dev *dev = (struct swiotlb_dev *)p->owner;
	struct swiotlb_mem *mem = p->mem;

	_swiotlb_lookup_del(&mem->lookup, p);
	sub_relaxed(&dev->transient_live, 1);
	sub_relaxed(&mem->stats.transient_live, 1);
	sub_relaxed(&mem->stats.transient_slots, p->nslots);
	_swiotlb_stats_fold_pool(mem, p);
	_swiotlb_pool_free_rcu(p);
}
