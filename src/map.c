/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Streaming maps: swiotlb_map() and its variants, and the bounce step that
 * coherent allocations share.  The way back (unmap, sync) is unmap.c.
 *
 * The ordering protocol (docs/ORDERING.md, the models in models/):
 *   map:   find slots in a pool found through a load-acquire of the pool
 *          set (the initial pool: directly, it lives as long as the
 *          memory) or create and publish a transient pool, copy in, set
 *          dev->head.bounced, then a release fence, then return the
 *          address, which the caller may hand to another thread with a
 *          relaxed store.
 *   unmap/sync/is_bounce (unmap.c): acquire fence (the caller loaded the
 *          address, maybe from another thread, just before), read
 *          dev->head.bounced, then look the address up.
 * The release fence is cumulative in C11: everything the mapping thread
 * had observed (a pool published by the resize thread) is visible to the
 * thread that acquires, which is the three-thread shape.
 */
#include <string.h>

#include "internal.h"
#include "runcache.h"

/*
 * Fill a slot request for a mapping of [orig, orig+size) with the kernel's
 * alignment rules (see area.c).  Returns -E2BIG when it cannot fit in one
 * segment (of the memory's segment size).
 */
static inline __attribute__((always_inline)) int map_req_init(struct swiotlb_dev *dev, void *orig,
							      size_t size, size_t alloc_align_mask,
							      struct slot_req *rq)
{
	size_t min_align = dev->min_align_mask;
	size_t offset = (uintptr_t)orig & min_align & (alloc_align_mask | (SLOT_SIZE - 1));
	size_t alloc_size = align_up(size + offset, alloc_align_mask + 1);
	size_t align = alloc_align_mask, iotlb, seg = dev->seg_size;

	if (size > seg || alloc_size > seg)
		return -E2BIG;
	if (!align && !min_align && alloc_size >= PAGE_SZ)
		align = PAGE_SZ - 1; /* page-aligned runs for page-sized maps */
	align |= SLOT_SIZE - 1;
	iotlb = min_align & ~align;
	rq->orig = orig;
	rq->size = size;
	rq->offset = (unsigned)offset;
	rq->alloc_size = alloc_size;
	rq->alloc_align_mask = align;
	rq->iotlb_align_mask = iotlb;
	rq->nslots = (unsigned)nr_slots(alloc_size);
	rq->stride = (unsigned)(((align > iotlb ? align : iotlb) + 1) >> SLOT_SHIFT);
	rq->waiting = false;
	rq->dev = dev;
	return 0;
}

int _swiotlb_map_req_init(struct swiotlb_dev *dev, void *orig, size_t size, size_t alloc_align_mask,
			  struct slot_req *rq)
{
	return map_req_init(dev, orig, size, alloc_align_mask, rq);
}

/* Is area ai of p at least AREA_CROWDED_PCT used?  With several areas,
 * growth starts early when a map found room only in its last choice of
 * area of the last pool (everything else is full) and that area is
 * crowded, so that a ramp is served by grown pools rather than transient
 * ones, without growing while most of the pools are still free.  With one
 * area, growth starts when everything is full, as in the kernel. */
static bool area_crowded(const struct pool *p, unsigned ai)
{
	return ld_relaxed(&p->areas[ai].used) * 100 >= p->area_slots * AREA_CROWDED_PCT;
}

/*
 * Claim slots in the shared pools, area-major: the calling CPU's area in
 * every pool first, then the next area in every pool, and so on.  Asks for
 * growth early (area_crowded()).  Caller is inside an RCU
 * read-side section.  tried_initial: the caller already searched the
 * calling CPU's area of the initial pool (map_initial_first()).  Returns
 * the first slot of the run, or -1.
 */
static int pools_find_slots(struct swiotlb_dev *dev, const struct slot_req *rq, unsigned cpu,
			    bool tried_initial, struct pool **out)
{
	struct swiotlb_mem *mem = dev->mem;
	/* pairs with the store-release in set_replace() (mem.c): see there */
	struct pool_set *s = atomic_load_explicit(&mem->pools, memory_order_acquire);

	for (unsigned i = 0; i < mem->cfg.nareas; i++) {
		for (unsigned j = 0; j < s->n; j++) {
			struct pool *p = s->pools[j];
			int slot;

			if (i >= p->nareas || !pool_reachable(p, dev) ||
			    (i == 0 && tried_initial && p == mem->initial))
				continue;
			slot = _swiotlb_area_find_slots(p, (cpu + i) & (p->nareas - 1), rq);
			if (slot >= 0) {
				/* grow before all is full */
				if (i > 0 && i == mem->cfg.nareas - 1 && j == s->n - 1 &&
				    area_crowded(p, (cpu + i) & (p->nareas - 1)))
					_swiotlb_resize_request_grow(mem);
				*out = p;
				return slot;
			}
		}
	}
	return -1;
}

