/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ABA on the unmap copy-back claim: U1 and U2 unmap the same mapping of device D
 * (a double unmap with copy-back); after U2's unmap, device E maps another
 * buffer on the same head slot (the pool has one slot).  U1 validated the
 * old mapping before, and its compare-and-swap compares only the slot
 * state, so it can claim E's mapping: it copies E's bytes into D's buffer
 * and leaves E's mapping in SLOT_UNMAPPING.  Asserted: D's buffer never
 * receives E's bytes, and E can unmap its mapping.
 * Expected to FAIL until the claim also checks the mapping's identity.
 */
#include "harness.h"

static struct swiotlb_mem *mem;
static struct swiotlb_dev *dev_d, *dev_e;
static swiotlb_addr_t addr_d, addr_e;
static unsigned char buf_d[3], buf_e[3] = { 0xe, 0xe, 0xe };
static int rc_e = -1;

static void *u1(void *arg)
{
	(void)arg;
	swiotlb_unmap(dev_d, addr_d, sizeof(buf_d), SWIOTLB_BIDIRECTIONAL, 0);
	return NULL;
}

static void *u2_then_remap(void *arg)
{
	(void)arg;
	if (swiotlb_unmap(dev_d, addr_d, sizeof(buf_d), SWIOTLB_BIDIRECTIONAL, 0) == 0)
		rc_e = swiotlb_map(dev_e, buf_e, sizeof(buf_e), SWIOTLB_BIDIRECTIONAL, 0,
				   &addr_e);
	return NULL;
}

int main(void)
{
	pthread_t t1, t2;

	mem = h_mem(H_SLOT_SIZE, false, 0);
	dev_d = h_dev(mem, false);
	dev_e = h_dev(mem, false);
	buf_d[0] = 0xd;
	assert(swiotlb_map(dev_d, buf_d, sizeof(buf_d), SWIOTLB_BIDIRECTIONAL, 0, &addr_d) == 0);
	t1 = h_spawn(u1, NULL);
	t2 = h_spawn(u2_then_remap, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	assert(buf_d[0] == 0xd);
	if (rc_e == 0)
		assert(swiotlb_unmap(dev_e, addr_e, sizeof(buf_e), SWIOTLB_BIDIRECTIONAL, 0) == 0);
	return 0;
}
