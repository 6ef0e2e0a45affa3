// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * swiotlb-bench: measure libswiotlb side by side with its peers.
 *
 * Options follow the kernel's dma_map_benchmark (-t -s -g -d -x); see
 * --help.  Throughput is timed with clock_gettime(CLOCK_MONOTONIC) around
 * batches of 64 operations; per-call latency is sampled with the TSC on one
 * call in 16 (every call in the growth run), so timing does not dominate.
 * This file reads the options and runs the command (driver.h lists the
 * others).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "driver.h"

struct opts opts = {
	.seconds = 1.0,
	.warmup = 0.05,
	.dir = BENCH_BIDIRECTIONAL,
	.runs = 1,
	.pool_size = 64u << 20,
	.pools = 1,
	.frag_ops = 20000,
	.frag_seed = 0x5eed5eed12345ULL,
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: swiotlb-bench [options]\n"
"  -t LIST      threads (default 1); a comma list runs each (e.g. 1,2)\n"
"  -s SECONDS   measured time per run (default 1; fractions allowed)\n"
"  -g LIST      granule: pages (1 = 4 KiB) or a byte size with b/k/m suffix\n"
"               (2k, 64k, 1m); a comma list runs each (default 1 page)\n"
"  -d DIR       0 bidirectional (default), 1 to device, 2 from device\n"
"  -x NS        simulated transfer delay between map and unmap (ns)\n"
"  -r RUNS      runs per configuration; medians are reported (default 1)\n"
"  -p SIZE      pool (region) size (default 64m; growth run: 4m)\n"
"  -w SECONDS   warm-up per run, not measured (default 0.05)\n"
"  --pools N    libswiotlb memory made of N pools of SIZE/N bytes\n"
"  --dynamic    dynamic libswiotlb memory\n"
"  --strict-cursor  libswiotlb places mappings exactly like the kernel\n"
"               (forward-only cursor, no hot reuse of freed slots)\n"
"  --cross      unmap on another thread than the map: pairs of mapper and\n"
"               unmapper threads joined by a relaxed-atomics ring\n"
"  --compare    run the peers too (interleaved, same placement):\n"
"               swiotlb, memcpy, memcpy-hot, jemalloc, jemalloc-notcache,\n"
"               firstfit\n"
"  --peers LIST run only these backends (comma list of the names above)\n"
"  --lookup     address lookup benchmark (pool counts: --lookup-pools)\n"
"  --lookup-pools LIST  pool counts (default 1,64,512,4096)\n"
"  --growth     growth run: ramp the live mappings to 4x the initial pool\n"
"  --frag       fragmentation run: static pool (-p), one area, a steady load\n"
"               held at each target occupancy; every 50th op tries a\n"
"               maximum-size map.  Prints the share that succeeds per\n"
"               placement (strict cursor = the kernel's, and the default).\n"
"               Mixes: net (60%% 1514 B, 30%% 64..1514 B, 10%% 9018 B),\n"
"               nvme (4..128 KiB page multiples, page-aligned buffers,\n"
"               min_align_mask 4095), nvme-odd (the same at random 64-byte\n"
"               page offsets),\n"
"               mixed (50%% 512 B..4 KiB, 35%% 8..64 KiB, 12%% 128 KiB,\n"
"               3%% 256 KiB), trace (sizes of a kernel trace: --trace)\n"
"  --mix LIST   --frag mixes to run (default: all; trace only with --trace)\n"
"  --trace FILE kernel trace CSV (.csv or .csv.gz, the format of\n"
"               /work/shared/traces/README.md) for the trace mix\n"
"  --occupancy LIST  --frag target occupancies in percent (default\n"
"               50,60,70,80,85,90,95)\n"
"  --frag-ops N measured operations per --frag run (default 20000), after\n"
"               as many warm-up operations (or --frag-warmup N)\n"
"  --seed N     --frag random seed (both placements see the same one)\n"
"  --segment-slots N  libswiotlb segment (slots, power of two 128..4096)\n"
"  --json FILE  write all results as JSON\n"
"  -q           print only the medians\n"
"  -h, --help   this text\n");
}

