/*
 * Text helpers. azr_text_escape is the one way peer text reaches a log line
 * or an event (see text.h).
 */
#include "text.h"

char azr_text_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool azr_text_ieq(const char *a, size_t alen, const char *b)
{
    size_t bl = strlen(b);
    if (alen != bl)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (azr_text_lower(a[i]) != azr_text_lower(b[i]))
            return false;
    return true;
}

static bool space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void azr_text_trim(const char **s, size_t *len)
{
    while (*len && space(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && space((*s)[*len - 1]))
        (*len)--;
}

/* The escape of one byte into u[4]; its length. */
static size_t escape1(unsigned char c, char u[4])
{
    static const char hex[] = "0123456789abcdef";
    if (c == '\\') {
        u[0] = u[1] = '\\';
        return 2;
    }
    if (c >= 0x20 && c < 0x7f) {
        u[0] = (char)c;
        return 1;
    }
    u[0] = '\\';
    u[1] = 'x';
    u[2] = hex[c >> 4];
    u[3] = hex[c & 15];
    return 4;
}

size_t azr_text_escape(const char *in, size_t len, size_t max_shown, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    char u[4];
    size_t n = len > max_shown ? max_shown : len, need = 0;
    for (size_t i = 0; i < n && need < cap; i++)
        need += escape1((unsigned char)in[i], u);
    /* when anything is left out, keep room for "..." */
    bool cut = len > max_shown || need > cap - 1;
    size_t room = !cut ? cap - 1 : cap > 4 ? cap - 4 : 0, o = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = escape1((unsigned char)in[i], u);
        if (k > room - o)
            break;
        memcpy(out + o, u, k);
        o += k;
    }
    for (int k = 0; cut && k < 3 && o + 1 < cap; k++)
        out[o++] = '.';
    out[o] = '\0';
    return o;
}

void azr_wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}
