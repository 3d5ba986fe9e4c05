/*
 * WebSocket framing. Vectors: RFC 6455 §5.7 examples, and frames produced by
 * Node's ws 8.23.0 with (in an empty folder, after `npm install ws@8`):
 *   node -e 'const {Sender}=require("ws");
 *     const f=(d,o)=>Buffer.concat(Sender.frame(d,Object.assign({readOnly:false,fin:true,
 *       rsv1:false},o))).toString("hex");
 *     const m={mask:true,generateMask:b=>{b[0]=1;b[1]=2;b[2]=3;b[3]=4}};
 *     console.log(f(Buffer.from("hello"),Object.assign({opcode:2},m)))'   # and so on
 * Every decoder case runs whole, byte by byte and split at every offset (for
 * inputs over 4 KiB: every offset near both ends and every 997th between),
 * with each piece against a guard page.
 */
#include "testutil.h"
#include "ws.h"

/* ------------------------------------------------------------- transcript */

typedef struct transcript {
    char text[200000];
    size_t n;
    azr_err end;
    uint16_t close_code;
} transcript;

static void put(transcript *t, const char *s, size_t len)
{
    assert_true(len < sizeof t->text - t->n);
    if (len)
        memcpy(t->text + t->n, s, len);
    t->n += len;
    t->text[t->n] = '\0';
}

static void record(transcript *t, const azr_ws_ev *ev)
{
    char b[64];
    /* a data frame's payload never exceeds what its header announced */
    assert_true(ev->data_len <= ev->payload_len);
    if (ev->frame_start) {
        snprintf(b, sizeof b, "[%x%s%s %llu:", ev->opcode, ev->fin ? "" : "+",
                 ev->opcode == 0 ? (ev->msg_opcode == 1 ? "t" : "b") : "",
                 (unsigned long long)ev->payload_len);
        put(t, b, strlen(b));
    }
    if (ev->opcode == AZR_WS_CLOSE) {
        snprintf(b, sizeof b, "code=%u reason=", ev->close_code);
        put(t, b, strlen(b));
        put(t, (const char *)ev->close_reason, ev->close_reason_len);
    } else {
        put(t, (const char *)ev->data, ev->data_len);
    }
    if (ev->frame_end)
        put(t, "]", 1);
}

/* Feed in pieces at the given cut points (ascending, within len). */
static void feed_cuts(const uint8_t *in, size_t len, const size_t *cuts, size_t ncuts,
                      uint64_t max_frame, bool strict, transcript *t)
{
    azr_ws_dec d;
    azr_ws_dec_init(&d, max_frame, strict);
    t->n = 0;
    t->text[0] = '\0';
    t->end = AZR_AGAIN;
    size_t start = 0;
    for (size_t c = 0; c <= ncuts; c++) {
        size_t stop = c < ncuts ? cuts[c] : len;
        tu_guard g;
        const uint8_t *p = tu_guard_new(&g, in + start, stop - start);
        size_t off = 0;
        for (;;) {
            azr_ws_ev ev;
            size_t used = 99;
            azr_err e = azr_ws_dec_feed(&d, p + off, stop - start - off, &used, &ev);
            assert_true(used <= stop - start - off);
            off += used;
            if (e == AZR_OK) {
                record(t, &ev);
                continue;
            }
            if (e == AZR_AGAIN) {
                assert_int_equal(off, stop - start);
                break;
            }
            t->end = e;
            t->close_code = d.close_code;
            assert_non_null(d.why);
            tu_guard_free(&g);
            return;
        }
        tu_guard_free(&g);
        start = stop;
    }
}

