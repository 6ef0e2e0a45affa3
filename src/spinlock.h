/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Area lock: a test-and-test-and-set spinlock, like the kernel's per-area
 * spinlock.  Critical sections are short (a search bounded by the area and
 * a few stores), and an uncontended pthread mutex costs several times more
 * on the map/unmap path.  A waiter that spins long (the holder may have
 * been preempted) yields the CPU.
 *
 * Under SWIOTLB_MODEL_CHECK the lock is taken by a compare-and-swap after
 * a plain load loop, without pause or sched_yield: a failed attempt then
 * writes nothing, which a model checker needs to treat the wait as a
 * spin loop (and to check liveness, e.g. of MAY_BLOCK wake-ups) soundly.
 */
#ifndef SWIOTLB_SPINLOCK_H
#define SWIOTLB_SPINLOCK_H

#include <stdatomic.h>

#ifndef SWIOTLB_MODEL_CHECK
#include <sched.h>
#endif

/* Spins (with a pause each) before a waiter starts yielding the CPU. */
#define SPIN_BEFORE_YIELD 256

struct spinlock {
	_Atomic int locked; /* 0 free, 1 held */
};

static inline void spin_init(struct spinlock *l)
{
	atomic_init(&l->locked, 0);
}

#ifdef SWIOTLB_MODEL_CHECK
static inline void spin_wait(struct spinlock *l, unsigned *spins)
{
	(void)spins;
	while (atomic_load_explicit(&l->locked, memory_order_relaxed))
		;
}
#else
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* Wait until the lock looks free: relaxed loads, no cache-line bouncing. */
static inline void spin_wait(struct spinlock *l, unsigned *spins)
{
	while (atomic_load_explicit(&l->locked, memory_order_relaxed)) {
		if (++*spins < SPIN_BEFORE_YIELD)
			cpu_relax();
		else
			sched_yield();
	}
}
#endif

#ifdef SWIOTLB_MODEL_CHECK
static inline void spin_lock(struct spinlock *l)
{
	int free;

	do {
		spin_wait(l, NULL);
		free = 0;
		/* Pairs with the store-release in spin_unlock(), as below. */
	} while (!atomic_compare_exchange_strong_explicit(
		&l->locked, &free, 1, memory_order_acquire, memory_order_relaxed));
}
#else
static inline void spin_lock(struct spinlock *l)
{
	unsigned spins = 0;

	/* Pairs with the store-release in spin_unlock(): without it the
	 * critical section could read state from before the previous
	 * holder's writes. */
	while (atomic_exchange_explicit(&l->locked, 1, memory_order_acquire))
		spin_wait(l, &spins);
}
#endif

static inline void spin_unlock(struct spinlock *l)
{
	/* Pairs with the acquire exchange in spin_lock(): without it the
	 * next holder could miss this critical section's writes. */
	atomic_store_explicit(&l->locked, 0, memory_order_release);
}

#endif /* SWIOTLB_SPINLOCK_H */
