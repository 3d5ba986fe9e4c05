/*
 * Sockets for the reactor. Every descriptor is non-blocking and
 * close-on-exec; reads and writes never block and never raise SIGPIPE.
 * Failures return AZR_E_IO with errno left as the system set it.
 */
#ifndef AZR_NET_H
#define AZR_NET_H

#include "err.h"
#include <sys/socket.h>

typedef struct azr_net_opts {
    bool keep_alive;
    long keep_idle_ms, keep_intvl_ms, keep_cnt; /* 0: system default */
    bool no_delay;
    bool linger;         /* false: reset on close (SO_LINGER 0) */
    long linger_secs;    /* with linger: 0 system default, > 0 SO_LINGER time */
    long rcvbuf, sndbuf; /* 0: system default */
} azr_net_opts;

typedef struct azr_sockaddr {
    struct sockaddr_storage ss;
    socklen_t len;
} azr_sockaddr;

/*
 * Resolve host (a name or a literal) and port. family: 0 IPv4 only, 1 IPv6
 * only, 2 IPv6 then IPv4 (UseIPv6). Blocking: use at start-up or after a
 * failure only. AZR_E_IO with a reason in err (gai_strerror).
 */
AZR_MUST_CHECK azr_err azr_net_resolve(const char *host, uint16_t port, int family, bool passive,
                                       azr_sockaddr *out, char *err, size_t cap);

/* Listen on addr with SO_REUSEADDR; *port_out gets the bound port. */
AZR_MUST_CHECK azr_err azr_net_listen(const azr_sockaddr *addr, int backlog, int *fd,
                                      uint16_t *port_out);
/* The same for an IPv6 address with IPV6_V6ONLY set as v6only says (an
 * IPv4 address ignores it). */
AZR_MUST_CHECK azr_err azr_net_listen_v6(const azr_sockaddr *addr, bool v6only, int backlog,
                                         int *fd, uint16_t *port_out);
/* The wildcard address of a family (AF_INET or AF_INET6) and port. */
void azr_net_any(int family, uint16_t port, azr_sockaddr *out);

/* Accept one connection: AZR_AGAIN when none is waiting. */
AZR_MUST_CHECK azr_err azr_net_accept(int lfd, int *fd, azr_sockaddr *peer);

/* Start a connect: AZR_OK (connected at once) or AZR_AGAIN (wait for writable,
 * then azr_net_connect_done). */
AZR_MUST_CHECK azr_err azr_net_connect(const azr_sockaddr *addr, int *fd);

/* Outcome of a pending connect: AZR_OK, or AZR_E_IO with errno set to it. */
AZR_MUST_CHECK azr_err azr_net_connect_done(int fd);

/* Read: AZR_OK with *n > 0, AZR_AGAIN, AZR_E_CLOSED at EOF, AZR_E_IO. */
AZR_MUST_CHECK azr_err azr_net_read(int fd, uint8_t *buf, size_t cap, size_t *n);

/* AZR_OK when bytes wait to be read, AZR_E_CLOSED at EOF, AZR_AGAIN, AZR_E_IO
 * (errno): recv(MSG_PEEK) of one byte, which stays in the socket. */
AZR_MUST_CHECK azr_err azr_net_peek(int fd);

/* One piece of a scattered read or gathered write. */
typedef struct azr_iov {
    uint8_t *base;
    size_t len;
} azr_iov;
#define AZR_NET_IOV_MAX 8

/* Scattered read and gathered write (at most AZR_NET_IOV_MAX pieces, in
 * order): what azr_net_read and azr_net_write return, in one system call. */
AZR_MUST_CHECK azr_err azr_net_readv(int fd, const azr_iov *iov, size_t niov, size_t *n);
AZR_MUST_CHECK azr_err azr_net_writev(int fd, const azr_iov *iov, size_t niov, size_t *n);

/* Write: AZR_OK with *n > 0, AZR_AGAIN, AZR_E_IO (EPIPE, ECONNRESET, ...). */
AZR_MUST_CHECK azr_err azr_net_write(int fd, const uint8_t *buf, size_t len, size_t *n);

/* Apply options; the first failing setsockopt is returned, the rest still tried. */
AZR_MUST_CHECK azr_err azr_net_set_opts(int fd, const azr_net_opts *o);

/* "127.0.0.1" / "::1" and the port of addr. */
void azr_net_addr_text(const azr_sockaddr *addr, char *host, size_t cap, uint16_t *port);

/* Set the port of an IPv4 or IPv6 address. */
void azr_net_set_port(azr_sockaddr *addr, uint16_t port);

/* Local address of a connected socket. */
AZR_MUST_CHECK azr_err azr_net_local(int fd, azr_sockaddr *out);

/* Close fd; abort resets the connection (SO_LINGER 0: the peer sees RST,
 * not FIN, and can tell a cut stream from a finished one). */
void azr_net_close(int fd, bool abort);

/*
 * The socket calls a connection makes, as a table, so tests and fuzzers can
 * run the connection over fake transports (azr_net_os is the system's). Each
 * returns what the azr_net_* function of the same name returns; ud is the
 * table's own.
 */
typedef struct azr_net_ops {
    azr_err (*connect)(void *ud, const azr_sockaddr *addr, int *fd);
    azr_err (*connect_done)(void *ud, int fd);
    azr_err (*read)(void *ud, int fd, uint8_t *buf, size_t cap, size_t *n);
    azr_err (*write)(void *ud, int fd, const uint8_t *buf, size_t len, size_t *n);
    void (*shutdown_wr)(void *ud, int fd);
    void (*close)(void *ud, int fd, bool abort);
    azr_err (*set_opts)(void *ud, int fd, const azr_net_opts *o);
    /* whether bytes wait (AZR_OK), the peer's FIN (AZR_E_CLOSED), nothing
     * yet (AZR_AGAIN) or an error, reading none of them */
    azr_err (*peek)(void *ud, int fd);
    /* the bulk upload (burst.c); NULL in a table without them: the
     * connection then reads and writes one frame or record at a time */
    azr_err (*readv)(void *ud, int fd, const azr_iov *iov, size_t niov, size_t *n);
    azr_err (*writev)(void *ud, int fd, const azr_iov *iov, size_t niov, size_t *n);
    void *ud;
} azr_net_ops;

extern const azr_net_ops azr_net_os;

#endif
