/*
 * IMPLEMENTATION NOTES
 * Each state knows how many reply bytes it needs (in_need). Bytes are taken
 * one reply at a time into in[], never more, so the tunnel's first bytes stay
 * with the caller. SOCKS5's final reply has a variable length: the first 5
 * bytes give the address type (and a domain's length), which sets the rest.
 */
#include "socks.h"
#include "text.h"
#include <arpa/inet.h>

enum { S4_REPLY = 1, S5_METHOD, S5_AUTH, S5_REPLY_HEAD, S5_REPLY_REST, S_DONE, S_FAILED };

const char *azr_socks_reply_text(azr_socks_ver ver, uint8_t code)
{
    if (ver != AZR_SOCKS5) {
        switch (code) {
        case 90:
            return "request granted";
        case 91:
            return "request rejected or failed";
        case 92:
            return "request rejected: the proxy cannot reach our identd";
        case 93:
            return "request rejected: identd reports a different user id";
        default:
            return "unknown SOCKS4 reply code";
        }
    }
    switch (code) { /* RFC 1928 §6 */
    case 0:
        return "succeeded";
    case 1:
        return "general SOCKS server failure";
    case 2:
        return "connection not allowed by ruleset";
    case 3:
        return "network unreachable";
    case 4:
        return "host unreachable";
    case 5:
        return "connection refused";
    case 6:
        return "TTL expired";
    case 7:
        return "command not supported";
    case 8:
        return "address type not supported";
    default:
        return "unassigned SOCKS5 reply code";
    }
}

static azr_err fail(azr_socks *s, azr_err e, const char *why)
{
    s->err = e;
    s->why = why;
    s->state = S_FAILED;
    return e;
}

static void emit(azr_socks *s, const uint8_t *b, size_t n)
{
    memcpy(s->out + s->out_len, b, n);
    s->out_len += n;
}

static void expect(azr_socks *s, uint8_t state, size_t need)
{
    s->state = state;
    s->in_have = 0;
    s->in_need = need;
}

static void socks5_request(azr_socks *s)
{
    uint8_t a[16];
    uint8_t hdr[4] = {5, 1, 0, 0}; /* VER, CMD CONNECT, RSV, ATYP */
    size_t hl = strlen(s->host);
    uint8_t port[2] = {(uint8_t)(s->port >> 8), (uint8_t)s->port};
    if (inet_pton(AF_INET, s->host, a) == 1) {
        hdr[3] = 1;
        emit(s, hdr, 4);
        emit(s, a, 4);
    } else if (inet_pton(AF_INET6, s->host, a) == 1) {
        hdr[3] = 4;
        emit(s, hdr, 4);
        emit(s, a, 16);
    } else {
        uint8_t l = (uint8_t)hl;
        hdr[3] = 3;
        emit(s, hdr, 4);
        emit(s, &l, 1);
        emit(s, (const uint8_t *)s->host, hl);
    }
    emit(s, port, 2);
    expect(s, S5_REPLY_HEAD, 5);
}

azr_err azr_socks_init(azr_socks *s, azr_socks_ver ver, const char *host, uint16_t port,
                       const char *user, const char *pass)
{
    memset(s, 0, sizeof *s);
    s->ver = ver;
    if (!host || !*host || strlen(host) > AZR_SOCKS_MAX_NAME || port == 0)
        return fail(s, AZR_E_ARG, "bad destination host or port");
    if ((user && strlen(user) > AZR_SOCKS_MAX_NAME) || (pass && strlen(pass) > AZR_SOCKS_MAX_NAME))
        return fail(s, AZR_E_ARG, "SOCKS user or password longer than 255 bytes");
    snprintf(s->host, sizeof s->host, "%s", host);
    snprintf(s->user, sizeof s->user, "%s", user ? user : "");
    snprintf(s->pass, sizeof s->pass, "%s", pass ? pass : "");
    s->port = port;
    uint8_t ip[4];
    uint8_t pb[2] = {(uint8_t)(port >> 8), (uint8_t)port};
    switch (ver) {
    case AZR_SOCKS4:
    case AZR_SOCKS4A: {
        bool literal = inet_pton(AF_INET, host, ip) == 1;
        if (ver == AZR_SOCKS4 && !literal)
            return fail(s, AZR_E_ARG,
                        "SOCKS4 needs an IPv4 address (use SOCKS4A or SOCKS5 for "
                        "host names)");
        uint8_t head[2] = {4, 1}; /* VN, CD CONNECT */
        emit(s, head, 2);
        emit(s, pb, 2);
        if (!literal) { /* 4A: 0.0.0.x with x != 0, name after the user id */
            ip[0] = ip[1] = ip[2] = 0;
            ip[3] = 1;
        }
        emit(s, ip, 4);
        emit(s, (const uint8_t *)s->user, strlen(s->user) + 1);
        if (!literal)
            emit(s, (const uint8_t *)s->host, strlen(s->host) + 1);
        expect(s, S4_REPLY, 8);
        return AZR_OK;
    }
    case AZR_SOCKS5: {
        /* RFC 1928 §3: offer user/password (02) only when we have a user */
        uint8_t greet[4] = {5, 1, 0, 0};
        if (s->user[0]) {
            greet[1] = 2;
            greet[3] = 2;
            emit(s, greet, 4);
        } else {
            emit(s, greet, 3);
        }
        expect(s, S5_METHOD, 2);
        return AZR_OK;
    }
    default:
        return fail(s, AZR_E_ARG, "unknown SOCKS version");
    }
}

