/*
 * The service's decisions, as relay-protocol.md describes them: routing by
 * /$hc/<name> and sb-hc-action, SAS checks (signature -> expiry -> audience
 * -> rights) against the configured rules, listener control channels (at
 * most 25 per hybrid connection, closed 1008 when their token expires
 * unrenewed), and the rendezvous: a sender waits while a random listener is
 * sent an accept message; the listener's request on the accept address
 * either joins the two (101 to both) or rejects (410 to the listener, its
 * status and text to the sender).
 */
#include "emu.h"

#include <time.h>

#include "base64.h"
#include "http1.h"
#include "sas.h"
#include "text.h"
#include "url.h"

static void tracking(const emu_peer *p, char *out, size_t cap)
{
    snprintf(out, cap, "TrackingId:emu-%llu_G0, SystemTracker:sb://%.60s",
             (unsigned long long)p->serial, emu.host);
}

static void refuse_t(emu_peer *p, int status, const char *text)
{
    char phrase[AZR_HTTP_MAX_REASON + 128], t[128];
    tracking(p, t, sizeof t);
    snprintf(phrase, sizeof phrase, "%.200s %s", text, t);
    emu_peer_refuse(p, status, phrase);
}

static emu_hc *find_hc(const char *path, size_t len)
{
    emu_hc *best = NULL;
    size_t best_len = 0;
    for (int i = 0; i < emu.nhc; i++) {
        size_t nl = strlen(emu.hcs[i].name);
        if (nl <= len && azr_text_ieq(path, nl, emu.hcs[i].name) &&
            (nl == len || path[nl] == '/') && nl > best_len) {
            best = &emu.hcs[i];
            best_len = nl;
        }
    }
    return best;
}

static bool token_of(const emu_req *r, char *out, size_t cap)
{
    if (emu_query_get(r->query, "sb-hc-token", out, cap))
        return true;
    const char *h = emu_req_header(r, "ServiceBusAuthorization");
    if (!h)
        h = emu_req_header(r, "Authorization");
    if (!h || strlen(h) >= cap)
        return false;
    snprintf(out, cap, "%s", h);
    return true;
}

/* Check a token for hc and the rights needed; *se gets its expiry. On
 * failure the status and the phrase to refuse with. */
static int check_token(const char *token, const emu_hc *hc, unsigned need, int64_t *se, char *why,
                       size_t cap)
{
    azr_sas_fields f;
    if (!token || !token[0]) {
        snprintf(why, cap, "MissingToken: The request does not carry a token.");
        return 401;
    }
    if (azr_sas_parse(token, strlen(token), &f, why, cap) != AZR_OK)
        return 401;
    const emu_rule *ru = NULL;
    for (int i = 0; i < emu.nrules; i++)
        if (!strcmp(emu.rules[i].name, f.skn))
            ru = &emu.rules[i];
    if (!ru) {
        snprintf(why, cap, "The token has an invalid signature.");
        return 401;
    }
    if (azr_sas_check(&f, ru->key, (int64_t)time(NULL), emu.host, hc->name, why, cap) != AZR_OK)
        return 401;
    if (!(ru->rights & (need | EMU_RIGHT_MANAGE))) {
        snprintf(why, cap,
                 "Unauthorized access. '%s' claim(s) are required to perform this operation.",
                 need == EMU_RIGHT_SEND ? "Send" : "Listen");
        return 403;
    }
    *se = f.se;
    return 0;
}

static bool is_upgrade(const emu_req *r, char *key)
{
    const char *up = emu_req_header(r, "Upgrade"), *co = emu_req_header(r, "Connection"),
               *k = emu_req_header(r, "Sec-WebSocket-Key"),
               *v = emu_req_header(r, "Sec-WebSocket-Version");
    if (!up || !azr_text_ieq(up, strlen(up), "websocket") || !co || !v || strcmp(v, "13") != 0 ||
        !k || strlen(k) != 24)
        return false;
    bool has_upgrade = false;
    for (const char *t = co; *t && !has_upgrade; t++)
        has_upgrade = (t == co || t[-1] == ' ' || t[-1] == ',') && azr_text_ieq(t, 7, "upgrade") &&
                      (t[7] == '\0' || t[7] == ',' || t[7] == ' ');
    uint8_t raw[18];
    size_t rl;
    if (!has_upgrade || azr_b64_decode(k, 24, raw, sizeof raw, &rl) != AZR_OK || rl != 16)
        return false;
    memcpy(key, k, 25);
    return true;
}

