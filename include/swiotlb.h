/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libswiotlb: a user-space software IO TLB (bounce buffers for DMA).
 *
 * A device can reach only part of memory: below a DMA limit, inside a
 * registered window, or memory shared with a host.  libswiotlb keeps pools
 * of device-reachable memory, copies ("bounces") caller buffers into slots
 * of a pool on map, copies back on unmap and sync, and answers "is this
 * device address one of my bounce buffers?" without a global lock.
 *
 * Semantics follow the Linux kernel's swiotlb (kernel/dma/swiotlb.c): 2 KiB
 * slots, 128-slot segments (larger on request), per-area locks,
 * min_align_mask offset preservation, and the same copy rules for every DMA direction.
 *
 * Errors are negative errno values.  Every call that fails leaves the pool
 * and the device exactly as they were.  swiotlb_strerror() explains a code.
 *
 * Thread safety: every function may be called from any thread, concurrently,
 * unless the synchronization table below says otherwise.  A mapping may be
 * unmapped or synced on a thread other than the one that mapped it; the
 * caller hands the device address over through its own memory (a ring, a
 * struct) with any ordering, even relaxed: the library's own barriers make
 * the unmap find the mapping.
 *
 * Synchronization table.  "-": the two calls may run at the same time, on
 * the same objects or not.  "X": they must not overlap on the object named
 * (the caller orders them, e.g. with a lock or a join).
 *
 *                          | map*  unmap*  sync*  is_bounce  *_stats  dev_create
 *                          | alloc free           addr_to_cpu reset_hiwater
 *   -----------------------+----------------------------------------------------
 *   map*, alloc            |  -     -       -      -          -        -
 *   unmap*, free           |  -     - (1)   - (1)  -          -        -
 *   sync*                  |  -     - (1)   -      -          -        -
 *   is_bounce, addr_to_cpu |  -     -       -      -          -        -
 *   dev_destroy(dev)       |  X dev X dev   X dev  X dev      X dev    -
 *   mem_destroy(mem)       |  X mem X mem   X mem  X mem      X mem    X mem
 *   provider_destroy(p)    |  X: every memory created with p is destroyed first
 *
 *   X dev: not on that device (other devices of the same memory: "-").
 *   X mem: not on that memory nor any of its devices (which must all be
 *          destroyed first anyway: -EBUSY otherwise).
 *   (1) Different mappings: "-".  Two unmaps of one mapping, or an unmap and
 *       a sync of it, are a caller error; the library then lets at most one
 *       unmap succeed (the others fail with -EINVAL) and touches no memory
 *       but the pools and buffers mapped through that device.
 *   The *_create() and swiotlb_provider_*() constructors, swiotlb_version(),
 *   swiotlb_strerror(), swiotlb_dev_name() and swiotlb_max_mapping_size()
 *   may run at any time on live objects.
 *
 * What a call may do, stated with each call as "Context:":
 *   lock-free   no lock, no allocation, no syscall; may not block;
 *   area lock   takes one pool area's spinlock (held for a bounded search
 *               and a few stores; a waiter spins, then yields the CPU with
 *               sched_yield());
 *   allocates   malloc/calloc and, for pool memory, the provider's alloc()
 *               (mmap for the built-in mmap provider).
 * Run caches: an unmap in a memory's initial pool (not with strict_cursor)
 * by a thread that also maps for the device parks the freed slot run in
 * that thread's cache for the device (up to 8 runs, 64 slots), and the
 * thread's next map of the same shape takes it back: a map+unmap pair
 * then costs one compare-and-swap and no lock.  Parked runs are not
 * counted as used or mapped, and are taken back (a library-wide mutex and
 * one membarrier() system call) before any map fails, grows the memory or
 * waits, and when their thread exits or their device is destroyed.  They
 * need membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) (Linux 4.14); without
 * it, or with SWIOTLB_RUN_CACHE=0 in the environment at the first
 * swiotlb_mem_create(), every unmap frees under the area lock.
 * Every call that uses RCU (all map, unmap, sync and lookup calls,
 * swiotlb_dev_create() and the statistics) registers the calling thread with liburcu-bp the first time:
 * one allocation and liburcu's registry lock, once per thread.  Likewise
 * the first bounce map or unmap (or sg, undo) a thread makes for a device
 * allocates that thread's counters for the device and takes a
 * library-wide mutex: once per thread and device (freed when the thread
 * exits).  Every call
 * that fails with -EINVAL, -E2BIG or -ENOSPC may log a line through the log
 * callback (or a write to stderr) unless it says otherwise.
 *
 * Destroying NULL: every *_destroy() accepts NULL and then does nothing;
 * those that return a status return -EINVAL for it.
 *
 * fork(): the library takes every lock of every memory around fork()
 * (pthread_atfork) and runs liburcu-bp's fork hooks, so a child may call
 * any function on the memories and devices it inherited, destroy
 * included (tests/unit/test_fork.c).  In a child an inherited dynamic
 * memory has no resize thread: maps that find the pools full are served
 * by transient pools, grown pools are not shrunk, and released pools are
 * freed by swiotlb_mem_destroy().
 */
