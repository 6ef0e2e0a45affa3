/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The way back from a map: finding a live mapping from its device
 * address, unmap, sync, and the address queries (is_bounce, addr_to_cpu).
 * Every entry point starts with dev_may_have_bounced() (the acquire side
 * of the protocol at the top of map.c), then looks the address up inside
 * an RCU read-side section.
 */
#include <string.h>

#include "internal.h"

/* ---- finding a live mapping from a device address ---- */

/* The head slot of the live mapping or allocation that contains addr in
 * p, or -1.  Lock-free: relaxed reads, validated. */
int _swiotlb_mapping_find_head(const struct pool *p, const struct swiotlb_dev *dev,
			       swiotlb_addr_t addr, uint8_t state)
{
	unsigned idx = (unsigned)((addr - p->start) >> SLOT_SHIFT);
	const struct slot *s = &p->slots[idx];
	uint8_t st = ld_relaxed(&s->state);
	unsigned h;

	if (st == SLOT_FREE)
		return -1;
	h = st == SLOT_TAIL ? ld_relaxed(&s->head) : idx;
	if (h >= p->nslots)
		return -1;
	s = &p->slots[h];
	if (ld_relaxed(&s->state) != state || ld_relaxed(&s->dev) != dev)
		return -1;
	return (int)h;
}

static inline swiotlb_addr_t head_addr(const struct pool *p, unsigned h)
{
	return pool_slot_addr(p, h) + ld_relaxed(&p->slots[h].offset);
}

/* Does head slot h describe exactly the mapping (addr, size, dir)? */
bool _swiotlb_mapping_is(const struct pool *p, unsigned h, swiotlb_addr_t addr, size_t size,
			 enum swiotlb_dir dir, uint8_t state)
{
	const struct slot *s = &p->slots[h];

	return ld_relaxed(&s->state) == state && head_addr(p, h) == addr &&
	       ld_relaxed(&s->size) == size && ld_relaxed(&s->dir) == dir;
}

/*
 * Free the run of head slot h after re-checking, under the area lock, that
 * it is still the mapping we validated (two racing unmaps of one mapping:
 * exactly one wins).  Then account, release a transient pool, wake
 * waiters.  Returns 0 or -EINVAL.
 */
int _swiotlb_mapping_release(struct swiotlb_dev *dev, struct pool *p, unsigned h,
			     swiotlb_addr_t addr, size_t size, enum swiotlb_dir dir, uint8_t state,
			     size_t copied_back)
{
	struct slot *s = &p->slots[h];
	unsigned pad = ld_relaxed(&s->pad);
	unsigned n = ld_relaxed(&s->nslots);
	unsigned ai = pool_area_of(p, h);
	struct area *a = &p->areas[ai];

	spin_lock(&a->lock);
	if (!_swiotlb_mapping_is(p, h, addr, size, dir, state) || ld_relaxed(&s->dev) != dev) {
		spin_unlock(&a->lock);
		return -EINVAL;
	}
	st_relaxed(&s->dev, NULL);
	_swiotlb_area_release_slots(p, ai, h - pad, n, copied_back);
	spin_unlock(&a->lock);

	if (p->kind == POOL_TRANSIENT)
		_swiotlb_transient_release(p);
	if (state == SLOT_COHERENT)
		sub_relaxed(&dev->mem->stats.coherent, 1);
	waitq_notify_free(&dev->mem->waitq);
	return 0;
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

static int unmap_bounce(struct swiotlb_dev *dev, struct pool *p, swiotlb_addr_t addr, size_t size,
			enum swiotlb_dir dir, unsigned attrs)
{
	int h = _swiotlb_mapping_find_head(p, dev, addr, SLOT_MAPPED);
	struct dev_shard *sh = dev_shard(dev, current_cpu());
	size_t copied = 0;
	uint8_t state = SLOT_MAPPED;

	if (h < 0 || !_swiotlb_mapping_is(p, (unsigned)h, addr, size, dir, SLOT_MAPPED))
		return _swiotlb_dev_reject(
			dev, -EINVAL,
			"unmap: not the start, size and direction of a live mapping "
			"(double unmap?)",
			addr, size);
	if (dir != SWIOTLB_TO_DEVICE && !(attrs & SWIOTLB_ATTR_SKIP_CPU_SYNC)) {
		void *orig = ld_relaxed(&p->slots[h].orig);
		uint8_t mapped = SLOT_MAPPED;

		/* Claim the copy-back: of two racing unmaps of one mapping only
		 * one copies (the other could read slots already reused). */
		if (!atomic_compare_exchange_strong_explicit(&p->slots[h].state, &mapped,
							     SLOT_UNMAPPING, memory_order_relaxed,
							     memory_order_relaxed))
			return _swiotlb_dev_reject(dev, -EINVAL,
						   "unmap: mapping being unmapped concurrently "
						   "(double unmap)",
						   addr, size);
		memcpy(orig, p->cpu + (addr - p->start), size);
		copied = size;
		state = SLOT_UNMAPPING;
	}
	if (_swiotlb_mapping_release(dev, p, (unsigned)h, addr, size, dir, state, copied) < 0)
		return _swiotlb_dev_reject(dev, -EINVAL,
					   "unmap: mapping released concurrently (double unmap)",
					   addr, size);
	stat_add(&sh->unmaps, 1);
	if (copied)
		stat_add(&sh->bytes_from_dev, copied);
	return 0;
}

SWIOTLB_API int swiotlb_unmap(struct swiotlb_dev *dev, swiotlb_addr_t addr, size_t size,
			      enum swiotlb_dir dir, unsigned attrs)
{
	struct pool *p;
	int rc = 0;

	if (!dev)
		return -EINVAL;
	if (!size || !dir_valid(dir) || (attrs & ~KNOWN_ATTRS))
		return _swiotlb_dev_reject(dev, -EINVAL, "unmap: bad argument", addr, size);
	if (!dev_may_have_bounced(dev))
		return 0; /* never bounced: a direct address */
	rcu_enter();
	p = _swiotlb_lookup_dev_pool(dev, addr);
	if (p)
		rc = unmap_bounce(dev, p, addr, size, dir, attrs);
	rcu_exit();
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
		return 0;
	rcu_enter();
	p = _swiotlb_lookup_dev_pool(dev, addr);
	if (p)
		rc = sync_bounce(dev, p, addr, size, dir, to);
	rcu_exit();
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
