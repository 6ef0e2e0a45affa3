/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Statistics and error strings.
 *
 * Hot counters live where the hot path already writes: per area (maps,
 * bytes, used, live) and per device per CPU (struct dev_shard), so two
 * threads mapping on two CPUs do not share a counter line.  A snapshot
 * sums them; a pool that is retired first folds its counters into the
 * memory (mem_fold_pool_stats()) so totals never go backwards.
 */
#include <string.h>
#include <time.h>

#include "internal.h"

uint64_t now_ns(void)
{
#ifdef SWIOTLB_MODEL_CHECK
	return model_now_ns();
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

/* Used slots in shared pools, exactly: the sum of the areas' counts. */
uint64_t mem_used_exact(const struct swiotlb_mem *mem)
{
	struct pool_set *s;
	uint64_t used = 0;

	rcu_enter();
	/* pairs with the store-release in set_replace() */
	s = atomic_load_explicit(&mem->pools, memory_order_acquire);
	for (unsigned i = 0; i < s->n; i++)
		used += pool_used(s->pools[i]);
	rcu_exit();
	return used;
}

/* *ts = now (on clock) + ms: an absolute deadline for a timed wait. */
void deadline_after_ms(clockid_t clock, unsigned ms, struct timespec *ts)
{
#ifdef SWIOTLB_MODEL_CHECK
	uint64_t now = model_now_ns();

	(void)clock;
	ts->tv_sec = (time_t)(now / 1000000000u);
	ts->tv_nsec = (long)(now % 1000000000u);
#else
	clock_gettime(clock, ts);
#endif
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static inline uint64_t ld(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static void sum_pool(const struct pool *p, struct swiotlb_stats *st)
{
	for (unsigned i = 0; i < p->nareas; i++) {
		const struct area *a = &p->areas[i];

		st->mappings += atomic_load_explicit(&a->live, memory_order_relaxed);
		st->maps += ld(&a->maps);
		st->bytes_to_device += ld(&a->bytes_to_dev);
		st->bytes_from_device += ld(&a->bytes_from_dev);
	}
}

static void mem_stats(const struct swiotlb_mem *mem, struct swiotlb_stats *st)
{
	struct pool_set *s;

	memset(st, 0, sizeof(*st));
	rcu_enter();
	/* pairs with the store-release in set_replace() */
	s = atomic_load_explicit(&mem->pools, memory_order_acquire);
	for (unsigned i = 0; i < s->n; i++)
		sum_pool(s->pools[i], st);
	st->pools = s->n;
	rcu_exit();
	/* transient pools hold exactly one mapping each */
	st->mappings += ld(&mem->transient_live);
	st->maps += ld(&mem->retired_maps);
	st->bytes_to_device += ld(&mem->retired_bytes_to_dev) + ld(&mem->sync_bytes_to_dev);
	st->bytes_from_device += ld(&mem->retired_bytes_from_dev) + ld(&mem->sync_bytes_from_dev);
	st->total_slots = ld(&mem->total_slots);
	st->used_slots = mem_used_exact(mem);
	st->hiwater_slots = ld(&mem->hiwater);
	if (st->hiwater_slots < st->used_slots)
		st->hiwater_slots = st->used_slots;
	st->failed_maps = ld(&mem->failed_maps);
	st->grown_pools = ld(&mem->grown_pools);
	st->grows = ld(&mem->grows);
	st->growth_failures = ld(&mem->growth_failures);
	st->shrinks = ld(&mem->shrinks);
	st->transient_pools = ld(&mem->transient_live);
	st->transient_created = ld(&mem->transient_created);
	st->transient_slots = ld(&mem->transient_slots);
	st->pool_bytes = ld(&mem->pool_bytes);
	st->waits = ld(&mem->waits);
	st->wait_ns = ld(&mem->wait_ns);
	st->wait_timeouts = ld(&mem->wait_timeouts);
	st->coherent_allocs = ld(&mem->coherent);
	st->mappings -= st->coherent_allocs <= st->mappings ? st->coherent_allocs : st->mappings;
}

SWIOTLB_API int swiotlb_mem_stats_sized(const struct swiotlb_mem *mem, struct swiotlb_stats *st,
					size_t st_size)
{
	struct swiotlb_stats tmp;

	if (!mem || !st || st_size < ABI_SIZE_TO(struct swiotlb_stats, coherent_allocs))
		return -EINVAL;
	mem_stats(mem, &tmp);
	abi_copy_out(st, st_size, &tmp, sizeof(tmp));
	return 0;
}

SWIOTLB_API void swiotlb_mem_reset_hiwater(struct swiotlb_mem *mem)
{
	if (mem)
		atomic_store_explicit(&mem->hiwater, mem_used_exact(mem), memory_order_relaxed);
}

static void dev_stats(const struct swiotlb_dev *dev, struct swiotlb_dev_stats *st)
{
	int64_t live;

	memset(st, 0, sizeof(*st));
	for (unsigned i = 0; i < dev->nshards; i++) {
		const struct dev_shard *sh = &dev->shards[i];

		st->maps += ld(&sh->maps);
		st->direct_maps += ld(&sh->direct_maps);
		st->unmaps += ld(&sh->unmaps);
		st->bytes_to_device += ld(&sh->bytes_to_dev);
		st->bytes_from_device += ld(&sh->bytes_from_dev);
	}
	live = dev_live(dev);
	st->mappings = live > 0 ? (uint64_t)live : 0;
	st->failed_maps = ld(&dev->failed_maps);
	st->largest_failed = ld(&dev->largest_failed);
	st->transient_pools = ld(&dev->transient_live);
	st->errors = ld(&dev->errors);
}

SWIOTLB_API int swiotlb_dev_stats_sized(const struct swiotlb_dev *dev,
					struct swiotlb_dev_stats *st, size_t st_size)
{
	struct swiotlb_dev_stats tmp;

	if (!dev || !st || st_size < ABI_SIZE_TO(struct swiotlb_dev_stats, errors))
		return -EINVAL;
	dev_stats(dev, &tmp);
	abi_copy_out(st, st_size, &tmp, sizeof(tmp));
	return 0;
}

SWIOTLB_API const char *swiotlb_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0: return "success";
	case EINVAL: return "invalid argument (bad direction, size, flags, or not a live mapping)";
	case E2BIG: return "larger than the maximum mapping size";
	case ENOSPC: return "no free bounce slots (swiotlb buffer is full)";
	case EBUSY: return "busy: live mappings or attached devices";
	case ENOMEM: return "out of memory (provider or metadata allocation failed)";
	case ETIMEDOUT: return "timed out waiting for free bounce slots";
	case EAGAIN: return "resource temporarily unavailable";
	default: return "unknown error";
	}
}
