/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging: a storm of failed maps is rate-limited (a burst, then one line
 * counting what was suppressed, every failure counted once), the level
 * filters, and SWIOTLB_LOG (read at swiotlb_mem_create) sets the level,
 * the sink and the rate limit.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "swiotlb.h"
#include "util.h" /* common/: CHECK */

#define POOL (256 * 1024)
#define STORM 100000

struct cap {
	int full;        /* "buffer is full" lines */
	int misuse;      /* warnings about a bad call */
	int summaries;   /* "suppressed" lines */
	unsigned long long suppressed;
	int other;
};

static void cap_fn(void *ctx, enum swiotlb_log_level lvl, const char *msg)
{
	struct cap *c = ctx;
	unsigned long long n;

	if (strstr(msg, "buffer is full"))
		c->full++;
	else if (sscanf(msg, "%llu log messages suppressed", &n) == 1)
		c->summaries++, c->suppressed += n;
	else if (lvl == SWIOTLB_LOG_WARN)
		c->misuse++;
	else
		c->other++;
}

struct rig {
	struct swiotlb_mem *mem;
	struct swiotlb_dev *dev;
	char *buf;
	swiotlb_addr_t addr[POOL / 2048];
};

/* A static memory with every slot mapped: the next map fails -ENOSPC. */
static void rig_up(struct rig *r, const char *env, struct cap *c)
{
	struct swiotlb_mem_config mc = { .size = POOL, .nareas = 1 };
	struct swiotlb_dev_config dc = { .name = "logtest", .force_bounce = true };
	if (env)
		CHECK_OK(setenv("SWIOTLB_LOG", env, 1));
	else
		CHECK_OK(unsetenv("SWIOTLB_LOG"));
	if (c) {
		mc.log = cap_fn;
		mc.log_ctx = c;
	}
	r->mem = swiotlb_mem_create(&mc);
	CHECK(r->mem);
	r->dev = swiotlb_dev_create(r->mem, &dc);
	CHECK(r->dev);
	r->buf = calloc(1, POOL);
	CHECK(r->buf);
	for (size_t i = 0; i < POOL / 2048; i++)
		CHECK_OK(swiotlb_map(r->dev, r->buf + i * 2048, 2048, SWIOTLB_TO_DEVICE,
				     SWIOTLB_ATTR_NO_WARN, &r->addr[i]));
}

static void rig_down(struct rig *r)
{
	for (size_t i = 0; i < POOL / 2048; i++)
		CHECK_OK(swiotlb_unmap(r->dev, r->addr[i], 2048, SWIOTLB_TO_DEVICE, 0));
	CHECK_OK(swiotlb_dev_destroy(r->dev));
	CHECK_OK(swiotlb_mem_destroy(r->mem));
	free(r->buf);
}

static void fail_maps(struct rig *r, int n)
{
	swiotlb_addr_t a;

	for (int i = 0; i < n; i++)
		CHECK_EQ(swiotlb_map(r->dev, r->buf, 64, SWIOTLB_TO_DEVICE, 0, &a), -ENOSPC);
}

/* A misuse warning: a map with an unknown attribute bit. */
static void misuse(struct rig *r)
{
	swiotlb_addr_t a;

	CHECK_EQ(swiotlb_map(r->dev, r->buf, 64, SWIOTLB_TO_DEVICE, 1u << 30, &a), -EINVAL);
}

static void test_storm(void)
{
	struct cap c = { 0 };
	struct rig r;
	struct swiotlb_stats st;

	rig_up(&r, NULL, &c);
	fail_maps(&r, STORM);
	CHECK_OK(swiotlb_mem_stats(r.mem, &st));
	CHECK_EQ(st.failed_maps, STORM); /* the statistics miss nothing */
	rig_down(&r);
	printf("storm: %d of %d lines printed, %llu suppressed in %d summary line(s)\n",
	       c.full, STORM, c.suppressed, c.summaries);
	/* default burst 10 per 5 s: the storm takes far less than 5 s on any
	 * machine we run; a slow one may open a second window */
	CHECK(c.full >= 10 && c.full <= 30);
	CHECK(c.summaries >= 1 && c.summaries <= 3);
	CHECK_EQ(c.full + c.suppressed, STORM);
}

