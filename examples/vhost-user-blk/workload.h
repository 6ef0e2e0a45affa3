/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Workloads shared by the real-device test and the demo:
 *   - random verified I/O: lanes (one private buffer and one slice of the
 *     disk each, so requests in flight never overlap) issue writes and
 *     reads of 512 B .. 1 MiB at random offsets; a shadow copy of the disk
 *     checks every byte read;
 *   - the bounce vs zero-copy benchmark.
 */
#ifndef VUBLK_WORKLOAD_H
#define VUBLK_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qsd.h"
#include "virtio_blk.h"

#define WORK_MAX_LANES 32

struct work_result {
	unsigned requests;     /* requests completed */
	uint64_t bytes;
	int peak_regions;      /* most regions seen mapped in the daemon */
};

/* Random verified I/O on [0, disk) for at least secs seconds and min_req
 * requests, lanes in flight (<= WORK_MAX_LANES), requests up to max_len
 * bytes.  shadow (disk bytes) is updated by writes and checked by reads.
 * q (may be NULL) is sampled for the daemon's region count.  Returns 0,
 * -EILSEQ on a read-back mismatch (printed), or the request's error. */
int work_random(struct vblk *b, const struct qsd *q, unsigned char *shadow, size_t disk,
		unsigned lanes, size_t max_len, double secs, unsigned min_req, uint64_t seed,
		struct work_result *res);

/* Read all of [0, disk) back and compare with shadow. */
int work_verify(struct vblk *b, const unsigned char *shadow, size_t disk);

/* Compare a raw image file with shadow. */
int work_verify_file(const char *path, const unsigned char *shadow, size_t disk);

/* One benchmark cell: requests of size bytes, qd in flight, for ms
 * milliseconds; zero_copy = buffers from swiotlb_alloc() (no bounce).
 * Latencies (ns) are appended to lat (capacity *nlat_cap, grown). */
struct bench_cell {
	size_t size;
	unsigned qd;
	bool zero_copy;
	uint64_t requests;
	double seconds;
	double cpu_seconds;    /* this thread's user + system time */
	double dev_cpu_seconds;/* the device process's (pid dev_pid, if set) */
	int dev_pid;
	uint64_t *lat;
	size_t nlat, lat_cap;
};

int bench_run(struct vblk *b, struct bench_cell *c, unsigned ms, uint64_t seed);

double now_sec(void);

#endif
