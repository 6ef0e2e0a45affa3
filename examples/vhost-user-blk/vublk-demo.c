/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vublk-demo: a real device process (qemu-storage-daemon, vhost-user-blk)
 * reads and writes only through libswiotlb bounce buffers.  See --help.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qsd.h"
#include "virtio_blk.h"
#include "workload.h"

#define MIB ((size_t)1 << 20)

struct opts {
	size_t disk;
	unsigned requests, lanes, shrink_ms, bench_ms, rounds, poll_us;
	double seconds;
	uint64_t seed;
	bool bench, verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: vublk-demo [options]\n"
"\n"
"Starts qemu-storage-daemon as a vhost-user-blk device on a temporary raw\n"
"image and drives it with a virtio-blk driver whose only memory shared with\n"
"the daemon is libswiotlb pools (memfd, registered with ADD_MEM_REG as they\n"
"grow, removed with REM_MEM_REG as they shrink).  Application buffers stay\n"
"private and are bounced.  Random writes and reads of 512 B .. 1 MiB are\n"
"checked by read-back, the pools are left idle until they shrink, and the\n"
"image file is checked after the daemon stops.\n"
"\n"
"  --requests N     at least N requests (default 2000)\n"
"  --seconds S      and at least S seconds (default 0)\n"
"  --lanes N        requests in flight, 1..32 (default 16)\n"
"  --disk-mib N     image size in MiB (default 64)\n"
"  --shrink-ms N    idle time before a grown pool is released (default 200)\n"
"  --seed N         random seed (default 1)\n"
"  --verbose        log every ADD_MEM_REG / REM_MEM_REG\n"
"\n"
"  --bench          benchmark instead: 4 KiB and 64 KiB requests at queue\n"
"                   depth 1 and 32 against a null-co device, bounced\n"
"                   (private buffers) vs zero-copy (buffers from\n"
"                   swiotlb_alloc in the shared pool); IOPS, p50/p99\n"
"                   latency and the bounce overhead (mean latency) in %%\n"
"  --bench-ms N     time per cell and round (default 300)\n"
"  --rounds N       rounds; cells are interleaved per round (default 3)\n"
"  --poll-us N      spin N us on the used ring before sleeping (default 0)\n"
"\n"
"The daemon is $VUBLK_QSD or qemu-storage-daemon from $PATH (Debian:\n"
"qemu-system-common).  Exit status: 0 ok, 1 failure, 77 daemon missing.\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "requests", 1, 0, 'r' }, { "seconds", 1, 0, 's' }, { "lanes", 1, 0, 'l' },
		{ "disk-mib", 1, 0, 'd' }, { "shrink-ms", 1, 0, 'k' }, { "seed", 1, 0, 'S' },
		{ "verbose", 0, 0, 'v' }, { "bench", 0, 0, 'b' }, { "bench-ms", 1, 0, 'm' },
		{ "rounds", 1, 0, 'R' }, { "poll-us", 1, 0, 'p' }, { "help", 0, 0, 'h' },
		{ 0, 0, 0, 0 } };
	int c;

	*o = (struct opts){ .disk = 64 * MIB, .requests = 2000, .lanes = 16, .shrink_ms = 200,
			    .bench_ms = 300, .rounds = 3, .seed = 1 };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		char *end = NULL;
		double v = optarg ? strtod(optarg, &end) : 0;

		if (optarg && (*end || v < 0)) {
			fprintf(stderr, "vublk-demo: bad number '%s'\n", optarg);
			return 1;
		}
		switch (c) {
		case 'r': o->requests = (unsigned)v; break;
		case 's': o->seconds = v; break;
		case 'l': o->lanes = (unsigned)v; break;
		case 'd': o->disk = (size_t)v * MIB; break;
		case 'k': o->shrink_ms = (unsigned)v; break;
		case 'S': o->seed = (uint64_t)v; break;
		case 'v': o->verbose = true; break;
		case 'b': o->bench = true; break;
		case 'm': o->bench_ms = (unsigned)v; break;
		case 'R': o->rounds = (unsigned)v; break;
		case 'p': o->poll_us = (unsigned)v; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return 1;
		}
	}
	if (optind < argc || !o->lanes || o->lanes > WORK_MAX_LANES || o->disk < 2 * MIB ||
	    !o->rounds || !o->bench_ms || !o->shrink_ms) {
		fprintf(stderr, "vublk-demo: bad arguments (see --help)\n");
		return 1;
	}
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec d = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&d, NULL);
}

