/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The resize thread: one per dynamic memory, it grows the memory by a pool
 * on request and shrinks idle grown pools.
 *
 * Growth: a map that finds every pool full (or its last choice crowded)
 * calls _swiotlb_resize_request_grow(), which wakes the thread unless a
 * growth is already in flight; the map never waits for it.  The thread
 * allocates a pool of next_grow_size (halved on provider failure, down to
 * one segment of the memory's segment size: a grown pool holds the largest
 * mapping), adds it to the set and wakes MAY_BLOCK waiters.
 *
 * Shrinking: every shrink period the thread looks at each grown pool.  A
 * pool that had no slot in use and no new allocation across polls spanning
 * shrink_delay_ms is retired (_swiotlb_pool_try_retire()), removed from the
 * set and the lookup, and freed after a grace period (waited for on this
 * thread, so the pool_removed hook runs here).  Initial and extra
 * pools are never shrunk.
 *
 * Under SWIOTLB_MODEL_CHECK the thread is never started: the harness calls
 * _swiotlb_resize_grow_step() and _swiotlb_resize_shrink_step() itself.
 */
#include <pthread.h>
#include <time.h>

#include "internal.h"

/* The shrinker polls this many times per shrink_delay_ms... */
#define SHRINK_POLLS_PER_DELAY 4
/* ...but at least this often, so a short delay is honoured closely. */
#define SHRINK_POLL_MAX_MS 100
/* Sleep between wake-ups when shrinking is off (shrink_delay_ms 0). */
#define RESIZE_IDLE_WAIT_MS 1000

/* Grow by one pool.  Returns true when a pool was added. */
static bool grow_once(struct swiotlb_mem *mem)
{
	size_t size = mem->resize.next_grow_size, seg = mem->cfg.seg_size;

	for (;;) {
		size_t allowed = _swiotlb_pool_bytes_allowed(mem, size) & ~(seg - 1);
		struct pool *p;
		int err;

		if (!allowed)
			return false; /* at max_size: nothing to do */
		p = _swiotlb_pool_create(mem, allowed, mem->cfg.nareas, mem->cfg.limit, PAGE_SZ,
					 POOL_GROWN, &err);
		if (p && _swiotlb_mem_add_pool(mem, p) == 0) {
			stat_add(&mem->stats.grows, 1);
			return true;
		}
		if (p)
			_swiotlb_pool_destroy(p);
		else if (err == -ENOSPC)
			return false; /* max_size or max_pools: nothing to do */
		/* the provider failed or the pool_added hook refused */
		stat_add(&mem->stats.growth_failures, 1);
		if (size <= seg)
			return false;
		/* never below one segment: 'allowed' is masked to segments */
		size /= 2;
		mem->resize.next_grow_size = size; /* like the kernel: stay smaller */
	}
}

static uint64_t pool_allocs(const struct pool *p)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < p->nareas; i++)
		n += ld_relaxed(&p->areas[i].allocs);
	return n;
}

/* Is p idle now and has it been since the last poll?  Updates its idle
 * bookkeeping (resize thread only). */
static bool pool_idle_long_enough(struct pool *p, uint64_t now, uint64_t delay_ns)
{
	uint64_t allocs = pool_allocs(p);

	if (_swiotlb_pool_used(p) || allocs != p->idle_allocs || !p->idle_since_ns) {
		p->idle_allocs = allocs;
		p->idle_since_ns = _swiotlb_pool_used(p) ? 0 : now;
		return false;
	}
	return now - p->idle_since_ns >= delay_ns;
}

/* Release at most one grown pool that has been idle long enough. */
void _swiotlb_resize_shrink_step(struct swiotlb_mem *mem)
{
	uint64_t now = now_ns(), delay = (uint64_t)mem->cfg.shrink_delay_ms * 1000000;
	struct pool *victim = NULL;
	struct pool_set *s;

	rcu_enter();
	/* pairs with the store-release in set_replace() (mem.c): see there */
	s = atomic_load_explicit(&mem->pools, memory_order_acquire);
	for (unsigned i = 0; i < s->n && !victim; i++) {
		struct pool *p = s->pools[i];

		if (p->kind == POOL_GROWN && pool_idle_long_enough(p, now, delay) &&
		    _swiotlb_pool_try_retire(p))
			victim = p;
	}
	rcu_exit();
	if (victim && _swiotlb_mem_remove_pool(mem, victim) == 0) {
		/* This thread may block: wait for the readers here, so that the
		 * pool_removed hook runs on this thread, not on liburcu's
		 * worker.  Without the grace period a reader that found the pool
		 * before its removal could touch freed memory (docs/ORDERING.md,
		 * the delete shape). */
		_swiotlb_rcu_synchronize();
		/* counted before the pool_removed hook runs, so that a hook
		 * (or whoever it tells) reads the shrink in the statistics */
		stat_add(&mem->stats.shrinks, 1);
		_swiotlb_pool_destroy(victim);
	}
}

