/*
 * The daemon's log: one line per event on stderr,
 *   "2026-11-25T18:00:58.123Z Info    [FORWARD] [ID] TEXT",
 * or one JSON object a line (LogFormat=JSON), or RFC 5424 syslog datagrams
 * (LogTarget=syslog[:PATH]);
 * the forward's name (its label: "b", or "b, draining" for an old proxy
 * finishing its connections) and the connection id when there is one; the
 * daemon's own lines (signals, reloads) have neither.
 */
#ifndef AZR_DAEMON_DLOG_H
#define AZR_DAEMON_DLOG_H

#include "platform.h"
#include "err.h"

/* LogFormat (0 text, 1 JSON) and LogTarget ("stderr", "syslog",
 * "syslog:PATH") from now on; on an error nothing changes. */
azr_err azr_dlog_setup(long format, const char *target, char *err, size_t cap);

/* One line; forward NULL for the daemon's own, conn_id 0 for none. type:
 * "Info", "Error", "Verbose", "Debug". */
void azr_dlog(const char *forward, int conn_id, const char *type, const char *fmt, ...)
    AZR_PRINTF(4, 5);

/* The proxies' Log event (azr_events.log): ud is the forward's label, a
 * NUL-terminated string that lives as long as the proxy. The proxy's own
 * LogLevel has already chosen what reaches here. */
void azr_dlog_event(void *ud, int conn_id, int level, const char *message, const char *type);

#endif
