/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A program outside the tree: built against an installed libswiotlb, it
 * bounces one buffer and checks the header and library versions agree. */
#include <stdio.h>
#include <string.h>

#include <swiotlb.h>

int consumer_run(void);

int consumer_run(void)
{
	struct swiotlb_mem_config mc = { .size = 1 << 20 };
	struct swiotlb_dev_config dc = { .name = "consumer", .force_bounce = true };
	struct swiotlb_mem *mem = swiotlb_mem_create(&mc);
	struct swiotlb_dev *dev = mem ? swiotlb_dev_create(mem, &dc) : NULL;
	char buf[256] = "hello through a bounce buffer";
	swiotlb_addr_t addr;
	int ok;

	if (!dev || swiotlb_map(dev, buf, sizeof(buf), SWIOTLB_TO_DEVICE, 0, &addr)) {
		fprintf(stderr, "consumer: cannot set up or map\n");
		return 1;
	}
	ok = swiotlb_is_bounce(dev, addr) &&
	     memcmp(swiotlb_addr_to_cpu(dev, addr), buf, sizeof(buf)) == 0;
	swiotlb_unmap(dev, addr, sizeof(buf), SWIOTLB_TO_DEVICE, 0);
	swiotlb_dev_destroy(dev);
	swiotlb_mem_destroy(mem);
	if (swiotlb_version() != SWIOTLB_VERSION) {
		fprintf(stderr, "consumer: header %#x, library %#x\n", SWIOTLB_VERSION,
			swiotlb_version());
		return 1;
	}
	printf("consumer: libswiotlb %u.%u.%u, bounced: %s\n", swiotlb_version() >> 16,
	       (swiotlb_version() >> 8) & 0xff, swiotlb_version() & 0xff, ok ? "yes" : "NO");
	return ok ? 0 : 1;
}

#ifndef CONSUMER_NO_MAIN
int main(void)
{
	return consumer_run();
}
#endif
