/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swiotlb-replay: replay a kernel swiotlb trace (CSV, optionally gzip'ed;
 * see shared/traces/README.md for the columns) through libswiotlb and check
 * the library against it.
 *
 * One device (min_align_mask 0xfff, force_bounce) on a static pool
 * (default 64 MiB, 2 areas), like the traced NVMe controller.  For every
 * map the replayer builds an original buffer with the same low 12 address
 * bits as the trace's orig_addr, fills it with a pattern and maps it with
 * the trace's direction and attributes; the map event runs pinned to the
 * trace's CPU so the library picks the same area as the kernel did.
 *
 * Checks (any failure makes the exit status 1):
 *   - every map succeeds and keeps the low 12 bits of orig_addr;
 *   - the bounce buffer holds the original's bytes after map;
 *   - unmap copies the "device" data back (FROM_DEVICE, BIDIRECTIONAL) or
 *     leaves the original untouched (TO_DEVICE); guards stay intact;
 *   - standalone syncs copy exactly their sub-range;
 *   - the library's used_slots equals the replayer's own tally;
 *   - when pinned, the slots in use in the trace CPU's area before each map
 *     equal the kernel's own count for that area (areaN_used).
 * Reported for information: the kernel's area0_used + area1_used against
 * our total (the kernel reads the other CPU's area counter without its
 * lock, so the trace itself is off there for ~4% of the maps), and how many
 * bounce addresses equal the kernel's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "swiotlb.h"

static const char *prog = "swiotlb-replay";

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

struct opts {
	const char *trace;
	size_t pool_size;
	unsigned areas;
	uint64_t limit;        /* events; 0 = all */
	bool quiet;
	int pin;               /* -1 auto, 0 off, 1 on */
	const char *json;
	uint64_t pool_base;    /* device address given to the pool */
	uint32_t min_align;
	bool hot_cursor;       /* library default cursor (hot reuse) */
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [options] TRACE.csv[.gz]\n"
"Replay a kernel swiotlb trace through libswiotlb and verify every byte.\n"
"Exit 0 = all checks passed, 1 = a check failed, 2 = usage or input error.\n"
"\n"
"      --pool-size B   static pool size (default 64M; K/M/G suffixes)\n"
"      --areas N       areas of the pool (default 2, a power of two)\n"
"      --limit N       replay only the first N events\n"
"      --pin / --no-pin  run each map on the trace's CPU (row cpu %% online\n"
"                      CPUs); default on when 2+ CPUs are usable\n"
"      --pool-base A   device address of the pool (default 0x7bddd000, the\n"
"                      traced kernel's pool start, so that bounce addresses\n"
"                      can be compared with the kernel's)\n"
"      --min-align M   device min_align_mask (default 0xfff)\n"
"      --hot-cursor    use the library's default cursor rule (hot slot reuse)\n"
"                      instead of the kernel's forward-only cursor\n"
"      --json FILE     write a JSON summary to FILE\n"
"  -q, --quiet         print only the result line\n"
"  -h, --help          this text\n", prog);
}

__attribute__((format(printf, 1, 2)))
static _Noreturn void bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	usage(stderr);
	exit(2);
}

/* Unsigned number (0x.. allowed), optional K/M/G suffix; exits 2 on junk. */
static uint64_t parse_num(const char *opt, const char *s, bool suffix)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	if (*s == '-' || *s == '\0')
		bad_usage("%s: invalid number '%s'", opt, s);
	v = strtoull(s, &end, 0);
	if (errno)
		bad_usage("%s: invalid number '%s'", opt, s);
	if (suffix && *end) {
		switch (*end++) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: bad_usage("%s: invalid size '%s'", opt, s);
		}
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
		if (v > (UINT64_MAX >> shift))
			bad_usage("%s: too large '%s'", opt, s);
	}
	if (*end)
		bad_usage("%s: invalid number '%s'", opt, s);
	return (uint64_t)v << shift;
}

