/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The calling CPU, cheaply.  Only a hint: it picks the first area a map
 * tries and the device's counter shard, so a stale value (the thread just
 * migrated) costs at most some cache traffic, never correctness.
 *
 * glibc (2.35+) registers rseq for every thread and the kernel keeps
 * rseq.cpu_id current, so one load at the thread pointer + __rseq_offset
 * gives it.  That needs __builtin_thread_pointer(), which gcc and clang
 * provide on x86_64 and aarch64; elsewhere, and when rseq is not
 * registered, sched_getcpu().  Under SWIOTLB_MODEL_CHECK the harness's
 * model_current_cpu().
 */
#ifndef SWIOTLB_CPU_H
#define SWIOTLB_CPU_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#ifdef SWIOTLB_MODEL_CHECK
#include "model_env.h"

static inline unsigned current_cpu(void)
{
	return model_current_cpu();
}
#else
#include <sched.h>

static inline unsigned current_cpu_slow(void)
{
	int c = sched_getcpu();

	return c < 0 ? 0 : (unsigned)c;
}

#if (defined(__x86_64__) || defined(__aarch64__)) && defined(__has_builtin)
#if __has_builtin(__builtin_thread_pointer)
#define SWIOTLB_HAVE_RSEQ_CPU 1
#endif
#endif

#ifdef SWIOTLB_HAVE_RSEQ_CPU
/* The start of the kernel's struct rseq (linux/rseq.h, a fixed ABI): only
 * the fields up to cpu_id are read. */
struct rseq_abi_head {
	uint32_t cpu_id_start;   /* not read here */
	_Atomic uint32_t cpu_id; /* current CPU; negative: not registered */
};
_Static_assert(offsetof(struct rseq_abi_head, cpu_id) == 4, "struct rseq's ABI: cpu_id at 4");

extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

static inline unsigned current_cpu(void)
{
	if (__builtin_expect(&__rseq_size && __rseq_size, 1)) {
		const struct rseq_abi_head *rs =
			(const struct rseq_abi_head *)((char *)__builtin_thread_pointer() +
						       __rseq_offset);
		/* written by the kernel on migration; any recent value will do */
		uint32_t cpu = atomic_load_explicit(&rs->cpu_id, memory_order_relaxed);

		if (__builtin_expect((int32_t)cpu >= 0, 1))
			return cpu;
	}
	return current_cpu_slow();
}
#else
static inline unsigned current_cpu(void)
{
	return current_cpu_slow();
}
#endif
#endif /* SWIOTLB_MODEL_CHECK */

#endif /* SWIOTLB_CPU_H */
