/*
 * The benchmark client for ./build.sh bench (tests/bench/run.sh). Measures,
 * never asserts (except that the bytes come back right).
 *   bench echo PORT MIB     send MIB MiB of random bytes to 127.0.0.1:PORT while
 *                           reading the echo; prints "MiB/s <rate>" (and fails
 *                           when the echo differs)
 *   bench upload PORT MIB PID
 *                           send MIB MiB to PORT (a forwarder in front of a sink),
 *                           shut the write side, read until EOF (the sink's end
 *                           came back through the forwarder); prints
 *                           "upload <MiB/s> <cpu s> <s/GiB>" where cpu is process
 *                           PID's user+sys (/proc/PID/stat fields 14-17: its own
 *                           and its reaped children's, so a forking socat counts)
 *   bench hold PORT[,PORT...] N [KIB]
 *                           open N connections (up to 128 in flight; to the ports
 *                           in turn), echo KIB KiB through each (default: one
 *                           byte), print "HELD N <s>", keep them all open until
 *                           stdin ends
 *   bench conns PORT N      N connections one after the other, each echoing one
 *                           byte: the mean ms from connect() to the echo
 *   bench tap MODE PORT UP[,UP...]
 *                           a TCP forwarder on 127.0.0.1:PORT, each connection to
 *                           the next upstream port in turn (a spreader when there
 *                           are several), that watches the bytes: MODE tls parses
 *                           the TLS record headers (type, version, length) and the
 *                           ServerHello's cipher suite; MODE ws skips the HTTP
 *                           upgrade and parses the WebSocket frame headers; MODE
 *                           raw only forwards. Prints "LISTENING PORT"; on SIGTERM
 *                           or SIGINT prints the counts per direction ("up" is
 *                           what its clients sent, towards the upstream) and exits.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback(port);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        die("connect");
    return fd;
}

/* a non-blocking connect under way (EINPROGRESS) or done */
static int dial_nb(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = loopback(port);
    if (fd < 0)
        die("socket");
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS)
        die("connect");
    return fd;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* as many descriptors as the hard limit allows (root may raise that too) */
static void raise_nofile(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_max < want) {
        struct rlimit up = {want, want};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            return;
    }
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

static int echo(int port, long mib)
{
    size_t len = (size_t)mib << 20;
    uint8_t *out = malloc(len), *back = malloc(len);
    FILE *r = fopen("/dev/urandom", "rb");
    if (!out || !back || !r || fread(out, 1, len, r) != len)
        return 1;
    fclose(r);
    int fd = dial(port);
    size_t sent = 0, got = 0;
    double t0 = now();
    while (got < len) {
        struct pollfd p = {fd, (short)(POLLIN | (sent < len ? POLLOUT : 0)), 0};
        if (poll(&p, 1, 30000) <= 0) {
            fprintf(stderr, "stalled at %zu of %zu bytes\n", got, len);
            return 1;
        }
        if ((p.revents & POLLOUT) && sent < len) {
            ssize_t n = send(fd, out + sent, len - sent < 65536 ? len - sent : 65536, MSG_DONTWAIT);
            if (n > 0)
                sent += (size_t)n;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, back + got, len - got, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN)) {
                fprintf(stderr, "closed at %zu of %zu bytes\n", got, len);
                return 1;
            }
            if (n > 0)
                got += (size_t)n;
        }
    }
    double dt = now() - t0;
    if (memcmp(out, back, len) != 0) {
        fprintf(stderr, "the echo differs\n");
        return 1;
    }
    printf("MiB/s %.1f\n", (double)mib / dt);
    close(fd);
    return 0;
}

/* ------------------------------------------------------------- upload */

/* /proc/PID/stat: utime, stime, cutime, cstime (fields 14-17), in seconds;
 * ppid (field 4) when asked */
static double cpu_of(int pid, int *ppid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    long v[18] = {0};
    int field = 3; /* p + 2 is field 3, the state letter */
    for (char *t = p + 2; *t && field <= 17; field++) {
        v[field] = strtol(t, NULL, 10);
        t = strchr(t, ' ');
        if (!t)
            break;
        t++;
    }
    if (ppid)
        *ppid = (int)v[4];
    return (double)(v[14] + v[15] + v[16] + v[17]) / (double)sysconf(_SC_CLK_TCK);
}

