/*
 * The open connection's pump (splice.c) over fake transports (simnet.h):
 * a plain client's bytes go from its socket into the relay output behind a
 * reserved header and come back from the relay input straight to its
 * socket. Partial reads and writes, back-pressure both ways, every header
 * size (7-, 16- and 64-bit lengths), and no small frames while output waits.
 * Every byte is checked against what was sent, decoded independently of the
 * proxy's encoder by the relay-side decoder and by hand where it matters.
 */
#include "testutil.h"
#include "simnet.h"
#include "stats.h"

static void fill(uint8_t *b, size_t n, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (uint8_t)(x >> 16);
    }
}

/* ------------------------------------------------------------------ cases */

/* The frame for a room: the longest payload whose minimal header fits. */
static void test_splice_frame_fit_every_header_size(void **st)
{
    (void)st;
    size_t h;
    assert_int_equal(azr_splice_frame_fit(6, 100, &h), 0); /* not even one byte */
    assert_int_equal(h, 0);
    assert_int_equal(azr_splice_frame_fit(7, 100, &h), 1);
    assert_int_equal(h, 6);
    assert_int_equal(azr_splice_frame_fit(131, 1000, &h), 125); /* 7-bit length */
    assert_int_equal(h, 6);
    assert_int_equal(azr_splice_frame_fit(133, 1000, &h), 125); /* 126 needs 8 + 126 */
    assert_int_equal(h, 6);
    assert_int_equal(azr_splice_frame_fit(134, 1000, &h), 126); /* 16-bit length */
    assert_int_equal(h, 8);
    assert_int_equal(azr_splice_frame_fit(4096, 100, &h), 100); /* the limit */
    assert_int_equal(h, 6);
    assert_int_equal(azr_splice_frame_fit(65543, 1 << 20, &h), 65535);
    assert_int_equal(h, 8);
    assert_int_equal(azr_splice_frame_fit(65549, 1 << 20, &h), 65535); /* 65536 needs 14 */
    assert_int_equal(h, 8);
    assert_int_equal(azr_splice_frame_fit(65550, 1 << 20, &h), 65536); /* 64-bit length */
    assert_int_equal(h, 14);
    assert_int_equal(azr_splice_frame_fit(200000, 1 << 20, &h), 200000 - 14);
    assert_int_equal(h, 14);
}

/* SSLOutBufferSize: BearSSL picks its record size among 512, 1024, 2048,
 * 4096 and 16384 (RFC 6066 maximum fragment lengths and the full record)
 * for the buffer it is given, so the buffer holds exactly such a record and
 * the 85 bytes of overhead, never room it would not use. */
static void test_splice_tls_output_buffer_is_a_record_size(void **st)
{
    (void)st;
    azr_proxy_state p;
    memset(&p, 0, sizeof p);
    const long set[] = {512, 600, 1024, 2047, 2048, 4096, 8192, 12288, 16383, 16384};
    const size_t rec[] = {512, 512, 1024, 1024, 2048, 4096, 4096, 4096, 4096, 16384};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
        p.set.ssl_out_buffer_size = set[i];
        assert_int_equal(azr_tls_out_size(&p), rec[i] + 85);
    }
}

/* Client writes of 1, 125, 126, 1000 and 16000 bytes, each read straight
 * into the relay output: each frame carries its bytes with the minimal
 * header (a payload read behind the 8-byte reservation moves down onto a
 * 6-byte header). */
static void test_splice_upload_header_sizes_and_content(void **st)
{
    (void)st;
    sim_world *t = sim_world_up(NULL, 1 << 18);
    static uint8_t sent[20000], got[20000];
    frames f = {.got = got, .cap = sizeof got};
    const size_t sizes[] = {1, 125, 126, 1000, 16000, 3};
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        fill(sent + total, sizes[i], (unsigned)i);
        sim_put(&t->client->in, sent + total, sizes[i]);
        total += sizes[i];
        sim_turns(&t->w, 3);
        assert_true(take_frames(t->relay, &f));
        assert_int_equal(f.n, i + 1); /* one write, one frame */
        assert_int_equal(f.sizes[i], sizes[i]);
    }
    assert_int_equal(f.len, total);
    assert_memory_equal(got, sent, total);
    sim_world_down(t);
}

