/*
 * IMPLEMENTATION NOTES
 * Phases: NEW until first(), WAIT while answering 407s, FAILED once a refusal
 * is recorded (sticky, with its text in why). feed() lexes each header value
 * with authchal.c and folds the challenges into a per-407 summary: a bit per
 * scheme offered, the offered names in order (for messages), the best Digest
 * challenge (usable beats unusable, SHA-256 beats MD5, else the first) and
 * the first NTLM token, decoded. A challenge only counts once it is complete
 * (the next challenge starts or the value ends), so a malformed tail cannot
 * half-register one. next() decides from the summary and then forgets it.
 * Retry rule: `tried` has a bit per scheme we have answered; a 407 that would
 * make us answer a tried scheme again is a refusal, except one Digest
 * stale=true. NTLM's NEGOTIATE_MESSAGE is not an answer (it carries no
 * credentials); after it only a CHALLENGE_MESSAGE is acceptable.
 */
#include "proxyauth.h"
#include "authchal.h"
#include "base64.h"
#include "digest.h"
#include "ntlm.h"
#include "text.h"

#include <stdarg.h>

enum { P_NEW, P_WAIT, P_FAILED };
enum { B_BASIC = 1, B_DIGEST = 2, B_NTLM = 4, B_NEGOTIATE = 8, B_OTHER = 16 };
enum { N_NONE, N_NEGOTIATED, N_AUTHENTICATED };
enum { T_NONE, T_OK, T_BAD64, T_LONG };

_Static_assert(AZR_PAUTH_MAX_USER <= AZR_NTLM_MAX_TEXT &&
                   AZR_PAUTH_MAX_PASSWORD <= AZR_NTLM_MAX_TEXT &&
                   AZR_PAUTH_MAX_WORKSTATION <= AZR_NTLM_MAX_TEXT,
               "NTLM must take every ProxyUser, ProxyPassword and workstation name");
_Static_assert(AZR_PAUTH_MAX_VALUE >= 5 + AZR_B64_ENC_LEN(AZR_NTLM_MAX_AUTH),
               "the largest AUTHENTICATE_MESSAGE must fit a value");

static const char *const setting_names[] = {"Auto", "Basic", "Digest", "NTLM", "Negotiate", "None"};

#define NEGOTIATE_REFUSED                                                                          \
    "proxy asks for Negotiate (Kerberos), which azrelay does not speak; set ProxyAuthScheme to "   \
    "NTLM or Basic if the proxy also offers them"

azr_err azr_pauth_scheme_parse(const char *s, azr_pauth_scheme *out)
{
    *out = AZR_PAUTH_AUTO;
    if (!s || !*s)
        return AZR_OK;
    for (size_t i = 0; i < sizeof setting_names / sizeof setting_names[0]; i++) {
        if (azr_text_ieq(s, strlen(s), setting_names[i])) {
            *out = (azr_pauth_scheme)i;
            return AZR_OK;
        }
    }
    return AZR_E_ARG;
}

static azr_err fail(azr_pauth *a, azr_err e, const char *fmt, ...) AZR_PRINTF(3, 4);
static azr_err fail(azr_pauth *a, azr_err e, const char *fmt, ...)
{
    if (a->err == AZR_OK) {
        a->err = e;
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(a->why, sizeof a->why, fmt, ap);
        va_end(ap);
        if (k < 0)
            a->why[0] = '\0';
    }
    a->phase = P_FAILED; /* nothing more will be sent: drop the secrets now */
    azr_wipe(a->out, sizeof a->out);
    azr_wipe(a->password, sizeof a->password);
    return a->err;
}

/* Bytes below 0x20 or DEL; HTAB passes when tab_ok (header field values allow it). */
static bool has_ctl(const char *s, bool tab_ok)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && !(tab_ok && c == '\t')) || c == 0x7f)
            return true;
    }
    return false;
}

static bool copy(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        return false;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return true;
}

