/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The other readers of the pool set, against a pool added by another
 * thread (P0: _swiotlb_test_mem_add_pool(), as tests and benchmarks do; the
 * growth thread itself is the only other writer).  P1 creates a device
 * (its reachability check walks the set), counts the used slots exactly
 * (stats) and runs the shrink step (the growth thread's scan).  Each reads
 * the new pool's descriptor with plain loads: without the set's
 * load-acquire, a data race with the pool's creation.
 */
#include "harness.h"

static struct swiotlb_mem *mem;

static void *adder(void *arg)
{
	(void)arg;
	assert(_swiotlb_test_mem_add_pool(mem, SEG_SIZE) == 0);
	return NULL;
}

static void *reader(void *arg)
{
	struct swiotlb_dev_config c = { .force_bounce = true };

	(void)arg;
	assert(swiotlb_dev_create(mem, &c) != NULL);
	assert(H_USED_EXACT(mem) == 0);
	H_SHRINK_STEP(mem);
	return NULL;
}

int main(void)
{
	pthread_t t0, t1;

	mem = h_mem(H_SLOT_SIZE, false, 1);
	t0 = h_spawn(adder, NULL);
	t1 = h_spawn(reader, NULL);
	pthread_join(t0, NULL);
	pthread_join(t1, NULL);
	return 0;
}
