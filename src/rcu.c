/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * RCU update side: deferred frees (the limbo of rcu.h), grace periods, and
 * liburcu-bp's part of the fork protocol.  The read
 * side is inline in rcu.h.
 */
#include <pthread.h>

#include "internal.h"

char _swiotlb_rcu_token;

void _swiotlb_rcu_limbo_init(struct rcu_limbo *lb)
{
	pthread_mutex_init(&lb->lock, NULL);
	lb->list = NULL;
}

/* Destroy an empty limbo (after the last _swiotlb_rcu_reclaim()). */
void _swiotlb_rcu_limbo_fini(struct rcu_limbo *lb)
{
	pthread_mutex_destroy(&lb->lock);
}

/* Queue fn(d) to run after a grace period (see struct rcu_deferred).
 * Never blocks on the grace period itself. */
void _swiotlb_rcu_defer_free(struct rcu_limbo *lb, struct rcu_deferred *d,
			     void (*fn)(struct rcu_deferred *d))
{
	/* what this thread did to the object happens before the free (pairs
	 * with rcu_cb_enter()); TSan cannot see the grace period */
	tsan_release(&_swiotlb_rcu_token);
	d->fn = fn;
	pthread_mutex_lock(&lb->lock);
	d->next = lb->list;
	lb->list = d;
	pthread_mutex_unlock(&lb->lock);
}

/*
 * Run the frees queued so far, after a grace period: every reader that
 * could have found their objects before they were unpublished has left
 * its read-side section.  Not inside a read-side section.  Returns
 * whether anything ran.
 */
bool _swiotlb_rcu_reclaim(struct rcu_limbo *lb)
{
	struct rcu_deferred *d, *next;

	pthread_mutex_lock(&lb->lock);
	d = lb->list;
	lb->list = NULL;
	pthread_mutex_unlock(&lb->lock);
	if (!d)
		return false;
	/* Without this grace period a reader that found a pool before its
	 * removal could use freed memory (docs/ORDERING.md, barrier 5). */
	_swiotlb_rcu_synchronize();
	for (; d; d = next) {
		next = d->next;
		d->fn(d);
	}
	return true;
}

/* Wait for a grace period: every read-side section that began before
 * has ended.  Never inside a read-side section. */
void _swiotlb_rcu_synchronize(void)
{
#ifdef SWIOTLB_MODEL_CHECK
	model_synchronize_rcu();
#else
	urcu_bp_synchronize_rcu();
#endif
	/* pairs with tsan_release() in rcu_exit(): the readers are done */
	tsan_acquire(&_swiotlb_rcu_token);
}

/* liburcu-bp's part of the fork protocol (fork.c): its locks are taken
 * before the library's own and given back after them.  In a model check
 * there is no fork. */
void _swiotlb_rcu_fork_prepare(void)
{
#ifndef SWIOTLB_MODEL_CHECK
	urcu_bp_before_fork();
#endif
}

void _swiotlb_rcu_fork_done(bool child)
{
#ifndef SWIOTLB_MODEL_CHECK
	if (child)
		urcu_bp_after_fork_child();
	else
		urcu_bp_after_fork_parent();
#endif
}
