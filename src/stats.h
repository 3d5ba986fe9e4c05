/*
 * A proxy's counters (azr_proxy_get_stats): where connections are counted
 * as they are accepted, refused, opened and fail, and the names of the
 * phases for the Connections list. Additions to fields of the proxy only:
 * no allocation, no I/O.
 */
#ifndef AZR_STATS_H
#define AZR_STATS_H

#include "conn.h"

/* The relay connection opened: opened, and the accept -> open latency. */
void azr_stats_opened(azr_conn *c);
/* A verdict was recorded (the first, azr_conn_fail) or an attempt is tried
 * again (retried, azr_conn_retry): counted by the phase it came in, as a
 * relay attempt's failure (status: the relay's HTTP status for an upgrade)
 * or a client TLS handshake's; the client's and the application's own ends
 * (c->not_relay) are not failures. */
void azr_stats_failed(azr_conn *c, int status, bool retried);
/* The reason an upgrade answer (or its lack: status not 100-599) falls in. */
enum azr_relay_failure azr_stats_upgrade_reason(int status);
/* The phase's name for azr_connection_info ("open", "closing", ...). */
const char *azr_stats_phase_name(const azr_conn *c);
/* The counters as azr_proxy_get_stats() gives them. */
void azr_stats_get(const azr_proxy_state *p, azr_proxy_stats *out);

#endif
