/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the input is a program of API calls against one
 * swiotlb_mem (512 KiB pool, 1 or 2 areas; dynamic for a quarter of the
 * inputs) and up to three devices.  A shadow model keeps, for every live
 * mapping, the expected content of the caller's buffer and of the bounce
 * buffer, and the expected outcome of every call:
 *
 *   - argument errors are -EINVAL / -E2BIG exactly as documented, and a
 *     rejected call changes neither used_slots nor mappings;
 *   - map copies the buffer in for every direction, keeps the low address
 *     bits under min_align_mask, honours alloc_align_mask, page alignment,
 *     the segment boundary, and never overlaps another live run;
 *   - unmap copies back for FROM_DEVICE/BIDIRECTIONAL (unless
 *     SKIP_CPU_SYNC), leaves TO_DEVICE buffers alone, and a wrong
 *     address/size/direction/device or a double unmap changes nothing;
 *   - syncs of sub-ranges copy exactly those bytes; out-of-range ones fail;
 *   - coherent allocations are page aligned and zeroed; bad frees fail;
 *   - is_bounce / addr_to_cpu agree with each other and with live runs;
 *   - dev_destroy is -EBUSY with live mappings; the stats match the model.
 *
 * Any violated expectation aborts with a message (libFuzzer reports it).
 * Set FUZZ_API_TRACE=1 to print the decoded program while reproducing.
 * FUZZ_API_NO_SYNC_OVERFLOW=1 stops generating sync lengths whose end
 * overflows (to keep fuzzing past that bug while it is open).
 *
 * Input layout: byte 0 configures the memory, byte 1 the number of devices,
 * then one config byte per device, one seed byte, then operations (one
 * opcode byte followed by its operands; missing bytes read as zero).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "swiotlb.h"

#define POOL_SIZE ((size_t)512 << 10)
#define SLOT ((size_t)SWIOTLB_SLOT_SIZE)
#define SEG ((size_t)SWIOTLB_SEGMENT_SIZE)
#define NDEV 3
#define MAX_LIVE 64
#define MAX_OPS 256
#define NGRAVE 8
#define KNOWN_ATTRS (SWIOTLB_ATTR_SKIP_CPU_SYNC | SWIOTLB_ATTR_NO_WARN | SWIOTLB_ATTR_MAY_BLOCK)
#define BIG_SPAN (SEG + 8192) /* sizes above this get a small buffer */

static bool trace;
static bool no_sync_overflow; /* FUZZ_API_NO_SYNC_OVERFLOW: skip a known bug */

#define TRACE(...) do { if (trace) { fprintf(stderr, "  [op %u] ", S.op); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

#define FAIL(...) do { \
	fprintf(stderr, "fuzz_api: expectation failed (%s:%d, op %u): ", __FILE__, \
		__LINE__, S.op); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

#define EXPECT(c, ...) do { if (!(c)) FAIL("!(" #c "): " __VA_ARGS__); } while (0)

/* ---- input reader ---- */

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t rd8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint16_t rd16(struct in *in)
{
	return (uint16_t)(rd8(in) | (unsigned)rd8(in) << 8);
}

static uint32_t rd32(struct in *in)
{
	return rd16(in) | (uint32_t)rd16(in) << 16;
}

static uint64_t rd64(struct in *in)
{
	return rd32(in) | (uint64_t)rd32(in) << 32;
}

/* ---- deterministic content generator ---- */

static uint64_t rng;

/* Not worth coverage feedback (and slow with it): the content generator. */
#define NO_COV __attribute__((no_sanitize("coverage")))

static inline NO_COV uint64_t nextr(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static NO_COV void fill(uint8_t *d, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t v = nextr();

		memcpy(d + i, &v, 8);
	}
	for (; i < n; i++)
		d[i] = (uint8_t)nextr();
}

/* ---- the model ---- */

enum kind { K_BOUNCE, K_DIRECT, K_COHERENT };

struct mapping {
	bool used;
	enum kind kind;
	int dev;
	uint8_t *buf;        /* malloc'd base of the caller buffer (not coherent) */
	uint8_t *cpu;        /* the mapped CPU address / coherent CPU pointer */
	size_t size;         /* size given to map / alloc */
	size_t span;         /* bytes tracked: size (coherent: page-rounded;
				direct with a huge size: what was allocated) */
	int dir;
	swiotlb_addr_t addr; /* device address */
	uint64_t run_start;  /* first byte of the slot run (padding included) */
	uint64_t run_len;
	uint8_t *sh_orig;    /* expected content of cpu[0, span) */
	uint8_t *sh_bounce;  /* expected content of the bounce (K_BOUNCE) */
};

struct devslot {
	struct swiotlb_dev *dev;
	uint32_t min_align;
	uint64_t boundary; /* 0 = none */
	bool direct;       /* force_bounce false: every map is direct */
	size_t max_map;
};

struct tomb {
	bool used;
	enum kind kind;
	int dev;
	swiotlb_addr_t addr;
	size_t size;
	int dir;
	void *cpu;
};

static struct state {
	struct swiotlb_mem *mem;
	bool dynamic;
	struct devslot d[NDEV];
	struct mapping m[MAX_LIVE];
	struct tomb grave[NGRAVE];
	unsigned ngrave;
	unsigned op;
} S;

static atomic_uint full_logs;

static void quiet_log(void *ctx, enum swiotlb_log_level level, const char *msg)
{
	(void)ctx;
	(void)level;
	/* counter: relaxed (the fuzzer is single-threaded and the line is
	 * logged inside the failing call, before it returns) */
	if (strstr(msg, "swiotlb buffer is full (sz: "))
		atomic_fetch_add_explicit(&full_logs, 1, memory_order_relaxed);
}

static const uint32_t min_aligns[4] = { 0, 511, 4095, 8191 };
static const uint64_t boundaries[4] = { 0, 0xffff, 0xfffff, 0 };

