/*
 * Sockets over real loopback: listen on an ephemeral port, non-blocking
 * connect and accept, reads and writes that say AGAIN instead of blocking,
 * EOF, a refused connect, options read back with getsockopt.
 */
#include "testutil.h"
#include "net.h"
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>

static void wait_fd(int fd, short ev)
{
    struct pollfd p = {fd, ev, 0};
    assert_int_equal(poll(&p, 1, 2000), 1);
}

static void connected_pair(int *lfd, int *c, int *a, uint16_t *port)
{
    azr_sockaddr addr, peer;
    char err[128];
    assert_int_equal(azr_net_resolve("127.0.0.1", 0, 0, true, &addr, err, sizeof err), AZR_OK);
    assert_int_equal(azr_net_listen(&addr, 5, lfd, port), AZR_OK);
    assert_true(*port > 0);
    assert_int_equal(azr_net_accept(*lfd, a, &peer), AZR_AGAIN); /* nobody yet */
    assert_int_equal(azr_net_resolve("127.0.0.1", *port, 0, false, &addr, err, sizeof err), AZR_OK);
    azr_err e = azr_net_connect(&addr, c);
    assert_true(e == AZR_OK || e == AZR_AGAIN);
    wait_fd(*c, POLLOUT);
    assert_int_equal(azr_net_connect_done(*c), AZR_OK);
    wait_fd(*lfd, POLLIN);
    assert_int_equal(azr_net_accept(*lfd, a, &peer), AZR_OK);
    char host[64];
    uint16_t pport;
    azr_net_addr_text(&peer, host, sizeof host, &pport);
    assert_string_equal(host, "127.0.0.1");
    assert_true(pport > 0);
}

static void test_net_connect_accept_read_write(void **s)
{
    (void)s;
    int lfd, c, a;
    uint16_t port;
    connected_pair(&lfd, &c, &a, &port);
    /* non-blocking and close-on-exec */
    assert_true(fcntl(a, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(a, F_GETFD) & FD_CLOEXEC);
    assert_true(fcntl(c, F_GETFL) & O_NONBLOCK);
    uint8_t buf[64];
    size_t n;
    assert_int_equal(azr_net_read(a, buf, sizeof buf, &n), AZR_AGAIN);
    assert_int_equal(azr_net_write(c, (const uint8_t *)"hello", 5, &n), AZR_OK);
    assert_int_equal(n, 5);
    wait_fd(a, POLLIN);
    assert_int_equal(azr_net_read(a, buf, sizeof buf, &n), AZR_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "hello", 5);
    close(c);
    wait_fd(a, POLLIN);
    assert_int_equal(azr_net_read(a, buf, sizeof buf, &n), AZR_E_CLOSED);
    close(a);
    close(lfd);
}

static void test_net_write_pushes_back(void **s)
{
    (void)s;
    int lfd, c, a;
    uint16_t port;
    connected_pair(&lfd, &c, &a, &port);
    static uint8_t chunk[65536];
    size_t n, total = 0;
    azr_err e;
    /* nobody reads: the kernel buffers fill and write says AGAIN, never blocks */
    while ((e = azr_net_write(c, chunk, sizeof chunk, &n)) == AZR_OK)
        total += n;
    assert_int_equal(e, AZR_AGAIN);
    assert_true(total > 0);
    /* a write to a peer that is gone fails without SIGPIPE */
    close(a);
    for (int i = 0; i < 100 && (e = azr_net_write(c, chunk, sizeof chunk, &n)) != AZR_E_IO; i++)
        usleep(1000);
    assert_int_equal(e, AZR_E_IO);
    assert_true(errno == EPIPE || errno == ECONNRESET);
    close(c);
    close(lfd);
}

/* Scattered reads and gathered writes (the bulk upload's calls): pieces in
 * order, a read that stops where the bytes end, AGAIN on an empty socket,
 * EOF, and a full socket that pushes back; a write to a peer that is gone
 * fails without SIGPIPE. */
static void test_net_readv_writev(void **s)
{
    (void)s;
    int lfd, c, a;
    uint16_t port;
    connected_pair(&lfd, &c, &a, &port);
    uint8_t x[3] = "abc", y[5] = "defgh", z[2] = "ij", p[4], q[16];
    azr_iov out[3] = {{x, 3}, {y, 5}, {z, 2}}, in[2] = {{p, sizeof p}, {q, sizeof q}};
    size_t n;
    assert_int_equal(azr_net_readv(a, in, 2, &n), AZR_AGAIN);
    assert_int_equal(azr_net_writev(c, out, 3, &n), AZR_OK);
    assert_int_equal(n, 10);
    wait_fd(a, POLLIN);
    for (int i = 0; i < 100; i++) { /* loopback: the ten bytes arrive as one */
        int avail = 0;
        if (ioctl(a, FIONREAD, &avail) == 0 && avail == 10)
            break;
        usleep(1000);
    }
    assert_int_equal(azr_net_readv(a, in, 2, &n), AZR_OK);
    assert_int_equal(n, 10);
    assert_memory_equal(p, "abcd", 4);
    assert_memory_equal(q, "efghij", 6);
    static uint8_t chunk[65536];
    azr_iov big[2] = {{chunk, sizeof chunk}, {chunk, sizeof chunk}};
    size_t total = 0;
    azr_err e;
    while ((e = azr_net_writev(c, big, 2, &n)) == AZR_OK) /* nobody reads */
        total += n;
    assert_int_equal(e, AZR_AGAIN);
    assert_true(total > 0);
    close(c);
    for (;;) { /* what was written, then EOF */
        wait_fd(a, POLLIN);
        e = azr_net_readv(a, big, 2, &n);
        if (e != AZR_OK)
            break;
        total -= n;
    }
    assert_int_equal(e, AZR_E_CLOSED);
    assert_int_equal(total, 0);
    close(a);
    close(lfd);
    connected_pair(&lfd, &c, &a, &port);
    close(a);
    for (int i = 0; i < 100 && (e = azr_net_writev(c, big, 2, &n)) != AZR_E_IO; i++)
        usleep(1000);
    assert_int_equal(e, AZR_E_IO);
    assert_true(errno == EPIPE || errno == ECONNRESET);
    close(c);
    close(lfd);
}

static void test_net_refused_connect(void **s)
{
    (void)s;
    int lfd, fd;
    uint16_t port;
    azr_sockaddr addr;
    char err[128];
    /* a port nobody listens on: bind one, note it, close it */
    assert_int_equal(azr_net_resolve("127.0.0.1", 0, 0, true, &addr, err, sizeof err), AZR_OK);
    assert_int_equal(azr_net_listen(&addr, 1, &lfd, &port), AZR_OK);
    close(lfd);
    assert_int_equal(azr_net_resolve("127.0.0.1", port, 0, false, &addr, err, sizeof err), AZR_OK);
    azr_err e = azr_net_connect(&addr, &fd);
    if (e == AZR_AGAIN) {
        wait_fd(fd, POLLOUT);
        assert_int_equal(azr_net_connect_done(fd), AZR_E_IO);
        close(fd);
    } else {
        assert_int_equal(e, AZR_E_IO);
    }
    assert_int_equal(errno, ECONNREFUSED);
}

static void test_net_resolve_errors_and_families(void **s)
{
    (void)s;
    azr_sockaddr addr;
    char err[256], host[64];
    uint16_t port;
    assert_int_equal(azr_net_resolve("no-such-host.invalid", 443, 0, false, &addr, err, sizeof err),
                     AZR_E_IO);
    assert_non_null(strstr(err, "cannot resolve no-such-host.invalid"));
    assert_int_equal(azr_net_resolve("::1", 8080, 1, false, &addr, err, sizeof err), AZR_OK);
    azr_net_addr_text(&addr, host, sizeof host, &port);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 8080);
    /* IPv4-only refuses an IPv6 literal */
    assert_int_equal(azr_net_resolve("::1", 8080, 0, false, &addr, err, sizeof err), AZR_E_IO);
}

