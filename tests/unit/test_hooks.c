/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pool lifecycle hooks and max_pools: every pool is shown to pool_added
 * before any address in it is used, pool_removed follows once it is gone,
 * a refusal fails the map (or the growth), and max_pools caps pools. */
#include <pthread.h>
#include <unistd.h>

#include "unit.h"

struct hook_log {
	pthread_mutex_t lock;
	struct swiotlb_dev *probe;    /* is_bounce must not know the pool yet */
	int added[3], removed[3];     /* by kind */
	int refuse_kind;              /* -1: accept all */
	int seen_before_publish;      /* pools that is_bounce already knew */
};

static int on_added(void *ctx, const struct swiotlb_pool_info *info)
{
	struct hook_log *h = ctx;
	int refuse;

	CHECK(info->cpu != NULL && info->len >= SWIOTLB_SLOT_SIZE && info->len % 4096 == 0);
	CHECK_EQ(info->fd, -1); /* anonymous mmap: no file */
	pthread_mutex_lock(&h->lock);
	if (h->probe && swiotlb_is_bounce(h->probe, info->addr))
		h->seen_before_publish++;
	refuse = (int)info->kind == h->refuse_kind;
	if (!refuse)
		h->added[info->kind]++;
	pthread_mutex_unlock(&h->lock);
	return refuse ? -1 : 0;
}

static void on_removed(void *ctx, const struct swiotlb_pool_info *info)
{
	struct hook_log *h = ctx;

	pthread_mutex_lock(&h->lock);
	h->removed[info->kind]++;
	pthread_mutex_unlock(&h->lock);
}

static int removed_of(struct hook_log *h, int kind)
{
	int n;

	pthread_mutex_lock(&h->lock);
	n = h->removed[kind];
	pthread_mutex_unlock(&h->lock);
	return n;
}

/* Wait up to 2 s for removed[kind] to reach n. */
static void wait_removed(struct hook_log *h, int kind, int n)
{
	for (int i = 0; i < 200 && removed_of(h, kind) < n; i++)
		usleep(10 * 1000);
	CHECK_EQ(removed_of(h, kind), n);
}

static struct swiotlb_mem *mem_hooked(struct hook_log *h, unsigned max_pools)
{
	struct swiotlb_mem_config mc = { .size = 256 * KIB, .nareas = 1, .dynamic = true,
					 .grow_size = 256 * KIB, .shrink_delay_ms = 50,
					 .max_pools = max_pools, .pool_added = on_added,
					 .pool_removed = on_removed, .hook_ctx = h };

	return swiotlb_mem_create(&mc);
}

