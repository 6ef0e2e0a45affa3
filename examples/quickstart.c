// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * quickstart: one DMA transfer through a bounce buffer.
 *
 * The device cannot reach the driver's buffer (force_bounce, as in a
 * confidential VM), so swiotlb_map() hands it a bounce buffer instead and
 * swiotlb_unmap() copies what the device wrote back into the buffer.
 *
 *   cc quickstart.c $(pkg-config --cflags --libs libswiotlb) -o quickstart
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <swiotlb.h>

int main(void)
{
	struct swiotlb_mem_config mc = { .size = 1 << 20, .dynamic = true };
	struct swiotlb_dev_config dc = { .name = "nvme0", .force_bounce = true,
					 .min_align_mask = 4095 };
	static unsigned char buf[8192];
	unsigned char *data = buf + 100, *bounce;
	struct swiotlb_stats st;
	struct swiotlb_mem *mem;
	struct swiotlb_dev *dev;
	swiotlb_addr_t addr;
	int err;

	mem = swiotlb_mem_create(&mc);
	dev = mem ? swiotlb_dev_create(mem, &dc) : NULL;
	if (!dev) {
		perror("libswiotlb");
		return 1;
	}

	/* Driver: map 5000 bytes for a transfer from the device. */
	err = swiotlb_map(dev, data, 5000, SWIOTLB_FROM_DEVICE, 0, &addr);
	if (err) {
		fprintf(stderr, "swiotlb_map: %s\n", swiotlb_strerror(err));
		return 1;
	}

	/* min_align_mask 4095: the bounce buffer has the same offset in its
	 * 4 KiB page as the buffer (what NVMe needs). */
	if ((addr & 4095) != ((uintptr_t)data & 4095)) {
		fprintf(stderr, "offset in page not kept\n");
		return 1;
	}

	/* Device: writes at the address it was given. */
	bounce = swiotlb_addr_to_cpu(dev, addr);
	memset(bounce, 0xab, 5000);

	/* Driver: unmap copies the device's data into the buffer. */
	err = swiotlb_unmap(dev, addr, 5000, SWIOTLB_FROM_DEVICE, 0);
	if (err) {
		fprintf(stderr, "swiotlb_unmap: %s\n", swiotlb_strerror(err));
		return 1;
	}
	for (size_t i = 0; i < 5000; i++) {
		if (data[i] != 0xab) {
			fprintf(stderr, "byte %zu was not copied back\n", i);
			return 1;
		}
	}

	if (swiotlb_mem_stats(mem, &st))
		return 1;
	printf("%llu map(s), %llu bytes copied back, %llu of %llu slots in use\n",
	       (unsigned long long)st.maps, (unsigned long long)st.bytes_from_device,
	       (unsigned long long)st.used_slots, (unsigned long long)st.total_slots);
	if (swiotlb_dev_destroy(dev) || swiotlb_mem_destroy(mem))
		return 1;
	return 0;
}
