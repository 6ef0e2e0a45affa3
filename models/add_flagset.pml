/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * add_flagset.pml -- ADD shape on the flag-already-set path: the device
 * has bounced before, so map_publish_flag() skips the store of the flag,
 * but it still runs the release fence, and that fence alone must order
 * this map's new pool, its lookup entry and the bounce data before the
 * caller's hand-off of the address.
 *
 * Code this model mirrors (libswiotlb, C11 atomics):
 *   Initially dev->head.bounced is 1 and visible to every thread (an
 *   earlier map set it, long ago).
 *   P0 (mapper, map_transient() in src/map.c)
 *     - _swiotlb_transient_create(): the pool is built privately
 *                                                  -> store DESC = 1
 *     - map_copy_in(): the caller's bytes copied into the bounce slots
 *                                                  -> store DATA = 1
 *     - _swiotlb_transient_publish() -> _swiotlb_lookup_add() ->
 *       table_insert() (src/lookup.c): store-release of the bucket's pool
 *       pointer                                    -> release fence; store IDX = 1
 *     - map_publish_flag() (src/map.c): ld_relaxed(&dev->head.bounced)
 *       reads 1, so no store; then
 *       atomic_thread_fence(memory_order_release)  -> f0 = FLAG; release fence
 *     - the caller hands the address over with a relaxed store
 *                                                  -> store RING = ADDR
 *   P1 (unmapper / sync)
 *     - the caller loads the address relaxed       -> r = RING
 *     - dev_may_have_bounced() (src/internal.h): acquire fence, relaxed
 *       load of dev->head.bounced                  -> acquire fence; f = FLAG
 *     - _swiotlb_lookup_find(): load-acquire of the bucket's pool pointer
 *                                                  -> e = IDX
 *       the pool descriptor and the bounce bytes through it
 *                                                  -> d = DESC, b = DATA (after e)
 *
 * Invariant: r == ADDR  implies  f && e && d && b.
 *
 * Switches (each must make spin report an assertion violation):
 *   -DNO_WMB    remove the release fence in map_publish_flag(): P1 finds
 *               the flag set (it always is) but misses the new entry or
 *               reads the descriptor or the bytes before they arrive
 *   -DNO_RMB    remove the acquire fence in dev_may_have_bounced()
 *   -DREACH     non-vacuity: assert that P1 never reads r == ADDR
 *   -DREACH_SKIP non-vacuity: assert that P0 never takes the skip (never
 *               reads the flag as set); must FAIL, so the as-written run
 *               really is the flag-already-set path
 *
 * Weak-memory modelling: as in add.pml (one writer, one reader, so one
 * memory, P1's view; P0's stores pending per location and propagated in
 * any order by `memory'; a release fence blocks P0 until its earlier
 * stores are visible; P1's loads in any order except as its acquire fence
 * and load-acquire constrain them).  P0 reads the flag from the same
 * memory: it is set from the start.
 */

#define DESC  0
#define DATA  1
#define IDX   2
#define FLAG  3
#define RING  4
#define NLOC  5
#define ADDR  5

byte mem[NLOC];
byte pv[NLOC];
bit  pd[NLOC];

inline store(l, x) {
	atomic { assert(!pd[l]); pv[l] = x; pd[l] = 1 }
}

inline release_fence() {
	(!pd[DESC] && !pd[DATA] && !pd[IDX] && !pd[FLAG] && !pd[RING])
}

#define PROPAGATE(l)  :: atomic { pd[l] -> mem[l] = pv[l]; pd[l] = 0 }

proctype memory()
{
end:	do
	PROPAGATE(DESC)
	PROPAGATE(DATA)
	PROPAGATE(IDX)
	PROPAGATE(FLAG)
	PROPAGATE(RING)
	od
}

proctype mapper()	/* P0 */
{
	byte f0;

	store(DESC, 1);		/* _swiotlb_transient_create()            */
	store(DATA, 1);		/* map_copy_in(): memcpy into the slots   */
	release_fence();	/* table_insert(): store-release ...      */
	store(IDX, 1);		/* ... of the bucket's pool pointer       */
	f0 = mem[FLAG];		/* map_publish_flag(): ld_relaxed(bounced) */
#ifdef REACH_SKIP
	assert(f0 == 0);
#endif
	if
	:: f0 == 0 -> store(FLAG, 1)	/* not taken: set long ago     */
	:: else -> skip			/* the flag-already-set path   */
	fi;
#ifndef NO_WMB
	release_fence();	/* map_publish_flag(): the map-path fence */
#endif
	store(RING, ADDR)	/* caller: relaxed store into its ring    */
}

#ifdef NO_RMB
#define AFTER_FENCE  1
#else
#define AFTER_FENCE  dr
#endif

proctype unmapper()	/* P1 */
{
	byte r, f, e, d, b;
	bit dr, df, de, dd, db;

	do
	:: atomic { !dr -> r = mem[RING]; dr = 1 }
	:: atomic { !df && AFTER_FENCE -> f = mem[FLAG]; df = 1 }
	:: atomic { !de && AFTER_FENCE -> e = mem[IDX]; de = 1 }
	:: atomic { !dd && de && AFTER_FENCE -> d = mem[DESC]; dd = 1 }
	:: atomic { !db && de && AFTER_FENCE -> b = mem[DATA]; db = 1 }
	:: dr && df && de && dd && db -> break
	od;
#ifdef REACH
	assert(r != ADDR);
#endif
	assert(r != ADDR || (f == 1 && e == 1 && d == 1 && b == 1))
}

init {
	atomic {
		mem[FLAG] = 1;	/* the device bounced before: visible to all */
		run memory();
		run mapper();
		run unmapper()
	}
}
