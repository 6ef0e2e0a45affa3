/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Definitions of the model environment (model_env.h).  Included once by
 * each harness (GenMC checks one translation unit).
 */
#include <assert.h>
#include <genmc.h>

#include "model_env.h"
#include "swiotlb.h"

#ifndef MODEL_ARENA_BYTES
#define MODEL_ARENA_BYTES 6144
#endif
static unsigned char model_arena[MODEL_ARENA_BYTES] __attribute__((aligned(64)));
static _Atomic size_t model_arena_used;

#define MODEL_MAX_THREADS 4

/* struct runcache_sum (types.h, zeroed by runcache.c): five uint64_t,
 * zeroed as such (harness.h checks the size) */
#define MODEL_RUNCACHE_SUM_BYTES (5 * sizeof(uint64_t))

_Atomic uint64_t model_clock;

static _Atomic int rcu_active[MODEL_MAX_THREADS];  /* read by grace periods */
static int rcu_nest[MODEL_MAX_THREADS];            /* thread-private */
static struct rcu_head *rcu_pending[MODEL_MAX_THREADS]; /* thread-private */

static unsigned self(void)
{
	unsigned t = (unsigned)__VERIFIER_thread_self();

	assert(t < MODEL_MAX_THREADS);
	return t;
}

unsigned model_current_cpu(void)
{
	return self();
}

uint64_t model_now_ns(void)
{
	return atomic_load_explicit(&model_clock, memory_order_relaxed);
}

void model_synchronize_rcu(void)
{
	unsigned me = self();

	assert(rcu_nest[me] == 0); /* a grace period inside a reader deadlocks */
	atomic_thread_fence(memory_order_seq_cst);
	for (unsigned t = 0; t < MODEL_MAX_THREADS; t++)
		if (t != me)
			while (atomic_load_explicit(&rcu_active[t], memory_order_acquire))
				;
	atomic_thread_fence(memory_order_seq_cst);
}

static void rcu_run_pending(unsigned me)
{
	struct rcu_head *h = rcu_pending[me];

	if (!h)
		return;
	rcu_pending[me] = NULL;
	model_synchronize_rcu();
	while (h) {
		struct rcu_head *next = h->next;

		h->func(h);
		h = next;
	}
}

void model_rcu_read_lock(void)
{
	unsigned me = self();

	if (rcu_nest[me]++)
		return;
	atomic_store_explicit(&rcu_active[me], 1, memory_order_relaxed);
#ifndef MODEL_RCU_NO_READER_FENCE
	atomic_thread_fence(memory_order_seq_cst);
#endif
}

void model_rcu_read_unlock(void)
{
	unsigned me = self();

	assert(rcu_nest[me] > 0);
	if (--rcu_nest[me])
		return;
	/* A release store, no fence: with membarrier, liburcu-bp's unlock is
	 * only a compiler barrier, so it must not hide a missing release on
	 * the map path (a fence here would pair with the unmap's acquire). */
	atomic_store_explicit(&rcu_active[me], 0, memory_order_release);
	rcu_run_pending(me);
}

/* FIFO per thread; run when the thread leaves its read-side section */
void model_call_rcu(struct rcu_head *h, void (*fn)(struct rcu_head *))
{
	unsigned me = self();
	struct rcu_head **pp = &rcu_pending[me];

	h->func = fn;
	h->next = NULL;
	while (*pp)
		pp = &(*pp)->next;
	*pp = h;
	if (!rcu_nest[me])
		rcu_run_pending(me);
}

void model_rcu_barrier(void)
{
	rcu_run_pending(self());
}

int pthread_condattr_init(pthread_condattr_t *a)
{
	a->clock = 0;
	return 0;
}

int pthread_condattr_setclock(pthread_condattr_t *a, clockid_t c)
{
	a->clock = (int)c;
	return 0;
}

int pthread_condattr_destroy(pthread_condattr_t *a)
{
	(void)a;
	return 0;
}

int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a)
{
	(void)a;
	atomic_init(&c->seq, 0);
	return 0;
}

int pthread_cond_destroy(pthread_cond_t *c)
{
	(void)c;
	return 0;
}

int pthread_cond_signal(pthread_cond_t *c)
{
	atomic_fetch_add_explicit(&c->seq, 1, memory_order_relaxed);
	return 0;
}

int pthread_cond_broadcast(pthread_cond_t *c)
{
	return pthread_cond_signal(c);
}

int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	unsigned seen = atomic_load_explicit(&c->seq, memory_order_relaxed);

	pthread_mutex_unlock(m);
	while (atomic_load_explicit(&c->seq, memory_order_relaxed) == seen)
		;
	pthread_mutex_lock(m);
	return 0;
}

int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *ts)
{
	(void)ts; /* no timeouts: a wake-up that never comes is a liveness error */
	return pthread_cond_wait(c, m);
}

