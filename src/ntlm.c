/*
 * IMPLEMENTATION NOTES
 * Messages are read and written with little-endian helpers on byte arrays,
 * never through structs or pointer casts. The CHALLENGE_MESSAGE parser trusts
 * no field it uses: the TargetInfo security buffer (len, maxlen, offset) is
 * checked as "offset <= total && len <= total - offset" before the slice is
 * taken, and the AV-pair walk checks each AvLen against what is left.
 * TargetName is not used, so a bad one is no error (interoperability), and
 * TargetInfoFields are read only under NTLMSSP_NEGOTIATE_TARGET_INFO, since
 * the early 40-byte form has its payload where they would be. The
 * AUTHENTICATE_MESSAGE is laid out as a 64-byte header (no Version, no MIC)
 * followed by domain, user, workstation, LmChallengeResponse and
 * NtChallengeResponse; the NTLMv2 blob ("temp") is written straight into the
 * output and NTProofStr computed over it in place. The NT hash, NTOWFv2 and
 * the UTF-16 copies of the secrets live on the stack and are wiped on every
 * path.
 */
#include "ntlm.h"
#include "md4.h"
#include "text.h"

#include <bearssl.h>

static const uint8_t sig[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

#define AV_EOL       0
#define AV_TIMESTAMP 7

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* A security buffer (§2.2.1: Len, MaxLen, BufferOffset); MaxLen = Len. */
static void put_secbuf(uint8_t *p, size_t len, size_t off)
{
    put16(p, len);
    put16(p + 2, len);
    put32(p + 4, (uint32_t)off);
}

void azr_ntlm_negotiate(uint8_t out[AZR_NTLM_NEGOTIATE_LEN])
{
    memset(out, 0, AZR_NTLM_NEGOTIATE_LEN);
    memcpy(out, sig, 8);
    put32(out + 8, 1);
    put32(out + 12, AZR_NTLM_NEG_FLAGS);
    /* empty DomainNameFields and WorkstationFields point at the end */
    put_secbuf(out + 16, 0, AZR_NTLM_NEGOTIATE_LEN);
    put_secbuf(out + 24, 0, AZR_NTLM_NEGOTIATE_LEN);
}

/* The security buffer at msg[at..at+8) as a slice of msg[0..len). */
static bool secbuf(const uint8_t *msg, size_t len, size_t at, const uint8_t **p, size_t *n)
{
    size_t l = get16(msg + at), off = get32(msg + at + 4);
    *p = NULL;
    *n = 0;
    if (l == 0)
        return true; /* an empty buffer's offset is not used */
    if (off > len || l > len - off)
        return false;
    *p = msg + off;
    *n = l;
    return true;
}

azr_err azr_ntlm_challenge_parse(const uint8_t *msg, size_t len, azr_ntlm_challenge *c,
                                 const char **why)
{
    const uint8_t *p;
    size_t n;
    memset(c, 0, sizeof *c);
    *why = NULL;
    if (len < 32 || memcmp(msg, sig, 8) != 0) {
        *why = "not an NTLM message";
        return AZR_E_PROTO;
    }
    if (get32(msg + 8) != 2) {
        *why = "not an NTLM CHALLENGE_MESSAGE (type 2)";
        return AZR_E_PROTO;
    }
    /* TargetName (at 12) is never read, so never checked: squid's ntlm_fake_auth
     * sends a garbage offset there */
    c->flags = get32(msg + 20);
    memcpy(c->server_challenge, msg + 24, 8);
    if (!(c->flags & AZR_NTLM_UNICODE)) {
        *why = "NTLM challenge without Unicode (OEM-only servers are not supported)";
        return AZR_E_PROTO;
    }
    if (!(c->flags & AZR_NTLM_TARGET_INFO))
        return AZR_OK; /* §2.2.1.2: TargetInfoFields only count with the flag; early
                          forms (ntlm_fake_auth's) put the payload there */
    if (len < 48) {
        *why = "NTLM challenge announces TargetInfo but is too short for its fields";
        return AZR_E_PROTO;
    }
    if (!secbuf(msg, len, 40, &p, &n)) {
        *why = "NTLM challenge's TargetInfo lies outside the message";
        return AZR_E_PROTO;
    }
    if (n > AZR_NTLM_MAX_TARGET_INFO) {
        *why = "NTLM challenge's TargetInfo is too long";
        return AZR_E_LIMIT;
    }
    /* §2.2.2.1 AV pairs, the last one MsvAvEOL */
    bool eol = false;
    for (size_t i = 0; i < n && !eol;) {
        if (n - i < 4) {
            *why = "NTLM challenge's TargetInfo has a truncated AV pair";
            return AZR_E_PROTO;
        }
        uint16_t id = get16(p + i), al = get16(p + i + 2);
        if (al > n - i - 4) {
            *why = "NTLM challenge's TargetInfo has an AV pair longer than the rest";
            return AZR_E_PROTO;
        }
        if (id == AV_EOL) {
            eol = true;
        } else if (id == AV_TIMESTAMP) {
            if (al != 8) {
                *why = "NTLM challenge's MsvAvTimestamp is not 8 bytes";
                return AZR_E_PROTO;
            }
            c->has_timestamp = true;
            memcpy(c->timestamp, p + i + 4, 8);
        }
        i += 4u + al;
    }
    if (n > 0 && !eol) {
        *why = "NTLM challenge's TargetInfo does not end with MsvAvEOL";
        return AZR_E_PROTO;
    }
    c->target_info = n ? p : NULL;
    c->target_info_len = n;
    return AZR_OK;
}

/* RFC 3629 §3/§4: one code point off the front of s, or -1. */
static long utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char b = s[*i];
    size_t n;
    long cp, min;
    if (b < 0x80) {
        (*i)++;
        return b;
    } else if (b >= 0xc2 && b <= 0xdf) {
        n = 1, cp = b & 0x1f, min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
        n = 2, cp = b & 0x0f, min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
        n = 3, cp = b & 0x07, min = 0x10000;
    } else {
        return -1;
    }
    if (len - *i - 1 < n)
        return -1;
    for (size_t k = 1; k <= n; k++) {
        unsigned char t = s[*i + k];
        if ((t & 0xc0) != 0x80)
            return -1;
        cp = (cp << 6) | (t & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *i += n + 1;
    return cp;
}

static long upper(long cp)
{
    if (cp >= 'a' && cp <= 'z')
        return cp - 0x20;
    if (cp >= 0xe0 && cp <= 0xfe && cp != 0xf7)
        return cp - 0x20;
    if (cp == 0xff)
        return 0x178;
    return cp;
}

azr_err azr_ntlm_utf16le(const char *s, size_t len, bool up, uint8_t *out, size_t cap,
                         size_t *out_len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    *out_len = 0;
    for (size_t i = 0; i < len;) {
        long cp = utf8_next(u, len, &i);
        if (cp < 0)
            return AZR_E_ARG;
        if (up)
            cp = upper(cp);
        size_t need = cp >= 0x10000 ? 4 : 2;
        if (need > cap - o)
            return AZR_E_LIMIT;
        if (cp >= 0x10000) { /* a surrogate pair */
            long v = cp - 0x10000;
            put16(out + o, (size_t)(0xd800 + (v >> 10)));
            put16(out + o + 2, (size_t)(0xdc00 + (v & 0x3ff)));
        } else {
            put16(out + o, (size_t)cp);
        }
        o += need;
    }
    *out_len = o;
    return AZR_OK;
}

/* One UTF-16LE field of the creds, with the error text for it. */
static azr_err field16(const char *s, bool up, uint8_t *out, size_t cap, size_t *n,
                       const char *name_invalid, const char *name_long, const char **why)
{
    size_t len = s ? strlen(s) : 0;
    if (len > AZR_NTLM_MAX_TEXT) {
        *why = name_long;
        return AZR_E_LIMIT;
    }
    azr_err e = azr_ntlm_utf16le(s ? s : "", len, up, out, cap, n);
    if (e != AZR_OK)
        *why = e == AZR_E_ARG ? name_invalid : name_long;
    return e;
}

static void hmac_md5(const uint8_t key[16], const uint8_t *a, size_t alen, const uint8_t *b,
                     size_t blen, uint8_t out[16])
{
    br_hmac_key_context kc;
    br_hmac_context hc;
    br_hmac_key_init(&kc, &br_md5_vtable, key, 16);
    br_hmac_init(&hc, &kc, 0);
    br_hmac_update(&hc, a, alen);
    if (blen)
        br_hmac_update(&hc, b, blen);
    br_hmac_out(&hc, out);
    azr_wipe(&kc, sizeof kc);
    azr_wipe(&hc, sizeof hc);
}

azr_err azr_ntlm_ntowfv2(const azr_ntlm_creds *cr, uint8_t out[16], const char **why)
{
    uint8_t pw[2 * AZR_NTLM_MAX_TEXT], who[4 * AZR_NTLM_MAX_TEXT], nt[16];
    size_t pn = 0, un = 0, dn = 0;
    azr_err e = field16(cr->password, false, pw, sizeof pw, &pn, "ProxyPassword is not valid UTF-8",
                        "ProxyPassword is too long for NTLM", why);
    if (e == AZR_OK)
        e = field16(cr->user, true, who, 2 * AZR_NTLM_MAX_TEXT, &un, "ProxyUser is not valid UTF-8",
                    "ProxyUser is too long for NTLM", why);
    if (e == AZR_OK)
        e = field16(cr->domain, false, who + un, sizeof who - un, &dn,
                    "the NTLM domain is not valid UTF-8", "the NTLM domain is too long", why);
    if (e == AZR_OK) {
        azr_md4(pw, pn, nt); /* §3.3.1 NTOWFv1, the NT hash */
        hmac_md5(nt, who, un + dn, NULL, 0, out);
    }
    azr_wipe(pw, sizeof pw);
    azr_wipe(who, sizeof who);
    azr_wipe(nt, sizeof nt);
    return e;
}

azr_err azr_ntlm_authenticate(const azr_ntlm_creds *cr, const azr_ntlm_challenge *c,
                              const uint8_t client_challenge[8], uint64_t filetime, uint8_t *out,
                              size_t cap, size_t *out_len, const char **why)
{
    uint8_t key[16];
    size_t o = 64, dn = 0, un = 0, wn = 0;
    *out_len = 0;
    *why = NULL;
    if (cap < o + 24 + 48 + c->target_info_len) {
        *why = "no room for the NTLM AUTHENTICATE_MESSAGE";
        return AZR_E_LIMIT;
    }
    memset(out, 0, 64);
    /* payload: domain, user, workstation as they are typed (user not upper-cased) */
    azr_err e = field16(cr->domain, false, out + o, cap - o, &dn,
                        "the NTLM domain is not valid UTF-8", "the NTLM domain is too long", why);
    o += dn;
    if (e == AZR_OK)
        e = field16(cr->user, false, out + o, cap - o, &un, "ProxyUser is not valid UTF-8",
                    "ProxyUser is too long for NTLM", why);
    o += e == AZR_OK ? un : 0;
    if (e == AZR_OK)
        e = field16(cr->workstation, false, out + o, cap - o, &wn,
                    "the NTLM workstation name is not valid UTF-8",
                    "the NTLM workstation name is too long", why);
    o += e == AZR_OK ? wn : 0;
    if (e == AZR_OK && cap - o < 24 + 48 + c->target_info_len) {
        *why = "no room for the NTLM AUTHENTICATE_MESSAGE";
        e = AZR_E_LIMIT;
    }
    if (e == AZR_OK)
        e = azr_ntlm_ntowfv2(cr, key, why);
    if (e != AZR_OK) {
        azr_wipe(out, cap);
        return e;
    }
    size_t lm = o, nt = o + 24, tl = 28 + c->target_info_len + 4;
    /* §2.2.2.7 NTLMv2_CLIENT_CHALLENGE ("temp" of §3.3.2), after the 16-byte NTProofStr */
    uint8_t *t = out + nt + 16;
    memset(t, 0, tl);
    t[0] = 1; /* RespType */
    t[1] = 1; /* HiRespType */
    if (c->has_timestamp) {
        memcpy(t + 8, c->timestamp, 8);
    } else {
        for (unsigned i = 0; i < 8; i++)
            t[8 + i] = (uint8_t)(filetime >> (8 * i));
    }
    memcpy(t + 16, client_challenge, 8);
    if (c->target_info_len)
        memcpy(t + 28, c->target_info, c->target_info_len);
    hmac_md5(key, c->server_challenge, 8, t, tl, out + nt); /* NTProofStr */
    /* §3.3.2: LMv2, or Z(24) when the challenge has MsvAvTimestamp */
    if (c->has_timestamp) {
        memset(out + lm, 0, 24);
    } else {
        hmac_md5(key, c->server_challenge, 8, client_challenge, 8, out + lm);
        memcpy(out + lm + 16, client_challenge, 8);
    }
    azr_wipe(key, sizeof key);
    size_t end = nt + 16 + tl;
    uint32_t flags = (c->flags & (AZR_NTLM_NEG_FLAGS | AZR_NTLM_TARGET_INFO)) | AZR_NTLM_UNICODE;
    memcpy(out, sig, 8);
    put32(out + 8, 3);
    put_secbuf(out + 12, 24, lm);
    put_secbuf(out + 20, 16 + tl, nt);
    put_secbuf(out + 28, dn, 64);
    put_secbuf(out + 36, un, 64 + dn);
    put_secbuf(out + 44, wn, 64 + dn + un);
    put_secbuf(out + 52, 0, end); /* EncryptedRandomSessionKey: no key exchange */
    put32(out + 60, flags & ~AZR_NTLM_OEM);
    *out_len = end;
    return AZR_OK;
}
