/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libswiotlb's data, with its design notes and invariants.  The
 * prototypes are in internal.h; docs/DESIGN.md is the guided tour and
 * docs/ORDERING.md the memory-ordering protocol.
 *
 * Objects, from the outside in:
 *
 *   swiotlb_mem   a set of pools sharing one provider, one lookup and one
 *                 resize thread.  Devices attach to a mem.
 *   pool          one contiguous range of device-reachable memory, cut into
 *                 2 KiB slots.  Shared pools (the initial one and grown ones)
 *                 sit in mem->pools (an RCU-published array); a transient
 *                 pool belongs to one device and holds exactly one mapping.
 *   area          a power-of-two slice of a pool with its own lock, search
 *                 cursor and used count, so threads on different CPUs do
 *                 not share a lock.
 *   slot          per-slot metadata kept in private memory (never inside the
 *                 pool: a device may scribble on pool memory).
 *   lookup        granule-hashed table from device address to pool, read
 *                 lock-free under RCU (lookup.c).
 *
 * Concurrency rules in one place:
 *   - slot metadata and area counters change only under the area lock
 *     (one exception: the SLOT_MAPPED -> SLOT_UNMAPPING claim, a
 *     compare-and-swap); they are _Atomic so that the lock-free readers
 *     (sync, addr_to_cpu, stats) read them with relaxed loads without a
 *     data race;
 *   - pool descriptors are immutable after _swiotlb_lookup_add() except for
 *     the atomic 'retired' flag and the area state;
 *   - a pool is freed only after it is removed from the lookup (and the
 *     pool set) and an RCU grace period has passed, so a reader inside
 *     rcu_enter() never touches freed memory;
 *   - the map/unmap ordering protocol is docs/ORDERING.md, proven by the
 *     models in models/.
 */
#ifndef SWIOTLB_TYPES_H
#define SWIOTLB_TYPES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rcu.h"
#include <urcu/list.h>

#include "swiotlb.h"
#include "log.h"

#define SLOT_SHIFT SWIOTLB_SLOT_SHIFT
#define SLOT_SIZE ((size_t)SWIOTLB_SLOT_SIZE)
/* The kernel's segment: the default of swiotlb_mem_config.segment_slots.
 * A memory's own segment is mem->cfg.seg_slots (pool->seg_slots). */
/* Model-check builds shrink the default segment (and so every pool) to a
 * few slots: GenMC's start-up grows with the square of static memory. */
#if defined(SWIOTLB_MODEL_CHECK) && defined(SWIOTLB_MODEL_SEG_SLOTS)
#define SEG_SLOTS SWIOTLB_MODEL_SEG_SLOTS
#else
#define SEG_SLOTS SWIOTLB_SEGMENT_SLOTS
#endif
#define SEG_SIZE ((size_t)SEG_SLOTS << SLOT_SHIFT)
#define PAGE_SZ ((size_t)4096)
#define CACHELINE 64

#define DEFAULT_POOL_SIZE ((size_t)64 << 20)
#define MIN_GROW_SIZE ((size_t)1 << 20)
#define MAX_GROW_SIZE ((size_t)4 << 20)
#define DEFAULT_WAIT_TIMEOUT_MS 1000u

/* Slots an area's used count may drift from what it reported to
 * mem->stats.used_batched before it reports again (see struct
 * mem_counters).  With one area the count is exact (batch 0). */
#define USED_BATCH_SLOTS 32u

/* An area at least this full (in percent) is crowded: see
 * area_crowded() in map.c. */
#define AREA_CROWDED_PCT 75u

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Attributes the map and unmap calls know. */
#define KNOWN_ATTRS (SWIOTLB_ATTR_SKIP_CPU_SYNC | SWIOTLB_ATTR_NO_WARN | SWIOTLB_ATTR_MAY_BLOCK)
/* Internal unmap attribute, never accepted from callers: undo a map of a
 * failed scatter-gather list, statistics included, without copy-back. */
#define ATTR_UNDO_MAP (1u << 31)

static inline bool dir_valid(enum swiotlb_dir dir)
{
	return (unsigned)dir <= SWIOTLB_FROM_DEVICE;
}

static inline size_t nr_slots(size_t bytes)
{
	return (bytes + SLOT_SIZE - 1) >> SLOT_SHIFT;
}

