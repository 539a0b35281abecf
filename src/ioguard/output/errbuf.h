/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one error type of ioguard's library modules. Only the CLI prints: a module returns
 * a negative errno and says why in its caller's struct errbuf (libioasid's struct
 * ioasid_error, with room for a policy error and its position). What a call has to tell
 * without failing (a warning, where records come from, the error of a reload that is
 * not this call's) goes to @note, in the order it happens; the CLI wires it to its own
 * p_err()/p_warn()/p_info(), a worker thread to a buffer its caller prints.
 *
 * Every helper accepts a NULL errbuf and a NULL @note: the message is then dropped.
 */
#ifndef IOGUARD_ERRBUF_H
#define IOGUARD_ERRBUF_H

#include <stddef.h>

/* As long as the longest message the CLI prints: a policy error and its file, twice. */
#define ERRBUF_MSG_MAX 4096

enum errbuf_level {
	ERRBUF_ERR,
	ERRBUF_WARN,
	ERRBUF_INFO,
	/* A compiler-style "FILE:LINE:COLUMN: warning: cause" line, printed as it is. */
	ERRBUF_WARN_AT,
};

typedef void (*errbuf_note_fn)(void *ctx, enum errbuf_level level, const char *msg);

/*
 * struct errbuf - why a call failed, and where its notes go.
 * @msg:      one line, what failed, on what and why; set together with the negative
 *            errno the call returns, untouched by a call that succeeds.
 * @note:     receives each note as it is made (formatted, one line a call); NULL drops them.
 * @note_ctx: @note's first argument.
 */
struct errbuf {
	char msg[ERRBUF_MSG_MAX];
	errbuf_note_fn note;
	void *note_ctx;
};

/* errbuf_set() - format @msg of @eb; returns @err, so that `return errbuf_set(...)` reads. */
int errbuf_set(struct errbuf *eb, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* errbuf_note() - hand one formatted note at @level to @eb's @note. */
void errbuf_note(struct errbuf *eb, enum errbuf_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * errbuf_keep_notes() - for a module whose notes outlive the call that set it up: @dst
 * gets @src's @note and @note_ctx (none when @src is NULL) and an empty @msg, so that the
 * caller's errbuf, often on its stack, need not outlive the call.
 */
void errbuf_keep_notes(struct errbuf *dst, const struct errbuf *src);

#endif /* IOGUARD_ERRBUF_H */
