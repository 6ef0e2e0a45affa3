/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vhost-user frontend: messages are a packed 12-byte header (request,
 * flags, size) and a payload; file descriptors ride along as SCM_RIGHTS in
 * the same sendmsg().  A reply carries the REPLY flag and the request
 * number.  With REPLY_ACK negotiated, a request sent with NEED_REPLY is
 * answered by a u64: 0 = success.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vhost_user.h"

#define VU_VERSION 0x1u
#define VU_REPLY 0x4u
#define VU_NEED_REPLY 0x8u
#define VU_NOFD (1ull << 8)
#define VU_MAX_PAYLOAD 256

struct vu_hdr {
	uint32_t request, flags, size;
} __attribute__((packed));

struct vu_msg {
	struct vu_hdr h;
	union {
		uint64_t u64;
		struct {
			uint32_t index, num;
		} state;
		struct {
			uint32_t index, flags;
			uint64_t desc, used, avail, log;
		} addr;
		struct {
			uint64_t padding, gpa, size, uaddr, mmap_offset;
		} mem;
		struct {
			uint32_t offset, size, flags;
			uint8_t data[VU_MAX_PAYLOAD - 12];
		} config;
		uint8_t raw[VU_MAX_PAYLOAD];
	} p;
} __attribute__((packed));

static int vu_broke(struct vhost_user *vu, int err)
{
	if (!atomic_exchange_explicit(&vu->broken, true, memory_order_relaxed) && vu->verbose)
		fprintf(stderr, "vhost-user: connection lost (%s)\n", strerror(-err));
	return -ENOTCONN;
}

bool vhost_user_broken(const struct vhost_user *vu)
{
	return atomic_load_explicit(&vu->broken, memory_order_relaxed);
}

int vhost_user_connect(struct vhost_user *vu, const char *path, unsigned timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec delay = { 0, 10 * 1000 * 1000 };
	unsigned waited = 0;

	memset(vu, 0, sizeof(*vu));
	vu->sock = -1;
	pthread_mutex_init(&vu->lock, NULL);
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	for (;;) {
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (s < 0)
			return -errno;
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			vu->sock = s;
			return 0;
		}
		close(s);
		if ((errno != ENOENT && errno != ECONNREFUSED) || waited >= timeout_ms)
			return -errno;
		nanosleep(&delay, NULL);
		waited += 10;
	}
}

/* Send one message with up to one fd.  Caller holds the lock. */
static int vu_send(struct vhost_user *vu, struct vu_msg *m, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { m, sizeof(m->h) + m->h.size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *c;

		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(vu->sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)iov.iov_len)
		return vu_broke(vu, n < 0 ? -errno : -EPIPE);
	return 0;
}

/* Read exactly len bytes, waiting at most the reply timeout. */
static int vu_read_full(struct vhost_user *vu, void *buf, size_t len)
{
	int tmo = vu->reply_timeout_ms ? (int)vu->reply_timeout_ms : 5000;
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { vu->sock, POLLIN, 0 };
		ssize_t n;
		int r = poll(&pfd, 1, tmo);

		if (r == 0)
			return vu_broke(vu, -ETIMEDOUT);
		if (r < 0 && errno == EINTR)
			continue;
		n = recv(vu->sock, (char *)buf + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return vu_broke(vu, n < 0 ? -errno : -ECONNRESET);
		got += (size_t)n;
	}
	return 0;
}

/* Receive the reply to request req into m (payload at most max bytes). */
static int vu_recv_reply(struct vhost_user *vu, uint32_t req, struct vu_msg *m, size_t max)
{
	int rc = vu_read_full(vu, &m->h, sizeof(m->h));

	if (rc)
		return rc;
	if (m->h.request != req || !(m->h.flags & VU_REPLY) || m->h.size > max ||
	    m->h.size > sizeof(m->p))
		return vu_broke(vu, -EPROTO);
	return vu_read_full(vu, &m->p, m->h.size);
}

static bool vu_has_proto(const struct vhost_user *vu, unsigned bit)
{
	return vu->protocol_features & (1ull << bit);
}

/* Send a request that has no natural reply; with REPLY_ACK wait for the
 * ack.  Caller holds the lock.  Returns 0, -ENOTCONN, or -EPROTO (nack). */
static int vu_request(struct vhost_user *vu, struct vu_msg *m, int fd)
{
	bool ack = vu_has_proto(vu, VHOST_USER_PROTOCOL_F_REPLY_ACK);
	uint32_t req = m->h.request;
	int rc;

	if (vhost_user_broken(vu))
		return -ENOTCONN;
	m->h.flags = VU_VERSION | (ack ? VU_NEED_REPLY : 0);
	rc = vu_send(vu, m, fd);
	if (rc || !ack)
		return rc;
	rc = vu_recv_reply(vu, req, m, sizeof(m->p.u64));
	if (rc)
		return rc;
	if (m->h.size != sizeof(uint64_t) || m->p.u64 != 0)
		return -EPROTO;
	return 0;
}

