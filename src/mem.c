/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A memory: the set of shared pools, the lookup index, the growth thread
 * and the waiters.
 *
 * The shared pools sit in an immutable array (struct pool_set) that is
 * replaced as a whole when a pool is added or removed (under mem->lock) and
 * published with a store-release; mappers read it with a load-acquire
 * inside an RCU read-side section; the old array is freed after a grace
 * period.  Copy-on-write suits a set that changes a few times a second at
 * most and is walked on every map.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static struct pool_set *set_new(unsigned n)
{
	struct pool_set *s = calloc(1, sizeof(*s) + n * sizeof(s->pools[0]));

	if (s)
		s->n = n;
	return s;
}

static void set_free_cb(struct rcu_head *head)
{
	rcu_cb_enter();
	free(caa_container_of(head, struct pool_set, rcu));
	rcu_cb_exit();
}

/* Replace the published set (mem->lock held). */
static void set_replace(struct swiotlb_mem *mem, struct pool_set *s)
{
	struct pool_set *old = atomic_load_explicit(&mem->pools, memory_order_relaxed);

	/* pairs with the load-acquire in pools_find_slots() (map.c) */
	atomic_store_explicit(&mem->pools, s, memory_order_release);
	if (old)
		rcu_defer_free(&old->rcu, set_free_cb);
}

/*
 * Add a complete, private pool to the shared set.  The index entry is
 * published first, so that any thread that maps from p (having found it in
 * the set) hands out addresses that lookups can already resolve: the
 * three-thread shape (models/three_thread.pml).
 */
int mem_add_pool(struct swiotlb_mem *mem, struct pool *p)
{
	struct pool_set *old, *s;
	int rc;

	pthread_mutex_lock(&mem->lock);
	old = atomic_load_explicit(&mem->pools, memory_order_relaxed);
	s = set_new(old ? old->n + 1 : 1);
	if (!s) {
		pthread_mutex_unlock(&mem->lock);
		return -ENOMEM;
	}
	if (old)
		memcpy(s->pools, old->pools, old->n * sizeof(old->pools[0]));
	s->pools[s->n - 1] = p;
	rc = pool_publish(&mem->index, p);
	if (rc < 0) {
		free(s);
		pthread_mutex_unlock(&mem->lock);
		return rc;
	}
	/* counted before mappers can use it: used never exceeds total */
	stat_add(&mem->total_slots, p->nslots);
	set_replace(mem, s);
	if (p->kind == POOL_GROWN)
		stat_add(&mem->grown_pools, 1);
	pthread_mutex_unlock(&mem->lock);
	return 0;
}

/* Fold a retiring pool's per-area counters into the memory's totals so
 * that the statistics do not go backwards when the pool disappears. */
void mem_fold_pool_stats(struct swiotlb_mem *mem, struct pool *p)
{
	for (unsigned i = 0; i < p->nareas; i++) {
		stat_add(&mem->retired_maps,
			 atomic_load_explicit(&p->areas[i].maps, memory_order_relaxed));
		stat_add(&mem->retired_bytes_to_dev,
			 atomic_load_explicit(&p->areas[i].bytes_to_dev, memory_order_relaxed));
		stat_add(&mem->retired_bytes_from_dev,
			 atomic_load_explicit(&p->areas[i].bytes_from_dev, memory_order_relaxed));
	}
}

/*
 * Remove a retired (empty, see pool_try_retire()) pool from the set and the
 * index.  The caller frees it with pool_free_rcu().
 */
void mem_remove_pool(struct swiotlb_mem *mem, struct pool *p)
{
	struct pool_set *old, *s;
	unsigned j = 0;

	pthread_mutex_lock(&mem->lock);
	old = atomic_load_explicit(&mem->pools, memory_order_relaxed);
	s = set_new(old->n - 1);
	if (s) {
		for (unsigned i = 0; i < old->n; i++)
			if (old->pools[i] != p)
				s->pools[j++] = old->pools[i];
		set_replace(mem, s);
	} else {
		/* No memory for a smaller array: keep the old one; p is retired,
		 * so mappers skip it, but it must then not be freed. */
		pthread_mutex_unlock(&mem->lock);
		return;
	}
	pool_unpublish(&mem->index, p);
	mem_fold_pool_stats(mem, p);
	atomic_fetch_sub_explicit(&mem->total_slots, p->nslots, memory_order_relaxed);
	if (p->kind == POOL_GROWN)
		atomic_fetch_sub_explicit(&mem->grown_pools, 1, memory_order_relaxed);
	pthread_mutex_unlock(&mem->lock);
	pool_free_rcu(p);
}