/* Whole, byte by byte (small inputs), and split at every offset: same transcript. */
static void expect(const uint8_t *in, size_t len, uint64_t max_frame, bool strict, const char *want,
                   azr_err want_end, uint16_t want_code)
{
    static transcript a, b;
    feed_cuts(in, len, NULL, 0, max_frame, strict, &a);
    if (strcmp(a.text, want) != 0)
        fail_msg("transcript\n  got  '%s'\n  want '%s'", a.text, want);
    assert_int_equal(a.end, want_end);
    if (want_end != AZR_AGAIN)
        assert_int_equal(a.close_code, want_code);
    for (size_t cut = 1; cut < len; cut++) {
        /* large inputs: every offset near the header and the end, a sample between */
        if (len > 4096 && cut > 64 && cut < len - 64 && cut % 997 != 0)
            continue;
        feed_cuts(in, len, &cut, 1, max_frame, strict, &b);
        assert_string_equal(b.text, a.text);
        assert_int_equal(b.end, a.end);
    }
    if (len <= 4096) {
        static size_t cuts[4096];
        for (size_t i = 0; i + 1 < len; i++)
            cuts[i] = i + 1;
        feed_cuts(in, len, cuts, len ? len - 1 : 0, max_frame, strict, &b);
        assert_string_equal(b.text, a.text);
        assert_int_equal(b.end, a.end);
    }
}

static size_t hex(const char *h, uint8_t *out, size_t cap)
{
    return tu_hex(h, out, cap);
}

/* ---------------------------------------------------------------- decoder */

static void test_ws_rfc6455_unmasked_text(void **s)
{
    (void)s;
    uint8_t f[16];
    size_t n = hex("810548656c6c6f", f, sizeof f); /* §5.7 single-frame unmasked "Hello" */
    expect(f, n, 0, true, "[1 5:Hello]", AZR_AGAIN, 0);
}

static void test_ws_rfc6455_fragmented_text(void **s)
{
    (void)s;
    uint8_t f[16];
    size_t n = hex("010348656c"
                   "80026c6f",
                   f, sizeof f); /* §5.7 "Hel" + "lo" */
    expect(f, n, 0, true, "[1+ 3:Hel][0t 2:lo]", AZR_AGAIN, 0);
}

static void test_ws_rfc6455_ping_between_fragments(void **s)
{
    (void)s;
    uint8_t f[32];
    /* §5.4: control frames may be injected in the middle of a fragmented message */
    size_t n = hex("010348656c"
                   "890548656c6c6f"
                   "80026c6f",
                   f, sizeof f);
    expect(f, n, 0, true, "[1+ 3:Hel][9 5:Hello][0t 2:lo]", AZR_AGAIN, 0);
}

static void test_ws_rfc6455_256_and_64k_binary(void **s)
{
    (void)s;
    static uint8_t f[4 + 256], g[10 + 65536];
    static char want[70000];
    hex("827e0100", f, 4); /* §5.7: 256 bytes binary in a single unmasked frame */
    memset(f + 4, 'x', 256);
    snprintf(want, sizeof want, "[2 256:%.*s]", 256, (const char *)f + 4);
    expect(f, sizeof f, 0, false, want, AZR_AGAIN, 0);
    hex("827f0000000000010000", g, 10); /* §5.7: 64 KiB */
    memset(g + 10, 'y', 65536);
    int k = snprintf(want, sizeof want, "[2 65536:");
    memset(want + k, 'y', 65536);
    snprintf(want + k + 65536, sizeof want - (size_t)k - 65536, "]");
    expect(g, sizeof g, 0, false, want, AZR_AGAIN, 0);
}

/* Peek, then commit what was used (the splice's zero-copy read), over the
 * RFC 6455 §5.7 frames: headers step by step, payload peeked where it lies
 * in pieces of any size, a ping between fragments fed whole, and strict
 * text peeked only up to its first invalid byte. */
static size_t peek_all(azr_ws_dec *d, const uint8_t *in, size_t len, size_t piece, uint8_t *out,
                       int *ctrl)
{
    size_t off = 0, got = 0;
    while (off < len) {
        size_t pk = azr_ws_dec_peek(d, in + off, len - off), use, used;
        azr_ws_ev ev;
        if (pk) {
            use = pk < piece ? pk : piece;
            memcpy(out + got, in + off, use); /* "sent" straight from the input */
            got += use;
        } else {
            use = azr_ws_dec_step(d, len - off);
        }
        assert_int_equal(azr_ws_dec_feed(d, in + off, use, &used, &ev) == AZR_E_PROTO, false);
        assert_int_equal(used, use); /* the commit takes exactly what was used */
        if (pk)
            assert_int_equal(ev.data_len, use);
        if (ev.frame_end && (ev.opcode & 8))
            (*ctrl)++;
        off += used;
    }
    return got;
}

