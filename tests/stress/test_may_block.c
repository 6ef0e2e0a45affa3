/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SWIOTLB_ATTR_MAY_BLOCK on a full, non-dynamic pool of one segment
 * (256 KiB = 128 slots, nareas 1), filled with 128 one-slot mappings so
 * that the test frees exactly the slots it wants.
 *
 * The FIFO guarantee the header gives: "wait (first come, first served)
 * until slots are freed".  Read as: waiters are served in arrival order; a
 * later waiter is not given slots while an earlier waiter is still waiting,
 * even when the freed slots would suit the later one (src/wait.c: only the
 * head retries; it wakes the next head when it leaves).  The test asserts
 * exactly that, plus the property that matters most: no waiter is ever
 * stranded (each completes once the slots it needs are free, without
 * further frees).
 *
 *  1. a waiter sleeps until another thread unmaps, then gets that slot;
 *  2. timeouts: swiotlb_map_timeout(50 ms) -> -ETIMEDOUT after 45 ms..2 s,
 *     the config's wait_timeout_ms for plain MAY_BLOCK, -ENOSPC at once
 *     without MAY_BLOCK; the pool and the mappings are unchanged;
 *  3. FIFO + the naive-wake-one trap: W1 (64 slots) then W2 (1 slot) wait;
 *     one slot is freed (fits W2, not W1): W2 must keep waiting behind W1;
 *     then slots 0..63 are freed one by one: W1 completes, and W2 must
 *     complete too with NO further free (a wake-one that only woke the
 *     head would strand W2 here);
 *  4. the head times out: W1 (64 slots, short deadline) ahead of W2
 *     (1 slot), one slot free: when W1 gives up, W2 must be served without
 *     any further free;
 *  5. many waiters: 8 threads of 1..8 slots queue up, frees trickle in one
 *     slot at a time (in order, then in a random order); all complete; a
 *     later waiter never completes while an earlier one stays waiting;
 *  6. stats: waits, wait_ns, wait_timeouts and failed_maps move as they
 *     should.
 */
#include "stress.h"

#define NSLOTS 128
#define SLOT SWIOTLB_SLOT_SIZE

static struct swiotlb_mem *mem;
static struct swiotlb_dev *dev;
static uint8_t *fillbuf;                 /* 128 x 2 KiB originals */
static swiotlb_addr_t slot_addr[NSLOTS]; /* live mapping per slot (0 = free) */
static uint64_t slot_seed[NSLOTS];      /* pattern of that mapping */
static swiotlb_addr_t pool_base;

static void fill_pool(void)
{
	swiotlb_addr_t a[NSLOTS], lo = UINT64_MAX;
	for (int i = 0; i < NSLOTS; i++) {
		util_fill(fillbuf + (size_t)i * SLOT, SLOT, 10000 + i);
		CHECK_OK(swiotlb_map(dev, fillbuf + (size_t)i * SLOT, SLOT, SWIOTLB_TO_DEVICE,
				     SWIOTLB_ATTR_NO_WARN, &a[i]));
		if (a[i] < lo)
			lo = a[i];
	}
	if (pool_base == 0)
		pool_base = lo;
	CHECK_EQ(lo, pool_base);
	for (int i = 0; i < NSLOTS; i++) {
		uint64_t s = (a[i] - pool_base) / SLOT;
		CHECK(s < NSLOTS);
		CHECK_EQ(slot_addr[s], 0);
		slot_addr[s] = a[i];
		slot_seed[s] = 10000 + (uint64_t)i;
	}
	struct swiotlb_stats st = util_mem_stats(mem);
	CHECK_EQ(st.used_slots, NSLOTS);
}

static void free_slot(int s)
{
	CHECK(slot_addr[s] != 0);
	CHECK_OK(swiotlb_unmap(dev, slot_addr[s], SLOT, SWIOTLB_TO_DEVICE, 0));
	slot_addr[s] = 0;
}

static void free_all_fill(void)
{
	for (int s = 0; s < NSLOTS; s++)
		if (slot_addr[s])
			free_slot(s);
}

