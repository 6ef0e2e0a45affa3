/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the harnesses may use of the library besides its public API: the
 * only place that names internal functions and fields, so a rename in src/
 * changes this file alone.  Also the harnesses' shared environment: a
 * provider over a few frames, a direct-map callback for reused frames, the
 * log function, and helpers to build a small memory and device.
 *
 * Included after the library sources (run.sh builds one translation unit
 * per harness: model_env.c, every src .c file but the environment ones
 * (log.c, fork.c, devcount.c, provider*.c), the harness).
 */
#ifndef SWIOTLB_HARNESS_H
#define SWIOTLB_HARNESS_H

#include <assert.h>
#include <genmc.h>

/* ---- internal entry points used by the harnesses ---- */
/* one growth, as the resize thread serves a request */
#define H_GROW_STEP(mem) (st_relaxed(&(mem)->resize.pending, true), _swiotlb_resize_grow_step(mem))
#define H_SHRINK_STEP(mem) _swiotlb_resize_shrink_step(mem)
#define H_POOL_CREATE(mem, bytes, kind) h_pool_create((mem), (bytes), (kind))
#define H_POOL_SHARED POOL_EXTRA
#define H_POOL_GROWN POOL_GROWN
#define H_POOL_DESTROY(p) _swiotlb_pool_destroy(p)
#define H_INDEX(mem) (&(mem)->lookup)
#define H_PUBLISH(mem, p) _swiotlb_lookup_add(H_INDEX(mem), (p))
#define H_UNPUBLISH(mem, p) _swiotlb_lookup_del(H_INDEX(mem), (p))
#define H_LOOKUP(mem, addr) _swiotlb_lookup_find(H_INDEX(mem), (addr), NULL)
#define H_POOL_START(p) ((p)->start)
#define H_RCU_READ_LOCK() rcu_enter()
#define H_RCU_READ_UNLOCK() rcu_exit()
/* queue p's free, then reclaim as the resize thread would: the grace
 * period, then the free */
#define H_FREE_AFTER_GRACE(p) \
	(_swiotlb_pool_free_rcu(p), (void)_swiotlb_rcu_reclaim(&(p)->mem->limbo))
#define H_RECLAIM(mem) ((void)_swiotlb_rcu_reclaim(&(mem)->limbo))
#define H_WAITQ(mem) (&(mem)->waitq)
#define H_MAP_RETRY map_retry
#define H_SLOT_SIZE SLOT_SIZE
#define H_FREED(p) model_was_freed(p)
#define H_USED_EXACT(mem) _swiotlb_stats_used_slots(mem)

static inline struct pool *h_pool_create(struct swiotlb_mem *mem, size_t bytes,
					 enum pool_kind kind)
{
	int err;

	return _swiotlb_pool_create(mem, bytes, 1, 0, PAGE_SZ, kind, &err);
}

extern _Atomic uint64_t model_clock;

/* ---- logging (log.c is not compiled): silenced ---- */
void _swiotlb_log(const struct swiotlb_mem *mem, enum swiotlb_log_level lvl, const char *fmt, ...)
{
	(void)mem;
	(void)lvl;
	(void)fmt;
}

void _swiotlb_log_init(struct log_state *ls)
{
	(void)ls;
}

void _swiotlb_log_fini(struct swiotlb_mem *mem)
{
	(void)mem;
}

/* ---- devcount.c is not compiled (thread-local statistics, pthread
 * keys): no per-thread blocks, so every count goes to the device's
 * shards, the library's own fallback ---- */
void _swiotlb_devcount_init(struct swiotlb_dev *dev)
{
	(void)dev;
}

void _swiotlb_devcount_fini(struct swiotlb_dev *dev)
{
	(void)dev;
}

struct dev_tcount *_swiotlb_devcount_get(struct swiotlb_dev *dev)
{
	(void)dev;
	return NULL;
}

void _swiotlb_devcount_sum(const struct swiotlb_dev *dev, struct dev_tcount_sum *s)
{
	(void)dev;
	s->maps = s->unmaps = s->bytes_to_dev = s->bytes_from_dev = 0;
}

/* ---- fork.c is not compiled (no fork in a model) ---- */
void _swiotlb_fork_track(struct swiotlb_mem *mem)
{
	(void)mem;
}

void _swiotlb_fork_untrack(struct swiotlb_mem *mem)
{
	(void)mem;
}

/* mem.c names the mmap provider as the default; harnesses always pass theirs */
const struct swiotlb_provider _swiotlb_provider_mmap_default;

/* ---- provider: frames of device memory, 1 MiB apart ---- */
#define H_FRAMES 4
#define H_FRAME_BASE ((swiotlb_addr_t)1 << 24)
#define H_FRAME_STRIDE ((swiotlb_addr_t)1 << 20)

enum h_frame_state { FRAME_UNUSED, FRAME_POOL, FRAME_FREE, FRAME_PLAIN };

#define H_FRAME_BYTES SEG_SIZE

struct h_frame {
	unsigned char *cpu;           /* set before the threads start */
	int state;                    /* under h_prov_lock */
};

static struct h_frame h_frames[H_FRAMES];
static pthread_mutex_t h_prov_lock = PTHREAD_MUTEX_INITIALIZER;

static swiotlb_addr_t h_frame_addr(unsigned i)
{
	return H_FRAME_BASE + i * H_FRAME_STRIDE;
}