static void test_ws_peek_commit(void **s)
{
    (void)s;
    static uint8_t f[4 + 256 + 10 + 65536 + 7 + 2 + 5], out[70000];
    size_t n = hex("827e0100", f, 4); /* §5.7: 256 bytes, 16-bit length */
    memset(f + n, 'x', 256);
    n += 256;
    n += hex("827f0000000000010000", f + n, 10); /* §5.7: 64 KiB, 64-bit length */
    memset(f + n, 'y', 65536);
    n += 65536;
    n += hex("010348656c", f + n, 5); /* §5.7: "Hel", not FIN */
    n += hex("8900", f + n, 2);       /* an empty ping between the fragments */
    n += hex("80026c6f", f + n, 4);   /* "lo", FIN */
    const size_t pieces[] = {1, 7, 1000, 70000};
    for (size_t i = 0; i < 4; i++) {
        azr_ws_dec d;
        int ctrl = 0;
        azr_ws_dec_init(&d, 0, true);
        assert_int_equal(azr_ws_dec_peek(&d, f, n), 0); /* a header first */
        assert_int_equal(azr_ws_dec_step(&d, n), 2);
        size_t got = peek_all(&d, f, n, pieces[i], out, &ctrl);
        assert_int_equal(got, 256 + 65536 + 5);
        assert_true(out[0] == 'x' && out[255] == 'x' && out[256] == 'y' && out[256 + 65535] == 'y');
        assert_memory_equal(out + 256 + 65536, "Hello", 5);
        assert_int_equal(ctrl, 1);
    }
    /* strict text: the peek stops before an invalid byte; feeding it fails */
    uint8_t t[8];
    size_t tn = hex("8104616263ff", t, sizeof t);
    azr_ws_dec d;
    size_t used;
    azr_ws_ev ev;
    azr_ws_dec_init(&d, 0, true);
    assert_int_equal(azr_ws_dec_feed(&d, t, azr_ws_dec_step(&d, tn), &used, &ev), AZR_AGAIN);
    assert_int_equal(azr_ws_dec_peek(&d, t + 2, tn - 2), 3);
    assert_int_equal(azr_ws_dec_feed(&d, t + 2, 3, &used, &ev), AZR_OK);
    assert_int_equal(azr_ws_dec_peek(&d, t + 5, 1), 0);
    assert_int_equal(azr_ws_dec_feed(&d, t + 5, azr_ws_dec_step(&d, 1), &used, &ev), AZR_E_PROTO);
    assert_int_equal(d.close_code, 1007);
    /* a server (masked frames) never peeks: its payload must be unmasked */
    azr_ws_dec_init(&d, 0, false);
    azr_ws_dec_server(&d);
    tn = hex("828501020304", t, sizeof t); /* a whole header: the payload is next */
    assert_int_equal(azr_ws_dec_feed(&d, t, tn, &used, &ev), AZR_AGAIN);
    assert_int_equal(used, tn);
    assert_int_equal(azr_ws_dec_peek(&d, t, 1), 0);
    assert_int_equal(azr_ws_dec_step(&d, 8), 5);
}

static void test_ws_node_ws_server_frames(void **s)
{
    (void)s;
    uint8_t f[64];
    size_t n = hex("810a68c3a96c6c6f20e282ac", f, sizeof f); /* text "héllo €" */
    expect(f, n, 0, true, "[1 10:h\xc3\xa9llo \xe2\x82\xac]", AZR_AGAIN, 0);
    n = hex("880c03e9676f696e672061776179", f, sizeof f); /* close 1001 "going away" */
    expect(f, n, 0, true, "[8 12:code=1001 reason=going away]", AZR_AGAIN, 0);
    n = hex("8900", f, sizeof f); /* empty ping */
    expect(f, n, 0, true, "[9 0:]", AZR_AGAIN, 0);
    n = hex("02026162"
            "80026364",
            f, sizeof f); /* binary "ab" + continuation "cd" */
    expect(f, n, 0, true, "[2+ 2:ab][0b 2:cd]", AZR_AGAIN, 0);
}