struct waiter {
	int id;
	size_t size;
	unsigned timeout_ms;
	uint8_t *buf;
	uint64_t seed;
	pthread_t th;
	atomic_bool started, done;
	atomic_int rc;
	_Atomic swiotlb_addr_t addr;
	_Atomic uint64_t t_start, t_done;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	swiotlb_addr_t a = 0;
	/* relaxed: published by the store of done below */
	atomic_store_explicit(&w->t_start, util_now_ns(), memory_order_relaxed);
	/* pairs with the acquire load of started in waiter_start() */
	atomic_store_explicit(&w->started, true, memory_order_release);
	int r = swiotlb_map_timeout(dev, w->buf, w->size, SWIOTLB_BIDIRECTIONAL,
				    SWIOTLB_ATTR_NO_WARN, w->timeout_ms, &a);
	/* relaxed: published by the seq_cst (release) store of done below */
	atomic_store_explicit(&w->t_done, util_now_ns(), memory_order_relaxed);
	atomic_store_explicit(&w->addr, a, memory_order_relaxed);
	atomic_store_explicit(&w->rc, r, memory_order_relaxed);
	/* seq_cst: check_fifo_prefix() infers the order in which waiters
	 * finished from their done flags (seq_cst loads); it is also the
	 * release that expect_done()'s acquire load pairs with */
	atomic_store_explicit(&w->done, true, memory_order_seq_cst);
	return NULL;
}

static void waiter_start(struct waiter *w, int id, size_t size, unsigned timeout_ms)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->size = size;
	w->timeout_ms = timeout_ms;
	w->seed = 50000 + (uint64_t)id;
	w->buf = aligned_alloc(4096, 256 * 1024);
	CHECK(w->buf);
	util_fill(w->buf, size, w->seed);
	CHECK_OK(pthread_create(&w->th, NULL, waiter_main, w));
	/* pairs with the release store of started in waiter_main() */
	while (!atomic_load_explicit(&w->started, memory_order_acquire))
		util_sleep_us(100);
}

/* Join, check the mapping and its content, unmap it. */
static void waiter_finish(struct waiter *w)
{
	CHECK_OK(pthread_join(w->th, NULL));
	/* relaxed: ordered by the pthread_join() above */
	CHECK(atomic_load_explicit(&w->done, memory_order_relaxed));
	int rc = atomic_load_explicit(&w->rc, memory_order_relaxed);
	if (rc != 0) {
		fprintf(stderr, "waiter %d (%zu bytes) failed: %s\n", w->id, w->size, swiotlb_strerror(rc));
		exit(1);
	}
	swiotlb_addr_t a = atomic_load_explicit(&w->addr, memory_order_relaxed); /* joined */
	uint8_t *b = swiotlb_addr_to_cpu(dev, a);
	CHECK(b != NULL);
	CHECK_EQ(util_verify(b, w->size, w->seed), w->size);
	util_fill(b, w->size, w->seed ^ 0xABCD);
	CHECK_OK(swiotlb_unmap(dev, a, w->size, SWIOTLB_BIDIRECTIONAL, 0));
	CHECK_EQ(util_verify(w->buf, w->size, w->seed ^ 0xABCD), w->size);
	free(w->buf);
}

/* Wait until w is done; fail with "stranded" after timeout_ms. */
static void expect_done(struct waiter *w, unsigned timeout_ms, const char *why)
{
	uint64_t end = util_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	/* pairs with the (seq_cst, so release) store of done in waiter_main():
	 * the caller then reads rc, addr, t_start and t_done relaxed */
	while (!atomic_load_explicit(&w->done, memory_order_acquire)) {
		if (util_now_ns() > end) {
			struct swiotlb_stats st = util_mem_stats(mem);
			stress_print_stats("stranded", &st);
			fprintf(stderr, "test_may_block: waiter %d (%zu bytes) STRANDED: %s\n",
				w->id, w->size, why);
			exit(1);
		}
		util_sleep_us(200);
	}
}

static void test_wait_then_succeed(void)
{
	fill_pool();
	struct swiotlb_stats st0 = util_mem_stats(mem);
	struct waiter w;
	waiter_start(&w, 1, SLOT, 5000);
	util_sleep_ms(100);
	/* relaxed: a snapshot of the flag, nothing is read through it */
	CHECK(!atomic_load_explicit(&w.done, memory_order_relaxed));
	uint64_t t_free = util_now_ns();
	swiotlb_addr_t freed = slot_addr[64];
	free_slot(64);
	expect_done(&w, 2000, "one slot freed, one waiter of one slot");
	/* relaxed: ordered by expect_done()'s acquire load of done */
	CHECK_EQ(atomic_load_explicit(&w.rc, memory_order_relaxed), 0);
	CHECK_EQ(atomic_load_explicit(&w.addr, memory_order_relaxed), freed); /* the only free slot */
	CHECK(atomic_load_explicit(&w.t_done, memory_order_relaxed) >= t_free);
	printf("may_block 1: waiter woke %.2f ms after the free\n",
	       (atomic_load_explicit(&w.t_done, memory_order_relaxed) - t_free) / 1e6);
	waiter_finish(&w);
	struct swiotlb_stats st = util_mem_stats(mem);
	CHECK_EQ(st.waits, st0.waits + 1);
	CHECK(st.wait_ns >= st0.wait_ns + 90ull * 1000000);
	CHECK_EQ(st.wait_timeouts, st0.wait_timeouts);
	free_all_fill();
}

