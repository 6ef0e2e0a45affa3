/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Delete shape, memory reused by ANOTHER thread: P0 runs the shrink step
 * (G unpublished, freed after a grace period); P2 takes G's memory from
 * the provider (its lock orders it after the free), maps it directly and
 * hands the address to P1 through a relaxed store.  The direct map has no
 * barrier, so P1's acquire fence pairs with nothing: what makes P1 miss
 * the stale pool is the RCU read side's full barrier (liburcu-bp's
 * smp_mb_slave() or the writer's membarrier), against the grace period's.
 * Built with -DMODEL_RCU_NO_READER_FENCE this harness must FAIL.
 */
#define DELETE_OTHER
#include "delete_self.c"

static void *p0_shrink(void *arg)
{
	(void)arg;
	H_SHRINK_STEP(mem);
	return NULL;
}

static void *p2_reuse(void *arg)
{
	(void)arg;
	reuse_and_hand_off();
	return NULL;
}

int main(void)
{
	pthread_t t0, t1, t2;

	setup();
	t0 = h_spawn(p0_shrink, NULL);
	t2 = h_spawn(p2_reuse, NULL);
	t1 = h_spawn(p1, NULL);
	pthread_join(t0, NULL);
	pthread_join(t2, NULL);
	pthread_join(t1, NULL);
	return 0;
}
