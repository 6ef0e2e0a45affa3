/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libswiotlb internal types.  The design notes sit next to the data they
 * describe; docs/DESIGN.md is the guided tour and docs/ORDERING.md the
 * memory-ordering protocol.
 *
 * Objects, from the outside in:
 *
 *   swiotlb_mem   a set of pools sharing one provider, one lookup index and
 *                 one growth thread.  Devices attach to a mem.
 *   pool          one contiguous range of device-reachable memory, cut into
 *                 2 KiB slots.  Shared pools (the initial one and grown ones)
 *                 sit in mem->pools (an RCU-published array); a transient
 *                 pool belongs to one device and holds exactly one mapping.
 *   area          a power-of-two slice of a pool with its own lock, search
 *                 cursor and used count, so threads on different CPUs do
 *                 not share a lock.
 *   slot          per-slot metadata kept in private memory (never inside the
 *                 pool: a device may scribble on pool memory).
 *   lookup index  granule-hashed table from device address to pool, read
 *                 lock-free under RCU (lookup.c).
 *
 * Concurrency rules in one place:
 *   - slot metadata and area counters change only under the area lock;
 *     they are _Atomic so that the lock-free readers (sync, addr_to_cpu,
 *     stats) read them with relaxed loads without a data race;
 *   - pool descriptors are immutable after pool_publish() except for the
 *     atomic 'retired' flag and the area state;
 *   - a pool is freed only after it is unpublished and an RCU grace period
 *     has passed (urcu-bp call_rcu), so a reader inside
 *     urcu_bp_read_lock() never touches freed memory;
 *   - the map/unmap ordering protocol is in map.c and lookup.c, proven by
 *     the models in models/.
 */
#ifndef SWIOTLB_INTERNAL_H
#define SWIOTLB_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Inline liburcu's read side (LGPL-compatible).  Sanitizer builds call the
 * out-of-line functions instead: UBSan flags liburcu's own header code
 * (struct urcu_bp_reader is declared 128-byte aligned but liburcu does not
 * allocate it so), which is not ours to fix. */
#ifdef SWIOTLB_MODEL_CHECK
#include "model_env.h" /* the model checker's environment (verify/) */
#else
#ifndef SWIOTLB_NO_URCU_INLINE
#define _LGPL_SOURCE
#endif
#include <urcu/urcu-bp.h>
#endif
#include <urcu/list.h>

#include "swiotlb.h"

#define SWIOTLB_API __attribute__((visibility("default")))

#define SLOT_SHIFT SWIOTLB_SLOT_SHIFT
#define SLOT_SIZE ((size_t)SWIOTLB_SLOT_SIZE)
#if defined(SWIOTLB_MODEL_CHECK) && defined(SWIOTLB_MODEL_SEG_SLOTS)
/* tiny segments, so that a grown pool is a few slots in the model checker */
#define SEG_SLOTS ((unsigned)SWIOTLB_MODEL_SEG_SLOTS)
#else
#define SEG_SLOTS SWIOTLB_SEGMENT_SLOTS
#endif
#define SEG_SIZE ((size_t)SEG_SLOTS << SLOT_SHIFT)
#define PAGE_SZ ((size_t)4096)
#define CACHELINE 64

#define DEFAULT_POOL_SIZE ((size_t)64 << 20)
#define MIN_GROW_SIZE ((size_t)1 << 20)
#define MAX_GROW_SIZE ((size_t)4 << 20)

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static inline size_t nr_slots(size_t bytes)
{
	return (bytes + SLOT_SIZE - 1) >> SLOT_SHIFT;
}

static inline size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* ThreadSanitizer does not model standalone fences, nor liburcu's grace
 * periods (liburcu is not instrumented).  Under TSan we tell it about the
 * happens-before edges those create; elsewhere these compile to nothing. */
#if defined(__SANITIZE_THREAD__)
#define SWIOTLB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SWIOTLB_TSAN 1
#endif
#endif
#ifdef SWIOTLB_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define tsan_acquire(p) __tsan_acquire((void *)(p))
#define tsan_release(p) __tsan_release((void *)(p))
#else
#define tsan_acquire(p) ((void)0)
#define tsan_release(p) ((void)0)
#endif

