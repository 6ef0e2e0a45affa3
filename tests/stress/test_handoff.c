/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The seed's P0/P1 as a stress test.
 *
 * N mapping threads (P0) map buffers and hand the device addresses to M
 * unmapping threads (P1) through rings whose words are written and read
 * with RELAXED C11 atomics only.  The header promises that this is enough:
 * "the caller hands the device address over through its own memory ...
 * with any ordering, even relaxed: the library's own barriers make the
 * unmap find the mapping."  The memory is dynamic with a tiny initial pool
 * (256 KiB), grown pools of one segment (256 KiB) and a 1 ms shrink delay;
 * the load follows a duty cycle (busy 3 ms of every 8 ms by default: the
 * pools overflow; then idle: they drain and shrink), so growth, transient
 * pools and shrinking happen thousands of times while addresses are in
 * flight between threads (a default plain run: ~900 grows and shrinks and
 * ~7000 transient pools in 4 s).
 *
 * Every byte is verified.  The unmapper plays the device:
 *  - every direction: the bounce buffer (seen through swiotlb_addr_to_cpu)
 *    holds the original bytes (map copies for every direction);
 *  - FROM_DEVICE / BIDIRECTIONAL: it writes a device pattern into the
 *    bounce buffer, sometimes syncs a sub-range for the CPU and checks it,
 *    unmaps, and checks that the original now holds the device pattern;
 *  - TO_DEVICE: it scribbles over the bounce buffer and checks, after the
 *    unmap, that the original was NOT written back.
 * At the end: no used slots, no mappings, no transient pools, grown pools
 * shrink back, the devices and the memory are destroyed (0) and the
 * counting provider got every pool back (LSan does not see mmap memory,
 * so this check is what proves "every pool is freed").
 *
 * Ring protocol (one ring per mapper, R slots; any unmapper may serve any
 * ring).  slot.state: 0 = empty, owned by the mapper; CLAIMED = owned by an
 * unmapper; anything else = the published device address.  All slot words
 * are relaxed atomics; the ring itself never uses acquire/release.
 *
 * What the test orders itself, and why: the ORIGINAL buffer and the slot's
 * descriptor words (size, dir, buf, seq, dev) are the test's own data, so
 * the test hands them over with its own fence pair:
 *   mapper:   fill original, store descriptor   ; fence(release)   [F1]
 *             swiotlb_map()                      (bounce copy happens here)
 *             store state = addr (relaxed)
 *   unmapper: CAS state addr -> CLAIMED (relaxed) ; fence(acquire) [F2]
 * F1 pairs with F2 through the relaxed state word.  F1 sits BEFORE
 * swiotlb_map() on purpose: the bytes the library copies into the bounce
 * buffer, and the pool/lookup state the unmap needs, are ordered only by
 * the library's own barriers -- exactly what the header promises and what
 * this test checks.  The way back (unmapper: fence(release) [F3] before
 * state = 0; mapper: fence(acquire) [F4] after seeing 0) returns the
 * original buffer, which unmap wrote, to the mapper.  Under TSan the fences
 * are annotated with __tsan_release/__tsan_acquire on the slot (see
 * stress.h); the annotation is made at the same program point as the
 * fence, so it covers nothing the library copies.
 *
 * Usage: test_handoff [duration_ms [mappers [unmappers [ring]]]]
 * Env:   SWIOTLB_STRESS_SCALE (duration multiplier), SWIOTLB_HANDOFF_MS,
 *        SWIOTLB_HANDOFF_MAPPERS, SWIOTLB_HANDOFF_UNMAPPERS,
 *        SWIOTLB_HANDOFF_RING, SWIOTLB_HANDOFF_SEED, SWIOTLB_HANDOFF_PERIOD_US,
 *        SWIOTLB_HANDOFF_BUSY_US, SWIOTLB_HANDOFF_LATENCY_US (duty cycle),
 *        SWIOTLB_HANDOFF_MIN_GROWS / _MIN_TRANSIENT / _MIN_SHRINKS
 *        (thresholds per second of run; 0 disables that check).
 */
#include "stress.h"

#include <sched.h>

#define MAX_MAP (64u * 1024)      /* largest mapping the test makes */
#define AREA_BYTES (MAX_MAP + 8192)
#define CLAIMED 1ull
#define NDEV 2
#define DEV_PAT_XOR 0xD0D0D0D0DEADBEEFull
#define SCRIBBLE_XOR 0x5C5C5C5C12345678ull