/* A relay that takes a few KiB at a time: the client's bytes wait in the
 * client's socket (never read ahead of the room and the scratch), arrive
 * whole and in order, and no frame is small but the last one. */
static void test_splice_upload_backpressure_and_no_small_frames(void **st)
{
    (void)st;
    sim_world *t = sim_world_up(NULL, 1 << 18);
    enum { N = 200000 };
    static uint8_t sent[N], got[N];
    frames f = {.got = got, .cap = sizeof got};
    fill(sent, N, 7);
    sim_put(&t->client->in, sent, N);
    size_t base = t->relay->out.len;
    for (int i = 0; i < 2000 && f.len < N; i++) {
        t->relay->out.cap = base + 3000; /* the relay's socket takes 3000 bytes a turn */
        sim_turns(&t->w, 1);
        /* back-pressure: what left the client's socket and is not on the
         * relay's wire is bounded by the proxy's relay output buffer and
         * the bulk path's scratch (burst.c: per proxy, pinned while its
         * frames wait for the socket) */
        size_t held = N - t->client->in.len - f.len;
        assert_true(held <= (1 + AZR_BURST_UNITS) * (16384 + 14) + t->relay->out.len);
        assert_true(take_frames(t->relay, &f));
        base = t->relay->out.len;
    }
    assert_int_equal(f.len, N);
    assert_memory_equal(got, sent, N);
    for (size_t i = 0; i + 1 < f.n; i++)
        assert_true(f.sizes[i] >= AZR_SPLICE_GOOD_FRAME);
    print_message("%zu frames for %d bytes through a relay taking 3000 bytes a turn\n", f.n, N);
    sim_world_down(t);
}

/* The relay sends frames with 7-, 16- and 64-bit lengths to a client whose
 * socket takes 1000 bytes at a time: every byte arrives in order, the
 * payload goes out where it lies (partial writes commit what was sent), and
 * the relay is not read beyond the proxy's input buffer meanwhile. */
static void test_splice_download_partial_writes_every_header_size(void **st)
{
    (void)st;
    sim_world *t = sim_world_up(NULL, 1000);
    const size_t sizes[] = {100, 125, 126, 1000, 65535, 65536, 100000, 1};
    static uint8_t sent[300000], got[300000];
    size_t total = 0, have = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        fill(sent + total, sizes[i], 100 + (unsigned)i);
        sim_frame(t->relay, 0x82, sent + total, sizes[i]);
        total += sizes[i];
    }
    size_t queued = t->relay->in.len;
    sim_turns(&t->w, 3);
    assert_int_equal(t->client->out.len, 1000);
    /* back-pressure: the proxy took at most its input buffer off the relay */
    assert_true(queued - t->relay->in.len <= AZR_CONN_IO_BUF);
    for (int i = 0; i < 5000 && have < total; i++) {
        memcpy(got + have, t->client->out.buf, t->client->out.len);
        have += t->client->out.len;
        sim_take(&t->client->out, t->client->out.len);
        sim_turns(&t->w, 1);
    }
    assert_int_equal(have, total);
    assert_memory_equal(got, sent, total);
    assert_int_equal(t->w.disconnected[t->id], 0);
    azr_proxy_stats s;
    azr_stats_get(&t->w.p, &s);
    assert_int_equal(s.bytes_to_client, total);
    assert_int_equal(s.frames_to_client, sizeof sizes / sizeof sizes[0]);
    sim_world_down(t);
}

/* Control frames between and inside the data stream still come out right
 * when the payload around them is sent in place: a ping in the middle of a
 * fragmented message is answered, and the client gets the data only. */
