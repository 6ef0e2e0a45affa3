/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swiotlb-demo: a system test with its own command line.  A driver and an
 * emulated DMA device talk through libswiotlb bounce buffers; every byte
 * is checked.  (The short programs in examples/ show the API on its own.)
 *
 * Three threads share the work, as in a real system:
 *
 *   mapper (main)     the driver's submit path: fills a private buffer,
 *                     maps it (force_bounce) and posts {addr, len, dir, id}
 *                     on a submission ring;
 *   device            the emulated DMA engine: reads the submission ring
 *                     through swiotlb_addr_to_cpu() of the ring's device
 *                     address, performs the DMA on the bounce buffer and
 *                     posts a completion;
 *   completion        the driver's interrupt path: unmaps (copy-back) and
 *                     checks every byte of the private buffer.
 *
 * Two device functions share the engine: "nic" (no alignment needs) and
 * "nvme" (min_align_mask 4095, so the bounce address keeps the buffer's
 * low 12 bits).  Both rings live in coherent memory from swiotlb_alloc().
 * The memory starts small and dynamic, so a default run grows pools, uses
 * transient pools and, after a short idle wait, shrinks back.
 *
 * Exit status: 0 all data verified, 1 a mismatch or library error,
 * 2 bad command line.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "swiotlb.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

struct opts {
	double seconds;        /* run time of the submit phase */
	uint64_t ops;          /* 0 = until the time is up */
	size_t pool_size;      /* initial pool bytes */
	size_t max_size;       /* largest buffer mapped */
	size_t max_pool;       /* cap on pool memory (0 = none) */
	bool dynamic;
	unsigned shrink_ms;
	uint64_t seed;
	bool quiet;
	uint32_t min_align;    /* nvme function's min_align_mask */
};

static const char *prog = "swiotlb-demo";

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [options]\n"
"Emulated DMA device + driver over libswiotlb bounce buffers; every byte is\n"
"verified.  Exit 0 = all data correct, 1 = mismatch or error, 2 = usage.\n"
"\n"
"  -s, --seconds S     submit for S seconds (default 2; 0 = only --ops)\n"
"  -n, --ops N         stop after N operations (default: no limit)\n"
"      --pool-size B   initial pool size (default 1M; K/M/G suffixes)\n"
"      --max-size B    largest buffer mapped (default: the device maximum,\n"
"                      256K, or 252K for the min_align_mask 4095 function)\n"
"      --max-pool B    cap on all pool memory (default: no cap)\n"
"      --static        no dynamic pools (a full pool makes maps retry)\n"
"      --shrink-ms MS  idle time before a grown pool is released (default 200)\n"
"      --min-align M   min_align_mask of the nvme-like function (default\n"
"                      4095; 0 = none)\n"
"      --seed N        random seed (default 1)\n"
"  -q, --quiet         print only the summary\n"
"  -h, --help          this text\n", prog);
}

/* Print a command-line error, the usage, and exit 2. */
#define bad_usage(...) util_usage_exit(prog, usage, __VA_ARGS__)

/* An unsigned number, with a K/M/G suffix where the option is a size
 * (util_parse_size); exits 2 on garbage, a sign or overflow. */
static uint64_t parse_u64(const char *opt, const char *s, bool suffix)
{
	uint64_t v;
	int err = util_parse_size(s, &v);

	if (err == -ERANGE)
		bad_usage("%s: too large '%s'", opt, s);
	if (err || (!suffix && !isxdigit((unsigned char)s[strlen(s) - 1])))
		bad_usage("%s: invalid number '%s'", opt, s);
	return v;
}

static double parse_seconds(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 86400)
		bad_usage("--seconds: invalid duration '%s'", s);
	return v;
}