/* 101 to p for its key, with the chosen sub-protocol (may be empty). */
static bool switch_protocols(emu_peer *p, const char *key, const char *proto)
{
    char acc[29], r[400];
    azr_http1_ws_accept(key, acc);
    int n =
        snprintf(r, sizeof r,
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
                 acc, proto[0] ? "Sec-WebSocket-Protocol: " : "", proto, proto[0] ? "\r\n" : "");
    if (n <= 0 || (size_t)n >= sizeof r || !emu_peer_send_raw(p, r, (size_t)n))
        return false;
    p->upgraded = true;
    emu_peer_active(p);
    azr_ws_dec_init(&p->dec, emu.max_frame, false);
    azr_ws_dec_server(&p->dec);
    return true;
}

static void random_hex(char *out, size_t bytes)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t r[32];
    br_hmac_drbg_generate(&emu.rng, r, bytes);
    for (size_t i = 0; i < bytes; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[2 * bytes] = '\0';
}

static bool cat(char *out, size_t cap, size_t *o, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap - *o)
        return false;
    memcpy(out + *o, s, n + 1);
    *o += n;
    return true;
}

/* The accept message for a waiting sender (relay-protocol.md §8.2). */
static bool accept_message(const emu_peer *s, const emu_req *r, const emu_peer *l, char *out,
                           size_t cap, size_t *len)
{
    size_t o = 0;
    const char *host = emu.accept_host[0] ? emu.accept_host : l->host_hdr;
    char addr[AZR_URL_MAX + 256];
    size_t a = 0;
    bool ok = cat(addr, sizeof addr, &a, emu.tls ? "wss://" : "ws://") &&
              cat(addr, sizeof addr, &a, host) && cat(addr, sizeof addr, &a, r->path) &&
              cat(addr, sizeof addr, &a, "?");
    for (const char *q = r->query; ok && *q;) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        if (n && strncmp(q, "sb-hc-", 6) != 0) {
            if (n + 1 >= sizeof addr - a)
                return false;
            memcpy(addr + a, q, n);
            a += n;
            addr[a++] = '&';
            addr[a] = '\0';
        }
        q = amp ? amp + 1 : q + n;
    }
    char idq[3 * EMU_ID_MAX + 1];
    size_t il;
    if (azr_url_encode((const uint8_t *)s->id, strlen(s->id), idq, sizeof idq, &il, 0) != AZR_OK)
        return false;
    ok = ok && cat(addr, sizeof addr, &a, "sb-hc-action=accept&sb-hc-id=") &&
         cat(addr, sizeof addr, &a, idq) && cat(addr, sizeof addr, &a, "&sb-hc-rv=") &&
         cat(addr, sizeof addr, &a, s->rv);
    ok = ok && cat(out, cap, &o, "{\"accept\":{\"address\":") && emu_json_str(out, cap, &o, addr) &&
         cat(out, cap, &o, ",\"id\":") && emu_json_str(out, cap, &o, s->id) &&
         cat(out, cap, &o, ",\"connectHeaders\":{");
    bool first = true;
    for (size_t i = 0; ok && i < r->nh; i++) {
        if (azr_text_ieq(r->name[i], strlen(r->name[i]), "ServiceBusAuthorization") ||
            azr_text_ieq(r->name[i], strlen(r->name[i]), "Authorization"))
            continue;
        ok = (first || cat(out, cap, &o, ",")) && emu_json_str(out, cap, &o, r->name[i]) &&
             cat(out, cap, &o, ":") && emu_json_str(out, cap, &o, r->value[i]);
        first = false;
    }
    char tail[160];
    snprintf(tail, sizeof tail, "},\"remoteEndpoint\":{\"address\":\"%s\",\"port\":%u}}}", s->addr,
             (unsigned)s->port);
    ok = ok && cat(out, cap, &o, tail);
    *len = o;
    return ok;
}