static inline size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/*
 * Slot state machine.  A mapping or allocation of n slots after pad
 * padding slots occupies the run [first, first + pad + n):
 *
 *   SLOT_FREE       not part of any run (free_run[s] > 0), and the state
 *                   of the padding slots of a run (free_run[s] == 0).
 *   SLOT_TAIL       a used data slot other than the head's own state; its
 *                   'head' names the head slot.  Written for every data
 *                   slot, then the head overwrites its own with:
 *   SLOT_MAPPED     the head of a live streaming mapping (swiotlb_map);
 *   SLOT_COHERENT   the head of a live coherent allocation (swiotlb_alloc);
 *   SLOT_UNMAPPING  the head of a mapping a locked unmap has claimed for
 *                   its copy-back (a racing second unmap or a sync of it
 *                   fails instead of copying too).  Freed (SLOT_FREE)
 *                   under the area lock right after the copy.
 *   SLOT_CACHED     the head of a run that a lock-free unmap claimed for
 *                   its thread's run cache (runcache.c): still used in
 *                   its area (free_run 0, area.used, area.live count it)
 *                   but no mapping; the cache hands it to that thread's
 *                   next map of the same shape, or gives it back to the
 *                   area (SLOT_FREE) under the area lock.
 *
 * A slot's state is the low byte of its 32-bit 'tag'; the upper 24 bits
 * are the head's generation, bumped each time the head becomes
 * SLOT_MAPPED or SLOT_COHERENT.  Every transition out of SLOT_MAPPED is a
 * compare-and-swap of the whole tag (MAPPED -> UNMAPPING under the area
 * lock, MAPPED -> CACHED without it), so a claim that read the tag of one
 * mapping cannot succeed on a later mapping at the same head (no ABA,
 * short of 2^24 remaps of one head inside one claim, which the claimant's
 * re-check after the swap still catches: unmap.c).  Every other
 * transition (FREE -> TAIL/MAPPED/COHERENT, UNMAPPING/CACHED/COHERENT ->
 * FREE) is a store under the area lock, or (CACHED -> MAPPED) by the
 * cache's owner thread, which alone holds a cached run.
 */
enum slot_state {
	SLOT_FREE = 0,
	SLOT_MAPPED = 1,
	SLOT_COHERENT = 2,
	SLOT_TAIL = 3,
	SLOT_UNMAPPING = 4,
	SLOT_CACHED = 5
};

#define TAG_STATE_MASK 0xffu
#define TAG_GEN_ONE 0x100u
/* Model-check builds may narrow the generation so that a harness sees it
 * wrap (verify/): the re-check after a claim must then catch it. */
#if defined(SWIOTLB_MODEL_CHECK) && defined(SWIOTLB_MODEL_TAG_GEN_BITS)
#define TAG_GEN_MASK ((((uint32_t)1 << SWIOTLB_MODEL_TAG_GEN_BITS) - 1) << 8)
#else
#define TAG_GEN_MASK (~TAG_STATE_MASK)
#endif

/* The state of a tag. */
static inline uint8_t tag_state(uint32_t tag)
{
	return (uint8_t)(tag & TAG_STATE_MASK);
}

/* The same generation in another state. */
static inline uint32_t tag_with(uint32_t tag, uint8_t state)
{
	return (tag & ~TAG_STATE_MASK) | state;
}

/* The next generation, in 'state' (a head becoming a mapping). */
static inline uint32_t tag_next(uint32_t tag, uint8_t state)
{
	return ((tag + TAG_GEN_ONE) & TAG_GEN_MASK) | state;
}

/*
 * Slot metadata.  The kernel's 'list' (free slots from a slot to the end of
 * its segment; 0 = in use) is kept apart, in pool->free_run, 16 bits per
 * slot (a segment has up to SWIOTLB_SEGMENT_SLOTS_MAX slots): the search
 * and the release walk it slot by slot (up to a whole segment backwards),
 * and a 128-slot segment's counts are four cache lines where its slot
 * records would be 64.
 *
 * All fields change under the area lock, except the tag (the claims'
 * compare-and-swaps, above) and a cached run's head, which the owner of
 * the cache that holds it rewrites when it maps it again (runcache.c);
 * lock-free readers use relaxed loads and validate (head slot state, dev
 * and size) before trusting them.
 */
