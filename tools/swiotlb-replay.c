/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swiotlb-replay: replay a kernel swiotlb trace (CSV, optionally gzip'ed;
 * see shared/traces/README.md for the columns, tools/swiotlb-trace-convert
 * makes one from raw ftrace text) through libswiotlb, check the library
 * against it, and advise on the pool size the trace needs.
 *
 * Check replay: every trace device (min_align_mask --min-align,
 * force_bounce) on one static pool of --pool-size (default 64 MiB, 2
 * areas), like the traced NVMe controller.  For every map the replayer
 * builds an original buffer with the same low 12 address bits as the
 * trace's orig_addr, fills it with a pattern and maps it with the trace's
 * direction and attributes; the map event runs pinned to the trace's CPU so
 * the library picks the same area as the kernel did.
 *
 * Correctness checks (any failure: exit 1):
 *   - every map that gets slots keeps the low 12 bits of orig_addr;
 *   - the bounce buffer holds the original's bytes after map;
 *   - unmap copies the "device" data back (FROM_DEVICE, BIDIRECTIONAL) or
 *     leaves the original untouched (TO_DEVICE); guards stay intact;
 *   - standalone syncs copy exactly their sub-range;
 *   - the library's used_slots equals the replayer's own tally;
 *   - when pinned, the slots in use in the trace CPU's area before each map
 *     equal the kernel's own count for that area (areaN_used).
 * A map that fails for lack of slots (-ENOSPC) is a capacity shortfall,
 * not a correctness failure: its unmap and syncs are skipped, the rest is
 * still checked, and the exit status is 3 unless a check failed.
 * Reported for information: the kernel's area0_used + area1_used against
 * our total (the kernel reads the other CPU's area counter without its
 * lock, so the trace itself is off there for ~4% of the maps), and how many
 * bounce addresses equal the kernel's.
 *
 * Sizing (replay-sizing.c): smallest static pool per placement, dynamic
 * growth from --start-size, and the kernel's CoCo default for --ram.
 */
#include "replay.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

const char *prog = "swiotlb-replay";

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [options] TRACE.csv[.gz]\n"
"Replay a kernel swiotlb trace through libswiotlb, verify every byte, and say\n"
"how large a pool the trace needs.  TRACE is the CSV of swiotlb-trace-convert\n"
"(raw ftrace text of swiotlb-capture -> CSV).\n"
"\n"
"Check replay (byte-verified, one static pool):\n"
"      --pool-size B   pool size (default 64M; K/M/G suffixes)\n"
"      --areas N       areas of every pool (default: the trace's areaN_used\n"
"                      columns, else 2; a power of two)\n"
"      --hot-cursor    library default placement (hot slot reuse) instead of\n"
"                      strict_cursor, the kernel's placement (see below)\n"
"      --min-align M   devices' min_align_mask (default 0xfff)\n"
"      --pin / --no-pin  run each map on the trace's CPU (row cpu %% online\n"
"                      CPUs); default on when 2+ CPUs are usable\n"
"      --pool-base A   device address of the pool (default 0x7bddd000, the\n"
"                      traced kernel's pool start, to compare bounce addresses)\n"
"      --limit N       use only the first N events\n"
"      --no-check      skip the check replay (sizing only)\n"
"\n"
"Sizing advisor:\n"
"      --start-size B  dynamic memory: initial pool (default 1M)\n"
"      --max-size B    dynamic memory: cap on all pools (default none)\n"
"      --ram B         also give the kernel's CoCo default pool for this much\n"
"                      RAM (6%% clamped to 64M..1G, power of two) and say\n"
"                      whether it serves the trace\n"
"      --search-max B  largest static pool the search tries (default 4G)\n"
"      --segment-slots N[,N...]  segment sizes (slots, powers of two from 128\n"
"                      to 4096) to size static pools for (default 128, the\n"
"                      kernel's; a larger segment allows larger mappings)\n"
"      --no-sizing     skip the advisor (check replay only)\n"
"\n"
"Output:\n"
"      --json[=FILE]   JSON report on stdout (or into FILE) instead of text\n"
"      --skip-missing  exit 77 (skipped) when TRACE does not exist\n"
"  -q, --quiet         print only the result line\n"
"  -h, --help          this text\n"
"\n"
"Exit status: 0 all checks passed and the pool served every map; 1 a\n"
"correctness check failed; 2 usage or input error; 3 capacity shortfall:\n"
"maps failed for lack of slots in --pool-size (all else correct); 4 the trace\n"
"has only swiotlb_bounced lines (a size histogram, no lifetimes, no sizing);\n"
"77 --skip-missing and TRACE is absent.\n"
"\n"
"strict_cursor reproduces %s.\n"
"Sizing, exit codes and the output's numbers: docs/SIZING.md.\n", prog, KERNEL_PLACEMENT);
}

__attribute__((format(printf, 1, 2)))
static _Noreturn void bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(%s --help for the options)\n", prog);
	exit(EXIT_USAGE);
}

/* Unsigned number (0x.. allowed), optional K/M/G/T suffix (common/:
 * util_parse_size()); exits 2 on junk or overflow. */
static uint64_t parse_num(const char *opt, const char *s)
{
	uint64_t v;
	int rc = util_parse_size(s, &v);

	if (rc == -ERANGE)
		bad_usage("%s: too large '%s'", opt, s);
	if (rc < 0)
		bad_usage("%s: invalid size '%s' (a number, 0x.. allowed, optional K/M/G/T)",
			  opt, s);
	return v;
}

enum { OPT_POOL = 256, OPT_AREAS, OPT_LIMIT, OPT_PIN, OPT_NOPIN, OPT_JSON,
       OPT_BASE, OPT_MINALIGN, OPT_HOT, OPT_SKIP, OPT_NOCHECK, OPT_NOSIZING,
       OPT_START, OPT_MAXSIZE, OPT_RAM, OPT_SEARCHMAX, OPT_SEGS };

