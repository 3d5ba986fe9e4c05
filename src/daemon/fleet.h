/*
 * The running forwards: one azr_proxy per forward on one shared loop, their
 * effective settings (what a reload compares), and the old proxies that are
 * draining: stopped accepting, their open connections finishing, each until
 * its DrainTimeout passes and the rest are closed (1001 to the relay).
 *
 * RELOAD RULES (azr_fleet_reload), forward by forward, matched by name:
 *   unchanged  every effective setting is the same: nothing happens, its
 *              listener and connections are not touched;
 *   changed    LogLevel and/or DrainTimeout alone: applied in place, the
 *              listener and connections stay; anything else: the old proxy
 *              stops listening and drains, a new one with the new settings
 *              listens (the old one lets go of the port first, so the new
 *              one can bind it); when the new one cannot start, the old one
 *              listens again and keeps its settings;
 *   added      a new proxy listens;
 *   removed    the proxy stops listening and drains.
 * Every removed and changed forward stops listening before any new proxy
 * binds, so ports can move between forwards in one reload. One summary line
 * ends each reload.
 */
#ifndef AZR_DAEMON_FLEET_H
#define AZR_DAEMON_FLEET_H

#include "load.h"

typedef struct azr_fleet azr_fleet;

/* An empty fleet on a new loop (EventLoop's value); NULL with err[cap]. */
azr_fleet *azr_fleet_new(long event_loop, char *err, size_t cap);
/* Close every connection now and free everything. */
void azr_fleet_free(azr_fleet *fl);
azr_loop *azr_fleet_loop(azr_fleet *fl);

/* The first start: every forward of l listens, or none does (false, with
 * err[cap] naming the forward that failed). */
AZR_MUST_CHECK bool azr_fleet_start(azr_fleet *fl, const azr_load *l, char *err, size_t cap);

/* SIGHUP with a configuration that loaded: the rules above, logged, and
 * one summary line, which goes to summary[cap] too. */
void azr_fleet_reload(azr_fleet *fl, const azr_load *l, char *summary, size_t cap);

/* The open connections, and the longest a stop would wait for them, in
 * seconds: the DrainTimeout of each live forward that has some, what is
 * left of each drain under way. */
size_t azr_fleet_open(const azr_fleet *fl, long *longest_drain);
/* SIGTERM: every forward stops accepting and drains (with no connection:
 * the fleet is idle at once). */
void azr_fleet_stop(azr_fleet *fl);
/* A second SIGTERM: close every connection now (1001 to the relay).
 * Returns how many were open. */
size_t azr_fleet_close_all(azr_fleet *fl);

/* After every loop turn: drains that finished (last connection gone) or
 * ran out of time (the rest closed). */
void azr_fleet_tick(azr_fleet *fl);
/* Milliseconds until the next DrainTimeout passes; -1 when none is due. */
int azr_fleet_timeout_ms(const azr_fleet *fl);
/* No forward and no draining proxy left. */
bool azr_fleet_idle(const azr_fleet *fl);

/* "3 forwards, 12 connections" (", 2 draining" while old proxies finish). */
void azr_fleet_status(const azr_fleet *fl, char *out, size_t cap);

/*
 * For status and metrics (ctl.c, report.c): every proxy of the fleet, and
 * the counts of the proxies it has freed. A forward's counters are the sum
 * of its views of every kind, so they never go down while its name stays
 * in the configuration: a reload that replaces its proxy, or a drain that
 * ends, moves the old proxy's counts to RETIRED. RETIRED counts of a name
 * that is neither live nor draining any more are dropped.
 */
typedef enum azr_fleet_kind {
    AZR_FLEET_LIVE,     /* the forward's proxy, in the configuration's order */
    AZR_FLEET_DRAINING, /* an old proxy finishing its connections */
    AZR_FLEET_RETIRED   /* the counts of the forward's proxies freed so far */
} azr_fleet_kind;

typedef struct azr_fleet_view {
    const char *name;
    azr_fleet_kind kind;
    azr_proxy *px;                  /* LIVE and DRAINING */
    const azr_proxy_stats *retired; /* RETIRED */
} azr_fleet_view;

/* fn for each view: the live ones in order, then draining, then retired. */
void azr_fleet_each(const azr_fleet *fl, void (*fn)(void *ud, const azr_fleet_view *v), void *ud);

#endif
