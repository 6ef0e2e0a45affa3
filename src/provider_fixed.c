/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixed-region provider: pools carved out of one caller-supplied
 * device-reachable region (a registered RDMA window, a carved-out shared
 * window), first fit over a sorted, merged list of free extents.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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
