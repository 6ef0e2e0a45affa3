/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* swiotlb-bench: libswiotlb as a backend, plus helpers to build memories
 * with many pools and to learn their address ranges. */
#ifndef SWIOTLB_BENCH_BACKEND_H
#define SWIOTLB_BENCH_BACKEND_H

#include <swiotlb.h>

#include "bench.h"

/* A provider that wraps the default mmap provider and records the range of
 * every pool it hands out (grown and transient pools included), so that the
 * lookup peers can be given exactly the same ranges. */
struct rec_provider;
struct rec_provider *rec_provider_create(void);
const struct swiotlb_provider *rec_provider_get(struct rec_provider *rp);
/* Copy of the live ranges; *n is set.  Caller frees. */
struct bench_range *rec_provider_ranges(struct rec_provider *rp, size_t *n);
void rec_provider_destroy(struct rec_provider *rp);

/*
 * Make @mem (dynamic) hold at least @target shared pools by mapping on @dev
 * until the background thread has grown enough pools, then unmapping
 * everything again.  Returns the number of pools reached.
 */
unsigned bench_force_pools(struct swiotlb_mem *mem, struct swiotlb_dev *dev,
			   unsigned target, size_t chunk);

/* Whether _swiotlb_test_mem_add_pool() (src/testing.h) was available at
 * build time; bench_add_pool() returns -ENOSYS without it. */
extern const bool bench_have_add_pool;
int bench_add_pool(struct swiotlb_mem *mem, size_t size);

/* Accessors for the swiotlb backend context (for stats in the output). */
struct swiotlb_mem *bench_swiotlb_mem(void *ctx);

#endif
