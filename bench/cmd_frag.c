// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * swiotlb-bench fragmentation command (--frag): how often a maximum-size
 * map succeeds in a pool held at a given occupancy by a steady mixed load.
 *
 * For each mix, placement (the kernel's strict cursor, the default) and
 * target occupancy: a fresh static pool (-p, default 64 MiB) with one
 * area; the load maps while the used slots are below the target and
 * unmaps a random live mapping while they are at or above it, so the
 * occupancy stays at the target with random lifetimes.  After a warm-up of
 * as many operations as are measured, every 50th operation of the
 * measured part also tries one map of swiotlb_max_mapping_size() bytes
 * through a second device (min_align_mask 0), unmapped at once.  The
 * result is the share of those probes that succeed.  Every choice comes
 * from one seeded generator, the same for both placements.
 *
 * The mixes (published here, in --help and in docs/BENCHMARKS.md):
 *   net    mostly small, network-like: 60% 1514 B, 30% 64..1514 B,
 *          10% 9018 B (jumbo frames); min_align_mask 0
 *   nvme   NVMe-like page multiples: 4 KiB 40%, 8 KiB 20%, 16 KiB 15%,
 *          32 KiB 10%, 64 KiB 8%, 128 KiB 7%; min_align_mask 4095,
 *          page-aligned buffers (block I/O: O_DIRECT, the page cache)
 *   nvme-odd  the same sizes from buffers at random 64-byte page offsets:
 *          min_align_mask 4095 keeps bit 11, so most runs take one more
 *          slot and start on a given slot parity (the hard case)
 *   mixed  50% 512 B..4 KiB, 35% 8..64 KiB, 12% 128 KiB, 3% 256 KiB;
 *          min_align_mask 0
 *   trace  (--trace FILE) sizes and page offsets drawn from the map rows
 *          of a kernel trace CSV (docs: /work/shared/traces/README.md
 *          format), min_align_mask 4095; lifetimes stay random
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "util.h"

#define PROBE_EVERY 50
#define SRC_LEN ((size_t)(16u << 20) + 8192)
#define MAX_LIVE (1u << 17)

/* One kind of request of a mix: weight, size range [lo, hi], page
 * multiple or not. */
struct mix_part {
	unsigned weight;
	size_t lo, hi;
};

struct mix {
	const char *name;
	uint32_t min_align_mask;
	bool odd_offsets; /* random 64-byte page offsets (else page-aligned) */
	const struct mix_part *parts;
	unsigned nparts;
	/* trace mix: sizes and page offsets of the trace's maps */
	uint32_t *tsize, *toff;
	size_t tn;
};

static const struct mix_part net_parts[] = {
	{ 60, 1514, 1514 },
	{ 30, 64, 1514 },
	{ 10, 9018, 9018 },
};
static const struct mix_part nvme_parts[] = {
	{ 40, 4096, 4096 },   { 20, 8192, 8192 },  { 15, 16384, 16384 },
	{ 10, 32768, 32768 }, { 8, 65536, 65536 }, { 7, 131072, 131072 },
};
static const struct mix_part mixed_parts[] = {
	{ 50, 512, 4096 },
	{ 35, 8192, 65536 },
	{ 12, 131072, 131072 },
	{ 3, 262144, 262144 },
};

static struct mix mixes[] = {
	{ "net", 0, false, net_parts, 3, NULL, NULL, 0 },
	{ "nvme", 4095, false, nvme_parts, 6, NULL, NULL, 0 },
	{ "nvme-odd", 4095, true, nvme_parts, 6, NULL, NULL, 0 },
	{ "mixed", 0, false, mixed_parts, 4, NULL, NULL, 0 },
	{ "trace", 4095, false, NULL, 0, NULL, NULL, 0 },
};
#define NMIXES (sizeof(mixes) / sizeof(mixes[0]))
#define TRACE_MIX 4


/* ---- the trace mix ---- */

static FILE *trace_open(const char *path, bool *piped)
{
	size_t n = strlen(path);
	char cmd[4200];

	*piped = n > 3 && !strcmp(path + n - 3, ".gz");
	if (!*piped)
		return fopen(path, "r");
	if (strchr(path, '\'') || n > 4000) {
		fprintf(stderr, "swiotlb-bench: --trace: unusable path\n");
		return NULL;
	}
	snprintf(cmd, sizeof(cmd), "gzip -dc -- '%s'", path);
	return popen(cmd, "r");
}

/* Field i (0-based) of a CSV line, copied into out; false if missing. */
static bool csv_field(const char *line, int i, char *out, size_t len)
{
	const char *p = line, *e;

	for (; i > 0; i--) {
		p = strchr(p, ',');
		if (!p)
			return false;
		p++;
	}
	e = p + strcspn(p, ",\n");
	if ((size_t)(e - p) >= len)
		return false;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = 0;
	return true;
}

static int trace_add(struct mix *m, size_t *cap, uint32_t size, uint32_t off)
{
	if (m->tn == *cap) {
		*cap = *cap ? 2 * *cap : 4096;
		m->tsize = realloc(m->tsize, *cap * sizeof(*m->tsize));
		m->toff = realloc(m->toff, *cap * sizeof(*m->toff));
		if (!m->tsize || !m->toff)
			return -1;
	}
	m->tsize[m->tn] = size;
	m->toff[m->tn++] = off;
	return 0;
}

/* Read the map rows (op "map": orig_addr column 5, mapping_size 7). */
static int trace_load(struct mix *m, const char *path)
{
	char line[1024], op[16], orig[32], size[32];
	size_t cap = 0;
	bool piped;
	FILE *f = trace_open(path, &piped);
	int rc = 0;

	if (!f) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) && !rc) {
		unsigned long long o, s;

		if (!csv_field(line, 3, op, sizeof(op)) || strcmp(op, "map") ||
		    !csv_field(line, 5, orig, sizeof(orig)) ||
		    !csv_field(line, 7, size, sizeof(size)))
			continue;
		o = strtoull(orig, NULL, 0);
		s = strtoull(size, NULL, 0);
		if (s && s <= UINT32_MAX)
			rc = trace_add(m, &cap, (uint32_t)s, (uint32_t)(o & 4095));
	}
	if ((piped ? pclose(f) : fclose(f)) != 0 || rc || !m->tn) {
		fprintf(stderr, "swiotlb-bench: --trace %s: no map rows read\n", path);
		return -1;
	}
	return 0;
}

