/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The way back from a map: finding a live mapping from its device
 * address, unmap, sync, and the address queries (is_bounce, addr_to_cpu).
 * Every entry point starts with dev_may_have_bounced() (the acquire side
 * of the protocol at the top of map.c), then looks the address up inside
 * an RCU read-side section; an unmap of an address in the initial pool,
 * which lives as long as the memory, skips that section and the lookup.
 */
#include <string.h>

#include "internal.h"
#include "runcache.h"

/* ---- finding a live mapping from a device address ---- */

/* The functions below are inlined into unmap_bounce() (the hot path) and
 * exported under their _swiotlb_ names for coherent.c and sync. */
#define hot_inline static inline __attribute__((always_inline))

/* The head slot of the live mapping or allocation that contains addr in
 * p, or -1.  Lock-free: relaxed reads, validated. */
hot_inline int find_head(const struct pool *p, const struct swiotlb_dev *dev, swiotlb_addr_t addr,
			 uint8_t state)
{
	unsigned idx = (unsigned)((addr - p->start) >> SLOT_SHIFT);
	const struct slot *s = &p->slots[idx];
	uint8_t st = tag_state(ld_relaxed(&s->tag));
	unsigned h;

	if (st == SLOT_FREE)
		return -1;
	h = st == SLOT_TAIL ? ld_relaxed(&s->head) : idx;
	if (h >= p->nslots)
		return -1;
	s = &p->slots[h];
	if (tag_state(ld_relaxed(&s->tag)) != state || ld_relaxed(&s->dev) != dev)
		return -1;
	return (int)h;
}

int _swiotlb_mapping_find_head(const struct pool *p, const struct swiotlb_dev *dev,
			       swiotlb_addr_t addr, uint8_t state)
{
	return find_head(p, dev, addr, state);
}

static inline swiotlb_addr_t head_addr(const struct pool *p, unsigned h)
{
	return pool_slot_addr(p, h) + ld_relaxed(&p->slots[h].offset);
}

/* Does head slot h describe exactly the mapping (addr, size, dir)? */
hot_inline bool mapping_is(const struct pool *p, unsigned h, swiotlb_addr_t addr, size_t size,
			   enum swiotlb_dir dir, uint8_t state)
{
	const struct slot *s = &p->slots[h];

	return tag_state(ld_relaxed(&s->tag)) == state && head_addr(p, h) == addr &&
	       ld_relaxed(&s->size) == size && ld_relaxed(&s->dir) == dir;
}

bool _swiotlb_mapping_is(const struct pool *p, unsigned h, swiotlb_addr_t addr, size_t size,
			 enum swiotlb_dir dir, uint8_t state)
{
	return mapping_is(p, h, addr, size, dir, state);
}

/* Is head slot h, read under its area lock, exactly dev's live mapping
 * (addr, size, dir) in 'state'? */
hot_inline bool mapping_owned(const struct pool *p, unsigned h, const struct swiotlb_dev *dev,
			      swiotlb_addr_t addr, size_t size, enum swiotlb_dir dir, uint8_t state)
{
	return mapping_is(p, h, addr, size, dir, state) && ld_relaxed(&p->slots[h].dev) == dev;
}

bool _swiotlb_mapping_owned(const struct pool *p, unsigned h, const struct swiotlb_dev *dev,
			    swiotlb_addr_t addr, size_t size, enum swiotlb_dir dir, uint8_t state)
{
	return mapping_owned(p, h, dev, addr, size, dir, state);
}

/*
 * Free the run of head slot h, which the caller validated under the area
 * lock it holds (_swiotlb_mapping_owned()).  pad and nslots are read here,
 * under that lock, so they are the mapping's own, never a stale count
 * from before a racing unmap and remap.  Returns the MAY_BLOCK waiters
 * seen under the lock: a waiter's retry takes this lock too, so either it
 * sees the freed slots or this read sees it (wait.c); no fence needed.
 */
