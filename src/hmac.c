/* HMAC-SHA256 after RFC 2104 §2: H(K ^ opad, H(K ^ ipad, text)). */
#include "hmac.h"
#include "text.h"

void azr_hmac_init(azr_hmac_ctx *c, const void *key, size_t key_len)
{
    uint8_t k[AZR_SHA256_BLOCK] = {0};
    uint8_t ipad[AZR_SHA256_BLOCK];
    if (key_len > AZR_SHA256_BLOCK)
        azr_sha256(key, key_len, k);
    else if (key_len > 0)
        memcpy(k, key, key_len);
    for (unsigned i = 0; i < AZR_SHA256_BLOCK; i++) {
        ipad[i] = (uint8_t)(k[i] ^ 0x36);
        c->opad_key[i] = (uint8_t)(k[i] ^ 0x5c);
    }
    azr_sha256_init(&c->inner);
    azr_sha256_update(&c->inner, ipad, sizeof ipad);
    azr_wipe(k, sizeof k);
    azr_wipe(ipad, sizeof ipad);
}

void azr_hmac_update(azr_hmac_ctx *c, const void *data, size_t len)
{
    azr_sha256_update(&c->inner, data, len);
}

void azr_hmac_final(azr_hmac_ctx *c, uint8_t out[AZR_SHA256_LEN])
{
    uint8_t ih[AZR_SHA256_LEN];
    azr_sha256_ctx outer;
    azr_sha256_final(&c->inner, ih);
    azr_sha256_init(&outer);
    azr_sha256_update(&outer, c->opad_key, sizeof c->opad_key);
    azr_sha256_update(&outer, ih, sizeof ih);
    azr_sha256_final(&outer, out);
    azr_wipe(ih, sizeof ih);
    azr_wipe(c, sizeof *c);
}

void azr_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                     uint8_t out[AZR_SHA256_LEN])
{
    azr_hmac_ctx c;
    azr_hmac_init(&c, key, key_len);
    azr_hmac_update(&c, data, len);
    azr_hmac_final(&c, out);
}