static void test_splice_download_control_between_fragments(void **st)
{
    (void)st;
    sim_world *t = sim_world_up(NULL, 700);
    static uint8_t a[3000], b[2000];
    fill(a, sizeof a, 1);
    fill(b, sizeof b, 2);
    sim_frame(t->relay, 0x02, a, sizeof a); /* binary, not FIN */
    sim_frame(t->relay, 0x89, "p1", 2);     /* ping */
    sim_frame(t->relay, 0x80, b, sizeof b); /* continuation, FIN */
    static uint8_t got[5000];
    size_t have = 0;
    for (int i = 0; i < 100 && have < sizeof got; i++) {
        sim_turns(&t->w, 1);
        memcpy(got + have, t->client->out.buf, t->client->out.len);
        have += t->client->out.len;
        sim_take(&t->client->out, t->client->out.len);
    }
    assert_int_equal(have, sizeof got);
    assert_memory_equal(got, a, sizeof a);
    assert_memory_equal(got + sizeof a, b, sizeof b);
    azr_ws_dec d;
    sim_seen seen = {0};
    azr_ws_dec_init(&d, 0, false);
    azr_ws_dec_server(&d);
    sim_relay_reads(t->relay, &d, &seen, NULL, 0);
    assert_int_equal(seen.pongs, 1);
    assert_string_equal(seen.last_pong, "p1");
    sim_world_down(t);
}

/* A client that dribbles: one byte a turn is framed as it comes (the input
 * is idle after each), nothing is held back waiting for a fuller frame. */
static void test_splice_dribbling_client_is_not_held_back(void **st)
{
    (void)st;
    sim_world *t = sim_world_up(NULL, 1 << 18);
    static uint8_t got[64];
    frames f = {.got = got, .cap = sizeof got};
    for (int i = 0; i < 10; i++) {
        uint8_t c = (uint8_t)('a' + i);
        sim_put(&t->client->in, &c, 1);
        sim_wait(&t->w, 10, 5);
        assert_true(take_frames(t->relay, &f));
        assert_int_equal(f.len, (size_t)i + 1);
    }
    assert_memory_equal(got, "abcdefghij", 10);
    sim_world_down(t);
}

/* Before the relay is open a plain client is not read: its bytes wait in
 * its socket and all arrive once the upgrade is done, its FIN after them. */
static void test_splice_bytes_before_open_wait_in_the_socket(void **st)
{
    (void)st;
    sim *w = calloc(1, sizeof *w); /* 8 MiB of pipes: not on the stack */
    int cfd;
    assert_non_null(w);
    assert_true(sim_init(w, NULL));
    w->quiet = getenv("AZR_TEST_VERBOSE") == NULL;
    int id = sim_accept(w, &cfd, 1 << 18);
    assert_true(id > 0);
    sim_sock *client = sim_sock_of(w, cfd);
    static uint8_t sent[50000], got[50000];
    fill(sent, sizeof sent, 9);
    sim_put(&client->in, sent, sizeof sent);
    client->in_eof = true;
    sim_turns(w, 5);
    assert_int_equal(client->in.len, sizeof sent); /* nothing read yet */
    assert_int_equal(w->disconnected[id], 0);      /* bytes then FIN: not "left" */
    sim_sock *relay = sim_relay(w);
    assert_non_null(relay);
    assert_true(sim_upgrade(relay));
    frames f = {.got = got, .cap = sizeof got};
    azr_ws_dec d;
    sim_seen seen = {0};
    azr_ws_dec_init(&d, 0, false);
    azr_ws_dec_server(&d);
    for (int i = 0; i < 50 && f.len < sizeof sent; i++) {
        sim_turns(w, 1);
        assert_true(take_frames(relay, &f) || relay->out.len > 0);
        if (relay->out.len && relay->out.buf[0] == 0x88)
            break;
    }
    assert_int_equal(f.len, sizeof sent);
    assert_memory_equal(got, sent, sizeof sent);
    sim_turns(w, 3);
    sim_relay_reads(relay, &d, &seen, NULL, 0);
    assert_int_equal(seen.closes, 1);
    assert_int_equal(seen.close_code, 1000);
    sim_free(w);
    free(w);
}

/* A client that leaves during the dial (FIN, no bytes) ends it at once. */
static void test_splice_client_leaving_during_dial_is_seen(void **st)
{
    (void)st;
    sim *w = calloc(1, sizeof *w); /* 8 MiB of pipes: not on the stack */
    int cfd;
    assert_non_null(w);
    assert_true(sim_init(w, NULL));
    w->quiet = getenv("AZR_TEST_VERBOSE") == NULL;
    int id = sim_accept(w, &cfd, 1 << 18);
    assert_true(id > 0);
    sim_turns(w, 3);
    sim_sock_of(w, cfd)->in_eof = true;
    sim_turns(w, 3);
    assert_int_equal(w->disconnected[id], 1);
    assert_non_null(strstr(w->reason[id], "client left"));
    sim_free(w);
    free(w);
}