enum { OPT_POOL = 256, OPT_MAXSIZE, OPT_MAXPOOL, OPT_STATIC, OPT_SHRINK,
       OPT_MINALIGN, OPT_SEED };

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'n' },
		{ "pool-size", required_argument, NULL, OPT_POOL },
		{ "max-size", required_argument, NULL, OPT_MAXSIZE },
		{ "max-pool", required_argument, NULL, OPT_MAXPOOL },
		{ "static", no_argument, NULL, OPT_STATIC },
		{ "shrink-ms", required_argument, NULL, OPT_SHRINK },
		{ "min-align", required_argument, NULL, OPT_MINALIGN },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .seconds = 2, .pool_size = 1u << 20, .dynamic = true,
			    .shrink_ms = 200, .seed = 1, .min_align = 4095 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:n:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->seconds = parse_seconds(optarg); break;
		case 'n': o->ops = parse_u64("--ops", optarg, false); break;
		case OPT_POOL: o->pool_size = parse_u64("--pool-size", optarg, true); break;
		case OPT_MAXSIZE: o->max_size = parse_u64("--max-size", optarg, true); break;
		case OPT_MAXPOOL: o->max_pool = parse_u64("--max-pool", optarg, true); break;
		case OPT_STATIC: o->dynamic = false; break;
		case OPT_SHRINK: {
			uint64_t v = parse_u64("--shrink-ms", optarg, false);

			if (v > 60000)
				bad_usage("--shrink-ms: at most 60000");
			o->shrink_ms = (unsigned)v;
			break;
		}
		case OPT_MINALIGN: {
			uint64_t v = parse_u64("--min-align", optarg, false);

			if (v > 0xffff || (v & (v + 1)))
				bad_usage("--min-align: must be 2^n-1 and at most 65535, got '%s'", optarg);
			o->min_align = (uint32_t)v;
			break;
		}
		case OPT_SEED: o->seed = parse_u64("--seed", optarg, false); break;
		case 'q': o->quiet = true; break;
		case 'h': usage(stdout); exit(0);
		case ':': bad_usage("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				bad_usage("unknown option '-%c'", optopt);
			bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	if (o->seconds == 0 && o->ops == 0)
		bad_usage("--seconds 0 needs --ops N");
	if (o->pool_size < SWIOTLB_SLOT_SIZE)
		bad_usage("--pool-size: at least %u bytes", SWIOTLB_SLOT_SIZE);
	if (o->max_size && o->max_size > SWIOTLB_SEGMENT_SIZE)
		bad_usage("--max-size: at most %u", SWIOTLB_SEGMENT_SIZE);
}

/* ------------------------------------------------------------------ */
/* Small helpers (the others are common/util.h's)                      */
/* ------------------------------------------------------------------ */

static double now_s(void)
{
	return (double)util_now_ns() * 1e-9;
}

/* Polling threads yield first and then sleep briefly, so that the three
 * demo threads and the library's growth thread share two cores. */
static void idle_wait(unsigned *spins)
{
	if (++*spins < 64) {
		sched_yield();
	} else {
		util_sleep_us(20);
	}
}

/* ------------------------------------------------------------------ */
/* Rings in coherent memory                                            */
/* ------------------------------------------------------------------ */

#define NTAGS 64u      /* requests in flight at most (all functions) */
#define RING_SLOTS NTAGS /* so a ring can never overflow */
#define GUARD 64u      /* guard bytes around each private buffer */
#define GUARD_BYTE 0xee
#define XOR_BYTE 0x5a  /* the device's BIDIRECTIONAL transform */
#define FROM_SEED(id) ((id) ^ 0x9e3779b9u)

/* A submission descriptor.  The fields are written relaxed; the ring's
 * producer index (release/acquire) publishes them. */
struct dma_desc {
	_Atomic uint64_t addr;
	_Atomic uint32_t len;
	_Atomic uint32_t dir;
	_Atomic uint32_t id;
	_Atomic uint32_t pad;
};

/* A completion: status 0 or a negative error, csum of what the device
 * read (TO_DEVICE). */
struct dma_cqe {
	_Atomic uint32_t id;
	_Atomic int32_t status;
	_Atomic uint64_t csum;
};

/* One function's submission and completion rings (one coherent page). */
struct ring_page {
	_Alignas(64) _Atomic uint32_t sq_prod;
	_Alignas(64) _Atomic uint32_t sq_cons;
	_Alignas(64) _Atomic uint32_t cq_prod;
	_Alignas(64) _Atomic uint32_t cq_cons;
	struct dma_desc sq[RING_SLOTS];
	struct dma_cqe cq[RING_SLOTS];
};
_Static_assert(sizeof(struct ring_page) <= 4096, "ring page fits one page");

/* A device function: its swiotlb device and its rings, seen by the driver
 * through the CPU pointer of swiotlb_alloc() and by the device through
 * swiotlb_addr_to_cpu(ring_addr). */
struct queue {
	const char *name;
	struct swiotlb_dev *dev;
	uint32_t min_align;
	size_t max_len;
	struct ring_page *drv;      /* driver's view */
	swiotlb_addr_t ring_addr;   /* what the device is told */
	struct ring_page *hw;       /* device's view (set by the device) */
};

#define NQUEUES 2

/* A request (driver-private; never touched by the device). */
struct request {
	_Atomic int busy;           /* 1 from submit until verified */
	uint32_t id;
	struct queue *q;
	uint8_t *mem;               /* GUARD + max + 4095 + GUARD bytes */
	uint8_t *buf;               /* the mapped buffer inside mem */
	size_t size;
	enum swiotlb_dir dir;
	swiotlb_addr_t addr;
	uint64_t csum;              /* checksum of the TO_DEVICE data */
};

/* Counters; each has one writer thread unless atomic. */
struct counters {
	uint64_t ops, bytes_in[3], n_dir[3];
	uint64_t enospc_retries;
	uint64_t offset_errors;      /* bounce address lost the low bits */
	_Atomic uint64_t completed;
	_Atomic uint64_t mismatch_bytes;
	_Atomic uint64_t mismatch_ops;
	_Atomic uint64_t errors;
	_Atomic uint64_t log_lines;
};

