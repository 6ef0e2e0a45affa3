/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The memfd provider: window bounds, alignment, limit, exhaustion, reuse,
 * descriptors that map the same bytes, seals, bad arguments, and a memory
 * that bounces through it. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"

#define BASE 0x100000000ull
#define PG ((size_t)4096)

static int palloc(struct swiotlb_provider *p, size_t len, size_t align, swiotlb_addr_t limit,
		  void **cpu, swiotlb_addr_t *addr)
{
	return p->alloc(p->ctx, len, align, limit, cpu, addr);
}

static void test_bad_args(void)
{
	struct swiotlb_provider *p;

	errno = 0;
	CHECK(!swiotlb_provider_memfd(BASE, 0, 0) && errno == EINVAL);
	errno = 0;
	CHECK(!swiotlb_provider_memfd(BASE + 1, MIB, 0) && errno == EINVAL);
	errno = 0;
	CHECK(!swiotlb_provider_memfd(BASE, MIB + 1, 0) && errno == EINVAL);
	errno = 0;
	CHECK(!swiotlb_provider_memfd(BASE, MIB, 1u << 7) && errno == EINVAL);
	errno = 0;
	CHECK(!swiotlb_provider_memfd(BASE + PG, 2 * MIB, SWIOTLB_MEMFD_HUGETLB) &&
	      errno == EINVAL);
	errno = 0;
	CHECK(!swiotlb_provider_memfd(UINT64_MAX - PG + 1, PG, 0) && errno == EINVAL);
	p = swiotlb_provider_memfd(BASE, MIB, 0);
	CHECK(p && p->fd && p->destroy && p->version == SWIOTLB_PROVIDER_VERSION);
	{
		void *cpu;
		swiotlb_addr_t a;

		CHECK_EQ(palloc(p, PG, 3 * PG, 0, &cpu, &a), -EINVAL); /* align not 2^n */
		CHECK_EQ(palloc(p, 0, PG, 0, &cpu, &a), -EINVAL);
	}
	swiotlb_provider_destroy(p);
}

/* Pools stay in the window, in order; exhaustion is -ENOMEM; a freed hole
 * is reused; alignment and limit are honoured. */
static void test_window(void)
{
	struct swiotlb_provider *p = swiotlb_provider_memfd(BASE, 8 * PG, 0);
	void *c[8], *cx;
	swiotlb_addr_t a[8], ax;

	CHECK(p);
	for (int i = 0; i < 4; i++) {
		CHECK_OK(palloc(p, 2 * PG, PG, 0, &c[i], &a[i]));
		CHECK_EQ(a[i], BASE + (swiotlb_addr_t)i * 2 * PG);
	}
	CHECK_EQ(palloc(p, PG, PG, 0, &cx, &ax), -ENOMEM); /* window full */
	p->free(p->ctx, c[1], a[1], 2 * PG);
	CHECK_EQ(palloc(p, 3 * PG, PG, 0, &cx, &ax), -ENOMEM); /* hole too small */
	CHECK_OK(palloc(p, PG, PG, 0, &c[1], &a[1]));
	CHECK_EQ(a[1], BASE + 2 * PG); /* reused */
	CHECK_OK(palloc(p, PG, PG, 0, &cx, &ax));
	CHECK_EQ(ax, BASE + 3 * PG);
	p->free(p->ctx, cx, ax, PG);
	p->free(p->ctx, c[1], a[1], PG);
	p->free(p->ctx, c[2], a[2], 2 * PG);
	/* 4-page alignment: the hole [2,6) pages starts aligned at page 4 */
	CHECK_OK(palloc(p, 2 * PG, 4 * PG, 0, &cx, &ax));
	CHECK_EQ(ax, BASE + 4 * PG);
	p->free(p->ctx, cx, ax, 2 * PG);
	/* limit: last byte must be <= limit */
	CHECK_EQ(palloc(p, 4 * PG, PG, BASE + 5 * PG - 1, &cx, &ax), -ENOMEM);
	CHECK_OK(palloc(p, 3 * PG, PG, BASE + 5 * PG - 1, &cx, &ax));
	CHECK_EQ(ax, BASE + 2 * PG);
	CHECK_EQ(palloc(p, PG, PG, BASE + PG, &c[7], &a[7]), -ENOMEM); /* below is full */
	p->free(p->ctx, cx, ax, 3 * PG);
	CHECK_EQ(palloc(p, 9 * PG, PG, 0, &cx, &ax), -ENOMEM); /* over the window */
	p->free(p->ctx, c[0], a[0], 2 * PG);
	p->free(p->ctx, c[3], a[3], 2 * PG);
	CHECK_OK(palloc(p, 8 * PG, 8 * PG, 0, &cx, &ax)); /* all merged again */
	CHECK_EQ(ax, BASE);
	p->free(p->ctx, cx, ax, 8 * PG);
	swiotlb_provider_destroy(p);
}

