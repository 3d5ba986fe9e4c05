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

static inline bool relay_line(relay *r, const char *prefix, char *line, size_t cap, int ms)
{
    uint64_t stop = (uint64_t)time(NULL) * 1000 + (uint64_t)ms;
    for (;;) {
        char *nl;
        while ((nl = memchr(r->buf, '\n', r->len))) {
            size_t n = (size_t)(nl - r->buf);
            bool match = strncmp(r->buf, prefix, strlen(prefix)) == 0;
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
        if ((uint64_t)time(NULL) * 1000 > stop)
            return false;
        struct pollfd p = {r->out, POLLIN, 0};
        if (poll(&p, 1, 100) == 1) {
            ssize_t n = read(r->out, r->buf + r->len, sizeof r->buf - r->len - 1);
            if (n <= 0)
                return false;
            r->len += (size_t)n;
        }
    }
}

static inline void relay_start(relay *r, const char *const *extra)
{
    int in[2], out[2];
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    const char *argv[16] = {"node", "node/ws-relay.js"};
    int k = 2;
    for (; extra && *extra && k < 15; extra++)
        argv[k++] = *extra;
    argv[k] = NULL;
    assert_int_equal(posix_spawnp(&r->pid, "node", &fa, NULL, (char *const *)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    r->in = in[1];
    r->out = out[0];
    r->len = 0;
    char line[128];
    assert_true(relay_line(r, "LISTENING ", line, sizeof line, 10000));
    r->port = (int)strtol(line + 10, NULL, 10);
    assert_true(r->port > 0);
}

static inline void relay_stop(relay *r)
{
    kill(r->pid, SIGTERM);
    close(r->in);
    close(r->out);
    waitpid(r->pid, NULL, 0);
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

/* tinyproxy (Debian's) on a free port, Basic auth user gw / s3cret when auth. */
static inline pid_t tinyproxy_start(int *port, bool auth, char *conf, size_t cap)
{
    *port = free_port();
    snprintf(conf, cap, "/tmp/azrelay-tinyproxy-%d.conf", *port);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f,
            "Port %d\nListen 127.0.0.1\nTimeout 60\nMaxClients 100\nAllow 127.0.0.1\n"
            "LogLevel Critical\n%s",
            *port, auth ? "BasicAuth gw s3cret\n" : "");
    if (geteuid() == 0)
        fprintf(f, "User nobody\nGroup nogroup\n");
    fclose(f);
    const char *argv[] = {"tinyproxy", "-d", "-c", conf, NULL};
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