/* ------------------------------------- the loop never spins without progress */

static int g_writes_relay, g_writes_client, g_reads_client;
static int g_relay_fd = -1, g_client_fd = -1;

static azr_err count_write(void *ud, int fd, const uint8_t *b, size_t len, size_t *n)
{
    if (fd == g_relay_fd)
        g_writes_relay++;
    if (fd == g_client_fd)
        g_writes_client++;
    return sim_write(ud, fd, b, len, n);
}

static azr_err count_read(void *ud, int fd, uint8_t *b, size_t cap, size_t *n)
{
    if (fd == g_client_fd)
        g_reads_client++;
    return sim_read(ud, fd, b, cap, n);
}

static azr_err count_writev(void *ud, int fd, const azr_iov *iov, size_t niov, size_t *n)
{
    if (fd == g_relay_fd)
        g_writes_relay++;
    if (fd == g_client_fd)
        g_writes_client++;
    return sim_writev(ud, fd, iov, niov, n);
}

static azr_err count_readv(void *ud, int fd, const azr_iov *iov, size_t niov, size_t *n)
{
    if (fd == g_client_fd)
        g_reads_client++;
    return sim_readv(ud, fd, iov, niov, n);
}

static void counting(sim_world *t)
{
    g_relay_fd = t->w.relay_fd;
    g_client_fd = t->cfd;
    t->w.ops.write = count_write;
    t->w.ops.read = count_read;
    t->w.ops.writev = count_writev;
    t->w.ops.readv = count_readv;
    g_writes_relay = g_writes_client = g_reads_client = 0;
}

/* ------------------------------------------------- the bulk path (burst.c) */

/* Issue 13: a client that keeps the pipe full is read 128 KiB per call into
 * eight frames of 16384 (MaxFrameSize) and they go out in one write: two
 * writes for 192 KiB (eight frames, then four), where a frame per call
 * took twelve. */
static void test_splice_bulk_upload_128k_per_system_call(void **st)
{
    (void)st;
    sim_world *t = sim_world_up(NULL, 1 << 18);
    enum { N = 3 * 65536 };
    static uint8_t sent[N], got[N];
    frames f = {.got = got, .cap = sizeof got};
    fill(sent, N, 11);
    counting(t);
    sim_put(&t->client->in, sent, N);
    assert_int_equal(t->client->in.len, N);
    for (int i = 0; i < 20 && f.len < N; i++) {
        sim_turns(&t->w, 1);
        assert_true(take_frames(t->relay, &f));
    }
    assert_int_equal(f.len, N);
    assert_memory_equal(got, sent, N);
    assert_int_equal(f.n, 12);
    for (size_t i = 0; i < f.n; i++)
        assert_int_equal(f.sizes[i], 16384);
    print_message("192 KiB: %d relay writes, %d client reads\n", g_writes_relay, g_reads_client);
    assert_int_equal(g_writes_relay, 2);
    assert_true(g_reads_client <= 3); /* and one that finds the socket empty */
    assert_null(t->w.p.burst.owner);  /* all written: the scratch is free */
    sim_world_down(t);
}

/* Frames the relay's socket did not take stay in the scratch, pinned to
 * their connection, and go before anything made later: a ping arriving
 * meanwhile is answered after them, at a frame boundary, and every byte
 * arrives in order. */