/* ---- one run ---- */

struct live {
	swiotlb_addr_t addr;
	uint32_t size;
};

struct frun {
	const struct mix *mix;
	bool strict;
	unsigned pct;
	uint64_t rng;
	struct swiotlb_mem *mem;
	struct swiotlb_dev *dev, *probe_dev;
	unsigned char *src;
	struct live *live;
	size_t nlive;
	uint64_t total_slots, ops, maps, map_fail, probes, probe_ok, used_sum;
};

/* Size and source offset of the next request of the mix. */
static void mix_pick(struct frun *r, size_t *size, size_t *off)
{
	const struct mix *m = r->mix;
	unsigned total = 0, w;

	*size = 0;
	*off = 0;
	if (m->tn) {
		size_t i = (size_t)(util_rand(&r->rng) % m->tn);

		*size = m->tsize[i];
		*off = m->toff[i];
		return;
	}
	for (unsigned i = 0; i < m->nparts; i++)
		total += m->parts[i].weight;
	w = (unsigned)(util_rand(&r->rng) % total);
	for (unsigned i = 0; i < m->nparts; i++) {
		if (w < m->parts[i].weight) {
			*size = (size_t)util_rand_range(&r->rng, m->parts[i].lo, m->parts[i].hi);
			*off = m->odd_offsets ? (size_t)(util_rand(&r->rng) & 4095) & ~(size_t)63
					      : 0;
			return;
		}
		w -= m->parts[i].weight;
	}
}

static uint64_t used_slots(const struct frun *r)
{
	struct swiotlb_stats st;

	if (swiotlb_mem_stats(r->mem, &st))
		return 0;
	return st.used_slots;
}

/* True when a mapping was added. */
static bool op_map(struct frun *r)
{
	size_t size, off;
	swiotlb_addr_t a;

	mix_pick(r, &size, &off);
	if (!size || size + off > SRC_LEN || r->nlive == MAX_LIVE)
		return false;
	r->maps++;
	if (swiotlb_map(r->dev, r->src + off, size, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, &a)) {
		r->map_fail++;
		return false;
	}
	r->live[r->nlive++] = (struct live){ a, (uint32_t)size };
	return true;
}