static void test_ws_zero_length_frames(void **s)
{
    (void)s;
    uint8_t f[16];
    size_t n = hex("8200"
                   "0100"
                   "8000"
                   "8800",
                   f, sizeof f);
    expect(f, n, 0, true, "[2 0:][1+ 0:][0t 0:][8 0:code=1005 reason=]", AZR_AGAIN, 0);
}

static void test_ws_rejects_protocol_errors(void **s)
{
    (void)s;
    static const struct {
        const char *hex, *what;
        uint16_t code;
    } bad[] = {
        {"818537fa213d7f9f4d5158", "masked server frame (§5.7 masked Hello)", 1002},
        {"c10548656c6c6f", "RSV1", 1002},
        {"a100", "RSV2", 1002},
        {"9100", "RSV3", 1002},
        {"8300", "opcode 3", 1002},
        {"8700", "opcode 7", 1002},
        {"8b00", "opcode 0xB", 1002},
        {"8f00", "opcode 0xF", 1002},
        {"0900", "fragmented ping", 1002},
        {"887e007e", "close of 126 bytes", 1002},
        {"897e0080", "ping of 128 bytes", 1002},
        {"8000", "continuation without a start", 1002},
        {"010161820160", "new data frame inside a fragmented message", 1002},
        {"827e007d", "non-minimal 16-bit length", 1002},
        {"827f000000000000ffff", "non-minimal 64-bit length", 1002},
        {"827f8000000000000000", "top bit of 64-bit length", 1002},
        {"880100", "close with 1-byte body", 1002},
        {"880203ed", "close code 1005", 1002},
        {"880203ee", "close code 1006", 1002},
        {"880203ec", "close code 1004", 1002},
        {"880203f7", "close code 1015", 1002},
        {"880203e7", "close code 999", 1002},
        {"88020bb7", "close code 2999", 1002},
        {"88021388", "close code 5000", 1002},
        {"880403e8c328", "close reason not UTF-8", 1007},
        {"8800"
         "8100",
         "frame after close", 1002},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t f[32];
        size_t n = hex(bad[i].hex, f, sizeof f);
        static transcript t;
        feed_cuts(f, n, NULL, 0, 0, true, &t);
        if (t.end == AZR_AGAIN || t.close_code != bad[i].code)
            fail_msg("%s: end %d code %u, want code %u", bad[i].what, t.end, t.close_code,
                     bad[i].code);
        /* the same verdict byte by byte */
        size_t cuts[32];
        for (size_t k = 0; k + 1 < n; k++)
            cuts[k] = k + 1;
        static transcript u;
        feed_cuts(f, n, cuts, n - 1, 0, true, &u);
        assert_int_equal(u.end, t.end);
        assert_int_equal(u.close_code, t.close_code);
    }
}

static void test_ws_error_is_sticky(void **s)
{
    (void)s;
    azr_ws_dec d;
    azr_ws_ev ev;
    size_t used;
    uint8_t bad[2] = {0x83, 0x00}, good[2] = {0x82, 0x00};
    azr_ws_dec_init(&d, 0, false);
    assert_int_equal(azr_ws_dec_feed(&d, bad, 2, &used, &ev), AZR_E_PROTO);
    assert_int_equal(azr_ws_dec_feed(&d, good, 2, &used, &ev), AZR_E_PROTO);
    assert_int_equal(used, 0);
    assert_int_equal(d.close_code, 1002);
}

