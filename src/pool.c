/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pools: creation from the provider, slot metadata, areas, retirement and
 * deferred freeing.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * Number of areas for a pool of nslots: the largest power of two <= wanted
 * such that every area holds a whole number of segments of seg_slots.
 * Pools smaller than two segments have one area.
 */
static unsigned areas_for(size_t nslots, unsigned wanted, unsigned seg_slots)
{
	unsigned n = 1;

	while (n * 2 <= wanted && nslots % ((size_t)n * 2 * seg_slots) == 0)
		n *= 2;
	return n;
}

static void slots_init(struct pool *p)
{
	for (unsigned i = 0; i < p->nslots; i++) {
		unsigned to_seg_end = p->seg_slots - (i & (p->seg_slots - 1));
		unsigned to_pool_end = p->nslots - i;

		atomic_init(&p->free_run[i], to_seg_end < to_pool_end ? to_seg_end : to_pool_end);
		atomic_init(&p->slots[i].tag, SLOT_FREE);
	}
}

/* Segments of a pool, the last one maybe partial. */
static inline size_t pool_nsegs(const struct pool *p)
{
	return ((size_t)p->nslots + p->seg_slots - 1) >> p->seg_shift;
}

static int areas_init(struct pool *p)
{
	p->areas = aligned_alloc(CACHELINE, sizeof(*p->areas) * p->nareas);
	if (!p->areas)
		return -ENOMEM;
	memset(p->areas, 0, sizeof(*p->areas) * p->nareas);
	for (unsigned i = 0; i < p->nareas; i++)
		spin_init(&p->areas[i].lock);
	return 0;
}

/* Reserve len bytes of pool memory under mem->cfg.max_size (0 = no cap).
 * Atomic, so racing growths and transient pools cannot overshoot. */
static bool pool_bytes_reserve(struct swiotlb_mem *mem, size_t len)
{
	uint64_t cur = ld_relaxed(&mem->stats.pool_bytes);

	do {
		if (mem->cfg.max_size && cur + len > mem->cfg.max_size)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&mem->stats.pool_bytes, &cur, cur + len,
							memory_order_relaxed,
							memory_order_relaxed));
	return true;
}

/* How much of 'want' bytes of new pool memory max_size still allows. */
size_t _swiotlb_pool_bytes_allowed(struct swiotlb_mem *mem, size_t want)
{
	uint64_t have = ld_relaxed(&mem->stats.pool_bytes);

	if (!mem->cfg.max_size)
		return want;
	if (have >= mem->cfg.max_size)
		return 0;
	return want < mem->cfg.max_size - have ? want : mem->cfg.max_size - have;
}

/* Reserve one of cfg.max_pools (0 = no cap), the same way. */
static bool pool_count_reserve(struct swiotlb_mem *mem)
{
	unsigned cur = ld_relaxed(&mem->stats.pools_alive);

	do {
		if (mem->cfg.max_pools && cur >= mem->cfg.max_pools)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&mem->stats.pools_alive, &cur, cur + 1,
							memory_order_relaxed,
							memory_order_relaxed));
	return true;
}

/* Give back what pool_bytes_reserve() and pool_count_reserve() took, and
 * wake MAY_BLOCK waiters: a map waiting for room under max_size or
 * max_pools may now get a transient pool (wait.c, the caps shape). */
static void pool_caps_release(struct swiotlb_mem *mem, size_t len)
{
	sub_relaxed(&mem->stats.pool_bytes, len);
	sub_relaxed(&mem->stats.pools_alive, 1);
	waitq_notify_caps(&mem->waitq);
}

/* What the pool hooks are told about p. */
void _swiotlb_pool_info(const struct pool *p, struct swiotlb_pool_info *info)
{
	const struct swiotlb_provider *pr = &p->mem->cfg.provider;
	int fd = -1;
	uint64_t off = 0;

	if (!pr->fd || pr->fd(pr->ctx, p->cpu, p->start, p->alloc_len, &fd, &off) < 0) {
		fd = -1;
		off = 0;
	}
	*info = (struct swiotlb_pool_info){
		.cpu = p->cpu,
		.addr = p->start,
		.len = p->alloc_len,
		.fd = fd,
		.fd_offset = off,
		.kind = p->kind == POOL_TRANSIENT ? SWIOTLB_POOL_TRANSIENT
			: p->kind == POOL_GROWN   ? SWIOTLB_POOL_GROWN
						  : SWIOTLB_POOL_INITIAL,
	};
}

/* Show a new pool to the pool_added hook, before any address in it can be
 * handed out.  -ECANCELED when the hook refuses it. */
static int pool_announce(struct pool *p)
{
	struct swiotlb_mem *mem = p->mem;
	struct swiotlb_pool_info info;
	int rc;

	if (!mem->cfg.pool_added)
		return 0;
	_swiotlb_pool_info(p, &info);
	rc = mem->cfg.pool_added(mem->cfg.hook_ctx, &info);
	if (rc) {
		_swiotlb_log(mem, SWIOTLB_LOG_WARN,
			     "pool_added hook refused a %zu-byte pool at %#llx (returned %d)",
			     p->alloc_len, (unsigned long long)p->start, rc);
		return -ECANCELED;
	}
	p->announced = true;
	return 0;
}

