/*
 * MD4 (RFC 1320), streaming. Needed only for the NT hash of NTLM
 * (MS-NLMP §3.3.1: NTOWFv1 = MD4(UTF-16LE(password))), which BearSSL does not
 * provide. MD4 is broken as a hash; never use it for anything else. No
 * allocation, no I/O.
 */
#ifndef AZR_MD4_H
#define AZR_MD4_H

#include "platform.h"

#define AZR_MD4_LEN   16
#define AZR_MD4_BLOCK 64

typedef struct azr_md4 {
    uint32_t h[4];
    uint64_t total;             /* bytes hashed so far */
    uint8_t buf[AZR_MD4_BLOCK]; /* partial block */
    size_t used;                /* bytes in buf */
} azr_md4_ctx;

/* Start a new digest. */
void azr_md4_init(azr_md4_ctx *c);
/* Add len bytes; data may be NULL when len is 0. Any split gives the same digest. */
void azr_md4_update(azr_md4_ctx *c, const void *data, size_t len);
/* Write the digest; the context is wiped and must be re-initialised before reuse. */
void azr_md4_final(azr_md4_ctx *c, uint8_t out[AZR_MD4_LEN]);
/* One-shot digest. */
void azr_md4(const void *data, size_t len, uint8_t out[AZR_MD4_LEN]);

#endif
