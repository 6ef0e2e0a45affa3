/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * three_thread.pml -- THREE-THREAD shape: a pool added by a third thread
 * (the growth worker) is found by P0's map, which then hands the bounce
 * address to P1; P1's unmap must find the pool.  This is the shape of the
 * September 2023 upstream fix ("fix the check whether a device has used
 * software IO TLB"): the barrier on the map path must be CUMULATIVE.
 *
 * Code this model mirrors (libswiotlb, C11 atomics):
 *   P2 (the resize thread: grow_once() in src/resize.c ->
 *     _swiotlb_mem_add_pool() in src/mem.c)
 *     - pool initialisation: plain stores to the descriptor -> store DESC = 1
 *     - _swiotlb_lookup_add() -> table_insert() in src/lookup.c:
 *       store-release of the bucket's pool pointer
 *                                          -> release fence; store IDX = 1
 *   P0 (mapper)
 *     - pools_find_slots() in src/map.c: load-acquire of the pool set,
 *       which set_replace() (src/mem.c) published with a store-release
 *       after _swiotlb_lookup_add() stored the bucket; so finding the pool
 *       in the set implies having observed the index entry, and the model
 *       lets P0 read the index entry directly; a slot is allocated in it
 *                                          -> e0 = IDX (acquire); if e0:
 *     - map_publish_flag() in src/map.c: relaxed store
 *       dev->head.bounced = 1 (the first bounce), then
 *       atomic_thread_fence(memory_order_release)
 *                                          -> store FLAG = 1; release fence
 *     - caller: relaxed store of the address into its ring
 *                                          -> store RING = ADDR
 *   P1 (unmapper)
 *     - caller: relaxed load of the ring  -> r = RING
 *     - dev_may_have_bounced(): acquire fence      -> acquire fence
 *       relaxed load of dev->head.bounced -> f = FLAG
 *       rcu_enter(); _swiotlb_lookup_find(): load-acquire of the bucket's
 *       pool pointer                       -> e = IDX
 *       descriptor read through the entry -> d = DESC (after e)
 *
 * Invariant: r == ADDR  implies  f && e && d.
 *
 * Switches (each must make spin report an assertion violation):
 *   -DNO_WMB             remove P0's release fence in map_publish_flag()
 *   -DNONCUMULATIVE      P0's barrier orders only P0's OWN earlier stores
 *                        (a plain, non-cumulative write barrier)
 *   -DNO_RMB             remove P1's acquire fence in dev_may_have_bounced()
 *   -DNO_PUBLISH_RELEASE table_insert() stores the pool pointer relaxed
 *   -DREACH              non-vacuity: assert P1 never reads r == ADDR
 *                        (must FAIL)
 *   -DREACH_SPLIT        non-vacuity of the per-thread views: assert that
 *                        P0 never sees the grown pool while P1's view does
 *                        not have it yet (must FAIL)
 *
 * Weak-memory modelling: per-thread views (not multi-copy atomic)
 *   Every thread t has its own view v[t][l] of every location l.  A store
 *   by thread w updates w's own view at once (a thread reads its own
 *   stores) and is left pending (pd[t][l]) for each other thread t; the
 *   process `memory' propagates pending (thread, location) pairs one at a
 *   time in any order, so one store can reach P0 long before it reaches
 *   P1.  Every location is stored at most once, so coherence is trivial
 *   and "the store to l" is well defined.
 *   obs[t][l] records the stores thread t has made or observed (read).
 *   A cumulative release fence in thread t blocks t until every store in
 *   obs[t] is visible to all threads; as t does nothing but stores after
 *   it, this is the same as "t's later stores cannot propagate before
 *   them".  -DNONCUMULATIVE restricts P0's fence to the stores P0 made
 *   itself (own[t][l]).  A store-release is a release fence followed by
 *   the store.  A load-acquire / acquire fence forces program order of the
 *   loads after it; otherwise P1 performs its loads in a nondeterministic
 *   order, each one atomically reading its current view.  P0 executes in
 *   program order (its one load is acquire and it guards the stores).
 *   The loads behind `if (flag)' / `if (entry)' in dev_may_have_bounced() are
 *   performed unconditionally (speculation); if the flag or the entry
 *   reads 0 the invariant fails anyway, so the verdict is unchanged.
 */

#define P0    0
#define P1    1
#define P2    2
#define NT    3

#define DESC  0
#define IDX   1
#define FLAG  2
#define RING  3
#define NLOC  4
#define ADDR  5

#define AT(t, l)  ((t) * NLOC + (l))

