/*
 * The connection state machine over fake transports on a fake clock
 * (tests/simnet.h): every close order, the timers, back-pressure both ways
 * and control-frame queueing, deterministic and without a socket. The wire
 * defects of issue 10 show here as well as over sockets (test_close).
 */
#include "testutil.h"
#include "simnet.h"
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

static void relay_reads(sim_world *t)
{
    sim_relay_reads(t->relay, &t->dec, &t->seen, NULL, 0);
}

/* ------------------------------------------------------------------ cases */

static void test_conn_echo_and_clean_close(void **st)
{
    (void)st;
    sim_world *t = sim_world_up(NULL, 1 << 18);
    sim_put(&t->client->in, "hello", 5);
    sim_turns(&t->w, 3);
    relay_reads(t);
    assert_int_equal(t->seen.data, 5);
    sim_frame(t->relay, 0x82, "world", 5);
    sim_turns(&t->w, 3);
    assert_int_equal(t->client->out.len, 5);
    assert_memory_equal(t->client->out.buf, "world", 5);
    /* client FIN -> close 1000; the relay's close -> FIN to the client */
    t->client->in_eof = true;
    sim_turns(&t->w, 3);
    relay_reads(t);
    assert_int_equal(t->seen.closes, 1);
    assert_int_equal(t->seen.close_code, 1000);
    uint8_t cl[2] = {0x03, 0xe8};
    sim_frame(t->relay, 0x88, cl, 2);
    sim_turns(&t->w, 3);
    assert_true(t->client->shut_wr);
    assert_int_equal(t->w.disconnected[t->id], 1);
    assert_int_equal(t->w.status[t->id], 0);
    assert_true(t->client->closed);
    assert_false(t->client->aborted);
    sim_world_down(t);
}

/* Defect 1: after the client's FIN the relay keeps sending for 10 s past a
 * 2 s HalfCloseTimeout; then it goes silent and the bound cuts it. */
static void test_conn_half_close_bound_is_inactivity(void **st)
{
    (void)st;
    const char *const set[] = {"HalfCloseTimeout=2", NULL};
    sim_world *t = sim_world_up(set, 1 << 18);
    t->client->in_eof = true;
    sim_turns(&t->w, 3);
    for (int i = 0; i < 10; i++) {
        sim_frame(t->relay, 0x82, "0123456789", 10);
        sim_wait(&t->w, 1000, 250);
    }
    assert_int_equal(t->w.disconnected[t->id], 0);
    assert_int_equal(t->client->out.len, 100);
    sim_wait(&t->w, 2500, 250);
    assert_int_equal(t->w.disconnected[t->id], 1);
    assert_int_equal(t->w.status[t->id], AZR_ERR_TIMEOUT);
    assert_non_null(strstr(t->w.reason[t->id], "HalfCloseTimeout"));
    assert_true(t->client->aborted); /* a cut stream: reset */
    sim_world_down(t);
}

/* Defect 2: a client that does not read is back-pressure: no ping deadline
 * runs out while we choose not to read the relay. */
static void test_conn_keepalive_not_fooled_by_backpressure(void **st)
{
    (void)st;
    const char *const set[] = {"RelayKeepAliveInterval=1", NULL};
    sim_world *t = sim_world_up(set, 4096); /* the client takes 4 KiB, then stops reading */
    static uint8_t big[60000];
    for (int i = 0; i < 4; i++)
        sim_frame(t->relay, 0x82, big, sizeof big);
    sim_wait(&t->w, 10000, 200);
    assert_int_equal(t->w.disconnected[t->id], 0);
    size_t got = 0;
    for (int i = 0; i < 400 && got < 4 * sizeof big; i++) {
        got += t->client->out.len;
        sim_take(&t->client->out, t->client->out.len);
        sim_turns(&t->w, 2);
    }
    assert_int_equal(got, 4 * sizeof big);
    assert_int_equal(t->w.disconnected[t->id], 0);
    sim_world_down(t);
}

/* Defect 2: a ping stuck behind back-pressure towards the relay starts its
 * pong deadline only once its bytes reached the socket. */
static void test_conn_pong_deadline_starts_on_the_wire(void **st)
{
    (void)st;
    const char *const set[] = {"RelayKeepAliveInterval=2", NULL};
    sim_world *t = sim_world_up(set, 1 << 18);
    t->relay->out.cap = t->relay->out.len; /* the relay takes nothing more */
    static uint8_t big[100000];
    sim_put(&t->client->in, big, sizeof big);
    sim_wait(&t->w, 12000, 250); /* a ping is due after 2 s, but cannot go out */
    assert_int_equal(t->w.disconnected[t->id], 0);
    t->relay->out.cap = sizeof t->relay->out.buf; /* it reads again */
    for (int i = 0; i < 50; i++) {
        relay_reads(t);
        sim_turns(&t->w, 2);
    }
    relay_reads(t);
    assert_int_equal(t->seen.data, sizeof big);
    assert_int_equal(t->seen.pings, 1);
    sim_frame(t->relay, 0x8a, "azrelay", 7); /* its pong */
    sim_wait(&t->w, 1500, 250);
    assert_int_equal(t->w.disconnected[t->id], 0);
    /* and a relay that does not answer is found out */
    sim_wait(&t->w, 6000, 250);
    assert_int_equal(t->w.disconnected[t->id], 1);
    assert_non_null(strstr(t->w.reason[t->id], "not answering"));
    sim_world_down(t);
}

/* Defect 3: the relay hears why: 1001 on an idle timeout, 1002 on a
 * protocol error (RSV bit set, RFC 6455 §5.2). */
static void test_conn_idle_timeout_sends_1001(void **st)
{
    (void)st;
    const char *const set[] = {"DefaultIdleTimeout=2", NULL};
    sim_world *t = sim_world_up(set, 1 << 18);
    sim_wait(&t->w, 3000, 250);
    relay_reads(t);
    assert_int_equal(t->w.disconnected[t->id], 1);
    assert_int_equal(t->seen.closes, 1);
    assert_int_equal(t->seen.close_code, 1001);
    assert_false(t->client->aborted);
    sim_world_down(t);
}

