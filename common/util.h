/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swiotlb_common: the helpers that tests, tools and the benchmark share.
 * Not part of the library and not installed; link the static library
 * `swiotlb_common` (common/CMakeLists.txt) and include "util.h".
 *
 *   Checks      CHECK, CHECK_EQ, CHECK_OK, CHECK_MEM, CHECK_PAT: on failure
 *               print file:line, the expression and the values; exit(1).
 *   Sanitizers  UTIL_TSAN / UTIL_ASAN (1 when built with that sanitizer);
 *               util_fence_release/acquire: a C11 fence pair that TSan
 *               also sees.
 *   Time        util_now_ns (monotonic), util_thread_cpu_ns, util_sleep_*.
 *   Random      util_rand (xorshift64*), util_rand_range, util_rand_seed.
 *   Patterns    util_pat, util_fill, util_verify: byte i of pattern `seed`,
 *               and where a buffer first differs from it.  util_hash:
 *               FNV-1a of a buffer.
 *   Sizes       util_parse_size: "4096", "0x1000", "64K", "1MiB", "2GB";
 *               strict (garbage, sign, empty and overflow are refused).
 *   Provider    struct util_prov: wraps another provider (the default
 *               mmap one unless told otherwise), counts allocations and
 *               frees, remembers every live range, can fail on demand.
 *   Statistics  util_mem_stats, util_dev_stats: the stats, or exit(1).
 *   Usage       util_usage_exit: a command-line error, the usage, exit(2).
 *
 * Every function is thread-safe except where its comment says otherwise
 * (the RNG state and util_prov_init/fini belong to their caller).
 */
#ifndef SWIOTLB_COMMON_UTIL_H
#define SWIOTLB_COMMON_UTIL_H

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "swiotlb.h"

/* ---- checks ------------------------------------------------------------ */

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
	exit(1); } } while (0)

#define CHECK_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
	if (_a != _b) { fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld != %lld)\n", \
		__FILE__, __LINE__, #a, #b, _a, _b); exit(1); } } while (0)

#define CHECK_OK(expr) CHECK_EQ((expr), 0)

/* The n bytes at a and b are equal. */
#define CHECK_MEM(a, b, n) util_check_mem(__FILE__, __LINE__, (a), (b), (n))

/* The n bytes at p hold pattern seed (util_fill). */
#define CHECK_PAT(p, n, seed) util_check_pat(__FILE__, __LINE__, (p), (n), (seed))

void util_check_mem(const char *file, int line, const void *a, const void *b, size_t n);
void util_check_pat(const char *file, int line, const void *p, size_t n, uint64_t seed);

/* ---- sanitizers -------------------------------------------------------- */

#if defined(__has_feature)
#define UTIL_HAS_FEATURE(x) __has_feature(x)
#else
#define UTIL_HAS_FEATURE(x) 0
#endif

#if defined(__SANITIZE_THREAD__) || UTIL_HAS_FEATURE(thread_sanitizer)
#define UTIL_TSAN 1
#else
#define UTIL_TSAN 0
#endif

#if defined(__SANITIZE_ADDRESS__) || UTIL_HAS_FEATURE(address_sanitizer)
#define UTIL_ASAN 1
#else
#define UTIL_ASAN 0
#endif

/*
 * TSan does not model atomic_thread_fence, so handing plain memory over
 * with a fence pair would be reported as a race.  These issue the C11
 * fence (what the code relies on) and tell TSan about the same edge
 * through sync_obj (the address of what is handed over).  Use them in
 * pairs: util_fence_release() before the relaxed store that publishes,
 * util_fence_acquire() after the relaxed load that observes it.
 */
void util_fence_release(void *sync_obj);
void util_fence_acquire(void *sync_obj);

/* ---- time -------------------------------------------------------------- */

uint64_t util_now_ns(void);        /* CLOCK_MONOTONIC */
uint64_t util_thread_cpu_ns(void); /* CPU time of the calling thread */
void util_sleep_ns(uint64_t ns);   /* restarts after signals */
void util_sleep_us(unsigned us);
void util_sleep_ms(unsigned ms);
void util_sleep_s(double s);       /* s <= 0: returns at once */

/* ---- random numbers ---------------------------------------------------- */

/* xorshift64*.  *state must not be 0 (util_rand_seed() never returns 0);
 * one state per thread. */
uint64_t util_rand(uint64_t *state);
/* In [lo, hi]; hi when the range is empty (hi < lo). */
uint64_t util_rand_range(uint64_t *state, uint64_t lo, uint64_t hi);
/* A non-zero state made from any seed (0 included). */
uint64_t util_rand_seed(uint64_t seed);

