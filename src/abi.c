/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The binary interface across versions: the library's version, and the
 * size-tagged structs of the *_sized() calls (swiotlb.h).
 *
 * A caller passes its sizeof of a struct.  Fields are only ever appended,
 * so for a struct the library knows as lib_size bytes:
 *   caller_size <  lib_size: the caller's header is older; the bytes it
 *                            does not have read as zero (defaults);
 *   caller_size >  lib_size: the caller's header is newer; accepted when
 *                            every byte past lib_size is zero (the caller
 *                            left the new fields at their defaults).
 *   caller_size <  min_size: not a struct of this major layout: refused.
 */
#include <string.h>

#include "internal.h"

SWIOTLB_API unsigned swiotlb_version(void)
{
	return SWIOTLB_VERSION;
}

/* Copy a caller's struct of caller_size bytes into dst (lib_size bytes),
 * zero-filling what the caller lacks.  -EINVAL when the caller's struct is
 * too small or sets fields this library does not know. */
int _swiotlb_abi_copy_in(void *dst, size_t lib_size, const void *src, size_t caller_size,
			 size_t min_size)
{
	const unsigned char *extra = (const unsigned char *)src + lib_size;

	if (caller_size < min_size)
		return -EINVAL;
	for (size_t i = 0; lib_size + i < caller_size; i++)
		if (extra[i])
			return -EINVAL;
	memset(dst, 0, lib_size);
	memcpy(dst, src, caller_size < lib_size ? caller_size : lib_size);
	return 0;
}

/* Copy a filled statistics struct out to a caller's struct of caller_size
 * bytes: the common prefix, and zeros past what the library knows. */
void _swiotlb_abi_copy_out(void *dst, size_t caller_size, const void *src, size_t lib_size)
{
	memcpy(dst, src, caller_size < lib_size ? caller_size : lib_size);
	if (caller_size > lib_size)
		memset((unsigned char *)dst + lib_size, 0, caller_size - lib_size);
}
