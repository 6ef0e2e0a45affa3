/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swiotlb_is_bounce / swiotlb_addr_to_cpu while pools come and go.
 *
 * A dynamic memory (256 KiB initial pool, 256 KiB grown pools, 1 ms shrink
 * delay) is churned by two threads on device A (bursts of maps that
 * overflow the pools, then idle gaps that let grown pools shrink, so pools
 * and transient pools are added and removed continuously).  Meanwhile:
 *
 *  - the checker thread holds one live mapping at a time on its own device
 *    B and checks, over and over while the pool list changes under it:
 *    is_bounce(B, every slot of the mapping) is true, addr_to_cpu(B, a + k)
 *    == addr_to_cpu(B, a) + k, the bounce bytes equal the original; and
 *    for device A (which has bounced): true for a shared pool, FALSE for a
 *    transient pool of B (a transient pool belongs to its device only);
 *    for the never-bounced device N: always false;
 *  - a plain malloc'd buffer that is never mapped is never reported as a
 *    bounce address by any device;
 *  - the recycler thread (the delete shape): mmaps plain memory, often
 *    exactly where a pool was just released, and checks that no device
 *    reports any of it as a bounce address (a stale pool left in the
 *    lookup after its memory was freed would be found here), then maps it
 *    on device N (direct: the same address back, not a bounce address, and
 *    unmap is a no-op).
 *
 * Usage: test_lookup_concurrent [duration_ms]; env SWIOTLB_STRESS_SCALE,
 * SWIOTLB_LOOKUP_MS.
 */
#include "stress.h"

#include <sched.h>
#include <sys/mman.h>

#define CHURN_MAX (64u * 1024)
#define CHURN_N 40
#define CHECK_MAX (32u * 1024)
#define POOL_BYTES (256u * 1024)

static struct util_prov prov;
static struct swiotlb_mem *mem;
static struct swiotlb_dev *devA, *devB, *devN;
static atomic_bool stop;
static uint8_t *plain;        /* never mapped */
static const size_t plain_len = 64 * 1024;

static atomic_uint_fast64_t n_checks, n_check_maps, n_in_transient, n_in_shared,
	n_recycled, n_reuse_hits, n_churn_maps, n_direct;

static void die(const char *what, swiotlb_addr_t a)
{
	fprintf(stderr, "test_lookup_concurrent: %s (addr 0x%" PRIx64 ")\n", what, a);
	struct swiotlb_stats st = util_mem_stats(mem);
	stress_print_stats("at failure", &st);
	exit(1);
}

static void check_plain(void)
{
	for (size_t off = 0; off < plain_len; off += 2048) {
		swiotlb_addr_t a = (swiotlb_addr_t)(uintptr_t)(plain + off);
		if (swiotlb_is_bounce(devA, a) || swiotlb_is_bounce(devB, a) ||
		    swiotlb_is_bounce(devN, a))
			die("never-mapped buffer reported as bounce", a);
		if (swiotlb_addr_to_cpu(devA, a) || swiotlb_addr_to_cpu(devB, a))
			die("never-mapped buffer has a bounce CPU address", a);
	}
}

static void *churn(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint64_t rs = 0xC4021 + id * 7919;
	uint8_t *bufs = malloc((size_t)CHURN_N * CHURN_MAX);
	CHECK(bufs);
	swiotlb_addr_t addr[CHURN_N];
	size_t size[CHURN_N];
	uint64_t seed[CHURN_N];
	uint64_t nseq = (uint64_t)id << 40;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		int n = (int)util_rand_range(&rs, 1, CHURN_N);
		for (int i = 0; i < n; i++) {
			size[i] = util_rand_range(&rs, 1, CHURN_MAX);
			seed[i] = ++nseq;
			uint8_t *b = bufs + (size_t)i * CHURN_MAX;
			util_fill(b, size[i], seed[i]);
			int r;
			while ((r = swiotlb_map(devA, b, size[i], SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN,
						&addr[i])) == -ENOSPC)
				sched_yield();
			if (r)
				die(swiotlb_strerror(r), 0);
			atomic_fetch_add_explicit(&n_churn_maps, 1, memory_order_relaxed);
		}
		for (int i = 0; i < n; i++) {
			uint8_t *c = swiotlb_addr_to_cpu(devA, addr[i]);
			if (!c)
				die("churn: addr_to_cpu NULL for a live mapping", addr[i]);
			if (util_verify(c, size[i], seed[i]) != size[i])
				die("churn: bounce content wrong", addr[i]);
			if (swiotlb_unmap(devA, addr[i], size[i], SWIOTLB_TO_DEVICE, 0))
				die("churn: unmap failed", addr[i]);
		}
		if (util_rand(&rs) % 4 == 0)
			util_sleep_us((unsigned)util_rand_range(&rs, 1500, 4000));
	}
	free(bufs);
	return NULL;
}

