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
#include "workload.h"

#define MIB ((size_t)1 << 20)
#define DISK (64 * MIB)
#define LANES 16

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

static void sleep_ms(int ms)
{
	struct timespec d = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&d, NULL);
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

static int test_io(void)
{
	unsigned char *shadow = calloc(1, DISK);
	struct swiotlb_dev_stats ds;
	struct work_result wr;
	struct swiotlb_stats st;
	struct vblk_stats vs;
	struct vblk *b;

	CHECK(shadow);
	CHECK_RC(qsd_start(&g_qsd, DISK, false));
	b = open_dev(MIB, 150);
	CHECK_RC(work_random(b, &g_qsd, shadow, DISK, LANES, MIB, 3.0, 200, 42, &wr));
	swiotlb_mem_stats(vblk_mem(b), &st);
	vblk_get_stats(b, &vs);
	printf("random I/O: %u requests, %llu bytes; grows %llu, transient %llu, regions "
	       "added %llu, daemon maps at peak %d\n", wr.requests,
	       (unsigned long long)wr.bytes, (unsigned long long)st.grows,
	       (unsigned long long)st.transient_created, (unsigned long long)vs.regions_added,
	       wr.peak_regions);
	CHECK(wr.requests >= 200);
	CHECK(vs.max_segments == 4); /* 1 MiB requests: four 256 KiB descriptors */
	CHECK(st.grows > 0);
	CHECK(vs.regions_added > 1 && wr.peak_regions > 1);
	wait_shrunk(b);
	CHECK_RC(work_verify(b, shadow, DISK)); /* everything, once more */
	swiotlb_dev_stats(vblk_dev(b), &ds);
	CHECK(ds.maps == ds.unmaps && ds.mappings == VBLK_COHERENT_ALLOCS);
	CHECK_RC(vblk_close(b)); /* includes swiotlb_dev_destroy(): 0 only with no mapping */
	CHECK_RC(qsd_stop(&g_qsd));
	CHECK_RC(work_verify_file(g_qsd.image, shadow, DISK));
	printf("image file: %zu bytes verified\n", (size_t)DISK);
	qsd_cleanup(&g_qsd);
	free(shadow);
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
	qsd_cleanup_on_signal(&g_qsd);
	return strcmp(argv[1], "io") ? test_kill() : test_io();
}
