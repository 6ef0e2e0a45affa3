/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the harnesses may use of the library besides its public API: the
 * only place that names internal functions and fields, so a rename in src/
 * changes this file alone.  Also the harnesses' shared environment: a
 * provider over a few frames, a direct-map callback for reused frames, the
 * log function, a model of devcount.c (per-thread blocks and tc_lock, so
 * that the real run caches of runcache.c run), and helpers to build a
 * small memory and device.
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

/* ---- devcount.c is not compiled (pthread keys, __thread): a model of
 * it.  One block per thread (GenMC thread index) and device (the device's
 * id, in creation order) in static arrays, attached on the thread's
 * first bounce for the device, as devcount.c's slow path does; a mutex
 * as tc_lock, around the real runcache.c _locked functions.  The run
 * caches are on (runcache.c: membarrier present); -DH_NO_RUN_CACHE
 * with -DSWIOTLB_MODEL_RUN_CACHE=0 turns them off and gives no blocks (every count goes to the device's
 * shards, the library's own fallback when a block cannot be allocated).  A thread's exit
 * (the key destructor) is H_THREAD_EXIT(), called by the harness. ---- */
_Static_assert(sizeof(struct runcache_sum) == MODEL_RUNCACHE_SUM_BYTES,
	       "model_memset() zeroes struct runcache_sum as five words");

#define H_TC_THREADS MODEL_MAX_THREADS
#define H_TC_DEVS 2

static struct dev_tcount h_tc[H_TC_THREADS][H_TC_DEVS];
static struct dev_tcount *h_tc_mine[H_TC_THREADS]; /* thread-private lists */
static pthread_mutex_t h_tc_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned h_tc_ndevs;                         /* under h_tc_lock */

static unsigned h_tc_self(void)
{
	unsigned t = (unsigned)__VERIFIER_thread_self();

	assert(t < H_TC_THREADS);
	return t;
}

void _swiotlb_devcount_init(struct swiotlb_dev *dev)
{
#ifndef H_NO_RUN_CACHE
	_swiotlb_runcache_on = true; /* set before any device exists */
#endif
	CDS_INIT_LIST_HEAD(&dev->tc_list);
	pthread_mutex_lock(&h_tc_lock);
	assert(h_tc_ndevs < H_TC_DEVS);
	dev->id = ++h_tc_ndevs;
	cds_list_add(&dev->mem_node, &dev->mem->devs);
	pthread_mutex_unlock(&h_tc_lock);
}

void _swiotlb_devcount_fini(struct swiotlb_dev *dev)
{
	struct dev_tcount *c, *tmp;

	pthread_mutex_lock(&h_tc_lock);
	_swiotlb_runcache_dev_retire(dev);
	cds_list_for_each_entry_safe(c, tmp, &dev->tc_list, dev_node)
	{
		cds_list_del(&c->dev_node);
		st_relaxed(&c->dev, NULL);
	}
	cds_list_del(&dev->mem_node);
	pthread_mutex_unlock(&h_tc_lock);
}

struct dev_tcount *_swiotlb_devcount_get(struct swiotlb_dev *dev)
{
	struct dev_tcount *c = &h_tc[h_tc_self()][dev->id - 1];

#ifdef H_NO_RUN_CACHE
	return NULL; /* no blocks either: the device's shards count, as before */
#endif
	if (c->dev_id == dev->id) /* owner-private once attached */
		return c;
	pthread_mutex_lock(&h_tc_lock);
	st_relaxed(&c->dev, dev);
	c->dev_id = dev->id;
	c->mem = dev->mem;
	c->thread_next = h_tc_mine[h_tc_self()];
	h_tc_mine[h_tc_self()] = c;
	cds_list_add(&c->dev_node, &dev->tc_list);
	pthread_mutex_unlock(&h_tc_lock);
	return c;
}

struct dev_tcount *_swiotlb_devcount_mine(void)
{
	return h_tc_mine[h_tc_self()];
}

unsigned _swiotlb_devcount_drain(struct swiotlb_mem *mem, bool always)
{
	unsigned n;

	if (!_swiotlb_runcache_on)
		return 0;
	pthread_mutex_lock(&h_tc_lock);
	n = _swiotlb_runcache_drain_locked(mem, always);
	pthread_mutex_unlock(&h_tc_lock);
	return n;
}

void _swiotlb_devcount_cache_sum(const struct swiotlb_mem *mem, struct runcache_sum *s)
{
	pthread_mutex_lock(&h_tc_lock);
	_swiotlb_runcache_sum_locked(mem, s);
	pthread_mutex_unlock(&h_tc_lock);
}

void _swiotlb_devcount_sum(const struct swiotlb_dev *dev, struct dev_tcount_sum *s)
{
	const struct dev_tcount *c;

	pthread_mutex_lock(&h_tc_lock);
	s->maps = ld_relaxed(&dev->tc_gone.maps);
	s->unmaps = ld_relaxed(&dev->tc_gone.unmaps);
	s->bytes_to_dev = ld_relaxed(&dev->tc_gone.bytes_to_dev);
	s->bytes_from_dev = ld_relaxed(&dev->tc_gone.bytes_from_dev);
	cds_list_for_each_entry (c, &dev->tc_list, dev_node) {
		s->maps += ld_relaxed(&c->maps);
		s->unmaps += ld_relaxed(&c->unmaps);
		s->bytes_to_dev += ld_relaxed(&c->bytes_to_dev);
		s->bytes_from_dev += ld_relaxed(&c->bytes_from_dev);
	}
	pthread_mutex_unlock(&h_tc_lock);
}

/* The calling thread exits: devcount.c's key destructor (its blocks give
 * their cached runs back and fold their counts into their devices). */
static void h_thread_exit(void)
{
	pthread_mutex_lock(&h_tc_lock);
	for (struct dev_tcount *i = h_tc_mine[h_tc_self()]; i; i = i->thread_next) {
		struct swiotlb_dev *dev = ld_relaxed(&i->dev);

		if (!dev)
			continue;
		_swiotlb_runcache_thread_exit(dev, i);
		stat_add(&dev->tc_gone.maps, ld_relaxed(&i->maps));
		stat_add(&dev->tc_gone.unmaps, ld_relaxed(&i->unmaps));
		stat_add(&dev->tc_gone.bytes_to_dev, ld_relaxed(&i->bytes_to_dev));
		stat_add(&dev->tc_gone.bytes_from_dev, ld_relaxed(&i->bytes_from_dev));
		cds_list_del(&i->dev_node);
		st_relaxed(&i->dev, NULL);
	}
	pthread_mutex_unlock(&h_tc_lock);
}
#define H_THREAD_EXIT() h_thread_exit()
/* The calling thread's block for dev counts one map (the unmap takes the
 * lock-free path into the run cache only for a thread that maps too). */
#define H_PRETEND_MAPPED(dev) add_locked(&_swiotlb_devcount_get(dev)->maps, 1)

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