hot_inline unsigned release_locked(struct swiotlb_dev *dev, struct pool *p, unsigned h,
				   size_t copied_back)
{
	struct slot *s = &p->slots[h];
	unsigned pad = ld_relaxed(&s->pad);
	unsigned n = ld_relaxed(&s->nslots);

	st_relaxed(&s->dev, NULL);
	_swiotlb_area_release_slots(p, pool_area_of(p, h), h - pad, n, copied_back);
	return ld_relaxed(&dev->mem->waitq.nwaiters);
}

unsigned _swiotlb_mapping_release_locked(struct swiotlb_dev *dev, struct pool *p, unsigned h,
					 size_t copied_back)
{
	return release_locked(dev, p, h, copied_back);
}

/* After the area lock is dropped: give back a transient pool, wake the
 * waiter seen under the lock. */
void _swiotlb_mapping_release_after(struct swiotlb_dev *dev, struct pool *p, unsigned waiters)
{
	if (p->kind == POOL_TRANSIENT)
		_swiotlb_transient_release(p);
	if (unlikely(waiters))
		_swiotlb_waitq_wake(&dev->mem->waitq);
}

/* Bytes copied by a sync: not under an area lock, so they go to the
 * memory's sync counters (atomic adds) rather than the area's. */
static void count_sync(struct swiotlb_dev *dev, bool to_device, size_t n)
{
	struct dev_shard *sh = dev_shard(dev, current_cpu());

	stat_add(to_device ? &dev->mem->stats.sync_bytes_to_dev
			   : &dev->mem->stats.sync_bytes_from_dev,
		 n);
	stat_add(to_device ? &sh->bytes_to_dev : &sh->bytes_from_dev, n);
}

/*
 * Claim head slot h, just validated as dev's mapping (addr, size, dir)
 * with tag t (read with acquire) under its area lock, for the locked
 * unmap: -> SLOT_UNMAPPING.  In a pool with run caches a lock-free claim
 * (unmap_to_cache()) may race with this one (a double unmap), and the
 * cache's owner remaps a cached run without the lock, so the claim is a
 * compare-and-swap of the tag there, checked again after the swap like
 * the lock-free one: between the load and the swap the head may have
 * been unmapped and remapped until its generation wrapped, and the swap
 * then claimed someone else's mapping.  Elsewhere the lock excludes every
 * other claimant and a store does (only a copy-back needs the state).
 * False: lost the race, or not this mapping any more.
 */
hot_inline bool claim_locked(struct pool *p, unsigned h, uint32_t t, bool copy,
			     const struct swiotlb_dev *dev, swiotlb_addr_t addr, size_t size,
			     enum swiotlb_dir dir)
{
	_Atomic uint32_t *tag = &p->slots[h].tag;

	if (p->run_cache) {
		/* acquire on success: pairs with the release store of the tag
		 * by the lock-free remap (runcache.c) when the generation read
		 * has wrapped; the check below then reads the fields of the
		 * mapping really claimed */
		if (!atomic_compare_exchange_strong_explicit(tag, &t, tag_with(t, SLOT_UNMAPPING),
							     memory_order_acquire,
							     memory_order_relaxed))
			return false;
		if (unlikely(!mapping_owned(p, h, dev, addr, size, dir, SLOT_UNMAPPING))) {
			/* someone else's mapping: give it back untouched,
			 * as in unmap_to_cache() */
			atomic_exchange_explicit(tag, t, memory_order_relaxed);
			return false;
		}
		return true;
	}
	if (copy)
		st_relaxed(tag, tag_with(t, SLOT_UNMAPPING));
	return true;
}

/*
 * Unmap, under the area lock, the mapping whose head slot the lock-free
 * find_head() located.  Everything is validated again under the lock,
 * then the mapping is claimed (claim_locked()).  A copy-back copies with
 * the lock dropped (SLOT_UNMAPPING: a racing second unmap or a sync of it
 * fails, a shrink cannot retire the pool, nobody else frees it) and frees
 * under the lock again.  So of two racing unmaps exactly one copies and
 * frees, never from or into slots reused in between (no ABA: the check
 * and the claim are one critical section, a lock-free claimant's swap
 * changes the tag this claim compares, and a lock-free remap that wrapped
 * the generation is caught by the check after the swap).  ATTR_UNDO_MAP (a failed
 * scatter-gather map) also takes back the map's statistics.
 */
