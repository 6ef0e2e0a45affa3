/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swiotlb-bench driver: what its files share.
 *
 *   main.c        options and dispatch, the JSON header
 *   timing.c      TSC and clocks, CPU pinning, spin-waiting
 *   samples.c     latency samples, percentiles, medians
 *   json.c        the JSON writer and the machine description
 *   cmd_map.c     map/unmap throughput and latency (default command)
 *   cmd_lookup.c  address lookup: is_bounce next to its peers (--lookup)
 *   cmd_growth.c  dynamic growth under a ramp of live mappings (--growth)
 *
 * The backends (libswiotlb and its peers) are declared in bench.h.
 */
#ifndef SWIOTLB_BENCH_DRIVER_H
#define SWIOTLB_BENCH_DRIVER_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#endif

#include "util.h" /* common/: clocks, sleeping, RNG, size parsing */

#define BATCH 64                /* operations between two clock reads */
#define SAMPLE_MASK 15          /* sample one call in 16 */
#define MAX_SAMPLES (1u << 19)  /* per thread and kind */
#define RING 64                 /* --cross ring entries */
#define MAX_LIST 16             /* entries of a comma list option */

/* ---- options (main.c) ---- */

struct opts {
	int threads[MAX_LIST];
	int nthreads;
	size_t sizes[MAX_LIST];
	int nsizes;
	unsigned lpools[MAX_LIST];
	int nlpools;
	double seconds;
	double warmup;
	int dir;
	uint64_t delay_ns;
	int runs;
	size_t pool_size;
	bool pool_size_set;
	unsigned pools;
	bool dynamic, cross, compare, lookup, growth, quiet, strict;
	const char *json;
	const char *peers;
	/* --frag (cmd_frag.c) */
	bool frag;
	const char *frag_mixes;  /* --mix: comma list; NULL = all */
	const char *frag_trace;  /* --trace: kernel trace CSV (.gz ok) */
	unsigned frag_pct[MAX_LIST]; /* --occupancy: target percents */
	int nfrag_pct;
	uint64_t frag_ops;       /* --frag-ops: measured operations per run */
	uint64_t frag_warmup;    /* --frag-warmup: operations before; 0 = frag_ops */
	uint64_t frag_seed;      /* --seed */
	unsigned segment_slots;  /* --segment-slots: the memory's segment */
};

extern struct opts opts;

/* ---- time and CPUs (timing.c) ---- */

extern double tsc_ns_per_cycle;

static inline uint64_t cycles(void)
{
#ifdef HAVE_TSC
	return __rdtsc();
#else
	return util_now_ns();
#endif
}

static inline void cpu_relax(void)
{
#ifdef HAVE_TSC
	_mm_pause();
#endif
}

/* Measure tsc_ns_per_cycle against CLOCK_MONOTONIC (50 ms). */
void calibrate_tsc(void);
/* Busy-wait c cycles (the simulated transfer). */
void spin_cycles(uint64_t c);
/* Spin-wait step: pause, and give the CPU away now and then (more threads
 * than CPUs must not spin a whole time slice). */
void ring_wait(unsigned *spins);
/* Learn the CPUs this process may run on. */
void init_cpus(void);
/* Pin the calling thread to the slot-th allowed CPU (mod their number). */
int pin_self(int slot);

/* ---- samples and percentiles (samples.c) ---- */

struct lat {
	double avg, sd, p50, p99, p999; /* ns */
	uint64_t n;
};

/* Latency samples of one thread, in TSC cycles. */
struct samples {
	uint32_t *v;
	size_t n, cap;
};

void samples_init(struct samples *s, size_t cap); /* aborts without memory */
void samples_free(struct samples *s);

static inline void sample_add(struct samples *s, uint64_t c)
{
	if (s->n < s->cap)
		s->v[s->n++] = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
}

/* Average, deviation and percentiles (ns) of n threads' samples together. */
struct lat lat_merge(const struct samples *s, int n);
/* Median of the first n (at most 64) values. */
double median(const double *v, int n);

/* ---- JSON (json.c) ---- */

struct jw {
	FILE *f;
	int depth;
	int count[32];
};

void jw_open(struct jw *w, const char *key, char c); /* '{' or '[' */
void jw_close(struct jw *w, char c);
void jw_num(struct jw *w, const char *key, double v);  /* null if not finite */
void jw_u64(struct jw *w, const char *key, uint64_t v);
void jw_bool(struct jw *w, const char *key, bool v);
void jw_str(struct jw *w, const char *key, const char *s);
void jw_lat(struct jw *w, const char *key, const struct lat *l);
/* "date" and "machine": CPU model, kernel, compiler, load. */
void jw_machine(struct jw *w);

/* ---- commands: each prints its results, adds them to w (if not NULL)
 * and returns 0, or 1 when a check failed (errors, wrong answers) ---- */

int cmd_map(struct jw *w);
int cmd_lookup(struct jw *w);
int cmd_growth(struct jw *w);
int cmd_frag(struct jw *w);

#endif
