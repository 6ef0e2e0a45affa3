/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Short names for relaxed atomics, and the ThreadSanitizer annotations of
 * fences.
 *
 * Relaxed accesses are the common case in this library: counters, and
 * fields written under a lock but read without it (slot metadata, area
 * counters).  Every acquire, release and fence stays spelled out at its
 * call site, with a comment naming its pair (docs/ORDERING.md).
 */
#ifndef SWIOTLB_ATOMIC_H
#define SWIOTLB_ATOMIC_H

#include <stdatomic.h>
#include <stdint.h>

#define ld_relaxed(p) atomic_load_explicit((p), memory_order_relaxed)
#define st_relaxed(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#define add_relaxed(p, v) atomic_fetch_add_explicit((p), (v), memory_order_relaxed)
#define sub_relaxed(p, v) atomic_fetch_sub_explicit((p), (v), memory_order_relaxed)

/* A counter written by one thread at a time (under a lock): a plain load
 * and store, no read-modify-write; readers load it relaxed. */
#define add_locked(p, v) st_relaxed((p), ld_relaxed(p) + (v))

/* Statistics counters: any thread, any time. */
static inline void stat_add(_Atomic uint64_t *c, uint64_t v)
{
	add_relaxed(c, v);
}

static inline void stat_max(_Atomic uint64_t *c, uint64_t v)
{
	uint64_t cur = ld_relaxed(c);

	while (v > cur && !atomic_compare_exchange_weak_explicit(c, &cur, v, memory_order_relaxed,
								 memory_order_relaxed))
		;
}

/*
 * ThreadSanitizer does not model standalone fences, nor liburcu's grace
 * periods (liburcu is not instrumented).  Under TSan we tell it about the
 * happens-before edges those create; elsewhere these compile to nothing.
 */
#if defined(__SANITIZE_THREAD__)
#define SWIOTLB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SWIOTLB_TSAN 1
#endif
#endif
#ifdef SWIOTLB_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define tsan_acquire(p) __tsan_acquire((void *)(p))
#define tsan_release(p) __tsan_release((void *)(p))
#else
#define tsan_acquire(p) ((void)0)
#define tsan_release(p) ((void)0)
#endif

#endif /* SWIOTLB_ATOMIC_H */
