/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A virtio-blk split-ring driver for a vhost-user device whose only memory
 * shared with the device is libswiotlb pools (memfd provider):
 *   - the rings, the request headers and the status bytes come from
 *     swiotlb_alloc() on the initial pool, which is never shrunk, so the
 *     region that holds them is never removed while the device runs;
 *   - application buffers stay private and are bounced with swiotlb_map()
 *     and swiotlb_unmap() (force_bounce device), one descriptor per segment
 *     of at most 256 KiB, so a 1 MiB request is four data descriptors;
 *   - or, zero-copy, a buffer the application allocated in shared memory
 *     with swiotlb_alloc() is handed over as it is.
 * Every pool the library creates is registered with ADD_MEM_REG (acked)
 * from the pool_added hook before any address in it is used, and removed
 * with REM_MEM_REG from the pool_removed hook (it holds no mapping then,
 * so no request in flight uses it).
 *
 * One thread submits and reaps; the hooks run on the library's threads.
 * If the device goes away (socket closed, process died), every request in
 * flight completes with -ENOTCONN, its mappings are unmapped without copying
 * back, and later submits fail with -ENOTCONN.
 */
#ifndef VIRTIO_BLK_H
#define VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "swiotlb.h"

#define VBLK_SECTOR 512u
#define VBLK_MAX_SEGS 16 /* data descriptors per request */
/* Coherent allocations the driver holds while open (descriptor table,
 * avail and used rings, headers, status bytes): the device's live
 * mapping count in swiotlb_dev_stats() includes them. */
#define VBLK_COHERENT_ALLOCS 5

enum vblk_op { VBLK_READ = 0, VBLK_WRITE = 1, VBLK_FLUSH = 4 };

struct vblk_config {
	const char *socket;        /* the backend's unix socket */
	unsigned connect_ms;       /* wait this long for the socket; 0 = 5000 */
	unsigned queue_size;       /* power of two <= 1024; 0 = 128 */
	size_t pool_size;          /* initial pool; 0 = 1 MiB */
	size_t grow_size;          /* 0 = library default */
	unsigned shrink_delay_ms;  /* 0 = never shrink */
	unsigned max_pools;        /* 0 = the backend's slot count */
	swiotlb_addr_t window_base;/* 0 = 0x100000000 */
	size_t window_len;         /* 0 = 1 GiB */
	unsigned poll_us;          /* spin this long on the used ring before
				      sleeping on the call eventfd */
	bool verbose;              /* log vhost-user region traffic */
};

struct vblk_req {
	enum vblk_op op;
	uint64_t offset;           /* bytes, multiple of 512 */
	void *buf;                 /* private buffer (bounced), or */
	size_t len;                /* multiple of 512 (0 for FLUSH) */
	swiotlb_addr_t zc_addr;    /* != 0: buf is swiotlb_alloc() memory at
				      this device address: no bounce */
	int result;                /* on completion: 0, -EIO, -EOPNOTSUPP,
				      -ENOTCONN (device gone) */
	void *priv;                /* caller's */
	/* driver-private */
	unsigned head, nseg;
	struct swiotlb_sg sg[VBLK_MAX_SEGS];
};

struct vblk_stats {
	uint64_t requests, bytes;        /* completed successfully */
	uint64_t errors;                 /* completed with an error */
	unsigned max_segments;           /* most data descriptors in a request */
	uint64_t regions_added, regions_removed, region_failures;
	unsigned regions_now;            /* registered with the backend now */
};

struct vblk;

/* Connect, negotiate, create the memory and the device, start the queue.
 * Returns 0 or a negative errno (and prints why to stderr). */
int vblk_open(const struct vblk_config *cfg, struct vblk **out);

/* Fail whatever is in flight, stop the queue, unregister and free every
 * pool, close the connection.  Returns 0, or the first error of
 * swiotlb_dev_destroy()/swiotlb_mem_destroy(). */
int vblk_close(struct vblk *b);

/* Queue one request and notify the device.  -EAGAIN: no free descriptor or
 * bounce slot right now (reap and retry); -ENOTCONN: device gone;
 * -EINVAL: bad offset/length/op; other map errors as swiotlb_map(). */
int vblk_submit(struct vblk *b, struct vblk_req *r);

/* Batch notifications: between vblk_plug() and vblk_unplug() submits
 * publish requests without kicking the device; unplug kicks once.
 * vblk_reap() kicks first if something is unkicked. */
void vblk_plug(struct vblk *b);
void vblk_unplug(struct vblk *b);

/* Collect up to max completed requests, waiting up to timeout_ms (-1 =
 * forever) for the first.  Returns how many, 0 on timeout, or -ENOTCONN
 * when the device is gone and nothing is left in flight. */
int vblk_reap(struct vblk *b, struct vblk_req **done, int max, int timeout_ms);

/* Synchronous read or write of any length (split into requests of at most
 * max_request bytes).  Returns 0 or the first error. */
int vblk_rw(struct vblk *b, enum vblk_op op, uint64_t offset, void *buf, size_t len);

uint64_t vblk_capacity(const struct vblk *b);   /* bytes */
size_t vblk_max_request(const struct vblk *b);  /* bytes per request */
unsigned vblk_inflight(const struct vblk *b);
void vblk_get_stats(const struct vblk *b, struct vblk_stats *st);
struct swiotlb_dev *vblk_dev(const struct vblk *b);
struct swiotlb_mem *vblk_mem(const struct vblk *b);

#endif
