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

/* Counters of an area are written only under its lock: add_locked() (a
 * plain load + store, no lock prefix) is enough; readers load them relaxed. */

/* Like the kernel, an index that runs off the end of the area restarts at
 * the area's first slot (not at the overflow), so cursors match its. */
static inline unsigned wrap_index(const struct pool *p, unsigned i)
{
	return i >= p->area_slots ? 0 : i;
}

/* True when [addr, addr + len) crosses a multiple of boundary_mask + 1. */
static inline bool crosses_boundary(swiotlb_addr_t addr, size_t len, uint64_t boundary_mask)
{
	return (addr & ~boundary_mask) != ((addr + len - 1) & ~boundary_mask);
}

static bool slot_acceptable(const struct pool *p, unsigned s, const struct slot_req *rq)
{
	swiotlb_addr_t a = pool_slot_addr(p, s);

	if (a & rq->alloc_align_mask)
		return false;
	return !rq->orig ||
	       (a & rq->iotlb_align_mask) == ((uintptr_t)rq->orig & rq->iotlb_align_mask);
}

static bool run_fits(const struct pool *p, unsigned s, const struct slot_req *rq)
{
	swiotlb_addr_t a = pool_slot_addr(p, s);
	size_t len = (size_t)rq->nslots << SLOT_SHIFT;

	if (ld_relaxed(&p->free_run[s]) < rq->nslots)
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
		st_relaxed(&p->free_run[i], 0);
	for (i = s; i-- > 0 && (i % SEG_SLOTS) != SEG_SLOTS - 1;) {
		if (!ld_relaxed(&p->free_run[i]))
			break;
		st_relaxed(&p->free_run[i], ++count);
	}
}

/* Record the mapping in its head slot (the first slot after the padding)
 * and point every data slot at the head.  Under the area lock. */
static void record_mapping(struct pool *p, unsigned first, const struct slot_req *rq)
{
	unsigned pad = rq->offset >> SLOT_SHIFT, h = first + pad;
	struct slot *hs = &p->slots[h];

	for (unsigned i = h; i < first + rq->nslots; i++) {
		st_relaxed(&p->slots[i].head, h);
		st_relaxed(&p->slots[i].state, SLOT_TAIL);
	}
	st_relaxed(&hs->pad, (uint8_t)pad);
	st_relaxed(&hs->offset, (uint16_t)(rq->offset & (SLOT_SIZE - 1)));
	st_relaxed(&hs->nslots, (uint16_t)rq->nslots);
	st_relaxed(&hs->size, (uint32_t)rq->size);
	st_relaxed(&hs->orig, rq->orig);
	st_relaxed(&hs->dev, rq->dev);
	st_relaxed(&hs->dir, (uint8_t)rq->dir);
	st_relaxed(&hs->state, rq->state);
}

/*
 * Feed this area's change of used slots into the memory's used count and
 * high-water mark (area lock held).  Shared pools only; batched unless
 * 'force' (see struct mem_counters).
 */
void _swiotlb_area_report_used(struct pool *p, struct area *a, bool force)
{
	struct swiotlb_mem *mem = p->mem;
	long batch = (long)mem->cfg.used_batch;
	long d = (long)ld_relaxed(&a->used) - (long)a->reported;
	uint64_t now;

	/* a drift of exactly one batch waits: a map+unmap of a batch-sized
	 * run (64 KiB) then reports neither way (two locked adds on a shared
	 * line per op otherwise) */
	if (p->kind == POOL_TRANSIENT || !d || (!force && d <= batch && d >= -batch))
		return;
	a->reported += (unsigned)d;
	now = add_relaxed(&mem->stats.used_batched, (uint64_t)d) + (uint64_t)d;
	if (d > 0)
		stat_max(&mem->stats.hiwater, now);
}

/* The hot-path call of _swiotlb_area_report_used(): the batch check
 * inline, the report (once in used_batch slots) out of line. */
static inline void report_used_batched(struct pool *p, struct area *a)
{
	long batch = (long)p->mem->cfg.used_batch;
	long d = (long)ld_relaxed(&a->used) - (long)a->reported;

	if (d > batch || d < -batch || (!batch && d))
		_swiotlb_area_report_used(p, a, false);
}

