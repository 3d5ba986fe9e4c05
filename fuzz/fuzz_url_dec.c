/*
 * Target: azr_url_decode, azr_url_encode (src/url.c).
 * Invariants: decode(encode(x)) == x for any bytes, in both hex cases; the
 * encoding holds only unreserved characters and %XX; a successful decode
 * never produces more bytes than it read.
 */
#include "url.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2048)
        return 0;
    static uint8_t dec[2049], back[2049];
    static char enc[6200];
    size_t n, m;
    if (azr_url_decode((const char *)data, size, dec, sizeof dec, &n,
                       size & 1 ? AZR_URL_PLUS_SPACE : 0) == AZR_OK &&
        n > size)
        abort();
    for (unsigned f = 0; f < 2; f++) {
        if (azr_url_encode(data, size, enc, sizeof enc, &m, f ? AZR_URL_LOWER_HEX : 0) != AZR_OK)
            abort();
        for (size_t i = 0; i < m; i++)
            if (!azr_url_unreserved((uint8_t)enc[i]) && enc[i] != '%' &&
                !((enc[i] >= '0' && enc[i] <= '9') || (enc[i] >= 'A' && enc[i] <= 'F') ||
                  (enc[i] >= 'a' && enc[i] <= 'f')))
                abort();
        if (azr_url_decode(enc, m, back, sizeof back, &n, 0) != AZR_OK || n != size ||
            (size && memcmp(back, data, size) != 0))
            abort();
    }
    return 0;
}
