/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The owner's side of a thread's run cache, inline for the map and unmap
 * fast paths: entering and leaving the cache, parking a run, mapping a
 * cached run again.  The design, the thieves' side and the proof of the
 * steal protocol are in runcache.c (and docs/ORDERING.md, B1/B2).
 *
 * Cost: no locked instruction, no system call; a compiler barrier and a
 * few loads and stores on lines only the owner writes (struct run_cache).
 */
#ifndef SWIOTLB_RUNCACHE_H
#define SWIOTLB_RUNCACHE_H

#include "internal.h"

/*
 * Enter the cache: false when a thief is at work or has just emptied it
 * (then the owner does without it this time) or when a MAY_BLOCK waiter
 * waits (then freed runs go to the areas, which wake it).
 */
static inline bool cache_enter(struct run_cache *c, const struct swiotlb_mem *mem)
{
	unsigned steal;

	st_relaxed(&c->busy, 1);
	/* B1: pairs with B2 in heavy_barrier() (runcache.c, membarrier): the
	 * thief that set steal before its B2 either is seen here or sees
	 * busy == 1 and waits; a waiter's nwaiters increment before B2 is
	 * seen here the same way.  A compiler barrier, which B2 makes a
	 * full barrier; a seq_cst fence in model-check builds. */
#ifdef SWIOTLB_MODEL_CHECK
#ifndef MODEL_RUNCACHE_NO_FENCES /* verify/: the counterexample without B1, B2 */
	atomic_thread_fence(memory_order_seq_cst);
#endif
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
	/* acquire: pairs with the thief's release of STEAL_DONE in
	 * open_all(), after which heads[] and n are as it left them.
	 * mutate:keep: the model builds make B1 a seq_cst fence, which
	 * orders this load as well, so no harness can need the acquire;
	 * the real B1 is a compiler barrier and does not */
	steal = atomic_load_explicit(&c->steal, memory_order_acquire);
	if (unlikely(steal != STEAL_NONE || ld_relaxed(&mem->waitq.nwaiters))) {
		/* back in next time, unless a new thief has just stored BUSY:
		 * a compare-and-swap, so that its store is never lost */
		if (steal == STEAL_DONE)
			atomic_compare_exchange_strong_explicit(&c->steal, &steal, STEAL_NONE,
								memory_order_relaxed,
								memory_order_relaxed);
		/* relaxed: this section wrote nothing a thief reads; what the
		 * owner's earlier sections wrote is published by their
		 * cache_exit() release, whose release sequence (C11: later
		 * stores of the same thread) this store continues */
		st_relaxed(&c->busy, 0);
		return false;
	}
	return true;
}

static inline void cache_exit(struct run_cache *c)
{
	/* release: pairs with the thief's acquire load of busy in
	 * cache_wait_out() (runcache.c): heads[] and n as written here */
	atomic_store_explicit(&c->busy, 0, memory_order_release);
	tsan_release(c);
}

/* Is there room in the cache of block tc for a run of nslots slots?
 * Owner only. */
static inline bool runcache_has_room(const struct dev_tcount *tc, unsigned nslots)
{
	const struct run_cache *c = &tc->cache;

	return ld_relaxed(&c->n) < RUN_CACHE_RUNS &&
	       ld_relaxed(&c->slots) + nslots <= RUN_CACHE_SLOTS;
}

/*
 * Park the run of head h of the initial pool p (state SLOT_CACHED,
 * claimed by the caller; nslots slots) in the calling thread's cache tc,
 * with the bytes its unmap copied back.  False when the cache is full or
 * shut: the caller frees the run under the area lock instead.
 */
static inline bool runcache_push(struct dev_tcount *tc, const struct pool *p, unsigned h,
				 unsigned nslots, size_t copied_back)
{
	struct run_cache *c = &tc->cache;
	unsigned i;

	if (!runcache_has_room(tc, nslots) || !cache_enter(c, p->mem))
		return false;
	i = ld_relaxed(&c->n);
	st_relaxed(&c->heads[i], h);
	st_relaxed(&c->n, i + 1);
	add_locked(&c->slots, nslots);
	add_locked(&c->bytes_from_dev, copied_back);
	cache_exit(c);
	return true;
}

/* Does the cached run of head h fit request rq exactly (same slots and
 * padding; the start aligned as rq asks)?  Boundary and dma_mask hold:
 * the same device mapped the same run before. */
static inline bool run_suits(const struct pool *p, unsigned h, const struct slot_req *rq)
{
	const struct slot *s = &p->slots[h];
	unsigned pad = ld_relaxed(&s->pad);
	swiotlb_addr_t a = pool_slot_addr(p, h - pad);

	return ld_relaxed(&s->nslots) == rq->nslots && pad == rq->offset >> SLOT_SHIFT &&
	       !(a & rq->alloc_align_mask) &&
	       (a & rq->iotlb_align_mask) == ((uintptr_t)rq->orig & rq->iotlb_align_mask);
}

/*
 * Map rq from the calling thread's cache tc for a device of the initial
 * pool p: the newest cached run that suits it becomes a mapping again
 * (its head rewritten, a new generation).  Returns the head slot, or -1
 * (nothing suits, or the cache is shut).  The caller copies in and
 * publishes (map.c).
 */
static inline int runcache_map(struct dev_tcount *tc, struct pool *p, const struct slot_req *rq)
{
	struct run_cache *c = &tc->cache;
	unsigned n, i, h = 0;
	struct slot *s;

	if (!cache_enter(c, p->mem))
		return -1;
	n = ld_relaxed(&c->n);
	for (i = n; i-- > 0;) {
		h = ld_relaxed(&c->heads[i]);
		if (run_suits(p, h, rq))
			break;
	}
	if (i == UINT32_MAX) {
		cache_exit(c);
		return -1;
	}
	st_relaxed(&c->heads[i], ld_relaxed(&c->heads[n - 1]));
	st_relaxed(&c->n, n - 1);
	add_locked(&c->slots, 0u - rq->nslots);
	add_locked(&c->maps, 1);
	add_locked(&c->bytes_to_dev, rq->size);
	cache_exit(c);
	s = &p->slots[h];
	st_relaxed(&s->offset, (uint16_t)(rq->offset & (SLOT_SIZE - 1)));
	st_relaxed(&s->size, (uint32_t)rq->size);
	st_relaxed(&s->orig, rq->orig);
	st_relaxed(&s->dir, (uint8_t)rq->dir);
	/* release: pairs with the acquire loads of the tag by the claims
	 * (unmap.c): a claimant that reads this tag reads these fields */
	atomic_store_explicit(&s->tag, tag_next(ld_relaxed(&s->tag), SLOT_MAPPED),
			      memory_order_release);
	return (int)h;
}

#endif /* SWIOTLB_RUNCACHE_H */
