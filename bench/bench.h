/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swiotlb-bench: shared definitions for the driver and the peers.
 *
 * Every "map" backend (libswiotlb and its peers) does the same job: take a
 * device-reachable buffer of the size, copy the caller's buffer in (for
 * every direction, like swiotlb_map), and on unmap copy it back for
 * FROM_DEVICE/BIDIRECTIONAL and give the buffer back.
 */
#ifndef SWIOTLB_BENCH_H
#define SWIOTLB_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* What a backend is created with. */
struct peer_cfg {
	size_t region_size;  /* pool / region bytes */
	int nthreads;        /* threads that will call map/unmap */
	unsigned nareas;     /* areas of our pool (power of two) */
	bool dynamic;        /* libswiotlb: dynamic pools */
	unsigned pools;      /* libswiotlb: number of pools (>= 1) */
	bool strict_cursor;  /* libswiotlb: the kernel's forward-only cursor */
};

/*
 * A backend.  create() returns a context (NULL on failure, with a message
 * printed).  thread_init() is called on the benchmark thread itself after
 * it has been pinned; map()/unmap() get the per-thread context.  In --cross
 * mode a buffer mapped on one thread is unmapped on another one.
 */
struct peer {
	const char *name;
	const char *desc;
	void *(*create)(const struct peer_cfg *cfg);
	void *(*thread_init)(void *ctx, int tid, int cpu);
	int (*map)(void *tctx, void *cpu, size_t size, int dir, uint64_t *h);
	int (*unmap)(void *tctx, uint64_t h, void *cpu, size_t size, int dir);
	void (*thread_fini)(void *tctx);
	void (*destroy)(void *ctx);
};

extern const struct peer peer_swiotlb;
extern const struct peer peer_memcpy;
extern const struct peer peer_memcpy_hot;
extern const struct peer peer_jemalloc;
extern const struct peer peer_jemalloc_notcache;
extern const struct peer peer_firstfit;

/* Directions (same values as enum swiotlb_dir). */
#define BENCH_BIDIRECTIONAL 0
#define BENCH_TO_DEVICE 1
#define BENCH_FROM_DEVICE 2

static inline bool bench_copies_back(int dir)
{
	return dir == BENCH_FROM_DEVICE || dir == BENCH_BIDIRECTIONAL;
}

/* Anonymous region, pre-faulted (so no peer pays page faults while
 * measured).  Aborts on failure. */
void *bench_region_alloc(size_t len);
void bench_region_free(void *p, size_t len);

/* Areas as libswiotlb computes its default: online CPUs rounded up to a
 * power of two, clamped so that an area holds >= 128 slots. */
unsigned bench_default_nareas(size_t region_size);

/* ---- address lookup peers (bench/peers/lookup.c) ---- */
struct bench_range {
	uint64_t start, end; /* [start, end) */
};

struct lookup_linear;  /* the kernel's list walk */
struct lookup_linear *lookup_linear_create(const struct bench_range *r, size_t n);
bool lookup_linear_find(const struct lookup_linear *l, uint64_t addr);
void lookup_linear_destroy(struct lookup_linear *l);

struct lookup_critnib; /* libcritnib find_le keyed by pool start */
struct lookup_critnib *lookup_critnib_create(const struct bench_range *r, size_t n);
bool lookup_critnib_find(const struct lookup_critnib *l, uint64_t addr);
void lookup_critnib_destroy(struct lookup_critnib *l);

#endif