static unsigned default_nareas(void)
{
#ifdef SWIOTLB_MODEL_CHECK
	long cpus = 1;
#else
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
#endif
	unsigned n = 1;

	while (n < (unsigned long)(cpus > 0 ? cpus : 1))
		n *= 2;
	return n;
}

/* Say why a configuration is refused, through its own log callback. */
static int config_refuse(const struct swiotlb_mem_config *c, const char *why)
{
	struct swiotlb_mem tmp = { .log = c->log, .log_ctx = c->log_ctx };

	mem_log(&tmp, SWIOTLB_LOG_ERR, "swiotlb_mem_create: %s", why);
	return -EINVAL;
}

static int config_check(const struct swiotlb_mem_config *c)
{
	if (c->nareas & (c->nareas - 1))
		return config_refuse(c, "nareas must be 0 or a power of two");
	if (c->provider && c->provider->version != SWIOTLB_PROVIDER_VERSION)
		return config_refuse(c, "provider version unknown to this library "
				     "(set .version = SWIOTLB_PROVIDER_VERSION)");
	if (c->provider && (!c->provider->alloc || !c->provider->free))
		return config_refuse(c, "provider needs both alloc and free");
	if (c->dynamic && c->max_size && c->max_size < (c->size ? c->size : DEFAULT_POOL_SIZE))
		return config_refuse(c, "max_size is smaller than the initial pool");
	return 0;
}

static size_t default_grow_size(size_t initial)
{
	if (initial < MIN_GROW_SIZE)
		return MIN_GROW_SIZE;
	return initial > MAX_GROW_SIZE ? MAX_GROW_SIZE : initial;
}

static void mem_set_config(struct swiotlb_mem *mem, const struct swiotlb_mem_config *c,
			   size_t size)
{
#ifdef SWIOTLB_MODEL_CHECK /* GenMC cannot copy a struct through a pointer */
	model_copy_provider(&mem->provider, c->provider ? c->provider : &provider_mmap_default);
#else
	mem->provider = c->provider ? *c->provider : provider_mmap_default;
#endif
	mem->log = c->log;
	mem->log_ctx = c->log_ctx;
	mem->limit = c->limit;
	mem->dynamic = c->dynamic;
	mem->strict_cursor = c->strict_cursor;
	mem->max_size = c->dynamic ? c->max_size : 0;
	mem->grow_size = c->grow_size ? align_up(c->grow_size, SEG_SIZE)
				      : default_grow_size(size);
	mem->next_grow_size = mem->grow_size;
	mem->shrink_delay_ms = c->shrink_delay_ms;
	mem->wait_timeout_ms = c->wait_timeout_ms ? c->wait_timeout_ms : 1000;
	mem->nareas = c->nareas ? c->nareas : default_nareas();
}

/* urcu-bp needs its fork hooks around fork() (its registry lock and the
 * call_rcu worker); a library cannot ask every caller to add them, so the
 * first memory registers them.  In a child the growth thread of an
 * inherited memory is gone: maps still work, with transient pools. */
#ifndef SWIOTLB_MODEL_CHECK
static void fork_hooks_register(void)
{
	pthread_atfork(urcu_bp_before_fork, urcu_bp_after_fork_parent,
		       urcu_bp_after_fork_child);
}
#endif