static void test_conn_protocol_error_sends_1002(void **st)
{
    (void)st;
    sim_world *t = sim_world_up(NULL, 1 << 18);
    sim_frame(t->relay, 0xc2, "A", 1);
    sim_turns(&t->w, 3);
    relay_reads(t);
    assert_int_equal(t->w.disconnected[t->id], 1);
    assert_int_equal(t->w.status[t->id], AZR_ERR_PROTOCOL);
    assert_int_equal(t->seen.closes, 1);
    assert_int_equal(t->seen.close_code, 1002);
    assert_true(t->client->aborted);
    sim_world_down(t);
}

/* Defect 5: five pings in one packet while the relay's window is shut: the
 * latest is answered (RFC 6455 §5.5.3), and a close queued behind a full
 * output still goes out once there is room. */
static void test_conn_control_frames_are_not_dropped(void **st)
{
    (void)st;
    sim_world *t = sim_world_up(NULL, 1 << 18);
    t->relay->out.cap = t->relay->out.len;
    for (int i = 1; i <= 5; i++) {
        char pl[3] = {'p', (char)('0' + i), 0};
        sim_frame(t->relay, 0x89, pl, 2);
    }
    sim_turns(&t->w, 3);
    t->client->in_eof = true; /* close 1000 is due too */
    sim_turns(&t->w, 3);
    t->relay->out.cap = sizeof t->relay->out.buf;
    sim_turns(&t->w, 4);
    relay_reads(t);
    assert_true(t->seen.pongs >= 1);
    assert_string_equal(t->seen.last_pong, "p5");
    assert_int_equal(t->seen.closes, 1);
    assert_int_equal(t->seen.close_code, 1000);
    sim_world_down(t);
}

/* Defect 7: the relay's TCP ending without a close frame (FIN, FIN inside a
 * frame, RST) gives the client what came, then a reset. */
static void relay_end_aborts(int how)
{
    sim_world *t = sim_world_up(NULL, 1 << 18);
    sim_frame(t->relay, 0x82, "partial", 7);
    if (how == 1) { /* a frame header promising more than comes */
        uint8_t h[2] = {0x82, 100};
        sim_put(&t->relay->in, h, 2);
        sim_put(&t->relay->in, "abc", 3);
    }
    if (how == 2)
        t->relay->in_rst = true;
    else
        t->relay->in_eof = true;
    sim_turns(&t->w, 4);
    assert_int_equal(t->w.disconnected[t->id], 1);
    assert_true(t->w.status[t->id] != 0);
    assert_true(t->client->out.len >= 7);
    assert_memory_equal(t->client->out.buf, "partial", 7);
    assert_true(t->client->closed);
    assert_true(t->client->aborted);
    sim_world_down(t);
}

static void test_conn_relay_fin_without_close_aborts(void **st)
{
    (void)st;
    relay_end_aborts(0);
}

static void test_conn_relay_fin_mid_frame_aborts(void **st)
{
    (void)st;
    relay_end_aborts(1);
}

static void test_conn_relay_reset_aborts(void **st)
{
    (void)st;
    relay_end_aborts(2);
}

/* Defect 8: Timeout bounds output a peer does not take, as inactivity (a
 * trickle keeps it alive) or, with AbsoluteTimeout, from the stall's start. */
static void timeout_case(bool absolute)
{
    const char *const set[] = {"DefaultTimeout=3", absolute ? "AbsoluteTimeout=True" : NULL, NULL};
    sim_world *t = sim_world_up(set, 1000); /* a client with a small window */
    static uint8_t big[50000];
    sim_frame(t->relay, 0x82, big, sizeof big);
    sim_turns(&t->w, 3);
    for (int s = 0; s < 8; s++) { /* the client takes 100 bytes a second */
        sim_take(&t->client->out, 100);
        sim_wait(&t->w, 1000, 250);
    }
    if (absolute) {
        assert_int_equal(t->w.disconnected[t->id], 1);
        assert_non_null(strstr(t->w.reason[t->id], "AbsoluteTimeout"));
        assert_true(t->client->aborted);
    } else {
        assert_int_equal(t->w.disconnected[t->id], 0);
        sim_wait(&t->w, 4000, 250); /* now it stops taking anything */
        assert_int_equal(t->w.disconnected[t->id], 1);
        assert_non_null(strstr(t->w.reason[t->id], "client not taking data"));
    }
    sim_world_down(t);
}

static void test_conn_timeout_is_inactivity(void **st)
{
    (void)st;
    timeout_case(false);
}

static void test_conn_absolute_timeout(void **st)
{
    (void)st;
    timeout_case(true);
}

/* Defect 8: a connection's IdleTimeout set later counts at once. */
static void test_conn_idle_timeout_rearms_at_once(void **st)
{
    (void)st;
    sim_world *t = sim_world_up(NULL, 1 << 18);
    sim_wait(&t->w, 5000, 500);
    azr_conn *c = azr_listener_find(&t->w.p, t->id);
    assert_non_null(c);
    c->idle_timeout = 1;
    azr_conn_rearm(c);
    t->w.now += 1100;
    sim_turns(&t->w, 2);
    assert_int_equal(t->w.disconnected[t->id], 1);
    assert_non_null(strstr(t->w.reason[t->id], "IdleTimeout"));
    sim_world_down(t);
}

/* The dial: refused connects are retried with backoff until
 * ConnectionTimeout is spent, then one failure that names the hop and the
 * attempts; a relay that never answers. */
