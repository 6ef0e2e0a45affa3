/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Dynamic pools: the background growth thread (which also shrinks idle
 * grown pools) and transient per-device pools.
 *
 * Growth: a map that finds every pool full calls grow_request(), which
 * wakes the growth thread unless a growth is already in flight; the map
 * never waits for it.  The thread allocates a pool of next_grow_size
 * (halved on provider failure, down to one segment), adds it to the set
 * and wakes MAY_BLOCK waiters.
 *
 * Shrinking: every shrink period the thread looks at each grown pool.  A
 * pool that had no slot in use and no new allocation across polls spanning
 * shrink_delay_ms is retired (pool_try_retire()), removed from the set
 * and index, and freed after a grace period.  Initial and extra pools are
 * never shrunk.
 *
 * Transient pools: when the pools are full, the request is served at once
 * from a pool of exactly the needed size owned by the device and holding
 * that one mapping; unmapping the mapping releases the pool.
 */
#include <stdlib.h>
#include <time.h>

#ifndef SWIOTLB_MODEL_CHECK /* model_env.h has the two list calls */
#include <urcu/rculist.h>
#endif

#include "internal.h"

static size_t pools_bytes_allowed(struct swiotlb_mem *mem, size_t want)
{
	uint64_t have = atomic_load_explicit(&mem->pool_bytes, memory_order_relaxed);

	if (!mem->max_size)
		return want;
	if (have >= mem->max_size)
		return 0;
	return want < mem->max_size - have ? want : mem->max_size - have;
}

/* Grow by one pool.  Returns true when a pool was added. */
MODEL_VISIBLE bool grow_once(struct swiotlb_mem *mem)
{
	size_t size = mem->next_grow_size;

	for (;;) {
		size_t allowed = pools_bytes_allowed(mem, size) & ~(SEG_SIZE - 1);
		struct pool *p;

		if (!allowed)
			return false; /* at max_size: nothing to do */
		p = pool_create(mem, allowed, mem->nareas, mem->limit, PAGE_SZ, POOL_GROWN);
		if (p && mem_add_pool(mem, p) == 0) {
			stat_add(&mem->grows, 1);
			return true;
		}
		if (p)
			pool_destroy(p);
		stat_add(&mem->growth_failures, 1);
		if (size <= SEG_SIZE)
			return false;
		size /= 2;
		mem->next_grow_size = size; /* like the kernel: stay smaller */
	}
}

static uint64_t pool_allocs(const struct pool *p)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < p->nareas; i++)
		n += atomic_load_explicit(&p->areas[i].allocs, memory_order_relaxed);
	return n;
}

/* Is p idle now and has it been since the last poll?  Updates its idle
 * bookkeeping (growth thread only). */
static bool pool_idle_long_enough(struct pool *p, uint64_t now, uint64_t delay_ns)
{
	uint64_t allocs = pool_allocs(p);

	if (pool_used(p) || allocs != p->idle_allocs || !p->idle_since_ns) {
		p->idle_allocs = allocs;
		p->idle_since_ns = pool_used(p) ? 0 : now;
		return false;
	}
	return now - p->idle_since_ns >= delay_ns;
}

MODEL_VISIBLE void shrink_scan(struct swiotlb_mem *mem)
{
	uint64_t now = now_ns(), delay = (uint64_t)mem->shrink_delay_ms * 1000000;
	struct pool *victim = NULL;
	struct pool_set *s;

	rcu_enter();
	/* pairs with the store-release in set_replace() */
	s = atomic_load_explicit(&mem->pools, memory_order_acquire);
	for (unsigned i = 0; i < s->n && !victim; i++) {
		struct pool *p = s->pools[i];

		if (p->kind == POOL_GROWN && pool_idle_long_enough(p, now, delay) &&
		    pool_try_retire(p))
			victim = p;
	}
	rcu_exit();
	if (victim) {
		mem_remove_pool(mem, victim);
		stat_add(&mem->shrinks, 1);
	}
}

static void *grow_thread_main(void *arg)
{
	struct swiotlb_mem *mem = arg;
	unsigned period = mem->shrink_delay_ms ? (mem->shrink_delay_ms + 3) / 4 : 0;

	if (period > 100)
		period = 100;
	pthread_mutex_lock(&mem->grow_lock);
	while (!mem->grow_stop) {
		if (!atomic_load_explicit(&mem->grow_pending, memory_order_relaxed)) {
			struct timespec ts;

			deadline_after_ms(CLOCK_REALTIME, period ? period : 1000, &ts);
			pthread_cond_timedwait(&mem->grow_cond, &mem->grow_lock, &ts);
		}
		if (mem->grow_stop)
			break;
		pthread_mutex_unlock(&mem->grow_lock);
		if (atomic_load_explicit(&mem->grow_pending, memory_order_relaxed)) {
			bool grew = grow_once(mem);

			atomic_store_explicit(&mem->grow_pending, false, memory_order_relaxed);
			if (grew)
				waitq_wake(&mem->waitq);
		}
		if (period)
			shrink_scan(mem);
		pthread_mutex_lock(&mem->grow_lock);
	}
	pthread_mutex_unlock(&mem->grow_lock);
#ifndef SWIOTLB_MODEL_CHECK
	urcu_bp_unregister_thread(); /* no-op in bp; keeps intent explicit */
#endif
	return NULL;
}

