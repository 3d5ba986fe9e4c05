#include "base64.h"

static const char ALPHA[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

azr_err azr_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap, size_t *out_len)
{
    *out_len = 0;
    if (len > (SIZE_MAX - 3) / 4 * 3 - 3)
        return AZR_E_LIMIT;
    size_t need = AZR_B64_ENC_LEN(len);
    if (cap < 1 || need > cap - 1)
        return AZR_E_LIMIT;
    size_t o = 0, i = 0;
    for (; len - i >= 3; i += 3) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
        out[o++] = ALPHA[(v >> 18) & 63];
        out[o++] = ALPHA[(v >> 12) & 63];
        out[o++] = ALPHA[(v >> 6) & 63];
        out[o++] = ALPHA[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = ALPHA[(v >> 18) & 63];
        out[o++] = ALPHA[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);
        out[o++] = ALPHA[(v >> 18) & 63];
        out[o++] = ALPHA[(v >> 12) & 63];
        out[o++] = ALPHA[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    *out_len = o;
    return AZR_OK;
}

/* Value of a base64 character, or -1. */
static int val(char ch)
{
    unsigned char c = (unsigned char)ch;
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

azr_err azr_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    *out_len = 0;
    if (len % 4 != 0)
        return AZR_E_PROTO;
    size_t pad = 0;
    if (len >= 4 && in[len - 1] == '=')
        pad = (in[len - 2] == '=') ? 2 : 1;
    size_t n = len / 4 * 3 - pad;
    if (n > cap)
        return AZR_E_LIMIT;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        bool last = (i + 4 == len);
        int v[4];
        for (unsigned j = 0; j < 4; j++) {
            v[j] = val(in[i + j]);
            /* RFC 4648 §3.3: '=' only as the final one or two characters. */
            if (v[j] < 0 && !(last && in[i + j] == '=' && j >= 4 - pad))
                return AZR_E_PROTO;
        }
        uint32_t w = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12);
        if (last && pad == 2) {
            if (v[1] & 0x0f) /* RFC 4648 §3.5: pad bits must be zero */
                return AZR_E_PROTO;
            out[o++] = (uint8_t)(w >> 16);
            break;
        }
        w |= (uint32_t)v[2] << 6;
        if (last && pad == 1) {
            if (v[2] & 0x03)
                return AZR_E_PROTO;
            out[o++] = (uint8_t)(w >> 16);
            out[o++] = (uint8_t)(w >> 8);
            break;
        }
        w |= (uint32_t)v[3];
        out[o++] = (uint8_t)(w >> 16);
        out[o++] = (uint8_t)(w >> 8);
        out[o++] = (uint8_t)w;
    }
    *out_len = o;
    return AZR_OK;
}
