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
 * The retry runs WITHOUT q->lock: it may create a transient pool (the
 * provider's mmap, the pool_added hook, mutexes), and a free on another
 * thread must never wait for that (waitq_wake() takes q->lock).  A wake-up
 * that comes while the head is retrying is not lost: waitq_wake() bumps
 * q->wakeups under q->lock, and the head, before it sleeps, compares it
 * with the value it read before its retry.
 *
 * No lost wake-up between a freeing thread and the head's retry:
 *  - slots: the retry takes every area lock it looks at (slot_req.waiting
 *    turns off the unlocked full-area skip), and the freeing thread reads
 *    nwaiters under the area lock it freed under
 *    (_swiotlb_mapping_release_locked(), unmap.c).  If the retry locked that area after the free, it sees the
 *    slots; if before, its enqueue() (nwaiters++) happens before the
 *    freer's read through the area lock, and the freer wakes it.  No
 *    fence, and no extra locked instruction, on the unmap path.
 *  - pool memory given back under max_size/max_pools
 *    (pool_caps_release(), pool.c) is a store-buffering shape:
 *      head:  nwaiters++ (enqueue)        freer: pool_bytes -= len
 *             fence(seq_cst)  [F1]               fence(seq_cst)  [F2]
 *             read pool_bytes (retry)            read nwaiters
 *    With both fences one of the two reads sees the other's store (F1 in
 *    retry_unlocked(), F2 in waitq_notify_caps(), internal.h); without
 *    them C11 and even x86-TSO let both miss (stores still in the store
 *    buffers).
 *  - pools added by the resize thread wake unconditionally.
 */
#include <time.h>

#include "internal.h"

void _swiotlb_waitq_init(struct waitq *q)
{
	pthread_mutex_init(&q->lock, NULL);
	q->head = q->tail = NULL;
	q->wakeups = 0;
	atomic_init(&q->nwaiters, 0);
}

void _swiotlb_waitq_fini(struct waitq *q)
{
	pthread_mutex_destroy(&q->lock);
}

/* Wake the head waiter, if any.  Called after slots or pool memory were
 * freed or a pool was added. */
void _swiotlb_waitq_wake(struct waitq *q)
{
	pthread_mutex_lock(&q->lock);
	q->wakeups++;
	if (q->head)
		pthread_cond_signal(&q->head->cond);
	pthread_mutex_unlock(&q->lock);
}

/* One retry by the head waiter, with q->lock dropped (see the top of this
 * file).  Returns try_alloc's result; *missed is set when a wake-up came
 * during the retry. */
static int retry_unlocked(struct waitq *q, waitq_try_fn try_alloc, void *ctx, bool *missed)
{
	unsigned long seen = q->wakeups;
	int rc;

	pthread_mutex_unlock(&q->lock);
	/* F1: orders our nwaiters increment (enqueue()) before the retry's
	 * loads of pool_bytes and pools_alive; pairs with F2 in
	 * waitq_notify_caps() (internal.h).  Without it the retry may miss
	 * memory given back while the giver misses this waiter (store
	 * buffering) and the waiter sleeps to its deadline. */
	atomic_thread_fence(memory_order_seq_cst);
	rc = try_alloc(ctx);
	pthread_mutex_lock(&q->lock);
	*missed = q->wakeups != seen;
	return rc;
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
 * Wait until try_alloc(ctx) returns something other than -ENOSPC (that
 * result is returned) or timeout_ms passes (-ETIMEDOUT).  try_alloc runs
 * without q->lock and may block (a transient pool: provider, hook).
 */
int _swiotlb_waitq_wait(struct swiotlb_mem *mem, waitq_try_fn try_alloc, void *ctx,
			unsigned timeout_ms)
{
	struct waitq *q = &mem->waitq;
	struct waiter w;
	pthread_condattr_t attr;
	struct timespec deadline;
	uint64_t t0 = now_ns();
	bool missed = false;
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
			rc = retry_unlocked(q, try_alloc, ctx, &missed);
			if (rc != -ENOSPC)
				break;
			if (missed)
				continue;
		}
		if (pthread_cond_timedwait(&w.cond, &q->lock, &deadline) == ETIMEDOUT) {
			rc = q->head == &w ? retry_unlocked(q, try_alloc, ctx, &missed) : -ENOSPC;
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
