/*
 * 10,000 concurrent relayed connections in one azrelay-proxy process (issue
 * 13): the daemon (build/azrelay-proxy, ws://) in front of an echo relay,
 * 10,000 loopback clients opened 256 at a time, each echoing 8 bytes of its
 * own while the earlier ones stay open; then, with all of them open, a
 * second 8 bytes through every one. The proxy must hold 2 descriptors per
 * connection at that moment, log exactly one "disconnected" line per
 * connection once the clients close, and still serve a new client after.
 * A fixed or small connection table fails it: the clients over the table
 * are closed at once.
 *
 * Descriptors: the proxy needs 2 per connection (20,000 and some), more
 * than a common hard RLIMIT_NOFILE. The suite raises its own limit (soft
 * and hard, which needs CAP_SYS_RESOURCE, as root normally has) and its
 * children inherit it; where that is impossible (a container without
 * CAP_SYS_RESOURCE) it runs the most connections the hard limit allows and
 * says so. AZR_SCALE_CONNS=N asks for exactly N (and fails without them).
 *
 * The relay is tests/node/ws-relay.js --mode echo (Node's ws, one process):
 * azrelay-emu keeps its descriptors in a fixed 4096-slot table
 * (src/emu/main.c), so it holds about 4,090 senders.
 */
#include "testutil.h"
#include "peers.h"
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define KEY      "8oKRDwkl0s440MlLUi4qHxDL34j1FS6K3t5TRoJ216c="
#define TAG      8   /* bytes each connection echoes per round */
#define INFLIGHT 256 /* connections being opened at once */
#define OPEN_MS  45000
#define END_MS   30000

typedef struct client {
    int fd;
    unsigned sent, got; /* of the current round */
} client;

/* the clients, for the teardown when a case fails half-way */
static client *clients;
static int nclients, epfd = -1;

static void clients_free(void)
{
    for (int i = 0; clients && i < nclients; i++)
        if (clients[i].fd > 0)
            close(clients[i].fd);
    free(clients);
    clients = NULL;
    nclients = 0;
    if (epfd >= 0)
        close(epfd);
    epfd = -1;
}

/* AZR_SCALE_CONNS, or 0: 10,000, or as many as the descriptors allow. */
static int conns_asked(void)
{
    const char *e = getenv("AZR_SCALE_CONNS");
    long n = e && *e ? strtol(e, NULL, 10) : 0;
    if (e && *e && (n < 1 || n > 200000))
        fail_msg("AZR_SCALE_CONNS=%s: 1 to 200000", e);
    return (int)n;
}

/* Soft and hard RLIMIT_NOFILE to at least what n connections need in the
 * proxy (2 each) and here (1 each), before any child starts. Where the hard
 * limit cannot be raised (no CAP_SYS_RESOURCE) and the count was not asked
 * for, the most connections it allows, said loudly; an asked count fails. */
static int raise_nofile(int asked)
{
    int n = asked ? asked : 10000;
    rlim_t need = 2 * (rlim_t)n + 64, want = need > 65536 ? need : 65536;
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        struct rlimit up = {want, want};
        int err = setrlimit(RLIMIT_NOFILE, &up) != 0 ? errno : 0;
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
        if (err && rl.rlim_max < need) {
            if (asked)
                fail_msg("%d relayed connections need %llu descriptors in azrelay-proxy (2 each, "
                         "and some), but the hard RLIMIT_NOFILE is %llu and raising it failed: %s "
                         "(it needs CAP_SYS_RESOURCE; e.g. docker run --ulimit nofile=%llu)",
                         n, (unsigned long long)need, (unsigned long long)rl.rlim_max,
                         strerror(err), (unsigned long long)want);
            n = (int)((rl.rlim_max - 64) / 2);
            print_message("NOTE: 10,000 connections need %llu descriptors in azrelay-proxy; this "
                          "environment's hard RLIMIT_NOFILE is %llu and cannot be raised (%s: no "
                          "CAP_SYS_RESOURCE), so %d connections, the most it allows "
                          "(AZR_SCALE_CONNS=10000 insists)\n",
                          (unsigned long long)need, (unsigned long long)rl.rlim_max, strerror(err),
                          n);
        }
    }
    rl.rlim_cur = rl.rlim_max;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    return n;
}

