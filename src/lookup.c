/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Address-to-pool lookup, lock-free for readers.
 *
 * Why a granule hash: the kernel walks a list of pools (cost grows with the
 * number of pools: ~4.5 us at 4096); a crit-bit tree (libcritnib find_le)
 * costs a dependent load per bit level (20-60 ns).  Pools do not overlap,
 * so an address belongs to at most one pool, and a pool of any size
 * touches only a few 512 KiB granules.  We therefore hash the granule number
 * of the address into an open-addressing table whose buckets hold pool
 * pointers and a copy of their range and owner (one bucket per granule a
 * pool touches), and compare the address with each candidate's
 * [start, end).  A lookup is one hash and usually one bucket line, whatever
 * the number of pools, and never touches a pool descriptor (its time still
 * rises 3.6x from one pool to 4096 on one machine: docs/BENCHMARKS.md).
 * Granules shared by small pools just make the probe sequence a little
 * longer.  docs/DESIGN.md has the measurements.
 *
 * Writers (pool add/remove: rare, never on the map fast path except for
 * transient pools) take lk->writer.  They insert into empty buckets with a
 * store-release of the pool pointer (after the bucket's copy and the
 * descriptor are complete), delete by storing a tombstone, and rebuild into
 * a fresh table when tombstones or load grow; the old table is freed after
 * an RCU grace period.
 * Readers run inside rcu_enter()/rcu_exit() and never block.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Smallest table.  A model checker sets it low (-DSWIOTLB_LOOKUP_MIN_BUCKETS)
 * so that a rebuild happens with two pools. */
#ifdef SWIOTLB_LOOKUP_MIN_BUCKETS
#define LOOKUP_MIN_BUCKETS SWIOTLB_LOOKUP_MIN_BUCKETS
#else
#define LOOKUP_MIN_BUCKETS 64
#endif

/* Rebuild before live entries and tombstones fill more than this share of
 * the buckets (open addressing: probes grow fast past it; a miss, the
 * answer for every address that is not bounced, walks to an empty
 * bucket: about (1 + 1/(1 - fill)^2) / 2 buckets, 2.5 at half full and
 * 8.5 at three quarters, which made is_bounce 3x slower with 64 pools
 * than with one)... */
#define LOOKUP_MAX_FILL_PCT 50
/* ...sized on a rebuild for this many buckets per entry (a quarter full). */
#define LOOKUP_REBUILD_SPREAD 4
/* ...or when tombstones alone take more than this share. */
#define LOOKUP_MAX_TOMBSTONE_PCT 25

/* Fibonacci hashing: multiply by 2^64 / golden ratio, keep middle bits
 * (consecutive granules of one pool land in different buckets). */
#define GOLDEN_RATIO_64 0x9E3779B97F4A7C15ull
#define GRANULE_HASH_SHIFT 29

static inline size_t granule_hash(swiotlb_addr_t g, size_t mask)
{
	return (size_t)((g * GOLDEN_RATIO_64) >> GRANULE_HASH_SHIFT) & mask;
}

static struct lookup_table *table_new(size_t buckets)
{
	struct lookup_table *t;

	t = calloc(1, sizeof(*t) + buckets * sizeof(t->bucket[0]));
	if (!t)
		return NULL;
	t->mask = buckets - 1;
	for (size_t i = 0; i < buckets; i++)
		atomic_init(&t->bucket[i].pool, NULL);
	return t;
}

static size_t pool_granules(const struct pool *p)
{
	swiotlb_addr_t first = p->start >> LOOKUP_GRANULE_SHIFT;
	swiotlb_addr_t last = (p->end - 1) >> LOOKUP_GRANULE_SHIFT;

	return (size_t)(last - first) + 1;
}

/* Put p into every bucket chain of its granules (writer lock held), in
 * empty buckets only (see struct lookup_bucket).  The store-release of the
 * pool pointer publishes the bucket's copy and p's descriptor to the
 * load-acquire in _swiotlb_lookup_find(). */
static void table_insert(struct lookup_table *t, struct pool *p)
{
	swiotlb_addr_t g = p->start >> LOOKUP_GRANULE_SHIFT;
	swiotlb_addr_t last = (p->end - 1) >> LOOKUP_GRANULE_SHIFT;

	for (; g <= last; g++) {
		size_t i = granule_hash(g, t->mask);
		struct pool *cur;
		struct lookup_bucket *b;

		while ((cur = ld_relaxed(&t->bucket[i].pool)))
			i = (i + 1) & t->mask;
		b = &t->bucket[i];
		st_relaxed(&b->start, p->start);
		st_relaxed(&b->end, p->end);
		st_relaxed(&b->owner, p->owner);
		/* Pairs with the load-acquire of b->pool in _swiotlb_lookup_find():
		 * without it a reader could see p before the bucket's range copy
		 * or p's descriptor and compare against garbage. */
		atomic_store_explicit(&b->pool, p, memory_order_release);
		t->used++;
	}
}

static void table_free_cb(struct rcu_deferred *head)
{
	rcu_cb_enter();
	free(caa_container_of(head, struct lookup_table, rcu));
	rcu_cb_exit();
}

/* Replace the table by a fresh one sized for 'extra' more entries, without
 * tombstones (writer lock held). */