#ifndef SWIOTLB_H
#define SWIOTLB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SWIOTLB_VERSION_MAJOR 0
#define SWIOTLB_VERSION_MINOR 3
#define SWIOTLB_VERSION_PATCH 0
/** The header's version as one number: (major << 16) | (minor << 8) | patch. */
#define SWIOTLB_VERSION \
	((SWIOTLB_VERSION_MAJOR << 16) | (SWIOTLB_VERSION_MINOR << 8) | SWIOTLB_VERSION_PATCH)

/* Marks calls whose result must be used: ignoring it leaks an object or a
 * mapping, or uses an address that was never set. */
#if defined(__GNUC__) || defined(__clang__)
#define SWIOTLB_MUST_CHECK __attribute__((warn_unused_result))
#else
#define SWIOTLB_MUST_CHECK
#endif

/** The version of the library actually loaded, encoded as SWIOTLB_VERSION. */
unsigned swiotlb_version(void);

/** A device address: what the device puts on the bus. */
typedef uint64_t swiotlb_addr_t;

/** Slot size (2 KiB) and the default segment size (128 slots, 256 KiB), as
 *  in the kernel.  A memory may use larger segments (segment_slots in
 *  swiotlb_mem_config, up to SWIOTLB_SEGMENT_SLOTS_MAX). */
#define SWIOTLB_SLOT_SHIFT 11
#define SWIOTLB_SLOT_SIZE (1u << SWIOTLB_SLOT_SHIFT)
#define SWIOTLB_SEGMENT_SLOTS 128u
#define SWIOTLB_SEGMENT_SIZE (SWIOTLB_SEGMENT_SLOTS * SWIOTLB_SLOT_SIZE)
#define SWIOTLB_SEGMENT_SLOTS_MAX 4096u /* 8 MiB */

/** Direction of a DMA transfer, from the CPU's point of view. */
enum swiotlb_dir {
	SWIOTLB_BIDIRECTIONAL = 0, /* device reads and writes */
	SWIOTLB_TO_DEVICE = 1,     /* device reads the buffer */
	SWIOTLB_FROM_DEVICE = 2,   /* device writes the buffer */
};

/* Attributes for swiotlb_map()/swiotlb_unmap() (bit flags). */
/** unmap: do not copy the bounce buffer back (the caller synced already). */
#define SWIOTLB_ATTR_SKIP_CPU_SYNC (1u << 5)
/** map: do not log the "buffer is full" line when no slot is free. */
#define SWIOTLB_ATTR_NO_WARN (1u << 8)
/** map: when the pools are full and cannot grow, wait (first come, first
 *  served) until slots are freed or the deadline passes (-ETIMEDOUT). */
#define SWIOTLB_ATTR_MAY_BLOCK (1u << 16)

struct swiotlb_mem;
struct swiotlb_dev;

/*
 * The public head of every struct swiotlb_dev (which is otherwise opaque):
 * its first member, part of the ABI.  'bounced' is set once the device has
 * bounced a mapping and never cleared; the inline swiotlb_is_bounce()
 * reads it.  Declared for C11 callers with atomics; the layout (one byte at
 * offset 0) is the same for every caller.
 */
#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && \
	!defined(__STDC_NO_ATOMICS__)
#include <stdatomic.h>
#define SWIOTLB_HAVE_DEV_HEAD 1
struct swiotlb_dev_head {
	_Atomic bool bounced;
};
#endif

/*
 * Memory provider: where pool memory comes from.
 *
 * alloc() returns @len bytes of device-reachable memory whose device address
 * is a multiple of @align (a power of two, at least the page size) and
 * whose last byte's device address is <= @limit (0 = no limit).  It sets the
 * CPU pointer and the device address and returns 0, or a negative errno.
 * free() gives back exactly what one alloc() returned.  Both may be called
 * from any thread, including the library's background resize thread
 * (which frees released pools); they are never
 * called on the map fast path, only when a pool is created, grown, made
 * transient, or released.
 *
 * version: SWIOTLB_PROVIDER_VERSION for this layout; the library refuses
 * (EINVAL) a provider whose version it does not know.  The optional
 * members below may be NULL.
 *
 * fd(): for memory another process can map (memfd, a shared file): the
 * file descriptor and the offset in it of the @len bytes at @cpu, so the
 * pool can be shared with a device process (e.g. vhost-user
 * ADD_MEM_REG).  The descriptor stays owned by the provider and is valid
 * until free() of that memory.  Returns 0 or a negative errno (-ENOENT:
 * not file-backed).
 *
 * destroy(): release the provider itself (its ctx), for
 * swiotlb_provider_destroy().  NULL for providers the caller owns.
 */