static void test_ws_max_frame(void **s)
{
    (void)s;
    uint8_t f[8];
    size_t n = hex("827e0100", f, sizeof f); /* 256 bytes announced, limit 255 */
    expect(f, n, 255, false, "", AZR_E_LIMIT, 1009);
    /* a 4 GiB frame is announced and streamed without a 4 GiB buffer */
    static uint8_t big[10 + 100000];
    hex("827f0000000100000000", big, 10);
    memset(big + 10, 'z', sizeof big - 10);
    azr_ws_dec d;
    azr_ws_ev ev;
    size_t used, got = 0;
    azr_ws_dec_init(&d, 0, false);
    assert_int_equal(azr_ws_dec_feed(&d, big, sizeof big, &used, &ev), AZR_OK);
    assert_int_equal(used, sizeof big);
    assert_true(ev.payload_len == 4294967296ull);
    got += ev.data_len;
    assert_int_equal(got, 100000);
    assert_false(ev.frame_end);
}

static void test_ws_text_utf8_strict_and_lenient(void **s)
{
    (void)s;
    uint8_t f[16];
    /* "a\xff" is not UTF-8: strict closes with 1007, lenient passes the bytes on */
    size_t n = hex("810261ff", f, sizeof f);
    static transcript t;
    feed_cuts(f, n, NULL, 0, 0, true, &t);
    assert_int_equal(t.end, AZR_E_PROTO);
    assert_int_equal(t.close_code, 1007);
    expect(f, n, 0, false, "[1 2:a\xff]", AZR_AGAIN, 0);
    /* a character split across two fragments is fine; a message ending inside one is not */
    n = hex("0101c3"
            "8001a9",
            f, sizeof f);
    expect(f, n, 0, true, "[1+ 1:\xc3][0t 1:\xa9]", AZR_AGAIN, 0);
    n = hex("8101c3", f, sizeof f);
    feed_cuts(f, n, NULL, 0, 0, true, &t);
    assert_int_equal(t.close_code, 1007);
    /* overlong, surrogate, above U+10FFFF */
    static const char *bad[] = {"8102c0af", "8103eda080", "8104f4908080", "8102e080"};
    for (size_t i = 0; i < 4; i++) {
        n = hex(bad[i], f, sizeof f);
        feed_cuts(f, n, NULL, 0, 0, true, &t);
        assert_int_equal(t.close_code, 1007);
    }
}

/* ---------------------------------------------------------------- encoder */

static void frame_hex(uint8_t op, bool fin, const uint8_t *payload, size_t len, char *out)
{
    static uint8_t buf[70000];
    const uint8_t mask[4] = {1, 2, 3, 4};
    size_t h = azr_ws_hdr_write(buf, op, fin, len, mask);
    memcpy(buf + h, payload, len);
    azr_ws_mask(buf + h, len, mask, 0);
    tu_tohex(buf, h + len, out);
}

static void test_ws_encoder_matches_node_ws(void **s)
{
    (void)s;
    static char out[140010];
    static uint8_t a[65536];
    frame_hex(AZR_WS_BINARY, true, (const uint8_t *)"hello", 5, out);
    assert_string_equal(out, "82850102030469676f686e");
    memset(a, 0x61, sizeof a);
    frame_hex(AZR_WS_BINARY, true, a, 126, out);
    assert_memory_equal(out, "82fe007e0102030460636265", 24);
    frame_hex(AZR_WS_BINARY, true, a, 65536, out);
    assert_memory_equal(out, "82ff000000000001000001020304606362656063", 40);
    assert_int_equal(strlen(out), 2 * (14 + 65536));
}

/* The word-wide masking equals RFC 6455 §5.3's definition (byte i XOR
 * mask[(offset + i) mod 4]) for every alignment, offset and length around
 * the word boundaries. */
static void test_ws_mask_word_wide_equals_the_definition(void **s)
{
    (void)s;
    static uint8_t buf[160], want[160];
    const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    for (size_t align = 0; align < 8; align++)
        for (uint64_t off = 0; off < 8; off++)
            for (size_t len = 0; len <= 40; len++) {
                for (size_t i = 0; i < sizeof buf; i++)
                    buf[i] = want[i] = (uint8_t)(i * 31 + 7);
                for (size_t i = 0; i < len; i++)
                    want[align + i] ^= mask[(off + i) % 4];
                azr_ws_mask(buf + align, len, mask, off);
                assert_memory_equal(buf, want, sizeof buf);
            }
}

