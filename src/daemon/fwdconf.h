/*
 * The daemon's configuration grammar, sans I/O: numbered lines of a config
 * file (conffile.c cuts the bytes into them) and command-line statements
 * in, the forwards and each one's statements in precedence order out. No
 * setting is judged here: values belong to the vocabulary (config.c), which
 * the caller applies the statements to.
 *
 * GRAMMAR (one line at a time; whitespace is spaces and tabs)
 *
 *   line     = blank | comment | section | setting
 *   comment  = WS* ("#" | ";") ANY*          a whole line, never the end of one:
 *                                            a value may hold '#' and ';'
 *                                            (keys, connection strings)
 *   section  = WS* "[" WS* "forward" WS+ NAME WS* "]" WS* [comment]
 *   setting  = WS* Name WS* "=" WS* Value WS*
 *   NAME     = 1 to 32 of A-Z a-z 0-9 . _ -   (compared ignoring case)
 *
 * Settings before the first section are defaults for every forward; each
 * [forward NAME] section is one forward and may set any setting. A file
 * without sections is one forward named "default" (a file of plain
 * Name=Value lines means what it always meant). A Name appears at most once
 * in a section (the top level counts as one): a repeat is an error, not
 * "last wins". A NAME may head one section only. EventLoop belongs to the
 * whole daemon (one loop serves every forward) and is refused inside a
 * section.
 *
 * The command line: "Name=Value" arguments are defaults (one more section,
 * with the same once-only rule); "--forward NAME:Name=Value" sets Name for
 * the forward NAME, which the file must define (or "default" when it
 * defines none), once per forward and Name.
 *
 * PRECEDENCE, lowest first, for each forward:
 *   1. the vocabulary's defaults
 *   2. the file's top-level settings
 *   3. command-line Name=Value
 *   4. the file's [forward NAME] section
 *   5. command-line --forward NAME:Name=Value
 * A section therefore beats a command-line default; --forward beats both.
 *
 * Errors stick (the first one is kept) and say where: err_line is the file
 * line (0 for the command line) and why a sentence; the caller prefixes
 * "FILE:LINE: ". Statements are copied (they may hold keys) and wiped when
 * the configuration is freed.
 */
#ifndef AZR_FWDCONF_H
#define AZR_FWDCONF_H

#include "err.h"

#define AZR_FC_NAME_MAX     32  /* a forward's name */
#define AZR_FC_FORWARDS_MAX 64  /* forwards in one configuration */
#define AZR_FC_STMTS_MAX    256 /* statements in one section, or on the command line */
#define AZR_FC_WHY_MAX      384

/* Where a statement came from. */
typedef enum azr_fc_origin {
    AZR_FC_FILE,  /* a file line: where is its number */
    AZR_FC_ARG,   /* a Name=Value argument: where is its argv index */
    AZR_FC_FWDARG /* a --forward NAME:Name=Value argument: where is its argv index */
} azr_fc_origin;

typedef struct azr_fc_stmt {
    char *text;      /* "Name=Value", trimmed, NUL-terminated; may hold a secret */
    size_t len;      /* of text */
    size_t name_len; /* Name: text[0, name_len) */
    azr_fc_origin origin;
    unsigned long where;
    char fwd[AZR_FC_NAME_MAX + 1]; /* AZR_FC_FWDARG: the forward it targets */
} azr_fc_stmt;

typedef struct azr_fc_section {
    char name[AZR_FC_NAME_MAX + 1]; /* a forward's; "" for the top level and the arguments */
    unsigned long line;             /* its [forward NAME] line; 0 for "default" */
    azr_fc_stmt *stmts;
    size_t n, cap;
} azr_fc_section;

typedef struct azr_fwdconf {
    /* private: read through the functions below */
    azr_fc_section top;   /* the file's top level */
    azr_fc_section args;  /* Name=Value arguments */
    azr_fc_section fargs; /* --forward arguments, every forward's */
    azr_fc_section fwd[AZR_FC_FORWARDS_MAX];
    size_t nfwd;
    size_t cur; /* the section file lines go to: 0 top level, k fwd[k - 1] */
    bool finished;
    /* first error (sticky) */
    azr_err err;
    unsigned long err_line; /* file line, 0 when the command line is wrong */
    char why[AZR_FC_WHY_MAX];
} azr_fwdconf;

void azr_fwdconf_init(azr_fwdconf *c);
/* Wipe every statement and free them; c may be initialised again. */
void azr_fwdconf_free(azr_fwdconf *c);

/*
 * One line of the file (its text without the line end, as conffile.c hands
 * it out) and its 1-based number. AZR_E_ARG (a malformed line, a repeat,
 * EventLoop in a section, a bad or repeated NAME), AZR_E_LIMIT (more than
 * AZR_FC_FORWARDS_MAX sections or AZR_FC_STMTS_MAX settings in one),
 * AZR_E_NOMEM; AZR_E_STATE after azr_fwdconf_finish().
 */
AZR_MUST_CHECK azr_err azr_fwdconf_file_line(azr_fwdconf *c, const char *text, size_t len,
                                             unsigned long lineno);

/*
 * One command-line statement: "Name=Value" (forward false) or, for
 * --forward, "NAME:Name=Value" (forward true); argno is its argv index,
 * kept for messages. Errors as azr_fwdconf_file_line(), err_line 0.
 */
AZR_MUST_CHECK azr_err azr_fwdconf_arg(azr_fwdconf *c, const char *text, size_t len, int argno,
                                       bool forward);

/*
 * Everything is in: the forward "default" appears when the file defined
 * none, and every --forward must name a forward (AZR_E_ARG otherwise).
 * Call once; the forwards can be read after it succeeded.
 */
AZR_MUST_CHECK azr_err azr_fwdconf_finish(azr_fwdconf *c);

/* The forwards, in file order, once azr_fwdconf_finish() succeeded (0 and
 * NULL before, or after an error). */
size_t azr_fwdconf_count(const azr_fwdconf *c);
const azr_fc_section *azr_fwdconf_forward(const azr_fwdconf *c, size_t i);

/*
 * Forward i's statements in precedence order (the list above), each passed
 * to fn; the first result other than AZR_OK stops the walk and is returned.
 */
typedef azr_err (*azr_fc_each_fn)(void *ud, const azr_fc_stmt *s);
AZR_MUST_CHECK azr_err azr_fwdconf_each(const azr_fwdconf *c, size_t i, azr_fc_each_fn fn,
                                        void *ud);

#endif
