// SPDX-License-Identifier: LGPL-2.1-or-later
/* swiotlb-bench: memory regions and area counts shared by the backends
 * (bench.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

void *bench_region_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED) {
		perror("swiotlb-bench: mmap");
		abort();
	}
	memset(p, 0, len); /* pre-fault */
	return p;
}

void bench_region_free(void *p, size_t len)
{
	munmap(p, len);
}

unsigned bench_default_nareas(size_t region_size)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned a = 1;
	size_t slots = region_size / 2048;

	while ((long)a < n)
		a <<= 1;
	while (a > 1 && slots / a < 128)
		a >>= 1;
	return a;
}
