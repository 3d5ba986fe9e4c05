/*
 * The WebSocket upgrade towards the relay (relay-protocol.md §2-§4): the
 * request (sender path, sb-hc-id, SAS token in the header or the query)
 * written into the relay transport, and the answer checked (101 with the
 * right Sec-WebSocket-Accept; anything else is the relay's refusal). Bytes
 * after the answer's head stay in the transport for the WebSocket decoder.
 * The request is built in per-proxy scratch that is wiped after each use.
 */
#include "conn.h"

#include <strings.h>
#include "sas.h"
#include "text.h"
#include "url.h"

#include <time.h>

static void append(char *dst, size_t cap, size_t *o, const char *s, size_t n)
{
    if (n < cap - *o) {
        memcpy(dst + *o, s, n);
        *o += n;
        dst[*o] = '\0';
    }
}

/* /$hc/<each segment encoded>?sb-hc-action=connect&sb-hc-id=<uuid> */
static void sender_path(azr_conn *c, char *target, size_t cap, size_t *o, char id[37])
{
    const char *hc = c->p->set.hybrid_connection;
    char seg[3 * AZR_HC_MAX + 1];
    size_t n;
    uint8_t r[16];
    append(target, cap, o, "/$hc/", 5);
    while (*hc) {
        const char *slash = strchr(hc, '/');
        size_t len = slash ? (size_t)(slash - hc) : strlen(hc);
        if (azr_url_encode(hc, len, seg, sizeof seg, &n, 0) == AZR_OK)
            append(target, cap, o, seg, n);
        if (!slash)
            break;
        append(target, cap, o, "/", 1);
        hc = slash + 1;
    }
    br_hmac_drbg_generate(&c->p->rng, r, sizeof r);
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40); /* RFC 9562 version 4 */
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
    snprintf(id, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
    append(target, cap, o, "?sb-hc-action=connect&sb-hc-id=", 31);
    append(target, cap, o, id, 36);
}

/* The SAS token (AccessSignature as given, or one made from the key). */
static bool make_token(azr_conn *c, char *token, size_t cap)
{
    const azr_settings *s = &c->p->set;
    size_t n;
    token[0] = '\0';
    if (s->access_signature[0]) {
        snprintf(token, cap, "%s", s->access_signature);
        return true;
    }
    if (!s->access_key_name[0] || !s->access_key[0])
        return true;
    int64_t now = (int64_t)time(NULL);
    if (now < 1735689600) /* 2025-01-01: an unset clock makes tokens born expired */
        azr_proxy_log(c->p, c->id, 1,
                      "system clock reads %lld, before this build: set the clock (NTP) or the "
                      "relay will refuse the expired token",
                      (long long)now);
    azr_sas_params sp = {
        s->relay.host, s->relay.port,           s->hybrid_connection,           s->access_key_name,
        s->access_key, now + s->token_validity, (azr_sas_form)s->token_audience};
    return azr_sas_token(&sp, token, cap, &n) == AZR_OK;
}

azr_verdict azr_upgrade_send(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    const azr_settings *s = &p->set;
    azr_upgrade_scratch *w = &p->scratch;
    char id[37];
    size_t o = 0, n;
    uint8_t r[16];
    azr_verdict v = AZR_V_NEXT;

    w->target[0] = '\0';
    sender_path(c, w->target, sizeof w->target, &o, id);
    if (!make_token(c, w->token, sizeof w->token)) {
        v = azr_conn_fail(c, AZR_ERR_SETTING, 0, true,
                          "cannot build the SAS token from the settings");
        goto out;
    }
    if (w->token[0] && s->token_location == 1 &&
        azr_url_encode(w->token, strlen(w->token), w->enc, sizeof w->enc, &n, 0) == AZR_OK) {
        append(w->target, sizeof w->target, &o, "&sb-hc-token=", 13);
        append(w->target, sizeof w->target, &o, w->enc, n);
    }
    br_hmac_drbg_generate(&p->rng, r, sizeof r);
    azr_http1_ws_key(r, c->hs->key);
    azr_upgrade_req req = {
        .host = s->relay.host,
        .port = s->relay.port,
        .tls = s->relay.tls,
        .target = w->target,
        .key = c->hs->key,
        .user_agent = s->user_agent,
        .token_header = w->token[0] && s->token_location == 0 ? "ServiceBusAuthorization" : NULL,
        .token = w->token,
        .other_headers = s->other_headers[0] ? s->other_headers : NULL};
    size_t room;
    uint8_t *buf = azr_xport_sendapp_buf(&c->rx, &room);
    if (azr_http1_upgrade_write(&req, (char *)buf, room, &n) != AZR_OK) {
        v = azr_conn_fail(c, AZR_ERR_SETTING, 0, true,
                          "cannot build the upgrade request from the settings");
        goto out;
    }
    azr_xport_sendapp_ack(&c->rx, n);
    azr_xport_flush(&c->rx);
    azr_http1_resp_init(&c->hs->resp, 0);
    azr_proxy_log(p, c->id, 2, "upgrade request sent: GET /$hc/%s (sb-hc-id %s)",
                  s->hybrid_connection, id);
out:
    azr_wipe(w, sizeof *w);
    return v;
}

