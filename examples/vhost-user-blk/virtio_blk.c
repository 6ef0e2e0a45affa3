/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtio-blk over a split virtqueue, served by a vhost-user backend, with
 * libswiotlb pools as the only shared memory (see virtio_blk.h).
 *
 * A request is a descriptor chain: the 16-byte header (device reads), one
 * descriptor per data segment (device writes them for a read), and the
 * status byte (device writes).  Header and status live in per-head arrays
 * in shared memory, indexed by the chain's head descriptor.
 *
 * Ring ordering: descriptors and the avail ring entry are written before
 * avail->idx is published with a release store; a full fence then orders
 * that store before the read of used->flags that decides whether to kick.
 * used->idx is read with an acquire load before the used entries and the
 * status bytes it covers.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vhost_user.h"
#include "virtio_blk.h"

#define VIRTIO_F_VERSION_1 32
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_FLUSH 9

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_USED_F_NO_NOTIFY 1

#define BLK_S_OK 0
#define BLK_S_UNSUPP 2

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct vring_avail {
	uint16_t flags, idx;
	uint16_t ring[];
};

struct vring_used_elem {
	uint32_t id, len;
};

struct vring_used {
	uint16_t flags, idx;
	struct vring_used_elem ring[];
};

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

/* One coherent (shared) allocation. */
struct shared {
	void *cpu;
	swiotlb_addr_t addr;
	size_t len;
};

struct vblk {
	struct vhost_user vu;
	struct swiotlb_provider *prov;
	struct swiotlb_mem *mem;
	struct swiotlb_dev *dev;
	unsigned qsz, poll_us;
	struct shared s_desc, s_avail, s_used, s_hdr, s_status;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct blk_hdr *hdr;
	uint8_t *status;
	int kick_fd, call_fd;
	uint16_t avail_idx, last_used, free_head;
	unsigned nfree, ninflight;
	struct vblk_req **inflight; /* by head descriptor */
	uint16_t *next;             /* descriptor links, private: the shared
				       table is written, never read back */
	uint64_t capacity;
	size_t seg_size;
	unsigned seg_max;
	bool connected;             /* vu needs vhost_user_close() */
	bool told;                  /* the device-gone message was printed */
	bool plugged, unkicked;     /* kicks deferred; published since kick */
	struct vblk_stats st;       /* I/O-thread counters */
	atomic_uint_fast64_t radd, rrem, rfail; /* hook counters */
};

/* ---- pool hooks: the library's threads ---- */

static int pool_fd(struct vblk *b, const struct swiotlb_pool_info *pi, int *fd, uint64_t *off)
{
	*fd = pi->fd;
	*off = pi->fd_offset;
	if (*fd >= 0)
		return 0;
	return b->prov->fd(b->prov->ctx, pi->cpu, pi->addr, pi->len, fd, off);
}

static int hook_pool_added(void *ctx, const struct swiotlb_pool_info *pi)
{
	struct vblk *b = ctx;
	uint64_t off;
	int fd, rc;

	rc = pool_fd(b, pi, &fd, &off);
	if (!rc)
		rc = vhost_user_add_region(&b->vu, pi->addr, pi->len, pi->cpu, fd, off);
	atomic_fetch_add_explicit(rc ? &b->rfail : &b->radd, 1, memory_order_relaxed);
	return rc;
}

static void hook_pool_removed(void *ctx, const struct swiotlb_pool_info *pi)
{
	struct vblk *b = ctx;

	vhost_user_rem_region(&b->vu, pi->addr, pi->len, pi->cpu);
	atomic_fetch_add_explicit(&b->rrem, 1, memory_order_relaxed);
}

/* ---- setup ---- */

static int shared_alloc(struct vblk *b, struct shared *s, size_t len)
{
	s->len = len;
	s->cpu = swiotlb_alloc(b->dev, len, &s->addr);
	return s->cpu ? 0 : -errno;
}

static void shared_free(struct vblk *b, struct shared *s)
{
	if (s->cpu)
		swiotlb_free(b->dev, s->cpu, s->len, s->addr);
	s->cpu = NULL;
}

