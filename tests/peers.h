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

#endif
