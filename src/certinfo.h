/*
 * What a person needs to know about an X.509 certificate, read from its DER:
 * the subject and issuer as text, and the validity period. Sans-I/O, no
 * allocation; used for SSLClientAuthentication (CertSubject, CertIssuer),
 * SSLCertSubject matching and SSLSecurityFlags' time override.
 *
 * Names print as the reference class writes them: the most specific
 * attribute first (the reverse of the DER order, as RFC 4514 does), "CN=x,
 * OU=y, O=z, C=US", short names CN, O, OU, L, S, C, E, DC, SERIALNUMBER
 * and dotted OIDs for the rest; a value holding a comma is quoted.
 * Attributes of one multi-valued RDN are joined with '+'. Values are the
 * peer's text, so the names are safe to log as they are: escaped as
 * azr_text_escape does (a backslash doubled, bytes outside printable ASCII
 * as \xNN; a BMPString character beyond ASCII as its UTF-8 bytes), and a
 * quote in a value written \".
 */
#ifndef AZR_CERTINFO_H
#define AZR_CERTINFO_H

#include "bounds.h"
#include "err.h"

typedef struct azr_certinfo {
    char subject[AZR_CERT_DN_MAX];
    char issuer[AZR_CERT_DN_MAX];
    /* validity: days since 0000-01-01 (proleptic Gregorian, BearSSL's
     * clock) and seconds into that day */
    uint32_t nb_days, nb_secs, na_days, na_secs;
} azr_certinfo;

/*
 * Read der[0..len) (a whole Certificate). AZR_E_PROTO when it is not one
 * (bad DER, lengths past the end, a time that is not a time); names longer
 * than AZR_CERT_DN_MAX - 1 are cut and end in "...".
 */
AZR_MUST_CHECK azr_err azr_certinfo_parse(const uint8_t *der, size_t len, azr_certinfo *out);

/* Days since 0000-01-01 of a Gregorian date (BearSSL's day count). */
uint32_t azr_certinfo_days(uint32_t year, uint32_t month, uint32_t day);

/* The value of the first attribute `key` ("CN", "O", ...) of a name printed
 * by azr_certinfo_parse into out[cap]; false when absent. The quoting is
 * undone (\" is a quote); the escapes stay (\\, \xNN), and a value cut
 * by cap never ends inside one. */
bool azr_certinfo_attr(const char *dn, const char *key, char *out, size_t cap);

#endif
