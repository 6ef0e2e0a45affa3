/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * RCU update side: deferred frees, the barrier before a memory's teardown,
 * and liburcu-bp's fork hooks.  The read side is inline in rcu.h.
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

/* urcu-bp needs its fork hooks around fork() (its registry lock and the
 * call_rcu worker); a library cannot ask every caller to add them, so the
 * first memory registers them.  In a child the resize thread of an
 * inherited memory is gone: maps still work, with transient pools. */
static void fork_hooks_register(void)
{
#ifndef SWIOTLB_MODEL_CHECK
	pthread_atfork(urcu_bp_before_fork, urcu_bp_after_fork_parent, urcu_bp_after_fork_child);
#endif
}

void _swiotlb_rcu_register_fork_hooks(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, fork_hooks_register);
}
