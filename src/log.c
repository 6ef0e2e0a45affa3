/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging through the memory's callback, or stderr with a prefix. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

void _swiotlb_log(const struct swiotlb_mem *mem, enum swiotlb_log_level lvl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (mem && mem->cfg.log)
		mem->cfg.log(mem->cfg.log_ctx, lvl, msg);
	else
		fprintf(stderr, "libswiotlb: %s\n", msg);
}