static int vu_get_u64(struct vhost_user *vu, uint32_t req, uint64_t *out)
{
	struct vu_msg m = { .h = { req, VU_VERSION, 0 } };
	int rc;

	if (vhost_user_broken(vu))
		return -ENOTCONN;
	rc = vu_send(vu, &m, -1);
	if (!rc)
		rc = vu_recv_reply(vu, req, &m, sizeof(m.p.u64));
	if (!rc && m.h.size != sizeof(uint64_t))
		rc = vu_broke(vu, -EPROTO);
	if (!rc)
		*out = m.p.u64;
	return rc;
}

static int vu_set_u64(struct vhost_user *vu, uint32_t req, uint64_t v, int fd)
{
	struct vu_msg m = { .h = { req, 0, sizeof(uint64_t) }, .p.u64 = v };

	return vu_request(vu, &m, fd);
}

static int vu_set_state(struct vhost_user *vu, uint32_t req, unsigned index, unsigned num)
{
	struct vu_msg m = { .h = { req, 0, 8 }, .p.state = { index, num } };

	return vu_request(vu, &m, -1);
}

static int vu_negotiate(struct vhost_user *vu, uint64_t want, uint64_t *got)
{
	const uint64_t need = 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK |
			      1ull << VHOST_USER_PROTOCOL_F_CONFIG |
			      1ull << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS;
	uint64_t offered, proto, slots;
	int rc;

	rc = vu_get_u64(vu, VHOST_USER_GET_FEATURES, &offered);
	if (rc)
		return rc;
	if (!(offered & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)))
		return -EPROTONOSUPPORT;
	vu->features = (offered & want) | (1ull << VHOST_USER_F_PROTOCOL_FEATURES);
	rc = vu_get_u64(vu, VHOST_USER_GET_PROTOCOL_FEATURES, &proto);
	if (rc)
		return rc;
	if ((proto & need) != need)
		return -EPROTONOSUPPORT;
	rc = vu_set_u64(vu, VHOST_USER_SET_PROTOCOL_FEATURES, need, -1);
	if (rc)
		return rc;
	vu->protocol_features = need; /* REPLY_ACK from here on */
	rc = vu_set_u64(vu, VHOST_USER_SET_FEATURES, vu->features, -1);
	if (!rc)
		rc = vu_set_u64(vu, VHOST_USER_SET_OWNER, 0, -1);
	if (!rc)
		rc = vu_get_u64(vu, VHOST_USER_GET_MAX_MEM_SLOTS, &slots);
	if (rc)
		return rc;
	vu->max_mem_slots = slots > 512 ? 512 : (unsigned)slots;
	*got = vu->features;
	if (vu->verbose)
		fprintf(stderr, "vhost-user: features 0x%llx offered, 0x%llx taken; protocol "
			"features 0x%llx offered; %u memory slots\n", (unsigned long long)offered,
			(unsigned long long)vu->features, (unsigned long long)proto,
			vu->max_mem_slots);
	return 0;
}

int vhost_user_setup(struct vhost_user *vu, uint64_t want, uint64_t *got)
{
	int rc;

	pthread_mutex_lock(&vu->lock);
	rc = vu_negotiate(vu, want, got);
	pthread_mutex_unlock(&vu->lock);
	return rc;
}

static int vu_mem_reg(struct vhost_user *vu, uint32_t req, uint64_t gpa, uint64_t size,
		      void *uaddr, int fd, uint64_t offset)
{
	struct vu_msg m = { .h = { req, 0, 40 },
			    .p.mem = { 0, gpa, size, (uintptr_t)uaddr, offset } };

	return vu_request(vu, &m, fd);
}

int vhost_user_add_region(struct vhost_user *vu, uint64_t gpa, uint64_t size, void *uaddr,
			  int fd, uint64_t offset)
{
	int rc = -ENOSPC;

	pthread_mutex_lock(&vu->lock);
	if (vu->nregions < vu->max_mem_slots) {
		rc = vu_mem_reg(vu, VHOST_USER_ADD_MEM_REG, gpa, size, uaddr, fd, offset);
		if (!rc)
			vu->nregions++;
	}
	pthread_mutex_unlock(&vu->lock);
	if (vu->verbose)
		fprintf(stderr, "vhost-user: ADD_MEM_REG gpa 0x%llx size %llu: %s\n",
			(unsigned long long)gpa, (unsigned long long)size,
			rc ? strerror(-rc) : "ok");
	return rc;
}

