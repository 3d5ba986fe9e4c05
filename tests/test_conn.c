/*
 * The connection state machine over fake transports on a fake clock
 * (tests/simnet.h): every close order, the timers, back-pressure both ways
 * and control-frame queueing, deterministic and without a socket. The wire
 * defects of issue 10 show here as well as over sockets (test_close).
 */
#include "testutil.h"
#include "simnet.h"

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
    memset(&w, 0, sizeof w);
    assert_true(sim_init(&w, (const char *const[]){"NamespaceAddress=wss://127.0.0.1:9",
                                                   "ConnectionTimeout=10", NULL}));
    w.quiet = true;
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

int main(void)
{
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
    };
    return cmocka_run_group_tests_name("conn", tests, NULL, NULL);
}