static bool in_arena(const void *p)
{
	return (const unsigned char *)p >= model_arena &&
	       (const unsigned char *)p < model_arena + MODEL_ARENA_BYTES;
}

/* a lock-free bump: one relaxed RMW per allocation, blocks of 64 bytes */
void *model_aligned_alloc(size_t align, size_t size)
{
	size_t len = (size + 63) & ~(size_t)63;
	size_t at = atomic_fetch_add_explicit(&model_arena_used, len, memory_order_relaxed);

	assert(align <= 64 && at + len <= MODEL_ARENA_BYTES); /* else raise MODEL_ARENA_BYTES */
	return model_arena + at;
}

void *model_malloc(size_t size)
{
	return model_aligned_alloc(16, size);
}

void *model_calloc(size_t n, size_t size)
{
	return model_aligned_alloc(16, n * size);
}

/* Freed blocks are remembered (not reused) so that a harness can assert
 * that a reader never holds a block freed before its read-side section
 * ended (model_was_freed()). */
#define MODEL_MAX_FREES 16
static _Atomic(void *) model_freed[MODEL_MAX_FREES];
static _Atomic unsigned model_nfreed;

void model_free(void *p)
{
	unsigned i;

	if (!p)
		return;
	i = atomic_fetch_add_explicit(&model_nfreed, 1, memory_order_relaxed);
	assert(i < MODEL_MAX_FREES);
	atomic_store_explicit(&model_freed[i], p, memory_order_relaxed);
}

bool model_was_freed(const void *p)
{
	for (unsigned i = 0; i < MODEL_MAX_FREES; i++)
		if (atomic_load_explicit(&model_freed[i], memory_order_relaxed) == p)
			return true;
	return false;
}

static void copy_mem_config(struct swiotlb_mem_config *d, const struct swiotlb_mem_config *s)
{
	d->size = s->size;
	d->nareas = s->nareas;
	d->limit = s->limit;
	d->provider = s->provider;
	d->log = s->log;
	d->strict_cursor = s->strict_cursor;
	d->log_ctx = s->log_ctx;
	d->dynamic = s->dynamic;
	d->max_size = s->max_size;
	d->grow_size = s->grow_size;
	d->shrink_delay_ms = s->shrink_delay_ms;
	d->wait_timeout_ms = s->wait_timeout_ms;
	d->max_pools = s->max_pools;
	d->pool_added = s->pool_added;
	d->pool_removed = s->pool_removed;
	d->hook_ctx = s->hook_ctx;
}

void model_copy_provider(struct swiotlb_provider *d, const struct swiotlb_provider *s)
{
	d->version = s->version;
	d->name = s->name;
	d->ctx = s->ctx;
	d->alloc = s->alloc;
	d->free = s->free;
	d->fd = s->fd;
	d->destroy = s->destroy;
}

static void copy_dev_config(struct swiotlb_dev_config *d, const struct swiotlb_dev_config *s)
{
	d->name = s->name;
	d->dma_mask = s->dma_mask;
	d->min_align_mask = s->min_align_mask;
	d->seg_boundary_mask = s->seg_boundary_mask;
	d->force_bounce = s->force_bounce;
	d->direct = s->direct;
	d->direct_ctx = s->direct_ctx;
}

void *model_memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (n == sizeof(struct swiotlb_mem_config)) {
		copy_mem_config(dst, src);
	} else if (n == sizeof(struct swiotlb_dev_config)) {
		copy_dev_config(dst, src);
	} else if (n % sizeof(void *) == 0 && (uintptr_t)dst % sizeof(void *) == 0 &&
		   (uintptr_t)src % sizeof(void *) == 0 && in_arena(dst)) {
		for (size_t i = 0; i < n / sizeof(void *); i++) /* pointer arrays */
			((void **)dst)[i] = ((void *const *)src)[i];
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	}
	return dst;
}

void *model_memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	if (c == 0 && in_arena(dst))
		return dst; /* the arena is zero and never reused */
	if (c == 0 && n == sizeof(struct swiotlb_mem_config))
		copy_mem_config(dst, &(struct swiotlb_mem_config){ 0 });
	else if (c == 0 && n == sizeof(struct swiotlb_dev_config))
		copy_dev_config(dst, &(struct swiotlb_dev_config){ 0 });
	else if (c == 0 && n == MODEL_RUNCACHE_SUM_BYTES && (uintptr_t)dst % sizeof(uint64_t) == 0)
		for (size_t i = 0; i < n / sizeof(uint64_t); i++) /* struct runcache_sum */
			((uint64_t *)dst)[i] = 0;
	else
		for (size_t i = 0; i < n; i++)
			d[i] = (unsigned char)c;
	return dst;
}
