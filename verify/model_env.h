/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The environment the library sees when GenMC checks it (built with
 * -DSWIOTLB_MODEL_CHECK; src/internal.h includes this header instead of
 * liburcu).  Everything here is defined in model_env.c.  What is modelled:
 *
 *   RCU     a reader marks itself active (relaxed store) and then runs a
 *           seq_cst fence, like liburcu-bp's read lock (its smp_mb_slave(),
 *           or the membarrier the writer sends instead); the unlock clears
 *           the mark with a release store and no fence (with membarrier,
 *           liburcu-bp's unlock is a compiler barrier only).  A grace
 *           period is a seq_cst fence, a wait (acquire) until every other
 *           thread's mark is clear, and a seq_cst fence.  Deferred callbacks
 *           of a thread run after a grace period when it leaves its
 *           outermost read-side section (at once outside of one).
 *           -DMODEL_RCU_NO_READER_FENCE drops the reader's fences, to show
 *           what relies on them.
 *   CPU id  the GenMC thread index (main = 0).
 *   clock   model_clock, set by the harness (relaxed).
 *   condvar a sequence number: signal bumps it, a wait releases the mutex
 *           and waits (forever: timeouts are not modelled) until it moves.
 *           A wake-up that is never sent shows as a liveness violation
 *           (genmc --check-liveness).
 *   memory  malloc/calloc/aligned_alloc come from a static arena that is
 *           zero at start (GenMC reads an initial value with any access
 *           size, but reports a typed read of bytes written one by one as a
 *           mixed-size access); free() does not reuse it but records the
 *           block, and harnesses assert that a reader never holds a block
 *           freed before its read-side section ended (model_was_freed()).  memset(…, 0, …) of arena memory is a no-op
 *           (it is still zero: nothing is reused), the library's two config
 *           structs are copied field by field, anything else byte by byte
 *           (GenMC supports neither variable-length memcpy nor struct
 *           copies through pointers).
 */
#ifndef SWIOTLB_MODEL_ENV_H
#define SWIOTLB_MODEL_ENV_H

#include <errno.h>
/* GenMC's libc headers lack some errno values the library uses */
#ifndef ECANCELED
#define ECANCELED 125
#endif

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu/list.h>

#ifndef caa_container_of
#define caa_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

struct rcu_head {
	struct rcu_head *next;
	void (*func)(struct rcu_head *head);
};

void model_rcu_read_lock(void);
void model_rcu_read_unlock(void);
void model_call_rcu(struct rcu_head *h, void (*fn)(struct rcu_head *));
void model_synchronize_rcu(void);
void model_rcu_barrier(void);
unsigned model_current_cpu(void);
uint64_t model_now_ns(void);

/* the two RCU list updates the library uses (urcu/rculist.h is not plain C) */
static inline void cds_list_add_rcu(struct cds_list_head *newp, struct cds_list_head *head)
{
	newp->next = head->next;
	newp->prev = head;
	head->next->prev = newp;
	atomic_store_explicit((_Atomic(struct cds_list_head *) *)&head->next, newp,
			      memory_order_release);
}

static inline void cds_list_del_rcu(struct cds_list_head *elem)
{
	elem->next->prev = elem->prev;
	atomic_store_explicit((_Atomic(struct cds_list_head *) *)&elem->prev->next, elem->next,
			      memory_order_relaxed);
}

/* condition variables (GenMC 0.10 has none) */
typedef struct {
	_Atomic unsigned seq;
} pthread_cond_t;
typedef struct {
	int clock;
} pthread_condattr_t;
int pthread_condattr_init(pthread_condattr_t *a);
int pthread_condattr_setclock(pthread_condattr_t *a, clockid_t c);
int pthread_condattr_destroy(pthread_condattr_t *a);
int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a);
int pthread_cond_destroy(pthread_cond_t *c);
int pthread_cond_signal(pthread_cond_t *c);
int pthread_cond_broadcast(pthread_cond_t *c);
int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m);
int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *ts);

void *model_memcpy(void *dst, const void *src, size_t n);
void *model_memset(void *dst, int c, size_t n);
void *model_malloc(size_t size);
void *model_calloc(size_t n, size_t size);
void *model_aligned_alloc(size_t align, size_t size);
void model_free(void *p);
bool model_was_freed(const void *p);
struct swiotlb_provider;
void model_copy_provider(struct swiotlb_provider *d, const struct swiotlb_provider *s);
#define memcpy model_memcpy
#define memset model_memset
#define malloc model_malloc
#define calloc model_calloc
#define aligned_alloc model_aligned_alloc
#define free model_free

#endif /* SWIOTLB_MODEL_ENV_H */