static const struct option longopts[] = {
	{ "pool-size", required_argument, NULL, OPT_POOL },
	{ "areas", required_argument, NULL, OPT_AREAS },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "pin", no_argument, NULL, OPT_PIN },
	{ "no-pin", no_argument, NULL, OPT_NOPIN },
	{ "json", optional_argument, NULL, OPT_JSON },
	{ "pool-base", required_argument, NULL, OPT_BASE },
	{ "min-align", required_argument, NULL, OPT_MINALIGN },
	{ "hot-cursor", no_argument, NULL, OPT_HOT },
	{ "skip-missing", no_argument, NULL, OPT_SKIP },
	{ "no-check", no_argument, NULL, OPT_NOCHECK },
	{ "no-sizing", no_argument, NULL, OPT_NOSIZING },
	{ "start-size", required_argument, NULL, OPT_START },
	{ "max-size", required_argument, NULL, OPT_MAXSIZE },
	{ "ram", required_argument, NULL, OPT_RAM },
	{ "search-max", required_argument, NULL, OPT_SEARCHMAX },
	{ "segment-slots", required_argument, NULL, OPT_SEGS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* --segment-slots: a comma-separated list of powers of two, 128..4096. */
static void parse_segs(struct opts *o, const char *s)
{
	char buf[128], *save = NULL, *tok;

	if (strlen(s) >= sizeof(buf))
		bad_usage("--segment-slots: list too long '%s'", s);
	strcpy(buf, s);
	o->nseg = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v = parse_num("--segment-slots", tok);

		if (v < SWIOTLB_SEGMENT_SLOTS || v > SWIOTLB_SEGMENT_SLOTS_MAX || (v & (v - 1)))
			bad_usage("--segment-slots: a power of two from %u to %u, got '%s'",
				  SWIOTLB_SEGMENT_SLOTS, SWIOTLB_SEGMENT_SLOTS_MAX, tok);
		if (o->nseg == MAX_SEG_SIZES)
			bad_usage("--segment-slots: at most %d sizes", MAX_SEG_SIZES);
		o->seg_slots[o->nseg++] = (unsigned)v;
	}
	if (!o->nseg)
		bad_usage("--segment-slots: no size in '%s'", s);
}

static unsigned parse_areas(const char *s)
{
	uint64_t v = parse_num("--areas", s);

	if (!v || (v & (v - 1)) || v > 1024)
		bad_usage("--areas: a power of two up to 1024, got '%s'", s);
	return (unsigned)v;
}

static uint32_t parse_min_align(const char *s)
{
	uint64_t v = parse_num("--min-align", s);

	if (v > 0xffff || (v & (v + 1)))
		bad_usage("--min-align: 2^n-1 up to 0xffff, got '%s'", s);
	return (uint32_t)v;
}

static void parse_one(int c, struct opts *o, char **argv)
{
	switch (c) {
	case OPT_POOL: o->pool_size = parse_num("--pool-size", optarg); break;
	case OPT_AREAS: o->areas = parse_areas(optarg); o->areas_given = true; break;
	case OPT_LIMIT: o->limit = parse_num("--limit", optarg); break;
	case OPT_PIN: o->pin = 1; break;
	case OPT_NOPIN: o->pin = 0; break;
	case OPT_JSON: o->json = optarg ? optarg : "-"; break;
	case OPT_BASE: o->pool_base = parse_num("--pool-base", optarg); break;
	case OPT_MINALIGN: o->min_align = parse_min_align(optarg); break;
	case OPT_HOT: o->hot_cursor = true; break;
	case OPT_SKIP: o->skip_missing = true; break;
	case OPT_NOCHECK: o->no_check = true; break;
	case OPT_NOSIZING: o->no_sizing = true; break;
	case OPT_START: o->start_size = parse_num("--start-size", optarg); break;
	case OPT_MAXSIZE: o->max_size = parse_num("--max-size", optarg); break;
	case OPT_RAM: o->ram = parse_num("--ram", optarg); break;
	case OPT_SEARCHMAX: o->search_max = parse_num("--search-max", optarg); break;
	case OPT_SEGS: parse_segs(o, optarg); break;
	case 'q': o->quiet = true; break;
	case 'h': usage(stdout); exit(EXIT_OK);
	case ':': bad_usage("option '%s' needs an argument", argv[optind - 1]);
	default:
		if (optopt)
			bad_usage("unknown option '-%c'", optopt);
		bad_usage("unknown option '%s'", argv[optind - 1]);
	}
}

static void check_opts(struct opts *o)
{
	size_t seg_area = (size_t)o->areas * SWIOTLB_SEGMENT_SIZE;

	if (o->pool_size < seg_area || o->pool_size % SWIOTLB_SLOT_SIZE)
		bad_usage("--pool-size: a multiple of %u, at least one segment (%u KiB) per area",
			  SWIOTLB_SLOT_SIZE, SWIOTLB_SEGMENT_SIZE >> 10);
	if (o->pool_base & 4095)
		bad_usage("--pool-base: must be page aligned");
	if (o->start_size < SWIOTLB_SEGMENT_SIZE || o->start_size % SWIOTLB_SLOT_SIZE)
		bad_usage("--start-size: a multiple of %u, at least one segment (%u KiB)",
			  SWIOTLB_SLOT_SIZE, SWIOTLB_SEGMENT_SIZE >> 10);
	if (o->max_size && o->max_size < o->start_size)
		bad_usage("--max-size: must be at least --start-size");
	if (o->search_max < seg_area || o->search_max > ((size_t)1 << 40))
		bad_usage("--search-max: between one segment per area and 1T");
	if (o->no_check && o->no_sizing)
		bad_usage("--no-check and --no-sizing: nothing left to do");
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ .pool_size = 64u << 20, .areas = 2, .pin = -1,
			    .pool_base = 0x7bddd000, .min_align = 0xfff,
			    .start_size = 1u << 20, .search_max = (size_t)4 << 30,
			    .seg_slots = { SWIOTLB_SEGMENT_SLOTS }, .nseg = 1 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1)
		parse_one(c, o, argv);
	if (optind != argc - 1)
		bad_usage(optind >= argc ? "no trace file given" :
			  "more than one trace file given");
	o->trace = argv[optind];
	check_opts(o);
}

/* ------------------------------------------------------------------ */
/* Pool memory: a provider that records where the pool went             */
/* ------------------------------------------------------------------ */

/* Gives out anonymous memory at device addresses base, base+len, ...
 * (aligned as asked), so the pool's device address is known and can be
 * compared with the kernel's.  The replay uses one static pool. */
struct rec_provider {
	struct swiotlb_provider p;
	pthread_mutex_t lock;
	uint64_t next;          /* next free device address */
	uint64_t first_addr;    /* the first pool's device address */
	size_t first_len;
	unsigned allocs;
};