static void test_splice_bulk_pinned_frames_go_first(void **st)
{
    (void)st;
    sim_world *t = sim_world_up(NULL, 1 << 18);
    enum { N = 150000 };
    static uint8_t sent[N], got[N];
    frames f = {.got = got, .cap = sizeof got};
    fill(sent, N, 12);
    sim_put(&t->client->in, sent, N);
    size_t base = t->relay->out.len;
    bool pinged = false;
    for (int i = 0; i < 2000 && f.len < N; i++) {
        t->relay->out.cap = base + 3000; /* 3000 bytes a turn */
        sim_turns(&t->w, 1);
        if (!pinged && t->w.p.burst.owner) {
            sim_frame(t->relay, 0x89, "ping", 4);
            pinged = true;
        }
        assert_true(take_frames(t->relay, &f));
        base = t->relay->out.len;
    }
    assert_true(pinged);
    assert_int_equal(f.len, N);
    assert_memory_equal(got, sent, N);
    assert_int_equal(f.pongs, 1);
    assert_true(f.pong_at >= 3000); /* behind the frames pinned when it came */
    assert_null(t->w.p.burst.owner);
    sim_world_down(t);
}

/* Two connections: the first one's relay takes nothing, so its frames pin
 * the scratch; the second one uploads meanwhile, a frame per call, and both
 * streams arrive whole once the first relay reads again. */
static void test_splice_bulk_scratch_pinned_others_go_one_frame(void **st)
{
    (void)st;
    sim_world *t = sim_world_up(NULL, 1 << 18);
    sim_sock *r1 = t->relay;
    enum { N = 100000 };
    static uint8_t a[N], b[N], got_a[N], got_b[N];
    frames fa = {.got = got_a, .cap = N}, fb = {.got = got_b, .cap = N};
    fill(a, N, 13);
    fill(b, N, 14);
    r1->out.cap = r1->out.len + 1000; /* takes 1000 bytes, then nothing */
    sim_put(&t->client->in, a, N);
    sim_turns(&t->w, 3);
    assert_non_null(t->w.p.burst.owner);
    int cfd2, id2 = sim_accept(&t->w, &cfd2, 1 << 18);
    assert_true(id2 > 0);
    sim_turns(&t->w, 3);
    sim_sock *r2 = sim_relay(&t->w), *c2 = sim_sock_of(&t->w, cfd2);
    assert_true(r2 != r1 && sim_upgrade(r2));
    sim_turns(&t->w, 3);
    assert_int_equal(t->w.connected[id2], 1);
    sim_put(&c2->in, b, N);
    for (int i = 0; i < 50 && fb.len < N; i++) {
        sim_turns(&t->w, 1);
        assert_true(take_frames(r2, &fb));
    }
    assert_int_equal(fb.len, N);
    assert_memory_equal(got_b, b, N);
    assert_true(fb.n >= N / 16384); /* a frame at a time: no scratch for it */
    r1->out.cap = sizeof r1->out.buf;
    for (int i = 0; i < 50 && fa.len < N; i++) {
        sim_turns(&t->w, 1);
        assert_true(take_frames(r1, &fa));
    }
    assert_int_equal(fa.len, N);
    assert_memory_equal(got_a, a, N);
    sim_world_down(t);
}

/* A connection that ends while its frames are pinned frees the scratch (the
 * next connection takes the bulk path again) and closes each socket once. */
static void test_splice_bulk_owner_ends_while_pinned(void **st)
{
    (void)st;
    sim_world *t = sim_world_up(NULL, 1 << 18);
    static uint8_t a[70000];
    fill(a, sizeof a, 15);
    t->relay->out.cap = t->relay->out.len; /* the relay takes nothing */
    sim_put(&t->client->in, a, sizeof a);
    sim_turns(&t->w, 3);
    assert_non_null(t->w.p.burst.owner);
    t->client->in_rst = true; /* the client resets */
    sim_turns(&t->w, 3);
    assert_int_equal(t->w.disconnected[t->id], 1);
    assert_null(t->w.p.burst.owner);
    int cfd2, id2 = sim_accept(&t->w, &cfd2, 1 << 18);
    sim_turns(&t->w, 3);
    sim_sock *r2 = sim_relay(&t->w), *c2 = sim_sock_of(&t->w, cfd2);
    assert_true(sim_upgrade(r2));
    sim_turns(&t->w, 3);
    assert_int_equal(t->w.connected[id2], 1);
    static uint8_t got[65536];
    frames f = {.got = got, .cap = sizeof got};
    g_relay_fd = t->w.relay_fd;
    g_client_fd = cfd2;
    t->w.ops.writev = count_writev;
    g_writes_relay = 0;
    sim_put(&c2->in, a, sizeof got);
    sim_turns(&t->w, 2);
    assert_true(take_frames(r2, &f));
    assert_int_equal(f.len, sizeof got);
    assert_memory_equal(got, a, sizeof got);
    assert_int_equal(g_writes_relay, 1); /* the four frames in one write */
    sim_world_down(t);
}

