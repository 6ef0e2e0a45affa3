/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-thread device counters for the bounce map/unmap path.
 *
 * A map and its unmap each bumped two per-CPU shard counters of the device
 * with a locked add (lock xadd on x86), right after the copy, so each add
 * waited for the copy's stores to drain: about a third of a 2 KiB
 * map+unmap (issue 10).  Here every thread keeps, per device it bounced
 * for, a block of counters that only it writes: a relaxed load and a
 * relaxed store, no read-modify-write.  Readers (dev_stats, dev_live) sum
 * the blocks with relaxed loads under tc_lock, so the sums are exact once
 * the threads are quiet.
 *
 * Lifetimes, all under tc_lock:
 *   - a block is created on a thread's first bounce for a device (one
 *     calloc per thread and device, like liburcu-bp's registration) and
 *     linked on the device's list;
 *   - a thread that exits (pthread key destructor) folds its blocks into
 *     the device's 'gone' counters and unlinks them, so no count is lost;
 *   - swiotlb_dev_destroy() unlinks the device's blocks and clears their
 *     'dev' (no call on the device may run then: swiotlb.h's table); the
 *     owner thread frees or reuses them later.
 * A block is found again through a small per-thread table keyed by the
 * device's unique id (never by its address, which a later device may
 * reuse).  When the calloc fails, the shard's atomic counters are used.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The calling thread's blocks and its table of recent ones (types.h). */
__thread struct tc_thread _swiotlb_tc_self __attribute__((tls_model("initial-exec")));
#define tc_self _swiotlb_tc_self

/* Serialises block creation, unlinking (thread exit, device destroy) and
 * the readers' sums.  Never taken on the hot path once a thread has its
 * block. */
static pthread_mutex_t tc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t tc_key;
static pthread_once_t tc_once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t tc_next_id = 1;

static void tc_fold(struct swiotlb_dev *dev, const struct dev_tcount *c)
{
	stat_add(&dev->tc_gone.maps, ld_relaxed(&c->maps));
	stat_add(&dev->tc_gone.unmaps, ld_relaxed(&c->unmaps));
	stat_add(&dev->tc_gone.bytes_to_dev, ld_relaxed(&c->bytes_to_dev));
	stat_add(&dev->tc_gone.bytes_from_dev, ld_relaxed(&c->bytes_from_dev));
}

/* Thread exit: fold every block still attached to a device, free all. */
static void tc_thread_exit(void *arg)
{
	struct dev_tcount *c = tc_self.list, *next;

	(void)arg;
	pthread_mutex_lock(&tc_lock);
	for (struct dev_tcount *i = c; i; i = i->thread_next) {
		struct swiotlb_dev *dev = ld_relaxed(&i->dev);

		if (dev) {
			_swiotlb_runcache_thread_exit(dev, i);
			tc_fold(dev, i);
			cds_list_del(&i->dev_node);
		}
	}
	pthread_mutex_unlock(&tc_lock);
	for (; c; c = next) {
		next = c->thread_next;
		free(c);
	}
	tc_self.list = NULL;
	tc_self.keyed = false;
	for (unsigned i = 0; i < TC_HOT; i++)
		tc_self.hot[i].id = 0;
}

/* tc_lock also guards every memory's device list and every run cache
 * against thieves (runcache.c); fork.c takes it around fork(). */
void _swiotlb_devcount_lock(void)
{
	pthread_mutex_lock(&tc_lock);
}

void _swiotlb_devcount_unlock(void)
{
	pthread_mutex_unlock(&tc_lock);
}

static void tc_init_once(void)
{
	if (pthread_key_create(&tc_key, tc_thread_exit))
		abort(); /* only EAGAIN (keys exhausted) at load time */
}

/* A new device: its id, its (empty) list of blocks, and its place on its
 * memory's device list. */
void _swiotlb_devcount_init(struct swiotlb_dev *dev)
{
	pthread_once(&tc_once, tc_init_once);
	dev->id = add_relaxed(&tc_next_id, 1);
	CDS_INIT_LIST_HEAD(&dev->tc_list);
	pthread_mutex_lock(&tc_lock);
	cds_list_add(&dev->mem_node, &dev->mem->devs);
	pthread_mutex_unlock(&tc_lock);
}