/*
 * Area lock: a test-and-test-and-set spinlock, like the kernel's per-area
 * spinlock.  Critical sections are short (a search bounded by the area and
 * a few stores), and an uncontended pthread mutex costs several times more
 * on the map/unmap path.  A waiter that spins long (the holder may have
 * been preempted) yields the CPU.
 */
struct spinlock {
	_Atomic int locked;
};

static inline void cpu_relax(void)
{
#if defined(SWIOTLB_MODEL_CHECK)
#elif defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

#ifdef SWIOTLB_MODEL_CHECK
/* a plain spin the model checker can bound (no pause, no yield) */
static inline void spin_lock(struct spinlock *l)
{
	while (atomic_exchange_explicit(&l->locked, 1, memory_order_acquire))
		while (atomic_load_explicit(&l->locked, memory_order_relaxed))
			;
}
#else
static inline void spin_lock(struct spinlock *l)
{
	unsigned spins = 0;

	/* pairs with the store-release in spin_unlock() */
	while (atomic_exchange_explicit(&l->locked, 1, memory_order_acquire)) {
		while (atomic_load_explicit(&l->locked, memory_order_relaxed)) {
			if (++spins < 256)
				cpu_relax();
			else
				sched_yield();
		}
	}
}
#endif

static inline void spin_unlock(struct spinlock *l)
{
	/* pairs with the acquire exchange in spin_lock() */
	atomic_store_explicit(&l->locked, 0, memory_order_release);
}

/*
 * The calling CPU, cheaply: glibc (2.35+) registers rseq for every thread
 * and the kernel keeps rseq.cpu_id current, so one load at the thread
 * pointer + __rseq_offset gives it; sched_getcpu() when rseq is off.
 */
unsigned current_cpu_slow(void);
#ifdef SWIOTLB_MODEL_CHECK
static inline unsigned current_cpu(void)
{
	return model_current_cpu();
}
#else
extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));
static inline unsigned current_cpu(void)
{
	if (likely(&__rseq_size && __rseq_size)) {
		const _Atomic uint32_t *id = (const _Atomic uint32_t *)(
			(char *)__builtin_thread_pointer() + __rseq_offset + 4);
		/* written by the kernel on migration; any recent value will do */
		uint32_t cpu = atomic_load_explicit(id, memory_order_relaxed);

		if (likely((int32_t)cpu >= 0)) /* negative: registration failed */
			return cpu;
	}
	return current_cpu_slow();
}
#endif

/*
 * Slot metadata.  The kernel's 'list' (free slots from a slot to the end of
 * its segment; 0 = in use) is kept apart, in pool->free_run, one byte per
 * slot: the search and the release walk it slot by slot (up to a whole
 * segment backwards), and 128 bytes are two cache lines where 128 slot
 * records would be 64.
 *
 * head: for a used slot, the index (pool-relative) of the first data slot
 *   of its mapping, so a sync in the middle of a mapping finds the mapping.
 * pad: on a head slot, the padding slots allocated in front of it.
 * state: on a head slot, SLOT_MAPPED or SLOT_COHERENT; SLOT_FREE elsewhere.
 * orig/size/dir/offset/dev: on a head slot, the mapping itself.
 * All fields change under the area lock; lock-free readers use relaxed
 * loads and validate (head slot state and size) before trusting them.
 */
/* SLOT_UNMAPPING: an unmap claimed the mapping (compare-and-swap from
 * SLOT_MAPPED, outside the area lock) and is copying it back; a racing
 * second unmap or a sync of it fails instead of copying too. */
enum slot_state { SLOT_FREE = 0, SLOT_MAPPED = 1, SLOT_COHERENT = 2, SLOT_TAIL = 3,
		  SLOT_UNMAPPING = 4 };

struct slot {
	_Atomic uint8_t state;        /* enum slot_state */
	_Atomic uint8_t dir;          /* head: enum swiotlb_dir */
	_Atomic uint8_t pad;          /* head: padding slots before it */
	_Atomic uint16_t offset;      /* head: bounce addr - slot address */
	_Atomic uint16_t nslots;      /* head: slots allocated, padding included */
	_Atomic uint32_t head;        /* used slots: index of the mapping's head */
	_Atomic uint32_t size;        /* head: mapping size in bytes */
	_Atomic(void *) orig;         /* head: the caller's buffer */
	_Atomic(const struct swiotlb_dev *) dev; /* head: the mapping device */
};

