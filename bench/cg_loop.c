/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swiotlb-cg-loop: N map+unmap pairs of one size on one 4 MiB memory and a
 * force_bounce device, nothing else, for instruction counts under
 * callgrind (bench/callgrind.sh runs it twice and takes the difference,
 * so setup and teardown cancel out).
 *
 *   swiotlb-cg-loop SIZE N [DIR]     DIR: 0 bidirectional, 1 to device
 *                                    (default), 2 from device
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swiotlb.h"

static int usage(void)
{
	fprintf(stderr, "usage: swiotlb-cg-loop SIZE N [DIR]\n"
			"  N map+unmap pairs of SIZE bytes (1..%zu) in direction DIR\n"
			"  (0 bidirectional, 1 to device: default, 2 from device)\n",
		(size_t)SWIOTLB_SEGMENT_SIZE);
	return 2;
}

int main(int argc, char **argv)
{
	struct swiotlb_mem_config mc = { .size = 4 << 20 };
	struct swiotlb_dev_config dc = { .name = "cg", .force_bounce = true };
	struct swiotlb_mem *mem;
	struct swiotlb_dev *dev;
	unsigned long size, n, dir = SWIOTLB_TO_DEVICE;
	char *end, *buf;

	if (argc < 3 || argc > 4 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return usage();
	size = strtoul(argv[1], &end, 0);
	if (*end || !size || size > SWIOTLB_SEGMENT_SIZE)
		return usage();
	n = strtoul(argv[2], &end, 0);
	if (*end || !n)
		return usage();
	if (argc == 4 && ((dir = strtoul(argv[3], &end, 0)) > 2 || *end))
		return usage();
	mem = swiotlb_mem_create(&mc);
	dev = mem ? swiotlb_dev_create(mem, &dc) : NULL;
	buf = aligned_alloc(4096, (size + 4095) & ~4095ul);
	if (!dev || !buf) {
		fprintf(stderr, "swiotlb-cg-loop: setup failed\n");
		return 1;
	}
	memset(buf, 1, size);
	for (unsigned long i = 0; i < n; i++) {
		swiotlb_addr_t a;

		if (swiotlb_map(dev, buf, size, dir, 0, &a) || swiotlb_unmap(dev, a, size, dir, 0)) {
			fprintf(stderr, "swiotlb-cg-loop: map/unmap %lu failed\n", i);
			return 1;
		}
	}
	free(buf);
	if (swiotlb_dev_destroy(dev) || swiotlb_mem_destroy(mem))
		return 1;
	return 0;
}
