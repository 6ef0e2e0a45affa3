/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * delete.pml -- DELETE shape: once a pool has been retired and its memory
 * reused (e.g. as an ordinary buffer that is mapped directly), an unmap of
 * that reused address must not find the stale pool.
 *
 * Code this model mirrors (libswiotlb, C11 atomics + liburcu):
 *   Initially the pool is published (index entry IDX = 1) and the device
 *   has used bounce buffers (dev->head.bounced, FLAG = 1).
 *   P0 (the resize thread's shrink step, or the release of a transient
 *     pool, then the same thread reusing the memory)
 *     - _swiotlb_mem_remove_pool() in src/mem.c (the set replaced, then
 *       _swiotlb_lookup_del() in src/lookup.c tombstones the bucket), or
 *       _swiotlb_transient_release() in src/transient.c: unpublish
 *                                                    -> store IDX = 0
 *       then a grace period before the provider frees the pool memory:
 *       _swiotlb_rcu_synchronize() (src/rcu.c, liburcu-bp's
 *       urcu_bp_synchronize_rcu()) in _swiotlb_resize_shrink_step(), or
 *       _swiotlb_pool_free_rcu() (src/pool.c), whose free the memory's
 *       limbo runs in _swiotlb_rcu_reclaim() after one
 *                                                    -> grace period
 *     - the freed memory is reused as a plain buffer mapped directly and
 *       the caller hands its address over with a relaxed store into its
 *       own ring                                   -> store RING = ADDR
 *     (P0 both waits for the grace period and reuses the memory: the
 *     GenMC harness delete_self.  When another thread reuses it,
 *     delete_other, the argument also needs the RCU read side's barrier:
 *     docs/ORDERING.md, verify/.)
 *   P1 (unmapper)
 *     - the driver loads the address relaxed       -> r = RING
 *     - dev_may_have_bounced() in src/internal.h:
 *       atomic_thread_fence(memory_order_acquire)  -> acquire fence
 *       relaxed load of dev->head.bounced          -> f = FLAG
 *     - rcu_enter() (src/rcu.h)                    -> rs = 1 (marker only)
 *       _swiotlb_lookup_find(): load-acquire of the bucket's pool pointer
 *                                                  -> e = IDX
 *       rcu_exit()                                 -> rs = 2 (marker only)
 *     (the model performs the flag load inside the section; the flag is
 *     never written in this shape, so where it is read changes nothing)
 *
 * Invariant: r == ADDR  implies  e == 0  (the reused address is not
 * attributed to the stale pool).
 *
 * Switches (each must make spin report an assertion violation):
 *   -DNO_GP      no grace period: free and reuse right after the removal,
 *                with no barrier and no wait
 *   -DNO_RMB     remove the acquire fence in dev_may_have_bounced()
 *   -DREACH      non-vacuity: assert P1 never reads r == ADDR (must FAIL)
 *   -DREACH_WAIT non-vacuity: assert the grace period never finds P1 inside
 *                a read-side section that began before it (must FAIL,
 *                i.e. the "wait for pre-existing readers" path is explored)
 *
 * Weak-memory modelling
 *   As in add.pml: one writer (P0) and one reader (P1), so a single memory
 *   (P1's view) suffices.  P0's stores stay pending per location until the
 *   process `memory' propagates them, in any order.  P1 performs its loads
 *   in a nondeterministic order, each atomically reading current memory;
 *   the acquire fence forces the ring load before the flag/entry loads.
 *
 *   RCU: rcu_enter()/rcu_exit() are NOT modelled as barriers
 *   (the library does not rely on them for ordering).  They only mark the
 *   interval in which P1 is a reader (rs: 0 before, 1 inside, 2 after);
 *   the loads written inside the section are performed inside that
 *   interval (the basic RCU containment guarantee), while the ring load,
 *   written before rcu_enter(), may drift into or past the section
 *   unless the acquire fence holds it back.  The grace period is: a full
 *   barrier (P0's earlier stores become visible), then wait until P1 is no
 *   longer inside a section that it had entered when the grace period
 *   began, then a full barrier again.  This is deliberately weaker than
 *   the Linux-kernel memory model, whose RCU axiom also orders accesses
 *   that precede rcu_exit() in program order (including the ring
 *   load) against the grace period; so the -DNO_RMB counterexample shows
 *   that, under our conservative reading of RCU, the proof rests on the
 *   acquire fence in dev_may_have_bounced(), which the ADD shape needs anyway.
 */

#define IDX   0
#define FLAG  1
#define RING  2
#define NLOC  3
#define ADDR  5

byte mem[NLOC];          /* values visible to P1                       */
byte pv[NLOC];           /* value of P0's pending store                */
bit  pd[NLOC];           /* 1 while P0's store to l has not propagated */
byte rs;                 /* P1's read-side state: 0 before, 1 in, 2 after */

inline store(l, x) {
	atomic { assert(!pd[l]); pv[l] = x; pd[l] = 1 }
}

/* Full barrier for P0 (it has no loads): its earlier stores are visible. */
inline full_barrier() {
	(!pd[IDX] && !pd[FLAG] && !pd[RING])
}

#define PROPAGATE(l)  :: atomic { pd[l] -> mem[l] = pv[l]; pd[l] = 0 }

active proctype memory()
{
end:	do
	PROPAGATE(IDX)
	PROPAGATE(RING)		/* FLAG is never stored in this shape */
	od
}

init {
	/* pool published and device flag set before the threads start */
	atomic {
		mem[IDX] = 1;
		mem[FLAG] = 1;
		run shrinker();
		run unmapper()
	}
}

proctype shrinker()	/* P0 */
{
	byte pre;

	store(IDX, 0);		/* _swiotlb_lookup_del(): tombstone       */
#ifndef NO_GP
	/* grace period (_swiotlb_rcu_synchronize()) */
	full_barrier();
	pre = rs;		/* is P1 inside a section right now?      */
#ifdef REACH_WAIT
	assert(pre != 1);
#endif
	(pre != 1 || rs == 2);	/* wait for that pre-existing reader      */
	full_barrier();
#endif
	/* provider frees the memory; it is reused and mapped directly */
	store(RING, ADDR)	/* caller: relaxed store into its ring    */
}

#ifdef NO_RMB
#define AFTER_FENCE  1
#else
#define AFTER_FENCE  dr		/* acquire fence: ring load comes first */
#endif

proctype unmapper()	/* P1 */
{
	byte r, f, e;
	bit dr, df, de;

	do
	:: atomic { !dr -> r = mem[RING]; dr = 1 }
	:: rs == 0 -> rs = 1				/* rcu_enter()       */
	:: atomic { rs == 1 && !df && AFTER_FENCE -> f = mem[FLAG]; df = 1 }
	:: atomic { rs == 1 && !de && AFTER_FENCE -> e = mem[IDX]; de = 1 }
	:: rs == 1 && df && de -> rs = 2		/* rcu_exit()        */
	:: rs == 2 && dr -> break
	od;
#ifdef REACH
	assert(r != ADDR);
#endif
	assert(r != ADDR || e == 0)
}