enum { OPT_POOL = 256, OPT_AREAS, OPT_LIMIT, OPT_PIN, OPT_NOPIN, OPT_JSON,
       OPT_BASE, OPT_MINALIGN, OPT_HOT };

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "pool-size", required_argument, NULL, OPT_POOL },
		{ "areas", required_argument, NULL, OPT_AREAS },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "pin", no_argument, NULL, OPT_PIN },
		{ "no-pin", no_argument, NULL, OPT_NOPIN },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "pool-base", required_argument, NULL, OPT_BASE },
		{ "min-align", required_argument, NULL, OPT_MINALIGN },
		{ "hot-cursor", no_argument, NULL, OPT_HOT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .pool_size = 64u << 20, .areas = 2, .pin = -1,
			    .pool_base = 0x7bddd000, .min_align = 0xfff };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_POOL: o->pool_size = parse_num("--pool-size", optarg, true); break;
		case OPT_AREAS: {
			uint64_t v = parse_num("--areas", optarg, false);

			if (!v || (v & (v - 1)) || v > 1024)
				bad_usage("--areas: a power of two up to 1024, got '%s'", optarg);
			o->areas = (unsigned)v;
			break;
		}
		case OPT_LIMIT: o->limit = parse_num("--limit", optarg, false); break;
		case OPT_PIN: o->pin = 1; break;
		case OPT_NOPIN: o->pin = 0; break;
		case OPT_JSON: o->json = optarg; break;
		case OPT_BASE: o->pool_base = parse_num("--pool-base", optarg, false); break;
		case OPT_MINALIGN: {
			uint64_t v = parse_num("--min-align", optarg, false);

			if (v > 0xffff || (v & (v + 1)))
				bad_usage("--min-align: 2^n-1 up to 0xffff, got '%s'", optarg);
			o->min_align = (uint32_t)v;
			break;
		}
		case OPT_HOT: o->hot_cursor = true; break;
		case 'q': o->quiet = true; break;
		case 'h': usage(stdout); exit(0);
		case ':': bad_usage("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				bad_usage("unknown option '-%c'", optopt);
			bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		bad_usage(optind >= argc ? "no trace file given" : "more than one trace file given");
	o->trace = argv[optind];
	if (o->pool_size < (size_t)o->areas * SWIOTLB_SEGMENT_SIZE ||
	    o->pool_size % SWIOTLB_SLOT_SIZE)
		bad_usage("--pool-size: a multiple of %u, at least one segment per area",
			  SWIOTLB_SLOT_SIZE);
	if (o->pool_base & 4095)
		bad_usage("--pool-base: must be page aligned");
}

/* ------------------------------------------------------------------ */
/* Trace input: CSV lines, decompressed by gzip in a child process      */
/* ------------------------------------------------------------------ */

struct input {
	FILE *f;
	pid_t child;          /* gzip, or 0 */
	char *line;
	size_t cap;
};

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

/* Open the trace; *.gz goes through "gzip -dc" (no shell involved). */
static int input_open(struct input *in, const char *path)
{
	int fd[2];

	memset(in, 0, sizeof(*in));
	if (access(path, R_OK)) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	if (!ends_with(path, ".gz")) {
		in->f = fopen(path, "r");
		return in->f ? 0 : -1;
	}
	if (pipe(fd))
		return -1;
	in->child = fork();
	if (in->child < 0)
		return -1;
	if (in->child == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execlp("gzip", "gzip", "-dc", "--", path, (char *)NULL);
		perror("gzip");
		_exit(127);
	}
	close(fd[1]);
	in->f = fdopen(fd[0], "r");
	return in->f ? 0 : -1;
}

/* Next line without its newline, or NULL at the end. */
static char *input_line(struct input *in)
{
	ssize_t n = getline(&in->line, &in->cap, in->f);

	if (n < 0)
		return NULL;
	while (n > 0 && (in->line[n - 1] == '\n' || in->line[n - 1] == '\r'))
		in->line[--n] = '\0';
	return in->line;
}

