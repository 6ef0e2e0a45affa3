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
 * such that every area holds a whole number of 128-slot segments.  Pools
 * smaller than two segments have one area.
 */
static unsigned areas_for(size_t nslots, unsigned wanted)
{
	unsigned n = 1;

	while (n * 2 <= wanted && nslots % ((size_t)n * 2 * SEG_SLOTS) == 0)
		n *= 2;
	return n;
}

static void slots_init(struct pool *p)
{
	for (unsigned i = 0; i < p->nslots; i++) {
		unsigned to_seg_end = SEG_SLOTS - (i % SEG_SLOTS);
		unsigned to_pool_end = p->nslots - i;

		atomic_init(&p->free_run[i], to_seg_end < to_pool_end ? to_seg_end : to_pool_end);
		atomic_init(&p->slots[i].state, SLOT_FREE);
	}
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

/*
 * Create a pool of at least 'bytes' (rounded up to slots) below 'limit',
 * its device address aligned to 'align' (a power of two >= the page size),
 * with 'nareas' areas (reduced to what the size allows).  The pool is
 * private to the caller until published (_swiotlb_mem_add_pool() or, for a
 * transient pool, _swiotlb_lookup_add()).  Returns NULL when the provider or
 * malloc fails.
 */
struct pool *_swiotlb_pool_create(struct swiotlb_mem *mem, size_t bytes, unsigned nareas,
				  swiotlb_addr_t limit, size_t align, enum pool_kind kind)
{
	size_t nslots = nr_slots(bytes);
	struct pool *p;
	void *cpu;
	swiotlb_addr_t addr;

	if (!nslots || nslots > UINT32_MAX / 2)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->mem = mem;
	p->kind = kind;
	p->nslots = (unsigned)nslots;
	p->nareas = areas_for(nslots, nareas ? nareas : 1);
	p->area_slots = p->nslots / p->nareas;
	p->alloc_len = align_up(nslots << SLOT_SHIFT, PAGE_SZ);
	p->slots = calloc(nslots, sizeof(*p->slots));
	p->free_run = calloc(nslots, sizeof(*p->free_run));
	if (!p->slots || !p->free_run || areas_init(p) < 0 ||
	    !pool_bytes_reserve(mem, p->alloc_len))
		goto fail;
	if (mem->cfg.provider.alloc(mem->cfg.provider.ctx, p->alloc_len, align, limit, &cpu,
				    &addr) < 0) {
		sub_relaxed(&mem->stats.pool_bytes, p->alloc_len);
		goto fail;
	}
	p->cpu = cpu;
	p->start = addr;
	p->end = addr + ((swiotlb_addr_t)nslots << SLOT_SHIFT);
	slots_init(p);
	return p;
fail:
	free(p->slots);
	free(p->free_run);
	free(p->areas);
	free(p);
	return NULL;
}

/* Free a pool now.  The caller guarantees that no reader can reach it
 * (never published, or unpublished and a grace period has passed). */
void _swiotlb_pool_destroy(struct pool *p)
{
	struct swiotlb_mem *mem = p->mem;

	mem->cfg.provider.free(mem->cfg.provider.ctx, p->cpu, p->start, p->alloc_len);
	sub_relaxed(&mem->stats.pool_bytes, p->alloc_len);
	free(p->areas);
	free(p->slots);
	free(p->free_run);
	free(p);
}

static void pool_free_cb(struct rcu_head *head)
{
	rcu_cb_enter();
	_swiotlb_pool_destroy(caa_container_of(head, struct pool, rcu));
	rcu_cb_exit();
}

/* Free an unpublished pool after a grace period: readers that found it
 * before _swiotlb_lookup_del() may still be looking at it. */
void _swiotlb_pool_free_rcu(struct pool *p)
{
	_swiotlb_rcu_defer_free(&p->rcu, pool_free_cb);
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