static void test_net_options(void **s)
{
    (void)s;
    int lfd, c, a;
    uint16_t port;
    connected_pair(&lfd, &c, &a, &port);
    azr_net_opts o = {.keep_alive = true,
                      .keep_idle_ms = 60000,
                      .keep_intvl_ms = 5000,
                      .keep_cnt = 4,
                      .no_delay = true,
                      .linger = false};
    assert_int_equal(azr_net_set_opts(a, &o), AZR_OK);
    int v;
    socklen_t len = sizeof v;
    assert_int_equal(getsockopt(a, SOL_SOCKET, SO_KEEPALIVE, &v, &len), 0);
    assert_int_equal(v, 1);
    assert_int_equal(getsockopt(a, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    assert_int_equal(v, 1);
    assert_int_equal(getsockopt(a, IPPROTO_TCP, TCP_KEEPIDLE, &v, &len), 0);
    assert_int_equal(v, 60);
    assert_int_equal(getsockopt(a, IPPROTO_TCP, TCP_KEEPCNT, &v, &len), 0);
    assert_int_equal(v, 4);
    struct linger l;
    len = sizeof l;
    assert_int_equal(getsockopt(a, SOL_SOCKET, SO_LINGER, &l, &len), 0);
    assert_int_equal(l.l_onoff, 1);
    assert_int_equal(l.l_linger, 0); /* Linger=False: reset at close */
    close(a);
    close(c);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_net_connect_accept_read_write),
        cmocka_unit_test(test_net_write_pushes_back),
        cmocka_unit_test(test_net_readv_writev),
        cmocka_unit_test(test_net_refused_connect),
        cmocka_unit_test(test_net_resolve_errors_and_families),
        cmocka_unit_test(test_net_options),
    };
    return cmocka_run_group_tests_name("net", tests, NULL, NULL);
}