/* Bounce address of the run that starts at 'first'. */
static inline swiotlb_addr_t run_addr(const struct pool *p, unsigned first,
				      const struct slot_req *rq)
{
	return pool_slot_addr(p, first) + rq->offset;
}

/* Copy the caller's buffer into the claimed run (or zero a coherent
 * allocation) and count it: a map in the calling thread's device block tc
 * (devcount.c), an allocation in the CPU's shard. */
static swiotlb_addr_t map_copy_in(struct swiotlb_dev *dev, struct dev_tcount *tc, struct pool *p,
				  unsigned first, const struct slot_req *rq, unsigned cpu)
{
	swiotlb_addr_t addr = run_addr(p, first, rq);
	unsigned char *bounce = p->cpu + (addr - p->start);

	if (rq->orig) {
		/* counted before the copy: nothing waits for its stores */
		devcount_map(dev, tc, 1, rq->size);
		memcpy(bounce, rq->orig, rq->size);
	} else {
		stat_add(&dev_shard(dev, cpu)->allocs, 1);
		stat_add(&dev->mem->stats.coherent, 1);
		memset(bounce, 0, align_up(rq->size, PAGE_SZ));
	}
	return addr;
}

/* Take back map_copy_in()'s counts: the map did not happen after all. */
static void map_uncount(struct swiotlb_dev *dev, struct dev_tcount *tc, const struct slot_req *rq,
			unsigned cpu)
{
	if (rq->orig) {
		devcount_map(dev, tc, -1, rq->size);
	} else {
		sub_relaxed(&dev_shard(dev, cpu)->allocs, 1);
		sub_relaxed(&dev->mem->stats.coherent, 1);
	}
}

/*
 * Last step of every bounce map: set the device's flag, then the release
 * fence, which orders the pool's publication (which this thread observed
 * or made), the flag and the bounce data before the caller's store of the
 * returned address.
 */
static void map_publish_flag(struct swiotlb_dev *dev)
{
	if (!ld_relaxed(&dev->head.bounced))
		st_relaxed(&dev->head.bounced, true);
	/* Pairs with the acquire fence in dev_may_have_bounced() (internal.h);
	 * cumulative, see the top of this file.  Without it a thread that
	 * receives the address through a relaxed store could read the flag
	 * as unset or miss the pool in the lookup, and treat the bounce
	 * address as direct (docs/ORDERING.md, item 3). */
	atomic_thread_fence(memory_order_release);
	tsan_release(dev);
}

/* Can a pool the resize thread adds serve this device?  Grown pools are
 * placed below the memory's limit (anywhere without one). */
static bool dev_reaches_grown(const struct swiotlb_dev *dev)
{
	swiotlb_addr_t limit = dev->mem->cfg.limit;

	return dev->dma_mask == UINT64_MAX || (limit && limit <= dev->dma_mask);
}

/*
 * Serve m->rq from a new transient pool: built and filled privately,
 * outside any RCU read-side section or lock (the provider and the
 * pool_added hook may block), then published, then the flag and fence
 * (the order of the add shape, docs/ORDERING.md).
 */
static int map_transient(struct map_ctx *m, struct dev_tcount *tc, unsigned cpu)
{
	struct swiotlb_dev *dev = m->dev;
	struct pool *p;
	int first;

	p = _swiotlb_transient_create(dev, &m->rq, &first);
	if (!p)
		return -ENOSPC;
	m->addr = map_copy_in(dev, tc, p, (unsigned)first, &m->rq, cpu);
	m->cpu = p->cpu + (m->addr - p->start);
	if (_swiotlb_transient_publish(dev, p) < 0) {
		map_uncount(dev, tc, &m->rq, cpu);
		return -ENOSPC;
	}
	map_publish_flag(dev);
	return 0;
}

/* Copy in, record the result in m, publish (see map_publish_flag()). */
static inline void map_finish(struct map_ctx *m, struct dev_tcount *tc, struct pool *p,
			      unsigned first, unsigned cpu)
{
	m->addr = map_copy_in(m->dev, tc, p, first, &m->rq, cpu);
	m->cpu = p->cpu + (m->addr - p->start);
	map_publish_flag(m->dev);
}

