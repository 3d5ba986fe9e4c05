/*
 * Base64 (RFC 4648 §4, standard alphabet, padded). No allocation, no I/O.
 * The decoder is strict: bad characters, bad or missing padding and
 * non-canonical trailing bits (RFC 4648 §3.5) are errors.
 */
#ifndef AZR_BASE64_H
#define AZR_BASE64_H

#include "err.h"

/* Length of the encoding of n bytes, without the terminating NUL. */
#define AZR_B64_ENC_LEN(n) ((((n) + 2u) / 3u) * 4u)
/* Upper bound of the decoding of n characters. */
#define AZR_B64_DEC_MAX(n) (((n) / 4u) * 3u)

/*
 * Encode len bytes into out (NUL-terminated). cap counts the NUL.
 * AZR_E_LIMIT when cap < AZR_B64_ENC_LEN(len) + 1; out is then untouched.
 */
AZR_MUST_CHECK azr_err azr_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap,
                                      size_t *out_len);

/*
 * Decode exactly len characters (no whitespace allowed) into out.
 * AZR_E_PROTO: bad character, length not a multiple of 4, misplaced '=',
 * non-zero trailing bits. AZR_E_LIMIT: cap too small. Never reads past len.
 */
AZR_MUST_CHECK azr_err azr_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap,
                                      size_t *out_len);

#endif
