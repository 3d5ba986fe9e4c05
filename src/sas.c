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