static int rec_alloc(void *ctx, size_t len, size_t align, swiotlb_addr_t limit,
		     void **cpu, swiotlb_addr_t *addr)
{
	struct rec_provider *rp = ctx;
	uint64_t a;
	void *p;

	pthread_mutex_lock(&rp->lock);
	a = (rp->next + align - 1) & ~(uint64_t)(align - 1);
	if (limit && a + len - 1 > limit) {
		pthread_mutex_unlock(&rp->lock);
		return -ENOMEM;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		pthread_mutex_unlock(&rp->lock);
		return -ENOMEM;
	}
	if (!rp->allocs++) {
		rp->first_addr = a;
		rp->first_len = len;
	}
	rp->next = a + len;
	pthread_mutex_unlock(&rp->lock);
	*cpu = p;
	*addr = a;
	return 0;
}

static void rec_free(void *ctx, void *cpu, swiotlb_addr_t addr, size_t len)
{
	(void)ctx;
	(void)addr;
	munmap(cpu, len);
}

/* ------------------------------------------------------------------ */
/* Live mappings and their original buffers                            */
/* ------------------------------------------------------------------ */

#define PAGE 4096u
#define GUARD 64u
#define GUARD_BYTE 0xee
/* Chunk: a guard page, the buffer at its page offset, a guard page. */
#define CHUNK_STD (PAGE + SWIOTLB_SEGMENT_SIZE + PAGE + PAGE)

struct live {
	uint64_t ktlb, korig;     /* the kernel's addresses */
	uint64_t size;
	int dir;
	swiotlb_addr_t addr;      /* our bounce address */
	uint8_t *chunk, *buf;
	size_t chunk_len;
	unsigned nslots;
	unsigned area;            /* our area of the slot run */
	uint16_t dev;             /* trace device index */
	bool sync_skipped;        /* the in_unmap sync_cpu row was skipped */
};

struct chunks {
	uint8_t **free;
	size_t nfree, cap;
};

static uint8_t *chunk_get(struct chunks *c, size_t len)
{
	void *p;

	if (len == CHUNK_STD && c->nfree)
		return c->free[--c->nfree];
	if (posix_memalign(&p, PAGE, len))
		return NULL;
	return p;
}

static void chunk_put(struct chunks *c, uint8_t *p, size_t len)
{
	if (len == CHUNK_STD) {
		if (c->nfree == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 64;
			uint8_t **n = realloc(c->free, cap * sizeof(*n));

			if (!n) {
				free(p);
				return;
			}
			c->free = n;
			c->cap = cap;
		}
		c->free[c->nfree++] = p;
		return;
	}
	free(p);
}

/* ------------------------------------------------------------------ */
/* Replay state and results                                            */
/* ------------------------------------------------------------------ */

struct results {
	uint64_t events, maps, maps_failed, unmaps, unmap_errors;
	uint64_t syncs_done, syncs_skipped, sync_errors, unmatched;
	uint64_t bad_rows, ignored_attr_bits;
	uint64_t maps_nospace;     /* capacity shortfall: -ENOSPC */
	uint64_t rows_of_failed;   /* unmaps/syncs of those, skipped */
	uint64_t kernel_failed;    /* map_failed rows (the kernel's own) */
	uint64_t offset_errors, data_errors, guard_errors;
	uint64_t own_checked, own_mismatch, total_checked, total_mismatch;
	uint64_t lib_used_mismatch, same_addr_as_kernel, in_trace_area;
	uint64_t peak_live, peak_slots, peak_bytes, peak_lib_mappings;
	uint64_t leftover_unmapped;
	uint64_t own_stopped_line;  /* placement diverged: own-area check off */
	uint64_t first_diff_line, first_diff_kernel, first_diff_ours; /* pool offsets */
	int64_t first_own_mismatch_line, first_lib_mismatch_line;
};

struct replay {
	struct opts o;
	struct rec_provider prov;
	struct swiotlb_mem *mem;
	const struct trace *t;
	struct swiotlb_dev *devs[MAX_DEVS];
	uint64_t pool_addr;       /* our pool's device address */
	uint64_t area_bytes;
	struct cpus cpus;
	int trace_areas;          /* areaN_used columns in the trace */
	uint64_t *nospace;        /* kernel tlb of maps we could not serve */
	size_t nnospace, nospace_cap;
	struct live *live;
	size_t nlive, live_cap;
	uint64_t live_slots, live_bytes;
	uint64_t area_used[1024]; /* our slots in use per area (tally) */
	struct chunks chunks;
	struct results r;
};

static void failf(struct replay *rp, uint64_t *counter, const struct event *e,
		  const char *fmt, ...)
{
	va_list ap;

	if ((*counter)++ >= 5)
		return;
	fprintf(stderr, "%s: line %" PRIu64 " (seq %" PRIu64 ", %s): ", prog,
		e->line, e->seq, rp->o.trace);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}


static bool guards_ok(const struct live *l)
{
	for (unsigned i = 0; i < GUARD; i++)
		if (l->buf[-1 - (int)i] != GUARD_BYTE || l->buf[l->size + i] != GUARD_BYTE)
			return false;
	return true;
}

#define DEV(rp, l) ((rp)->devs[(l)->dev])
#define DEV_SEED(seq) ((seq) ^ 0xd1b54a32d192ed03ull)

/* ------------------------------------------------------------------ */
/* Slot accounting: what the library must use for a mapping             */
/* ------------------------------------------------------------------ */

/* Compare the used counts before a map: ours (library and tally) against
 * the kernel's at map entry. */
static void check_used(struct replay *rp, const struct event *e)
{
	struct swiotlb_stats st;
	uint64_t ktotal = 0;
	unsigned own = (unsigned)e->cpu & (rp->o.areas - 1);

	if (swiotlb_mem_stats(rp->mem, &st) == 0 && st.used_slots != rp->live_slots) {
		if (!rp->r.lib_used_mismatch++)
			rp->r.first_lib_mismatch_line = (int64_t)e->line;
	}
	if (!e->has_used)
		return;
	for (int a = 0; a < rp->trace_areas; a++)
		ktotal += (uint64_t)e->used[a];
	rp->r.total_checked++;
	rp->r.total_mismatch += ktotal != rp->live_slots;
	/* Per-area counts are comparable only with the kernel's area layout,
	 * with the map running on the trace's CPU, and while every map went
	 * where the kernel's did: a smaller pool than the kernel's may fail a
	 * map or spill it into another area, after which the counts differ
	 * without anything being wrong. */
	if (rp->r.maps_nospace || rp->r.in_trace_area < rp->r.maps) {
		if (!rp->r.own_stopped_line)
			rp->r.own_stopped_line = e->line;
		return;
	}
	if (rp->cpus.pin && (int)rp->o.areas == rp->trace_areas) {
		rp->r.own_checked++;
		if ((uint64_t)e->used[own] != rp->area_used[own] &&
		    !rp->r.own_mismatch++)
			rp->r.first_own_mismatch_line = (int64_t)e->line;
	}
}

