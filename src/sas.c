#include "sas.h"
#include "base64.h"
#include "hmac.h"
#include "bounds.h"
#include "text.h"
#include "url.h"

azr_err azr_sas_resource(const azr_sas_params *p, char *out, size_t cap)
{
    if (!p->host || !*p->host || !p->hc || !*p->hc)
        return AZR_E_ARG;
    size_t hl = strlen(p->host);
    if (hl > AZR_HOST_MAX || strlen(p->hc) > AZR_HC_MAX)
        return AZR_E_LIMIT;
    char host[AZR_HOST_MAX + 1];
    for (size_t i = 0; i <= hl; i++) {
        char c = p->host[i];
        host[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    int n;
    switch (p->form) {
    case AZR_SAS_SB_LOWER:
    case AZR_SAS_SB_UPPER:
        n = snprintf(out, cap, "sb://%s/%s", host, p->hc);
        break;
    case AZR_SAS_HTTP:
        n = snprintf(out, cap, "http://%s/%s", host, p->hc);
        break;
    case AZR_SAS_HTTP_SLASH:
        n = snprintf(out, cap, "http://%s/%s/", host, p->hc);
        break;
    case AZR_SAS_HTTP_PORT:
        n = snprintf(out, cap, "http://%s:%u/%s", host, (unsigned)p->port, p->hc);
        break;
    default:
        return AZR_E_ARG;
    }
    if (n < 0 || (size_t)n >= cap)
        return AZR_E_LIMIT;
    return AZR_OK;
}

azr_err azr_sas_token(const azr_sas_params *p, char *out, size_t cap, size_t *out_len)
{
    *out_len = 0;
    if (!p->key_name || !*p->key_name || !p->key || !*p->key || p->expiry <= 0)
        return AZR_E_ARG;
    size_t klen = strlen(p->key), nlen = strlen(p->key_name);
    if (klen > AZR_KEY_MAX || nlen > AZR_KEYNAME_MAX)
        return AZR_E_LIMIT;
    unsigned hexf = (p->form == AZR_SAS_SB_LOWER) ? AZR_URL_LOWER_HEX : 0u;

    char uri[AZR_HOST_MAX + AZR_HC_MAX + 32];
    azr_err e = azr_sas_resource(p, uri, sizeof uri);
    if (e != AZR_OK)
        return e;

    /* sr and the string to sign: "<sr>\n<se>" (relay-protocol.md §4.2, LF only) */
    char sr[3 * sizeof uri + 1];
    size_t srlen;
    e = azr_url_encode(uri, strlen(uri), sr, sizeof sr, &srlen, hexf);
    if (e != AZR_OK)
        return e;
    char se[24];
    int selen = snprintf(se, sizeof se, "%lld", (long long)p->expiry);
    if (selen < 0 || (size_t)selen >= sizeof se)
        return AZR_E_LIMIT;

    uint8_t mac[AZR_SHA256_LEN];
    azr_hmac_ctx h;
    azr_hmac_init(&h, p->key, klen);
    azr_hmac_update(&h, sr, srlen);
    azr_hmac_update(&h, "\n", 1);
    azr_hmac_update(&h, se, (size_t)selen);
    azr_hmac_final(&h, mac);

    char b64[AZR_B64_ENC_LEN(AZR_SHA256_LEN) + 1], sig[3 * sizeof b64 + 1];
    size_t b64len, siglen;
    e = azr_b64_encode(mac, sizeof mac, b64, sizeof b64, &b64len);
    azr_wipe(mac, sizeof mac);
    if (e != AZR_OK)
        return e;
    /* '+', '/' and '=' always percent-encoded (relay-protocol.md §4.3) */
    e = azr_url_encode(b64, b64len, sig, sizeof sig, &siglen, hexf);
    if (e != AZR_OK)
        return e;
    char skn[3 * AZR_KEYNAME_MAX + 1];
    size_t sknlen;
    e = azr_url_encode(p->key_name, nlen, skn, sizeof skn, &sknlen, hexf);
    if (e != AZR_OK)
        return e;

    int n = snprintf(out, cap, "SharedAccessSignature sr=%s&sig=%s&se=%s&skn=%s", sr, sig, se, skn);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = '\0';
        return AZR_E_LIMIT;
    }
    *out_len = (size_t)n;
    return AZR_OK;
}

/* ------------------------------------------------------ checking (emulator) */

static azr_err deny(char *why, size_t cap, const char *text)
{
    snprintf(why, cap, "%s", text);
    return AZR_E_AUTH;
}

azr_err azr_sas_parse(const char *token, size_t len, azr_sas_fields *f, char *why, size_t cap)
{
    static const char scheme[] = "SharedAccessSignature";
    const size_t sl = sizeof scheme - 1;
    memset(f, 0, sizeof *f);
    if (len <= sl + 1 || !azr_text_ieq(token, sl, scheme) || token[sl] != ' ')
        return deny(why, cap, "MalformedToken: the token is not a SharedAccessSignature.");
    const char *p = token + sl + 1, *end = token + len;
    bool have_sr = false, have_sig = false, have_se = false, have_skn = false;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        if (pe > p) {
            if (!eq)
                return deny(why, cap, "MalformedToken: a field has no value.");
            size_t kl = (size_t)(eq - p), vl = (size_t)(pe - eq - 1);
            const char *v = eq + 1;
            uint8_t dec[AZR_SAS_MAX + 1];
            size_t dl;
            bool *seen;
            if (azr_text_ieq(p, kl, "sr"))
                seen = &have_sr;
            else if (azr_text_ieq(p, kl, "sig"))
                seen = &have_sig;
            else if (azr_text_ieq(p, kl, "se"))
                seen = &have_se;
            else if (azr_text_ieq(p, kl, "skn"))
                seen = &have_skn;
            else
                seen = NULL; /* unknown fields are ignored */
            if (seen && *seen)
                return deny(why, cap, "MalformedToken: a field is given twice.");
            if (seen)
                *seen = true;
            if (seen == &have_sr) {
                if (vl > AZR_SAS_MAX)
                    return deny(why, cap, "MalformedToken: sr is too long.");
                memcpy(f->sr, v, vl);
            } else if (seen) {
                if (vl > AZR_SAS_MAX ||
                    azr_url_decode(v, vl, dec, sizeof dec, &dl, AZR_URL_PLUS_SPACE) != AZR_OK)
                    return deny(why, cap, "MalformedToken: a field is not URL-encoded.");
                if (seen == &have_sig) {
                    size_t n;
                    if (azr_b64_decode((const char *)dec, dl, f->sig, sizeof f->sig, &n) !=
                            AZR_OK ||
                        n != sizeof f->sig)
                        return deny(why, cap, "The token has an invalid signature.");
                } else if (seen == &have_se) {
                    if (dl == 0 || dl >= sizeof f->se_text)
                        return deny(why, cap, "MalformedToken: se is not a number.");
                    memcpy(f->se_text, dec, dl);
                    int64_t x = 0;
                    for (size_t i = 0; i < dl; i++) {
                        if (dec[i] < '0' || dec[i] > '9' || x > (INT64_MAX - 9) / 10)
                            return deny(why, cap, "MalformedToken: se is not a number.");
                        x = x * 10 + (dec[i] - '0');
                    }
                    f->se = x;
                } else {
                    if (dl > AZR_KEYNAME_MAX)
                        return deny(why, cap, "MalformedToken: skn is too long.");
                    memcpy(f->skn, dec, dl);
                }
            }
        }
        p = amp ? amp + 1 : end;
    }
    if (!have_sr || !have_sig || !have_se || !have_skn)
        return deny(why, cap, "MalformedToken: sr, sig, se and skn are all required.");
    return AZR_OK;
}

