/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-thread device counters (src/devcount.c): a thread that exits keeps
 * its counts, a mapping made on an exited thread is still live for
 * swiotlb_dev_destroy(), and a device created after another was destroyed
 * (perhaps at the same address) starts from zero on a thread that counted
 * for the old one. */
#include <pthread.h>

#include "unit.h"

static uint8_t src[3 * 2048];

struct job {
	struct swiotlb_dev *dev;
	uint8_t buf[3000];    /* its own: copy-backs write into it */
	int n;                /* map+unmap pairs */
	swiotlb_addr_t leave; /* a mapping left live for the main thread */
};

static void *worker(void *arg)
{
	struct job *j = arg;

	for (int i = 0; i < j->n; i++) {
		swiotlb_addr_t a = map_ok(j->dev, j->buf, 1000, SWIOTLB_BIDIRECTIONAL);

		CHECK_OK(swiotlb_unmap(j->dev, a, 1000, SWIOTLB_BIDIRECTIONAL, 0));
	}
	j->leave = map_ok(j->dev, j->buf, 3000, SWIOTLB_TO_DEVICE);
	return NULL;
}

/* Counts of exited threads are folded into the device, exactly. */
static void exited_threads_keep_their_counts(void)
{
	struct swiotlb_mem *mem = mem_new(1 * MIB, 2, NULL);
	struct swiotlb_dev *dev = dev_new(mem, "dc", 0, 0);
	static struct job j[3];
	pthread_t th[3];

	/* one after the other: a thread started while another exits may get
	 * the exited one's liburcu-bp reader slot, which ThreadSanitizer
	 * reports as a race inside liburcu's inline read lock (also with
	 * main's library); joining first orders the two */
	for (int i = 0; i < 3; i++) {
		j[i].dev = dev;
		j[i].n = 10 * (i + 1);
		CHECK_OK(pthread_create(&th[i], NULL, worker, &j[i]));
		CHECK_OK(pthread_join(th[i], NULL));
	}
	struct swiotlb_dev_stats ds = util_dev_stats(dev);
	CHECK_EQ(ds.maps, 63);
	CHECK_EQ(ds.unmaps, 60);
	CHECK_EQ(ds.mappings, 3);
	CHECK_EQ(ds.bytes_to_device, 60 * 1000 + 3 * 3000);
	CHECK_EQ(ds.bytes_from_device, 60 * 1000);
	/* the live mappings of exited threads still block a destroy */
	CHECK_EQ(swiotlb_dev_destroy(dev), -EBUSY);
	for (int i = 0; i < 3; i++)
		CHECK_OK(swiotlb_unmap(dev, j[i].leave, 3000, SWIOTLB_TO_DEVICE, 0));
	ds = util_dev_stats(dev);
	CHECK_EQ(ds.unmaps, 63);
	CHECK_EQ(ds.mappings, 0);
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
}

/* A new device never inherits a destroyed one's per-thread counts, even
 * when this thread counted for the old one and calloc hands the new one
 * the same address. */
static void new_device_starts_from_zero(void)
{
	struct swiotlb_mem *mem = mem_new(1 * MIB, 1, NULL);

	for (int round = 0; round < 8; round++) {
		struct swiotlb_dev *dev = dev_new(mem, "again", 0, 0);
		struct swiotlb_dev_stats ds = util_dev_stats(dev);

		CHECK_EQ(ds.maps, 0);
		CHECK_EQ(ds.unmaps, 0);
		for (int i = 0; i <= round; i++) {
			swiotlb_addr_t a = map_ok(dev, src, 512, SWIOTLB_FROM_DEVICE);

			CHECK_OK(swiotlb_unmap(dev, a, 512, SWIOTLB_FROM_DEVICE, 0));
		}
		ds = util_dev_stats(dev);
		CHECK_EQ(ds.maps, (uint64_t)round + 1);
		CHECK_EQ(ds.unmaps, (uint64_t)round + 1);
		CHECK_EQ(ds.bytes_from_device, 512 * ((uint64_t)round + 1));
		/* a map always copies in (no stale pool data reaches the device) */
		CHECK_EQ(ds.bytes_to_device, 512 * ((uint64_t)round + 1));
		CHECK_OK(swiotlb_dev_destroy(dev));
	}
	CHECK_OK(swiotlb_mem_destroy(mem));
}

int main(void)
{
	exited_threads_keep_their_counts();
	new_device_starts_from_zero();
	printf("devcount: exited threads' counts kept, new devices start from zero\n");
	return 0;
}
