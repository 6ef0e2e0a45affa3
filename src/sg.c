/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scatter-gather lists: each entry is mapped, unmapped or synced on its
 * own; a failed map_sg unmaps the entries it had mapped and takes back
 * their statistics.
 */
#include "internal.h"

SWIOTLB_API int swiotlb_map_sg(struct swiotlb_dev *dev, struct swiotlb_sg *sg, size_t n,
			       enum swiotlb_dir dir, unsigned attrs, size_t *failed)
{
	if (!dev)
		return -EINVAL;
	if (!sg && n)
		return _swiotlb_dev_reject(dev, -EINVAL, "map_sg: NULL entry array", 0, n);
	for (size_t i = 0; i < n; i++) {
		int rc = swiotlb_map(dev, sg[i].cpu, sg[i].len, dir, attrs, &sg[i].addr);

		if (rc == 0)
			continue;
		for (size_t j = 0; j < i; j++)
			_swiotlb_unmap_undo(dev, sg[j].addr, sg[j].len, dir);
		if (failed)
			*failed = i;
		if (!(attrs & SWIOTLB_ATTR_NO_WARN))
			_swiotlb_log(dev->mem, SWIOTLB_LOG_WARN,
				     "%s: map_sg: entry %zu of %zu (len %zu) failed: %s; "
				     "%zu entries unmapped",
				     dev_label(dev), i, n, sg[i].len, swiotlb_strerror(rc), i);
		return rc;
	}
	return 0;
}

SWIOTLB_API int swiotlb_unmap_sg(struct swiotlb_dev *dev, struct swiotlb_sg *sg, size_t n,
				 enum swiotlb_dir dir, unsigned attrs)
{
	int first = 0;

	if (!dev)
		return -EINVAL;
	if (!sg && n)
		return _swiotlb_dev_reject(dev, -EINVAL, "unmap_sg: NULL entry array", 0, n);
	for (size_t i = 0; i < n; i++) {
		int rc = swiotlb_unmap(dev, sg[i].addr, sg[i].len, dir, attrs);

		if (rc && !first)
			first = rc;
	}
	return first;
}

static int sync_sg(struct swiotlb_dev *dev, struct swiotlb_sg *sg, size_t n, enum swiotlb_dir dir,
		   enum sync_to to)
{
	int first = 0;

	if (!dev)
		return -EINVAL;
	if (!sg && n)
		return _swiotlb_dev_reject(dev, -EINVAL, "sync_sg: NULL entry array", 0, n);
	for (size_t i = 0; i < n; i++) {
		int rc = _swiotlb_sync(dev, sg[i].addr, sg[i].len, dir, to);

		if (rc && !first)
			first = rc;
	}
	return first;
}

SWIOTLB_API int swiotlb_sync_sg_for_cpu(struct swiotlb_dev *dev, struct swiotlb_sg *sg, size_t n,
					enum swiotlb_dir dir)
{
	return sync_sg(dev, sg, n, dir, TO_CPU);
}

SWIOTLB_API int swiotlb_sync_sg_for_device(struct swiotlb_dev *dev, struct swiotlb_sg *sg, size_t n,
					   enum swiotlb_dir dir)
{
	return sync_sg(dev, sg, n, dir, TO_DEVICE);
}
