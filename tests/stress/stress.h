/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the stress tests: clocks, a per-thread PRNG, byte
 * patterns, environment knobs, ThreadSanitizer annotations for the tests'
 * own fences, and a counting provider that wraps the default mmap provider.
 *
 * Rules the stress tests follow so that ThreadSanitizer has nothing to say
 * about the tests themselves: every variable shared between threads is a
 * C11 atomic (or is protected by a pthread mutex, which TSan understands);
 * plain memory (original buffers) changes hands only through a documented
 * fence pair that is also annotated for TSan (stress_fence_release/acquire).
 */
#ifndef SWIOTLB_TESTS_STRESS_H
#define SWIOTLB_TESTS_STRESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "swiotlb.h"
#include "../check.h"

/* ---- ThreadSanitizer ------------------------------------------------- */
#if defined(__SANITIZE_THREAD__)
#define STRESS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STRESS_TSAN 1
#endif
#endif
#ifndef STRESS_TSAN
#define STRESS_TSAN 0
#endif
#if defined(__SANITIZE_ADDRESS__)
#define STRESS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STRESS_ASAN 1
#endif
#endif
#ifndef STRESS_ASAN
#define STRESS_ASAN 0
#endif

#if STRESS_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#endif

/*
 * TSan does not model atomic_thread_fence, so a fence-based hand-off of
 * plain memory would be reported as a race.  These wrappers issue the real
 * C11 fence (what the code relies on under the C11 model) and tell TSan
 * about the same happens-before edge through a sync object (the address of
 * whatever is handed over).  They must be used in matched pairs: a release
 * before the relaxed store that publishes, an acquire after the relaxed load
 * that observes it.
 */
#if STRESS_TSAN && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
/* gcc warns that TSan does not model the fence; the annotation above is
 * what TSan sees, the fence is kept for the C11 semantics. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#define STRESS_TSAN_GCC_PRAGMA 1
#endif
static inline void stress_fence_release(void *sync_obj)
{
#if STRESS_TSAN
	__tsan_release(sync_obj);
#else
	(void)sync_obj;
#endif
	/* pairs with the acquire fence in stress_fence_acquire(), issued by the
	 * thread that observes the relaxed store following this one */
	atomic_thread_fence(memory_order_release);
}

static inline void stress_fence_acquire(void *sync_obj)
{
	/* pairs with the release fence in stress_fence_release(), issued by the
	 * thread whose relaxed store the preceding load observed */
	atomic_thread_fence(memory_order_acquire);
#if STRESS_TSAN
	__tsan_acquire(sync_obj);
#else
	(void)sync_obj;
#endif
}
#ifdef STRESS_TSAN_GCC_PRAGMA
#pragma GCC diagnostic pop
#endif

/* ---- time ------------------------------------------------------------ */
static inline uint64_t stress_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void stress_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static inline void stress_sleep_us(unsigned us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- knobs ----------------------------------------------------------- */
/* SWIOTLB_STRESS_SCALE (default 1.0) multiplies durations and iteration
 * counts; CI may use e.g. 0.3 for a quick run or 5 for a soak. */
static inline double stress_scale(void)
{
	const char *s = getenv("SWIOTLB_STRESS_SCALE");
	double v = s ? strtod(s, NULL) : 1.0;
	if (!(v > 0.0))
		v = 1.0;
	return v;
}

static inline long stress_env_long(const char *name, long def)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return def;
	return strtol(s, NULL, 0);
}

/* ---- PRNG and patterns ----------------------------------------------- */
static inline uint64_t stress_rand(uint64_t *s)
{
	/* xorshift64* */
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static inline uint64_t stress_rand_range(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + stress_rand(s) % (hi - lo + 1);
}

/* Byte i of pattern (seed): distinct per seed and per position. */
static inline uint8_t stress_pat(uint64_t seed, size_t i)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + (uint64_t)(i >> 3) * 0xBF58476D1CE4E5B9ull;
	x ^= x >> 31;
	return (uint8_t)(x >> ((i & 7) * 8));
}

static inline void stress_fill(void *p, size_t len, uint64_t seed)
{
	uint8_t *b = p;
	for (size_t i = 0; i < len; i++)
		b[i] = stress_pat(seed, i);
}

