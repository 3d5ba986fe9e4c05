/*
 * The daemon's hook points, for the parts written beside it: systemd
 * notification (READY=1, RELOADING=1, STOPPING=1, STATUS=, WATCHDOG=1, log
 * priorities; sdnotify.h) and secrets (argv scrubbing, environment defaults,
 * the config file's mode, core dumps; secrets.h, secretfile.h). Each hook is
 * called from one place, named here; hooks.c holds the bodies, in the order
 * src/daemon/INTEGRATION.md gives. Without $NOTIFY_SOCKET the notification
 * hooks do nothing and the loop's wait is not capped.
 *
 * status texts come from azr_fleet_status(): "3 forwards, 12 connections"
 * (", 2 draining" while old proxies finish).
 */
#ifndef AZR_DAEMON_HOOKS_H
#define AZR_DAEMON_HOOKS_H

#include "azrelay.h"
#include "config.h"

struct azr_load;

/* Shortest time between two STATUS= updates of azr_hook_tick(), in ms. */
#define AZR_HOOK_STATUS_EVERY_MS 1000
/* What EXTEND_TIMEOUT_USEC adds to a drain's length (closing what is left
 * with 1001 after DrainTimeout, and the exit), in seconds. */
#define AZR_HOOK_STOP_SLACK_S 10

/* ------------------------------------------------------ lifecycle (main.c) */

/* main(): before anything else (the first statement): core dumps off, the
 * notification socket opened (before the first log line), the watchdog's
 * interval read. Problems are warnings on stderr; the daemon goes on. */
void azr_hook_start(void);

/* run(): every forward listens (the first start); READY=1 and STATUS=. */
void azr_hook_ready(const char *status);

/* reload(): SIGHUP arrived, before the file is read; RELOADING=1 (with
 * MONOTONIC_USEC) and "STATUS=reloading FILE". */
void azr_hook_reloading(void);

/* reload(): the reload is over, applied or refused; summary is its log
 * line ("reload: 1 added (c), ..." or "reload: FILE:LINE: ...; nothing
 * changed"); READY=1 and STATUS= ("3 forwards, 0 connections (reload: +1
 * ~0 -0)", or "(reload refused: ...)"). */
void azr_hook_reloaded(const char *status, const char *summary);

/* on_stop(): the first SIGTERM or SIGINT; every forward stopped accepting
 * and the drain began, for at most drain_seconds (0: nothing to wait for);
 * STOPPING=1, and EXTEND_TIMEOUT_USEC (the drain plus
 * AZR_HOOK_STOP_SLACK_S) when there is a drain, so a DrainTimeout longer
 * than the unit's TimeoutStopSec is not cut by SIGKILL (systemd keeps the
 * longer of the two). */
void azr_hook_stopping(const char *status, long drain_seconds);

/* run(): after every loop turn (a connection opened or ended, a drain
 * finished; many times a second under load: cheap, one clock read and one
 * string compare): STATUS= when it changed (at most once every
 * AZR_HOOK_STATUS_EVERY_MS), WATCHDOG=1 when due. */
void azr_hook_tick(const char *status);

/* run(): the longest the loop may sleep, in ms (-1: until something
 * happens): the time left to the next WATCHDOG=1 (half of WATCHDOG_USEC)
 * when the watchdog is on, or to a STATUS= update held back by the rate. */
int azr_hook_timeout_ms(void);

/* main(): at exit, after the last log line: the notification socket closed. */
void azr_hook_exit(void);

/* ------------------------------------------------------------- log (dlog.c) */

/* Before each line on stderr: "<3>" and the like when stderr is the journal
 * (type "Error" <3>, "Info" <6>, "Verbose" and "Debug" <7>; a line whose
 * text starts with "warning:", also after "reload: ", is <4>), "" otherwise. */
const char *azr_hook_log_prefix(const char *type, const char *msg);

/* Whether lines start with a timestamp: not when stderr is the journal
 * (it stamps lines itself). */
bool azr_hook_log_timestamps(void);

/* ------------------------------------------------------ settings (load.c) */

/* main(): the command line's statements are copied (the daemon re-applies
 * them at every reload from that copy), before anything else reads argv:
 * secrets scrubbed from argv ('*' over their values) and one warning line
 * naming them on stderr. */
void azr_hook_args(int argc, char **argv);

/* One statement ("Name=Value") into the forward being built; false with
 * err[cap] when the vocabulary refuses it. */
typedef bool (*azr_hook_apply_fn)(void *ud, const char *stmt, size_t len, char *err, size_t cap);

/*
 * azr_load_read() and azr_load_configure(): statements of the lowest
 * precedence, applied to each forward before the file's top level (its
 * settings, then the same again to its proxy): AZRELAY_CONNECTION_STRING,
 * AZRELAY_ACCESS_KEY (azr_secret_env_apply). false with err[cap]
 * ("AZRELAY_ACCESS_KEY: ...") refuses the configuration (the start fails, a
 * reload changes nothing).
 */
bool azr_hook_lowest(const char *forward, azr_hook_apply_fn apply, void *ud, char *err, size_t cap);

/*
 * azr_load_read(): every forward's settings are built (file and command line,
 * each statement applied; l->holds_secret says whether a line of the file
 * set a secret). The config file's mode is checked (with InsecureSecretFiles
 * from any forward's settings), then core dumps set as AllowCoreDumps says
 * (any forward's True turns them on; a reload that drops it turns them off).
 * false with err[cap] refuses the configuration and changes nothing; true
 * with err[0] set: a warning the daemon prints (at the start) or logs (at a
 * reload).
 */
bool azr_hook_loaded(const struct azr_load *l, char *err, size_t cap);

#endif
