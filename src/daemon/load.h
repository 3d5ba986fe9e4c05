/*
 * A configuration as the daemon runs it: the config file read and cut into
 * lines (conffile.c), the grammar (fwdconf.c) over them and the command
 * line, and each forward's effective settings (the statements applied in
 * precedence order to fresh settings). At the start, for --check and --get,
 * and at every reload (SIGHUP): a configuration that fails here changes
 * nothing.
 */
#ifndef AZR_DAEMON_LOAD_H
#define AZR_DAEMON_LOAD_H

#include "azrelay.h"
#include "config.h"
#include "fwdconf.h"

#define AZR_LOAD_ERR_MAX 1024

/* The command line's statements, copied once (argv may be scrubbed after). */
typedef struct azr_cmdarg {
    char *text;   /* Name=Value, or NAME:Name=Value for --forward */
    int argno;    /* its argv index */
    bool forward; /* given with --forward */
} azr_cmdarg;

typedef struct azr_cmdline {
    azr_cmdarg *v;
    size_t n;
} azr_cmdline;

/* Append a copy; false when out of memory. */
AZR_MUST_CHECK bool azr_cmdline_add(azr_cmdline *cl, const char *text, int argno, bool forward);
/* Wipe and free the copies. */
void azr_cmdline_free(azr_cmdline *cl);

/* One forward of a configuration. */
typedef struct azr_fwdcfg {
    const azr_fc_section *sec; /* name and line, inside the load's fwdconf */
    size_t idx;                /* for azr_fwdconf_each() */
    azr_settings set;          /* its effective settings */
} azr_fwdcfg;

typedef struct azr_load {
    const char *path; /* the config file, or NULL */
    azr_fwdconf fc;
    azr_fwdcfg *f; /* the forwards, in file order */
    size_t n;
    bool holds_secret;           /* a line of the file sets a secret setting (AccessKey, ...) */
    char err[AZR_LOAD_ERR_MAX];  /* why azr_load_read() failed: "FILE:LINE: ..." */
    char warn[AZR_LOAD_ERR_MAX]; /* warnings of a load that succeeded, one a line, or "" */
} azr_load;

/*
 * Read path (NULL: no file) and cl into l, and check every forward's
 * settings: each statement through the vocabulary (after azr_hook_lowest's),
 * no two forwards on one LocalHost:LocalPort, then azr_hook_loaded. false
 * with l->err set (the first problem, prefixed "FILE:LINE: " when a line of
 * the file is at fault); true with l->warn holding what to print or log
 * (the vocabulary's and the hook's warnings). Free l either way.
 */
AZR_MUST_CHECK bool azr_load_read(azr_load *l, const char *path, const azr_cmdline *cl);
/* Wipe (the settings and statements hold keys) and free. */
void azr_load_free(azr_load *l);

/* Where statement s came from, as a message's prefix: "FILE:LINE: ", "" for
 * a Name=Value argument, "--forward NAME: " for a --forward one. */
void azr_load_where(const azr_load *l, const azr_fc_stmt *s, char *out, size_t cap);

/* Forward i's statements into px through azr_proxy_config(), after
 * azr_hook_lowest's (EventLoop skipped when skip_event_loop: a proxy on a
 * shared loop refuses it). false with err[cap] when one is refused. */
AZR_MUST_CHECK bool azr_load_configure(const azr_load *l, size_t i, azr_proxy *px,
                                       bool skip_event_loop, char *err, size_t cap);

#endif