struct slot {
	_Atomic uint64_t state;   /* 0, CLAIMED or the device address */
	_Atomic uint64_t size;
	_Atomic int dir;
	_Atomic uintptr_t buf;
	_Atomic uint64_t seq;
	_Atomic int dev;
	_Atomic uint64_t t_pub;   /* when published (device latency) */
	uint8_t *area;            /* immutable after setup */
} __attribute__((aligned(64)));

struct ring {
	struct slot *slots;
	unsigned n;
};

static struct swiotlb_mem *mem;
static struct swiotlb_dev *devs[NDEV];
static struct ring *rings;
static unsigned nmappers, nunmappers, ring_len;
static uint64_t seed0;

static atomic_bool stop_mapping;
static atomic_bool mappers_done;
static atomic_uint_fast64_t n_mapped, n_unmapped, n_bytes, n_retries, n_syncs,
	n_blocking, n_dir[3];

static void fail_slot(const char *what, uint64_t addr, uint64_t size, int dir, int dev,
		      uint64_t seq, size_t at)
{
	fprintf(stderr, "test_handoff: %s: addr=0x%" PRIx64 " size=%" PRIu64
		" dir=%d dev=%d seq=0x%" PRIx64 " first bad byte %zu\n",
		what, addr, size, dir, dev, seq, at);
	struct swiotlb_stats st = util_mem_stats(mem);
	stress_print_stats("stats at failure", &st);
	exit(1);
}

static uint64_t pick_size(uint64_t *rs)
{
	uint64_t r = util_rand(rs) % 100;
	if (r < 50)
		return util_rand_range(rs, 1, 4096);
	if (r < 85)
		return util_rand_range(rs, 4097, 16384);
	return util_rand_range(rs, 16385, MAX_MAP);
}

/* The load follows a duty cycle shared by all threads (computed from the
 * clock, no coordination): during the busy part of each period the
 * mappers map as fast as their rings allow and the unmappers play a device
 * with latency_ns of latency, so mappings pile up and the pools overflow
 * (transient pools, growth); during the rest the mappers pause and the
 * unmappers drain everything, so grown pools go idle and are shrunk. */
static uint64_t t_origin, period_ns, busy_ns, latency_ns;

static bool busy_now(uint64_t now)
{
	return (now - t_origin) % period_ns < busy_ns;
}

static void *mapper(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	struct ring *rg = &rings[id];
	uint64_t rs = seed0 ^ (0x1000 + id) * 0x9E3779B97F4A7C15ull;
	uint64_t nseq = 0;
	unsigned idx = 0;

	while (!atomic_load_explicit(&stop_mapping, memory_order_relaxed)) {
		uint64_t now = util_now_ns();
		if (!busy_now(now)) {
			uint64_t left = period_ns - (now - t_origin) % period_ns;
			util_sleep_us((unsigned)(left / 1000) + 1);
			continue;
		}
		struct slot *s = &rg->slots[idx];
		if (atomic_load_explicit(&s->state, memory_order_relaxed) != 0) {
			sched_yield(); /* ring full: the device is behind */
			continue;
		}
		idx = (idx + 1) % rg->n;
		/* F4: pairs with F3, the release fence at the end of serve() */
		util_fence_acquire(s);

		uint64_t size = pick_size(&rs);
		int dir = (int)(util_rand(&rs) % 3);
		int d = (int)(util_rand(&rs) % NDEV);
		uint8_t *buf = s->area + util_rand_range(&rs, 0, AREA_BYTES - MAX_MAP - 1);
		uint64_t seq = ((uint64_t)(id + 1) << 40) | ++nseq;
		util_fill(buf, size, seq);
		atomic_store_explicit(&s->size, size, memory_order_relaxed);
		atomic_store_explicit(&s->dir, dir, memory_order_relaxed);
		atomic_store_explicit(&s->buf, (uintptr_t)buf, memory_order_relaxed);
		atomic_store_explicit(&s->seq, seq, memory_order_relaxed);
		atomic_store_explicit(&s->dev, d, memory_order_relaxed);
		/* F1: hands over the original buffer and the descriptor words
		 * above, nothing the library does below.  Pairs with F2, the
		 * acquire fence at the start of serve(). */
		util_fence_release(s);

		unsigned attrs = SWIOTLB_ATTR_NO_WARN;
		if (util_rand(&rs) % 8 == 0) {
			attrs |= SWIOTLB_ATTR_MAY_BLOCK;
			atomic_fetch_add_explicit(&n_blocking, 1, memory_order_relaxed);
		}
		swiotlb_addr_t addr = 0;
		int r;
		for (;;) {
			r = swiotlb_map(devs[d], buf, size, (enum swiotlb_dir)dir, attrs, &addr);
			if (r != -ENOSPC && r != -ETIMEDOUT)
				break;
			/* max_size reached: let the unmappers catch up. */
			atomic_fetch_add_explicit(&n_retries, 1, memory_order_relaxed);
			sched_yield();
		}
		if (r != 0)
			fail_slot(swiotlb_strerror(r), 0, size, dir, d, seq, 0);
		if (addr <= CLAIMED)
			fail_slot("map returned an impossible address", addr, size, dir, d, seq, 0);
		if (d == 1 && (addr & 4095) != ((uintptr_t)buf & 4095))
			fail_slot("min_align_mask 4095 not preserved", addr, size, dir, d, seq, 0);
		atomic_fetch_add_explicit(&n_mapped, 1, memory_order_relaxed);
		atomic_store_explicit(&s->t_pub, util_now_ns(), memory_order_relaxed);
		/* P0's hand-off: a relaxed store of the device address. */
		atomic_store_explicit(&s->state, addr, memory_order_relaxed);
	}
	return NULL;
}

