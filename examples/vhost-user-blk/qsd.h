/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Start and stop qemu-storage-daemon as a vhost-user-blk device for tests,
 * the demo and the benchmark: a fresh temporary directory holds the socket,
 * the image and the daemon's log; the daemon is stopped by pid and dies
 * with us (PR_SET_PDEATHSIG) if we crash.
 */
#ifndef QSD_H
#define QSD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct qsd {
	pid_t pid;
	char dir[64];
	char sock[96];
	char image[96];
	char log[96];
};

/* The daemon's path: $VUBLK_QSD, else qemu-storage-daemon from $PATH.
 * NULL when it is not installed. */
const char *qsd_path(void);

/* Start a daemon serving a raw image of size bytes (created zero-filled in
 * the temp dir; null_co: a null-co device of that size instead).  Waits
 * until the socket exists.  Returns 0 or a negative errno (with a message
 * on stderr, and the daemon's log copied there). */
int qsd_start(struct qsd *q, uint64_t size, bool null_co);

/* SIGTERM, wait up to 5 s, then SIGKILL.  Returns 0 when it exited on its
 * own after SIGTERM.  The temp dir stays (the image is read after). */
int qsd_stop(struct qsd *q);

/* SIGKILL now and reap it. */
void qsd_kill(struct qsd *q);

/* Stop it if it still runs, remove the temp dir and its files. */
void qsd_cleanup(struct qsd *q);

/* From now on, a fatal signal (INT, TERM, HUP, PIPE, ABRT, SEGV) removes
 * q's temp dir before the process dies (the daemon dies with us anyway).
 * One qsd at a time. */
void qsd_cleanup_on_signal(struct qsd *q);

/* Regions of ours the daemon has mapped now: lines of /proc/PID/maps
 * naming our memfd ("swiotlb-pool").  -errno when unreadable. */
int qsd_count_regions(const struct qsd *q);

#endif
