/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swiotlb-replay's sizing advisor.  Capacity replays: the trace's maps and
 * unmaps (syncs do not change occupancy) against a memory of a given
 * configuration, maps pinned to the trace's CPU like the check replay,
 * no data verification (the check replay does that), so that many pool
 * sizes can be tried quickly.
 *
 *   - static: the smallest pool (a whole number of segments per area)
 *     that serves every map, searched separately for the kernel's
 *     placement (strict_cursor) and the library default, per segment size;
 *   - dynamic: peak pool memory, grown and transient pools from a start
 *     size;
 *   - the kernel's CoCo default for a RAM size, and whether it serves.
 */
#include "replay.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#define SRC_ALIGN (64u << 10) /* covers min_align_mask up to 0xffff */
#define LINEAR_TRIES 8        /* sizes tried one step apart before bisecting */

struct cap_live {
	uint64_t tlb, size;
	swiotlb_addr_t addr;
	uint16_t dev;
	int dir;
};

struct cap_cfg {
	size_t size;
	unsigned seg_slots;
	bool strict, dynamic, stop_on_fail;
	size_t max_size;
};

struct cap_res {
	uint64_t failed;
	uint64_t peak_pool_bytes, peak_pools, grows, growth_failures;
	uint64_t transient_created, peak_transient_live;
	uint64_t growth_waits, growth_wait_timeouts;
};

struct cap {
	const struct opts *o;
	const struct trace *t;
	struct cpus cpus;
	uint8_t *src;
	struct swiotlb_mem *mem;
	struct swiotlb_dev *devs[MAX_DEVS];
	struct cap_live *live;
	size_t nlive, live_cap;
	unsigned runs;
	bool wait_growth;
	unsigned wait_fails;
};