static int fd_count(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

static int dial_nb(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail_msg("socket: %s (descriptors here: %d)", strerror(errno), fd_count(getpid()));
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS)
        fail_msg("connect: %s", strerror(errno));
    return fd;
}

/* connection i's bytes in round r: unique per connection and round */
static void tag_of(int i, int r, uint8_t out[TAG])
{
    char t[TAG + 1];
    snprintf(t, sizeof t, "%c%06u\n", (char)('a' + r), (unsigned)i % 1000000u);
    memcpy(out, t, TAG);
}

/* One step of connection i's round r: send what is left, read what came.
 * Returns true when the round is complete for it. */
static bool step(client *c, int i, int r, int up)
{
    uint8_t want[TAG], got[TAG];
    tag_of(i, r, want);
    if (c->sent < TAG) {
        ssize_t n = send(c->fd, want + c->sent, TAG - c->sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0)
            c->sent += (unsigned)n;
        else if (n < 0 && errno != EAGAIN && errno != ENOTCONN)
            fail_msg("connection %d: send: %s (%d connections up)", i, strerror(errno), up);
    }
    ssize_t n = recv(c->fd, got, TAG - c->got, MSG_DONTWAIT);
    if (n == 0)
        fail_msg("connection %d was closed by the proxy after %u of %d echoed bytes, with %d "
                 "connections up: a connection table or descriptor limit below the count?",
                 i, c->got, TAG, up);
    if (n < 0 && errno != EAGAIN && errno != ENOTCONN)
        fail_msg("connection %d: recv: %s, with %d connections up: a connection table or "
                 "descriptor limit below the count?",
                 i, strerror(errno), up);
    if (n > 0) {
        if (memcmp(got, want + c->got, (size_t)n) != 0)
            fail_msg("connection %d, round %d: other bytes came back", i, r);
        c->got += (unsigned)n;
    }
    return c->got == TAG;
}