/* ------------------------------------------------------------------ */
/* Live-mapping bookkeeping                                            */
/* ------------------------------------------------------------------ */

/* Index of the live mapping the kernel placed at exactly tlb, or -1. */
static ssize_t find_exact(const struct replay *rp, const struct event *e)
{
	for (size_t i = 0; i < rp->nlive; i++)
		if (rp->live[i].ktlb == e->tlb && rp->live[i].dev == e->dev)
			return (ssize_t)i;
	return -1;
}

/* Index of the live mapping whose kernel range holds [tlb, tlb+len). */
static ssize_t find_range(const struct replay *rp, const struct event *e)
{
	uint64_t tlb = e->tlb, len = e->size;

	for (size_t i = 0; i < rp->nlive; i++) {
		const struct live *l = &rp->live[i];

		if (l->dev == e->dev && tlb >= l->ktlb && tlb - l->ktlb <= l->size &&
		    len <= l->size - (tlb - l->ktlb))
			return (ssize_t)i;
	}
	return -1;
}

static int live_add(struct replay *rp, const struct live *l)
{
	if (rp->nlive == rp->live_cap) {
		size_t cap = rp->live_cap ? rp->live_cap * 2 : 256;
		struct live *n = realloc(rp->live, cap * sizeof(*n));

		if (!n)
			return -1;
		rp->live = n;
		rp->live_cap = cap;
	}
	rp->live[rp->nlive++] = *l;
	rp->live_slots += l->nslots;
	rp->live_bytes += l->size;
	rp->area_used[l->area] += l->nslots;
	if (rp->nlive > rp->r.peak_live)
		rp->r.peak_live = rp->nlive;
	if (rp->live_slots > rp->r.peak_slots)
		rp->r.peak_slots = rp->live_slots;
	if (rp->live_bytes > rp->r.peak_bytes)
		rp->r.peak_bytes = rp->live_bytes;
	return 0;
}

/* Drop live mapping i (its slots are already freed in the library). */
static void live_del(struct replay *rp, size_t i)
{
	struct live *l = &rp->live[i];

	rp->live_slots -= l->nslots;
	rp->live_bytes -= l->size;
	rp->area_used[l->area] -= l->nslots;
	chunk_put(&rp->chunks, l->chunk, l->chunk_len);
	rp->live[i] = rp->live[--rp->nlive];
}

/* ------------------------------------------------------------------ */
/* Event handlers                                                      */
/* ------------------------------------------------------------------ */

/* Check a fresh mapping: offset preservation, the copied data, where it
 * landed.  Sets l->area and l->nslots.  Returns -1 if the bounce address
 * is not in our static pool (then the mapping is not tracked per area). */
static int check_map(struct replay *rp, const struct event *e, struct live *l)
{
	uint64_t m = rp->o.min_align, area_slots = rp->area_bytes >> SWIOTLB_SLOT_SHIFT;
	const uint8_t *b = swiotlb_addr_to_cpu(DEV(rp, l), l->addr);
	unsigned pad;
	uint64_t slot;

	l->nslots = map_slots(rp->o.min_align, e->orig, e->size, e->align_mask, &pad);
	if ((l->addr & m) != (e->orig & m))
		failf(rp, &rp->r.offset_errors, e, "bounce 0x%" PRIx64 " lost the low bits of"
		      " orig 0x%" PRIx64, l->addr, e->orig);
	if (!b || !swiotlb_addr_to_cpu(DEV(rp, l), l->addr + l->size - 1) ||
	    memcmp(b, l->buf, l->size))
		failf(rp, &rp->r.data_errors, e, "bounce buffer does not hold the original");
	if (l->addr - rp->pool_addr == e->tlb - rp->o.pool_base) {
		rp->r.same_addr_as_kernel++;
	} else if (!rp->r.first_diff_line) {
		rp->r.first_diff_line = e->line;
		rp->r.first_diff_kernel = e->tlb - rp->o.pool_base;
		rp->r.first_diff_ours = l->addr - rp->pool_addr;
	}
	slot = ((l->addr - rp->pool_addr) >> SWIOTLB_SLOT_SHIFT) - pad;
	if (l->addr < rp->pool_addr || slot >= area_slots * rp->o.areas) {
		failf(rp, &rp->r.offset_errors, e, "bounce 0x%" PRIx64 " outside the pool",
		      l->addr);
		return -1;
	}
	l->area = (unsigned)(slot / area_slots);
	rp->r.in_trace_area += l->area == ((unsigned)e->cpu & (rp->o.areas - 1));
	return 0;
}

/* A map the pool had no room for (capacity, not correctness): remember
 * the kernel's bounce range so its unmap and syncs are skipped. */
static void nospace_add(struct replay *rp, const struct event *e)
{
	rp->r.maps_nospace++;
	if (rp->nnospace + 2 > rp->nospace_cap) {
		size_t cap = rp->nospace_cap ? rp->nospace_cap * 2 : 256;
		uint64_t *n = realloc(rp->nospace, cap * sizeof(*n));

		if (!n)
			return;
		rp->nospace = n;
		rp->nospace_cap = cap;
	}
	rp->nospace[rp->nnospace++] = e->tlb;
	rp->nospace[rp->nnospace++] = e->size;
}

/* Is [tlb, tlb+len) inside a map we could not serve?  An unmap (exact
 * start) also forgets it. */
static bool nospace_hit(struct replay *rp, uint64_t tlb, uint64_t len, bool unmap)
{
	for (size_t i = 0; i < rp->nnospace; i += 2) {
		uint64_t s = rp->nospace[i], n = rp->nospace[i + 1];

		if (tlb < s || tlb - s > n || len > n - (tlb - s) || (unmap && tlb != s))
			continue;
		if (unmap) {
			rp->nospace[i] = rp->nospace[rp->nnospace - 2];
			rp->nospace[i + 1] = rp->nospace[rp->nnospace - 1];
			rp->nnospace -= 2;
		}
		rp->r.rows_of_failed++;
		return true;
	}
	return false;
}

