/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * map, unmap, sync, scatter-gather and coherent allocations.
 *
 * The ordering protocol (docs/ORDERING.md, the models in models/):
 *   map:   find slots in a pool found through a load-acquire of the pool
 *          set (or create and publish a transient pool), copy in, set
 *          dev->bounced, then a release fence, then return the address,
 *          which the caller may hand to another thread with a relaxed store.
 *   unmap/sync/is_bounce: acquire fence (the caller loaded the address,
 *          maybe from another thread, just before), read dev->bounced,
 *          then look the address up.
 * The release fence is cumulative in C11: everything the mapping thread
 * had observed (a pool published by the growth thread) is visible to the
 * thread that acquires, which is the three-thread shape.
 */
#include <sched.h>
#include <string.h>

#include "internal.h"

#define KNOWN_ATTRS (SWIOTLB_ATTR_SKIP_CPU_SYNC | SWIOTLB_ATTR_NO_WARN | SWIOTLB_ATTR_MAY_BLOCK)
/* Internal unmap attribute (never accepted from callers): undo a map of a
 * failed scatter-gather list, statistics included; no copy-back. */
#define ATTR_UNDO_MAP (1u << 31)

static inline bool dir_valid(enum swiotlb_dir dir)
{
	return (unsigned)dir <= SWIOTLB_FROM_DEVICE;
}

unsigned current_cpu_slow(void)
{
	int c = sched_getcpu();

	return c < 0 ? 0 : (unsigned)c;
}

static const char *dev_label(const struct swiotlb_dev *dev)
{
	return dev->name[0] ? dev->name : "device";
}

/* Log a rejected call (and count it in the device's errors when it is
 * -EINVAL, i.e. misuse); returns err. */
static int reject(struct swiotlb_dev *dev, int err, const char *what,
		  swiotlb_addr_t addr, size_t size)
{
	if (err == -EINVAL)
		stat_add(&dev->errors, 1);
	mem_log(dev->mem, SWIOTLB_LOG_WARN, "%s: %s (addr %#llx, size %zu): %s",
		dev_label(dev), what, (unsigned long long)addr, size, swiotlb_strerror(err));
	return err;
}

/* An unmap or sync of an address in no pool of the device: a no-op for
 * an address the device could have been given directly, misuse (e.g. a
 * second unmap of a transient mapping, whose pool is gone) otherwise. */
static int not_a_mapping(struct swiotlb_dev *dev, const char *what, swiotlb_addr_t addr,
			 size_t size)
{
	if (dev_addr_maybe_direct(dev, addr, size))
		return 0;
	return reject(dev, -EINVAL, what[0] == 'u' ?
		      "unmap: not a live mapping of this device (double unmap?)" :
		      "sync: not inside a live mapping of this device", addr, size);
}

/*
 * Fill a slot request for a mapping of [orig, orig+size) with the kernel's
 * alignment rules (see area.c).  Returns -E2BIG when it cannot fit in one
 * segment.
 */
