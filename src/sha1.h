/*
 * SHA-1, needed only for RFC 6455 Sec-WebSocket-Accept. A thin streaming
 * wrapper over BearSSL's br_sha1 so the rest of azrelay names one module.
 */
#ifndef AZR_SHA1_H
#define AZR_SHA1_H

#include "platform.h"
#include <bearssl.h>

#define AZR_SHA1_LEN 20

typedef struct azr_sha1 {
    br_sha1_context br;
} azr_sha1_ctx;

void azr_sha1_init(azr_sha1_ctx *c);
void azr_sha1_update(azr_sha1_ctx *c, const void *data, size_t len);
void azr_sha1_final(azr_sha1_ctx *c, uint8_t out[AZR_SHA1_LEN]);

#endif