static void *checker(void *arg)
{
	(void)arg;
	uint64_t rs = 0xC11EC;
	uint8_t *buf = aligned_alloc(4096, CHECK_MAX + 4096);
	CHECK(buf);
	uint64_t seq = 0;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		size_t size = util_rand_range(&rs, 1, CHECK_MAX);
		uint8_t *orig = buf + util_rand_range(&rs, 0, 4095);
		util_fill(orig, size, ++seq);
		swiotlb_addr_t a;
		int r;
		while ((r = swiotlb_map(devB, orig, size, SWIOTLB_BIDIRECTIONAL, SWIOTLB_ATTR_NO_WARN,
					&a)) == -ENOSPC)
			sched_yield();
		if (r)
			die(swiotlb_strerror(r), 0);
		atomic_fetch_add_explicit(&n_check_maps, 1, memory_order_relaxed);

		/* Transient pools are sized to the mapping; shared pools are
		 * 256 KiB.  The provider knows which one holds the mapping. */
		size_t plen = util_prov_len_at(&prov, a);
		if (plen == 0)
			die("mapping not inside any provider allocation", a);
		bool transient = plen < POOL_BYTES;
		if (transient) {
			atomic_fetch_add_explicit(&n_in_transient, 1, memory_order_relaxed);
			if (util_dev_stats(devB).transient_pools < 1)
				die("mapping in a transient pool but dev transient_pools == 0", a);
		} else {
			atomic_fetch_add_explicit(&n_in_shared, 1, memory_order_relaxed);
		}

		uint8_t *c0 = swiotlb_addr_to_cpu(devB, a);
		if (!c0)
			die("addr_to_cpu NULL for the checker's live mapping", a);
		int rounds = (int)util_rand_range(&rs, 20, 200);
		for (int k = 0; k < rounds; k++) {
			uint64_t off = util_rand_range(&rs, 0, size - 1);
			if (!swiotlb_is_bounce(devB, a) || !swiotlb_is_bounce(devB, a + off) ||
			    !swiotlb_is_bounce(devB, a + size - 1))
				die("is_bounce false for a live mapping during churn", a + off);
			if (swiotlb_addr_to_cpu(devB, a + off) != c0 + off)
				die("addr_to_cpu(a + off) != addr_to_cpu(a) + off", a + off);
			if (swiotlb_is_bounce(devN, a + off) || swiotlb_addr_to_cpu(devN, a + off))
				die("never-bounced device reports a bounce address", a + off);
			bool in_a = swiotlb_is_bounce(devA, a + off);
			if (transient && in_a)
				die("device A sees device B's transient pool", a + off);
			if (!transient && !in_a)
				die("device A does not see a shared pool", a + off);
			if (k % 16 == 0) {
				if (util_verify(c0, size, seq) != size)
					die("checker: bounce content changed under a live mapping", a);
				check_plain();
			}
			atomic_fetch_add_explicit(&n_checks, 1, memory_order_relaxed);
		}
		util_fill(c0, size, seq ^ 0x77);
		if (swiotlb_unmap(devB, a, size, SWIOTLB_BIDIRECTIONAL, 0))
			die("checker: unmap failed", a);
		if (util_verify(orig, size, seq ^ 0x77) != size)
			die("checker: copy back wrong", a);
	}
	free(buf);
	return NULL;
}