static void test_lifecycle(void)
{
	struct hook_log h = { .lock = PTHREAD_MUTEX_INITIALIZER, .refuse_kind = -1 };
	struct swiotlb_mem *mem = mem_hooked(&h, 0);
	static uint8_t big[256 * KIB], small[8 * KIB];
	swiotlb_addr_t hold, a;
	struct swiotlb_dev *dev;

	CHECK(mem != NULL);
	CHECK_EQ(h.added[SWIOTLB_POOL_INITIAL], 1);
	dev = dev_new(mem, "hooked", 0, 0);
	h.probe = dev;
	CHECK_OK(swiotlb_map(dev, big, sizeof(big), SWIOTLB_TO_DEVICE, 0, &hold));
	/* the shared pool is full: a transient pool, shown to the hook first */
	util_fill(small, sizeof(small), 3);
	CHECK_OK(swiotlb_map(dev, small, sizeof(small), SWIOTLB_BIDIRECTIONAL, 0, &a));
	CHECK_EQ(h.added[SWIOTLB_POOL_TRANSIENT], 1);
	CHECK_PAT(swiotlb_addr_to_cpu(dev, a), sizeof(small), 3);
	CHECK_OK(swiotlb_unmap(dev, a, sizeof(small), SWIOTLB_BIDIRECTIONAL, 0));
	wait_removed(&h, SWIOTLB_POOL_TRANSIENT, 1);
	/* growth was asked for: a grown pool, shown first, then shrunk when
	 * idle and removed */
	for (int i = 0; i < 200 && util_mem_stats(mem).grows == 0; i++)
		usleep(10 * 1000);
	CHECK_EQ(util_mem_stats(mem).grows, 1);
	CHECK_EQ(h.added[SWIOTLB_POOL_GROWN], 1);
	wait_removed(&h, SWIOTLB_POOL_GROWN, 1);
	CHECK_EQ(util_mem_stats(mem).shrinks, 1);
	CHECK_EQ(h.seen_before_publish, 0);
	CHECK_OK(swiotlb_unmap(dev, hold, sizeof(big), SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
	CHECK_EQ(h.removed[SWIOTLB_POOL_INITIAL], 1);
}

static void test_refusal(void)
{
	struct hook_log h = { .lock = PTHREAD_MUTEX_INITIALIZER,
			      .refuse_kind = SWIOTLB_POOL_TRANSIENT };
	struct swiotlb_mem *mem = mem_hooked(&h, 0);
	static uint8_t big[256 * KIB], small[8 * KIB];
	swiotlb_addr_t hold, a;
	struct swiotlb_dev *dev;
	struct swiotlb_stats s;

	CHECK(mem != NULL);
	dev = dev_new(mem, "refused", 0, 0);
	CHECK_OK(swiotlb_map(dev, big, sizeof(big), SWIOTLB_TO_DEVICE, 0, &hold));
	util_fill(small, sizeof(small), 9);
	CHECK_EQ(swiotlb_map(dev, small, sizeof(small), SWIOTLB_FROM_DEVICE,
			     SWIOTLB_ATTR_NO_WARN, &a), -ENOSPC);
	CHECK_PAT(small, sizeof(small), 9);
	s = util_mem_stats(mem);
	CHECK_EQ(s.transient_pools, 0);
	CHECK_EQ(s.failed_maps, 1);
	CHECK_EQ(h.removed[SWIOTLB_POOL_TRANSIENT], 0); /* never accepted */
	CHECK_OK(swiotlb_unmap(dev, hold, sizeof(big), SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));

	/* a refused grown pool counts as a growth failure */
	h.refuse_kind = SWIOTLB_POOL_GROWN;
	mem = mem_hooked(&h, 0);
	CHECK(mem != NULL);
	dev = dev_new(mem, "refused2", 0, 0);
	CHECK_OK(swiotlb_map(dev, big, sizeof(big), SWIOTLB_TO_DEVICE, 0, &hold));
	h.refuse_kind = SWIOTLB_POOL_GROWN;
	CHECK_EQ(swiotlb_map(dev, small, sizeof(small), SWIOTLB_TO_DEVICE, 0, &a), 0);
	for (int i = 0; i < 200 && util_mem_stats(mem).growth_failures == 0; i++)
		usleep(10 * 1000);
	CHECK(util_mem_stats(mem).growth_failures >= 1);
	CHECK_EQ(util_mem_stats(mem).grows, 0);
	CHECK_OK(swiotlb_unmap(dev, a, sizeof(small), SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(dev, hold, sizeof(big), SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
	/* refused initial pool: create fails */
	h.refuse_kind = SWIOTLB_POOL_INITIAL;
	errno = 0;
	CHECK(mem_hooked(&h, 0) == NULL);
	CHECK_EQ(errno, ENOMEM);
}

static void test_max_pools(void)
{
	struct hook_log h = { .lock = PTHREAD_MUTEX_INITIALIZER, .refuse_kind = -1 };
	struct swiotlb_mem *mem = mem_hooked(&h, 2);
	static uint8_t big[256 * KIB], s1[8 * KIB], s2[8 * KIB];
	swiotlb_addr_t hold, a1, a2;
	struct swiotlb_dev *dev;

	CHECK(mem != NULL);
	dev = dev_new(mem, "capped", 0, 0);
	CHECK_OK(swiotlb_map(dev, big, sizeof(big), SWIOTLB_TO_DEVICE, 0, &hold));
	/* the initial pool and one more: either the grown or a transient pool */
	int ok1 = swiotlb_map(dev, s1, sizeof(s1), SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, &a1);
	usleep(100 * 1000); /* let the growth thread try too */
	int ok2 = swiotlb_map(dev, s2, sizeof(s2), SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, &a2);
	pthread_mutex_lock(&h.lock);
	int alive = h.added[0] + h.added[1] + h.added[2] - h.removed[0] - h.removed[1] -
		    h.removed[2];
	pthread_mutex_unlock(&h.lock);
	CHECK(alive <= 2);
	CHECK_EQ(util_mem_stats(mem).pools + util_mem_stats(mem).transient_pools <= 2, 1);
	if (ok1 == 0)
		CHECK_OK(swiotlb_unmap(dev, a1, sizeof(s1), SWIOTLB_TO_DEVICE, 0));
	if (ok2 == 0)
		CHECK_OK(swiotlb_unmap(dev, a2, sizeof(s2), SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_unmap(dev, hold, sizeof(big), SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
}

int main(void)
{
	test_lifecycle();
	test_refusal();
	test_max_pools();
	printf("test_hooks: ok\n");
	return 0;
}