/* ---- byte patterns ----------------------------------------------------- */

/* Byte i of pattern seed: differs between seeds and between neighbouring
 * bytes, the same on every call.  Each aligned 8 bytes are one 64-bit
 * hash of (seed, i / 8), so filling and checking cost one hash per word. */
static inline uint64_t util_pat_word(uint64_t seed, size_t word)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + (uint64_t)word * 0xBF58476D1CE4E5B9ull;

	x ^= x >> 29;
	x *= 0x94D049BB133111EBull;
	x ^= x >> 32;
	return x;
}

static inline uint8_t util_pat(uint64_t seed, size_t i)
{
	return (uint8_t)(util_pat_word(seed, i / 8) >> (i % 8 * 8));
}

void util_fill(void *p, size_t n, uint64_t seed);
/* Index of the first byte that is not pattern seed, or n if all are. */
size_t util_verify(const void *p, size_t n, uint64_t seed);
/* FNV-1a hash of n bytes. */
uint64_t util_hash(const void *p, size_t n);

/* ---- sizes ------------------------------------------------------------- */

/*
 * Parse an unsigned size: decimal, 0x hex or 0 octal digits, then at most
 * one suffix, in any case: B (bytes), or K, M, G (times 2^10, 2^20,
 * 2^30) optionally followed by B or iB.  Returns 0 and sets *out, or -EINVAL (empty,
 * sign, garbage, bad suffix) or -ERANGE (more than 64 bits); *out is left
 * alone on error.
 */
int util_parse_size(const char *s, uint64_t *out);

/* ---- counting provider ------------------------------------------------- */

/*
 * A provider that forwards to `inner` and records every live allocation,
 * so that a test can ask "is this range still held by the library?" and
 * "was everything given back?".  Callbacks run on any thread (the growth
 * thread, liburcu's call_rcu thread), hence the mutex.  Counters are
 * relaxed atomics: read them after joining the threads that change them.
 *
 *   struct util_prov up;
 *   util_prov_init(&up, NULL);          // wraps swiotlb_provider_mmap(0)
 *   mc.provider = &up.p;
 *   ... swiotlb_mem_destroy(mem);
 *   CHECK_EQ(util_prov_nlive(&up), 0);
 *   util_prov_fini(&up);
 *
 * free() of a range alloc() did not hand out (or handed out and freed
 * already) prints a message and exits 1.
 */
struct util_range {
	void *cpu;
	swiotlb_addr_t addr;
	size_t len;
};

struct util_prov {
	struct swiotlb_provider p;  /* give &p to swiotlb_mem_config */
	const struct swiotlb_provider *inner;
	pthread_mutex_t lock;
	struct util_range *live;    /* under lock */
	size_t nlive, cap;          /* under lock */
	atomic_uint_fast64_t allocs, frees, alloc_fail, bytes_live, bytes_peak;
	atomic_int fail_next;       /* > 0: fail that many allocs with -ENOMEM */
	atomic_uintptr_t last_freed_cpu; /* the last range freed */
	atomic_size_t last_freed_len;
};

/* inner NULL: the default anonymous-mmap provider.  Exits 1 on failure. */
void util_prov_init(struct util_prov *up, const struct swiotlb_provider *inner);
/* After every memory using it is destroyed. */
void util_prov_fini(struct util_prov *up);
/* [addr, addr + len) lies inside one live allocation. */
bool util_prov_holds(struct util_prov *up, swiotlb_addr_t addr, size_t len);
/* Length of the live allocation that contains addr, 0 if none. */
size_t util_prov_len_at(struct util_prov *up, swiotlb_addr_t addr);
size_t util_prov_nlive(struct util_prov *up);
/* A malloc'd copy of the live ranges (*n of them); NULL if out of memory. */
struct util_range *util_prov_ranges(struct util_prov *up, size_t *n);

/* ---- statistics -------------------------------------------------------- */

/* The memory's / device's statistics; exit(1) if the call fails.  The
 * struct is filled with 0xa5 first, so a field the library does not write
 * shows. */
struct swiotlb_stats util_mem_stats(const struct swiotlb_mem *mem);
struct swiotlb_dev_stats util_dev_stats(const struct swiotlb_dev *dev);

/* ---- command lines ----------------------------------------------------- */

/* Print "prog: message", a blank line and usage(stderr), then exit(2):
 *   #define bad_usage(...) util_usage_exit(prog, usage, __VA_ARGS__) */
__attribute__((format(printf, 3, 4)))
_Noreturn void util_usage_exit(const char *prog, void (*usage)(FILE *f), const char *fmt, ...);

#endif