/* A granule (-g): a page count ("1", or "3p"), or a byte size ("512b",
 * "2k", "1m").  0 when it is not one. */
static size_t parse_granule(const char *s)
{
	size_t len = strlen(s), mult = 1;
	char num[32];
	uint64_t v;

	if (!len || len >= sizeof(num))
		return 0;
	memcpy(num, s, len + 1);
	if (num[len - 1] == 'p' || num[len - 1] == 'P') {
		num[len - 1] = 0;
		mult = 4096;
	} else if (isdigit((unsigned char)num[len - 1])) {
		mult = 4096;
	}
	if (util_parse_size(num, &v) || v > SIZE_MAX / mult)
		return 0;
	return (size_t)v * mult;
}

/* A positive integer (or a granule for kind 0) per comma-separated entry:
 * kind 0 sizes (size_t), 1 ints, 2 unsigneds.  The count, or -1. */
static int parse_list(const char *arg, void *out, int kind)
{
	char *s = strdup(arg), *tok, *save = NULL;
	int n = 0;

	for (tok = strtok_r(s, ",", &save); tok && n < MAX_LIST;
	     tok = strtok_r(NULL, ",", &save)) {
		char *end;
		long v = kind == 0 ? 0 : strtol(tok, &end, 0);

		if (kind == 0 && !(((size_t *)out)[n] = parse_granule(tok)))
			goto bad;
		if (kind != 0 && (*end || v <= 0))
			goto bad;
		if (kind == 1)
			((int *)out)[n] = (int)v;
		else if (kind == 2)
			((unsigned *)out)[n] = (unsigned)v;
		n++;
	}
	free(s);
	return n;
bad:
	fprintf(stderr, "swiotlb-bench: bad list value '%s'\n", tok);
	free(s);
	return -1;
}

/* A number of seconds (-s, -w): at least min_s, no garbage. */
static bool parse_seconds(const char *s, double min_s, bool inclusive, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || v < min_s || (!inclusive && v == min_s))
		return false;
	*out = v;
	return true;
}

enum { O_POOLS = 256, O_DYNAMIC, O_CROSS, O_JSON, O_COMPARE, O_LOOKUP,
       O_GROWTH, O_LPOOLS, O_PEERS, O_STRICT, O_FRAG, O_MIX, O_TRACE, O_OCC,
       O_FRAG_OPS, O_SEED, O_SEGSLOTS, O_FRAG_WARM };

/* A --frag number option: an unsigned in [lo, hi]; -1 on a bad value. */
static int parse_u64_opt(const char *name, const char *arg, uint64_t lo, uint64_t hi,
			 uint64_t *out)
{
	char *end;
	uint64_t v = strtoull(arg, &end, 0);

	if (isdigit((unsigned char)*arg) && !*end && v >= lo && v <= hi) {
		*out = v;
		return 0;
	}
	fprintf(stderr, "swiotlb-bench: %s must be %" PRIu64 "..%" PRIu64 "\n", name, lo, hi);
	return -1;
}

/* --frag options; -1 on a bad value. */
static int parse_frag(int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case O_FRAG: opts.frag = true; return 0;
	case O_MIX: opts.frag_mixes = arg; return 0;
	case O_TRACE: opts.frag_trace = arg; return 0;
	case O_FRAG_OPS: return parse_u64_opt("--frag-ops", arg, 100, 100000000, &opts.frag_ops);
	case O_FRAG_WARM:
		return parse_u64_opt("--frag-warmup", arg, 0, 1000000000, &opts.frag_warmup);
	case O_SEED: return parse_u64_opt("--seed", arg, 1, UINT64_MAX, &opts.frag_seed);
	case O_SEGSLOTS:
		if (parse_u64_opt("--segment-slots", arg, 128, 4096, &v))
			return -1;
		opts.segment_slots = (unsigned)v;
		return 0;
	case O_OCC:
		opts.nfrag_pct = parse_list(arg, opts.frag_pct, 2);
		for (int i = 0; i < opts.nfrag_pct; i++)
			if (opts.frag_pct[i] > 99) {
				fprintf(stderr, "swiotlb-bench: --occupancy: percents 1..99\n");
				return -1;
			}
		return opts.nfrag_pct > 0 ? 0 : -1;
	}
	return -1;
}