static void do_map(struct replay *rp, const struct event *e)
{
	unsigned attrs = e->attrs & SWIOTLB_ATTR_NO_WARN;
	uint64_t page_off = e->orig & (PAGE - 1);
	struct live l = { .ktlb = e->tlb, .korig = e->orig, .size = e->size, .dir = e->dir,
			  .dev = e->dev };
	struct swiotlb_stats st;
	int err;

	rp->r.ignored_attr_bits += (e->attrs & ~attrs) != 0;
	check_used(rp, e);
	cpus_pin(&rp->cpus, e->cpu);
	l.chunk_len = (PAGE + page_off + e->size + GUARD + 2 * PAGE - 1) & ~(uint64_t)(PAGE - 1);
	if (l.chunk_len < CHUNK_STD)
		l.chunk_len = CHUNK_STD;
	l.chunk = chunk_get(&rp->chunks, l.chunk_len);
	if (!l.chunk) {
		failf(rp, &rp->r.maps_failed, e, "out of memory for the original buffer");
		return;
	}
	l.buf = l.chunk + PAGE + page_off;
	memset(l.buf - GUARD, GUARD_BYTE, GUARD);
	memset(l.buf + l.size, GUARD_BYTE, GUARD);
	util_fill(l.buf, l.size, e->seq);
	if (e->align_mask)
		err = swiotlb_map_align(DEV(rp, &l), l.buf, l.size, (enum swiotlb_dir)l.dir, attrs,
					e->align_mask, &l.addr);
	else
		err = swiotlb_map(DEV(rp, &l), l.buf, l.size, (enum swiotlb_dir)l.dir, attrs,
				  &l.addr);
	if (err == -ENOSPC) {
		nospace_add(rp, e);
		chunk_put(&rp->chunks, l.chunk, l.chunk_len);
		return;
	}
	if (err) {
		failf(rp, &rp->r.maps_failed, e, "map of %" PRIu64 " bytes dir %d: %s",
		      e->size, e->dir, swiotlb_strerror(err));
		chunk_put(&rp->chunks, l.chunk, l.chunk_len);
		return;
	}
	rp->r.maps++;
	if (check_map(rp, e, &l) || live_add(rp, &l)) {
		swiotlb_unmap(DEV(rp, &l), l.addr, l.size, (enum swiotlb_dir)l.dir, 0);
		chunk_put(&rp->chunks, l.chunk, l.chunk_len);
		return;
	}
	if (swiotlb_mem_stats(rp->mem, &st) == 0 && st.mappings > rp->r.peak_lib_mappings)
		rp->r.peak_lib_mappings = st.mappings;
}

static void do_unmap(struct replay *rp, const struct event *e)
{
	ssize_t i = find_exact(rp, e);
	struct live *l;
	unsigned attrs = e->attrs & SWIOTLB_ATTR_SKIP_CPU_SYNC;
	bool copy_back;
	uint64_t before = 0;
	int err;

	if (i < 0) {
		if (!nospace_hit(rp, e->tlb, e->size, true))
			failf(rp, &rp->r.unmatched, e, "unmap of no live mapping");
		return;
	}
	l = &rp->live[i];
	if (l->size != e->size || l->dir != e->dir)
		failf(rp, &rp->r.unmap_errors, e, "unmap size/dir differ from the map's");
	/* The kernel synced in its unmap path (the skipped sync_cpu row) and
	 * then unmapped with SKIP_CPU_SYNC; our unmap does that copy itself. */
	if (l->sync_skipped)
		attrs &= ~SWIOTLB_ATTR_SKIP_CPU_SYNC;
	copy_back = l->dir != SWIOTLB_TO_DEVICE && !(attrs & SWIOTLB_ATTR_SKIP_CPU_SYNC);
	if (l->dir != SWIOTLB_TO_DEVICE) {
		uint8_t *b = swiotlb_addr_to_cpu(DEV(rp, l), l->addr);

		if (b)
			util_fill(b, l->size, DEV_SEED(e->seq)); /* the device's DMA */
	}
	if (!copy_back)
		before = util_hash(l->buf, l->size);
	err = swiotlb_unmap(DEV(rp, l), l->addr, l->size, (enum swiotlb_dir)l->dir, attrs);
	rp->r.unmaps++;
	if (err) {
		failf(rp, &rp->r.unmap_errors, e, "unmap: %s", swiotlb_strerror(err));
	} else if (copy_back ? !(util_verify(l->buf, l->size, DEV_SEED(e->seq)) == l->size)
			     : util_hash(l->buf, l->size) != before) {
		failf(rp, &rp->r.data_errors, e, "original after unmap (dir %d, %s)", l->dir,
		      copy_back ? "device data expected" : "must be unchanged");
	}
	if (!guards_ok(l))
		failf(rp, &rp->r.guard_errors, e, "guard bytes around the original changed");
	if (!err)
		live_del(rp, (size_t)i);
}

/* Hashes of the bytes before, inside and after [off, off+len) of p. */
struct snap { uint64_t pre, mid, post; };

static struct snap take_snap(const uint8_t *p, uint64_t size, uint64_t off, uint64_t len)
{
	return (struct snap){ util_hash(p, off), util_hash(p + off, len),
			      util_hash(p + off + len, size - off - len) };
}

/* A standalone sync of [off, off+len) of live mapping l.  The side that is
 * copied from gets new data first; afterwards the other side must hold it
 * inside the range (or be unchanged for a no-op direction) and be
 * unchanged outside it. */
