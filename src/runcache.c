/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-thread run caches: a map+unmap loop without an area lock.
 *
 * A map and its unmap each took an area lock (a locked exchange on x86,
 * about a third of a 2 KiB map+unmap: issue 10).  Here an unmap in the
 * memory's initial pool claims the mapping with one compare-and-swap of
 * its head's tag (MAPPED -> CACHED, unmap.c) and parks the run, still
 * used in its area, in the calling thread's cache for the device; the
 * thread's next map of the same shape takes it back with no locked
 * instruction at all.  So a map+unmap pair costs one locked instruction
 * instead of two, and no slot search.
 *
 * What the cache never changes:
 *   - placement: a cached run is reused only by a map that needs exactly
 *     its slots and padding and whose alignment it satisfies (boundary
 *     and dma_mask hold: same device, same run); a map that misses gives
 *     the cached runs of the area it searches back first, under the same
 *     lock (map.c), so a thread that changes sizes places as before;
 *     strict_cursor memories and pools other than the initial one (which
 *     lives as long as the memory: no shrink or RCU question) never cache;
 *   - statistics: a cached run counts in its area's used and live, and
 *     the cache's slots and n are subtracted from them (stats.c), its
 *     maps and bytes added, so every statistic is exact once threads are
 *     quiet; a thread or device that goes away folds them (cache_gone);
 *   - capacity: a map that finds no room, and every MAY_BLOCK retry, first
 *     takes back every cached run of the memory (runcache_drain()), so no
 *     map fails or waits because slots sit in some idle thread's cache.
 *
 * The steal protocol.  Only the owner thread uses its cache, inside
 * cache_enter() .. cache_exit() (busy = 1); anyone else (a thief: a
 * waiter, a failing map, thread exit, device destroy, fork) holds tc_lock
 * and takes the runs when the owner is out:
 *
 *     owner                              thief (tc_lock held)
 *     busy = 1                           steal = BUSY
 *     light barrier      [B1]            heavy barrier (membarrier)  [B2]
 *     if steal or nwaiters: busy = 0,    wait until busy == 0 (acquire)
 *        no cache                        take heads[0..n), n = 0
 *     ... use heads[], n ...             steal = DONE (release)
 *     busy = 0 (release)
 *
 * B1 is a compiler barrier; B2, membarrier(MEMBARRIER_CMD_PRIVATE_
 * EXPEDITED), makes every running thread of the process execute a full
 * memory barrier, which turns every B1 it interrupts into one
 * (asymmetric fences, as in liburcu's membarrier flavour).  With both
 * fences this is store buffering: the owner sees steal (or the waiter's
 * nwaiters increment, made before B2) or the thief sees busy == 1 and
 * waits until the owner's section ends, so the thief never takes a run
 * the owner is taking, and a run pushed while a waiter waits is either
 * seen by its steal or not pushed at all (the owner frees it under the
 * area lock, where the wake-up argument of wait.c applies).  The model
 * checks (verify/, models/) use seq_cst fences for B1 and B2.
 *
 * Without membarrier (kernels before 4.14, seccomp filters, qemu-user)
 * the caches stay off: every unmap frees under the area lock as before.
 * SWIOTLB_RUN_CACHE=0 in the environment turns them off as well.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <unistd.h>
#include <sys/syscall.h>
#ifdef __linux__
#include <linux/membarrier.h>
#endif

#include "internal.h"
#include "runcache.h"

bool _swiotlb_runcache_on;

/* B2 of the steal protocol (see the top of this file). */
static void heavy_barrier(void)
{
#ifdef SWIOTLB_MODEL_CHECK
#ifndef MODEL_RUNCACHE_NO_FENCES /* verify/: the counterexample without B1, B2 */
	atomic_thread_fence(memory_order_seq_cst);
#endif
#else
	/* _swiotlb_runcache_init() registered; after fork() the child
	 * registers again (runcache_fork_child()) */
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
		abort(); /* registered, so only a kernel bug gets here */
#endif
}

#ifndef SWIOTLB_MODEL_CHECK
/* Turn the caches on when membarrier can serve as B2. */
static void runcache_init_once(void)
{
	const char *env = getenv("SWIOTLB_RUN_CACHE");

	if (env && env[0] == '0')
		return;
#if defined(__NR_membarrier)
	_swiotlb_runcache_on = syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
				       0, 0) == 0;
#endif
}
#endif

