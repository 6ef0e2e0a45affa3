/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Peer 4: address lookup ("is this device address in one of the pools?").
 *
 * lookup_linear: the kernel's swiotlb_find_pool(): walk a linked list of
 * pools (in creation order, one heap node per pool) and compare the range.
 * lookup_critnib: libcritnib (what Intel's UMF uses for its tracker):
 * critnib_find_le() keyed by the pool start, then the range check.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <critnib.h>
#include <stdlib.h>

#include "../bench.h"

struct ll_node {
	struct ll_node *next;
	uint64_t start, end;
};

struct lookup_linear {
	struct ll_node *head;
};

struct lookup_linear *lookup_linear_create(const struct bench_range *r, size_t n)
{
	struct lookup_linear *l = calloc(1, sizeof(*l));
	struct ll_node **tail;
	size_t i;

	if (!l)
		return NULL;
	tail = &l->head;
	for (i = 0; i < n; i++) {
		struct ll_node *p = malloc(sizeof(*p));

		if (!p)
			abort();
		p->start = r[i].start;
		p->end = r[i].end;
		p->next = NULL;
		*tail = p;
		tail = &p->next;
	}
	return l;
}

bool lookup_linear_find(const struct lookup_linear *l, uint64_t addr)
{
	const struct ll_node *p;

	for (p = l->head; p; p = p->next)
		if (addr >= p->start && addr < p->end)
			return true;
	return false;
}

void lookup_linear_destroy(struct lookup_linear *l)
{
	struct ll_node *p, *n;

	if (!l)
		return;
	for (p = l->head; p; p = n) {
		n = p->next;
		free(p);
	}
	free(l);
}

struct lookup_critnib {
	critnib *c;
	struct bench_range *r;
	size_t n;
};

struct lookup_critnib *lookup_critnib_create(const struct bench_range *r, size_t n)
{
	struct lookup_critnib *l = calloc(1, sizeof(*l));
	size_t i;

	if (!l)
		return NULL;
	l->c = critnib_new();
	l->r = malloc((n ? n : 1) * sizeof(*r));
	if (!l->c || !l->r)
		abort();
	l->n = n;
	for (i = 0; i < n; i++) {
		l->r[i] = r[i];
		if (critnib_insert(l->c, (uintptr_t)r[i].start, &l->r[i], 0))
			abort();
	}
	return l;
}

bool lookup_critnib_find(const struct lookup_critnib *l, uint64_t addr)
{
	const struct bench_range *p = critnib_find_le(l->c, (uintptr_t)addr);

	return p && addr < p->end;
}

void lookup_critnib_destroy(struct lookup_critnib *l)
{
	if (!l)
		return;
	critnib_delete(l->c);
	free(l->r);
	free(l);
}
