/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Slot search and release inside one area of one pool.
 *
 * The rules are the kernel's (see docs/DESIGN.md): a run of n slots may
 * start at slot s when
 *   - slot s's device address is aligned to alloc_align_mask + 1,
 *   - its bits under iotlb_align_mask equal the original's (offset
 *     preservation for min_align_mask above the slot size),
 *   - the run stays inside one segment (pool->seg_slots, 128 by default;
 *     free_run[s] >= n says so, because free_run counts only to the end
 *     of the segment),
 *   - the run does not cross the device's segment boundary, and
 *   - the run ends at or below the device's dma_mask.
 * The search starts at the area's rotating cursor and looks at every slot
 * of the area at most once.
 *
 * Which of the places that fit is taken (the placement) is ours unless
 * strict_cursor: see find_run() and docs/DESIGN.md, "Placement".
 */
#include "internal.h"

/* The search's helpers stay inline in its loops (the compiler would
 * otherwise call them out of line on the map path). */
#define ALWAYS_INLINE inline __attribute__((always_inline))

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

static ALWAYS_INLINE bool slot_acceptable(const struct pool *p, unsigned s,
					  const struct slot_req *rq)
{
	swiotlb_addr_t a = pool_slot_addr(p, s);

	if (a & rq->alloc_align_mask)
		return false;
	return !rq->orig ||
	       (a & rq->iotlb_align_mask) == ((uintptr_t)rq->orig & rq->iotlb_align_mask);
}

static ALWAYS_INLINE bool run_fits(const struct pool *p, unsigned s, const struct slot_req *rq)
{
	swiotlb_addr_t a = pool_slot_addr(p, s);
	size_t len = (size_t)rq->nslots << SLOT_SHIFT;

	if (ld_relaxed(&p->free_run[s]) < rq->nslots)
		return false;
	if (crosses_boundary(a, len, rq->dev->seg_boundary_mask))
		return false;
	return a + len - 1 <= rq->dev->dma_mask;
}

/* Size class of a run of n slots: ceil(log2(n)), 0 for one slot. */
static inline unsigned run_class(unsigned n)
{
	return n > 1 ? 32u - (unsigned)__builtin_clz(n - 1) : 0;
}

/* Runs longer than half a segment (pool->large_run) share one class: a
 * segment holds one of them, and a class of its own for each size would
 * leave the rest of such a segment to runs that never come. */
#define CLASS_LARGE 31u

/* The class of a request: the size class of its run, or CLASS_LARGE. */
static inline unsigned req_class(const struct pool *p, const struct slot_req *rq)
{
	if (rq->nslots > p->large_run)
		return CLASS_LARGE;
	return run_class(rq->nslots);
}

/* Mark [s, s+n) used and recount the free run of the slots before it, up
 * to the start of the segment or the previous used slot.  A segment that
 * was empty takes the run's size class. */
static void mark_used(struct pool *p, unsigned s, const struct slot_req *rq)
{
	unsigned n = rq->nslots;
	unsigned i, count = 0, last = p->seg_slots - 1;
	struct seg *g = &p->segs[s >> p->seg_shift];

	for (i = s; i < s + n; i++)
		st_relaxed(&p->free_run[i], 0);
	for (i = s; i-- > 0 && (i & last) != last;) {
		if (!ld_relaxed(&p->free_run[i]))
			break;
		st_relaxed(&p->free_run[i], (uint16_t)++count);
	}
	if (!g->used)
		g->cls = (uint16_t)req_class(p, rq);
	g->used += (uint16_t)n;
}

/* Which segments a search pass may place in. */
enum seg_pick {
	PICK_ANY,    /* every segment: the kernel's placement */
	PICK_CLASS,  /* segments in use, of the run's size class, with room */
	PICK_BIGGER, /* segments in use, of a larger size class, with room */
	PICK_EMPTY,  /* segments with nothing in use */
	PICK_USED,   /* segments in use with room for the run */
};

/* May a run of n slots (size class cls) be placed in segment g under
 * 'pick'? */
static inline bool seg_allowed(const struct pool *p, const struct seg *g, unsigned n, unsigned cls,
			       enum seg_pick pick)
{
	if (pick == PICK_EMPTY)
		return !g->used;
	if (!g->used || g->used + n > p->seg_slots)
		return false;
	if (pick == PICK_BIGGER)
		return g->cls > cls;
	return pick == PICK_USED || g->cls == cls;
}

