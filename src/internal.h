/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libswiotlb's internal functions: one block per .c file, from the leaves
 * (which call no other file) up to the public entry points.  The data they
 * work on is in types.h.  Internal functions that are not static carry
 * the prefix _swiotlb_ followed by their file's concept; inline helpers of
 * one concept sit in its block.  docs/DESIGN.md has the call graph.
 */
#ifndef SWIOTLB_INTERNAL_H
#define SWIOTLB_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <time.h>

#include "atomic.h"
#include "clock.h"
#include "cpu.h"
#include "rcu.h"
#include "spinlock.h"
#include "types.h"

#define SWIOTLB_API __attribute__((visibility("default")))

/* ---- log.c: messages through the memory's callback or stderr ---- */
void _swiotlb_log(const struct swiotlb_mem *mem, enum swiotlb_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- strerror.c: swiotlb_strerror() only (public) ---- */

/* ---- abi.c: size-tagged structs across versions ---- */
int _swiotlb_abi_copy_in(void *dst, size_t lib_size, const void *src, size_t caller_size,
			 size_t min_size);
void _swiotlb_abi_copy_out(void *dst, size_t caller_size, const void *src, size_t lib_size);
#define ABI_SIZE_TO(type, last_member) \
	(offsetof(type, last_member) + sizeof(((type *)0)->last_member))

/* ---- rcu.c: deferred frees, barrier, fork hooks (read side: rcu.h) ---- */
void _swiotlb_rcu_limbo_init(struct rcu_limbo *lb);
void _swiotlb_rcu_limbo_fini(struct rcu_limbo *lb);
void _swiotlb_rcu_defer_free(struct rcu_limbo *lb, struct rcu_deferred *d,
			     void (*fn)(struct rcu_deferred *d));
bool _swiotlb_rcu_reclaim(struct rcu_limbo *lb);
void _swiotlb_rcu_synchronize(void);
void _swiotlb_rcu_fork_prepare(void);
void _swiotlb_rcu_fork_done(bool child);

/* ---- area.c: slot search and release inside one area ---- */
void _swiotlb_area_report_used(struct pool *p, struct area *a, bool force);
int _swiotlb_area_find_slots(struct pool *p, unsigned area, const struct slot_req *rq);
int _swiotlb_area_find_slots_locked(struct pool *p, unsigned ai, const struct slot_req *rq);
void _swiotlb_area_uncount_map(struct pool *p, unsigned ai, size_t size);
void _swiotlb_area_release_slots(struct pool *p, unsigned area, unsigned first, unsigned n,
				 size_t copied_back);
unsigned _swiotlb_area_largest_free_run(struct pool *p, unsigned ai);
unsigned _swiotlb_mem_largest_free_run(struct swiotlb_mem *mem);

/* ---- pool.c: a pool's memory, metadata, retirement ---- */
static inline unsigned pool_area_of(const struct pool *p, unsigned slot)
{
	unsigned n = p->area_slots;

	/* a shift when area_slots is a power of two (the usual case): a
	 * 32-bit div costs 20-30 cycles on every unmap */
	if (likely(!(n & (n - 1))))
		return slot >> __builtin_ctz(n);
	return slot / n;
}

static inline swiotlb_addr_t pool_slot_addr(const struct pool *p, unsigned slot)
{
	return p->start + ((swiotlb_addr_t)slot << SLOT_SHIFT);
}

/* Can dev reach at least the first slot of p? */
static inline bool pool_reachable(const struct pool *p, const struct swiotlb_dev *dev)
{
	return p->start + SLOT_SIZE - 1 <= dev->dma_mask;
}

size_t _swiotlb_pool_bytes_allowed(struct swiotlb_mem *mem, size_t want);
struct pool *_swiotlb_pool_create(struct swiotlb_mem *mem, size_t bytes, unsigned nareas,
				  swiotlb_addr_t limit, size_t align, enum pool_kind kind,
				  int *err);
void _swiotlb_pool_info(const struct pool *p, struct swiotlb_pool_info *info);
void _swiotlb_pool_destroy(struct pool *p);
void _swiotlb_pool_free_rcu(struct pool *p);
unsigned _swiotlb_pool_used(const struct pool *p);
bool _swiotlb_pool_try_retire(struct pool *p);

/* ---- lookup.c: device address -> pool, lock-free ---- */
int _swiotlb_lookup_init(struct lookup *lk, struct rcu_limbo *limbo);
void _swiotlb_lookup_fini(struct lookup *lk);
int _swiotlb_lookup_add(struct lookup *lk, struct pool *p);
void _swiotlb_lookup_del(struct lookup *lk, struct pool *p);
struct pool *_swiotlb_lookup_find(const struct lookup *lk, swiotlb_addr_t addr,
				  const struct swiotlb_dev *dev);
struct pool *_swiotlb_lookup_dev_pool(const struct swiotlb_dev *dev, swiotlb_addr_t addr);

/* ---- stats.c: statistics snapshots ---- */
uint64_t _swiotlb_stats_used_slots(const struct swiotlb_mem *mem);
void _swiotlb_stats_fold_pool(struct swiotlb_mem *mem, struct pool *p);

/* ---- wait.c: MAY_BLOCK waiters ---- */
void _swiotlb_waitq_init(struct waitq *q);
void _swiotlb_waitq_fini(struct waitq *q);
void _swiotlb_waitq_wake(struct waitq *q);

/* Called after pool memory was given back under max_size/max_pools (not
 * after frees of slots: those read nwaiters under the area lock, see
 * wait.c): wakes the head waiter, if any. */
static inline void waitq_notify_caps(struct waitq *q)
{
	/* F2: orders the caller's store that freed room (pool_bytes,
	 * pools_alive) before the load of nwaiters; pairs with F1 in
	 * retry_unlocked() (wait.c).  Without both fences the head's retry and
	 * this load may miss each other's stores (store buffering) and the
	 * waiter sleeps to its deadline. */
	atomic_thread_fence(memory_order_seq_cst);
	if (unlikely(ld_relaxed(&q->nwaiters)))
		_swiotlb_waitq_wake(q);
}

typedef int (*waitq_try_fn)(void *ctx);
int _swiotlb_waitq_wait(struct swiotlb_mem *mem, waitq_try_fn try_alloc, void *ctx,
			unsigned timeout_ms);

/* ---- fork.c: locks around fork() ---- */
void _swiotlb_fork_track(struct swiotlb_mem *mem);
void _swiotlb_fork_untrack(struct swiotlb_mem *mem);

/* ---- mem.c: a memory and its set of shared pools ---- */
int _swiotlb_mem_add_pool(struct swiotlb_mem *mem, struct pool *p);
int _swiotlb_mem_remove_pool(struct swiotlb_mem *mem, struct pool *p);

/* ---- resize.c: the resize thread (grows and shrinks) ---- */
int _swiotlb_resize_start(struct swiotlb_mem *mem);
void _swiotlb_resize_stop(struct swiotlb_mem *mem);
void _swiotlb_resize_request_grow(struct swiotlb_mem *mem);
void _swiotlb_resize_request_reclaim(struct swiotlb_mem *mem);
/* One step of the thread each; called directly by model-check harnesses. */
bool _swiotlb_resize_grow_step(struct swiotlb_mem *mem);
void _swiotlb_resize_shrink_step(struct swiotlb_mem *mem);

/* ---- transient.c: one device's single-mapping pools ---- */
struct pool *_swiotlb_transient_create(struct swiotlb_dev *dev, const struct slot_req *rq,
				       int *first);
int _swiotlb_transient_publish(struct swiotlb_dev *dev, struct pool *p);
void _swiotlb_transient_release(struct pool *p);

/* ---- device.c: devices ---- */
static inline struct dev_shard *dev_shard(const struct swiotlb_dev *dev, unsigned cpu)
{
	return &dev->shards[cpu & (dev->nshards - 1)];
}

/* swiotlb_max_mapping_size() of a device, fixed at its creation (the
 * memory's segment, the device's boundary and min_align_mask; inline:
 * every map checks it). */
static inline size_t dev_max_mapping_size(const struct swiotlb_dev *dev)
{
	return dev->max_map;
}

static inline const char *dev_label(const struct swiotlb_dev *dev)
{
	return dev->name[0] ? dev->name : "device";
}

/*
 * First step of every unmap, sync and is_bounce: has this device ever
 * bounced?  The caller obtained the address, perhaps from another thread
 * through memory the library does not control and with a relaxed load,
 * just before.  The acquire fence orders that load before the flag and
 * lookup loads that follow.  For a device that never bounced this is the
 * whole cost: a (free on x86) fence and one load.
 */
static inline bool dev_may_have_bounced(const struct swiotlb_dev *dev)
{
	/* Pairs with the release fence in map_publish_flag() (map.c): without it
	 * the lookup could miss a pool the mapping thread had published and
	 * report a bounce address as direct (docs/ORDERING.md, item 4). */
	atomic_thread_fence(memory_order_acquire);
	tsan_acquire(dev);
	return ld_relaxed(&dev->head.bounced);
}

bool _swiotlb_dev_direct(const struct swiotlb_dev *dev, const void *cpu, size_t size,
			 swiotlb_addr_t *addr);
int64_t _swiotlb_dev_live(const struct swiotlb_dev *dev);
bool _swiotlb_dev_addr_maybe_direct(const struct swiotlb_dev *dev, swiotlb_addr_t addr,
				    size_t size);
int _swiotlb_dev_reject(struct swiotlb_dev *dev, int err, const char *what, swiotlb_addr_t addr,
			size_t size);

/* ---- devcount.c: per-thread bounce counters of a device ---- */
void _swiotlb_devcount_lock(void);
void _swiotlb_devcount_unlock(void);
void _swiotlb_devcount_init(struct swiotlb_dev *dev);
void _swiotlb_devcount_fini(struct swiotlb_dev *dev);
struct dev_tcount *_swiotlb_devcount_lookup(struct swiotlb_dev *dev);
#ifdef SWIOTLB_MODEL_CHECK
struct dev_tcount *_swiotlb_devcount_get(struct swiotlb_dev *dev); /* the harness's */
#else
extern __thread struct tc_thread _swiotlb_tc_self __attribute__((tls_model("initial-exec")));

/* The calling thread's block for dev (NULL: none could be made): the hot
 * table inline, the rest in devcount.c. */
static inline struct dev_tcount *_swiotlb_devcount_get(struct swiotlb_dev *dev)
{
	unsigned h = (unsigned)(dev->id % TC_HOT);

	if (likely(_swiotlb_tc_self.hot[h].id == dev->id))
		return _swiotlb_tc_self.hot[h].tc;
	return _swiotlb_devcount_lookup(dev);
}
#endif
void _swiotlb_devcount_sum(const struct swiotlb_dev *dev, struct dev_tcount_sum *s);
struct dev_tcount *_swiotlb_devcount_mine(void);
unsigned _swiotlb_devcount_drain(struct swiotlb_mem *mem, bool always);
void _swiotlb_devcount_cache_sum(const struct swiotlb_mem *mem, struct runcache_sum *s);

/*
 * Count a bounce map (n = 1, bytes copied in) or take it back (n = -1) in
 * the calling thread's block c (from _swiotlb_devcount_get(), which the
 * caller calls before rcu_enter() and any lock: its first call per thread
 * takes tc_lock, which fork's prepare handler holds while it waits for
 * RCU readers and area locks), else (c NULL) in the CPU's shard.
 */
static inline void devcount_map(struct swiotlb_dev *dev, struct dev_tcount *c, int n,
				uint64_t bytes)
{
	if (likely(c)) {
		add_locked(&c->maps, (uint64_t)(int64_t)n);
		add_locked(&c->bytes_to_dev, n > 0 ? bytes : (uint64_t)0 - bytes);
	} else {
		struct dev_shard *sh = dev_shard(dev, current_cpu());

		stat_add(&sh->maps, (uint64_t)(int64_t)n);
		stat_add(&sh->bytes_to_dev, n > 0 ? bytes : (uint64_t)0 - bytes);
	}
}

/* Count a bounce unmap that copied 'bytes' back. */
static inline void devcount_unmap(struct swiotlb_dev *dev, struct dev_tcount *c, uint64_t bytes)
{
	if (likely(c)) {
		add_locked(&c->unmaps, 1);
		add_locked(&c->bytes_from_dev, bytes);
	} else {
		struct dev_shard *sh = dev_shard(dev, current_cpu());

		stat_add(&sh->unmaps, 1);
		stat_add(&sh->bytes_from_dev, bytes);
	}
}

/* ---- runcache.c: per-thread caches of freed runs ---- */
/* (the owner's inline side: runcache.h) */
extern bool _swiotlb_runcache_on; /* set once, before any memory exists */
void _swiotlb_runcache_init(void);
int _swiotlb_runcache_find_slots(struct pool *p, unsigned ai, const struct slot_req *rq,
				 struct dev_tcount *mine);
/* tc_lock held (devcount.c, fork.c): */
unsigned _swiotlb_runcache_drain_locked(struct swiotlb_mem *mem, bool always);
void _swiotlb_runcache_thread_exit(struct swiotlb_dev *dev, struct dev_tcount *tc);
void _swiotlb_runcache_dev_retire(struct swiotlb_dev *dev);
void _swiotlb_runcache_sum_locked(const struct swiotlb_mem *mem, struct runcache_sum *s);
void _swiotlb_runcache_fork_prepare(struct cds_list_head *mems);
void _swiotlb_runcache_fork_done(struct cds_list_head *mems, bool child);

/* ---- map.c: streaming maps ---- */
int _swiotlb_map_req_init(struct swiotlb_dev *dev, void *orig, size_t size, size_t alloc_align_mask,
			  struct slot_req *rq);
int _swiotlb_map_bounce(struct map_ctx *m);
int _swiotlb_map_failed(struct swiotlb_dev *dev, int rc, size_t size, unsigned attrs);

/* ---- unmap.c: finding and releasing a live mapping; syncs ---- */
int _swiotlb_mapping_find_head(const struct pool *p, const struct swiotlb_dev *dev,
			       swiotlb_addr_t addr, uint8_t state);
bool _swiotlb_mapping_is(const struct pool *p, unsigned h, swiotlb_addr_t addr, size_t size,
			 enum swiotlb_dir dir, uint8_t state);
bool _swiotlb_mapping_owned(const struct pool *p, unsigned h, const struct swiotlb_dev *dev,
			    swiotlb_addr_t addr, size_t size, enum swiotlb_dir dir, uint8_t state);
unsigned _swiotlb_mapping_release_locked(struct swiotlb_dev *dev, struct pool *p, unsigned h,
					 size_t copied_back);
void _swiotlb_mapping_release_after(struct swiotlb_dev *dev, struct pool *p, unsigned waiters);
void _swiotlb_unmap_undo(struct swiotlb_dev *dev, swiotlb_addr_t addr, size_t size,
			 enum swiotlb_dir dir);
int _swiotlb_sync(struct swiotlb_dev *dev, swiotlb_addr_t addr, size_t size, enum swiotlb_dir dir,
		  enum sync_to to);

/* ---- sg.c, coherent.c: public entry points only ---- */

/* ---- provider.c: built-in providers ---- */
extern const struct swiotlb_provider _swiotlb_provider_mmap_default;

#endif /* SWIOTLB_INTERNAL_H */