static void sync_range(struct replay *rp, const struct event *e, struct live *l,
		       uint64_t off, uint64_t len)
{
	bool to_cpu = e->op == OP_SYNC_CPU;
	bool copies = to_cpu ? e->dir != SWIOTLB_TO_DEVICE : e->dir != SWIOTLB_FROM_DEVICE;
	uint8_t *b = swiotlb_addr_to_cpu(DEV(rp, l), l->addr);
	uint8_t *src = to_cpu ? b : l->buf, *dst = to_cpu ? l->buf : b;
	struct snap s0, s1;
	int err;

	if (!b) {
		failf(rp, &rp->r.sync_errors, e, "live mapping has no CPU address");
		return;
	}
	if (copies)
		util_fill(src + off, len, DEV_SEED(e->seq));
	s0 = take_snap(dst, l->size, off, len);
	if (to_cpu)
		err = swiotlb_sync_for_cpu(DEV(rp, l), l->addr + off, len,
					   (enum swiotlb_dir)e->dir);
	else
		err = swiotlb_sync_for_device(DEV(rp, l), l->addr + off, len,
					      (enum swiotlb_dir)e->dir);
	rp->r.syncs_done++;
	if (err) {
		failf(rp, &rp->r.sync_errors, e, "sync: %s", swiotlb_strerror(err));
		return;
	}
	s1 = take_snap(dst, l->size, off, len);
	if (s0.pre != s1.pre || s0.post != s1.post ||
	    (copies ? !(util_verify(dst + off, len, DEV_SEED(e->seq)) == len) : s0.mid != s1.mid))
		failf(rp, &rp->r.data_errors, e, "sync_%s dir %d [%" PRIu64 ", +%" PRIu64
		      ") copied wrong bytes", to_cpu ? "cpu" : "dev", e->dir, off, len);
}

static void do_sync(struct replay *rp, const struct event *e)
{
	ssize_t i = find_range(rp, e);

	if (i < 0) {
		if (!nospace_hit(rp, e->tlb, e->size, false))
			failf(rp, &rp->r.unmatched, e, "sync of no live mapping");
		return;
	}
	if (e->op == OP_SYNC_CPU && e->in_unmap) {
		/* Part of the kernel's unmap: our unmap will copy back. */
		rp->live[i].sync_skipped = true;
		rp->r.syncs_skipped++;
		return;
	}
	sync_range(rp, e, &rp->live[i], e->tlb - rp->live[i].ktlb, e->size);
}

static void dispatch(struct replay *rp, const struct event *e)
{
	switch (e->op) {
	case OP_MAP: do_map(rp, e); break;
	case OP_UNMAP: do_unmap(rp, e); break;
	case OP_SYNC_CPU:
	case OP_SYNC_DEV: do_sync(rp, e); break;
	case OP_MAP_FAILED: rp->r.kernel_failed++; break;
	case OP_BOUNCED: break;
	}
}

/* ------------------------------------------------------------------ */
/* Setup, the replay loop, teardown                                    */
/* ------------------------------------------------------------------ */

/* Library log lines: the first few are shown, the rest counted (a pool
 * that is too small logs "buffer is full" for every failed map). */
static unsigned log_lines;

static void replay_log(void *ctx, enum swiotlb_log_level level, const char *msg)
{
	(void)ctx;
	(void)level;
	if (log_lines++ < 3)
		fprintf(stderr, "libswiotlb: %s\n", msg);
}

