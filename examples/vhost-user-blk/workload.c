/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Workloads for the real-device test, the demo and the benchmark. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "util.h" /* common/: util_rand */
#include "workload.h"

double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}


struct lane {
	struct vblk_req r;
	unsigned char *buf;
	bool busy;
};

struct work {
	struct vblk *b;
	unsigned char *shadow;
	size_t slice, max_len;
	uint64_t rng;
	struct lane lane[WORK_MAX_LANES];
	struct work_result *res;
};

/* A finished request: check what a read brought back. */
static int lane_done(struct work *w, struct vblk_req *r)
{
	struct lane *l = r->priv;

	l->busy = false;
	if (r->result) {
		fprintf(stderr, "request at %llu (+%zu) failed: %s\n",
			(unsigned long long)r->offset, r->len, strerror(-r->result));
		return r->result;
	}
	w->res->requests++;
	w->res->bytes += r->len;
	if (r->op == VBLK_READ && memcmp(l->buf, w->shadow + r->offset, r->len)) {
		fprintf(stderr, "read-back mismatch at %llu (+%zu)\n",
			(unsigned long long)r->offset, r->len);
		return -EILSEQ;
	}
	return 0;
}

static int reap(struct work *w, int timeout_ms)
{
	struct vblk_req *d[WORK_MAX_LANES];
	int n = vblk_reap(w->b, d, WORK_MAX_LANES, timeout_ms), rc = 0;

	for (int i = 0; i < n && !rc; i++)
		rc = lane_done(w, d[i]);
	return n < 0 ? n : rc;
}

static void lane_fill(struct work *w, struct lane *l, unsigned idx)
{
	size_t sectors = w->max_len / VBLK_SECTOR, len;
	uint64_t base = idx * w->slice, off;
	bool wr = util_rand(&w->rng) & 1;

	len = (util_rand(&w->rng) % 8 == 0 ? sectors : util_rand(&w->rng) % sectors + 1) * VBLK_SECTOR;
	off = base + (util_rand(&w->rng) % ((w->slice - len) / VBLK_SECTOR + 1)) * VBLK_SECTOR;
	l->r = (struct vblk_req){ .op = wr ? VBLK_WRITE : VBLK_READ, .offset = off,
				  .buf = l->buf, .len = len, .priv = l };
	if (!wr) {
		memset(l->buf, 0xa5, len);
		return;
	}
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = util_rand(&w->rng);

		memcpy(l->buf + i, &v, 8);
	}
	memcpy(w->shadow + off, l->buf, len); /* the slice is this lane's alone */
}

static int lane_start(struct work *w, unsigned idx)
{
	struct lane *l = &w->lane[idx];
	int rc;

	lane_fill(w, l, idx);
	while ((rc = vblk_submit(w->b, &l->r)) == -EAGAIN) {
		rc = reap(w, 1000); /* slots or descriptors come back */
		if (rc)
			return rc;
	}
	l->busy = !rc;
	return rc;
}

static int work_loop(struct work *w, const struct qsd *q, unsigned lanes, double secs,
		     unsigned min_req)
{
	double end = now_sec() + secs;
	unsigned rounds = 0;
	int rc = 0;

	while (!rc && (now_sec() < end || w->res->requests < min_req)) {
		vblk_plug(w->b);
		for (unsigned i = 0; i < lanes && !rc; i++)
			if (!w->lane[i].busy)
				rc = lane_start(w, i);
		vblk_unplug(w->b);
		if (!rc)
			rc = reap(w, 1000);
		if (q && ++rounds % 8 == 0) {
			int n = qsd_count_regions(q);

			if (n > w->res->peak_regions)
				w->res->peak_regions = n;
		}
	}
	while (vblk_inflight(w->b)) {
		int r2 = reap(w, 1000);

		rc = rc ? rc : r2;
		if (r2 == -ENOTCONN)
			break;
	}
	return rc;
}

int work_random(struct vblk *b, const struct qsd *q, unsigned char *shadow, size_t disk,
		unsigned lanes, size_t max_len, double secs, unsigned min_req, uint64_t seed,
		struct work_result *res)
{
	struct work w = { .b = b, .shadow = shadow, .rng = util_rand_seed(seed), .res = res };
	int rc = -ENOMEM;

	memset(res, 0, sizeof(*res));
	if (!lanes || lanes > WORK_MAX_LANES)
		return -EINVAL;
	w.slice = disk / lanes / VBLK_SECTOR * VBLK_SECTOR;
	w.max_len = max_len < w.slice ? max_len : w.slice;
	if (w.max_len > vblk_max_request(b))
		w.max_len = vblk_max_request(b);
	unsigned i;

	for (i = 0; i < lanes; i++)
		if (!(w.lane[i].buf = malloc(w.max_len)))
			break;
	if (i == lanes)
		rc = work_loop(&w, q, lanes, secs, min_req);
	while (i--)
		free(w.lane[i].buf);
	return rc;
}