#define SWIOTLB_PROVIDER_VERSION 1
struct swiotlb_provider {
	unsigned version;
	const char *name;
	void *ctx;
	int (*alloc)(void *ctx, size_t len, size_t align, swiotlb_addr_t limit, void **cpu,
		     swiotlb_addr_t *addr);
	void (*free)(void *ctx, void *cpu, swiotlb_addr_t addr, size_t len);
	int (*fd)(void *ctx, void *cpu, swiotlb_addr_t addr, size_t len, int *fd, uint64_t *offset);
	void (*destroy)(struct swiotlb_provider *self);
};

/* Flags for swiotlb_provider_mmap(). */
#define SWIOTLB_MMAP_HUGETLB (1u << 0) /* back pools with huge pages */
#define SWIOTLB_MMAP_MLOCK (1u << 1)   /* lock pool pages in RAM */

/**
 * Built-in anonymous-mmap provider.  The device address is the CPU virtual
 * address (identity).  When alloc() is given a limit, the pool is placed
 * below it by trying address hints with MAP_FIXED_NOREPLACE; -ENOMEM when
 * no free range below the limit is found.  The returned object is static
 * for flags == 0 and must not be freed; for other flags it is allocated and
 * released with swiotlb_provider_destroy().  Returns NULL with errno set on
 * failure (EINVAL: unknown flags; ENOMEM).
 * Context: allocates (flags != 0 only); no lock, no syscall.
 */
SWIOTLB_MUST_CHECK struct swiotlb_provider *swiotlb_provider_mmap(unsigned flags);

/**
 * Provider that carves pools out of one caller-supplied region (for example
 * memory shared with a host, or a registered RDMA window).  @cpu is the
 * region's CPU address, @addr its device address, @len its size.  Pools are
 * placed first-fit; freed pools are merged back.  The region must outlive
 * every swiotlb_mem that uses it.  Returns NULL with errno set on failure.
 * Its alloc() and free() take a mutex of the provider (never on the map
 * fast path).  Context: allocates; no syscall.
 */
SWIOTLB_MUST_CHECK struct swiotlb_provider *swiotlb_provider_fixed(void *cpu, swiotlb_addr_t addr,
								   size_t len);

/* Flags for swiotlb_provider_memfd(). */
#define SWIOTLB_MEMFD_HUGETLB (1u << 0) /* MFD_HUGETLB: 2 MiB huge pages */

/**
 * Shared-memory provider: pools live in memfd memory (sealed against
 * shrinking) that another process can map, e.g. a vhost-user or vfio-user
 * device.  Device addresses come from the window [@window_base,
 * @window_base + @window_len) (a guest-physical or IOVA range chosen by the
 * caller), not from virtual addresses; the window's size bounds all pools
 * together.  fd() reports each pool's descriptor and offset.  Returns NULL
 * with errno set (EINVAL: unaligned or empty window, unknown flags).
 * Release with swiotlb_provider_destroy() after every memory using it.
 */
SWIOTLB_MUST_CHECK struct swiotlb_provider *swiotlb_provider_memfd(swiotlb_addr_t window_base,
								   size_t window_len,
								   unsigned flags);

/** Release a provider made by one of the swiotlb_provider_*() functions
 *  (calls its destroy()), after every memory using it is destroyed.  NULL
 *  and providers without destroy() are ignored.  Context: frees. */
void swiotlb_provider_destroy(struct swiotlb_provider *p);

/*
 * Logging.  Each memory logs through its config's log callback, or (NULL)
 * to stderr with a "libswiotlb: " prefix.  Lines are rate-limited per
 * memory: at most 10 in any 5 s window (e.g. "swiotlb buffer is full" in a
 * storm, or repeated misuse warnings); the next line after the window, or
 * swiotlb_mem_destroy(), reports "N log messages suppressed".  Statistics
 * (failed_maps, errors) still count every event.
 *
 * The environment variable SWIOTLB_LOG, read by swiotlb_mem_create() for
 * that memory, takes ';'-separated settings:
 *   level:off|error|warn|info  lines up to this severity (default info;
 *                              applies to the callback too)
 *   output:stderr|file:PATH    the default logger's destination (appended)
 *   ratelimit:BURST/MS|off     at most BURST lines per MS milliseconds
 * e.g. SWIOTLB_LOG="level:warn;output:file:/tmp/swiotlb.log".  A setting
 * it cannot use is reported on stderr and ignored.
 */

/** Log levels given to the log callback. */
enum swiotlb_log_level { SWIOTLB_LOG_ERR = 3, SWIOTLB_LOG_WARN = 4, SWIOTLB_LOG_INFO = 6 };