struct slot {
	_Atomic uint32_t tag; /* enum slot_state in the low byte, generation above */
	/* data slots: pool index of the mapping's head, so a sync in the middle
	 * finds it */
	_Atomic uint32_t head;
	_Atomic uint32_t size;   /* head: mapping size in bytes */
	_Atomic uint16_t offset; /* head: bounce address - head slot address */
	_Atomic uint16_t nslots; /* head: slots allocated, padding included */
	_Atomic uint8_t dir;     /* head: enum swiotlb_dir of the mapping */
	_Atomic uint8_t pad;     /* head: padding slots allocated before it */
	_Atomic(void *) orig;    /* head: the caller's buffer (NULL: coherent) */
	/* head: the mapping device; NULL once released */
	_Atomic(const struct swiotlb_dev *) dev;
};

/*
 * Area: one lock, one rotating cursor, one used count.  Cache-line aligned
 * so that two CPUs working in their own areas do not share a line.
 *
 * Invariants (under the lock):
 *   used == number of slots of the area's runs (padding included)
 *        == area_slots - (free slots of the area)
 *   live == number of runs (mappings and coherent allocations)
 *   shared pools: |used - reported| <= mem->cfg.used_batch, or
 *        used == reported when used_batch == 0 or after a forced report;
 *   transient pools: reported == 0 (they are not in used_batched)
 */
struct area {
	struct spinlock lock;  /* protects everything below and the area's slots */
	unsigned cursor;       /* area-relative start of the next search */
	_Atomic unsigned used; /* slots in use; written under lock, read anywhere */
	/* runs ever placed here; the shrinker compares it between polls to tell an
	 * idle pool from one busy in between */
	_Atomic uint64_t allocs;
	_Atomic unsigned live; /* live runs */
	/* part of 'used' added to mem->stats.used_batched */
	unsigned reported;
	/* statistics of mappings placed in this area (syncs count in the
	 * memory's sync_bytes_* instead: they do not take the lock) */
	_Atomic uint64_t maps;           /* streaming maps ever */
	_Atomic uint64_t bytes_to_dev;   /* copied in by those maps */
	_Atomic uint64_t bytes_from_dev; /* copied back by their unmaps */
} __attribute__((aligned(CACHELINE)));

/* What the default placement knows of a segment (area.c, "Placement"),
 * read by its best fit (fullest_fit()) under the area lock.
 * Invariants: 0 <= used <= seg_slots; cls means something only while
 * used > 0 (it is set when used goes from 0 to the first run's slots). */
struct seg {
	uint16_t used; /* slots in use, padding included */
	uint16_t cls;  /* size class of the run that took it when empty */
};

enum pool_kind { POOL_INITIAL = 0, POOL_GROWN = 1, POOL_TRANSIENT = 2, POOL_EXTRA = 3 };

/*
 * Pool descriptor.  The first cache line holds what the lookup and the map
 * fast path read; it never changes after the pool is published.
 *
 * Invariants:
 *   end == start + nslots * SLOT_SIZE;  nslots == nareas * area_slots;
 *   seg_slots == 1 << seg_shift == mem->cfg.seg_slots;
 *   nareas is a power of two and area_slots a multiple of seg_slots
 *   when nareas > 1 (a segment never straddles two areas);
 *   free_run[s] == 0 for a used slot, else the free slots from s to the
 *   end of s's segment (or of the pool);
 *   segs[g].used == used slots (padding included) of segment g, i.e. of
 *   slots [g * seg_slots, (g + 1) * seg_slots) (area lock);
 *   retired => no area_find_slots() succeeds any more.
 */
struct pool {
	swiotlb_addr_t start;            /* device address of slot 0 */
	swiotlb_addr_t end;              /* start + nslots * SLOT_SIZE */
	unsigned char *cpu;              /* CPU address of slot 0 */
	const struct swiotlb_dev *owner; /* transient pools: their device; else NULL */
	unsigned nslots;                 /* slots in the pool */
	unsigned nareas;                 /* areas (a power of two) */
	unsigned area_slots;             /* slots per area */
	unsigned seg_slots;              /* slots per segment (a power of two) */
	unsigned seg_shift;              /* log2(seg_slots) */
	bool strict;                     /* mem->cfg.strict_cursor (read on every map) */
	/* unmaps park runs in thread run caches (runcache.c): the initial
	 * pool of a memory without strict_cursor, when caches are on */
	bool run_cache;
	unsigned large_run;   /* longer runs share one class (area.c) */
	enum pool_kind kind;  /* initial, grown, transient or extra (test hook) */
	_Atomic bool retired; /* set under all area locks: no new allocs */
	bool announced;       /* the pool_added hook accepted it */