int vhost_user_rem_region(struct vhost_user *vu, uint64_t gpa, uint64_t size, void *uaddr)
{
	int rc;

	pthread_mutex_lock(&vu->lock);
	rc = vu_mem_reg(vu, VHOST_USER_REM_MEM_REG, gpa, size, uaddr, -1, 0);
	if (!rc || rc == -ENOTCONN) /* a dead backend holds no regions */
		vu->nregions--;
	pthread_mutex_unlock(&vu->lock);
	if (vu->verbose)
		fprintf(stderr, "vhost-user: REM_MEM_REG gpa 0x%llx size %llu: %s\n",
			(unsigned long long)gpa, (unsigned long long)size,
			rc ? strerror(-rc) : "ok");
	return rc;
}

int vhost_user_get_config(struct vhost_user *vu, unsigned offset, void *buf, unsigned len)
{
	struct vu_msg m = { .h = { VHOST_USER_GET_CONFIG, VU_VERSION, 12 + len },
			    .p.config = { offset, len, 0, { 0 } } };
	int rc;

	if (len > sizeof(m.p.config.data))
		return -EINVAL;
	pthread_mutex_lock(&vu->lock);
	rc = vhost_user_broken(vu) ? -ENOTCONN : vu_send(vu, &m, -1);
	if (!rc)
		rc = vu_recv_reply(vu, VHOST_USER_GET_CONFIG, &m, 12 + len);
	pthread_mutex_unlock(&vu->lock);
	if (!rc && m.h.size != 12 + len)
		rc = -EIO; /* the backend answers a failed read with size 0 */
	if (!rc)
		memcpy(buf, m.p.config.data, len);
	return rc;
}

static int vu_vring(struct vhost_user *vu, const struct vhost_user_vring *vr)
{
	struct vu_msg m = { .h = { VHOST_USER_SET_VRING_ADDR, 0, 40 },
			    .p.addr = { vr->index, 0, (uintptr_t)vr->desc, (uintptr_t)vr->used,
					(uintptr_t)vr->avail, 0 } };
	int rc;

	rc = vu_set_state(vu, VHOST_USER_SET_VRING_NUM, vr->index, vr->num);
	if (!rc)
		rc = vu_set_state(vu, VHOST_USER_SET_VRING_BASE, vr->index, 0);
	if (!rc)
		rc = vu_request(vu, &m, -1);
	if (!rc)
		rc = vu_set_u64(vu, VHOST_USER_SET_VRING_CALL, vr->index, vr->call_fd);
	if (!rc)
		rc = vu_set_u64(vu, VHOST_USER_SET_VRING_KICK, vr->index, vr->kick_fd);
	if (!rc)
		rc = vu_set_state(vu, VHOST_USER_SET_VRING_ENABLE, vr->index, 1);
	return rc;
}

int vhost_user_start_vring(struct vhost_user *vu, const struct vhost_user_vring *vr)
{
	int rc;

	pthread_mutex_lock(&vu->lock);
	rc = vu_vring(vu, vr);
	pthread_mutex_unlock(&vu->lock);
	return rc;
}

int vhost_user_stop_vring(struct vhost_user *vu, unsigned index, unsigned *base)
{
	struct vu_msg m = { .h = { VHOST_USER_GET_VRING_BASE, VU_VERSION, 8 },
			    .p.state = { index, 0 } };
	int rc;

	pthread_mutex_lock(&vu->lock);
	rc = vhost_user_broken(vu) ? -ENOTCONN : vu_send(vu, &m, -1);
	if (!rc)
		rc = vu_recv_reply(vu, VHOST_USER_GET_VRING_BASE, &m, 8);
	pthread_mutex_unlock(&vu->lock);
	if (!rc && m.h.size != 8)
		rc = -EPROTO;
	if (!rc && base)
		*base = m.p.state.num;
	return rc;
}

bool vhost_user_check_hangup(struct vhost_user *vu)
{
	struct pollfd pfd = { vu->sock, POLLRDHUP, 0 };

	if (vhost_user_broken(vu))
		return true;
	if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
		vu_broke(vu, -ECONNRESET);
		return true;
	}
	return false;
}

void vhost_user_shutdown(struct vhost_user *vu)
{
	atomic_store_explicit(&vu->broken, true, memory_order_relaxed);
	if (vu->sock >= 0)
		shutdown(vu->sock, SHUT_RDWR);
}

void vhost_user_close(struct vhost_user *vu)
{
	if (vu->sock >= 0)
		close(vu->sock);
	vu->sock = -1;
	atomic_store_explicit(&vu->broken, true, memory_order_relaxed);
	pthread_mutex_destroy(&vu->lock);
}