typedef void (*swiotlb_log_fn)(void *ctx, enum swiotlb_log_level level, const char *msg);

/** What kind of pool a pool_added/pool_removed hook is told about. */
enum swiotlb_pool_kind {
	SWIOTLB_POOL_INITIAL = 0,   /* made by swiotlb_mem_create() */
	SWIOTLB_POOL_GROWN = 1,     /* added by the resize thread */
	SWIOTLB_POOL_TRANSIENT = 2, /* one device's, one mapping */
};

/** A pool as the outside world needs to see it (to register or share it). */
struct swiotlb_pool_info {
	void *cpu;           /* CPU address of the pool's first byte */
	swiotlb_addr_t addr; /* device address of the first byte */
	size_t len;          /* bytes (a multiple of the page size) */
	int fd;              /* provider's file descriptor, or -1 */
	uint64_t fd_offset;  /* offset of the pool in fd */
	enum swiotlb_pool_kind kind;
};

/**
 * Pool lifecycle hooks (see swiotlb_mem_config).
 *
 * pool_added(ctx, info) runs for every pool after its memory exists and
 * before any address inside it is returned by a map or alloc or answered
 * by swiotlb_is_bounce().  Non-zero refuses the pool: it is discarded and
 * counted as a provider failure; the map that needed it fails or waits as
 * when the provider fails.  It runs on the thread that creates the pool:
 * swiotlb_mem_create()'s caller (initial pool), the resize thread (grown
 * pools) or the mapping thread (transient pools); never under a lock that
 * map, unmap or sync of other pools take.  It may block (e.g. wait for a
 * device's acknowledgement) and may call swiotlb_map()/unmap()/sync() of
 * pools that already exist, but not swiotlb_mem_destroy().
 *
 * pool_removed(ctx, info) runs once per pool that pool_added accepted,
 * after the pool holds no mapping and lookups no longer find it, before
 * its memory goes back to the provider: on the resize thread (shrunk
 * grown pools and released transient pools, after a grace period), or in
 * swiotlb_mem_destroy() (what is left; also every pool of a static memory
 * and of a forked child).  It must not call into the library for the same
 * memory.
 */
typedef int (*swiotlb_pool_added_fn)(void *ctx, const struct swiotlb_pool_info *info);
typedef void (*swiotlb_pool_removed_fn)(void *ctx, const struct swiotlb_pool_info *info);

/** Configuration of a memory (a set of pools).  Zeroed fields = defaults.
 *  Fields are only ever appended (the library is told the caller's
 *  sizeof, see swiotlb_mem_create()). */
struct swiotlb_mem_config {
	size_t size; /* initial pool bytes; 0 = 64 MiB; >= 1 slot */
	/* areas (locks); 0 = online CPUs rounded up to a power of two; clamped so
	 * that an area holds at least one segment (see segment_slots) */
	unsigned nareas;
	/* highest device address pool memory may have (e.g. 0xffffffff for 32-bit
	 * DMA); 0 = any */
	swiotlb_addr_t limit;
	const struct swiotlb_provider *provider; /* NULL = anonymous mmap */
	swiotlb_log_fn log;                      /* NULL = stderr, "libswiotlb: " prefix */
	/* place mappings like the kernel's slot search (Linux v6.9+; docs/SIZING.md
	 * says which versions place the same): first fit from a
	 * search cursor that only moves forward.  Default (false): hot slots are
	 * reused first (when the latest mapping of an area is freed, or the area
	 * empties, the cursor moves back), and segments are kept to runs of one
	 * size class so that whole segments stay free for the largest mappings
	 * (docs/DESIGN.md, "Placement") */
	bool strict_cursor;
	void *log_ctx;

	/* Dynamic pools (all ignored unless dynamic is true). */
	bool dynamic;    /* grow and shrink on demand */
	size_t max_size; /* cap on all pool memory together; 0 = none */
	/* bytes per grown pool; 0 = like the kernel: between 1 and 4 MiB (the
	 * initial size clamped), halved on provider failure */
	size_t grow_size;
	/* a grown pool idle this long is released; 0 = never shrink */
	unsigned shrink_delay_ms;
	/* MAY_BLOCK maps wait at most this long; 0 = 1000 ms */
	unsigned wait_timeout_ms;

	/* Since 0.3. */
	/* cap on pools alive at once (shared and transient together); 0 = none.  For
	 * registrars with a slot limit */
	unsigned max_pools;
	swiotlb_pool_added_fn pool_added;     /* NULL = none; see above */
	swiotlb_pool_removed_fn pool_removed; /* NULL = none */
	void *hook_ctx;                       /* passed to both hooks */
	/* slots per segment, the longest run one mapping or coherent allocation
	 * may take: 0 = 128 (256 KiB, the kernel's value and placement), else a
	 * power of two from 128 to SWIOTLB_SEGMENT_SLOTS_MAX (8 MiB); anything
	 * else is refused (EINVAL).  swiotlb_max_mapping_size() follows it, and
	 * so do the area, grown-pool and coherent-allocation limits.  A device's
	 * min_align_mask stays below 256 KiB - 2 KiB whatever the segment */
	unsigned segment_slots;
};