static __attribute__((noinline)) int unmap_locked(struct swiotlb_dev *dev, struct dev_tcount *tc,
						  struct pool *p, unsigned h, swiotlb_addr_t addr,
						  size_t size, enum swiotlb_dir dir, unsigned attrs,
						  bool copy)
{
	struct area *a = &p->areas[pool_area_of(p, h)];
	unsigned waiters;
	uint32_t t;

	spin_lock(&a->lock);
	/* acquire: pairs with the release store of the tag when the head
	 * became this mapping (area.c record_mapping(), or runcache.c when
	 * a cached run was mapped again without the lock) */
	t = atomic_load_explicit(&p->slots[h].tag, memory_order_acquire);
	if (tag_state(t) != SLOT_MAPPED ||
	    !mapping_owned(p, h, dev, addr, size, dir, SLOT_MAPPED) ||
	    !claim_locked(p, h, t, copy, dev, addr, size, dir)) {
		spin_unlock(&a->lock);
		return -EINVAL;
	}
	if (copy) {
		void *orig = ld_relaxed(&p->slots[h].orig);

		spin_unlock(&a->lock);
		memcpy(orig, p->cpu + (addr - p->start), size);
		spin_lock(&a->lock);
	}
	if (attrs & ATTR_UNDO_MAP)
		_swiotlb_area_uncount_map(p, pool_area_of(p, h), size);
	waiters = release_locked(dev, p, h, copy ? size : 0);
	spin_unlock(&a->lock);
	if (unlikely(waiters || p->kind == POOL_TRANSIENT))
		_swiotlb_mapping_release_after(dev, p, waiters);
	if (attrs & ATTR_UNDO_MAP) /* as if the map never happened */
		devcount_map(dev, tc, -1, size);
	else
		devcount_unmap(dev, tc, copy ? size : 0);
	return 0;
}

/*
 * The lock-free unmap (runcache.c): claim the mapping with one
 * compare-and-swap of its head's tag, MAPPED -> CACHED, copy back, and
 * park the run in the calling thread's cache (or, when the cache is shut,
 * free it under the area lock).  The tag's generation makes the check and
 * the claim one step: a racing unmap+remap in between changes the tag, so
 * the swap fails; after the swap the fields are checked again, which
 * catches a generation that wrapped.  Returns 0, or -EINVAL when the
 * mapping is not (or no longer) this one.
 */
static int unmap_to_cache(struct swiotlb_dev *dev, struct dev_tcount *tc, struct pool *p,
			  unsigned h, swiotlb_addr_t addr, size_t size, enum swiotlb_dir dir,
			  bool copy)
{
	struct slot *s = &p->slots[h];
	size_t back = copy ? size : 0;
	/* acquire: pairs with the release store of the tag when the head
	 * became this mapping (area.c, runcache.c): the fields read next
	 * are that mapping's */
	uint32_t t = atomic_load_explicit(&s->tag, memory_order_acquire);

	if (tag_state(t) != SLOT_MAPPED || !mapping_owned(p, h, dev, addr, size, dir, SLOT_MAPPED))
		return -EINVAL;
	/* acquire on success: pairs with that same release store when the
	 * tag read above was an older one whose generation has wrapped; the
	 * check below then reads the fields of the mapping really claimed */
	if (!atomic_compare_exchange_strong_explicit(&s->tag, &t, tag_with(t, SLOT_CACHED),
						     memory_order_acquire, memory_order_relaxed))
		return -EINVAL;
	if (unlikely(!mapping_owned(p, h, dev, addr, size, dir, SLOT_CACHED))) {
		/* someone else's mapping: give it back untouched.  An
		 * exchange, not a store: like the swap, a read-modify-write
		 * continues the release sequence of the store that published
		 * that mapping (area.c, runcache.h), so the next claimant that
		 * reads the tag back still sees the mapping's fields */
		atomic_exchange_explicit(&s->tag, t, memory_order_relaxed);
		return -EINVAL;
	}
	if (copy)
		memcpy(ld_relaxed(&s->orig), p->cpu + (addr - p->start), size);
	if (!runcache_push(tc, p, h, ld_relaxed(&s->nslots), back)) {
		struct area *a = &p->areas[pool_area_of(p, h)];
		unsigned waiters;

		spin_lock(&a->lock);
		waiters = release_locked(dev, p, h, back);
		spin_unlock(&a->lock);
		if (unlikely(waiters))
			_swiotlb_waitq_wake(&dev->mem->waitq);
	}
	devcount_unmap(dev, tc, back);
	return 0;
}

