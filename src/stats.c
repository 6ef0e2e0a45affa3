/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Statistics: snapshots for swiotlb_mem_stats() and swiotlb_dev_stats(),
 * and the folding of a retiring pool's counters.  Which counter feeds
 * which statistic: the table above struct swiotlb_mem in types.h.
 *
 * Hot counters live where the hot path already writes: per area (maps,
 * bytes, used, live) and per device per CPU (struct dev_shard), so two
 * threads mapping on two CPUs do not share a counter line.  A snapshot
 * sums them; a pool that is retired first folds its counters into the
 * memory (_swiotlb_stats_fold_pool()) so totals never go backwards.
 */
#include <string.h>

#include "internal.h"

/* Used slots in shared pools: the sum of the areas' counts, less the
 * runs parked in run caches (cached: their sum, or NULL to compute it). */
static uint64_t used_slots(const struct swiotlb_mem *mem, const struct runcache_sum *cached)
{
	struct runcache_sum rc;
	struct pool_set *s;
	uint64_t used = 0;

	if (!cached) {
		_swiotlb_devcount_cache_sum(mem, &rc);
		cached = &rc;
	}
	rcu_enter();
	/* pairs with the store-release in set_replace() (mem.c): see there */
	s = atomic_load_explicit(&mem->pools, memory_order_acquire);
	for (unsigned i = 0; i < s->n; i++)
		used += _swiotlb_pool_used(s->pools[i]);
	rcu_exit();
	/* read at different times: clamped while threads are busy */
	return used >= cached->slots ? used - cached->slots : 0;
}

/* Used slots in shared pools, exact once threads are quiet. */
uint64_t _swiotlb_stats_used_slots(const struct swiotlb_mem *mem)
{
	return used_slots(mem, NULL);
}

/* Fold a retiring shared pool's per-area counters into the memory's
 * totals (mem->lock held, which mem_stats() also takes: a snapshot sees
 * the pool either in the set or in the totals, so the statistics never go
 * backwards or count it twice). */
void _swiotlb_stats_fold_pool(struct swiotlb_mem *mem, struct pool *p)
{
	for (unsigned i = 0; i < p->nareas; i++) {
		const struct area *a = &p->areas[i];

		stat_add(&mem->stats.retired_maps, ld_relaxed(&a->maps));
		stat_add(&mem->stats.retired_bytes_to_dev, ld_relaxed(&a->bytes_to_dev));
		stat_add(&mem->stats.retired_bytes_from_dev, ld_relaxed(&a->bytes_from_dev));
	}
}

static void sum_pool(const struct pool *p, struct swiotlb_stats *st)
{
	for (unsigned i = 0; i < p->nareas; i++) {
		const struct area *a = &p->areas[i];

		st->mappings += ld_relaxed(&a->live);
		st->maps += ld_relaxed(&a->maps);
		st->bytes_to_device += ld_relaxed(&a->bytes_to_dev);
		st->bytes_from_device += ld_relaxed(&a->bytes_from_dev);
	}
}