/* Decide, once per process, whether run caches are on (before the first
 * memory's initial pool is marked: swiotlb_mem_create()). */
void _swiotlb_runcache_init(void)
{
#ifdef SWIOTLB_MODEL_CHECK
	/* (a harness's memory, before its threads); a harness of the paths
	 * without caches builds with -DSWIOTLB_MODEL_RUN_CACHE=0 */
#ifndef SWIOTLB_MODEL_RUN_CACHE
#define SWIOTLB_MODEL_RUN_CACHE 1
#endif
	_swiotlb_runcache_on = SWIOTLB_MODEL_RUN_CACHE;
#else
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, runcache_init_once);
#endif
}

/* ---- giving runs back to the areas ---- */

/* Free the cached run of head h of pool p (area lock held): SLOT_CACHED
 * -> SLOT_FREE.  Returns the MAY_BLOCK waiters seen under the lock (the
 * argument of wait.c: a waiter's retry takes this lock too). */
static unsigned run_free_locked(struct pool *p, unsigned h)
{
	struct slot *s = &p->slots[h];

	st_relaxed(&s->dev, NULL);
	_swiotlb_area_release_slots(p, pool_area_of(p, h), h - ld_relaxed(&s->pad),
				    ld_relaxed(&s->nslots), 0);
	return ld_relaxed(&p->mem->waitq.nwaiters);
}

/* run_free_locked() with the area lock taken here; wakes a waiter. */
static void run_free(struct pool *p, unsigned h)
{
	struct area *a = &p->areas[pool_area_of(p, h)];
	unsigned waiters;

	spin_lock(&a->lock);
	waiters = run_free_locked(p, h);
	spin_unlock(&a->lock);
	if (waiters)
		_swiotlb_waitq_wake(&p->mem->waitq);
}

/* The owner gives back its block tc's cached runs in area ai of the
 * initial pool p (area lock held).  Returns the waiters seen. */
static unsigned give_back_locked(struct dev_tcount *tc, struct pool *p, unsigned ai)
{
	struct run_cache *c = &tc->cache;
	unsigned waiters = 0, n, i;

	if (!cache_enter(c, p->mem))
		return 0;
	n = ld_relaxed(&c->n);
	for (i = 0; i < n;) {
		unsigned h = ld_relaxed(&c->heads[i]);

		if (pool_area_of(p, h) != ai) {
			i++;
			continue;
		}
		add_locked(&c->slots, 0u - (unsigned)ld_relaxed(&p->slots[h].nslots));
		waiters |= run_free_locked(p, h);
		st_relaxed(&c->heads[i], ld_relaxed(&c->heads[--n]));
	}
	st_relaxed(&c->n, n);
	cache_exit(c);
	return waiters;
}

/* Does one of the calling thread's blocks (list 'mine') hold runs of
 * p's memory? */
static bool mine_cached(const struct dev_tcount *mine, const struct pool *p)
{
	for (; mine; mine = mine->thread_next)
		if (mine->mem == p->mem && ld_relaxed(&mine->cache.n))
			return true;
	return false;
}

/*
 * A map that missed the run cache searches area ai of the initial pool p:
 * first every run the calling thread (blocks 'mine') cached in that area
 * goes back, under the same lock, so that the search places as if no run
 * were cached (a thread that changes sizes places as before, and the
 * high-water mark of a single thread stays exact).  Then
 * _swiotlb_area_find_slots_locked().
 */
int _swiotlb_runcache_find_slots(struct pool *p, unsigned ai, const struct slot_req *rq,
				 struct dev_tcount *mine)
{
	struct area *a = &p->areas[ai];
	unsigned waiters = 0;
	int found;

	if (!mine_cached(mine, p))
		return _swiotlb_area_find_slots(p, ai, rq);
	spin_lock(&a->lock);
	for (struct dev_tcount *b = mine; b; b = b->thread_next)
		if (b->mem == p->mem && ld_relaxed(&b->cache.n))
			waiters |= give_back_locked(b, p, ai);
	found = _swiotlb_area_find_slots_locked(p, ai, rq);
	spin_unlock(&a->lock);
	if (unlikely(waiters))
		_swiotlb_waitq_wake(&p->mem->waitq);
	return found;
}

/* Thief: wait until the owner of c is out of its cache (tc_lock held,
 * steal already BUSY and B2 done). */