struct demo {
	struct opts o;
	struct swiotlb_mem *mem;
	struct queue q[NQUEUES];
	struct request req[NTAGS];
	size_t buf_cap;
	uint64_t initial_pool_bytes; /* pool memory right after setup */
	_Atomic bool submit_done;   /* mapper finished; drain and stop */
	_Atomic bool device_exited; /* the device posts nothing more */
	_Atomic uint64_t submitted;
	struct counters c;
};

static void err_count(struct demo *d, const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add_explicit(&d->c.errors, 1, memory_order_relaxed); /* counter */
	fprintf(stderr, "%s: error: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Library log lines: shown (unless --quiet) for the first few, counted. */
static void demo_log(void *ctx, enum swiotlb_log_level level, const char *msg)
{
	struct demo *d = ctx;
	/* counter: relaxed */
	uint64_t n = atomic_fetch_add_explicit(&d->c.log_lines, 1, memory_order_relaxed);

	if (!d->o.quiet && n < 5)
		fprintf(stderr, "[lib %d] %s\n", (int)level, msg);
}

/* ------------------------------------------------------------------ */
/* The emulated device                                                 */
/* ------------------------------------------------------------------ */

/* Perform one DMA on the bounce buffer at addr.  Returns 0 or -EFAULT
 * when addr is not a bounce address of this function. */
static int device_dma(const struct queue *q, swiotlb_addr_t addr, uint32_t len,
		      uint32_t dir, uint32_t id, uint64_t *csum)
{
	uint8_t *p = swiotlb_addr_to_cpu(q->dev, addr);

	*csum = 0;
	if (!p || !swiotlb_addr_to_cpu(q->dev, addr + len - 1))
		return -EFAULT;
	switch (dir) {
	case SWIOTLB_TO_DEVICE:
		*csum = util_hash(p, len);
		break;
	case SWIOTLB_FROM_DEVICE:
		util_fill(p, len, FROM_SEED(id));
		break;
	default:
		for (uint32_t i = 0; i < len; i++)
			p[i] ^= XOR_BYTE;
		break;
	}
	return 0;
}

/* Consume every posted descriptor of q; returns how many. */
static unsigned device_poll(struct queue *q)
{
	struct ring_page *r = q->hw;
	uint32_t cons = atomic_load_explicit(&r->sq_cons, memory_order_relaxed);
	/* pairs with the release store of sq_prod in post() */
	uint32_t prod = atomic_load_explicit(&r->sq_prod, memory_order_acquire);
	unsigned n = 0;

	for (; cons != prod; cons++, n++) {
		struct dma_desc *e = &r->sq[cons % RING_SLOTS];
		uint64_t addr = atomic_load_explicit(&e->addr, memory_order_relaxed);
		uint32_t len = atomic_load_explicit(&e->len, memory_order_relaxed);
		uint32_t dir = atomic_load_explicit(&e->dir, memory_order_relaxed);
		uint32_t id = atomic_load_explicit(&e->id, memory_order_relaxed);
		uint32_t cp = atomic_load_explicit(&r->cq_prod, memory_order_relaxed);
		struct dma_cqe *c = &r->cq[cp % RING_SLOTS];
		uint64_t csum;
		int st;

		/* The entry is read: free it before completing the request, or
		 * the driver could reuse the request's tag and find the ring
		 * full.  Pairs with the acquire load of sq_cons in post(). */
		atomic_store_explicit(&r->sq_cons, cons + 1, memory_order_release);
		st = device_dma(q, addr, len, dir, id, &csum);

		atomic_store_explicit(&c->id, id, memory_order_relaxed);
		atomic_store_explicit(&c->status, st, memory_order_relaxed);
		atomic_store_explicit(&c->csum, csum, memory_order_relaxed);
		/* Publishes the completion and the DMA'd bounce bytes; pairs
		 * with the acquire load of cq_prod in completion_poll(). */
		atomic_store_explicit(&r->cq_prod, cp + 1, memory_order_release);
	}
	return n;
}

/* Device thread: learns its rings' CPU addresses from their device
 * addresses, then serves both functions until the driver is done and
 * every descriptor has been consumed. */
static void *device_thread(void *arg)
{
	struct demo *d = arg;
	unsigned spins = 0;

	for (int i = 0; i < NQUEUES; i++) {
		d->q[i].hw = swiotlb_addr_to_cpu(d->q[i].dev, d->q[i].ring_addr);
		if (!d->q[i].hw) {
			err_count(d, "%s: ring address 0x%" PRIx64 " is not a bounce address",
				  d->q[i].name, d->q[i].ring_addr);
			/* pairs with the acquire load of device_exited in
			 * completion_thread() */
			atomic_store_explicit(&d->device_exited, true, memory_order_release);
			return NULL;
		}
	}
	for (;;) {
		unsigned n = 0;
		/* pairs with the release store of submit_done in run_mapper() */
		bool done = atomic_load_explicit(&d->submit_done, memory_order_acquire);

		for (int i = 0; i < NQUEUES; i++)
			n += device_poll(&d->q[i]);
		if (n) {
			spins = 0;
		} else if (done) {
			break;
		} else {
			idle_wait(&spins);
		}
	}
	/* pairs with the acquire load of device_exited in completion_thread() */
	atomic_store_explicit(&d->device_exited, true, memory_order_release);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The driver's completion path                                        */
/* ------------------------------------------------------------------ */

/* Count bytes of [p, p+n) that differ from the expected content of a
 * request in direction dir.  Returns the number of wrong bytes. */
static uint64_t count_wrong(const uint8_t *p, size_t n, enum swiotlb_dir dir,
			    uint32_t id)
{
	uint64_t bad = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t want;

		if (dir == SWIOTLB_FROM_DEVICE)
			want = util_pat(FROM_SEED(id), i);
		else if (dir == SWIOTLB_BIDIRECTIONAL)
			want = util_pat(id, i) ^ XOR_BYTE;
		else
			want = util_pat(id, i);
		bad += p[i] != want;
	}
	return bad;
}

static uint64_t count_guard(const uint8_t *p, size_t n)
{
	uint64_t bad = 0;

	for (size_t i = 0; i < n; i++)
		bad += p[i] != GUARD_BYTE;
	return bad;
}

/* Unmap one completed request and verify the private buffer: the data
 * the device produced, the TO_DEVICE checksum, and untouched guards. */
static void complete_one(struct demo *d, struct request *rq, int status,
			 uint64_t csum)
{
	uint64_t bad;
	int err;

	if (status)
		err_count(d, "%s: device could not access id %u at 0x%" PRIx64 ": %s",
			  rq->q->name, rq->id, rq->addr, swiotlb_strerror(status));
	err = swiotlb_unmap(rq->q->dev, rq->addr, rq->size, rq->dir, 0);
	if (err)
		err_count(d, "%s: unmap id %u: %s", rq->q->name, rq->id,
			  swiotlb_strerror(err));
	bad = count_wrong(rq->buf, rq->size, rq->dir, rq->id);
	bad += count_guard(rq->buf - GUARD, GUARD);
	bad += count_guard(rq->buf + rq->size, GUARD);
	if (rq->dir == SWIOTLB_TO_DEVICE && csum != rq->csum)
		bad += 1;
	if (bad) {
		/* counters: relaxed */
		atomic_fetch_add_explicit(&d->c.mismatch_bytes, bad, memory_order_relaxed);
		if (atomic_fetch_add_explicit(&d->c.mismatch_ops, 1, memory_order_relaxed) < 10)
			fprintf(stderr, "%s: MISMATCH %s id %u dir %d size %zu: %" PRIu64
				" wrong bytes\n", prog, rq->q->name, rq->id, rq->dir,
				rq->size, bad);
	}
	atomic_fetch_add_explicit(&d->c.completed, 1, memory_order_relaxed);
	/* Hands the tag back to the mapper (release: our reads are done);
	 * pairs with the acquire load of busy in submit_batch(). */
	atomic_store_explicit(&rq->busy, 0, memory_order_release);
}

static unsigned completion_poll(struct demo *d, struct queue *q)
{
	struct ring_page *r = q->drv;
	uint32_t cons = atomic_load_explicit(&r->cq_cons, memory_order_relaxed);
	/* pairs with the release store of cq_prod in device_poll() */
	uint32_t prod = atomic_load_explicit(&r->cq_prod, memory_order_acquire);
	unsigned n = 0;

	for (; cons != prod; cons++, n++) {
		struct dma_cqe *c = &r->cq[cons % RING_SLOTS];
		uint32_t id = atomic_load_explicit(&c->id, memory_order_relaxed);
		int st = atomic_load_explicit(&c->status, memory_order_relaxed);
		uint64_t csum = atomic_load_explicit(&c->csum, memory_order_relaxed);
		struct request *rq = &d->req[id % NTAGS];

		if (rq->id != id || !atomic_load_explicit(&rq->busy, memory_order_relaxed)) {
			err_count(d, "%s: completion for unknown id %u", q->name, id);
			continue;
		}
		complete_one(d, rq, st, csum);
	}
	/* No acquire partner: the device never reads cq_cons (at most NTAGS ==
	 * RING_SLOTS requests are in flight, the completion ring cannot
	 * overflow); the release is kept as the ring protocol's. */
	atomic_store_explicit(&r->cq_cons, cons, memory_order_release);
	return n;
}

/* Completion thread: runs until every submitted request is verified, or
 * the device has stopped and nothing more can complete. */
static void *completion_thread(void *arg)
{
	struct demo *d = arg;
	unsigned spins = 0;

	for (;;) {
		/* pairs with the release stores of device_exited in device_thread() */
		bool gone = atomic_load_explicit(&d->device_exited, memory_order_acquire);
		/* pairs with the release store of submit_done in run_mapper() */
		bool done = atomic_load_explicit(&d->submit_done, memory_order_acquire);
		unsigned n = 0;

		for (int i = 0; i < NQUEUES; i++)
			n += completion_poll(d, &d->q[i]);
		if (n) {
			spins = 0;
			continue;
		}
		/* relaxed: completed is written only by this thread; submitted's
		 * final value is published by the release store of submit_done
		 * in run_mapper(), acquired above */
		if ((done && atomic_load_explicit(&d->c.completed, memory_order_relaxed) ==
			     atomic_load_explicit(&d->submitted, memory_order_relaxed)) ||
		    gone)
			break;
		idle_wait(&spins);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The driver's submit path (mapper)                                   */
/* ------------------------------------------------------------------ */

/* A size from a mix of tiny, odd, page-multiple, large and edge sizes. */
static size_t pick_size(uint64_t *rng, size_t max)
{
	static const size_t edges[] = { 1, 2, 511, 2047, 2048, 2049, 4095,
					4096, 4097, 6144, 12345, 65535 };
	unsigned r = (unsigned)(util_rand(rng) % 100);
	size_t s;

	if (r < 25)
		s = util_rand_range(rng, 1, 512);
	else if (r < 45)
		s = util_rand_range(rng, 1, 16384);
	else if (r < 70)
		s = 4096 * util_rand_range(rng, 1, 16);
	else if (r < 85)
		s = util_rand_range(rng, 65536, max);
	else if (r < 95)
		s = edges[util_rand(rng) % (sizeof(edges) / sizeof(edges[0]))];
	else
		s = max;
	return s < 1 ? 1 : s > max ? max : s;
}

/* The buffer's misalignment inside its page: aligned, slightly off, or
 * anywhere (exercises min_align_mask offset preservation). */
static size_t pick_offset(uint64_t *rng)
{
	unsigned r = (unsigned)(util_rand(rng) % 4);

	if (r == 0)
		return 0;
	if (r == 1)
		return (size_t)util_rand_range(rng, 1, 63);
	return (size_t)util_rand_range(rng, 0, 4095);
}

/* Every BURST_EVERY operations the driver posts BURST_LEN maximum-size
 * buffers back to back: more than the pools hold, faster than the growth
 * thread adds pools, so dynamic runs use transient pools. */
#define BURST_EVERY 2048u
#define BURST_LEN 48u
_Static_assert(BURST_LEN <= NTAGS, "a burst needs its own tags");

/* Prepare request rq for operation id: choose function, size, direction,
 * alignment; fill the buffer (and guards) with the expected pre-DMA data. */
static void prepare(struct demo *d, struct request *rq, uint32_t id, uint64_t *rng)
{
	size_t off = pick_offset(rng);

	rq->id = id;
	rq->q = &d->q[util_rand(rng) % NQUEUES];
	rq->size = pick_size(rng, rq->q->max_len);
	if (id % BURST_EVERY < BURST_LEN)
		rq->size = rq->q->max_len; /* see submit_batch() */
	rq->dir = (enum swiotlb_dir)(util_rand(rng) % 3);
	rq->buf = rq->mem + GUARD + off;
	memset(rq->buf - GUARD, GUARD_BYTE, GUARD);
	memset(rq->buf + rq->size, GUARD_BYTE, GUARD);
	if (rq->dir == SWIOTLB_FROM_DEVICE)
		memset(rq->buf, 0xcc, rq->size); /* stale: must be overwritten */
	else
		util_fill(rq->buf, rq->size, id);
	rq->csum = rq->dir == SWIOTLB_TO_DEVICE ? util_hash(rq->buf, rq->size) : 0;
}

/* Check what the library promises about the bounce address. */
static void check_addr(struct demo *d, const struct request *rq)
{
	uint64_t mask = rq->q->min_align;
	uint64_t orig = (uint64_t)(uintptr_t)rq->buf;

	if ((rq->addr & mask) != (orig & mask))
		d->c.offset_errors++;
	/* Without min_align_mask, buffers of a page or more are page aligned. */
	if (!mask && rq->size >= 4096 && (rq->addr & 4095))
		d->c.offset_errors++;
}

/* Map rq, retrying on -ENOSPC each time a completion frees slots.  With
 * nothing in flight only pool growth can help: give up after 2 s.
 * Returns 0 or the error that stopped it (fatal). */
static int map_retry(struct demo *d, struct request *rq)
{
	double give_up = 0;

	for (;;) {
		/* progress counter, relaxed: nothing is read through it (the
		 * library orders the slots); submitted is this thread's own */
		uint64_t seen = atomic_load_explicit(&d->c.completed, memory_order_relaxed);
		int err = swiotlb_map(rq->q->dev, rq->buf, rq->size, rq->dir,
				      SWIOTLB_ATTR_NO_WARN, &rq->addr);
		unsigned spins = 0;

		if (err != -ENOSPC)
			return err;
		d->c.enospc_retries++;
		if (seen == atomic_load_explicit(&d->submitted, memory_order_relaxed)) {
			struct timespec ts = { 0, 1000 * 1000 };

			if (give_up == 0)
				give_up = now_s() + 2;
			else if (now_s() > give_up)
				return err;
			nanosleep(&ts, NULL);
			continue;
		}
		while (atomic_load_explicit(&d->c.completed, memory_order_relaxed) == seen)
			idle_wait(&spins);
	}
}

/* Post rq on its function's submission ring: relaxed field writes, then a
 * release store of the producer index. */
static void post(struct demo *d, struct request *rq)
{
	struct ring_page *r = rq->q->drv;
	uint32_t prod = atomic_load_explicit(&r->sq_prod, memory_order_relaxed);
	struct dma_desc *e = &r->sq[prod % RING_SLOTS];

	/* pairs with the release store of sq_cons in device_poll() */
	if (prod - atomic_load_explicit(&r->sq_cons, memory_order_acquire) >= RING_SLOTS)
		err_count(d, "%s: submission ring overflow", rq->q->name);
	atomic_store_explicit(&e->addr, rq->addr, memory_order_relaxed);
	atomic_store_explicit(&e->len, (uint32_t)rq->size, memory_order_relaxed);
	atomic_store_explicit(&e->dir, (uint32_t)rq->dir, memory_order_relaxed);
	atomic_store_explicit(&e->id, rq->id, memory_order_relaxed);
	/* relaxed: only this thread writes it; published to
	 * completion_thread() by the release store of submit_done */
	atomic_fetch_add_explicit(&d->submitted, 1, memory_order_relaxed);
	/* pairs with the acquire load of sq_prod in device_poll() */
	atomic_store_explicit(&r->sq_prod, prod + 1, memory_order_release);
}

static void progress(struct demo *d, double t)
{
	struct swiotlb_stats st;

	if (d->o.quiet || swiotlb_mem_stats(d->mem, &st))
		return;
	printf("  t=%5.2fs ops=%-8" PRIu64 " in-flight=%-3" PRIu64 " pools=%" PRIu64
	       " (grown %" PRIu64 ", transient %" PRIu64 ") pool memory=%" PRIu64
	       " KiB used=%" PRIu64 "/%" PRIu64 " slots\n", t, d->c.ops,
	       /* statistics for the progress line: relaxed */
	       atomic_load_explicit(&d->submitted, memory_order_relaxed) -
		       atomic_load_explicit(&d->c.completed, memory_order_relaxed),
	       st.pools, st.grown_pools, st.transient_pools, st.pool_bytes >> 10,
	       st.used_slots, st.total_slots);
}

/* Map and post request rq (prepared).  Returns 0 or a fatal error. */
static int submit_one(struct demo *d, struct request *rq)
{
	int err = map_retry(d, rq);

	if (err) {
		err_count(d, "%s: map of %zu bytes: %s", rq->q->name, rq->size,
			  swiotlb_strerror(err));
		return err;
	}
	check_addr(d, rq);
	atomic_store_explicit(&rq->busy, 1, memory_order_relaxed);
	d->c.ops++;
	d->c.n_dir[rq->dir]++;
	d->c.bytes_in[rq->dir] += rq->size;
	post(d, rq);
	return 0;
}

/* Submit operations id .. id+n-1: first prepare all of them (waiting for
 * their tags), then map and post them back to back, so that a burst asks
 * for slots faster than pools can grow. */
static int submit_batch(struct demo *d, uint32_t id, unsigned n, uint64_t *rng)
{
	for (unsigned i = 0; i < n; i++) {
		struct request *rq = &d->req[(id + i) % NTAGS];
		unsigned spins = 0;

		/* pairs with the release store of busy in complete_one() */
		while (atomic_load_explicit(&rq->busy, memory_order_acquire))
			idle_wait(&spins);
		prepare(d, rq, id + i, rng);
	}
	for (unsigned i = 0; i < n; i++)
		if (submit_one(d, &d->req[(id + i) % NTAGS]))
			return -1;
	return 0;
}

/* Submit operations until --ops or --seconds is reached (or an error). */
static void run_mapper(struct demo *d, double t0)
{
	uint64_t rng = util_rand_seed(d->o.seed);
	double deadline = t0 + d->o.seconds, next_report = t0 + 0.5;
	uint32_t id = 0;

	for (;;) {
		unsigned n = id % BURST_EVERY == 0 ? BURST_LEN : 1;
		double t = now_s();

		if ((d->o.ops && d->c.ops >= d->o.ops) ||
		    (d->o.seconds > 0 && t >= deadline) ||
		    atomic_load_explicit(&d->c.errors, memory_order_relaxed)) /* stop hint */
			break;
		if (t >= next_report) {
			progress(d, t - t0);
			next_report += 0.5;
		}
		if (d->o.ops && n > d->o.ops - d->c.ops)
			n = (unsigned)(d->o.ops - d->c.ops);
		if (submit_batch(d, id, n, &rng))
			break;
		id += n;
	}
	/* pairs with the acquire loads of submit_done in device_thread() and
	 * completion_thread() */
	atomic_store_explicit(&d->submit_done, true, memory_order_release);
}

/* ------------------------------------------------------------------ */
/* Setup, teardown and the report                                      */
/* ------------------------------------------------------------------ */

static int setup_queue(struct demo *d, struct queue *q, const char *name,
		       uint32_t min_align)
{
	struct swiotlb_dev_config dc = { .name = name, .min_align_mask = min_align,
					 .force_bounce = true };

	q->name = name;
	q->min_align = min_align;
	q->dev = swiotlb_dev_create(d->mem, &dc);
	if (!q->dev) {
		fprintf(stderr, "%s: swiotlb_dev_create(%s): %s\n", prog, name,
			strerror(errno));
		return -1;
	}
	q->max_len = swiotlb_max_mapping_size(q->dev);
	if (d->o.max_size && d->o.max_size < q->max_len)
		q->max_len = d->o.max_size;
	/* A static pool must hold the largest buffer next to the rings. */
	if (!d->o.dynamic && !d->o.max_size && q->max_len > d->o.pool_size / 2)
		q->max_len = d->o.pool_size / 2 > 4096 ? d->o.pool_size / 2 - 4096 : 1;
	q->drv = swiotlb_alloc(q->dev, sizeof(struct ring_page), &q->ring_addr);
	if (!q->drv) {
		fprintf(stderr, "%s: swiotlb_alloc(%s ring): %s\n", prog, name,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int setup(struct demo *d)
{
	struct swiotlb_mem_config mc = {
		.size = d->o.pool_size, .dynamic = d->o.dynamic,
		.max_size = d->o.max_pool, .shrink_delay_ms = d->o.shrink_ms,
		.log = demo_log, .log_ctx = d,
	};

	d->mem = swiotlb_mem_create(&mc);
	if (!d->mem) {
		fprintf(stderr, "%s: swiotlb_mem_create: %s\n", prog, strerror(errno));
		return -1;
	}
	if (setup_queue(d, &d->q[0], "nic", 0) ||
	    setup_queue(d, &d->q[1], "nvme", d->o.min_align))
		return -1;
	{
		struct swiotlb_stats st;

		if (swiotlb_mem_stats(d->mem, &st) == 0)
			d->initial_pool_bytes = st.pool_bytes;
	}
	d->buf_cap = GUARD + SWIOTLB_SEGMENT_SIZE + 4096 + GUARD;
	for (unsigned i = 0; i < NTAGS; i++) {
		d->req[i].mem = malloc(d->buf_cap);
		if (!d->req[i].mem) {
			fprintf(stderr, "%s: out of memory\n", prog);
			return -1;
		}
	}
	return 0;
}

/* Free everything; every library call must succeed (nothing is live). */
static void teardown(struct demo *d)
{
	for (int i = 0; i < NQUEUES; i++) {
		struct queue *q = &d->q[i];
		int err;

		if (q->drv && (err = swiotlb_free(q->dev, q->drv, sizeof(struct ring_page),
						  q->ring_addr)))
			err_count(d, "%s: swiotlb_free(ring): %s", q->name, swiotlb_strerror(err));
		if (q->dev && (err = swiotlb_dev_destroy(q->dev)))
			err_count(d, "%s: swiotlb_dev_destroy: %s", q->name, swiotlb_strerror(err));
	}
	if (d->mem) {
		int err = swiotlb_mem_destroy(d->mem);

		if (err)
			err_count(d, "swiotlb_mem_destroy: %s", swiotlb_strerror(err));
	}
	for (unsigned i = 0; i < NTAGS; i++)
		free(d->req[i].mem);
}

/* After the run: wait (bounded) until idle grown pools have been released
 * and freed (pool memory is given back after an RCU grace period), so the
 * summary shows the shrink.  Returns the seconds waited. */
static double wait_for_shrink(struct demo *d)
{
	double t0 = now_s(), limit = t0 + (d->o.shrink_ms * 4 + 1000) / 1000.0;
	struct swiotlb_stats st;

	if (!d->o.dynamic || !d->o.shrink_ms)
		return 0;
	while (!swiotlb_mem_stats(d->mem, &st) &&
	       (st.grown_pools || st.transient_pools || st.pool_bytes > d->initial_pool_bytes) &&
	       now_s() < limit) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	return now_s() - t0;
}

static void row(const char *name, const char *fmt, ...)
{
	char val[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	printf("  %-36s %18s\n", name, val);
}

static void report(struct demo *d, const struct swiotlb_stats *end,
		   const struct swiotlb_stats *before_idle, double run_s, double idle_s)
{
	const struct counters *c = &d->c;

	printf("\nswiotlb-demo summary (%s pool, initial %zu KiB, seed %" PRIu64 ")\n",
	       d->o.dynamic ? "dynamic" : "static", d->o.pool_size >> 10, d->o.seed);
	/* counters: relaxed, the threads were joined before report() */
	row("operations (verified)", "%" PRIu64,
	    atomic_load_explicit(&c->completed, memory_order_relaxed));
	row("  to-device/from-device/bidir", "%" PRIu64 "/%" PRIu64 "/%" PRIu64,
	    c->n_dir[1], c->n_dir[2], c->n_dir[0]);
	row("bytes mapped (buffer sizes)", "%" PRIu64,
	    c->bytes_in[0] + c->bytes_in[1] + c->bytes_in[2]);
	row("bytes bounced CPU -> device", "%" PRIu64, end->bytes_to_device);
	row("bytes bounced device -> CPU", "%" PRIu64, end->bytes_from_device);
	row("peak slots in use (hiwater)", "%" PRIu64, end->hiwater_slots);
	row("shared slots at end of run", "%" PRIu64, before_idle->total_slots);
	row("failed maps (library count)", "%" PRIu64, end->failed_maps);
	row("ENOSPC retries", "%" PRIu64, c->enospc_retries);
	row("pools grown", "%" PRIu64, end->grows);
	row("growth failures", "%" PRIu64, end->growth_failures);
	row("transient pools created", "%" PRIu64, end->transient_created);
	row("shrinks (grown pools released)", "%" PRIu64, end->shrinks);
	row("pools after idle (grown)", "%" PRIu64 " (%" PRIu64 ")", end->pools,
	    end->grown_pools);
	row("pool memory run end -> after idle", "%" PRIu64 " -> %" PRIu64 " KiB",
	    before_idle->pool_bytes >> 10, end->pool_bytes >> 10);
	row("address/offset errors", "%" PRIu64, c->offset_errors);
	row("data mismatches (bytes)", "%" PRIu64,
	    atomic_load_explicit(&c->mismatch_bytes, memory_order_relaxed));
	row("errors", "%" PRIu64, atomic_load_explicit(&c->errors, memory_order_relaxed));
	row("elapsed (submit + drain)", "%.3f s", run_s);
	row("idle wait for shrinking", "%.3f s", idle_s);
	if (run_s > 0)
		row("operations per second", "%.0f", (double)c->ops / run_s);
}

int main(int argc, char **argv)
{
	static struct demo d;
	struct swiotlb_stats before_idle = { 0 }, end = { 0 };
	pthread_t dev_th, cpl_th;
	double t0, run_s, idle_s;
	bool bad;

	parse_opts(argc, argv, &d.o);
	if (setup(&d)) {
		teardown(&d);
		return 1;
	}
	if (!d.o.quiet)
		printf("swiotlb-demo: nic (min_align_mask 0, max %zu B) + nvme (min_align_mask %u,"
		       " max %zu B), %s pool of %zu KiB, shrink after %u ms\n",
		       d.q[0].max_len, d.o.min_align, d.q[1].max_len,
		       d.o.dynamic ? "dynamic" : "static", d.o.pool_size >> 10, d.o.shrink_ms);
	t0 = now_s();
	if (pthread_create(&dev_th, NULL, device_thread, &d) ||
	    pthread_create(&cpl_th, NULL, completion_thread, &d)) {
		fprintf(stderr, "%s: pthread_create failed\n", prog);
		return 1;
	}
	run_mapper(&d, t0);
	pthread_join(dev_th, NULL);
	pthread_join(cpl_th, NULL);
	run_s = now_s() - t0;
	before_idle = util_mem_stats(d.mem);
	progress(&d, run_s);
	idle_s = wait_for_shrink(&d);
	end = util_mem_stats(d.mem);
	report(&d, &end, &before_idle, run_s, idle_s);
	teardown(&d);
	/* relaxed: ordered by the pthread_join()s above */
	bad = atomic_load_explicit(&d.c.mismatch_bytes, memory_order_relaxed) ||
	      atomic_load_explicit(&d.c.errors, memory_order_relaxed) || d.c.offset_errors ||
	      atomic_load_explicit(&d.c.completed, memory_order_relaxed) != d.c.ops;
	printf("%s\n", bad ? "RESULT: FAILED" : "RESULT: OK (every byte verified)");
	return bad ? 1 : 0;
}
