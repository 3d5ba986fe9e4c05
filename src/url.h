/*
 * URL percent-encoding (RFC 3986 §2.1, §2.3). No allocation, no I/O.
 * The encoder keeps the unreserved set A-Z a-z 0-9 - _ . ~ and writes every
 * other byte as %XX; the decoder rejects a '%' not followed by two hex digits.
 */
#ifndef AZR_URL_H
#define AZR_URL_H

#include "err.h"

#define AZR_URL_LOWER_HEX  1u /* encode: %2f instead of %2F */
#define AZR_URL_PLUS_SPACE 2u /* decode: '+' means space (form encoding) */

/* True for RFC 3986 §2.3 unreserved characters. */
bool azr_url_unreserved(uint8_t c);

/*
 * Encode len bytes into out, NUL-terminated; cap counts the NUL.
 * AZR_E_LIMIT when it does not fit (out then holds a NUL-terminated prefix).
 */
AZR_MUST_CHECK azr_err azr_url_encode(const void *in, size_t len, char *out, size_t cap,
                                      size_t *out_len, unsigned flags);

/*
 * Decode len characters into out, NUL-terminated; cap counts the NUL, and
 * len + 1 is always enough. Decoded bytes may include NUL: use *out_len.
 * AZR_E_PROTO on malformed '%'; AZR_E_LIMIT when out is too small.
 */
AZR_MUST_CHECK azr_err azr_url_decode(const char *in, size_t len, uint8_t *out, size_t cap,
                                      size_t *out_len, unsigned flags);

#endif