static void test_window(void)
{
	struct cap c = { 0 };
	struct rig r;

	rig_up(&r, "ratelimit:3/200", &c);
	fail_maps(&r, 50);
	CHECK_EQ(c.full, 3);
	CHECK_EQ(c.summaries, 0); /* reported when the window moves on */
	usleep(300 * 1000);
	fail_maps(&r, 1);
	CHECK_EQ(c.summaries, 1);
	CHECK_EQ(c.suppressed, 47);
	CHECK_EQ(c.full, 4);
	rig_down(&r);
	CHECK_EQ(c.summaries, 1); /* nothing left to report at destroy */

	memset(&c, 0, sizeof(c));
	rig_up(&r, "ratelimit:off", &c);
	fail_maps(&r, 500);
	rig_down(&r);
	CHECK_EQ(c.full, 500);
	CHECK_EQ(c.summaries, 0);
}

static void test_levels(void)
{
	struct cap c = { 0 };
	struct rig r;

	rig_up(&r, "level:off", &c);
	fail_maps(&r, 100);
	misuse(&r);
	rig_down(&r);
	CHECK_EQ(c.full + c.misuse + c.summaries + c.other, 0);

	rig_up(&r, "level:error", &c);
	fail_maps(&r, 2);
	misuse(&r);
	rig_down(&r);
	CHECK_EQ(c.full, 2);    /* "buffer is full" is an error */
	CHECK_EQ(c.misuse, 0);  /* a warning */

	memset(&c, 0, sizeof(c));
	rig_up(&r, "level:warn", &c);
	fail_maps(&r, 2);
	misuse(&r);
	rig_down(&r);
	CHECK_EQ(c.full, 2);
	CHECK_EQ(c.misuse, 1);

	/* unset: everything (info) */
	memset(&c, 0, sizeof(c));
	rig_up(&r, NULL, &c);
	misuse(&r);
	rig_down(&r);
	CHECK_EQ(c.misuse, 1);
}

static int count_lines(const char *path, const char *needle)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(path, "r");

	CHECK(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/* The default logger (no callback) writes to the SWIOTLB_LOG file. */
static void test_file(void)
{
	char path[] = "/tmp/swiotlb-logtest-XXXXXX", env[64];
	struct rig r;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	snprintf(env, sizeof(env), "output:file:%s;ratelimit:5/60000", path);
	rig_up(&r, env, NULL);
	fail_maps(&r, 1000);
	rig_down(&r); /* reports the 995 suppressed */
	CHECK_EQ(count_lines(path, "libswiotlb: logtest: swiotlb buffer is full"), 5);
	CHECK_EQ(count_lines(path, "libswiotlb: 995 log messages suppressed"), 1);
	unlink(path);
}

/* A bad SWIOTLB_LOG is reported on stderr and ignored, create succeeds. */
static void test_bad_env(void)
{
	char path[] = "/tmp/swiotlb-logtest-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	struct cap c = { 0 };
	struct rig r;

	CHECK(fd >= 0 && saved >= 0);
	fflush(stderr);
	CHECK(dup2(fd, 2) == 2);
	rig_up(&r, "level:loud;colour:blue;ratelimit:0/5;output:file:", &c);
	fail_maps(&r, 2);
	rig_down(&r);
	fflush(stderr);
	CHECK(dup2(saved, 2) == 2);
	close(saved);
	close(fd);
	CHECK_EQ(c.full, 2); /* defaults still apply */
	CHECK_EQ(count_lines(path, "SWIOTLB_LOG: ignoring 'level:loud'"), 1);
	CHECK_EQ(count_lines(path, "SWIOTLB_LOG: ignoring 'colour:blue'"), 1);
	CHECK_EQ(count_lines(path, "SWIOTLB_LOG: ignoring 'ratelimit:0/5'"), 1);
	CHECK_EQ(count_lines(path, "SWIOTLB_LOG: ignoring 'output:file:'"), 1);
	unlink(path);
}

int main(void)
{
	test_storm();
	test_window();
	test_levels();
	test_file();
	test_bad_env();
	printf("log: all passed\n");
	return 0;
}
