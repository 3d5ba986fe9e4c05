#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* macOS: SO_NOSIGPIPE is set on the socket instead */
#endif

#if !defined(__linux__) || !defined(SOCK_NONBLOCK)
static azr_err nonblock_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return AZR_E_IO;
    int fdfl = fcntl(fd, F_GETFD);
    if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0)
        return AZR_E_IO;
#ifdef SO_NOSIGPIPE
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    return AZR_OK;
}
#endif

static int new_socket(int family)
{
#ifdef SOCK_NONBLOCK
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd >= 0 && nonblock_cloexec(fd) != AZR_OK) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
#endif
    return fd;
}

azr_err azr_net_resolve(const char *host, uint16_t port, int family, bool passive,
                        azr_sockaddr *out, char *err, size_t cap)
{
    struct addrinfo hints, *res = NULL;
    char serv[8];
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = family == 0 ? AF_INET : family == 1 ? AF_INET6 : AF_UNSPEC;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    snprintf(serv, sizeof serv, "%u", (unsigned)port);
    int rc = getaddrinfo(host && *host ? host : NULL, serv, &hints, &res);
    if (rc != 0) {
        snprintf(err, cap, "cannot resolve %s: %s", host && *host ? host : "(any)",
                 gai_strerror(rc));
        return AZR_E_IO;
    }
    const struct addrinfo *pick = res;
    if (family == 2) /* IPv6 first, then IPv4 */
        for (const struct addrinfo *a = res; a; a = a->ai_next)
            if (a->ai_family == AF_INET6) {
                pick = a;
                break;
            }
    memset(out, 0, sizeof *out);
    memcpy(&out->ss, pick->ai_addr, pick->ai_addrlen);
    out->len = (socklen_t)pick->ai_addrlen;
    freeaddrinfo(res);
    return AZR_OK;
}

void azr_net_set_port(azr_sockaddr *addr, uint16_t port)
{
    if (addr->ss.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)(void *)&addr->ss)->sin6_port = htons(port);
    else if (addr->ss.ss_family == AF_INET)
        ((struct sockaddr_in *)(void *)&addr->ss)->sin_port = htons(port);
}

static azr_err listen_on(const azr_sockaddr *addr, int v6only, int backlog, int *fd,
                         uint16_t *port_out)
{
    int s = new_socket(addr->ss.ss_family);
    if (s < 0)
        return AZR_E_IO;
    int one = 1;
    if ((v6only >= 0 && addr->ss.ss_family == AF_INET6 &&
         setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) != 0) ||
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(s, (const struct sockaddr *)&addr->ss, addr->len) != 0 || listen(s, backlog) != 0) {
        int saved = errno;
        close(s);
        errno = saved;
        return AZR_E_IO;
    }
    azr_sockaddr local;
    if (port_out && azr_net_local(s, &local) == AZR_OK) {
        char h[64];
        azr_net_addr_text(&local, h, sizeof h, port_out);
    }
    *fd = s;
    return AZR_OK;
}

azr_err azr_net_listen(const azr_sockaddr *addr, int backlog, int *fd, uint16_t *port_out)
{
    return listen_on(addr, -1, backlog, fd, port_out);
}

azr_err azr_net_listen_v6(const azr_sockaddr *addr, bool v6only, int backlog, int *fd,
                          uint16_t *port_out)
{
    return listen_on(addr, v6only ? 1 : 0, backlog, fd, port_out);
}

void azr_net_any(int family, uint16_t port, azr_sockaddr *out)
{
    memset(out, 0, sizeof *out);
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)(void *)&out->ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_any;
        out->len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)(void *)&out->ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_ANY);
        out->len = sizeof *a;
    }
    azr_net_set_port(out, port);
}

azr_err azr_net_accept(int lfd, int *fd, azr_sockaddr *peer)
{
    for (;;) {
        peer->len = sizeof peer->ss;
#ifdef __linux__
        int s =
            accept4(lfd, (struct sockaddr *)&peer->ss, &peer->len, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
        int s = accept(lfd, (struct sockaddr *)&peer->ss, &peer->len);
        if (s >= 0 && nonblock_cloexec(s) != AZR_OK) {
            close(s);
            continue;
        }
#endif
        if (s >= 0) {
            *fd = s;
            return AZR_OK;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED)
            return AZR_AGAIN;
        return AZR_E_IO;
    }
}

azr_err azr_net_connect(const azr_sockaddr *addr, int *fd)
{
    int s = new_socket(addr->ss.ss_family);
    if (s < 0)
        return AZR_E_IO;
    *fd = s;
    if (connect(s, (const struct sockaddr *)&addr->ss, addr->len) == 0)
        return AZR_OK;
    if (errno == EINPROGRESS || errno == EINTR)
        return AZR_AGAIN;
    int saved = errno;
    close(s);
    *fd = -1;
    errno = saved;
    return AZR_E_IO;
}

azr_err azr_net_connect_done(int fd)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
        return AZR_E_IO;
    if (e != 0) {
        errno = e;
        return AZR_E_IO;
    }
    return AZR_OK;
}