/* Index of the first byte that differs from the pattern, or len. */
static inline size_t stress_verify(const void *p, size_t len, uint64_t seed)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i++)
		if (b[i] != stress_pat(seed, i))
			return i;
	return len;
}

/* ---- counting provider ------------------------------------------------ */
/*
 * Wraps the default anonymous-mmap provider and records every live
 * allocation so a test can ask "is this range still held by the library?"
 * and "was everything given back?".  Called from any thread (including the
 * library's growth thread and liburcu's call_rcu thread), hence the mutex.
 */
#define STRESS_PROV_MAX 4096
struct stress_prov {
	struct swiotlb_provider p;
	const struct swiotlb_provider *inner;
	pthread_mutex_t lock;
	struct { void *cpu; swiotlb_addr_t addr; size_t len; } live[STRESS_PROV_MAX];
	unsigned nlive;
	atomic_uint_fast64_t allocs, frees, alloc_fail, bytes_live, bytes_peak;
	atomic_int fail_next; /* > 0: fail that many allocs with -ENOMEM */
	/* last freed range (for "memory reused as a plain buffer" checks) */
	atomic_uintptr_t last_freed_cpu;
	atomic_size_t last_freed_len;
};

static int stress_prov_alloc(void *ctx, size_t len, size_t align, swiotlb_addr_t limit,
			     void **cpu, swiotlb_addr_t *addr)
{
	struct stress_prov *sp = ctx;
	/* fail_next is a test knob and alloc_fail a statistic: relaxed.  The
	 * knob reaches the library's grow thread through its grow_lock. */
	if (atomic_load_explicit(&sp->fail_next, memory_order_relaxed) > 0) {
		atomic_fetch_sub_explicit(&sp->fail_next, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&sp->alloc_fail, 1, memory_order_relaxed);
		return -ENOMEM;
	}
	int r = sp->inner->alloc(sp->inner->ctx, len, align, limit, cpu, addr);
	if (r != 0) {
		atomic_fetch_add_explicit(&sp->alloc_fail, 1, memory_order_relaxed);
		return r;
	}
	pthread_mutex_lock(&sp->lock);
	CHECK(sp->nlive < STRESS_PROV_MAX);
	sp->live[sp->nlive].cpu = *cpu;
	sp->live[sp->nlive].addr = *addr;
	sp->live[sp->nlive].len = len;
	sp->nlive++;
	/* statistics: relaxed (the peak update is serialised by sp->lock;
	 * tests read them after joining the threads that change them) */
	uint64_t b = atomic_fetch_add_explicit(&sp->bytes_live, len, memory_order_relaxed) + len;
	if (b > atomic_load_explicit(&sp->bytes_peak, memory_order_relaxed))
		atomic_store_explicit(&sp->bytes_peak, b, memory_order_relaxed);
	pthread_mutex_unlock(&sp->lock);
	atomic_fetch_add_explicit(&sp->allocs, 1, memory_order_relaxed);
	return 0;
}

