/*
 * Test peers run as real processes: tests/node/ws-relay.js (Node's ws) as
 * the relay stand-in, read through its stdout lines. Shared by the
 * integration suites.
 */
#ifndef AZR_TEST_PEERS_H
#define AZR_TEST_PEERS_H

#include "testutil.h"
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>

extern char **environ;

static inline uint64_t ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------ the relay */

typedef struct relay {
    pid_t pid;
    int in, out; /* its stdin (kept open), its stdout */
    int port;
    char buf[65536];
    size_t len;
} relay;

/* The next line holding needle (at its start when prefix), within ms; the
 * lines before it are consumed. */
static inline bool relay_match(relay *r, const char *needle, bool prefix, char *line, size_t cap,
                               int limit_ms)
{
    /* the monotonic millisecond clock: with whole seconds, a limit of 0
     * waited for the next second to begin */
    uint64_t stop = ms() + (uint64_t)limit_ms;
    for (;;) {
        char *nl;
        while ((nl = memchr(r->buf, '\n', r->len))) {
            size_t n = (size_t)(nl - r->buf);
            *nl = '\0';
            bool match = prefix ? strncmp(r->buf, needle, strlen(needle)) == 0
                                : strstr(r->buf, needle) != NULL;
            if (match) {
                size_t k = n < cap - 1 ? n : cap - 1;
                memcpy(line, r->buf, k);
                line[k] = '\0';
            }
            memmove(r->buf, nl + 1, r->len - n - 1);
            r->len -= n + 1;
            if (match)
                return true;
        }
        if (ms() > stop)
            return false;
        /* r->out reads the file the process writes: 0 means "nothing new yet" */
        ssize_t n = read(r->out, r->buf + r->len, sizeof r->buf - r->len - 1);
        if (n < 0)
            return false;
        if (n == 0)
            usleep(20000);
        r->len += (size_t)n;
    }
}

static inline bool relay_line(relay *r, const char *prefix, char *line, size_t cap, int limit_ms)
{
    return relay_match(r, prefix, true, line, cap, limit_ms);
}

/* Every process proc_start began and relay_stop has not ended: a failed
 * case (cmocka jumps out of it) leaves them to procs_kill_all(). */
static pid_t procs_live[64];

static inline void procs_track(pid_t pid, bool add)
{
    for (int i = 0; i < 64; i++)
        if (add ? procs_live[i] == 0 : procs_live[i] == pid) {
            procs_live[i] = add ? pid : 0;
            return;
        }
}

/* Files the helpers below write in /tmp (a peer's configuration and log, a
 * built shim): removed when the suite exits, passed or not. */
static char peer_tmp[64][128];

static inline void peer_tmp_cleanup(void)
{
    for (int i = 0; i < 64; i++)
        if (peer_tmp[i][0])
            unlink(peer_tmp[i]);
}

static inline void peer_tmp_file(const char *path)
{
    static bool hooked;
    if (!hooked && atexit(peer_tmp_cleanup) == 0)
        hooked = true;
    for (int i = 0; i < 64; i++)
        if (!peer_tmp[i][0] || !strcmp(peer_tmp[i], path)) {
            snprintf(peer_tmp[i], sizeof peer_tmp[i], "%s", path);
            return;
        }
}

/* SIGTERM, then SIGKILL when it has not gone within 3 s. */
static inline void proc_end(pid_t pid)
{
    kill(pid, SIGTERM);
    for (int i = 0; i < 300; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static inline void procs_kill_all(void)
{
    for (int i = 0; i < 64; i++)
        if (procs_live[i] > 0) {
            proc_end(procs_live[i]);
            procs_live[i] = 0;
        }
}

/* Print what the process wrote that nobody consumed yet (for failures). */
static inline void relay_dump(relay *r, const char *who)
{
    ssize_t n;
    while ((n = read(r->out, r->buf + r->len, sizeof r->buf - r->len - 1)) > 0)
        r->len += (size_t)n;
    r->buf[r->len] = '\0';
    fprintf(stderr, "---- %s ----\n%s---- end of %s ----\n", who, r->buf, who);
}

/* Start argv with a pipe as stdin (kept open: its end stops node peers) and
 * its output fd (1 or 2) going to an unlinked file that r reads: a file,
 * not a pipe, so a chatty process never blocks on a reader that is busy. */
static inline void proc_start(relay *r, const char *const *argv, int fdno)
{
    int in[2], out[2];
    char path[] = "/tmp/azr-test-out-XXXXXX";
    assert_int_equal(pipe(in), 0);
    out[1] = mkstemp(path);
    assert_true(out[1] >= 0);
    out[0] = open(path, O_RDONLY);
    assert_true(out[0] >= 0);
    unlink(path);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], fdno);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    if (posix_spawnp(&r->pid, argv[0], &fa, NULL, (char *const *)argv, environ) != 0)
        fail_msg("cannot start %s", argv[0]);
    posix_spawn_file_actions_destroy(&fa);
    procs_track(r->pid, true);
    close(in[0]);
    close(out[1]);
    r->in = in[1];
    r->out = out[0];
    r->len = 0;
    r->port = 0;
}

