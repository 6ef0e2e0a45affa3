/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Slot search and release inside one area of one pool.
 *
 * The rules are the kernel's (see docs/DESIGN.md): a run of n slots may
 * start at slot s when
 *   - slot s's device address is aligned to alloc_align_mask + 1,
 *   - its bits under iotlb_align_mask equal the original's (offset
 *     preservation for min_align_mask above the slot size),
 *   - the run stays inside one 128-slot segment (free_run[s] >= n says so,
 *     because free_run counts only to the end of the segment),
 *   - the run does not cross the device's segment boundary, and
 *   - the run ends at or below the device's dma_mask.
 * The search starts at the area's rotating cursor and looks at every slot
 * of the area at most once.
 */
#include "internal.h"

/* Like the kernel, an index that runs off the end of the area restarts at
 * the area's first slot (not at the overflow), so cursors match its. */
/* Counters of an area are written only under its lock: a plain
 * load + store (no lock prefix) is enough; readers load them relaxed. */
#define count_locked(ctr, v) \
	atomic_store_explicit((ctr), atomic_load_explicit((ctr), memory_order_relaxed) + (v), \
			      memory_order_relaxed)

static inline unsigned wrap_index(const struct pool *p, unsigned i)
{
	return i >= p->area_slots ? 0 : i;
}

/* True when [addr, addr + len) crosses a multiple of boundary_mask + 1. */
static inline bool crosses_boundary(swiotlb_addr_t addr, size_t len,
				    uint64_t boundary_mask)
{
	return (addr & ~boundary_mask) != ((addr + len - 1) & ~boundary_mask);
}

static bool slot_acceptable(const struct pool *p, unsigned s,
			    const struct slot_req *rq)
{
	swiotlb_addr_t a = pool_slot_addr(p, s);

	if (a & rq->alloc_align_mask)
		return false;
	return !rq->orig || (a & rq->iotlb_align_mask) ==
				    (rq->orig & rq->iotlb_align_mask);
}

static bool run_fits(const struct pool *p, unsigned s, const struct slot_req *rq)
{
	swiotlb_addr_t a = pool_slot_addr(p, s);
	size_t len = (size_t)rq->nslots << SLOT_SHIFT;

	if (atomic_load_explicit(&p->free_run[s], memory_order_relaxed) <
	    rq->nslots)
		return false;
	if (crosses_boundary(a, len, rq->dev->seg_boundary_mask))
		return false;
	return a + len - 1 <= rq->dev->dma_mask;
}

/* Mark [s, s+n) used and recount the free run of the slots before it, up
 * to the start of the segment or the previous used slot. */
static void mark_used(struct pool *p, unsigned s, unsigned n)
{
	unsigned i, count = 0;

	for (i = s; i < s + n; i++)
		atomic_store_explicit(&p->free_run[i], 0, memory_order_relaxed);
	for (i = s; i-- > 0 && (i % SEG_SLOTS) != SEG_SLOTS - 1;) {
		if (!atomic_load_explicit(&p->free_run[i], memory_order_relaxed))
			break;
		atomic_store_explicit(&p->free_run[i], ++count,
				      memory_order_relaxed);
	}
}

/* Record the mapping in its head slot (the first slot after the padding)
 * and point every data slot at the head.  Under the area lock. */
static void record_mapping(struct pool *p, unsigned first, const struct slot_req *rq)
{
	unsigned pad = rq->offset >> SLOT_SHIFT, h = first + pad;
	struct slot *hs = &p->slots[h];

	for (unsigned i = h; i < first + rq->nslots; i++) {
		atomic_store_explicit(&p->slots[i].head, h, memory_order_relaxed);
		atomic_store_explicit(&p->slots[i].state, SLOT_TAIL, memory_order_relaxed);
	}
	atomic_store_explicit(&hs->pad, (uint8_t)pad, memory_order_relaxed);
	atomic_store_explicit(&hs->offset, (uint16_t)(rq->offset & (SLOT_SIZE - 1)),
			      memory_order_relaxed);
	atomic_store_explicit(&hs->nslots, (uint16_t)rq->nslots, memory_order_relaxed);
	atomic_store_explicit(&hs->size, (uint32_t)rq->size, memory_order_relaxed);
	atomic_store_explicit(&hs->orig, rq->orig_ptr, memory_order_relaxed);
	atomic_store_explicit(&hs->dev, rq->dev, memory_order_relaxed);
	atomic_store_explicit(&hs->dir, (uint8_t)rq->dir, memory_order_relaxed);
	atomic_store_explicit(&hs->state, rq->state, memory_order_relaxed);
}

/*
 * Feed this area's change of used slots into the memory's used count and
 * high-water mark (area lock held).  Shared pools only; batched unless
 * 'force' (see struct swiotlb_mem).
 */
void area_report_used(struct pool *p, struct area *a, bool force)
{
	struct swiotlb_mem *mem = p->mem;
	long batch = (long)mem->used_batch;
	long d = (long)atomic_load_explicit(&a->used, memory_order_relaxed) - (long)a->reported;
	uint64_t now;

	if (p->kind == POOL_TRANSIENT || !d || (!force && d < batch && d > -batch))
		return;
	a->reported += (unsigned)d;
	now = atomic_fetch_add_explicit(&mem->used_batched, (uint64_t)d, memory_order_relaxed) +
	      (uint64_t)d;
	if (d > 0)
		stat_max(&mem->hiwater, now);
}

/*
 * Find and claim rq->nslots slots in area 'ai' of pool p.  Returns the
 * pool-relative index of the first slot, or -1.  Takes the area lock.  On
 * success the area cursor moves past the run and the used count grows.
 * Fails at once (without searching) when the area has too few free slots
 * or the pool is retired.
 */
