// SPDX-License-Identifier: LGPL-2.1-or-later
/* swiotlb_common: helpers shared by tests, tools and the benchmark (util.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- checks ------------------------------------------------------------ */

void util_check_mem(const char *file, int line, const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i]) {
			fprintf(stderr, "%s:%d: memory differs at byte %zu of %zu (%02x != %02x)\n",
				file, line, i, n, x[i], y[i]);
			exit(1);
		}
	}
}

void util_check_pat(const char *file, int line, const void *p, size_t n, uint64_t seed)
{
	size_t i = util_verify(p, n, seed);

	if (i != n) {
		fprintf(stderr, "%s:%d: pattern %" PRIu64 " mismatch at byte %zu of %zu\n",
			file, line, seed, i, n);
		exit(1);
	}
}

/* ---- sanitizers -------------------------------------------------------- */

#if UTIL_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
/* gcc warns that TSan does not model the fence: the annotation is what
 * TSan sees, the fence is kept for the C11 semantics. */
#pragma GCC diagnostic ignored "-Wtsan"
#endif
#endif

void util_fence_release(void *sync_obj)
{
#if UTIL_TSAN
	__tsan_release(sync_obj);
#else
	(void)sync_obj;
#endif
	/* pairs with the acquire fence in util_fence_acquire(), issued by the
	 * thread that observes the relaxed store following this one */
	atomic_thread_fence(memory_order_release);
}

void util_fence_acquire(void *sync_obj)
{
	/* pairs with the release fence in util_fence_release(), issued by the
	 * thread whose relaxed store the preceding load observed */
	atomic_thread_fence(memory_order_acquire);
#if UTIL_TSAN
	__tsan_acquire(sync_obj);
#else
	(void)sync_obj;
#endif
}

/* ---- time -------------------------------------------------------------- */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t util_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t util_thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

void util_sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void util_sleep_us(unsigned us)
{
	util_sleep_ns((uint64_t)us * 1000);
}

void util_sleep_ms(unsigned ms)
{
	util_sleep_ns((uint64_t)ms * 1000000);
}

void util_sleep_s(double s)
{
	if (s > 0)
		util_sleep_ns((uint64_t)(s * 1e9));
}

/* ---- random numbers ---------------------------------------------------- */

uint64_t util_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

uint64_t util_rand_range(uint64_t *state, uint64_t lo, uint64_t hi)
{
	if (hi < lo)
		return hi;
	if (hi - lo == UINT64_MAX)
		return util_rand(state);
	return lo + util_rand(state) % (hi - lo + 1);
}

uint64_t util_rand_seed(uint64_t seed)
{
	/* splitmix64 finaliser: neighbouring seeds give unrelated states */
	uint64_t x = seed + 0x9E3779B97F4A7C15ull;

	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	x ^= x >> 31;
	return x ? x : 0x9E3779B97F4A7C15ull;
}

/* ---- byte patterns ----------------------------------------------------- */

void util_fill(void *p, size_t n, uint64_t seed)
{
	uint8_t *b = p;

	for (size_t w = 0; w * 8 < n; w++) {
		uint64_t x = util_pat_word(seed, w);

		for (size_t i = w * 8; i < n && i < w * 8 + 8; i++, x >>= 8)
			b[i] = (uint8_t)x;
	}
}

size_t util_verify(const void *p, size_t n, uint64_t seed)
{
	const uint8_t *b = p;

	for (size_t w = 0; w * 8 < n; w++) {
		uint64_t x = util_pat_word(seed, w);

		for (size_t i = w * 8; i < n && i < w * 8 + 8; i++, x >>= 8)
			if (b[i] != (uint8_t)x)
				return i;
	}
	return n;
}

uint64_t util_hash(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* ---- sizes ------------------------------------------------------------- */

static int suffix_shift(const char *s, unsigned *shift)
{
	*shift = 0;
	switch (*s) {
	case '\0': return 0;
	case 'b': case 'B': return s[1] ? -EINVAL : 0;
	case 'k': case 'K': *shift = 10; break;
	case 'm': case 'M': *shift = 20; break;
	case 'g': case 'G': *shift = 30; break;
	default: return -EINVAL;
	}
	s++;
	if (*s == '\0' || !strcasecmp(s, "B") || !strcasecmp(s, "iB"))
		return 0;
	return -EINVAL;
}

int util_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL; /* empty, sign, blank or garbage first */
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || suffix_shift(end, &shift))
		return -EINVAL;
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

/* ---- statistics -------------------------------------------------------- */

struct swiotlb_stats util_mem_stats(const struct swiotlb_mem *mem)
{
	struct swiotlb_stats st;

	memset(&st, 0xa5, sizeof(st));
	CHECK_OK(swiotlb_mem_stats(mem, &st));
	return st;
}

struct swiotlb_dev_stats util_dev_stats(const struct swiotlb_dev *dev)
{
	struct swiotlb_dev_stats st;

	memset(&st, 0xa5, sizeof(st));
	CHECK_OK(swiotlb_dev_stats(dev, &st));
	return st;
}

/* ---- command lines ----------------------------------------------------- */

void util_usage_exit(const char *prog, void (*usage)(FILE *f), const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	usage(stderr);
	exit(2);
}
