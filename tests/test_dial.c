/*
 * The proxy reaching its relay by name (issue 11), through the public API
 * only, against a real dnsmasq: the suite runs in a network namespace of
 * its own and a mount namespace whose /etc/resolv.conf and /etc/hosts are
 * the suite's files (netns.h), since the proxy reads those paths. lo
 * answers any 127/8 address and ::1, so relays (Node's ws, ws-relay.js) sit
 * on 127.0.0.1, 127.0.0.2 and ::1 under one port. Cases: a relay by name; a
 * record that changes under a 1 s TTL; a DNS server that never answers
 * (the waiting client fails naming DNS while a second proxy on the same
 * loop keeps echoing: its longest round trip is printed); NXDOMAIN; Happy
 * Eyeballs past an address that drops SYNs; an address that refused going
 * last for the next connection; retries inside ConnectionTimeout; UseIPv6
 * against a name with only an AAAA record.
 */
#include "harness.h"
#include "netns.h"
#include <poll.h>

#define NAME "relay.example.test"

/* An echo relay on host:port (0: the kernel picks; r->port says). */
static void echo_on(relay *r, const char *host, int port)
{
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    relay_start(r, (const char *const[]){"--mode", "echo", "--host", host, "--port", p, NULL});
    assert_true(port == 0 || r->port == port);
}

/* What a case made and has not freed yet: a failed case leaves them to the teardown. */
static azr_proxy *live[2];
static azr_loop *live_loop;

/* A proxy for ws://host:port, hc1, with the harness's settings plus set. */
static azr_proxy *proxy_for(const char *host, int port, seen *s, const char *const *set, int *lport)
{
    char ns[128];
    snprintf(ns, sizeof ns, "ws://%s:%d", host, port);
    memset(s, 0, sizeof *s);
    azr_proxy *p = proxy_at(ns, "hc1", s, set, lport);
    for (int i = 0; i < 2; i++)
        if (!live[i]) {
            live[i] = p;
            return p;
        }
    fail_msg("more than two proxies at once");
    return p;
}

static void proxy_done(azr_proxy *p)
{
    for (int i = 0; i < 2; i++)
        if (live[i] == p)
            live[i] = NULL;
    azr_proxy_free(p);
}

/* n random bytes through fd and back within limit_ms; the ms it took. */
static uint64_t echo_ms(azr_proxy *p, int fd, size_t n, uint64_t limit_ms)
{
    static uint8_t out[4096], back[4096];
    assert_true(n <= sizeof out);
    random_bytes(out, n);
    uint64_t t0 = ms();
    size_t got = exchange(p, fd, out, back, n, false, limit_ms);
    uint64_t took = ms() - t0;
    if (got != n)
        fail_msg("%zu of %zu bytes came back within %llu ms", got, n, (unsigned long long)limit_ms);
    assert_memory_equal(out, back, n);
    return took;
}

/* The relay's next upgrade request, within limit_ms (false: none); its line in req. */
static char req[4096];
static bool request_seen(relay *r, int limit_ms)
{
    return relay_line(r, "REQUEST ", req, sizeof req, limit_ms);
}

/* Where needle first appears in the proxy's log, or -1. */
static long log_at(const seen *s, const char *needle)
{
    const char *p = strstr(s->log, needle);
    return p ? (long)(p - s->log) : -1;
}

/* Client fd was refused: the proxy's Disconnected (and the failed
 * Connected) arrive within limit_ms of t0 and fd reads EOF; the ms it took. */
static uint64_t refused_within(azr_proxy *p, seen *s, int fd, uint64_t t0, uint64_t limit_ms)
{
    uint64_t left = t0 + limit_ms > ms() ? t0 + limit_ms - ms() : 0;
    SPIN(p, s->disconnected == 1, left);
    uint64_t took = ms() - t0;
    if (s->disconnected != 1)
        fail_msg("no Disconnected within %llu ms; log:\n%s", (unsigned long long)limit_ms, s->log);
    assert_int_equal(s->connected, 1);
    assert_int_not_equal(s->connected_status, 0);
    assert_int_not_equal(s->disconnected_status, 0);
    assert_true(eof_within(p, fd, 1000));
    return took;
}

static void want_in(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("\"%s\" not in \"%s\"", needle, text);
}

/* ------------------------------------------------------------------ cases */