size_t azr_socks_pending(const azr_socks *s, const uint8_t **out)
{
    *out = s->out + s->out_off;
    return s->out_len - s->out_off;
}

void azr_socks_sent(azr_socks *s, size_t n)
{
    if (n > s->out_len - s->out_off)
        n = s->out_len - s->out_off;
    s->out_off += n;
    if (s->out_off == s->out_len)
        s->out_off = s->out_len = 0;
}

static azr_err step(azr_socks *s)
{
    const uint8_t *r = s->in;
    switch (s->state) {
    case S4_REPLY:
        s->reply = r[1];
        if (r[0] != 0)
            return fail(s, AZR_E_PROTO, "not a SOCKS4 reply (version byte is not 0)");
        if (r[1] != 90)
            return fail(s, AZR_E_REFUSED, azr_socks_reply_text(s->ver, r[1]));
        s->state = S_DONE;
        return AZR_OK;
    case S5_METHOD:
        if (r[0] != 5)
            return fail(s, AZR_E_PROTO, "not a SOCKS5 reply (version byte is not 5)");
        s->reply = r[1];
        if (r[1] == 0xff)
            return fail(s, AZR_E_AUTH,
                        s->user[0] ? "no acceptable authentication method "
                                     "(the proxy refused user/password)"
                                   : "no acceptable authentication method "
                                     "(the proxy wants credentials: set "
                                     "FirewallUser and FirewallPassword)");
        if (r[1] == 2 && s->user[0]) {
            uint8_t v = 1, ul = (uint8_t)strlen(s->user), pl = (uint8_t)strlen(s->pass);
            emit(s, &v, 1); /* RFC 1929 §2 */
            emit(s, &ul, 1);
            emit(s, (const uint8_t *)s->user, ul);
            emit(s, &pl, 1);
            emit(s, (const uint8_t *)s->pass, pl);
            expect(s, S5_AUTH, 2);
            return AZR_AGAIN;
        }
        if (r[1] != 0)
            return fail(s, AZR_E_PROTO, "the proxy chose a method we did not offer");
        socks5_request(s);
        return AZR_AGAIN;
    case S5_AUTH:
        s->reply = r[1];
        /* RFC 1929 says version 1; some servers answer 5: accept either */
        if (r[0] != 1 && r[0] != 5)
            return fail(s, AZR_E_PROTO, "not a SOCKS5 authentication reply");
        if (r[1] != 0)
            return fail(s, AZR_E_AUTH, "the proxy refused the user name or password");
        socks5_request(s);
        return AZR_AGAIN;
    case S5_REPLY_HEAD: {
        if (r[0] != 5)
            return fail(s, AZR_E_PROTO, "not a SOCKS5 reply (version byte is not 5)");
        s->reply = r[1];
        if (r[1] != 0)
            return fail(s, AZR_E_REFUSED, azr_socks_reply_text(s->ver, r[1]));
        size_t rest;
        switch (r[3]) { /* ATYP; the 5th byte is the first of BND.ADDR */
        case 1:
            rest = 4 - 1 + 2;
            break;
        case 3:
            rest = (size_t)r[4] + 2;
            break;
        case 4:
            rest = 16 - 1 + 2;
            break;
        default:
            return fail(s, AZR_E_PROTO, "SOCKS5 reply with an unknown address type");
        }
        s->state = S5_REPLY_REST;
        s->in_need = 5 + rest;
        return AZR_AGAIN;
    }
    case S5_REPLY_REST:
        s->state = S_DONE;
        return AZR_OK;
    default:
        return AZR_E_STATE;
    }
}

azr_err azr_socks_feed(azr_socks *s, const uint8_t *in, size_t len, size_t *consumed)
{
    size_t i = 0;
    *consumed = 0;
    if (s->state == S_FAILED || s->err != AZR_OK)
        return s->err;
    if (s->state == S_DONE)
        return AZR_OK;
    while (i < len) {
        while (s->in_have < s->in_need && i < len)
            s->in[s->in_have++] = in[i++];
        *consumed = i;
        if (s->in_have < s->in_need)
            return AZR_AGAIN;
        azr_err e = step(s);
        if (e != AZR_AGAIN)
            return e;
    }
    return AZR_AGAIN;
}

void azr_socks_wipe(azr_socks *s)
{
    azr_wipe(s->pass, sizeof s->pass);
    azr_wipe(s->out, sizeof s->out);
}