/* The masked copy against RFC 6455 §5.3's definition (byte i ^ mask[i % 4]),
 * in place and moved down by 2, 6 and 8 bytes over its own source (a payload
 * read behind a reserved header moving onto a shorter one), at every
 * alignment and across the 32- and 8-byte steps. */
static void test_ws_mask_copy_equals_the_definition(void **s)
{
    (void)s;
    static uint8_t buf[1200], want[1200];
    const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    const size_t shifts[] = {0, 2, 6, 8};
    const size_t lens[] = {0, 1, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 100, 125, 1000};
    for (size_t k = 0; k < 4; k++)
        for (size_t align = 0; align < 16; align++)
            for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
                size_t d = shifts[k], len = lens[l], at = 16 + align;
                for (size_t i = 0; i < sizeof buf; i++)
                    buf[i] = want[i] = (uint8_t)(i * 31 + 7);
                for (size_t i = 0; i < len; i++)
                    want[at - d + i] = (uint8_t)(buf[at + i] ^ mask[i % 4]);
                azr_ws_mask_copy(buf + at - d, buf + at, len, mask);
                assert_memory_equal(buf, want, sizeof buf); /* nothing written past it */
            }
}

static void test_ws_rfc6455_masked_hello(void **s)
{
    (void)s;
    /* §5.7: masked "Hello" with key 37 fa 21 3d */
    uint8_t buf[32];
    const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t h = azr_ws_hdr_write(buf, AZR_WS_TEXT, true, 5, mask);
    memcpy(buf + h, "Hello", 5);
    azr_ws_mask(buf + h, 5, mask, 0);
    char out[64];
    tu_tohex(buf, h + 5, out);
    assert_string_equal(out, "818537fa213d7f9f4d5158");
    /* masking in pieces gives the same bytes */
    memcpy(buf + h, "Hello", 5);
    azr_ws_mask(buf + h, 2, mask, 0);
    azr_ws_mask(buf + h + 2, 3, mask, 2);
    tu_tohex(buf, h + 5, out);
    assert_string_equal(out, "818537fa213d7f9f4d5158");
    /* §5.7 masked Pong "Hello" */
    size_t n;
    assert_int_equal(
        azr_ws_ctrl_write(buf, sizeof buf, AZR_WS_PONG, (const uint8_t *)"Hello", 5, mask, &n),
        AZR_OK);
    tu_tohex(buf, n, out);
    assert_string_equal(out, "8a8537fa213d7f9f4d5158");
}

static void test_ws_control_frames_match_node_ws(void **s)
{
    (void)s;
    const uint8_t mask[4] = {1, 2, 3, 4};
    uint8_t buf[160], pl[AZR_WS_MAX_CTRL];
    char out[400];
    size_t n;
    size_t pn = azr_ws_close_payload(pl, 1000, "bye");
    assert_int_equal(azr_ws_ctrl_write(buf, sizeof buf, AZR_WS_CLOSE, pl, pn, mask, &n), AZR_OK);
    tu_tohex(buf, n, out);
    assert_string_equal(out, "88850102030402ea617d64");
    assert_int_equal(
        azr_ws_ctrl_write(buf, sizeof buf, AZR_WS_PONG, (const uint8_t *)"abc", 3, mask, &n),
        AZR_OK);
    tu_tohex(buf, n, out);
    assert_string_equal(out, "8a8301020304606060");
    assert_int_equal(azr_ws_ctrl_write(buf, sizeof buf, AZR_WS_PING, NULL, 0, mask, &n), AZR_OK);
    tu_tohex(buf, n, out);
    assert_string_equal(out, "898001020304");
    /* refusals */
    assert_int_equal(azr_ws_ctrl_write(buf, sizeof buf, AZR_WS_BINARY, pl, 1, mask, &n), AZR_E_ARG);
    assert_int_equal(azr_ws_ctrl_write(buf, sizeof buf, AZR_WS_PING, buf, 126, mask, &n),
                     AZR_E_ARG);
    assert_int_equal(azr_ws_ctrl_write(buf, 8, AZR_WS_PONG, pl, 3, mask, &n), AZR_E_LIMIT);
}