/* NamespaceAddress by name: dnsmasq says relay.example.test is 127.0.0.1, where the relay is. */
static void test_dial_relay_by_name(void **st)
{
    (void)st;
    need_namespace();
    put_file(ZONE, "127.0.0.1 " NAME "\n");
    dns_start(60);
    relay r;
    echo_on(&r, "127.0.0.1", 0);
    static seen s;
    int lport;
    azr_proxy *p = proxy_for(NAME, r.port, &s, NULL, &lport);
    int fd = client(lport);
    echo_ms(p, fd, 1000, 5000);
    assert_true(request_seen(&r, 1000));
    char host[64];
    snprintf(host, sizeof host, "\"host\":\"" NAME ":%d\"", r.port); /* the name, not the address */
    want_in(req, host);
    want_in(s.log, "DNS: " NAME " is 127.0.0.1 (from 127.0.0.1)");
    assert_true(count_in_file(QLOG, "query[A] " NAME) >= 1); /* asked, not a hosts entry */
    assert_int_equal(s.disconnected, 0);
    close(fd);
    proxy_done(p);
    relay_stop(&r);
}

/* TTL 1: the first connection goes to 127.0.0.1; the record then says 127.0.0.2 (dnsmasq
 * reads its hosts again on SIGHUP) and, once the TTL has passed, the next one goes there. */
static void test_dial_record_changes(void **st)
{
    (void)st;
    need_namespace();
    put_file(ZONE, "127.0.0.1 " NAME "\n");
    dns_start(1);
    relay one, two;
    echo_on(&one, "127.0.0.1", 0);
    echo_on(&two, "127.0.0.2", one.port);
    static seen s;
    int lport;
    azr_proxy *p = proxy_for(NAME, one.port, &s, NULL, &lport);
    int fd = client(lport);
    echo_ms(p, fd, 100, 5000);
    assert_true(request_seen(&one, 1000));
    assert_false(request_seen(&two, 0));
    close(fd);
    SPIN(p, s.disconnected == 1, 3000);
    assert_int_equal(s.disconnected, 1);

    put_file(ZONE, "127.0.0.2 " NAME "\n");
    assert_int_equal(kill(dnsmasq_pid, SIGHUP), 0);
    SPIN(p, false, 1500); /* longer than the TTL */
    fd = client(lport);
    echo_ms(p, fd, 100, 5000);
    assert_true(request_seen(&two, 1000));
    assert_false(request_seen(&one, 0));
    want_in(s.log, "DNS: " NAME " is 127.0.0.2");
    close(fd);
    proxy_done(p);
    relay_stop(&one);
    relay_stop(&two);
}

/* resolv.conf names a server that takes queries and never answers (timeout:1 attempts:1,
 * ConnectionTimeout=3): the waiting client fails naming DNS within 4 s, and meanwhile a
 * second proxy on the same loop, whose relay is a literal address, keeps echoing. */
static void test_dial_dns_never_answers(void **st)
{
    (void)st;
    need_namespace();
    int hole = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(53)};
    inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
    assert_int_equal(bind(hole, (struct sockaddr *)&a, sizeof a), 0);
    put_file_in_place(RESOLV, "nameserver 127.0.0.2\nsearch .\noptions timeout:1 attempts:1\n");
    relay r;
    echo_on(&r, "127.0.0.1", 0);
    azr_loop *l = azr_loop_new(0);
    assert_non_null(l);
    harness_loop = live_loop = l;
    static seen sa, sb;
    int la, lb;
    azr_proxy *pa =
        proxy_for(NAME, r.port, &sa, (const char *const[]){"ConnectionTimeout=3", NULL}, &la);
    azr_proxy *pb = proxy_for("127.0.0.1", r.port, &sb, NULL, &lb);
    harness_loop = NULL;
    int fb = client(lb);
    echo_ms(pb, fb, 64, 5000); /* b's relay connection is up */

    uint64_t t0 = ms(), worst = 0;
    int fa = client(la), trips = 0;
    assert_int_equal(write(fa, "hello?", 6), 6);
    while (sa.disconnected == 0 && ms() < t0 + 6000) {
        uint64_t rt = echo_ms(pb, fb, 64, 2000);
        worst = rt > worst ? rt : worst;
        trips++;
        assert_int_equal(azr_loop_run(l, 10), 0);
    }
    uint64_t took = refused_within(pa, &sa, fa, t0, 6000);
    print_message("DNS never answers: the client was refused after %llu ms (ConnectionTimeout 3 "
                  "s); meanwhile %d echo round trips through the other proxy, the longest %llu "
                  "ms\n",
                  (unsigned long long)took, trips, (unsigned long long)worst);
    print_message("  reason: %s\n", sa.disconnected_desc);
    assert_true(took >= 2000 && took <= 4000);
    assert_true(trips >= 20);
    assert_true(worst <= 200);
    assert_int_equal(sb.disconnected, 0);
    want_in(sa.disconnected_desc, "DNS: no answer from 127.0.0.2");
    want_in(sa.connected_desc, "DNS: no answer from 127.0.0.2");
    want_in(sa.disconnected_desc, "ConnectionTimeout");
    /* each lookup that timed out was an attempt: counted from 1, like failed connects */
    want_in(sa.log, "attempt 1 failed: DNS: no answer from 127.0.0.2");
    if (strstr(sa.disconnected_desc, " 0 attempts") || strstr(sa.log, "attempt 0 failed"))
        fail_msg("DNS attempts counted from 0; reason: %s", sa.disconnected_desc);
    close(fa);
    close(fb);
    proxy_done(pa);
    proxy_done(pb);
    assert_int_equal(azr_loop_free(l), 0);
    live_loop = NULL;
    close(hole);
    relay_stop(&r);
}

