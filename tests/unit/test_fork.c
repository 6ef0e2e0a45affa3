/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fork() after the library was used: the child can map, sync and unmap
 * (urcu-bp's fork hooks are registered by the library), growth in the
 * child falls back to transient pools, and the parent is unaffected. */
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

static int child_work(struct swiotlb_dev *dev, uint8_t *buf)
{
	swiotlb_addr_t a[64];

	/* more than the pool holds: the child has no growth thread, the
	 * overflow goes to transient pools */
	for (int i = 0; i < 64; i++) {
		util_fill(buf + i * 8192, 8192, 300 + i);
		if (swiotlb_map(dev, buf + i * 8192, 8192, SWIOTLB_BIDIRECTIONAL, 0, &a[i]))
			return 10;
		if (util_verify(swiotlb_addr_to_cpu(dev, a[i]), 8192, 300 + i) != 8192)
			return 11;
	}
	for (int i = 0; i < 64; i++) {
		util_fill(swiotlb_addr_to_cpu(dev, a[i]), 8192, 900 + i); /* the "device" */
		if (swiotlb_unmap(dev, a[i], 8192, SWIOTLB_BIDIRECTIONAL, 0))
			return 12;
		if (util_verify(buf + i * 8192, 8192, 900 + i) != 8192)
			return 13;
	}
	return 0;
}

int main(void)
{
	struct swiotlb_mem_config mc = { .size = 256 * 1024, .nareas = 1, .dynamic = true,
					 .shrink_delay_ms = 5 };
	struct swiotlb_mem *mem = swiotlb_mem_create(&mc);
	struct swiotlb_dev_config dc = { .name = "fork", .force_bounce = true };
	struct swiotlb_dev *dev;
	uint8_t *buf = malloc(64 * 8192);
	swiotlb_addr_t a;
	int status;
	pid_t pid;

	CHECK(mem && buf);
	dev = swiotlb_dev_create(mem, &dc);
	CHECK(dev);
	util_fill(buf, 4096, 1);
	CHECK_OK(swiotlb_map(dev, buf, 4096, SWIOTLB_TO_DEVICE, 0, &a)); /* live across fork */

	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(child_work(dev, buf));
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);

	/* the parent's mapping and memory are untouched by the child */
	CHECK_PAT(swiotlb_addr_to_cpu(dev, a), 4096, 1);
	CHECK_OK(swiotlb_unmap(dev, a, 4096, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(child_work(dev, buf)); /* and the parent still grows */
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
	free(buf);
	printf("fork: child and parent both mapped and unmapped correctly\n");
	return 0;
}