static int h_prov_alloc(void *ctx, size_t len, size_t align, swiotlb_addr_t limit, void **cpu,
			swiotlb_addr_t *addr)
{
	int rc = -ENOMEM;

	(void)ctx;
	(void)align; /* frames are 1 MiB aligned */
	pthread_mutex_lock(&h_prov_lock);
	for (unsigned i = 0; i < H_FRAMES; i++) {
		struct h_frame *f = &h_frames[i];

		if (f->state == FRAME_POOL || f->state == FRAME_PLAIN)
			continue;
		if ((limit && h_frame_addr(i) + len - 1 > limit) || len > H_FRAME_BYTES)
			break;
		f->state = FRAME_POOL;
		*cpu = f->cpu;
		*addr = h_frame_addr(i);
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&h_prov_lock);
	return rc;
}

static void h_prov_free(void *ctx, void *cpu, swiotlb_addr_t addr, size_t len)
{
	unsigned i = (unsigned)((addr - H_FRAME_BASE) / H_FRAME_STRIDE);

	(void)ctx;
	(void)len;
	pthread_mutex_lock(&h_prov_lock);
	assert(i < H_FRAMES && h_frames[i].cpu == cpu && h_frames[i].state == FRAME_POOL);
	h_frames[i].state = FRAME_FREE;
	pthread_mutex_unlock(&h_prov_lock);
}

static const struct swiotlb_provider h_provider = {
	.version = SWIOTLB_PROVIDER_VERSION,
	.name = "model-frames",
	.alloc = h_prov_alloc,
	.free = h_prov_free,
};

/* Take frame i as a plain buffer if the library gave it back; its CPU
 * address, or NULL. */
static void *h_frame_take_plain(unsigned i)
{
	void *cpu = NULL;

	pthread_mutex_lock(&h_prov_lock);
	if (h_frames[i].state == FRAME_FREE) {
		h_frames[i].state = FRAME_PLAIN;
		cpu = h_frames[i].cpu;
	}
	pthread_mutex_unlock(&h_prov_lock);
	return cpu;
}

/* The device's direct path: a frame taken as a plain buffer is reachable
 * at the frame's device address; anything else bounces.  Like a real
 * direct map, no barrier. */
static bool h_direct(void *ctx, const void *cpu, size_t size, swiotlb_addr_t *addr)
{
	(void)ctx;
	(void)size;
	for (unsigned i = 0; i < H_FRAMES; i++) {
		if (h_frames[i].cpu && h_frames[i].cpu == cpu) {
			*addr = h_frame_addr(i);
			return true;
		}
	}
	return false;
}

/* ---- building a small memory and device ---- */
static void h_frames_init(void)
{
	for (unsigned i = 0; i < H_FRAMES; i++)
		h_frames[i].cpu = __VERIFIER_malloc(H_FRAME_BYTES);
}

static struct swiotlb_mem *h_mem(size_t initial, bool dynamic, unsigned shrink_delay_ms)
{
	struct swiotlb_mem_config c = {
		.size = initial,
		.nareas = 1,
		.provider = &h_provider,
		.dynamic = dynamic,
		.grow_size = SEG_SIZE,
		.shrink_delay_ms = shrink_delay_ms,
	};
	struct swiotlb_mem *mem;

	h_frames_init();
	mem = swiotlb_mem_create(&c);
	assert(mem);
	return mem;
}

static struct swiotlb_dev *h_dev(struct swiotlb_mem *mem, bool with_direct)
{
	struct swiotlb_dev_config c = { .force_bounce = !with_direct };

	if (with_direct)
		c.direct = h_direct;
	struct swiotlb_dev *dev = swiotlb_dev_create(mem, &c);

	assert(dev);
	return dev;
}

/* P0's end of the add shapes: map buf (first byte 7) and hand the
 * address over with a relaxed store, as a driver's ring would. */
static void h_map_hand_off(struct swiotlb_dev *dev, unsigned char *buf, size_t len,
			   _Atomic swiotlb_addr_t *handoff)
{
	swiotlb_addr_t a;

	buf[0] = 7;
	if (swiotlb_map(dev, buf, len, SWIOTLB_BIDIRECTIONAL, 0, &a) == 0)
		atomic_store_explicit(handoff, a, memory_order_relaxed);
}

/* P1's end: if the address arrived (relaxed load), it is a live bounce
 * mapping of dev: is_bounce, optionally a sync that brings P0's byte
 * back, and the unmap all succeed. */
static void h_receive_check(struct swiotlb_dev *dev, unsigned char *buf, size_t len,
			    _Atomic swiotlb_addr_t *handoff, bool sync)
{
	swiotlb_addr_t a = atomic_load_explicit(handoff, memory_order_relaxed);

	if (!a)
		return;
	assert(swiotlb_is_bounce(dev, a));
	if (sync) {
		assert(swiotlb_sync_for_cpu(dev, a, 1, SWIOTLB_BIDIRECTIONAL) == 0);
		assert(buf[0] == 7);
	}
	assert(swiotlb_unmap(dev, a, len, SWIOTLB_BIDIRECTIONAL, 0) == 0);
}

static pthread_t h_spawn(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	pthread_create(&t, NULL, fn, arg);
	return t;
}

#endif /* SWIOTLB_HARNESS_H */