static int op_unmap(struct frun *r)
{
	size_t i = (size_t)(util_rand(&r->rng) % r->nlive);
	struct live l = r->live[i];

	r->live[i] = r->live[--r->nlive];
	return swiotlb_unmap(r->dev, l.addr, l.size, SWIOTLB_TO_DEVICE, 0);
}

static int op_probe(struct frun *r)
{
	size_t size = swiotlb_max_mapping_size(r->probe_dev);
	swiotlb_addr_t a;

	r->probes++;
	if (swiotlb_map(r->probe_dev, r->src, size, SWIOTLB_TO_DEVICE, SWIOTLB_ATTR_NO_WARN, &a))
		return 0;
	r->probe_ok++;
	return swiotlb_unmap(r->probe_dev, a, size, SWIOTLB_TO_DEVICE, 0);
}

/* One step of the load: map below the target, unmap at or above it; a
 * map that fails unmaps instead (the load keeps turning over, as a
 * driver's retry would after completions). */
static int frun_step(struct frun *r, uint64_t used)
{
	if ((used * 100 < r->total_slots * r->pct || !r->nlive) && op_map(r))
		return 0;
	return r->nlive ? op_unmap(r) : 0;
}

static int frun_loop(struct frun *r, uint64_t nops, bool measure)
{
	for (uint64_t i = 0; i < nops; i++) {
		uint64_t used = used_slots(r);

		if (frun_step(r, used))
			return -1;
		if (!measure)
			continue;
		r->ops++;
		r->used_sum += used;
		if (r->ops % PROBE_EVERY == 0 && op_probe(r))
			return -1;
	}
	return 0;
}

static int frun_setup(struct frun *r)
{
	struct swiotlb_mem_config mc = { 0 };
	struct swiotlb_dev_config dc = { 0 };

	mc.size = opts.pool_size;
	mc.nareas = 1;
	mc.strict_cursor = r->strict;
	mc.segment_slots = opts.segment_slots;
	r->mem = swiotlb_mem_create(&mc);
	if (!r->mem)
		return -1;
	dc.force_bounce = true;
	dc.min_align_mask = r->mix->min_align_mask;
	dc.name = "frag-load";
	r->dev = swiotlb_dev_create(r->mem, &dc);
	dc.min_align_mask = 0;
	dc.name = "frag-probe";
	r->probe_dev = swiotlb_dev_create(r->mem, &dc);
	r->total_slots = util_mem_stats(r->mem).total_slots;
	return r->dev && r->probe_dev ? 0 : -1;
}

static int frun_teardown(struct frun *r)
{
	int rc = 0;

	while (r->nlive)
		rc |= op_unmap(r);
	rc |= swiotlb_dev_destroy(r->dev);
	rc |= swiotlb_dev_destroy(r->probe_dev);
	rc |= swiotlb_mem_destroy(r->mem);
	return rc ? -1 : 0;
}

static int frun_run(struct frun *r)
{
	if (frun_setup(r) < 0) {
		fprintf(stderr, "swiotlb-bench: --frag: cannot create the memory or devices\n");
		return -1;
	}
	/* fill up to the target, then warm up, then measure */
	for (unsigned tries = 0; used_slots(r) * 100 < r->total_slots * r->pct &&
				 r->nlive < MAX_LIVE && tries < 2 * MAX_LIVE;
	     tries++)
		op_map(r); /* failed maps count too: a target may be unreachable */
	if (frun_loop(r, opts.frag_warmup ? opts.frag_warmup : opts.frag_ops, false) ||
	    frun_loop(r, opts.frag_ops, true)) {
		fprintf(stderr, "swiotlb-bench: --frag: an unmap failed\n");
		frun_teardown(r);
		return -1;
	}
	return frun_teardown(r);
}

/* ---- output ---- */