/* fd()/offset map the same bytes; the seals are in place; not found for
 * foreign addresses. */
static void test_fd(void)
{
	struct swiotlb_provider *p = swiotlb_provider_memfd(BASE, MIB, 0);
	unsigned char *cpu, *second;
	swiotlb_addr_t a;
	uint64_t off;
	int fd, seals;

	CHECK(p);
	CHECK_OK(palloc(p, 16 * PG, PG, 0, (void **)&cpu, &a));
	CHECK_OK(p->fd(p->ctx, cpu, a, 16 * PG, &fd, &off));
	CHECK(fd >= 0 && off == 0);
	CHECK_OK(p->fd(p->ctx, cpu + 3 * PG, a + 3 * PG, PG, &fd, &off));
	CHECK_EQ(off, 3 * PG);
	CHECK_EQ(p->fd(p->ctx, cpu, a + 5 * PG, PG, &fd, &off), -ENOENT); /* mismatch */
	CHECK_EQ(p->fd(p->ctx, cpu, a, 17 * PG, &fd, &off), -ENOENT);   /* too long */
	CHECK_EQ(p->fd(p->ctx, cpu, BASE + MIB - PG, PG, &fd, &off), -ENOENT);
	CHECK_OK(p->fd(p->ctx, cpu, a, 16 * PG, &fd, &off));
	seals = fcntl(fd, F_GET_SEALS);
	CHECK(seals >= 0 && (seals & F_SEAL_SHRINK) && (seals & F_SEAL_GROW));
	CHECK(ftruncate(fd, PG) != 0);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	second = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(second != MAP_FAILED);
	util_fill(cpu, 16 * PG, 11);
	CHECK_PAT(second, 16 * PG, 11);
	util_fill(second + PG, PG, 12); /* and the other way round */
	CHECK_PAT(cpu + PG, PG, 12);
	munmap(second, 16 * PG);
	p->free(p->ctx, cpu, a, 16 * PG);
	swiotlb_provider_destroy(p);
}

/* A memory on the provider: device addresses in the window, the device
 * reads what the CPU wrote through a second mapping of the fd. */
static void test_mem(void)
{
	struct swiotlb_provider *p = swiotlb_provider_memfd(BASE, 4 * MIB, 0);
	struct swiotlb_mem_config mc = { .size = MIB, .provider = p };
	struct swiotlb_dev_config dc = { .name = "memfd", .force_bounce = true };
	struct swiotlb_mem *mem;
	struct swiotlb_dev *dev;
	unsigned char buf[8192];
	swiotlb_addr_t a;
	unsigned char *view;

	CHECK(p);
	mem = swiotlb_mem_create(&mc);
	CHECK(mem);
	dev = swiotlb_dev_create(mem, &dc);
	CHECK(dev);
	util_fill(buf, sizeof(buf), 5);
	CHECK_OK(swiotlb_map(dev, buf, sizeof(buf), SWIOTLB_TO_DEVICE, 0, &a));
	CHECK(a >= BASE && a + sizeof(buf) <= BASE + MIB);
	view = swiotlb_addr_to_cpu(dev, a);
	CHECK(view && view != buf);
	CHECK_PAT(view, sizeof(buf), 5);
	CHECK_OK(swiotlb_unmap(dev, a, sizeof(buf), SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_dev_destroy(dev));
	CHECK_OK(swiotlb_mem_destroy(mem));
	swiotlb_provider_destroy(p);
}

/* Huge pages: a pool takes whole 2 MiB units of the window; without huge
 * pages configured the alloc fails with an errno, never a crash. */
static void test_hugetlb(void)
{
	struct swiotlb_provider *p = swiotlb_provider_memfd(BASE, 8 * MIB, SWIOTLB_MEMFD_HUGETLB);
	void *c1, *c2;
	swiotlb_addr_t a1, a2;
	int rc;

	CHECK(p && !strcmp(p->name, "memfd-hugetlb"));
	rc = palloc(p, PG, PG, 0, &c1, &a1);
	if (rc) {
		printf("hugetlb: no huge pages here (%s)\n", strerror(-rc));
		CHECK(rc < 0);
	} else {
		CHECK_EQ(a1, BASE);
		CHECK_OK(palloc(p, PG, PG, 0, &c2, &a2));
		CHECK_EQ(a2, BASE + 2 * MIB);
		p->free(p->ctx, c2, a2, PG);
		p->free(p->ctx, c1, a1, PG);
	}
	swiotlb_provider_destroy(p);
}

int main(void)
{
	test_bad_args();
	test_window();
	test_fd();
	test_mem();
	test_hugetlb();
	printf("memfd provider: ok\n");
	return 0;
}
