// SPDX-License-Identifier: LGPL-2.1-or-later
/* swiotlb-bench: TSC calibration, spin-waiting and CPU pinning. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>

#include "driver.h"

double tsc_ns_per_cycle = 1.0;

void calibrate_tsc(void)
{
#ifdef HAVE_TSC
	uint64_t t0 = util_now_ns(), c0 = cycles(), t1, c1;

	util_sleep_ms(50);
	t1 = util_now_ns();
	c1 = cycles();
	tsc_ns_per_cycle = (double)(t1 - t0) / (double)(c1 - c0);
#endif
}

void spin_cycles(uint64_t c)
{
	uint64_t end;

	if (!c)
		return;
	end = cycles() + c;
	while (cycles() < end)
		cpu_relax();
}

void ring_wait(unsigned *spins)
{
	if (++*spins & 255)
		cpu_relax();
	else
		sched_yield();
}

#define MAX_CPUS 1024
static int cpu_list[MAX_CPUS];
static int ncpu_list;

void init_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (int i = 0; i < CPU_SETSIZE && ncpu_list < MAX_CPUS; i++)
			if (CPU_ISSET(i, &set))
				cpu_list[ncpu_list++] = i;
	}
	if (!ncpu_list) {
		cpu_list[0] = 0;
		ncpu_list = 1;
	}
}

int pin_self(int slot)
{
	int cpu = cpu_list[slot % ncpu_list];
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	return cpu;
}