int grow_start(struct swiotlb_mem *mem)
{
	pthread_mutex_init(&mem->grow_lock, NULL);
	pthread_cond_init(&mem->grow_cond, NULL);
#ifdef SWIOTLB_MODEL_CHECK
	return 0; /* no thread: the harness calls grow_once()/shrink_scan() */
#endif
	if (pthread_create(&mem->grow_thread, NULL, grow_thread_main, mem) != 0)
		return -EAGAIN;
	mem->grow_thread_started = true;
	return 0;
}

void grow_stop(struct swiotlb_mem *mem)
{
	if (!mem->grow_thread_started)
		return;
	pthread_mutex_lock(&mem->grow_lock);
	mem->grow_stop = true;
	pthread_cond_signal(&mem->grow_cond);
	pthread_mutex_unlock(&mem->grow_lock);
	pthread_join(mem->grow_thread, NULL);
	pthread_cond_destroy(&mem->grow_cond);
	pthread_mutex_destroy(&mem->grow_lock);
	mem->grow_thread_started = false;
}

/* Ask for one more pool.  Never blocks on the growth itself: at most one
 * request is in flight, later callers only read the flag. */
void grow_request(struct swiotlb_mem *mem)
{
	if (!mem->dynamic ||
	    atomic_load_explicit(&mem->grow_pending, memory_order_relaxed) ||
	    atomic_exchange_explicit(&mem->grow_pending, true, memory_order_relaxed))
		return;
	pthread_mutex_lock(&mem->grow_lock);
	pthread_cond_signal(&mem->grow_cond);
	pthread_mutex_unlock(&mem->grow_lock);
}

/*
 * A transient pool for one request of dev, holding that mapping already
 * (its slots claimed, metadata recorded).  Exactly the needed size: the
 * pool is aligned to the request's alignment, so the run starts at slot 0,
 * or at the slot whose address bits match the original's under
 * min_align_mask (those leading slots are the only extra).  Below the
 * device's dma_mask.
 * Published in the index and on dev's list.  NULL when max_size forbids
 * it or the provider fails.  Caller is inside an RCU read-side section.
 */
struct pool *transient_create(struct swiotlb_dev *dev, const struct slot_req *rq,
			      int *first)
{
	struct swiotlb_mem *mem = dev->mem;
	size_t align = (rq->alloc_align_mask > rq->iotlb_align_mask ? rq->alloc_align_mask
								     : rq->iotlb_align_mask) + 1;
	size_t lead = rq->orig ? (rq->orig & rq->iotlb_align_mask) >> SLOT_SHIFT : 0;
	size_t bytes = ((size_t)rq->nslots + lead) << SLOT_SHIFT;
	swiotlb_addr_t limit = mem->limit;
	struct pool *p;

	if (dev->dma_mask != UINT64_MAX && (!limit || dev->dma_mask < limit))
		limit = dev->dma_mask;
	if (pools_bytes_allowed(mem, align_up(bytes, PAGE_SZ)) < align_up(bytes, PAGE_SZ))
		return NULL;
	p = pool_create(mem, bytes, 1, limit, align > PAGE_SZ ? align : PAGE_SZ, POOL_TRANSIENT);
	if (!p)
		return NULL;
	p->owner = dev;
	*first = area_find_slots(p, 0, rq);
	if (*first < 0 || pool_publish(&mem->index, p) < 0) {
		*first = -1;
		pool_destroy(p);
		return NULL;
	}
	/* one mapping per transient pool: nothing else may land here */
	atomic_store_explicit(&p->retired, true, memory_order_relaxed);
	pthread_mutex_lock(&dev->lock);
	cds_list_add_rcu(&p->dev_node, &dev->transients);
	pthread_mutex_unlock(&dev->lock);
	stat_add(&dev->transient_live, 1);
	stat_add(&mem->transient_live, 1);
	stat_add(&mem->transient_created, 1);
	stat_add(&mem->transient_slots, p->nslots);
	return p;
}

/* Release a transient pool whose mapping was just unmapped. */
void transient_release(struct pool *p)
{
	struct swiotlb_dev *dev = (struct swiotlb_dev *)p->owner;
	struct swiotlb_mem *mem = p->mem;

	pool_unpublish(&mem->index, p);
	pthread_mutex_lock(&dev->lock);
	cds_list_del_rcu(&p->dev_node);
	pthread_mutex_unlock(&dev->lock);
	atomic_fetch_sub_explicit(&dev->transient_live, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&mem->transient_live, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&mem->transient_slots, p->nslots, memory_order_relaxed);
	mem_fold_pool_stats(mem, p);
	pool_free_rcu(p);
}