azr_err azr_pauth_init(azr_pauth *a, const azr_pauth_cfg *c)
{
    memset(a, 0, sizeof *a);
    azr_pauth_scheme sc;
    if (azr_pauth_scheme_parse(c->scheme, &sc) != AZR_OK)
        return fail(a, AZR_E_ARG,
                    "ProxyAuthScheme must be Auto, Basic, Digest, NTLM, Negotiate or None");
    a->scheme = (uint8_t)sc;
    const char *authz = c->authorization ? c->authorization : "";
    if (*authz) {
        if (has_ctl(authz, true))
            return fail(a, AZR_E_ARG, "ProxyAuthorization contains a control character");
        if (!copy(a->out, sizeof a->out, authz, strlen(authz)))
            return fail(a, AZR_E_LIMIT, "ProxyAuthorization is longer than %d bytes",
                        AZR_PAUTH_MAX_VALUE);
        a->verbatim = true;
        return AZR_OK;
    }
    const char *user = c->user ? c->user : "", *pass = c->password ? c->password : "";
    const char *ws = c->workstation ? c->workstation : "", *target = c->target ? c->target : "";
    if (!c->rand || !c->clock)
        return fail(a, AZR_E_ARG, "proxy authentication needs a random source and a clock");
    if (!copy(a->user, sizeof a->user, user, strlen(user)))
        return fail(a, AZR_E_LIMIT, "ProxyUser is longer than %d bytes", AZR_PAUTH_MAX_USER);
    if (!copy(a->password, sizeof a->password, pass, strlen(pass)))
        return fail(a, AZR_E_LIMIT, "ProxyPassword is longer than %d bytes",
                    AZR_PAUTH_MAX_PASSWORD);
    if (!copy(a->workstation, sizeof a->workstation, ws, strlen(ws)))
        return fail(a, AZR_E_LIMIT, "the NTLM workstation name is longer than %d bytes",
                    AZR_PAUTH_MAX_WORKSTATION);
    if (!*target || !copy(a->target, sizeof a->target, target, strlen(target)) ||
        has_ctl(target, false) || strchr(target, ' '))
        return fail(a, AZR_E_ARG, "the CONNECT target for proxy authentication is missing or bad");
    if (has_ctl(user, false) || has_ctl(ws, false))
        return fail(a, AZR_E_ARG, "ProxyUser or the workstation name contains a control character");
    /* NTLM's domain: "DOMAIN\user", else "user@domain", else none */
    const char *bs = strchr(user, '\\'), *at = strrchr(user, '@');
    if (bs) {
        (void)copy(a->nt_domain, sizeof a->nt_domain, user, (size_t)(bs - user));
        (void)copy(a->nt_user, sizeof a->nt_user, bs + 1, strlen(bs + 1));
    } else if (at) {
        (void)copy(a->nt_user, sizeof a->nt_user, user, (size_t)(at - user));
        (void)copy(a->nt_domain, sizeof a->nt_domain, at + 1, strlen(at + 1));
    } else {
        (void)copy(a->nt_user, sizeof a->nt_user, user, strlen(user));
    }
    a->rand = c->rand;
    a->clock = c->clock;
    a->ud = c->ud;
    return AZR_OK;
}

static azr_err emit(azr_pauth *a, azr_pauth_out *out, const char *step, bool same_conn)
{
    out->value = a->out;
    out->value_len = strlen(a->out);
    out->step = step;
    out->same_conn = same_conn;
    return AZR_OK;
}

/* "<prefix>" + base64(bin) into a->out. */
static azr_err b64_value(azr_pauth *a, const char *prefix, const uint8_t *bin, size_t n)
{
    size_t p = strlen(prefix), o;
    memcpy(a->out, prefix, p);
    if (azr_b64_encode(bin, n, a->out + p, sizeof a->out - p, &o) != AZR_OK)
        return fail(a, AZR_E_LIMIT, "the Proxy-Authorization value would be longer than %d bytes",
                    AZR_PAUTH_MAX_VALUE);
    return AZR_OK;
}

/* RFC 7617 §2: base64(user-id ":" password), UTF-8 as configured. */
static azr_err basic(azr_pauth *a, azr_pauth_out *out)
{
    if (strchr(a->user, ':'))
        return fail(a, AZR_E_ARG, "ProxyUser contains ':', which Basic cannot carry (RFC 7617)");
    uint8_t cred[AZR_PAUTH_MAX_USER + 1 + AZR_PAUTH_MAX_PASSWORD];
    size_t un = strlen(a->user), pn = strlen(a->password);
    memcpy(cred, a->user, un);
    cred[un] = ':';
    memcpy(cred + un + 1, a->password, pn);
    azr_err e = b64_value(a, "Basic ", cred, un + 1 + pn);
    azr_wipe(cred, sizeof cred);
    if (e != AZR_OK)
        return e;
    a->tried |= B_BASIC;
    return emit(a, out, "Basic", false);
}

