/*
 * SHA-256 (FIPS 180-4 §6.2), streaming. No allocation, no I/O.
 */
#ifndef AZR_SHA256_H
#define AZR_SHA256_H

#include "platform.h"

#define AZR_SHA256_LEN   32
#define AZR_SHA256_BLOCK 64

typedef struct azr_sha256 {
    uint32_t h[8];
    uint64_t total;                /* bytes hashed so far */
    uint8_t buf[AZR_SHA256_BLOCK]; /* partial block */
    size_t used;                   /* bytes in buf */
} azr_sha256_ctx;

/* Start a new digest. */
void azr_sha256_init(azr_sha256_ctx *c);
/* Add len bytes; data may be NULL when len is 0. Any split gives the same digest. */
void azr_sha256_update(azr_sha256_ctx *c, const void *data, size_t len);
/* Write the digest; the context is wiped and must be re-initialised before reuse. */
void azr_sha256_final(azr_sha256_ctx *c, uint8_t out[AZR_SHA256_LEN]);
/* One-shot digest. */
void azr_sha256(const void *data, size_t len, uint8_t out[AZR_SHA256_LEN]);

#endif