static void test_timeouts(void)
{
	fill_pool();
	struct swiotlb_stats st0 = util_mem_stats(mem);
	struct swiotlb_dev_stats ds0 = util_dev_stats(dev);
	uint8_t *buf = aligned_alloc(4096, 8192);
	CHECK(buf);
	util_fill(buf, 8192, 4242);
	swiotlb_addr_t a = 0x1234;

	/* Without MAY_BLOCK: -ENOSPC at once. */
	uint64_t t0 = util_now_ns();
	CHECK_EQ(swiotlb_map(dev, buf, 100, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, &a), -ENOSPC);
	double el = (util_now_ns() - t0) / 1e6;
	CHECK(el < 40);

	/* Explicit deadline. */
	t0 = util_now_ns();
	CHECK_EQ(swiotlb_map_timeout(dev, buf, 100, SWIOTLB_TO_DEVICE, 0, 50, &a), -ETIMEDOUT);
	el = (util_now_ns() - t0) / 1e6;
	printf("may_block 2: map_timeout(50 ms) returned -ETIMEDOUT after %.1f ms\n", el);
	CHECK(el >= 45 && el < 2000);

	/* The memory's wait_timeout_ms (100) for plain MAY_BLOCK. */
	t0 = util_now_ns();
	CHECK_EQ(swiotlb_map(dev, buf, 8192, SWIOTLB_FROM_DEVICE,
			     SWIOTLB_ATTR_MAY_BLOCK | SWIOTLB_ATTR_NO_WARN, &a), -ETIMEDOUT);
	el = (util_now_ns() - t0) / 1e6;
	printf("may_block 2: map(MAY_BLOCK) with wait_timeout_ms 100 -> -ETIMEDOUT after %.1f ms\n", el);
	CHECK(el >= 95 && el < 2000);
	CHECK_EQ(util_verify(buf, 8192, 4242), 8192); /* original untouched */

	struct swiotlb_stats st = util_mem_stats(mem);
	struct swiotlb_dev_stats ds = util_dev_stats(dev);
	CHECK_EQ(st.used_slots, st0.used_slots);
	CHECK_EQ(st.mappings, st0.mappings);
	CHECK_EQ(st.maps, st0.maps);
	CHECK_EQ(st.total_slots, NSLOTS);
	CHECK_EQ(st.wait_timeouts, st0.wait_timeouts + 2);
	CHECK_EQ(st.waits, st0.waits + 2);
	CHECK(st.wait_ns >= st0.wait_ns + 145ull * 1000000);
	CHECK_EQ(st.failed_maps, st0.failed_maps + 3);
	CHECK_EQ(ds.failed_maps, ds0.failed_maps + 3);
	CHECK_EQ(ds.mappings, ds0.mappings);
	CHECK(ds.largest_failed >= 8192);

	/* Unchanged pool: the fill mappings are all still there and intact. */
	for (int s = 0; s < NSLOTS; s++) {
		CHECK(swiotlb_is_bounce(dev, slot_addr[s]));
		uint8_t *b = swiotlb_addr_to_cpu(dev, slot_addr[s]);
		CHECK(b != NULL);
		CHECK_EQ(util_verify(b, SLOT, slot_seed[s]), SLOT);
	}
	/* One free: a MAY_BLOCK map succeeds at once, without waiting. */
	free_slot(5);
	uint64_t waits_before = util_mem_stats(mem).waits;
	CHECK_OK(swiotlb_map(dev, buf, 100, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_MAY_BLOCK, &a));
	CHECK_EQ(util_mem_stats(mem).waits, waits_before);
	CHECK_OK(swiotlb_unmap(dev, a, 100, SWIOTLB_TO_DEVICE, 0));
	free(buf);
	free_all_fill();
}

