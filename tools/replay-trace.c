/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swiotlb-replay: reading a trace (CSV, optionally gzip'ed; see
 * shared/traces/README.md for the columns) into memory, CPU pinning and
 * the kernel's slot arithmetic.
 */
#include "replay.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Input: lines, decompressed by gzip in a child process                */
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
		if (!in->f)
			fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
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
	for (int c = C_CPU; c <= C_SIZE; c++)
		if (c != C_TLB && h->col[c] < 0) {
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

	if (!*s || *s == '-')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && !*end;
}

static int parse_op(const char *s, enum op *op)
{
	static const char *const names[] = { "map", "unmap", "sync_cpu", "sync_dev",
					     "map_failed", "bounced" };

	for (int i = 0; i <= OP_BOUNCED; i++)
		if (!strcmp(s, names[i])) {
			*op = (enum op)i;
			return 0;
		}
	return -1;
}

/* Index of device id s in the trace's table (added when new), or -1. */
static int dev_index(struct trace *t, const char *s)
{
	for (unsigned i = 0; i < t->ndevs; i++)
		if (!strcmp(t->devs[i], s))
			return (int)i;
	if (t->ndevs == MAX_DEVS || !(t->devs[t->ndevs] = strdup(s)))
		return -1;
	return (int)t->ndevs++;
}

/* The fields only map, unmap and sync rows have. */
static int parse_dma_fields(const struct header *h, char **f, int n, struct event *e)
{
	uint64_t v;

#define FLD(c) field(h, f, n, h->col[c])
	if (e->op != OP_MAP_FAILED && !num(FLD(C_TLB), &e->tlb))
		return -1;
	if (!num(FLD(C_DIR), &v) || v > 2)
		return -1;
	e->dir = (int)v;
	e->align_mask = num(FLD(C_ALIGN), &v) ? v : 0;
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

/* Parse one data row into *e; -1 on a malformed row. */
static int parse_row(struct trace *t, const struct header *h, char *line, struct event *e)
{
	char *f[MAX_FIELDS];
	int n = split(line, f, MAX_FIELDS), d;
	uint64_t v;

#define FLD(c) field(h, f, n, h->col[c])
	if (parse_op(FLD(C_OP), &e->op))
		return -1;
	if (!num(FLD(C_CPU), &v) || v > 4096)
		return -1;
	e->cpu = (int)v;
	if (!*FLD(C_DEV) || (d = dev_index(t, FLD(C_DEV))) < 0)
		return -1;
	e->dev = (uint16_t)d;
	if (!num(FLD(C_ORIG), &e->orig) || !num(FLD(C_SIZE), &e->size) || !e->size)
		return -1;
	e->seq = num(FLD(C_SEQ), &v) ? v : e->line;
#undef FLD
	return e->op == OP_BOUNCED ? 0 : parse_dma_fields(h, f, n, e);
}

static int trace_push(struct trace *t, const struct event *e)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4096;
		struct event *n = realloc(t->ev, cap * sizeof(*n));

		if (!n)
			return -1;
		t->ev = n;
		t->cap = cap;
	}
	t->ev[t->n++] = *e;
	t->counts[e->op]++;
	if ((e->op == OP_MAP || e->op == OP_BOUNCED) && e->size > t->max_size)
		t->max_size = e->size;
	if (e->cpu > t->max_cpu)
		t->max_cpu = e->cpu;
	return 0;
}

static int load_rows(struct input *in, const struct header *h, uint64_t limit,
		     struct trace *t)
{
	uint64_t lineno = 1;
	char *line;

	while ((!limit || t->n < limit) && (line = input_line(in))) {
		struct event e = { .line = ++lineno };

		if (!*line)
			continue;
		if (parse_row(t, h, line, &e)) {
			if (t->bad_rows++ < 5)
				fprintf(stderr, "%s: line %" PRIu64 ": malformed row\n", prog,
					lineno);
			continue;
		}
		if (trace_push(t, &e)) {
			fprintf(stderr, "%s: out of memory for the trace\n", prog);
			return -1;
		}
	}
	return 0;
}