	struct swiotlb_mem *mem;    /* the memory it belongs to */
	size_t alloc_len;           /* bytes obtained from the provider */
	struct slot *slots;         /* nslots records */
	_Atomic uint16_t *free_run; /* nslots counts; see struct slot */
	struct seg *segs;           /* per segment (area lock) */
	struct area *areas;         /* nareas areas */

	/* shrinker bookkeeping (resize thread only) */
	uint64_t idle_allocs;   /* sum of areas' allocs at the last poll */
	uint64_t idle_since_ns; /* when it was first seen idle; 0: busy */

	struct cds_list_head lookup_node; /* on mem->lookup.pools (writer lock) */
	struct rcu_deferred rcu;          /* deferred free (limbo) */
};

/* RCU-published array of the shared pools, in search order (oldest
 * first), replaced as a whole under mem->lock (copy-on-write, mem.c). */
struct pool_set {
	unsigned n;              /* pools[] entries */
	struct rcu_deferred rcu; /* deferred free of a replaced set */
	struct pool *pools[];    /* n pools, oldest first */
};

/*
 * Lookup: open-addressing hash of pool pointers keyed by granule
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
	_Atomic(struct pool *) pool;               /* NULL = empty, LOOKUP_TOMBSTONE = deleted */
	_Atomic swiotlb_addr_t start, end;         /* copy of pool->start, pool->end */
	_Atomic(const struct swiotlb_dev *) owner; /* copy of pool->owner */
};

/*
 * One generation of the lookup's hash table.  Invariants (writer lock):
 *   used == sum over pools on lookup.pools of their granules
 *   used + tombstones <= (mask + 1) * LOOKUP_MAX_FILL_PCT / 100 after an add
 *   (50%; a rebuild sizes for LOOKUP_REBUILD_SPREAD buckets per entry)
 */
struct lookup_table {
	size_t mask;                   /* buckets - 1 (buckets a power of two) */
	size_t used;                   /* live entries (writer only) */
	size_t tombstones;             /* deleted entries (writer only) */
	struct rcu_deferred rcu;       /* deferred free after a rebuild */
	struct lookup_bucket bucket[]; /* mask + 1 buckets */
};

struct lookup {
	_Atomic(struct lookup_table *) table; /* current table, RCU-published */
	struct rcu_limbo *limbo;              /* its memory's, for old tables */
	pthread_mutex_t writer;               /* serialises writers; readers lock-free */
	/* every pool in the table (writer lock), to rebuild it */
	struct cds_list_head pools;
};

/* One MAY_BLOCK waiter, on its own stack (wait.c). */
struct waiter {
	pthread_cond_t cond; /* signalled when it becomes or is the head */
	struct waiter *next; /* FIFO link */
};

/* FIFO of MAY_BLOCK waiters.  nwaiters == length of the list. */
struct waitq {
	pthread_mutex_t lock;       /* protects the list and wakeups */
	struct waiter *head, *tail; /* head: the only waiter that retries */
	unsigned long wakeups;      /* _swiotlb_waitq_wake() calls (under lock) */
	_Atomic unsigned nwaiters;  /* read lock-free by the free path */
};

/* A memory's configuration, normalised once by swiotlb_mem_create()
 * (defaults applied); read-only afterwards. */
struct mem_config {
	unsigned nareas;                  /* areas of the initial pool (power of two) */
	unsigned used_batch;              /* USED_BATCH_SLOTS, or 0 with one area */
	swiotlb_addr_t limit;             /* highest device address of pool memory; 0 any */
	bool dynamic;                     /* grow, shrink, transient pools */
	bool strict_cursor;               /* kernel cursor rule, no rewind */
	struct swiotlb_provider provider; /* a copy of the caller's */
	swiotlb_log_fn log;               /* NULL: stderr */
	void *log_ctx;                    /* passed to log */
	/* cap on pool_bytes; 0 none (always 0 unless dynamic) */
	size_t max_size;
	unsigned max_pools;                   /* cap on pools_alive; 0 none */
	swiotlb_pool_added_fn pool_added;     /* NULL: none */
	swiotlb_pool_removed_fn pool_removed; /* NULL: none */
	void *hook_ctx;                       /* passed to both hooks */
	size_t grow_size;                     /* bytes of a grown pool (segment multiple) */
	unsigned shrink_delay_ms;             /* idle time before a shrink; 0 never */
	unsigned wait_timeout_ms;             /* default MAY_BLOCK deadline */
	unsigned seg_slots;                   /* slots per segment (power of two) */
	size_t seg_size;                      /* seg_slots * SLOT_SIZE */
};