/*
 * Area: one lock, one rotating cursor, one used count.  Cache-line aligned
 * so that two CPUs working in their own areas do not share a line.
 * 'allocs' counts allocations ever; the shrinker compares it between polls
 * to tell an idle pool from one that was busy in between.
 */
struct area {
	struct spinlock lock;
	unsigned cursor;              /* area-relative; under lock */
	_Atomic unsigned used;        /* written under lock, read anywhere */
	_Atomic uint64_t allocs;
	_Atomic unsigned live;        /* live mappings/allocations; under lock */
	unsigned reported;            /* part of 'used' added to mem->used_batched */
	/* statistics of mappings placed in this area; written under the lock
	 * (syncs count in the memory's sync_bytes_* instead) */
	_Atomic uint64_t maps;
	_Atomic uint64_t bytes_to_dev;
	_Atomic uint64_t bytes_from_dev;
} __attribute__((aligned(CACHELINE)));

enum pool_kind { POOL_INITIAL = 0, POOL_GROWN = 1, POOL_TRANSIENT = 2, POOL_EXTRA = 3 };

/*
 * Pool descriptor.  The first cache line holds what the lookup and the map
 * fast path read; it never changes after pool_publish().
 */
struct pool {
	swiotlb_addr_t start;         /* device address of slot 0 */
	swiotlb_addr_t end;           /* start + nslots * SLOT_SIZE */
	unsigned char *cpu;           /* CPU address of slot 0 */
	const struct swiotlb_dev *owner; /* transient pools: their device */
	unsigned nslots;
	unsigned nareas;
	unsigned area_slots;
	unsigned area_shift;          /* log2(area_slots) when a power of two */
	enum pool_kind kind;
	_Atomic bool retired;         /* set under all area locks: no new allocs */

	struct swiotlb_mem *mem;
	size_t alloc_len;             /* bytes obtained from the provider */
	struct slot *slots;
	_Atomic uint8_t *free_run;    /* per slot; see struct slot */
	struct area *areas;

	/* shrinker bookkeeping (growth thread only) */
	uint64_t idle_allocs;
	uint64_t idle_since_ns;

	struct cds_list_head dev_node;/* transient: on owner->transients */
	struct cds_list_head lookup_node; /* on mem->index.pools (writer lock) */
	struct rcu_head rcu;
};

/* RCU-published array of the shared pools, in search order. */
struct pool_set {
	unsigned n;
	struct rcu_head rcu;
	struct pool *pools[];
};

/*
 * Lookup index: open-addressing hash of pool pointers keyed by granule
 * (device address >> LOOKUP_GRANULE_SHIFT).  A pool occupies one bucket per
 * granule it touches.  A lookup hashes the address's granule and probes
 * until an empty bucket, comparing the address against each candidate
 * pool's [start, end).  See lookup.c for why this beats a list or a tree.
 */
/* 512 KiB granules: twice the smallest pool we grow (one segment), so a
 * granule rarely holds more than two shared pools and a probe rarely goes
 * past one bucket; a 64 MiB pool takes 128 buckets.  (2 MiB granules made
 * lookups among many 32 KiB..1 MiB pools 2x slower: longer probes.) */
#define LOOKUP_GRANULE_SHIFT 19
#define LOOKUP_TOMBSTONE ((struct pool *)1)

/* A bucket carries a copy of what the lookup compares (the pool's range and
 * owner), so a lookup touches one bucket line and no pool descriptor.  The
 * copy is written before the pool pointer is released into the bucket and
 * never changes while the table lives: deleting stores a tombstone in
 * 'pool', and a tombstoned bucket is not reused before the table is
 * rebuilt. */
struct lookup_bucket {
	_Atomic(struct pool *) pool;  /* NULL = empty, LOOKUP_TOMBSTONE */
	_Atomic swiotlb_addr_t start, end;
	_Atomic(const struct swiotlb_dev *) owner;
};