int trace_load(const char *path, uint64_t limit, struct trace *t)
{
	struct input in;
	struct header h;
	char *line;
	int ret;

	memset(t, 0, sizeof(*t));
	if (input_open(&in, path)) {
		fprintf(stderr, "%s: cannot open %s\n", prog, path);
		return -1;
	}
	line = input_line(&in);
	if (!line || parse_header(line, &h)) {
		fprintf(stderr, "%s: %s: no valid CSV header (expected the columns of "
			"swiotlb-trace-convert's output)\n", prog, path);
		input_close(&in);
		return -1;
	}
	t->nused = h.nused;
	ret = load_rows(&in, &h, limit, t);
	if (input_close(&in) && !limit && !ret) {
		fprintf(stderr, "%s: %s: decompression failed\n", prog, path);
		ret = -1;
	}
	return ret;
}

void trace_free(struct trace *t)
{
	for (unsigned i = 0; i < t->ndevs; i++)
		free(t->devs[i]);
	free(t->ev);
	memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------------------ */
/* CPU pinning                                                         */
/* ------------------------------------------------------------------ */

/* The CPUs the process may use, as at the first call (later calls must
 * not see the single CPU an earlier replay pinned the thread to). */
void cpus_init(struct cpus *c, int want)
{
	static cpu_set_t set;
	static int got = -1;

	if (got < 0)
		got = sched_getaffinity(0, sizeof(set), &set) == 0;
	c->n = 0;
	c->pinned = -1;
	if (got)
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				c->id[c->n++] = i;
	c->pin = want < 0 ? c->n >= 2 : want && c->n >= 1;
}

/* Move the calling thread to the trace's CPU (mod the usable CPUs). */
void cpus_pin(struct cpus *c, int trace_cpu)
{
	int idx;
	cpu_set_t set;

	if (!c->pin)
		return;
	idx = trace_cpu % c->n;
	if (idx == c->pinned)
		return;
	CPU_ZERO(&set);
	CPU_SET(c->id[idx], &set);
	if (sched_setaffinity(0, sizeof(set), &set) == 0)
		c->pinned = idx;
}

/* ------------------------------------------------------------------ */
/* Slot arithmetic and the trace's own load                            */
/* ------------------------------------------------------------------ */

/* Slots of a map per the kernel's rules: the data offset under
 * min_align_mask (limited to the slot and alloc_align_mask) is part of
 * the allocation; padding slots precede the data. */
unsigned map_slots(uint32_t min_align, uint64_t orig, uint64_t size, uint64_t align_mask,
		   unsigned *pad)
{
	uint64_t off = orig & min_align & (align_mask | (SWIOTLB_SLOT_SIZE - 1));
	uint64_t alloc = (size + off + align_mask) & ~align_mask;

	*pad = (unsigned)(off >> SWIOTLB_SLOT_SHIFT);
	return (unsigned)((alloc + SWIOTLB_SLOT_SIZE - 1) >> SWIOTLB_SLOT_SHIFT);
}

struct peak_live {
	uint16_t dev;
	uint64_t tlb, size;
	unsigned slots;
};

/* Peaks of live mappings, slots and bytes over the trace (independent of
 * where anything is placed). */
void trace_load_peaks(const struct trace *t, uint32_t min_align, struct load *l)
{
	struct peak_live *live = NULL;
	size_t n = 0, cap = 0;
	uint64_t slots = 0, bytes = 0;
	unsigned pad;

	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < t->n; i++) {
		const struct event *e = &t->ev[i];

		if (e->op == OP_MAP) {
			if (n == cap) {
				size_t c = cap ? cap * 2 : 256;
				struct peak_live *p = realloc(live, c * sizeof(*p));

				if (!p)
					break;
				live = p;
				cap = c;
			}
			live[n] = (struct peak_live){ e->dev, e->tlb, e->size,
						      map_slots(min_align, e->orig, e->size,
								e->align_mask, &pad) };
			slots += live[n].slots;
			bytes += e->size;
			n++;
			l->peak_live = n > l->peak_live ? n : l->peak_live;
			l->peak_slots = slots > l->peak_slots ? slots : l->peak_slots;
			l->peak_bytes = bytes > l->peak_bytes ? bytes : l->peak_bytes;
		} else if (e->op == OP_UNMAP) {
			for (size_t j = n; j-- > 0;)
				if (live[j].tlb == e->tlb && live[j].dev == e->dev) {
					slots -= live[j].slots;
					bytes -= live[j].size;
					live[j] = live[--n];
					break;
				}
		}
	}
	free(live);
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* Write s as a JSON string (quotes, backslashes and controls escaped). */
void json_str(FILE *f, const char *s)
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

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