/* The resize thread: grows on request, shrinks idle grown pools. */
struct mem_resize {
	pthread_t thread;      /* valid while started */
	bool started;          /* thread is running (joined by stop) */
	pthread_mutex_t lock;  /* protects stop; with cond, the sleep */
	pthread_cond_t cond;   /* wakes the thread: request or stop */
	bool stop;             /* under lock */
	_Atomic bool pending;  /* a growth request is in flight */
	bool reclaim;          /* under lock: deferred frees are waiting */
	size_t next_grow_size; /* resize thread only; halves on failure */
};

/*
 * A memory's counters (relaxed atomics).  Invariants, at any quiescent
 * point (no call in progress):
 *   pool_bytes == sum over every live pool (shared and transient) of
 *                 alloc_len;  pool_bytes <= cfg.max_size when max_size != 0
 *   pools_alive == pools created and not yet destroyed (shared, transient,
 *                 and pools unpublished but waiting for a grace period);
 *                 pools_alive <= cfg.max_pools when max_pools != 0
 *   total_slots == sum over shared pools of nslots
 *   exact used  == sum over shared pools and their areas of area.used
 *                  (_swiotlb_stats_used_slots());
 *   used_batched == sum over shared pools' areas of area.reported
 *                  (areas of pools removed since reported 0 first)
 *   hiwater >= used_batched after every increase since the last reset
 *   transient_live == live transient pools == live mappings in them
 *   transient_slots == sum over live transient pools of nslots
 *   grown_pools == shared pools of kind POOL_GROWN
 *   coherent == live coherent allocations (all pools)
 *   retired_* == sum of the area counters of every shared pool removed
 *                (folded under mem->lock, which a snapshot also takes)
 *   transient_maps, transient_bytes_* == what the areas of transient pools
 *                would have counted (transient pools count here directly,
 *                so a live one is seen at once)
 */
struct mem_counters {
	_Atomic uint64_t pool_bytes;  /* all pool memory, transient too */
	_Atomic unsigned pools_alive; /* pools created, not yet destroyed */
	/* Used slots of shared pools, fed by the areas in batches of
	 * cfg.used_batch slots, so that CPUs working in their own areas do
	 * not write one shared counter on every map. */
	_Atomic uint64_t used_batched;
	_Atomic uint64_t hiwater;                  /* highest used_batched seen */
	_Atomic uint64_t total_slots;              /* slots of shared pools */
	_Atomic uint64_t failed_maps;              /* maps and allocs that failed */
	_Atomic uint64_t grows;                    /* pools grown, ever */
	_Atomic uint64_t growth_failures;          /* provider/add failures while growing */
	_Atomic uint64_t shrinks;                  /* grown pools released, ever */
	_Atomic uint64_t grown_pools;              /* grown pools now */
	_Atomic uint64_t transient_live;           /* transient pools now */
	_Atomic uint64_t transient_created;        /* transient pools ever */
	_Atomic uint64_t transient_slots;          /* slots of live transient pools */
	_Atomic uint64_t waits;                    /* MAY_BLOCK waits */
	_Atomic uint64_t wait_ns;                  /* time spent in them */
	_Atomic uint64_t wait_timeouts;            /* waits that timed out */
	_Atomic uint64_t coherent;                 /* live coherent allocations */
	_Atomic uint64_t retired_maps;             /* area.maps of freed pools */
	_Atomic uint64_t retired_bytes_to_dev;     /* area.bytes_to_dev of freed pools */
	_Atomic uint64_t retired_bytes_from_dev;   /* area.bytes_from_dev of freed pools */
	_Atomic uint64_t transient_maps;           /* maps in transient pools */
	_Atomic uint64_t transient_bytes_to_dev;   /* their copy-in */
	_Atomic uint64_t transient_bytes_from_dev; /* their copy-back */
	_Atomic uint64_t sync_bytes_to_dev;        /* copied by syncs for device */
	_Atomic uint64_t sync_bytes_from_dev;      /* copied by syncs for CPU */
};