static void pool_free_meta(struct pool *p)
{
	free(p->slots);
	free(p->free_run);
	free(p->segs);
	free(p->areas);
	free(p);
}

/*
 * Create a pool of at least 'bytes' (rounded up to slots) below 'limit',
 * its device address aligned to 'align' (a power of two >= the page size),
 * with 'nareas' areas (reduced to what the size allows), and show it to
 * the pool_added hook.  The pool is private to the caller until published
 * (_swiotlb_mem_add_pool() or, for a transient pool,
 * _swiotlb_transient_publish()).  Returns NULL and sets *err: -ENOSPC when
 * max_size or max_pools leaves no room, -ENOMEM when the provider or
 * malloc fails, -ECANCELED when the hook refuses the pool.
 */
struct pool *_swiotlb_pool_create(struct swiotlb_mem *mem, size_t bytes, unsigned nareas,
				  swiotlb_addr_t limit, size_t align, enum pool_kind kind, int *err)
{
	size_t nslots = nr_slots(bytes);
	struct pool *p;
	void *cpu;
	swiotlb_addr_t addr;

	*err = -ENOMEM;
	if (!nslots || nslots > UINT32_MAX / 2)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->mem = mem;
	p->kind = kind;
	p->nslots = (unsigned)nslots;
	p->seg_slots = mem->cfg.seg_slots;
	p->seg_shift = (unsigned)__builtin_ctz(p->seg_slots);
	p->strict = mem->cfg.strict_cursor;
	p->large_run = p->seg_slots / 2; /* see req_class() in area.c */
	p->nareas = areas_for(nslots, nareas ? nareas : 1, p->seg_slots);
	p->area_slots = p->nslots / p->nareas;
	p->alloc_len = align_up(nslots << SLOT_SHIFT, PAGE_SZ);
	p->slots = calloc(nslots, sizeof(*p->slots));
	p->free_run = calloc(nslots, sizeof(*p->free_run));
	p->segs = calloc(pool_nsegs(p), sizeof(*p->segs));
	if (!p->slots || !p->free_run || !p->segs || areas_init(p) < 0)
		goto fail;
	if (!pool_bytes_reserve(mem, p->alloc_len)) {
		*err = -ENOSPC;
		goto fail;
	}
	if (!pool_count_reserve(mem)) {
		sub_relaxed(&mem->stats.pool_bytes, p->alloc_len);
		*err = -ENOSPC;
		goto fail;
	}
	if (mem->cfg.provider.alloc(mem->cfg.provider.ctx, p->alloc_len, align, limit, &cpu,
				    &addr) < 0) {
		pool_caps_release(mem, p->alloc_len);
		goto fail;
	}
	p->cpu = cpu;
	p->start = addr;
	p->end = addr + ((swiotlb_addr_t)nslots << SLOT_SHIFT);
	slots_init(p);
	*err = pool_announce(p);
	if (*err < 0) {
		_swiotlb_pool_destroy(p);
		return NULL;
	}
	return p;
fail:
	pool_free_meta(p);
	return NULL;
}

/* Free a pool now: tell the pool_removed hook (if pool_added accepted it),
 * give the memory back to the provider.  The caller guarantees that no
 * reader can reach it (never published, or unpublished and a grace
 * period has passed). */
void _swiotlb_pool_destroy(struct pool *p)
{
	struct swiotlb_mem *mem = p->mem;

	if (p->announced && mem->cfg.pool_removed) {
		struct swiotlb_pool_info info;

		_swiotlb_pool_info(p, &info);
		mem->cfg.pool_removed(mem->cfg.hook_ctx, &info);
	}
	mem->cfg.provider.free(mem->cfg.provider.ctx, p->cpu, p->start, p->alloc_len);
	pool_caps_release(mem, p->alloc_len);
	pool_free_meta(p);
}

static void pool_free_cb(struct rcu_deferred *head)
{
	rcu_cb_enter();
	_swiotlb_pool_destroy(caa_container_of(head, struct pool, rcu));
	rcu_cb_exit();
}

/* Free an unpublished pool after a grace period: readers that found it
 * before _swiotlb_lookup_del() may still be looking at it. */
void _swiotlb_pool_free_rcu(struct pool *p)
{
	_swiotlb_rcu_defer_free(&p->mem->limbo, &p->rcu, pool_free_cb);
}

unsigned _swiotlb_pool_used(const struct pool *p)
{
	unsigned used = 0;

	for (unsigned i = 0; i < p->nareas; i++)
		used += ld_relaxed(&p->areas[i].used);
	return used;
}

/*
 * Retire p if it is completely free: with every area lock held, check that
 * nothing is used and set 'retired', which _swiotlb_area_find_slots() tests under
 * the same lock.  After a true return no allocation can ever land in p, so
 * it may be unpublished and freed after a grace period.
 */
bool _swiotlb_pool_try_retire(struct pool *p)
{
	bool ok;

	for (unsigned i = 0; i < p->nareas; i++)
		spin_lock(&p->areas[i].lock);
	ok = _swiotlb_pool_used(p) == 0;
	if (ok) {
		st_relaxed(&p->retired, true);
		for (unsigned i = 0; i < p->nareas; i++)
			_swiotlb_area_report_used(p, &p->areas[i], true);
	}
	for (unsigned i = p->nareas; i-- > 0;)
		spin_unlock(&p->areas[i].lock);
	return ok;
}
