/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * run_cache.pml -- the steal protocol of the per-thread run caches
 * (src/runcache.c, docs/ORDERING.md barrier 9): the owner of a cache
 * pushes and pops runs without a lock; a thief (a failing map, a
 * MAY_BLOCK waiter, a thread exit, a device destroy, fork) takes them
 * back under tc_lock.  Neither takes a run the other is taking, and a
 * waiter never sleeps for good while a run sits in a cache.
 *
 * Code this model mirrors (libswiotlb):
 *   The cache belongs to O and holds at most the one run of this model
 *   (ghost `where').  At the start O holds it as a live
 *   mapping (where = MAPPED_O).
 *   O, owner: unmap_to_cache() (src/unmap.c) then
 *     _swiotlb_runcache_push(): cache_enter()
 *                                          -> store BUSY = 1; B1;
 *                                             load STEAL, NW
 *       shut out (STEAL != NONE or NW != 0): the DONE -> NONE
 *       compare-and-swap, busy = 0 (release), the run freed under the
 *       area lock, and a wake-up when nwaiters says so (run_free())
 *                                          -> CAS STEAL DONE->NONE;
 *                                             release BUSY = 0; where = FREE;
 *                                             load NW; wake
 *       else heads[n++] = h, cache_exit() (busy = 0, release)
 *                                          -> where = CACHED; store N = 1;
 *                                             release BUSY = 0
 *     then (not with WAITER) a map of the same shape: map_cached(),
 *     _swiotlb_runcache_map(): cache_enter() again, take heads[n - 1]
 *                                          -> load N; BUSY = 1; B1;
 *                                             load STEAL; where = MAPPED_O;
 *                                             store N = 0; release BUSY = 0
 *   T, thief: _swiotlb_runcache_drain_locked() under tc_lock: shut_all()
 *     (steal = BUSY, heavy_barrier(), cache_wait_out(): wait until
 *     busy == 0, acquire), cache_empty() (run_free() of heads[0..n)),
 *     open_all() (steal = DONE, release)
 *                                          -> store STEAL = BUSY; B2;
 *                                             await BUSY == 0; load N;
 *                                             where = FREE (or T's); store N = 0;
 *                                             release STEAL = DONE
 *     With WAITER, T is a MAY_BLOCK waiter (_swiotlb_waitq_wait(),
 *     src/wait.c): enqueue() (nwaiters++), F1 in retry_unlocked(), then
 *     map_retry(): the area (locked: wait.c's argument, here one atomic
 *     look at the ghost), then _swiotlb_devcount_drain(always) as above,
 *     then the area again; asleep (pthread_cond_timedwait() under
 *     q->lock) until woken.
 *
 * Invariants:
 *   - the run is taken out of the cache by one thread only: the owner's
 *     pop and the thief's give-back each assert where == CACHED as they
 *     take it (property 1 of issue 10's run cache: no double allocation);
 *   - with WAITER: T never sleeps for good (spin's `timeout') while the
 *     run is free or sits in O's cache (no lost wake-up).
 *
 * Switches (steal shape: a failing map as the thief):
 *   -DNO_B1    no fence after O's busy = 1 (cache_enter()); must FAIL:
 *              store buffering, O reads steal NONE while T reads busy 0,
 *              both take the run
 *   -DNO_B2    no fence after T's steal = BUSY (heavy_barrier(), i.e. no
 *              membarrier); must FAIL the same way
 *   -DREACH    non-vacuity: assert that T never takes a cached run (must
 *              FAIL)
 *   -DREACH_SHUT  non-vacuity: assert that O is never shut out of its
 *              pop (must FAIL)
 * Switches (waiter shape):
 *   -DWAITER         T is a MAY_BLOCK waiter; O only pushes (must hold)
 *   -DWAITER_NO_B1   WAITER without B1; must FAIL: O misses nwaiters and
 *                    steal and parks the run, T misses busy and the run
 *                    and sleeps for good
 *   -DWAITER_NO_B2   WAITER without B2; must HOLD: the waiter's F1 (after
 *                    its nwaiters increment, wait.c) stands in for B2 in
 *                    the store buffering on (nwaiters, busy)
 *   -DWAITER_REACH   non-vacuity: assert that T is never woken from its
 *                    sleep (must FAIL)
 *
 * Weak-memory modelling as in wait_slots.pml: store buffers.  Each
 * thread's store stays pending (per thread and location) until the
 * process `memory' makes it visible, in any order; a thread reads its
 * own pending store, others read memory; loads run in program order.  A
 * fence (B1, B2, F1; seq_cst fences in the model-check build, a compiler
 * barrier plus membarrier in the real one) waits until the thread's
 * pending stores are visible.  A release store waits the same way
 * before it is buffered.  The compare-and-swap is atomic on memory after
 * the thread's buffer drains.  q->wakeups is only touched under
 * q->lock, so it is an ordinary variable and the waiter's "check
 * wakeups, then sleep" is atomic.
 */

#ifdef WAITER_NO_B1
#define WAITER
#define NO_B1
#endif
#ifdef WAITER_NO_B2
#define WAITER
#define NO_B2
#endif
#ifdef WAITER_REACH
#define WAITER
#endif

#define O     0
#define T     1
#define NT    2

#define BUSY  0
#define STEAL 1
#define N     2
#define NW    3
#define NLOC  4

#define NONE  0		/* enum cache_steal */
#define SBUSY 1
#define DONE  2

#define FREE     0	/* ghost: where the run is */
#define MAPPED_O 1
#define CACHED   2
#define MAPPED_T 3

#define AT(t, l)  ((t) * NLOC + (l))

byte mem[NLOC];
byte pv[NT * NLOC];
bit  pd[NT * NLOC];
byte where = MAPPED_O;	/* ghost: where the run is */
byte wakeups;
bit  odone;

inline store(t, l, x) {
	atomic { !pd[AT(t, l)] -> pv[AT(t, l)] = x; pd[AT(t, l)] = 1 }
}

inline load(t, l, reg) {
	atomic { if :: pd[AT(t, l)] -> reg = pv[AT(t, l)] :: else -> reg = mem[l] fi }
}

/* a full fence: the thread's earlier stores are visible */
inline fence(t) {
	(!pd[AT(t, BUSY)] && !pd[AT(t, STEAL)] && !pd[AT(t, N)] && !pd[AT(t, NW)])
}

inline release_store(t, l, x) {
	fence(t);
	store(t, l, x)
}

#define PROPAGATE(t, l) \
	:: atomic { pd[AT(t, l)] -> mem[l] = pv[AT(t, l)]; pd[AT(t, l)] = 0 }

proctype memory()
{
end:	do
	PROPAGATE(O, BUSY) PROPAGATE(O, STEAL) PROPAGATE(O, N) PROPAGATE(O, NW)
	PROPAGATE(T, BUSY) PROPAGATE(T, STEAL) PROPAGATE(T, N) PROPAGATE(T, NW)
	od
}

/* cache_enter(): ok = 1 when O may use its cache */
inline cache_enter(ok) {
	store(O, BUSY, 1);
#ifndef NO_B1
	fence(O);			/* B1 */
#endif
	load(O, STEAL, s);
	load(O, NW, nw);
	if
	:: s != NONE || nw != 0 ->
		atomic {		/* compare-and-swap DONE -> NONE */
			fence(O);
			if
			:: mem[STEAL] == DONE -> mem[STEAL] = NONE
			:: else
			fi
		};
		release_store(O, BUSY, 0);
		ok = 0
	:: else -> ok = 1
	fi
}

proctype owner()		/* O */
{
	byte s, nw, n;
	bit ok;

	/* _swiotlb_runcache_push() of the run O just claimed */
	cache_enter(ok);
	if
	:: ok ->
		atomic { assert(where == MAPPED_O); where = CACHED };
		store(O, N, 1);			/* heads[0] = h; n = 1 */
		release_store(O, BUSY, 0)	/* cache_exit() */
	:: else ->				/* run_free(), area lock */
		atomic { assert(where == MAPPED_O); where = FREE };
		load(O, NW, n);
		if
		:: n != 0 -> wakeups++		/* _swiotlb_waitq_wake() */
		:: else
		fi;
		goto done
	fi;
#ifndef WAITER
	/* _swiotlb_runcache_map(): the next map of the same shape */
	load(O, N, n);
	if
	:: n == 0 -> goto done
	:: else
	fi;
	cache_enter(ok);
	if
	:: !ok ->
#ifdef REACH_SHUT
		assert(0);
#endif
		goto done			/* maps elsewhere */
	:: else
	fi;
	load(O, N, n);
	if
	:: n == 1 ->
		atomic { assert(where == CACHED); where = MAPPED_O };
		store(O, N, 0)
	:: else
	fi;
	release_store(O, BUSY, 0);		/* cache_exit() */
#endif
done:	odone = 1
}

/* _swiotlb_runcache_drain_locked() (tc_lock held): got = 1 when the
 * cached run came back, to T's map */
inline drain(got) {
	store(T, STEAL, SBUSY);			/* shut_all() */
#ifndef NO_B2
	fence(T);				/* B2: heavy_barrier() */
#endif
	(mem[BUSY] == 0);			/* cache_wait_out(), acquire */
	load(T, N, n);
	if
	:: n == 1 ->				/* cache_empty() */
#ifdef REACH
		assert(0);
#endif
		atomic { assert(where == CACHED); where = MAPPED_T };
		store(T, N, 0);
		got = 1
	:: else
	fi;
	release_store(T, STEAL, DONE)		/* open_all() */
}

/* the area, locked: take the run if it is free */
inline area_try(got) {
	atomic {
		if
		:: where == FREE -> where = MAPPED_T; got = 1
		:: else
		fi
	}
}

proctype thief()		/* T */
{
	byte n, seen;
	bit got;

#ifndef WAITER
	/* a map that found no room: _swiotlb_devcount_drain(mem, false) */
	drain(got)
#else
	store(T, NW, 1);			/* enqueue(): nwaiters++ */
	seen = wakeups;
	fence(T);				/* F1: retry_unlocked() */
retry:
	area_try(got);
	if
	:: got -> goto out
	:: else
	fi;
	drain(got);
	if
	:: got -> goto out
	:: else
	fi;
	area_try(got);
	if
	:: got -> goto out
	:: else
	fi;
	atomic {				/* under q->lock */
		if
		:: wakeups != seen -> seen = wakeups; goto retry	/* missed */
		:: else			/* pthread_cond_timedwait() */
		fi
	};
	if
	:: wakeups != seen ->			/* woken */
#ifdef WAITER_REACH
		assert(0);
#endif
		seen = wakeups;
		goto retry
	:: timeout ->				/* nobody will wake T */
		assert(!(odone && (where == FREE || where == CACHED)))
	fi;
out:	skip
#endif
}

init {
	atomic {
		run memory();
		run owner();
		run thief()
	}
}
