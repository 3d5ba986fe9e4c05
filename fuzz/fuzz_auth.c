/*
 * Target: the proxy authentication engine, azr_pauth_init / _first / _feed /
 * _next (src/proxyauth.c) over azr_authchal_next (src/authchal.c), the
 * Digest collector (src/digest.c) and azr_ntlm_challenge_parse /
 * azr_ntlm_authenticate (src/ntlm.c).
 * Input: the first byte picks ProxyAuthScheme (bits 0-2), whether a user is
 * set (bit 3) and the mode (bit 4). Text mode: the rest is a run of 407s
 * separated by NUL bytes, each a run of Proxy-Authenticate values separated
 * by LF. Binary mode: the rest is a CHALLENGE_MESSAGE, parsed directly and
 * also sent base64-encoded after the engine's NEGOTIATE_MESSAGE.
 * Invariants: a value is NUL-terminated, of the stated length, within
 * AZR_PAUTH_MAX_VALUE and free of CR, LF and NUL (no header injection from
 * a challenge); a refusal has a reason and sticks; lexer slices stay inside
 * the value; an AUTHENTICATE_MESSAGE stays inside its buffer and its
 * security buffers inside the message.
 */
#include "authchal.h"
#include "base64.h"
#include "ntlm.h"
#include "proxyauth.h"
#include <stdlib.h>

static azr_pauth A;

static void frand(void *ud, uint8_t *o, size_t n)
{
    (void)ud;
    for (size_t i = 0; i < n; i++)
        o[i] = (uint8_t)(0x5a ^ i);
}

static uint64_t fclock(void *ud)
{
    (void)ud;
    return 133444736000000000u;
}

static void check_value(azr_err e, const azr_pauth_out *o)
{
    if (e != AZR_OK) {
        if (o->value || !azr_pauth_why(&A)[0])
            abort();
        azr_pauth_out again;
        if (azr_pauth_next(&A, &again) != e || azr_pauth_feed(&A, "Basic", 5) != e)
            abort(); /* sticky */
        return;
    }
    if (!o->value)
        return;
    if (o->value_len > AZR_PAUTH_MAX_VALUE || strlen(o->value) != o->value_len || !o->step)
        abort();
    for (size_t i = 0; i < o->value_len; i++)
        if (o->value[i] == '\r' || o->value[i] == '\n')
            abort();
}

static void lex_only(const char *v, size_t n)
{
    azr_authchal l;
    azr_authchal_ev ev;
    azr_authchal_init(&l, v, n);
    while (azr_authchal_next(&l, &ev) == AZR_OK) {
        if (ev.name < v || ev.name_len == 0 || ev.name_len > n || ev.name > v + n - ev.name_len)
            abort();
        if (ev.value_len && (ev.value < v || ev.value_len > n || ev.value > v + n - ev.value_len))
            abort();
        char buf[64];
        size_t k;
        (void)azr_authchal_unquote(&ev, buf, sizeof buf, &k);
        if (k >= sizeof buf)
            abort();
    }
}

static void text_mode(const char *p, size_t n)
{
    azr_pauth_out o;
    azr_err e = AZR_OK;
    size_t i = 0;
    while (i <= n && e == AZR_OK) {
        size_t end = i;
        while (end < n && p[end] != '\0')
            end++;
        for (size_t h = i; h <= end;) { /* one 407: LF-separated values */
            size_t he = h;
            while (he < end && p[he] != '\n')
                he++;
            lex_only(p + h, he - h);
            azr_err f = azr_pauth_feed(&A, p + h, he - h);
            if (f != AZR_OK && f != AZR_E_PROTO)
                abort();
            h = he + 1;
        }
        e = azr_pauth_next(&A, &o);
        check_value(e, &o);
        i = end + 1;
    }
}

static void binary_mode(const uint8_t *m, size_t n)
{
    static uint8_t out[AZR_NTLM_MAX_AUTH];
    static char hdr[5 + AZR_B64_ENC_LEN(4096) + 1];
    azr_ntlm_challenge c;
    const char *why;
    if (azr_ntlm_challenge_parse(m, n, &c, &why) == AZR_OK) {
        if (c.target_info_len && (c.target_info < m || c.target_info_len > n ||
                                  c.target_info > m + n - c.target_info_len))
            abort();
        azr_ntlm_creds cr = {"user", "DOMAIN", "password", "WS"};
        size_t len;
        if (azr_ntlm_authenticate(&cr, &c, m, 0, out, sizeof out, &len, &why) != AZR_OK)
            abort(); /* AZR_NTLM_MAX_AUTH always suffices */
        for (size_t at = 12; at <= 52; at += 8) {
            size_t l = (size_t)(out[at] | out[at + 1] << 8);
            size_t off = (size_t)out[at + 4] | (size_t)out[at + 5] << 8;
            if (off > len || l > len - off)
                abort();
        }
    } else if (!why) {
        abort();
    }
    if (n > 4096)
        return;
    size_t k;
    memcpy(hdr, "NTLM ", 5);
    if (azr_b64_encode(m, n, hdr + 5, sizeof hdr - 5, &k) != AZR_OK)
        abort();
    azr_pauth_out o;
    azr_err f = azr_pauth_feed(&A, hdr, 5 + k);
    if (f != AZR_OK && f != AZR_E_PROTO)
        abort();
    azr_err e = azr_pauth_next(&A, &o);
    check_value(e, &o);
    if (e == AZR_OK && !o.same_conn)
        abort(); /* after our NEGOTIATE_MESSAGE only an AUTHENTICATE can follow */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const schemes[] = {"",     "Basic", "Digest", "NTLM",
                                          "None", "auto",  "ntlm",   ""};
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    bool binary = (sel & 0x10) != 0;
    azr_pauth_cfg cfg = {(sel & 8) ? "DOM\\Mufasa" : "",
                         "Circle of Life",
                         binary ? "NTLM" : schemes[sel & 7],
                         NULL,
                         "ws",
                         "relay.example.net:443",
                         frand,
                         fclock,
                         NULL};
    if (binary)
        cfg.user = "DOM\\Mufasa";
    if (azr_pauth_init(&A, &cfg) != AZR_OK)
        abort();
    azr_pauth_out o;
    azr_err e = azr_pauth_first(&A, &o);
    check_value(e, &o);
    if (e == AZR_OK) {
        if (binary)
            binary_mode(data + 1, size - 1);
        else
            text_mode((const char *)data + 1, size - 1);
    }
    azr_pauth_wipe(&A);
    return 0;
}
