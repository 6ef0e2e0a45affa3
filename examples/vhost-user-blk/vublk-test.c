/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Real-device tests: qemu-storage-daemon serves a raw image over
 * vhost-user-blk, our driver reaches it only through libswiotlb pools.
 *
 *   vublk-test io    random writes and reads of 512 B .. 1 MiB at random
 *                    offsets, up to 16 in flight, from a 1 MiB dynamic pool
 *                    that must grow (the daemon maps the extra memfds),
 *                    then idle until the grown pools are shrunk and gone
 *                    from the daemon; every byte checked by read-back and,
 *                    after the daemon stops, in the image file.
 *   vublk-test kill  the daemon is killed with requests in flight: each
 *                    completes with -ENOTCONN, no mapping is left, the
 *                    device and memory are destroyed cleanly.
 *
 * Exit 0 = pass, 1 = fail, 77 = skipped (no qemu-storage-daemon).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qsd.h"
#include "virtio_blk.h"

#define MIB ((size_t)1 << 20)
#define DISK (64 * MIB)
#define LANES 16
#define LANE (DISK / LANES)

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK failed: %s\n", \
	__FILE__, __LINE__, #c); fail(); } } while (0)
#define CHECK_RC(e) do { int _r = (e); if (_r) { fprintf(stderr, "%s:%d: %s = %d (%s)\n", \
	__FILE__, __LINE__, #e, _r, strerror(_r < 0 ? -_r : _r)); fail(); } } while (0)

static struct qsd g_qsd;

static void fail(void)
{
	qsd_cleanup(&g_qsd);
	exit(1);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec d = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&d, NULL);
}

/* One lane's request: its own private buffer, its own part of the disk,
 * so requests in flight never overlap. */
struct lane {
	struct vblk_req r;
	unsigned char *buf;
	bool busy;
};

static void lane_start(struct vblk *b, struct lane *l, unsigned idx, unsigned char *shadow)
{
	size_t len = ((rnd() % (MIB / VBLK_SECTOR)) + 1) * VBLK_SECTOR;
	uint64_t off = idx * LANE + (rnd() % ((LANE - len) / VBLK_SECTOR + 1)) * VBLK_SECTOR;
	bool wr = rnd() & 1;
	int rc;

	if (rnd() % 8 == 0)
		len = MIB; /* plenty of full-size, four-segment requests */
	if (off + len > (idx + 1) * LANE)
		off = (idx + 1) * LANE - len;
	l->r = (struct vblk_req){ .op = wr ? VBLK_WRITE : VBLK_READ, .offset = off,
				  .buf = l->buf, .len = len, .priv = l };
	if (wr) {
		for (size_t i = 0; i < len; i += 8) {
			uint64_t v = rnd();

			memcpy(l->buf + i, &v, 8);
		}
		memcpy(shadow + off, l->buf, len); /* the lane is ours alone */
	} else {
		memset(l->buf, 0xa5, len);
	}
	while ((rc = vblk_submit(b, &l->r)) == -EAGAIN) {
		struct vblk_req *d;
		int n = vblk_reap(b, &d, 1, 1000);

		CHECK(n >= 0);
		if (n) {
			struct lane *o = d->priv;

			CHECK_RC(d->result);
			if (d->op == VBLK_READ)
				CHECK(!memcmp(o->buf, shadow + d->offset, d->len));
			o->busy = false;
		}
	}
	CHECK_RC(rc);
	l->busy = true;
}

static unsigned reap_check(struct vblk *b, unsigned char *shadow, int timeout_ms)
{
	struct vblk_req *d[LANES];
	int n = vblk_reap(b, d, LANES, timeout_ms);

	CHECK(n >= 0);
	for (int i = 0; i < n; i++) {
		struct lane *l = d[i]->priv;

		CHECK_RC(d[i]->result);
		if (d[i]->op == VBLK_READ && memcmp(l->buf, shadow + d[i]->offset, d[i]->len)) {
			fprintf(stderr, "read-back mismatch at %llu (+%zu)\n",
				(unsigned long long)d[i]->offset, d[i]->len);
			fail();
		}
		l->busy = false;
	}
	return (unsigned)n;
}

static struct vblk *open_dev(size_t pool, unsigned shrink_ms)
{
	struct vblk_config c = { .socket = g_qsd.sock, .pool_size = pool,
				 .shrink_delay_ms = shrink_ms, .max_pools = 16,
				 .verbose = getenv("VUBLK_VERBOSE") != NULL };
	struct vblk *b = NULL;