static void serve(struct slot *s, uint64_t addr, uint64_t *rs)
{
	util_fence_acquire(s); /* F2: pairs with F1, the release fence in mapper() */
	uint64_t size = atomic_load_explicit(&s->size, memory_order_relaxed);
	int dir = atomic_load_explicit(&s->dir, memory_order_relaxed);
	uint8_t *buf = (uint8_t *)atomic_load_explicit(&s->buf, memory_order_relaxed);
	uint64_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
	int d = atomic_load_explicit(&s->dev, memory_order_relaxed);
	struct swiotlb_dev *dev = devs[d];
	size_t at;

	/* P1: the library must find the mapping from the address alone. */
	if (!swiotlb_is_bounce(dev, addr))
		fail_slot("is_bounce false for a live mapping handed over relaxed", addr, size, dir, d, seq, 0);
	uint8_t *bounce = swiotlb_addr_to_cpu(dev, addr);
	if (!bounce)
		fail_slot("addr_to_cpu NULL for a live mapping", addr, size, dir, d, seq, 0);

	/* Map copies the original in for every direction. */
	if ((at = util_verify(bounce, size, seq)) != size)
		fail_slot("bounce buffer != original after map", addr, size, dir, d, seq, at);

	if (dir == SWIOTLB_TO_DEVICE) {
		/* The device must not write, but if it did, unmap must not
		 * copy anything back for TO_DEVICE. */
		util_fill(bounce, size, seq ^ SCRIBBLE_XOR);
	} else {
		util_fill(bounce, size, seq ^ DEV_PAT_XOR);
		if (dir == SWIOTLB_BIDIRECTIONAL && size > 2 && util_rand(rs) % 4 == 0) {
			/* Partial sync at an offset lands on the matching bytes. */
			uint64_t a = util_rand_range(rs, 0, size - 2);
			uint64_t len = util_rand_range(rs, 1, size - a);
			int r = swiotlb_sync_for_cpu(dev, addr + a, len, SWIOTLB_BIDIRECTIONAL);
			if (r != 0)
				fail_slot("sync_for_cpu failed", addr, size, dir, d, seq, (size_t)a);
			for (uint64_t i = 0; i < size; i++) {
				uint8_t want = (i >= a && i < a + len) ? util_pat(seq ^ DEV_PAT_XOR, i)
								      : util_pat(seq, i);
				if (buf[i] != want)
					fail_slot("partial sync_for_cpu wrong bytes", addr, size, dir, d, seq, i);
			}
			atomic_fetch_add_explicit(&n_syncs, 1, memory_order_relaxed);
		}
	}

	int r = swiotlb_unmap(dev, addr, size, (enum swiotlb_dir)dir, 0);
	if (r != 0)
		fail_slot(swiotlb_strerror(r), addr, size, dir, d, seq, 0);

	uint64_t want = dir == SWIOTLB_TO_DEVICE ? seq : (seq ^ DEV_PAT_XOR);
	if ((at = util_verify(buf, size, want)) != size)
		fail_slot(dir == SWIOTLB_TO_DEVICE ? "TO_DEVICE unmap wrote the original"
						   : "original != device data after unmap",
			  addr, size, dir, d, seq, at);

	atomic_fetch_add_explicit(&n_unmapped, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&n_bytes, size, memory_order_relaxed);
	atomic_fetch_add_explicit(&n_dir[dir], 1, memory_order_relaxed);

	util_fence_release(s); /* F3: pairs with F4, the acquire fence in mapper() */
	atomic_store_explicit(&s->state, 0, memory_order_relaxed);
}