static void cache_wait_out(struct run_cache *c)
{
	unsigned spins = 0;

	/* acquire: pairs with the release stores of busy in cache_exit() and
	 * cache_enter(): the owner's heads[] and n are visible */
	while (atomic_load_explicit(&c->busy, memory_order_acquire)) {
#ifndef SWIOTLB_MODEL_CHECK /* verify/: GenMC bounds only a plain spin loop */
		if (++spins % 64 == 0)
			sched_yield(); /* the owner was preempted inside */
#endif
	}
	tsan_acquire(c);
}

/* Thief: give every run of block tc back to the areas (tc_lock held,
 * owner shut out).  Returns the runs freed. */
static unsigned cache_empty(const struct swiotlb_dev *dev, struct dev_tcount *tc)
{
	struct run_cache *c = &tc->cache;
	unsigned n = ld_relaxed(&c->n);

	for (unsigned i = 0; i < n; i++)
		run_free(dev->mem->initial, ld_relaxed(&c->heads[i]));
	st_relaxed(&c->n, 0);
	st_relaxed(&c->slots, 0);
	return n;
}

/* Shut the owners of every block of mem's devices out of their caches:
 * steal = BUSY, then B2, then wait for each owner to leave (tc_lock
 * held).  The store of BUSY is plain: the owner's only write of steal is
 * its DONE -> NONE compare-and-swap, which then fails or came first. */
static void shut_all(struct swiotlb_mem *mem)
{
	struct swiotlb_dev *dev;
	struct dev_tcount *tc;

	cds_list_for_each_entry (dev, &mem->devs, mem_node)
		cds_list_for_each_entry (tc, &dev->tc_list, dev_node)
			st_relaxed(&tc->cache.steal, STEAL_BUSY);
	heavy_barrier();
	cds_list_for_each_entry (dev, &mem->devs, mem_node)
		cds_list_for_each_entry (tc, &dev->tc_list, dev_node)
			cache_wait_out(&tc->cache);
}

/* Let the owners back in (each resets DONE to NONE on its next entry). */
static void open_all(struct swiotlb_mem *mem)
{
	struct swiotlb_dev *dev;
	struct dev_tcount *tc;

	cds_list_for_each_entry (dev, &mem->devs, mem_node)
		cds_list_for_each_entry (tc, &dev->tc_list, dev_node)
			/* release: pairs with the owner's acquire in
			 * cache_enter(): it sees the emptied cache */
			atomic_store_explicit(&tc->cache.steal, STEAL_DONE, memory_order_release);
}

/* Any run cached for mem?  (tc_lock held; relaxed: a hint.) */
static bool any_cached(struct swiotlb_mem *mem)
{
	struct swiotlb_dev *dev;
	struct dev_tcount *tc;

	cds_list_for_each_entry (dev, &mem->devs, mem_node)
		cds_list_for_each_entry (tc, &dev->tc_list, dev_node)
			if (ld_relaxed(&tc->cache.n))
				return true;
	return false;
}

/*
 * Take every run cached for mem back to the areas (a thief, tc_lock held:
 * see the top of this file).  always: run the protocol even when every
 * cache looks empty (a MAY_BLOCK waiter: an owner may be pushing right
 * now); otherwise (a map that found no room) only when some cache holds a
 * run.  Returns the runs given back.  Takes area locks; one membarrier.
 */
unsigned _swiotlb_runcache_drain_locked(struct swiotlb_mem *mem, bool always)
{
	struct swiotlb_dev *dev;
	struct dev_tcount *tc;
	unsigned freed = 0;

	if (!_swiotlb_runcache_on || !mem->initial || !(always || any_cached(mem)))
		return 0;
	shut_all(mem);
	cds_list_for_each_entry (dev, &mem->devs, mem_node)
		cds_list_for_each_entry (tc, &dev->tc_list, dev_node)
			freed += cache_empty(dev, tc);
	open_all(mem);
	return freed;
}

/* Fold block tc's cache statistics into its memory's cache_gone and
 * clear it (tc_lock held, cache empty). */
