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

size_t azr_text_printable(const char *in, size_t len, size_t max_shown, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return 0;
    bool cut = len > max_shown;
    size_t n = cut ? max_shown : len;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)in[i];
        out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
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