/* Attach a block of this thread (a free one or a new one) to dev. */
struct dev_tcount *_swiotlb_devcount_slow(struct swiotlb_dev *dev)
{
	struct dev_tcount *c;

	pthread_mutex_lock(&tc_lock);
	for (c = tc_self.list; c; c = c->thread_next)
		if (!ld_relaxed(&c->dev))
			break;
	if (!c && (c = calloc(1, sizeof(*c)))) {
		c->thread_next = tc_self.list;
		tc_self.list = c;
	}
	if (c) {
		memset(&c->cache, 0, sizeof(c->cache));
		st_relaxed(&c->maps, 0);
		st_relaxed(&c->unmaps, 0);
		st_relaxed(&c->bytes_to_dev, 0);
		st_relaxed(&c->bytes_from_dev, 0);
		st_relaxed(&c->dev, dev);
		c->dev_id = dev->id;
		c->mem = dev->mem;
		cds_list_add(&c->dev_node, &dev->tc_list);
	}
	pthread_mutex_unlock(&tc_lock);
	if (!c)
		return NULL;
	/* arm the exit destructor (it reads tc_self, still valid then) */
	if (!tc_self.keyed && pthread_setspecific(tc_key, &tc_self) == 0)
		tc_self.keyed = true;
	tc_self.hot[dev->id % TC_HOT].id = dev->id;
	tc_self.hot[dev->id % TC_HOT].tc = c;
	return c;
}

/* The calling thread's block for dev after a miss in the hot table
 * (devcount_get(), internal.h); NULL: none could be made. */
struct dev_tcount *_swiotlb_devcount_lookup(struct swiotlb_dev *dev)
{
	unsigned h = (unsigned)(dev->id % TC_HOT);

	for (struct dev_tcount *c = tc_self.list; c; c = c->thread_next) {
		/* ids are never reused, so a block whose id is dev's is dev's,
		 * even if a destroyed device had dev's address; c->dev is
		 * checked too because a block is cleared (and may be reused)
		 * when its device is destroyed */
		if (c->dev_id == dev->id && ld_relaxed(&c->dev) == dev) {
			tc_self.hot[h].id = dev->id;
			tc_self.hot[h].tc = c;
			return c;
		}
	}
	return _swiotlb_devcount_slow(dev);
}

/* The calling thread's blocks (a list through thread_next), for the
 * give-back of its cached runs (runcache.c). */
struct dev_tcount *_swiotlb_devcount_mine(void)
{
	return tc_self.list;
}

/* Take every run cached for mem back (runcache.c), under tc_lock. */
unsigned _swiotlb_devcount_drain(struct swiotlb_mem *mem, bool always)
{
	unsigned n;

	if (!_swiotlb_runcache_on)
		return 0;
	pthread_mutex_lock(&tc_lock);
	n = _swiotlb_runcache_drain_locked(mem, always);
	pthread_mutex_unlock(&tc_lock);
	return n;
}

/* The run caches of mem, summed (runcache.c), under tc_lock. */
void _swiotlb_devcount_cache_sum(const struct swiotlb_mem *mem, struct runcache_sum *s)
{
	pthread_mutex_lock(&tc_lock);
	_swiotlb_runcache_sum_locked(mem, s);
	pthread_mutex_unlock(&tc_lock);
}

/* Sum of dev's per-thread counters, exited threads included. */
void _swiotlb_devcount_sum(const struct swiotlb_dev *dev, struct dev_tcount_sum *s)
{
	const struct dev_tcount *c;

	pthread_mutex_lock(&tc_lock);
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
	pthread_mutex_unlock(&tc_lock);
}

/* swiotlb_dev_destroy(): detach every thread's block from dev (their
 * cached runs go back to the areas), and dev from its memory. */
void _swiotlb_devcount_fini(struct swiotlb_dev *dev)
{
	struct dev_tcount *c, *tmp;

	pthread_mutex_lock(&tc_lock);
	_swiotlb_runcache_dev_retire(dev);
	cds_list_for_each_entry_safe(c, tmp, &dev->tc_list, dev_node)
	{
		cds_list_del(&c->dev_node);
		st_relaxed(&c->dev, NULL);
	}
	cds_list_del(&dev->mem_node);
	pthread_mutex_unlock(&tc_lock);
}