/**
 * Create a memory: the initial pool, its areas and (when dynamic) the
 * background resize thread (it grows and shrinks the set of pools).  cfg
 * may be NULL (all defaults).
 * Returns NULL with errno set: EINVAL for a bad config, ENOMEM when the
 * provider cannot supply the pool.
 * Context: allocates (the initial pool from the provider), takes the new
 * memory's own mutexes, starts a thread when dynamic; the first call in
 * the process registers the library's fork handlers (pthread_atfork) and
 * the process with membarrier() for the run caches (one system call).
 */
SWIOTLB_MUST_CHECK struct swiotlb_mem *swiotlb_mem_create_sized(
	const struct swiotlb_mem_config *cfg, size_t cfg_size);
/*
 * ABI note for every *_sized() call: the inline wrapper passes the
 * caller's sizeof of the struct.  A library newer than the header treats
 * the fields the caller does not know as zero (defaults); a library older
 * than the header accepts the struct if every field it does not know is
 * zero and fails with EINVAL (and a log line) otherwise.  Statistics are
 * filled up to the smaller of the two sizes.
 */
SWIOTLB_MUST_CHECK static inline struct swiotlb_mem *swiotlb_mem_create(
	const struct swiotlb_mem_config *cfg)
{
	return swiotlb_mem_create_sized(cfg, sizeof(struct swiotlb_mem_config));
}

/**
 * Destroy a memory and free every pool.  Fails with -EBUSY while devices
 * are attached (destroy them first); -EINVAL for NULL.  Exclusive on mem.
 * Context: blocks: joins the resize thread (which may be in the
 * provider's alloc()) and waits for a grace period before the memory's
 * last deferred frees; takes the memory's mutexes; frees pool memory
 * through the provider (munmap for the mmap provider).
 */
int swiotlb_mem_destroy(struct swiotlb_mem *mem);

/**
 * "Is this CPU buffer directly reachable by the device, and at which device
 * address?"  Return true and set *addr when the whole [cpu, cpu+size) is
 * reachable; false to bounce.
 */
typedef bool (*swiotlb_direct_fn)(void *ctx, const void *cpu, size_t size, swiotlb_addr_t *addr);

/** Configuration of a device. */
struct swiotlb_dev_config {
	const char *name; /* shown in logs and stats; copied */
	/* highest reachable device address; 0 = all */
	uint64_t dma_mask;
	/* low address bits preserved in the bounce address (NVMe: 4095) */
	uint32_t min_align_mask;
	/* a mapping never crosses a multiple of mask+1; 0 = no boundary */
	uint64_t seg_boundary_mask;
	bool force_bounce; /* always bounce (confidential VMs) */
	/* NULL = identity, checked against dma_mask */
	swiotlb_direct_fn direct;
	void *direct_ctx;
};

/**
 * Attach a device to a memory.  cfg may be NULL (defaults).  Returns NULL
 * with errno set (EINVAL: NULL mem, or a mask that makes no slot usable,
 * e.g. a dma_mask below every pool of a memory that is not dynamic; ENOMEM).
 * Context: allocates; takes the memory's mutex and the library's counter
 * mutex; no syscall.
 */
SWIOTLB_MUST_CHECK struct swiotlb_dev *swiotlb_dev_create_sized(
	struct swiotlb_mem *mem, const struct swiotlb_dev_config *cfg, size_t cfg_size);
SWIOTLB_MUST_CHECK static inline struct swiotlb_dev *swiotlb_dev_create(
	struct swiotlb_mem *mem, const struct swiotlb_dev_config *cfg)
{
	return swiotlb_dev_create_sized(mem, cfg, sizeof(struct swiotlb_dev_config));
}

/**
 * Detach and free a device.  Fails with -EBUSY while the device has live
 * mappings or coherent allocations (nothing is changed).  -EINVAL for NULL.
 * Exclusive on dev.  Context: takes the memory's mutex and the library's
 * counter mutex, gives the runs parked for dev in run caches back (area
 * locks, one membarrier() system call); frees.
 */
int swiotlb_dev_destroy(struct swiotlb_dev *dev);