/*
 * One pass over the area from area-relative slot 'from': the first slot s
 * at which the request fits (rules at the top of this file), in a segment
 * 'pick' allows.  Area-relative index of s in *at; pool index of s, or -1.
 * Segments 'pick' refuses are skipped whole.
 */
static ALWAYS_INLINE int search_pass(const struct pool *p, unsigned from, unsigned base,
				     const struct slot_req *rq, enum seg_pick pick, unsigned cls,
				     unsigned *at)
{
	unsigned idx = from, checked, last = p->seg_slots - 1;

	for (checked = 0; checked < p->area_slots;) {
		unsigned s = base + idx;

		if (pick != PICK_ANY &&
		    !seg_allowed(p, &p->segs[s >> p->seg_shift], rq->nslots, cls, pick)) {
			unsigned next = (idx | last) + 1;

			checked += next - idx;
			idx = wrap_index(p, next);
			continue;
		}
		if (!slot_acceptable(p, s, rq)) {
			idx = wrap_index(p, idx + 1);
			checked++;
			continue;
		}
		if (run_fits(p, s, rq)) {
			*at = idx;
			return (int)s;
		}
		idx = wrap_index(p, idx + rq->stride);
		checked += rq->stride;
	}
	return -1;
}

/*
 * First fit inside one segment: the lowest slot s in [first, end) at
 * which the request fits (rules at the top of this file), stepping as
 * search_pass() does.  'end' is the end of the segment or of the area,
 * whichever comes first.  Pool index of s, or -1.
 */
static ALWAYS_INLINE int seg_first_fit(const struct pool *p, unsigned first, unsigned end,
				       const struct slot_req *rq)
{
	unsigned s = first;

	while (s + rq->nslots <= end) {
		if (!slot_acceptable(p, s, rq))
			s++;
		else if (run_fits(p, s, rq))
			return (int)s;
		else
			s += rq->stride;
	}
	return -1;
}

/*
 * Best fit over segments: among the area's segments that 'pick'
 * (PICK_CLASS or PICK_BIGGER, both only segments in use) allows, the
 * fullest in which the run fits, at its first place there; a tie goes to
 * the lowest segment.  A segment's slots are searched only when it is
 * fuller than the best so far, so every slot of the area is looked at at
 * most once (as in search_pass()), and a segment the run fills up ends
 * the search.  Area-relative index in *at; pool index, or -1.
 */
static int fullest_fit(const struct pool *p, unsigned base, const struct slot_req *rq,
		       enum seg_pick pick, unsigned cls, unsigned *at)
{
	unsigned end = base + p->area_slots, best_used = 0;
	unsigned g = base >> p->seg_shift, gend = (end + p->seg_slots - 1) >> p->seg_shift;
	int best = -1;

	for (; g < gend; g++) {
		const struct seg *sg = &p->segs[g];
		unsigned first = g << p->seg_shift;
		unsigned last = end - first < p->seg_slots ? end : first + p->seg_slots;
		int s;

		if (sg->used <= best_used || !seg_allowed(p, sg, rq->nslots, cls, pick))
			continue;
		s = seg_first_fit(p, first, last, rq);
		if (s < 0)
			continue;
		best = s;
		best_used = sg->used;
		if (best_used + rq->nslots == p->seg_slots)
			break;
	}
	if (best >= 0)
		*at = (unsigned)best - base;
	return best;
}

/*
 * Best fit over free extents (a free extent: the free slots between two
 * used ones or a segment's ends): among the segments of the area that
 * 'pick' allows, the smallest extent where the run fits, at its first
 * place there; a tie goes to the segment of the smaller class, then to
 * the fuller one, then to the lowest.  The extents are walked through
 * free_run (free_run[s] at an extent's first slot is its length), so
 * every slot of the area is looked at at most once.  Area-relative index
 * in *at; pool index, or -1.
 */
static int tightest_fit(const struct pool *p, unsigned base, const struct slot_req *rq,
			enum seg_pick pick, unsigned cls, unsigned *at)
{
	unsigned end = base + p->area_slots, best_len = ~0u, best_cls = ~0u, best_free = ~0u;
	unsigned g = base >> p->seg_shift, gend = (end + p->seg_slots - 1) >> p->seg_shift;
	int best = -1;

