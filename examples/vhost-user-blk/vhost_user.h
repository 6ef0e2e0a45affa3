/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small vhost-user frontend: the control channel to a device process
 * (qemu-storage-daemon, any libvhost-user backend) over a unix socket.
 *
 * It negotiates features, shares memory regions with ADD_MEM_REG and
 * REM_MEM_REG (the memfd travels as SCM_RIGHTS, the backend's REPLY_ACK is
 * waited for), reads the device config and sets up vrings.  Every call
 * takes the connection lock, so it may be used from any thread (the
 * libswiotlb pool hooks run on the growth thread and the call_rcu worker).
 *
 * Errors are negative errno values: -ENOTCONN once the backend closed the
 * socket or died (the connection is then "broken" for good), -EPROTO for a
 * malformed or negative reply, -ETIMEDOUT when no reply came in time.
 */
#ifndef VHOST_USER_H
#define VHOST_USER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Front-end requests (vhost-user.rst numbering). */
enum vhost_user_req {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
	VHOST_USER_ADD_MEM_REG = 37,
	VHOST_USER_REM_MEM_REG = 38,
};

/* Protocol feature bits we use. */
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3
#define VHOST_USER_PROTOCOL_F_CONFIG 9
#define VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS 15
/* Feature bit that enables the protocol features. */
#define VHOST_USER_F_PROTOCOL_FEATURES 30

struct vhost_user {
	int sock;
	pthread_mutex_t lock;      /* one request/reply exchange at a time */
	atomic_bool broken;        /* backend gone: every call fails */
	uint64_t features;         /* negotiated virtio features */
	uint64_t protocol_features;/* negotiated protocol features */
	unsigned max_mem_slots;    /* backend's region limit */
	unsigned nregions;         /* regions now registered (under lock) */
	unsigned reply_timeout_ms; /* 0 = 5000 */
	bool verbose;
};

/* A vring as the backend needs to see it: sizes, CPU (user) addresses of
 * its three parts (translated by the backend through the regions'
 * userspace_addr) and the two eventfds. */
struct vhost_user_vring {
	unsigned index, num;
	void *desc, *avail, *used;
	int kick_fd, call_fd;
};

/* Connect to the backend's socket, retrying for up to timeout_ms while it
 * does not exist yet or refuses.  Nothing is sent yet. */
int vhost_user_connect(struct vhost_user *vu, const char *path, unsigned timeout_ms);

/* GET_FEATURES / SET_FEATURES (want & offered, plus PROTOCOL_FEATURES),
 * GET/SET_PROTOCOL_FEATURES (REPLY_ACK, CONFIGURE_MEM_SLOTS, CONFIG are
 * required), SET_OWNER, GET_MAX_MEM_SLOTS.  *got = negotiated features. */
int vhost_user_setup(struct vhost_user *vu, uint64_t want, uint64_t *got);

/* ADD_MEM_REG / REM_MEM_REG of [gpa, gpa+size) at user address uaddr,
 * backed by fd at offset; waits for the backend's ack.  add fails with
 * -ENOSPC when every slot of the backend is in use (the backend would
 * stop serving on one more). */
int vhost_user_add_region(struct vhost_user *vu, uint64_t gpa, uint64_t size, void *uaddr,
			  int fd, uint64_t offset);
int vhost_user_rem_region(struct vhost_user *vu, uint64_t gpa, uint64_t size, void *uaddr);

/* GET_CONFIG: len bytes of the device config space from offset. */
int vhost_user_get_config(struct vhost_user *vu, unsigned offset, void *buf, unsigned len);

/* SET_VRING_NUM, SET_VRING_BASE (0), SET_VRING_ADDR, SET_VRING_KICK,
 * SET_VRING_CALL and SET_VRING_ENABLE(1). */
int vhost_user_start_vring(struct vhost_user *vu, const struct vhost_user_vring *vr);

/* GET_VRING_BASE: the backend stops the ring and reports where it was. */
int vhost_user_stop_vring(struct vhost_user *vu, unsigned index, unsigned *base);

/* True once the backend closed the socket, died or broke the protocol. */
bool vhost_user_broken(const struct vhost_user *vu);

/* Check the socket for a hang-up without consuming anything; marks the
 * connection broken and returns true when the backend is gone. */
bool vhost_user_check_hangup(struct vhost_user *vu);

/* Mark the connection broken and shut the socket down (the backend sees
 * the hang-up); the descriptor stays open until vhost_user_close(). */
void vhost_user_shutdown(struct vhost_user *vu);

/* Close the socket (the backend then drops every region) and release the
 * connection; call once, after vhost_user_connect(). */
void vhost_user_close(struct vhost_user *vu);

#endif
