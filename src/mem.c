/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A memory: the set of shared pools, its lookup, its resize thread and
 * its waiters; creation and destruction.
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
#include "testing.h"

static struct pool_set *set_new(unsigned n)
{
	struct pool_set *s = calloc(1, sizeof(*s) + n * sizeof(s->pools[0]));

	if (s)
		s->n = n;
	return s;
}

static void set_free_cb(struct rcu_deferred *head)
{
	rcu_cb_enter();
	free(caa_container_of(head, struct pool_set, rcu));
	rcu_cb_exit();
}

/* Replace the published set (mem->lock held). */
static void set_replace(struct swiotlb_mem *mem, struct pool_set *s)
{
	struct pool_set *old = ld_relaxed(&mem->pools);

	/* Pairs with the load-acquire of mem->pools in pools_find_slots()
	 * (map.c) and the other walkers: without it a mapper could read the
	 * new array before its entries, or a pool descriptor before it is
	 * complete (docs/ORDERING.md, item 2). */
	atomic_store_explicit(&mem->pools, s, memory_order_release);
	if (old)
		_swiotlb_rcu_defer_free(&mem->limbo, &old->rcu, set_free_cb);
}

/*
 * Add a complete, private pool to the shared set.  The lookup entry is
 * published first, so that any thread that maps from p (having found it in
 * the set) hands out addresses that lookups can already resolve: the
 * three-thread shape (models/three_thread.pml).
 */
int _swiotlb_mem_add_pool(struct swiotlb_mem *mem, struct pool *p)
{
	struct pool_set *old, *s;
	int rc;

	pthread_mutex_lock(&mem->lock);
	old = ld_relaxed(&mem->pools);
	s = set_new(old ? old->n + 1 : 1);
	if (!s) {
		pthread_mutex_unlock(&mem->lock);
		return -ENOMEM;
	}
	if (old)
		memcpy(s->pools, old->pools, old->n * sizeof(old->pools[0]));
	s->pools[s->n - 1] = p;
	rc = _swiotlb_lookup_add(&mem->lookup, p);
	if (rc < 0) {
		free(s);
		pthread_mutex_unlock(&mem->lock);
		return rc;
	}
	/* counted before mappers can use it: used never exceeds total */
	stat_add(&mem->stats.total_slots, p->nslots);
	set_replace(mem, s);
	if (p->kind == POOL_GROWN)
		stat_add(&mem->stats.grown_pools, 1);
	pthread_mutex_unlock(&mem->lock);
	return 0;
}

/*
 * Remove a retired (empty, see _swiotlb_pool_try_retire()) pool from the
 * set and the lookup.  On success the caller frees it after a grace
 * period; -ENOMEM when no smaller set could be allocated (p stays in the
 * set, retired, and must not be freed).
 */
int _swiotlb_mem_remove_pool(struct swiotlb_mem *mem, struct pool *p)
{
	struct pool_set *old, *s;
	unsigned j = 0;

	pthread_mutex_lock(&mem->lock);
	old = ld_relaxed(&mem->pools);
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
		return -ENOMEM;
	}
	_swiotlb_lookup_del(&mem->lookup, p);
	_swiotlb_stats_fold_pool(mem, p);
	sub_relaxed(&mem->stats.total_slots, p->nslots);
	if (p->kind == POOL_GROWN)
		sub_relaxed(&mem->stats.grown_pools, 1);
	pthread_mutex_unlock(&mem->lock);
	return 0;
}

static unsigned default_nareas(void)
{
#ifdef SWIOTLB_MODEL_CHECK
	long cpus = 1; /* harnesses set nareas themselves */
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
	struct swiotlb_mem tmp = { .cfg = { .log = c->log, .log_ctx = c->log_ctx } };

	_swiotlb_log(&tmp, SWIOTLB_LOG_ERR, "swiotlb_mem_create: %s", why);
	return -EINVAL;
}

/* Largest grow_size accepted: anything larger is a mistake, and SIZE_MAX
 * would overflow the rounding to segments. */
#define MAX_CONFIG_GROW_SIZE ((size_t)1 << 40)

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
	if (c->dynamic && c->grow_size > MAX_CONFIG_GROW_SIZE)
		return config_refuse(c, "grow_size is larger than 1 TiB");
	if (c->segment_slots &&
	    ((c->segment_slots & (c->segment_slots - 1)) || c->segment_slots < SEG_SLOTS ||
	     c->segment_slots > SWIOTLB_SEGMENT_SLOTS_MAX))
		return config_refuse(c, "segment_slots must be 0 or a power of two from 128 to "
					"SWIOTLB_SEGMENT_SLOTS_MAX (4096)");
	return 0;
}

/* The kernel's growth size (the initial size clamped to 1..4 MiB), but at
 * least one segment: a grown pool must hold the largest mapping. */
static size_t default_grow_size(size_t initial, size_t seg_size)
{
	size_t g = initial < MIN_GROW_SIZE   ? MIN_GROW_SIZE
		   : initial > MAX_GROW_SIZE ? MAX_GROW_SIZE
					     : initial;

	return g > seg_size ? g : seg_size;
}