/* Serve a pending growth request, if any: add a pool and wake the
 * waiters.  Returns true when a pool was added. */
bool _swiotlb_resize_grow_step(struct swiotlb_mem *mem)
{
	bool grew;

	if (!ld_relaxed(&mem->resize.pending))
		return false;
	grew = grow_once(mem);
	st_relaxed(&mem->resize.pending, false);
	if (grew)
		_swiotlb_waitq_wake(&mem->waitq);
	return grew;
}

static void *resize_thread_main(void *arg)
{
	struct swiotlb_mem *mem = arg;
	unsigned delay = mem->cfg.shrink_delay_ms;
	unsigned period = delay ? (delay + SHRINK_POLLS_PER_DELAY - 1) / SHRINK_POLLS_PER_DELAY : 0;

	if (period > SHRINK_POLL_MAX_MS)
		period = SHRINK_POLL_MAX_MS;
	pthread_mutex_lock(&mem->resize.lock);
	while (!mem->resize.stop) {
		if (!ld_relaxed(&mem->resize.pending) && !mem->resize.reclaim) {
			struct timespec ts;

			deadline_after_ms(CLOCK_REALTIME, period ? period : RESIZE_IDLE_WAIT_MS,
					  &ts);
			pthread_cond_timedwait(&mem->resize.cond, &mem->resize.lock, &ts);
		}
		if (mem->resize.stop)
			break;
		mem->resize.reclaim = false;
		pthread_mutex_unlock(&mem->resize.lock);
		_swiotlb_resize_grow_step(mem);
		if (period)
			_swiotlb_resize_shrink_step(mem);
		/* pools, sets and tables unpublished since the last round,
		 * after a grace period (rcu.h) */
		_swiotlb_rcu_reclaim(&mem->limbo);
		pthread_mutex_lock(&mem->resize.lock);
	}
	pthread_mutex_unlock(&mem->resize.lock);
	rcu_thread_exit();
	return NULL;
}

int _swiotlb_resize_start(struct swiotlb_mem *mem)
{
#ifdef SWIOTLB_MODEL_CHECK
	(void)resize_thread_main;
	return 0;
#endif
	pthread_mutex_init(&mem->resize.lock, NULL);
	pthread_cond_init(&mem->resize.cond, NULL);
	if (pthread_create(&mem->resize.thread, NULL, resize_thread_main, mem) != 0)
		return -EAGAIN;
	mem->resize.started = true;
	return 0;
}

void _swiotlb_resize_stop(struct swiotlb_mem *mem)
{
	if (!mem->resize.started)
		return;
	pthread_mutex_lock(&mem->resize.lock);
	mem->resize.stop = true;
	pthread_cond_signal(&mem->resize.cond);
	pthread_mutex_unlock(&mem->resize.lock);
	pthread_join(mem->resize.thread, NULL);
	pthread_cond_destroy(&mem->resize.cond);
	pthread_mutex_destroy(&mem->resize.lock);
	mem->resize.started = false;
}

/* Ask the resize thread to run the deferred frees queued so far (a
 * transient pool was released).  Without a resize thread (a static
 * memory, a forked child, a model check) they wait for the next reclaim
 * or swiotlb_mem_destroy(). */
void _swiotlb_resize_request_reclaim(struct swiotlb_mem *mem)
{
	if (!mem->resize.started)
		return;
	pthread_mutex_lock(&mem->resize.lock);
	mem->resize.reclaim = true;
	pthread_cond_signal(&mem->resize.cond);
	pthread_mutex_unlock(&mem->resize.lock);
}

/* Ask for one more pool.  Never blocks on the growth itself: at most one
 * request is in flight, later callers only read the flag. */
void _swiotlb_resize_request_grow(struct swiotlb_mem *mem)
{
	if (!mem->cfg.dynamic || ld_relaxed(&mem->resize.pending) ||
	    atomic_exchange_explicit(&mem->resize.pending, true, memory_order_relaxed))
		return;
#ifdef SWIOTLB_MODEL_CHECK
	return; /* the harness runs _swiotlb_resize_grow_step() */
#endif
	pthread_mutex_lock(&mem->resize.lock);
	pthread_cond_signal(&mem->resize.cond);
	pthread_mutex_unlock(&mem->resize.lock);
}