static void test_ws_close_payload_truncates_at_char(void **s)
{
    (void)s;
    char reason[200];
    uint8_t pl[AZR_WS_MAX_CTRL];
    /* 122 ASCII bytes then a 2-byte character that does not fit */
    memset(reason, 'r', 122);
    snprintf(reason + 122, sizeof reason - 122, "\xc3\xa9tail");
    size_t n = azr_ws_close_payload(pl, 1011, reason);
    assert_int_equal(n, 2 + 122);
    assert_int_equal(pl[0], 0x03);
    assert_int_equal(pl[1], 0xf3);
    assert_true(azr_ws_utf8_valid(pl + 2, n - 2));
}

static void test_ws_close_codes(void **s)
{
    (void)s;
    static const uint16_t ok[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009,
                                  1010, 1011, 1012, 1013, 1014, 3000, 4999};
    static const uint16_t no[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(azr_ws_close_code_valid(ok[i]));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(azr_ws_close_code_valid(no[i]));
}

/* Round trip: our encoder's frames, unmasked as a server would send them, decode back. */
static void test_ws_roundtrip_lengths(void **s)
{
    (void)s;
    static const size_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 70000};
    static uint8_t frame[14 + 70000], payload[70000];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7);
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        const uint8_t mask[4] = {9, 8, 7, 6};
        size_t h = azr_ws_hdr_write(frame, AZR_WS_BINARY, true, lens[k], mask);
        frame[1] &= 0x7f; /* a server frame: drop MASK bit and key */
        memcpy(frame + h - 4, payload, lens[k]);
        azr_ws_dec d;
        azr_ws_ev ev;
        size_t used, got = 0, off = 0;
        azr_ws_dec_init(&d, 0, false);
        for (;;) {
            azr_err e = azr_ws_dec_feed(&d, frame + off, h - 4 + lens[k] - off, &used, &ev);
            off += used;
            if (e == AZR_AGAIN)
                break;
            assert_int_equal(e, AZR_OK);
            assert_memory_equal(ev.data, payload + got, ev.data_len);
            got += ev.data_len;
            if (ev.frame_end)
                break;
        }
        assert_int_equal(got, lens[k]);
    }
}

/* Server mode (the emulator's side): client frames are masked; data comes
 * with its mask, control payloads unmasked. */
static void server_decode(const uint8_t *in, size_t len, char *out, size_t cap, uint16_t *close)
{
    azr_ws_dec d;
    azr_ws_dec_init(&d, 0, true);
    azr_ws_dec_server(&d);
    size_t o = 0, off = 0;
    *close = 0;
    for (;;) {
        azr_ws_ev ev;
        size_t used;
        azr_err e = azr_ws_dec_feed(&d, in + off, len - off, &used, &ev);
        off += used;
        if (e == AZR_AGAIN)
            break;
        if (e != AZR_OK) {
            *close = d.close_code;
            break;
        }
        if (ev.opcode < 8) {
            assert_true(ev.data_len < cap - o);
            memcpy(out + o, ev.data, ev.data_len);
            azr_ws_mask((uint8_t *)out + o, ev.data_len, ev.mask, ev.mask_offset);
            o += ev.data_len;
        } else if (ev.opcode == AZR_WS_CLOSE) {
            *close = ev.close_code;
        } else {
            memcpy(out + o, ev.data, ev.data_len);
            o += ev.data_len;
        }
    }
    out[o] = '\0';
}

