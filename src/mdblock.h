/*
 * The Merkle-Damgard framing that MD4 (RFC 1320) and SHA-256 (FIPS 180-4)
 * share: 64-byte blocks fed to a compression function, and the final
 * padding (a 1 bit, zeros to 56 mod 64, the 64-bit message length in bits,
 * little-endian for MD4, big-endian for SHA-256). Each hash keeps its own
 * state words and compression function; these handle its partial block
 * (buf, *used bytes of it) and its byte count (*total).
 */
#ifndef AZR_MDBLOCK_H
#define AZR_MDBLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define AZR_MD_BLOCK 64

typedef void (*azr_md_compress_fn)(uint32_t *h, const uint8_t *block);

static inline void azr_md_update(uint8_t *buf, size_t *used, uint64_t *total, uint32_t *h,
                                 azr_md_compress_fn f, const void *data, size_t len)
{
    const uint8_t *p = data;
    *total += len;
    if (*used > 0) {
        size_t take = AZR_MD_BLOCK - *used;
        if (take > len)
            take = len;
        memcpy(buf + *used, p, take);
        *used += take;
        p += take;
        len -= take;
        if (*used < AZR_MD_BLOCK)
            return;
        f(h, buf);
        *used = 0;
    }
    for (; len >= AZR_MD_BLOCK; p += AZR_MD_BLOCK, len -= AZR_MD_BLOCK)
        f(h, p);
    if (len > 0) {
        memcpy(buf, p, len);
        *used = len;
    }
}

static inline void azr_md_pad(uint8_t *buf, size_t *used, uint64_t total, uint32_t *h,
                              azr_md_compress_fn f, bool big_endian)
{
    uint64_t bits = total * 8u;
    buf[(*used)++] = 0x80;
    if (*used > AZR_MD_BLOCK - 8) {
        memset(buf + *used, 0, AZR_MD_BLOCK - *used);
        f(h, buf);
        *used = 0;
    }
    memset(buf + *used, 0, AZR_MD_BLOCK - 8 - *used);
    for (unsigned i = 0; i < 8; i++)
        buf[big_endian ? AZR_MD_BLOCK - 1 - i : AZR_MD_BLOCK - 8 + i] = (uint8_t)(bits >> (8 * i));
    f(h, buf);
    *used = 0;
}

#endif
