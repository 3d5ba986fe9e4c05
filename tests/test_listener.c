/*
 * The listener over real sockets on 127.0.0.1, with Node's ws as the relay:
 * running out of descriptors pauses accepting instead of spinning (issue 10
 * item 6), and MaxConnections turns the excess away at once.
 */
#include "testutil.h"
#include "peers.h"
#include "harness.h"
#include <errno.h>
#include <sys/socket.h>
#include "net.h"
#include <sys/resource.h>
#include <unistd.h>

static azr_proxy *echo_proxy(relay *r, seen *s, const char *const *set, int *port)
{
    char ns[64];
    relay_start(r, (const char *const[]){"--mode", "echo", NULL});
    snprintf(ns, sizeof ns, "ws://127.0.0.1:%d", r->port);
    return proxy_at(ns, "hc1", s, set, port);
}

static double cpu_secs(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
           ((double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_usec) / 1e6;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Out of descriptors: the loop must not spin on accept() (epoll and poll
 * report the waiting client again at once), the log must not flood, and
 * the waiting client is served once descriptors come free. */
static void test_listener_out_of_descriptors_pauses(void **st)
{
    (void)st;
    /* a small ceiling, hard too: the proxy raises the soft limit to the hard one */
    struct rlimit rl = {256, 256};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    int port;
    azr_proxy *p = echo_proxy(&r, &s, (const char *const[]){"LogLevel=1", NULL}, &port);
    /* the process's descriptors are used up, but for one: the client's */
    static int held[300];
    int nheld = 0, fd;
    while (nheld < 300 && (fd = dup(0)) >= 0)
        held[nheld++] = fd;
    assert_int_equal(errno, EMFILE);
    close(held[--nheld]);
    int c = client(port);
    double cpu0 = cpu_secs();
    uint64_t stop = ms() + 2000;
    while (ms() < stop)
        assert_int_equal(azr_proxy_do_events(p, 100), 0);
    double used = cpu_secs() - cpu0;
    int lines = count(s.log, "accept failed");
    /* descriptors come back: the client is served */
    while (nheld > 0)
        close(held[--nheld]);
    uint8_t back[8];
    size_t got = exchange(p, c, (const uint8_t *)"again", back, 5, false, 5000);
    if (used > 0.5 || lines != 1)
        fprintf(stderr, "%s\n", s.log);
    assert_true(used < 0.5); /* a spinning loop burns the whole 2 s */
    assert_int_equal(lines, 1);
    assert_non_null(strstr(s.log, "accepting paused"));
    assert_int_equal(got, 5);
    assert_memory_equal(back, "again", 5);
    close(c);
    azr_proxy_free(p);
    relay_stop(&r);
}

/* MaxConnections: the connection over it is accepted and reset at once,
 * the others are served, and the refusal is logged. */
static void test_listener_max_connections(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    int port;
    azr_proxy *p = echo_proxy(&r, &s, (const char *const[]){"MaxConnections=1", NULL}, &port);
    int a = client(port);
    uint8_t back[8];
    assert_int_equal(exchange(p, a, (const uint8_t *)"one", back, 3, false, 5000), 3);
    int b = client(port);
    ssize_t n = -1;
    uint64_t stop = ms() + 3000;
    while (n < 0 && ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 10), 0);
        n = read(b, back, sizeof back);
        if (n < 0 && errno == ECONNRESET)
            break;
    }
    assert_true(n < 0 && errno == ECONNRESET);
    assert_non_null(strstr(s.log, "connection limit reached (MaxConnections)"));
    assert_int_equal(azr_proxy_connection_count(p), 1);
    assert_int_equal(exchange(p, a, (const uint8_t *)"two", back, 3, false, 5000), 3);
    close(a);
    close(b);
    azr_proxy_free(p);
    relay_stop(&r);
}

/* Whether a TCP connect to the loopback of family at port succeeds. */
static bool reaches(azr_proxy *p, int family, int port)
{
    azr_sockaddr a;
    char err[128];
    assert_int_equal(azr_net_resolve(family == AF_INET6 ? "::1" : "127.0.0.1", (uint16_t)port,
                                     family == AF_INET6 ? 1 : 0, false, &a, err, sizeof err),
                     AZR_OK);
    int fd = socket(family, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    int rc = connect(fd, (const struct sockaddr *)&a.ss, a.len);
    for (int i = 0; i < 5; i++)
        assert_int_equal(azr_proxy_do_events(p, 10), 0);
    close(fd);
    return rc == 0;
}

/* Issue 11: an empty LocalHost listens on what UseIPv6 allows: 0 IPv4
 * only, 1 IPv6 only, 2 both (one dual-stack socket). */
static void test_listener_use_ipv6_families(void **st)
{
    (void)st;
    const char *const v[] = {"UseIPv6=0", "UseIPv6=1", "UseIPv6=2"};
    const bool want4[] = {true, false, true}, want6[] = {false, true, true};
    for (int i = 0; i < 3; i++) {
        relay r;
        static seen s;
        memset(&s, 0, sizeof s);
        int port;
        azr_proxy *p = echo_proxy(&r, &s, (const char *const[]){"LocalHost=", v[i], NULL}, &port);
        if (reaches(p, AF_INET, port) != want4[i] || reaches(p, AF_INET6, port) != want6[i])
            fail_msg("%s: IPv4 %s, IPv6 %s", v[i], reaches(p, AF_INET, port) ? "yes" : "no",
                     reaches(p, AF_INET6, port) ? "yes" : "no");
        azr_proxy_free(p);
        relay_stop(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listener_use_ipv6_families),
        cmocka_unit_test(test_listener_max_connections),
        cmocka_unit_test(test_listener_out_of_descriptors_pauses),
    };
    int rc = cmocka_run_group_tests_name("listener", tests, NULL, NULL);
    procs_kill_all();
    return rc;
}