int work_verify(struct vblk *b, const unsigned char *shadow, size_t disk)
{
	unsigned char *back = malloc(disk);
	int rc;

	if (!back)
		return -ENOMEM;
	rc = vblk_rw(b, VBLK_READ, 0, back, disk);
	if (!rc && memcmp(back, shadow, disk)) {
		fprintf(stderr, "full read-back differs from what was written\n");
		rc = -EILSEQ;
	}
	free(back);
	return rc;
}

int work_verify_file(const char *path, const unsigned char *shadow, size_t disk)
{
	unsigned char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off < disk && !rc) {
		ssize_t n = read(fd, buf, sizeof(buf) < disk - off ? sizeof(buf) : disk - off);

		if (n <= 0)
			rc = n < 0 ? -errno : -EIO;
		else if (memcmp(buf, shadow + off, (size_t)n))
			rc = -EILSEQ;
		else
			off += (size_t)n;
	}
	close(fd);
	if (rc == -EILSEQ)
		fprintf(stderr, "image file differs near byte %zu\n", off);
	return rc;
}

/* ---- benchmark ---- */

struct bench_slot {
	struct vblk_req r;
	uint64_t t0;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int lat_push(struct bench_cell *c, uint64_t ns)
{
	if (c->nlat == c->lat_cap) {
		size_t cap = c->lat_cap ? c->lat_cap * 2 : 65536;
		uint64_t *n = realloc(c->lat, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		c->lat = n;
		c->lat_cap = cap;
	}
	c->lat[c->nlat++] = ns;
	return 0;
}

static int bench_submit(struct vblk *b, struct bench_slot *s, uint64_t *rng, uint64_t span)
{
	s->r.op = util_rand(rng) & 1 ? VBLK_WRITE : VBLK_READ;
	s->r.offset = util_rand(rng) % (span / s->r.len) * s->r.len;
	s->t0 = now_ns();
	return vblk_submit(b, &s->r);
}

static int bench_bufs(struct vblk *b, struct bench_slot *s, struct bench_cell *c, bool get)
{
	for (unsigned i = 0; i < c->qd; i++) {
		struct vblk_req *r = &s[i].r;

		if (!get) {
			if (!r->buf)
				continue;
			if (c->zero_copy)
				swiotlb_free(vblk_dev(b), r->buf, c->size, r->zc_addr);
			else
				free(r->buf);
			continue;
		}
		*r = (struct vblk_req){ .len = c->size, .priv = &s[i] };
		r->buf = c->zero_copy ? swiotlb_alloc(vblk_dev(b), c->size, &r->zc_addr)
				      : aligned_alloc(4096, c->size);
		if (!r->buf)
			return -ENOMEM;
		memset(r->buf, (int)i, c->size);
	}
	return 0;
}

static int bench_loop(struct vblk *b, struct bench_cell *c, struct bench_slot *s,
		      unsigned ms, uint64_t rng)
{
	const uint64_t span = vblk_capacity(b);
	uint64_t end = now_ns() + ms * 1000000ull, t0 = now_ns();
	struct vblk_req *d[WORK_MAX_LANES];
	int rc = 0;

	for (unsigned i = 0; i < c->qd && !rc; i++)
		rc = bench_submit(b, &s[i], &rng, span);
	while (!rc && vblk_inflight(b)) {
		int n = vblk_reap(b, d, WORK_MAX_LANES, 1000);
		uint64_t t = now_ns();

		if (n <= 0)
			return n ? n : -ETIMEDOUT;
		vblk_plug(b); /* one kick for the whole batch */
		for (int i = 0; i < n && !rc; i++) {
			struct bench_slot *bs = d[i]->priv;

			rc = d[i]->result ? d[i]->result : lat_push(c, t - bs->t0);
			c->requests++;
			if (!rc && t < end)
				rc = bench_submit(b, bs, &rng, span);
		}
		vblk_unplug(b);
	}
	c->seconds += (double)(now_ns() - t0) / 1e9;
	return rc;
}

static double thread_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* utime + stime of a process, from /proc/PID/stat (0 if unreadable). */
static double proc_cpu(int pid)
{
	unsigned long long ut = 0, st = 0;
	char path[64], buf[1024], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

int bench_run(struct vblk *b, struct bench_cell *c, unsigned ms, uint64_t seed)
{
	double cpu0, dev0 = c->dev_pid ? proc_cpu(c->dev_pid) : 0;
	struct bench_slot s[WORK_MAX_LANES];
	int rc;

	if (!c->qd || c->qd > WORK_MAX_LANES)
		return -EINVAL;
	memset(s, 0, sizeof(s));
	rc = bench_bufs(b, s, c, true);
	cpu0 = thread_cpu();
	if (!rc)
		rc = bench_loop(b, c, s, ms, util_rand_seed(seed));
	c->cpu_seconds += thread_cpu() - cpu0;
	if (c->dev_pid)
		c->dev_cpu_seconds += proc_cpu(c->dev_pid) - dev0;
	bench_bufs(b, s, c, false);
	return rc;
}
