#include "xport.h"

/* Unread bytes move to the front when the tail is short of room (a quarter
 * of the buffer) and they are few (an eighth): writers that need contiguous
 * room (a frame and its header) get it once the buffer drains that far, and
 * a big remainder is never moved, only waited for. */
static bool compacts(size_t off, size_t len, size_t cap)
{
    return off != 0 && (len == 0 || (cap - off - len < cap / 4 && len <= cap / 8));
}

static void compact(uint8_t *buf, size_t *off, size_t len, size_t cap)
{
    if (!compacts(*off, len, cap))
        return;
    if (len)
        memmove(buf, buf + *off, len);
    *off = 0;
}

/* The room the next _buf call offers (after the compaction it would do). */
static size_t room_of(size_t off, size_t len, size_t cap)
{
    return compacts(off, len, cap) ? cap - len : cap - off - len;
}

void azr_xport_init(azr_xport *x, uint8_t *in, size_t in_cap, uint8_t *out, size_t out_cap)
{
    memset(x, 0, sizeof *x);
    x->in = in;
    x->in_cap = in_cap;
    x->out = out;
    x->out_cap = out_cap;
}

void azr_xport_init_tls(azr_xport *x, br_ssl_engine_context *eng)
{
    memset(x, 0, sizeof *x);
    x->eng = eng;
}

void azr_xport_flush(azr_xport *x)
{
    if (x->eng)
        br_ssl_engine_flush(x->eng, 0);
}

int azr_xport_error(const azr_xport *x)
{
    return x->eng ? br_ssl_engine_last_error(x->eng) : 0;
}

size_t azr_xport_sendapp_room(azr_xport *x)
{
    size_t n;
    (void)azr_xport_sendapp_buf(x, &n);
    return n;
}

unsigned azr_xport_state(const azr_xport *x)
{
    unsigned s = 0;
    if (x->eng) {
        unsigned st = br_ssl_engine_current_state(x->eng);
        if (st & BR_SSL_CLOSED)
            return AZR_X_CLOSED;
        return ((st & BR_SSL_SENDREC) ? AZR_X_SENDREC : 0u) |
               ((st & BR_SSL_RECVREC) ? AZR_X_RECVREC : 0u) |
               ((st & BR_SSL_SENDAPP) ? AZR_X_SENDAPP : 0u) |
               ((st & BR_SSL_RECVAPP) ? AZR_X_RECVAPP : 0u);
    }
    if (x->out_len)
        s |= AZR_X_SENDREC;
    if (room_of(x->in_off, x->in_len, x->in_cap))
        s |= AZR_X_RECVREC;
    if (room_of(x->out_off, x->out_len, x->out_cap))
        s |= AZR_X_SENDAPP;
    if (x->in_len)
        s |= AZR_X_RECVAPP;
    return s;
}

uint8_t *azr_xport_recvrec_buf(azr_xport *x, size_t *len)
{
    if (x->eng) {
        uint8_t *b = br_ssl_engine_recvrec_buf(x->eng, len);
        if (!b)
            *len = 0;
        return b;
    }
    compact(x->in, &x->in_off, x->in_len, x->in_cap);
    *len = x->in_cap - x->in_off - x->in_len;
    return *len ? x->in + x->in_off + x->in_len : NULL;
}

void azr_xport_recvrec_ack(azr_xport *x, size_t n)
{
    if (x->eng) {
        if (n) /* BearSSL takes an ack as "a record was used up": never ack 0 */
            br_ssl_engine_recvrec_ack(x->eng, n);
        return;
    }
    x->in_len += n;
}

const uint8_t *azr_xport_recvapp_buf(const azr_xport *x, size_t *len)
{
    if (x->eng) {
        const uint8_t *b = br_ssl_engine_recvapp_buf(x->eng, len);
        if (!b)
            *len = 0;
        return b;
    }
    *len = x->in_len;
    return x->in_len ? x->in + x->in_off : NULL;
}

