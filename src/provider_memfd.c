/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared-memory provider: one sealed memfd per pool, mapped MAP_SHARED, so
 * another process (a vhost-user or vfio-user device) can map the very same
 * pages from the descriptor.  Device addresses are handed out from a window
 * chosen by the caller (a guest-physical or IOVA range), independent of the
 * CPU addresses.
 *
 * Why one memfd per pool (docs/VHOST-USER.md): a registrar such as
 * vhost-user takes one descriptor per region and the device maps it; when
 * the pool goes, closing our descriptor and the device's munmap after
 * REM_MEM_REG give the memory back to the kernel with no further step.
 * One sparse memfd would need fallocate(PUNCH_HOLE) for that.
 *
 * The window allocator is the sorted list of live pools: the gaps between
 * them are the free space, so a freed range is reusable at once and no
 * separate free list can go out of step with the pools.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#define HUGE_SZ ((size_t)2 << 20)

struct memfd_pool {
	swiotlb_addr_t addr; /* device address of the first byte */
	size_t len;          /* bytes mapped and reserved in the window */
	void *cpu;
	int fd;
};

struct memfd_ctx {
	struct swiotlb_provider p; /* p.ctx points back here */
	pthread_mutex_t lock;
	swiotlb_addr_t base;
	size_t window;
	size_t unit; /* page or huge page */
	unsigned flags;
	struct memfd_pool *pools; /* sorted by addr */
	size_t npools, cap;
};

/* Lowest address >= the window base, aligned, where len bytes fit between
 * the live pools and below limit.  Sets *slot to the insertion index.
 * Returns 0, or -ENOMEM when no gap fits. */
static int window_find(const struct memfd_ctx *m, size_t len, size_t align, swiotlb_addr_t limit,
		       swiotlb_addr_t *out, size_t *slot)
{
	swiotlb_addr_t cur = m->base, end = m->base + m->window;

	for (size_t i = 0; i <= m->npools; i++) {
		swiotlb_addr_t gap_end = i < m->npools ? m->pools[i].addr : end;
		swiotlb_addr_t a = (cur + align - 1) & ~((swiotlb_addr_t)align - 1);

		if (a < cur) /* wrapped around the top of the address space */
			return -ENOMEM;
		if (limit && (a > limit || limit - a < len - 1))
			return -ENOMEM; /* later gaps are only higher */
		if (a <= gap_end && gap_end - a >= len) {
			*out = a;
			*slot = i;
			return 0;
		}
		if (i < m->npools)
			cur = m->pools[i].addr + m->pools[i].len;
	}
	return -ENOMEM;
}

static int pools_insert(struct memfd_ctx *m, size_t slot, const struct memfd_pool *p)
{
	if (m->npools == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		struct memfd_pool *n = realloc(m->pools, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		m->pools = n;
		m->cap = cap;
	}
	memmove(&m->pools[slot + 1], &m->pools[slot], (m->npools - slot) * sizeof(*p));
	m->pools[slot] = *p;
	m->npools++;
	return 0;
}

/* The pool that holds device address addr, or NULL.  Caller holds lock. */
static struct memfd_pool *pool_find(struct memfd_ctx *m, swiotlb_addr_t addr)
{
	size_t lo = 0, hi = m->npools;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct memfd_pool *p = &m->pools[mid];

		if (addr < p->addr)
			hi = mid;
		else if (addr - p->addr >= p->len)
			lo = mid + 1;
		else
			return p;
	}
	return NULL;
}