static size_t round4k(size_t v)
{
	return (v + 4095) & ~(size_t)4095;
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static struct swiotlb_stats mstats(void)
{
	struct swiotlb_stats st;

	EXPECT(swiotlb_mem_stats(S.mem, &st) == 0, "mem_stats");
	return st;
}

static int nlive(void)
{
	int n = 0;

	for (int i = 0; i < MAX_LIVE; i++)
		n += S.m[i].used;
	return n;
}

static int free_slot(void)
{
	for (int i = 0; i < MAX_LIVE; i++)
		if (!S.m[i].used)
			return i;
	return -1;
}

/* Live mappings and allocations the library counts for device di. */
static unsigned dev_live_model(int di)
{
	unsigned n = 0;

	for (int i = 0; i < MAX_LIVE; i++)
		n += S.m[i].used && S.m[i].dev == di && S.m[i].kind != K_DIRECT;
	return n;
}

/* Is addr inside the slot run of a live bounce mapping or coherent
 * allocation of device di?  (Then the device's lookup must find a pool.) */
static bool in_dev_run(int di, uint64_t addr, const bool *gone)
{
	for (int i = 0; i < MAX_LIVE; i++) {
		const struct mapping *m = &S.m[i];

		if (m->used && !(gone && gone[i]) && m->dev == di && m->kind != K_DIRECT &&
		    addr >= m->run_start && addr - m->run_start < m->run_len)
			return true;
	}
	return false;
}

/* Is addr inside the caller buffer of a live direct mapping (heap memory:
 * never a pool)? */
static bool in_direct_buf(uint64_t addr)
{
	for (int i = 0; i < MAX_LIVE; i++) {
		const struct mapping *m = &S.m[i];

		if (m->used && m->kind == K_DIRECT && addr >= (uintptr_t)m->cpu &&
		    addr - (uintptr_t)m->cpu < m->span)
			return true;
	}
	return false;
}

static void verify_mapping(const struct mapping *m)
{
	if (!m->used)
		return;
	EXPECT(memcmp(m->cpu, m->sh_orig, m->span) == 0,
	       "caller/coherent buffer content differs (kind %d dev %d addr %#llx size %zu dir %d)",
	       m->kind, m->dev, (unsigned long long)m->addr, m->size, m->dir);
	if (m->kind == K_BOUNCE) {
		uint8_t *b = swiotlb_addr_to_cpu(S.d[m->dev].dev, m->addr);

		EXPECT(b == (uint8_t *)(uintptr_t)m->addr, "addr_to_cpu of a live mapping %#llx = %p",
		       (unsigned long long)m->addr, (void *)b);
		EXPECT(memcmp(b, m->sh_bounce, m->size) == 0,
		       "bounce content differs (dev %d addr %#llx size %zu dir %d)", m->dev,
		       (unsigned long long)m->addr, m->size, m->dir);
	}
}

static void verify_all(void)
{
	for (int i = 0; i < MAX_LIVE; i++)
		verify_mapping(&S.m[i]);
}

static void check_stats(void)
{
	struct swiotlb_stats st = mstats();
	uint64_t nb = 0, nc = 0, slots = 0;

	for (int i = 0; i < MAX_LIVE; i++) {
		const struct mapping *m = &S.m[i];

		if (!m->used || m->kind == K_DIRECT)
			continue;
		if (m->kind == K_BOUNCE)
			nb++;
		else
			nc++;
		slots += m->run_len / SLOT;
	}
	EXPECT(st.mappings == nb, "stats mappings %llu, model %llu",
	       (unsigned long long)st.mappings, (unsigned long long)nb);
	EXPECT(st.coherent_allocs == nc, "stats coherent_allocs %llu, model %llu",
	       (unsigned long long)st.coherent_allocs, (unsigned long long)nc);
	if (S.dynamic && st.used_slots > st.total_slots) {
		/* The growth thread publishes a pool before it adds its slots
		 * to total_slots (counters are consistent one by one only):
		 * a map may land there in between.  It must not last. */
		usleep(20000);
		st = mstats();
	}
	EXPECT(st.used_slots <= st.total_slots, "used %llu > total %llu",
	       (unsigned long long)st.used_slots, (unsigned long long)st.total_slots);
	EXPECT(st.hiwater_slots >= st.used_slots, "hiwater %llu < used %llu",
	       (unsigned long long)st.hiwater_slots, (unsigned long long)st.used_slots);
	EXPECT(st.transient_pools <= nb + nc, "transient pools %llu > live %llu",
	       (unsigned long long)st.transient_pools, (unsigned long long)(nb + nc));
	if (!S.dynamic) {
		EXPECT(st.total_slots == POOL_SIZE / SLOT, "total_slots %llu",
		       (unsigned long long)st.total_slots);
		EXPECT(st.transient_pools == 0, "transient pools without dynamic");
	}
	if (st.transient_pools == 0)
		EXPECT(st.used_slots == slots, "used_slots %llu, model %llu",
		       (unsigned long long)st.used_slots, (unsigned long long)slots);
	else
		EXPECT(st.used_slots < slots, "used_slots %llu, model %llu with transients",
		       (unsigned long long)st.used_slots, (unsigned long long)slots);
	for (int di = 0; di < NDEV; di++) {
		struct swiotlb_dev_stats ds;

		if (!S.d[di].dev)
			continue;
		EXPECT(swiotlb_dev_stats(S.d[di].dev, &ds) == 0, "dev_stats");
		EXPECT(ds.mappings == dev_live_model(di), "dev %d stats mappings %llu, model %u",
		       di, (unsigned long long)ds.mappings, dev_live_model(di));
		EXPECT(ds.transient_pools <= dev_live_model(di), "dev %d transient pools", di);
	}
}

static void drop_mapping(struct mapping *m, bool bury)
{
	if (bury) {
		struct tomb *t = &S.grave[S.ngrave++ % NGRAVE];

		t->used = true;
		t->kind = m->kind;
		t->dev = m->dev;
		t->addr = m->addr;
		t->size = m->size;
		t->dir = m->dir;
		t->cpu = m->cpu;
	}
	free(m->buf);
	free(m->sh_orig);
	free(m->sh_bounce);
	memset(m, 0, sizeof(*m));
}

/* ---- devices ---- */

static void dev_make(int di, uint8_t cfgb)
{
	struct devslot *d = &S.d[di];
	struct swiotlb_dev_config c = { 0 };
	char name[8];

	snprintf(name, sizeof(name), "fz%d", di);
	c.name = name;
	c.min_align_mask = min_aligns[cfgb & 3];
	c.seg_boundary_mask = boundaries[(cfgb >> 2) & 3];
	c.force_bounce = ((cfgb >> 4) & 7) != 7;
	d->dev = swiotlb_dev_create(S.mem, &c);
	EXPECT(d->dev, "dev_create(min_align %u, boundary %#llx, force %d) errno %d",
	       c.min_align_mask, (unsigned long long)c.seg_boundary_mask, c.force_bounce, errno);
	d->min_align = c.min_align_mask;
	d->boundary = c.seg_boundary_mask;
	d->direct = !c.force_bounce;
	/* a mapping never crosses the segment boundary either */
	d->max_map = (d->boundary && d->boundary < SEG - 1 ? d->boundary + 1 : SEG) -
		     align_up(d->min_align, SLOT);
	EXPECT(swiotlb_max_mapping_size(d->dev) == d->max_map, "max_mapping_size %zu, want %zu",
	       swiotlb_max_mapping_size(d->dev), d->max_map);
	EXPECT(strcmp(swiotlb_dev_name(d->dev), name) == 0, "dev name");
	TRACE("dev %d created: min_align %u boundary %#llx direct %d", di, d->min_align,
	      (unsigned long long)d->boundary, d->direct);
}

/* A live device slot chosen by the input, or -1. */
static int pick_dev(struct in *in)
{
	int start = rd8(in) % NDEV;

	for (int k = 0; k < NDEV; k++) {
		int di = (start + k) % NDEV;

		if (S.d[di].dev)
			return di;
	}
	return -1;
}

/* A live mapping chosen by the input whose kind is in mask, or -1. */
static int pick_mapping(struct in *in, unsigned kinds)
{
	int cand[MAX_LIVE], n = 0;

	for (int i = 0; i < MAX_LIVE; i++)
		if (S.m[i].used && (kinds >> S.m[i].kind & 1))
			cand[n++] = i;
	if (!n)
		return -1;
	return cand[rd8(in) % n];
}

/* ---- argument generators ---- */

static size_t rd_size(struct in *in, const struct devslot *d)
{
	uint8_t sel = rd8(in);

	switch (sel & 15) {
	case 0: return 0;
	case 1: return 1;
	case 2: return 2048;
	case 3: return 2049;
	case 4: return 4096;
	case 5: return d->max_map;
	case 6: return d->max_map + 1;
	case 7: return SEG;
	case 8: return SIZE_MAX;
	case 9: return (size_t)1 << 40;
	case 10: return SIZE_MAX - 4095;
	case 11: return 1 + (size_t)rd8(in);
	case 12: return 1 + (size_t)(rd16(in) & 0xfff);
	case 13: return 1 + (size_t)rd16(in);
	case 14: return 1 + (size_t)(rd32(in) % (SEG + 8192));
	default: return 1 + (size_t)rd16(in) % 20000;
	}
}

static int rd_dir(struct in *in)
{
	static const int dirs[8] = { 0, 1, 2, 0, 1, 2, 3, -1 };

	return dirs[rd8(in) & 7];
}

static unsigned rd_attrs(struct in *in)
{
	uint8_t sel = rd8(in);
	unsigned a = 0;

	if (sel & 1)
		a |= SWIOTLB_ATTR_SKIP_CPU_SYNC;
	if (sel & 2)
		a |= SWIOTLB_ATTR_NO_WARN;
	if ((sel & 0x1c) == 0x1c)
		a |= SWIOTLB_ATTR_MAY_BLOCK;
	if ((sel & 0xe0) == 0xe0)
		a |= 1u << (rd8(in) & 31);
	return a;
}

static size_t rd_aam(struct in *in)
{
	static const size_t v[16] = { 0, 1, 2047, 4095, 8191, 65535, SEG - 1, SEG, 3000,
				      SIZE_MAX, 1023, 0x1ffff, 0, 4095, 2047, 0x7ffffff };

	return v[rd8(in) & 15];
}

/* ---- map ---- */

enum pred { P_EINVAL, P_E2BIG, P_DIRECT, P_OK };

static enum pred predict_map(const struct devslot *d, const void *cpu, size_t size, int dir,
			     unsigned attrs, size_t aam)
{
	uintptr_t a = (uintptr_t)cpu;
	size_t offset, alloc;

	if (!cpu || !size || (unsigned)dir > 2 || (attrs & ~KNOWN_ATTRS) ||
	    (aam & (aam + 1)) || aam >= SEG || a + size - 1 < a /* wraps */)
		return P_EINVAL;
	if (d->direct)
		return P_DIRECT;
	if (size > d->max_map)
		return P_E2BIG;
	offset = a & d->min_align & (aam | (SLOT - 1));
	alloc = align_up(size + offset, aam + 1);
	if (alloc > SEG)
		return P_E2BIG;
	return P_OK;
}

static bool mem_empty(void)
{
	struct swiotlb_stats st = mstats();

	for (int i = 0; i < MAX_LIVE; i++)
		if (S.m[i].used && S.m[i].kind != K_DIRECT)
			return false;
	return st.used_slots == 0 && st.transient_pools == 0;
}

/* A caller buffer: size bytes (a small one for huge sizes) at offset off
 * from a fresh malloc block, filled with data; its shadow. */
struct cbuf {
	uint8_t *buf, *cpu, *sh;
	size_t span;
};

static void cbuf_make(struct cbuf *c, size_t size, size_t off)
{
	c->span = size <= BIG_SPAN ? size : 64;
	if (!c->span)
		c->span = 1;
	c->buf = malloc(off + c->span);
	c->sh = malloc(c->span);
	if (!c->buf || !c->sh)
		abort();
	c->cpu = c->buf + off;
	fill(c->cpu, c->span);
	memcpy(c->sh, c->cpu, c->span);
}

static void cbuf_free(struct cbuf *c)
{
	EXPECT(memcmp(c->cpu, c->sh, c->span) == 0,
	       "caller buffer of a failed map changed");
	free(c->buf);
	free(c->sh);
}

/* Record a successful map of cb (ownership moves to the model) and check
 * its placement and content. */
static void record_map(int di, struct cbuf *cb, size_t size, int dir, size_t aam,
		       swiotlb_addr_t out, enum pred p)
{
	const struct devslot *d = &S.d[di];
	int i = free_slot();
	struct mapping *m;

	EXPECT(i >= 0, "model full");
	m = &S.m[i];
	m->used = true;
	m->dev = di;
	m->buf = cb->buf;
	m->cpu = cb->cpu;
	m->size = size;
	m->span = cb->span;
	m->dir = dir;
	m->addr = out;
	m->sh_orig = cb->sh;
	if (p == P_DIRECT) {
		m->kind = K_DIRECT;
		EXPECT(out == (uintptr_t)cb->cpu, "direct map returned %#llx for %p",
		       (unsigned long long)out, (void *)cb->cpu);
		return;
	}
	m->kind = K_BOUNCE;
	{
		uintptr_t a = (uintptr_t)cb->cpu;
		size_t offset = a & d->min_align & (aam | (SLOT - 1));
		size_t alloc = align_up(size + offset, aam + 1);
		size_t eff = aam | (SLOT - 1);

		if (!aam && !d->min_align && alloc >= 4096)
			eff = 4095;
		m->run_start = out - offset;
		m->run_len = align_up(alloc, SLOT);
		EXPECT((out & d->min_align) == (a & d->min_align),
		       "min_align_mask %#x not preserved: orig %p bounce %#llx", d->min_align,
		       (void *)cb->cpu, (unsigned long long)out);
		EXPECT((m->run_start & eff) == 0,
		       "run start %#llx not aligned to %#zx (aam %#zx, size %zu, offset %zu)",
		       (unsigned long long)m->run_start, eff, aam, size, offset);
		if (d->boundary)
			EXPECT((m->run_start & ~d->boundary) ==
				       ((m->run_start + m->run_len - 1) & ~d->boundary),
			       "run [%#llx, +%#llx) crosses boundary mask %#llx",
			       (unsigned long long)m->run_start, (unsigned long long)m->run_len,
			       (unsigned long long)d->boundary);
	}
	m->sh_bounce = malloc(size);
	if (!m->sh_bounce)
		abort();
	memcpy(m->sh_bounce, m->sh_orig, size);
}

/* Checks common to a new bounce mapping or coherent allocation. */
static void check_new_run(int idx)
{
	const struct mapping *m = &S.m[idx];
	struct swiotlb_dev *dev = S.d[m->dev].dev;

	for (int j = 0; j < MAX_LIVE; j++) {
		const struct mapping *o = &S.m[j];

		if (j == idx || !o->used || o->kind == K_DIRECT)
			continue;
		EXPECT(m->run_start + m->run_len <= o->run_start ||
			       o->run_start + o->run_len <= m->run_start,
		       "runs overlap: new [%#llx,+%#llx) dev %d, live [%#llx,+%#llx) dev %d",
		       (unsigned long long)m->run_start, (unsigned long long)m->run_len, m->dev,
		       (unsigned long long)o->run_start, (unsigned long long)o->run_len, o->dev);
	}
	EXPECT(swiotlb_is_bounce(dev, m->addr), "is_bounce(new mapping %#llx) false",
	       (unsigned long long)m->addr);
	EXPECT(swiotlb_is_bounce(dev, m->run_start), "is_bounce(run start) false");
	EXPECT(swiotlb_is_bounce(dev, m->run_start + m->run_len - 1), "is_bounce(run end) false");
	EXPECT(swiotlb_addr_to_cpu(dev, m->addr) == (void *)(uintptr_t)m->addr,
	       "addr_to_cpu is not the identity for the mmap provider");
	EXPECT(swiotlb_addr_to_cpu(dev, m->addr + m->span - 1) ==
		       (void *)(uintptr_t)(m->addr + m->span - 1),
	       "addr_to_cpu(last byte)");
}

static void check_failed_map(int rc, enum pred p, unsigned attrs, bool may_block,
			     const struct swiotlb_stats *st0, unsigned logs0, bool strict_ok)
{
	struct swiotlb_stats st = mstats();
	unsigned logs = atomic_load_explicit(&full_logs, memory_order_relaxed); /* counter */

	switch (p) {
	case P_EINVAL:
		EXPECT(rc == -EINVAL, "map: want -EINVAL, got %d", rc);
		break;
	case P_E2BIG:
		EXPECT(rc == -E2BIG, "map: want -E2BIG, got %d", rc);
		break;
	case P_DIRECT:
		FAIL("direct map failed with %d", rc);
	case P_OK:
		EXPECT(!strict_ok, "map into an empty memory failed with %d", rc);
		EXPECT(rc == -ENOSPC || (may_block && rc == -ETIMEDOUT),
		       "map: want 0 or -ENOSPC%s, got %d", may_block ? "/-ETIMEDOUT" : "", rc);
		EXPECT(st.failed_maps == st0->failed_maps + 1, "failed_maps not counted");
		break;
	}
	EXPECT(st.used_slots == st0->used_slots && st.mappings == st0->mappings,
	       "rejected map (%d) changed used_slots %llu->%llu / mappings %llu->%llu", rc,
	       (unsigned long long)st0->used_slots, (unsigned long long)st.used_slots,
	       (unsigned long long)st0->mappings, (unsigned long long)st.mappings);
	if (rc == -ENOSPC && !(attrs & SWIOTLB_ATTR_NO_WARN))
		EXPECT(logs == logs0 + 1, "-ENOSPC without the 'buffer is full' log line");
	else
		EXPECT(logs == logs0, "'buffer is full' logged (rc %d, attrs %#x)", rc, attrs);
}

static void do_unmap(int di, swiotlb_addr_t addr, size_t size, int dir, unsigned attrs,
		     int verify_idx);

/* Record and check a successful map; returns the model index. */
static int map_succeeded(int di, struct cbuf *cb, size_t size, int dir, size_t aam,
			 swiotlb_addr_t out, enum pred p)
{
	int idx = -1;

	EXPECT(p == P_OK || p == P_DIRECT, "map succeeded, predicted error %d", p);
	EXPECT(memcmp(cb->cpu, cb->sh, cb->span) == 0, "map changed the caller buffer");
	record_map(di, cb, size, dir, aam, out, p);
	for (int i = 0; i < MAX_LIVE; i++)
		if (S.m[i].used && S.m[i].addr == out && S.m[i].dev == di &&
		    S.m[i].kind == (p == P_OK ? K_BOUNCE : K_DIRECT))
			idx = i;
	EXPECT(idx >= 0, "lost the new mapping");
	if (p == P_OK) {
		check_new_run(idx);
		verify_mapping(&S.m[idx]);
	}
	return idx;
}

/* variant: 0 map, 1 map_align, 2 map_timeout */
static void op_map(struct in *in, int variant)
{
	int di = pick_dev(in);
	struct devslot *d;
	struct cbuf cb;
	size_t size, off, aam = 0;
	unsigned attrs, tmo = 0, logs0;
	int dir, rc;
	bool may_block, strict_ok, nullcpu;
	swiotlb_addr_t out = 0;
	struct swiotlb_stats st0;
	enum pred p;

	if (di < 0 || nlive() >= MAX_LIVE)
		return;
	d = &S.d[di];
	size = rd_size(in, d);
	off = rd16(in) & 0x3fff;
	dir = rd_dir(in);
	attrs = rd_attrs(in);
	nullcpu = (off & 0x3fff) == 0x3fff;
	if (variant == 1)
		aam = rd_aam(in);
	if (variant == 2)
		tmo = rd8(in) % 3;
	may_block = variant == 2 || (attrs & SWIOTLB_ATTR_MAY_BLOCK);
	cbuf_make(&cb, size, off);
	p = predict_map(d, nullcpu ? NULL : cb.cpu, size, dir,
			attrs | (variant == 2 ? SWIOTLB_ATTR_MAY_BLOCK : 0), aam);
	strict_ok = p == P_OK && !d->boundary && aam <= 4095 && mem_empty();
	st0 = mstats();
	logs0 = atomic_load_explicit(&full_logs, memory_order_relaxed); /* counter */
	TRACE("map%s dev %d cpu %p size %zu dir %d attrs %#x aam %#zx tmo %u pred %d",
	      variant == 1 ? "_align" : variant == 2 ? "_timeout" : "", di,
	      nullcpu ? NULL : (void *)cb.cpu, size, dir, attrs, aam, tmo, p);
	if (variant == 0)
		rc = swiotlb_map(d->dev, nullcpu ? NULL : cb.cpu, size, dir, attrs, &out);
	else if (variant == 1)
		rc = swiotlb_map_align(d->dev, nullcpu ? NULL : cb.cpu, size, dir, attrs, aam, &out);
	else
		rc = swiotlb_map_timeout(d->dev, nullcpu ? NULL : cb.cpu, size, dir, attrs, tmo, &out);
	TRACE("  -> %d addr %#llx", rc, (unsigned long long)out);
	if (rc) {
		check_failed_map(rc, p, attrs, may_block, &st0, logs0, strict_ok);
		cbuf_free(&cb);
		return;
	}
	map_succeeded(di, &cb, size, dir, aam, out, p);
}

/* Many map/unmap pairs in a row: with the pool full and dynamic pools,
 * every pair creates and releases a transient pool (lookup index churn). */
static void op_churn(struct in *in)
{
	int di = pick_dev(in);
	size_t size, off;
	int dir, rc, idx;
	unsigned n;
	enum pred p;
	struct cbuf cb;
	swiotlb_addr_t out = 0;

	if (di < 0 || nlive() >= MAX_LIVE)
		return;
	size = rd_size(in, &S.d[di]);
	off = rd16(in) & 0x1fff;
	dir = rd_dir(in);
	n = 1 + rd8(in) % 32;
	TRACE("churn dev %d size %zu dir %d x%u", di, size, dir, n);
	for (unsigned k = 0; k < n; k++) {
		cbuf_make(&cb, size, off);
		p = predict_map(&S.d[di], cb.cpu, size, dir, SWIOTLB_ATTR_NO_WARN, 0);
		rc = swiotlb_map(S.d[di].dev, cb.cpu, size, dir, SWIOTLB_ATTR_NO_WARN, &out);
		if (rc) {
			EXPECT(p == P_EINVAL ? rc == -EINVAL
			       : p == P_E2BIG ? rc == -E2BIG : p == P_OK && rc == -ENOSPC,
			       "churn map: rc %d, predicted %d", rc, p);
			cbuf_free(&cb);
			return;
		}
		idx = map_succeeded(di, &cb, size, dir, 0, out, p);
		if (k & 1) { /* the device answers */
			struct mapping *m = &S.m[idx];

			fill((uint8_t *)(uintptr_t)out, m->span);
			memcpy(m->kind == K_BOUNCE ? m->sh_bounce : m->sh_orig,
			       (uint8_t *)(uintptr_t)out, m->span);
		}
		do_unmap(di, out, size, dir, 0, -1);
	}
}

/* ---- unmap ---- */

enum expect { E_OK, E_EINVAL, E_LAX /* 0 or -EINVAL, no change */, E_ZERO /* 0, no change */ };

/* What must unmap(di, addr, size, dir, attrs) do?  *hit = matching mapping. */
static enum expect expect_unmap(int di, swiotlb_addr_t addr, size_t size, int dir,
				unsigned attrs, const bool *gone, int *hit)
{
	*hit = -1;
	if (!size || (unsigned)dir > 2 || (attrs & ~KNOWN_ATTRS))
		return E_EINVAL;
	for (int i = 0; i < MAX_LIVE; i++) {
		const struct mapping *m = &S.m[i];

		if (!m->used || (gone && gone[i]) || m->kind == K_COHERENT || m->dev != di ||
		    m->addr != addr || m->size != size || m->dir != dir)
			continue;
		*hit = i;
		return E_OK;
	}
	if (in_dev_run(di, addr, gone))
		return E_EINVAL;
	if (!S.d[di].direct || addr + size - 1 < addr) /* force_bounce, or wraps */
		return E_EINVAL;
	if (in_direct_buf(addr))
		return E_ZERO;
	return E_LAX;
}

/* After a successful unmap of mapping i: check the copy-back, drop it. */
static void unmap_done(int i, unsigned attrs)
{
	struct mapping *m = &S.m[i];

	if (m->kind == K_BOUNCE && m->dir != SWIOTLB_TO_DEVICE &&
	    !(attrs & SWIOTLB_ATTR_SKIP_CPU_SYNC))
		memcpy(m->sh_orig, m->sh_bounce, m->size);
	EXPECT(memcmp(m->cpu, m->sh_orig, m->span) == 0,
	       "after unmap (dir %d attrs %#x) the caller buffer is not what %s", m->dir, attrs,
	       m->kind == K_BOUNCE && m->dir != SWIOTLB_TO_DEVICE &&
				       !(attrs & SWIOTLB_ATTR_SKIP_CPU_SYNC)
		       ? "the device wrote"
		       : "the CPU left there");
	drop_mapping(m, true);
}

static void do_unmap(int di, swiotlb_addr_t addr, size_t size, int dir, unsigned attrs,
		     int verify_idx)
{
	struct swiotlb_stats st0 = mstats(), st;
	int hit, rc;
	enum expect e = expect_unmap(di, addr, size, dir, attrs, NULL, &hit);

	TRACE("unmap dev %d addr %#llx size %zu dir %d attrs %#x expect %d (hit %d)", di,
	      (unsigned long long)addr, size, dir, attrs, e, hit);
	rc = swiotlb_unmap(S.d[di].dev, addr, size, dir, attrs);
	TRACE("  -> %d", rc);
	switch (e) {
	case E_OK:
		EXPECT(rc == 0, "valid unmap (dev %d addr %#llx size %zu dir %d) failed: %d", di,
		       (unsigned long long)addr, size, dir, rc);
		unmap_done(hit, attrs);
		return;
	case E_EINVAL:
		EXPECT(rc == -EINVAL, "bad unmap: want -EINVAL, got %d", rc);
		break;
	case E_ZERO:
		EXPECT(rc == 0, "unmap of a direct address: want 0, got %d", rc);
		break;
	case E_LAX:
		EXPECT(rc == 0 || rc == -EINVAL, "bad unmap: want 0 or -EINVAL, got %d", rc);
		break;
	}
	st = mstats();
	EXPECT(st.used_slots == st0.used_slots && st.mappings == st0.mappings,
	       "rejected unmap changed used_slots %llu->%llu / mappings %llu->%llu",
	       (unsigned long long)st0.used_slots, (unsigned long long)st.used_slots,
	       (unsigned long long)st0.mappings, (unsigned long long)st.mappings);
	if (verify_idx >= 0)
		verify_mapping(&S.m[verify_idx]);
}

static void op_unmap(struct in *in, bool corrupt)
{
	int i = pick_mapping(in, 1u << K_BOUNCE | 1u << K_DIRECT);
	struct mapping *m;
	swiotlb_addr_t addr;
	size_t size;
	int dir, di;
	unsigned attrs;

	if (i < 0)
		return;
	m = &S.m[i];
	addr = m->addr;
	size = m->size;
	dir = m->dir;
	di = m->dev;
	attrs = rd_attrs(in) & ~SWIOTLB_ATTR_MAY_BLOCK;
	if (corrupt) {
		switch (rd8(in) & 7) {
		case 0: addr++; break;
		case 1: addr--; break;
		case 2: size++; break;
		case 3: size = size > 1 ? size - 1 : size + SLOT; break;
		case 4: dir = (dir + 1) % 3; break;
		case 5: dir = (rd8(in) & 1) ? 3 : -1; break;
		case 6: {
			int o = (di + 1 + rd8(in) % (NDEV - 1)) % NDEV;

			if (S.d[o].dev)
				di = o;
			else
				addr += SLOT;
			break;
		}
		default: addr += SLOT; break;
		}
	}
	do_unmap(di, addr, size, dir, attrs, i);
}

/* ---- sync ---- */

static enum expect expect_sync(int di, swiotlb_addr_t addr, size_t len, int dir, int *hit)
{
	*hit = -1;
	if (!len || (unsigned)dir > 2)
		return E_EINVAL;
	for (int i = 0; i < MAX_LIVE; i++) {
		const struct mapping *m = &S.m[i];

		if (!m->used || m->kind != K_BOUNCE || m->dev != di || addr < m->addr ||
		    addr - m->addr >= m->size)
			continue;
		*hit = i;
		if (len > m->size - (addr - m->addr))
			return E_EINVAL;
		if (m->dir != SWIOTLB_BIDIRECTIONAL && m->dir != dir)
			return E_EINVAL;
		return E_OK;
	}
	if (in_dev_run(di, addr, NULL))
		return E_EINVAL;
	if (!S.d[di].direct || addr + len - 1 < addr) /* force_bounce, or wraps */
		return E_EINVAL;
	if (in_direct_buf(addr))
		return E_ZERO;
	return E_LAX;
}

static void do_sync(int di, swiotlb_addr_t addr, size_t len, int dir, bool to_cpu)
{
	struct swiotlb_stats st0 = mstats(), st;
	int hit, rc;
	enum expect e = expect_sync(di, addr, len, dir, &hit);

	TRACE("sync_for_%s dev %d addr %#llx len %zu dir %d expect %d (hit %d)",
	      to_cpu ? "cpu" : "device", di, (unsigned long long)addr, len, dir, e, hit);
	if (to_cpu)
		rc = swiotlb_sync_for_cpu(S.d[di].dev, addr, len, dir);
	else
		rc = swiotlb_sync_for_device(S.d[di].dev, addr, len, dir);
	TRACE("  -> %d", rc);
	switch (e) {
	case E_OK: {
		struct mapping *m = &S.m[hit];
		size_t o = addr - m->addr;

		EXPECT(rc == 0, "valid sync failed: %d", rc);
		if (to_cpu && dir != SWIOTLB_TO_DEVICE)
			memcpy(m->sh_orig + o, m->sh_bounce + o, len);
		else if (!to_cpu && dir != SWIOTLB_FROM_DEVICE)
			memcpy(m->sh_bounce + o, m->sh_orig + o, len);
		break;
	}
	case E_EINVAL:
		EXPECT(rc == -EINVAL, "bad sync: want -EINVAL, got %d", rc);
		break;
	case E_ZERO:
		EXPECT(rc == 0, "sync of a direct address: want 0, got %d", rc);
		break;
	case E_LAX:
		EXPECT(rc == 0 || rc == -EINVAL, "bad sync: want 0 or -EINVAL, got %d", rc);
		break;
	}
	st = mstats();
	EXPECT(st.used_slots == st0.used_slots && st.mappings == st0.mappings,
	       "sync changed used_slots / mappings");
	if (hit >= 0)
		verify_mapping(&S.m[hit]);
}

static void op_sync(struct in *in, bool to_cpu)
{
	int i = pick_mapping(in, 1u << K_BOUNCE | 1u << K_DIRECT);
	struct mapping *m;
	size_t a, len;
	int dir;
	uint8_t sel;

	if (i < 0)
		return;
	m = &S.m[i];
	sel = rd8(in);
	a = rd16(in) % m->span;
	len = 1 + rd16(in) % (m->span - a);
	switch (sel & 15) {
	case 10: len = m->span - a + 1; break;          /* one past the end */
	case 11: a = m->span; len = 1; break;          /* just after the end */
	case 12: /* addr - start + len overflows */
		len = no_sync_overflow ? SIZE_MAX >> 1 : SIZE_MAX - (sel >> 4);
		break;
	case 13: a = (size_t)-1; len = 2; break;        /* one before the start */
	case 14: len = 0; break;
	case 15: len = (size_t)1 << 63; break;
	default: break;
	}
	dir = (sel & 0x30) == 0x30 ? rd_dir(in) : m->dir;
	if (m->dir == SWIOTLB_BIDIRECTIONAL && (sel & 0xc0) == 0x40)
		dir = to_cpu ? SWIOTLB_FROM_DEVICE : SWIOTLB_TO_DEVICE;
	do_sync(m->dev, m->addr + a, len, dir, to_cpu);
}

/* ---- device / CPU writes ---- */

static void op_write(struct in *in, bool device)
{
	int i = pick_mapping(in, device ? 7u : (1u << K_BOUNCE | 1u << K_DIRECT));
	struct mapping *m;
	size_t a, len;

	if (i < 0)
		return;
	m = &S.m[i];
	a = rd16(in) % m->span;
	len = 1 + rd16(in) % (m->span - a);
	if (rd8(in) & 1)
		len = m->span - a;
	if (device && m->kind == K_BOUNCE) {
		uint8_t *b = swiotlb_addr_to_cpu(S.d[m->dev].dev, m->addr + a);

		EXPECT(b == (uint8_t *)(uintptr_t)(m->addr + a), "addr_to_cpu(%#llx) = %p",
		       (unsigned long long)(m->addr + a), (void *)b);
		fill(b, len);
		memcpy(m->sh_bounce + a, b, len);
	} else {
		/* coherent memory, a direct mapping (the device writes the
		 * caller buffer itself), or the CPU writing its buffer */
		fill(m->cpu + a, len);
		memcpy(m->sh_orig + a, m->cpu + a, len);
	}
	TRACE("%s write mapping %d [%zu, +%zu)", device ? "device" : "cpu", i, a, len);
}

/* ---- scatter-gather ---- */

#define SG_MAX 4

static void op_map_sg(struct in *in)
{
	int di = pick_dev(in);
	struct devslot *d;
	struct swiotlb_sg sg[SG_MAX];
	struct cbuf cb[SG_MAX];
	enum pred p[SG_MAX];
	size_t n, failed = (size_t)-1;
	int dir, rc;
	unsigned attrs, logs0;
	struct swiotlb_stats st0, st;

	if (di < 0)
		return;
	d = &S.d[di];
	n = rd8(in) % (SG_MAX + 1);
	dir = rd_dir(in);
	attrs = rd_attrs(in);
	if (nlive() + (int)n > MAX_LIVE)
		return;
	for (size_t k = 0; k < n; k++) {
		size_t size = rd_size(in, d), off = rd16(in) & 0x3fff;

		cbuf_make(&cb[k], size, off);
		sg[k].cpu = cb[k].cpu;
		sg[k].len = size;
		sg[k].addr = 0;
		p[k] = predict_map(d, cb[k].cpu, size, dir, attrs, 0);
	}
	st0 = mstats();
	logs0 = atomic_load_explicit(&full_logs, memory_order_relaxed); /* counter */
	TRACE("map_sg dev %d n %zu dir %d attrs %#x", di, n, dir, attrs);
	if (n && (rd8(in) & 0x7f) == 0x7f) {
		rc = swiotlb_map_sg(d->dev, NULL, n, dir, attrs, &failed);
		EXPECT(rc == -EINVAL, "map_sg(NULL, %zu) = %d", n, rc);
		for (size_t k = 0; k < n; k++)
			cbuf_free(&cb[k]);
		return;
	}
	rc = swiotlb_map_sg(d->dev, sg, n, dir, attrs, &failed);
	TRACE("  -> %d failed %zu", rc, failed);
	if (rc == 0) {
		for (size_t k = 0; k < n; k++) {
			EXPECT(p[k] == P_OK || p[k] == P_DIRECT,
			       "map_sg succeeded but entry %zu predicted error %d", k, p[k]);
			EXPECT(memcmp(cb[k].cpu, cb[k].sh, cb[k].span) == 0,
			       "map_sg changed a caller buffer");
			record_map(di, &cb[k], sg[k].len, dir, 0, sg[k].addr, p[k]);
			if (p[k] == P_OK) {
				for (int i = 0; i < MAX_LIVE; i++)
					if (S.m[i].used && S.m[i].kind == K_BOUNCE &&
					    S.m[i].addr == sg[k].addr && S.m[i].dev == di) {
						check_new_run(i);
						verify_mapping(&S.m[i]);
					}
			}
		}
		return;
	}
	EXPECT(failed < n, "map_sg failed (%d) with index %zu of %zu", rc, failed, n);
	for (size_t k = 0; k < failed; k++)
		EXPECT(p[k] == P_OK || p[k] == P_DIRECT,
		       "map_sg mapped entry %zu that should have failed (%d)", k, p[k]);
	switch (p[failed]) {
	case P_EINVAL: EXPECT(rc == -EINVAL, "map_sg entry: want -EINVAL, got %d", rc); break;
	case P_E2BIG: EXPECT(rc == -E2BIG, "map_sg entry: want -E2BIG, got %d", rc); break;
	case P_DIRECT: FAIL("map_sg: direct entry failed with %d", rc);
	case P_OK:
		EXPECT(rc == -ENOSPC || (rc == -ETIMEDOUT && (attrs & SWIOTLB_ATTR_MAY_BLOCK)),
		       "map_sg entry: want -ENOSPC, got %d", rc);
		break;
	}
	st = mstats();
	EXPECT(st.used_slots == st0.used_slots && st.mappings == st0.mappings,
	       "failed map_sg did not roll back: used_slots %llu->%llu mappings %llu->%llu",
	       (unsigned long long)st0.used_slots, (unsigned long long)st.used_slots,
	       (unsigned long long)st0.mappings, (unsigned long long)st.mappings);
	if (rc == -ENOSPC && !(attrs & SWIOTLB_ATTR_NO_WARN))
		EXPECT(atomic_load_explicit(&full_logs, memory_order_relaxed) == logs0 + 1,
		       "map_sg -ENOSPC not logged once");
	else
		EXPECT(atomic_load_explicit(&full_logs, memory_order_relaxed) == logs0,
		       "map_sg logged 'buffer is full'");
	for (size_t k = 0; k < n; k++)
		cbuf_free(&cb[k]);
}

/* Collect up to SG_MAX live streaming mappings of one device and direction. */
static size_t collect_group(struct in *in, int *idx, int *di, int *dir)
{
	int first = pick_mapping(in, 1u << K_BOUNCE | 1u << K_DIRECT);
	size_t n = 0;

	if (first < 0)
		return 0;
	*di = S.m[first].dev;
	*dir = S.m[first].dir;
	idx[n++] = first;
	for (int i = 0; i < MAX_LIVE && n < SG_MAX; i++) {
		const struct mapping *m = &S.m[i];

		if (i != first && m->used && m->kind != K_COHERENT && m->dev == *di &&
		    m->dir == *dir && (rd8(in) & 1))
			idx[n++] = i;
	}
	return n;
}

static void op_unmap_sg(struct in *in)
{
	int idx[SG_MAX + 1], di, dir, rc, hit;
	struct swiotlb_sg sg[SG_MAX + 1];
	bool gone[MAX_LIVE] = { false }, any_strict = false, all_ok = true;
	size_t n = collect_group(in, idx, &di, &dir);
	unsigned attrs = rd_attrs(in) & ~SWIOTLB_ATTR_MAY_BLOCK;
	uint8_t sel = rd8(in);

	if (!n)
		return;
	for (size_t k = 0; k < n; k++) {
		sg[k].cpu = S.m[idx[k]].cpu;
		sg[k].len = S.m[idx[k]].size;
		sg[k].addr = S.m[idx[k]].addr;
	}
	if (sel & 1) { /* a bad entry: a duplicate or a corrupted one */
		sg[n] = sg[sel >> 1 & 1 ? 0 : n - 1];
		if (sel & 4)
			sg[n].addr += 1;
		n++;
	}
	TRACE("unmap_sg dev %d n %zu dir %d attrs %#x", di, n, dir, attrs);
	for (size_t k = 0; k < n; k++) {
		enum expect e = expect_unmap(di, sg[k].addr, sg[k].len, dir, attrs, gone, &hit);

		if (e == E_OK)
			gone[hit] = true;
		else if (e == E_EINVAL)
			any_strict = true;
		if (e != E_OK && e != E_ZERO)
			all_ok = false;
	}
	rc = swiotlb_unmap_sg(S.d[di].dev, sg, n, dir, attrs);
	TRACE("  -> %d", rc);
	if (any_strict)
		EXPECT(rc == -EINVAL, "unmap_sg with a bad entry: want -EINVAL, got %d", rc);
	else if (all_ok)
		EXPECT(rc == 0, "unmap_sg of live mappings: %d", rc);
	else
		EXPECT(rc == 0 || rc == -EINVAL, "unmap_sg: %d", rc);
	for (int i = 0; i < MAX_LIVE; i++)
		if (gone[i])
			unmap_done(i, attrs);
	check_stats();
}

static void op_sync_sg(struct in *in, bool to_cpu)
{
	int idx[SG_MAX], di, dir, rc;
	struct swiotlb_sg sg[SG_MAX];
	size_t n = collect_group(in, idx, &di, &dir);

	if (!n)
		return;
	for (size_t k = 0; k < n; k++) {
		const struct mapping *m = &S.m[idx[k]];
		size_t a = rd16(in) % m->span;

		sg[k].cpu = m->cpu + a;
		sg[k].addr = m->addr + a;
		sg[k].len = 1 + rd16(in) % (m->span - a);
	}
	TRACE("sync_sg_for_%s dev %d n %zu dir %d", to_cpu ? "cpu" : "device", di, n, dir);
	rc = to_cpu ? swiotlb_sync_sg_for_cpu(S.d[di].dev, sg, n, dir)
		    : swiotlb_sync_sg_for_device(S.d[di].dev, sg, n, dir);
	EXPECT(rc == 0, "sync_sg of valid sub-ranges: %d", rc);
	for (size_t k = 0; k < n; k++) {
		struct mapping *m = &S.m[idx[k]];
		size_t o = sg[k].addr - m->addr;

		if (m->kind != K_BOUNCE)
			continue;
		if (to_cpu && dir != SWIOTLB_TO_DEVICE)
			memcpy(m->sh_orig + o, m->sh_bounce + o, sg[k].len);
		else if (!to_cpu && dir != SWIOTLB_FROM_DEVICE)
			memcpy(m->sh_bounce + o, m->sh_orig + o, sg[k].len);
	}
	for (size_t k = 0; k < n; k++)
		verify_mapping(&S.m[idx[k]]);
}

/* ---- coherent ---- */

static void op_alloc(struct in *in)
{
	int di = pick_dev(in), i;
	struct devslot *d;
	size_t size;
	swiotlb_addr_t out = 0;
	void *cpu;
	struct swiotlb_stats st0, st;
	bool strict_ok;
	unsigned logs0;
	int err;

	if (di < 0 || nlive() >= MAX_LIVE)
		return;
	d = &S.d[di];
	size = rd_size(in, d);
	strict_ok = size && size <= d->max_map && !d->boundary && mem_empty();
	st0 = mstats();
	logs0 = atomic_load_explicit(&full_logs, memory_order_relaxed); /* counter */
	errno = 0;
	cpu = swiotlb_alloc(d->dev, size, &out);
	err = errno;
	TRACE("alloc dev %d size %zu -> %p addr %#llx errno %d", di, size, cpu,
	      (unsigned long long)out, cpu ? 0 : err);
	if (!cpu) {
		st = mstats();
		if (!size)
			EXPECT(err == EINVAL, "alloc(0): errno %d", err);
		else if (size > SEG)
			EXPECT(err == E2BIG, "alloc(%zu): want E2BIG, errno %d", size, err);
		else if (size > d->max_map)
			EXPECT(err == E2BIG || err == ENOSPC, "alloc(%zu): errno %d", size, err);
		else
			EXPECT(!strict_ok && err == ENOSPC,
			       "alloc(%zu) failed with errno %d (strict %d)", size, err, strict_ok);
		EXPECT(st.used_slots == st0.used_slots && st.coherent_allocs == st0.coherent_allocs,
		       "failed alloc changed used_slots/coherent_allocs");
		if (err == ENOSPC)
			EXPECT(atomic_load_explicit(&full_logs, memory_order_relaxed) == logs0 + 1,
			       "alloc -ENOSPC not logged");
		return;
	}
	EXPECT(size && size <= SEG, "alloc(%zu) succeeded", size);
	EXPECT(cpu == (void *)(uintptr_t)out, "alloc: cpu %p != addr %#llx (identity provider)",
	       cpu, (unsigned long long)out);
	EXPECT((out & 4095) == 0, "alloc: addr %#llx not page aligned", (unsigned long long)out);
	i = free_slot();
	EXPECT(i >= 0, "model full");
	S.m[i] = (struct mapping){
		.used = true, .kind = K_COHERENT, .dev = di, .cpu = cpu, .size = size,
		.span = round4k(size), .dir = SWIOTLB_BIDIRECTIONAL, .addr = out,
		.run_start = out, .run_len = round4k(size),
	};
	S.m[i].sh_orig = calloc(1, S.m[i].span);
	if (!S.m[i].sh_orig)
		abort();
	EXPECT(memcmp(cpu, S.m[i].sh_orig, S.m[i].span) == 0, "alloc: memory not zeroed");
	if (d->boundary)
		EXPECT((out & ~d->boundary) == ((out + S.m[i].span - 1) & ~d->boundary),
		       "coherent run crosses the boundary");
	check_new_run(i);
}

static void do_free(int di, void *cpu, size_t size, swiotlb_addr_t addr)
{
	struct swiotlb_stats st0 = mstats(), st;
	int hit = -1, rc;

	if (size && cpu) {
		for (int i = 0; i < MAX_LIVE; i++) {
			const struct mapping *m = &S.m[i];

			if (m->used && m->kind == K_COHERENT && m->dev == di && m->addr == addr &&
			    m->cpu == cpu && m->size == size) /* the exact size */
				hit = i;
		}
	}
	TRACE("free dev %d cpu %p size %zu addr %#llx (hit %d)", di, cpu, size,
	      (unsigned long long)addr, hit);
	if (hit >= 0)
		verify_mapping(&S.m[hit]);
	rc = swiotlb_free(S.d[di].dev, cpu, size, addr);
	TRACE("  -> %d", rc);
	if (hit >= 0) {
		EXPECT(rc == 0, "valid free failed: %d", rc);
		drop_mapping(&S.m[hit], true);
		return;
	}
	EXPECT(rc == -EINVAL, "bogus free: want -EINVAL, got %d", rc);
	st = mstats();
	EXPECT(st.used_slots == st0.used_slots && st.coherent_allocs == st0.coherent_allocs &&
		       st.mappings == st0.mappings,
	       "rejected free changed the stats");
}

static void op_free(struct in *in, bool bogus)
{
	int i = pick_mapping(in, 1u << K_COHERENT);
	const struct mapping *m;
	int di;
	void *cpu;
	size_t size;
	swiotlb_addr_t addr;
	uint8_t sel = rd8(in);

	if (i < 0) {
		/* nothing allocated: free a streaming mapping or garbage */
		i = pick_mapping(in, 1u << K_BOUNCE);
		if (i < 0 || !bogus)
			return;
	}
	m = &S.m[i];
	di = m->dev;
	cpu = m->cpu;
	size = m->size;
	addr = m->addr;
	if (m->kind == K_BOUNCE)
		cpu = (void *)(uintptr_t)addr; /* the bounce memory itself */
	if (!bogus) {
		/* any size with the same page count is the same allocation */
		switch (sel & 3) {
		case 1: size = m->span; break;
		case 2: size = m->span - 4095; break;
		default: break;
		}
	} else {
		switch (sel & 7) {
		case 0: cpu = (uint8_t *)cpu + 1; break;
		case 1: addr += 4096; cpu = (uint8_t *)cpu + 4096; break;
		case 2: size = m->span + 1; break;
		case 3: size = 0; break;
		case 4: cpu = NULL; break;
		case 5: {
			int o = (di + 1 + rd8(in) % (NDEV - 1)) % NDEV;

			if (S.d[o].dev)
				di = o;
			else
				addr -= 4096;
			break;
		}
		case 6: size = SIZE_MAX; break;
		default: addr = rd64(in); break;
		}
	}
	do_free(di, cpu, size, addr);
}

/* Replay an unmap or free that already happened (double unmap / free). */
static void op_double(struct in *in)
{
	struct tomb *t = &S.grave[rd8(in) % NGRAVE];

	if (!t->used || !S.d[t->dev].dev)
		return;
	if (t->kind == K_COHERENT)
		do_free(t->dev, t->cpu, t->size, t->addr);
	else
		do_unmap(t->dev, t->addr, t->size, t->dir, 0, -1);
}

/* ---- lookups ---- */

static void check_lookup(uint64_t a, bool heap)
{
	for (int di = 0; di < NDEV; di++) {
		struct swiotlb_dev *dev = S.d[di].dev;
		bool b;
		void *c;

		if (!dev)
			continue;
		b = swiotlb_is_bounce(dev, a);
		c = swiotlb_addr_to_cpu(dev, a);
		EXPECT(b == (c != NULL), "is_bounce(%#llx) %d but addr_to_cpu %p",
		       (unsigned long long)a, b, c);
		if (c)
			EXPECT(c == (void *)(uintptr_t)a, "addr_to_cpu(%#llx) = %p",
			       (unsigned long long)a, c);
		if (in_dev_run(di, a, NULL))
			EXPECT(b, "is_bounce false inside a live run (%#llx)", (unsigned long long)a);
		if (heap)
			EXPECT(!b, "is_bounce true for a heap address (%#llx)", (unsigned long long)a);
	}
}

static void op_lookup(struct in *in)
{
	uint8_t sel = rd8(in);
	uint64_t a;
	int i;

	switch (sel & 3) {
	case 0:
		a = rd64(in);
		break;
	case 1:
		i = pick_mapping(in, 7);
		if (i < 0)
			return;
		a = S.m[i].addr + (int16_t)rd16(in);
		break;
	case 2:
		i = pick_mapping(in, 7);
		if (i < 0)
			return;
		a = (sel & 4) ? S.m[i].run_start - 1 - (rd8(in) & 3)
			      : S.m[i].run_start + S.m[i].run_len + (rd8(in) & 3);
		break;
	default:
		i = pick_mapping(in, 1u << K_BOUNCE | 1u << K_DIRECT);
		if (i < 0)
			return;
		a = (uintptr_t)S.m[i].cpu + rd8(in) % S.m[i].span;
		check_lookup(a, true);
		return;
	}
	TRACE("lookup %#llx", (unsigned long long)a);
	check_lookup(a, false);
}

/* ---- device lifecycle, stats ---- */

static void op_dev(struct in *in)
{
	int di = rd8(in) % NDEV;
	uint8_t cfgb = rd8(in);
	unsigned live;
	int rc;

	if (!S.d[di].dev) {
		dev_make(di, cfgb);
		return;
	}
	live = dev_live_model(di);
	rc = swiotlb_dev_destroy(S.d[di].dev);
	TRACE("dev_destroy %d (live %u) -> %d", di, live, rc);
	if (live) {
		EXPECT(rc == -EBUSY, "dev_destroy with %u live mappings: %d", live, rc);
		return;
	}
	EXPECT(rc == 0, "dev_destroy of an idle device: %d", rc);
	S.d[di].dev = NULL;
	for (int i = 0; i < MAX_LIVE; i++)
		if (S.m[i].used && S.m[i].dev == di) /* direct mappings die with it */
			drop_mapping(&S.m[i], false);
	for (int k = 0; k < NGRAVE; k++)
		if (S.grave[k].dev == di)
			S.grave[k].used = false;
}

static void op_stats(struct in *in)
{
	struct swiotlb_stats st;

	check_stats();
	verify_all();
	if (rd8(in) & 1) {
		swiotlb_mem_reset_hiwater(S.mem);
		st = mstats();
		EXPECT(st.hiwater_slots == st.used_slots, "reset_hiwater: %llu != %llu",
		       (unsigned long long)st.hiwater_slots, (unsigned long long)st.used_slots);
	}
	EXPECT(swiotlb_mem_stats(NULL, &st) == -EINVAL, "mem_stats(NULL)");
	EXPECT(swiotlb_mem_stats(S.mem, NULL) == -EINVAL, "mem_stats(mem, NULL)");
}

/* ---- driver ---- */

static void teardown(void)
{
	struct swiotlb_stats st;
	int rc;

	verify_all();
	for (int i = 0; i < MAX_LIVE; i++) {
		struct mapping *m = &S.m[i];

		if (!m->used)
			continue;
		if (m->kind == K_COHERENT)
			do_free(m->dev, m->cpu, m->size, m->addr);
		else
			do_unmap(m->dev, m->addr, m->size, m->dir, 0, -1);
	}
	st = mstats();
	EXPECT(st.used_slots == 0 && st.mappings == 0 && st.coherent_allocs == 0 &&
		       st.transient_pools == 0,
	       "after unmapping everything: used_slots %llu mappings %llu coherent %llu transient %llu",
	       (unsigned long long)st.used_slots, (unsigned long long)st.mappings,
	       (unsigned long long)st.coherent_allocs, (unsigned long long)st.transient_pools);
	check_stats();
	for (int di = 0; di < NDEV; di++) {
		if (!S.d[di].dev)
			continue;
		rc = swiotlb_mem_destroy(S.mem);
		EXPECT(rc == -EBUSY, "mem_destroy with a device attached: %d", rc);
		rc = swiotlb_dev_destroy(S.d[di].dev);
		EXPECT(rc == 0, "dev_destroy at the end: %d", rc);
		S.d[di].dev = NULL;
	}
	rc = swiotlb_mem_destroy(S.mem);
	EXPECT(rc == 0, "mem_destroy: %d", rc);
	S.mem = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	trace = getenv("FUZZ_API_TRACE") != NULL;
	/* the model counts one "buffer is full" line per failed map: no rate
	 * limit (read by every swiotlb_mem_create()) */
	setenv("SWIOTLB_LOG", "ratelimit:off", 1);
	no_sync_overflow = getenv("FUZZ_API_NO_SYNC_OVERFLOW") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct swiotlb_mem_config mc = { 0 };
	static const size_t extra[4] = { 0, (size_t)256 << 10, (size_t)512 << 10, (size_t)1 << 20 };
	uint8_t b0, ndev;

	memset(&S, 0, sizeof(S));
	b0 = rd8(&in);
	mc.size = POOL_SIZE;
	mc.nareas = (b0 & 4) ? 2 : 1;
	mc.strict_cursor = (b0 & 8) != 0;
	mc.log = quiet_log;
	mc.wait_timeout_ms = 1;
	mc.dynamic = (b0 & 3) == 0;
	if (mc.dynamic) {
		mc.grow_size = 4096; /* rounded up to one segment */
		mc.max_size = POOL_SIZE + extra[(b0 >> 4) & 3];
		mc.shrink_delay_ms = 1;
	}
	S.dynamic = mc.dynamic;
	S.mem = swiotlb_mem_create(&mc);
	EXPECT(S.mem, "mem_create: errno %d", errno);
	ndev = 1 + rd8(&in) % NDEV;
	for (int di = 0; di < ndev; di++)
		dev_make(di, rd8(&in));
	rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)rd8(&in) << 32 | size);
	if (trace)
		fprintf(stderr, "fuzz_api: nareas %u strict %d dynamic %d max_size %zu ndev %u\n",
			mc.nareas, mc.strict_cursor, mc.dynamic, mc.max_size, ndev);

	for (S.op = 0; in.n && S.op < MAX_OPS; S.op++) {
		uint8_t opc = rd8(&in);

		switch (opc % 24) {
		case 0: case 1: op_map(&in, 0); break;
		case 2: op_map(&in, 1); break;
		case 3: op_map(&in, 2); break;
		case 4: case 5: op_unmap(&in, false); break;
		case 6: op_unmap(&in, true); break;
		case 7: op_sync(&in, true); break;
		case 8: op_sync(&in, false); break;
		case 9: case 10: op_write(&in, true); break;
		case 11: op_write(&in, false); break;
		case 12: op_map_sg(&in); break;
		case 13: op_unmap_sg(&in); break;
		case 14: op_sync_sg(&in, opc & 0x80); break;
		case 15: op_alloc(&in); break;
		case 16: op_free(&in, false); break;
		case 17: op_free(&in, true); break;
		case 18: op_lookup(&in); break;
		case 19: op_dev(&in); break;
		case 20: op_stats(&in); break;
		case 21: op_double(&in); break;
		case 22: op_churn(&in); break;
		default: op_map(&in, opc & 1); break;
		}
		check_stats();
		if ((S.op & 7) == 7)
			verify_all();
	}
	teardown();
	return 0;
}
