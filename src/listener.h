/*
 * The listening socket and the connections it accepted: accept loop,
 * ConnectionRequest, the connection ceiling (MaxConnections and the
 * descriptor limit), pausing when descriptors run out, the connection table
 * and reaping DEAD connections after dispatch.
 */
#ifndef AZR_LISTENER_H
#define AZR_LISTENER_H

#include "proxy.h"

/* Raise the soft RLIMIT_NOFILE to the hard one (once per process) and
 * return the descriptor limit the loop should be sized for. */
size_t azr_listener_fd_limit(void);
/* Size the connection table (MaxConnections, the descriptor limit) and
 * create the proxy's loop when it has none. err says what failed. */
AZR_MUST_CHECK azr_err azr_listener_prepare(azr_proxy_state *p, char *err, size_t cap);
/* Listen on LocalHost:LocalPort and accept from the loop. */
AZR_MUST_CHECK azr_err azr_listener_start(azr_proxy_state *p, char *err, size_t cap);
void azr_listener_stop(azr_proxy_state *p);
/* A live (not DEAD) connection by id, or NULL. */
azr_conn *azr_listener_find(const azr_proxy_state *p, int id);
/* The next connection id: positive, wrapping at INT_MAX, never one in use. */
int azr_listener_next_id(azr_proxy_state *p);
/* Free every DEAD connection now: never from inside a connection's event. */
void azr_listener_reap(azr_proxy_state *p);

#endif