static void test_conn_dial_failures(void **st)
{
    (void)st;
    static sim w;
    memset(&w, 0, sizeof w);
    assert_true(sim_init(&w, (const char *const[]){"ConnectionTimeout=2", NULL}));
    w.quiet = true;
    int cfd;
    w.next_connect_errno = ECONNREFUSED;
    int a = sim_accept(&w, &cfd, 1 << 18);
    sim_wait(&w, 2500, 20);
    assert_int_equal(w.disconnected[a], 1);
    assert_non_null(
        strstr(w.reason[a], "TCP connect to relay 127.0.0.1:9 failed: Connection refused"));
    assert_non_null(strstr(w.reason[a], "attempts"));
    assert_true(w.dials >= 4 && w.dials <= 12); /* 100, 200, 400, 800 ms... apart, jittered */
    assert_true(sim_sock_of(&w, cfd)->aborted);
    w.next_connect_errno = 0;
    w.dials = 0;
    int b = sim_accept(&w, &cfd, 1 << 18);
    sim_wait(&w, 2500, 250);
    assert_int_equal(w.disconnected[b], 1);
    assert_non_null(strstr(w.reason[b], "ConnectionTimeout"));
    assert_int_equal(w.dials, 1);        /* silence is not retried: the budget is spent waiting */
    assert_int_equal(w.connected[b], 1); /* Connected reports the failure */
    sim_free(&w);
}

static void relay_answers(sim_sock *r, const char *http)
{
    char *end = sim_find((char *)r->out.buf, r->out.len, "\r\n\r\n");
    assert_non_null(end);
    sim_take(&r->out, (size_t)(end + 4 - (char *)r->out.buf));
    sim_put(&r->in, http, strlen(http));
}

/* Issue 11: a failed attempt (refused, 503, 404 without a listener) is
 * tried again inside the dial budget; the client's early bytes wait in its
 * buffer and arrive once the relay is open. */