	CHECK_RC(vblk_open(&c, &b));
	CHECK(vblk_capacity(b) == DISK);
	CHECK(vblk_max_request(b) >= MIB);
	return b;
}

/* Random I/O for a while; returns the most daemon regions seen. */
static int random_io(struct vblk *b, struct lane *lanes, unsigned char *shadow, double secs)
{
	double end = now_s() + secs;
	unsigned ops = 0, rounds = 0;
	int peak = 0;

	while (now_s() < end || ops < 200) {
		for (unsigned i = 0; i < LANES; i++)
			if (!lanes[i].busy) {
				lane_start(b, &lanes[i], i, shadow);
				ops++;
			}
		reap_check(b, shadow, 1000);
		if (++rounds % 8 == 0) {
			int n = qsd_count_regions(&g_qsd);

			peak = n > peak ? n : peak;
		}
	}
	while (vblk_inflight(b))
		reap_check(b, shadow, 1000);
	printf("random I/O: %u requests\n", ops);
	return peak;
}

/* Idle until the grown pools are gone, here and in the daemon. */
static void wait_shrunk(struct vblk *b)
{
	struct swiotlb_stats st;
	struct vblk_stats vs;
	int regions = -1;

	for (int i = 0; i < 100; i++) {
		sleep_ms(50);
		swiotlb_mem_stats(vblk_mem(b), &st);
		vblk_get_stats(b, &vs);
		regions = qsd_count_regions(&g_qsd);
		if (st.grown_pools == 0 && st.transient_pools == 0 && vs.regions_now == 1 &&
		    regions == 1)
			break;
	}
	printf("after idle: pools %llu grown %llu shrinks %llu, registered %u, daemon maps %d\n",
	       (unsigned long long)st.pools, (unsigned long long)st.grown_pools,
	       (unsigned long long)st.shrinks, vs.regions_now, regions);
	CHECK(st.shrinks > 0 && st.grown_pools == 0);
	CHECK(vs.regions_removed > 0 && vs.regions_now == 1);
	CHECK(regions == 1);
}

static void verify_image(const unsigned char *shadow)
{
	unsigned char *img = malloc(DISK);
	int fd = open(g_qsd.image, O_RDONLY);
	size_t got = 0;

	CHECK(img && fd >= 0);
	while (got < DISK) {
		ssize_t n = read(fd, img + got, DISK - got);

		CHECK(n > 0);
		got += (size_t)n;
	}
	close(fd);
	for (size_t i = 0; i < DISK; i++)
		if (img[i] != shadow[i]) {
			fprintf(stderr, "image differs at byte %zu\n", i);
			fail();
		}
	free(img);
	printf("image file: %zu bytes verified\n", (size_t)DISK);
}

static int test_io(void)
{
	unsigned char *shadow = calloc(1, DISK), *back = malloc(DISK);
	struct lane lanes[LANES] = { 0 };
	struct swiotlb_dev_stats ds;
	struct swiotlb_stats st;
	struct vblk_stats vs;
	struct vblk *b;
	int peak;

	CHECK(shadow && back);
	for (unsigned i = 0; i < LANES; i++)
		CHECK((lanes[i].buf = malloc(MIB)));
	CHECK_RC(qsd_start(&g_qsd, DISK, false));
	b = open_dev(MIB, 150);
	peak = random_io(b, lanes, shadow, 3.0);
	swiotlb_mem_stats(vblk_mem(b), &st);
	vblk_get_stats(b, &vs);
	printf("grows %llu, transient %llu, regions added %llu, daemon maps at peak %d\n",
	       (unsigned long long)st.grows, (unsigned long long)st.transient_created,
	       (unsigned long long)vs.regions_added, peak);
	CHECK(st.grows > 0);
	CHECK(vs.regions_added > 1 && peak > 1);
	wait_shrunk(b);
	CHECK_RC(vblk_rw(b, VBLK_READ, 0, back, DISK)); /* everything, once more */
	CHECK(!memcmp(back, shadow, DISK));
	swiotlb_dev_stats(vblk_dev(b), &ds);
	CHECK(ds.maps == ds.unmaps && ds.mappings == VBLK_COHERENT_ALLOCS);
	CHECK_RC(vblk_close(b)); /* includes swiotlb_dev_destroy(): 0 only with no mapping */
	CHECK_RC(qsd_stop(&g_qsd));
	verify_image(shadow);
	qsd_cleanup(&g_qsd);
	for (unsigned i = 0; i < LANES; i++)
		free(lanes[i].buf);
	free(shadow);
	free(back);
	return 0;
}

