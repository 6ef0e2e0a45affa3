/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fork() after the library was used: the child can map, sync and unmap
 * (urcu-bp's fork hooks are registered by the library), growth in the
 * child falls back to transient pools, and the parent is unaffected. */
#include <pthread.h>
#include <stdatomic.h>
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

static _Atomic bool hammer_stop;

/* Map and unmap in a loop, so that an area lock is often held when the
 * main thread forks. */
static void *hammer(void *arg)
{
	struct swiotlb_dev *dev = arg;
	static uint8_t b[4096];
	swiotlb_addr_t a;

	while (!atomic_load_explicit(&hammer_stop, memory_order_relaxed)) {
		CHECK_OK(swiotlb_map(dev, b, sizeof(b), SWIOTLB_BIDIRECTIONAL, 0, &a));
		CHECK_OK(swiotlb_unmap(dev, a, sizeof(b), SWIOTLB_BIDIRECTIONAL, 0));
	}
	return NULL;
}

/* A child forked while another thread maps and unmaps can map, unmap
 * and destroy everything it inherited (no lock of the other thread is
 * held forever in it), also after the parent released a transient pool
 * (liburcu's call_rcu worker must be usable in the child). */
static void test_fork_while_busy(void)
{
	struct swiotlb_mem_config mc = { .size = 256 * 1024, .nareas = 1, .dynamic = true };
	struct swiotlb_mem *mem = swiotlb_mem_create(&mc);
	struct swiotlb_dev_config dc = { .name = "busy", .force_bounce = true };
	struct swiotlb_dev *dev, *other;
	static uint8_t big[256 * 1024], small[8192];
	swiotlb_addr_t hold, t, t2;
	pthread_t th;

	CHECK(mem != NULL);
	dev = swiotlb_dev_create(mem, &dc);
	other = swiotlb_dev_create(mem, &dc);
	CHECK(dev && other);
	/* the parent releases a transient pool: a deferred free was queued */
	CHECK_OK(swiotlb_map(other, big, sizeof(big) - 8192, SWIOTLB_TO_DEVICE, 0, &hold));
	CHECK_OK(swiotlb_map(other, small, sizeof(small), SWIOTLB_TO_DEVICE, 0, &t));
	CHECK_OK(swiotlb_map(other, small, sizeof(small), SWIOTLB_TO_DEVICE, 0, &t2));
	CHECK_EQ(util_mem_stats(mem).transient_pools, 1);
	CHECK_OK(swiotlb_unmap(other, t2, sizeof(small), SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(other, t, sizeof(small), SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(other, hold, sizeof(big) - 8192, SWIOTLB_TO_DEVICE, 0));
	atomic_store_explicit(&hammer_stop, false, memory_order_relaxed);
	CHECK_OK(pthread_create(&th, NULL, hammer, dev));
	for (int i = 0; i < 40; i++) {
		int status;
		pid_t pid = fork();

		CHECK(pid >= 0);
		if (pid == 0) {
			alarm(10); /* a hang fails the test instead of blocking it */
			uint8_t b[4096];
			swiotlb_addr_t a;

			util_fill(b, sizeof(b), 7);
			if (swiotlb_map(other, b, sizeof(b), SWIOTLB_BIDIRECTIONAL, 0, &a) ||
			    swiotlb_unmap(other, a, sizeof(b), SWIOTLB_BIDIRECTIONAL, 0))
				_exit(20);
			/* the hammer thread's live mapping (if any) is a copy here:
			 * the child cannot unmap it, so only 'other' is destroyed */
			if (swiotlb_dev_destroy(other))
				_exit(21);
			_exit(0);
		}
		CHECK(waitpid(pid, &status, 0) == pid);
		CHECK(WIFEXITED(status));
		CHECK_EQ(WEXITSTATUS(status), 0);
	}
	atomic_store_explicit(&hammer_stop, true, memory_order_relaxed);
	CHECK_OK(pthread_join(th, NULL));
	/* a quiet child destroys the whole memory (used to hang in
	 * urcu_bp_barrier() once the parent had released a pool) */
	pid_t pid = fork();
	int status;

	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(10);
		_exit(swiotlb_dev_destroy(dev) || swiotlb_dev_destroy(other) ||
		      swiotlb_mem_destroy(mem) ? 30 : 0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_dev_destroy(other));
	CHECK_OK(swiotlb_mem_destroy(mem));
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
	test_fork_while_busy();
	printf("fork: child and parent both mapped and unmapped correctly\n");
	return 0;
}