/* MaxTransferRate with a ws:// relay whose socket is full: the relay output
 * holds an unsent frame and a tail shorter than a good frame (the frame
 * before was short: the client paused). The client has more. up_room()
 * waits for the drain (0), but rate_at(up) sees room > 14 and the bucket
 * full: azr_splice_rate_wake() must not say "now" (deadline.c would run
 * the pump, which does nothing, and re-arm a timer of 0: a busy loop for as
 * long as the relay does not read); the relay's writability wakes it. */
static void test_splice_rate_waits_for_the_drain_not_the_clock(void **st)
{
    (void)st;
    const char *const set[] = {"MaxTransferRate=1000000", NULL};
    sim_world *t = sim_world_up(set, 1 << 18);
    static uint8_t a[15500];
    fill(a, sizeof a, 3);
    t->relay->out.cap = t->relay->out.len; /* the relay reads nothing more */
    sim_put(&t->client->in, a, sizeof a);  /* one frame of 15500: 890 bytes of tail left */
    sim_turns(&t->w, 3);
    assert_int_equal(t->client->in.len, 0);
    sim_put(&t->client->in, a, 5000); /* more, while the output waits */
    sim_turns(&t->w, 3);
    counting(t);
    sim_turns(&t->w, 200); /* no time passes, nothing becomes ready */
    print_message("relay write attempts in 200 idle turns: %d\n", g_writes_relay);
    assert_true(g_writes_relay < 5);
    /* the relay reads again: every byte arrives, in order, at the rate */
    static uint8_t got[20500], want[20500];
    memcpy(want, a, sizeof a);
    memcpy(want + sizeof a, a, 5000);
    frames f = {.got = got, .cap = sizeof got};
    t->relay->out.cap = sizeof t->relay->out.buf;
    for (int i = 0; i < 200 && f.len < sizeof got; i++) {
        sim_wait(&t->w, 10, 10);
        assert_true(take_frames(t->relay, &f));
    }
    assert_int_equal(f.len, sizeof got);
    assert_memory_equal(got, want, sizeof got);
    sim_world_down(t);
}

/* The same with a control frame waiting: a pong of 125 bytes that does not
 * fit the 100 bytes left behind an unsent frame. up_limit() reads nothing
 * while it waits (control first), so the rate must not say "now" either. */
static void test_splice_rate_waits_while_a_pong_waits_for_room(void **st)
{
    (void)st;
    const char *const set[] = {"MaxTransferRate=1000000", NULL};
    sim_world *t = sim_world_up(set, 1 << 18);
    static uint8_t a[16290];
    uint8_t ping[125];
    fill(a, sizeof a, 4);
    memset(ping, 'p', sizeof ping);
    t->relay->out.cap = t->relay->out.len; /* the relay reads nothing more */
    sim_put(&t->client->in, a, sizeof a);  /* 16290 + 8: 100 bytes of tail left */
    sim_turns(&t->w, 3);
    assert_int_equal(t->client->in.len, 0);
    sim_frame(t->relay, 0x89, ping, sizeof ping); /* its pong needs 131 */
    sim_put(&t->client->in, a, 1000);
    sim_turns(&t->w, 3);
    counting(t);
    sim_turns(&t->w, 200);
    print_message("relay write attempts in 200 idle turns: %d\n", g_writes_relay);
    assert_true(g_writes_relay < 5);
    sim_world_down(t);
}

/* A wss:// relay whose TLS ends cleanly (close_notify, no WebSocket close)
 * while a plain client is blocked (relay data still to deliver) and has
 * bytes of its own to send. closing() waits (the client's data first);
 * azr_splice_work_left() must not count "close the record" as progress
 * for an engine that is closed and has no room at all (the pump would run
 * again and again in the same turn).
 * The relay's closed engine is stood in for by a zeroed one (BearSSL:
 * iomode 0 is BR_IO_FAILED, last error 0: a clean close). */