static void stress_prov_free(void *ctx, void *cpu, swiotlb_addr_t addr, size_t len)
{
	struct stress_prov *sp = ctx;
	bool found = false;
	pthread_mutex_lock(&sp->lock);
	for (unsigned i = 0; i < sp->nlive; i++) {
		if (sp->live[i].cpu == cpu && sp->live[i].addr == addr && sp->live[i].len == len) {
			sp->live[i] = sp->live[--sp->nlive];
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&sp->lock);
	if (!found) {
		fprintf(stderr, "stress provider: free(%p, 0x%" PRIx64 ", %zu) of something "
			"alloc() did not return (or freed twice)\n", cpu, addr, len);
		exit(1);
	}
	atomic_fetch_sub_explicit(&sp->bytes_live, len, memory_order_relaxed); /* statistic */
	atomic_store_explicit(&sp->last_freed_cpu, (uintptr_t)cpu, memory_order_relaxed);
	atomic_store_explicit(&sp->last_freed_len, len, memory_order_relaxed);
	sp->inner->free(sp->inner->ctx, cpu, addr, len);
	atomic_fetch_add_explicit(&sp->frees, 1, memory_order_relaxed); /* statistic */
}

static inline void stress_prov_init(struct stress_prov *sp)
{
	memset(sp, 0, sizeof(*sp));
	pthread_mutex_init(&sp->lock, NULL);
	sp->inner = swiotlb_provider_mmap(0);
	CHECK(sp->inner != NULL);
	sp->p.version = SWIOTLB_PROVIDER_VERSION;
	sp->p.name = "stress-counting";
	sp->p.ctx = sp;
	sp->p.alloc = stress_prov_alloc;
	sp->p.free = stress_prov_free;
}

/* True when [addr, addr+len) lies inside one live provider allocation. */
static inline bool stress_prov_holds(struct stress_prov *sp, swiotlb_addr_t addr, size_t len)
{
	bool r = false;
	pthread_mutex_lock(&sp->lock);
	for (unsigned i = 0; i < sp->nlive; i++)
		if (addr >= sp->live[i].addr && addr + len <= sp->live[i].addr + sp->live[i].len)
			r = true;
	pthread_mutex_unlock(&sp->lock);
	return r;
}

/* Length of the live provider allocation containing addr, 0 if none. */
static inline size_t stress_prov_len_at(struct stress_prov *sp, swiotlb_addr_t addr)
{
	size_t r = 0;
	pthread_mutex_lock(&sp->lock);
	for (unsigned i = 0; i < sp->nlive; i++)
		if (addr >= sp->live[i].addr && addr < sp->live[i].addr + sp->live[i].len)
			r = sp->live[i].len;
	pthread_mutex_unlock(&sp->lock);
	return r;
}

static inline unsigned stress_prov_nlive(struct stress_prov *sp)
{
	pthread_mutex_lock(&sp->lock);
	unsigned n = sp->nlive;
	pthread_mutex_unlock(&sp->lock);
	return n;
}

static inline struct swiotlb_stats stress_stats(struct swiotlb_mem *mem)
{
	struct swiotlb_stats st;
	CHECK_OK(swiotlb_mem_stats(mem, &st));
	return st;
}

static inline struct swiotlb_dev_stats stress_dev_stats(struct swiotlb_dev *dev)
{
	struct swiotlb_dev_stats st;
	CHECK_OK(swiotlb_dev_stats(dev, &st));
	return st;
}

static inline void stress_print_stats(const char *tag, const struct swiotlb_stats *st)
{
	printf("%s: total_slots=%" PRIu64 " used=%" PRIu64 " hiwater=%" PRIu64
	       " mappings=%" PRIu64 " maps=%" PRIu64 " failed=%" PRIu64
	       " pools=%" PRIu64 " grown=%" PRIu64 " grows=%" PRIu64
	       " growth_failures=%" PRIu64 " shrinks=%" PRIu64
	       " transient_live=%" PRIu64 " transient_created=%" PRIu64
	       " transient_slots=%" PRIu64 " pool_bytes=%" PRIu64
	       " waits=%" PRIu64 " wait_ns=%" PRIu64 " wait_timeouts=%" PRIu64
	       " coherent=%" PRIu64 "\n",
	       tag, st->total_slots, st->used_slots, st->hiwater_slots, st->mappings,
	       st->maps, st->failed_maps, st->pools, st->grown_pools, st->grows,
	       st->growth_failures, st->shrinks, st->transient_pools,
	       st->transient_created, st->transient_slots, st->pool_bytes,
	       st->waits, st->wait_ns, st->wait_timeouts, st->coherent_allocs);
	fflush(stdout);
}

/* Quiet log callback: counts lines, prints nothing (the stress tests hit
 * "buffer is full" on purpose).  SWIOTLB_STRESS_VERBOSE=1 prints them. */
static atomic_uint_fast64_t stress_log_lines;
static inline void stress_log(void *ctx, enum swiotlb_log_level level, const char *msg)
{
	(void)ctx;
	atomic_fetch_add_explicit(&stress_log_lines, 1, memory_order_relaxed); /* counter */
	if (stress_env_long("SWIOTLB_STRESS_VERBOSE", 0))
		fprintf(stderr, "[log %d] %s\n", (int)level, msg);
}

#endif