static azr_err ntlm_negotiate(azr_pauth *a, azr_pauth_out *out)
{
    uint8_t m[AZR_NTLM_NEGOTIATE_LEN];
    azr_ntlm_negotiate(m);
    azr_err e = b64_value(a, "NTLM ", m, sizeof m);
    if (e != AZR_OK)
        return e;
    a->ntlm = N_NEGOTIATED;
    return emit(a, out, "NTLM negotiate", false);
}

azr_err azr_pauth_first(azr_pauth *a, azr_pauth_out *out)
{
    memset(out, 0, sizeof *out);
    if (a->err != AZR_OK)
        return a->err;
    if (a->phase != P_NEW)
        return AZR_E_STATE;
    a->phase = P_WAIT;
    if (a->verbatim)
        return emit(a, out, "ProxyAuthorization", false);
    if (a->scheme == AZR_PAUTH_NEGOTIATE)
        return fail(a, AZR_E_UNSUPPORTED,
                    "ProxyAuthScheme is Negotiate (Kerberos), which azrelay does not speak; set "
                    "ProxyAuthScheme to NTLM or Basic if the proxy also offers them");
    if (a->scheme == AZR_PAUTH_BASIC && a->user[0])
        return basic(a, out);
    if (a->scheme == AZR_PAUTH_NTLM && a->user[0])
        return ntlm_negotiate(a, out);
    return AZR_OK;
}

/* ------------------------------------------------------------ challenges */

static uint8_t scheme_bit(const char *s, size_t n)
{
    return azr_text_ieq(s, n, "Basic")       ? B_BASIC
           : azr_text_ieq(s, n, "Digest")    ? B_DIGEST
           : azr_text_ieq(s, n, "NTLM")      ? B_NTLM
           : azr_text_ieq(s, n, "Negotiate") ? B_NEGOTIATE
                                             : B_OTHER;
}

static const char *bit_name(uint8_t b)
{
    return b == B_BASIC ? "Basic" : b == B_DIGEST ? "Digest" : b == B_NTLM ? "NTLM" : "Negotiate";
}

static bool ieqn(const char *x, const char *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (azr_text_lower(x[i]) != azr_text_lower(y[i]))
            return false;
    return true;
}

/* Append a scheme name to the offered list, once (names are tokens: printable). */
static void add_name(azr_pauth *a, uint8_t bit, const char *s, size_t n)
{
    if (bit != B_OTHER) {
        if (a->offered & bit)
            return;
        s = bit_name(bit);
        n = strlen(s);
    } else {
        for (const char *p = a->names; *p;) {
            size_t k = strcspn(p, ",");
            if (k == n && ieqn(p, s, n))
                return;
            p += k;
            p += strspn(p, ", ");
        }
    }
    size_t used = strlen(a->names), sep = used ? 2 : 0, room = sizeof a->names - used;
    if (used >= 3 && strcmp(a->names + used - 3, "...") == 0)
        return;
    if (sep + n + sizeof ", ..." > room) { /* room for ", ..." is always kept */
        memcpy(a->names + used, used ? ", ..." : "...", used ? 6 : 4);
        return;
    }
    memcpy(a->names + used, ", ", sep);
    memcpy(a->names + used + sep, s, n);
    a->names[used + sep + n] = '\0';
}

/* The challenge being lexed is complete: count it. */
static void commit(azr_pauth *a)
{
    uint8_t bit = a->cur;
    if (!bit)
        return;
    add_name(a, bit, a->cur_name, a->cur_name_len);
    a->offered |= bit;
    if (bit == B_DIGEST) {
        azr_digest_chal_done(&a->cur_dig);
        if (!a->have_dig || azr_digest_chal_rank(&a->cur_dig) > azr_digest_chal_rank(&a->dig))
            a->dig = a->cur_dig;
        a->have_dig = true;
    }
    if (bit == B_NTLM && a->cur_tok_len && a->ntlm_tok == T_NONE) {
        azr_err e = azr_b64_decode(a->cur_tok, a->cur_tok_len, a->ntlm_msg, sizeof a->ntlm_msg,
                                   &a->ntlm_len);
        a->ntlm_tok = e == AZR_OK ? T_OK : e == AZR_E_LIMIT ? T_LONG : T_BAD64;
    }
    azr_wipe(&a->cur_dig, sizeof a->cur_dig);
    a->cur = 0;
    a->cur_name = a->cur_tok = NULL;
    a->cur_name_len = a->cur_tok_len = 0;
}

