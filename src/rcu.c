/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * RCU update side: deferred frees, grace periods, the barrier before a
 * memory's teardown, and liburcu-bp's part of the fork protocol.  The read
 * side is inline in rcu.h.
 */
#include <pthread.h>

#include "internal.h"

char _swiotlb_rcu_token;

void _swiotlb_rcu_defer_free(struct rcu_head *head, void (*fn)(struct rcu_head *))
{
	/* what this thread did to the object happens before the callback
	 * (pairs with rcu_cb_enter()); liburcu's queue is invisible to TSan */
	tsan_release(&_swiotlb_rcu_token);
#ifdef SWIOTLB_MODEL_CHECK
	model_call_rcu(head, fn);
#else
	urcu_bp_call_rcu(head, fn);
#endif
}

/* Wait until every deferred free queued so far has run. */
void _swiotlb_rcu_barrier(void)
{
#ifdef SWIOTLB_MODEL_CHECK
	model_rcu_barrier();
#else
	urcu_bp_barrier();
#endif
	/* the callbacks' frees happen before what follows (pairs with
	 * rcu_cb_exit()); TSan cannot see liburcu's barrier */
	tsan_acquire(&_swiotlb_rcu_token);
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

/*
 * liburcu-bp's parts of the fork protocol (fork.c runs them in order):
 * before fork(), pause the call_rcu worker (its callbacks take library
 * locks), then, after the library's own locks, take the reader registry;
 * after fork(), the reverse.  In a model check there is no fork.
 */
void _swiotlb_rcu_fork_prepare(bool workers)
{
#ifndef SWIOTLB_MODEL_CHECK
	if (workers)
		urcu_bp_call_rcu_before_fork();
	else
		urcu_bp_before_fork();
#endif
}

void _swiotlb_rcu_fork_done(bool workers, bool child)
{
#ifndef SWIOTLB_MODEL_CHECK
	if (workers && child)
		urcu_bp_call_rcu_after_fork_child();
	else if (workers)
		urcu_bp_call_rcu_after_fork_parent();
	else if (child)
		urcu_bp_after_fork_child();
	else
		urcu_bp_after_fork_parent();
#endif
}
