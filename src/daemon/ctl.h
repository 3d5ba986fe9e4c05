/*
 * The daemon's status socket (StatusSocket, read by azrelay-proxy --status)
 * and metrics endpoint (MetricsAddress: GET /metrics, GET /healthz), served
 * on the fleet's shared loop without ever waiting on a client: every
 * descriptor is non-blocking, each client has a deadline and a bounded
 * output, and one that does not read is dropped. The reports are report.c's.
 *
 * main.c calls: azr_ctl_new() once the forwards listen, azr_ctl_tick()
 * after every loop turn, azr_ctl_timeout_ms() to bound the loop's wait,
 * azr_ctl_reloaded() at each SIGHUP, azr_ctl_free() before the fleet's.
 */
#ifndef AZR_DAEMON_CTL_H
#define AZR_DAEMON_CTL_H

#include "platform.h"

#include "fleet.h"
#include "load.h"

/* Where --status looks when given no PATH and the configuration sets no StatusSocket. */
#define AZR_STATUS_DEFAULT_PATH "/run/azrelay/status"

typedef struct azr_ctl azr_ctl;

/*
 * Listen as set says (StatusSocket, MetricsAddress; either may be empty)
 * on the fleet's loop. NULL with err[cap] when a configured one cannot be
 * opened (the daemon does not start), or when out of memory.
 */
azr_ctl *azr_ctl_new(azr_fleet *fl, const azr_settings *set, char *err, size_t cap);
/* Close every socket (the status socket's file is removed). */
void azr_ctl_free(azr_ctl *c);

/* After every loop turn: accept, read requests, write answers, drop
 * clients past their deadline. woken: a watched descriptor woke the loop
 * (azr_loop_watched_ready); without it and without clients, nothing to do. */
void azr_ctl_tick(azr_ctl *c, bool woken);
/* The longest the loop may wait, ms: -1 when no client is served. */
int azr_ctl_timeout_ms(const azr_ctl *c);

/*
 * SIGHUP: l is the configuration that loaded (NULL: it did not; counted as
 * refused). A changed StatusSocket or MetricsAddress moves (a new one that
 * cannot be opened is logged and the old one stays); then l's forwards get
 * the running values back, so the fleet's comparison does not see a
 * daemon-wide setting as a change of every forward.
 */
void azr_ctl_reloaded(azr_ctl *c, azr_load *l);

/* azrelay-proxy --status: connect to path, copy the report to out; 0, or 1
 * with a line on err. Bounded: 10 s in all. */
int azr_ctl_status_print(const char *path, FILE *out, FILE *err);

#endif