/* Unmap the mapping of dev at addr in p: lock-free into the calling
 * thread's run cache when the pool, the thread and the cache allow it
 * (the thread maps for dev too: a thread that only unmaps other threads'
 * mappings would only park runs they need), else under the area lock. */
static int unmap_bounce(struct swiotlb_dev *dev, struct dev_tcount *tc, struct pool *p,
			swiotlb_addr_t addr, size_t size, enum swiotlb_dir dir, unsigned attrs)
{
	int h = find_head(p, dev, addr, SLOT_MAPPED);
	bool copy = dir != SWIOTLB_TO_DEVICE &&
		    !(attrs & (SWIOTLB_ATTR_SKIP_CPU_SYNC | ATTR_UNDO_MAP));
	int rc;

	if (h < 0)
		goto bad;
	if (p->run_cache && tc && !(attrs & ATTR_UNDO_MAP) && ld_relaxed(&tc->maps) &&
	    runcache_has_room(tc, ld_relaxed(&p->slots[h].nslots)))
		rc = unmap_to_cache(dev, tc, p, (unsigned)h, addr, size, dir, copy);
	else
		rc = unmap_locked(dev, tc, p, (unsigned)h, addr, size, dir, attrs, copy);
	if (rc == 0)
		return 0;
bad:
	return _swiotlb_dev_reject(dev, -EINVAL,
				   "unmap: not the start, size and direction of a live mapping "
				   "(double unmap?)",
				   addr, size);
}

/* An unmap or sync of an address in no pool of the device: a no-op for
 * an address the device could have been given directly, misuse (e.g. a
 * second unmap of a transient mapping, whose pool is gone) otherwise. */
static int not_a_mapping(struct swiotlb_dev *dev, bool unmap, swiotlb_addr_t addr, size_t size)
{
	if (_swiotlb_dev_addr_maybe_direct(dev, addr, size))
		return 0;
	return _swiotlb_dev_reject(
		dev, -EINVAL,
		unmap ? "unmap: not a live mapping of this device (double unmap?)"
		      : "sync: not inside a live mapping of this device",
		addr, size);
}

/* Undo one mapped entry of a failed scatter-gather map (sg.c): unmap it
 * without copying back, and take back its statistics. */
void _swiotlb_unmap_undo(struct swiotlb_dev *dev, swiotlb_addr_t addr, size_t size,
			 enum swiotlb_dir dir)
{
	struct pool *p = NULL;

	if (dev_may_have_bounced(dev)) {
		/* before rcu_enter(): see devcount_map() */
		struct dev_tcount *tc = _swiotlb_devcount_get(dev);

		rcu_enter();
		p = _swiotlb_lookup_dev_pool(dev, addr);
		if (p)
			unmap_bounce(dev, tc, p, addr, size, dir, ATTR_UNDO_MAP);
		rcu_exit();
	}
	if (!p) /* a direct entry: only its count */
		sub_relaxed(&dev_shard(dev, current_cpu())->direct_maps, 1);
}

SWIOTLB_API int swiotlb_unmap(struct swiotlb_dev *dev, swiotlb_addr_t addr, size_t size,
			      enum swiotlb_dir dir, unsigned attrs)
{
	struct dev_tcount *tc;
	struct pool *p;
	int rc = 0;

