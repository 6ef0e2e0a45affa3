/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The anonymous-mmap provider (the default): device address = CPU virtual
 * address, placed below a limit when asked.  Fits an emulated device in
 * the same process; a real device needs memory it can reach (memfd,
 * fixed region, or the caller's own provider).  swiotlb_provider_destroy()
 * is here too: it serves every provider.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* mmap_below(): hints start at the limit and step down by the length
 * rounded up to MMAP_HINT_STEP, never below MMAP_FLOOR (clear of page 0
 * and the usual low mappings), at most MMAP_BELOW_MAX_TRIES times. */
#define MMAP_FLOOR ((uintptr_t)1 << 20)
#define MMAP_HINT_STEP ((size_t)2 << 20)
#define MMAP_BELOW_MAX_TRIES 4096

struct mmap_ctx {
	unsigned flags;
};

static void *mmap_at(void *hint, size_t len, unsigned flags, bool fixed)
{
	int mflags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	void *p;

	if (flags & SWIOTLB_MMAP_HUGETLB)
		mflags |= MAP_HUGETLB;
	if (fixed)
		mflags |= MAP_FIXED_NOREPLACE;
	p = mmap(hint, len, PROT_READ | PROT_WRITE, mflags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (fixed && p != hint) { /* old kernels ignore NOREPLACE: a hint only */
		munmap(p, len);
		return NULL;
	}
	return p;
}

/* Find room below limit: try hints from high to low in steps of len,
 * starting just under the limit.  Bounded number of attempts. */
static void *mmap_below(size_t len, swiotlb_addr_t limit, unsigned flags)
{
	const uintptr_t floor = MMAP_FLOOR;
	uintptr_t step = align_up(len, MMAP_HINT_STEP), top;
	int tries = 0;

	if (limit + 1 < floor + len)
		return NULL;
	top = ((uintptr_t)(limit + 1) - len) & ~(step - 1);
	for (uintptr_t a = top; a >= floor && tries < MMAP_BELOW_MAX_TRIES; a -= step, tries++) {
		void *p = mmap_at((void *)a, len, flags, true);

		if (p)
			return p;
		if (a < step)
			break;
	}
	return NULL;
}

/* mmap with the start aligned to 'align' (a power of two): map more and
 * trim the excess head and tail. */
static void *mmap_aligned(size_t len, size_t align, unsigned flags)
{
	unsigned char *p, *a;

	if (align <= PAGE_SZ)
		return mmap_at(NULL, len, flags, false);
	p = mmap_at(NULL, len + align, flags, false);
	if (!p)
		return NULL;
	a = (unsigned char *)align_up((uintptr_t)p, align);
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + len < p + len + align)
		munmap(a + len, (size_t)(p + len + align - (a + len)));
	return a;
}

static int mmap_alloc(void *ctx, size_t len, size_t align, swiotlb_addr_t limit, void **cpu,
		      swiotlb_addr_t *addr)
{
	struct mmap_ctx *mc = ctx;
	unsigned flags = mc ? mc->flags : 0;
	void *p;

	if (limit && limit < UINTPTR_MAX) {
		p = mmap_aligned(len, align, flags);
		if (p && (uintptr_t)p + len - 1 > limit) {
			munmap(p, len);
			p = mmap_below(len, limit, flags); /* hints are 2 MiB aligned */
			if (p && ((uintptr_t)p & (align - 1))) {
				munmap(p, len);
				p = NULL;
			}
		}
	} else {
		p = mmap_aligned(len, align, flags);
	}
	if (!p)
		return -ENOMEM;
	if ((flags & SWIOTLB_MMAP_MLOCK) && mlock(p, len) != 0) {
		munmap(p, len);
		return -ENOMEM;
	}
	*cpu = p;
	*addr = (uintptr_t)p;
	return 0;
}

static void mmap_free(void *ctx, void *cpu, swiotlb_addr_t addr, size_t len)
{
	(void)ctx;
	(void)addr;
	munmap(cpu, len);
}

const struct swiotlb_provider _swiotlb_provider_mmap_default = {
	.version = SWIOTLB_PROVIDER_VERSION,
	.name = "mmap",
	.ctx = NULL,
	.alloc = mmap_alloc,
	.free = mmap_free,
};

/* A provider with flags: the ops and their context in one allocation. */
struct mmap_provider {
	struct swiotlb_provider p;
	struct mmap_ctx ctx;
};

static void mmap_provider_destroy(struct swiotlb_provider *self)
{
	free(caa_container_of(self, struct mmap_provider, p));
}

SWIOTLB_API struct swiotlb_provider *swiotlb_provider_mmap(unsigned flags)
{
	struct mmap_provider *b;

	if (flags & ~(SWIOTLB_MMAP_HUGETLB | SWIOTLB_MMAP_MLOCK)) {
		errno = EINVAL;
		return NULL;
	}
	if (!flags)
		return (struct swiotlb_provider *)&_swiotlb_provider_mmap_default;
	b = calloc(1, sizeof(*b));
	if (!b) {
		errno = ENOMEM;
		return NULL;
	}
	b->ctx.flags = flags;
	b->p = _swiotlb_provider_mmap_default;
	b->p.name = flags & SWIOTLB_MMAP_HUGETLB ? "mmap-hugetlb" : "mmap-mlock";
	b->p.ctx = &b->ctx;
	b->p.destroy = mmap_provider_destroy;
	return &b->p;
}

SWIOTLB_API void swiotlb_provider_destroy(struct swiotlb_provider *p)
{
	if (p && p->destroy)
		p->destroy(p);
}