static void mem_stats(const struct swiotlb_mem *mem, struct swiotlb_stats *st)
{
	struct runcache_sum rc;
	struct pool_set *s;

	memset(st, 0, sizeof(*st));
	/* not under mem->lock: tc_lock is taken before it around fork() */
	_swiotlb_devcount_cache_sum(mem, &rc);
	/* the set and the folded totals of removed pools change together
	 * under mem->lock (_swiotlb_mem_remove_pool()) */
	pthread_mutex_lock((pthread_mutex_t *)&mem->lock);
	/* relaxed: the set is replaced under mem->lock, which orders it and
	 * the pools it holds for us (no acquire needed; the mutation check
	 * showed nothing needs one here) */
	s = ld_relaxed(&mem->pools);
	for (unsigned i = 0; i < s->n; i++)
		sum_pool(s->pools[i], st);
	st->pools = s->n;
	st->maps += ld_relaxed(&mem->stats.retired_maps);
	st->bytes_to_device += ld_relaxed(&mem->stats.retired_bytes_to_dev);
	st->bytes_from_device += ld_relaxed(&mem->stats.retired_bytes_from_dev);
	pthread_mutex_unlock((pthread_mutex_t *)&mem->lock);
	/* transient pools hold exactly one mapping each; they count into the
	 * memory's transient_* counters directly (area.c) */
	/* runs parked in run caches count in their areas' live */
	st->mappings -= rc.runs <= st->mappings ? rc.runs : st->mappings;
	st->mappings += ld_relaxed(&mem->stats.transient_live);
	st->maps += ld_relaxed(&mem->stats.transient_maps) + rc.maps;
	st->bytes_to_device += ld_relaxed(&mem->stats.transient_bytes_to_dev) +
			       ld_relaxed(&mem->stats.sync_bytes_to_dev) + rc.bytes_to_dev;
	st->bytes_from_device += ld_relaxed(&mem->stats.transient_bytes_from_dev) +
				 ld_relaxed(&mem->stats.sync_bytes_from_dev) + rc.bytes_from_dev;
	st->total_slots = ld_relaxed(&mem->stats.total_slots);
	st->used_slots = used_slots(mem, &rc);
	st->hiwater_slots = ld_relaxed(&mem->stats.hiwater);
	if (st->hiwater_slots < st->used_slots)
		st->hiwater_slots = st->used_slots;
	st->failed_maps = ld_relaxed(&mem->stats.failed_maps);
	st->grown_pools = ld_relaxed(&mem->stats.grown_pools);
	st->grows = ld_relaxed(&mem->stats.grows);
	st->growth_failures = ld_relaxed(&mem->stats.growth_failures);
	st->shrinks = ld_relaxed(&mem->stats.shrinks);
	st->transient_pools = ld_relaxed(&mem->stats.transient_live);
	st->transient_created = ld_relaxed(&mem->stats.transient_created);
	st->transient_slots = ld_relaxed(&mem->stats.transient_slots);
	st->pool_bytes = ld_relaxed(&mem->stats.pool_bytes);
	st->waits = ld_relaxed(&mem->stats.waits);
	st->wait_ns = ld_relaxed(&mem->stats.wait_ns);
	st->wait_timeouts = ld_relaxed(&mem->stats.wait_timeouts);
	st->coherent_allocs = ld_relaxed(&mem->stats.coherent);
	st->mappings -= st->coherent_allocs <= st->mappings ? st->coherent_allocs : st->mappings;
}

SWIOTLB_API int swiotlb_mem_stats_sized(const struct swiotlb_mem *mem, struct swiotlb_stats *st,
					size_t st_size)
{
	struct swiotlb_stats tmp;

	if (!mem || !st || st_size < ABI_SIZE_TO(struct swiotlb_stats, coherent_allocs))
		return -EINVAL;
	mem_stats(mem, &tmp);
	_swiotlb_abi_copy_out(st, st_size, &tmp, sizeof(tmp));
	return 0;
}

SWIOTLB_API void swiotlb_mem_reset_hiwater(struct swiotlb_mem *mem)
{
	if (mem)
		st_relaxed(&mem->stats.hiwater, _swiotlb_stats_used_slots(mem));
}

static void dev_stats(const struct swiotlb_dev *dev, struct swiotlb_dev_stats *st)
{
	struct dev_tcount_sum tc;
	int64_t live;

	memset(st, 0, sizeof(*st));
	_swiotlb_devcount_sum(dev, &tc);
	st->maps = tc.maps;
	st->unmaps = tc.unmaps;
	st->bytes_to_device = tc.bytes_to_dev;
	st->bytes_from_device = tc.bytes_from_dev;
	for (unsigned i = 0; i < dev->nshards; i++) {
		const struct dev_shard *sh = &dev->shards[i];

		st->maps += ld_relaxed(&sh->maps);
		st->direct_maps += ld_relaxed(&sh->direct_maps);
		st->unmaps += ld_relaxed(&sh->unmaps);
		st->bytes_to_device += ld_relaxed(&sh->bytes_to_dev);
		st->bytes_from_device += ld_relaxed(&sh->bytes_from_dev);
	}
	live = _swiotlb_dev_live(dev);
	st->mappings = live > 0 ? (uint64_t)live : 0;
	st->failed_maps = ld_relaxed(&dev->failed_maps);
	st->largest_failed = ld_relaxed(&dev->largest_failed);
	st->transient_pools = ld_relaxed(&dev->transient_live);
	st->errors = ld_relaxed(&dev->errors);
}

SWIOTLB_API int swiotlb_dev_stats_sized(const struct swiotlb_dev *dev, struct swiotlb_dev_stats *st,
					size_t st_size)
{
	struct swiotlb_dev_stats tmp;

	if (!dev || !st || st_size < ABI_SIZE_TO(struct swiotlb_dev_stats, errors))
		return -EINVAL;
	dev_stats(dev, &tmp);
	_swiotlb_abi_copy_out(st, st_size, &tmp, sizeof(tmp));
	return 0;
}
