// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * swiotlb-cg-maploop: N map+unmap pairs of 2 KiB through one force-bounce
 * device of a one-area memory, with L other mappings kept live, for
 * counting instructions under callgrind (no timing, no threads):
 *
 *   valgrind --tool=callgrind swiotlb-cg-maploop 20000 8
 *   valgrind --tool=callgrind swiotlb-cg-maploop 10000 8
 *
 * The difference of the two totals over 10000 is the cost of one pair.
 */
#include <stdio.h>
#include <stdlib.h>

#include "swiotlb.h"

#define MAX_LIVE 64

static int usage(void)
{
	fprintf(stderr,
		"usage: swiotlb-cg-maploop ITERATIONS [LIVE (0..%d)]\n"
		"  maps and unmaps 2 KiB ITERATIONS times with LIVE other mappings\n"
		"  live; run it under valgrind --tool=callgrind\n",
		MAX_LIVE);
	return 2;
}

int main(int argc, char **argv)
{
	static char buf[2048], other[MAX_LIVE][4096];
	struct swiotlb_mem_config mc = { .nareas = 1 };
	struct swiotlb_dev_config dc = { .force_bounce = true, .name = "loop" };
	swiotlb_addr_t a, keep[MAX_LIVE];
	long n = argc > 1 ? atol(argv[1]) : 0;
	int live = argc > 2 ? atoi(argv[2]) : 0;

	if (argc < 2 || argc > 3 || n <= 0 || live < 0 || live > MAX_LIVE)
		return usage();
	struct swiotlb_mem *mem = swiotlb_mem_create(&mc);
	struct swiotlb_dev *dev = mem ? swiotlb_dev_create(mem, &dc) : NULL;
	if (!dev)
		return 1;
	for (int i = 0; i < live; i++)
		if (swiotlb_map(dev, other[i], 1000 + 37 * (size_t)i, SWIOTLB_TO_DEVICE, 0,
				&keep[i]))
			return 1;
	for (long i = 0; i < n; i++) {
		if (swiotlb_map(dev, buf, sizeof(buf), SWIOTLB_TO_DEVICE, 0, &a) ||
		    swiotlb_unmap(dev, a, sizeof(buf), SWIOTLB_TO_DEVICE, 0))
			return 1;
	}
	for (int i = 0; i < live; i++)
		if (swiotlb_unmap(dev, keep[i], 1000 + 37 * (size_t)i, SWIOTLB_TO_DEVICE, 0))
			return 1;
	if (swiotlb_dev_destroy(dev) || swiotlb_mem_destroy(mem))
		return 1;
	printf("%ld map+unmap pairs, %d live\n", n, live);
	return 0;
}
