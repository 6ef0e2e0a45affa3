// SPDX-License-Identifier: LGPL-2.1-or-later
/* The shared helpers of common/ that take outside input or judge tests:
 * size parsing, byte patterns, the RNG range, the counting provider. */
#include "unit.h"

static void parse_size_accepts(const char *s, uint64_t want)
{
	uint64_t v = 0;

	CHECK_OK(util_parse_size(s, &v));
	CHECK_EQ(v, want);
}

static void parse_size_rejects(const char *s, int err)
{
	uint64_t v = 7;

	CHECK_EQ(util_parse_size(s, &v), err);
	CHECK_EQ(v, 7); /* untouched */
}

static void test_parse_size(void)
{
	parse_size_accepts("0", 0);
	parse_size_accepts("4096", 4096);
	parse_size_accepts("0x1000", 4096);
	parse_size_accepts("512b", 512);
	parse_size_accepts("64K", 64 * KIB);
	parse_size_accepts("64kib", 64 * KIB);
	parse_size_accepts("1M", MIB);
	parse_size_accepts("1MiB", MIB);
	parse_size_accepts("2GB", 2ull << 30);
	parse_size_accepts("16383G", 16383ull << 30);
	parse_size_accepts("18446744073709551615", UINT64_MAX);
	parse_size_rejects("", -EINVAL);
	parse_size_rejects("-1", -EINVAL);
	parse_size_rejects("+1", -EINVAL);
	parse_size_rejects(" 1", -EINVAL);
	parse_size_rejects("k", -EINVAL);
	parse_size_rejects("1x", -EINVAL);
	parse_size_rejects("1 K", -EINVAL);
	parse_size_rejects("1KK", -EINVAL);
	parse_size_rejects("1Kb2", -EINVAL);
	parse_size_rejects("1.5M", -EINVAL);
	parse_size_rejects("18446744073709551616", -ERANGE);
	parse_size_rejects("17179869184G", -ERANGE);
}

static void test_patterns(void)
{
	uint8_t b[100];

	util_fill(b, sizeof(b), 5);
	CHECK_EQ(util_verify(b, sizeof(b), 5), sizeof(b));
	for (size_t i = 0; i < sizeof(b); i++)
		CHECK_EQ(b[i], util_pat(5, i));
	CHECK(util_verify(b, sizeof(b), 6) < sizeof(b)); /* seeds differ */
	b[77] ^= 1;
	CHECK_EQ(util_verify(b, sizeof(b), 5), 77);
	CHECK(util_hash(b, sizeof(b)) != util_hash(b, sizeof(b) - 1));
}

static void test_rand_range(void)
{
	uint64_t s = util_rand_seed(0);

	CHECK(s != 0);
	for (int i = 0; i < 1000; i++) {
		uint64_t v = util_rand_range(&s, 10, 12);

		CHECK(v >= 10 && v <= 12);
	}
	CHECK_EQ(util_rand_range(&s, 5, 4), 4); /* empty range: hi */
}

static void test_counting_provider(void)
{
	struct util_prov up;
	struct logcap cap = { 0 };
	struct swiotlb_mem_config mc = { .size = 256 * KIB, .provider = &up.p,
					 .log = logcap_fn, .log_ctx = &cap };
	struct swiotlb_mem *mem;
	struct util_range *r;
	size_t n = 0;

	util_prov_init(&up, NULL);
	mem = swiotlb_mem_create(&mc);
	CHECK(mem != NULL);
	CHECK_EQ(util_prov_nlive(&up), 1);
	r = util_prov_ranges(&up, &n);
	CHECK(r != NULL);
	CHECK_EQ(n, 1);
	CHECK_EQ(r[0].len, 256 * KIB);
	CHECK(util_prov_holds(&up, r[0].addr + 100, 200));
	CHECK(!util_prov_holds(&up, r[0].addr + r[0].len - 1, 2));
	CHECK_EQ(util_prov_len_at(&up, r[0].addr + 5), 256 * KIB);
	CHECK_OK(swiotlb_mem_destroy(mem));
	CHECK_EQ(util_prov_nlive(&up), 0);
	CHECK_EQ(atomic_load(&up.allocs), 1);
	CHECK_EQ(atomic_load(&up.frees), 1);
	CHECK_EQ(atomic_load(&up.bytes_live), 0);
	atomic_store(&up.fail_next, 1);
	CHECK(swiotlb_mem_create(&mc) == NULL);
	CHECK_EQ(atomic_load(&up.alloc_fail), 1);
	CHECK_EQ(cap.count, 1); /* the library said why */
	free(r);
	util_prov_fini(&up);
}

int main(void)
{
	test_parse_size();
	test_patterns();
	test_rand_range();
	test_counting_provider();
	printf("test_common: ok\n");
	return 0;
}