/* A name dnsmasq does not know: NXDOMAIN ends the connection at once, naming the setting. */
static void test_dial_nxdomain(void **st)
{
    (void)st;
    need_namespace();
    put_file(ZONE, "127.0.0.1 " NAME "\n");
    dns_start(60);
    static seen s;
    int lport;
    azr_proxy *p = proxy_for("nothere.example.test", 9, &s,
                             (const char *const[]){"ConnectionTimeout=10", NULL}, &lport);
    uint64_t t0 = ms();
    int fd = client(lport);
    uint64_t took = refused_within(p, &s, fd, t0, 3000);
    print_message("NXDOMAIN: refused after %llu ms: %s\n", (unsigned long long)took,
                  s.disconnected_desc);
    assert_true(took < 1000);
    want_in(s.disconnected_desc, "nothere.example.test does not exist");
    want_in(s.disconnected_desc, "NamespaceAddress");
    assert_int_equal(log_at(&s, "attempt 1 failed"), -1); /* not retried */
    azr_proxy_stats c;
    assert_int_equal(azr_proxy_get_stats(p, &c), 0); /* counted as the lookup's failure */
    assert_int_equal(c.relay_failures[AZR_FAIL_DNS], 1);
    assert_int_equal(c.relay_failures[AZR_FAIL_TCP], 0);
    assert_int_equal(c.retries, 0);
    assert_true(count_in_file(QLOG, "query[A] nothere.example.test") >= 1);
    close(fd);
    proxy_done(p);
}

/* A listening socket of backlog 0 whose accept queue holds one connection nobody accepts:
 * Linux drops further SYNs to it (checked here with a probe that must stay unanswered). */
static void syn_hole(const char *ip, int port, int *lfd, int *filler)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    *lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(*lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(*lfd, 0), 0);
    int c[2];
    for (int i = 0; i < 2; i++) {
        c[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        int rc = connect(c[i], (struct sockaddr *)&a, sizeof a);
        assert_true(rc == 0 || errno == EINPROGRESS);
        struct pollfd pf = {.fd = c[i], .events = POLLOUT};
        int n = poll(&pf, 1, i == 0 ? 1000 : 300);
        if (i == 0 && n != 1)
            fail_msg("the first connection to %s:%d did not complete", ip, port);
        if (i == 1 && n != 0)
            fail_msg("a SYN to %s:%d with a full accept queue was answered: this kernel does not "
                     "drop them, so the case cannot make a silent address",
                     ip, port);
    }
    close(c[1]);
    *filler = c[0];
}

/* relay.example.test is 127.0.0.2 (drops SYNs) and 127.0.0.1 (the relay): whatever order
 * DNS gives, the echo comes back after one 250 ms stagger, not a ConnectionTimeout; the
 * next connection goes to 127.0.0.1 first (a failed address is tried last for 30 s). */
