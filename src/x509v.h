/*
 * A certificate validator that wraps BearSSL's X.509 "minimal" engine and
 * lets a judge overrule its verdict: SSLSecurityFlags on the relay side
 * (accept an unknown CA, skip the host name check, ignore the validity
 * period), the SSLClientAuthentication event on the local side (the
 * application accepts or refuses the client's certificate).
 *
 * It is a br_x509_class, so an engine drives it like any validator. Beside
 * the inner engine it decodes the leaf (br_x509_decoder) so that a chain
 * accepted against the inner verdict still yields the leaf's public key,
 * and keeps the leaf's DER when given room (the event hands it out). With
 * `hold`, the leaf reaches the inner engine only once whole, after the
 * validation time has been set inside the leaf's own validity period.
 * Nothing here allocates or does I/O.
 */
#ifndef AZR_X509V_H
#define AZR_X509V_H

#include "err.h"
#include <bearssl.h>

typedef struct azr_x509v azr_x509v;

/* The chain has been read; err is the inner engine's verdict (0 valid,
 * BR_ERR_X509_EMPTY_CHAIN when there was no certificate). Returns the
 * verdict to hand the TLS engine: 0 accepts. */
typedef int (*azr_x509v_judge)(void *ud, azr_x509v *v, int err);

struct azr_x509v {
    const br_x509_class *vtable; /* first: the engine's handle */
    br_x509_minimal_context *inner;
    br_x509_decoder_context dec;   /* the leaf, decoded alongside */
    const br_x509_pkey *leaf_pkey; /* its key, once the chain ended */
    uint8_t *leaf;                 /* room for the leaf's DER, or NULL */
    size_t leaf_cap, leaf_len;
    bool leaf_big;   /* the leaf did not fit in leaf[] */
    bool hold;       /* SSLSecurityFlags 0x1: validate as of the leaf's own dates */
    bool no_name;    /* SSLSecurityFlags 0x80000000: no host name check */
    bool overridden; /* accepted against the inner verdict */
    uint32_t ncerts;
    int verdict; /* the inner engine's */
    azr_x509v_judge judge;
    void *ud;
};

/* inner must be set up (trust anchors, hashes) by the caller; leaf may be
 * NULL (then hold cannot work and refuses every chain). */
void azr_x509v_init(azr_x509v *v, br_x509_minimal_context *inner, uint8_t *leaf, size_t leaf_cap,
                    azr_x509v_judge judge, void *ud);

/* The leaf's DER when it was kept whole, else NULL (len 0). */
const uint8_t *azr_x509v_leaf(const azr_x509v *v, size_t *len);

#endif