static void test_fifo_no_strand(void)
{
	fill_pool();
	struct waiter w1, w2;
	waiter_start(&w1, 1, 64 * SLOT, 20000); /* 128 KiB: 64 page-aligned slots */
	util_sleep_ms(50);
	waiter_start(&w2, 2, SLOT, 20000);      /* 1 slot */
	util_sleep_ms(50);
	/* relaxed: snapshots of the flags, nothing is read through them */
	CHECK(!atomic_load_explicit(&w1.done, memory_order_relaxed) &&
	      !atomic_load_explicit(&w2.done, memory_order_relaxed));

	/* Enough for W2, not for W1: W2 must keep waiting behind W1. */
	swiotlb_addr_t last = slot_addr[NSLOTS - 1];
	free_slot(NSLOTS - 1);
	util_sleep_ms(100);
	/* pairs with the (seq_cst) store of done in waiter_main(): rc is read */
	if (atomic_load_explicit(&w2.done, memory_order_acquire)) {
		fprintf(stderr, "test_may_block: FIFO violated: W2 (1 slot, second) was served "
			"while W1 (64 slots, first) was still waiting (rc %d)\n",
			atomic_load_explicit(&w2.rc, memory_order_relaxed));
		exit(1);
	}
	CHECK(!atomic_load_explicit(&w1.done, memory_order_relaxed)); /* snapshot */

	/* Free 0..63 one at a time: only the last free lets W1 fit. */
	for (int s = 0; s < 64; s++) {
		free_slot(s);
		util_sleep_us(500);
		if (s < 63) { /* relaxed: snapshots, nothing read through them */
			CHECK(!atomic_load_explicit(&w1.done, memory_order_relaxed));
			CHECK(!atomic_load_explicit(&w2.done, memory_order_relaxed));
		}
	}
	/* No more frees from here: W1 must complete, and then W2 (slot 127
	 * has been free all along). */
	expect_done(&w1, 3000, "W1: 64 contiguous slots free");
	expect_done(&w2, 3000, "W2 after W1 was served (naive wake-one strands it here)");
	/* relaxed: ordered by expect_done()'s acquire loads of done */
	CHECK_EQ(atomic_load_explicit(&w1.rc, memory_order_relaxed), 0);
	CHECK_EQ(atomic_load_explicit(&w2.rc, memory_order_relaxed), 0);
	CHECK_EQ(atomic_load_explicit(&w1.addr, memory_order_relaxed), pool_base);
	CHECK_EQ(atomic_load_explicit(&w2.addr, memory_order_relaxed), last);
	/* (No check on the two return times: W1 is served first, but it wakes
	 * W2 before it returns, so W2 may return first.  FIFO was checked
	 * above: W2 kept waiting while W1 could not be served.) */
	waiter_finish(&w1);
	waiter_finish(&w2);
	free_all_fill();
	printf("may_block 3: FIFO order kept, nobody stranded\n");
}

static void test_head_timeout(void)
{
	fill_pool();
	struct swiotlb_stats st0 = util_mem_stats(mem);
	struct waiter w1, w2;
	waiter_start(&w1, 1, 64 * SLOT, 300);   /* gives up after 300 ms */
	util_sleep_ms(30);
	waiter_start(&w2, 2, SLOT, 20000);
	util_sleep_ms(30);
	free_slot(17); /* fits W2 only */
	expect_done(&w1, 3000, "W1 deadline");
	/* relaxed: ordered by expect_done()'s acquire load of done */
	CHECK_EQ(atomic_load_explicit(&w1.rc, memory_order_relaxed), -ETIMEDOUT);
	/* W1 left the queue without a new free: W2 must be served now. */
	expect_done(&w2, 2000, "W2 behind a head that timed out");
	/* relaxed: ordered by expect_done()'s acquire loads of done */
	CHECK_EQ(atomic_load_explicit(&w2.rc, memory_order_relaxed), 0);
	CHECK(atomic_load_explicit(&w2.t_done, memory_order_relaxed) >=
	      atomic_load_explicit(&w1.t_done, memory_order_relaxed) - 1000000);
	printf("may_block 4: head timed out after %.1f ms, second waiter served %.2f ms later\n",
	       (atomic_load_explicit(&w1.t_done, memory_order_relaxed) -
		atomic_load_explicit(&w1.t_start, memory_order_relaxed)) / 1e6,
	       ((double)atomic_load_explicit(&w2.t_done, memory_order_relaxed) -
		(double)atomic_load_explicit(&w1.t_done, memory_order_relaxed)) / 1e6);
	CHECK_OK(pthread_join(w1.th, NULL));
	free(w1.buf);
	waiter_finish(&w2);
	struct swiotlb_stats st = util_mem_stats(mem);
	CHECK_EQ(st.wait_timeouts, st0.wait_timeouts + 1);
	CHECK_EQ(st.waits, st0.waits + 2);
	free_all_fill();
}

#define NW 8

/* Some later waiter done while an earlier one is not, and the earlier one
 * still not done after a grace period with no frees: a FIFO violation. */