azr_err azr_pauth_feed(azr_pauth *a, const char *v, size_t n)
{
    if (a->err != AZR_OK)
        return a->err;
    if (a->phase != P_WAIT)
        return AZR_E_STATE;
    azr_authchal l;
    azr_authchal_ev ev;
    azr_err e;
    azr_authchal_init(&l, v, n);
    while ((e = azr_authchal_next(&l, &ev)) == AZR_OK) {
        if (ev.kind == AZR_AUTHCHAL_SCHEME) {
            commit(a);
            a->cur = scheme_bit(ev.name, ev.name_len);
            a->cur_name = ev.name;
            a->cur_name_len = ev.name_len;
            a->cur_tok = ev.value;
            a->cur_tok_len = ev.value_len;
            azr_digest_chal_init(&a->cur_dig);
        } else if (a->cur == B_DIGEST) {
            azr_digest_chal_param(&a->cur_dig, &ev);
        }
    }
    if (e == AZR_AGAIN) {
        commit(a);
        return AZR_OK;
    }
    azr_wipe(&a->cur_dig, sizeof a->cur_dig); /* the challenge in progress does not count */
    a->cur = 0;
    if (!a->malformed[0] &&
        snprintf(a->malformed, sizeof a->malformed, "%s at byte %zu", l.why, l.err_at) < 0)
        a->malformed[0] = '\0';
    return AZR_E_PROTO;
}

/* -------------------------------------------------------------- answers */

/* RFC 7616 §3.4: the Proxy-Authorization value for the best Digest challenge. */
static azr_err digest(azr_pauth *a, azr_pauth_out *out)
{
    static const char hx[] = "0123456789abcdef";
    const azr_digest_chal *d = &a->dig;
    if (d->bad)
        return fail(a, AZR_E_UNSUPPORTED, "proxy's Digest challenge cannot be answered: %s",
                    d->bad);
    if (strcmp(d->nonce, a->last_nonce) == 0) { /* §3.4: nc counts requests with this nonce */
        a->nc++;
    } else {
        a->nc = 1;
        memcpy(a->last_nonce, d->nonce, sizeof a->last_nonce);
    }
    uint8_t rnd[16];
    char cnonce[2 * sizeof rnd + 1];
    size_t n;
    a->rand(a->ud, rnd, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++) {
        cnonce[2 * i] = hx[rnd[i] >> 4];
        cnonce[2 * i + 1] = hx[rnd[i] & 15];
    }
    cnonce[2 * sizeof rnd] = '\0';
    if (azr_digest_write(d, a->user, a->password, "CONNECT", a->target, cnonce, a->nc, a->out,
                         sizeof a->out, &n) != AZR_OK)
        return fail(a, AZR_E_LIMIT, "the Proxy-Authorization value would be longer than %d bytes",
                    AZR_PAUTH_MAX_VALUE);
    a->tried |= B_DIGEST;
    return emit(a, out, "Digest", false);
}

/* MS-NLMP §3.1.5.1.2: the AUTHENTICATE_MESSAGE for the proxy's CHALLENGE_MESSAGE. */
static azr_err ntlm_authenticate(azr_pauth *a, azr_pauth_out *out)
{
    if (a->ntlm_tok == T_BAD64)
        return fail(a, AZR_E_PROTO, "proxy's NTLM challenge is not valid base64");
    if (a->ntlm_tok == T_LONG)
        return fail(a, AZR_E_LIMIT, "proxy's NTLM challenge is longer than %d bytes",
                    AZR_PAUTH_MAX_NTLM_CHAL);
    azr_ntlm_challenge ch;
    const char *why;
    azr_err e = azr_ntlm_challenge_parse(a->ntlm_msg, a->ntlm_len, &ch, &why);
    if (e != AZR_OK)
        return fail(a, e, "bad NTLM challenge from the proxy: %s", why);
    uint8_t cc[8], msg[AZR_NTLM_MAX_AUTH];
    size_t n;
    a->rand(a->ud, cc, sizeof cc);
    azr_ntlm_creds cr = {a->nt_user, a->nt_domain, a->password, a->workstation};
    e = azr_ntlm_authenticate(&cr, &ch, cc, a->clock(a->ud), msg, sizeof msg, &n, &why);
    if (e == AZR_OK)
        e = b64_value(a, "NTLM ", msg, n);
    else
        (void)fail(a, e, "%s", why);
    azr_wipe(msg, sizeof msg);
    if (e != AZR_OK)
        return e;
    a->ntlm = N_AUTHENTICATED;
    a->tried |= B_NTLM;
    return emit(a, out, "NTLM authenticate", true);
}

