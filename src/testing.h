/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hooks for the library's own tests and benchmarks only: not part of the
 * API, not covered by the ABI promise, may change or disappear in any
 * release.  Exported from the shared library so that bench/ can link
 * against it.
 */
#ifndef SWIOTLB_TESTING_H
#define SWIOTLB_TESTING_H

#include <stddef.h>

#include "swiotlb.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Add a shared pool of at least 'bytes' to a memory, as a growth would
 * (but never shrunk).  Returns 0 or -errno (-EINVAL for NULL or 0 bytes,
 * -ENOMEM when the provider or an allocation fails). */
int _swiotlb_test_mem_add_pool(struct swiotlb_mem *mem, size_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* SWIOTLB_TESTING_H */