static void mem_set_config(struct swiotlb_mem *mem, const struct swiotlb_mem_config *c, size_t size)
{
#ifdef SWIOTLB_MODEL_CHECK
	/* GenMC cannot copy a struct through a pointer: the harness does */
	model_copy_provider(&mem->cfg.provider, c->provider);
#else
	mem->cfg.provider = c->provider ? *c->provider : _swiotlb_provider_mmap_default;
#endif
	mem->cfg.log = c->log;
	mem->cfg.log_ctx = c->log_ctx;
	_swiotlb_log_init(&mem->log);
	mem->cfg.limit = c->limit;
	mem->cfg.dynamic = c->dynamic;
	mem->cfg.strict_cursor = c->strict_cursor;
	mem->cfg.max_size = c->dynamic ? c->max_size : 0;
	mem->cfg.max_pools = c->max_pools;
	mem->cfg.pool_added = c->pool_added;
	mem->cfg.pool_removed = c->pool_removed;
	mem->cfg.hook_ctx = c->hook_ctx;
	mem->cfg.seg_slots = c->segment_slots ? c->segment_slots : SEG_SLOTS;
	mem->cfg.seg_size = (size_t)mem->cfg.seg_slots << SLOT_SHIFT;
	mem->cfg.grow_size = c->grow_size ? align_up(c->grow_size, mem->cfg.seg_size)
					  : default_grow_size(size, mem->cfg.seg_size);
	mem->resize.next_grow_size = mem->cfg.grow_size;
	mem->cfg.shrink_delay_ms = c->shrink_delay_ms;
	mem->cfg.wait_timeout_ms = c->wait_timeout_ms ? c->wait_timeout_ms
						      : DEFAULT_WAIT_TIMEOUT_MS;
	mem->cfg.nareas = c->nareas ? c->nareas : default_nareas();
}

SWIOTLB_API struct swiotlb_mem *swiotlb_mem_create_sized(const struct swiotlb_mem_config *cfg,
							 size_t cfg_size)
{
	struct swiotlb_mem_config cc = { 0 };
	const struct swiotlb_mem_config *c = &cc;
	size_t size;
	struct swiotlb_mem *mem;
	struct pool *p;
	int rc = 0;

	if (cfg &&
	    _swiotlb_abi_copy_in(&cc, sizeof(cc), cfg, cfg_size,
				 ABI_SIZE_TO(struct swiotlb_mem_config, wait_timeout_ms)) < 0) {
		_swiotlb_log(NULL, SWIOTLB_LOG_ERR,
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
	if (!mem || _swiotlb_lookup_init(&mem->lookup, &mem->limbo) < 0) {
		free(mem);
		errno = ENOMEM;
		return NULL;
	}
	_swiotlb_rcu_limbo_init(&mem->limbo);
	mem_set_config(mem, c, size);
	pthread_mutex_init(&mem->lock, NULL);
	_swiotlb_waitq_init(&mem->waitq);
	CDS_INIT_LIST_HEAD(&mem->devs);
	p = _swiotlb_pool_create(mem, size, mem->cfg.nareas, mem->cfg.limit, PAGE_SZ, POOL_INITIAL,
				 &rc);
	if (!p || _swiotlb_mem_add_pool(mem, p) < 0)
		goto fail;
	mem->initial = p;
	_swiotlb_runcache_init();
	p->run_cache = _swiotlb_runcache_on && !p->strict;
	mem->cfg.nareas = p->nareas;
	mem->cfg.used_batch = mem->cfg.nareas > 1 ? USED_BATCH_SLOTS : 0;
	if (mem->cfg.dynamic && _swiotlb_resize_start(mem) < 0)
		goto fail;
	_swiotlb_fork_track(mem);
	return mem;
fail:
	_swiotlb_log(mem, SWIOTLB_LOG_ERR, "cannot allocate a %zu-byte pool from provider %s", size,
		     mem->cfg.provider.name ? mem->cfg.provider.name : "(unnamed)");
	if (p)
		_swiotlb_pool_destroy(p);
	free(ld_relaxed(&mem->pools));
	_swiotlb_rcu_reclaim(&mem->limbo);
	_swiotlb_rcu_limbo_fini(&mem->limbo);
	_swiotlb_waitq_fini(&mem->waitq);
	_swiotlb_lookup_fini(&mem->lookup);
	pthread_mutex_destroy(&mem->lock);
	_swiotlb_log_fini(mem);
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
		_swiotlb_log(mem, SWIOTLB_LOG_ERR, "destroy refused: %u device(s) attached",
			     mem->ndevs);
		return -EBUSY;
	}
	pthread_mutex_unlock(&mem->lock);
	_swiotlb_fork_untrack(mem);
	_swiotlb_resize_stop(mem);
	/* run every pending deferred free (pools, sets, tables) */
	_swiotlb_rcu_reclaim(&mem->limbo);
	_swiotlb_rcu_limbo_fini(&mem->limbo);
	s = ld_relaxed(&mem->pools);
	for (unsigned i = 0; i < s->n; i++)
		_swiotlb_pool_destroy(s->pools[i]);
	free(s);
	_swiotlb_waitq_fini(&mem->waitq);
	_swiotlb_lookup_fini(&mem->lookup);
	pthread_mutex_destroy(&mem->lock);
	_swiotlb_log_fini(mem);
	free(mem);
	return 0;
}

/* Test and benchmark hook: see testing.h. */
SWIOTLB_API int _swiotlb_test_mem_add_pool(struct swiotlb_mem *mem, size_t bytes)
{
	struct pool *p;
	int rc;

	if (!mem || !bytes)
		return -EINVAL;
	p = _swiotlb_pool_create(mem, bytes, mem->cfg.nareas, mem->cfg.limit, PAGE_SZ, POOL_EXTRA,
				 &rc);
	if (!p)
		return rc;
	rc = _swiotlb_mem_add_pool(mem, p);
	if (rc < 0)
		_swiotlb_pool_destroy(p);
	return rc;
}