/* A sealed memfd of len bytes mapped shared.  Returns 0 or -errno. */
static int memfd_make(const struct memfd_ctx *m, size_t len, struct memfd_pool *p)
{
	unsigned mfd = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int err;

	if (m->flags & SWIOTLB_MEMFD_HUGETLB)
		mfd |= MFD_HUGETLB;
	p->fd = memfd_create("swiotlb-pool", mfd);
	if (p->fd < 0)
		return -errno;
	if (ftruncate(p->fd, (off_t)len) != 0 ||
	    fcntl(p->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
		goto fail;
	p->cpu = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
	if (p->cpu == MAP_FAILED)
		goto fail;
	p->len = len;
	return 0;
fail:
	err = errno;
	close(p->fd);
	return err == ENOSPC || err == EFBIG ? -ENOMEM : -err;
}

static int memfd_alloc(void *ctx, size_t len, size_t align, swiotlb_addr_t limit, void **cpu,
		       swiotlb_addr_t *addr)
{
	struct memfd_ctx *m = ctx;
	struct memfd_pool p = { 0 };
	size_t slot;
	int rc;

	if (!len || align & (align - 1))
		return -EINVAL;
	if (align < m->unit)
		align = m->unit;
	if (len > m->window)
		return -ENOMEM;
	len = align_up(len, m->unit);
	pthread_mutex_lock(&m->lock);
	rc = window_find(m, len, align, limit, &p.addr, &slot);
	if (!rc)
		rc = memfd_make(m, len, &p);
	if (!rc) {
		rc = pools_insert(m, slot, &p);
		if (rc) {
			munmap(p.cpu, p.len);
			close(p.fd);
		}
	}
	pthread_mutex_unlock(&m->lock);
	if (rc)
		return rc;
	*cpu = p.cpu;
	*addr = p.addr;
	return 0;
}

static void memfd_free(void *ctx, void *cpu, swiotlb_addr_t addr, size_t len)
{
	struct memfd_ctx *m = ctx;
	struct memfd_pool *p;

	pthread_mutex_lock(&m->lock);
	p = pool_find(m, addr);
	if (p && p->addr == addr && p->cpu == cpu) {
		munmap(p->cpu, p->len);
		close(p->fd);
		memmove(p, p + 1, (size_t)(&m->pools[m->npools] - (p + 1)) * sizeof(*p));
		m->npools--;
	}
	pthread_mutex_unlock(&m->lock);
}

static int memfd_fd(void *ctx, void *cpu, swiotlb_addr_t addr, size_t len, int *fd,
		    uint64_t *offset)
{
	struct memfd_ctx *m = ctx;
	struct memfd_pool *p;
	int rc = -ENOENT;

	pthread_mutex_lock(&m->lock);
	p = pool_find(m, addr);
	if (p && (unsigned char *)cpu - (unsigned char *)p->cpu == (ptrdiff_t)(addr - p->addr) &&
	    len <= p->len - (size_t)(addr - p->addr)) {
		*fd = p->fd;
		*offset = addr - p->addr;
		rc = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static void memfd_destroy(struct swiotlb_provider *self)
{
	struct memfd_ctx *m = caa_container_of(self, struct memfd_ctx, p);

	for (size_t i = 0; i < m->npools; i++) { /* pools the caller leaked */
		munmap(m->pools[i].cpu, m->pools[i].len);
		close(m->pools[i].fd);
	}
	free(m->pools);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

SWIOTLB_API struct swiotlb_provider *swiotlb_provider_memfd(swiotlb_addr_t window_base,
							    size_t window_len, unsigned flags)
{
	size_t unit = flags & SWIOTLB_MEMFD_HUGETLB ? HUGE_SZ : PAGE_SZ;
	struct memfd_ctx *m;

	if ((flags & ~SWIOTLB_MEMFD_HUGETLB) || !window_len || (window_base & (unit - 1)) ||
	    (window_len & (unit - 1)) || window_base + window_len <= window_base) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->base = window_base;
	m->window = window_len;
	m->unit = unit;
	m->flags = flags;
	m->p = (struct swiotlb_provider){
		.version = SWIOTLB_PROVIDER_VERSION,
		.name = flags & SWIOTLB_MEMFD_HUGETLB ? "memfd-hugetlb" : "memfd",
		.ctx = m,
		.alloc = memfd_alloc,
		.free = memfd_free,
		.fd = memfd_fd,
		.destroy = memfd_destroy,
	};
	return &m->p;
}