static int rings_alloc(struct vblk *b)
{
	unsigned q = b->qsz;
	int rc;

	rc = shared_alloc(b, &b->s_desc, sizeof(struct vring_desc) * q);
	if (!rc)
		rc = shared_alloc(b, &b->s_avail, 6 + 2 * (size_t)q);
	if (!rc)
		rc = shared_alloc(b, &b->s_used, 6 + sizeof(struct vring_used_elem) * q);
	if (!rc)
		rc = shared_alloc(b, &b->s_hdr, sizeof(struct blk_hdr) * q);
	if (!rc)
		rc = shared_alloc(b, &b->s_status, q);
	if (rc)
		return rc;
	b->desc = b->s_desc.cpu;
	b->avail = b->s_avail.cpu;
	b->used = b->s_used.cpu;
	b->hdr = b->s_hdr.cpu;
	b->status = b->s_status.cpu;
	b->inflight = calloc(q, sizeof(*b->inflight));
	b->next = calloc(q, sizeof(*b->next));
	if (!b->inflight || !b->next)
		return -ENOMEM;
	for (unsigned i = 0; i < q; i++)
		b->next[i] = (uint16_t)(i + 1);
	b->nfree = q;
	return 0;
}

static int device_config(struct vblk *b, uint64_t features)
{
	uint8_t cfg[16];
	uint32_t size_max, seg_max;
	int rc = vhost_user_get_config(&b->vu, 0, cfg, sizeof(cfg));

	if (rc)
		return rc;
	memcpy(&b->capacity, cfg, 8);
	memcpy(&size_max, cfg + 8, 4);
	memcpy(&seg_max, cfg + 12, 4);
	b->capacity *= VBLK_SECTOR;
	b->seg_size = SWIOTLB_SEGMENT_SIZE;
	if ((features & (1ull << VIRTIO_BLK_F_SIZE_MAX)) && size_max && size_max < b->seg_size)
		b->seg_size = size_max & ~(size_t)(VBLK_SECTOR - 1);
	b->seg_max = VBLK_MAX_SEGS;
	if ((features & (1ull << VIRTIO_BLK_F_SEG_MAX)) && seg_max && seg_max < b->seg_max)
		b->seg_max = seg_max;
	if (b->vu.verbose)
		fprintf(stderr, "vblk: capacity %llu bytes, size_max %u, seg_max %u: segments of "
			"%zu bytes, %u per request\n", (unsigned long long)b->capacity, size_max,
			seg_max, b->seg_size, b->seg_max);
	return b->seg_size ? 0 : -EPROTO;
}

static int memory_create(struct vblk *b, const struct vblk_config *c)
{
	struct swiotlb_mem_config mc = {
		.size = c->pool_size ? c->pool_size : (size_t)1 << 20,
		.provider = NULL, .dynamic = true, .grow_size = c->grow_size,
		.shrink_delay_ms = c->shrink_delay_ms,
		.pool_added = hook_pool_added, .pool_removed = hook_pool_removed, .hook_ctx = b,
	};
	struct swiotlb_dev_config dc = { .name = "vhost-user-blk", .force_bounce = true };
	unsigned slots = b->vu.max_mem_slots;

	b->prov = swiotlb_provider_memfd(c->window_base ? c->window_base : 0x100000000ull,
					 c->window_len ? c->window_len : (size_t)1 << 30, 0);
	if (!b->prov)
		return -errno;
	mc.provider = b->prov;
	mc.max_pools = c->max_pools && c->max_pools < slots ? c->max_pools : slots;
	b->mem = swiotlb_mem_create(&mc);
	if (!b->mem)
		return -errno;
	b->dev = swiotlb_dev_create(b->mem, &dc);
	return b->dev ? 0 : -errno;
}

static int queue_start(struct vblk *b)
{
	struct vhost_user_vring vr = { 0, b->qsz, b->desc, b->avail, b->used, -1, -1 };

	b->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	b->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->kick_fd < 0 || b->call_fd < 0)
		return -errno;
	vr.kick_fd = b->kick_fd;
	vr.call_fd = b->call_fd;
	return vhost_user_start_vring(&b->vu, &vr);
}

static int open_steps(struct vblk *b, const struct vblk_config *c)
{
	const uint64_t want = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_SIZE_MAX |
			      1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_FLUSH;
	uint64_t features;
	int rc;

	rc = vhost_user_connect(&b->vu, c->socket, c->connect_ms ? c->connect_ms : 5000);
	b->connected = true;
	if (rc) {
		fprintf(stderr, "vblk: cannot connect to %s: %s\n", c->socket, strerror(-rc));
		return rc;
	}
	b->vu.verbose = c->verbose;
	rc = vhost_user_setup(&b->vu, want, &features);
	if (!rc)
		rc = device_config(b, features);
	if (!rc)
		rc = memory_create(b, c);
	if (!rc)
		rc = rings_alloc(b);
	if (!rc)
		rc = queue_start(b);
	if (rc)
		fprintf(stderr, "vblk: setting up the device failed: %s\n", strerror(-rc));
	return rc;
}

