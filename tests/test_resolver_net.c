/*
 * The resolver on the wire against servers that misbehave, in a network
 * namespace of the suite's own (resolver_ns.h): a server that never answers
 * (the lookup ends after timeout x attempts while a timer on the same loop
 * keeps its pace: the longest gap is printed), the next server after a
 * silent one, a closed port, stray and forged datagrams that must be
 * ignored, a record that changes under a TTL, and a truncated answer asked
 * again over TCP.
 */
#include "resolver_ns.h"

/* The ticker on the same loop: the largest lateness of a 10 ms timer, in us. */
typedef struct ticker {
    azr_timer t;
    uint64_t last_us, worst_us, ticks;
} ticker;

static uint64_t us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void on_tick(azr_reactor *l, azr_timer *t, void *ud)
{
    ticker *k = ud;
    uint64_t now = us();
    if (k->last_us && now - k->last_us > k->worst_us)
        k->worst_us = now - k->last_us;
    k->last_us = now;
    k->ticks++;
    assert_int_equal(azr_timer_arm(l, t, 10, on_tick, k), AZR_OK);
}

/* A server that takes the query and never answers: the lookup fails after timeout x
 * attempts (1 s) while a 10 ms timer on the same loop keeps its pace; then a silent first
 * server and dnsmasq second: the answer comes from the second after one timeout. */
static void test_resolver_silent_server(void **s)
{
    (void)s;
    azr_reactor *l;
    azr_resolver *r;
    got g;
    need_namespace();
    int hole = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(53)};
    inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
    assert_int_equal(bind(hole, (struct sockaddr *)&a, sizeof a), 0);
    put_file(RESOLV, "nameserver 127.0.0.2\noptions timeout:1 attempts:1\nsearch .\n");
    world(&l, &r);
    ticker k = {0};
    assert_int_equal(azr_timer_arm(l, &k.t, 10, on_tick, &k), AZR_OK);
    uint64_t t0 = ms();
    azr_resolve_req q = {0};
    lookup(r, &q, "www.example.test", 2, &g);
    run_until(l, &g.calls, 1, 5000);
    uint64_t took = ms() - t0;
    assert_int_equal(g.st, AZR_RES_TIMEOUT);
    assert_non_null(strstr(g.reason, "DNS: no answer from 127.0.0.2 after 1 attempt of 1 s "
                                     "(resolv.conf timeout/attempts)"));
    assert_true(took >= 950 && took < 1600);
    assert_true(k.ticks >= 60);
    print_message("silent server: lookup failed after %llu ms; %llu ticks of a 10 ms timer, "
                  "longest gap between two %llu us\n",
                  (unsigned long long)took, (unsigned long long)k.ticks,
                  (unsigned long long)k.worst_us);
    assert_true(k.worst_us < 100000);
    /* the silent server first, dnsmasq second: servers in resolv.conf's order */
    azr_timer_cancel(l, &k.t);
    end(l, r);
    dns_start(300);
    put_file(RESOLV, "nameserver 127.0.0.2\nnameserver 127.0.0.1\noptions timeout:1 attempts:1\n"
                     "search .\n");
    world(&l, &r);
    t0 = ms();
    resolve(l, r, "www.example.test", 0, &g);
    took = ms() - t0;
    assert_int_equal(g.st, AZR_RES_OK);
    assert_string_equal(g.reason, "DNS: www.example.test is 192.0.2.10 (from 127.0.0.1)");
    assert_true(took >= 950 && took < 1600);
    assert_int_equal(stats(r).timeouts, 1);
    close(hole);
    end(l, r);
}

/* Nothing listens on 127.0.0.3:53: the ICMP refusal ends the try at once, not the timer. */
static void test_resolver_port_closed(void **s)
{
    (void)s;
    azr_reactor *l;
    azr_resolver *r;
    got g;
    put_file(RESOLV, "nameserver 127.0.0.3\noptions timeout:5 attempts:2\nsearch .\n");
    world(&l, &r);
    uint64_t t0 = ms();
    resolve(l, r, "www.example.test", 0, &g);
    assert_true(ms() - t0 < 1000);
    assert_int_equal(g.st, AZR_RES_IO);
    assert_string_equal(g.reason, "DNS: no DNS server listens on port 53 of 127.0.0.3: Connection "
                                  "refused (IPv4 for www.example.test)");
    assert_int_equal(stats(r).udp_sent, 2);
    end(l, r);
}

/* A server of the test's own on 127.0.0.4 that sends, to each query, the query itself, an
 * answer with another ID, 5 bytes of junk, an answer for another name and, when asked, the
 * real answer (the query turned into a response with one A record appended). */
typedef struct fake {
    int fd;
    bool answer;
    int queries;
} fake;