/* how many processes have PID as parent (no /proc/PID/task/.../children here) */
static int children_of(int pid)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d))) {
        int ppid = 0, child = (int)strtol(e->d_name, NULL, 10);
        if (child > 0 && cpu_of(child, &ppid) >= 0 && ppid == pid)
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

static int upload(int port, long mib, int pid)
{
    static uint8_t chunk[1 << 20];
    FILE *r = fopen("/dev/urandom", "rb");
    if (!r || fread(chunk, 1, sizeof chunk, r) != sizeof chunk)
        return 1;
    fclose(r);
    size_t len = (size_t)mib << 20, sent = 0;
    double c0 = cpu_of(pid, NULL);
    if (c0 < 0) {
        fprintf(stderr, "bench: no process %d\n", pid);
        return 1;
    }
    double t0 = now();
    int fd = dial(port);
    while (sent < len) {
        size_t off = sent % sizeof chunk, n = sizeof chunk - off;
        if (n > len - sent)
            n = len - sent;
        ssize_t k = send(fd, chunk + off, n, 0);
        if (k <= 0) {
            fprintf(stderr, "bench: upload failed at %zu of %zu bytes\n", sent, len);
            return 1;
        }
        sent += (size_t)k;
    }
    shutdown(fd, SHUT_WR);
    char b[4096];
    struct pollfd p = {fd, POLLIN, 0};
    for (;;) {
        if (poll(&p, 1, 60000) != 1) {
            fprintf(stderr, "bench: no end from the forwarder after the upload\n");
            return 1;
        }
        ssize_t k = recv(fd, b, sizeof b, 0);
        if (k <= 0)
            break;
    }
    double dt = now() - t0;
    close(fd);
    /* a forking forwarder: its child's time counts once the parent reaped it */
    for (int i = 0; i < 200 && children_of(pid) > 0; i++)
        usleep(10000);
    double cpu = cpu_of(pid, NULL) - c0;
    printf("upload %.1f %.3f %.3f\n", (double)mib / dt, cpu, cpu * 1024.0 / (double)mib);
    return 0;
}

/* --------------------------------------------------------------- hold */

typedef struct held {
    int fd;
    size_t sent, got;
} held;

static int hold(const char *portlist, int n, long kib)
{
    int ports[16], np = 0;
    for (const char *p = portlist; *p && np < 16;) {
        char *end;
        ports[np++] = (int)strtol(p, &end, 10);
        if (*end != ',')
            break;
        p = end + 1;
    }
    raise_nofile((rlim_t)n + 64);
    size_t len = kib > 0 ? (size_t)kib << 10 : 1;
    uint8_t *out = malloc(len), *back = malloc(len);
    held *c = calloc((size_t)n, sizeof *c);
    int ep = epoll_create1(0);
    if (!out || !back || !c || ep < 0)
        die("hold");
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(i * 7 + 3);
    int opened = 0, done = 0, inflight = 0;
    double t0 = now(), progress = t0;
    struct epoll_event evs[256];
    while (done < n) {
        while (inflight < 128 && opened < n) {
            c[opened].fd = dial_nb(ports[opened % np]);
            struct epoll_event e = {EPOLLIN | EPOLLOUT, {.u32 = (uint32_t)opened}};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, c[opened].fd, &e) != 0)
                die("epoll_ctl");
            opened++;
            inflight++;
        }
        int k = epoll_wait(ep, evs, 256, 1000);
        if (k > 0)
            progress = now();
        else if (now() - progress > 60) {
            fprintf(stderr, "bench: hold: stalled with %d of %d connections done\n", done, n);
            return 1;
        }
        for (int j = 0; j < k; j++) {
            held *h = &c[evs[j].data.u32];
            if (h->sent < len) {
                ssize_t m = send(h->fd, out + h->sent, len - h->sent, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (m > 0)
                    h->sent += (size_t)m;
                else if (m < 0 && errno != EAGAIN && errno != ENOTCONN) {
                    fprintf(stderr, "bench: hold: connection %u: %s\n", evs[j].data.u32,
                            strerror(errno));
                    return 1;
                }
            }
            ssize_t m = recv(h->fd, back, len - h->got, MSG_DONTWAIT);
            if (m > 0) {
                if (memcmp(back, out + h->got, (size_t)m) != 0) {
                    fprintf(stderr, "bench: hold: connection %u echoes other bytes\n",
                            evs[j].data.u32);
                    return 1;
                }
                h->got += (size_t)m;
            } else if (m == 0 || (errno != EAGAIN && errno != ENOTCONN)) {
                fprintf(stderr,
                        "bench: hold: connection %u (%d done) closed after %zu of %zu bytes\n",
                        evs[j].data.u32, done, h->got, len);
                return 1;
            }
            struct epoll_event e = {EPOLLIN | (h->sent < len ? EPOLLOUT : 0u), evs[j].data};
            if (h->got == len) {
                epoll_ctl(ep, EPOLL_CTL_DEL, h->fd, NULL);
                done++;
                inflight--;
            } else if (h->sent == len) {
                epoll_ctl(ep, EPOLL_CTL_MOD, h->fd, &e);
            }
        }
    }
    printf("HELD %d %.2f\n", n, now() - t0);
    fflush(stdout);
    char b[64];
    while (read(0, b, sizeof b) > 0)
        ;
    return 0;
}