static void cache_fold(struct swiotlb_dev *dev, struct dev_tcount *tc)
{
	struct run_cache *c = &tc->cache;
	struct run_cache_gone *g = &dev->mem->cache_gone;

	stat_add(&g->maps, ld_relaxed(&c->maps));
	stat_add(&g->bytes_to_dev, ld_relaxed(&c->bytes_to_dev));
	stat_add(&g->bytes_from_dev, ld_relaxed(&c->bytes_from_dev));
	st_relaxed(&c->maps, 0);
	st_relaxed(&c->bytes_to_dev, 0);
	st_relaxed(&c->bytes_from_dev, 0);
}

/* The calling thread exits (tc_lock held): its block tc for dev gives its
 * runs back and its statistics to cache_gone.  No thief is at work (they
 * hold tc_lock) and the owner is the caller. */
void _swiotlb_runcache_thread_exit(struct swiotlb_dev *dev, struct dev_tcount *tc)
{
	cache_empty(dev, tc);
	cache_fold(dev, tc);
}

/* swiotlb_dev_destroy() (tc_lock held): every thread's block for dev is
 * emptied and folded.  The owners are shut out first and stay out (steal
 * stays BUSY): a thread mapping for another device of the memory may
 * still give back its blocks' runs (runcache_find_slots()) until the
 * block is detached; it is cleared when reused (devcount.c). */
void _swiotlb_runcache_dev_retire(struct swiotlb_dev *dev)
{
	struct dev_tcount *tc;

	if (!_swiotlb_runcache_on)
		return;
	cds_list_for_each_entry (tc, &dev->tc_list, dev_node)
		st_relaxed(&tc->cache.steal, STEAL_BUSY);
	heavy_barrier();
	cds_list_for_each_entry (tc, &dev->tc_list, dev_node) {
		cache_wait_out(&tc->cache);
		cache_empty(dev, tc);
		cache_fold(dev, tc);
	}
}

/* Sum the caches of mem's devices into s (tc_lock held; runs and slots
 * to subtract, maps and bytes to add: the table in types.h). */
void _swiotlb_runcache_sum_locked(const struct swiotlb_mem *mem, struct runcache_sum *s)
{
	const struct swiotlb_dev *dev;
	const struct dev_tcount *tc;

	memset(s, 0, sizeof(*s));
	s->maps = ld_relaxed(&mem->cache_gone.maps);
	s->bytes_to_dev = ld_relaxed(&mem->cache_gone.bytes_to_dev);
	s->bytes_from_dev = ld_relaxed(&mem->cache_gone.bytes_from_dev);
	cds_list_for_each_entry (dev, &mem->devs, mem_node) {
		cds_list_for_each_entry (tc, &dev->tc_list, dev_node) {
			const struct run_cache *c = &tc->cache;

			s->runs += ld_relaxed(&c->n);
			s->slots += ld_relaxed(&c->slots);
			s->maps += ld_relaxed(&c->maps);
			s->bytes_to_dev += ld_relaxed(&c->bytes_to_dev);
			s->bytes_from_dev += ld_relaxed(&c->bytes_from_dev);
		}
	}
}

/* ---- fork ---- */

/* Before fork() (tc_lock held by the caller): every cache of every memory
 * emptied and its owner shut out, so that no thread is inside a cache
 * when the child is made (it would stay "inside" forever there). */
void _swiotlb_runcache_fork_prepare(struct cds_list_head *mems)
{
	struct swiotlb_mem *mem;
	struct swiotlb_dev *dev;
	struct dev_tcount *tc;

	if (!_swiotlb_runcache_on)
		return;
	cds_list_for_each_entry (mem, mems, fork_node) {
		shut_all(mem);
		cds_list_for_each_entry (dev, &mem->devs, mem_node)
			cds_list_for_each_entry (tc, &dev->tc_list, dev_node)
				cache_empty(dev, tc);
	}
}

/* After fork(), in the parent and the child: let the owners back in.  The
 * child's membarrier registration is made again (a new process). */
void _swiotlb_runcache_fork_done(struct cds_list_head *mems, bool child)
{
	struct swiotlb_mem *mem;

	if (!_swiotlb_runcache_on)
		return;
#if !defined(SWIOTLB_MODEL_CHECK) && defined(__NR_membarrier)
	if (child &&
	    syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0) {
		_swiotlb_runcache_on = false; /* the caches are empty: keep them so */
		cds_list_for_each_entry (mem, mems, fork_node)
			if (mem->initial)
				mem->initial->run_cache = false;
	}
#else
	(void)child;
#endif
	cds_list_for_each_entry (mem, mems, fork_node)
		open_all(mem);
}