	if (!dev)
		return -EINVAL;
	if (!size || !dir_valid(dir) || (attrs & ~KNOWN_ATTRS))
		return _swiotlb_dev_reject(dev, -EINVAL, "unmap: bad argument", addr, size);
	if (!dev_may_have_bounced(dev))
		return not_a_mapping(dev, true, addr, size); /* a direct address? */
	tc = _swiotlb_devcount_get(dev); /* before rcu_enter(): see devcount_map() */
	p = dev->mem->initial;
	if (p && addr - p->start < p->end - p->start) /* no RCU needed: see struct swiotlb_mem */
		return unmap_bounce(dev, tc, p, addr, size, dir, attrs);
	rcu_enter();
	p = _swiotlb_lookup_dev_pool(dev, addr);
	if (p)
		rc = unmap_bounce(dev, tc, p, addr, size, dir, attrs);
	rcu_exit();
	if (!p)
		return not_a_mapping(dev, true, addr, size);
	return rc;
}

/* ---- syncs ---- */

static int sync_bounce(struct swiotlb_dev *dev, struct pool *p, swiotlb_addr_t addr, size_t size,
		       enum swiotlb_dir dir, enum sync_to to)
{
	int h = _swiotlb_mapping_find_head(p, dev, addr, SLOT_MAPPED);
	swiotlb_addr_t start;
	size_t msize;
	enum swiotlb_dir mdir;
	unsigned char *orig, *bounce;

	if (h < 0)
		return _swiotlb_dev_reject(dev, -EINVAL, "sync: not inside a live mapping", addr,
					   size);
	start = head_addr(p, (unsigned)h);
	mdir = ld_relaxed(&p->slots[h].dir);
	msize = ld_relaxed(&p->slots[h].size);
	/* written so that no sum can overflow (size may be anything) */
	if (addr < start || size > msize || addr - start > msize - size)
		return _swiotlb_dev_reject(dev, -EINVAL, "sync: range outside the mapping", addr,
					   size);
	if (mdir != SWIOTLB_BIDIRECTIONAL && mdir != dir)
		return _swiotlb_dev_reject(
			dev, -EINVAL, "sync: direction differs from the mapping's", addr, size);
	orig = (unsigned char *)ld_relaxed(&p->slots[h].orig) + (addr - start);
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

/* Sync [addr, addr + size) of a live mapping of dev in direction 'to'. */
int _swiotlb_sync(struct swiotlb_dev *dev, swiotlb_addr_t addr, size_t size, enum swiotlb_dir dir,
		  enum sync_to to)
{
	struct pool *p;
	int rc = 0;

	if (!dev)
		return -EINVAL;
	if (!size || !dir_valid(dir))
		return _swiotlb_dev_reject(dev, -EINVAL, "sync: bad argument", addr, size);
	if (!dev_may_have_bounced(dev))
		return not_a_mapping(dev, false, addr, size);
	rcu_enter();
	p = _swiotlb_lookup_dev_pool(dev, addr);
	if (p)
		rc = sync_bounce(dev, p, addr, size, dir, to);
	rcu_exit();
	if (!p)
		return not_a_mapping(dev, false, addr, size);
	return rc;
}

SWIOTLB_API int swiotlb_sync_for_cpu(struct swiotlb_dev *dev, swiotlb_addr_t addr, size_t size,
				     enum swiotlb_dir dir)
{
	return _swiotlb_sync(dev, addr, size, dir, TO_CPU);
}

SWIOTLB_API int swiotlb_sync_for_device(struct swiotlb_dev *dev, swiotlb_addr_t addr, size_t size,
					enum swiotlb_dir dir)
{
	return _swiotlb_sync(dev, addr, size, dir, TO_DEVICE);
}

/* ---- address queries ---- */

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
	found = _swiotlb_lookup_dev_pool(dev, addr) != NULL;
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
	p = _swiotlb_lookup_dev_pool(dev, addr);
	if (p)
		cpu = p->cpu + (addr - p->start);
	rcu_exit();
	return cpu;
}
