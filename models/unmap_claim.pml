/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * unmap_claim.pml -- THE UNMAP CLAIM (docs/ORDERING.md barrier 6): two
 * unmaps of one mapping race (a double unmap by the caller), and between
 * them another device maps on the same head slot.  With the validation
 * and the copy-back claim under the area lock, exactly one of the two
 * unmaps copies back and frees, it copies the first mapping's bytes only,
 * and the new mapping is never touched: its own unmap succeeds.
 *
 * Code this model mirrors (src/unmap.c):
 *   One head slot h of one area: state (FREE, MAPPED, UNMAPPING), dev,
 *   orig (the caller's buffer), and `gen', which mapping's bytes the
 *   bounce slots hold.  Initially device D's mapping (gen 1, buffer BUF_D)
 *   with copy-back (FROM_DEVICE).  Device E's mapping has the same
 *   address, size and direction (the worst case: only the device tells
 *   them apart).
 *   U1, U2: swiotlb_unmap(D, ...) -> unmap_bounce():
 *     - _swiotlb_mapping_find_head(): lock-free relaxed reads of state
 *       and dev                      -> st = state; dv = dev
 *     - spin_lock(&a->lock); _swiotlb_mapping_owned() (state MAPPED, dev,
 *       address, size, direction); orig read; state = SLOT_UNMAPPING;
 *       spin_unlock()                -> all under LOCK
 *     - memcpy(orig, bounce, size) with the lock dropped
 *                                    -> two steps, each reading gen
 *     - spin_lock(); _swiotlb_mapping_release_locked(): dev = NULL, the
 *       slots freed (state FREE); spin_unlock()
 *   E: device E maps (_swiotlb_area_find_slots(), under the lock): takes
 *     the head slot if it is free, then unmaps its own mapping the same
 *     way.
 *
 * Invariant (checked when all threads are done):
 *   - exactly one of U1, U2 returned 0;
 *   - no copy read bytes of a mapping other than the one whose buffer
 *     it wrote (BUF_D gets gen 1 only, BUF_E gen 2 only);
 *   - if E got the slot, E's unmap returned 0; the slot is FREE at the end.
 *
 * Switches:
 *   -DCAS_CLAIM   the old lock-free claim: find_head and the check of
 *                 address/size/direction without the lock, orig read,
 *                 compare-and-swap MAPPED -> UNMAPPING on the state alone,
 *                 copy, then release under the lock only if the slot is
 *                 still UNMAPPING and D's.  Must FAIL: U1 passes its
 *                 checks, U2 unmaps, E maps on the slot, U1's CAS succeeds
 *                 on E's mapping (ABA), copies E's bytes into D's buffer
 *                 and leaves E's mapping UNMAPPING (E's unmap fails).
 *   -DREACH       non-vacuity: assert that the under-lock validation never
 *                 finds E's mapping where D's was (must FAIL: the remap
 *                 between find_head and the lock is explored)
 *
 * Memory model: interleavings (sequential consistency).  The claim rests
 * on the area lock (barrier 8: its acquire/release orders the critical
 * sections and everything before and after them); the lock-free reads of
 * find_head are validated again under the lock, and each value they can
 * read is the initial one or one written by these threads, which the
 * interleavings already offer.  The lock is a test-and-set on LOCK.
 */

#define FREE       0
#define MAPPED     1
#define UNMAPPING  2

#define D      1
#define E      2
#define BUF_D  1
#define BUF_E  2

byte state = MAPPED;	/* D's mapping, live */
byte dev = D;
byte orig = BUF_D;
byte gen = 1;
bit  lock;

byte okD;		/* D unmaps that returned 0 */
bit  okE;		/* E's unmap returned 0 */
bit  mappedE;		/* E got the head slot */
bit  badcopy;		/* a copy read another mapping's bytes */
byte done;

inline spin_lock()   { atomic { lock == 0 -> lock = 1 } }
inline spin_unlock() { lock = 0 }

/* memcpy(o, bounce, size) with the lock dropped: two halves, each reads
 * the bytes (gen) the slots hold at that moment. */
inline copy_back(o, want) {
	atomic { if :: gen != want -> badcopy = 1 :: else fi };
	atomic { if :: gen != want -> badcopy = 1 :: else fi }
}

#ifndef CAS_CLAIM
/* unmap_bounce() as written: validate and claim under the area lock */
inline unmap(me, want, ok) {
	byte st, dv, o;
	st = state;			/* find_head: lock-free */
	dv = dev;
	if
	:: st != MAPPED || dv != me -> goto out	/* -EINVAL */
	:: else
	fi;
	spin_lock();
#ifdef REACH
	assert(!(me == D && dev == E));
#endif
	if
	:: state != MAPPED || dev != me ->	/* _swiotlb_mapping_owned() */
		spin_unlock();
		goto out
	:: else
	fi;
	o = orig;
	state = UNMAPPING;			/* the claim */
	spin_unlock();
	copy_back(o, want);
	spin_lock();
	dev = 0;			/* _swiotlb_mapping_release_locked() */
	state = FREE;				/* slots freed */
	spin_unlock();
	ok++;
out:	skip
}
#else
/* the old code: lock-free checks and a CAS on the state alone */
inline unmap(me, want, ok) {
	byte st, dv, o;
	st = state;			/* find_head + mapping_is, lock-free */
	dv = dev;
	if
	:: st != MAPPED || dv != me -> goto out
	:: else
	fi;
	o = orig;
	atomic {			/* CAS MAPPED -> UNMAPPING */
		if
		:: state == MAPPED -> state = UNMAPPING
		:: else -> goto out
		fi
	};
	copy_back(o, want);
	spin_lock();			/* old _swiotlb_mapping_release() */
	if
	:: state == UNMAPPING && dev == me ->
		dev = 0;
		state = FREE;
		spin_unlock();
		ok++
	:: else ->
		spin_unlock()		/* -EINVAL, the slot left as is */
	fi;
out:	skip
}
#endif

active [2] proctype unmapD()	/* U1, U2: double unmap of D's mapping */
{
	unmap(D, 1, okD);
	done++
}

active proctype deviceE()	/* E maps on the same head slot, unmaps */
{
	spin_lock();
	if
	:: state == FREE ->
		state = MAPPED;
		dev = E;
		orig = BUF_E;
		gen = 2;		/* E's bytes in the slots */
		mappedE = 1
	:: else
	fi;
	spin_unlock();
	if
	:: mappedE -> unmap(E, 2, okE)
	:: else
	fi;
	done++
}

active proctype check()
{
	done == 3;
	assert(okD == 1);
	assert(!badcopy);
	assert(!mappedE || okE);
	assert(state == FREE)
}