static void test_scale_10000_connections_in_one_proxy(void **st)
{
    (void)st;
    int n = raise_nofile(conns_asked());

    relay r;
    const char *const rargs[] = {"--mode", "echo", NULL};
    relay_start(&r, rargs);

    char ns[64], maxc[48];
    snprintf(ns, sizeof ns, "NamespaceAddress=ws://127.0.0.1:%d", r.port);
    snprintf(maxc, sizeof maxc, "MaxConnections=%d", n + 16);
    const char *bin = getenv("AZR_PROXY_BIN") ? getenv("AZR_PROXY_BIN") : "../build/azrelay-proxy";
    const char *const pargs[] = {bin,
                                 ns,
                                 "HybridConnection=hc1",
                                 "AccessKeyName=RootManageSharedAccessKey",
                                 "AccessKey=" KEY,
                                 "LocalHost=127.0.0.1",
                                 "LocalPort=0",
                                 "ConnectionBacklog=4096",
                                 maxc,
                                 "LogLevel=1",
                                 NULL};
    relay px; /* its stderr, read line by line like a peer's */
    proc_start(&px, pargs, 2);
    char line[512];
    if (!relay_match(&px, "listening on 127.0.0.1:", false, line, sizeof line, 10000)) {
        relay_dump(&px, "azrelay-proxy");
        fail_msg("azrelay-proxy did not start listening");
    }
    int port = (int)strtol(strstr(line, "listening on 127.0.0.1:") + 23, NULL, 10);
    assert_true(port > 0);
    int fds_idle = fd_count(px.pid);
    long rss_idle = rss_kib(px.pid);

    client *c = clients = calloc((size_t)n, sizeof *c);
    assert_non_null(c);
    nclients = n;
    int ep = epfd = epoll_create1(EPOLL_CLOEXEC);
    assert_true(ep >= 0);
    struct epoll_event evs[512];

    /* round 0: open every connection (INFLIGHT at a time), echo its tag, keep it */
    uint64_t t0 = ms(), stop = t0 + OPEN_MS;
    int opened = 0, done = 0, inflight = 0;
    while (done < n) {
        while (inflight < INFLIGHT && opened < n) {
            c[opened].fd = dial_nb(port);
            struct epoll_event e = {EPOLLIN | EPOLLOUT, {.u32 = (uint32_t)opened}};
            assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, c[opened].fd, &e), 0);
            opened++;
            inflight++;
        }
        if (ms() > stop)
            fail_msg("only %d of %d connections echoed within %d s", done, n, OPEN_MS / 1000);
        int k = epoll_wait(ep, evs, 512, 200);
        for (int j = 0; j < k; j++) {
            int i = (int)evs[j].data.u32;
            if (step(&c[i], i, 0, done)) {
                assert_int_equal(epoll_ctl(ep, EPOLL_CTL_DEL, c[i].fd, NULL), 0);
                done++;
                inflight--;
            } else if (c[i].sent == TAG) {
                struct epoll_event e = {EPOLLIN, evs[j].data};
                assert_int_equal(epoll_ctl(ep, EPOLL_CTL_MOD, c[i].fd, &e), 0);
            }
        }
    }
    uint64_t t_open = ms() - t0;

    /* round 1: all of them open, a second tag through every one */
    done = 0;
    for (int i = 0; i < n; i++) {
        c[i].sent = c[i].got = 0;
        if (step(&c[i], i, 1, n)) {
            done++;
            continue;
        }
        struct epoll_event e = {EPOLLIN, {.u32 = (uint32_t)i}};
        assert_int_equal(c[i].sent, TAG);
        assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &e), 0);
    }
    stop = ms() + OPEN_MS;
    while (done < n) {
        if (ms() > stop)
            fail_msg("second round: only %d of %d connections echoed", done, n);
        int k = epoll_wait(ep, evs, 512, 200);
        for (int j = 0; j < k; j++) {
            int i = (int)evs[j].data.u32;
            if (step(&c[i], i, 1, n)) {
                assert_int_equal(epoll_ctl(ep, EPOLL_CTL_DEL, c[i].fd, NULL), 0);
                done++;
            }
        }
    }
    int fds_all = fd_count(px.pid);
    long rss_all = rss_kib(px.pid);
    print_message("azrelay-proxy with %d open relayed connections: %d descriptors (%d idle), "
                  "RSS %ld KiB (%ld idle, %.1f KiB per connection); opened in %.1f s\n",
                  n, fds_all, fds_idle, rss_all, rss_idle, (double)(rss_all - rss_idle) / (double)n,
                  (double)t_open / 1000.0);
    /* the proxy holds every client and every relay connection at once */
    assert_true(fds_all >= fds_idle + 2 * n);

    /* all end: one "disconnected" line each */
    clients_free();
    int ended = 0;
    stop = ms() + END_MS;
    while (ended < n && ms() < stop &&
           relay_match(&px, "] disconnected (", false, line, sizeof line, (int)(stop - ms())))
        ended++;
    if (ended < n)
        fail_msg("the proxy logged %d of %d disconnections within %d s", ended, n, END_MS / 1000);

    /* and still serves */
    int fd = dial_nb(port);
    client last = {fd, 0, 0};
    stop = ms() + 10000;
    while (!step(&last, n, 2, 0)) {
        if (ms() > stop)
            fail_msg("a new connection after the %d was not echoed", n);
        struct pollfd p = {fd, POLLIN | (last.sent < TAG ? POLLOUT : 0), 0};
        poll(&p, 1, 100);
    }
    close(fd);
    assert_true(relay_match(&px, "] disconnected (", false, line, sizeof line, 10000));
    assert_true(fd_count(px.pid) <= fds_idle + 2);

    /* SIGTERM with nothing open: exit 0 */
    procs_track(px.pid, false);
    kill(px.pid, SIGTERM);
    int status = 0;
    uint64_t gone = ms() + 10000;
    pid_t w;
    while ((w = waitpid(px.pid, &status, WNOHANG)) == 0 && ms() < gone)
        usleep(20000);
    if (w != px.pid) {
        proc_end(px.pid);
        fail_msg("azrelay-proxy did not exit within 10 s of SIGTERM");
    }
    close(px.in);
    close(px.out);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    relay_stop(&r);
}

static int procs_teardown(void **st)
{
    (void)st;
    clients_free();
    procs_kill_all();
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_scale_10000_connections_in_one_proxy, procs_teardown),
    };
    return cmocka_run_group_tests_name("scale", tests, NULL, NULL);
}
