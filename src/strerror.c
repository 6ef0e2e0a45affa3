/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error strings for the library's negative errno codes. */
#include <errno.h>
#include <limits.h>

#include "internal.h"

SWIOTLB_API const char *swiotlb_strerror(int err)
{
	if (err == INT_MIN) /* -INT_MIN overflows */
		return "unknown error";
	switch (err < 0 ? -err : err) {
	case 0: return "success";
	case EINVAL: return "invalid argument (bad direction, size, flags, or not a live mapping)";
	case E2BIG: return "larger than the maximum mapping size";
	case ENOSPC: return "no free bounce slots (swiotlb buffer is full)";
	case EBUSY: return "busy: live mappings or attached devices";
	case ENOMEM: return "out of memory (provider or metadata allocation failed)";
	case ETIMEDOUT: return "timed out waiting for free bounce slots";
	case EAGAIN: return "resource temporarily unavailable";
	default: return "unknown error";
	}
}
