/*
 * Small text helpers shared by the parsers: ASCII case folding, OWS
 * trimming, printable copies of untrusted text for error messages and logs,
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
 * Copy at most max_shown bytes of untrusted text into out[cap] for a message:
 * printable ASCII kept, every other byte becomes '?', "..." appended when
 * text was cut. Always NUL-terminated; returns the length written.
 */
size_t azr_text_printable(const char *in, size_t len, size_t max_shown, char *out, size_t cap);

/* Overwrite n bytes with zeros in a way the compiler cannot drop. */
void azr_wipe(void *p, size_t n);

#endif