static inline void relay_start(relay *r, const char *const *extra)
{
    const char *argv[16] = {"node", "node/ws-relay.js"};
    int k = 2;
    for (; extra && *extra && k < 15; extra++)
        argv[k++] = *extra;
    argv[k] = NULL;
    proc_start(r, argv, 1);
    char line[128];
    assert_true(relay_line(r, "LISTENING ", line, sizeof line, 10000));
    r->port = (int)strtol(line + 10, NULL, 10);
    assert_true(r->port > 0);
}

static inline void relay_stop(relay *r)
{
    procs_track(r->pid, false);
    close(r->in);
    proc_end(r->pid);
    close(r->out);
}

/* ---------------------------------------------------- outbound proxy peers */

#include <netinet/in.h>
#include <sys/socket.h>

/* A free loopback port (bound, read, released: good enough for tests). */
static inline int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* n distinct free loopback ports: each stays bound until all are chosen, so the
 * kernel cannot hand the same one out twice (free_port() called n times can). */
static inline void free_ports(int *out, int n)
{
    int fds[256];
    assert_true(n > 0 && n <= 256);
    for (int i = 0; i < n; i++) {
        struct sockaddr_in a = {0};
        socklen_t len = sizeof a;
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fds[i], (struct sockaddr *)&a, sizeof a), 0);
        assert_int_equal(getsockname(fds[i], (struct sockaddr *)&a, &len), 0);
        out[i] = ntohs(a.sin_port);
    }
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

/* Wait until something listens on 127.0.0.1:port. */
static inline void wait_listening(int port)
{
    uint64_t stop = ms() + 10000;
    for (;;) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
        close(fd);
        if (rc == 0)
            return;
        if (ms() > stop)
            fail_msg("nothing listens on port %d", port);
        usleep(20000);
    }
}

/* Start a program (argv[0] found in PATH) with stdout/stderr to /dev/null. */
static inline pid_t spawn_quiet(const char *const *argv)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        fail_msg("cannot start %s (is it installed? ./build.sh test installs it)", argv[0]);
    return pid;
}

static inline void stop_pid(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* tinyproxy (Debian's) on a free port, Basic auth user gw / s3cret when auth;
 * with log (a path), its log at LogLevel Connect goes there: one line
 * "Request (file descriptor N): CONNECT host:port HTTP/1.1" per tunnel. */
static inline pid_t tinyproxy_start_logged(int *port, bool auth, char *conf, size_t cap,
                                           const char *log)
{
    *port = free_port();
    snprintf(conf, cap, "/tmp/azrelay-tinyproxy-%d.conf", *port);
    peer_tmp_file(conf);
    if (log)
        peer_tmp_file(log);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f,
            "Port %d\nListen 127.0.0.1\nTimeout 60\nMaxClients 100\nAllow 127.0.0.1\n"
            "%s",
            *port, auth ? "BasicAuth gw s3cret\n" : "");
    if (log)
        fprintf(f, "LogLevel Connect\nLogFile \"%s\"\n", log);
    else
        fprintf(f, "LogLevel Critical\n");
    if (geteuid() == 0)
        fprintf(f, "User nobody\nGroup nogroup\n");
    fclose(f);
    const char *argv[] = {"tinyproxy", "-d", "-c", conf, NULL};
    pid_t pid = spawn_quiet(argv);
    wait_listening(*port);
    return pid;
}

static inline pid_t tinyproxy_start(int *port, bool auth, char *conf, size_t cap)
{
    return tinyproxy_start_logged(port, auth, conf, cap, NULL);
}

/* Dante's danted (Debian's dante-server) on a free port: SOCKS4, SOCKS4A
 * and SOCKS5 without authentication; its own log goes to log. */
static inline pid_t dante_start(int *port, char *log, size_t cap)
{
    char conf[96];
    *port = free_port();
    snprintf(conf, sizeof conf, "/tmp/azrelay-dante-%d.conf", *port);
    snprintf(log, cap, "/tmp/azrelay-dante-%d.log", *port);
    peer_tmp_file(conf);
    peer_tmp_file(log);
    unlink(log);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f,
            "logoutput: %s\ninternal: 127.0.0.1 port = %d\nexternal: 127.0.0.1\n"
            "socksmethod: none\nclientmethod: none\nuser.unprivileged: nobody\n"
            "client pass {\n from: 127.0.0.0/8 to: 0.0.0.0/0\n}\n"
            "socks pass {\n from: 127.0.0.0/8 to: 0.0.0.0/0\n command: connect\n}\n",
            log, *port);
    fclose(f);
    const char *argv[] = {"/usr/sbin/danted", "-f", conf, "-N", "1", NULL};
    pid_t pid = spawn_quiet(argv);
    wait_listening(*port);
    return pid;
}

/* microsocks (Debian's) SOCKS5 on a free port, user gw / s3cret when auth. */
static inline pid_t microsocks_start(int *port, bool auth)
{
    char p[16];
    *port = free_port();
    snprintf(p, sizeof p, "%d", *port);
    const char *with[] = {"microsocks", "-i", "127.0.0.1", "-p",     p,
                          "-u",         "gw", "-P",        "s3cret", NULL};
    const char *without[] = {"microsocks", "-i", "127.0.0.1", "-p", p, NULL};
    pid_t pid = spawn_quiet(auth ? with : without);
    wait_listening(*port);
    return pid;
}

#endif