/**
 * Map [cpu, cpu+size) for DMA in direction dir and store the device address
 * in *out.  If the buffer is directly reachable and bouncing is not forced,
 * *out is the direct address and nothing is copied.  Otherwise slots are
 * allocated (honouring min_align_mask, page alignment for size >= 4096,
 * the segment boundary and the dma_mask) and the buffer is copied in, for
 * every direction.
 *
 * Errors: -EINVAL (NULL argument, size 0, bad direction, unknown attrs),
 * -E2BIG (size over swiotlb_max_mapping_size()), -ENOSPC (no free slots;
 * logs "buffer is full" unless SWIOTLB_ATTR_NO_WARN), -ETIMEDOUT
 * (MAY_BLOCK and the wait expired), -ENOMEM.
 * Context: a direct map calls the device's direct() callback and nothing
 * else.  A bounce first tries the calling thread's run cache (lock-free,
 * see "Run caches" above), then takes area locks of the shared pools (no
 * allocation, no syscall, no global lock) while a pool has room.  When
 * none has room and runs are parked in run caches, it takes them back
 * (a library-wide mutex, one membarrier()) and tries again.  In a dynamic memory,
 * when the pools are full (or the last area tried is crowded) it wakes the
 * resize thread (its mutex and condition variable), and when they are full
 * it allocates a transient pool (provider alloc(), malloc, the
 * lookup's writer mutex, the pool_added hook); with SWIOTLB_ATTR_MAY_BLOCK
 * it then blocks in a FIFO of waiters up to the memory's wait_timeout_ms.
 */
SWIOTLB_MUST_CHECK int swiotlb_map(struct swiotlb_dev *dev, void *cpu, size_t size,
				   enum swiotlb_dir dir, unsigned attrs, swiotlb_addr_t *out);

/** swiotlb_map() with an explicit MAY_BLOCK deadline in milliseconds
 *  (overrides the memory's wait_timeout_ms; implies MAY_BLOCK).  Context:
 *  as swiotlb_map() with MAY_BLOCK: may block up to timeout_ms. */
SWIOTLB_MUST_CHECK int swiotlb_map_timeout(struct swiotlb_dev *dev, void *cpu, size_t size,
					   enum swiotlb_dir dir, unsigned attrs,
					   unsigned timeout_ms, swiotlb_addr_t *out);

/**
 * swiotlb_map() with the kernel's alloc_align_mask: the bounce slot run
 * starts on a multiple of alloc_align_mask+1 (e.g. an IOMMU granule - 1)
 * and, with the device's min_align_mask, the original's low address bits
 * under (alloc_align_mask | slot size - 1) are preserved by leaving whole
 * padding slots before the data.  alloc_align_mask must be 2^n - 1 and
 * below the segment size (-EINVAL otherwise).  Context: as swiotlb_map().
 */
SWIOTLB_MUST_CHECK int swiotlb_map_align(struct swiotlb_dev *dev, void *cpu, size_t size,
					 enum swiotlb_dir dir, unsigned attrs,
					 size_t alloc_align_mask, swiotlb_addr_t *out);

/**
 * Unmap a mapping made by swiotlb_map().  addr, size and dir must be those
 * of the map.  A direct address is a no-op (returns 0).  A bounce address
 * is copied back for FROM_DEVICE and BIDIRECTIONAL unless
 * SWIOTLB_ATTR_SKIP_CPU_SYNC, then its slots are freed.
 * Errors: -EINVAL (bad direction, an address inside a pool that is not the
 * start of a live mapping, a size or direction that does not match the
 * mapping, double unmap).  Nothing is changed on error.
 * Context: lock-free lookup, then, in the initial pool, one
 * compare-and-swap and the calling thread's run cache (lock-free, see "Run
 * caches" above) or else the mapping's area lock; no allocation.
 * Releasing a transient pool also takes the lookup's writer mutex and
 * queues the pool's free after a grace period and wakes the resize
 * thread to do it (a mutex and a condition variable).  Wakes a
 * MAY_BLOCK waiter (a mutex and a condition variable) when one waits.
 */
int swiotlb_unmap(struct swiotlb_dev *dev, swiotlb_addr_t addr, size_t size, enum swiotlb_dir dir,
		  unsigned attrs);

/**
 * Copy the device's view back to the CPU buffer (FROM_DEVICE,
 * BIDIRECTIONAL; TO_DEVICE is a no-op).  [addr, addr+size) may be any
 * sub-range of a live mapping; the matching bytes of the original are
 * written.  Direct addresses are a no-op.  -EINVAL for a range outside a
 * live mapping or a bad direction.
 * Context: lock-free; copies at most size bytes.
 */
int swiotlb_sync_for_cpu(struct swiotlb_dev *dev, swiotlb_addr_t addr, size_t size,
			 enum swiotlb_dir dir);

/** Copy the CPU buffer to the device's view (TO_DEVICE, BIDIRECTIONAL;
 *  FROM_DEVICE is a no-op).  Same range rules and context as
 *  swiotlb_sync_for_cpu(). */
int swiotlb_sync_for_device(struct swiotlb_dev *dev, swiotlb_addr_t addr, size_t size,
			    enum swiotlb_dir dir);

