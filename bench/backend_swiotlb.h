/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* swiotlb-bench: libswiotlb as a backend, and a way to build memories of
 * many pools. */
#ifndef SWIOTLB_BENCH_BACKEND_H
#define SWIOTLB_BENCH_BACKEND_H

#include <swiotlb.h>

#include "bench.h"

/* Add one pool of @size bytes to @mem (the library's test hook
 * _swiotlb_test_mem_add_pool()).  0 or a negative errno. */
int bench_add_pool(struct swiotlb_mem *mem, size_t size);

/* Accessors for the swiotlb backend context (for stats in the output). */
struct swiotlb_mem *bench_swiotlb_mem(void *ctx);

#endif