static void check_fifo_prefix(struct waiter *w, int n)
{
	/* seq_cst: the check infers an order between two waiters from two
	 * different flags ("w[j] done while w[i] is not") */
	for (int i = 0; i < n; i++) {
		if (atomic_load_explicit(&w[i].done, memory_order_seq_cst))
			continue;
		for (int j = i + 1; j < n; j++) {
			if (!atomic_load_explicit(&w[j].done, memory_order_seq_cst))
				continue;
			util_sleep_ms(50); /* w[i] may have been served a moment before w[j] */
			if (!atomic_load_explicit(&w[i].done, memory_order_seq_cst)) {
				fprintf(stderr, "test_may_block: FIFO violated: waiter %d (%zu bytes) "
					"served while earlier waiter %d (%zu bytes) keeps waiting\n",
					j, w[j].size, i, w[i].size);
				exit(1);
			}
		}
	}
}

static void test_many_waiters(int round, uint64_t seed)
{
	static const size_t sizes[NW] = { 5 * SLOT, SLOT, 2 * SLOT, 8 * SLOT,
					  3 * SLOT - 100, 4 * SLOT, 1000, 6 * SLOT };
	fill_pool();
	struct swiotlb_stats st0 = util_mem_stats(mem);
	struct waiter w[NW];
	for (int i = 0; i < NW; i++) {
		waiter_start(&w[i], i, sizes[i], 30000);
		util_sleep_ms(20); /* arrival order = index */
	}
	int order[NSLOTS];
	for (int i = 0; i < NSLOTS; i++)
		order[i] = i;
	if (seed) {
		uint64_t rs = seed;
		for (int i = NSLOTS - 1; i > 0; i--) {
			int j = (int)(util_rand(&rs) % (uint64_t)(i + 1));
			int t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
	}
	int nfreed = 0;
	for (; nfreed < NSLOTS; nfreed++) {
		int all = 1;
		for (int i = 0; i < NW; i++)
			all &= atomic_load_explicit(&w[i].done, memory_order_relaxed); /* snapshot */
		if (all)
			break;
		free_slot(order[nfreed]);
		util_sleep_us(1000);
		check_fifo_prefix(w, NW);
	}
	for (int i = 0; i < NW; i++)
		expect_done(&w[i], 3000, "all slots needed are free");
	/* relaxed: ordered by expect_done()'s acquire loads of done */
	uint64_t first_start = atomic_load_explicit(&w[0].t_start, memory_order_relaxed);
	double total_ms = 0;
	for (int i = 0; i < NW; i++)
		total_ms += (atomic_load_explicit(&w[i].t_done, memory_order_relaxed) -
			     atomic_load_explicit(&w[i].t_start, memory_order_relaxed)) / 1e6;
	for (int i = 0; i < NW; i++)
		waiter_finish(&w[i]);
	struct swiotlb_stats st = util_mem_stats(mem);
	printf("may_block 5.%d: %d waiters served after %d single-slot frees (%s order), "
	       "%.1f ms since first arrival; waits +%" PRIu64 " wait_ms +%.1f (measured %.1f)\n",
	       round, NW, nfreed, seed ? "random" : "ascending",
	       (util_now_ns() - first_start) / 1e6, st.waits - st0.waits,
	       (st.wait_ns - st0.wait_ns) / 1e6, total_ms);
	CHECK_EQ(st.waits, st0.waits + NW);
	CHECK_EQ(st.wait_timeouts, st0.wait_timeouts);
	CHECK(st.wait_ns - st0.wait_ns >= (uint64_t)(total_ms * 0.9 * 1e6));
	free_all_fill();
}

int main(void)
{
	struct swiotlb_mem_config mc = {
		.size = NSLOTS * SLOT,
		.nareas = 1,
		.log = stress_log,
		.wait_timeout_ms = 100,
	};
	mem = swiotlb_mem_create(&mc);
	CHECK(mem != NULL);
	struct swiotlb_dev_config dc = { .name = "may-block", .force_bounce = true };
	dev = swiotlb_dev_create(mem, &dc);
	CHECK(dev != NULL);
	fillbuf = aligned_alloc(4096, NSLOTS * SLOT);
	CHECK(fillbuf);

	test_wait_then_succeed();
	test_timeouts();
	test_fifo_no_strand();
	test_head_timeout();
	test_many_waiters(1, 0);
	test_many_waiters(2, 0xC0FFEE);
	test_many_waiters(3, 0xBADC0DE);

	struct swiotlb_stats st = util_mem_stats(mem);
	stress_print_stats("may_block end", &st);
	CHECK_EQ(st.used_slots, 0);
	CHECK_EQ(st.mappings, 0);
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
	free(fillbuf);
	printf("test_may_block: OK\n");
	return 0;
}