static void on_fake(azr_reactor *l, int fd, unsigned ev, void *ud)
{
    fake *f = ud;
    uint8_t q[512], m[600];
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    (void)l;
    (void)ev;
    ssize_t n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
    if (n < 12)
        return;
    f->queries++;
    memcpy(m, q, (size_t)n);
    sendto(fd, m, (size_t)n, 0, (struct sockaddr *)&from, fl); /* QR 0 */
    m[2] = 0x81;
    m[3] = 0x80;
    m[7] = 1;
    static const uint8_t rec[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 99};
    memcpy(m + n, rec, sizeof rec);
    size_t len = (size_t)n + sizeof rec;
    m[0] ^= 0x55;
    sendto(fd, m, len, 0, (struct sockaddr *)&from, fl); /* another ID */
    m[0] ^= 0x55;
    sendto(fd, "junk!", 5, 0, (struct sockaddr *)&from, fl);
    m[13] ^= 0x01;
    sendto(fd, m, len, 0, (struct sockaddr *)&from, fl); /* another name */
    m[13] ^= 0x01;
    if (f->answer)
        sendto(fd, m, len, 0, (struct sockaddr *)&from, fl);
}

static void test_resolver_ignores_stray_datagrams(void **s)
{
    (void)s;
    azr_reactor *l;
    azr_resolver *r;
    got g;
    put_file(RESOLV, "nameserver 127.0.0.4\noptions timeout:1 attempts:1\nsearch .\n");
    world(&l, &r);
    fake f = {.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(53)};
    inet_pton(AF_INET, "127.0.0.4", &a.sin_addr);
    assert_int_equal(bind(f.fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(azr_reactor_set(l, f.fd, AZR_READABLE, on_fake, &f), AZR_OK);
    resolve(l, r, "www.example.test", 0, &g);
    assert_int_equal(g.st, AZR_RES_TIMEOUT);
    assert_non_null(strstr(g.reason, "; ignored 4 datagrams: "));
    assert_int_equal(stats(r).ignored, 4);
    f.answer = true;
    resolve(l, r, "www.example.test", 0, &g);
    assert_int_equal(g.st, AZR_RES_OK);
    assert_string_equal(addr(&g, 0), "192.0.2.99");
    assert_int_equal(g.ttl, 60);
    assert_int_equal(stats(r).ignored, 8);
    assert_int_equal(f.queries, 2);
    azr_reactor_del(l, f.fd);
    close(f.fd);
    end(l, r);
}

/* A record changes: before its TTL (1 s) the cached address, after it the new one. */
static void test_resolver_record_changes(void **s)
{
    (void)s;
    azr_reactor *l;
    azr_resolver *r;
    got g;
    world(&l, &r);
    dns_start(1);
    resolve(l, r, "changing.example.test", 0, &g);
    assert_string_equal(addr(&g, 0), "192.0.2.40");
    assert_int_equal(g.ttl, 1);
    uint64_t t0 = ms();
    zone(41);
    kill(dnsmasq_pid, SIGHUP);
    for (int i = 0; i < 100 && count_in_file(QLOG, "read ") < 2; i++)
        usleep(5000); /* dnsmasq logs "read <zone>" again once it re-read it */
    assert_int_equal(count_in_file(QLOG, "read "), 2);
    resolve(l, r, "changing.example.test", 0, &g);
    assert_true(ms() - t0 < 900);
    assert_string_equal(addr(&g, 0), "192.0.2.40"); /* still cached */
    assert_string_equal(g.source, "cache");
    while (ms() - t0 < 1100)
        assert_int_equal(azr_reactor_turn(l, 20, NULL), AZR_OK);
    resolve(l, r, "changing.example.test", 0, &g);
    assert_string_equal(addr(&g, 0), "192.0.2.41");
    assert_string_equal(g.source, "dns");
    end(l, r);
}

/* 16 AAAA records for a long name do not fit in 512 bytes: TC, then TCP, all 16 arrive;
 * the 16 A records fit and stay on UDP. */
static void test_resolver_truncated_answer_over_tcp(void **s)
{
    (void)s;
    azr_reactor *l;
    azr_resolver *r;
    got g;
    world(&l, &r);
    dns_start(300);
    resolve(l, r, LONG_NAME, 2, &g);
    assert_int_equal(g.st, AZR_RES_OK);
    assert_int_equal(g.n, 32);
    char want[64];
    for (int i = 0; i < 16; i++) { /* dnsmasq's order is its own: look for each */
        bool seen6 = false, seen4 = false;
        for (size_t k = 0; k < g.n; k++) {
            snprintf(want, sizeof want, "2001:db8::1:%x", i + 1);
            seen6 |= strcmp(addr(&g, k), want) == 0 && k < 16;
            snprintf(want, sizeof want, "192.0.2.%d", 101 + i);
            seen4 |= strcmp(addr(&g, k), want) == 0 && k >= 16;
        }
        assert_true(seen6 && seen4);
    }
    assert_int_equal(stats(r).tcp_queries, 1);
    assert_int_equal(count_in_file(QLOG, "query[AAAA] " LONG_NAME), 2); /* UDP, then TCP */
    assert_int_equal(count_in_file(QLOG, "query[A] " LONG_NAME), 1);
    end(l, r);
}

static int run(void)
{
    const struct CMUnitTest tests[] = {
        T(test_resolver_silent_server),
        T(test_resolver_port_closed),
        T(test_resolver_ignores_stray_datagrams),
        T(test_resolver_record_changes),
        T(test_resolver_truncated_answer_over_tcp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

int main(void)
{
    return resolver_ns_main(run);
}