static int create_devs(struct replay *rp)
{
	struct swiotlb_dev_config dc = { .force_bounce = true, .min_align_mask = rp->o.min_align };

	for (unsigned i = 0; i < rp->t->ndevs; i++) {
		dc.name = rp->t->devs[i];
		rp->devs[i] = swiotlb_dev_create(rp->mem, &dc);
		if (!rp->devs[i]) {
			fprintf(stderr, "%s: swiotlb_dev_create: %s\n", prog, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int setup(struct replay *rp)
{
	/* Place like the kernel (forward-only cursor) unless --hot-cursor. */
	struct swiotlb_mem_config mc = { .size = rp->o.pool_size, .nareas = rp->o.areas,
					 .strict_cursor = !rp->o.hot_cursor, .log = replay_log };

	rp->prov.p = (struct swiotlb_provider){ .version = SWIOTLB_PROVIDER_VERSION,
						.name = "replay", .ctx = &rp->prov,
						.alloc = rec_alloc, .free = rec_free };
	pthread_mutex_init(&rp->prov.lock, NULL);
	rp->prov.next = rp->o.pool_base;
	mc.provider = &rp->prov.p;
	rp->mem = swiotlb_mem_create(&mc);
	if (!rp->mem) {
		fprintf(stderr, "%s: swiotlb_mem_create: %s\n", prog, strerror(errno));
		return -1;
	}
	if (create_devs(rp))
		return -1;
	rp->pool_addr = rp->prov.first_addr;
	rp->area_bytes = rp->o.pool_size / rp->o.areas;
	if (rp->prov.allocs != 1 || rp->prov.first_len < rp->o.pool_size)
		fprintf(stderr, "%s: warning: provider saw %u allocations (first %zu bytes)\n",
			prog, rp->prov.allocs, rp->prov.first_len);
	cpus_init(&rp->cpus, rp->o.pin);
	rp->trace_areas = rp->t->nused;
	return 0;
}

static void replay_events(struct replay *rp)
{
	for (size_t i = 0; i < rp->t->n; i++) {
		rp->r.events++;
		dispatch(rp, &rp->t->ev[i]);
		if (!rp->o.quiet && !rp->o.json && rp->r.events % 50000 == 0)
			fprintf(stderr, "  ... %" PRIu64 " events, %zu live\n", rp->r.events,
				rp->nlive);
	}
}

/* Unmap what a --limit left live, then destroy devices and memory. */
static int teardown(struct replay *rp)
{
	int err = 0;

	while (rp->nlive) {
		struct live *l = &rp->live[rp->nlive - 1];

		if (swiotlb_unmap(DEV(rp, l), l->addr, l->size, (enum swiotlb_dir)l->dir, 0))
			err = -1;
		rp->r.leftover_unmapped++;
		live_del(rp, rp->nlive - 1);
	}
	for (unsigned i = 0; i < MAX_DEVS; i++)
		if (rp->devs[i] && swiotlb_dev_destroy(rp->devs[i]))
			err = -1;
	if (rp->mem && swiotlb_mem_destroy(rp->mem))
		err = -1;
	for (size_t i = 0; i < rp->chunks.nfree; i++)
		free(rp->chunks.free[i]);
	free(rp->chunks.free);
	free(rp->live);
	free(rp->nospace);
	return err;
}

/* ------------------------------------------------------------------ */
/* Report                                                              */
/* ------------------------------------------------------------------ */

static bool failed(const struct results *r)
{
	return r->maps_failed || r->unmap_errors || r->sync_errors || r->offset_errors ||
	       r->data_errors || r->guard_errors || r->own_mismatch ||
	       r->lib_used_mismatch || r->unmatched;
}

static void print_check(FILE *f, const struct replay *rp, const struct swiotlb_stats *st,
			double secs)
{
	const struct results *r = &rp->r;

	fprintf(f, "check replay: pool %zu KiB at 0x%" PRIx64 ", %u areas, min_align_mask 0x%x,"
		" %s placement, %s\n", rp->o.pool_size >> 10, rp->pool_addr, rp->o.areas,
		rp->o.min_align, rp->o.hot_cursor ? "default (hot reuse)" : "strict_cursor",
		rp->cpus.pin ? "pinned to the trace's CPUs" : "not pinned");
	fprintf(f, "  events %" PRIu64 ": maps %" PRIu64 ", unmaps %" PRIu64
		", syncs performed %" PRIu64 ", in-unmap syncs skipped %" PRIu64 "\n",
		r->events, r->maps, r->unmaps, r->syncs_done, r->syncs_skipped);
	fprintf(f, "  capacity: %" PRIu64 " maps found no free slots (%" PRIu64 " of their"
		" unmap/sync rows skipped)%s\n", r->maps_nospace, r->rows_of_failed,
		r->maps_nospace ? ": the pool is too small for this trace" : "");
	if (r->kernel_failed)
		fprintf(f, "  the kernel itself failed %" PRIu64 " maps (map_failed rows)\n",
			r->kernel_failed);
	fprintf(f, "  library: hiwater %" PRIu64 " slots, peak mappings %" PRIu64 ", maps %"
		PRIu64 ", bytes to/from device %" PRIu64 "/%" PRIu64 "\n", st->hiwater_slots,
		r->peak_lib_mappings, st->maps, st->bytes_to_device, st->bytes_from_device);
	fprintf(f, "  correctness: other map errors %" PRIu64 ", offset errors %" PRIu64
		", data errors %" PRIu64 ", guard errors %" PRIu64 ", unmap errors %" PRIu64
		", sync errors %" PRIu64 ", unmatched rows %" PRIu64 "\n", r->maps_failed,
		r->offset_errors, r->data_errors, r->guard_errors, r->unmap_errors,
		r->sync_errors, r->unmatched);
	fprintf(f, "  used slots before map, library vs replayer tally: %" PRIu64
		" mismatches\n", r->lib_used_mismatch);
	if (r->own_checked)
		fprintf(f, "  used slots in the CPU's own area vs kernel areaN_used: %" PRIu64
			" mismatches of %" PRIu64 "\n", r->own_mismatch, r->own_checked);
	else
		fprintf(f, "  own-area used check: not run (%s)\n", !rp->cpus.pin ? "not pinned" :
			"trace has no areaN_used columns or --areas differs");
	if (r->own_stopped_line)
		fprintf(f, "  own-area used check stopped at line %" PRIu64 ": a map failed or went"
			" to another area than the kernel's (pool smaller than the kernel's?)\n",
			r->own_stopped_line);
	if (r->total_checked)
		fprintf(f, "  total used vs kernel's sum of areaN_used (informational; the kernel"
			" reads other areas unlocked): %" PRIu64 " mismatches of %" PRIu64 "\n",
			r->total_mismatch, r->total_checked);
	fprintf(f, "  maps in the trace CPU's area %" PRIu64 "/%" PRIu64 ", same bounce address"
		" as the kernel %" PRIu64 "/%" PRIu64 " (informational)\n", r->in_trace_area,
		r->maps, r->same_addr_as_kernel, r->maps);
	if (r->first_diff_line)
		fprintf(f, "  first map placed differently from the kernel: line %" PRIu64
			" (pool offset kernel 0x%" PRIx64 ", ours 0x%" PRIx64 ")\n",
			r->first_diff_line, r->first_diff_kernel, r->first_diff_ours);
	if (r->leftover_unmapped)
		fprintf(f, "  mappings still live at the end (--limit), unmapped: %" PRIu64 "\n",
			r->leftover_unmapped);
	fprintf(f, "  elapsed %.2f s\n", secs);
}

#define JU(name, v) fprintf(f, "  \"%s\": %" PRIu64 ",\n", name, (uint64_t)(v))

static void json_check(FILE *f, const struct replay *rp, const struct swiotlb_stats *st)
{
	const struct results *r = &rp->r;

	fprintf(f, " \"check\": {\n  \"placement\": \"%s\",\n  \"pinned\": %s,\n",
		rp->o.hot_cursor ? "default" : "strict_cursor", rp->cpus.pin ? "true" : "false");
	JU("pool_size", rp->o.pool_size);
	JU("areas", rp->o.areas);
	JU("events", r->events);
	JU("maps", r->maps);
	JU("maps_no_space", r->maps_nospace);
	JU("rows_of_failed_maps_skipped", r->rows_of_failed);
	JU("kernel_failed_maps", r->kernel_failed);
	JU("unmaps", r->unmaps);
	JU("syncs_performed", r->syncs_done);
	JU("syncs_skipped_in_unmap", r->syncs_skipped);
	JU("hiwater_slots", st->hiwater_slots);
	JU("other_map_errors", r->maps_failed);
	JU("offset_errors", r->offset_errors);
	JU("data_errors", r->data_errors);
	JU("guard_errors", r->guard_errors);
	JU("unmap_errors", r->unmap_errors);
	JU("sync_errors", r->sync_errors);
	JU("unmatched_rows", r->unmatched);
	JU("lib_used_mismatches", r->lib_used_mismatch);
	JU("own_area_used_checked", r->own_checked);
	JU("own_area_used_mismatches", r->own_mismatch);
	JU("total_used_checked", r->total_checked);
	JU("total_used_mismatches", r->total_mismatch);
	JU("maps_in_trace_area", r->in_trace_area);
	JU("same_addr_as_kernel", r->same_addr_as_kernel);
	JU("left_live", r->leftover_unmapped);
	fprintf(f, "  \"correct\": %s,\n  \"capacity_ok\": %s\n },\n",
		failed(r) ? "false" : "true", r->maps_nospace ? "false" : "true");
}

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

struct run {
	struct opts o;
	struct trace t;
	struct load load;
	struct replay rp;
	struct swiotlb_stats st;
	struct sizing sz;
	bool checked, sized;
	double check_secs;
};

static int run_check(struct run *R)
{
	struct replay *rp = &R->rp;
	double t0 = now_s();
	int ret = 0;

	rp->o = R->o;
	rp->t = &R->t;
	if (setup(rp)) {
		teardown(rp);
		return -1;
	}
	replay_events(rp);
	swiotlb_mem_stats(rp->mem, &R->st);
	if (teardown(rp)) {
		fprintf(stderr, "%s: teardown failed (live mappings left?)\n", prog);
		ret = -1;
	}
	R->checked = true;
	R->check_secs = now_s() - t0;
	return ret;
}

static void print_header(FILE *f, const struct run *R)
{
	const struct trace *t = &R->t;

	fprintf(f, "swiotlb-replay: %s\n", R->o.trace);
	fprintf(f, "  strict_cursor placement = %s\n", KERNEL_PLACEMENT);
	fprintf(f, "  trace: %zu events: %" PRIu64 " maps, %" PRIu64 " unmaps, %" PRIu64
		" sync_cpu, %" PRIu64 " sync_dev; %u device(s), CPUs 0..%d, largest map %"
		PRIu64 " bytes\n", t->n, t->counts[OP_MAP], t->counts[OP_UNMAP],
		t->counts[OP_SYNC_CPU], t->counts[OP_SYNC_DEV], t->ndevs, t->max_cpu,
		t->max_size);
	fprintf(f, "  peak live (placement-independent): %" PRIu64 " mappings, %" PRIu64
		" slots (%" PRIu64 " KiB), %" PRIu64 " bytes\n", R->load.peak_live,
		R->load.peak_slots, R->load.peak_slots * SWIOTLB_SLOT_SIZE >> 10,
		R->load.peak_bytes);
}

static void print_text(const struct run *R)
{
	print_header(stdout, R);
	if (R->checked)
		print_check(stdout, &R->rp, &R->st, R->check_secs);
	if (R->sized)
		sizing_print(stdout, &R->o, &R->sz);
}

static int print_json(const struct run *R, int status)
{
	const struct trace *t = &R->t;
	bool to_stdout = !strcmp(R->o.json, "-");
	FILE *f = to_stdout ? stdout : fopen(R->o.json, "w");

	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prog, R->o.json, strerror(errno));
		return -1;
	}
	fputs("{\n \"trace\": ", f);
	json_str(f, R->o.trace);
	fprintf(f, ",\n \"strict_cursor_placement\": \"%s\",\n", KERNEL_PLACEMENT);
	fprintf(f, " \"events\": %zu,\n \"maps\": %" PRIu64 ",\n \"devices\": %u,\n"
		" \"largest_map\": %" PRIu64 ",\n \"peak_live_mappings\": %" PRIu64 ",\n"
		" \"peak_live_slots\": %" PRIu64 ",\n \"peak_live_bytes\": %" PRIu64 ",\n",
		t->n, t->counts[OP_MAP], t->ndevs, t->max_size, R->load.peak_live,
		R->load.peak_slots, R->load.peak_bytes);
	if (R->checked)
		json_check(f, &R->rp, &R->st);
	if (R->sized)
		sizing_json(f, &R->sz);
	fprintf(f, " \"exit_status\": %d\n}\n", status);
	if (to_stdout)
		return fflush(f) ? -1 : 0;
	return fclose(f) ? -1 : 0;
}

/* Only swiotlb_bounced rows: sizes per device, no lifetimes. */
static int histogram_only(const struct run *R)
{
	if (R->o.json && !strcmp(R->o.json, "-")) {
		histogram_json(stdout, &R->t);
	} else {
		if (R->o.json) {
			FILE *f = fopen(R->o.json, "w");

			if (!f || (histogram_json(f, &R->t), fclose(f)))
				fprintf(stderr, "%s: %s: cannot write\n", prog, R->o.json);
		}
		histogram_print(stdout, &R->t);
	}
	return EXIT_NO_LIFETIMES;
}

static int load(struct run *R)
{
	struct trace *t = &R->t;

	if (trace_load(R->o.trace, R->o.limit, t))
		return EXIT_USAGE;
	if (t->bad_rows) {
		fprintf(stderr, "%s: %s: %" PRIu64 " malformed rows (see above); nothing replayed"
			"\n", prog, R->o.trace, t->bad_rows);
		return EXIT_USAGE;
	}
	if (!t->n) {
		fprintf(stderr, "%s: %s: no events\n", prog, R->o.trace);
		return EXIT_USAGE;
	}
	if (!R->o.areas_given && t->nused && !(t->nused & (t->nused - 1)))
		R->o.areas = (unsigned)t->nused;
	trace_load_peaks(t, R->o.min_align, &R->load);
	return EXIT_OK;
}

static int finish(struct run *R)
{
	const struct results *r = &R->rp.r;
	int ret = EXIT_OK;

	if (R->checked && failed(r))
		ret = EXIT_CHECK_FAILED;
	else if (R->checked && r->maps_nospace)
		ret = EXIT_SHORTFALL;
	if (R->o.json && print_json(R, ret))
		ret = EXIT_CHECK_FAILED;
	if (R->o.json && !strcmp(R->o.json, "-"))
		return ret;
	if (!R->o.quiet)
		print_text(R);
	printf("RESULT: %s (%zu events, %" PRIu64 " maps, peak %" PRIu64 " live / %" PRIu64
	       " slots)\n", ret == EXIT_OK ? "OK" : ret == EXIT_SHORTFALL ?
	       "CAPACITY SHORTFALL (--pool-size too small)" : "FAILED",
	       R->t.n, R->t.counts[OP_MAP], R->load.peak_live, R->load.peak_slots);
	return ret;
}

int main(int argc, char **argv)
{
	static struct run R;
	int ret;

	parse_opts(argc, argv, &R.o);
	if (R.o.skip_missing && access(R.o.trace, F_OK) && errno == ENOENT) {
		printf("%s: SKIPPED: %s not found\n", prog, R.o.trace);
		return EXIT_SKIPPED;
	}
	ret = load(&R);
	if (ret)
		goto out;
	if (!R.t.counts[OP_MAP] && !R.t.counts[OP_MAP_FAILED] && R.t.counts[OP_BOUNCED]) {
		ret = histogram_only(&R);
		goto out;
	}
	if (!R.o.no_check && run_check(&R)) {
		ret = EXIT_CHECK_FAILED;
		goto out;
	}
	if (!R.o.no_sizing) {
		if (sizing_run(&R.o, &R.t, &R.sz)) {
			ret = EXIT_CHECK_FAILED;
			goto out;
		}
		R.sized = true;
	}
	ret = finish(&R);
out:
	trace_free(&R.t);
	return ret;
}