/*
 * The first place pools_find_slots() looks, tried without RCU: the calling
 * CPU's area of the initial pool (pools[0] of every set: the oldest pool,
 * never removed before swiotlb_mem_destroy(), see struct swiotlb_mem).
 * The same search under the same area lock, so placement, alignment and
 * the MAY_BLOCK argument (every area lock a retry checks is taken) are
 * unchanged.  Returns the first slot, or -1; *tried says whether it
 * searched.
 */
static int map_initial_first(struct swiotlb_dev *dev, struct slot_req *rq, unsigned cpu,
			     struct dev_tcount *tc, bool *tried)
{
	struct pool *ip = dev->mem->initial;

	*tried = ip && pool_reachable(ip, dev);
	if (!*tried)
		return -1;
	/* a map that missed the run cache gives back the thread's cached
	 * runs in the area it searches, under the same lock (runcache.c) */
	if (tc && ip->run_cache)
		return _swiotlb_runcache_find_slots(ip, cpu & (ip->nareas - 1), rq,
						    _swiotlb_devcount_mine());
	return _swiotlb_area_find_slots(ip, cpu & (ip->nareas - 1), rq);
}

/* Claim slots for m->rq in the shared pools (the calling CPU's area of
 * the initial pool first) and finish the mapping.  -ENOSPC when none has
 * room. */
static int map_shared(struct map_ctx *m, struct dev_tcount *tc, unsigned cpu)
{
	struct swiotlb_dev *dev = m->dev;
	struct pool *p = dev->mem->initial;
	bool tried;
	int first;

	first = map_initial_first(dev, &m->rq, cpu, tc, &tried);
	if (first >= 0) {
		map_finish(m, tc, p, (unsigned)first, cpu);
		return 0;
	}
	rcu_enter();
	first = pools_find_slots(dev, &m->rq, cpu, tried, &p);
	if (first >= 0)
		map_finish(m, tc, p, (unsigned)first, cpu);
	rcu_exit();
	return first >= 0 ? 0 : -ENOSPC;
}

/* The run-cache hit: the calling thread's cache for dev holds a run of
 * exactly m->rq's shape (runcache.h).  No lock, no search. */
static inline __attribute__((always_inline)) bool map_cached(struct map_ctx *m,
							     struct dev_tcount *tc)
{
	struct pool *p = m->dev->mem->initial;
	int h = runcache_map(tc, p, &m->rq);

	if (h < 0)
		return false;
	/* cpu: only a coherent allocation reads it, never cached */
	map_finish(m, tc, p, (unsigned)h - (m->rq.offset >> SLOT_SHIFT), 0);
	return true;
}

/* Claim slots for m->rq from the thread's run cache, in a shared pool
 * or, when dynamic, in a new transient pool (asking for growth when a
 * grown pool could serve the device), and finish the mapping.  Before
 * giving up on the shared pools, every run parked in a run cache goes
 * back (always for a MAY_BLOCK retry: runcache.c).  -ENOSPC when nothing
 * works. */
static int map_bounce(struct map_ctx *m, struct dev_tcount *tc)
{
	struct swiotlb_dev *dev = m->dev;
	unsigned cpu;

	if (tc && ld_relaxed(&tc->cache.n) && map_cached(m, tc))
		return 0;
	cpu = current_cpu();
	if (map_shared(m, tc, cpu) == 0)
		return 0;
	if (_swiotlb_devcount_drain(dev->mem, m->rq.waiting) && map_shared(m, tc, cpu) == 0)
		return 0;
	if (!dev->mem->cfg.dynamic)
		return -ENOSPC;
	if (dev_reaches_grown(dev))
		_swiotlb_resize_request_grow(dev->mem);
	return map_transient(m, tc, cpu);
}

int _swiotlb_map_bounce(struct map_ctx *m)
{
	/* before rcu_enter(): see devcount_map() */
	return map_bounce(m, m->rq.orig ? _swiotlb_devcount_get(m->dev) : NULL);
}

/* The MAY_BLOCK retry: the same as the first attempt (a transient pool
 * may have become possible again when others were released). */
static int map_retry(void *arg)
{
	struct map_ctx *m = arg;

	m->rq.waiting = true; /* take every area lock: see wait.c */
	return _swiotlb_map_bounce(m);
}

/* The kernel's message, with the longest run of free slots of the
 * shared pools (the largest mapping that could still be placed, less its
 * alignment), computed under each area lock on this failure path only. */