/*
 * Where each public statistic comes from (stats.c sums them; "areas" means
 * every area of every shared pool, read under RCU):
 *
 *   struct swiotlb_stats    | summed from
 *   ------------------------+----------------------------------------------
 *   total_slots             | counters.total_slots
 *   used_slots              | sum of areas' used - caches' slots
 *   hiwater_slots           | max(counters.hiwater, used_slots)
 *   mappings                | sum of areas' live - caches' n
 *                           | + transient_live - coherent (clamped at 0)
 *   maps                    | sum of areas' maps + retired_maps
 *                           | + transient_maps + caches' maps
 *   bytes_to_device         | sum of areas' bytes_to_dev + retired_bytes_to_dev
 *                           | + transient_bytes_to_dev + sync_bytes_to_dev
 *                           | + caches' bytes_to_dev
 *   bytes_from_device       | sum of areas' bytes_from_dev
 *                           | + retired_bytes_from_dev
 *                           | + transient_bytes_from_dev + sync_bytes_from_dev
 *                           | + caches' bytes_from_dev
 *   ("caches": the run caches of every block of every device of the
 *   memory, plus cache_gone for their statistics; runcache.c)
 *   failed_maps             | counters.failed_maps
 *   pools                   | pool set's n
 *   grown_pools, grows,     | the counters of the same name
 *   growth_failures, shrinks|
 *   transient_pools         | counters.transient_live
 *   transient_created/slots | the counters of the same name
 *   pool_bytes              | counters.pool_bytes
 *   waits, wait_ns,         | the counters of the same name
 *   wait_timeouts           |
 *   coherent_allocs         | counters.coherent
 *
 *   struct swiotlb_dev_stats| summed from
 *   ------------------------+----------------------------------------------
 *   maps, direct_maps,      | sum over the device's shards of the shard
 *   unmaps                  | counter of the same name, + for maps and
 *                           | unmaps the per-thread blocks (devcount.c)
 *   bytes_to_device         | sum of shards' bytes_to_dev (syncs, undo)
 *                           | + blocks' bytes_to_dev (maps)
 *   bytes_from_device       | sum of shards' bytes_from_dev (syncs)
 *                           | + blocks' bytes_from_dev (unmaps)
 *   mappings                | shards' maps + allocs - unmaps - frees
 *                           | + blocks' maps - unmaps
 *                           | (_swiotlb_dev_live(), clamped at 0)
 *   (blocks: every live thread's dev_tcount of the device, plus tc_gone,
 *   the blocks of threads that exited)
 *   failed_maps,            | the device's counters of the same name
 *   largest_failed, errors  |
 *   transient_pools         | swiotlb_dev.transient_live
 */
struct swiotlb_mem {
	/* read-mostly, hot */
	_Atomic(struct pool_set *) pools; /* shared pools, RCU-published; mem.c */
	/* The initial pool: set before swiotlb_mem_create() returns, never
	 * removed before swiotlb_mem_destroy(), so an unmap may use it
	 * without RCU or a lookup (unmap.c). */
	struct pool *initial;
	struct lookup lookup;  /* address -> pool, all pools */
	struct waitq waitq;    /* MAY_BLOCK waiters */
	struct mem_config cfg; /* read-only after create */

	pthread_mutex_t lock;           /* pool set changes, ndevs, folded counters */
	unsigned ndevs;                 /* attached devices (under lock) */
	struct cds_list_head fork_node; /* on fork.c's registry of memories */
	/* attached devices, so that the run caches of their threads can be
	 * summed and drained (devcount.c's tc_lock) */
	struct cds_list_head devs;
	/* run-cache statistics of threads and devices that are gone
	 * (runcache.c: folded under tc_lock) */
	struct run_cache_gone {
		_Atomic uint64_t maps, bytes_to_dev, bytes_from_dev;
	} cache_gone;

	struct rcu_limbo limbo;    /* deferred frees (rcu.h) */
	struct mem_resize resize;  /* resize.c */
	struct mem_counters stats; /* see the table above */
	struct log_state log;      /* level, sink, rate limit (log.c) */
};

