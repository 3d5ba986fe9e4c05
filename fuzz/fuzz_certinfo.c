/*
 * Target: azr_certinfo_parse and azr_certinfo_attr (src/certinfo.c).
 * Invariants: any bytes give AZR_OK or AZR_E_PROTO and stay inside the
 * input; the names are NUL-terminated inside their arrays and hold only
 * printable ASCII, every backslash starting a whole escape; validity days
 * and seconds are in range; looking an attribute up in a printed name
 * stays inside both buffers and never cuts an escape.
 */
#include "certinfo.h"
#include <stdlib.h>

static bool hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void printable(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e)
            abort();
        if (s[i] != '\\')
            continue;
        /* every backslash starts a whole escape: \\, \" or \xNN */
        if (s[i + 1] == '\\' || s[i + 1] == '"')
            i++;
        else if (s[i + 1] == 'x' && hex(s[i + 2]) && hex(s[i + 3]))
            i += 3;
        else
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    azr_certinfo ci;
    azr_err e = azr_certinfo_parse(data, size, &ci);
    if (e != AZR_OK && e != AZR_E_PROTO)
        abort();
    if (e != AZR_OK)
        return 0;
    printable(ci.subject, sizeof ci.subject);
    printable(ci.issuer, sizeof ci.issuer);
    if (ci.nb_secs > 86400 || ci.na_secs > 86400)
        abort();
    char v[16];
    static const char *keys[] = {"CN", "O", "E", "1.2.3"};
    for (size_t i = 0; i < 4; i++)
        if (azr_certinfo_attr(ci.subject, keys[i], v, sizeof v))
            printable(v, sizeof v);
    return 0;
}
