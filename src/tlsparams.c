/*
 * BearSSL's cipher suites by IANA name, with what SSLNegotiated* reports
 * about each, the SSLEnabledProtocols bits, and the NSS key log format
 * (https://firefox-source-docs.mozilla.org/security/nss/legacy/key_log_format/).
 */
#include "tlsparams.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.h"

typedef struct suite_def {
    uint16_t id;
    const char *name;
    const char *cipher; /* SSLNegotiatedCipher */
    int bits;           /* SSLNegotiatedCipherStrength */
    const char *kx;     /* SSLNegotiatedKeyExchange */
    bool safe;          /* in the default set: ECDHE and an AEAD */
} suite_def;

/* In the default order of preference: ECDHE + AEAD first. */
static const suite_def suites[] = {
    {BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
     "AES-GCM", 128, "ECDHE", true},
    {BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "AES-GCM",
     128, "ECDHE", true},
    {BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
     "AES-GCM", 256, "ECDHE", true},
    {BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "AES-GCM",
     256, "ECDHE", true},
    {BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
     "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "CHACHA20-POLY1305", 256, "ECDHE", true},
    {BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
     "CHACHA20-POLY1305", 256, "ECDHE", true},
#if !AZR_TLS_AEAD_ONLY
    {BR_TLS_ECDHE_ECDSA_WITH_AES_128_CCM, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "AES-CCM", 128,
     "ECDHE", false},
    {BR_TLS_ECDHE_ECDSA_WITH_AES_256_CCM, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", "AES-CCM", 256,
     "ECDHE", false},
    {BR_TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", "AES-CCM8", 128,
     "ECDHE", false},
    {BR_TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", "AES-CCM8", 256,
     "ECDHE", false},
    {BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
     "AES-CBC", 128, "ECDHE", false},
    {BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "AES-CBC",
     128, "ECDHE", false},
    {BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
     "AES-CBC", 256, "ECDHE", false},
    {BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "AES-CBC",
     256, "ECDHE", false},
    {BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "AES-CBC",
     128, "ECDHE", false},
    {BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "AES-CBC", 128,
     "ECDHE", false},
    {BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "AES-CBC",
     256, "ECDHE", false},
    {BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "AES-CBC", 256,
     "ECDHE", false},
    {BR_TLS_RSA_WITH_AES_128_GCM_SHA256, "TLS_RSA_WITH_AES_128_GCM_SHA256", "AES-GCM", 128, "RSA",
     false},
    {BR_TLS_RSA_WITH_AES_256_GCM_SHA384, "TLS_RSA_WITH_AES_256_GCM_SHA384", "AES-GCM", 256, "RSA",
     false},
    {BR_TLS_RSA_WITH_AES_128_CCM, "TLS_RSA_WITH_AES_128_CCM", "AES-CCM", 128, "RSA", false},
    {BR_TLS_RSA_WITH_AES_256_CCM, "TLS_RSA_WITH_AES_256_CCM", "AES-CCM", 256, "RSA", false},
    {BR_TLS_RSA_WITH_AES_128_CBC_SHA256, "TLS_RSA_WITH_AES_128_CBC_SHA256", "AES-CBC", 128, "RSA",
     false},
    {BR_TLS_RSA_WITH_AES_256_CBC_SHA256, "TLS_RSA_WITH_AES_256_CBC_SHA256", "AES-CBC", 256, "RSA",
     false},
    {BR_TLS_RSA_WITH_AES_128_CBC_SHA, "TLS_RSA_WITH_AES_128_CBC_SHA", "AES-CBC", 128, "RSA", false},
    {BR_TLS_RSA_WITH_AES_256_CBC_SHA, "TLS_RSA_WITH_AES_256_CBC_SHA", "AES-CBC", 256, "RSA", false},
    {BR_TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", "3DES", 112,
     "ECDHE", false},
    {BR_TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "3DES", 112,
     "ECDHE", false},
    {BR_TLS_RSA_WITH_3DES_EDE_CBC_SHA, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "3DES", 112, "RSA", false},
#endif
};
#define NSUITES (sizeof suites / sizeof suites[0])

static const suite_def *find_id(uint16_t id)
{
    for (size_t i = 0; i < NSUITES; i++)
        if (suites[i].id == id)
            return &suites[i];
    return NULL;
}

const char *azr_tls_suite_name(uint16_t id)
{
    const suite_def *s = find_id(id);
    return s ? s->name : "unknown";
}

azr_err azr_tls_suites_parse(const char *text, azr_tls_suites *out, char *err, size_t cap)
{
    out->n = 0;
    out->automatic = false;
    const char *p = text;
    size_t len = strlen(text);
    azr_text_trim(&p, &len);
    if (len == 0 || (len == 1 && *p == '*')) {
        out->automatic = true;
        for (size_t i = 0; i < NSUITES && out->n < AZR_TLS_MAX_SUITES; i++)
            if (len == 1 || suites[i].safe)
                out->id[out->n++] = suites[i].id;
        return AZR_OK;
    }
    while (len > 0) {
        size_t n = 0;
        while (n < len && p[n] != ';' && p[n] != ',')
            n++;
        const char *name = p;
        size_t nl = n;
        azr_text_trim(&name, &nl);
        if (nl > 0) {
            const suite_def *s = NULL;
            for (size_t i = 0; i < NSUITES && !s; i++)
                if (azr_text_ieq(name, nl, suites[i].name))
                    s = &suites[i];
            if (!s) {
                snprintf(err, cap,
                         "SSLEnabledCipherSuites: '%.*s' is not a cipher suite %s (IANA "
                         "names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256; '*' for all)",
                         (int)(nl < 80 ? nl : 80), name,
                         AZR_TLS_AEAD_ONLY ? "of this build (AZR_TLS_AEAD_ONLY: ECDHE with "
                                             "AES-GCM or ChaCha20-Poly1305)"
                                           : "BearSSL has");
                return AZR_E_ARG;
            }
            bool dup = false;
            for (size_t k = 0; k < out->n; k++)
                dup = dup || out->id[k] == s->id;
            if (!dup && out->n < AZR_TLS_MAX_SUITES)
                out->id[out->n++] = s->id;
        }
        p += n + (n < len);
        len -= n + (n < len);
    }
    if (out->n == 0) {
        snprintf(err, cap, "SSLEnabledCipherSuites: no cipher suite named");
        return AZR_E_ARG;
    }
    return AZR_OK;
}

static bool is_chacha(uint16_t id)
{
    return id == BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 ||
           id == BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256;
}

bool azr_tls_suites_order(azr_tls_suites *su, bool aes_hw)
{
    if (!su->automatic || aes_hw)
        return su->n > 0 && is_chacha(su->id[0]);
    /* a stable partition: ChaCha20 suites first, the others after in their order */
    uint16_t rest[AZR_TLS_MAX_SUITES];
    size_t k = 0, r = 0;
    for (size_t i = 0; i < su->n; i++) {
        if (is_chacha(su->id[i]))
            su->id[k++] = su->id[i];
        else
            rest[r++] = su->id[i];
    }
    memcpy(su->id + k, rest, r * sizeof rest[0]);
    return k > 0;
}

azr_err azr_tls_versions(long bits, unsigned *min, unsigned *max, char *err, size_t cap)
{
    static const struct {
        long bit;
        unsigned v;
    } map[] = {{AZR_TLS_PROTO_TLS10, BR_TLS10},
               {AZR_TLS_PROTO_TLS11, BR_TLS11},
               {AZR_TLS_PROTO_TLS12, BR_TLS12}};
    if (bits & 0x3C) {
        snprintf(err, cap, "SSLEnabledProtocols: SSL 2 and SSL 3 are not supported");
        return AZR_E_UNSUPPORTED;
    }
    if (bits & ~(long)0x3FC0) {
        snprintf(err, cap, "SSLEnabledProtocols: %ld has bits that name no protocol", bits);
        return AZR_E_ARG;
    }
    *min = *max = 0;
    bool gap = false;
    for (size_t i = 0; i < 3; i++) {
        /* either bit of a pair counts, as the class's pairs are client|server */
        if (bits & map[i].bit) {
            if (*max && gap) {
                snprintf(err, cap,
                         "SSLEnabledProtocols: BearSSL takes a contiguous range of "
                         "versions (TLS 1.0 and 1.2 without 1.1 is not one)");
                return AZR_E_UNSUPPORTED;
            }
            if (!*min)
                *min = map[i].v;
            *max = map[i].v;
        } else if (*min) {
            gap = true;
        }
    }
#if AZR_TLS_AEAD_ONLY
    /* its suites are TLS 1.2's (RFC 5246 §1.2 brought AEAD) */
    if (*max && *max < BR_TLS12) {
        snprintf(err, cap,
                 "SSLEnabledProtocols: this build speaks TLS 1.2 only "
                 "(AZR_TLS_AEAD_ONLY): enable TLS 1.2 (3072)");
        return AZR_E_UNSUPPORTED;
    }
    if (*max)
        *min = BR_TLS12;
#endif
    if (!*max) {
        snprintf(err, cap, "SSLEnabledProtocols: %s",
                 bits & AZR_TLS_PROTO_TLS13 ? "TLS 1.3 is not available (BearSSL speaks up to TLS "
                                              "1.2): enable TLS 1.2 (3072)"
                                            : "no protocol enabled");
        return AZR_E_UNSUPPORTED;
    }
    return AZR_OK;
}

void azr_tls_info_get(br_ssl_engine_context *eng, azr_tls_info *out)
{
    out->version = br_ssl_engine_get_version(eng);
    out->suite = eng->session.cipher_suite;
    const suite_def *s = find_id(out->suite);
    out->curve = s && !strcmp(s->kx, "ECDHE") ? br_ssl_engine_get_ecdhe_curve(eng) : 0;
}

static int curve_bits(int curve)
{
    switch (curve) {
    case BR_EC_secp256r1:
        return 256;
    case BR_EC_secp384r1:
        return 384;
    case BR_EC_secp521r1:
        return 521;
    case BR_EC_curve25519:
        return 255;
    default:
        return 0;
    }
}

bool azr_tls_info_field(const azr_tls_info *i, const char *name, size_t nl, char *out, size_t cap)
{
    const suite_def *s = find_id(i->suite);
    int n;
    if (!i->version) {
        n = snprintf(out, cap, "%s", "");
    } else if (azr_text_ieq(name, nl, "Version")) {
        n = snprintf(out, cap, "TLS1.%u", i->version - BR_TLS10);
    } else if (azr_text_ieq(name, nl, "CipherSuite")) {
        n = snprintf(out, cap, "%s", s ? s->name : "unknown");
    } else if (azr_text_ieq(name, nl, "Cipher")) {
        n = snprintf(out, cap, "%s", s ? s->cipher : "unknown");
    } else if (azr_text_ieq(name, nl, "CipherStrength")) {
        n = snprintf(out, cap, "%d", s ? s->bits : 0);
    } else if (azr_text_ieq(name, nl, "KeyExchange")) {
        n = snprintf(out, cap, "%s", s ? s->kx : "unknown");
    } else if (azr_text_ieq(name, nl, "KeyExchangeStrength")) {
        n = snprintf(out, cap, "%d", curve_bits(i->curve));
    } else {
        return false;
    }
    return n >= 0 && (size_t)n < cap;
}

/* What a path names, for a refusal. */
static const char *file_kind(mode_t m)
{
    if (S_ISFIFO(m))
        return "a FIFO (named pipe)";
    if (S_ISLNK(m))
        return "a symbolic link (name the file itself)";
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

static azr_err keylog_fail(const char *path, int e, const char *why, char *err, size_t cap)
{
    snprintf(err, cap, "SSLKeyLogFile %.200s: %s", path, why ? why : strerror(e));
    errno = e;
    return AZR_E_IO;
}

static azr_err keylog_not_regular(const char *path, mode_t m, char *err, size_t cap)
{
    char why[160];
    snprintf(why, sizeof why, "is %s; key log lines go to a regular file only", file_kind(m));
    return keylog_fail(path, EINVAL, why, err, cap);
}

azr_err azr_tls_keylog_append(const char *path, const br_ssl_engine_context *eng, char *err,
                              size_t cap)
{
    struct stat st;
    /* look first: opening a FIFO or a device may block or have effects */
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return keylog_not_regular(path, st.st_mode, err, cap);
    int fd = open(
        path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0600);
    if (fd < 0) {
        int e = errno;
        return keylog_fail(path, e, e == ELOOP ? "is a symbolic link (name the file itself)" : NULL,
                           err, cap);
    }
    /* judge what was opened: the path may have changed since lstat */
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return keylog_fail(path, e, NULL, err, cap);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return keylog_not_regular(path, st.st_mode, err, cap);
    }
    if ((st.st_mode & 077) && fchmod(fd, 0600) != 0) {
        char why[200];
        int e = errno;
        snprintf(why, sizeof why,
                 "group or others may open it (mode %03o) and it cannot be made 0600: %s",
                 (unsigned)(st.st_mode & 0777), strerror(e));
        close(fd);
        return keylog_fail(path, e, why, err, cap);
    }
    static const char hex[] = "0123456789abcdef";
    char line[16 + 64 + 1 + 96 + 2];
    size_t o = 0;
    memcpy(line, "CLIENT_RANDOM ", 14);
    o = 14;
    for (size_t i = 0; i < 32; i++) {
        line[o++] = hex[eng->client_random[i] >> 4];
        line[o++] = hex[eng->client_random[i] & 15];
    }
    line[o++] = ' ';
    for (size_t i = 0; i < 48; i++) {
        line[o++] = hex[eng->session.master_secret[i] >> 4];
        line[o++] = hex[eng->session.master_secret[i] & 15];
    }
    line[o++] = '\n';
    ssize_t n = write(fd, line, o);
    int e = n < 0 ? errno : EIO;
    azr_wipe(line, sizeof line);
    close(fd);
    if (n != (ssize_t)o)
        return keylog_fail(path, e, n >= 0 ? "short write (disk full?)" : NULL, err, cap);
    return AZR_OK;
}
