/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the stress tests share beyond common/util.h: duration knobs read
 * from the environment, a one-line dump of the statistics, and a quiet
 * log callback.
 *
 * Rules the stress tests follow so that ThreadSanitizer has nothing to say
 * about the tests themselves: every variable shared between threads is a
 * C11 atomic (or is protected by a pthread mutex, which TSan understands);
 * plain memory (original buffers) changes hands only through a documented
 * fence pair that is also annotated for TSan (util_fence_release/acquire).
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
#include <unistd.h>

#include "swiotlb.h"
#include "util.h" /* common/: checks, time, RNG, patterns, counting provider */

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
