/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Coherent allocations (the kernel's restricted-pool swiotlb_alloc): zeroed,
 * page-aligned runs of slots that the CPU and the device share without
 * syncs.  They go through the same bounce step as maps (map.c) and the
 * same release as unmaps (unmap.c), with state SLOT_COHERENT.
 */
#include <errno.h>

#include "internal.h"

SWIOTLB_API void *swiotlb_alloc(struct swiotlb_dev *dev, size_t size, swiotlb_addr_t *out)
{
	struct map_ctx m = { .dev = dev };
	size_t sz = align_up(size, PAGE_SZ);
	int rc;

	if (!dev) {
		errno = EINVAL;
		return NULL;
	}
	if (!out || !size) {
		_swiotlb_dev_reject(dev, -EINVAL, "alloc: bad argument", 0, size);
		errno = EINVAL;
		return NULL;
	}
	if (size > dev->seg_size || _swiotlb_map_req_init(dev, NULL, sz, PAGE_SZ - 1, &m.rq) < 0) {
		_swiotlb_dev_reject(dev, -E2BIG, "alloc: larger than the maximum mapping size", 0,
				    size);
		errno = E2BIG;
		return NULL;
	}
	m.rq.dir = SWIOTLB_BIDIRECTIONAL;
	m.rq.state = SLOT_COHERENT;
	m.rq.size = size; /* recorded exactly: swiotlb_free() must match it */
	rc = _swiotlb_map_bounce(&m);
	if (rc < 0) {
		_swiotlb_map_failed(dev, rc, size, 0);
		errno = -rc;
		return NULL;
	}
	*out = m.addr;
	return m.cpu;
}

/* Free coherent allocation h of dev after validating it under the area
 * lock.  0 or -EINVAL. */
static int free_coherent(struct swiotlb_dev *dev, struct pool *p, unsigned h, swiotlb_addr_t addr,
			 size_t size)
{
	struct area *a = &p->areas[pool_area_of(p, h)];
	unsigned waiters;

	spin_lock(&a->lock);
	if (!_swiotlb_mapping_owned(p, h, dev, addr, size, SWIOTLB_BIDIRECTIONAL, SLOT_COHERENT)) {
		spin_unlock(&a->lock);
		return -EINVAL;
	}
	waiters = _swiotlb_mapping_release_locked(dev, p, h, 0);
	spin_unlock(&a->lock);
	_swiotlb_mapping_release_after(dev, p, waiters);
	sub_relaxed(&dev->mem->stats.coherent, 1);
	stat_add(&dev_shard(dev, current_cpu())->frees, 1);
	return 0;
}

SWIOTLB_API int swiotlb_free(struct swiotlb_dev *dev, void *cpu, size_t size, swiotlb_addr_t addr)
{
	struct pool *p;
	int h, rc = -EINVAL;

	if (!dev)
		return -EINVAL;
	if (!size || !cpu)
		return _swiotlb_dev_reject(dev, -EINVAL, "free: bad argument", addr, size);
	rcu_enter();
	if (dev_may_have_bounced(dev) && (p = _swiotlb_lookup_dev_pool(dev, addr)) &&
	    (unsigned char *)cpu == p->cpu + (addr - p->start) &&
	    (h = _swiotlb_mapping_find_head(p, dev, addr, SLOT_COHERENT)) >= 0)
		rc = free_coherent(dev, p, (unsigned)h, addr, size); /* the exact size */
	rcu_exit();
	if (rc < 0)
		return _swiotlb_dev_reject(
			dev, rc, "free: not a live coherent allocation of this size", addr, size);
	return 0;
}
