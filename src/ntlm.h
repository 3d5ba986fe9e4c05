/*
 * NTLM over HTTP as a client (MS-NLMP), NTLMv2 only: the NEGOTIATE_MESSAGE,
 * a bounds-checked CHALLENGE_MESSAGE parser and the AUTHENTICATE_MESSAGE with
 * the NTLMv2 and LMv2 responses (§3.3.2). No signing or sealing, so no key
 * exchange and no MIC (§3.1.5.2.1 makes the MIC a SHOULD; proxies do not ask
 * for it). MD4 from md4.h, HMAC-MD5 from BearSSL. No allocation, no I/O;
 * key material is wiped.
 *
 * Text: user, domain, password and workstation are UTF-8 and go on the wire
 * as UTF-16LE (NTLMSSP_NEGOTIATE_UNICODE); invalid UTF-8 is refused. NTOWFv2
 * upper-cases the user name: letters of ASCII and Latin-1 (U+00E0-U+00FE
 * except U+00F7, and U+00FF) are mapped, other scripts are used as given, so
 * such users should type their name in upper case.
 */
#ifndef AZR_NTLM_H
#define AZR_NTLM_H

#include "err.h"

/* MS-NLMP §2.2.2.5 NegotiateFlags. */
#define AZR_NTLM_UNICODE     0x00000001u
#define AZR_NTLM_OEM         0x00000002u
#define AZR_NTLM_REQ_TARGET  0x00000004u
#define AZR_NTLM_NTLM        0x00000200u
#define AZR_NTLM_ALWAYS_SIGN 0x00008000u
#define AZR_NTLM_ESS         0x00080000u /* EXTENDED_SESSIONSECURITY */
#define AZR_NTLM_TARGET_INFO 0x00800000u
#define AZR_NTLM_VERSION     0x02000000u
#define AZR_NTLM_128         0x20000000u
#define AZR_NTLM_56          0x80000000u
#define AZR_NTLM_NEG_FLAGS                                                                         \
    (AZR_NTLM_UNICODE | AZR_NTLM_OEM | AZR_NTLM_REQ_TARGET | AZR_NTLM_NTLM |                       \
     AZR_NTLM_ALWAYS_SIGN | AZR_NTLM_ESS | AZR_NTLM_128 | AZR_NTLM_56)

/* The NEGOTIATE_MESSAGE: header only, no domain, workstation or version. */
#define AZR_NTLM_NEGOTIATE_LEN 32
/* Bytes of UTF-8 in each of user, domain, password, workstation. */
#define AZR_NTLM_MAX_TEXT 256
/* A CHALLENGE_MESSAGE's TargetInfo (AV pairs); real ones are a few hundred. */
#define AZR_NTLM_MAX_TARGET_INFO 1024
/* Largest AUTHENTICATE_MESSAGE: header, LMv2, NTLMv2 with the largest
 * TargetInfo, the three names in UTF-16LE. */
#define AZR_NTLM_MAX_AUTH (64 + 24 + 48 + AZR_NTLM_MAX_TARGET_INFO + 3 * 2 * AZR_NTLM_MAX_TEXT)

/* Write the NEGOTIATE_MESSAGE (flags AZR_NTLM_NEG_FLAGS). */
void azr_ntlm_negotiate(uint8_t out[AZR_NTLM_NEGOTIATE_LEN]);

typedef struct azr_ntlm_challenge {
    uint32_t flags;
    uint8_t server_challenge[8];
    const uint8_t *target_info; /* inside the parsed message; NULL when empty */
    size_t target_info_len;
    bool has_timestamp; /* TargetInfo has MsvAvTimestamp */
    uint8_t timestamp[8];
} azr_ntlm_challenge;

/*
 * Parse a CHALLENGE_MESSAGE (§2.2.1.2). TargetInfo is taken only when the
 * NTLMSSP_NEGOTIATE_TARGET_INFO flag is set; its offset/length pair is
 * checked against len, and its AV pairs (§2.2.2.1) must each fit and end
 * with MsvAvEOL. TargetName is ignored, unchecked (nothing reads it).
 * AZR_E_PROTO (not NTLM, not type 2, TargetInfo out of bounds, bad AV pairs,
 * no Unicode support) or AZR_E_LIMIT (TargetInfo over
 * AZR_NTLM_MAX_TARGET_INFO), *why says which (static text).
 */
AZR_MUST_CHECK azr_err azr_ntlm_challenge_parse(const uint8_t *msg, size_t len,
                                                azr_ntlm_challenge *c, const char **why);

/*
 * UTF-8 to UTF-16LE (RFC 3629: overlong forms, surrogates and code points
 * over U+10FFFF are refused), upper-cased as described above when upper is
 * set. AZR_E_ARG for invalid UTF-8, AZR_E_LIMIT when out is too small.
 */
AZR_MUST_CHECK azr_err azr_ntlm_utf16le(const char *s, size_t len, bool upper, uint8_t *out,
                                        size_t cap, size_t *out_len);

typedef struct azr_ntlm_creds {
    const char *user, *domain, *password, *workstation; /* UTF-8, NUL-terminated */
} azr_ntlm_creds;

/*
 * NTOWFv2 (§3.3.2) = HMAC-MD5(MD4(UTF-16LE(password)),
 * UTF-16LE(UPPER(user) domain)). AZR_E_ARG (invalid UTF-8, *why names the
 * field) or AZR_E_LIMIT (a field over AZR_NTLM_MAX_TEXT).
 */
AZR_MUST_CHECK azr_err azr_ntlm_ntowfv2(const azr_ntlm_creds *cr, uint8_t out[16],
                                        const char **why);

/*
 * The AUTHENTICATE_MESSAGE (§2.2.1.3) answering c, NTLMv2 (§3.3.2):
 * NtChallengeResponse = NTProofStr || temp, temp holding the blob version,
 * the time (the challenge's MsvAvTimestamp, else filetime: 100 ns units since
 * 1601-01-01 UTC), client_challenge and c's TargetInfo; LmChallengeResponse =
 * LMv2, or 24 zero bytes when the challenge carries MsvAvTimestamp. Flags:
 * the challenge's flags within AZR_NTLM_NEG_FLAGS | AZR_NTLM_TARGET_INFO,
 * Unicode (OEM off). Errors as azr_ntlm_ntowfv2, and AZR_E_LIMIT when cap is
 * too small (AZR_NTLM_MAX_AUTH always suffices).
 */
AZR_MUST_CHECK azr_err azr_ntlm_authenticate(const azr_ntlm_creds *cr, const azr_ntlm_challenge *c,
                                             const uint8_t client_challenge[8], uint64_t filetime,
                                             uint8_t *out, size_t cap, size_t *out_len,
                                             const char **why);

#endif