	for (; g < gend; g++) {
		const struct seg *sg = &p->segs[g];
		unsigned s = g << p->seg_shift, nfree = p->seg_slots - sg->used;
		unsigned last = end - s < p->seg_slots ? end : s + p->seg_slots;

		if (!seg_allowed(p, sg, rq->nslots, cls, pick))
			continue;
		while (s < last) {
			unsigned len = ld_relaxed(&p->free_run[s]);
			int t;

			if (!len) {
				s++;
				continue;
			}
			if (len >= rq->nslots &&
			    (len < best_len ||
			     (len == best_len && (sg->cls < best_cls ||
						  (sg->cls == best_cls && nfree < best_free)))) &&
			    (t = seg_first_fit(p, s, s + len, rq)) >= 0) {
				best = t;
				best_len = len;
				best_cls = sg->cls;
				best_free = nfree;
			}
			s += len;
		}
	}
	if (best >= 0)
		*at = (unsigned)best - base;
	return best;
}

/* Does the run fit right at the cursor, in a segment of its class? */
static inline bool cursor_fits(const struct pool *p, unsigned base, unsigned c,
			       const struct slot_req *rq)
{
	unsigned s = base + c;
	const struct seg *g = &p->segs[s >> p->seg_shift];

	return slot_acceptable(p, s, rq) && run_fits(p, s, rq) && g->used &&
	       g->cls == req_class(p, rq);
}

/*
 * Steps 2-5 of the default placement (see find_run()): a run that does
 * not fit at the cursor.  Out of line, so that the map path's common
 * cases (an empty area, a cursor hit) stay small.
 */
static __attribute__((noinline)) int place_by_class(const struct pool *p, unsigned base,
						    const struct slot_req *rq, unsigned *at)
{
	unsigned cls = req_class(p, rq);
	int found;

	found = fullest_fit(p, base, rq, PICK_CLASS, cls, at);
	if (found < 0)
		found = tightest_fit(p, base, rq, PICK_BIGGER, cls, at);
	if (found < 0)
		found = search_pass(p, 0, base, rq, PICK_EMPTY, cls, at);
	if (found < 0)
		found = search_pass(p, 0, base, rq, PICK_USED, cls, at);
	return found;
}

/*
 * The placement.  strict_cursor: the kernel's, first fit from the cursor.
 * Default (segregated by size class, like a slab allocator's pages): a
 * segment that is empty takes the size class of the run placed in it
 * (ceil(log2(slots)); runs over half a segment share one class) and keeps
 * it while anything in it is in use.  A run goes
 *   1. at the cursor when it fits there in a segment of its class: the
 *      slots just freed (rewind_cursor()) or those right after the latest
 *      run, so hot slots are reused and consecutive runs fill a segment;
 *   2. else in the fullest segment of its class where it fits (best fit
 *      over segments, fullest_fit()): holes of nearly full segments are
 *      refilled and nearly empty ones get nothing new, so they drain;
 *   3. else in the smallest free extent, in a segment of a larger class,
 *      where it fits (best fit over extents, tightest_fit()): a hole of a
 *      freed larger run, or the rest of a segment a run over half a
 *      segment holds, serves smaller runs before a segment is opened, and
 *      the tightest hole is taken so that larger holes stay whole for
 *      their class;
 *   4. else at the start of the first empty segment;
 *   5. else at the first place in any segment in use.
 * A freed hole is refilled by runs of about its size, so segments do not
 * decay into holes nobody can use, and whole segments stay free for the
 * largest runs.  Every step is under the area lock only.  An empty area is
 * searched from the cursor (rewound to its first slot) like the kernel's.
 * Lowest-address first fit in steps 2-3 (the placement before best fit)
 * refilled holes of segments that were draining; the fullest segment in
 * step 3, opening the highest empty segment in step 4, or step 5 before
 * step 4 measured worse (docs/DESIGN.md, "Placement").
 */
static int find_run(const struct pool *p, const struct area *a, unsigned base, unsigned used,
		    const struct slot_req *rq, unsigned *at)
{
	unsigned c = a->cursor;

	if (p->strict || !used)
		return search_pass(p, c, base, rq, PICK_ANY, 0, at);
	if (cursor_fits(p, base, c, rq)) {
		*at = c;
		return (int)(base + c);
	}
	return place_by_class(p, base, rq, at);
}

/* Record the mapping in its head slot (the first slot after the padding)
 * and point every data slot at the head.  Under the area lock. */