/* Answers another attempt may turn around: no listener yet (404), the
 * service busy or failing (500, 502, 503, 504). 401/403 never: the same
 * token would be refused again. */
static bool says(const char *text, const char *phrase)
{
    size_t n = strlen(phrase);
    for (; *text; text++)
        if (strncasecmp(text, phrase, n) == 0)
            return true;
    return false;
}

static bool retryable(int status, const char *reason)
{
    if (status == 404) /* but not "Endpoint does not exist": a wrong HybridConnection */
        return !says(reason, "does not exist");
    return status == 500 || status == 502 || status == 503 || status == 504;
}

static azr_verdict answer(azr_conn *c)
{
    azr_http1_resp *resp = &c->hs->resp;
    size_t avail, used;
    const uint8_t *in = azr_xport_recvapp_buf(&c->rx, &avail);
    azr_err e = azr_http1_resp_feed(resp, in, avail, &used);
    azr_xport_recvapp_ack(&c->rx, used);
    if (e == AZR_AGAIN) {
        if (c->relay_eof)
            return azr_conn_retry(c, AZR_ERR_PROTOCOL,
                                  "relay closed the connection before answering the upgrade");
        return AZR_V_WAIT;
    }
    if (e != AZR_OK)
        return azr_conn_fail(c, AZR_ERR_PROTOCOL, 0, true, "relay handshake invalid: %s",
                             resp->why);
    char reason[AZR_HTTP_MAX_REASON * 4 + 1];
    const char *bad;
    e = azr_http1_check_upgrade(resp, c->hs->key, &bad);
    azr_text_printable(resp->reason, resp->reason_len, 200, reason, sizeof reason);
    if (e == AZR_E_REFUSED && retryable(resp->status, reason))
        return azr_conn_retry(c, resp->status, "relay: %d %s%s", resp->status, reason,
                              resp->status == 404 ? " (no listener connected for the hybrid "
                                                    "connection yet, or a wrong HybridConnection)"
                                                  : "");
    if (e == AZR_E_REFUSED)
        return azr_conn_fail(c, resp->status, 0, true, "relay: %d %s%s", resp->status, reason,
                             resp->status == 401 || resp->status == 403
                                 ? " (check AccessKeyName and AccessKey, and that the key may "
                                   "Send)"
                                 : "");
    if (e != AZR_OK)
        return azr_conn_fail(c, AZR_ERR_PROTOCOL, 0, true, "relay handshake invalid: %s", bad);
    return AZR_V_NEXT;
}

azr_verdict azr_upgrade_step(azr_conn *c, int fd, unsigned ev)
{
    if (fd >= 0 && fd == c->rfd && (ev & AZR_READABLE) && azr_conn_read(c, false) == AZR_V_FAIL)
        return AZR_V_FAIL;
    if (azr_xport_state(&c->rx) & AZR_X_CLOSED)
        return azr_rtls_failed(c);
    if (azr_conn_flush(c, false) == AZR_V_FAIL)
        return AZR_V_FAIL;
    return answer(c);
}
