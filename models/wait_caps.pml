/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wait_caps.pml -- MAY_BLOCK wake-up for POOL MEMORY (docs/ORDERING.md
 * barrier 7, second half): a waiter whose retry found no room under
 * max_size (or max_pools), and a thread that gives pool memory back,
 * must not miss each other.  Neither side holds a common lock, so the
 * shape is store buffering, and it needs a seq_cst fence on both sides.
 *
 * Code this model mirrors (libswiotlb):
 *   pool_bytes is at the cap (BYTES = 1: no room for a transient pool);
 *   one MAY_BLOCK waiter W is the head of the wait queue; F releases a
 *   transient pool (after its grace period) and gives its bytes back.
 *   W: _swiotlb_waitq_wait() (src/wait.c)
 *     - enqueue() under q->lock: add_relaxed(&q->nwaiters, 1)
 *                                          -> store NW = 1
 *       seen = q->wakeups                  -> seen = wakeups
 *     - retry_unlocked(): q->lock dropped, F1:
 *       atomic_thread_fence(memory_order_seq_cst)      -> fence F1
 *       then map_retry() -> map_transient() -> the reserve of pool_bytes
 *       (pool_bytes_reserve(), src/pool.c) reads pool_bytes relaxed
 *                                          -> b = BYTES; reserve if room
 *     - under q->lock: missed = q->wakeups != seen (retry again), else
 *       pthread_cond_timedwait() until woken
 *   F: pool_caps_release() (src/pool.c)
 *     - sub_relaxed(&mem->stats.pool_bytes, len) -> store BYTES = 0
 *     - waitq_notify_caps() (src/internal.h): F2:
 *       atomic_thread_fence(memory_order_seq_cst)      -> fence F2
 *       ld_relaxed(&q->nwaiters); _swiotlb_waitq_wake() if non-zero
 *                                          -> n = NW; wakeups++ if n
 *
 * Invariant: W never sleeps for good (spin's `timeout') while there is
 * room.
 *
 * Switches (each must make spin report an assertion violation):
 *   -DNO_F1   remove F1 in retry_unlocked()
 *   -DNO_F2   remove F2 in waitq_notify_caps()
 *   -DREACH   non-vacuity: assert that W is never woken from its sleep
 *
 * Weak-memory modelling: store buffers, as in wait_slots.pml (each
 * thread's stores pending per location until `memory' makes them
 * visible; a thread reads its own pending store; loads in program
 * order).  A seq_cst fence waits until the thread's earlier stores are
 * visible: with both fences one of the two loads sees the other's store;
 * with either fence removed both may read the old values, which C11
 * allows (and x86-TSO too: a fence on one side only does not forbid
 * store buffering).  The read-modify-writes on nwaiters and pool_bytes
 * are relaxed: stores into the buffer (each location has one writer
 * here).  q->wakeups is only touched under q->lock, a mutex: an ordinary
 * variable, and "check wakeups, then sleep" is atomic.
 */

#define W     0
#define F     1
#define NT    2

#define BYTES 0
#define NW    1
#define NLOC  2

#define AT(t, l)  ((t) * NLOC + (l))

byte mem[NLOC];
byte pv[NT * NLOC];
bit  pd[NT * NLOC];
byte wakeups;
bit  fdone;

inline store(t, l, x) {
	atomic { assert(!pd[AT(t, l)]); pv[AT(t, l)] = x; pd[AT(t, l)] = 1 }
}

inline load(t, l, reg) {
	atomic { if :: pd[AT(t, l)] -> reg = pv[AT(t, l)] :: else -> reg = mem[l] fi }
}

/* seq_cst fence: the thread's earlier stores are visible first */
inline sc_fence(t) {
	(!pd[AT(t, BYTES)] && !pd[AT(t, NW)])
}

#define PROPAGATE(t, l) \
	:: atomic { pd[AT(t, l)] -> mem[l] = pv[AT(t, l)]; pd[AT(t, l)] = 0 }

proctype memory()
{
end:	do
	PROPAGATE(W, BYTES) PROPAGATE(W, NW)
	PROPAGATE(F, BYTES) PROPAGATE(F, NW)
	od
}

proctype waiter()	/* W */
{
	byte b, seen;
	bit got;

	store(W, NW, 1);		/* enqueue(): nwaiters++          */
	seen = wakeups;
retry:
#ifndef NO_F1
	sc_fence(W);			/* F1, retry_unlocked()           */
#endif
	load(W, BYTES, b);		/* pool_bytes_reserve(): room?    */
	if
	:: b == 0 -> store(W, BYTES, 1); got = 1; goto out
	:: else
	fi;
	atomic {			/* under q->lock */
		if
		:: wakeups != seen -> seen = wakeups; goto retry	/* missed */
		:: else			/* pthread_cond_timedwait() */
		fi
	};
	if
	:: wakeups != seen ->		/* woken */
#ifdef REACH
		assert(0);
#endif
		seen = wakeups;
		goto retry
	:: timeout ->			/* nobody will wake W */
		assert(!(fdone && mem[BYTES] == 0))
	fi;
out:	skip
}

proctype freer()	/* F: pool_caps_release() */
{
	byte n;

	store(F, BYTES, 0);		/* pool_bytes -= len              */
#ifndef NO_F2
	sc_fence(F);			/* F2, waitq_notify_caps()        */
#endif
	load(F, NW, n);
	if
	:: n != 0 -> wakeups++		/* _swiotlb_waitq_wake()          */
	:: else
	fi;
	fdone = 1
}

init {
	atomic {
		mem[BYTES] = 1;		/* pool_bytes at max_size */
		run memory();
		run waiter();
		run freer()
	}
}
