/*
 * What the daemon tells about itself, as text: the --status report (the
 * forwards, then the live connections) and the Prometheus text exposition
 * (format 0.0.4) of /metrics, made from the fleet's views (fleet.h) and
 * the process's own figures. No I/O but /proc/self reads; the text goes
 * into a buffer with a ceiling (after curl's dynbuf).
 */
#ifndef AZR_DAEMON_REPORT_H
#define AZR_DAEMON_REPORT_H

#include "platform.h"

#include "fleet.h"

/* Text that grows up to max bytes; past it, appends are dropped and full
 * says so (the report says where it stopped). */
typedef struct azr_rbuf {
    char *p; /* NUL-terminated while len > 0 */
    size_t len, cap, max;
    bool full; /* an append did not fit, or memory ran out */
} azr_rbuf;

void azr_rbuf_init(azr_rbuf *b, size_t max);
void azr_rbuf_printf(azr_rbuf *b, const char *fmt, ...) AZR_PRINTF(2, 3);
void azr_rbuf_free(azr_rbuf *b);

/* The process's part: when it started (wall clock, seconds) and its
 * reloads (SIGHUP): configurations applied and refused. */
typedef struct azr_report_proc {
    int64_t start_time;
    uint64_t reloads_applied, reloads_refused;
} azr_report_proc;

/* The --status text: a summary line, one line per proxy (live and
 * draining) with its counts, and the live connections, at most max_rows
 * of them (a last line says how many more there are). */
void azr_report_status(const azr_fleet *fl, const azr_report_proc *pr, size_t max_rows,
                       azr_rbuf *out);
/* The /metrics body (see the metrics list in README.md, "Status and metrics"). */
void azr_report_metrics(const azr_fleet *fl, const azr_report_proc *pr, azr_rbuf *out);
/* /healthz: true when there is a forward and each live one listens; else
 * false with the names of those that do not (or why) in why[cap]. */
bool azr_report_healthy(const azr_fleet *fl, char *why, size_t cap);

/* dst += src, field by field (active too: callers zero what must not add). */
void azr_report_stats_add(azr_proxy_stats *dst, const azr_proxy_stats *src);

#endif