struct lookup_table {
	size_t mask;                  /* buckets - 1 */
	size_t used;                  /* live entries (writer only) */
	size_t tombstones;            /* writer only */
	struct rcu_head rcu;
	struct lookup_bucket bucket[];
};

struct lookup {
	_Atomic(struct lookup_table *) table;
	pthread_mutex_t writer;       /* serialises writers; readers lock-free */
	struct cds_list_head pools;   /* every published pool (writer lock) */
};

/* FIFO of MAY_BLOCK waiters (wait.c). */
struct waiter {
	pthread_cond_t cond;
	bool granted_turn;            /* under wait lock */
	struct waiter *next;
};

struct waitq {
	pthread_mutex_t lock;
	struct waiter *head, *tail;
	_Atomic unsigned nwaiters;    /* read lock-free by the free path */
};

struct swiotlb_mem {
	/* read-mostly, hot */
	_Atomic(struct pool_set *) pools;  /* RCU-published; see mem.c */
	struct lookup index;
	struct waitq waitq;
	unsigned nareas;                   /* of the initial pool */
	swiotlb_addr_t limit;
	bool dynamic;
	bool strict_cursor;                /* kernel cursor rule, no rewind */

	struct swiotlb_provider provider;
	swiotlb_log_fn log;
	void *log_ctx;

	size_t max_size;
	size_t grow_size;
	unsigned shrink_delay_ms;
	unsigned wait_timeout_ms;

	pthread_mutex_t lock;              /* pool set changes, devices list */
	unsigned ndevs;

	/* growth thread (grow.c) */
	pthread_t grow_thread;
	bool grow_thread_started;
	pthread_mutex_t grow_lock;
	pthread_cond_t grow_cond;
	bool grow_stop;                    /* under grow_lock */
	_Atomic bool grow_pending;         /* a growth request is in flight */
	size_t next_grow_size;             /* growth thread only */

	/* statistics */
	_Atomic uint64_t pool_bytes;       /* all pool memory, transient too */
	/* Used slots of shared pools, fed by the areas in batches of
	 * used_batch slots (0 with a single area: exact), so that CPUs working
	 * in their own areas do not write one shared counter on every map.
	 * The exact count is the sum of the areas' used (mem_used_exact()). */
	_Atomic uint64_t used_batched;
	_Atomic uint64_t hiwater;
	unsigned used_batch;
	_Atomic uint64_t total_slots;
	_Atomic uint64_t mappings;
	_Atomic uint64_t failed_maps;
	_Atomic uint64_t grows, growth_failures, shrinks;
	_Atomic uint64_t grown_pools;
	_Atomic uint64_t transient_live, transient_created, transient_slots;
	_Atomic uint64_t transient_maps, transient_bytes_to_dev, transient_bytes_from_dev;
	_Atomic uint64_t waits, wait_ns, wait_timeouts;
	_Atomic uint64_t coherent;
	_Atomic uint64_t retired_maps, retired_bytes_to_dev, retired_bytes_from_dev;
	_Atomic uint64_t sync_bytes_to_dev, sync_bytes_from_dev;
};

struct swiotlb_dev {
	/* Set once the device has bounced; never cleared.  Read first by every
	 * unmap/sync/is_bounce: see map_finish() and dev_may_have_bounced().
	 * MUST stay the first member: swiotlb.h's inline swiotlb_is_bounce()
	 * reads it. */
	_Atomic bool bounced;
	struct swiotlb_mem *mem;
	uint64_t dma_mask;                 /* all ones when the config said 0 */
	uint32_t min_align_mask;
	uint64_t seg_boundary_mask;        /* all ones = no boundary */
	bool force_bounce;
	swiotlb_direct_fn direct;
	void *direct_ctx;
	char name[48];

	/* The device's transient pools: an RCU list (writers hold 'lock',
	 * readers walk it under urcu_bp_read_lock(); entries are freed after a
	 * grace period).  Lookups do not walk it: transient pools are also in
	 * the memory's index, with this device as owner. */
	pthread_mutex_t lock;
	struct cds_list_head transients;

