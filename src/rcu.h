/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * RCU, as the library uses it: read-side sections around every walk of
 * the pool set or the lookup, and frees deferred past a grace period.
 *
 * The implementation is liburcu-bp (readers need no registration, which a
 * library cannot ask of its callers' threads).  Under SWIOTLB_MODEL_CHECK
 * the model checker's harness (model_env.h) provides the same operations.
 *
 * ThreadSanitizer cannot see liburcu's grace periods, so under TSan every
 * read-side section ends with a release on one token (_swiotlb_rcu_token)
 * that every deferred-free callback acquires (rcu_cb_enter()), and the
 * deferring thread releases it before queueing the callback.
 */
#ifndef SWIOTLB_RCU_H
#define SWIOTLB_RCU_H

#include <pthread.h>

#include "atomic.h"

#ifdef SWIOTLB_MODEL_CHECK
#include "model_env.h"
#else
/* Inline liburcu's read side (LGPL-compatible).  Sanitizer builds call the
 * out-of-line functions instead: UBSan flags liburcu's own header code
 * (struct urcu_bp_reader is declared 128-byte aligned but liburcu does not
 * allocate it so), which is not ours to fix. */
#ifndef SWIOTLB_NO_URCU_INLINE
#define _LGPL_SOURCE
#endif
#include <urcu/urcu-bp.h>
#endif

extern char _swiotlb_rcu_token;

/*
 * A free deferred past a grace period.  Objects that readers may still
 * hold after they are unpublished (pools, pool sets, lookup tables) embed
 * one and are queued on their memory's limbo; _swiotlb_rcu_reclaim()
 * waits for a grace period and runs the queued frees.  The memory's
 * resize thread reclaims (so deferred frees, the pool_removed hook among
 * them, run there, within microseconds of a transient pool's release),
 * and swiotlb_mem_destroy() reclaims what is left.  liburcu's call_rcu
 * worker is not used: it batches callbacks 10 ms apart, which made every
 * teardown and every wait for a transient pool's memory that slow.
 */
struct rcu_deferred {
	struct rcu_deferred *next;          /* limbo list (under its lock) */
	void (*fn)(struct rcu_deferred *d); /* the free */
};

/* Deferred frees not yet run, oldest last. */
struct rcu_limbo {
	pthread_mutex_t lock;      /* protects list */
	struct rcu_deferred *list; /* queued by _swiotlb_rcu_defer_free() */
};

static inline void rcu_enter(void)
{
#ifdef SWIOTLB_MODEL_CHECK
	model_rcu_read_lock();
#else
	urcu_bp_read_lock();
#endif
}

static inline void rcu_exit(void)
{
	/* pairs with tsan_acquire() in rcu_cb_enter() and _swiotlb_rcu_barrier() */
	tsan_release(&_swiotlb_rcu_token);
#ifdef SWIOTLB_MODEL_CHECK
	model_rcu_read_unlock();
#else
	urcu_bp_read_unlock();
#endif
}

/* Bracket every deferred-free callback: under TSan, acquire what readers
 * and the deferring thread released, and release for swiotlb_mem_destroy(),
 * which acquires after the RCU barrier. */
static inline void rcu_cb_enter(void)
{
	tsan_acquire(&_swiotlb_rcu_token);
}

static inline void rcu_cb_exit(void)
{
	tsan_release(&_swiotlb_rcu_token);
}

/* A library thread that is about to exit (no-op with liburcu-bp, whose
 * readers are registered lazily; keeps the intent explicit). */
static inline void rcu_thread_exit(void)
{
#ifndef SWIOTLB_MODEL_CHECK
	urcu_bp_unregister_thread();
#endif
}

#endif /* SWIOTLB_RCU_H */
