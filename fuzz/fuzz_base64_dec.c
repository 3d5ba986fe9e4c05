/*
 * Target: azr_b64_decode, azr_b64_encode (src/base64.c).
 * Invariants: the strict decoder only accepts canonical text, so
 * encode(decode(x)) == x whenever decoding succeeds; and decode(encode(x))
 * == x for any bytes.
 */
#include "base64.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    static uint8_t raw[4096], back[4096];
    static char enc[6000];
    size_t n, m;
    if (azr_b64_decode((const char *)data, size, raw, sizeof raw, &n) == AZR_OK) {
        if (azr_b64_encode(raw, n, enc, sizeof enc, &m) != AZR_OK || m != size ||
            memcmp(enc, data, size) != 0)
            abort();
    }
    if (azr_b64_encode(data, size, enc, sizeof enc, &m) != AZR_OK || m != AZR_B64_ENC_LEN(size))
        abort();
    if (azr_b64_decode(enc, m, back, sizeof back, &n) != AZR_OK || n != size ||
        (size && memcmp(back, data, size) != 0))
        abort();
    return 0;
}