	unsigned nshards;
	struct dev_shard *shards;          /* per-CPU counters, see stats.c */
	_Atomic uint64_t failed_maps, largest_failed, errors;
	_Atomic uint64_t transient_live;
};
_Static_assert(offsetof(struct swiotlb_dev, bounced) == 0,
	       "swiotlb.h's inline swiotlb_is_bounce() reads the first member");

/* Per-CPU slice of a device's counters: two threads mapping for one device
 * on two CPUs never write the same cache line.  A shard's unmaps may exceed
 * its maps (unmapped on another CPU); only sums mean something:
 * live = maps - unmaps + allocs - frees, summed over shards. */
struct dev_shard {
	_Atomic uint64_t maps, direct_maps, unmaps, bytes_to_dev, bytes_from_dev;
	_Atomic uint64_t allocs, frees; /* coherent */
} __attribute__((aligned(CACHELINE)));

static inline struct dev_shard *dev_shard(const struct swiotlb_dev *dev, unsigned cpu)
{
	return &dev->shards[cpu & (dev->nshards - 1)];
}

/* A slot request: what area_find_slots() needs to place a mapping and
 * what it records in the head slot (under the area lock). */
struct slot_req {
	uintptr_t orig;               /* original address (0 for coherent) */
	void *orig_ptr;               /* the caller's buffer (NULL: coherent) */
	size_t size;                  /* mapping size */
	unsigned offset;              /* full offset: pad slots + in-slot */
	enum swiotlb_dir dir;
	uint8_t state;                /* SLOT_MAPPED or SLOT_COHERENT */
	size_t alloc_size;            /* size + offset, aligned */
	size_t alloc_align_mask;      /* >= SLOT_SIZE - 1 after normalising */
	size_t iotlb_align_mask;      /* min_align bits still to match */
	unsigned nslots;
	unsigned stride;
	const struct swiotlb_dev *dev;
};

/* RCU read side.  Under TSan every read-side section ends with a release
 * on one token that deferred frees acquire (pool_free_rcu(), lookup.c),
 * since TSan cannot see liburcu's grace periods. */
extern char swiotlb_rcu_token;
#ifdef SWIOTLB_MODEL_CHECK
static inline void rcu_enter(void)
{
	model_rcu_read_lock();
}
static inline void rcu_exit(void)
{
	model_rcu_read_unlock();
}
#else
static inline void rcu_enter(void)
{
	urcu_bp_read_lock();
}
static inline void rcu_exit(void)
{
	tsan_release(&swiotlb_rcu_token);
	urcu_bp_read_unlock();
}
#endif
void rcu_defer_free(struct rcu_head *head, void (*fn)(struct rcu_head *));
/* Bracket every deferred-free callback: under TSan, acquire what readers
 * and the deferring thread released, and release for swiotlb_mem_destroy(),
 * which acquires after urcu_bp_barrier(). */
static inline void rcu_cb_enter(void)
{
	tsan_acquire(&swiotlb_rcu_token);
}
static inline void rcu_cb_exit(void)
{
	tsan_release(&swiotlb_rcu_token);
}
void rcu_wait_grace(void);

/* area.c */
int area_find_slots(struct pool *p, unsigned area, const struct slot_req *rq);
void area_release_slots(struct pool *p, unsigned area, unsigned first, unsigned n,
			size_t copied_back);

/* pool.c */
struct pool *pool_create(struct swiotlb_mem *mem, size_t bytes, unsigned nareas,
			 swiotlb_addr_t limit, size_t align, enum pool_kind kind);
void pool_destroy(struct pool *p);
void pool_free_rcu(struct pool *p);
unsigned pool_areas_for(size_t nslots, unsigned wanted);
static inline unsigned pool_area_of(const struct pool *p, unsigned slot)
{
	return slot / p->area_slots;
}
static inline swiotlb_addr_t pool_slot_addr(const struct pool *p, unsigned slot)
{
	return p->start + ((swiotlb_addr_t)slot << SLOT_SHIFT);
}
unsigned pool_used(const struct pool *p);
bool pool_try_retire(struct pool *p);

/* lookup.c */
int lookup_init(struct lookup *lk);
void lookup_fini(struct lookup *lk);
int pool_publish(struct lookup *lk, struct pool *p);
void pool_unpublish(struct lookup *lk, struct pool *p);
struct pool *lookup_find(const struct lookup *lk, swiotlb_addr_t addr,
			 const struct swiotlb_dev *dev);