static void test_dial_happy_eyeballs_past_silent_address(void **st)
{
    (void)st;
    need_namespace();
    put_file(ZONE, "127.0.0.2 " NAME "\n127.0.0.1 " NAME "\n");
    dns_start(60);
    relay r;
    echo_on(&r, "127.0.0.1", 0);
    int hole, filler;
    syn_hole("127.0.0.2", r.port, &hole, &filler);
    static seen s;
    int lport;
    azr_proxy *p =
        proxy_for(NAME, r.port, &s, (const char *const[]){"ConnectionTimeout=20", NULL}, &lport);
    char bad[128], good[128];
    snprintf(bad, sizeof bad, "connecting to relay " NAME ":%d at 127.0.0.2", r.port);
    snprintf(good, sizeof good, "connecting to relay " NAME ":%d at 127.0.0.1", r.port);

    uint64_t t0 = ms();
    int fd = client(lport);
    echo_ms(p, fd, 100, 5000);
    uint64_t first = ms() - t0;
    long at_bad = log_at(&s, bad), at_good = log_at(&s, good);
    print_message("Happy Eyeballs: first echo after %llu ms; tried %s\n", (unsigned long long)first,
                  at_bad < 0         ? "127.0.0.1 only"
                  : at_bad < at_good ? "127.0.0.2 (silent) first, then 127.0.0.1"
                                     : "127.0.0.1 first, then 127.0.0.2");
    assert_true(at_good >= 0);
    assert_true(first < 1500);
    if (at_bad >= 0 && at_bad < at_good)
        assert_true(first >= 200); /* the stagger, not a failure seen earlier */
    assert_true(request_seen(&r, 1000));
    close(fd);
    SPIN(p, s.disconnected == 1, 3000);
    assert_int_equal(s.disconnected, 1);

    s.log[0] = '\0';
    t0 = ms();
    fd = client(lport);
    echo_ms(p, fd, 100, 5000);
    uint64_t second = ms() - t0;
    at_bad = log_at(&s, bad);
    at_good = log_at(&s, good);
    print_message("Happy Eyeballs: second connection's echo after %llu ms; %s\n",
                  (unsigned long long)second,
                  at_bad < 0 ? "127.0.0.1 only" : "127.0.0.2 tried again");
    if (at_bad >= 0)
        fail_msg("the second connection tried the silent 127.0.0.2 again (at %ld, 127.0.0.1 at "
                 "%ld in its log):\n%s",
                 at_bad, at_good, s.log);
    assert_true(at_good >= 0);
    assert_true(second < 1000);
    close(fd);
    proxy_done(p);
    close(filler);
    close(hole);
    relay_stop(&r);
}

/* relay.example.test is ::1, where nothing listens (refused at once), and 127.0.0.1 (the
 * relay); UseIPv6=2 tries ::1 first. The refusal marks ::1 as failed, so for 30 s the next
 * connection tries 127.0.0.1 first. */
static void test_dial_refused_address_goes_last(void **st)
{
    (void)st;
    need_namespace();
    put_file(ZONE, "::1 " NAME "\n127.0.0.1 " NAME "\n");
    dns_start(60);
    relay r;
    echo_on(&r, "127.0.0.1", 0);
    static seen s;
    int lport;
    azr_proxy *p = proxy_for(NAME, r.port, &s, (const char *const[]){"UseIPv6=2", NULL}, &lport);
    char bad[128], good[128];
    snprintf(bad, sizeof bad, "connecting to relay " NAME ":%d at ::1", r.port);
    snprintf(good, sizeof good, "connecting to relay " NAME ":%d at 127.0.0.1", r.port);
    int fd = client(lport);
    echo_ms(p, fd, 100, 5000);
    long at_bad = log_at(&s, bad), at_good = log_at(&s, good);
    assert_true(at_bad >= 0 && at_good > at_bad); /* IPv6 first */
    want_in(s.log, "address ::1 failed (Connection refused): tried last for 30 s");
    close(fd);
    SPIN(p, s.disconnected == 1, 3000);
    assert_int_equal(s.disconnected, 1);

    s.log[0] = '\0';
    fd = client(lport);
    echo_ms(p, fd, 100, 5000);
    at_bad = log_at(&s, bad);
    at_good = log_at(&s, good);
    if (at_good < 0 || (at_bad >= 0 && at_bad < at_good))
        fail_msg("the second connection did not try 127.0.0.1 first; its log:\n%s", s.log);
    close(fd);
    proxy_done(p);
    relay_stop(&r);
}

/* Nothing listens at first: connects are refused and retried with backoff; the relay starts
 * 700 ms after the client came, and within ConnectionTimeout=5 the client's early bytes come
 * back through it. */