static void record_mapping(struct pool *p, unsigned first, const struct slot_req *rq)
{
	unsigned pad = rq->offset >> SLOT_SHIFT, h = first + pad;
	struct slot *hs = &p->slots[h];

	for (unsigned i = h; i < first + rq->nslots; i++) {
		st_relaxed(&p->slots[i].head, h);
		st_relaxed(&p->slots[i].tag, tag_with(ld_relaxed(&p->slots[i].tag), SLOT_TAIL));
	}
	st_relaxed(&hs->pad, (uint8_t)pad);
	st_relaxed(&hs->offset, (uint16_t)(rq->offset & (SLOT_SIZE - 1)));
	st_relaxed(&hs->nslots, (uint16_t)rq->nslots);
	st_relaxed(&hs->size, (uint32_t)rq->size);
	st_relaxed(&hs->orig, rq->orig);
	st_relaxed(&hs->dev, rq->dev);
	st_relaxed(&hs->dir, (uint8_t)rq->dir);
	/* release: pairs with the acquire of a lock-free claim (unmap.c),
	 * which reads the fields above after swapping this tag */
	atomic_store_explicit(&hs->tag, tag_next(ld_relaxed(&hs->tag), rq->state),
			      memory_order_release);
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
 * Find and claim rq->nslots slots in area 'ai' of pool p, whose lock the
 * caller holds.  Returns the pool-relative index of the first slot, or
 * -1.  On success the area cursor moves past the run and the used count
 * grows.  Fails at once when the area has too few free slots or the pool
 * is retired.
 */
int _swiotlb_area_find_slots_locked(struct pool *p, unsigned ai, const struct slot_req *rq)
{
	struct area *a = &p->areas[ai];
	unsigned base = ai * p->area_slots, idx;
	unsigned used = ld_relaxed(&a->used);
	int found;

	if (rq->nslots > p->area_slots - used || ld_relaxed(&p->retired))
		return -1;
	found = find_run(p, a, base, used, rq, &idx);
	if (found < 0)
		return -1;
	mark_used(p, (unsigned)found, rq);
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
	return found;
}

/*
 * _swiotlb_area_find_slots_locked() with the area lock taken here.
 * Without the lock first when the area visibly has too few free slots.
 */
int _swiotlb_area_find_slots(struct pool *p, unsigned ai, const struct slot_req *rq)
{
	struct area *a = &p->areas[ai];
	int found;

	/* cheap unlocked look first: skip a full area without its lock
	 * (not for a MAY_BLOCK retry, whose no-lost-wake-up argument needs
	 * the lock: wait.c) */
	if (!rq->waiting && rq->nslots > p->area_slots - ld_relaxed(&a->used))
		return -1;
	spin_lock(&a->lock);
	found = _swiotlb_area_find_slots_locked(p, ai, rq);
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
	unsigned end = first + n, count, i, used, last = p->seg_slots - 1;

	/* free slots after the run, up to the segment end */
	count = (end < p->nslots && (end & last)) ? ld_relaxed(&p->free_run[end]) : 0;
	for (i = end; i-- > first;) {
		st_relaxed(&p->free_run[i], (uint16_t)++count);
		st_relaxed(&p->slots[i].tag, tag_with(ld_relaxed(&p->slots[i].tag), SLOT_FREE));
	}
	for (i = first; i-- > 0 && (i & last) != last;) {
		if (!ld_relaxed(&p->free_run[i]))
			break;
		st_relaxed(&p->free_run[i], (uint16_t)++count);
	}
	p->segs[first >> p->seg_shift].used -= (uint16_t)n;
	used = ld_relaxed(&a->used) - n;
	st_relaxed(&a->used, used);
	report_used_batched(p, a);
	if (!p->strict)
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

/* Longest run of free slots in area 'ai' of p (takes the area lock). */
unsigned _swiotlb_area_largest_free_run(struct pool *p, unsigned ai)
{
	struct area *a = &p->areas[ai];
	unsigned base = ai * p->area_slots, best = 0;

	spin_lock(&a->lock);
	for (unsigned i = 0; i < p->area_slots; i++) {
		unsigned f = ld_relaxed(&p->free_run[base + i]);

		if (f > best)
			best = f;
	}
	spin_unlock(&a->lock);
	return best;
}

/* Longest run of free slots in the shared pools: the "buffer is full"
 * message (map.c), so a slow walk of every area is fine. */
unsigned _swiotlb_mem_largest_free_run(struct swiotlb_mem *mem)
{
	struct pool_set *s;
	unsigned best = 0;

	rcu_enter();
	/* pairs with the store-release in set_replace() (mem.c): see there */
	s = atomic_load_explicit(&mem->pools, memory_order_acquire);
	for (unsigned j = 0; j < s->n; j++) {
		for (unsigned i = 0; i < s->pools[j]->nareas; i++) {
			unsigned f = _swiotlb_area_largest_free_run(s->pools[j], i);

			if (f > best)
				best = f;
		}
	}
	rcu_exit();
	return best;
}