/* -1 on a bad value (a message is printed). */
static int parse_short(int c, const char *arg)
{
	char *end;
	uint64_t v;

	switch (c) {
	case 't':
		return (opts.nthreads = parse_list(arg, opts.threads, 1)) > 0 ? 0 : -1;
	case 'g':
		return (opts.nsizes = parse_list(arg, opts.sizes, 0)) > 0 ? 0 : -1;
	case 's':
		if (parse_seconds(arg, 0, false, &opts.seconds))
			return 0;
		fprintf(stderr, "swiotlb-bench: bad -s\n");
		return -1;
	case 'w':
		if (parse_seconds(arg, 0, true, &opts.warmup))
			return 0;
		fprintf(stderr, "swiotlb-bench: bad -w\n");
		return -1;
	case 'd':
		opts.dir = (int)strtol(arg, &end, 0);
		if (!*end && opts.dir >= 0 && opts.dir <= 2)
			return 0;
		fprintf(stderr, "swiotlb-bench: -d must be 0, 1 or 2\n");
		return -1;
	case 'x':
		opts.delay_ns = strtoull(arg, &end, 0);
		if (isdigit((unsigned char)*arg) && !*end)
			return 0;
		fprintf(stderr, "swiotlb-bench: bad -x\n");
		return -1;
	case 'r':
		opts.runs = (int)strtol(arg, &end, 0);
		if (!*end && opts.runs >= 1 && opts.runs <= 64)
			return 0;
		fprintf(stderr, "swiotlb-bench: -r must be 1..64\n");
		return -1;
	case 'p':
		opts.pool_size_set = true;
		if (!util_parse_size(arg, &v) && v >= 2048 && v <= SIZE_MAX) {
			opts.pool_size = (size_t)v;
			return 0;
		}
		fprintf(stderr, "swiotlb-bench: bad -p\n");
		return -1;
	}
	return -1;
}

/* -1 on a bad value (a message is printed). */
static int parse_long(int c, const char *arg)
{
	char *end;

	switch (c) {
	case O_POOLS:
		opts.pools = (unsigned)strtoul(arg, &end, 0);
		if (!*end && opts.pools)
			return 0;
		fprintf(stderr, "swiotlb-bench: bad --pools\n");
		return -1;
	case O_LPOOLS:
		return (opts.nlpools = parse_list(arg, opts.lpools, 2)) > 0 ? 0 : -1;
	case O_DYNAMIC: opts.dynamic = true; return 0;
	case O_STRICT: opts.strict = true; return 0;
	case O_CROSS: opts.cross = true; return 0;
	case O_JSON: opts.json = arg; return 0;
	case O_COMPARE: opts.compare = true; return 0;
	case O_PEERS: opts.peers = arg; return 0;
	case O_LOOKUP: opts.lookup = true; return 0;
	case O_GROWTH: opts.growth = true; return 0;
	}
	return parse_frag(c, arg);
}

static void set_defaults(void)
{
	static const unsigned lpools[] = { 1, 64, 512, 4096 };

	if (!opts.nthreads) {
		opts.threads[0] = 1;
		opts.nthreads = 1;
	}
	if (!opts.nsizes) {
		opts.sizes[0] = 4096;
		opts.nsizes = 1;
	}
	if (!opts.nfrag_pct) {
		static const unsigned pct[] = { 50, 60, 70, 80, 85, 90, 95 };

		memcpy(opts.frag_pct, pct, sizeof(pct));
		opts.nfrag_pct = 7;
	}
	if (!opts.nlpools) {
		memcpy(opts.lpools, lpools, sizeof(lpools));
		opts.nlpools = 4;
	}
}

/* Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pools", required_argument, NULL, O_POOLS },
		{ "dynamic", no_argument, NULL, O_DYNAMIC },
		{ "strict-cursor", no_argument, NULL, O_STRICT },
		{ "cross", no_argument, NULL, O_CROSS },
		{ "json", required_argument, NULL, O_JSON },
		{ "compare", no_argument, NULL, O_COMPARE },
		{ "peers", required_argument, NULL, O_PEERS },
		{ "lookup", no_argument, NULL, O_LOOKUP },
		{ "lookup-pools", required_argument, NULL, O_LPOOLS },
		{ "growth", no_argument, NULL, O_GROWTH },
		{ "frag", no_argument, NULL, O_FRAG },
		{ "mix", required_argument, NULL, O_MIX },
		{ "trace", required_argument, NULL, O_TRACE },
		{ "occupancy", required_argument, NULL, O_OCC },
		{ "frag-ops", required_argument, NULL, O_FRAG_OPS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "frag-warmup", required_argument, NULL, O_FRAG_WARM },
		{ "segment-slots", required_argument, NULL, O_SEGSLOTS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "t:s:g:d:x:r:p:w:qh", lo, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == 'q') {
			opts.quiet = true;
			continue;
		}
		if (c == '?' || c == ':') {
			usage(stderr);
			return 2;
		}
		if ((c < 256 ? parse_short(c, optarg) : parse_long(c, optarg)) < 0)
			return 2;
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	set_defaults();
	return -1;
}

/* The results file's head: tool, machine and configuration. */
static int json_begin(struct jw *w)
{
	w->f = fopen(opts.json, "w");
	if (!w->f) {
		perror(opts.json);
		return -1;
	}
	fputc('{', w->f);
	w->depth = 1;
	jw_str(w, "tool", "swiotlb-bench");
	jw_str(w, "libswiotlb_version", "0.2");
	jw_machine(w);
	jw_open(w, "config", '{');
	jw_str(w, "mode", opts.lookup ? "lookup" : opts.growth ? "growth" : opts.frag ? "frag" : "map");
	jw_num(w, "seconds", opts.seconds);
	jw_num(w, "warmup", opts.warmup);
	jw_u64(w, "dir", (uint64_t)opts.dir);
	jw_u64(w, "delay_ns", opts.delay_ns);
	jw_u64(w, "runs", (uint64_t)opts.runs);
	jw_u64(w, "pool_size", opts.pool_size);
	jw_u64(w, "pools", opts.pools);
	jw_bool(w, "dynamic", opts.dynamic);
	jw_bool(w, "strict_cursor", opts.strict);
	jw_bool(w, "cross", opts.cross);
	jw_u64(w, "sample_every", SAMPLE_MASK + 1);
	jw_u64(w, "batch", BATCH);
	if (opts.frag) {
		jw_u64(w, "frag_ops", opts.frag_ops);
		jw_u64(w, "seed", opts.frag_seed);
		jw_u64(w, "frag_warmup", opts.frag_warmup ? opts.frag_warmup : opts.frag_ops);
		jw_u64(w, "segment_slots", opts.segment_slots ? opts.segment_slots : 128);
		jw_str(w, "trace", opts.frag_trace ? opts.frag_trace : "");
	}
	jw_close(w, '}');
	return 0;
}

static int json_end(struct jw *w, int rc)
{
	jw_u64(w, "exit_status", (uint64_t)rc);
	fputs("\n}\n", w->f);
	if (fclose(w->f)) {
		perror(opts.json);
		rc = 1;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct jw jw = { 0 }, *w = NULL;
	int rc = parse_args(argc, argv);

	if (rc >= 0)
		return rc;
	rc = 0;
	init_cpus();
	calibrate_tsc();
	if (opts.json) {
		if (json_begin(&jw))
			return 1;
		w = &jw;
	}
	if (opts.lookup)
		rc |= cmd_lookup(w);
	if (opts.growth)
		rc |= cmd_growth(w);
	if (opts.frag)
		rc |= cmd_frag(w);
	if (!opts.lookup && !opts.growth && !opts.frag)
		rc |= cmd_map(w);
	if (w)
		rc = json_end(w, rc);
	return rc;
}