static void quiet_log(void *ctx, enum swiotlb_log_level level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

static void mem_config_for(struct swiotlb_mem_config *mc, const struct cap *c,
			   const struct cap_cfg *cfg)
{
	*mc = (struct swiotlb_mem_config){ .size = cfg->size, .nareas = c->o->areas,
					   .strict_cursor = cfg->strict, .log = quiet_log,
					   .dynamic = cfg->dynamic, .max_size = cfg->max_size,
					   .segment_slots = cfg->seg_slots };
}

static int cap_open(struct cap *c, const struct cap_cfg *cfg)
{
	struct swiotlb_mem_config mc;
	struct swiotlb_dev_config dc = { .force_bounce = true, .min_align_mask = c->o->min_align };

	mem_config_for(&mc, c, cfg);
	c->mem = swiotlb_mem_create(&mc);
	if (!c->mem) {
		fprintf(stderr, "%s: sizing: swiotlb_mem_create(%zu bytes): %s\n", prog,
			cfg->size, strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < c->t->ndevs; i++) {
		dc.name = c->t->devs[i];
		c->devs[i] = swiotlb_dev_create(c->mem, &dc);
		if (!c->devs[i]) {
			fprintf(stderr, "%s: sizing: swiotlb_dev_create: %s\n", prog,
				strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int cap_close(struct cap *c)
{
	int err = 0;

	for (size_t i = 0; i < c->nlive; i++) {
		struct cap_live *l = &c->live[i];

		if (swiotlb_unmap(c->devs[l->dev], l->addr, l->size, (enum swiotlb_dir)l->dir,
				  SWIOTLB_ATTR_SKIP_CPU_SYNC))
			err = -1;
	}
	c->nlive = 0;
	for (unsigned i = 0; i < MAX_DEVS; i++) {
		if (c->devs[i] && swiotlb_dev_destroy(c->devs[i]))
			err = -1;
		c->devs[i] = NULL;
	}
	if (c->mem && swiotlb_mem_destroy(c->mem))
		err = -1;
	c->mem = NULL;
	if (err)
		fprintf(stderr, "%s: sizing: teardown failed\n", prog);
	return err;
}

static int live_push(struct cap *c, const struct cap_live *l)
{
	if (c->nlive == c->live_cap) {
		size_t cap = c->live_cap ? c->live_cap * 2 : 256;
		struct cap_live *n = realloc(c->live, cap * sizeof(*n));

		if (!n)
			return -1;
		c->live = n;
		c->live_cap = cap;
	}
	c->live[c->nlive++] = *l;
	return 0;
}

static uint64_t growth_count(const struct swiotlb_stats *st)
{
	return st->grows + st->growth_failures;
}

/*
 * Growth runs on the library's thread, asynchronously.  The replay runs
 * much faster than the traced I/O, so after a map that needed a
 * transient pool it waits (up to 200 ms) for the growth that map asked
 * for: the transients counted are those a map needs before a grown pool
 * can exist, not an artefact of replay speed.  Three waits in a row that
 * see no growth (e.g. max_size reached) stop the waiting.
 */
static void wait_growth(struct cap *c, uint64_t before, struct cap_res *res)
{
	struct timespec ts = { 0, 100000 };
	struct swiotlb_stats st;

	if (!c->wait_growth)
		return;
	res->growth_waits++;
	for (int i = 0; i < 2000; i++) {
		if (swiotlb_mem_stats(c->mem, &st) == 0 && growth_count(&st) > before) {
			c->wait_fails = 0;
			return;
		}
		nanosleep(&ts, NULL);
	}
	res->growth_wait_timeouts++;
	if (++c->wait_fails >= 3)
		c->wait_growth = false;
}

static void dyn_observe(struct cap *c, uint64_t transients_before, uint64_t growth_before,
			struct cap_res *res)
{
	struct swiotlb_stats st;

	if (swiotlb_mem_stats(c->mem, &st))
		return;
	if (st.transient_created > transients_before)
		wait_growth(c, growth_before, res);
	if (st.pool_bytes > res->peak_pool_bytes)
		res->peak_pool_bytes = st.pool_bytes;
	if (st.pools + st.transient_pools > res->peak_pools)
		res->peak_pools = st.pools + st.transient_pools;
	if (st.transient_pools > res->peak_transient_live)
		res->peak_transient_live = st.transient_pools;
}

/* One map of the trace; returns false when it found no room. */
static bool cap_map(struct cap *c, const struct cap_cfg *cfg, const struct event *e,
		    struct cap_res *res)
{
	struct cap_live l = { .tlb = e->tlb, .size = e->size, .dev = e->dev, .dir = e->dir };
	uint8_t *buf = c->src + (e->orig & (SRC_ALIGN - 1));
	struct swiotlb_stats st = { 0 };
	unsigned attrs = SWIOTLB_ATTR_NO_WARN;
	int err;

	cpus_pin(&c->cpus, e->cpu);
	if (cfg->dynamic)
		swiotlb_mem_stats(c->mem, &st);
	if (e->align_mask)
		err = swiotlb_map_align(c->devs[e->dev], buf, e->size, (enum swiotlb_dir)e->dir,
					attrs, e->align_mask, &l.addr);
	else
		err = swiotlb_map(c->devs[e->dev], buf, e->size, (enum swiotlb_dir)e->dir, attrs,
				  &l.addr);
	if (cfg->dynamic)
		dyn_observe(c, st.transient_created, growth_count(&st), res);
	if (err || live_push(c, &l)) {
		if (!err)
			swiotlb_unmap(c->devs[e->dev], l.addr, l.size, (enum swiotlb_dir)l.dir,
				      SWIOTLB_ATTR_SKIP_CPU_SYNC);
		res->failed++;
		return false;
	}
	return true;
}

/* Unmap the live mapping the kernel had at e->tlb (none if its map failed). */
static void cap_unmap(struct cap *c, const struct event *e)
{
	for (size_t i = c->nlive; i-- > 0;) {
		struct cap_live *l = &c->live[i];

		if (l->tlb != e->tlb || l->dev != e->dev)
			continue;
		swiotlb_unmap(c->devs[l->dev], l->addr, l->size, (enum swiotlb_dir)l->dir,
			      SWIOTLB_ATTR_SKIP_CPU_SYNC);
		c->live[i] = c->live[--c->nlive];
		return;
	}
}

/* Replay the trace's maps and unmaps against one configuration. */
static int cap_replay(struct cap *c, const struct cap_cfg *cfg, struct cap_res *res)
{
	struct swiotlb_stats st;

	memset(res, 0, sizeof(*res));
	c->runs++;
	c->wait_growth = cfg->dynamic;
	c->wait_fails = 0;
	if (cap_open(c, cfg)) {
		cap_close(c);
		return -1;
	}
	for (size_t i = 0; i < c->t->n; i++) {
		const struct event *e = &c->t->ev[i];

		if (e->op == OP_MAP) {
			if (!cap_map(c, cfg, e, res) && cfg->stop_on_fail)
				break;
		} else if (e->op == OP_UNMAP) {
			cap_unmap(c, e);
		}
	}
	if (swiotlb_mem_stats(c->mem, &st) == 0) {
		res->grows = st.grows;
		res->growth_failures = st.growth_failures;
		res->transient_created = st.transient_created;
	}
	return cap_close(c);
}

/* ------------------------------------------------------------------ */
/* Static: smallest pool                                               */
/* ------------------------------------------------------------------ */

/* Does a static pool of 'size' serve every map?  1 yes, 0 no, -1 error. */
static int serves(struct cap *c, unsigned seg, bool strict, size_t size)
{
	struct cap_cfg cfg = { .size = size, .seg_slots = seg, .strict = strict,
			       .stop_on_fail = true };
	struct cap_res res;

	if (cap_replay(c, &cfg, &res))
		return -1;
	return !res.failed;
}

/* Bisect between a failing and a serving size (both multiples of step). */
static int bisect(struct cap *c, struct static_size *r, size_t fail, size_t ok, size_t step)
{
	while (ok - fail > step) {
		size_t mid = fail + (ok - fail) / step / 2 * step;
		int s = serves(c, r->seg_slots, r->strict, mid);

		if (s < 0)
			return -1;
		if (s)
			ok = mid;
		else
			fail = mid;
	}
	r->size = ok;
	return 0;
}

/*
 * Smallest static pool that serves every map.  No pool below the trace's
 * peak of live slots can (lower bound).  From there every size one step
 * (a segment per area) apart is tried, so the answer is exact when found
 * within LINEAR_TRIES steps; beyond that the size doubles until it serves
 * and is then bisected, which assumes that a larger pool never serves
 * less (the report says which way the answer was found).
 */
static int static_search(struct cap *c, const struct load *load, struct static_size *r)
{
	size_t step = (size_t)c->o->areas * r->seg_slots * SWIOTLB_SLOT_SIZE;
	size_t size = (load->peak_slots * SWIOTLB_SLOT_SIZE + step - 1) / step * step;
	int s = 0;

	size = size < step ? step : size;
	r->lower_bound = size;
	for (unsigned i = 0; i < LINEAR_TRIES && size <= c->o->search_max; i++, size += step) {
		s = serves(c, r->seg_slots, r->strict, size);
		if (s < 0)
			return -1;
		if (s) {
			r->found = r->exhaustive = true;
			r->size = size;
			return 0;
		}
	}
	for (size_t fail = size - step; fail < c->o->search_max; fail = size) {
		size = fail * 2 > c->o->search_max ? c->o->search_max / step * step : fail * 2;
		if (size <= fail)
			break;
		s = serves(c, r->seg_slots, r->strict, size);
		if (s < 0)
			return -1;
		if (s) {
			r->found = true;
			return bisect(c, r, fail, size, step);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Dynamic and CoCo                                                    */
/* ------------------------------------------------------------------ */

static int dynamic_run(struct cap *c, bool strict, struct dyn_size *d)
{
	struct cap_cfg cfg = { .size = c->o->start_size, .seg_slots = SWIOTLB_SEGMENT_SLOTS,
			       .strict = strict, .dynamic = true, .max_size = c->o->max_size };
	struct cap_res res;

	if (cap_replay(c, &cfg, &res))
		return -1;
	*d = (struct dyn_size){ .strict = strict, .start_size = c->o->start_size,
				.max_size = c->o->max_size,
				.peak_pool_bytes = res.peak_pool_bytes,
				.peak_pools = res.peak_pools,
				.grows = res.grows, .growth_failures = res.growth_failures,
				.transient_created = res.transient_created,
				.peak_transient_live = res.peak_transient_live,
				.failed_maps = res.failed, .growth_waits = res.growth_waits,
				.growth_wait_timeouts = res.growth_wait_timeouts };
	return 0;
}

static uint64_t round_pow2(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/*
 * The kernel's default for confidential guests (SEV, TDX): x86's
 * mem_encrypt_setup_arch() asks for 6% of memblock's RAM size clamped to
 * [IO_TLB_DEFAULT_SIZE = 64 MiB, 1 GiB]; swiotlb_adjust_size() aligns it
 * to a slot and the slot count to a segment, and the area setup
 * (round_up_default_nslabs()) rounds the slot count up to a power of two.
 * Read in Linux v6.6 (arch/x86/mm/mem_encrypt.c, kernel/dma/swiotlb.c).
 */
void coco_default(uint64_t ram, struct coco_size *c)
{
	uint64_t lo = 64ull << 20, hi = 1ull << 30, slots;

	c->ram = ram;
	c->pct6 = ram * 6 / 100;
	c->clamped = c->pct6 < lo ? lo : c->pct6 > hi ? hi : c->pct6;
	slots = (c->clamped + SWIOTLB_SLOT_SIZE - 1) / SWIOTLB_SLOT_SIZE;
	slots = (slots + SWIOTLB_SEGMENT_SLOTS - 1) / SWIOTLB_SEGMENT_SLOTS *
		SWIOTLB_SEGMENT_SLOTS;
	c->size = round_pow2(slots) * SWIOTLB_SLOT_SIZE;
}

static int coco_run(struct cap *c, struct coco_size *cc)
{
	struct cap_cfg cfg = { .seg_slots = SWIOTLB_SEGMENT_SLOTS, .strict = true };
	struct cap_res res;

	coco_default(c->o->ram, cc);
	cfg.size = cc->size;
	if (cap_replay(c, &cfg, &res))
		return -1;
	cc->failed_maps = res.failed;
	cc->covers = !res.failed;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The advisor                                                         */
/* ------------------------------------------------------------------ */

static int sizing_all(struct cap *c, struct sizing *s)
{
	for (unsigned i = 0; i < c->o->nseg; i++) {
		for (int strict = 1; strict >= 0; strict--) {
			struct static_size *r = &s->st[s->nstatic++];

			*r = (struct static_size){ .seg_slots = c->o->seg_slots[i], .strict = strict };
			if (static_search(c, &s->load, r))
				return -1;
		}
	}
	for (int strict = 1; strict >= 0; strict--)
		if (dynamic_run(c, strict, &s->dyn[strict ? 0 : 1]))
			return -1;
	if (c->o->ram) {
		s->have_coco = true;
		if (coco_run(c, &s->coco))
			return -1;
	}
	return 0;
}

int sizing_run(const struct opts *o, const struct trace *t, struct sizing *s)
{
	struct cap c = { .o = o, .t = t };
	double t0 = now_s();
	size_t len = t->max_size + 2 * SRC_ALIGN;
	int ret;

	memset(s, 0, sizeof(*s));
	s->areas = o->areas;
	s->kernel_failed = t->counts[OP_MAP_FAILED];
	trace_load_peaks(t, o->min_align, &s->load);
	cpus_init(&c.cpus, o->pin);
	if (posix_memalign((void **)&c.src, SRC_ALIGN, len)) {
		fprintf(stderr, "%s: sizing: out of memory\n", prog);
		return -1;
	}
	memset(c.src, 0x5a, len);
	ret = sizing_all(&c, s);
	s->runs = c.runs;
	s->pinned = c.cpus.pin;
	free(c.src);
	free(c.live);
	s->secs = now_s() - t0;
	return ret;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

static void print_static(FILE *f, const struct static_size *r)
{
	fprintf(f, "    %-34s ", r->strict ? "strict_cursor (kernel placement):" :
		"default placement (hot reuse):");
	if (!r->found) {
		fprintf(f, "none up to --search-max serves every map\n");
		return;
	}
	fprintf(f, "%zu KiB (%zu slots); %s\n", r->size >> 10, r->size / SWIOTLB_SLOT_SIZE,
		r->exhaustive ? "every size from the lower bound up was tried" :
		"found by bisection (assumes a larger pool never serves less)");
}

static void print_dyn(FILE *f, const struct dyn_size *d)
{
	fprintf(f, "    %-34s peak pool memory %" PRIu64 " KiB, peak %" PRIu64 " pools; %"
		PRIu64 " grown, %" PRIu64 " growth failures; %" PRIu64 " transient pools (peak %"
		PRIu64 " live); %" PRIu64 " maps failed\n",
		d->strict ? "strict_cursor (kernel placement):" : "default placement (hot reuse):",
		d->peak_pool_bytes >> 10, d->peak_pools, d->grows, d->growth_failures,
		d->transient_created, d->peak_transient_live, d->failed_maps);
}

void sizing_print(FILE *f, const struct opts *o, const struct sizing *s)
{
	fprintf(f, "sizing: %u areas, min_align_mask 0x%x, maps %s; %u capacity replays in"
		" %.1f s\n", s->areas, o->min_align, s->pinned ? "pinned to the trace's CPUs" :
		"NOT pinned (--no-pin or one usable CPU: areas are not chosen as the kernel did)",
		s->runs, s->secs);
	if (s->kernel_failed)
		fprintf(f, "  the kernel failed %" PRIu64 " maps of the trace: they have no lifetime"
			" in it and are not part of the sizing\n", s->kernel_failed);
	for (unsigned i = 0; i < s->nstatic; i += 2) {
		fprintf(f, "  smallest static pool, %u-slot segments (largest map %u KiB); lower"
			" bound (peak live slots) %zu KiB:\n", s->st[i].seg_slots,
			s->st[i].seg_slots * SWIOTLB_SLOT_SIZE >> 10, s->st[i].lower_bound >> 10);
		print_static(f, &s->st[i]);
		print_static(f, &s->st[i + 1]);
	}
	fprintf(f, "  dynamic memory from %zu KiB (grow size: library default",
		o->start_size >> 10);
	if (o->max_size)
		fprintf(f, ", max_size %zu KiB", o->max_size >> 10);
	fprintf(f, "; growth awaited after a map that needed a transient pool):\n");
	print_dyn(f, &s->dyn[0]);
	print_dyn(f, &s->dyn[1]);
	if (!s->have_coco)
		return;
	fprintf(f, "  kernel CoCo default for %" PRIu64 " MiB RAM: 6%% = %" PRIu64 " KiB, clamped"
		" to 64M..1G = %" PRIu64 " KiB, power of two = %" PRIu64 " MiB: %s",
		s->coco.ram >> 20, s->coco.pct6 >> 10, s->coco.clamped >> 10, s->coco.size >> 20,
		s->coco.covers ? "serves every map" : "does NOT serve the trace");
	if (!s->coco.covers)
		fprintf(f, " (%" PRIu64 " maps failed)", s->coco.failed_maps);
	else if (s->st[0].found)
		fprintf(f, " (%.1fx the smallest strict_cursor pool)",
			(double)s->coco.size / (double)s->st[0].size);
	fputc('\n', f);
}

#define JF(f, name, fmt, v) fprintf(f, "    \"%s\": " fmt, name, v)

static void json_static(FILE *f, const struct static_size *r, bool last)
{
	fprintf(f, "   {\"segment_slots\": %u, \"placement\": \"%s\", \"found\": %s,"
		" \"exhaustive\": %s, \"lower_bound\": %zu, \"size\": %zu}%s\n", r->seg_slots,
		r->strict ? "strict_cursor" : "default", r->found ? "true" : "false",
		r->exhaustive ? "true" : "false", r->lower_bound, r->found ? r->size : 0,
		last ? "" : ",");
}

static void json_dyn(FILE *f, const struct dyn_size *d, bool last)
{
	fprintf(f, "   {\"placement\": \"%s\", \"start_size\": %zu, \"max_size\": %zu,"
		" \"peak_pool_bytes\": %" PRIu64 ", \"peak_pools\": %" PRIu64 ", \"grown_pools\": %"
		PRIu64 ", \"growth_failures\": %" PRIu64 ", \"transient_pools\": %" PRIu64
		", \"peak_transient_live\": %" PRIu64 ", \"failed_maps\": %" PRIu64 "}%s\n",
		d->strict ? "strict_cursor" : "default", d->start_size, d->max_size,
		d->peak_pool_bytes, d->peak_pools, d->grows, d->growth_failures,
		d->transient_created, d->peak_transient_live, d->failed_maps, last ? "" : ",");
}

void sizing_json(FILE *f, const struct sizing *s)
{
	fprintf(f, " \"sizing\": {\n  \"areas\": %u,\n  \"pinned\": %s,\n  \"runs\": %u,\n"
		"  \"static\": [\n", s->areas, s->pinned ? "true" : "false", s->runs);
	for (unsigned i = 0; i < s->nstatic; i++)
		json_static(f, &s->st[i], i + 1 == s->nstatic);
	fprintf(f, "  ],\n  \"dynamic\": [\n");
	json_dyn(f, &s->dyn[0], false);
	json_dyn(f, &s->dyn[1], true);
	fprintf(f, "  ]");
	if (s->have_coco)
		fprintf(f, ",\n  \"coco_default\": {\"ram\": %" PRIu64 ", \"six_percent\": %" PRIu64
			", \"clamped\": %" PRIu64 ", \"size\": %" PRIu64 ", \"serves\": %s,"
			" \"failed_maps\": %" PRIu64 "}", s->coco.ram, s->coco.pct6,
			s->coco.clamped, s->coco.size, s->coco.covers ? "true" : "false", s->coco.failed_maps);
	fprintf(f, "\n },\n");
}

/* ------------------------------------------------------------------ */
/* Histogram of swiotlb_bounced rows                                   */
/* ------------------------------------------------------------------ */

#define NBUCKETS 40

struct dev_hist {
	uint64_t n, bytes, max;
	uint64_t bucket[NBUCKETS]; /* sizes <= 2^i */
};

static unsigned bucket_of(uint64_t size)
{
	unsigned b = 0;

	while (b + 1 < NBUCKETS && (1ull << b) < size)
		b++;
	return b;
}

static struct dev_hist *histograms(const struct trace *t)
{
	struct dev_hist *h = calloc(t->ndevs ? t->ndevs : 1, sizeof(*h));

	if (!h)
		return NULL;
	for (size_t i = 0; i < t->n; i++) {
		const struct event *e = &t->ev[i];
		struct dev_hist *d = &h[e->dev];

		if (e->op != OP_BOUNCED)
			continue;
		d->n++;
		d->bytes += e->size;
		d->max = e->size > d->max ? e->size : d->max;
		d->bucket[bucket_of(e->size)]++;
	}
	return h;
}

void histogram_print(FILE *f, const struct trace *t)
{
	struct dev_hist *h = histograms(t);

	fprintf(f, "swiotlb-replay: the trace has only swiotlb_bounced tracepoint rows: sizes at"
		" map time per device, but no unmaps, so no lifetimes and no occupancy.\n"
		"No pool size can be derived from it; record with swiotlb-capture (kprobes) for"
		" that.  Size histogram per device:\n");
	if (!h)
		return;
	for (unsigned d = 0; d < t->ndevs; d++) {
		fprintf(f, "  %s: %" PRIu64 " bounces, %" PRIu64 " bytes, largest %" PRIu64 "\n",
			t->devs[d], h[d].n, h[d].bytes, h[d].max);
		for (unsigned b = 0; b < NBUCKETS; b++)
			if (h[d].bucket[b])
				fprintf(f, "    <= %10llu bytes: %" PRIu64 "\n", 1ull << b,
					h[d].bucket[b]);
	}
	free(h);
}

void histogram_json(FILE *f, const struct trace *t)
{
	struct dev_hist *h = histograms(t);

	fprintf(f, "{\n \"lifetimes\": false,\n \"note\": \"swiotlb_bounced rows only: no"
		" unmaps, no sizing\",\n \"devices\": [");
	for (unsigned d = 0; h && d < t->ndevs; d++) {
		bool first = true;

		fprintf(f, "%s\n  {\"device\": ", d ? "," : "");
		json_str(f, t->devs[d]);
		fprintf(f, ", \"bounces\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"largest\": %"
			PRIu64 ", \"pow2_histogram\": {", h[d].n, h[d].bytes, h[d].max);
		for (unsigned b = 0; b < NBUCKETS; b++) {
			if (!h[d].bucket[b])
				continue;
			fprintf(f, "%s\"%llu\": %" PRIu64, first ? "" : ", ", 1ull << b,
				h[d].bucket[b]);
			first = false;
		}
		fprintf(f, "}}");
	}
	fprintf(f, "\n ],\n \"exit_status\": %d\n}\n", EXIT_NO_LIFETIMES);
	free(h);
}