static void sender_connect(emu_peer *p, const emu_req *r, emu_hc *hc, const char *key)
{
    char id[EMU_ID_MAX + 1];
    if (emu_query_get(r->query, "sb-hc-id", id, sizeof id) && id[0])
        snprintf(p->id, sizeof p->id, "%s", id);
    else
        snprintf(p->id, sizeof p->id, "emu-%llu", (unsigned long long)p->serial);
    p->hc = hc;
    if (hc->builtin != EMU_B_NONE) {
        if (!switch_protocols(p, key, "")) {
            emu_peer_drop(p, "no room for the 101");
            return;
        }
        p->kind = EMU_K_SENDER;
        p->source_left = hc->builtin == EMU_B_SOURCE ? hc->source_bytes : 0;
        if (hc->builtin == EMU_B_AZBRIDGE)
            emu_azbridge_start(p);
        emu_log("#%llu sender %s connected to %s (built-in %s listener)",
                (unsigned long long)p->serial, p->id, hc->name,
                hc->builtin == EMU_B_ECHO     ? "echo"
                : hc->builtin == EMU_B_SINK   ? "sink"
                : hc->builtin == EMU_B_SOURCE ? "source"
                                              : "azbridge");
        emu_peer_kick(p);
        return;
    }
    if (hc->nlisteners == 0) {
        refuse_t(p, 404, "There are no listeners connected for the endpoint.");
        return;
    }
    uint8_t pick;
    br_hmac_drbg_generate(&emu.rng, &pick, 1);
    emu_peer *l = hc->listeners[pick % hc->nlisteners];
    random_hex(p->rv, 16);
    memcpy(p->wskey, key, sizeof p->wskey);
    static char msg[EMU_CTRL_MSG_MAX];
    size_t ml;
    if (!accept_message(p, r, l, msg, sizeof msg, &ml)) {
        refuse_t(p, 400, "The request is too large to relay to a listener.");
        return;
    }
    if (!emu_peer_send_frame(l, AZR_WS_TEXT, true, msg, ml)) {
        refuse_t(p, 503, "The listener is not reading its control channel.");
        return;
    }
    emu_peer_kick(l);
    p->kind = EMU_K_WAITING;
    p->next = emu.waiting;
    emu.waiting = p;
    emu_peer_arm(p, emu.rendezvous_ms);
    emu_log("#%llu sender %s waits for a listener of %s (accept sent to #%llu)",
            (unsigned long long)p->serial, p->id, hc->name, (unsigned long long)l->serial);
}

static void unlink_waiting(emu_peer *p)
{
    for (emu_peer **pp = &emu.waiting; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            p->next = NULL;
            return;
        }
}

static void rendezvous(emu_peer *p, const emu_req *r, const char *key)
{
    char rv[40], code_s[16], desc[AZR_HTTP_MAX_REASON];
    emu_peer *s = NULL;
    if (emu_query_get(r->query, "sb-hc-rv", rv, sizeof rv))
        for (s = emu.waiting; s && strcmp(s->rv, rv) != 0; s = s->next)
            ;
    if (!s) {
        refuse_t(p, 403, "The rendezvous address is not valid (unknown, used or expired).");
        return;
    }
    unlink_waiting(s);
    s->kind = EMU_K_NEW; /* neither waiting nor upgraded until decided */
    azr_timer_cancel(emu.loop, &s->timer);
    if (emu_query_get(r->query, "sb-hc-statusCode", code_s, sizeof code_s)) {
        long code = strtol(code_s, NULL, 10);
        if (code < 200 || code > 599)
            code = 400;
        char d[AZR_HTTP_MAX_REASON];
        if (!emu_query_get(r->query, "sb-hc-statusDescription", d, sizeof d) || !d[0])
            snprintf(d, sizeof d, "%s", code == 400 ? "Bad Request" : "Rejected by the listener");
        azr_text_printable(d, strlen(d), sizeof desc - 4, desc, sizeof desc);
        emu_log("#%llu listener rejected sender %s: %ld %s", (unsigned long long)p->serial, s->id,
                code, desc);
        emu_peer_refuse(s, (int)code, desc);
        emu_peer_refuse(p, 410, "Gone");
        return;
    }
    char proto[128] = "";
    const char *want = emu_req_header(r, "Sec-WebSocket-Protocol");
    if (want) {
        size_t n = strcspn(want, ", ");
        snprintf(proto, sizeof proto, "%.*s", (int)(n < sizeof proto ? n : sizeof proto - 1), want);
    }
    if (!switch_protocols(p, key, proto) || !switch_protocols(s, s->wskey, proto)) {
        emu_peer_drop(s, "no room for the 101");
        emu_peer_drop(p, "no room for the 101");
        return;
    }
    p->kind = EMU_K_RENDEZVOUS;
    s->kind = EMU_K_SENDER;
    p->hc = s->hc;
    snprintf(p->id, sizeof p->id, "%s", s->id);
    p->mate = s;
    s->mate = p;
    emu_log("#%llu sender %s connected to %s through listener leg #%llu",
            (unsigned long long)s->serial, s->id, s->hc->name, (unsigned long long)p->serial);
    emu_peer_kick(s);
    emu_peer_kick(p);
}

static void arm_expiry(emu_peer *p)
{
    int64_t left = p->token_expiry - (int64_t)time(NULL);
    emu_peer_arm(p, left > 0 ? (uint64_t)left * 1000u : 0);
}