/* With the device gone, a map that needs a new pool cannot register it:
 * the pool is refused and the map fails; no address is handed out. */
static void unregistered_pool_refused(struct vblk *b)
{
	static unsigned char big[256 * 1024];
	swiotlb_addr_t a[128];
	struct vblk_stats vs;
	unsigned ok = 0;
	int rc = 0;

	for (; ok < 128; ok++) { /* up to 32 MiB: more than the pool holds */
		rc = swiotlb_map(vblk_dev(b), big, sizeof(big), SWIOTLB_TO_DEVICE,
				 SWIOTLB_ATTR_NO_WARN, &a[ok]);
		if (rc)
			break;
	}
	vblk_get_stats(b, &vs);
	printf("device gone: %u maps of 256 KiB fit the registered pools, then %s; "
	       "%llu pool(s) refused\n", ok, strerror(-rc), (unsigned long long)vs.region_failures);
	CHECK(rc < 0 && ok < 128 && vs.region_failures > 0);
	while (ok--)
		CHECK_RC(swiotlb_unmap(vblk_dev(b), a[ok], sizeof(big), SWIOTLB_TO_DEVICE, 0));
}

static int test_kill(void)
{
	struct vblk_req rq[32], *d[32];
	unsigned char *bufs = malloc(32 * 256 * 1024);
	struct swiotlb_dev_stats ds;
	struct vblk *b;
	unsigned done = 0, failed = 0, inflight;
	int n;

	CHECK(bufs);
	memset(bufs, 0x5a, 32 * 256 * 1024);
	CHECK_RC(qsd_start(&g_qsd, DISK, false));
	b = open_dev(16 * MIB, 0); /* room for 32 x 256 KiB: no EAGAIN */
	for (unsigned i = 0; i < 32; i++) {
		rq[i] = (struct vblk_req){ .op = i & 1 ? VBLK_READ : VBLK_WRITE,
					   .offset = i * 256 * 1024, .buf = bufs + i * 256 * 1024,
					   .len = 256 * 1024 };
		CHECK_RC(vblk_submit(b, &rq[i]));
	}
	while (done < 100) { /* keep 32 in flight for a while */
		n = vblk_reap(b, d, 32, 2000);
		CHECK(n > 0);
		for (int i = 0; i < n; i++) {
			CHECK_RC(d[i]->result);
			CHECK_RC(vblk_submit(b, d[i]));
		}
		done += (unsigned)n;
	}
	/* freeze the daemon so that a full queue is in flight, then kill it */
	CHECK(kill(g_qsd.pid, SIGSTOP) == 0);
	for (;;) {
		n = vblk_reap(b, d, 32, 0);
		CHECK(n >= 0);
		for (int i = 0; i < n; i++) {
			CHECK_RC(d[i]->result);
			CHECK_RC(vblk_submit(b, d[i]));
		}
		if (!n && vblk_inflight(b) == 32)
			break;
	}
	inflight = vblk_inflight(b);
	CHECK(inflight == 32);
	qsd_kill(&g_qsd);
	printf("killed the daemon with %u requests in flight\n", inflight);
	while ((n = vblk_reap(b, d, 32, 5000)) > 0)
		for (int i = 0; i < n; i++)
			failed += d[i]->result == -ENOTCONN;
	CHECK(n == -ENOTCONN);
	CHECK(vblk_inflight(b) == 0);
	CHECK(failed == inflight);
	CHECK(vblk_submit(b, &rq[0]) == -ENOTCONN);
	CHECK(vblk_rw(b, VBLK_READ, 0, bufs, 4096) == -ENOTCONN);
	swiotlb_dev_stats(vblk_dev(b), &ds);
	printf("%u requests failed with ENOTCONN; bounce maps %llu, unmaps %llu\n", failed,
	       (unsigned long long)ds.maps, (unsigned long long)ds.unmaps);
	CHECK(ds.maps == ds.unmaps && ds.mappings == VBLK_COHERENT_ALLOCS);
	unregistered_pool_refused(b);
	CHECK_RC(vblk_close(b)); /* swiotlb_dev_destroy and swiotlb_mem_destroy: 0 */
	qsd_cleanup(&g_qsd);
	free(bufs);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "io") && strcmp(argv[1], "kill"))) {
		fprintf(stderr, "usage: vublk-test io|kill\n");
		return 2;
	}
	if (!qsd_path()) {
		printf("SKIP: qemu-storage-daemon not found (Debian: qemu-system-common; "
		       "scripts/deps.sh installs it)\n");
		return 77;
	}
	return strcmp(argv[1], "io") ? test_kill() : test_io();
}