/* n connections one after the other, each echoing one byte: the mean time
 * from connect to the echo, which is mostly the relay-side handshakes */
static int conns(int port, int n)
{
    double t0 = now();
    for (int i = 0; i < n; i++) {
        int fd = dial(port);
        char b = 'x';
        if (fd < 0 || write(fd, &b, 1) != 1 || read(fd, &b, 1) != 1 || b != 'x') {
            fprintf(stderr, "bench: connection %d failed\n", i);
            return 1;
        }
        close(fd);
    }
    printf("conns %.2f ms\n", (now() - t0) * 1000.0 / n);
    return 0;
}

/* ---------------------------------------------------------------- tap */

enum { RAW, TLS, WS };

/* One direction's parser and counts. TLS: records (RFC 8446 §5.1: type,
 * legacy version, 16-bit length). WS: after the HTTP head, frames (RFC 6455
 * §5.2: FIN/opcode, MASK/7-bit length, 16- or 64-bit length, mask key). */
typedef struct watch {
    uint8_t hdr[14];
    unsigned have, need; /* header bytes held, needed */
    uint64_t skip;       /* payload bytes still to pass */
    unsigned crlf;       /* ws: bytes of "\r\n\r\n" matched before the frames */
    bool in_frames;
    uint8_t hello[96]; /* tls, downstream: the start of the first handshake record */
    unsigned hello_len;
    bool capturing, hello_done;
} watch;

typedef struct totals {
    uint64_t bytes, units, unit_payload, other; /* records / frames */
    uint64_t app_units, app_payload;            /* application_data / data frames */
} totals;

static totals tot[2];
static unsigned cipher;
static int tap_mode;

static void count_unit(int dir, unsigned type, uint64_t len)
{
    totals *t = &tot[dir];
    t->units++;
    t->unit_payload += len;
    bool app = tap_mode == TLS ? type == 23 : type <= 2;
    if (app) {
        t->app_units++;
        t->app_payload += len;
    } else {
        t->other++;
    }
}

