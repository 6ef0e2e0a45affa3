/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Time: a monotonic clock for wait statistics and shrink idleness, and
 * absolute deadlines for timed condition waits.  Under SWIOTLB_MODEL_CHECK
 * both come from the harness's model_now_ns().
 */
#ifndef SWIOTLB_CLOCK_H
#define SWIOTLB_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC 1000000000u
#define NSEC_PER_MSEC 1000000u

#ifdef SWIOTLB_MODEL_CHECK
#include "model_env.h"

static inline uint64_t now_ns(void)
{
	return model_now_ns();
}

static inline void clock_now(clockid_t clock, struct timespec *ts)
{
	uint64_t ns = model_now_ns();

	(void)clock;
	ts->tv_sec = (time_t)(ns / NSEC_PER_SEC);
	ts->tv_nsec = (long)(ns % NSEC_PER_SEC);
}
#else
static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static inline void clock_now(clockid_t clock, struct timespec *ts)
{
	clock_gettime(clock, ts);
}
#endif

/* *ts = now (on clock) + ms: an absolute deadline for a timed wait. */
static inline void deadline_after_ms(clockid_t clock, unsigned ms, struct timespec *ts)
{
	clock_now(clock, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * NSEC_PER_MSEC;
	if (ts->tv_nsec >= (long)NSEC_PER_SEC) {
		ts->tv_sec++;
		ts->tv_nsec -= NSEC_PER_SEC;
	}
}

#endif /* SWIOTLB_CLOCK_H */
