#include "url.h"

bool azr_url_unreserved(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

azr_err azr_url_encode(const void *in, size_t len, char *out, size_t cap, size_t *out_len,
                       unsigned flags)
{
    const uint8_t *p = in;
    const char *hex = (flags & AZR_URL_LOWER_HEX) ? "0123456789abcdef" : "0123456789ABCDEF";
    size_t o = 0;
    *out_len = 0;
    if (cap == 0)
        return AZR_E_LIMIT;
    for (size_t i = 0; i < len; i++) {
        size_t need = azr_url_unreserved(p[i]) ? 1 : 3;
        if (need > cap - 1 - o) {
            out[o] = '\0';
            return AZR_E_LIMIT;
        }
        if (need == 1) {
            out[o++] = (char)p[i];
        } else {
            out[o++] = '%';
            out[o++] = hex[p[i] >> 4];
            out[o++] = hex[p[i] & 15];
        }
    }
    out[o] = '\0';
    *out_len = o;
    return AZR_OK;
}

static int hexval(char ch)
{
    unsigned char c = (unsigned char)ch;
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

azr_err azr_url_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len,
                       unsigned flags)
{
    size_t o = 0;
    *out_len = 0;
    if (cap == 0)
        return AZR_E_LIMIT;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = (uint8_t)in[i];
        if (b == '%') {
            /* RFC 3986 §2.1: a percent-encoded octet is '%' HEXDIG HEXDIG */
            if (len - i < 3)
                return AZR_E_PROTO;
            int hi = hexval(in[i + 1]), lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0)
                return AZR_E_PROTO;
            b = (uint8_t)(hi << 4 | lo);
            i += 2;
        } else if (b == '+' && (flags & AZR_URL_PLUS_SPACE)) {
            b = ' ';
        }
        if (o >= cap - 1)
            return AZR_E_LIMIT;
        out[o++] = b;
    }
    out[o] = '\0';
    *out_len = o;
    return AZR_OK;
}