static int build_req(struct swiotlb_dev *dev, uintptr_t orig, size_t size,
		     size_t alloc_align_mask, struct slot_req *rq)
{
	size_t min_align = dev->min_align_mask;
	size_t offset = orig & min_align & (alloc_align_mask | (SLOT_SIZE - 1));
	size_t alloc_size = align_up(size + offset, alloc_align_mask + 1);
	size_t align = alloc_align_mask, iotlb;

	if (size > SEG_SIZE || alloc_size > SEG_SIZE)
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


/* Is area ai of p at least 3/4 used?  With several areas, growth starts
 * early when a map found room only in its last choice of area of the last
 * pool (everything else is full) and that area is crowded, so that a ramp is served by grown pools rather than
 * transient ones, without growing while most of the pools are still free.
 * With one area, growth starts when everything is full, as in the kernel. */
static bool area_crowded(const struct pool *p, unsigned ai)
{
	return atomic_load_explicit(&p->areas[ai].used, memory_order_relaxed) * 4 >=
	       p->area_slots * 3;
}

/*
 * Claim slots in the shared pools, area-major: the calling CPU's area in
 * every pool first, then the next area in every pool, and so on.  Asks for
 * growth early (area_crowded()).  Caller is inside an RCU
 * read-side section.  Returns the first slot of the run, or -1.
 */
static int pools_find_slots(struct swiotlb_dev *dev, const struct slot_req *rq,
			    unsigned cpu, struct pool **out)
{
	struct swiotlb_mem *mem = dev->mem;
	/* pairs with the store-release in set_replace() (mem.c) */
	struct pool_set *s = atomic_load_explicit(&mem->pools, memory_order_acquire);

	for (unsigned i = 0; i < mem->nareas; i++) {
		for (unsigned j = 0; j < s->n; j++) {
			struct pool *p = s->pools[j];
			int slot;

			if (i >= p->nareas || !pool_reachable(p, dev))
				continue;
			slot = area_find_slots(p, (cpu + i) & (p->nareas - 1), rq);
			if (slot >= 0) {
				if (i > 0 && i == mem->nareas - 1 && j == s->n - 1 &&
				    area_crowded(p, (cpu + i) & (p->nareas - 1)))
					grow_request(mem); /* grow before all is full */
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
 * allocation) and count it in the device's shard. */
static swiotlb_addr_t map_copy_in(struct swiotlb_dev *dev, struct pool *p, unsigned first,
				  const struct slot_req *rq, unsigned cpu)
{
	swiotlb_addr_t addr = run_addr(p, first, rq);
	unsigned char *bounce = p->cpu + (addr - p->start);
	struct dev_shard *sh = dev_shard(dev, cpu);

	if (rq->orig_ptr) {
		stat_add(&sh->maps, 1);
		stat_add(&sh->bytes_to_dev, rq->size);
		memcpy(bounce, rq->orig_ptr, rq->size);
	} else {
		stat_add(&sh->allocs, 1);
		stat_add(&dev->mem->coherent, 1);
		memset(bounce, 0, align_up(rq->size, PAGE_SZ));
	}
	return addr;
}

/*
 * Last step of every bounce map: set the device's flag, then the release
 * fence, which orders the pool's publication (which this thread observed
 * or made), the flag and the bounce data before the caller's store of the
 * returned address.
 */
static void map_publish_flag(struct swiotlb_dev *dev)
{
	if (!atomic_load_explicit(&dev->bounced, memory_order_relaxed))
		atomic_store_explicit(&dev->bounced, true, memory_order_relaxed);
	/* pairs with the acquire fence in dev_may_have_bounced() (internal.h);
	 * cumulative, see the comment at the top of this file */
	atomic_thread_fence(memory_order_release);
	tsan_release(dev);
}

struct map_ctx {
	struct swiotlb_dev *dev;
	struct slot_req rq;
	swiotlb_addr_t addr;          /* result: the bounce address */
	void *cpu;                    /* result: its CPU address */
};

/* Can a pool the resize thread adds serve this device?  Grown pools are
 * placed below the memory's limit (anywhere without one). */
static bool dev_reaches_grown(const struct swiotlb_dev *dev)
{
	swiotlb_addr_t limit = dev->mem->limit;

	return dev->dma_mask == UINT64_MAX || (limit && limit <= dev->dma_mask);
}

/*
 * Serve m->rq from a new transient pool: built and filled privately,
 * outside any RCU read-side section or lock (the provider and the
 * pool_added hook may block), then published, then the flag and fence
 * (the order of the add shape, models/add.pml).
 */
static int map_transient(struct map_ctx *m, unsigned cpu)
{
	struct swiotlb_dev *dev = m->dev;
	struct pool *p;
	int first;

	p = transient_create(dev, &m->rq, &first);
	if (!p)
		return -ENOSPC;
	m->addr = map_copy_in(dev, p, (unsigned)first, &m->rq, cpu);
	m->cpu = p->cpu + (m->addr - p->start);
	if (transient_publish(dev, p) < 0) {
		struct dev_shard *sh = dev_shard(dev, cpu);

		/* undo map_copy_in()'s counts: the map did not happen */
		if (m->rq.orig_ptr) {
			atomic_fetch_sub_explicit(&sh->maps, 1, memory_order_relaxed);
			atomic_fetch_sub_explicit(&sh->bytes_to_dev, m->rq.size,
						  memory_order_relaxed);
		} else {
			atomic_fetch_sub_explicit(&sh->allocs, 1, memory_order_relaxed);
			atomic_fetch_sub_explicit(&dev->mem->coherent, 1, memory_order_relaxed);
		}
		return -ENOSPC;
	}
	map_publish_flag(dev);
	return 0;
}

/* Claim slots for m->rq in a shared pool or, when dynamic, in a new
 * transient pool, and finish the mapping.  -ENOSPC when neither works. */
static int map_bounce(struct map_ctx *m)
{
	struct swiotlb_dev *dev = m->dev;
	unsigned cpu = current_cpu();
	struct pool *p;
	int first;

	rcu_enter();
	first = pools_find_slots(dev, &m->rq, cpu, &p);
	if (first >= 0) {
		m->addr = map_copy_in(dev, p, (unsigned)first, &m->rq, cpu);
		m->cpu = p->cpu + (m->addr - p->start);
		map_publish_flag(dev);
	}
	rcu_exit();
	if (first >= 0)
		return 0;
	if (!dev->mem->dynamic)
		return -ENOSPC;
	if (dev_reaches_grown(dev))
		grow_request(dev->mem);
	return map_transient(m, cpu);
}

/* The MAY_BLOCK retry: the same as the first attempt (a transient pool
 * may have become possible again when others were released). */
static int map_retry(void *arg)
{
	struct map_ctx *m = arg;

	m->rq.waiting = true;
	return map_bounce(m);
}

static void log_full(struct swiotlb_dev *dev, size_t size)
{
	struct swiotlb_mem *mem = dev->mem;

	mem_log(mem, SWIOTLB_LOG_ERR,
		"%s: swiotlb buffer is full (sz: %zu bytes), total %llu (slots), used %llu (slots)",
		dev_label(dev), size,
		(unsigned long long)atomic_load_explicit(&mem->total_slots, memory_order_relaxed),
		(unsigned long long)mem_used_exact(mem));
}

static int map_failed(struct swiotlb_dev *dev, int rc, size_t size, unsigned attrs)
{
	stat_add(&dev->mem->failed_maps, 1);
	stat_add(&dev->failed_maps, 1);
	stat_max(&dev->largest_failed, size);
	if (rc == -ENOSPC && !(attrs & SWIOTLB_ATTR_NO_WARN))
		log_full(dev, size);
	return rc;
}

static int map_common(struct swiotlb_dev *dev, void *cpu, size_t size,
		      enum swiotlb_dir dir, unsigned attrs, size_t alloc_align_mask,
		      int timeout_ms, swiotlb_addr_t *out)
{
	struct map_ctx m;
	int rc;

	if (!dev)
		return -EINVAL;
	m.dev = dev;
	if (!out || !cpu || !size || !dir_valid(dir) || (attrs & ~KNOWN_ATTRS) ||
	    (uintptr_t)cpu + (size - 1) < (uintptr_t)cpu || /* wraps the address space */
	    (alloc_align_mask & (alloc_align_mask + 1)) || alloc_align_mask >= SEG_SIZE)
		return reject(dev, -EINVAL, "map: bad argument", (uintptr_t)cpu, size);
	if (dev_direct(dev, cpu, size, out)) {
		stat_add(&dev_shard(dev, current_cpu())->direct_maps, 1);
		return 0;
	}
	if (size > swiotlb_max_mapping_size(dev) ||
	    build_req(dev, (uintptr_t)cpu, size, alloc_align_mask, &m.rq) < 0)
		return reject(dev, -E2BIG, "map: larger than the maximum mapping size",
			      (uintptr_t)cpu, size);
	m.rq.orig_ptr = cpu;
	m.rq.dir = dir;
	m.rq.state = SLOT_MAPPED;
	rc = map_bounce(&m);
	if (rc == -ENOSPC && (timeout_ms >= 0 || (attrs & SWIOTLB_ATTR_MAY_BLOCK)))
		rc = waitq_wait(dev->mem, map_retry, &m,
				timeout_ms >= 0 ? (unsigned)timeout_ms
						: dev->mem->wait_timeout_ms);
	if (rc < 0)
		return map_failed(dev, rc, size, attrs);
	*out = m.addr;
	return 0;
}

SWIOTLB_API int swiotlb_map(struct swiotlb_dev *dev, void *cpu, size_t size,
			    enum swiotlb_dir dir, unsigned attrs, swiotlb_addr_t *out)
{
	return map_common(dev, cpu, size, dir, attrs, 0, -1, out);
}

SWIOTLB_API int swiotlb_map_align(struct swiotlb_dev *dev, void *cpu, size_t size,
				  enum swiotlb_dir dir, unsigned attrs,
				  size_t alloc_align_mask, swiotlb_addr_t *out)
{
	return map_common(dev, cpu, size, dir, attrs, alloc_align_mask, -1, out);
}

SWIOTLB_API int swiotlb_map_timeout(struct swiotlb_dev *dev, void *cpu, size_t size,
				    enum swiotlb_dir dir, unsigned attrs,
				    unsigned timeout_ms, swiotlb_addr_t *out)
{
	if (timeout_ms > (unsigned)INT32_MAX)
		timeout_ms = INT32_MAX;
	return map_common(dev, cpu, size, dir, attrs | SWIOTLB_ATTR_MAY_BLOCK, 0,
			  (int)timeout_ms, out);
}

/* ---- finding a live mapping from a device address ---- */

/* The head slot of the live mapping or allocation that contains addr in
 * p, or -1.  Lock-free: relaxed reads, validated. */
static int find_head(const struct pool *p, const struct swiotlb_dev *dev,
		     swiotlb_addr_t addr, uint8_t state)
{
	unsigned idx = (unsigned)((addr - p->start) >> SLOT_SHIFT);
	const struct slot *s = &p->slots[idx];
	uint8_t st = atomic_load_explicit(&s->state, memory_order_relaxed);
	unsigned h;

	if (st == SLOT_FREE)
		return -1;
	h = st == SLOT_TAIL ? atomic_load_explicit(&s->head, memory_order_relaxed) : idx;
	if (h >= p->nslots)
		return -1;
	s = &p->slots[h];
	if (atomic_load_explicit(&s->state, memory_order_relaxed) != state ||
	    atomic_load_explicit(&s->dev, memory_order_relaxed) != dev)
		return -1;
	return (int)h;
}

static inline swiotlb_addr_t head_addr(const struct pool *p, unsigned h)
{
	return pool_slot_addr(p, h) +
	       atomic_load_explicit(&p->slots[h].offset, memory_order_relaxed);
}

/* Does head slot h describe exactly the mapping (addr, size, dir)? */
static bool mapping_is(const struct pool *p, unsigned h, swiotlb_addr_t addr,
		       size_t size, enum swiotlb_dir dir, uint8_t state)
{
	const struct slot *s = &p->slots[h];

	return atomic_load_explicit(&s->state, memory_order_relaxed) == state &&
	       head_addr(p, h) == addr &&
	       atomic_load_explicit(&s->size, memory_order_relaxed) == size &&
	       atomic_load_explicit(&s->dir, memory_order_relaxed) == dir;
}

/*
 * Free the run of head slot h, which the caller validated under the area
 * lock it holds (mapping_is() and the device); pad and nslots are read
 * here, under that lock, so they are the mapping's own (never a stale
 * count from before a racing unmap and remap).  Returns the number of
 * MAY_BLOCK waiters seen under the lock (see wait.c: a waiter's retry
 * takes this lock, so either it sees the freed slots or this read sees
 * it).
 */
static unsigned release_locked(struct swiotlb_dev *dev, struct pool *p, unsigned h,
			       size_t copied_back)
{
	struct slot *s = &p->slots[h];
	unsigned pad = atomic_load_explicit(&s->pad, memory_order_relaxed);
	unsigned n = atomic_load_explicit(&s->nslots, memory_order_relaxed);

	atomic_store_explicit(&s->dev, NULL, memory_order_relaxed);
	area_release_slots(p, pool_area_of(p, h), h - pad, n, copied_back);
	return atomic_load_explicit(&dev->mem->waitq.nwaiters, memory_order_relaxed);
}

/* After the area lock is dropped: give back a transient pool, wake a
 * waiter seen under the lock. */
static void release_after(struct swiotlb_dev *dev, struct pool *p, unsigned waiters)
{
	if (p->kind == POOL_TRANSIENT)
		transient_release(p);
	if (unlikely(waiters))
		waitq_wake(&dev->mem->waitq);
}

/* Is head slot h, under the area lock, exactly dev's live mapping
 * (addr, size, dir) in 'state'? */
static bool mapping_owned(const struct pool *p, unsigned h, const struct swiotlb_dev *dev,
			  swiotlb_addr_t addr, size_t size, enum swiotlb_dir dir, uint8_t state)
{
	return mapping_is(p, h, addr, size, dir, state) &&
	       atomic_load_explicit(&p->slots[h].dev, memory_order_relaxed) == dev;
}

/* Bytes copied by a sync: not under an area lock, so they go to the
 * memory's sync counters (atomic adds) rather than the area's. */
static void count_sync(struct swiotlb_dev *dev, bool to_device, size_t n)
{
	struct dev_shard *sh = dev_shard(dev, current_cpu());

	stat_add(to_device ? &dev->mem->sync_bytes_to_dev : &dev->mem->sync_bytes_from_dev, n);
	stat_add(to_device ? &sh->bytes_to_dev : &sh->bytes_from_dev, n);
}

/*
 * Unmap the mapping whose head slot the lock-free find_head() located.
 * Everything is re-validated under the area lock.  A copy-back claims the
 * mapping under the lock (state SLOT_UNMAPPING: a racing second unmap or
 * a sync of it fails, a shrink cannot retire the pool, nobody else frees
 * it), copies with the lock dropped, and frees under the lock again.
 * So of two racing unmaps exactly one copies and frees, and never from or
 * into slots that were reused in between.
 */
static int unmap_bounce(struct swiotlb_dev *dev, struct pool *p, swiotlb_addr_t addr,
			size_t size, enum swiotlb_dir dir, unsigned attrs)
{
	int h = find_head(p, dev, addr, SLOT_MAPPED);
	bool copy = dir != SWIOTLB_TO_DEVICE &&
		    !(attrs & (SWIOTLB_ATTR_SKIP_CPU_SYNC | ATTR_UNDO_MAP));
	struct dev_shard *sh;
	struct area *a;
	unsigned waiters;

	if (h < 0)
		return reject(dev, -EINVAL,
			      "unmap: not the start, size and direction of a live mapping "
			      "(double unmap?)", addr, size);
	a = &p->areas[pool_area_of(p, (unsigned)h)];
	spin_lock(&a->lock);
	if (!mapping_owned(p, (unsigned)h, dev, addr, size, dir, SLOT_MAPPED)) {
		spin_unlock(&a->lock);
		return reject(dev, -EINVAL,
			      "unmap: not the start, size and direction of a live mapping "
			      "(double unmap?)", addr, size);
	}
	if (copy) {
		void *orig = atomic_load_explicit(&p->slots[h].orig, memory_order_relaxed);

		atomic_store_explicit(&p->slots[h].state, SLOT_UNMAPPING, memory_order_relaxed);
		spin_unlock(&a->lock);
		memcpy(orig, p->cpu + (addr - p->start), size);
		spin_lock(&a->lock);
	}
	if (attrs & ATTR_UNDO_MAP)
		area_uncount_map(p, pool_area_of(p, (unsigned)h), size);
	waiters = release_locked(dev, p, (unsigned)h, copy ? size : 0);
	spin_unlock(&a->lock);
	release_after(dev, p, waiters);
	sh = dev_shard(dev, current_cpu());
	if (attrs & ATTR_UNDO_MAP) { /* as if the map never happened */
		atomic_fetch_sub_explicit(&sh->maps, 1, memory_order_relaxed);
		atomic_fetch_sub_explicit(&sh->bytes_to_dev, size, memory_order_relaxed);
		return 0;
	}
	stat_add(&sh->unmaps, 1);
	if (copy)
		stat_add(&sh->bytes_from_dev, size);
	return 0;
}

/* Undo one mapped entry of a failed scatter-gather map. */
static void unmap_undo(struct swiotlb_dev *dev, swiotlb_addr_t addr, size_t size,
		       enum swiotlb_dir dir)
{
	struct pool *p = NULL;

	if (dev_may_have_bounced(dev)) {
		rcu_enter();
		p = lookup_pool(dev, addr);
		if (p)
			unmap_bounce(dev, p, addr, size, dir, ATTR_UNDO_MAP);
		rcu_exit();
	}
	if (!p) /* a direct entry: only its count */
		atomic_fetch_sub_explicit(&dev_shard(dev, current_cpu())->direct_maps, 1,
					  memory_order_relaxed);
}

SWIOTLB_API int swiotlb_unmap(struct swiotlb_dev *dev, swiotlb_addr_t addr, size_t size,
			      enum swiotlb_dir dir, unsigned attrs)
{
	struct pool *p;
	int rc = 0;

	if (!dev)
		return -EINVAL;
	if (!size || !dir_valid(dir) || (attrs & ~KNOWN_ATTRS))
		return reject(dev, -EINVAL, "unmap: bad argument", addr, size);
	if (!dev_may_have_bounced(dev))
		return not_a_mapping(dev, "unmap", addr, size); /* a direct address? */
	rcu_enter();
	p = lookup_pool(dev, addr);
	if (p)
		rc = unmap_bounce(dev, p, addr, size, dir, attrs);
	rcu_exit();
	if (!p)
		return not_a_mapping(dev, "unmap", addr, size);
	return rc;
}

/* ---- syncs ---- */

enum sync_to { TO_CPU, TO_DEVICE };

static int sync_bounce(struct swiotlb_dev *dev, struct pool *p, swiotlb_addr_t addr,
		       size_t size, enum swiotlb_dir dir, enum sync_to to)
{
	int h = find_head(p, dev, addr, SLOT_MAPPED);
	swiotlb_addr_t start;
	size_t msize;
	enum swiotlb_dir mdir;
	unsigned char *orig, *bounce;

	if (h < 0)
		return reject(dev, -EINVAL, "sync: not inside a live mapping", addr, size);
	start = head_addr(p, (unsigned)h);
	mdir = atomic_load_explicit(&p->slots[h].dir, memory_order_relaxed);
	msize = atomic_load_explicit(&p->slots[h].size, memory_order_relaxed);
	/* written so that no sum can overflow (size may be anything) */
	if (addr < start || size > msize || addr - start > msize - size)
		return reject(dev, -EINVAL, "sync: range outside the mapping", addr, size);
	if (mdir != SWIOTLB_BIDIRECTIONAL && mdir != dir)
		return reject(dev, -EINVAL, "sync: direction differs from the mapping's",
			      addr, size);
	orig = (unsigned char *)atomic_load_explicit(&p->slots[h].orig, memory_order_relaxed) +
	       (addr - start);
	bounce = p->cpu + (addr - p->start);
	if (to == TO_CPU && dir != SWIOTLB_TO_DEVICE) {
		memcpy(orig, bounce, size);
		count_sync(dev, false, size);
	} else if (to == TO_DEVICE && dir != SWIOTLB_FROM_DEVICE) {
		memcpy(bounce, orig, size);
		count_sync(dev, true, size);
	}
	return 0;
}

static int sync_common(struct swiotlb_dev *dev, swiotlb_addr_t addr, size_t size,
		       enum swiotlb_dir dir, enum sync_to to)
{
	struct pool *p;
	int rc = 0;

	if (!dev)
		return -EINVAL;
	if (!size || !dir_valid(dir))
		return reject(dev, -EINVAL, "sync: bad argument", addr, size);
	if (!dev_may_have_bounced(dev))
		return not_a_mapping(dev, "sync", addr, size);
	rcu_enter();
	p = lookup_pool(dev, addr);
	if (p)
		rc = sync_bounce(dev, p, addr, size, dir, to);
	rcu_exit();
	if (!p)
		return not_a_mapping(dev, "sync", addr, size);
	return rc;
}

SWIOTLB_API int swiotlb_sync_for_cpu(struct swiotlb_dev *dev, swiotlb_addr_t addr,
				     size_t size, enum swiotlb_dir dir)
{
	return sync_common(dev, addr, size, dir, TO_CPU);
}

SWIOTLB_API int swiotlb_sync_for_device(struct swiotlb_dev *dev, swiotlb_addr_t addr,
					size_t size, enum swiotlb_dir dir)
{
	return sync_common(dev, addr, size, dir, TO_DEVICE);
}

/* ---- scatter-gather ---- */

SWIOTLB_API int swiotlb_map_sg(struct swiotlb_dev *dev, struct swiotlb_sg *sg, size_t n,
			       enum swiotlb_dir dir, unsigned attrs, size_t *failed)
{
	if (!dev)
		return -EINVAL;
	if (!sg && n)
		return reject(dev, -EINVAL, "map_sg: NULL entry array", 0, n);
	for (size_t i = 0; i < n; i++) {
		int rc = swiotlb_map(dev, sg[i].cpu, sg[i].len, dir, attrs, &sg[i].addr);

		if (rc == 0)
			continue;
		for (size_t j = 0; j < i; j++)
			unmap_undo(dev, sg[j].addr, sg[j].len, dir);
		if (failed)
			*failed = i;
		if (!(attrs & SWIOTLB_ATTR_NO_WARN))
			mem_log(dev->mem, SWIOTLB_LOG_WARN,
				"%s: map_sg: entry %zu of %zu (len %zu) failed: %s; "
				"%zu entries unmapped",
				dev_label(dev), i, n, sg[i].len, swiotlb_strerror(rc), i);
		return rc;
	}
	return 0;
}

SWIOTLB_API int swiotlb_unmap_sg(struct swiotlb_dev *dev, struct swiotlb_sg *sg, size_t n,
				 enum swiotlb_dir dir, unsigned attrs)
{
	int first = 0;

	if (!dev)
		return -EINVAL;
	if (!sg && n)
		return reject(dev, -EINVAL, "unmap_sg: NULL entry array", 0, n);
	for (size_t i = 0; i < n; i++) {
		int rc = swiotlb_unmap(dev, sg[i].addr, sg[i].len, dir, attrs);

		if (rc && !first)
			first = rc;
	}
	return first;
}

static int sync_sg(struct swiotlb_dev *dev, struct swiotlb_sg *sg, size_t n,
		   enum swiotlb_dir dir, enum sync_to to)
{
	int first = 0;

	if (!dev)
		return -EINVAL;
	if (!sg && n)
		return reject(dev, -EINVAL, "sync_sg: NULL entry array", 0, n);
	for (size_t i = 0; i < n; i++) {
		int rc = sync_common(dev, sg[i].addr, sg[i].len, dir, to);

		if (rc && !first)
			first = rc;
	}
	return first;
}

SWIOTLB_API int swiotlb_sync_sg_for_cpu(struct swiotlb_dev *dev, struct swiotlb_sg *sg,
					size_t n, enum swiotlb_dir dir)
{
	return sync_sg(dev, sg, n, dir, TO_CPU);
}

SWIOTLB_API int swiotlb_sync_sg_for_device(struct swiotlb_dev *dev, struct swiotlb_sg *sg,
					   size_t n, enum swiotlb_dir dir)
{
	return sync_sg(dev, sg, n, dir, TO_DEVICE);
}

/* ---- coherent allocations ---- */

/* Free coherent allocation h after validating it under the area lock. */
static int free_coherent(struct swiotlb_dev *dev, struct pool *p, unsigned h,
			 swiotlb_addr_t addr, size_t sz)
{
	struct area *a = &p->areas[pool_area_of(p, h)];
	unsigned waiters;

	spin_lock(&a->lock);
	if (!mapping_owned(p, h, dev, addr, sz, SWIOTLB_BIDIRECTIONAL, SLOT_COHERENT)) {
		spin_unlock(&a->lock);
		return -EINVAL;
	}
	waiters = release_locked(dev, p, h, 0);
	spin_unlock(&a->lock);
	release_after(dev, p, waiters);
	atomic_fetch_sub_explicit(&dev->mem->coherent, 1, memory_order_relaxed);
	stat_add(&dev_shard(dev, current_cpu())->frees, 1);
	return 0;
}

SWIOTLB_API void *swiotlb_alloc(struct swiotlb_dev *dev, size_t size, swiotlb_addr_t *out)
{
	struct map_ctx m = { .dev = dev };
	size_t sz = align_up(size, PAGE_SZ);
	int rc;

	if (!dev) {
		errno = EINVAL;
		return NULL;
	}
	if (!out || !size) {
		reject(dev, -EINVAL, "alloc: bad argument", 0, size);
		errno = EINVAL;
		return NULL;
	}
	if (size > SEG_SIZE || build_req(dev, 0, sz, PAGE_SZ - 1, &m.rq) < 0) {
		reject(dev, -E2BIG, "alloc: larger than the maximum mapping size", 0, size);
		errno = E2BIG;
		return NULL;
	}
	m.rq.dir = SWIOTLB_BIDIRECTIONAL;
	m.rq.state = SLOT_COHERENT;
	m.rq.size = size; /* recorded exactly: swiotlb_free() must match it */
	rc = map_bounce(&m);
	if (rc < 0) {
		map_failed(dev, rc, size, 0);
		errno = -rc;
		return NULL;
	}
	*out = m.addr;
	return m.cpu;
}

SWIOTLB_API int swiotlb_free(struct swiotlb_dev *dev, void *cpu, size_t size,
			     swiotlb_addr_t addr)
{
	size_t sz = size; /* the exact size given to swiotlb_alloc() */
	struct pool *p;
	int h, rc = -EINVAL;

	if (!dev)
		return -EINVAL;
	if (!size || !cpu)
		return reject(dev, -EINVAL, "free: bad argument", addr, size);
	rcu_enter();
	if (dev_may_have_bounced(dev) && (p = lookup_pool(dev, addr)) &&
	    (unsigned char *)cpu == p->cpu + (addr - p->start) &&
	    (h = find_head(p, dev, addr, SLOT_COHERENT)) >= 0)
		rc = free_coherent(dev, p, (unsigned)h, addr, sz);
	rcu_exit();
	if (rc < 0)
		return reject(dev, rc, "free: not a live coherent allocation of this size",
			      addr, size);
	return 0;
}

/* ---- lookups ---- */

/* The out-of-line is_bounce (the header inlines the never-bounced check
 * for C11 callers and calls swiotlb__is_bounce_lookup() after it). */
SWIOTLB_API bool swiotlb_is_bounce(const struct swiotlb_dev *dev, swiotlb_addr_t addr)
{
	return swiotlb__is_bounce_lookup(dev, addr);
}

SWIOTLB_API bool swiotlb__is_bounce_lookup(const struct swiotlb_dev *dev, swiotlb_addr_t addr)
{
	bool found;

	if (!dev || !dev_may_have_bounced(dev))
		return false;
	rcu_enter();
	found = lookup_pool(dev, addr) != NULL;
	rcu_exit();
	return found;
}

SWIOTLB_API void *swiotlb_addr_to_cpu(const struct swiotlb_dev *dev, swiotlb_addr_t addr)
{
	struct pool *p;
	void *cpu = NULL;

	if (!dev || !dev_may_have_bounced(dev))
		return NULL;
	rcu_enter();
	p = lookup_pool(dev, addr);
	if (p)
		cpu = p->cpu + (addr - p->start);
	rcu_exit();
	return cpu;
}
