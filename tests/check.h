/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Minimal assertion helpers shared by the tests: a failed check prints the
 * file, line and expression (and values) and exits non-zero. */
#ifndef SWIOTLB_TESTS_CHECK_H
#define SWIOTLB_TESTS_CHECK_H
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
	exit(1); } } while (0)

#define CHECK_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
	if (_a != _b) { fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld != %lld)\n", \
		__FILE__, __LINE__, #a, #b, _a, _b); exit(1); } } while (0)

#define CHECK_OK(expr) CHECK_EQ((expr), 0)

#endif