SWIOTLB_API struct swiotlb_mem *swiotlb_mem_create_sized(const struct swiotlb_mem_config *cfg,
							 size_t cfg_size)
{
#ifndef SWIOTLB_MODEL_CHECK
	static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
#endif
	struct swiotlb_mem_config cc = { 0 };
	const struct swiotlb_mem_config *c = &cc;
	size_t size;
	struct swiotlb_mem *mem;
	struct pool *p;
	int rc = 0;

#ifndef SWIOTLB_MODEL_CHECK
	pthread_once(&fork_once, fork_hooks_register);
#endif
	if (cfg && abi_copy_in(&cc, sizeof(cc), cfg, cfg_size,
			       ABI_SIZE_TO(struct swiotlb_mem_config, wait_timeout_ms)) < 0) {
		mem_log(NULL, SWIOTLB_LOG_ERR,
			"swiotlb_mem_create: config of %zu bytes does not match this library "
			"(%u.%u.%u, %zu bytes): built against another major version, or sets "
			"fields this version does not know",
			cfg_size, SWIOTLB_VERSION_MAJOR, SWIOTLB_VERSION_MINOR,
			SWIOTLB_VERSION_PATCH, sizeof(cc));
		errno = EINVAL;
		return NULL;
	}
	size = c->size ? c->size : DEFAULT_POOL_SIZE;
	rc = config_check(c);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	mem = calloc(1, sizeof(*mem));
	if (!mem || lookup_init(&mem->index) < 0) {
		free(mem);
		errno = ENOMEM;
		return NULL;
	}
	mem_set_config(mem, c, size);
	pthread_mutex_init(&mem->lock, NULL);
	waitq_init(&mem->waitq);
	p = pool_create(mem, size, mem->nareas, mem->limit, PAGE_SZ, POOL_INITIAL);
	if (!p || mem_add_pool(mem, p) < 0)
		goto fail;
	mem->nareas = p->nareas;
	mem->used_batch = mem->nareas > 1 ? 32 : 0;
	if (mem->dynamic && grow_start(mem) < 0)
		goto fail;
	return mem;
fail:
	mem_log(mem, SWIOTLB_LOG_ERR, "cannot allocate a %zu-byte pool from provider %s",
		size, mem->provider.name ? mem->provider.name : "(unnamed)");
	if (p)
		pool_destroy(p);
	free(atomic_load_explicit(&mem->pools, memory_order_relaxed));
	waitq_fini(&mem->waitq);
	lookup_fini(&mem->index);
	pthread_mutex_destroy(&mem->lock);
	free(mem);
	errno = ENOMEM;
	return NULL;
}

SWIOTLB_API int swiotlb_mem_destroy(struct swiotlb_mem *mem)
{
	struct pool_set *s;

	if (!mem)
		return -EINVAL;
	pthread_mutex_lock(&mem->lock);
	if (mem->ndevs) {
		pthread_mutex_unlock(&mem->lock);
		mem_log(mem, SWIOTLB_LOG_ERR, "destroy refused: %u device(s) attached",
			mem->ndevs);
		return -EBUSY;
	}
	pthread_mutex_unlock(&mem->lock);
	grow_stop(mem);
#ifdef SWIOTLB_MODEL_CHECK
	model_rcu_barrier();
#else
	urcu_bp_barrier(); /* run every pending deferred free (pools, sets) */
#endif
	tsan_acquire(&swiotlb_rcu_token);
	s = atomic_load_explicit(&mem->pools, memory_order_relaxed);
	for (unsigned i = 0; i < s->n; i++)
		pool_destroy(s->pools[i]);
	free(s);
	waitq_fini(&mem->waitq);
	lookup_fini(&mem->index);
	pthread_mutex_destroy(&mem->lock);
	free(mem);
	return 0;
}

SWIOTLB_API int swiotlb__mem_add_pool(struct swiotlb_mem *mem, size_t bytes)
{
	struct pool *p;
	int rc;

	if (!mem || !bytes)
		return -EINVAL;
	p = pool_create(mem, bytes, mem->nareas, mem->limit, PAGE_SZ, POOL_EXTRA);
	if (!p)
		return -ENOMEM;
	rc = mem_add_pool(mem, p);
	if (rc < 0)
		pool_destroy(p);
	return rc;
}
