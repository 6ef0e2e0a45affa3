/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared parts of swiotlb-replay: options, the trace loaded in memory,
 * CPU pinning, the kernel's slot count of a mapping, and the sizing
 * advisor (replay-sizing.c).
 */
#ifndef SWIOTLB_REPLAY_H
#define SWIOTLB_REPLAY_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "swiotlb.h"

/* Exit status (documented in --help and docs/SIZING.md). */
enum {
	EXIT_OK = 0,
	EXIT_CHECK_FAILED = 1,  /* a correctness check failed (data, offset, ...) */
	EXIT_USAGE = 2,         /* bad option or unreadable / malformed input */
	EXIT_SHORTFALL = 3,     /* --pool-size too small: maps failed for lack of slots */
	EXIT_NO_LIFETIMES = 4,  /* only swiotlb_bounced lines: histogram, no sizing */
	EXIT_SKIPPED = 77,      /* --skip-missing and the trace does not exist */
};

/* The placement that strict_cursor reproduces (report header, docs). */
#define KERNEL_PLACEMENT \
	"the slot search of Linux v6.9+ (swiotlb_area_find_slots); v6.6-v6.8 place the " \
	"same when a device has a min_align_mask and no alloc_align_mask (e.g. NVMe)"

#define MAX_AREAS 8
#define MAX_DEVS 256

extern const char *prog;

/* segment sizes the advisor can size for in one run */
#define MAX_SEG_SIZES 4

struct opts {
	const char *trace;
	size_t pool_size;
	unsigned areas;
	bool areas_given;
	uint64_t limit;        /* events; 0 = all */
	bool quiet;
	int pin;               /* -1 auto, 0 off, 1 on */
	const char *json;      /* NULL = none, "-" = stdout, else a file */
	uint64_t pool_base;    /* device address given to the pool */
	uint32_t min_align;
	bool hot_cursor;       /* check replay: library default cursor */
	bool skip_missing;
	bool no_check, no_sizing;
	size_t start_size;     /* dynamic sizing: initial pool */
	size_t max_size;       /* dynamic sizing: cap, 0 = none */
	uint64_t ram;          /* CoCo default for this RAM size; 0 = not asked */
	size_t search_max;     /* largest static pool the search tries */
	unsigned seg_slots[MAX_SEG_SIZES]; /* segment sizes the advisor sizes for */
	unsigned nseg;
};

enum op { OP_MAP, OP_UNMAP, OP_SYNC_CPU, OP_SYNC_DEV, OP_MAP_FAILED, OP_BOUNCED };

struct event {
	uint64_t line;
	uint64_t orig, tlb, size, align_mask, seq;
	int64_t used[MAX_AREAS];
	int cpu;
	enum op op;
	int dir;
	unsigned attrs;
	uint16_t dev;          /* index into trace.devs */
	bool in_unmap;
	bool has_used;
};

struct trace {
	struct event *ev;
	size_t n, cap;
	char *devs[MAX_DEVS];
	unsigned ndevs;
	int nused;             /* areaN_used columns */
	uint64_t bad_rows;
	uint64_t counts[OP_BOUNCED + 1];
	uint64_t max_size;     /* largest map */
	int max_cpu;
};

/* Load TRACE (CSV, .gz through gzip) up to limit events.  Returns 0, or
 * -1 after printing why. */
int trace_load(const char *path, uint64_t limit, struct trace *t);
void trace_free(struct trace *t);

struct cpus {
	int n;
	int id[CPU_SETSIZE];
	int pinned;            /* index into id, or -1 */
	bool pin;
};

void cpus_init(struct cpus *c, int want);
void cpus_pin(struct cpus *c, int trace_cpu);

/* Slots a map takes by the kernel's rules; *pad = padding slots. */
unsigned map_slots(uint32_t min_align, uint64_t orig, uint64_t size, uint64_t align_mask,
		   unsigned *pad);

/* Kernel placement-independent load of the trace: peak live mappings,
 * slots and bytes (slots by map_slots()). */
struct load {
	uint64_t peak_live, peak_slots, peak_bytes;
};
void trace_load_peaks(const struct trace *t, uint32_t min_align, struct load *l);

/* ---- sizing advisor (replay-sizing.c) ---- */

struct static_size {
	unsigned seg_slots;
	bool strict;
	bool found;            /* false: even search_max failed */
	bool exhaustive;       /* every size from the lower bound was tried */
	size_t lower_bound;    /* peak live slots rounded up: no smaller pool can work */
	size_t size;           /* smallest size that served every map */
};

struct dyn_size {
	bool strict;
	size_t start_size, max_size;
	uint64_t peak_pool_bytes, peak_pools, grows, growth_failures;
	uint64_t transient_created, peak_transient_live, failed_maps;
	uint64_t growth_waits, growth_wait_timeouts;
};

struct coco_size {
	uint64_t ram;
	uint64_t pct6, clamped, size;
	bool covers;
	uint64_t failed_maps;
};

struct sizing {
	unsigned areas;
	struct load load;
	unsigned nstatic;
	struct static_size st[2 * MAX_SEG_SIZES];
	struct dyn_size dyn[2];
	bool have_coco;
	struct coco_size coco;
	unsigned runs;
	bool pinned;
	uint64_t kernel_failed;  /* map_failed rows: not sized (no lifetime) */
	double secs;
};

/* Run the advisor over a loaded trace.  Returns 0, or -1 on a library or
 * memory error (printed). */
int sizing_run(const struct opts *o, const struct trace *t, struct sizing *s);
void sizing_print(FILE *f, const struct opts *o, const struct sizing *s);
void sizing_json(FILE *f, const struct sizing *s);

/* swiotlb_bounced-only traces: size histogram per device. */
void histogram_print(FILE *f, const struct trace *t);
void histogram_json(FILE *f, const struct trace *t);

/* Kernel CoCo default pool size for a RAM size (see replay-sizing.c). */
void coco_default(uint64_t ram, struct coco_size *c);

void json_str(FILE *f, const char *s);
double now_s(void);

#endif /* SWIOTLB_REPLAY_H */
