/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wait_slots.pml -- MAY_BLOCK wake-up for SLOTS (docs/ORDERING.md barrier
 * 7, first half): a waiter whose retry found the area full, and a thread
 * that frees a slot of that area, must not miss each other (the waiter
 * asleep while a slot is free and nobody left to wake it).
 *
 * Code this model mirrors (libswiotlb):
 *   The area has one slot, taken (used = 1); one MAY_BLOCK waiter W is the
 *   head of the wait queue; F unmaps the mapping that holds the slot.
 *   W: _swiotlb_waitq_wait() (src/wait.c)
 *     - enqueue() under q->lock: add_relaxed(&q->nwaiters, 1)
 *                                          -> store NW = 1
 *       seen = q->wakeups                  -> seen = wakeups
 *     - retry_unlocked(): q->lock dropped, then map_retry() (src/map.c)
 *       with slot_req.waiting set, so _swiotlb_area_find_slots()
 *       (src/area.c) takes the area lock even for a full-looking area
 *                                          -> lock; u = USED; claim if 0; unlock
 *     - under q->lock: missed = q->wakeups != seen (retry again), else
 *       pthread_cond_timedwait() until woken (or the deadline: the lost
 *       wake-up this model looks for)
 *   F: unmap_bounce() (src/unmap.c)
 *     - spin_lock(&a->lock); _swiotlb_mapping_release_locked(): the slot
 *       freed, then ld_relaxed(&dev->mem->waitq.nwaiters) under the lock
 *                                          -> lock; store USED = 0; n = NW; unlock
 *     - _swiotlb_mapping_release_after(): _swiotlb_waitq_wake() if n
 *                                          -> wakeups++ (under q->lock)
 *
 * Invariant: W never sleeps for good (spin's `timeout': no thread can
 * move) while the slot is free.
 *
 * Switches:
 *   -DUNLOCKED_SKIP  the retry skips a full-looking area on an unlocked
 *                    relaxed read of `used' (the path that
 *                    slot_req.waiting turns off in
 *                    _swiotlb_area_find_slots()); must FAIL: store
 *                    buffering, W's read misses F's free while F's read
 *                    of nwaiters misses W's increment
 *   -DREACH          non-vacuity: assert that W is never woken from its
 *                    sleep (must FAIL: the sleep-and-wake path is explored)
 *
 * Weak-memory modelling: store buffers.  Each thread's store stays
 * pending (per thread and location) until the process `memory' makes it
 * visible, in any order; a thread reads its own pending store, others
 * read memory.  Loads run in program order (the store->load reordering
 * of the buffers is the one that matters here).  The area lock is a
 * test-and-set on memory (acquire: later loads read memory after it);
 * spin_unlock() is a release: it waits until the thread's earlier stores
 * are visible, then frees the lock.  q->wakeups is only touched under
 * q->lock, a mutex, so it is an ordinary (sequentially consistent)
 * variable; the waiter's "check wakeups, then sleep" is atomic, as
 * pthread_cond_timedwait() under q->lock makes it.  nwaiters' increment
 * is a relaxed read-modify-write: a store into W's buffer (W is the only
 * writer), which the q->lock unlock before the retry does not hold back
 * from the retry's loads.
 */

#define W     0
#define F     1
#define NT    2

#define USED  0
#define NW    1
#define NLOC  2

#define AT(t, l)  ((t) * NLOC + (l))

byte mem[NLOC];
byte pv[NT * NLOC];
bit  pd[NT * NLOC];
bit  lock;
byte wakeups;
bit  fdone;

inline store(t, l, x) {
	atomic { assert(!pd[AT(t, l)]); pv[AT(t, l)] = x; pd[AT(t, l)] = 1 }
}

inline load(t, l, reg) {
	atomic { if :: pd[AT(t, l)] -> reg = pv[AT(t, l)] :: else -> reg = mem[l] fi }
}

inline spin_lock(t) {
	atomic { lock == 0 -> lock = 1 }
}

/* release: earlier stores visible first */
inline spin_unlock(t) {
	atomic { !pd[AT(t, USED)] && !pd[AT(t, NW)] -> lock = 0 }
}

#define PROPAGATE(t, l) \
	:: atomic { pd[AT(t, l)] -> mem[l] = pv[AT(t, l)]; pd[AT(t, l)] = 0 }

proctype memory()
{
end:	do
	PROPAGATE(W, USED) PROPAGATE(W, NW)
	PROPAGATE(F, USED) PROPAGATE(F, NW)
	od
}

proctype waiter()	/* W */
{
	byte u, seen;
	bit got;

	store(W, NW, 1);		/* enqueue(): nwaiters++        */
	seen = wakeups;
retry:
#ifdef UNLOCKED_SKIP
	load(W, USED, u);		/* unlocked look at a full area */
	if
	:: u == 1 -> goto failed
	:: else
	fi;
#endif
	spin_lock(W);			/* _swiotlb_area_find_slots()   */
	load(W, USED, u);
	if
	:: u == 0 -> store(W, USED, 1); got = 1
	:: else
	fi;
	spin_unlock(W);
failed:
	if
	:: got -> goto out
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
		assert(!(fdone && mem[USED] == 0))
	fi;
out:	skip
}

proctype freer()		/* F */
{
	byte n;

	spin_lock(F);
	store(F, USED, 0);		/* slots freed under the lock   */
	load(F, NW, n);			/* nwaiters, under the lock     */
	spin_unlock(F);
	if
	:: n != 0 -> wakeups++		/* _swiotlb_waitq_wake()        */
	:: else
	fi;
	fdone = 1
}

init {
	atomic {
		mem[USED] = 1;	/* the slot is taken by F's mapping */
		run memory();
		run waiter();
		run freer()
	}
}
