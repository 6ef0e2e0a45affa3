/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rebuild.pml -- TABLE REBUILD of the lookup index (docs/ORDERING.md
 * barrier 1, the table half): a writer replaces the table by a fresh one
 * while a reader looks up an address of a live pool; the new table is
 * published with a store-release after its buckets are filled, and
 * loaded with acquire, so the reader finds the pool in whichever table
 * it reads.
 *
 * Code this model mirrors (src/lookup.c, C11 atomics):
 *   Pool Q = [2, 4) is live and in the old table t1 (published long ago).
 *   W (writer, table_rebuild() under the writer lock, called from
 *     _swiotlb_lookup_add() when the table is too full or from
 *     _swiotlb_lookup_del() when tombstones pile up)
 *     - table_new(): a zeroed table t2 (calloc)
 *     - table_insert(t2, Q): bucket copy stored relaxed, then the
 *       store-release of the bucket's pool pointer
 *                              -> store S = 2, E = 4; release fence; store PTR = Q
 *     - atomic_store_explicit(&lk->table, t2, memory_order_release)
 *                              -> release fence; store TBL = 2
 *     - the old table to the limbo (freed after a grace period: not
 *       modelled, see delete.pml)
 *   R (reader, _swiotlb_lookup_find() for an address A of Q)
 *     - t = atomic_load_explicit(&lk->table, memory_order_acquire)
 *                              -> t = TBL
 *     - the probe of t: load-acquire of the bucket's pool pointer, then
 *       its range copy      -> p = PTR; s = S; e = E  (when t is t2)
 *       (t1's bucket is complete and nobody writes it)
 *
 * Invariant: R finds Q.
 *
 * Switches (each must make spin report an assertion violation):
 *   -DNO_TABLE_RELEASE  lk->table stored relaxed: R may see t2 before
 *                       its bucket and find nothing
 *   -DNO_TABLE_ACQUIRE  lk->table loaded relaxed: R's loads of t2's
 *                       bucket may be satisfied before its load of the
 *                       pointer (C11 gives relaxed loads no dependency
 *                       ordering; most hardware would keep this one, by
 *                       the address dependency, but the code does not
 *                       rely on that)
 *   -DREACH             non-vacuity: assert that R never reads t2
 *
 * Weak-memory modelling: as in add.pml (one writer, one reader: one
 * memory; W's stores pending per location, propagated in any order; a
 * release fence, or the fence half of a store-release, blocks W until
 * its earlier stores are visible; R's loads in any order except as its
 * load-acquires constrain them; R performs the loads of t2's bucket
 * whichever table it reads, and uses them only if it read t2).
 */

#define S     0
#define E     1
#define PTR   2
#define TBL   3
#define NLOC  4

#define NIL   0
#define Q     1
#define T1    0          /* lk->table: the old table ... */
#define T2    2          /* ... or the new one           */

#define Q_START 2
#define Q_END   4
#define A       3        /* R's address, in Q */

byte mem[NLOC];
byte pv[NLOC];
bit  pd[NLOC];

inline store(l, x) {
	atomic { assert(!pd[l]); pv[l] = x; pd[l] = 1 }
}

inline release_fence() {
	(!pd[S] && !pd[E] && !pd[PTR] && !pd[TBL])
}

#define PROPAGATE(l)  :: atomic { pd[l] -> mem[l] = pv[l]; pd[l] = 0 }

active proctype memory()
{
end:	do
	PROPAGATE(S)
	PROPAGATE(E)
	PROPAGATE(PTR)
	PROPAGATE(TBL)
	od
}

active proctype writer()	/* W: table_rebuild() */
{
	store(S, Q_START);	/* table_insert(t2, Q): the copy ... */
	store(E, Q_END);
	release_fence();	/* ... store-release of b->pool      */
	store(PTR, Q);
#ifndef NO_TABLE_RELEASE
	release_fence();	/* store-release of lk->table ...    */
#endif
	store(TBL, T2)		/* ...                               */
}

#define IN(a, s, e)  ((((a) - (s)) & 255) < (((e) - (s)) & 255))

#ifdef NO_TABLE_ACQUIRE
#define AFTER_TBL  1
#else
#define AFTER_TBL  dt
#endif

active proctype reader()	/* R: _swiotlb_lookup_find(lk, A, NULL) */
{
	byte t, p, s, e, res;
	bit dt, dp, ds, de;

	do
	:: atomic { !dt -> t = mem[TBL]; dt = 1 }
	:: atomic { !dp && AFTER_TBL -> p = mem[PTR]; dp = 1 }
	:: atomic { !ds && dp -> s = mem[S]; ds = 1 }	/* after the   */
	:: atomic { !de && dp -> e = mem[E]; de = 1 }	/* load-acquire */
	:: dt && dp && ds && de -> break
	od;
#ifdef REACH
	assert(t != T2);
#endif
	if
	:: t == T1 -> res = Q		/* t1's bucket: complete */
	:: t == T2 && p != NIL && IN(A, s, e) -> res = p
	:: else -> res = NIL		/* empty bucket: not found */
	fi;
	assert(res == Q)
}
