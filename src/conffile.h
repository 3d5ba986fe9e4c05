/*
 * A config file's bytes into lines, sans I/O: the daemon reads the file, this
 * splitter cuts what it read (in any slicing) into numbered lines and refuses
 * what is not a config file's text, so a line is never split, cut or
 * truncated on its way to azr_proxy_config().
 *
 * Bounds: a line holds at most AZR_CONF_LINE_MAX bytes (its LF, and a CR
 * before it, not counted); the file at most AZR_CONF_FILE_MAX bytes. A NUL
 * byte anywhere is refused (it would cut the value short silently). A UTF-8
 * byte order mark at the very start of the file is dropped (editors on
 * Windows write one). Nothing else is judged here: trimming, comments and
 * Name=Value belong to the caller and the vocabulary.
 *
 * Memory: the line being assembled lives in the context (no allocation);
 * the bytes of a reported line are wiped when the next line starts, and
 * azr_conffile_wipe() clears the rest, since lines carry keys.
 */
#ifndef AZR_CONFFILE_H
#define AZR_CONFFILE_H

#include "bounds.h"
#include "err.h"

/* One line of the file. */
typedef struct azr_conffile_line {
    const char *text;     /* NUL-terminated, without LF / CRLF; in the context, valid until the
                             next call */
    size_t len;           /* <= AZR_CONF_LINE_MAX, no NUL inside */
    unsigned long lineno; /* 1-based */
} azr_conffile_line;

typedef struct azr_conffile {
    /* private */
    char buf[AZR_CONF_LINE_MAX + 2]; /* a line's bytes, perhaps a CR, and a NUL */
    size_t len;
    size_t total;         /* bytes taken so far (<= AZR_CONF_FILE_MAX) */
    unsigned long lineno; /* of the line being assembled */
    bool reported;        /* buf holds a line already handed out: wipe before reuse */
    bool ended;           /* azr_conffile_end() was called */
    /* first error (sticky): the line it is on and a sentence */
    azr_err err;
    unsigned long err_line;
    char why[96];
} azr_conffile;

void azr_conffile_init(azr_conffile *f);

/*
 * Feed bytes of the file. *consumed is always set. Returns:
 *   AZR_OK     ev holds one line (its LF consumed); call again with the rest;
 *   AZR_AGAIN  all input used, no whole line yet;
 *   AZR_E_LIMIT  a line over AZR_CONF_LINE_MAX, or more than AZR_CONF_FILE_MAX
 *              bytes in all; AZR_E_PROTO  a NUL byte. f->err_line and f->why
 *              say where and what; the error sticks (every later call returns
 *              it and consumes nothing).
 * AZR_E_STATE after azr_conffile_end().
 */
AZR_MUST_CHECK azr_err azr_conffile_feed(azr_conffile *f, const uint8_t *in, size_t len,
                                         size_t *consumed, azr_conffile_line *ev);

/*
 * The input has ended. AZR_OK: ev holds the last line, which had no LF;
 * AZR_E_CLOSED: no line is left (the file was empty or ended with LF, or
 * end was called already); the sticky error if there was one.
 */
AZR_MUST_CHECK azr_err azr_conffile_end(azr_conffile *f, azr_conffile_line *ev);

/* Clear every byte of the file the context still holds. */
void azr_conffile_wipe(azr_conffile *f);

#endif