static void *unmapper(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint64_t rs = seed0 ^ (0x2000 + id) * 0xC2B2AE3D27D4EB4Full;

	for (;;) {
		bool any = false, all_empty = true;
		unsigned start = (unsigned)(util_rand(&rs) % nmappers);
		bool done = atomic_load_explicit(&mappers_done, memory_order_relaxed);
		for (unsigned k = 0; k < nmappers; k++) {
			struct ring *rg = &rings[(start + k) % nmappers];
			for (unsigned i = 0; i < rg->n; i++) {
				struct slot *s = &rg->slots[i];
				uint64_t v = atomic_load_explicit(&s->state, memory_order_relaxed);
				if (v != 0)
					all_empty = false;
				if (v <= CLAIMED)
					continue;
				uint64_t now = util_now_ns();
				if (!done && busy_now(now) &&
				    now - atomic_load_explicit(&s->t_pub, memory_order_relaxed) < latency_ns)
					continue; /* the device is still working on it */
				if (!atomic_compare_exchange_strong_explicit(&s->state, &v, CLAIMED,
									     memory_order_relaxed,
									     memory_order_relaxed))
					continue;
				serve(s, v, &rs);
				any = true;
			}
		}
		if (!any) {
			if (all_empty && done)
				break;
			sched_yield();
		}
	}
	return NULL;
}

static long arg_or_env(int argc, char **argv, int i, const char *env, long def)
{
	if (argc > i)
		return strtol(argv[i], NULL, 0);
	return stress_env_long(env, def);
}