static void log_full(struct swiotlb_dev *dev, size_t size)
{
	struct swiotlb_mem *mem = dev->mem;

	_swiotlb_log(mem, SWIOTLB_LOG_ERR,
		     "%s: swiotlb buffer is full (sz: %zu bytes), total %llu (slots), used %llu "
		     "(slots), largest free run %u (slots)",
		     dev_label(dev), size, (unsigned long long)ld_relaxed(&mem->stats.total_slots),
		     (unsigned long long)_swiotlb_stats_used_slots(mem),
		     _swiotlb_mem_largest_free_run(mem));
}

int _swiotlb_map_failed(struct swiotlb_dev *dev, int rc, size_t size, unsigned attrs)
{
	stat_add(&dev->mem->stats.failed_maps, 1);
	stat_add(&dev->failed_maps, 1);
	stat_max(&dev->largest_failed, size);
	if (rc == -ENOSPC && !(attrs & SWIOTLB_ATTR_NO_WARN))
		log_full(dev, size);
	return rc;
}

/* Every streaming map: inline in each public entry point, so that the
 * constant arguments fold away. */
static inline __attribute__((always_inline)) int map_common(struct swiotlb_dev *dev, void *cpu,
							    size_t size, enum swiotlb_dir dir,
							    unsigned attrs, size_t alloc_align_mask,
							    int timeout_ms, swiotlb_addr_t *out)
{
	struct dev_tcount *tc;
	struct map_ctx m;
	int rc;

	if (!dev)
		return -EINVAL;
	m.dev = dev;
	if (!out || !cpu || !size || !dir_valid(dir) || (attrs & ~KNOWN_ATTRS) ||
	    (uintptr_t)cpu + (size - 1) < (uintptr_t)cpu || /* wraps the address space */
	    (alloc_align_mask & (alloc_align_mask + 1)) || alloc_align_mask >= dev->seg_size)
		return _swiotlb_dev_reject(dev, -EINVAL, "map: bad argument", (uintptr_t)cpu, size);
	if (!dev->force_bounce && _swiotlb_dev_direct(dev, cpu, size, out)) {
		stat_add(&dev_shard(dev, current_cpu())->direct_maps, 1);
		return 0;
	}
	if (size > dev_max_mapping_size(dev) ||
	    map_req_init(dev, cpu, size, alloc_align_mask, &m.rq) < 0)
		return _swiotlb_dev_reject(dev, -E2BIG, "map: larger than the maximum mapping size",
					   (uintptr_t)cpu, size);
	m.rq.dir = dir;
	m.rq.state = SLOT_MAPPED;
	tc = _swiotlb_devcount_get(dev); /* before rcu_enter(): see devcount_map() */
	if (tc && ld_relaxed(&tc->cache.n) && map_cached(&m, tc)) {
		*out = m.addr;
		return 0;
	}
	rc = map_bounce(&m, tc);
	if (rc == -ENOSPC && (timeout_ms >= 0 || (attrs & SWIOTLB_ATTR_MAY_BLOCK)))
		rc = _swiotlb_waitq_wait(dev->mem, map_retry, &m,
					 timeout_ms >= 0 ? (unsigned)timeout_ms
							 : dev->mem->cfg.wait_timeout_ms);
	if (rc < 0)
		return _swiotlb_map_failed(dev, rc, size, attrs);
	*out = m.addr;
	return 0;
}

SWIOTLB_API int swiotlb_map(struct swiotlb_dev *dev, void *cpu, size_t size, enum swiotlb_dir dir,
			    unsigned attrs, swiotlb_addr_t *out)
{
	return map_common(dev, cpu, size, dir, attrs, 0, -1, out);
}

SWIOTLB_API int swiotlb_map_align(struct swiotlb_dev *dev, void *cpu, size_t size,
				  enum swiotlb_dir dir, unsigned attrs, size_t alloc_align_mask,
				  swiotlb_addr_t *out)
{
	return map_common(dev, cpu, size, dir, attrs, alloc_align_mask, -1, out);
}

SWIOTLB_API int swiotlb_map_timeout(struct swiotlb_dev *dev, void *cpu, size_t size,
				    enum swiotlb_dir dir, unsigned attrs, unsigned timeout_ms,
				    swiotlb_addr_t *out)
{
	if (timeout_ms > (unsigned)INT32_MAX)
		timeout_ms = INT32_MAX;
	return map_common(dev, cpu, size, dir, attrs | SWIOTLB_ATTR_MAY_BLOCK, 0, (int)timeout_ms,
			  out);
}