static void frun_json(struct jw *w, const struct frun *r)
{
	jw_open(w, NULL, '{');
	jw_str(w, "mix", r->mix->name);
	jw_str(w, "placement", r->strict ? "strict_cursor" : "default");
	jw_u64(w, "target_pct", r->pct);
	jw_num(w, "mean_used_pct",
	       r->ops ? 100.0 * (double)r->used_sum / ((double)r->ops * (double)r->total_slots)
		      : 0);
	jw_u64(w, "ops", r->ops);
	jw_u64(w, "probes", r->probes);
	jw_u64(w, "probe_ok", r->probe_ok);
	jw_num(w, "probe_success_pct",
	       r->probes ? 100.0 * (double)r->probe_ok / (double)r->probes : 0);
	jw_u64(w, "maps", r->maps);
	jw_u64(w, "map_failures", r->map_fail);
	jw_close(w, '}');
}

static double pct_of(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0;
}

/* All occupancies of one mix, both placements. */
static int frag_mix(struct jw *w, struct mix *m)
{
	for (int i = 0; i < opts.nfrag_pct; i++) {
		struct frun r[2];

		for (int k = 0; k < 2; k++) {
			r[k] = (struct frun){ .mix = m,
					      .strict = k == 0,
					      .pct = opts.frag_pct[i],
					      .rng = util_rand_seed(opts.frag_seed) };
			r[k].src = aligned_alloc(4096, SRC_LEN); /* offsets are page offsets */
			r[k].live = malloc(MAX_LIVE * sizeof(*r[k].live));
			if (!r[k].src || !r[k].live || frun_run(&r[k]) < 0)
				return -1;
			free(r[k].src);
			free(r[k].live);
			if (w)
				frun_json(w, &r[k]);
		}
		printf("%-6s %3u%%  %7.1f%%  %7.1f%%   (used %.1f%% / %.1f%%, %" PRIu64
		       " probes, map failures %.1f%% / %.1f%%)\n",
		       m->name, r[0].pct, pct_of(r[0].probe_ok, r[0].probes),
		       pct_of(r[1].probe_ok, r[1].probes),
		       pct_of(r[0].used_sum, r[0].ops * r[0].total_slots),
		       pct_of(r[1].used_sum, r[1].ops * r[1].total_slots), r[1].probes,
		       pct_of(r[0].map_fail, r[0].maps), pct_of(r[1].map_fail, r[1].maps));
		fflush(stdout);
	}
	return 0;
}

static bool mix_wanted(const char *name)
{
	size_t n = strlen(name);
	const char *p = opts.frag_mixes;

	if (!p)
		return strcmp(name, "trace") || opts.frag_trace;
	while ((p = strstr(p, name))) {
		if ((p == opts.frag_mixes || p[-1] == ',') && (!p[n] || p[n] == ','))
			return true;
		p += n;
	}
	return false;
}

static int frag_check_mixes(void)
{
	char *s = strdup(opts.frag_mixes ? opts.frag_mixes : ""), *tok, *save = NULL;
	int rc = 0;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool known = false;

		for (size_t i = 0; i < NMIXES; i++)
			known |= !strcmp(tok, mixes[i].name);
		if (!known) {
			fprintf(stderr, "swiotlb-bench: --mix: unknown mix '%s'\n", tok);
			rc = -1;
		}
	}
	free(s);
	if (!rc && mix_wanted("trace") && !opts.frag_trace) {
		fprintf(stderr, "swiotlb-bench: --mix trace needs --trace FILE\n");
		rc = -1;
	}
	return rc;
}

int cmd_frag(struct jw *w)
{
	int rc = 0;

	if (frag_check_mixes() < 0 ||
	    (opts.frag_trace && trace_load(&mixes[TRACE_MIX], opts.frag_trace)))
		return 1;
	printf("fragmentation: %zu-byte pool, 1 area, %" PRIu64
	       " measured ops, a max-size map every %d\n"
	       "mix    target  strict  default  (success of max-size maps)\n",
	       opts.pool_size, opts.frag_ops, PROBE_EVERY);
	if (w)
		jw_open(w, "results", '[');
	for (size_t i = 0; i < NMIXES && !rc; i++)
		if (mix_wanted(mixes[i].name) && frag_mix(w, &mixes[i]) < 0)
			rc = 1;
	if (w)
		jw_close(w, ']');
	free(mixes[TRACE_MIX].tsize);
	free(mixes[TRACE_MIX].toff);
	return rc;
}
