/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * add.pml -- ADD shape: a pool created on the map path must be found by an
 * unmap that received the bounce address through the driver's own memory.
 *
 * Code this model mirrors (libswiotlb, C11 atomics):
 *   P0 (mapper)
 *     - map_transient() in src/map.c: _swiotlb_transient_create() builds
 *       the pool privately, plain stores to the descriptor (start,
 *       nslots, ...) and map_copy_in() fills the slots -> store DESC = 1
 *     - _swiotlb_transient_publish() -> _swiotlb_lookup_add() ->
 *       table_insert() in src/lookup.c: store-release of the bucket's pool
 *       pointer, for each granule of the pool
 *       (rcu_assign_pointer-like)                    -> release fence; store IDX = 1
 *     - map_publish_flag() in src/map.c: the device's first bounce, so
 *       ld_relaxed(&dev->head.bounced) reads 0 and the flag is stored
 *       relaxed, then atomic_thread_fence(memory_order_release)
 *       (the "map-path fence")                       -> store FLAG = 1; release fence
 *       (add_flagset.pml: the flag already set, no store, the fence only)
 *     - the caller (driver) hands the address over with a relaxed store
 *       into its own ring / descriptor, not the library's business
 *                                                    -> store RING = ADDR
 *   P1 (unmapper)
 *     - the driver loads the address relaxed        -> r = RING
 *     - dev_may_have_bounced() in src/internal.h:
 *       atomic_thread_fence(memory_order_acquire), which pairs with the
 *       release fence in map_publish_flag()               -> acquire fence
 *       relaxed load of dev->head.bounced            -> f = FLAG
 *     - rcu_enter(); _swiotlb_lookup_find() in src/lookup.c: load-acquire
 *       of the bucket's pool pointer
 *       (rcu_dereference-like)                       -> e = IDX
 *       read of the descriptor through the entry     -> d = DESC (after e)
 *
 * Invariant: r == ADDR  implies  f && e && d  (unmap finds the pool).
 *
 * Switches (each must make spin report an assertion violation):
 *   -DNO_WMB    remove the release fence in map_publish_flag()
 *   -DNO_RMB    remove the acquire fence in dev_may_have_bounced()
 *   -DREACH     non-vacuity check: assert that P1 never reads r == ADDR;
 *               must FAIL, proving that the interesting case is explored.
 *
 * Weak-memory modelling
 *   Only P0 stores and only P1 loads, so one "memory" (the view of P1) is
 *   enough: multi-copy atomicity makes no difference with a single
 *   observer.  Each store of P0 is first kept *pending* per location
 *   (pd[l], value pv[l]); the process `memory' makes pending stores
 *   visible (mem[l]) one at a time in any order, i.e. stores to different
 *   locations may propagate out of program order.  A release fence (and
 *   the fence half of a store-release) blocks P0 until all its earlier
 *   stores are visible; since P0 has no loads after its fences this is
 *   the same as "later stores cannot propagate before earlier ones".
 *   P1 performs its loads in a nondeterministic order, each one atomically
 *   reading the then-current memory (a load may be satisfied early or
 *   late); only the acquire fence (ring load before all later loads) and
 *   the load-acquire of the index entry (entry before descriptor; it is
 *   also an address dependency) constrain the order.  The loads behind
 *   `if (flag)' / `if (entry)' are performed unconditionally: that only
 *   adds speculative executions, and if the flag or entry read is 0 the
 *   invariant is violated anyway, so the verdict is unchanged.
 */

#define DESC  0
#define IDX   1
#define FLAG  2
#define RING  3
#define NLOC  4
#define ADDR  5          /* the bounce address handed over in the ring */

byte mem[NLOC];          /* values visible to P1 (all start at 0)      */
byte pv[NLOC];           /* value of P0's pending store, per location  */
bit  pd[NLOC];           /* 1 while P0's store to l has not propagated */

/* P0 issues a store: it stays pending until `memory' propagates it. */
inline store(l, x) {
	atomic { assert(!pd[l]); pv[l] = x; pd[l] = 1 }
}

/* Release fence: wait until every earlier store of P0 is visible. */
inline release_fence() {
	(!pd[DESC] && !pd[IDX] && !pd[FLAG] && !pd[RING])
}

#define PROPAGATE(l)  :: atomic { pd[l] -> mem[l] = pv[l]; pd[l] = 0 }

active proctype memory()
{
end:	do
	PROPAGATE(DESC)
	PROPAGATE(IDX)
	PROPAGATE(FLAG)
	PROPAGATE(RING)
	od
}

active proctype mapper()	/* P0 */
{
	store(DESC, 1);		/* pool descriptor initialised (plain)   */
	release_fence();	/* table_insert(): store-release ...      */
	store(IDX, 1);		/* ... of the bucket's pool pointer      */
	store(FLAG, 1);		/* map_publish_flag(): head.bounced = 1  */
#ifndef NO_WMB
	release_fence();	/* map_publish_flag(): the map-path fence */
#endif
	store(RING, ADDR)	/* caller: relaxed store into its ring   */
}

#ifdef NO_RMB
#define AFTER_FENCE  1
#else
#define AFTER_FENCE  dr		/* acquire fence: ring load comes first */
#endif

active proctype unmapper()	/* P1 */
{
	byte r, f, e, d;
	bit dr, df, de, dd;	/* load performed? */

	do
	:: atomic { !dr -> r = mem[RING]; dr = 1 }
	:: atomic { !df && AFTER_FENCE -> f = mem[FLAG]; df = 1 }
	:: atomic { !de && AFTER_FENCE -> e = mem[IDX]; de = 1 }
	:: atomic { !dd && de && AFTER_FENCE -> d = mem[DESC]; dd = 1 }
	:: dr && df && de && dd -> break
	od;
#ifdef REACH
	assert(r != ADDR);
#endif
	assert(r != ADDR || (f == 1 && e == 1 && d == 1))
}
