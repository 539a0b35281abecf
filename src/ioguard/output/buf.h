/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * struct buf - a growable text buffer with a sticky error, for writers that append many
 * small pieces and check once at the end: the exposition, the HTTP server's responses,
 * the policy reloader's notes.
 */
#ifndef IOGUARD_BUF_H
#define IOGUARD_BUF_H

#include <stddef.h>

/*
 * After a failed allocation every append is a no-op and @err holds -ENOMEM (-EINVAL
 * for a format buf__printf() cannot print), so a writer checks once at the end.
 * Zero-initialise it (struct buf b = { 0 }); buf__release() frees the memory. The data
 * is NUL-terminated whenever @len > 0 and @err is 0.
 */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	int err;
};

/* Empties @b (and clears its error), keeping the allocation. */
void buf__reset(struct buf *b);
/* Frees the memory; @b is then empty and reusable. Accepts NULL. */
void buf__release(struct buf *b);
/* Makes room for @extra more bytes; 0 or -ENOMEM (also recorded in @b->err). */
int buf__reserve(struct buf *b, size_t extra);
void buf__append(struct buf *b, const void *data, size_t len);
void buf__puts(struct buf *b, const char *s);
void buf__printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* IOGUARD_BUF_H */