static void watch_feed(watch *w, int dir, const uint8_t *p, size_t n)
{
    tot[dir].bytes += n;
    if (tap_mode == RAW)
        return;
    while (n > 0) {
        if (tap_mode == WS && !w->in_frames) {
            static const char end[] = "\r\n\r\n";
            w->crlf = *p == (uint8_t)end[w->crlf] ? w->crlf + 1 : *p == '\r' ? 1u : 0u;
            p++, n--;
            if (w->crlf == 4) {
                w->in_frames = true;
                w->need = 2;
            }
            continue;
        }
        if (w->skip > 0) {
            size_t k = w->skip < n ? (size_t)w->skip : n;
            for (size_t i = 0; w->capturing && i < k && w->hello_len < sizeof w->hello; i++)
                w->hello[w->hello_len++] = p[i];
            w->skip -= k;
            p += k, n -= k;
            if (w->capturing && w->skip == 0) {
                /* RFC 8446 §4.1.3 / RFC 5246 §7.4.1.3: type, length(3), version(2),
                 * random(32), session id (1 + n), cipher suite(2) */
                unsigned at = 39u + w->hello[38];
                w->capturing = false;
                w->hello_done = true;
                if (w->hello[0] == 2 && w->hello_len > at + 1)
                    cipher = (unsigned)w->hello[at] << 8 | w->hello[at + 1];
            }
            continue;
        }
        if (w->need == 0)
            w->need = tap_mode == TLS ? 5 : 2;
        w->hdr[w->have++] = *p++, n--;
        if (w->have < w->need)
            continue;
        if (tap_mode == TLS) {
            uint64_t len = (uint64_t)w->hdr[3] << 8 | w->hdr[4];
            if (dir == 1 && w->hdr[0] == 22 && !w->hello_done && len > 0)
                w->capturing = true; /* the ServerHello: its cipher suite */
            count_unit(dir, w->hdr[0], len);
            w->skip = len;
            w->have = w->need = 0;
            continue;
        }
        /* WebSocket */
        unsigned l7 = w->hdr[1] & 0x7fu, masked = w->hdr[1] >> 7;
        unsigned want = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + (masked ? 4 : 0);
        if (w->need < want) {
            w->need = want;
            continue;
        }
        uint64_t len = l7;
        if (l7 == 126)
            len = (uint64_t)w->hdr[2] << 8 | w->hdr[3];
        else if (l7 == 127)
            for (int i = 0; i < 8; i++)
                len = len << 8 | w->hdr[2 + i];
        count_unit(dir, w->hdr[0] & 0x0fu, len);
        w->skip = len;
        w->have = w->need = 0;
    }
}

typedef struct side {
    int fd;
    uint8_t buf[16384]; /* what was read here, not yet written to the other side */
    size_t len, off;
    bool eof, shut; /* read EOF here; the other side's write is shut */
    watch w;
} side;

typedef struct pair {
    side s[2]; /* 0: the client (the proxy), 1: the upstream (the relay) */
    bool dead; /* closed; freed after the batch of events, which may still name it */
    struct pair *next_dead;
} pair;

static volatile sig_atomic_t tap_stop;
static void on_stop(int sig)
{
    (void)sig;
    tap_stop = 1;
}

static const char *cipher_name(unsigned c)
{
    switch (c) {
    case 0xc02b:
        return "ECDHE-ECDSA-AES128-GCM-SHA256";
    case 0xc02c:
        return "ECDHE-ECDSA-AES256-GCM-SHA384";
    case 0xc02f:
        return "ECDHE-RSA-AES128-GCM-SHA256";
    case 0xc030:
        return "ECDHE-RSA-AES256-GCM-SHA384";
    case 0xcca8:
        return "ECDHE-RSA-CHACHA20-POLY1305";
    case 0xcca9:
        return "ECDHE-ECDSA-CHACHA20-POLY1305";
    case 0x1301:
        return "TLS_AES_128_GCM_SHA256";
    case 0x1302:
        return "TLS_AES_256_GCM_SHA384";
    case 0x1303:
        return "TLS_CHACHA20_POLY1305_SHA256";
    default:
        return "?";
    }
}

static pair *graveyard;

static void pair_end(int ep, pair *pr)
{
    for (int i = 0; i < 2; i++) {
        epoll_ctl(ep, EPOLL_CTL_DEL, pr->s[i].fd, NULL);
        close(pr->s[i].fd);
    }
    pr->dead = true;
    pr->next_dead = graveyard;
    graveyard = pr;
}