int vblk_open(const struct vblk_config *c, struct vblk **out)
{
	struct vblk *b;
	int rc;

	if (!c || !c->socket || !out || (c->queue_size & (c->queue_size - 1)) ||
	    c->queue_size > 1024)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->kick_fd = b->call_fd = -1;
	b->qsz = c->queue_size ? c->queue_size : 128;
	b->poll_us = c->poll_us;
	rc = open_steps(b, c);
	if (rc) {
		vblk_close(b);
		return rc;
	}
	*out = b;
	return 0;
}

/* ---- requests ---- */

static enum swiotlb_dir req_dir(const struct vblk_req *r)
{
	return r->op == VBLK_READ ? SWIOTLB_FROM_DEVICE : SWIOTLB_TO_DEVICE;
}

static int req_check(const struct vblk *b, const struct vblk_req *r)
{
	size_t max = b->seg_size * b->seg_max;

	if (r->op == VBLK_FLUSH)
		return r->len ? -EINVAL : 0;
	if ((r->op != VBLK_READ && r->op != VBLK_WRITE) || !r->buf || !r->len ||
	    r->len % VBLK_SECTOR || r->offset % VBLK_SECTOR || r->len > max ||
	    r->offset > b->capacity || r->len > b->capacity - r->offset)
		return -EINVAL;
	return 0;
}

/* Map (or, zero-copy, just address) the data segments. */
static int req_map(struct vblk *b, struct vblk_req *r)
{
	unsigned attrs = SWIOTLB_ATTR_NO_WARN | (b->ninflight ? 0 : SWIOTLB_ATTR_MAY_BLOCK);
	size_t done = 0;
	int rc;

	r->nseg = 0;
	for (; done < r->len; r->nseg++) {
		struct swiotlb_sg *s = &r->sg[r->nseg];

		s->cpu = (char *)r->buf + done;
		s->len = r->len - done < b->seg_size ? r->len - done : b->seg_size;
		s->addr = r->zc_addr + done;
		done += s->len;
	}
	if (r->zc_addr || !r->nseg)
		return 0;
	rc = swiotlb_map_sg(b->dev, r->sg, r->nseg, req_dir(r), attrs, NULL);
	if ((rc == -ENOSPC || rc == -ETIMEDOUT) && b->ninflight)
		return -EAGAIN; /* slots come back as requests complete */
	return rc;
}

static void req_unmap(struct vblk *b, struct vblk_req *r, bool copy)
{
	int rc;

	if (r->zc_addr || !r->nseg)
		return;
	rc = swiotlb_unmap_sg(b->dev, r->sg, r->nseg, req_dir(r),
			      copy ? 0 : SWIOTLB_ATTR_SKIP_CPU_SYNC);
	if (rc && !r->result)
		r->result = rc;
}