byte v[NT * NLOC];       /* v[AT(t,l)]: thread t's view of location l    */
bit  pd[NT * NLOC];      /* store to l not yet propagated to thread t    */
byte pv[NLOC];           /* value of the (single) store to l             */
bit  stored[NLOC];       /* l has been stored (at most once)             */
bit  obs[NT * NLOC];     /* t made or observed the store to l            */
bit  own[NT * NLOC];     /* t made the store to l                        */

#define VIS_ALL(l)  (!pd[AT(P0, l)] && !pd[AT(P1, l)] && !pd[AT(P2, l)])

inline store(w, l, x) {
	atomic {
		assert(!stored[l]);
		stored[l] = 1;
		pv[l] = x;
		v[AT(w, l)] = x;
		pd[AT(P0, l)] = (w != P0);
		pd[AT(P1, l)] = (w != P1);
		pd[AT(P2, l)] = (w != P2);
		obs[AT(w, l)] = 1;
		own[AT(w, l)] = 1
	}
}

inline load(t, l, reg) {
	atomic {
		reg = v[AT(t, l)];
		if
		:: reg != 0 -> obs[AT(t, l)] = 1   /* read another's store */
		:: else
		fi
	}
}

#define DONE(set, t, l)  (!set[AT(t, l)] || VIS_ALL(l))

/* cumulative release fence: all stores t made or observed are visible */
inline release_fence(t) {
	(DONE(obs, t, DESC) && DONE(obs, t, IDX) &&
	 DONE(obs, t, FLAG) && DONE(obs, t, RING))
}

/* non-cumulative write barrier: only t's own earlier stores */
inline own_write_barrier(t) {
	(DONE(own, t, DESC) && DONE(own, t, IDX) &&
	 DONE(own, t, FLAG) && DONE(own, t, RING))
}

#define PROPAGATE(t, l) \
	:: atomic { pd[AT(t, l)] -> v[AT(t, l)] = pv[l]; pd[AT(t, l)] = 0 }

active proctype memory()
{
end:	do
	PROPAGATE(P0, DESC) PROPAGATE(P0, IDX) PROPAGATE(P0, FLAG) PROPAGATE(P0, RING)
	PROPAGATE(P1, DESC) PROPAGATE(P1, IDX) PROPAGATE(P1, FLAG) PROPAGATE(P1, RING)
	PROPAGATE(P2, DESC) PROPAGATE(P2, IDX) PROPAGATE(P2, FLAG) PROPAGATE(P2, RING)
	od
}

active proctype grower()	/* P2 */
{
	store(P2, DESC, 1);		/* descriptor initialised (plain)  */
#ifndef NO_PUBLISH_RELEASE
	release_fence(P2);		/* table_insert(): store-release ... */
#endif
	store(P2, IDX, 1)		/* ... of the bucket's pool pointer */
}

active proctype mapper()	/* P0 */
{
	byte e0;

	load(P0, IDX, e0);		/* pools_find_slots(): acquire     */
#ifdef REACH_SPLIT
	assert(!(e0 == 1 && v[AT(P1, IDX)] == 0));
#endif
	if
	:: e0 == 1 ->			/* found the grown pool, allocated */
		store(P0, FLAG, 1);	/* map_publish_flag(): head.bounced = 1 */
#if defined(NO_WMB)
		skip;
#elif defined(NONCUMULATIVE)
		own_write_barrier(P0);	/* plain write barrier             */
#else
		release_fence(P0);	/* map_publish_flag(): map-path fence    */
#endif
		store(P0, RING, ADDR)	/* caller: relaxed ring store      */
	:: else -> skip			/* pool not seen: nothing mapped   */
	fi
}

#ifdef NO_RMB
#define AFTER_FENCE  1
#else
#define AFTER_FENCE  dr		/* acquire fence: ring load comes first */
#endif

active proctype unmapper()	/* P1 */
{
	byte r, f, e, d;
	bit dr, df, de, dd;

	do
	:: atomic { !dr -> load(P1, RING, r); dr = 1 }
	:: atomic { !df && AFTER_FENCE -> load(P1, FLAG, f); df = 1 }
	:: atomic { !de && AFTER_FENCE -> load(P1, IDX, e); de = 1 }
	:: atomic { !dd && de && AFTER_FENCE -> load(P1, DESC, d); dd = 1 }
	:: dr && df && de && dd -> break
	od;
#ifdef REACH
	assert(r != ADDR);
#endif
	assert(r != ADDR || (f == 1 && e == 1 && d == 1))
}
