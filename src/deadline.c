/*
 * IMPLEMENTATION NOTES
 * A connection's deadlines live in one timer, re-armed from its state after
 * every wakeup (conn.c calls azr_conn_rearm):
 *  - the phase table (conn.c) says which deadline a phase runs under: the
 *    client's TLS handshake and the dial (TCP connect to the 101) each have
 *    ConnectionTimeout, the open connection the ones below;
 *  - idle: IdleTimeout without client traffic (close 1001, the client gets
 *    a FIN: nothing was cut);
 *  - keep-alive: a ping after RelayKeepAliveInterval of relay silence while
 *    we read the relay (not reading it by choice, because the client is not
 *    taking its bytes, is back-pressure, not silence); the pong deadline
 *    runs from when the ping's bytes reached the socket;
 *  - Timeout: output a peer does not take, as inactivity (any byte moved
 *    restarts it) or, with AbsoluteTimeout, from the stall's start;
 *  - once either side has closed, HalfCloseTimeout of inactivity on what is
 *    still open (relay-protocol.md §6.4 bounds a silent peer only).
 * A deadline that passed records a verdict (azr_conn_fail) and ends the
 * connection through conn.c.
 */
#include "conn.h"

static void timer_cb(azr_reactor *r, azr_timer *t, void *ud);

static uint64_t min_nz(uint64_t a, uint64_t b)
{
    return a == 0 ? b : b == 0 ? a : (a < b ? a : b);
}

static bool closing(const azr_conn *c)
{
    return c->client_eof || c->relay_eof || c->ctrl.close_bits != 0;
}

/* We are not reading the relay because the client is not taking its bytes:
 * that is back-pressure, not relay silence. */
static bool reading_relay(const azr_conn *c)
{
    return c->relay_eof || (azr_reactor_mask(c->p->loop, c->rfd) & AZR_READABLE) != 0;
}

static uint64_t secs(long s)
{
    return (uint64_t)s * 1000u;
}

/* Timeout: since when output has waited for a peer that does not take it. */
static uint64_t timeout_at(const azr_conn *c)
{
    if (c->timeout <= 0 || !c->stall_since)
        return 0;
    if (c->p->set.absolute_timeout)
        return c->stall_since + secs(c->timeout);
    uint64_t from = c->last_io > c->stall_since ? c->last_io : c->stall_since;
    return from + secs(c->timeout);
}

void azr_conn_rearm(azr_conn *c)
{
    if (c->phase == AZR_P_DEAD)
        return;
    azr_deadline kind = azr_conn_deadline_kind(c);
    uint64_t next = kind == AZR_DL_OPEN ? 0 : c->dial_deadline, now = azr_conn_now(c);
    if (kind != AZR_DL_OPEN && c->hs)
        next = min_nz(next, c->hs->wake_at); /* the phase's own (backoff, next attempt) */
    if (kind == AZR_DL_OPEN) {
        bool pending = azr_splice_output_pending(c, true) || azr_splice_output_pending(c, false);
        if (!pending)
            c->stall_since = 0;
        else if (!c->stall_since)
            c->stall_since = now;
        long ka = c->p->set.relay_keep_alive_interval;
        if (c->idle_timeout > 0)
            next = min_nz(next, c->last_client + secs(c->idle_timeout));
        if (ka > 0 && !closing(c)) {
            if (c->ping == AZR_PING_ON_WIRE)
                next = min_nz(next, c->ping_sent_at + secs(ka));
            else if (c->ping == AZR_PING_NONE)
                next = min_nz(next, c->last_relay + secs(ka));
        }
        next = min_nz(next, timeout_at(c));
        /* MaxTransferRate: when held-back bytes may go (now: a timer of 0) */
        next = min_nz(next, azr_splice_rate_wake(c));
        if (closing(c))
            next = min_nz(next, c->last_io + secs(c->p->set.half_close_timeout));
    }
    if (next == 0) {
        azr_timer_cancel(c->p->loop, &c->timer);
        return;
    }
    /* the loop holds a timer for every descriptor it can watch: never full */
    if (azr_timer_arm(c->p->loop, &c->timer, next > now ? next - now : 0, timer_cb, c) != AZR_OK)
        azr_proxy_log(c->p, c->id, -1, "too many timers: connection deadlines not enforced");
}

