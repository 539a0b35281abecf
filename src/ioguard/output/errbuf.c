// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>

#include "errbuf.h"

int errbuf_set(struct errbuf *eb, int err, const char *fmt, ...)
{
	va_list ap;

	if (!eb)
		return err;
	va_start(ap, fmt);
	vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
	va_end(ap);
	return err;
}

void errbuf_note(struct errbuf *eb, enum errbuf_level level, const char *fmt, ...)
{
	char msg[ERRBUF_MSG_MAX];
	va_list ap;

	if (!eb || !eb->note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	eb->note(eb->note_ctx, level, msg);
}

void errbuf_keep_notes(struct errbuf *dst, const struct errbuf *src)
{
	dst->msg[0] = '\0';
	dst->note = src ? src->note : NULL;
	dst->note_ctx = src ? src->note_ctx : NULL;
}