static void test_splice_closed_tls_relay_is_no_work(void **st)
{
    (void)st;
    sim_world *t = sim_world_up(NULL, 1000);
    azr_conn *c = t->w.p.conns[0];
    static uint8_t a[5000];
    fill(a, sizeof a, 5);
    sim_frame(t->relay, 0x82, a, sizeof a);
    sim_turns(&t->w, 3);
    assert_int_equal(t->client->out.len, 1000);
    assert_true(c->client_blocked); /* the client takes no more */
    azr_rtls *fake = calloc(1, sizeof *fake);
    assert_non_null(fake);
    c->tls = fake; /* the relay's TLS, closed cleanly */
    azr_xport_init_tls(&c->rx, &fake->cc.eng);
    sim_put(&t->client->in, a, 100); /* the client has bytes for the relay */
    int queued = 0;
    for (int i = 0; i < 100; i++) {
        sim_turns(&t->w, 1);
        queued += c->phase == AZR_P_OPEN && c->more.queued;
    }
    print_message("turns that ended with the pump queued again: %d of 100 (phase %d)\n", queued,
                  (int)c->phase);
    bool spin = queued > 10;
    c->tls = NULL;
    azr_xport_init(&c->rx, NULL, 0, NULL, 0);
    sim_world_down(t);
    free(fake);
    assert_false(spin);
}

/* MaxTransferRateIn holds relay payload in the relay input; the relay then
 * sends its close frame and ends TCP (all of it already read into the
 * input). The held payload and the close are still the relay's: the client
 * gets every byte and a clean end, not a reset for "TCP closed without a
 * close frame" (found by review: it got 1024 of 5000 bytes and a reset). */
static void test_splice_rate_in_then_relay_eof_keeps_data(void **st)
{
    (void)st;
    const char *const set[] = {"MaxTransferRateIn=10000", NULL};
    sim_world *t = sim_world_up(set, 1 << 18);
    static uint8_t a[5000];
    fill(a, sizeof a, 11);
    sim_frame(t->relay, 0x82, a, sizeof a);
    uint8_t cl[2] = {0x03, 0xe8}; /* 1000 */
    sim_frame(t->relay, 0x88, cl, 2);
    t->relay->in_eof = true;
    sim_turns(&t->w, 3);
    for (int i = 0; i < 200 && !t->w.disconnected[t->id]; i++)
        sim_wait(&t->w, 10, 10);
    print_message("client got %zu of %zu, status %d: %s\n", t->client->out.len, sizeof a,
                  t->w.status[t->id], t->w.reason[t->id]);
    assert_int_equal(t->client->out.len, sizeof a);
    assert_memory_equal(t->client->out.buf, a, sizeof a);
    assert_int_equal(t->w.status[t->id], 0);
    assert_false(t->client->aborted);
    sim_world_down(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splice_frame_fit_every_header_size),
        cmocka_unit_test(test_splice_tls_output_buffer_is_a_record_size),
        cmocka_unit_test(test_splice_upload_header_sizes_and_content),
        cmocka_unit_test(test_splice_upload_backpressure_and_no_small_frames),
        cmocka_unit_test(test_splice_download_partial_writes_every_header_size),
        cmocka_unit_test(test_splice_download_control_between_fragments),
        cmocka_unit_test(test_splice_dribbling_client_is_not_held_back),
        cmocka_unit_test(test_splice_bytes_before_open_wait_in_the_socket),
        cmocka_unit_test(test_splice_client_leaving_during_dial_is_seen),
        cmocka_unit_test(test_splice_bulk_upload_128k_per_system_call),
        cmocka_unit_test(test_splice_bulk_pinned_frames_go_first),
        cmocka_unit_test(test_splice_bulk_scratch_pinned_others_go_one_frame),
        cmocka_unit_test(test_splice_bulk_owner_ends_while_pinned),
        cmocka_unit_test(test_splice_rate_waits_for_the_drain_not_the_clock),
        cmocka_unit_test(test_splice_closed_tls_relay_is_no_work),
        cmocka_unit_test(test_splice_rate_waits_while_a_pong_waits_for_room),
        cmocka_unit_test(test_splice_rate_in_then_relay_eof_keeps_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
