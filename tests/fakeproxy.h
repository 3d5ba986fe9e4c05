/*
 * A fake HTTP CONNECT proxy in a thread of the test: it records the first
 * request head it gets (tinyproxy logs no headers), answers with the status
 * the test chose and, for 200, tunnels to the relay's port like a real
 * proxy. One client at a time; fake_stop() ends the thread.
 */
#ifndef AZR_TEST_FAKEPROXY_H
#define AZR_TEST_FAKEPROXY_H

#include "testutil.h"
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

typedef struct fake_proxy {
    int lfd, port;
    int upstream;          /* the relay's port: where a 200 tunnels to */
    int status;            /* the answer: 200 tunnels, anything else refuses */
    const char *challenge; /* a Proxy-Authenticate value sent with a refusal, or NULL */
    char head[4096];
    size_t head_len;
    int requests; /* heads received */
    pthread_t th;
    volatile int stop;
} fake_proxy;

static inline int tcp_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static inline bool write_all(int fd, const void *b, size_t n)
{
    const char *p = b;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* One client: its head, then the answer, then the tunnel until either side ends. */
static inline void fake_serve(fake_proxy *f, int c)
{
    char buf[8192];
    size_t have = 0;
    char *end = NULL;
    while (!end && have < sizeof buf - 1) {
        struct pollfd pf = {c, POLLIN, 0};
        if (poll(&pf, 1, 100) <= 0) {
            if (f->stop)
                return;
            continue;
        }
        ssize_t n = read(c, buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            return;
        have += (size_t)n;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end)
        return;
    size_t hl = (size_t)(end + 4 - buf);
    if (f->requests++ == 0) {
        memcpy(f->head, buf, hl < sizeof f->head - 1 ? hl : sizeof f->head - 1);
        f->head_len = hl;
    }
    if (f->status != 200) {
        char a[512];
        int n = snprintf(a, sizeof a, "HTTP/1.1 %d Refused\r\nContent-Length: 0\r\n%s%s%s\r\n",
                         f->status, f->challenge ? "Proxy-Authenticate: " : "",
                         f->challenge ? f->challenge : "", f->challenge ? "\r\n" : "");
        write_all(c, a, (size_t)n);
        return;
    }
    int u = tcp_to(f->upstream);
    if (u < 0)
        return;
    static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    if (!write_all(c, ok, sizeof ok - 1) || !write_all(u, buf + hl, have - hl)) {
        close(u);
        return;
    }
    while (!f->stop) {
        struct pollfd pf[2] = {{c, POLLIN, 0}, {u, POLLIN, 0}};
        if (poll(pf, 2, 100) <= 0)
            continue;
        int from = (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) ? c : u;
        ssize_t n = read(from, buf, sizeof buf);
        if (n <= 0 || !write_all(from == c ? u : c, buf, (size_t)n))
            break;
    }
    close(u);
}

static inline void *fake_run(void *arg)
{
    fake_proxy *f = arg;
    while (!f->stop) {
        struct pollfd pf = {f->lfd, POLLIN, 0};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        int c = accept(f->lfd, NULL, NULL);
        if (c < 0)
            continue;
        fake_serve(f, c);
        close(c);
    }
    return NULL;
}

static inline void fake_start(fake_proxy *f, int upstream, int status)
{
    memset(f, 0, sizeof *f);
    f->upstream = upstream;
    f->status = status;
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0); /* port 0: no race */
    assert_int_equal(listen(f->lfd, 8), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &len), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&f->th, NULL, fake_run, f), 0);
}

static inline void fake_stop(fake_proxy *f)
{
    f->stop = 1;
    pthread_join(f->th, NULL);
    close(f->lfd);
}

#endif