static azr_err decide(azr_pauth *a, azr_pauth_out *out)
{
    const char *list = a->names;
    if (a->verbatim)
        return fail(a, AZR_E_AUTH, "proxy refused the ProxyAuthorization value%s%s%s",
                    *list ? " (it offers " : "", list, *list ? ")" : "");
    if (!a->offered) {
        if (a->malformed[0])
            return fail(a, AZR_E_PROTO, "malformed Proxy-Authenticate header (%s)", a->malformed);
        return fail(a, AZR_E_PROTO, "proxy answered 407 without a Proxy-Authenticate challenge");
    }
    if (a->scheme == AZR_PAUTH_NONE)
        return fail(a, AZR_E_AUTH, "proxy asks for credentials (%s) but ProxyAuthScheme is None",
                    list);
    uint8_t pick, off = a->offered;
    if (a->scheme == AZR_PAUTH_AUTO) {
        pick = (off & B_NTLM)                    ? B_NTLM
               : (off & B_DIGEST) && !a->dig.bad ? B_DIGEST
               : (off & B_BASIC)                 ? B_BASIC
               : (off & B_DIGEST)                ? B_DIGEST
                                                 : 0;
        if (!pick && (off & B_NEGOTIATE))
            return fail(a, AZR_E_UNSUPPORTED, NEGOTIATE_REFUSED);
        if (!pick)
            return fail(a, AZR_E_UNSUPPORTED,
                        "proxy asks for %s, which azrelay does not speak (it speaks NTLM, Digest "
                        "and Basic)",
                        list);
    } else {
        pick = a->scheme == AZR_PAUTH_BASIC    ? B_BASIC
               : a->scheme == AZR_PAUTH_DIGEST ? B_DIGEST
                                               : B_NTLM;
        if (!(off & pick))
            return fail(a, AZR_E_UNSUPPORTED, "ProxyAuthScheme is %s but the proxy offers only %s",
                        setting_names[a->scheme], list);
    }
    if (!a->user[0])
        return fail(a, AZR_E_AUTH, "proxy asks for credentials (%s) but ProxyUser is not set",
                    list);
    if (a->ntlm == N_NEGOTIATED) { /* mid-handshake: only a CHALLENGE_MESSAGE will do */
        if (pick != B_NTLM || a->ntlm_tok == T_NONE)
            return fail(a, AZR_E_PROTO,
                        "proxy did not answer our NTLM negotiate message with a challenge "
                        "(it offers %s)",
                        list);
        return ntlm_authenticate(a, out);
    }
    if (a->tried & pick) {
        if (pick != B_DIGEST || !a->dig.stale || a->dig.bad || a->stale_used)
            return fail(a, AZR_E_AUTH, "proxy refused our credentials (%s)", bit_name(pick));
        a->stale_used = true; /* RFC 7616 §3.3: stale nonce, the credentials were right */
    }
    return pick == B_BASIC    ? basic(a, out)
           : pick == B_DIGEST ? digest(a, out)
                              : ntlm_negotiate(a, out);
}

azr_err azr_pauth_next(azr_pauth *a, azr_pauth_out *out)
{
    memset(out, 0, sizeof *out);
    if (a->err != AZR_OK)
        return a->err;
    if (a->phase != P_WAIT)
        return AZR_E_STATE;
    if (!a->verbatim)
        azr_wipe(a->out, sizeof a->out); /* the value sent before */
    azr_err e = decide(a, out);
    /* forget this 407's challenges */
    a->offered = 0;
    a->names[0] = '\0';
    a->malformed[0] = '\0';
    azr_wipe(&a->dig, sizeof a->dig);
    a->have_dig = false;
    azr_wipe(a->ntlm_msg, sizeof a->ntlm_msg);
    a->ntlm_len = 0;
    a->ntlm_tok = T_NONE;
    return e;
}

const char *azr_pauth_why(const azr_pauth *a)
{
    return a->why;
}

void azr_pauth_wipe(azr_pauth *a)
{
    azr_wipe(a, sizeof *a);
}