static void desc_set(struct vring_desc *d, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* Build the chain from the free list; returns its head. */
static unsigned chain_build(struct vblk *b, struct vblk_req *r)
{
	unsigned head = b->free_head, i = head, n = r->nseg + 2;
	uint16_t wr = r->op == VBLK_READ ? VRING_DESC_F_WRITE : 0;

	b->hdr[head] = (struct blk_hdr){ r->op, 0, r->offset / VBLK_SECTOR };
	b->status[head] = 0xff;
	desc_set(&b->desc[i], b->s_hdr.addr + head * sizeof(struct blk_hdr),
		 sizeof(struct blk_hdr), VRING_DESC_F_NEXT, b->next[i]);
	for (unsigned k = 0; k < r->nseg; k++) {
		i = b->next[i];
		desc_set(&b->desc[i], r->sg[k].addr, (uint32_t)r->sg[k].len,
			 VRING_DESC_F_NEXT | wr, b->next[i]);
	}
	i = b->next[i];
	desc_set(&b->desc[i], b->s_status.addr + head, 1, VRING_DESC_F_WRITE, 0);
	b->free_head = b->next[i];
	b->nfree -= n;
	return head;
}

/* Give a request's chain back: its length is known from the request, the
 * links from the private array (a device may have scribbled on the
 * shared table). */
static void chain_free(struct vblk *b, const struct vblk_req *r)
{
	unsigned i = r->head;

	for (unsigned k = 0; k < r->nseg + 1; k++)
		i = b->next[i];
	b->next[i] = b->free_head;
	b->free_head = (uint16_t)r->head;
	b->nfree += r->nseg + 2;
}

static void ring_kick(struct vblk *b)
{
	uint64_t one = 1;

	b->unkicked = false;
	/* the idx store before the flags load: the device either sees the
	 * new entries or has notifications on, and we then kick */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!(__atomic_load_n(&b->used->flags, __ATOMIC_RELAXED) & VRING_USED_F_NO_NOTIFY) &&
	    write(b->kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		perror("vblk: kick");
}

static void ring_publish(struct vblk *b, unsigned head)
{
	b->avail->ring[b->avail_idx & (b->qsz - 1)] = (uint16_t)head;
	b->avail_idx++;
	__atomic_store_n(&b->avail->idx, b->avail_idx, __ATOMIC_RELEASE);
	b->unkicked = true;
	if (!b->plugged)
		ring_kick(b);
}

void vblk_plug(struct vblk *b)
{
	b->plugged = true;
}

void vblk_unplug(struct vblk *b)
{
	b->plugged = false;
	if (b->unkicked)
		ring_kick(b);
}

int vblk_submit(struct vblk *b, struct vblk_req *r)
{
	int rc;

	if (vhost_user_broken(&b->vu))
		return -ENOTCONN;
	rc = req_check(b, r);
	if (rc)
		return rc;
	if (b->nfree < (r->len + b->seg_size - 1) / b->seg_size + 2)
		return -EAGAIN;
	r->result = 0;
	rc = req_map(b, r);
	if (rc)
		return rc;
	if (vhost_user_broken(&b->vu)) { /* lost while we waited for a pool */
		req_unmap(b, r, false);
		return -ENOTCONN;
	}
	r->head = chain_build(b, r);
	if (r->nseg > b->st.max_segments)
		b->st.max_segments = r->nseg;
	b->inflight[r->head] = r;
	b->ninflight++;
	ring_publish(b, r->head);
	return 0;
}

static void req_finish(struct vblk *b, struct vblk_req *r, int result)
{
	r->result = result;
	req_unmap(b, r, !result);
	chain_free(b, r);
	b->inflight[r->head] = NULL;
	b->ninflight--;
	if (r->result) {
		b->st.errors++;
	} else {
		b->st.requests++;
		b->st.bytes += r->len;
	}
}

static int status_result(uint8_t s)
{
	return s == BLK_S_OK ? 0 : s == BLK_S_UNSUPP ? -EOPNOTSUPP : -EIO;
}

static int reap_used(struct vblk *b, struct vblk_req **done, int max)
{
	uint16_t end = __atomic_load_n(&b->used->idx, __ATOMIC_ACQUIRE);
	int n = 0;

	while (b->last_used != end && n < max) {
		struct vring_used_elem e = b->used->ring[b->last_used & (b->qsz - 1)];
		struct vblk_req *r = e.id < b->qsz ? b->inflight[e.id] : NULL;

		b->last_used++;
		if (!r) { /* a device that completes what it was not given */
			fprintf(stderr, "vblk: device completed unknown descriptor %u\n", e.id);
			continue;
		}
		req_finish(b, r, status_result(b->status[e.id]));
		done[n++] = r;
	}
	return n;
}

/* Device gone: every request in flight completes with -ENOTCONN. */
static int fail_all(struct vblk *b, struct vblk_req **done, int max)
{
	int n = 0;

	if (b->ninflight && !b->told)
		fprintf(stderr, "vblk: the device closed the connection or died; "
			"failing %u request(s) in flight with ENOTCONN\n", b->ninflight);
	b->told = true;
	for (unsigned i = 0; i < b->qsz && n < max; i++) {
		struct vblk_req *r = b->inflight[i];

		if (r) {
			req_finish(b, r, -ENOTCONN);
			done[n++] = r;
		}
	}
	return n ? n : -ENOTCONN;
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ll + ts.tv_nsec / 1000;
}

/* Sleep until the call eventfd fires, the socket hangs up, or timeout. */
static int wait_event(struct vblk *b, int timeout_ms)
{
	struct pollfd p[2] = { { b->call_fd, POLLIN, 0 }, { b->vu.sock, POLLRDHUP, 0 } };
	uint64_t v;
	int r = poll(p, 2, timeout_ms);

	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (p[1].revents)
		vhost_user_check_hangup(&b->vu);
	if (p[0].revents & POLLIN && read(b->call_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	return r;
}

static bool spin_used(struct vblk *b)
{
	long long until = now_us() + b->poll_us;

	while (now_us() < until)
		if (__atomic_load_n(&b->used->idx, __ATOMIC_ACQUIRE) != b->last_used)
			return true;
	return false;
}

int vblk_reap(struct vblk *b, struct vblk_req **done, int max, int timeout_ms)
{
	long long deadline = timeout_ms < 0 ? -1 : now_us() + timeout_ms * 1000ll;

	if (b->unkicked) /* never sleep on requests the device was not told of */
		ring_kick(b);
	for (;;) {
		int n = reap_used(b, done, max), rc;
		long long left;

		if (n)
			return n;
		if (vhost_user_broken(&b->vu))
			return fail_all(b, done, max);
		if (!b->ninflight)
			return 0;
		if (b->poll_us && spin_used(b))
			continue;
		left = deadline < 0 ? -1 : (deadline - now_us() + 999) / 1000;
		if (deadline >= 0 && left <= 0)
			return 0;
		rc = wait_event(b, left > 1000 || left < 0 ? 1000 : (int)left);
		if (rc < 0)
			return rc;
		if (!rc)
			vhost_user_check_hangup(&b->vu); /* a dead daemon sends no call */
	}
}

size_t vblk_max_request(const struct vblk *b)
{
	return b->seg_size * b->seg_max;
}

/* Wait for one completion; remember the first error. */
static int rw_reap_one(struct vblk *b, int *first_err)
{
	struct vblk_req *d;
	int n = vblk_reap(b, &d, 1, -1);

	if (n < 0)
		return n;
	if (n && d->result && !*first_err)
		*first_err = d->result;
	return 0;
}

int vblk_rw(struct vblk *b, enum vblk_op op, uint64_t offset, void *buf, size_t len)
{
	size_t max = vblk_max_request(b), n = (len + max - 1) / max, next = 0;
	struct vblk_req *rq = calloc(n ? n : 1, sizeof(*rq));
	int err = 0, rc = 0;

	if (!rq)
		return -ENOMEM;
	while (next < n && !rc) {
		struct vblk_req *r = &rq[next];
		size_t off = next * max;

		*r = (struct vblk_req){ .op = op, .offset = offset + off,
					.buf = (char *)buf + off,
					.len = len - off < max ? len - off : max };
		rc = vblk_submit(b, r);
		if (!rc)
			next++;
		else if (rc == -EAGAIN && b->ninflight)
			rc = rw_reap_one(b, &err);
	}
	while (b->ninflight && rw_reap_one(b, &err) == 0)
		;
	free(rq);
	return rc ? rc : err;
}

/* ---- teardown and accessors ---- */

static void drain(struct vblk *b)
{
	struct vblk_req *d[16];

	while (b->ninflight && vblk_reap(b, d, 16, 5000) > 0)
		;
	if (b->ninflight) { /* the device stopped answering: treat it as gone */
		vhost_user_shutdown(&b->vu);
		while (b->ninflight)
			fail_all(b, d, 16);
	}
}

int vblk_close(struct vblk *b)
{
	int rc = 0, r2;

	if (!b)
		return -EINVAL;
	if (b->inflight)
		drain(b);
	if (b->kick_fd >= 0 && !vhost_user_broken(&b->vu))
		vhost_user_stop_vring(&b->vu, 0, NULL);
	free(b->inflight);
	free(b->next);
	if (b->dev) {
		shared_free(b, &b->s_desc);
		shared_free(b, &b->s_avail);
		shared_free(b, &b->s_used);
		shared_free(b, &b->s_hdr);
		shared_free(b, &b->s_status);
		rc = swiotlb_dev_destroy(b->dev);
	}
	r2 = b->mem ? swiotlb_mem_destroy(b->mem) : 0; /* REM_MEM_REG for each pool */
	swiotlb_provider_destroy(b->prov);
	if (b->connected)
		vhost_user_close(&b->vu);
	if (b->kick_fd >= 0)
		close(b->kick_fd);
	if (b->call_fd >= 0)
		close(b->call_fd);
	free(b);
	return rc ? rc : r2;
}

uint64_t vblk_capacity(const struct vblk *b)
{
	return b->capacity;
}

unsigned vblk_inflight(const struct vblk *b)
{
	return b->ninflight;
}

void vblk_get_stats(const struct vblk *b, struct vblk_stats *st)
{
	*st = b->st;
	st->regions_added = atomic_load_explicit(&b->radd, memory_order_relaxed);
	st->regions_removed = atomic_load_explicit(&b->rrem, memory_order_relaxed);
	st->region_failures = atomic_load_explicit(&b->rfail, memory_order_relaxed);
	st->regions_now = (unsigned)(st->regions_added - st->regions_removed);
}

struct swiotlb_dev *vblk_dev(const struct vblk *b)
{
	return b->dev;
}

struct swiotlb_mem *vblk_mem(const struct vblk *b)
{
	return b->mem;
}