azr_err azr_sas_check(const azr_sas_fields *f, const char *key, int64_t now, const char *host,
                      const char *hc, char *why, size_t cap)
{
    uint8_t mac[AZR_SHA256_LEN];
    azr_hmac_ctx h;
    azr_hmac_init(&h, key, strlen(key));
    azr_hmac_update(&h, f->sr, strlen(f->sr));
    azr_hmac_update(&h, "\n", 1);
    azr_hmac_update(&h, f->se_text, strlen(f->se_text));
    azr_hmac_final(&h, mac);
    uint8_t diff = 0;
    for (size_t i = 0; i < sizeof mac; i++) /* constant time */
        diff |= (uint8_t)(mac[i] ^ f->sig[i]);
    azr_wipe(mac, sizeof mac);
    if (diff)
        return deny(why, cap, "The token has an invalid signature.");
    if (f->se <= now)
        return deny(why, cap, "ExpiredToken: The token is expired.");
    /* audience: scheme://host[:port]/path, decoded */
    uint8_t uri[AZR_SAS_MAX + 1];
    size_t ul;
    if (azr_url_decode(f->sr, strlen(f->sr), uri, sizeof uri, &ul, 0) != AZR_OK)
        return deny(why, cap, "InvalidAudience: The token has a malformed audience.");
    const char *u = (const char *)uri, *sep = strstr(u, "://");
    static const char *schemes[] = {"http", "https", "sb", "ws", "wss"};
    bool scheme_ok = false;
    for (size_t i = 0; sep && i < 5; i++)
        scheme_ok = scheme_ok || azr_text_ieq(u, (size_t)(sep - u), schemes[i]);
    if (!scheme_ok)
        return deny(why, cap, "InvalidAudience: The token has a wrong audience.");
    const char *hp = sep + 3, *slash = strchr(hp, '/');
    size_t hl = slash ? (size_t)(slash - hp) : strlen(hp);
    const char *colon = memchr(hp, ':', hl);
    if (!azr_text_ieq(hp, colon ? (size_t)(colon - hp) : hl, host))
        return deny(why, cap, "InvalidAudience: The token has a wrong audience.");
    const char *path = slash ? slash + 1 : "";
    size_t pl = strlen(path);
    while (pl && path[pl - 1] == '/')
        pl--;
    size_t hcl = strlen(hc);
    /* a path prefix on segment boundaries: "" (namespace-wide), "hc1", "a/b" of "a/b/c" */
    bool prefix = pl <= hcl && (pl == hcl || pl == 0 || hc[pl] == '/');
    for (size_t i = 0; prefix && i < pl; i++)
        prefix = azr_text_lower(path[i]) == azr_text_lower(hc[i]);
    if (!prefix)
        return deny(why, cap, "InvalidAudience: The token has a wrong audience.");
    return AZR_OK;
}