int main(int argc, char **argv)
{
	double scale = stress_scale();
	long ms = arg_or_env(argc, argv, 1, "SWIOTLB_HANDOFF_MS", (long)(4000 * scale));
	nmappers = (unsigned)arg_or_env(argc, argv, 2, "SWIOTLB_HANDOFF_MAPPERS", 2);
	nunmappers = (unsigned)arg_or_env(argc, argv, 3, "SWIOTLB_HANDOFF_UNMAPPERS", 2);
	ring_len = (unsigned)arg_or_env(argc, argv, 4, "SWIOTLB_HANDOFF_RING", 48);
	period_ns = (uint64_t)stress_env_long("SWIOTLB_HANDOFF_PERIOD_US", 8000) * 1000;
	busy_ns = (uint64_t)stress_env_long("SWIOTLB_HANDOFF_BUSY_US", 3000) * 1000;
	latency_ns = (uint64_t)stress_env_long("SWIOTLB_HANDOFF_LATENCY_US", 1000) * 1000;
	seed0 = (uint64_t)stress_env_long("SWIOTLB_HANDOFF_SEED", 0x5eed);
	if (ms < 100)
		ms = 100;
	CHECK(nmappers >= 1 && nunmappers >= 1 && ring_len >= 1);

	/* Thresholds are per second of run; measured rates are far higher
	 * (see the summary line), these catch "never grows / never shrinks /
	 * never goes transient". */
	double secs = ms / 1000.0;
	/* Measured on a 2-core x86 VM, per second: plain build ~220 grows and
	 * shrinks, ~1800 transient pools; clang ASan Debug ~40 and ~80; TSan
	 * ~15..35 and ~20..80.  The minimum catches "never grows / shrinks /
	 * goes transient" with a wide margin for slow CI machines. */
	const long min_rate = (UTIL_TSAN || UTIL_ASAN) ? 4 : 20;
	uint64_t min_grows = (uint64_t)(stress_env_long("SWIOTLB_HANDOFF_MIN_GROWS", min_rate) * secs);
	uint64_t min_trans = (uint64_t)(stress_env_long("SWIOTLB_HANDOFF_MIN_TRANSIENT", min_rate) * secs);
	uint64_t min_shrinks = (uint64_t)(stress_env_long("SWIOTLB_HANDOFF_MIN_SHRINKS", min_rate) * secs);

	static struct util_prov prov;
	util_prov_init(&prov, NULL);

	struct swiotlb_mem_config mc = {
		.size = 256 * 1024,
		.nareas = 0,
		.provider = &prov.p,
		.log = stress_log,
		.dynamic = true,
		.max_size = 64u << 20,
		.grow_size = 256 * 1024,
		.shrink_delay_ms = 1,
		.wait_timeout_ms = 50,
	};
	mem = swiotlb_mem_create(&mc);
	CHECK(mem != NULL);
	struct swiotlb_dev_config dc0 = { .name = "handoff0", .force_bounce = true };
	struct swiotlb_dev_config dc1 = { .name = "handoff1-nvme", .force_bounce = true,
					  .min_align_mask = 4095 };
	devs[0] = swiotlb_dev_create(mem, &dc0);
	devs[1] = swiotlb_dev_create(mem, &dc1);
	CHECK(devs[0] && devs[1]);

	rings = calloc(nmappers, sizeof(*rings));
	CHECK(rings);
	for (unsigned i = 0; i < nmappers; i++) {
		rings[i].n = ring_len;
		rings[i].slots = aligned_alloc(64, sizeof(struct slot) * ring_len);
		CHECK(rings[i].slots);
		memset(rings[i].slots, 0, sizeof(struct slot) * ring_len);
		for (unsigned j = 0; j < ring_len; j++) {
			rings[i].slots[j].area = malloc(AREA_BYTES);
			CHECK(rings[i].slots[j].area);
		}
	}

	printf("test_handoff: %ld ms, %u mappers, %u unmappers, ring %u, tsan=%d asan=%d; "
	       "minimum grows %" PRIu64 " transient %" PRIu64 " shrinks %" PRIu64 "\n",
	       ms, nmappers, nunmappers, ring_len, UTIL_TSAN, UTIL_ASAN, min_grows, min_trans,
	       min_shrinks);
	fflush(stdout);

	pthread_t mt[64], ut[64];
	CHECK(nmappers <= 64 && nunmappers <= 64);
	uint64_t t0 = util_now_ns();
	t_origin = t0;
	for (unsigned i = 0; i < nmappers; i++)
		CHECK_OK(pthread_create(&mt[i], NULL, mapper, (void *)(uintptr_t)i));
	for (unsigned i = 0; i < nunmappers; i++)
		CHECK_OK(pthread_create(&ut[i], NULL, unmapper, (void *)(uintptr_t)i));

	uint64_t deadline = t0 + (uint64_t)ms * 1000000ull;
	uint64_t max_pool_bytes = 0;
	while (util_now_ns() < deadline) {
		util_sleep_ms(10);
		struct swiotlb_stats st = util_mem_stats(mem);
		if (st.pool_bytes > max_pool_bytes)
			max_pool_bytes = st.pool_bytes;
		CHECK(st.pool_bytes <= mc.max_size);
	}
	/* Both flags only say "stop"; they publish nothing and their loads in
	 * mapper()/unmapper() are relaxed on purpose (no happens-before edge
	 * may cover the library's map), so relaxed stores. */
	atomic_store_explicit(&stop_mapping, true, memory_order_relaxed);
	for (unsigned i = 0; i < nmappers; i++)
		CHECK_OK(pthread_join(mt[i], NULL));
	atomic_store_explicit(&mappers_done, true, memory_order_relaxed);
	for (unsigned i = 0; i < nunmappers; i++)
		CHECK_OK(pthread_join(ut[i], NULL));
	double run_s = (util_now_ns() - t0) / 1e9;

	/* counters: relaxed, ordered by the pthread_join()s above */
	CHECK_EQ(atomic_load_explicit(&n_mapped, memory_order_relaxed),
		 atomic_load_explicit(&n_unmapped, memory_order_relaxed));

	/* Transient pools are released after a grace period: allow a moment. */
	struct swiotlb_stats st;
	for (int i = 0; i < 200; i++) {
		st = util_mem_stats(mem);
		if (st.transient_pools == 0)
			break;
		util_sleep_ms(10);
	}
	stress_print_stats("after drain", &st);
	CHECK_EQ(st.used_slots, 0);
	CHECK_EQ(st.mappings, 0);
	CHECK_EQ(st.transient_pools, 0);
	CHECK_EQ(st.transient_slots, 0);
	CHECK_EQ(st.coherent_allocs, 0);
	for (int d = 0; d < NDEV; d++) {
		struct swiotlb_dev_stats ds = util_dev_stats(devs[d]);
		CHECK_EQ(ds.mappings, 0);
		CHECK_EQ(ds.transient_pools, 0);
		CHECK_EQ(ds.maps, ds.unmaps);
		CHECK_EQ(ds.errors, 0);
	}

	printf("test_handoff: %.2f s, mapped %" PRIu64 " (to_dev %" PRIu64 " from_dev %" PRIu64
	       " bidir %" PRIu64 "), %" PRIu64 " MiB verified, %" PRIu64 " partial syncs, %" PRIu64
	       " MAY_BLOCK maps, %" PRIu64 " retries; grows %" PRIu64 " transient %" PRIu64
	       " shrinks %" PRIu64 " growth_failures %" PRIu64 " max pool_bytes %" PRIu64
	       " provider allocs %" PRIu64 " frees %" PRIu64 "\n",
	       run_s, atomic_load_explicit(&n_mapped, memory_order_relaxed),
	       atomic_load_explicit(&n_dir[SWIOTLB_TO_DEVICE], memory_order_relaxed),
	       atomic_load_explicit(&n_dir[SWIOTLB_FROM_DEVICE], memory_order_relaxed),
	       atomic_load_explicit(&n_dir[SWIOTLB_BIDIRECTIONAL], memory_order_relaxed),
	       atomic_load_explicit(&n_bytes, memory_order_relaxed) >> 20,
	       atomic_load_explicit(&n_syncs, memory_order_relaxed),
	       atomic_load_explicit(&n_blocking, memory_order_relaxed),
	       atomic_load_explicit(&n_retries, memory_order_relaxed), st.grows,
	       st.transient_created, st.shrinks, st.growth_failures, max_pool_bytes,
	       /* provider statistics: a snapshot for the log line */
	       atomic_load_explicit(&prov.allocs, memory_order_relaxed),
	       atomic_load_explicit(&prov.frees, memory_order_relaxed));
	fflush(stdout);

	if (st.grows < min_grows || st.transient_created < min_trans || st.shrinks < min_shrinks) {
		fprintf(stderr, "test_handoff: too little churn: grows %" PRIu64 " (min %" PRIu64
			"), transient %" PRIu64 " (min %" PRIu64 "), shrinks %" PRIu64
			" (min %" PRIu64 ")\n", st.grows, min_grows, st.transient_created,
			min_trans, st.shrinks, min_shrinks);
		return 1;
	}

	/* Idle: every grown pool goes back (shrink_delay_ms = 1). */
	for (int i = 0; i < 300; i++) {
		st = util_mem_stats(mem);
		/* pool_bytes drops when the memory is freed (grace period) */
		if (st.grown_pools == 0 && st.pools == 1 && st.pool_bytes == 256 * 1024)
			break;
		util_sleep_ms(10);
	}
	stress_print_stats("after idle", &st);
	CHECK_EQ(st.grown_pools, 0);
	CHECK_EQ(st.pools, 1);
	CHECK_EQ(st.total_slots, 128);
	CHECK_EQ(st.pool_bytes, 256 * 1024);

	for (int d = 0; d < NDEV; d++)
		CHECK_OK(swiotlb_dev_destroy(devs[d]));
	CHECK_OK(swiotlb_mem_destroy(mem));
	/* Every pool the provider handed out came back exactly once. */
	CHECK_EQ(util_prov_nlive(&prov), 0);
	/* relaxed: swiotlb_mem_destroy() joined the library's grow thread */
	CHECK_EQ(atomic_load_explicit(&prov.allocs, memory_order_relaxed),
		 atomic_load_explicit(&prov.frees, memory_order_relaxed));
	CHECK_EQ(atomic_load_explicit(&prov.bytes_live, memory_order_relaxed), 0);

	for (unsigned i = 0; i < nmappers; i++) {
		for (unsigned j = 0; j < ring_len; j++)
			free(rings[i].slots[j].area);
		free(rings[i].slots);
	}
	free(rings);
	printf("test_handoff: OK\n");
	return 0;
}