void azr_xport_recvapp_ack(azr_xport *x, size_t n)
{
    if (x->eng) {
        if (n) /* BearSSL takes an ack as "a record was used up": never ack 0 */
            br_ssl_engine_recvapp_ack(x->eng, n);
        return;
    }
    x->in_off += n;
    x->in_len -= n;
    if (x->in_len == 0)
        x->in_off = 0;
}

uint8_t *azr_xport_sendapp_buf(azr_xport *x, size_t *len)
{
    if (x->eng) {
        uint8_t *b = br_ssl_engine_sendapp_buf(x->eng, len);
        if (!b)
            *len = 0;
        return b;
    }
    compact(x->out, &x->out_off, x->out_len, x->out_cap);
    *len = x->out_cap - x->out_off - x->out_len;
    return *len ? x->out + x->out_off + x->out_len : NULL;
}

void azr_xport_sendapp_ack(azr_xport *x, size_t n)
{
    if (x->eng) {
        if (n) /* BearSSL takes an ack as "a record was used up": never ack 0 */
            br_ssl_engine_sendapp_ack(x->eng, n);
        return;
    }
    x->out_len += n;
}

const uint8_t *azr_xport_sendrec_buf(const azr_xport *x, size_t *len)
{
    if (x->eng) {
        const uint8_t *b = br_ssl_engine_sendrec_buf(x->eng, len);
        if (!b)
            *len = 0;
        return b;
    }
    *len = x->out_len;
    return x->out_len ? x->out + x->out_off : NULL;
}

void azr_xport_sendrec_ack(azr_xport *x, size_t n)
{
    if (x->eng) {
        if (n) /* BearSSL takes an ack as "a record was used up": never ack 0 */
            br_ssl_engine_sendrec_ack(x->eng, n);
        return;
    }
    x->out_off += n;
    x->out_len -= n;
    if (x->out_len == 0)
        x->out_off = 0;
}

/* ---------------------------------------------------------------- sealing */

#define TLS_HEADER   5  /* type, version, length */
#define TLS_APP_DATA 23 /* ContentType application_data (RFC 5246 §6.2.1) */
/* what a record may add after its plaintext: a tag, or a MAC and CBC padding (48 + 256) */
#define TLS_SEAL_SLACK 1024u

/*
 * The engine's own record layer, used from outside: br_ssl_engine_context's
 * out (the record encryption and its sequence number) and its output
 * registers (oxa, oxc: the current record's start and fill, equal when it
 * holds nothing) are documented as private. BearSSL's sources are pinned
 * (third_party/bearssl.sh checks their SHA-256), so these fields are what
 * that version has; the record layer's interface itself
 * (br_sslrec_out_class: max_plaintext, encrypt) is BearSSL's public one.
 */
bool azr_xport_out_empty(const azr_xport *x)
{
    size_t n;
    if (!x->eng)
        return x->out_len == 0;
    (void)azr_xport_sendrec_buf(x, &n);
    return n == 0 && x->eng->oxa == x->eng->oxc;
}

size_t azr_xport_seal_room(const azr_xport *x, size_t *pre, size_t *post)
{
    size_t room;
    *pre = *post = 0;
    if (!azr_xport_out_empty(x))
        return 0; /* a record waits for the socket, or one is filling */
    if (!x->eng)
        return x->out_cap;
    br_ssl_engine_context *eng = x->eng;
    const br_sslrec_out_class *rec = eng->out.vtable;
    if (!rec)
        return 0;
    if (!br_ssl_engine_sendapp_buf(eng, &room) || room == 0)
        return 0; /* closed, or in a handshake */
    size_t win = TLS_HEADER + room + TLS_SEAL_SLACK, a = TLS_HEADER, b = win;
    rec->max_plaintext(&eng->out.vtable, &a, &b); /* the header, an explicit IV or nonce */
    if (b < a)
        return 0;
    if (b - a < room)
        room = b - a;
    *pre = a;
    *post = win - a - room;
    return room;
}

uint8_t *azr_xport_seal(azr_xport *x, uint8_t *pt, size_t *len)
{
    if (!x->eng)
        return pt;
    br_ssl_engine_context *eng = x->eng;
    return eng->out.vtable->encrypt(&eng->out.vtable, TLS_APP_DATA, eng->version_out, pt, len);
}