static void *recycler(void *arg)
{
	(void)arg;
	const size_t len = POOL_BYTES;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap failed", 0);
		uintptr_t lf = atomic_load_explicit(&prov.last_freed_cpu, memory_order_relaxed);
		if (lf >= (uintptr_t)p && lf < (uintptr_t)p + len)
			atomic_fetch_add_explicit(&n_reuse_hits, 1, memory_order_relaxed);
		for (size_t off = 0; off < len; off += 2048) {
			swiotlb_addr_t a = (swiotlb_addr_t)(uintptr_t)(p + off);
			if (swiotlb_is_bounce(devA, a) || swiotlb_is_bounce(devB, a))
				die("memory reused as a plain buffer is still a bounce address", a);
			if (swiotlb_addr_to_cpu(devA, a) || swiotlb_addr_to_cpu(devB, a))
				die("memory reused as a plain buffer has a bounce CPU address", a);
			if (swiotlb_is_bounce(devN, a))
				die("never-bounced device reports a bounce address", a);
		}
		/* Use it as a buffer that device N reaches directly. */
		memset(p, 0x3C, 4096);
		swiotlb_addr_t d;
		CHECK_OK(swiotlb_map(devN, p, 4096, SWIOTLB_BIDIRECTIONAL, 0, &d));
		if (d != (swiotlb_addr_t)(uintptr_t)p)
			die("direct map did not return the identity address", d);
		if (swiotlb_is_bounce(devN, d))
			die("direct address reported as bounce", d);
		CHECK_OK(swiotlb_unmap(devN, d, 4096, SWIOTLB_BIDIRECTIONAL, 0));
		atomic_fetch_add_explicit(&n_direct, 1, memory_order_relaxed);
		munmap(p, len);
		atomic_fetch_add_explicit(&n_recycled, 1, memory_order_relaxed);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long ms = argc > 1 ? strtol(argv[1], NULL, 0)
			   : stress_env_long("SWIOTLB_LOOKUP_MS", (long)(3000 * stress_scale()));
	if (ms < 100)
		ms = 100;
	util_prov_init(&prov, NULL);
	struct swiotlb_mem_config mc = {
		.size = POOL_BYTES,
		.provider = &prov.p,
		.log = stress_log,
		.dynamic = true,
		.max_size = 32u << 20,
		.grow_size = POOL_BYTES,
		.shrink_delay_ms = 1,
	};
	mem = swiotlb_mem_create(&mc);
	CHECK(mem != NULL);
	struct swiotlb_dev_config ca = { .name = "churn-A", .force_bounce = true };
	struct swiotlb_dev_config cb = { .name = "checker-B", .force_bounce = true };
	struct swiotlb_dev_config cn = { .name = "never-N" };
	devA = swiotlb_dev_create(mem, &ca);
	devB = swiotlb_dev_create(mem, &cb);
	devN = swiotlb_dev_create(mem, &cn);
	CHECK(devA && devB && devN);
	plain = malloc(plain_len);
	CHECK(plain);
	memset(plain, 1, plain_len);

	/* Before anything bounced: every device answers false. */
	check_plain();

	pthread_t ch[2], ck, rc;
	for (unsigned i = 0; i < 2; i++)
		CHECK_OK(pthread_create(&ch[i], NULL, churn, (void *)(uintptr_t)i));
	while (util_dev_stats(devA).maps == 0)
		util_sleep_us(100);
	CHECK_OK(pthread_create(&ck, NULL, checker, NULL));
	CHECK_OK(pthread_create(&rc, NULL, recycler, NULL));

	uint64_t t0 = util_now_ns();
	while (util_now_ns() - t0 < (uint64_t)ms * 1000000ull)
		util_sleep_ms(20);
	/* stop flag only (read relaxed by the workers); publishes nothing */
	atomic_store_explicit(&stop, true, memory_order_relaxed);
	for (unsigned i = 0; i < 2; i++)
		CHECK_OK(pthread_join(ch[i], NULL));
	CHECK_OK(pthread_join(ck, NULL));
	CHECK_OK(pthread_join(rc, NULL));

	struct swiotlb_stats st;
	for (int i = 0; i < 300; i++) {
		st = util_mem_stats(mem);
		if (st.transient_pools == 0 && st.grown_pools == 0)
			break;
		util_sleep_ms(10);
	}
	printf("test_lookup_concurrent: %ld ms: %" PRIu64 " lookup rounds on %" PRIu64
	       " checker mappings (%" PRIu64 " in transient pools, %" PRIu64 " in shared), %"
	       PRIu64 " churn maps, %" PRIu64 " plain mmaps checked (%" PRIu64
	       " landed on a just-freed pool), %" PRIu64 " direct maps; grows %" PRIu64
	       " shrinks %" PRIu64 " transient %" PRIu64 "\n",
	       /* counters: relaxed, ordered by the pthread_join()s above */
	       ms, atomic_load_explicit(&n_checks, memory_order_relaxed),
	       atomic_load_explicit(&n_check_maps, memory_order_relaxed),
	       atomic_load_explicit(&n_in_transient, memory_order_relaxed),
	       atomic_load_explicit(&n_in_shared, memory_order_relaxed),
	       atomic_load_explicit(&n_churn_maps, memory_order_relaxed),
	       atomic_load_explicit(&n_recycled, memory_order_relaxed),
	       atomic_load_explicit(&n_reuse_hits, memory_order_relaxed),
	       atomic_load_explicit(&n_direct, memory_order_relaxed), st.grows, st.shrinks,
	       st.transient_created);
	stress_print_stats("lookup end", &st);
	CHECK_EQ(st.used_slots, 0);
	CHECK_EQ(st.mappings, 0);
	CHECK_EQ(st.transient_pools, 0);
	CHECK_EQ(st.grown_pools, 0);
	CHECK(atomic_load_explicit(&n_checks, memory_order_relaxed) >= 1000); /* after join */
	CHECK(st.grows >= 10);
	CHECK(st.shrinks >= 10);
	CHECK(st.transient_created >= 10);
	CHECK(atomic_load_explicit(&n_recycled, memory_order_relaxed) >= 10); /* after join */
	struct swiotlb_dev_stats dn = util_dev_stats(devN);
	CHECK_EQ(dn.maps, 0);
	/* relaxed: ordered by the pthread_join()s above */
	CHECK_EQ(dn.direct_maps, atomic_load_explicit(&n_direct, memory_order_relaxed));
	check_plain();

	CHECK_OK(swiotlb_dev_destroy(devA));
	CHECK_OK(swiotlb_dev_destroy(devB));
	CHECK_OK(swiotlb_dev_destroy(devN));
	CHECK_OK(swiotlb_mem_destroy(mem));
	CHECK_EQ(util_prov_nlive(&prov), 0);
	free(plain);
	printf("test_lookup_concurrent: OK\n");
	return 0;
}
