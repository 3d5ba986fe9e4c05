/*
 * A proxy's counters. Each event adds to a field of the proxy (listener.c:
 * accepted and refused; conn.c: opened and verdicts; dial.c: retries;
 * splice.c: bytes), and azr_proxy_get_stats copies them out with what is
 * computed when read: the connections still open and the histogram's bucket
 * bounds. Failures are classed by the phase the verdict came in, so one
 * place decides, whatever module failed: a phase module reports an error,
 * a timeout (deadline.c) or a refusal the same way.
 */
#include "stats.h"

static const uint32_t bucket_ms[AZR_STATS_CONNECT_BUCKETS] = {5,   10,   25,   50,   100,  250,
                                                              500, 1000, 2500, 5000, 10000};

static const char *const fail_names[AZR_FAIL_REASONS] = {
    [AZR_FAIL_DNS] = "dns",
    [AZR_FAIL_TCP] = "tcp",
    [AZR_FAIL_PROXY] = "proxy",
    [AZR_FAIL_TLS] = "tls",
    [AZR_FAIL_UPGRADE_401] = "upgrade 401",
    [AZR_FAIL_UPGRADE_403] = "upgrade 403",
    [AZR_FAIL_UPGRADE_404] = "upgrade 404",
    [AZR_FAIL_UPGRADE_5XX] = "upgrade 5xx",
    [AZR_FAIL_UPGRADE_OTHER] = "upgrade other",
    [AZR_FAIL_UPGRADE_NONE] = "upgrade none",
    [AZR_FAIL_AZBRIDGE] = "azbridge",
};

const char *azr_relay_failure_name(int reason)
{
    return reason >= 0 && reason < AZR_FAIL_REASONS ? fail_names[reason] : NULL;
}

void azr_stats_opened(azr_conn *c)
{
    azr_proxy_stats *st = &c->p->stats;
    uint64_t now = azr_conn_now(c);
    uint64_t took = now > c->opened_at ? now - c->opened_at : 0;
    size_t b = 0;
    while (b < AZR_STATS_CONNECT_BUCKETS && took > bucket_ms[b])
        b++;
    st->opened++;
    st->connect_buckets[b]++;
    st->connect_ms_sum += took;
}

enum azr_relay_failure azr_stats_upgrade_reason(int status)
{
    if (status < 100 || status > 599)
        return AZR_FAIL_UPGRADE_NONE; /* an AZR_ERR_* code: no HTTP answer */
    if (status == 401)
        return AZR_FAIL_UPGRADE_401;
    if (status == 403)
        return AZR_FAIL_UPGRADE_403;
    if (status == 404)
        return AZR_FAIL_UPGRADE_404;
    return status >= 500 ? AZR_FAIL_UPGRADE_5XX : AZR_FAIL_UPGRADE_OTHER;
}

void azr_stats_failed(azr_conn *c, int status, bool retried)
{
    azr_proxy_stats *st = &c->p->stats;
    int reason;
    if (c->not_relay)
        return;
    switch (c->phase) {
    case AZR_P_LOCAL_TLS:
        st->tls_failures_client++;
        return;
    case AZR_P_RESOLVE:
        reason = AZR_FAIL_DNS;
        break;
    case AZR_P_CONNECTING:
        reason = AZR_FAIL_TCP;
        break;
    case AZR_P_PROXY:
        reason = AZR_FAIL_PROXY;
        break;
    case AZR_P_TLS:
        reason = AZR_FAIL_TLS;
        st->tls_failures_relay++;
        break;
    case AZR_P_UPGRADE:
        reason = (int)azr_stats_upgrade_reason(status);
        break;
    case AZR_P_PREAMBLE:
        reason = AZR_FAIL_AZBRIDGE;
        break;
    default: /* ACCEPTED, BACKOFF (its attempt was counted), OPEN, DEAD */
        return;
    }
    st->relay_failures[reason]++;
    if (retried)
        st->retries++;
}

const char *azr_stats_phase_name(const azr_conn *c)
{
    switch (c->phase) {
    case AZR_P_ACCEPTED:
        return "accepted";
    case AZR_P_LOCAL_TLS:
        return "client-tls";
    case AZR_P_BACKOFF:
        return "backoff";
    case AZR_P_RESOLVE:
        return "resolve";
    case AZR_P_CONNECTING:
        return "connecting";
    case AZR_P_PROXY:
        return "proxy";
    case AZR_P_TLS:
        return "tls";
    case AZR_P_UPGRADE:
        return "upgrade";
    case AZR_P_PREAMBLE:
        return "preamble";
    case AZR_P_OPEN:
        return c->client_eof || c->relay_eof || c->ctrl.close_bits ? "closing" : "open";
    default:
        return "closed";
    }
}

void azr_stats_get(const azr_proxy_state *p, azr_proxy_stats *out)
{
    *out = p->stats;
    out->active = p->nopen;
    memcpy(out->connect_bucket_ms, bucket_ms, sizeof bucket_ms);
}