static azr_err recv_flags(int fd, uint8_t *buf, size_t cap, size_t *n, int flags)
{
    *n = 0;
    for (;;) {
        ssize_t r = recv(fd, buf, cap, flags);
        if (r > 0) {
            *n = (size_t)r;
            return AZR_OK;
        }
        if (r == 0)
            return AZR_E_CLOSED;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return AZR_AGAIN;
        return AZR_E_IO;
    }
}

azr_err azr_net_read(int fd, uint8_t *buf, size_t cap, size_t *n)
{
    return recv_flags(fd, buf, cap, n, 0);
}

azr_err azr_net_peek(int fd)
{
    uint8_t b;
    size_t n;
    return recv_flags(fd, &b, 1, &n, MSG_PEEK);
}

azr_err azr_net_write(int fd, const uint8_t *buf, size_t len, size_t *n)
{
    *n = 0;
    for (;;) {
        ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
        if (w >= 0) {
            *n = (size_t)w;
            return w > 0 || len == 0 ? AZR_OK : AZR_AGAIN;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return AZR_AGAIN;
        return AZR_E_IO;
    }
}

/* msg_iov from ours: both name a base and a length, in separate types. The
 * count is a uint8_t: msg_iovlen is a size_t in glibc and an int in musl,
 * and a uint8_t converts to either without a change of value. */
static uint8_t to_iovec(struct iovec *v, const azr_iov *iov, size_t niov)
{
    if (niov > AZR_NET_IOV_MAX)
        niov = AZR_NET_IOV_MAX;
    for (size_t i = 0; i < niov; i++) {
        v[i].iov_base = iov[i].base;
        v[i].iov_len = iov[i].len;
    }
    return (uint8_t)niov;
}

/* One recvmsg or sendmsg over our pieces, with read's and write's results. */
static azr_err msg_io(int fd, const azr_iov *iov, size_t niov, size_t *n, bool out)
{
    struct iovec v[AZR_NET_IOV_MAX];
    struct msghdr m = {0};
    m.msg_iov = v;
    m.msg_iovlen = to_iovec(v, iov, niov);
    *n = 0;
    for (;;) {
        /* MSG_NOSIGNAL: writev would raise SIGPIPE */
        ssize_t r = out ? sendmsg(fd, &m, MSG_NOSIGNAL) : recvmsg(fd, &m, 0);
        if (r > 0) {
            *n = (size_t)r;
            return AZR_OK;
        }
        if (r == 0)
            return out ? AZR_AGAIN : AZR_E_CLOSED;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return AZR_AGAIN;
        return AZR_E_IO;
    }
}

azr_err azr_net_readv(int fd, const azr_iov *iov, size_t niov, size_t *n)
{
    return msg_io(fd, iov, niov, n, false);
}

azr_err azr_net_writev(int fd, const azr_iov *iov, size_t niov, size_t *n)
{
    return msg_io(fd, iov, niov, n, true);
}

static azr_err opt(int fd, int level, int name, int value, azr_err prev)
{
    if (setsockopt(fd, level, name, &value, sizeof value) != 0 && prev == AZR_OK)
        return AZR_E_IO;
    return prev;
}

azr_err azr_net_set_opts(int fd, const azr_net_opts *o)
{
    azr_err e = AZR_OK;
    e = opt(fd, SOL_SOCKET, SO_KEEPALIVE, o->keep_alive ? 1 : 0, e);
#ifdef TCP_KEEPIDLE
    if (o->keep_alive && o->keep_idle_ms > 0)
        e = opt(fd, IPPROTO_TCP, TCP_KEEPIDLE, (int)((o->keep_idle_ms + 999) / 1000), e);
#endif
#ifdef TCP_KEEPINTVL
    if (o->keep_alive && o->keep_intvl_ms > 0)
        e = opt(fd, IPPROTO_TCP, TCP_KEEPINTVL, (int)((o->keep_intvl_ms + 999) / 1000), e);
#endif
#ifdef TCP_KEEPCNT
    if (o->keep_alive && o->keep_cnt > 0)
        e = opt(fd, IPPROTO_TCP, TCP_KEEPCNT, (int)o->keep_cnt, e);
#endif
    if (o->no_delay)
        e = opt(fd, IPPROTO_TCP, TCP_NODELAY, 1, e);
    if (!o->linger || o->linger_secs > 0) {
        struct linger l;
        l.l_onoff = 1;
        l.l_linger = o->linger ? (int)o->linger_secs : 0;
        if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0 && e == AZR_OK)
            e = AZR_E_IO;
    }
    if (o->rcvbuf > 0)
        e = opt(fd, SOL_SOCKET, SO_RCVBUF, (int)o->rcvbuf, e);
    if (o->sndbuf > 0)
        e = opt(fd, SOL_SOCKET, SO_SNDBUF, (int)o->sndbuf, e);
    return e;
}

