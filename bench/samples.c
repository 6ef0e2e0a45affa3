// SPDX-License-Identifier: LGPL-2.1-or-later
/* swiotlb-bench: latency samples, their percentiles, and medians of runs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

void samples_init(struct samples *s, size_t cap)
{
	s->v = malloc(cap * sizeof(*s->v));
	if (!s->v)
		abort();
	s->n = 0;
	s->cap = cap;
}

void samples_free(struct samples *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts v (cycles) in place; the result is in ns. */
static struct lat lat_of(uint32_t *v, size_t n)
{
	struct lat l = { 0 };
	double sum = 0, sq = 0;

	if (!n)
		return l;
	qsort(v, n, sizeof(*v), cmp_u32);
	for (size_t i = 0; i < n; i++) {
		double x = (double)v[i] * tsc_ns_per_cycle;

		sum += x;
		sq += x * x;
	}
	l.n = n;
	l.avg = sum / (double)n;
	l.sd = sqrt(fmax(0.0, sq / (double)n - l.avg * l.avg));
	l.p50 = v[(size_t)(0.50 * (double)(n - 1))] * tsc_ns_per_cycle;
	l.p99 = v[(size_t)(0.99 * (double)(n - 1))] * tsc_ns_per_cycle;
	l.p999 = v[(size_t)(0.999 * (double)(n - 1))] * tsc_ns_per_cycle;
	return l;
}

struct lat lat_merge(const struct samples *s, int n)
{
	size_t total = 0, k = 0;
	uint32_t *all;
	struct lat l;

	for (int i = 0; i < n; i++)
		total += s[i].n;
	if (!total)
		return (struct lat){ 0 };
	all = malloc(total * sizeof(*all));
	if (!all)
		abort();
	for (int i = 0; i < n; i++) {
		memcpy(all + k, s[i].v, s[i].n * sizeof(*all));
		k += s[i].n;
	}
	l = lat_of(all, total);
	free(all);
	return l;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double median(const double *v, int n)
{
	double t[64];

	if (n <= 0)
		return 0;
	if (n > 64)
		n = 64;
	memcpy(t, v, (size_t)n * sizeof(*t));
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	return n & 1 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}