/** One scatter-gather entry. */
struct swiotlb_sg {
	void *cpu;
	size_t len;
	swiotlb_addr_t addr; /* set by swiotlb_map_sg() */
};

/**
 * Map n entries.  Returns 0 when all are mapped.  On failure every entry
 * mapped so far is unmapped again (without copying back), *failed (if not
 * NULL) is set to the index of the entry that failed, and that entry's
 * error is returned.  -EINVAL for a NULL dev, or a NULL sg with n > 0.
 * Context: as swiotlb_map() per entry (MAY_BLOCK waits per entry); the
 * unmaps after a failure are as swiotlb_unmap().
 */
SWIOTLB_MUST_CHECK int swiotlb_map_sg(struct swiotlb_dev *dev, struct swiotlb_sg *sg, size_t n,
				      enum swiotlb_dir dir, unsigned attrs, size_t *failed);

/** Unmap n entries mapped by swiotlb_map_sg().  Every entry is attempted;
 *  returns the first error (0 if none).  Context: as swiotlb_unmap() per
 *  entry. */
int swiotlb_unmap_sg(struct swiotlb_dev *dev, struct swiotlb_sg *sg, size_t n, enum swiotlb_dir dir,
		     unsigned attrs);

/**
 * swiotlb_sync_for_cpu() / swiotlb_sync_for_device() of every entry
 * (each entry's whole [addr, addr + len)), in order.  Every entry is
 * attempted; returns the first error (0 if none).  -EINVAL for a NULL
 * dev, or a NULL sg with n > 0.  Context: lock-free.
 */
int swiotlb_sync_sg_for_cpu(struct swiotlb_dev *dev, struct swiotlb_sg *sg, size_t n,
			    enum swiotlb_dir dir);
int swiotlb_sync_sg_for_device(struct swiotlb_dev *dev, struct swiotlb_sg *sg, size_t n,
			       enum swiotlb_dir dir);

/**
 * Coherent allocation from the pools (the kernel's restricted-pool
 * swiotlb_alloc): page-aligned, zeroed memory that both the CPU and the
 * device use without syncs, e.g. for descriptor rings.  Returns the CPU
 * pointer and sets *out to the device address; NULL with errno set
 * (EINVAL, E2BIG over one segment (256 KiB unless segment_slots), ENOSPC).  The device's
 * min_align_mask does not apply (there is no original to align to).
 * Context: as swiotlb_map() without MAY_BLOCK (never waits); zeroes the
 * memory.
 */
SWIOTLB_MUST_CHECK void *swiotlb_alloc(struct swiotlb_dev *dev, size_t size, swiotlb_addr_t *out);

/** Free a coherent allocation; cpu, size and addr must match.  -EINVAL
 *  otherwise (nothing is changed).  Context: as swiotlb_unmap(). */
int swiotlb_free(struct swiotlb_dev *dev, void *cpu, size_t size, swiotlb_addr_t addr);

/**
 * True when addr lies in a bounce pool this device may use (a shared pool
 * of its memory or one of its own transient pools).  Safe against
 * concurrent pool growth and shrinking.  Context: lock-free.
 *
 * For a device that has never bounced this is one load, inlined: the first
 * member of struct swiotlb_dev is its struct swiotlb_dev_head, whose
 * 'bounced' flag is read after an acquire fence that pairs with the
 * library's release fence on the map path.  C++ and pre-C11 callers get
 * the same function out of line.
 */
bool swiotlb__is_bounce_lookup(const struct swiotlb_dev *dev, swiotlb_addr_t addr);
#if !defined(__cplusplus) && !defined(SWIOTLB_BUILDING) && defined(SWIOTLB_HAVE_DEV_HEAD)
static inline bool swiotlb_is_bounce(const struct swiotlb_dev *dev, swiotlb_addr_t addr)
{
	const struct swiotlb_dev_head *head = (const struct swiotlb_dev_head *)(const void *)dev;

	if (!dev)
		return false;
	/* pairs with the release fence in the library's map path */
	atomic_thread_fence(memory_order_acquire);
	if (!atomic_load_explicit(&head->bounced, memory_order_relaxed))
		return false;
	return swiotlb__is_bounce_lookup(dev, addr);
}
#else
bool swiotlb_is_bounce(const struct swiotlb_dev *dev, swiotlb_addr_t addr);
#endif

/** The CPU address of a device address inside a bounce pool of this device
 *  (what an emulated device uses to perform the DMA); NULL if addr is not
 *  a bounce address.  Context: lock-free. */
void *swiotlb_addr_to_cpu(const struct swiotlb_dev *dev, swiotlb_addr_t addr);

