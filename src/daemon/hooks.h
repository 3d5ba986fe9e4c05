/*
 * The daemon's hook points, for the parts written beside it: systemd
 * notification (READY=1, RELOADING=1, STOPPING=1, STATUS=, WATCHDOG=1) and
 * secrets (argv scrubbing, config and key file checks, key files). Each hook
 * is called from one place, named here; today they do nothing. Fill a body
 * in (or make it call your module) rather than adding call sites.
 *
 * status texts come from azr_fleet_status(): "3 forwards, 12 connections"
 * (", 2 draining" while old proxies finish).
 */
#ifndef AZR_DAEMON_HOOKS_H
#define AZR_DAEMON_HOOKS_H

#include "azrelay.h"
#include "config.h"

#include <sys/stat.h>

/* ------------------------------------------------------ lifecycle (main.c) */

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

/* reload(): the reload is over, applied or refused (the summary line is
 * logged); READY=1 and STATUS=. */
static inline void azr_hook_reloaded(const char *status)
{
    (void)status;
}

/* on_stop(): the first SIGTERM or SIGINT; every forward stopped accepting
 * and the drain began; STOPPING=1. */
static inline void azr_hook_stopping(const char *status)
{
    (void)status;
}

/* run(): after every loop turn (a connection opened or ended, a drain
 * finished): STATUS= when it changed, WATCHDOG=1 when due. */
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

/* --------------------------------------------------------- secrets */

/* main(): the command line's statements are copied (the daemon re-applies
 * them at every reload from that copy), before anything else reads argv:
 * scrub secrets from argv here. */
static inline void azr_hook_args(int argc, char **argv)
{
    (void)argc;
    (void)argv;
}

/* azr_load_read(): the config file is open (fd, st from fstat), before a
 * byte is read, at the start and at every reload. Return false with a
 * sentence in err[cap] to refuse it (e.g. readable by others while it holds
 * a key: "chmod 600 FILE"). */
static inline bool azr_hook_config_file(const char *path, int fd, const struct stat *st, char *err,
                                        size_t cap)
{
    (void)path;
    (void)fd;
    (void)st;
    (void)err;
    (void)cap;
    return true;
}

/* azr_load_read(): forward name's statements are applied to set, the
 * settings reloads compare. Anything taken from elsewhere (a key file, the
 * environment) goes into set here, so a rotated key counts as a change; the
 * same must reach the proxy in azr_hook_forward_proxy(). false refuses the
 * configuration (a start fails, a reload changes nothing) with err[cap]. */
static inline bool azr_hook_forward(const char *name, azr_settings *set, char *err, size_t cap)
{
    (void)name;
    (void)set;
    (void)err;
    (void)cap;
    return true;
}

/* fleet.c: forward name's proxy has its statements and is about to start
 * listening: the same additions as azr_hook_forward(), through
 * azr_proxy_config(). false: the forward does not start (err[cap] why). */
static inline bool azr_hook_forward_proxy(const char *name, azr_proxy *px, char *err, size_t cap)
{
    (void)name;
    (void)px;
    (void)err;
    (void)cap;
    return true;
}

#endif