void azr_net_addr_text(const azr_sockaddr *addr, char *host, size_t cap, uint16_t *port)
{
    if (cap)
        host[0] = '\0';
    if (port)
        *port = 0;
    if (addr->ss.ss_family == AF_INET) {
        struct sockaddr_in a;
        memcpy(&a, &addr->ss, sizeof a);
        inet_ntop(AF_INET, &a.sin_addr, host, (socklen_t)cap);
        if (port)
            *port = ntohs(a.sin_port);
    } else if (addr->ss.ss_family == AF_INET6) {
        struct sockaddr_in6 a;
        memcpy(&a, &addr->ss, sizeof a);
        if (IN6_IS_ADDR_V4MAPPED(&a.sin6_addr)) /* an IPv4 client of a dual-stack socket */
            inet_ntop(AF_INET, a.sin6_addr.s6_addr + 12, host, (socklen_t)cap);
        else
            inet_ntop(AF_INET6, &a.sin6_addr, host, (socklen_t)cap);
        if (port)
            *port = ntohs(a.sin6_port);
    }
}

azr_err azr_net_local(int fd, azr_sockaddr *out)
{
    out->len = sizeof out->ss;
    if (getsockname(fd, (struct sockaddr *)&out->ss, &out->len) != 0)
        return AZR_E_IO;
    return AZR_OK;
}

void azr_net_close(int fd, bool abort)
{
    if (abort) {
        struct linger l = {.l_onoff = 1, .l_linger = 0};
        (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(fd);
}

static azr_err os_connect(void *ud, const azr_sockaddr *addr, int *fd)
{
    (void)ud;
    return azr_net_connect(addr, fd);
}

static azr_err os_connect_done(void *ud, int fd)
{
    (void)ud;
    return azr_net_connect_done(fd);
}

static azr_err os_read(void *ud, int fd, uint8_t *buf, size_t cap, size_t *n)
{
    (void)ud;
    return azr_net_read(fd, buf, cap, n);
}

static azr_err os_peek(void *ud, int fd)
{
    (void)ud;
    return azr_net_peek(fd);
}

static azr_err os_write(void *ud, int fd, const uint8_t *buf, size_t len, size_t *n)
{
    (void)ud;
    return azr_net_write(fd, buf, len, n);
}

static azr_err os_readv(void *ud, int fd, const azr_iov *iov, size_t niov, size_t *n)
{
    (void)ud;
    return azr_net_readv(fd, iov, niov, n);
}

static azr_err os_writev(void *ud, int fd, const azr_iov *iov, size_t niov, size_t *n)
{
    (void)ud;
    return azr_net_writev(fd, iov, niov, n);
}

static void os_shutdown_wr(void *ud, int fd)
{
    (void)ud;
    (void)shutdown(fd, SHUT_WR);
}

static void os_close(void *ud, int fd, bool abort)
{
    (void)ud;
    azr_net_close(fd, abort);
}

static azr_err os_set_opts(void *ud, int fd, const azr_net_opts *o)
{
    (void)ud;
    return azr_net_set_opts(fd, o);
}

const azr_net_ops azr_net_os = {os_connect,     os_connect_done, os_read,     os_write,
                                os_shutdown_wr, os_close,        os_set_opts, os_peek,
                                os_readv,       os_writev,       NULL};
