/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Memory providers: anonymous mmap (identity device addresses, placed below
 * a limit when asked) and a fixed caller-supplied region (first fit).
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

/* ---- fixed region: a first-fit list of free extents ---- */

struct extent {
	size_t off, len;
	struct extent *next;
};

struct fixed_ctx {
	struct swiotlb_provider p; /* p.ctx points back here */
	pthread_mutex_t lock;
	unsigned char *cpu;
	swiotlb_addr_t addr;
	size_t len;
	struct extent *free; /* sorted by offset, merged */
};

static int fixed_alloc(void *ctx, size_t len, size_t align, swiotlb_addr_t limit, void **cpu,
		       swiotlb_addr_t *addr)
{
	struct fixed_ctx *f = ctx;
	int rc = -ENOMEM;

	if (align < PAGE_SZ)
		align = PAGE_SZ;
	len = align_up(len, PAGE_SZ);
	pthread_mutex_lock(&f->lock);
	for (struct extent **pp = &f->free, *e; (e = *pp); pp = &e->next) {
		swiotlb_addr_t a = align_up(f->addr + e->off, align);
		size_t skip = (size_t)(a - (f->addr + e->off));

		if (skip + len > e->len || (limit && a + len - 1 > limit))
			continue;
		if (skip) { /* keep the aligned-away head as its own extent */
			struct extent *head = malloc(sizeof(*head));

			if (!head)
				break;
			*head = (struct extent){ e->off, skip, e };
			*pp = head;
			e->off += skip;
			e->len -= skip;
			pp = &head->next;
		}
		*cpu = f->cpu + e->off;
		*addr = f->addr + e->off;
		e->off += len;
		e->len -= len;
		if (!e->len) {
			*pp = e->next;
			free(e);
		}
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

static void fixed_free(void *ctx, void *cpu, swiotlb_addr_t addr, size_t len)
{
	struct fixed_ctx *f = ctx;
	size_t off = (size_t)(addr - f->addr);
	struct extent **pp, *prev = NULL, *e;

	(void)cpu;
	len = align_up(len, PAGE_SZ);
	pthread_mutex_lock(&f->lock);
	for (pp = &f->free; *pp && (*pp)->off < off; pp = &(*pp)->next)
		prev = *pp;
	if (prev && prev->off + prev->len == off) {
		prev->len += len; /* merge with the extent before */
		e = prev;
	} else {
		e = malloc(sizeof(*e));
		if (!e) { /* cannot track it: the range is lost until destroy */
			pthread_mutex_unlock(&f->lock);
			return;
		}
		*e = (struct extent){ off, len, *pp };
		*pp = e;
	}
	if (e->next && e->off + e->len == e->next->off) { /* merge with the next */
		struct extent *n = e->next;

		e->len += n->len;
		e->next = n->next;
		free(n);
	}
	pthread_mutex_unlock(&f->lock);
}

static void fixed_destroy(struct swiotlb_provider *self)
{
	struct fixed_ctx *f = caa_container_of(self, struct fixed_ctx, p);

	while (f->free) {
		struct extent *e = f->free;

		f->free = e->next;
		free(e);
	}
	pthread_mutex_destroy(&f->lock);
	free(f);
}

SWIOTLB_API struct swiotlb_provider *swiotlb_provider_fixed(void *cpu, swiotlb_addr_t addr,
							    size_t len)
{
	struct fixed_ctx *f;
	size_t lead = (size_t)(align_up(addr, PAGE_SZ) - addr);

	if (!cpu || len < lead + PAGE_SZ || addr + len - 1 < addr) {
		errno = EINVAL;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f)
		f->free = malloc(sizeof(*f->free));
	if (!f || !f->free) {
		if (f)
			free(f->free);
		free(f);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&f->lock, NULL);
	f->cpu = (unsigned char *)cpu + lead;
	f->addr = addr + lead;
	f->len = (len - lead) & ~(PAGE_SZ - 1);
	*f->free = (struct extent){ 0, f->len, NULL };
	f->p = (struct swiotlb_provider){ .version = SWIOTLB_PROVIDER_VERSION,
					  .name = "fixed",
					  .ctx = f,
					  .alloc = fixed_alloc,
					  .free = fixed_free,
					  .destroy = fixed_destroy };
	return &f->p;
}

SWIOTLB_API void swiotlb_provider_destroy(struct swiotlb_provider *p)
{
	if (p && p->destroy)
		p->destroy(p);
}
