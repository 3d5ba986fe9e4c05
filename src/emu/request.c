/*
 * The request side of the emulator's HTTP: a head already bounded by the
 * reader (AZR_HTTP_MAX_HEAD) is cut in place into method, path, query and
 * headers; query parameters are percent-decoded on demand. Plus the two
 * JSON gestures the service needs: writing strings, finding one string.
 */
#include "emu.h"

#include "text.h"
#include "url.h"

bool emu_req_parse(char *head, emu_req *r)
{
    memset(r, 0, sizeof *r);
    char *eol = strstr(head, "\r\n");
    if (!eol)
        return false;
    *eol = '\0';
    char *sp1 = strchr(head, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || strcmp(sp2 + 1, "HTTP/1.1") != 0)
        return false;
    *sp1 = *sp2 = '\0';
    r->method = head;
    char *target = sp1 + 1, *q = strchr(target, '?');
    if (q)
        *q++ = '\0';
    r->path = target;
    r->query = q ? q : "";
    for (char *line = eol + 2; *line;) {
        char *end = strstr(line, "\r\n");
        if (!end)
            return false;
        *end = '\0';
        if (line == end)
            break;
        char *colon = strchr(line, ':');
        if (!colon || colon == line || r->nh == EMU_HEADERS_MAX)
            return false;
        *colon = '\0';
        const char *v = colon + 1;
        size_t vl = strlen(v);
        azr_text_trim(&v, &vl);
        ((char *)v)[vl] = '\0';
        r->name[r->nh] = line;
        r->value[r->nh++] = v;
        line = end + 2;
    }
    return true;
}

const char *emu_req_header(const emu_req *r, const char *name)
{
    for (size_t i = 0; i < r->nh; i++)
        if (azr_text_ieq(r->name[i], strlen(r->name[i]), name))
            return r->value[i];
    return NULL;
}

bool emu_query_get(const char *query, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len >= nl && !strncmp(p, name, nl) && (len == nl || p[nl] == '=')) {
            size_t vl = len > nl ? len - nl - 1 : 0, got;
            if (len == nl)
                vl = 0;
            return azr_url_decode(p + nl + (len > nl), vl, (uint8_t *)out, cap, &got,
                                  AZR_URL_PLUS_SPACE) == AZR_OK &&
                   strlen(out) == got;
        }
        p = amp ? amp + 1 : NULL;
    }
    return false;
}

bool emu_json_str(char *out, size_t cap, size_t *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = *o;
    if (n >= cap)
        return false;
    out[n++] = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[7];
        size_t el = 0;
        if (c == '"' || c == '\\') {
            esc[el++] = '\\';
            esc[el++] = (char)c;
        } else if (c < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            el = 6;
        } else {
            esc[el++] = (char)c;
        }
        if (el > cap - n)
            return false;
        memcpy(out + n, esc, el);
        n += el;
    }
    if (n + 2 > cap)
        return false;
    out[n++] = '"';
    out[n] = '\0';
    *o = n;
    return true;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Unescape the JSON string starting after its opening quote at s[i]. */
static bool json_string(const char *s, size_t len, size_t i, char *out, size_t cap)
{
    size_t o = 0;
    while (i < len && s[i] != '"') {
        char c = s[i++];
        if (c == '\\') {
            if (i >= len)
                return false;
            char e = s[i++];
            switch (e) {
            case '"':
            case '\\':
            case '/':
                c = e;
                break;
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case 'r':
                c = '\r';
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'u': {
                if (len - i < 4)
                    return false;
                int v = 0;
                for (int k = 0; k < 4; k++) {
                    int h = hexval(s[i + (size_t)k]);
                    if (h < 0)
                        return false;
                    v = v * 16 + h;
                }
                i += 4;
                if (v == 0 || v > 0x7f) /* tokens are ASCII */
                    return false;
                c = (char)v;
                break;
            }
            default:
                return false;
            }
        }
        if (o + 1 >= cap)
            return false;
        out[o++] = c;
    }
    if (i >= len)
        return false;
    out[o] = '\0';
    return true;
}

bool emu_json_find_str(const char *json, size_t len, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl + 2 <= len; i++) {
        if (json[i] != '"' || memcmp(json + i + 1, key, kl) != 0 || json[i + 1 + kl] != '"')
            continue;
        size_t j = i + kl + 2;
        while (j < len && (json[j] == ' ' || json[j] == '\t' || json[j] == '\r' || json[j] == '\n'))
            j++;
        if (j >= len || json[j] != ':')
            continue;
        j++;
        while (j < len && (json[j] == ' ' || json[j] == '\t' || json[j] == '\r' || json[j] == '\n'))
            j++;
        if (j < len && json[j] == '"')
            return json_string(json, len, j + 1, out, cap);
    }
    return false;
}
