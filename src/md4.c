/*
 * MD4 after RFC 1320 §3: little-endian words (§2), padding and length as in
 * MD5 (§3.1, §3.2), three rounds of sixteen steps (§3.4) with the round
 * constants 0, 0x5a827999 and 0x6ed9eba1. Byte order is handled with shifts,
 * never with pointer casts, so the code is alignment- and endian-neutral.
 * The block buffer and the working words can hold password material (the NT
 * hash input), so final() wipes the context.
 */
#include "md4.h"
#include "mdblock.h"
#include "text.h"

static uint32_t rol(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32u - n));
}

static uint32_t get32le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void put32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* RFC 1320 §3.4: the three auxiliary functions. */
#define F(x, y, z) (((x) & (y)) | (~(x) & (z)))
#define G(x, y, z) (((x) & (y)) | ((x) & (z)) | ((y) & (z)))
#define H(x, y, z) ((x) ^ (y) ^ (z))

static void compress(uint32_t h[4], const uint8_t block[AZR_MD4_BLOCK])
{
    /* Word order and shift amounts of each round's sixteen steps (§3.4). */
    static const uint8_t r2[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15};
    static const uint8_t r3[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
    static const uint8_t s1[4] = {3, 7, 11, 19}, s2[4] = {3, 5, 9, 13}, s3[4] = {3, 9, 11, 15};
    uint32_t x[16], v[4];
    for (unsigned i = 0; i < 16; i++)
        x[i] = get32le(block + 4 * i);
    memcpy(v, h, sizeof v);
    /* Step i updates v[(4 - i % 4) % 4]: a, d, c, b, a, d, ... */
    for (unsigned i = 0; i < 16; i++) {
        unsigned a = (4 - i % 4) % 4, b = (a + 1) % 4, c = (a + 2) % 4, d = (a + 3) % 4;
        v[a] = rol(v[a] + F(v[b], v[c], v[d]) + x[i], s1[i % 4]);
    }
    for (unsigned i = 0; i < 16; i++) {
        unsigned a = (4 - i % 4) % 4, b = (a + 1) % 4, c = (a + 2) % 4, d = (a + 3) % 4;
        v[a] = rol(v[a] + G(v[b], v[c], v[d]) + x[r2[i]] + 0x5a827999u, s2[i % 4]);
    }
    for (unsigned i = 0; i < 16; i++) {
        unsigned a = (4 - i % 4) % 4, b = (a + 1) % 4, c = (a + 2) % 4, d = (a + 3) % 4;
        v[a] = rol(v[a] + H(v[b], v[c], v[d]) + x[r3[i]] + 0x6ed9eba1u, s3[i % 4]);
    }
    for (unsigned i = 0; i < 4; i++)
        h[i] += v[i];
    azr_wipe(x, sizeof x);
    azr_wipe(v, sizeof v);
}

void azr_md4_init(azr_md4_ctx *c)
{
    /* RFC 1320 §3.3: A, B, C, D. */
    c->h[0] = 0x67452301u;
    c->h[1] = 0xefcdab89u;
    c->h[2] = 0x98badcfeu;
    c->h[3] = 0x10325476u;
    c->total = 0;
    c->used = 0;
}

void azr_md4_update(azr_md4_ctx *c, const void *data, size_t len)
{
    azr_md_update(c->buf, &c->used, &c->total, c->h, compress, data, len);
}

void azr_md4_final(azr_md4_ctx *c, uint8_t out[AZR_MD4_LEN])
{
    azr_md_pad(c->buf, &c->used, c->total, c->h, compress, false);
    for (unsigned i = 0; i < 4; i++)
        put32le(out + 4 * i, c->h[i]);
    azr_wipe(c, sizeof *c);
}

void azr_md4(const void *data, size_t len, uint8_t out[AZR_MD4_LEN])
{
    azr_md4_ctx c;
    azr_md4_init(&c);
    azr_md4_update(&c, data, len);
    azr_md4_final(&c, out);
}