/* Idle until every grown pool is released (or 5 s). */
static void idle_shrink(struct vblk *b, const struct qsd *q, int *daemon_maps)
{
	struct swiotlb_stats st;

	for (int i = 0; i < 100; i++) {
		sleep_ms(50);
		swiotlb_mem_stats(vblk_mem(b), &st);
		*daemon_maps = qsd_count_regions(q);
		if (!st.grown_pools && !st.transient_pools && *daemon_maps == 1)
			break;
	}
}

static int demo(const struct opts *o, struct qsd *q)
{
	struct vblk_config c = { .pool_size = MIB, .shrink_delay_ms = o->shrink_ms,
				 .verbose = o->verbose };
	unsigned char *shadow = calloc(1, o->disk);
	int rc, maps_idle = -1, rc_close, rc_file;
	struct work_result wr;
	struct swiotlb_stats st;
	struct vblk_stats vs;
	struct vblk *b;

	if (!shadow)
		return -ENOMEM;
	c.socket = q->sock;
	rc = vblk_open(&c, &b);
	if (rc) {
		free(shadow);
		return rc;
	}
	printf("device: %s, %llu MiB, daemon pid %d; pool 1 MiB (memfd, window 0x100000000)\n",
	       q->sock, (unsigned long long)(vblk_capacity(b) >> 20), (int)q->pid);
	rc = work_random(b, q, shadow, o->disk, o->lanes, MIB, o->seconds, o->requests,
			 o->seed, &wr);
	if (!rc)
		rc = work_verify(b, shadow, o->disk);
	swiotlb_mem_stats(vblk_mem(b), &st);
	printf("requests: %u (512 B .. 1 MiB, %u in flight), %.1f MiB moved, all bounced\n",
	       wr.requests, o->lanes, (double)wr.bytes / MIB);
	printf("pools: grown %llu, transient %llu; daemon mapped up to %d of our regions\n",
	       (unsigned long long)st.grows, (unsigned long long)st.transient_created,
	       wr.peak_regions);
	idle_shrink(b, q, &maps_idle);
	swiotlb_mem_stats(vblk_mem(b), &st);
	vblk_get_stats(b, &vs);
	printf("after %u ms idle: shrunk %llu, registered %llu, removed %llu, now %u; "
	       "daemon maps %d\n", o->shrink_ms, (unsigned long long)st.shrinks,
	       (unsigned long long)vs.regions_added, (unsigned long long)vs.regions_removed,
	       vs.regions_now, maps_idle);
	rc_close = vblk_close(b);
	qsd_stop(q);
	rc_file = rc ? rc : work_verify_file(q->image, shadow, o->disk);
	free(shadow);
	printf("verification: read-back %s, image file %s\n", rc ? "FAILED" : "OK",
	       rc_file ? "FAILED" : "OK");
	return rc ? rc : rc_close ? rc_close : rc_file;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double mean_us(const struct bench_cell *c)
{
	double sum = 0;

	for (size_t i = 0; i < c->nlat; i++)
		sum += (double)c->lat[i];
	return c->nlat ? sum / (double)c->nlat / 1000 : 0;
}

static double pct_us(const struct bench_cell *c, double p)
{
	return c->nlat ? (double)c->lat[(size_t)(p * (double)(c->nlat - 1))] / 1000 : 0;
}

static void bench_print(struct bench_cell *cells, unsigned n)
{
	printf("| size | QD | buffers | IOPS | p50 us | p99 us | mean us | "
	       "CPU us/req: driver, daemon | bounce overhead: mean / p50 latency |\n");
	printf("|---|---|---|---|---|---|---|---|---|\n");
	for (unsigned i = 0; i < n; i++) {
		struct bench_cell *c = &cells[i], *zc = &cells[i | 1];
		char ovh[64] = "-";

		qsort(c->lat, c->nlat, sizeof(*c->lat), cmp_u64);
		if (c != zc) {
			qsort(zc->lat, zc->nlat, sizeof(*zc->lat), cmp_u64);
			snprintf(ovh, sizeof(ovh), "%+.1f%% / %+.1f%%",
				 (mean_us(c) / mean_us(zc) - 1) * 100,
				 (pct_us(c, 0.5) / pct_us(zc, 0.5) - 1) * 100);
		}
		printf("| %zu KiB | %u | %s | %.0f | %.1f | %.1f | %.1f | %.2f, %.2f | %s |\n",
		       c->size >> 10, c->qd, c->zero_copy ? "zero-copy" : "bounced",
		       (double)c->requests / c->seconds, pct_us(c, 0.5), pct_us(c, 0.99),
		       mean_us(c), c->cpu_seconds * 1e6 / (double)c->requests,
		       c->dev_cpu_seconds * 1e6 / (double)c->requests, ovh);
	}
}

static void print_mem_stats(struct vblk *b)
{
	struct swiotlb_stats st;

	swiotlb_mem_stats(vblk_mem(b), &st);
	printf("pool: %llu bounce maps, %llu grows, %llu transient pools, %llu waits, "
	       "%llu failed maps\n", (unsigned long long)st.maps, (unsigned long long)st.grows,
	       (unsigned long long)st.transient_created, (unsigned long long)st.waits,
	       (unsigned long long)st.failed_maps);
}

/* Cells: (4 KiB, 64 KiB) x (QD 1, 32) x (bounced, zero-copy); the bounced
 * cell is at an even index, its zero-copy twin right after it. */
static int bench_main(const struct qsd *q, const struct opts *o)
{
	struct vblk_config c = { .socket = q->sock, .pool_size = 16 * MIB,
				 .poll_us = o->poll_us };
	struct bench_cell cells[8], warm;
	struct vblk *b;
	int rc;

	for (unsigned i = 0; i < 8; i++)
		cells[i] = (struct bench_cell){ .size = i & 4 ? 65536 : 4096,
						.qd = i & 2 ? 32 : 1, .zero_copy = i & 1,
						.dev_pid = q->pid };
	rc = vblk_open(&c, &b);
	if (rc)
		return rc;
	for (unsigned i = 0; i < 8 && !rc; i++) { /* warm-up, not counted */
		warm = cells[i];
		rc = bench_run(b, &warm, 50, o->seed);
		free(warm.lat);
	}
	for (unsigned r = 0; r < o->rounds && !rc; r++)
		for (unsigned i = 0; i < 8 && !rc; i++)
			rc = bench_run(b, &cells[i], o->bench_ms, o->seed + r * 8 + i);
	if (!rc) {
		printf("null-co device via qemu-storage-daemon, %u rounds x %u ms per cell, "
		       "random 50/50 read/write, poll %u us\n", o->rounds, o->bench_ms, o->poll_us);
		bench_print(cells, 8);
		print_mem_stats(b);
	}
	for (unsigned i = 0; i < 8; i++)
		free(cells[i].lat);
	rc = rc ? rc : vblk_close(b);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct qsd q = { 0 };
	int rc;

	if (parse(argc, argv, &o))
		return 1;
	if (!qsd_path()) {
		fprintf(stderr, "vublk-demo: qemu-storage-daemon not found (Debian package "
			"qemu-system-common; scripts/deps.sh installs it)\n");
		return 77;
	}
	qsd_cleanup_on_signal(&q);
	rc = qsd_start(&q, o.bench ? (uint64_t)1 << 30 : o.disk, o.bench);
	if (!rc)
		rc = o.bench ? bench_main(&q, &o)
			     : demo(&o, &q);
	qsd_cleanup(&q);
	if (rc)
		fprintf(stderr, "vublk-demo: %s\n", strerror(-rc));
	return rc ? 1 : 0;
}