static azr_verdict open_deadlines(azr_conn *c, uint64_t now)
{
    uint64_t rate_at = azr_splice_rate_wake(c);
    if (rate_at && now >= rate_at)
        return AZR_V_NEXT; /* run the pump: the rate lets bytes go */
    long ka = c->p->set.relay_keep_alive_interval;
    if (c->idle_timeout > 0 && now >= c->last_client + secs(c->idle_timeout))
        return azr_conn_fail(c, AZR_ERR_TIMEOUT, AZR_WS_CLOSE_GOING_AWAY, false,
                             "idle timeout: no client traffic for %ld s (IdleTimeout)",
                             c->idle_timeout);
    uint64_t t = timeout_at(c);
    if (t && now >= t) {
        bool to_client = azr_splice_output_pending(c, true);
        return azr_conn_fail(c, AZR_ERR_TIMEOUT, AZR_WS_CLOSE_GOING_AWAY, true,
                             "%s not taking data: nothing sent for %ld s (Timeout%s)",
                             to_client ? "client" : "relay", c->timeout,
                             c->p->set.absolute_timeout ? ", AbsoluteTimeout" : "");
    }
    if (closing(c) && now >= c->last_io + secs(c->p->set.half_close_timeout))
        return azr_conn_fail(c, AZR_ERR_TIMEOUT, AZR_WS_CLOSE_GOING_AWAY, true,
                             "closing: nothing moved for %ld s (HalfCloseTimeout); stream cut",
                             c->p->set.half_close_timeout);
    if (ka <= 0 || closing(c))
        return AZR_V_WAIT;
    if (!reading_relay(c)) {
        c->last_relay = now; /* back-pressure, not silence */
        if (c->ping == AZR_PING_ON_WIRE)
            c->ping = AZR_PING_NONE;
    }
    if (c->ping == AZR_PING_ON_WIRE && now >= c->ping_sent_at + secs(ka))
        return azr_conn_fail(c, AZR_ERR_TIMEOUT, AZR_WS_CLOSE_GOING_AWAY, true,
                             "relay not answering (no frame within %ld s of a ping)", ka);
    if (c->ping == AZR_PING_NONE && now >= c->last_relay + secs(ka)) {
        azr_ws_ctrlq_ping(&c->ctrl, (const uint8_t *)"azrelay", 7);
        c->ping = AZR_PING_QUEUED;
        azr_proxy_log(c->p, c->id, 3, "relay silent for %ld s: ping", ka);
        return AZR_V_NEXT; /* frame and send it */
    }
    return AZR_V_WAIT;
}

static void timer_cb(azr_reactor *r, azr_timer *t, void *ud)
{
    (void)t;
    azr_conn *c = ud;
    uint64_t now = azr_reactor_now(r);
    if (c->phase == AZR_P_DEAD)
        return;
    azr_verdict v = AZR_V_WAIT;
    azr_deadline kind = azr_conn_deadline_kind(c);
    long budget = c->p->set.connection_timeout;
    if (kind == AZR_DL_OPEN)
        v = open_deadlines(c, now);
    else if (kind == AZR_DL_CLIENT_HANDSHAKE && now >= c->dial_deadline)
        v = azr_conn_fail(c, AZR_ERR_TIMEOUT, 0, true,
                          "client TLS handshake not finished within %ld s (ConnectionTimeout)",
                          budget);
    else if (kind == AZR_DL_DIAL && now >= c->dial_deadline && c->hs->retry_why[0])
        v = azr_conn_fail(c, c->hs->retry_status, 0, true,
                          "no relay connection within %ld s (ConnectionTimeout) after %u attempts; "
                          "the last failure: %s",
                          budget, c->hs->attempts, c->hs->retry_why);
    else if (kind == AZR_DL_DIAL && now >= c->dial_deadline && c->phase == AZR_P_PREAMBLE)
        v = azr_conn_fail(c, AZR_ERR_TIMEOUT, AZR_WS_CLOSE_GOING_AWAY, true,
                          "%s (ConnectionTimeout %ld s)", azr_preamble_silent(c), budget);
    else if (kind == AZR_DL_DIAL && now >= c->dial_deadline && c->phase == AZR_P_RESOLVE)
        v = azr_conn_fail(
            c, AZR_ERR_TIMEOUT, 0, true,
            "DNS: no answer for %s within %ld s (ConnectionTimeout): check the "
            "nameservers in /etc/resolv.conf",
            c->p->route.kind != AZR_ROUTE_DIRECT ? c->p->route.host : c->p->set.relay.host, budget);
    else if (kind == AZR_DL_DIAL && now >= c->dial_deadline)
        v = azr_conn_fail(c, AZR_ERR_TIMEOUT, 0, true,
                          "%s did not answer within %ld s (ConnectionTimeout), during %s",
                          c->p->route.kind != AZR_ROUTE_DIRECT && c->phase <= AZR_P_PROXY ? "proxy"
                                                                                          : "relay",
                          budget, azr_conn_doing(c));
    else if (kind != AZR_DL_OPEN && c->hs && c->hs->wake_at && now >= c->hs->wake_at)
        v = AZR_V_NEXT; /* run the phase: dial again, or the next attempt */
    if (v == AZR_V_FAIL) {
        azr_conn_end(c);
        return;
    }
    if (v == AZR_V_NEXT) {
        azr_conn_run(c);
        return;
    }
    azr_conn_rearm(c);
}
