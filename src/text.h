/*
 * Small text helpers shared by the parsers: ASCII case folding, OWS
 * trimming, escaped copies of untrusted text for error messages and logs,
 * and wiping of key material. No allocation, no locale.
 */
#ifndef AZR_TEXT_H
#define AZR_TEXT_H

#include "platform.h"

/* ASCII lower case (no locale). */
char azr_text_lower(char c);

/* a[0..alen) equals the NUL-terminated b, ignoring ASCII case. */
bool azr_text_ieq(const char *a, size_t alen, const char *b);

/* Move *s and shrink *len past leading and trailing spaces, tabs, CR and LF. */
void azr_text_trim(const char **s, size_t *len);

/*
 * Escape untrusted text (anything a peer sent: SNI, certificate names,
 * reason phrases, close reasons, header values) for a log line or an event.
 * Reads in[0..len) (NUL bytes included), at most max_shown bytes of it.
 * Printable ASCII 0x20..0x7e is copied, except the backslash, which is
 * doubled; every other byte (controls, DEL, 0x80..0xff, NUL) becomes a
 * backslash, 'x' and two lower-case hex digits (ESC: \x1b). So out never
 * holds a control byte, and reading it back is unambiguous (printf's %b
 * decodes it). When input is left out (len > max_shown) or out[cap] cannot
 * hold it all, out ends in "..." and an escape is never split. out is
 * always NUL-terminated when cap > 0; returns strlen(out). A buffer of
 * AZR_TEXT_ESCAPED_MAX(max_shown) bytes is never short.
 */
size_t azr_text_escape(const char *in, size_t len, size_t max_shown, char *out, size_t cap);

/* Room for the escape of n bytes: 4 a byte, "..." and the NUL. */
#define AZR_TEXT_ESCAPED_MAX(n) (4 * (n) + 4)

/* The older name of azr_text_escape (same contract), kept for its callers. */
static inline size_t azr_text_printable(const char *in, size_t len, size_t max_shown, char *out,
                                        size_t cap)
{
    return azr_text_escape(in, len, max_shown, out, cap);
}

/* Overwrite n bytes with zeros in a way the compiler cannot drop. */
void azr_wipe(void *p, size_t n);

#endif