static int table_rebuild(struct lookup *lk, size_t extra)
{
	struct lookup_table *old = ld_relaxed(&lk->table);
	size_t want = (old->used + extra) * LOOKUP_REBUILD_SPREAD, buckets = LOOKUP_MIN_BUCKETS;
	struct lookup_table *t;

	while (buckets < want)
		buckets *= 2;
	t = table_new(buckets);
	if (!t)
		return -ENOMEM;
	struct pool *p;
	cds_list_for_each_entry (p, &lk->pools, lookup_node)
		table_insert(t, p);
	/* Pairs with the load-acquire of lk->table in _swiotlb_lookup_find():
	 * without it a reader could walk the new table before its buckets
	 * are filled and miss a live pool. */
	atomic_store_explicit(&lk->table, t, memory_order_release);
	_swiotlb_rcu_defer_free(lk->limbo, &old->rcu, table_free_cb);
	return 0;
}

int _swiotlb_lookup_init(struct lookup *lk, struct rcu_limbo *limbo)
{
	struct lookup_table *t = table_new(LOOKUP_MIN_BUCKETS);

	if (!t)
		return -ENOMEM;
	atomic_init(&lk->table, t);
	lk->limbo = limbo;
	CDS_INIT_LIST_HEAD(&lk->pools);
	pthread_mutex_init(&lk->writer, NULL);
	return 0;
}

/* Free the table now (no readers left: the memory is being destroyed). */
void _swiotlb_lookup_fini(struct lookup *lk)
{
	free(ld_relaxed(&lk->table));
	pthread_mutex_destroy(&lk->writer);
}

/*
 * Make p findable by address.  p's descriptor must be complete: the
 * bucket store-release publishes it.  Returns -ENOMEM when the table had
 * to grow and could not (p is then not published).
 */
int _swiotlb_lookup_add(struct lookup *lk, struct pool *p)
{
	struct lookup_table *t;
	size_t n = pool_granules(p);
	int rc = 0;

	pthread_mutex_lock(&lk->writer);
	t = ld_relaxed(&lk->table);
	if ((t->used + t->tombstones + n) * 100 > (t->mask + 1) * LOOKUP_MAX_FILL_PCT)
		rc = table_rebuild(lk, n);
	if (rc == 0) {
		table_insert(ld_relaxed(&lk->table), p);
		cds_list_add_tail(&p->lookup_node, &lk->pools);
	}
	pthread_mutex_unlock(&lk->writer);
	return rc;
}

/*
 * Make p unfindable.  Readers that already found p keep using it until
 * their read-side section ends; the caller frees p only after a grace
 * period (_swiotlb_pool_free_rcu()), which orders this removal before any reuse of
 * p's memory (the delete shape, models/delete.pml).
 */
void _swiotlb_lookup_del(struct lookup *lk, struct pool *p)
{
	struct lookup_table *t;

	pthread_mutex_lock(&lk->writer);
	t = ld_relaxed(&lk->table);
	for (swiotlb_addr_t g = p->start >> LOOKUP_GRANULE_SHIFT;
	     g <= (p->end - 1) >> LOOKUP_GRANULE_SHIFT; g++) {
		size_t i = granule_hash(g, t->mask);
		struct pool *cur;

		while ((cur = ld_relaxed(&t->bucket[i].pool)) && cur != p)
			i = (i + 1) & t->mask;
		if (cur != p)
			continue;
		/* ordered before reuse by the grace period in _swiotlb_pool_free_rcu() */
		st_relaxed(&t->bucket[i].pool, LOOKUP_TOMBSTONE);
		t->used--;
		t->tombstones++;
	}
	cds_list_del(&p->lookup_node);
	if (t->tombstones * 100 > (t->mask + 1) * LOOKUP_MAX_TOMBSTONE_PCT)
		table_rebuild(lk, 0); /* on -ENOMEM the old table stays valid */
	pthread_mutex_unlock(&lk->writer);
}

/*
 * The pool containing device address addr, or NULL; a transient pool only
 * when dev owns it (dev NULL: any).  Caller is inside an RCU read-side
 * section.  Lock-free, no allocation, no syscall; reads bucket lines only,
 * not the pool descriptor.
 */
struct pool *_swiotlb_lookup_find(const struct lookup *lk, swiotlb_addr_t addr,
				  const struct swiotlb_dev *dev)
{
	/* pairs with the store-release in table_rebuild(): see there */
	struct lookup_table *t = atomic_load_explicit(&lk->table, memory_order_acquire);
	size_t i = granule_hash(addr >> LOOKUP_GRANULE_SHIFT, t->mask);
	const struct lookup_bucket *b;
	struct pool *p;

	for (;; i = (i + 1) & t->mask) {
		b = &t->bucket[i];
		/* pairs with the store-release in table_insert(): see there */
		p = atomic_load_explicit(&b->pool, memory_order_acquire);
		if (!p)
			return NULL;
		if (p == LOOKUP_TOMBSTONE)
			continue;
		swiotlb_addr_t start = ld_relaxed(&b->start);
		if (addr - start < ld_relaxed(&b->end) - start)
			break;
	}
	/* the range matched: pools do not overlap, so this is the pool */
	const struct swiotlb_dev *owner = ld_relaxed(&b->owner);
	return !owner || !dev || owner == dev ? p : NULL;
}

/*
 * The pool of dev that holds addr, or NULL: a shared pool of dev's memory
 * or one of dev's own transient pools.  Caller is inside an RCU read-side
 * section and has passed dev_may_have_bounced().
 */
struct pool *_swiotlb_lookup_dev_pool(const struct swiotlb_dev *dev, swiotlb_addr_t addr)
{
	return _swiotlb_lookup_find(&dev->mem->lookup, addr, dev);
}