/** Largest size swiotlb_map() accepts for this device: the memory's
 *  segment (256 KiB by default, see segment_slots) minus min_align_mask
 *  rounded up to a slot, and at most the device's segment boundary
 *  (256 KiB for NULL).  Context:
 *  lock-free. */
size_t swiotlb_max_mapping_size(const struct swiotlb_dev *dev);

/** Statistics of a memory.  Counts are in slots unless named bytes. */
struct swiotlb_stats {
	uint64_t total_slots; /* slots in all shared pools */
	uint64_t used_slots;  /* slots in use in shared pools */
	/* highest used_slots seen: exact with one area and one thread; with n
	 * areas it may miss up to 32*n slots of a peak, and it may count runs
	 * parked in other threads' run caches at the time (up to 64 slots per
	 * thread and device); never below used_slots; docs/DESIGN.md */
	uint64_t hiwater_slots;
	uint64_t mappings;          /* live bounce mappings (all pools) */
	uint64_t maps;              /* successful bounce maps, ever */
	uint64_t bytes_to_device;   /* bytes copied CPU -> bounce */
	uint64_t bytes_from_device; /* bytes copied bounce -> CPU */
	uint64_t failed_maps;       /* maps that failed for lack of slots */
	uint64_t pools;             /* shared pools now (initial + grown) */
	uint64_t grown_pools;       /* grown pools now */
	uint64_t grows;             /* pools grown, ever */
	uint64_t growth_failures;   /* provider failures while growing */
	uint64_t shrinks;           /* grown pools released, ever */
	uint64_t transient_pools;   /* transient pools live now */
	uint64_t transient_created; /* transient pools made, ever */
	uint64_t transient_slots;   /* slots in live transient pools */
	uint64_t pool_bytes;        /* pool memory held, transient included */
	uint64_t waits;             /* MAY_BLOCK maps that had to wait */
	uint64_t wait_ns;           /* total time spent waiting */
	uint64_t wait_timeouts;     /* waits that ended in -ETIMEDOUT */
	uint64_t coherent_allocs;   /* live coherent allocations */
};

/** Fill *st.  Counters are read without stopping the world, so a snapshot
 *  taken while other threads map is consistent per counter, not across
 *  counters; once no call is running they are exact (runs parked in run
 *  caches are neither used nor mapped).  -EINVAL for NULL.  Context:
 *  takes the memory's mutex and the library's counter mutex; no
 *  allocation, no syscall. */
int swiotlb_mem_stats_sized(const struct swiotlb_mem *mem, struct swiotlb_stats *st,
			    size_t st_size);
static inline int swiotlb_mem_stats(const struct swiotlb_mem *mem, struct swiotlb_stats *st)
{
	return swiotlb_mem_stats_sized(mem, st, sizeof(struct swiotlb_stats));
}

/** Reset the high-water mark to the current use (like writing the kernel's
 *  debugfs io_tlb_used_hiwater).  NULL is ignored.  Context: as
 *  swiotlb_mem_stats(). */
void swiotlb_mem_reset_hiwater(struct swiotlb_mem *mem);

/** Per-device statistics (counts of calls on this device only). */
struct swiotlb_dev_stats {
	uint64_t maps;        /* successful bounce maps, ever */
	uint64_t direct_maps; /* maps served directly (no bounce) */
	uint64_t unmaps;      /* successful bounce unmaps, ever */
	/* live bounce mappings and coherent allocations */
	uint64_t mappings;
	uint64_t bytes_to_device;   /* copied CPU -> bounce (maps, syncs) */
	uint64_t bytes_from_device; /* copied bounce -> CPU (unmaps, syncs) */
	uint64_t failed_maps;       /* -ENOSPC/-ETIMEDOUT on this device */
	uint64_t largest_failed;    /* largest size that failed to map */
	uint64_t transient_pools;   /* live transient pools of this device */
	uint64_t errors;            /* calls rejected with -EINVAL */
};

/**
 * Fill *st with the device's counters.  Like swiotlb_mem_stats(): each
 * counter is read atomically, the set is not a snapshot across counters.
 * The counters are per CPU and per thread inside the library and summed
 * here.  -EINVAL for NULL dev or st.  Context: takes the library's
 * counter mutex; no allocation, no syscall.
 */
int swiotlb_dev_stats_sized(const struct swiotlb_dev *dev, struct swiotlb_dev_stats *st,
			    size_t st_size);
static inline int swiotlb_dev_stats(const struct swiotlb_dev *dev, struct swiotlb_dev_stats *st)
{
	return swiotlb_dev_stats_sized(dev, st, sizeof(struct swiotlb_dev_stats));
}

/** Name the device was created with ("" if none or NULL).  Context:
 *  lock-free. */
const char *swiotlb_dev_name(const struct swiotlb_dev *dev);

/** A static description of a (negative or positive) error code.  Context:
 *  lock-free. */
const char *swiotlb_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* SWIOTLB_H */