struct swiotlb_dev {
	/* Set once the device has bounced; never cleared.  Read first by every
	 * unmap/sync/is_bounce: see map_publish_flag() and dev_may_have_bounced().
	 * MUST stay the first member: swiotlb.h's inline swiotlb_is_bounce()
	 * reads it. */
	struct swiotlb_dev_head head;
	struct swiotlb_mem *mem;    /* the memory it is attached to */
	uint64_t dma_mask;          /* all ones when the config said 0 */
	uint32_t min_align_mask;    /* 2^n - 1, below SEG_SIZE - SLOT_SIZE (256 KiB's) */
	uint64_t seg_boundary_mask; /* all ones = no boundary */
	size_t seg_size;            /* mem->cfg.seg_size (read on every map) */
	size_t max_map;             /* swiotlb_max_mapping_size(), fixed at create */
	bool force_bounce;          /* never map directly */
	swiotlb_direct_fn direct;   /* NULL: identity below dma_mask */
	void *direct_ctx;           /* passed to direct */
	char name[48];              /* "" when none was given */

	unsigned nshards;              /* == mem->cfg.nareas (a power of two) */
	struct dev_shard *shards;      /* per-CPU counters, see stats.c */
	uint64_t id;                   /* unique, never reused (devcount.c) */
	struct cds_list_head tc_list;  /* threads' dev_tcount blocks (tc_lock) */
	struct cds_list_head mem_node; /* on mem->devs (tc_lock) */
	struct dev_tcount_sum_atomic { /* blocks folded by exited threads */
		_Atomic uint64_t maps, unmaps, bytes_to_dev, bytes_from_dev;
	} tc_gone;
	_Atomic uint64_t failed_maps;    /* maps/allocs that failed (not EINVAL) */
	_Atomic uint64_t largest_failed; /* largest size of those */
	_Atomic uint64_t errors;         /* calls rejected with -EINVAL */
	_Atomic uint64_t transient_live; /* its live transient pools */
};
_Static_assert(offsetof(struct swiotlb_dev, head) == 0,
	       "swiotlb.h's inline swiotlb_is_bounce() reads the first member");

/* Per-CPU slice of a device's counters: two threads mapping for one device
 * on two CPUs never write the same cache line.  A shard's unmaps may exceed
 * its maps (unmapped on another CPU); only sums mean something:
 * live = sum over shards of (maps - unmaps + allocs - frees). */
struct dev_shard {
	_Atomic uint64_t maps;           /* bounce maps */
	_Atomic uint64_t direct_maps;    /* maps served without bouncing */
	_Atomic uint64_t unmaps;         /* bounce unmaps */
	_Atomic uint64_t bytes_to_dev;   /* copied in: maps, syncs for device */
	_Atomic uint64_t bytes_from_dev; /* copied back: unmaps, syncs for CPU */
	_Atomic uint64_t allocs, frees;  /* coherent */
} __attribute__((aligned(CACHELINE)));

/* What a thread's run cache for one device may hold (runcache.c): a
 * map+unmap loop with up to 8 buffers in flight, or two 64 KiB ones, is
 * served without an area lock; more goes to the areas.  So the slots
 * parked in caches are at most RUN_CACHE_SLOTS per thread and device, and
 * a waiter or a failing map takes them back (runcache.c). */
#define RUN_CACHE_RUNS 8u
#define RUN_CACHE_SLOTS 64u

/* run_cache.steal: a tc_lock holder taking the cache's runs. */
enum cache_steal {
	STEAL_NONE = 0, /* the owner may use the cache */
	STEAL_BUSY = 1, /* a thief is at work: the owner keeps out */
	STEAL_DONE = 2, /* emptied by a thief; the owner resets it to NONE */
};

/*
 * A thread's cache of freed runs for one device, in the memory's initial
 * pool (runcache.c).  Written by the owner thread inside
 * cache_enter()..cache_exit() (busy == 1), or by a tc_lock holder that
 * has shut the owner out (the steal protocol in runcache.c).
 * Invariants, whenever neither is at work:
 *   n <= RUN_CACHE_RUNS;  slots == sum over i < n of nslots(heads[i])
 *   <= RUN_CACHE_SLOTS;  every heads[i] is a head slot of mem->initial
 *   in state SLOT_CACHED whose dev is this block's device;
 *   the runs count in their areas' used and live: a statistic subtracts
 *   slots and n (stats.c).
 */