/* Moves what it can both ways; false when the pair is finished. */
static bool pair_pump(int ep, pair *pr)
{
    for (int d = 0; d < 2; d++) {
        side *from = &pr->s[d], *to = &pr->s[1 - d];
        for (;;) {
            if (from->off < from->len) {
                ssize_t k = send(to->fd, from->buf + from->off, from->len - from->off,
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
                if (k < 0 && errno == EAGAIN)
                    break;
                if (k < 0)
                    return false;
                from->off += (size_t)k;
                continue;
            }
            from->off = from->len = 0;
            if (from->eof) {
                if (!from->shut)
                    shutdown(to->fd, SHUT_WR), from->shut = true;
                break;
            }
            ssize_t k = recv(from->fd, from->buf, sizeof from->buf, MSG_DONTWAIT);
            if (k < 0 && errno == EAGAIN)
                break;
            if (k < 0)
                return false;
            if (k == 0) {
                from->eof = true;
                continue;
            }
            watch_feed(&from->w, d, from->buf, (size_t)k);
            from->len = (size_t)k;
        }
    }
    if (pr->s[0].shut && pr->s[1].shut)
        return false;
    for (int i = 0; i < 2; i++) {
        side *me = &pr->s[i], *peer = &pr->s[1 - i];
        uint32_t ev = 0;
        if (!me->eof && me->len == 0)
            ev |= EPOLLIN;
        if (peer->off < peer->len)
            ev |= EPOLLOUT;
        struct epoll_event e = {ev, {.ptr = pr}};
        epoll_ctl(ep, EPOLL_CTL_MOD, me->fd, &e);
    }
    return true;
}

static int tap(const char *mode, int port, const char *ups)
{
    tap_mode = !strcmp(mode, "tls") ? TLS : !strcmp(mode, "ws") ? WS : RAW;
    int up[16], nup = 0;
    for (const char *p = ups; *p && nup < 16;) {
        char *end;
        up[nup++] = (int)strtol(p, &end, 10);
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            break;
    }
    raise_nofile(65536);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    struct sockaddr_in a = loopback(port);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 1024) != 0)
        die("tap: listen");
    int ep = epoll_create1(0);
    struct epoll_event le = {EPOLLIN, {.ptr = NULL}};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &le);
    printf("LISTENING %d\n", port);
    fflush(stdout);
    unsigned next = 0;
    uint64_t pairs = 0;
    struct epoll_event evs[256];
    while (!tap_stop) {
        int k = epoll_wait(ep, evs, 256, 1000);
        for (int j = 0; j < k; j++) {
            pair *pr = evs[j].data.ptr;
            if (!pr) {
                int cfd;
                while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    pr = calloc(1, sizeof *pr);
                    if (!pr)
                        die("tap: calloc");
                    pr->s[0].fd = cfd;
                    pr->s[1].fd = dial_nb(up[next++ % (unsigned)nup]);
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    setsockopt(pr->s[1].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event e = {EPOLLIN | EPOLLOUT, {.ptr = pr}};
                    epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &e);
                    epoll_ctl(ep, EPOLL_CTL_ADD, pr->s[1].fd, &e);
                    pairs++;
                }
                continue;
            }
            if (!pr->dead && !pair_pump(ep, pr))
                pair_end(ep, pr);
        }
        while (graveyard) {
            pair *pr = graveyard;
            graveyard = pr->next_dead;
            free(pr);
        }
    }
    const char *unit = tap_mode == TLS ? "records" : "frames";
    const char *app = tap_mode == TLS ? "application_data" : "data";
    printf("connections %llu\n", (unsigned long long)pairs);
    for (int d = 0; d < 2 && tap_mode != RAW; d++) {
        totals *t = &tot[d];
        printf("%s %llu bytes, %llu %s, %llu %s (avg %.0f B payload), %llu other\n",
               d == 0 ? "up" : "down", (unsigned long long)t->bytes, (unsigned long long)t->units,
               unit, (unsigned long long)t->app_units, app,
               t->app_units ? (double)t->app_payload / (double)t->app_units : 0.0,
               (unsigned long long)t->other);
    }
    if (tap_mode == TLS)
        printf("cipher 0x%04x %s\n", cipher, cipher_name(cipher));
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "echo"))
        return echo(atoi(argv[2]), atol(argv[3]));
    if (argc == 5 && !strcmp(argv[1], "upload"))
        return upload(atoi(argv[2]), atol(argv[3]), atoi(argv[4]));
    if (argc == 4 && !strcmp(argv[1], "conns"))
        return conns(atoi(argv[2]), atoi(argv[3]));
    if ((argc == 4 || argc == 5) && !strcmp(argv[1], "hold"))
        return hold(argv[2], atoi(argv[3]), argc == 5 ? atol(argv[4]) : 0);
    if (argc == 5 && !strcmp(argv[1], "tap"))
        return tap(argv[2], atoi(argv[3]), argv[4]);
    fprintf(stderr,
            "usage: bench echo PORT MIB | upload PORT MIB PID | hold PORT[,PORT...] N [KIB] | "
            "conns PORT N | tap tls|ws|raw PORT UP[,UP...]\n");
    return 2;
}