/*
 * Find and claim rq->nslots slots in area 'ai' of pool p.  Returns the
 * pool-relative index of the first slot, or -1.  Takes the area lock.  On
 * success the area cursor moves past the run and the used count grows.
 * Fails at once (without searching) when the area has too few free slots
 * or the pool is retired.
 */
int _swiotlb_area_find_slots(struct pool *p, unsigned ai, const struct slot_req *rq)
{
	struct area *a = &p->areas[ai];
	unsigned base = ai * p->area_slots, idx, checked;
	int found = -1;

	/* cheap unlocked look first: skip a full area without its lock
	 * (not for a MAY_BLOCK retry, whose no-lost-wake-up argument needs
	 * the lock: wait.c) */
	if (!rq->waiting && rq->nslots > p->area_slots - ld_relaxed(&a->used))
		return -1;
	spin_lock(&a->lock);
	unsigned used = ld_relaxed(&a->used);
	if (rq->nslots > p->area_slots - used || ld_relaxed(&p->retired))
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
	add_locked(&a->live, 1);
	if (rq->state == SLOT_MAPPED && p->kind == POOL_TRANSIENT) {
		/* seen by statistics at once, though the pool is in no set */
		stat_add(&p->mem->stats.transient_maps, 1);
		stat_add(&p->mem->stats.transient_bytes_to_dev, rq->size);
	} else if (rq->state == SLOT_MAPPED) {
		add_locked(&a->maps, 1);
		add_locked(&a->bytes_to_dev, rq->size);
	}
	a->cursor = wrap_index(p, idx + rq->nslots);
	st_relaxed(&a->used, used + rq->nslots);
	report_used_batched(p, a);
	add_locked(&a->allocs, 1);
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
static void rewind_cursor(const struct pool *p, struct area *a, unsigned run, unsigned n,
			  unsigned used)
{
	if (!used)
		a->cursor = 0;
	else if (wrap_index(p, run + n) == a->cursor)
		a->cursor = run;
}

/*
 * Give back the run [first, first+n) of one mapping in area 'ai' (caller
 * holds the area lock).
 * Merges with the free run after it (inside the segment) and recounts the
 * free run of the slots before it.
 */
void _swiotlb_area_release_slots(struct pool *p, unsigned ai, unsigned first, unsigned n,
				 size_t copied_back)
{
	struct area *a = &p->areas[ai];
	unsigned end = first + n, count, i, used;

	/* free slots after the run, up to the segment end */
	count = (end < p->nslots && end % SEG_SLOTS) ? ld_relaxed(&p->free_run[end]) : 0;
	for (i = end; i-- > first;) {
		st_relaxed(&p->free_run[i], ++count);
		st_relaxed(&p->slots[i].state, SLOT_FREE);
	}
	for (i = first; i-- > 0 && (i % SEG_SLOTS) != SEG_SLOTS - 1;) {
		if (!ld_relaxed(&p->free_run[i]))
			break;
		st_relaxed(&p->free_run[i], ++count);
	}
	used = ld_relaxed(&a->used) - n;
	st_relaxed(&a->used, used);
	report_used_batched(p, a);
	if (!p->mem->cfg.strict_cursor)
		rewind_cursor(p, a, first - ai * p->area_slots, n, used);
	add_locked(&a->live, (unsigned)-1);
	if (p->kind == POOL_TRANSIENT)
		stat_add(&p->mem->stats.transient_bytes_from_dev, copied_back);
	else
		add_locked(&a->bytes_from_dev, copied_back);
}

/* Take back the statistics of a map of 'size' bytes placed in area 'ai'
 * (area lock held): a scatter-gather map that failed part way undoes the
 * entries it had mapped as if they never were. */
void _swiotlb_area_uncount_map(struct pool *p, unsigned ai, size_t size)
{
	struct area *a = &p->areas[ai];

	if (p->kind == POOL_TRANSIENT) {
		sub_relaxed(&p->mem->stats.transient_maps, 1);
		sub_relaxed(&p->mem->stats.transient_bytes_to_dev, size);
	} else {
		add_locked(&a->maps, (uint64_t)-1);
		add_locked(&a->bytes_to_dev, (uint64_t)0 - size);
	}
}