static void test_dial_retry_until_relay_listens(void **st)
{
    (void)st;
    need_namespace();
    put_file(ZONE, "127.0.0.1 " NAME "\n");
    dns_start(60);
    int port = free_port();
    static seen s;
    int lport;
    azr_proxy *p =
        proxy_for(NAME, port, &s, (const char *const[]){"ConnectionTimeout=5", NULL}, &lport);
    static uint8_t out[1000], back[1000];
    random_bytes(out, sizeof out);
    uint64_t t0 = ms();
    int fd = client(lport);
    size_t sent = 0, got = 0;
    relay r = {.pid = 0};
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    const char *argv[] = {"node", "node/ws-relay.js", "--mode", "echo", "--port", ps, NULL};
    while (got < sizeof out && s.disconnected == 0 && ms() < t0 + 8000) {
        assert_int_equal(azr_proxy_do_events(p, 5), 0);
        if (sent < sizeof out) {
            ssize_t n = write(fd, out + sent, sizeof out - sent);
            if (n > 0)
                sent += (size_t)n;
        }
        if (!r.pid && ms() >= t0 + 700)
            proc_start(&r, argv, 1);
        ssize_t n = take(fd, back + got, sizeof back - got);
        if (n > 0)
            got += (size_t)n;
    }
    uint64_t took = ms() - t0;
    assert_true(r.pid > 0); /* started at 700 ms */
    int attempts = 0;
    for (const char *q = strstr(s.log, "; trying again in "); q;
         q = strstr(q + 1, "; trying again in "))
        attempts++;
    print_message("retry: the echo came back %llu ms after the client came (relay started at "
                  "700 ms); %d failed attempts before\n",
                  (unsigned long long)took, attempts);
    if (got != sizeof out)
        fail_msg("%zu of %zu bytes back; %s; log:\n%s", got, sizeof out,
                 s.disconnected ? s.disconnected_desc : "still waiting", s.log);
    assert_memory_equal(out, back, sizeof out);
    assert_true(took < 5000);
    char want[200];
    snprintf(want, sizeof want,
             "attempt 1 failed: TCP connect to relay " NAME ":%d failed: Connection refused", port);
    want_in(s.log, want);
    want_in(s.log, "; trying again in ");
    assert_true(request_seen(&r, 1000));
    assert_int_equal(s.disconnected, 0);
    close(fd);
    proxy_done(p);
    relay_stop(&r);
}

/* A name with only an AAAA record (::1): UseIPv6=2 reaches the relay on [::1]; UseIPv6=0
 * fails at once, saying there is no IPv4 address and naming the setting. */
static void test_dial_use_ipv6_aaaa_only(void **st)
{
    (void)st;
    need_namespace();
    put_file(ZONE, "::1 v6only.example.test\n");
    dns_start(60);
    relay r;
    echo_on(&r, "::1", 0);
    static seen s;
    int lport;
    azr_proxy *p = proxy_for("v6only.example.test", r.port, &s,
                             (const char *const[]){"UseIPv6=2", NULL}, &lport);
    int fd = client(lport);
    echo_ms(p, fd, 100, 5000);
    char want[128];
    snprintf(want, sizeof want, "connecting to relay v6only.example.test:%d at ::1", r.port);
    want_in(s.log, want);
    assert_true(request_seen(&r, 1000));
    close(fd);
    proxy_done(p);

    p = proxy_for("v6only.example.test", r.port, &s, (const char *const[]){"UseIPv6=0", NULL},
                  &lport);
    uint64_t t0 = ms();
    fd = client(lport);
    uint64_t took = refused_within(p, &s, fd, t0, 3000);
    print_message("UseIPv6=0, AAAA only: refused after %llu ms: %s\n", (unsigned long long)took,
                  s.disconnected_desc);
    assert_true(took < 1000);
    want_in(s.disconnected_desc, "no IPv4 address");
    want_in(s.disconnected_desc, "NamespaceAddress");
    assert_false(request_seen(&r, 0));
    close(fd);
    proxy_done(p);
    relay_stop(&r);
}

/* ------------------------------------------------------------------ setup */

static int setup(void **st)
{
    (void)st;
    /* the files under /etc/resolv.conf and /etc/hosts, rewritten in place */
    put_file_in_place(RESOLV, "nameserver 127.0.0.1\nsearch .\noptions timeout:1 attempts:2\n");
    put_file_in_place(HOSTS, "127.0.0.1 localhost\n::1 localhost\n");
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    harness_loop = NULL;
    for (int i = 0; i < 2; i++)
        if (live[i])
            proxy_done(live[i]);
    if (live_loop)
        azr_loop_free(live_loop);
    live_loop = NULL;
    procs_kill_all();
    dns_stop();
    return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

static int run(void)
{
    const struct CMUnitTest tests[] = {
        T(test_dial_relay_by_name),
        T(test_dial_record_changes),
        T(test_dial_dns_never_answers),
        T(test_dial_nxdomain),
        T(test_dial_happy_eyeballs_past_silent_address),
        T(test_dial_refused_address_goes_last),
        T(test_dial_retry_until_relay_listens),
        T(test_dial_use_ipv6_aaaa_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

int main(void)
{
    return ns_main(true, run);
}