static void test_conn_retry_until_the_relay_answers(void **st)
{
    (void)st;
    static sim w;
    memset(&w, 0, sizeof w);
    assert_true(sim_init(&w, (const char *const[]){"ConnectionTimeout=10", NULL}));
    w.quiet = true;
    int cfd;
    w.next_connect_errno = ECONNREFUSED;
    int a = sim_accept(&w, &cfd, 1 << 18);
    sim_sock *cl = sim_sock_of(&w, cfd);
    sim_put(&cl->in, "early", 5);
    sim_turns(&w, 3);
    assert_int_equal(w.dials, 1);
    w.next_connect_errno = 0;
    sim_wait(&w, 200, 10); /* the first backoff is 50..100 ms */
    assert_int_equal(w.dials, 2);
    relay_answers(sim_relay(&w), "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
    sim_turns(&w, 3);
    sim_wait(&w, 300, 10);
    assert_int_equal(w.dials, 3);
    relay_answers(sim_relay(&w), "HTTP/1.1 404 There are no listeners connected for the endpoint."
                                 "\r\nContent-Length: 0\r\n\r\n");
    sim_turns(&w, 3);
    sim_wait(&w, 500, 10);
    assert_int_equal(w.dials, 4);
    assert_int_equal(w.disconnected[a], 0);
    assert_true(sim_upgrade(sim_relay(&w)));
    sim_turns(&w, 3);
    assert_int_equal(w.connected[a], 1);
    azr_ws_dec dec;
    azr_ws_dec_init(&dec, 0, false);
    azr_ws_dec_server(&dec);
    sim_seen seen;
    memset(&seen, 0, sizeof seen);
    uint8_t got[16];
    sim_relay_reads(sim_relay(&w), &dec, &seen, got, sizeof got);
    assert_int_equal(seen.data, 5);
    assert_memory_equal(got, "early", 5);
    sim_free(&w);
}

/* 401 and 403 are not retried; a 404 saying the endpoint does not exist
 * neither (a wrong HybridConnection); a client that leaves while we back
 * off ends the dial at once: no later attempt. */
static void test_conn_no_retry_and_client_leaving(void **st)
{
    (void)st;
    static sim w;
    memset(&w, 0, sizeof w);
    assert_true(sim_init(&w, (const char *const[]){"ConnectionTimeout=10", NULL}));
    w.quiet = true;
    int cfd;
    int a = sim_accept(&w, &cfd, 1 << 18);
    sim_turns(&w, 3);
    relay_answers(sim_relay(&w), "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
    sim_turns(&w, 3);
    assert_int_equal(w.disconnected[a], 1);
    assert_int_equal(w.status[a], 401);
    assert_non_null(strstr(w.reason[a], "check AccessKeyName and AccessKey"));
    int b = sim_accept(&w, &cfd, 1 << 18);
    sim_turns(&w, 3);
    relay_answers(sim_relay(&w), "HTTP/1.1 404 Endpoint does not exist.\r\n\r\n");
    sim_turns(&w, 3);
    assert_int_equal(w.disconnected[b], 1);
    assert_int_equal(w.dials, 2);
    w.next_connect_errno = ECONNREFUSED;
    int c = sim_accept(&w, &cfd, 1 << 18);
    sim_turns(&w, 3);
    assert_int_equal(w.dials, 3);
    sim_sock_of(&w, cfd)->in_eof = true; /* the client goes away while we back off */
    sim_turns(&w, 3);
    assert_int_equal(w.disconnected[c], 1);
    assert_non_null(strstr(w.reason[c], "client left during the wait before trying again"));
    sim_wait(&w, 3000, 100);
    assert_int_equal(w.dials, 3);
    sim_free(&w);
}

/* The phase table: each phase runs under its own deadline, and the
 * handshake-only state (parsers, the certificate check) is gone once the
 * connection opens; the TLS blocks that stay carry no X.509 context. */
static void test_conn_phases_and_handshake_block(void **st)
{
    (void)st;
    assert_true(sizeof(azr_rtls) < sizeof(br_ssl_client_context) + BR_SSL_BUFSIZE_BIDI + 64);
    assert_true(sizeof(azr_ltls) < sizeof(br_ssl_server_context) + BR_SSL_BUFSIZE_BIDI + 64);
    static sim w;
    memset(&w, 0, sizeof w);
    assert_true(sim_init(&w, (const char *const[]){"ConnectionTimeout=2", NULL}));
    w.quiet = true;
    int cfd;
    int a = sim_accept(&w, &cfd, 1 << 18);
    sim_turns(&w, 3);
    azr_conn *c = azr_listener_find(&w.p, a);
    assert_non_null(c);
    assert_int_equal(c->phase, AZR_P_UPGRADE); /* ws://: no TLS phase, no proxy phase */
    /* issue 13: no Nagle towards the relay (we coalesce); the client's as TcpNoDelay says */
    assert_true(sim_relay(&w)->opts.no_delay);
    assert_false(sim_sock_of(&w, cfd)->opts.no_delay);
    assert_int_equal(azr_conn_deadline_kind(c), AZR_DL_DIAL);
    assert_non_null(c->hs);
    sim_wait(&w, 2500, 250);
    assert_int_equal(w.disconnected[a], 1);
    assert_string_equal(w.reason[a], "relay did not answer within 2 s (ConnectionTimeout), "
                                     "during the WebSocket upgrade");
    int b = sim_accept(&w, &cfd, 1 << 18);
    sim_turns(&w, 3);
    assert_true(sim_upgrade(sim_relay(&w)));
    sim_turns(&w, 3);
    c = azr_listener_find(&w.p, b);
    assert_non_null(c);
    assert_int_equal(c->phase, AZR_P_OPEN);
    assert_null(c->hs);
    assert_int_equal(azr_conn_deadline_kind(c), AZR_DL_OPEN);
    w.now += 5000; /* the dial budget no longer applies */
    sim_turns(&w, 2);
    assert_int_equal(w.disconnected[b], 0);
    sim_free(&w);
}

/* Item 8: connection ids wrap at INT_MAX to 1 and skip one still in use. */
static void test_conn_ids_wrap_and_skip_live_ones(void **st)
{
    (void)st;
    static sim w;
    memset(&w, 0, sizeof w);
    assert_true(sim_init(&w, NULL));
    w.quiet = true;
    int cfd;
    int a = sim_accept(&w, &cfd, 1 << 18); /* id 1, kept open */
    assert_int_equal(a, 1);
    w.p.next_id = INT_MAX;
    int b = sim_accept(&w, &cfd, 1 << 18);
    assert_int_equal(b, INT_MAX);
    int d = sim_accept(&w, &cfd, 1 << 18);
    assert_int_equal(d, 2); /* 1 is still open */
    sim_free(&w);
}

/* Issue 13: masks come from a pool drawn from the DRBG 64 at a time; each
 * is used once (its bytes wiped from the pool) and they do not repeat. */
static void test_conn_masks_from_a_pool(void **st)
{
    (void)st;
    static sim w;
    memset(&w, 0, sizeof w);
    assert_true(sim_init(&w, NULL));
    static uint32_t seen[200];
    for (int i = 0; i < 200; i++) {
        uint8_t m[4];
        azr_splice_mask(&w.p, m);
        memcpy(&seen[i], m, 4);
        size_t used = sizeof w.p.mask_pool - w.p.mask_left;
        for (size_t k = 0; k < used; k++) /* what was handed out is gone */
            assert_int_equal(w.p.mask_pool[k], 0);
        assert_int_equal(w.p.mask_left, 256 - 4 * (size_t)((i % 64) + 1));
    }
    int repeats = 0;
    for (int i = 0; i < 200; i++)
        for (int j = 0; j < i; j++)
            repeats += seen[i] == seen[j];
    assert_true(repeats <= 1); /* 200 draws of 32 bits: a repeat is a 1 in 200,000 event */
    sim_free(&w);
}

/* Defect 4: a Disconnected handler that ends other connections runs while
 * nothing is freed under it. */
static void close_all(sim *w, int id)
{
    (void)id;
    for (size_t i = 0; i < w->p.max_conns; i++)
        if (w->p.conns[i])
            azr_conn_close(w->p.conns[i], 0, "handler closes everything", true);
}

static void test_conn_handler_closing_others(void **st)
{
    (void)st;
    sim_world *t = sim_world_up(NULL, 1 << 18);
    int cfd2;
    int id2 = sim_accept(&t->w, &cfd2, 1 << 18);
    sim_turns(&t->w, 3);
    t->w.on_disconnected = close_all;
    t->relay->in_eof = true; /* the first one ends; its handler ends the second */
    sim_turns(&t->w, 3);
    assert_int_equal(t->w.disconnected[t->id], 1);
    assert_int_equal(t->w.disconnected[id2], 1);
    sim_turns(&t->w, 2);
    assert_int_equal(t->w.p.nconns, 0);
    assert_int_equal(t->w.p.nopen, 0); /* ConnectionCount's counter agrees */
    sim_world_down(t);
}

/* A sim proxy towards wss://127.0.0.1:9, quiet, with up to two more
 * settings (NULL: none). */
static void wss_sim(sim *w, const char *a, const char *b)
{
    memset(w, 0, sizeof *w);
    assert_true(
        sim_init(w, (const char *const[]){"NamespaceAddress=wss://127.0.0.1:9", a, b, NULL}));
    w->quiet = true;
}

/* SSLSecurityFlags 0x1 keeps the relay's leaf certificate in the handshake
 * block, which has room for it only when the flag was set as the
 * connection started. An application that sets it (azr_proxy_config)
 * while a connection dials must not get the leaf written past the block:
 * the connection keeps the flags it started with. (Found by review; on
 * the code before, the validator was given room the block did not have.) */
static void test_conn_leaf_room_fixed_at_start(void **st)
{
    (void)st;
    static sim w;
    wss_sim(&w, "ConnectionTimeout=10", NULL);
    int cfd;
    w.next_connect_errno = ECONNREFUSED; /* the first attempt fails: a backoff */
    int a = sim_accept(&w, &cfd, 1 << 18);
    sim_turns(&w, 3);
    azr_conn *c = azr_listener_find(&w.p, a);
    assert_non_null(c);
    assert_non_null(c->hs);
    assert_true(c->hs_size < sizeof(azr_hs)); /* no leaf room */
    char err[AZR_CONF_ERR_MAX];
    assert_int_equal(azr_config_apply(&w.p.set, "SSLSecurityFlags=1", 18, err, sizeof err),
                     AZR_OK); /* what azr_proxy_config does, mid-dial */
    w.next_connect_errno = 0;
    sim_wait(&w, 200, 10);
    assert_int_equal(c->phase, AZR_P_TLS);
    const uint8_t *end = (const uint8_t *)c->hs + c->hs_size;
    assert_true(c->hs->v.leaf == NULL || c->hs->v.leaf + c->hs->v.leaf_cap <= end);
    /* what the relay's Certificate message does next */
    static uint8_t cert[2048];
    const br_x509_class **x = &c->hs->v.vtable;
    (*x)->start_chain(x, "127.0.0.1");
    (*x)->start_cert(x, sizeof cert);
    (*x)->append(x, cert, sizeof cert);
    sim_free(&w);
}

/* The TLS parameters StartListening would parse (the sim skips prepare()). */
static void sim_tls_params(sim *w)
{
    char err[256];
    assert_int_equal(
        azr_tls_suites_parse(w->p.set.ssl_enabled_cipher_suites, &w->p.suites, err, sizeof err),
        AZR_OK);
    assert_int_equal(azr_tls_versions(w->p.set.ssl_enabled_protocols, &w->p.tls_min, &w->p.tls_max,
                                      err, sizeof err),
                     AZR_OK);
}

/* Found by review: a relay attempt cut while its ClientHello was half written is retried;
 * the next attempt's socket must start with a fresh TLS record, not the
 * rest of the old attempt's flight (hs->flight is not reset by BACKOFF). */
static void test_conn_retry_drops_old_flight(void **st)
{
    (void)st;
    static sim w;
    wss_sim(&w, "ConnectionTimeout=10", NULL);
    sim_tls_params(&w);
    int cfd;
    int a = sim_accept(&w, &cfd, 1 << 18);
    for (int i = 0; i < 5 && w.dials == 0; i++)
        sim_turns(&w, 1);
    assert_int_equal(w.dials, 1);
    sim_relay(&w)->out.cap = 10; /* the first socket takes 10 bytes of the ClientHello */
    sim_turns(&w, 2);
    assert_int_equal(sim_relay(&w)->out.len, 10);
    sim_relay(&w)->in_rst = true; /* then it is reset: a failed attempt */
    sim_turns(&w, 2);
    sim_wait(&w, 300, 10);
    assert_int_equal(w.dials, 2);
    assert_int_equal(w.disconnected[a], 0);
    sim_sock *r2 = sim_relay(&w);
    assert_true(r2->out.len > 5);
    assert_int_equal(r2->out.buf[0], 0x16); /* a handshake record */
    assert_int_equal(r2->out.buf[5], 0x01); /* holding a ClientHello */
    sim_free(&w);
}

/* Found by review: a log handler that disconnects (any event may call the API) while the
 * resolver's answer is handled: the handshake block goes at once (end()
 * calls hs_free during dispatch) and dial.c's resolved_cb writes into it. */
static void log_disconnects(void *ud, int id, int level, const char *msg, const char *type)
{
    sim *w = ud;
    (void)level, (void)type;
    azr_conn *c = azr_listener_find(&w->p, id);
    if (c && strncmp(msg, "DNS:", 4) == 0)
        azr_conn_close(c, 0, "disconnected by the application", true); /* azr_proxy_disconnect */
}

static void test_conn_log_handler_disconnects_during_lookup(void **st)
{
    (void)st;
    static sim w;
    memset(&w, 0, sizeof w);
    assert_true(sim_init(&w, NULL));
    w.p.ev.log = log_disconnects;
    int cfd;
    int a = sim_accept(&w, &cfd, 1 << 18);
    sim_turns(&w, 3);
    assert_int_equal(w.disconnected[a], 1);
    sim_free(&w);
}

/* A relay's TLS endpoint over the sim's relay socket (BearSSL server with
 * build/test-certs/server.pem), answering the upgrade with 101. */
typedef struct tls_relay {
    br_ssl_server_context sc;
    unsigned char buf[BR_SSL_BUFSIZE_BIDI];
    azr_tls_creds cr;
    sim_sock plain; /* the decrypted side, for sim_upgrade */
    bool answered;
} tls_relay;

static void tls_relay_init(tls_relay *t)
{
    char err[256];
    memset(t, 0, sizeof *t);
    assert_int_equal(azr_tls_creds_load_files(&t->cr, "../build/test-certs/server.pem",
                                              "../build/test-certs/server.key", err, sizeof err),
                     AZR_OK);
    azr_tls_server_init(&t->sc, &t->cr);
    br_ssl_engine_set_buffer(&t->sc.eng, t->buf, sizeof t->buf, 1);
    assert_true(br_ssl_server_reset(&t->sc));
    t->plain.in.cap = t->plain.out.cap = SIM_PIPE;
}

/* A peer's TLS records over a sim socket: what the proxy wrote (s->out)
 * into the engine, the engine's records into what the proxy reads (s->in). */
static void engine_records(br_ssl_engine_context *e, sim_sock *s)
{
    size_t len, n;
    unsigned char *b;
    if ((b = br_ssl_engine_recvrec_buf(e, &len)) && s->out.len) {
        n = len < s->out.len ? len : s->out.len;
        memcpy(b, s->out.buf, n);
        br_ssl_engine_recvrec_ack(e, n);
        sim_take(&s->out, n);
    }
    if ((b = br_ssl_engine_sendrec_buf(e, &len))) {
        sim_put(&s->in, b, len);
        br_ssl_engine_sendrec_ack(e, len);
    }
}

static void tls_relay_pump(tls_relay *t, sim_sock *r)
{
    br_ssl_engine_context *e = &t->sc.eng;
    for (int i = 0; i < 16; i++) {
        size_t len;
        unsigned char *b;
        engine_records(e, r);
        if ((b = br_ssl_engine_recvapp_buf(e, &len))) {
            sim_put(&t->plain.out, b, len);
            br_ssl_engine_recvapp_ack(e, len);
        }
        if (!t->answered && sim_upgrade(&t->plain)) {
            t->answered = true;
            b = br_ssl_engine_sendapp_buf(e, &len);
            assert_true(b && len >= t->plain.in.len);
            memcpy(b, t->plain.in.buf, t->plain.in.len);
            br_ssl_engine_sendapp_ack(e, t->plain.in.len);
            br_ssl_engine_flush(e, 0);
        }
    }
}

/* A sim proxy for wss:// through a tls_relay (the relay's certificate not
 * checked: 0x80000010), and one more setting when extra is not NULL. */
static void tls_world(sim *w, tls_relay *t, const char *extra)
{
    wss_sim(w, "SSLSecurityFlags=0x80000010", extra);
    sim_tls_params(w);
    tls_relay_init(t);
}

/* Turns, the relay's engine pumped, until connection a has its Connected
 * (or, ended, its Disconnected) event, 20 at most. */
static void tls_turns(sim *w, tls_relay *t, int a, bool ended)
{
    for (int i = 0; i < 20 && !(ended ? w->disconnected[a] : w->connected[a]); i++) {
        sim_turns(w, 1);
        if (w->dials)
            tls_relay_pump(t, sim_relay(w));
    }
}

/* Found by review: the relay TLS engine's output buffer is sized by SSLOutBufferSize when
 * the client is accepted (azr_conn_open), but rtls.c sets it from the
 * setting read again after the dial: raised in between, the engine's
 * records run past the connection's block. */
static void test_conn_tls_out_size_fixed_at_accept(void **st)
{
    (void)st;
    static sim w;
    static tls_relay t;
    tls_world(&w, &t, "SSLOutBufferSize=512");
    int cfd;
    int a = sim_accept(&w, &cfd, 1 << 18);
    char err[AZR_CONF_ERR_MAX]; /* what azr_proxy_config does while it dials */
    assert_int_equal(azr_config_apply(&w.p.set, "SSLOutBufferSize=16384", 22, err, sizeof err),
                     AZR_OK);
    tls_turns(&w, &t, a, false);
    assert_int_equal(w.connected[a], 1);
    static uint8_t big[20000];
    sim_put(&sim_sock_of(&w, cfd)->in, big, sizeof big); /* the client sends */
    sim_turns(&w, 3);
    azr_tls_creds_free(&t.cr);
    sim_free(&w);
}

/* Found by review: SSLStatus's handler disconnects from inside the certificate check
 * (rtls.c's judge, called by x509v.c's end_chain): end() frees the
 * handshake block, and end_chain goes on writing into it. */
static void status_disconnects(void *ud, int id, const char *msg)
{
    sim *w = ud;
    azr_conn *c = azr_listener_find(&w->p, id);
    if (c && strstr(msg, "unknown CA"))
        azr_conn_close(c, 0, "disconnected by the application", true);
}

static void test_conn_status_handler_disconnects_in_cert_check(void **st)
{
    (void)st;
    static sim w;
    static tls_relay t;
    tls_world(&w, &t, NULL);
    w.p.ev.ssl_status = status_disconnects;
    int cfd;
    int a = sim_accept(&w, &cfd, 1 << 18);
    tls_turns(&w, &t, a, true);
    assert_int_equal(w.disconnected[a], 1);
    azr_tls_creds_free(&t.cr);
    sim_free(&w);
}

/* Found by review: the accept's log line ("client ... connected") runs between
 * azr_conn_open and azr_conn_start (listener.c take()); a log handler that
 * disconnects it (or shuts the proxy down) has the connection started while
 * DEAD: drive() reads phases[AZR_P_DEAD], past the table. */
static azr_proxy *r5_px;
static int r5_disc;
static void r5_log(void *ud, int id, int level, const char *msg, const char *type)
{
    (void)ud, (void)level, (void)type;
    if (id > 0 && strstr(msg, "connected"))
        (void)azr_proxy_disconnect(r5_px, id);
}
static void r5_disconnected(void *ud, int id, int st, const char *d)
{
    (void)ud, (void)id, (void)st, (void)d;
    r5_disc++;
}

static void test_conn_log_handler_disconnects_at_accept(void **st)
{
    (void)st;
    azr_events ev = {.log = r5_log, .disconnected = r5_disconnected};
    char out[32];
    r5_px = azr_proxy_new(&ev, NULL);
    const char *set[] = {"NamespaceAddress=ws://127.0.0.1:9", "HybridConnection=hc1",
                         "LocalHost=127.0.0.1", "LocalPort=0", "LogLevel=1"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(azr_proxy_config(r5_px, set[i], NULL, 0), 0);
    assert_int_equal(azr_proxy_start_listening(r5_px), 0);
    assert_int_equal(azr_proxy_config(r5_px, "LocalPort", out, sizeof out), 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)strtol(out, NULL, 10)),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    for (int i = 0; i < 10 && !r5_disc; i++)
        (void)azr_proxy_do_events(r5_px, 50);
    assert_int_equal(r5_disc, 1);
    close(fd);
    azr_proxy_free(r5_px);
}

/* azr_proxy_config("SSLServerCACerts=...") while a relay handshake checks
 * its chain against the loaded CAs: they are set aside, not freed, until
 * no handshake is under way (found by review: they were freed at once, and
 * the X.509 engine read freed memory). */
static void test_conn_anchors_freed_mid_handshake(void **st)
{
    (void)st;
    static sim w;
    static tls_relay t;
    size_t added;
    char why[300];
    wss_sim(&w, "SSLSecurityFlags=0x80000000", NULL);
    sim_tls_params(&w);
    assert_int_equal(azr_tls_anchors_add_file(&w.p.anchors, "../build/test-certs/ca.pem", &added,
                                              why, sizeof why),
                     AZR_OK);
    tls_relay_init(&t);
    int cfd;
    int a = sim_accept(&w, &cfd, 1 << 18);
    azr_conn *c = azr_listener_find(&w.p, a);
    for (int i = 0; i < 10 && c->phase != AZR_P_TLS; i++)
        sim_turns(&w, 1);
    assert_int_equal(c->phase, AZR_P_TLS);
    char err[AZR_CONF_ERR_MAX];
    assert_int_equal(azr_certload_changed(&w.p, "SSLServerCACerts", 16, err, sizeof err), AZR_OK);
    assert_int_equal(w.p.anchors.n, 0); /* the next connection loads afresh */
    assert_non_null(w.p.retired);
    for (int i = 0; i < 20 && !w.connected[a]; i++) {
        sim_turns(&w, 1);
        tls_relay_pump(&t, sim_relay(&w));
    }
    assert_int_equal(w.connected[a], 1);
    assert_null(w.p.retired); /* no handshake left: freed */
    azr_tls_creds_free(&t.cr);
    sim_free(&w);
}

/* Found by review: a log handler that disconnects at dial.c's "address ... failed"
 * line (mark_bad, from azr_dial_step): end() closes every attempt
 * (azr_dial_end), then azr_dial_step drops the same attempt again: a second
 * close of its descriptor and hs->ntries wrapping below zero. */
static void rv_log_disconnects_on_failed(void *ud, int id, int level, const char *msg,
                                         const char *type)
{
    sim *w = ud;
    (void)level, (void)type;
    azr_conn *c = azr_listener_find(&w->p, id);
    if (c && strstr(msg, "address ") && strstr(msg, " failed ("))
        azr_conn_close(c, 0, "disconnected by the application", true);
}

static void test_conn_log_handler_disconnects_at_failed_attempt(void **st)
{
    (void)st;
    static sim w;
    memset(&w, 0, sizeof w);
    assert_true(sim_init(&w, (const char *const[]){"ConnectionTimeout=10", NULL}));
    w.p.ev.log = rv_log_disconnects_on_failed;
    w.next_connect_errno = ECONNREFUSED;
    int cfd;
    int a = sim_accept(&w, &cfd, 1 << 18);
    for (int i = 0; i < 5 && !w.disconnected[a]; i++)
        sim_turns(&w, 1); /* ASan: hs->ntries wraps, tries[-1] and addrs[garbage] are read */
    assert_int_equal(w.disconnected[a], 1);
    assert_int_equal(sim_relay(&w)->misuse, 0); /* the attempt's socket closed once */
    sim_free(&w);
}

/* Found by review: the server engine keeps &p->local_creds.rsa (a field of the
 * proxy's struct, azr_tls_server_init / pol_choose), not the retired copy:
 * SSLCertStore changed while a client's handshake is under way swaps the
 * key under it, although "handshakes under way finish with the old". */
static void rv_client_pump(br_ssl_client_context *cc, sim_sock *s)
{
    for (int i = 0; i < 16; i++)
        engine_records(&cc->eng, s);
}

static void test_conn_cert_changed_mid_client_handshake(void **st)
{
    (void)st;
    static sim w;
    static br_ssl_client_context cc;
    static br_x509_minimal_context xc;
    static unsigned char buf[BR_SSL_BUFSIZE_BIDI];
    static const uint16_t suite[] = {BR_TLS_RSA_WITH_AES_128_GCM_SHA256};
    azr_tls_anchors ca = {0};
    size_t added;
    char err[AZR_CONF_ERR_MAX];
    memset(&w, 0, sizeof w);
    assert_true(sim_init(
        &w, (const char *const[]){"SSLCertStore=../build/test-certs/rsa-both.pem",
                                  "SSLEnabledCipherSuites=TLS_RSA_WITH_AES_128_GCM_SHA256", NULL}));
    w.quiet = true;
    sim_tls_params(&w);
    w.p.local_tls = true;
    assert_int_equal(azr_certload_all(&w.p, err, sizeof err), AZR_OK);
    w.p.lfd = 1000; /* listening: azr_certload_changed loads the new store at once */
    assert_int_equal(
        azr_tls_anchors_add_file(&ca, "../build/test-certs/ca.pem", &added, err, sizeof err),
        AZR_OK);
    azr_tls_client_init(&cc, &xc, ca.ta, ca.n);
    br_ssl_engine_set_suites(&cc.eng, suite, 1);
    br_ssl_engine_set_buffer(&cc.eng, buf, sizeof buf, 1);
    assert_true(br_ssl_client_reset(&cc, NULL, 0));
    int cfd;
    int a = sim_accept(&w, &cfd, 1 << 18);
    sim_sock *cs = sim_sock_of(&w, cfd);
    rv_client_pump(&cc, cs); /* ClientHello */
    for (int i = 0; i < 20 && !cs->out.len; i++)
        sim_turns(&w, 1);    /* ServerHello, Certificate (RSA), ServerHelloDone */
    rv_client_pump(&cc, cs); /* ClientKeyExchange under the RSA key, Finished */
    assert_true(cs->in.len > 0);
    /* the application changes the certificate: azr_proxy_config("SSLCertStore=...") */
    assert_int_equal(azr_config_apply(&w.p.set, "SSLCertStore=../build/test-certs/both.pem", 41,
                                      err, sizeof err),
                     AZR_OK);
    assert_int_equal(azr_certload_changed(&w.p, "SSLCertStore", 12, err, sizeof err), AZR_OK);
    for (int i = 0; i < 40 && !w.dials && !w.disconnected[a]; i++) {
        sim_turns(&w, 1);
        rv_client_pump(&cc, cs);
    }
    if (w.disconnected[a])
        fail_msg("handshake under way failed: %s", w.reason[a]);
    assert_int_equal(br_ssl_engine_last_error(&cc.eng), 0);
    assert_true(br_ssl_engine_current_state(&cc.eng) & BR_SSL_SENDAPP); /* established */
    w.p.lfd = -1;
    sim_free(&w);
    azr_certload_reap(&w.p, true);
    azr_tls_creds_free(&w.p.local_creds);
    azr_tls_anchors_free(&ca);
}

/* Issue 13, the bulk path over wss:// (burst.c): records sealed four at a
 * time outside the engine, partly written, then a ping from the relay while
 * they wait. The relay's BearSSL engine decrypts every record (a sequence
 * number out of order fails its tag), the frames parse, every byte arrives
 * in order and the pong comes after the records made before it. */
static void test_conn_bulk_records_decrypt_in_order(void **st)
{
    (void)st;
    static sim w;
    static tls_relay t;
    tls_world(&w, &t, NULL);
    int cfd;
    int a = sim_accept(&w, &cfd, 1 << 18);
    tls_turns(&w, &t, a, false);
    assert_int_equal(w.connected[a], 1);
    sim_sock *r = sim_relay(&w);
    enum { N = 150000 };
    static uint8_t sent[N], got[N];
    frames f = {.got = got, .cap = sizeof got};
    for (size_t i = 0; i < N; i++)
        sent[i] = (uint8_t)(i * 7 + i / 251);
    sim_put(&sim_sock_of(&w, cfd)->in, sent, N);
    bool pinged = false, bulk = false;
    for (int i = 0; i < 3000 && f.len < N; i++) {
        r->out.cap = r->out.len + 3000; /* the relay's socket takes 3000 bytes a turn */
        sim_turns(&w, 1);
        if (w.p.burst.owner) {
            bulk = true;
            if (!pinged) { /* a ping from the relay while records wait */
                size_t len;
                unsigned char *b = br_ssl_engine_sendapp_buf(&t.sc.eng, &len);
                assert_true(b && len >= 6);
                memcpy(b, "\x89\x04ping", 6);
                br_ssl_engine_sendapp_ack(&t.sc.eng, 6);
                br_ssl_engine_flush(&t.sc.eng, 0);
                pinged = true;
            }
        }
        tls_relay_pump(&t, r);
        assert_int_equal(br_ssl_engine_last_error(&t.sc.eng), 0);
        assert_true(take_frames(&t.plain, &f));
    }
    assert_true(bulk && pinged);
    assert_int_equal(f.len, N);
    assert_memory_equal(got, sent, N);
    assert_int_equal(f.pongs, 1);
    assert_true(f.pong_at > 0);
    assert_null(w.p.burst.owner);
    azr_tls_creds_free(&t.cr);
    sim_free(&w);
}

/* Found by review: over wss:// the keep-alive ping sat in a TLS record still
 * filling (closed at the pump's end) when the write path judged "nothing
 * pending" and started the pong deadline; with the relay's socket full the
 * ping never left and the relay was called silent. */
static void test_conn_tls_pong_deadline_starts_on_the_wire(void **st)
{
    (void)st;
    static sim w;
    static tls_relay t;
    tls_world(&w, &t, "RelayKeepAliveInterval=2");
    int cfd;
    int a = sim_accept(&w, &cfd, 1 << 18);
    tls_turns(&w, &t, a, false);
    assert_int_equal(w.connected[a], 1);
    sim_sock *r = sim_relay(&w);
    tls_relay_pump(&t, r);
    r->out.cap = r->out.len; /* the relay takes nothing more */
    sim_wait(&w, 6000, 250);
    assert_int_equal(w.disconnected[a], 0); /* the ping is not on the wire */
    r->out.cap = sizeof r->out.buf;         /* it reads again: the ping goes, no pong: silent */
    sim_wait(&w, 6000, 250);
    assert_int_equal(w.disconnected[a], 1);
    assert_non_null(strstr(w.reason[a], "not answering"));
    azr_tls_creds_free(&t.cr);
    sim_free(&w);
}

/* The relay's TCP ends without a close frame while its data waits for a
 * client that does not read: the connection still ends (HalfCloseTimeout),
 * it does not wait for the relay input to drain forever. */
static void test_conn_relay_eof_with_blocked_client_ends(void **st)
{
    (void)st;
    sim_world *t = sim_world_up(NULL, 100);
    static uint8_t a[5000];
    sim_frame(t->relay, 0x82, a, sizeof a);
    t->relay->in_eof = true;
    sim_turns(&t->w, 3);
    for (int i = 0; i < 400 && !t->w.disconnected[t->id]; i++)
        sim_wait(&t->w, 1000, 250);
    print_message("disc %d after; reason %s; client got %zu\n", t->w.disconnected[t->id],
                  t->w.reason[t->id], t->client->out.len);
    assert_int_equal(t->w.disconnected[t->id], 1);
    sim_world_down(t);
}

int main(int argc, char **argv)
{
    if (argc > 1) /* one test by name (a sanitizer stops the whole run) */
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conn_echo_and_clean_close),
        cmocka_unit_test(test_conn_half_close_bound_is_inactivity),
        cmocka_unit_test(test_conn_keepalive_not_fooled_by_backpressure),
        cmocka_unit_test(test_conn_pong_deadline_starts_on_the_wire),
        cmocka_unit_test(test_conn_idle_timeout_sends_1001),
        cmocka_unit_test(test_conn_protocol_error_sends_1002),
        cmocka_unit_test(test_conn_control_frames_are_not_dropped),
        cmocka_unit_test(test_conn_relay_fin_without_close_aborts),
        cmocka_unit_test(test_conn_relay_fin_mid_frame_aborts),
        cmocka_unit_test(test_conn_relay_reset_aborts),
        cmocka_unit_test(test_conn_timeout_is_inactivity),
        cmocka_unit_test(test_conn_absolute_timeout),
        cmocka_unit_test(test_conn_idle_timeout_rearms_at_once),
        cmocka_unit_test(test_conn_dial_failures),
        cmocka_unit_test(test_conn_retry_until_the_relay_answers),
        cmocka_unit_test(test_conn_no_retry_and_client_leaving),
        cmocka_unit_test(test_conn_handler_closing_others),
        cmocka_unit_test(test_conn_phases_and_handshake_block),
        cmocka_unit_test(test_conn_ids_wrap_and_skip_live_ones),
        cmocka_unit_test(test_conn_masks_from_a_pool),
        cmocka_unit_test(test_conn_leaf_room_fixed_at_start),
        cmocka_unit_test(test_conn_retry_drops_old_flight),
        cmocka_unit_test(test_conn_log_handler_disconnects_during_lookup),
        cmocka_unit_test(test_conn_tls_out_size_fixed_at_accept),
        cmocka_unit_test(test_conn_status_handler_disconnects_in_cert_check),
        cmocka_unit_test(test_conn_log_handler_disconnects_at_accept),
        cmocka_unit_test(test_conn_anchors_freed_mid_handshake),
        cmocka_unit_test(test_conn_log_handler_disconnects_at_failed_attempt),
        cmocka_unit_test(test_conn_cert_changed_mid_client_handshake),
        cmocka_unit_test(test_conn_relay_eof_with_blocked_client_ends),
        cmocka_unit_test(test_conn_bulk_records_decrypt_in_order),
        cmocka_unit_test(test_conn_tls_pong_deadline_starts_on_the_wire),
    };
    return cmocka_run_group_tests_name("conn", tests, NULL, NULL);
}
