/*
 * IMPLEMENTATION NOTES
 * Each br_x509_class call goes to the inner engine, except the leaf's
 * bytes under `hold`: they are kept in leaf[] and handed over at the
 * leaf's end_cert, after br_x509_minimal_set_time() has put the clock in
 * the middle of the leaf's validity (so an expired or not yet valid chain
 * still has its signatures and trust checked). get_pkey answers from the
 * inner engine unless the judge overruled it; then from our own decoder,
 * with the usages a TLS key needs.
 */
#include "x509v.h"
#include "certinfo.h"

static azr_x509v *self(const br_x509_class **ctx)
{
    return (azr_x509v *)(void *)ctx;
}

static void v_start_chain(const br_x509_class **ctx, const char *server_name)
{
    azr_x509v *v = self(ctx);
    v->ncerts = 0;
    v->leaf_len = 0;
    v->leaf_big = v->overridden = false;
    v->verdict = 0;
    br_x509_decoder_init(&v->dec, NULL, NULL);
    v->inner->vtable->start_chain(&v->inner->vtable, v->no_name ? NULL : server_name);
}

static void v_start_cert(const br_x509_class **ctx, uint32_t length)
{
    azr_x509v *v = self(ctx);
    if (v->ncerts == 0 && (!v->leaf || length > v->leaf_cap))
        v->leaf_big = true;
    v->inner->vtable->start_cert(&v->inner->vtable, length);
}

static void v_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
    azr_x509v *v = self(ctx);
    if (v->ncerts == 0) {
        br_x509_decoder_push(&v->dec, buf, len);
        if (!v->leaf_big && len <= v->leaf_cap - v->leaf_len) {
            memcpy(v->leaf + v->leaf_len, buf, len);
            v->leaf_len += len;
        } else {
            v->leaf_big = true;
        }
        if (v->hold)
            return;
    }
    v->inner->vtable->append(&v->inner->vtable, buf, len);
}

static void v_end_cert(const br_x509_class **ctx)
{
    azr_x509v *v = self(ctx);
    if (v->ncerts == 0 && v->hold && !v->leaf_big) {
        azr_certinfo ci;
        if (azr_certinfo_parse(v->leaf, v->leaf_len, &ci) == AZR_OK) {
            uint32_t mid =
                ci.nb_days + (ci.na_days > ci.nb_days ? (ci.na_days - ci.nb_days) / 2 : 0);
            br_x509_minimal_set_time(v->inner, mid, 43200);
        }
        v->inner->vtable->append(&v->inner->vtable, v->leaf, v->leaf_len);
    }
    v->inner->vtable->end_cert(&v->inner->vtable);
    v->ncerts++;
}

static unsigned v_end_chain(const br_x509_class **ctx)
{
    azr_x509v *v = self(ctx);
    int err = (int)v->inner->vtable->end_chain(&v->inner->vtable);
    if (v->ncerts == 0)
        err = BR_ERR_X509_EMPTY_CHAIN;
    else if (err == 0 && v->hold && v->leaf_big)
        err = BR_ERR_X509_LIMIT_EXCEEDED; /* the leaf never reached the engine */
    v->verdict = err;
    int r = v->judge ? v->judge(v->ud, v, err) : err;
    /* accepting needs a key: ours, from the leaf */
    v->leaf_pkey = br_x509_decoder_get_pkey(&v->dec);
    if (r == 0 && err != 0 && !v->leaf_pkey)
        r = err;
    v->overridden = r == 0 && err != 0;
    return (unsigned)r;
}

static const br_x509_pkey *v_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
    const azr_x509v *v = (const azr_x509v *)(const void *)ctx;
    if (!v->overridden)
        return v->inner->vtable->get_pkey(&v->inner->vtable, usages);
    if (usages)
        *usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
    return v->leaf_pkey;
}

static const br_x509_class vtable = {sizeof(azr_x509v), v_start_chain, v_start_cert, v_append,
                                     v_end_cert,        v_end_chain,   v_get_pkey};

void azr_x509v_init(azr_x509v *v, br_x509_minimal_context *inner, uint8_t *leaf, size_t leaf_cap,
                    azr_x509v_judge judge, void *ud)
{
    memset(v, 0, sizeof *v);
    v->vtable = &vtable;
    v->inner = inner;
    v->leaf = leaf;
    v->leaf_cap = leaf ? leaf_cap : 0;
    v->judge = judge;
    v->ud = ud;
}

const uint8_t *azr_x509v_leaf(const azr_x509v *v, size_t *len)
{
    bool whole = v->ncerts > 0 && !v->leaf_big && v->leaf;
    *len = whole ? v->leaf_len : 0;
    return whole ? v->leaf : NULL;
}