struct run_cache {
	_Atomic unsigned busy;                  /* owner inside the cache */
	_Atomic unsigned steal;                 /* enum cache_steal */
	_Atomic unsigned n;                     /* runs held: heads[0..n) */
	_Atomic unsigned slots;                 /* their slots, padding included */
	_Atomic uint32_t heads[RUN_CACHE_RUNS]; /* head slot indexes */
	/* the memory's statistics of the maps it served and the unmaps it
	 * took (they bypass the area counters) */
	_Atomic uint64_t maps, bytes_to_dev, bytes_from_dev;
};

/* One thread's bounce map/unmap counts for one device (devcount.c).  The
 * counters are written only by the owner thread (relaxed load + store, no
 * locked instruction) and read by anyone with relaxed loads. */
struct dev_tcount {
	_Atomic uint64_t maps;           /* bounce maps */
	_Atomic uint64_t unmaps;         /* bounce unmaps */
	_Atomic uint64_t bytes_to_dev;   /* copied in by those maps */
	_Atomic uint64_t bytes_from_dev; /* copied back by those unmaps */
	/* the device; NULL once it was destroyed (under tc_lock) */
	_Atomic(struct swiotlb_dev *) dev;
	uint64_t dev_id; /* its id (owner thread only) */
	/* its device's memory, compared (never followed) by the owner's
	 * give-back (runcache.c); set with dev */
	const struct swiotlb_mem *mem;
	struct cds_list_head dev_node;  /* on dev->tc_list (tc_lock) */
	struct dev_tcount *thread_next; /* owner thread's list */
	struct run_cache cache;         /* runcache.c */
};

/* The run caches of a memory, summed (runcache.c, for stats.c). */
struct runcache_sum {
	uint64_t runs, slots;                        /* held now: subtract */
	uint64_t maps, bytes_to_dev, bytes_from_dev; /* served: add */
};

/* A thread's blocks (devcount.c): a list, and a direct-mapped table of
 * the recently used ones keyed by device id, read inline on every map and
 * unmap (devcount_get(), internal.h). */
#define TC_HOT 4
struct tc_thread {
	struct dev_tcount *list; /* the thread's blocks (owner thread, tc_lock to unlink) */
	struct {
		uint64_t id;           /* device id; 0: empty */
		struct dev_tcount *tc; /* its block */
	} hot[TC_HOT];
	bool keyed; /* the exit destructor is armed */
};

struct dev_tcount_sum {
	uint64_t maps, unmaps, bytes_to_dev, bytes_from_dev;
};

/* A slot request: what area_find_slots() needs to place a mapping and
 * what it records in the head slot (under the area lock). */
struct slot_req {
	void *orig;              /* the caller's buffer (NULL: coherent) */
	size_t size;             /* mapping size */
	unsigned offset;         /* full offset: pad slots + in-slot */
	enum swiotlb_dir dir;    /* recorded in the head slot */
	uint8_t state;           /* SLOT_MAPPED or SLOT_COHERENT */
	size_t alloc_size;       /* size + offset, aligned */
	size_t alloc_align_mask; /* >= SLOT_SIZE - 1 after normalising */
	size_t iotlb_align_mask; /* min_align bits still to match */
	unsigned nslots;         /* slots of the run, padding included */
	unsigned stride;         /* search step past a busy aligned slot */
	/* a MAY_BLOCK retry: take every area lock (no unlocked full-area
	 * skip); the no-lost-wake-up argument of wait.c needs it */
	bool waiting;
	const struct swiotlb_dev *dev; /* the mapping device (masks, owner) */
};

/* A map or coherent allocation in progress (map.c, coherent.c), also
 * the context of its MAY_BLOCK retries. */
struct map_ctx {
	struct swiotlb_dev *dev; /* the calling device */
	struct slot_req rq;      /* what to place */
	swiotlb_addr_t addr;     /* result: the bounce address */
	void *cpu;               /* result: its CPU address */
};

/* Direction of a sync (unmap.c, sg.c). */
enum sync_to { TO_CPU, TO_DEVICE };

#endif /* SWIOTLB_TYPES_H */