struct pool *lookup_pool(const struct swiotlb_dev *dev, swiotlb_addr_t addr);

/*
 * First step of every unmap, sync and is_bounce: has this device ever
 * bounced?  The caller obtained the address, perhaps from another thread
 * through memory the library does not control and with a relaxed load,
 * just before.  The acquire fence orders that load before the flag and
 * index loads that follow; it pairs with the release fence in
 * map_finish() (map.c).  For a device that never bounced this is the whole
 * cost: a (free on x86) fence and one load.
 */
static inline bool dev_may_have_bounced(const struct swiotlb_dev *dev)
{
	/* pairs with the release fence in map_finish() */
	atomic_thread_fence(memory_order_acquire);
	tsan_acquire(dev);
	return atomic_load_explicit(&dev->bounced, memory_order_relaxed);
}

/* mem.c */
int mem_add_pool(struct swiotlb_mem *mem, struct pool *p);
void mem_remove_pool(struct swiotlb_mem *mem, struct pool *p);
void area_report_used(struct pool *p, struct area *a, bool force);
uint64_t mem_used_exact(const struct swiotlb_mem *mem);
void mem_fold_pool_stats(struct swiotlb_mem *mem, struct pool *p);

/* grow.c */
#ifdef SWIOTLB_MODEL_CHECK
/* the model checker's harnesses run the growth thread's steps directly */
#define MODEL_VISIBLE
bool grow_once(struct swiotlb_mem *mem);
void shrink_scan(struct swiotlb_mem *mem);
#else
#define MODEL_VISIBLE static
#endif
int grow_start(struct swiotlb_mem *mem);
void grow_stop(struct swiotlb_mem *mem);
void grow_request(struct swiotlb_mem *mem);
struct pool *transient_create(struct swiotlb_dev *dev, const struct slot_req *rq,
			      int *first);
void transient_release(struct pool *p);

/* wait.c */
void waitq_init(struct waitq *q);
void waitq_fini(struct waitq *q);
void waitq_wake(struct waitq *q);
static inline void waitq_notify_free(struct waitq *q)
{
	/* Relaxed is enough: see the lock argument in wait.c. */
	if (unlikely(atomic_load_explicit(&q->nwaiters, memory_order_relaxed)))
		waitq_wake(q);
}
typedef int (*waitq_try_fn)(void *ctx);
int waitq_wait(struct swiotlb_mem *mem, waitq_try_fn try_alloc, void *ctx,
	       unsigned timeout_ms);

/* device.c */
bool dev_direct(const struct swiotlb_dev *dev, const void *cpu, size_t size,
		swiotlb_addr_t *addr);
int64_t dev_live(const struct swiotlb_dev *dev);

/* abi.c */
int abi_copy_in(void *dst, size_t lib_size, const void *src, size_t caller_size,
		size_t min_size);
void abi_copy_out(void *dst, size_t caller_size, const void *src, size_t lib_size);
#define ABI_SIZE_TO(type, last_member) \
	(offsetof(type, last_member) + sizeof(((type *)0)->last_member))

/* log.c */
void mem_log(const struct swiotlb_mem *mem, enum swiotlb_log_level lvl,
	     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* stats.c */
uint64_t now_ns(void);
void deadline_after_ms(clockid_t clock, unsigned ms, struct timespec *ts);
static inline void stat_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}
static inline void stat_max(_Atomic uint64_t *c, uint64_t v)
{
	uint64_t cur = atomic_load_explicit(c, memory_order_relaxed);
	while (v > cur && !atomic_compare_exchange_weak_explicit(
			     c, &cur, v, memory_order_relaxed, memory_order_relaxed))
		;
}

/* provider.c */
extern const struct swiotlb_provider provider_mmap_default;

/* Test and benchmark hook (not in the public header): add a shared pool of
 * 'bytes' to a memory, as a growth would.  Returns 0 or -errno. */
SWIOTLB_API int swiotlb__mem_add_pool(struct swiotlb_mem *mem, size_t bytes);

#endif /* SWIOTLB_INTERNAL_H */
