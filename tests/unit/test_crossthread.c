/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Map here, unmap there.  Thread A maps buffers of random size, offset,
 * contents and direction and posts the device address through a ring of
 * relaxed C11 atomics (no mutex, no fence).  Thread B plays the device:
 * it checks the bounce buffer holds the original bytes, writes a pattern
 * for FROM_DEVICE/BIDIRECTIONAL through swiotlb_addr_to_cpu(), unmaps, and
 * verifies every byte of the original and its surroundings.
 *
 * Everything B needs besides the address (buffer, size, direction,
 * contents) is derived from the iteration number, and each buffer is used
 * once per round (threads are joined between rounds), so the only
 * cross-thread hand-off of the mapping is the relaxed ring: whatever
 * ordering the unmap needs must come from the library.  (The simulated
 * device's access to the bounce buffer right after reading the address is
 * ordered by x86-TSO like a doorbell; unit tests run on x86-64.)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "unit.h"

#define ROUNDS 4
#define PER_ROUND 2000
#define STRIDE 16384
#define GUARD 64
#define MAXSZ (STRIDE - 4096 - 2 * GUARD)
#define RING 32
#define TBL 65536

static uint8_t tbl[TBL];
static uint8_t *arena;
static _Atomic uint64_t ring[RING];
static struct swiotlb_dev *dev;
static int round_no;

static inline uint8_t pv(uint32_t seed, size_t k) { return tbl[(seed * 2654435761u + k) & (TBL - 1)]; }

struct params {
	size_t size, off;
	enum swiotlb_dir dir;
	uint32_t seed_cpu, seed_dev;
	uint8_t *region;
};

static struct params params_of(int j)
{
	uint32_t i = (uint32_t)(round_no * PER_ROUND + j);
	uint64_t h = (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ull;
	h ^= h >> 31;
	h *= 0xBF58476D1CE4E5B9ull;
	h ^= h >> 29;
	struct params p;
	p.size = 1 + (size_t)(h % MAXSZ);
	if ((h >> 60) == 0)
		p.size = 1 + (size_t)((h >> 8) % 64); /* some tiny ones */
	p.off = GUARD + (size_t)((h >> 20) % 4096);
	p.dir = (enum swiotlb_dir)((h >> 40) % 3);
	p.seed_cpu = i * 2 + 1;
	p.seed_dev = i * 2 + 2;
	p.region = arena + (size_t)j * STRIDE;
	return p;
}

static void *producer(void *arg)
{
	(void)arg;
	for (int j = 0; j < PER_ROUND; j++) {
		struct params p = params_of(j);
		size_t lo = p.off - GUARD, hi = p.off + p.size + GUARD;
		for (size_t k = lo; k < hi; k++)
			p.region[k] = pv(p.seed_cpu, k);
		swiotlb_addr_t a = 0;
		int r;
		while ((r = swiotlb_map(dev, p.region + p.off, p.size, p.dir, SWIOTLB_ATTR_NO_WARN, &a)) == -ENOSPC)
			sched_yield();
		CHECK_OK(r);
		CHECK(a != 0);
		while (atomic_load_explicit(&ring[j % RING], memory_order_relaxed) != 0)
			sched_yield();
		atomic_store_explicit(&ring[j % RING], a, memory_order_relaxed);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	(void)arg;
	for (int j = 0; j < PER_ROUND; j++) {
		swiotlb_addr_t a;
		while ((a = atomic_load_explicit(&ring[j % RING], memory_order_relaxed)) == 0)
			sched_yield();
		struct params p = params_of(j);
		CHECK(swiotlb_is_bounce(dev, a));
		CHECK_EQ(a & 4095, (uintptr_t)(p.region + p.off) & 4095);
		uint8_t *b = swiotlb_addr_to_cpu(dev, a);
		CHECK(b != NULL);
		/* the device sees the original bytes, for every direction */
		for (size_t k = 0; k < p.size; k++)
			if (b[k] != pv(p.seed_cpu, p.off + k)) {
				fprintf(stderr, "iteration %d dir %d size %zu: bounce byte %zu wrong\n",
					round_no * PER_ROUND + j, p.dir, p.size, k);
				exit(1);
			}
		if (p.dir != SWIOTLB_TO_DEVICE)
			for (size_t k = 0; k < p.size; k++)
				b[k] = pv(p.seed_dev, k);
		CHECK_OK(swiotlb_unmap(dev, a, p.size, p.dir, 0));
		size_t lo = p.off - GUARD, hi = p.off + p.size + GUARD;
		for (size_t k = lo; k < hi; k++) {
			uint8_t want = pv(p.seed_cpu, k);
			if (p.dir != SWIOTLB_TO_DEVICE && k >= p.off && k < p.off + p.size)
				want = pv(p.seed_dev, k - p.off);
			if (p.region[k] != want) {
				fprintf(stderr, "iteration %d dir %d size %zu off %zu: original byte %zu wrong\n",
					round_no * PER_ROUND + j, p.dir, p.size, p.off, k);
				exit(1);
			}
		}
		atomic_store_explicit(&ring[j % RING], 0, memory_order_relaxed);
	}
	return NULL;
}

int main(void)
{
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < TBL; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		tbl[i] = (uint8_t)x;
	}
	arena = aligned_alloc(4096, (size_t)PER_ROUND * STRIDE);
	CHECK(arena != NULL);
	struct swiotlb_mem *mem = mem_new(4 * MIB, 0, NULL); /* default areas */
	dev = dev_new(mem, "xthread", 4095, 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (round_no = 0; round_no < ROUNDS; round_no++) {
		pthread_t ta, tb;
		CHECK_OK(pthread_create(&tb, NULL, consumer, NULL));
		CHECK_OK(pthread_create(&ta, NULL, producer, NULL));
		CHECK_OK(pthread_join(ta, NULL));
		CHECK_OK(pthread_join(tb, NULL));
		for (int k = 0; k < RING; k++)
			/* relaxed: ordered by the pthread_join()s above */
			CHECK_EQ(atomic_load_explicit(&ring[k], memory_order_relaxed), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	struct swiotlb_stats st = util_mem_stats(mem);
	CHECK_EQ(st.used_slots, 0);
	CHECK_EQ(st.mappings, 0);
	CHECK_EQ(st.maps, ROUNDS * PER_ROUND);
	struct swiotlb_dev_stats ds = util_dev_stats(dev);
	CHECK_EQ(ds.maps, ROUNDS * PER_ROUND);
	CHECK_EQ(ds.unmaps, ROUNDS * PER_ROUND);
	CHECK_EQ(ds.mappings, 0);
	CHECK_EQ(ds.errors, 0);
	CHECK(st.hiwater_slots > 0 && st.hiwater_slots <= st.total_slots);
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
	free(arena);
	printf("test_crossthread: ok (%d iterations, %.2f s)\n", ROUNDS * PER_ROUND,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