static void test_ws_server_mode(void **s)
{
    (void)s;
    uint8_t f[64];
    char out[64];
    uint16_t close;
    /* RFC 6455 §5.7: masked "Hello" */
    size_t n = tu_hex("818537fa213d7f9f4d5158", f, sizeof f);
    server_decode(f, n, out, sizeof out, &close);
    assert_string_equal(out, "Hello");
    /* node ws 8 client frames: binary "hello", then close 1000 "bye" (both masked 01020304) */
    n = tu_hex("82850102030469676f686e"
               "88850102030402ea617d64",
               f, sizeof f);
    server_decode(f, n, out, sizeof out, &close);
    assert_string_equal(out, "hello");
    assert_int_equal(close, 1000);
    /* split frames keep the mask phase: our encoder's frame in two pieces */
    uint8_t frame[32];
    const uint8_t mask[4] = {0xa1, 0xb2, 0xc3, 0xd4};
    size_t h = azr_ws_hdr_write(frame, AZR_WS_TEXT, true, 7, mask);
    memcpy(frame + h, "abcdefg", 7);
    azr_ws_mask(frame + h, 7, mask, 0);
    azr_ws_dec d;
    azr_ws_dec_init(&d, 0, true);
    azr_ws_dec_server(&d);
    char got[16];
    size_t o = 0, used;
    azr_ws_ev ev;
    assert_int_equal(azr_ws_dec_feed(&d, frame, h + 3, &used, &ev), AZR_OK);
    memcpy(got, ev.data, ev.data_len);
    azr_ws_mask((uint8_t *)got, ev.data_len, ev.mask, ev.mask_offset);
    o = ev.data_len;
    assert_int_equal(azr_ws_dec_feed(&d, frame + h + 3, 4, &used, &ev), AZR_OK);
    assert_int_equal(ev.mask_offset, 3);
    memcpy(got + o, ev.data, ev.data_len);
    azr_ws_mask((uint8_t *)got + o, ev.data_len, ev.mask, ev.mask_offset);
    assert_memory_equal(got, "abcdefg", 7);
    /* an unmasked client frame is refused with 1002 */
    n = tu_hex("810548656c6c6f", f, sizeof f);
    server_decode(f, n, out, sizeof out, &close);
    assert_int_equal(close, 1002);
}

/* Unmasked (server) headers are the RFC 6455 §5.7 forms the decoder reads. */
static void test_ws_unmasked_header(void **s)
{
    (void)s;
    uint8_t h[AZR_WS_MAX_HDR];
    char hex[32];
    tu_tohex(h, azr_ws_hdr_write(h, AZR_WS_TEXT, true, 5, NULL), hex);
    assert_string_equal(hex, "8105");
    tu_tohex(h, azr_ws_hdr_write(h, AZR_WS_BINARY, true, 256, NULL), hex);
    assert_string_equal(hex, "827e0100");
    tu_tohex(h, azr_ws_hdr_write(h, AZR_WS_BINARY, true, 65536, NULL), hex);
    assert_string_equal(hex, "827f0000000000010000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ws_rfc6455_unmasked_text),
        cmocka_unit_test(test_ws_rfc6455_fragmented_text),
        cmocka_unit_test(test_ws_rfc6455_ping_between_fragments),
        cmocka_unit_test(test_ws_rfc6455_256_and_64k_binary),
        cmocka_unit_test(test_ws_peek_commit),
        cmocka_unit_test(test_ws_node_ws_server_frames),
        cmocka_unit_test(test_ws_zero_length_frames),
        cmocka_unit_test(test_ws_rejects_protocol_errors),
        cmocka_unit_test(test_ws_error_is_sticky),
        cmocka_unit_test(test_ws_max_frame),
        cmocka_unit_test(test_ws_text_utf8_strict_and_lenient),
        cmocka_unit_test(test_ws_encoder_matches_node_ws),
        cmocka_unit_test(test_ws_mask_copy_equals_the_definition),
        cmocka_unit_test(test_ws_rfc6455_masked_hello),
        cmocka_unit_test(test_ws_mask_word_wide_equals_the_definition),
        cmocka_unit_test(test_ws_control_frames_match_node_ws),
        cmocka_unit_test(test_ws_close_payload_truncates_at_char),
        cmocka_unit_test(test_ws_close_codes),
        cmocka_unit_test(test_ws_roundtrip_lengths),
        cmocka_unit_test(test_ws_server_mode),
        cmocka_unit_test(test_ws_unmasked_header),
    };
    return cmocka_run_group_tests_name("ws", tests, NULL, NULL);
}
