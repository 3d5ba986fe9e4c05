/*
 * HMAC-SHA256 (RFC 2104, FIPS 198-1), streaming. No allocation, no I/O.
 */
#ifndef AZR_HMAC_H
#define AZR_HMAC_H

#include "sha256.h"

typedef struct azr_hmac {
    azr_sha256_ctx inner;
    uint8_t opad_key[AZR_SHA256_BLOCK]; /* key XOR opad, kept for final */
} azr_hmac_ctx;

/* Start a MAC under key (any length; keys over 64 bytes are hashed first). */
void azr_hmac_init(azr_hmac_ctx *c, const void *key, size_t key_len);
/* Add message bytes. */
void azr_hmac_update(azr_hmac_ctx *c, const void *data, size_t len);
/* Write the 32-byte tag; the context (and its key material) is wiped. */
void azr_hmac_final(azr_hmac_ctx *c, uint8_t out[AZR_SHA256_LEN]);
/* One-shot MAC. */
void azr_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                     uint8_t out[AZR_SHA256_LEN]);

#endif
