/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MAY_BLOCK waiters: a FIFO queue, first come first served.
 *
 * Only the waiter at the head of the queue retries the allocation; when it
 * succeeds, times out or gives up it leaves the queue and wakes the next
 * head, which retries in turn.  So no waiter is stranded by a free that
 * suits a later waiter but not the head (each new head retries at once),
 * and a big request is not starved by a stream of small ones.
 *
 * No lost wake-up, without a barrier on the free path: a waiter increments
 * nwaiters and then retries under the area locks while holding q->lock, and
 * sleeps on its condition variable (releasing q->lock atomically).  The
 * freeing thread releases slots under an area lock and then reads nwaiters.
 * Either the waiter's retry took that area lock after the free (it saw the
 * freed slots), or it took it before, and then its increment of nwaiters
 * happens before the freeing thread's read (through the area lock), which
 * therefore sees a waiter and signals the head under q->lock, which the
 * head holds until it sleeps.
 */
#include <time.h>

#include "internal.h"

void _swiotlb_waitq_init(struct waitq *q)
{
	pthread_mutex_init(&q->lock, NULL);
	q->head = q->tail = NULL;
	atomic_init(&q->nwaiters, 0);
}

void _swiotlb_waitq_fini(struct waitq *q)
{
	pthread_mutex_destroy(&q->lock);
}

/* Wake the head waiter, if any.  Called after slots were freed or a pool
 * was added. */
void _swiotlb_waitq_wake(struct waitq *q)
{
	pthread_mutex_lock(&q->lock);
	if (q->head)
		pthread_cond_signal(&q->head->cond);
	pthread_mutex_unlock(&q->lock);
}

static void enqueue(struct waitq *q, struct waiter *w)
{
	w->next = NULL;
	if (q->tail)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
	add_relaxed(&q->nwaiters, 1);
}

/* Remove w (anywhere in the queue) and wake the new head. */
static void dequeue(struct waitq *q, struct waiter *w)
{
	struct waiter **pp = &q->head, *prev = NULL;

	while (*pp != w) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	*pp = w->next;
	if (q->tail == w)
		q->tail = prev;
	sub_relaxed(&q->nwaiters, 1);
	if (q->head)
		pthread_cond_signal(&q->head->cond);
}

/*
 * Wait until try_alloc(ctx) returns 0 (its result is returned) or
 * timeout_ms passes (-ETIMEDOUT).  try_alloc runs with q->lock held: it
 * takes area locks and may create a transient pool (provider memory,
 * malloc, the lookup's writer mutex), so it must never take q->lock
 * itself, nor wait for another MAY_BLOCK waiter.
 */
int _swiotlb_waitq_wait(struct swiotlb_mem *mem, waitq_try_fn try_alloc, void *ctx,
			unsigned timeout_ms)
{
	struct waitq *q = &mem->waitq;
	struct waiter w;
	pthread_condattr_t attr;
	struct timespec deadline;
	uint64_t t0 = now_ns();
	int rc = -ETIMEDOUT;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cond, &attr);
	pthread_condattr_destroy(&attr);
	deadline_after_ms(CLOCK_MONOTONIC, timeout_ms, &deadline);

	pthread_mutex_lock(&q->lock);
	enqueue(q, &w);
	for (;;) {
		if (q->head == &w) {
			rc = try_alloc(ctx);
			if (rc != -ENOSPC)
				break;
		}
		if (pthread_cond_timedwait(&w.cond, &q->lock, &deadline) == ETIMEDOUT) {
			rc = q->head == &w ? try_alloc(ctx) : -ENOSPC;
			if (rc == -ENOSPC) {
				rc = -ETIMEDOUT;
				stat_add(&mem->stats.wait_timeouts, 1);
			}
			break;
		}
	}
	dequeue(q, &w);
	pthread_mutex_unlock(&q->lock);
	pthread_cond_destroy(&w.cond);
	stat_add(&mem->stats.waits, 1);
	stat_add(&mem->stats.wait_ns, now_ns() - t0);
	return rc;
}
