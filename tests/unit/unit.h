/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fixtures shared by the unit tests (tests/unit only); the generic helpers
 * are in common/util.h. */
#ifndef SWIOTLB_TESTS_UNIT_H
#define SWIOTLB_TESTS_UNIT_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "swiotlb.h"
#include "util.h" /* common/: checks, patterns, statistics */

#define KIB ((size_t)1024)
#define MIB ((size_t)1024 * 1024)
#define NSLOTS(n) (((size_t)(n) + SWIOTLB_SLOT_SIZE - 1) / SWIOTLB_SLOT_SIZE)

static inline size_t round_up_sz(size_t x, size_t a) { return (x + a - 1) / a * a; }

/* Log capture. */
struct logcap {
	int count;
	int level;
	char last[1024];
};

static inline void logcap_fn(void *ctx, enum swiotlb_log_level level, const char *msg)
{
	struct logcap *c = ctx;
	c->count++;
	c->level = (int)level;
	snprintf(c->last, sizeof(c->last), "%s", msg ? msg : "");
}

/*
 * A memory whose single pool comes from a fixed-provider region whose
 * device address base is FIX_DEVBASE (1 MiB aligned, different from the
 * CPU address), so absolute device-address alignment is known: the first
 * (only) pool is placed first-fit at the start of the region.
 */
#define FIX_DEVBASE ((swiotlb_addr_t)0x300000000ull)

struct fenv {
	void *region;
	size_t region_len;
	struct swiotlb_provider *prov;
	struct swiotlb_mem *mem;
	struct logcap log;
};

static inline void fenv_init_mode(struct fenv *e, size_t pool_size, unsigned nareas, bool strict)
{
	memset(e, 0, sizeof(*e));
	e->region_len = 2 * pool_size;
	e->region = aligned_alloc(MIB, round_up_sz(e->region_len, MIB));
	CHECK(e->region != NULL);
	memset(e->region, 0x5a, e->region_len);
	e->prov = swiotlb_provider_fixed(e->region, FIX_DEVBASE, e->region_len);
	CHECK(e->prov != NULL);
	struct swiotlb_mem_config mc;
	memset(&mc, 0, sizeof(mc));
	mc.size = pool_size;
	mc.nareas = nareas;
	mc.provider = e->prov;
	mc.strict_cursor = strict;
	mc.log = logcap_fn;
	mc.log_ctx = &e->log;
	e->mem = swiotlb_mem_create(&mc);
	CHECK(e->mem != NULL);
	struct swiotlb_stats st = util_mem_stats(e->mem);
	CHECK_EQ(st.total_slots, pool_size / SWIOTLB_SLOT_SIZE);
	CHECK_EQ(st.used_slots, 0);
}

/* Kernel placement (strict cursor): what the search tests check. */
static inline void fenv_init(struct fenv *e, size_t pool_size, unsigned nareas)
{
	fenv_init_mode(e, pool_size, nareas, true);
}

static inline void fenv_fini(struct fenv *e)
{
	CHECK_OK(swiotlb_mem_destroy(e->mem));
	swiotlb_provider_destroy(e->prov);
	free(e->region);
}

/* A plain memory from the default (mmap) provider. */
static inline struct swiotlb_mem *mem_new_mode(size_t size, unsigned nareas, struct logcap *cap,
					       bool strict)
{
	struct swiotlb_mem_config mc;
	memset(&mc, 0, sizeof(mc));
	mc.size = size;
	mc.nareas = nareas;
	mc.strict_cursor = strict;
	if (cap) {
		mc.log = logcap_fn;
		mc.log_ctx = cap;
	}
	struct swiotlb_mem *m = swiotlb_mem_create(&mc);
	CHECK(m != NULL);
	return m;
}

static inline struct swiotlb_mem *mem_new(size_t size, unsigned nareas, struct logcap *cap)
{
	return mem_new_mode(size, nareas, cap, false);
}

/* A force-bounce device. */
static inline struct swiotlb_dev *dev_new(struct swiotlb_mem *mem, const char *name,
					  uint32_t min_align_mask, uint64_t seg_boundary_mask)
{
	struct swiotlb_dev_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.name = name;
	dc.force_bounce = true;
	dc.min_align_mask = min_align_mask;
	dc.seg_boundary_mask = seg_boundary_mask;
	struct swiotlb_dev *d = swiotlb_dev_create(mem, &dc);
	CHECK(d != NULL);
	return d;
}

static inline swiotlb_addr_t map_ok(struct swiotlb_dev *dev, void *cpu, size_t size,
				    enum swiotlb_dir dir)
{
	swiotlb_addr_t a = 0;
	CHECK_OK(swiotlb_map(dev, cpu, size, dir, 0, &a));
	CHECK(swiotlb_is_bounce(dev, a));
	return a;
}

#endif