int area_find_slots(struct pool *p, unsigned ai, const struct slot_req *rq)
{
	struct area *a = &p->areas[ai];
	unsigned base = ai * p->area_slots, idx, checked;
	int found = -1;

	/* cheap unlocked look first: skip a full area without its lock
	 * (not for a MAY_BLOCK retry, whose no-lost-wake-up argument needs
	 * the lock: wait.c) */
	if (!rq->waiting &&
	    rq->nslots > p->area_slots - atomic_load_explicit(&a->used, memory_order_relaxed))
		return -1;
	spin_lock(&a->lock);
	unsigned used = atomic_load_explicit(&a->used, memory_order_relaxed);
	if (rq->nslots > p->area_slots - used ||
	    atomic_load_explicit(&p->retired, memory_order_relaxed))
		goto out;

	idx = a->cursor;
	for (checked = 0; checked < p->area_slots;) {
		unsigned s = base + idx;

		if (!slot_acceptable(p, s, rq)) {
			idx = wrap_index(p, idx + 1);
			checked++;
			continue;
		}
		if (run_fits(p, s, rq)) {
			found = (int)s;
			break;
		}
		idx = wrap_index(p, idx + rq->stride);
		checked += rq->stride;
	}
	if (found < 0)
		goto out;

	mark_used(p, (unsigned)found, rq->nslots);
	record_mapping(p, (unsigned)found, rq);
	count_locked(&a->live, 1);
	if (rq->state == SLOT_MAPPED && p->kind == POOL_TRANSIENT) {
		/* seen by statistics at once, though the pool is in no set */
		stat_add(&p->mem->transient_maps, 1);
		stat_add(&p->mem->transient_bytes_to_dev, rq->size);
	} else if (rq->state == SLOT_MAPPED) {
		count_locked(&a->maps, 1);
		count_locked(&a->bytes_to_dev, rq->size);
	}
	a->cursor = wrap_index(p, idx + rq->nslots);
	atomic_store_explicit(&a->used, used + rq->nslots, memory_order_relaxed);
	area_report_used(p, a, false);
	atomic_store_explicit(&a->allocs,
			      atomic_load_explicit(&a->allocs, memory_order_relaxed) + 1,
			      memory_order_relaxed);
out:
	spin_unlock(&a->lock);
	return found;
}

/*
 * Hot reuse (our one deliberate departure from the kernel's placement,
 * off with swiotlb_mem_config.strict_cursor): the kernel's cursor only
 * moves forward, so a map/unmap loop walks the whole pool and every copy
 * lands in cold cache lines.  When the freed run is the one just before
 * the cursor (the latest allocation: LIFO) or the area became empty, the
 * cursor moves back to the freed slots, which are still in cache.
 */
static void rewind_cursor(const struct pool *p, struct area *a, unsigned run,
			  unsigned n, unsigned used)
{
	if (!used)
		a->cursor = 0;
	else if (wrap_index(p, run + n) == a->cursor)
		a->cursor = run;
}

/* Take back the statistics of a map of 'size' bytes placed in area 'ai'
 * (caller holds the area lock): a scatter-gather map that failed part
 * way undoes the entries it had mapped as if they never were. */
void area_uncount_map(struct pool *p, unsigned ai, size_t size)
{
	struct area *a = &p->areas[ai];

	if (p->kind == POOL_TRANSIENT) {
		atomic_fetch_sub_explicit(&p->mem->transient_maps, 1, memory_order_relaxed);
		atomic_fetch_sub_explicit(&p->mem->transient_bytes_to_dev, size,
					  memory_order_relaxed);
	} else {
		count_locked(&a->maps, (uint64_t)-1);
		count_locked(&a->bytes_to_dev, (uint64_t)0 - size);
	}
}

/*
 * Give back the run [first, first+n) of one mapping in area 'ai' (caller
 * holds the area lock).
 * Merges with the free run after it (inside the segment) and recounts the
 * free run of the slots before it.
 */
void area_release_slots(struct pool *p, unsigned ai, unsigned first, unsigned n,
			size_t copied_back)
{
	struct area *a = &p->areas[ai];
	unsigned end = first + n, count, i, used;

	/* free slots after the run, up to the segment end */
	count = (end < p->nslots && end % SEG_SLOTS) ? atomic_load_explicit(&p->free_run[end],
							  memory_order_relaxed)
				  : 0;
	for (i = end; i-- > first;) {
		atomic_store_explicit(&p->free_run[i], ++count,
				      memory_order_relaxed);
		atomic_store_explicit(&p->slots[i].state, SLOT_FREE, memory_order_relaxed);
	}
	for (i = first; i-- > 0 && (i % SEG_SLOTS) != SEG_SLOTS - 1;) {
		if (!atomic_load_explicit(&p->free_run[i], memory_order_relaxed))
			break;
		atomic_store_explicit(&p->free_run[i], ++count,
				      memory_order_relaxed);
	}
	used = atomic_load_explicit(&a->used, memory_order_relaxed) - n;
	atomic_store_explicit(&a->used, used, memory_order_relaxed);
	area_report_used(p, a, false);
	if (!p->mem->strict_cursor)
		rewind_cursor(p, a, first - ai * p->area_slots, n, used);
	count_locked(&a->live, (unsigned)-1);
	if (p->kind == POOL_TRANSIENT)
		stat_add(&p->mem->transient_bytes_from_dev, copied_back);
	else
		count_locked(&a->bytes_from_dev, copied_back);
}
