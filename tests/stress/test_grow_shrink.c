/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Growth, transient pools, shrinking, max_size and coherent allocations,
 * step by step (deterministic up to the background thread's timing, which
 * the test waits for by polling the stats).
 *
 * test_transient_then_grown_then_shrunk():
 *    a full 256 KiB pool -> the next map is served by a transient pool of
 *    the device (mem and dev stats say 1), a pool grows in the background
 *    (grows 1, pools 2), later maps come from the grown pool (no new
 *    transient pool), unmapping the transient mapping releases it (and the
 *    provider gets its memory back), and after everything is unmapped the
 *    grown pool is released no earlier than shrink_delay_ms and soon after
 *    (pools back to 1); its addresses are no longer bounce addresses.
 * test_max_size_bounds_pool_bytes():
 *    max_size: pool_bytes (and the provider's own count) never exceeds
 *    max_size; once reached, a map fails with -ENOSPC at once and a
 *    MAY_BLOCK map with -ETIMEDOUT; freeing one mapping makes room again.
 * test_coherent_alloc_pins_grown_pool():
 *    a grown pool holding a coherent allocation (swiotlb_alloc) is never
 *    shrunk, however long it idles; its memory stays usable; after
 *    swiotlb_free it is shrunk.
 * test_max_size_holds_under_concurrency():
 *    max_size under concurrency: 8 threads overflow the pools at the same
 *    moment; the transient pools they create together must stay within
 *    max_size (the provider's own count of live bytes is the judge).
 * test_provider_failure_counted_map_served():
 *    provider failures while growing are counted (growth_failures) and
 *    the map that triggered growth is still served (transient pool).
 */
#include "stress.h"

#define K64 (64u * 1024)

static struct util_prov prov;

struct map {
	uint8_t *buf;
	size_t size;
	swiotlb_addr_t addr;
	uint64_t seed;
};

static void do_map(struct swiotlb_dev *dev, struct map *m, size_t size, uint64_t seed)
{
	m->buf = aligned_alloc(4096, size);
	CHECK(m->buf);
	m->size = size;
	m->seed = seed;
	util_fill(m->buf, size, seed);
	int r = swiotlb_map(dev, m->buf, size, SWIOTLB_BIDIRECTIONAL, SWIOTLB_ATTR_NO_WARN, &m->addr);
	if (r != 0) {
		fprintf(stderr, "map of %zu failed: %s\n", size, swiotlb_strerror(r));
		exit(1);
	}
	CHECK(swiotlb_is_bounce(dev, m->addr));
	uint8_t *b = swiotlb_addr_to_cpu(dev, m->addr);
	CHECK(b != NULL);
	CHECK_EQ(util_verify(b, size, seed), size);
}

static void do_unmap(struct swiotlb_dev *dev, struct map *m)
{
	uint8_t *b = swiotlb_addr_to_cpu(dev, m->addr);
	CHECK(b != NULL);
	CHECK_EQ(util_verify(b, m->size, m->seed), m->size);
	util_fill(b, m->size, m->seed ^ 0xFEED);
	CHECK_OK(swiotlb_unmap(dev, m->addr, m->size, SWIOTLB_BIDIRECTIONAL, 0));
	CHECK_EQ(util_verify(m->buf, m->size, m->seed ^ 0xFEED), m->size);
	free(m->buf);
	m->buf = NULL;
}

/* Poll until cond(stats) or timeout; returns the last stats. */
#define WAIT_FOR(mem, st, cond, timeout_ms) do { \
	uint64_t _end = util_now_ns() + (uint64_t)(timeout_ms) * 1000000ull; \
	for (;;) { (st) = util_mem_stats(mem); if (cond) break; \
		if (util_now_ns() > _end) { stress_print_stats("timeout", &(st)); \
			fprintf(stderr, "%s:%d: timed out waiting for %s\n", __FILE__, __LINE__, #cond); \
			exit(1); } \
		util_sleep_ms(1); } } while (0)

static struct swiotlb_mem *make_mem(size_t max_size, unsigned shrink_ms)
{
	struct swiotlb_mem_config mc = {
		.size = 256 * 1024,
		.nareas = 1,
		.provider = &prov.p,
		.log = stress_log,
		.dynamic = true,
		.max_size = max_size,
		.grow_size = 512 * 1024,
		.shrink_delay_ms = shrink_ms,
	};
	struct swiotlb_mem *mem = swiotlb_mem_create(&mc);
	CHECK(mem != NULL);
	return mem;
}

static struct swiotlb_dev *make_dev(struct swiotlb_mem *mem, const char *name)
{
	struct swiotlb_dev_config dc = { .name = name, .force_bounce = true };
	struct swiotlb_dev *dev = swiotlb_dev_create(mem, &dc);
	CHECK(dev != NULL);
	return dev;
}

static void teardown(struct swiotlb_mem *mem, struct swiotlb_dev *dev)
{
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
	CHECK_EQ(util_prov_nlive(&prov), 0);
	/* relaxed: swiotlb_mem_destroy() joined the library's grow thread */
	CHECK_EQ(atomic_load_explicit(&prov.bytes_live, memory_order_relaxed), 0);
}

static void test_transient_then_grown_then_shrunk(void)
{
	const unsigned delay = 50;
	struct swiotlb_mem *mem = make_mem(0, delay);
	struct swiotlb_dev *dev = make_dev(mem, "grow-a");
	struct swiotlb_stats st = util_mem_stats(mem);
	CHECK_EQ(st.pools, 1);
	CHECK_EQ(st.grown_pools, 0);
	CHECK_EQ(st.total_slots, 128);
	CHECK_EQ(st.pool_bytes, 256 * 1024);
	CHECK_EQ(util_prov_nlive(&prov), 1);

	struct map init[4], tr, grown[8];
	for (int i = 0; i < 4; i++) {
		do_map(dev, &init[i], K64, 100 + i);
		CHECK_EQ(util_prov_len_at(&prov, init[i].addr), 256 * 1024);
	}
	st = util_mem_stats(mem);
	CHECK_EQ(st.used_slots, 128);
	CHECK_EQ(st.transient_pools, 0);
	CHECK_EQ(st.grows, 0);

	/* Pool full: served now by a transient pool of exactly this size. */
	do_map(dev, &tr, K64, 200);
	st = util_mem_stats(mem);
	CHECK_EQ(st.transient_pools, 1);
	CHECK_EQ(st.transient_created, 1);
	/* "exactly the needed size": 32 slots; the library adds the search's
	 * alignment slack (2 slots for a page-aligned run), tolerated here. */
	CHECK(st.transient_slots >= 32 && st.transient_slots <= 34);
	CHECK_EQ(st.used_slots, 128);
	CHECK_EQ(st.mappings, 5);
	CHECK_EQ(util_dev_stats(dev).transient_pools, 1);
	size_t tlen = util_prov_len_at(&prov, tr.addr);
	CHECK(tlen >= K64 && tlen < K64 + 4096 * 2);

	/* ... and a pool grows in the background. */
	WAIT_FOR(mem, st, st.grows >= 1 && st.pools == 2, 2000);
	CHECK_EQ(st.grows, 1);
	CHECK_EQ(st.grown_pools, 1);
	CHECK_EQ(st.total_slots, 128 + 256);
	CHECK_EQ(st.pool_bytes, 256 * 1024 + 512 * 1024 + tlen);

	/* Later maps come from the grown pool: no new transient pool. */
	for (int i = 0; i < 8; i++) {
		do_map(dev, &grown[i], K64, 300 + i);
		CHECK_EQ(util_prov_len_at(&prov, grown[i].addr), 512 * 1024);
	}
	st = util_mem_stats(mem);
	CHECK_EQ(st.transient_created, 1);
	CHECK_EQ(st.used_slots, 128 + 256);
	CHECK_EQ(st.mappings, 13);

	/* Unmapping the transient mapping releases the transient pool. */
	do_unmap(dev, &tr);
	WAIT_FOR(mem, st, st.transient_pools == 0, 2000);
	CHECK_EQ(st.transient_slots, 0);
	CHECK_EQ(util_dev_stats(dev).transient_pools, 0);
	/* the provider gets the memory back (after a grace period) */
	for (int i = 0; i < 2000 && util_prov_len_at(&prov, tr.addr) != 0; i++)
		util_sleep_ms(1);
	CHECK_EQ(util_prov_len_at(&prov, tr.addr), 0);
	CHECK(!swiotlb_is_bounce(dev, tr.addr));
	CHECK(swiotlb_addr_to_cpu(dev, tr.addr) == NULL);

	/* Unmap everything; the grown pool must idle shrink_delay_ms first. */
	swiotlb_addr_t grown_addr = grown[0].addr;
	for (int i = 0; i < 4; i++)
		do_unmap(dev, &init[i]);
	for (int i = 0; i < 7; i++)
		do_unmap(dev, &grown[i]);
	/* the grown pool goes idle when this unmap returns */
	CHECK_OK(swiotlb_unmap(dev, grown[7].addr, K64, SWIOTLB_BIDIRECTIONAL, 0));
	uint64_t t_idle = util_now_ns();
	CHECK_EQ(util_verify(grown[7].buf, K64, grown[7].seed), K64);
	free(grown[7].buf);
	st = util_mem_stats(mem);
	CHECK_EQ(st.used_slots, 0);
	CHECK_EQ(st.mappings, 0);
	WAIT_FOR(mem, st, st.shrinks >= 1 && st.pools == 1, 2000);
	double waited_ms = (util_now_ns() - t_idle) / 1e6;
	printf("transient_then_grown_then_shrunk: grown pool released %.1f ms after it went idle (delay %u ms)\n",
	       waited_ms, delay);
	CHECK(waited_ms >= delay - 1.0);
	CHECK_EQ(st.shrinks, 1);
	CHECK_EQ(st.grown_pools, 0);
	CHECK_EQ(st.total_slots, 128);
	/* pool_bytes drops when the memory is freed, after a grace period */
	WAIT_FOR(mem, st, st.pool_bytes == 256 * 1024, 2000);
	for (int i = 0; i < 2000 && util_prov_nlive(&prov) != 1; i++)
		util_sleep_ms(1);
	CHECK_EQ(util_prov_nlive(&prov), 1);
	/* The released pool's addresses are not bounce addresses any more. */
	CHECK(!swiotlb_is_bounce(dev, grown_addr));
	CHECK(swiotlb_addr_to_cpu(dev, grown_addr) == NULL);

	/* The initial pool is never shrunk and still works. */
	struct map again;
	do_map(dev, &again, K64, 400);
	CHECK_EQ(util_prov_len_at(&prov, again.addr), 256 * 1024);
	do_unmap(dev, &again);
	stress_print_stats("transient_then_grown_then_shrunk end", &st);
	teardown(mem, dev);
}

static atomic_bool sampler_stop;
static atomic_uint_fast64_t sampler_max;
static struct swiotlb_mem *sampler_mem;

static void *sampler(void *arg)
{
	(void)arg;
	/* stop flag and a statistic: relaxed (sampler_max is written only
	 * here; test_max_size_bounds_pool_bytes() reads it after pthread_join()) */
	while (!atomic_load_explicit(&sampler_stop, memory_order_relaxed)) {
		struct swiotlb_stats st = util_mem_stats(sampler_mem);
		if (st.pool_bytes > atomic_load_explicit(&sampler_max, memory_order_relaxed))
			atomic_store_explicit(&sampler_max, st.pool_bytes, memory_order_relaxed);
		util_sleep_us(200);
	}
	return NULL;
}

static void test_max_size_bounds_pool_bytes(void)
{
	const size_t max = 1024 * 1024;
	/* relaxed: no other thread runs yet (the previous memory's grow
	 * thread was joined; pthread_create() orders the sampler's) */
	atomic_store_explicit(&prov.bytes_peak, 0, memory_order_relaxed);
	struct swiotlb_mem *mem = make_mem(max, 0);
	struct swiotlb_dev *dev = make_dev(mem, "grow-b");
	sampler_mem = mem;
	atomic_store_explicit(&sampler_stop, false, memory_order_relaxed);
	atomic_store_explicit(&sampler_max, 0, memory_order_relaxed);
	pthread_t th;
	CHECK_OK(pthread_create(&th, NULL, sampler, NULL));

	struct map m[64];
	int n = 0, r = 0;
	struct swiotlb_stats st;
	for (;;) {
		CHECK(n < 64);
		m[n].buf = aligned_alloc(4096, K64);
		CHECK(m[n].buf);
		m[n].size = K64;
		m[n].seed = 500 + n;
		util_fill(m[n].buf, K64, m[n].seed);
		r = swiotlb_map(dev, m[n].buf, K64, SWIOTLB_BIDIRECTIONAL, SWIOTLB_ATTR_NO_WARN, &m[n].addr);
		if (r == -ENOSPC) {
			/* Let a growth in flight finish, then try once more. */
			util_sleep_ms(100);
			r = swiotlb_map(dev, m[n].buf, K64, SWIOTLB_BIDIRECTIONAL, SWIOTLB_ATTR_NO_WARN,
					&m[n].addr);
		}
		st = util_mem_stats(mem);
		CHECK(st.pool_bytes <= max);
		if (r != 0)
			break;
		n++;
		/* give the grower a chance between maps */
		util_sleep_ms(5);
	}
	CHECK_EQ(r, -ENOSPC);
	free(m[n].buf);
	util_sleep_ms(100);
	st = util_mem_stats(mem);
	printf("max_size_bounds_pool_bytes: %d x 64 KiB mapped under max_size %zu: pool_bytes %" PRIu64
	       ", provider peak %" PRIu64 ", grows %" PRIu64 ", transient %" PRIu64 "\n",
	       n, max, st.pool_bytes, /* bytes_peak: a statistic, relaxed */
	       (uint64_t)atomic_load_explicit(&prov.bytes_peak, memory_order_relaxed),
	       st.grows, st.transient_created);
	/* initial 4 + grown 8 at least; never more than max_size allows */
	CHECK(n >= 12);
	CHECK((size_t)n * K64 <= max);
	CHECK(st.pool_bytes <= max);
	CHECK(atomic_load_explicit(&prov.bytes_peak, memory_order_relaxed) <= max); /* statistic */

	/* Non-blocking: -ENOSPC at once.  MAY_BLOCK: -ETIMEDOUT. */
	uint8_t *extra = aligned_alloc(4096, K64);
	CHECK(extra);
	util_fill(extra, K64, 999);
	swiotlb_addr_t a;
	uint64_t failed0 = st.failed_maps;
	uint64_t t0 = util_now_ns();
	CHECK_EQ(swiotlb_map(dev, extra, K64, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, &a), -ENOSPC);
	double el = (util_now_ns() - t0) / 1e6;
	CHECK(el < 1000);
	t0 = util_now_ns();
	CHECK_EQ(swiotlb_map_timeout(dev, extra, K64, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, 50, &a),
		 -ETIMEDOUT);
	el = (util_now_ns() - t0) / 1e6;
	CHECK(el >= 45 && el < 2000);
	st = util_mem_stats(mem);
	CHECK(st.failed_maps >= failed0 + 2);
	CHECK(st.wait_timeouts >= 1);
	CHECK(st.pool_bytes <= max);

	/* Free one shared-pool mapping: the same map now fits. */
	int victim = 0;
	do_unmap(dev, &m[victim]);
	CHECK_OK(swiotlb_map(dev, extra, K64, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, &a));
	CHECK_OK(swiotlb_unmap(dev, a, K64, SWIOTLB_TO_DEVICE, 0));
	free(extra);
	for (int i = 1; i < n; i++)
		do_unmap(dev, &m[i]);

	/* stop flag only, publishes nothing: relaxed */
	atomic_store_explicit(&sampler_stop, true, memory_order_relaxed);
	CHECK_OK(pthread_join(th, NULL));
	/* relaxed: ordered by the pthread_join() above */
	CHECK(atomic_load_explicit(&sampler_max, memory_order_relaxed) <= max);
	st = util_mem_stats(mem);
	stress_print_stats("max_size_bounds_pool_bytes end", &st);
	CHECK_EQ(st.used_slots, 0);
	CHECK_EQ(st.mappings, 0);
	teardown(mem, dev);
}

static void test_coherent_alloc_pins_grown_pool(void)
{
	const unsigned delay = 20;
	struct swiotlb_mem *mem = make_mem(0, delay);
	struct swiotlb_dev *dev = make_dev(mem, "grow-c");
	struct map init[4], tr;
	struct swiotlb_stats st;
	for (int i = 0; i < 4; i++)
		do_map(dev, &init[i], K64, 600 + i);
	do_map(dev, &tr, K64, 700); /* transient; triggers growth */
	WAIT_FOR(mem, st, st.grows >= 1 && st.pools == 2, 2000);
	do_unmap(dev, &tr);

	/* Coherent allocation: the initial pool is full, so it lands in the
	 * grown pool. */
	swiotlb_addr_t caddr;
	const size_t csize = 8192;
	uint8_t *c = swiotlb_alloc(dev, csize, &caddr);
	CHECK(c != NULL);
	CHECK_EQ(util_prov_len_at(&prov, caddr), 512 * 1024);
	CHECK_EQ(caddr & 4095, 0);
	for (size_t i = 0; i < csize; i++)
		CHECK_EQ(c[i], 0);
	util_fill(c, csize, 777);
	st = util_mem_stats(mem);
	CHECK_EQ(st.coherent_allocs, 1);

	for (int i = 0; i < 4; i++)
		do_unmap(dev, &init[i]);
	/* Idle for 15x the shrink delay: the pool must stay. */
	util_sleep_ms(delay * 15);
	st = util_mem_stats(mem);
	CHECK_EQ(st.shrinks, 0);
	CHECK_EQ(st.pools, 2);
	CHECK_EQ(st.grown_pools, 1);
	CHECK_EQ(util_prov_len_at(&prov, caddr), 512 * 1024);
	CHECK(swiotlb_is_bounce(dev, caddr));
	CHECK_EQ(util_verify(c, csize, 777), csize);
	util_fill(c, csize, 778);
	CHECK_EQ(util_verify(c, csize, 778), csize);

	/* Freed: now it idles and goes. */
	CHECK_OK(swiotlb_free(dev, c, csize, caddr));
	WAIT_FOR(mem, st, st.shrinks >= 1 && st.pools == 1, 2000);
	CHECK_EQ(st.coherent_allocs, 0);
	CHECK_EQ(st.grown_pools, 0);
	for (int i = 0; i < 2000 && util_prov_len_at(&prov, caddr) != 0; i++)
		util_sleep_ms(1);
	CHECK_EQ(util_prov_len_at(&prov, caddr), 0);
	stress_print_stats("coherent_alloc_pins_grown_pool end", &st);
	teardown(mem, dev);
}

static void test_provider_failure_counted_map_served(void)
{
	/* With every pool full, the provider starts refusing: the map's
	 * transient pool and the growth both fail; the map reports it, the
	 * failures are counted, nothing leaks, and once the provider works
	 * again the next map is served. */
	struct swiotlb_mem *mem = make_mem(0, 0);
	struct swiotlb_dev *dev = make_dev(mem, "grow-d");
	struct map init[4];
	struct swiotlb_stats st;
	for (int i = 0; i < 4; i++)
		do_map(dev, &init[i], K64, 800 + i);
	struct map tr;
	do_map(dev, &tr, K64, 900); /* transient pool, growth woken */
	WAIT_FOR(mem, st, st.grows >= 1, 2000);
	do_unmap(dev, &tr);

	/* Fill the grown pool too, then make every provider call fail. */
	struct map g[8];
	for (int i = 0; i < 8; i++)
		do_map(dev, &g[i], K64, 1000 + i);
	/* test knob: relaxed; the map below (same thread) and the grow
	 * thread (woken under the library's grow_lock) see it */
	atomic_store_explicit(&prov.fail_next, 1000000, memory_order_relaxed);
	uint8_t *buf = aligned_alloc(4096, K64);
	CHECK(buf);
	util_fill(buf, K64, 1);
	swiotlb_addr_t a;
	int r = swiotlb_map(dev, buf, K64, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, &a);
	CHECK(r == -ENOSPC || r == -ENOMEM);
	WAIT_FOR(mem, st, st.growth_failures >= 1, 2000);
	util_sleep_ms(50);
	st = util_mem_stats(mem);
	CHECK_EQ(st.grows, 1);
	CHECK_EQ(st.pools, 2);
	CHECK_EQ(st.transient_pools, 0);
	printf("provider_failure_counted_map_served: map with failing provider -> %s, growth_failures %" PRIu64 "\n",
	       swiotlb_strerror(r), st.growth_failures);
	/* Provider works again: the next full-pool map goes transient. */
	atomic_store_explicit(&prov.fail_next, 0, memory_order_relaxed); /* test knob, as above */
	CHECK_OK(swiotlb_map(dev, buf, K64, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, &a));
	CHECK(swiotlb_is_bounce(dev, a));
	CHECK_OK(swiotlb_unmap(dev, a, K64, SWIOTLB_TO_DEVICE, 0));
	free(buf);
	for (int i = 0; i < 8; i++)
		do_unmap(dev, &g[i]);
	for (int i = 0; i < 4; i++)
		do_unmap(dev, &init[i]);
	WAIT_FOR(mem, st, st.transient_pools == 0 && st.mappings == 0, 2000);
	stress_print_stats("provider_failure_counted_map_served end", &st);
	teardown(mem, dev);
}

#define NE 8
static pthread_barrier_t e_bar; /* test_max_size_holds_under_concurrency() */
static struct swiotlb_dev *e_dev;
static atomic_int e_ok, e_nospc;

static void *e_thread(void *arg)
{
	struct map *m = arg;
	pthread_barrier_wait(&e_bar);
	int r = swiotlb_map(e_dev, m->buf, m->size, SWIOTLB_BIDIRECTIONAL, SWIOTLB_ATTR_NO_WARN, &m->addr);
	/* counters: relaxed, test_max_size_holds_under_concurrency() reads them after pthread_join() */
	if (r == 0)
		atomic_fetch_add_explicit(&e_ok, 1, memory_order_relaxed);
	else if (r == -ENOSPC)
		atomic_fetch_add_explicit(&e_nospc, 1, memory_order_relaxed);
	else
		CHECK_OK(r);
	if (r != 0)
		m->addr = 0;
	pthread_barrier_wait(&e_bar);
	return NULL;
}

static void test_max_size_holds_under_concurrency(void)
{
	/* 256 KiB pool + room for two transient pools of a 64 KiB mapping
	 * (too little for a grown pool, which is at least one segment). */
	const size_t max = 256 * 1024 + 200 * 1024;
	int rounds = (int)(40 * stress_scale());
	if (rounds < 5)
		rounds = 5;
	/* relaxed: no other thread runs yet (previous grow thread joined) */
	atomic_store_explicit(&prov.bytes_peak, 0, memory_order_relaxed);
	struct swiotlb_mem *mem = make_mem(max, 0);
	e_dev = make_dev(mem, "grow-e");
	struct map init[4], m[NE];
	for (int i = 0; i < 4; i++)
		do_map(e_dev, &init[i], K64, 1100 + i);
	for (int i = 0; i < NE; i++) {
		m[i].buf = aligned_alloc(4096, K64);
		CHECK(m[i].buf);
		m[i].size = K64;
	}
	CHECK_OK(pthread_barrier_init(&e_bar, NULL, NE));
	int worst_round = -1;
	uint64_t worst = 0;
	for (int r = 0; r < rounds; r++) {
		pthread_t th[NE];
		/* statistics: relaxed (a reset of the peak between rounds) */
		atomic_store_explicit(&prov.bytes_peak,
				      atomic_load_explicit(&prov.bytes_live, memory_order_relaxed),
				      memory_order_relaxed);
		for (int i = 0; i < NE; i++) {
			m[i].seed = 2000 + (uint64_t)r * NE + i;
			util_fill(m[i].buf, K64, m[i].seed);
			CHECK_OK(pthread_create(&th[i], NULL, e_thread, &m[i]));
		}
		for (int i = 0; i < NE; i++)
			CHECK_OK(pthread_join(th[i], NULL));
		/* statistic: relaxed; the racing maps were joined above */
		uint64_t peak = atomic_load_explicit(&prov.bytes_peak, memory_order_relaxed);
		if (peak > worst) {
			worst = peak;
			worst_round = r;
		}
		for (int i = 0; i < NE; i++) {
			if (m[i].addr) {
				uint8_t *b = swiotlb_addr_to_cpu(e_dev, m[i].addr);
				CHECK(b != NULL);
				CHECK_EQ(util_verify(b, K64, m[i].seed), K64);
				CHECK_OK(swiotlb_unmap(e_dev, m[i].addr, K64, SWIOTLB_BIDIRECTIONAL, 0));
			}
		}
		struct swiotlb_stats st;
		WAIT_FOR(mem, st, st.transient_pools == 0 && st.pool_bytes == 256 * 1024, 2000);
	}
	struct swiotlb_stats st = util_mem_stats(mem);
	printf("max_size_holds_under_concurrency: %d rounds of %d racing overflow maps under max_size %zu: "
	       "ok %d, -ENOSPC %d, worst provider peak %" PRIu64 " (round %d), grows %" PRIu64 "\n",
	       rounds, NE, max, atomic_load_explicit(&e_ok, memory_order_relaxed),
	       atomic_load_explicit(&e_nospc, memory_order_relaxed), worst, worst_round,
	       st.grows);
	if (worst > max) {
		fprintf(stderr, "max_size_holds_under_concurrency: pool memory %" PRIu64 " exceeded max_size %zu "
			"(concurrent transient/grow creations both passed the max_size check)\n",
			worst, max);
		exit(1);
	}
	CHECK(atomic_load_explicit(&e_ok, memory_order_relaxed) >= rounds * 2); /* after join */
	CHECK_OK(pthread_barrier_destroy(&e_bar));
	for (int i = 0; i < NE; i++)
		free(m[i].buf);
	for (int i = 0; i < 4; i++)
		do_unmap(e_dev, &init[i]);
	teardown(mem, e_dev);
}

int main(void)
{
	util_prov_init(&prov, NULL);
	test_transient_then_grown_then_shrunk();
	printf("transient_then_grown_then_shrunk: ok\n");
	test_max_size_bounds_pool_bytes();
	printf("max_size_bounds_pool_bytes: ok\n");
	test_coherent_alloc_pins_grown_pool();
	printf("coherent_alloc_pins_grown_pool: ok\n");
	test_provider_failure_counted_map_served();
	printf("provider_failure_counted_map_served: ok\n");
	test_max_size_holds_under_concurrency();
	printf("max_size_holds_under_concurrency: ok\n");
	printf("test_grow_shrink: OK\n");
	return 0;
}