static void listener_open(emu_peer *p, const emu_req *r, emu_hc *hc, const char *key, int64_t se)
{
    if (hc->builtin != EMU_B_NONE) {
        refuse_t(p, 403, "This hybrid connection has a built-in listener in the emulator.");
        return;
    }
    if (hc->nlisteners == EMU_MAX_LISTENERS) {
        refuse_t(p, 403, "The maximum number of listeners (25) for this endpoint is reached.");
        return;
    }
    const char *host = emu_req_header(r, "Host");
    snprintf(p->host_hdr, sizeof p->host_hdr, "%s", host ? host : emu.host);
    if (!switch_protocols(p, key, "")) {
        emu_peer_drop(p, "no room for the 101");
        return;
    }
    p->kind = EMU_K_CONTROL;
    p->hc = hc;
    p->token_expiry = se;
    hc->listeners[hc->nlisteners++] = p;
    arm_expiry(p);
    emu_log("#%llu listener on %s (%d connected; token valid %lld s)",
            (unsigned long long)p->serial, hc->name, hc->nlisteners,
            (long long)(se - (int64_t)time(NULL)));
    emu_peer_kick(p);
}

void emu_service_request(emu_peer *p, char *head)
{
    emu_req r;
    char key[25];
    if (!emu_req_parse(head, &r)) {
        emu_peer_refuse(p, 400, "Bad Request");
        return;
    }
    if (strcmp(r.method, "GET") != 0) {
        emu_peer_refuse(p, 501, "Not Implemented: HTTP requests are not emulated");
        return;
    }
    if (strncmp(r.path, "/$hc/", 5) != 0) {
        refuse_t(p, 404, "Endpoint does not exist.");
        return;
    }
    if (!is_upgrade(&r, key)) {
        emu_peer_refuse(p, 400, "Bad Request: a WebSocket upgrade is expected");
        return;
    }
    char action[32] = "connect";
    if (emu_query_get(r.query, "sb-hc-action", action, sizeof action) && !action[0])
        snprintf(action, sizeof action, "connect");
    if (!strcmp(action, "accept")) {
        rendezvous(p, &r, key);
        return;
    }
    unsigned need = !strcmp(action, "connect")  ? EMU_RIGHT_SEND
                    : !strcmp(action, "listen") ? EMU_RIGHT_LISTEN
                                                : 0;
    if (!need) {
        char t[80];
        snprintf(t, sizeof t, "Unrecognized action '%.40s'.", action);
        refuse_t(p, 400, t);
        return;
    }
    uint8_t name[AZR_HC_MAX + 1];
    size_t nl;
    emu_hc *hc = NULL;
    if (azr_url_decode(r.path + 5, strlen(r.path + 5), name, sizeof name, &nl, 0) == AZR_OK &&
        strlen((const char *)name) == nl)
        hc = find_hc((const char *)name, nl);
    if (!hc || (need == EMU_RIGHT_LISTEN && strlen(hc->name) != nl)) {
        refuse_t(p, 404, "Endpoint does not exist.");
        return;
    }
    int64_t se = INT64_MAX;
    if (need == EMU_RIGHT_LISTEN || !emu.anonymous) {
        char token[AZR_SAS_MAX + 1], why[AZR_HTTP_MAX_REASON];
        bool have = token_of(&r, token, sizeof token);
        int st = check_token(have ? token : NULL, hc, need, &se, why, sizeof why);
        if (st) {
            refuse_t(p, st, why);
            return;
        }
    }
    if (need == EMU_RIGHT_SEND)
        sender_connect(p, &r, hc, key);
    else
        listener_open(p, &r, hc, key, se);
}

void emu_service_timer(emu_peer *p)
{
    if (p->kind == EMU_K_WAITING) {
        unlink_waiting(p);
        p->kind = EMU_K_NEW;
        refuse_t(p, 404,
                 "None of the connected listeners accepted the connection within the allowed "
                 "timeout.");
    } else if (p->kind == EMU_K_CONTROL) {
        if ((int64_t)time(NULL) < p->token_expiry) {
            arm_expiry(p);
            return;
        }
        emu_log("#%llu listener on %s: token expired", (unsigned long long)p->serial, p->hc->name);
        emu_peer_send_close(p, AZR_WS_CLOSE_POLICY, "The token has expired.");
    }
}

bool emu_service_renew(emu_peer *p, const char *token, char *why, size_t cap)
{
    int64_t se;
    if (check_token(token, p->hc, EMU_RIGHT_LISTEN, &se, why, cap) != 0)
        return false;
    p->token_expiry = se;
    arm_expiry(p);
    emu_log("#%llu listener on %s renewed its token (valid %lld s)", (unsigned long long)p->serial,
            p->hc->name, (long long)(se - (int64_t)time(NULL)));
    return true;
}

void emu_service_forget(emu_peer *p)
{
    if (p->kind == EMU_K_WAITING)
        unlink_waiting(p);
    if (p->kind == EMU_K_CONTROL && p->hc) {
        emu_hc *hc = p->hc;
        for (int i = 0; i < hc->nlisteners; i++)
            if (hc->listeners[i] == p) {
                hc->listeners[i] = hc->listeners[--hc->nlisteners];
                break;
            }
    }
}
