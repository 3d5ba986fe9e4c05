#include "sha1.h"

void azr_sha1_init(azr_sha1_ctx *c)
{
    br_sha1_init(&c->br);
}

void azr_sha1_update(azr_sha1_ctx *c, const void *data, size_t len)
{
    br_sha1_update(&c->br, data, len);
}

void azr_sha1_final(azr_sha1_ctx *c, uint8_t out[AZR_SHA1_LEN])
{
    br_sha1_out(&c->br, out);
}
