/*
 * The daemon's hook points, for the parts written beside it: systemd
 * notification (READY=1, RELOADING=1, STOPPING=1, STATUS=, WATCHDOG=1, log
 * priorities) and secrets (argv scrubbing, environment defaults, the config
 * file's mode, core dumps). Each hook is called from one place, named here;
 * today they do nothing. Fill a body in (or make it call your module) rather
 * than adding call sites.
 *
 * status texts come from azr_fleet_status(): "3 forwards, 12 connections"
 * (", 2 draining" while old proxies finish).
 */
#ifndef AZR_DAEMON_HOOKS_H
#define AZR_DAEMON_HOOKS_H

#include "azrelay.h"
#include "config.h"

struct azr_load;

/* ------------------------------------------------------ lifecycle (main.c) */

/* main(): before anything else (the first statement): core dumps off, the
 * notification socket opened (before the first log line). */
static inline void azr_hook_start(void)
{
}

/* run(): every forward listens (the first start); READY=1 and STATUS=. */
static inline void azr_hook_ready(const char *status)
{
    (void)status;
}

/* reload(): SIGHUP arrived, before the file is read; RELOADING=1 (with
 * MONOTONIC_USEC). */
static inline void azr_hook_reloading(void)
{
}

/* reload(): the reload is over, applied or refused; summary is its log
 * line ("reload: 1 added (c), ..." or "reload: FILE:LINE: ...; nothing
 * changed"); READY=1 and STATUS=. */
static inline void azr_hook_reloaded(const char *status, const char *summary)
{
    (void)status;
    (void)summary;
}

/* on_stop(): the first SIGTERM or SIGINT; every forward stopped accepting
 * and the drain began, for at most drain_seconds (0: nothing to wait for);
 * STOPPING=1, and EXTEND_TIMEOUT_USEC when the drain may outlast the unit's
 * TimeoutStopSec. */
static inline void azr_hook_stopping(const char *status, long drain_seconds)
{
    (void)status;
    (void)drain_seconds;
}

/* run(): after every loop turn (a connection opened or ended, a drain
 * finished; many times a second under load: keep it cheap): STATUS= when
 * it changed, WATCHDOG=1 when due. */
static inline void azr_hook_tick(const char *status)
{
    (void)status;
}

/* run(): the longest the loop may sleep, in ms (-1: until something
 * happens); half of WATCHDOG_USEC when the watchdog is on. */
static inline int azr_hook_timeout_ms(void)
{
    return -1;
}

/* main(): at exit, after the last log line. */
static inline void azr_hook_exit(void)
{
}

/* ------------------------------------------------------------- log (dlog.c) */

/* Before each line on stderr: "<3>" and the like when stderr is the journal
 * (type "Error", "Info", "Verbose", "Debug"; a daemon line starting with
 * "warning:" is a warning), "" otherwise. */
static inline const char *azr_hook_log_prefix(const char *type, const char *msg)
{
    (void)type;
    (void)msg;
    return "";
}

/* Whether lines start with a timestamp (the journal stamps lines itself). */
static inline bool azr_hook_log_timestamps(void)
{
    return true;
}

/* ------------------------------------------------------ settings (load.c) */

/* main(): the command line's statements are copied (the daemon re-applies
 * them at every reload from that copy), before anything else reads argv:
 * scrub secrets from argv here (and log the warning). */
static inline void azr_hook_args(int argc, char **argv)
{
    (void)argc;
    (void)argv;
}

/* One statement ("Name=Value") into the forward being built; false with
 * err[cap] when the vocabulary refuses it. */
typedef bool (*azr_hook_apply_fn)(void *ud, const char *stmt, size_t len, char *err, size_t cap);

/*
 * azr_load_read() and azr_load_configure(): statements of the lowest
 * precedence, applied to each forward before the file's top level (its
 * settings, then the same again to its proxy): AZRELAY_CONNECTION_STRING,
 * AZRELAY_ACCESS_KEY. false with err[cap] refuses the configuration (the
 * start fails, a reload changes nothing).
 */
static inline bool azr_hook_lowest(const char *forward, azr_hook_apply_fn apply, void *ud,
                                   char *err, size_t cap)
{
    (void)forward;
    (void)apply;
    (void)ud;
    (void)err;
    (void)cap;
    return true;
}

/*
 * azr_load_read(): every forward's settings are built (file and command line,
 * each statement applied; l->holds_secret says whether a line of the file
 * set a secret). Check the config file's mode here (with InsecureSecretFiles
 * from any forward's settings), set core dumps as AllowCoreDumps says. false
 * with err[cap] refuses the configuration; true with err[0] set: a warning
 * the daemon prints (at the start) or logs (at a reload).
 */
static inline bool azr_hook_loaded(const struct azr_load *l, char *err, size_t cap)
{
    (void)l;
    (void)err;
    (void)cap;
    return true;
}

#endif
