// SPDX-License-Identifier: LGPL-2.1-or-later
/* swiotlb_common: the counting provider (struct util_prov in util.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "util.h"

#include <errno.h>
#include <string.h>

/* Append a live range; false when out of memory.  Caller holds up->lock. */
static bool live_add(struct util_prov *up, void *cpu, swiotlb_addr_t addr, size_t len)
{
	if (up->nlive == up->cap) {
		size_t cap = up->cap ? up->cap * 2 : 64;
		struct util_range *r = realloc(up->live, cap * sizeof(*r));

		if (!r)
			return false;
		up->live = r;
		up->cap = cap;
	}
	up->live[up->nlive++] = (struct util_range){ cpu, addr, len };
	return true;
}

/* Remove a live range; false when it is not there.  Caller holds up->lock. */
static bool live_del(struct util_prov *up, void *cpu, swiotlb_addr_t addr, size_t len)
{
	for (size_t i = 0; i < up->nlive; i++) {
		struct util_range *r = &up->live[i];

		if (r->cpu == cpu && r->addr == addr && r->len == len) {
			*r = up->live[--up->nlive];
			return true;
		}
	}
	return false;
}

static int prov_alloc(void *ctx, size_t len, size_t align, swiotlb_addr_t limit, void **cpu,
		      swiotlb_addr_t *addr)
{
	struct util_prov *up = ctx;
	uint64_t bytes;
	bool added;
	int r;

	/* fail_next is a test knob and alloc_fail a statistic: relaxed.  The
	 * knob reaches the library's growth thread through its own locks. */
	if (atomic_load_explicit(&up->fail_next, memory_order_relaxed) > 0) {
		atomic_fetch_sub_explicit(&up->fail_next, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&up->alloc_fail, 1, memory_order_relaxed);
		return -ENOMEM;
	}
	r = up->inner->alloc(up->inner->ctx, len, align, limit, cpu, addr);
	if (r != 0) {
		atomic_fetch_add_explicit(&up->alloc_fail, 1, memory_order_relaxed);
		return r;
	}
	pthread_mutex_lock(&up->lock);
	added = live_add(up, *cpu, *addr, len);
	if (added) {
		/* statistics: relaxed; the peak update is serialised by lock */
		bytes = atomic_fetch_add_explicit(&up->bytes_live, len, memory_order_relaxed) + len;
		if (bytes > atomic_load_explicit(&up->bytes_peak, memory_order_relaxed))
			atomic_store_explicit(&up->bytes_peak, bytes, memory_order_relaxed);
	}
	pthread_mutex_unlock(&up->lock);
	if (!added) {
		up->inner->free(up->inner->ctx, *cpu, *addr, len);
		atomic_fetch_add_explicit(&up->alloc_fail, 1, memory_order_relaxed);
		return -ENOMEM;
	}
	atomic_fetch_add_explicit(&up->allocs, 1, memory_order_relaxed); /* statistic */
	return 0;
}

static void prov_free(void *ctx, void *cpu, swiotlb_addr_t addr, size_t len)
{
	struct util_prov *up = ctx;
	bool found;

	pthread_mutex_lock(&up->lock);
	found = live_del(up, cpu, addr, len);
	pthread_mutex_unlock(&up->lock);
	if (!found) {
		fprintf(stderr, "%s provider: free(%p, 0x%" PRIx64 ", %zu) of something alloc() "
			"did not return (or freed twice)\n", up->p.name, cpu, addr, len);
		exit(1);
	}
	/* statistics: relaxed */
	atomic_fetch_sub_explicit(&up->bytes_live, len, memory_order_relaxed);
	atomic_store_explicit(&up->last_freed_cpu, (uintptr_t)cpu, memory_order_relaxed);
	atomic_store_explicit(&up->last_freed_len, len, memory_order_relaxed);
	up->inner->free(up->inner->ctx, cpu, addr, len);
	atomic_fetch_add_explicit(&up->frees, 1, memory_order_relaxed);
}

static int prov_fd(void *ctx, void *cpu, swiotlb_addr_t addr, size_t len, int *fd,
		   uint64_t *offset)
{
	struct util_prov *up = ctx;

	return up->inner->fd(up->inner->ctx, cpu, addr, len, fd, offset);
}

void util_prov_init(struct util_prov *up, const struct swiotlb_provider *inner)
{
	memset(up, 0, sizeof(*up));
	pthread_mutex_init(&up->lock, NULL);
	up->inner = inner ? inner : swiotlb_provider_mmap(0);
	CHECK(up->inner != NULL);
	up->p.version = SWIOTLB_PROVIDER_VERSION;
	up->p.name = "counting";
	up->p.ctx = up;
	up->p.alloc = prov_alloc;
	up->p.free = prov_free;
	if (up->inner->fd)
		up->p.fd = prov_fd;
}

void util_prov_fini(struct util_prov *up)
{
	pthread_mutex_destroy(&up->lock);
	free(up->live);
	up->live = NULL;
	up->nlive = up->cap = 0;
}

bool util_prov_holds(struct util_prov *up, swiotlb_addr_t addr, size_t len)
{
	bool r = false;

	pthread_mutex_lock(&up->lock);
	for (size_t i = 0; i < up->nlive; i++)
		if (addr >= up->live[i].addr && addr + len <= up->live[i].addr + up->live[i].len)
			r = true;
	pthread_mutex_unlock(&up->lock);
	return r;
}

size_t util_prov_len_at(struct util_prov *up, swiotlb_addr_t addr)
{
	size_t r = 0;

	pthread_mutex_lock(&up->lock);
	for (size_t i = 0; i < up->nlive; i++)
		if (addr >= up->live[i].addr && addr < up->live[i].addr + up->live[i].len)
			r = up->live[i].len;
	pthread_mutex_unlock(&up->lock);
	return r;
}

size_t util_prov_nlive(struct util_prov *up)
{
	size_t n;

	pthread_mutex_lock(&up->lock);
	n = up->nlive;
	pthread_mutex_unlock(&up->lock);
	return n;
}

struct util_range *util_prov_ranges(struct util_prov *up, size_t *n)
{
	struct util_range *r;

	pthread_mutex_lock(&up->lock);
	r = malloc((up->nlive ? up->nlive : 1) * sizeof(*r));
	if (r) {
		memcpy(r, up->live, up->nlive * sizeof(*r));
		*n = up->nlive;
	}
	pthread_mutex_unlock(&up->lock);
	return r;
}