/* Close; returns 0 when gzip (if any) succeeded. */
static int input_close(struct input *in)
{
	int st = 0;

	fclose(in->f);
	free(in->line);
	if (in->child > 0) {
		if (waitpid(in->child, &st, 0) < 0)
			return -1;
		return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* CSV rows                                                            */
/* ------------------------------------------------------------------ */

#define MAX_FIELDS 64
#define MAX_AREAS 8

enum col { C_CPU, C_OP, C_DEV, C_ORIG, C_TLB, C_SIZE, C_ALIGN, C_DIR, C_SEQ,
	   C_ATTRS, C_INUNMAP, C_COMM, NCOLS };
static const char *const col_names[NCOLS] = {
	"cpu", "op", "dev_id", "orig_addr", "tlb_addr", "mapping_size",
	"alloc_align_mask", "dir", "seq", "attrs", "in_unmap", "comm",
};

struct header {
	int col[NCOLS];            /* field index or -1 */
	int used_col[MAX_AREAS];   /* areaN_used field index or -1 */
	int nused;                 /* areas with a used column */
	int nfields;
};

enum op { OP_MAP, OP_UNMAP, OP_SYNC_CPU, OP_SYNC_DEV };

struct event {
	uint64_t line;
	int cpu;
	enum op op;
	char dev[40];
	uint64_t orig, tlb, size, align_mask, seq;
	int dir;
	unsigned attrs;
	bool in_unmap;
	bool has_used;
	int64_t used[MAX_AREAS];
};

/* Split a line at commas in place; returns the number of fields. */
static int split(char *s, char **f, int max)
{
	int n = 0;

	f[n++] = s;
	for (; *s && n < max; s++) {
		if (*s == ',') {
			*s = '\0';
			f[n++] = s + 1;
		}
	}
	return n;
}

static int parse_header(char *line, struct header *h)
{
	char *f[MAX_FIELDS];
	int n = split(line, f, MAX_FIELDS);

	for (int c = 0; c < NCOLS; c++)
		h->col[c] = -1;
	h->nused = 0;
	for (int a = 0; a < MAX_AREAS; a++)
		h->used_col[a] = -1;
	for (int i = 0; i < n; i++) {
		unsigned a;
		char rest[8];

		for (int c = 0; c < NCOLS; c++)
			if (!strcmp(f[i], col_names[c]))
				h->col[c] = i;
		if (sscanf(f[i], "area%u_use%7s", &a, rest) == 2 && !strcmp(rest, "d") &&
		    a < MAX_AREAS)
			h->used_col[a] = i;
	}
	while (h->nused < MAX_AREAS && h->used_col[h->nused] >= 0)
		h->nused++;
	h->nfields = n;
	for (int c = C_CPU; c <= C_DIR; c++)
		if (c != C_ALIGN && h->col[c] < 0) {
			fprintf(stderr, "%s: trace header lacks column '%s'\n", prog, col_names[c]);
			return -1;
		}
	return 0;
}

/* Field i of a row; a comm containing commas shifts the later fields. */
static const char *field(const struct header *h, char **f, int n, int i)
{
	if (i < 0)
		return "";
	if (n > h->nfields && h->col[C_COMM] >= 0 && i > h->col[C_COMM])
		i += n - h->nfields;
	return i < n ? f[i] : "";
}

static bool num(const char *s, uint64_t *v)
{
	char *end;

	if (!*s)
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && !*end;
}

static int parse_op(const char *s, enum op *op)
{
	static const char *const names[] = { "map", "unmap", "sync_cpu", "sync_dev" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*op = (enum op)i;
			return 0;
		}
	return -1;
}

/* Parse one data row into *e; -1 on a malformed row. */
static int parse_row(const struct header *h, char *line, struct event *e)
{
	char *f[MAX_FIELDS];
	int n = split(line, f, MAX_FIELDS);
	uint64_t v;

#define FLD(c) field(h, f, n, h->col[c])
	if (parse_op(FLD(C_OP), &e->op))
		return -1;
	if (!num(FLD(C_CPU), &v) || v > 4096)
		return -1;
	e->cpu = (int)v;
	snprintf(e->dev, sizeof(e->dev), "%s", FLD(C_DEV));
	if (!num(FLD(C_ORIG), &e->orig) || !num(FLD(C_TLB), &e->tlb) ||
	    !num(FLD(C_SIZE), &e->size) || !num(FLD(C_DIR), &v) || v > 2)
		return -1;
	e->dir = (int)v;
	e->align_mask = num(FLD(C_ALIGN), &v) ? v : 0;
	e->seq = num(FLD(C_SEQ), &v) ? v : e->line;
	e->attrs = num(FLD(C_ATTRS), &v) ? (unsigned)v : 0;
	e->in_unmap = num(FLD(C_INUNMAP), &v) && v;
	e->has_used = h->nused > 0;
	for (int a = 0; a < h->nused; a++) {
		if (!num(field(h, f, n, h->used_col[a]), &v))
			e->has_used = false;
		else
			e->used[a] = (int64_t)v;
	}
#undef FLD
	return 0;
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
	uint64_t other_dev_events, bad_rows, ignored_attr_bits;
	uint64_t offset_errors, data_errors, guard_errors;
	uint64_t own_checked, own_mismatch, total_checked, total_mismatch;
	uint64_t lib_used_mismatch, same_addr_as_kernel, in_trace_area;
	uint64_t peak_live, peak_slots, peak_bytes, peak_lib_mappings;
	uint64_t leftover_unmapped;
	uint64_t first_diff_line, first_diff_kernel, first_diff_ours; /* pool offsets */
	int64_t first_own_mismatch_line, first_lib_mismatch_line;
};

struct replay {
	struct opts o;
	struct rec_provider prov;
	struct swiotlb_mem *mem;
	struct swiotlb_dev *dev;
	uint64_t pool_addr;       /* our pool's device address */
	uint64_t area_bytes;
	int ncpus;                /* usable CPUs, for pinning */
	int cpus[CPU_SETSIZE];
	int pinned_to;            /* index into cpus, or -1 */
	bool pin;
	char dev_id[40];
	int trace_areas;          /* areaN_used columns in the trace */
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

/* Pattern bytes: original data and device data differ by seed. */
static inline uint8_t pat(uint64_t seed, uint64_t i)
{
	return (uint8_t)((seed * 0x9E3779B1u >> 7) + i * 131u + (i >> 9) * 7u);
}

static void fill(uint8_t *p, uint64_t n, uint64_t seed)
{
	for (uint64_t i = 0; i < n; i++)
		p[i] = pat(seed, i);
}

static bool check_pat(const uint8_t *p, uint64_t n, uint64_t seed)
{
	for (uint64_t i = 0; i < n; i++)
		if (p[i] != pat(seed, i))
			return false;
	return true;
}

static uint64_t hash(const uint8_t *p, uint64_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint64_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static bool guards_ok(const struct live *l)
{
	for (unsigned i = 0; i < GUARD; i++)
		if (l->buf[-1 - (int)i] != GUARD_BYTE || l->buf[l->size + i] != GUARD_BYTE)
			return false;
	return true;
}

#define DEV_SEED(seq) ((seq) ^ 0xd1b54a32d192ed03ull)

/* ------------------------------------------------------------------ */
/* CPU pinning                                                         */
/* ------------------------------------------------------------------ */

static void init_cpus(struct replay *rp)
{
	cpu_set_t set;

	rp->ncpus = 0;
	rp->pinned_to = -1;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				rp->cpus[rp->ncpus++] = c;
	rp->pin = rp->o.pin < 0 ? rp->ncpus >= 2 : rp->o.pin && rp->ncpus >= 1;
}

/* Move the replaying thread to the trace's CPU (mod the usable CPUs). */
static void pin_to(struct replay *rp, int trace_cpu)
{
	int idx = trace_cpu % rp->ncpus;
	cpu_set_t set;

	if (!rp->pin || idx == rp->pinned_to)
		return;
	CPU_ZERO(&set);
	CPU_SET(rp->cpus[idx], &set);
	if (sched_setaffinity(0, sizeof(set), &set) == 0)
		rp->pinned_to = idx;
}

/* ------------------------------------------------------------------ */
/* Slot accounting: what the library must use for a mapping             */
/* ------------------------------------------------------------------ */

/* Slots of a map per the kernel's rules: the data offset under
 * min_align_mask (limited to the slot and alloc_align_mask) is part of
 * the allocation; padding slots precede the data. */
static unsigned map_slots(const struct replay *rp, uint64_t orig, uint64_t size,
			  uint64_t align_mask, unsigned *pad)
{
	uint64_t off = orig & rp->o.min_align & (align_mask | (SWIOTLB_SLOT_SIZE - 1));
	uint64_t alloc = (size + off + align_mask) & ~align_mask;

	*pad = (unsigned)(off >> SWIOTLB_SLOT_SHIFT);
	return (unsigned)((alloc + SWIOTLB_SLOT_SIZE - 1) >> SWIOTLB_SLOT_SHIFT);
}

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
	/* Per-area counts are comparable only with the kernel's area layout
	 * and with the map running on the trace's CPU. */
	if (rp->pin && (int)rp->o.areas == rp->trace_areas) {
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
static ssize_t find_exact(const struct replay *rp, uint64_t tlb)
{
	for (size_t i = 0; i < rp->nlive; i++)
		if (rp->live[i].ktlb == tlb)
			return (ssize_t)i;
	return -1;
}

/* Index of the live mapping whose kernel range holds [tlb, tlb+len). */
static ssize_t find_range(const struct replay *rp, uint64_t tlb, uint64_t len)
{
	for (size_t i = 0; i < rp->nlive; i++) {
		const struct live *l = &rp->live[i];

		if (tlb >= l->ktlb && tlb - l->ktlb <= l->size && len <= l->size - (tlb - l->ktlb))
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
	const uint8_t *b = swiotlb_addr_to_cpu(rp->dev, l->addr);
	unsigned pad;
	uint64_t slot;

	l->nslots = map_slots(rp, e->orig, e->size, e->align_mask, &pad);
	if ((l->addr & m) != (e->orig & m))
		failf(rp, &rp->r.offset_errors, e, "bounce 0x%" PRIx64 " lost the low bits of"
		      " orig 0x%" PRIx64, l->addr, e->orig);
	if (!b || !swiotlb_addr_to_cpu(rp->dev, l->addr + l->size - 1) ||
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
		failf(rp, &rp->r.offset_errors, e, "bounce 0x%" PRIx64 " outside the pool", l->addr);
		return -1;
	}
	l->area = (unsigned)(slot / area_slots);
	rp->r.in_trace_area += l->area == ((unsigned)e->cpu & (rp->o.areas - 1));
	return 0;
}

static void do_map(struct replay *rp, const struct event *e)
{
	unsigned attrs = e->attrs & SWIOTLB_ATTR_NO_WARN;
	uint64_t page_off = e->orig & (PAGE - 1);
	struct live l = { .ktlb = e->tlb, .korig = e->orig, .size = e->size, .dir = e->dir };
	struct swiotlb_stats st;
	int err;

	rp->r.ignored_attr_bits += (e->attrs & ~attrs) != 0;
	check_used(rp, e);
	pin_to(rp, e->cpu);
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
	fill(l.buf, l.size, e->seq);
	if (e->align_mask)
		err = swiotlb_map_align(rp->dev, l.buf, l.size, (enum swiotlb_dir)l.dir, attrs,
					e->align_mask, &l.addr);
	else
		err = swiotlb_map(rp->dev, l.buf, l.size, (enum swiotlb_dir)l.dir, attrs, &l.addr);
	if (err) {
		failf(rp, &rp->r.maps_failed, e, "map of %" PRIu64 " bytes dir %d: %s",
		      e->size, e->dir, swiotlb_strerror(err));
		chunk_put(&rp->chunks, l.chunk, l.chunk_len);
		return;
	}
	rp->r.maps++;
	if (check_map(rp, e, &l) || live_add(rp, &l)) {
		swiotlb_unmap(rp->dev, l.addr, l.size, (enum swiotlb_dir)l.dir, 0);
		chunk_put(&rp->chunks, l.chunk, l.chunk_len);
		return;
	}
	if (swiotlb_mem_stats(rp->mem, &st) == 0 && st.mappings > rp->r.peak_lib_mappings)
		rp->r.peak_lib_mappings = st.mappings;
}

static void do_unmap(struct replay *rp, const struct event *e)
{
	ssize_t i = find_exact(rp, e->tlb);
	struct live *l;
	unsigned attrs = e->attrs & SWIOTLB_ATTR_SKIP_CPU_SYNC;
	bool copy_back;
	uint64_t before = 0;
	int err;

	if (i < 0) {
		rp->r.unmatched++;
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
		uint8_t *b = swiotlb_addr_to_cpu(rp->dev, l->addr);

		if (b)
			fill(b, l->size, DEV_SEED(e->seq)); /* the device's DMA */
	}
	if (!copy_back)
		before = hash(l->buf, l->size);
	err = swiotlb_unmap(rp->dev, l->addr, l->size, (enum swiotlb_dir)l->dir, attrs);
	rp->r.unmaps++;
	if (err) {
		failf(rp, &rp->r.unmap_errors, e, "unmap: %s", swiotlb_strerror(err));
	} else if (copy_back ? !check_pat(l->buf, l->size, DEV_SEED(e->seq))
			     : hash(l->buf, l->size) != before) {
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
	return (struct snap){ hash(p, off), hash(p + off, len),
			      hash(p + off + len, size - off - len) };
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
	uint8_t *b = swiotlb_addr_to_cpu(rp->dev, l->addr);
	uint8_t *src = to_cpu ? b : l->buf, *dst = to_cpu ? l->buf : b;
	struct snap s0, s1;
	int err;

	if (!b) {
		failf(rp, &rp->r.sync_errors, e, "live mapping has no CPU address");
		return;
	}
	if (copies)
		fill(src + off, len, DEV_SEED(e->seq));
	s0 = take_snap(dst, l->size, off, len);
	if (to_cpu)
		err = swiotlb_sync_for_cpu(rp->dev, l->addr + off, len, (enum swiotlb_dir)e->dir);
	else
		err = swiotlb_sync_for_device(rp->dev, l->addr + off, len, (enum swiotlb_dir)e->dir);
	rp->r.syncs_done++;
	if (err) {
		failf(rp, &rp->r.sync_errors, e, "sync: %s", swiotlb_strerror(err));
		return;
	}
	s1 = take_snap(dst, l->size, off, len);
	if (s0.pre != s1.pre || s0.post != s1.post ||
	    (copies ? !check_pat(dst + off, len, DEV_SEED(e->seq)) : s0.mid != s1.mid))
		failf(rp, &rp->r.data_errors, e, "sync_%s dir %d [%" PRIu64 ", +%" PRIu64
		      ") copied wrong bytes", to_cpu ? "cpu" : "dev", e->dir, off, len);
}

static void do_sync(struct replay *rp, const struct event *e)
{
	ssize_t i = find_range(rp, e->tlb, e->size);

	if (i < 0) {
		rp->r.unmatched++;
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
	if (!rp->dev_id[0])
		snprintf(rp->dev_id, sizeof(rp->dev_id), "%s", e->dev);
	if (strcmp(rp->dev_id, e->dev)) {
		rp->r.other_dev_events++;
		return;
	}
	switch (e->op) {
	case OP_MAP: do_map(rp, e); break;
	case OP_UNMAP: do_unmap(rp, e); break;
	default: do_sync(rp, e); break;
	}
}

/* ------------------------------------------------------------------ */
/* Setup, the replay loop, teardown                                    */
/* ------------------------------------------------------------------ */

static int setup(struct replay *rp)
{
	/* Place like the kernel (forward-only cursor) unless --hot-cursor. */
	struct swiotlb_mem_config mc = { .size = rp->o.pool_size, .nareas = rp->o.areas,
					 .strict_cursor = !rp->o.hot_cursor };
	struct swiotlb_dev_config dc = { .name = "nvme-replay", .force_bounce = true,
					 .min_align_mask = rp->o.min_align };

	rp->prov.p = (struct swiotlb_provider){ .version = SWIOTLB_PROVIDER_VERSION, .name = "replay", .ctx = &rp->prov,
						.alloc = rec_alloc, .free = rec_free };
	pthread_mutex_init(&rp->prov.lock, NULL);
	rp->prov.next = rp->o.pool_base;
	mc.provider = &rp->prov.p;
	rp->mem = swiotlb_mem_create(&mc);
	if (!rp->mem) {
		fprintf(stderr, "%s: swiotlb_mem_create: %s\n", prog, strerror(errno));
		return -1;
	}
	rp->dev = swiotlb_dev_create(rp->mem, &dc);
	if (!rp->dev) {
		fprintf(stderr, "%s: swiotlb_dev_create: %s\n", prog, strerror(errno));
		return -1;
	}
	rp->pool_addr = rp->prov.first_addr;
	rp->area_bytes = rp->o.pool_size / rp->o.areas;
	if (rp->prov.allocs != 1 || rp->prov.first_len < rp->o.pool_size)
		fprintf(stderr, "%s: warning: provider saw %u allocations (first %zu bytes)\n",
			prog, rp->prov.allocs, rp->prov.first_len);
	init_cpus(rp);
	return 0;
}

/* Read and replay every event (up to --limit).  Returns 0, or 2 for an
 * unreadable trace. */
static int replay_file(struct replay *rp)
{
	struct input in;
	struct header h;
	char *line;
	uint64_t lineno = 1;
	int ret = 0;

	if (input_open(&in, rp->o.trace)) {
		fprintf(stderr, "%s: cannot open %s\n", prog, rp->o.trace);
		return 2;
	}
	line = input_line(&in);
	if (!line || parse_header(line, &h)) {
		fprintf(stderr, "%s: %s: no valid CSV header\n", prog, rp->o.trace);
		input_close(&in);
		return 2;
	}
	rp->trace_areas = h.nused;
	while ((!rp->o.limit || rp->r.events < rp->o.limit) && (line = input_line(&in))) {
		struct event e = { .line = ++lineno };

		if (!*line)
			continue;
		if (parse_row(&h, line, &e)) {
			if (rp->r.bad_rows++ < 5)
				fprintf(stderr, "%s: line %" PRIu64 ": malformed row\n", prog, lineno);
			continue;
		}
		rp->r.events++;
		dispatch(rp, &e);
		if (!rp->o.quiet && rp->r.events % 50000 == 0)
			fprintf(stderr, "  ... %" PRIu64 " events, %zu live\n", rp->r.events, rp->nlive);
	}
	if (input_close(&in) && !rp->o.limit) {
		fprintf(stderr, "%s: %s: decompression failed\n", prog, rp->o.trace);
		ret = 2;
	}
	return ret;
}

/* Unmap what a --limit left live, then destroy device and memory. */
static int teardown(struct replay *rp)
{
	int err = 0;

	while (rp->nlive) {
		struct live *l = &rp->live[rp->nlive - 1];

		if (swiotlb_unmap(rp->dev, l->addr, l->size, (enum swiotlb_dir)l->dir, 0))
			err = -1;
		rp->r.leftover_unmapped++;
		live_del(rp, rp->nlive - 1);
	}
	if (rp->dev && swiotlb_dev_destroy(rp->dev))
		err = -1;
	if (rp->mem && swiotlb_mem_destroy(rp->mem))
		err = -1;
	for (size_t i = 0; i < rp->chunks.nfree; i++)
		free(rp->chunks.free[i]);
	free(rp->chunks.free);
	free(rp->live);
	return err;
}

/* ------------------------------------------------------------------ */
/* Report                                                              */
/* ------------------------------------------------------------------ */

static bool failed(const struct results *r)
{
	return r->maps_failed || r->unmap_errors || r->sync_errors || r->offset_errors ||
	       r->data_errors || r->guard_errors || r->own_mismatch ||
	       r->lib_used_mismatch || r->bad_rows || r->unmatched;
}

static void print_report(const struct replay *rp, const struct swiotlb_stats *st,
			 double secs)
{
	const struct results *r = &rp->r;

	printf("swiotlb-replay: %s\n", rp->o.trace);
	printf("  pool %zu MiB at 0x%" PRIx64 ", %u areas, min_align_mask 0x%x, %s cursor, %s\n",
	       rp->o.pool_size >> 20, rp->pool_addr, rp->o.areas, rp->o.min_align,
	       rp->o.hot_cursor ? "hot-reuse" : "strict (kernel)",
	       rp->pin ? "pinned to the trace's CPUs" : "not pinned");
	printf("  events %" PRIu64 ": maps %" PRIu64 " (failed %" PRIu64 "), unmaps %" PRIu64
	       ", syncs performed %" PRIu64 ", in-unmap syncs skipped %" PRIu64 "\n",
	       r->events, r->maps, r->maps_failed, r->unmaps, r->syncs_done, r->syncs_skipped);
	printf("  unmatched rows %" PRIu64 ", other-device rows %" PRIu64 ", malformed rows %"
	       PRIu64 ", maps with unsupported attr bits %" PRIu64 "\n", r->unmatched,
	       r->other_dev_events, r->bad_rows, r->ignored_attr_bits);
	printf("  peak live: %" PRIu64 " mappings, %" PRIu64 " slots, %" PRIu64
	       " bytes (traceA README: 126, 1418, 2904064)\n", r->peak_live, r->peak_slots,
	       r->peak_bytes);
	printf("  library: hiwater %" PRIu64 " slots, peak mappings %" PRIu64 ", maps %" PRIu64
	       ", failed %" PRIu64 ", bytes to/from device %" PRIu64 "/%" PRIu64 "\n",
	       st->hiwater_slots, r->peak_lib_mappings, st->maps, st->failed_maps,
	       st->bytes_to_device, st->bytes_from_device);
	printf("  offset errors %" PRIu64 ", data errors %" PRIu64 ", guard errors %" PRIu64
	       ", unmap errors %" PRIu64 ", sync errors %" PRIu64 "\n", r->offset_errors,
	       r->data_errors, r->guard_errors, r->unmap_errors, r->sync_errors);
	printf("  used slots before map, library vs replayer tally: %" PRIu64 " mismatches\n",
	       r->lib_used_mismatch);
	if (r->own_checked)
		printf("  used slots in the CPU's own area vs kernel areaN_used: %" PRIu64
		       " mismatches of %" PRIu64 "\n", r->own_mismatch, r->own_checked);
	else
		printf("  own-area used check: not run (%s)\n",
		       rp->pin ? "trace area count differs from --areas" : "not pinned");
	printf("  total used vs kernel area0_used+area1_used (informational; the kernel"
	       " reads the other area unlocked): %" PRIu64 " mismatches of %" PRIu64 "\n",
	       r->total_mismatch, r->total_checked);
	printf("  maps in the trace CPU's area %" PRIu64 "/%" PRIu64 ", same bounce address as"
	       " the kernel %" PRIu64 "/%" PRIu64 " (informational)\n", r->in_trace_area,
	       r->maps, r->same_addr_as_kernel, r->maps);
	if (r->first_diff_line)
		printf("  first map placed differently from the kernel: line %" PRIu64 " (pool offset"
		       " kernel 0x%" PRIx64 ", ours 0x%" PRIx64 ")\n", r->first_diff_line,
		       r->first_diff_kernel, r->first_diff_ours);
	if (r->leftover_unmapped)
		printf("  mappings still live at the end (--limit), unmapped: %" PRIu64 "\n",
		       r->leftover_unmapped);
	printf("  elapsed %.2f s (%.0f events/s)\n", secs, secs > 0 ? (double)r->events / secs : 0);
}

/* Write s as a JSON string (quotes, backslashes and controls escaped). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static int write_json(const struct replay *rp, const struct swiotlb_stats *st, double secs)
{
	const struct results *r = &rp->r;
	FILE *f = fopen(rp->o.json, "w");

	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prog, rp->o.json, strerror(errno));
		return -1;
	}
	fputs("{\n \"trace\": ", f);
	json_str(f, rp->o.trace);
	fprintf(f, ",\n \"pool_size\": %zu,\n \"areas\": %u,\n"
		" \"pinned\": %s,\n \"events\": %" PRIu64 ",\n \"maps\": %" PRIu64 ",\n"
		" \"maps_failed\": %" PRIu64 ",\n \"unmaps\": %" PRIu64 ",\n"
		" \"syncs_performed\": %" PRIu64 ",\n \"syncs_skipped_in_unmap\": %" PRIu64 ",\n"
		" \"unmatched_rows\": %" PRIu64 ",\n \"peak_live_mappings\": %" PRIu64 ",\n"
		" \"peak_live_slots\": %" PRIu64 ",\n \"peak_live_bytes\": %" PRIu64 ",\n"
		" \"hiwater_slots\": %" PRIu64 ",\n \"offset_errors\": %" PRIu64 ",\n"
		" \"data_errors\": %" PRIu64 ",\n \"guard_errors\": %" PRIu64 ",\n"
		" \"unmap_errors\": %" PRIu64 ",\n \"sync_errors\": %" PRIu64 ",\n"
		" \"lib_used_mismatches\": %" PRIu64 ",\n \"own_area_used_checked\": %" PRIu64 ",\n"
		" \"own_area_used_mismatches\": %" PRIu64 ",\n \"total_used_checked\": %" PRIu64 ",\n"
		" \"total_used_mismatches\": %" PRIu64 ",\n \"maps_in_trace_area\": %" PRIu64 ",\n"
		" \"same_addr_as_kernel\": %" PRIu64 ",\n \"left_live\": %" PRIu64 ",\n \"elapsed_s\": %.3f,\n \"ok\": %s\n}\n",
		rp->o.pool_size, rp->o.areas, rp->pin ? "true" : "false",
		r->events, r->maps, r->maps_failed, r->unmaps, r->syncs_done, r->syncs_skipped,
		r->unmatched, r->peak_live, r->peak_slots, r->peak_bytes, st->hiwater_slots,
		r->offset_errors, r->data_errors, r->guard_errors, r->unmap_errors,
		r->sync_errors, r->lib_used_mismatch, r->own_checked, r->own_mismatch,
		r->total_checked, r->total_mismatch, r->in_trace_area, r->same_addr_as_kernel,
		r->leftover_unmapped, secs, failed(r) ? "false" : "true");
	return fclose(f) ? -1 : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	static struct replay rp;
	struct swiotlb_stats st = { 0 };
	double t0;
	int ret;

	parse_opts(argc, argv, &rp.o);
	if (setup(&rp)) {
		teardown(&rp);
		return 1;
	}
	t0 = now_s();
	ret = replay_file(&rp);
	swiotlb_mem_stats(rp.mem, &st);
	if (teardown(&rp)) {
		fprintf(stderr, "%s: teardown failed (live mappings left?)\n", prog);
		ret = ret ? ret : 1;
	}
	if (ret == 2)
		return 2;
	if (!rp.o.quiet)
		print_report(&rp, &st, now_s() - t0);
	if (rp.o.json && write_json(&rp, &st, now_s() - t0))
		ret = 1;
	if (failed(&rp.r))
		ret = 1;
	printf("RESULT: %s (%" PRIu64 " events, %" PRIu64 " maps, peak %" PRIu64
	       " live / %" PRIu64 " slots)\n", ret ? "FAILED" : "OK", rp.r.events, rp.r.maps,
	       rp.r.peak_live, rp.r.peak_slots);
	return ret;
}
