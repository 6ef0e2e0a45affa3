/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-memory logging state (log.c; the prototypes of log.c are here and in
 * internal.h): the level, the destination of the
 * default logger, and a rate limiter in the spirit of the kernel's
 * printk_ratelimit: at most 'burst' lines per 'interval_ns', then one line
 * saying how many were suppressed.  Set up from the configuration and the
 * SWIOTLB_LOG environment variable (read once, at swiotlb_mem_create()).
 */
#ifndef SWIOTLB_LOG_H
#define SWIOTLB_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "swiotlb.h"

#define LOG_LEVEL_OFF 0 /* below SWIOTLB_LOG_ERR: nothing passes */
#define LOG_DEFAULT_BURST 10
#define LOG_DEFAULT_INTERVAL_MS 5000

struct log_state {
	bool ready;     /* set up by log_state_init() */
	int level;      /* print lvl <= level (syslog order) */
	FILE *out;      /* default logger's sink (fn == NULL) */
	bool own_out;   /* out was opened by us: closed at fini */
	unsigned burst; /* 0: no rate limit */
	uint64_t interval_ns;
	_Atomic uint64_t window_start; /* ns (CLOCK_MONOTONIC) */
	_Atomic unsigned printed;      /* lines in the current window */
	_Atomic uint64_t suppressed;   /* lines dropped, not yet reported */
};

/* Set up @ls from SWIOTLB_LOG (or the defaults when it is unset).
 * Complaints about SWIOTLB_LOG go to stderr. */
void _swiotlb_log_init(struct log_state *ls);
struct swiotlb_mem;
/* Report what is still suppressed, close a log file we opened (at the
 * memory's destruction, and when its creation fails). */
void _swiotlb_log_fini(struct swiotlb_mem *mem);

#endif /* SWIOTLB_LOG_H */
