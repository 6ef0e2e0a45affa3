/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * probe.pml -- the BUCKET PROBE of the lookup index: a lookup walks its
 * probe sequence past a bucket that a writer is filling for an unrelated
 * pool.  The bucket's pool pointer is stored with release after the
 * bucket's copy of the pool's range and owner, and loaded with acquire,
 * so a reader that sees the pointer also sees the complete copy; a pool
 * pointer returned always covers the address per its published range.
 *
 * Code this model mirrors (src/lookup.c, C11 atomics):
 *   Buckets 0..2 of one table, all on the probe sequence of the reader's
 *   granule (pools sharing granules make such chains).  Bucket 0 holds
 *   the shared pool Q = [2, 4), published long ago; buckets 1 and 2 are
 *   empty (calloc'ed: pool NULL, range 0).
 *   W (writer, _swiotlb_lookup_add() -> table_insert(), writer lock held)
 *     - probe: bucket 0 is taken, bucket 1 is empty
 *     - st_relaxed(&b->start), (&b->end), (&b->owner) for pool P = [5, 7)
 *       owned by device 1 (a transient pool)
 *                                -> store S1 = 5, E1 = 7, O1 = 1
 *     - atomic_store_explicit(&b->pool, P, memory_order_release)
 *                                -> release fence; store P1 = P
 *   R (reader, _swiotlb_lookup_find() for device dev and address A, both
 *     chosen nondeterministically: A in Q, in P, below or above both)
 *     - for each bucket: p = atomic_load_explicit(&b->pool,
 *       memory_order_acquire); NULL: return NULL; TOMBSTONE: next;
 *       start = ld_relaxed(&b->start); match if
 *       addr - start < ld_relaxed(&b->end) - start (unsigned); then the
 *       owner check (NULL owner: shared; else it must be dev)
 *                                -> p1 = P1; s1 = S1; e1 = E1; o1 = O1
 *
 * Invariant: the pool returned (if any) covers A per its published range
 * and is shared or dev's own; and an address of Q is always found (Q).
 * Unsigned arithmetic is 8-bit here (& 255): a range copy seen half
 * written (start without end, or end without start) matches addresses
 * outside the pool, as with 64-bit addresses in the code.
 *
 * Switches (each must make spin report an assertion violation):
 *   -DNO_RELEASE  table_insert() stores the pool pointer relaxed
 *   -DNO_ACQUIRE  _swiotlb_lookup_find() loads the pool pointer relaxed
 *   -DREACH       non-vacuity: assert that the reader never sees P's
 *                 pointer in bucket 1 and probes past it (must FAIL)
 *
 * Weak-memory modelling: as in add.pml (one writer, one reader, so one
 * memory, the reader's view).  W's stores are pending per location until
 * `memory' makes them visible, in any order; a release fence blocks W
 * until its earlier stores are visible.  R performs its four loads of
 * bucket 1 in any order, each reading the memory of that moment; the
 * load-acquire of the pool pointer forces it before the loads of the
 * bucket's copy.  The loads of buckets 0 and 2 read values nobody writes
 * (Q's bucket, and an empty bucket W does not use), so they are not
 * modelled as loads.  R performs all four loads and then evaluates the
 * probe on them; a load the probe does not use changes nothing.
 */

#define S1    0
#define E1    1
#define O1    2
#define P1    3
#define NLOC  4

#define NIL   0          /* pool pointers */
#define Q     1
#define P     2

#define Q_START 2
#define Q_END   4
#define P_START 5
#define P_END   7
#define P_OWNER 1        /* device 1's transient pool; Q is shared (0) */

byte mem[NLOC];
byte pv[NLOC];
bit  pd[NLOC];

inline store(l, x) {
	atomic { assert(!pd[l]); pv[l] = x; pd[l] = 1 }
}

inline release_fence() {
	(!pd[S1] && !pd[E1] && !pd[O1] && !pd[P1])
}

#define PROPAGATE(l)  :: atomic { pd[l] -> mem[l] = pv[l]; pd[l] = 0 }

active proctype memory()
{
end:	do
	PROPAGATE(S1)
	PROPAGATE(E1)
	PROPAGATE(O1)
	PROPAGATE(P1)
	od
}

active proctype writer()	/* W: table_insert(t, P) */
{
	/* bucket 0 holds Q: skipped; bucket 1 is empty: ours */
	store(S1, P_START);
	store(E1, P_END);
	store(O1, P_OWNER);
#ifndef NO_RELEASE
	release_fence();	/* store-release of b->pool ... */
#endif
	store(P1, P)		/* ... */
}

/* addr - start < end - start, unsigned (8 bits) */
#define IN(a, s, e)  ((((a) - (s)) & 255) < (((e) - (s)) & 255))

#ifdef NO_ACQUIRE
#define AFTER_PTR  1
#else
#define AFTER_PTR  dp		/* load-acquire: pointer before the copy */
#endif

active proctype reader()	/* R: _swiotlb_lookup_find(lk, A, dev) */
{
	byte A, dev, res;
	byte p1, s1, e1, o1;
	bit dp, ds, de, dow, passed;

	if
	:: A = 1		/* below both pools (a direct address) */
	:: A = 3		/* in Q */
	:: A = 5		/* in P */
	:: A = 8		/* above both pools */
	fi;
	if
	:: dev = 1
	:: dev = 2
	fi;

	do
	:: atomic { !dp -> p1 = mem[P1]; dp = 1 }
	:: atomic { !ds && AFTER_PTR -> s1 = mem[S1]; ds = 1 }
	:: atomic { !de && AFTER_PTR -> e1 = mem[E1]; de = 1 }
	:: atomic { !dow && AFTER_PTR -> o1 = mem[O1]; dow = 1 }
	:: dp && ds && de && dow -> break
	od;

	/* the probe sequence: bucket 0, 1, 2 */
	if
	:: IN(A, Q_START, Q_END) -> res = Q	/* bucket 0: shared */
	:: else ->
		if
		:: p1 == NIL -> res = NIL		/* bucket 1 empty: stop */
		:: p1 != NIL && IN(A, s1, e1) ->
			if
			:: o1 == 0 || o1 == dev -> res = p1
			:: else -> res = NIL
			fi
		:: p1 != NIL && !IN(A, s1, e1) ->
			passed = 1;			/* probe past bucket 1 */
			res = NIL			/* bucket 2 empty: stop */
		fi
	fi;
#ifdef REACH
	assert(!passed);
#endif
	assert(res == NIL ||
	       (res == Q && IN(A, Q_START, Q_END)) ||
	       (res == P && IN(A, P_START, P_END) && dev == P_OWNER));
	assert(!IN(A, Q_START, Q_END) || res == Q)
}
