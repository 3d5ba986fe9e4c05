/*
 * The daemon's status socket and metrics endpoint as real processes:
 * build/azrelay-proxy with a config file of two forwards (StatusSocket,
 * MetricsAddress=127.0.0.1:0), tests/node/ws-relay.js echoing, loopback
 * clients. /metrics is scraped over HTTP while a connection is live and
 * parsed by Prometheus's own parser (python3-prometheus-client, through
 * tests/prom_parse.py); the values are those of what the clients did
 * (accepted per forward, bytes sent, opens = the histogram's count, the
 * live one active). `azrelay-proxy --status` prints both forwards and the
 * live connection with its peer, phase, bytes and relay address. /healthz,
 * 404, 405 and 400 are what HTTP says. A reload that replaces a forward's
 * proxy while its connection drains keeps its counters going up, counts
 * itself, and moves the status socket. Stalled clients (a request that
 * never ends, a status reader that never reads) neither stop the forwards
 * nor other scrapes, and the stalled request gets 408. A start whose
 * StatusSocket is taken fails with the reason.
 */
#include "testutil.h"
#include "peers.h"
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define KEY "8oKRDwkl0s440MlLUi4qHxDL34j1FS6K3t5TRoJ216c="

/* ------------------------------------------------------------ the daemon */

typedef struct dmn {
    pid_t pid;
    int out;
    size_t len;
    char log[1 << 18];
} dmn;

static void dmn_read(dmn *d)
{
    ssize_t n;
    while (d->len < sizeof d->log - 1 &&
           (n = read(d->out, d->log + d->len, sizeof d->log - 1 - d->len)) > 0)
        d->len += (size_t)n;
    d->log[d->len] = '\0';
}

static const char *dmn_wait(dmn *d, const char *needle, int limit_ms)
{
    uint64_t stop = ms() + (uint64_t)limit_ms;
    for (;;) {
        dmn_read(d);
        const char *at = strstr(d->log, needle);
        if (at)
            return at;
        if (ms() > stop)
            fail_msg("no '%s' in the daemon's log within %d ms:\n%s", needle, limit_ms, d->log);
        usleep(5000);
    }
}

static const char *bin(void)
{
    return getenv("AZR_PROXY_BIN") ? getenv("AZR_PROXY_BIN") : "../build/azrelay-proxy";
}

static void dmn_start(dmn *d, const char *const *args)
{
    const char *argv[16] = {bin()};
    int n = 1;
    for (; *args && n < 15; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    relay r;
    proc_start(&r, argv, 2);
    close(r.in);
    d->pid = r.pid;
    d->out = r.out;
    d->len = 0;
}

static int dmn_stop(dmn *d)
{
    kill(d->pid, SIGTERM);
    int st = 0;
    uint64_t stop = ms() + 10000;
    while (waitpid(d->pid, &st, WNOHANG) != d->pid) {
        if (ms() > stop)
            fail_msg("the daemon did not stop");
        usleep(5000);
    }
    procs_track(d->pid, false);
    dmn_read(d);
    close(d->out);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The port in "metrics on http://127.0.0.1:PORT/metrics". */
static int metrics_port(dmn *d)
{
    const char *at = dmn_wait(d, "metrics on http://127.0.0.1:", 10000);
    return (int)strtol(at + strlen("metrics on http://127.0.0.1:"), NULL, 10);
}

static char dir[64], cfg[96], sock[96];

static void write_cfg(const char *text)
{
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s.new", cfg);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(tmp, 0600), 0); /* it holds the key: the daemon refuses 0644 */
    assert_int_equal(rename(tmp, cfg), 0);
}

/* -------------------------------------------------------------- sockets */

static int tcp(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        fail_msg("port %d: %s", port, strerror(errno));
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* n bytes through fd and back, checked. */
static void echo(int fd, size_t n)
{
    static uint8_t out[8192], back[8192];
    assert_true(n <= sizeof out);
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(i * 7 + n);
    assert_int_equal(write(fd, out, n), (ssize_t)n);
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, back + got, n - got);
        if (k <= 0)
            fail_msg("%zu of %zu bytes came back", got, n);
        got += (size_t)k;
    }
    assert_memory_equal(out, back, n);
}

/* Send req to port, read the answer to EOF into resp; the status code. */
static int http(int port, const char *req, char *resp, size_t cap)
{
    int fd = tcp(port);
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    size_t got = 0;
    ssize_t n;
    while (got < cap - 1 && (n = read(fd, resp + got, cap - 1 - got)) > 0)
        got += (size_t)n;
    resp[got] = '\0';
    close(fd);
    if (strncmp(resp, "HTTP/1.1 ", 9) != 0)
        fail_msg("not an HTTP answer: '%.200s'", resp);
    return (int)strtol(resp + 9, NULL, 10);
}

static const char *body_of(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");
    assert_non_null(b);
    return b + 4;
}

/* Run argv with stdin from in (or nothing), its stdout into out; the exit status. */
static int run(const char *const *argv, const char *in, char *out, size_t cap)
{
    char path[] = "/tmp/azr-test-run-XXXXXX";
    int o = mkstemp(path);
    assert_true(o >= 0);
    unlink(path);
    int p[2];
    assert_int_equal(pipe(p), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[0], 0);
    posix_spawn_file_actions_adddup2(&fa, o, 1);
    posix_spawn_file_actions_addclose(&fa, p[1]);
    pid_t pid;
    if (posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ) != 0)
        fail_msg("cannot run %s", argv[0]);
    posix_spawn_file_actions_destroy(&fa);
    close(p[0]);
    if (in && write(p[1], in, strlen(in)) != (ssize_t)strlen(in))
        fail_msg("cannot feed %s", argv[0]);
    close(p[1]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    ssize_t n = pread(o, out, cap - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(o);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* ------------------------------------------------------------ scraping */

static char parsed[1 << 17]; /* prom_parse.py's lines */

/* GET /metrics, the answer's checks, and the body through Prometheus's parser. */
static void scrape(int port)
{
    static char resp[1 << 17];
    int st = http(port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n\r\n",
                  resp, sizeof resp);
    assert_int_equal(st, 200);
    assert_non_null(strstr(resp, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    const char *body = body_of(resp);
    const char *cl = strstr(resp, "\r\nContent-Length: ");
    assert_non_null(cl);
    assert_int_equal(strtol(cl + 18, NULL, 10), (long)strlen(body));
    const char *py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    const char *const argv[] = {py, "prom_parse.py", NULL};
    int rc = run(argv, body, parsed, sizeof parsed);
    if (rc != 0)
        fail_msg("prom_parse.py exited %d (2: install python3-prometheus-client); the text:\n%s",
                 rc, body);
}

/* The value of sample (NAME{labels} as prom_parse.py prints it). */
static double value(const char *sample)
{
    char want[256];
    snprintf(want, sizeof want, "\n%s ", sample);
    const char *at = strstr(parsed, want);
    if (!at && !strncmp(parsed, want + 1, strlen(want + 1)))
        at = parsed - 1;
    if (!at)
        fail_msg("no sample %s in:\n%s", sample, parsed);
    return strtod(at + strlen(want), NULL);
}

static void family(const char *name, const char *type)
{
    char want[128];
    snprintf(want, sizeof want, "FAMILY %s %s\n", name, type);
    if (!strstr(parsed, want))
        fail_msg("the parser did not see family %s as a %s:\n%s", name, type, parsed);
}

#define FWD(metric, f, extra) metric "{" extra "forward=\"" f "\"}"

static int status_run(const char *const *extra, char *out, size_t cap)
{
    const char *argv[8] = {bin(), "--status"};
    int n = 2;
    for (; extra && *extra && n < 7; extra++)
        argv[n++] = *extra;
    argv[n] = NULL;
    return run(argv, NULL, out, cap);
}

/* A line of the status text that holds every one of words (NULL-terminated). */
static void status_line(const char *text, const char *const *words)
{
    for (const char *l = text; *l;) {
        size_t n = strcspn(l, "\n");
        bool all = true;
        for (const char *const *w = words; *w && all; w++) {
            const char *f = strstr(l, *w);
            all = f && f < l + n;
        }
        if (all)
            return;
        l += n + (l[n] == '\n');
    }
    fail_msg("no line of --status holds '%s', '%s', ...:\n%s", words[0], words[1], text);
}

/* --------------------------------------------------------------- cases */

static relay r;
static dmn d;
static int pa, pb, mp;

/* Forwards a and b, and more (f3, f4, ...) up to n in all. */
static void start_forwards(const char *extra_top, int n)
{
    relay_start(&r, (const char *const[]){"--mode", "echo", NULL});
    static int ports[64];
    assert_true(n <= 64);
    free_ports(ports, n);
    pa = ports[0];
    pb = ports[1];
    static char text[8192];
    int k = snprintf(text, sizeof text,
                     "NamespaceAddress=ws://127.0.0.1:%d\nHybridConnection=hc1\n"
                     "AccessKeyName=RootManageSharedAccessKey\nAccessKey=" KEY "\n"
                     "LocalHost=127.0.0.1\nStatusSocket=%s\nMetricsAddress=127.0.0.1:0\n%s"
                     "[forward a]\nLocalPort=%d\n[forward b]\nLocalPort=%d\n",
                     r.port, sock, extra_top, pa, pb);
    for (int i = 3; i <= n; i++)
        k += snprintf(text + k, sizeof text - (size_t)k, "[forward f%d]\nLocalPort=%d\n", i,
                      ports[i - 1]);
    write_cfg(text);
    dmn_start(&d, (const char *const[]){"-c", cfg, NULL});
    mp = metrics_port(&d);
    dmn_wait(&d, "[b] listening on", 10000);
    struct stat st;
    assert_int_equal(stat(sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0660);
}

static void test_daemon_status_metrics_scraped(void **st_)
{
    (void)st_;
    start_forwards("", 2);
    uint64_t t0 = (uint64_t)time(NULL);
    int a1 = tcp(pa), a2 = tcp(pa), b1 = tcp(pb);
    echo(a1, 1000);
    echo(a2, 3000);
    echo(b1, 500);
    close(a1);
    close(b1);
    dmn_wait(&d, "[b] [1] disconnected", 5000);
    dmn_wait(&d, "[a] [1] disconnected", 5000);

    scrape(mp);                                        /* a2 is live */
    family("azrelay_connections_accepted", "counter"); /* the parser drops _total */
    family("azrelay_connections_active", "gauge");
    family("azrelay_relay_connect_failures", "counter");
    family("azrelay_connect_seconds", "histogram");
    family("azrelay_bytes", "counter");
    family("azrelay_reloads", "counter");
    assert_true(value(FWD("azrelay_connections_accepted_total", "a", "")) == 2);
    assert_true(value(FWD("azrelay_connections_accepted_total", "b", "")) == 1);
    assert_true(value(FWD("azrelay_connections_active", "a", "")) == 1);
    assert_true(value(FWD("azrelay_connections_active", "b", "")) == 0);
    assert_true(value(FWD("azrelay_bytes_total", "a", "direction=\"to_relay\",")) == 4000);
    assert_true(value(FWD("azrelay_bytes_total", "a", "direction=\"to_client\",")) == 4000);
    assert_true(value(FWD("azrelay_bytes_total", "b", "direction=\"to_relay\",")) == 500);
    /* b's 500 bytes went in one write: one data frame, then a1's close and
     * the relay's answers to it; a's 4000 bytes in at least 2 frames */
    family("azrelay_ws_frames", "counter");
    assert_true(value(FWD("azrelay_ws_frames_total", "b", "direction=\"to_relay\",")) == 2);
    assert_true(value(FWD("azrelay_ws_frames_total", "b", "direction=\"to_client\",")) >= 2);
    double fa = value(FWD("azrelay_ws_frames_total", "a", "direction=\"to_relay\","));
    assert_true(fa >= 3 && fa <= 4000);
    assert_true(value(FWD("azrelay_connect_seconds_count", "a", "")) == 2); /* two opens */
    assert_true(value("azrelay_connect_seconds_bucket{forward=\"a\",le=\"+Inf\"}") == 2);
    assert_true(value("azrelay_connect_seconds_bucket{forward=\"a\",le=\"10\"}") == 2);
    double sum = value(FWD("azrelay_connect_seconds_sum", "a", ""));
    assert_true(sum >= 0 && sum < 20);
    assert_true(value("azrelay_relay_connect_failures_total{forward=\"a\",reason=\"upgrade\","
                      "status=\"401\"}") == 0);
    assert_true(value("azrelay_relay_connect_failures_total{forward=\"a\",reason=\"tcp\"}") == 0);
    assert_true(value(FWD("azrelay_retries_total", "a", "")) == 0);
    assert_true(value("azrelay_tls_handshake_failures_total{forward=\"a\",side=\"client\"}") == 0);
    assert_true(
        value("azrelay_connections_refused_total{forward=\"a\",reason=\"max_connections\"}") == 0);
    assert_true(value(FWD("azrelay_forward_listening", "b", "")) == 1);
    assert_true(value("azrelay_reloads_total{result=\"applied\"}") == 0);
    assert_true(value("azrelay_open_fds{}") > 5);
    assert_true(value("azrelay_resident_memory_bytes{}") > 1e6);
    double start = value("azrelay_start_time_seconds{}");
    assert_true(start <= (double)t0 + 1 && start > (double)t0 - 30);

    /* --status with the path, and through the config file */
    static char out[1 << 16];
    assert_int_equal(status_run((const char *const[]){sock, NULL}, out, sizeof out), 0);
    char la[32], relay_addr[32];
    snprintf(la, sizeof la, "127.0.0.1:%d", pa);
    snprintf(relay_addr, sizeof relay_addr, "127.0.0.1:%d", r.port);
    status_line(out, (const char *const[]){"azrelay-proxy ", "2 forwards", "1 connection", NULL});
    status_line(out, (const char *const[]){"a ", "listening", la, "/$hc/hc1", "4000", NULL});
    status_line(out, (const char *const[]){"b ", "listening", NULL});
    status_line(out, (const char *const[]){"a ", "127.0.0.1:", " open ", "3000", relay_addr, NULL});
    static char again[1 << 16];
    assert_int_equal(status_run((const char *const[]){"-c", cfg, NULL}, again, sizeof again), 0);
    assert_non_null(strstr(again, "2 forwards, 1 connection"));

    /* /healthz, and what HTTP says about the rest */
    static char resp[8192];
    assert_int_equal(http(mp, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", resp, sizeof resp), 200);
    assert_string_equal(body_of(resp), "ok\n");
    assert_int_equal(http(mp, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", resp, sizeof resp), 404);
    assert_int_equal(http(mp, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                          resp, sizeof resp),
                     405);
    assert_non_null(strstr(resp, "\r\nAllow: GET\r\n"));
    assert_int_equal(http(mp, "\x16\x03\x01\x00\x05hello\r\n\r\n", resp, sizeof resp), 400);
    assert_int_equal(http(mp, "GET /metrics HTTP/2.0\r\n\r\n", resp, sizeof resp), 505);
    assert_int_equal(http(mp, "GET /metrics HTTP/1.1\r\n\r\n", resp, sizeof resp), 400); /* Host */

    close(a2);
    assert_int_equal(dmn_stop(&d), 0);
    assert_int_equal(access(sock, F_OK), -1); /* the daemon removed its socket */
    assert_null(strstr(d.log, KEY));
    relay_stop(&r);
}

/* A forward replaced by a reload while its connection drains: its counters
 * go on from where they were, in both states; the reload is counted; the
 * status socket moves; /healthz turns 503 while a forward does not listen. */
static void test_daemon_status_reload_keeps_counting(void **st_)
{
    (void)st_;
    start_forwards("", 2);
    int a1 = tcp(pa);
    echo(a1, 2000);
    int a2 = tcp(pa);
    echo(a2, 100);
    close(a2);
    dmn_wait(&d, "[a] [2] disconnected", 5000);
    char text[1024], moved[96];
    snprintf(moved, sizeof moved, "%s/status2", dir);
    snprintf(text, sizeof text,
             "NamespaceAddress=ws://127.0.0.1:%d\nHybridConnection=hc1\n"
             "AccessKeyName=RootManageSharedAccessKey\nAccessKey=" KEY "\n"
             "LocalHost=127.0.0.1\nStatusSocket=%s\nMetricsAddress=127.0.0.1:%d\n"
             "[forward a]\nLocalPort=%d\nConnectionTimeout=20\n[forward b]\nLocalPort=%d\n",
             r.port, moved, mp, pa, pb);
    write_cfg(text);
    kill(d.pid, SIGHUP);
    dmn_wait(&d, "reload: 0 added, 1 changed (a)", 5000);
    dmn_wait(&d, "status socket ", 5000);
    assert_null(strstr(d.log, "stays at"));   /* MetricsAddress's port, now given: the same one */
    assert_int_equal(access(sock, F_OK), -1); /* the old file went */
    struct stat st;
    assert_int_equal(stat(moved, &st), 0);
    scrape(mp);
    assert_true(value("azrelay_reloads_total{result=\"applied\"}") == 1);
    assert_true(value(FWD("azrelay_connections_accepted_total", "a", "")) == 2);
    assert_true(value(FWD("azrelay_connections_active", "a", "")) == 1); /* the draining one's */
    assert_true(value(FWD("azrelay_bytes_total", "a", "direction=\"to_relay\",")) == 2100);
    /* --status shows the old proxy draining beside the new one */
    static char out[1 << 16];
    assert_int_equal(status_run((const char *const[]){moved, NULL}, out, sizeof out), 0);
    status_line(out, (const char *const[]){"a ", "draining", NULL});
    status_line(out, (const char *const[]){"a ", "listening", NULL});
    /* the drain ends: the counts stay, and a new client adds to them */
    echo(a1, 300);
    close(a1);
    dmn_wait(&d, "drained: the last of 1 connection", 5000);
    int a3 = tcp(pa);
    echo(a3, 50);
    close(a3);
    dmn_wait(&d, "[a] [1] disconnected", 5000);
    scrape(mp);
    assert_true(value(FWD("azrelay_connections_accepted_total", "a", "")) == 3);
    assert_true(value(FWD("azrelay_connections_active", "a", "")) == 0);
    assert_true(value(FWD("azrelay_bytes_total", "a", "direction=\"to_relay\",")) == 2450);
    assert_true(value(FWD("azrelay_connect_seconds_count", "a", "")) == 3);
    /* a file that does not load: refused, counted */
    write_cfg("LocalPort=x\n");
    kill(d.pid, SIGHUP);
    dmn_wait(&d, "nothing changed", 5000);
    scrape(mp);
    assert_true(value("azrelay_reloads_total{result=\"refused\"}") == 1);
    assert_int_equal(dmn_stop(&d), 0);
    assert_int_equal(access(moved, F_OK), -1);
    relay_stop(&r);
}

/* A TCP client with a small receive window, not reading yet. */
static int tcp_small(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int sz = 2048;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        fail_msg("port %d: %s", port, strerror(errno));
    return fd;
}

/* Read to EOF (a reset counts as EOF), pausing pause_ms between reads of at most chunk bytes. */
static size_t read_slowly(int fd, char *buf, size_t cap, size_t chunk, int pause_ms)
{
    size_t got = 0;
    ssize_t n;
    while (got < cap - 1 &&
           (n = read(fd, buf + got, cap - 1 - got < chunk ? cap - 1 - got : chunk)) > 0) {
        got += (size_t)n;
        if (pause_ms)
            usleep((useconds_t)pause_ms * 1000u);
    }
    buf[got] = '\0';
    return got;
}

/*
 * Clients that stall, with 40 forwards so /metrics is larger than what the
 * sockets hold: a request that never ends, a status reader that never
 * reads, a scraper that never reads its answer and one that reads it a
 * little at a time. The forwards and other scrapes go on at their pace; the
 * slow reader gets the whole answer; the request gets 408 at 5 s; the one
 * that never reads is cut at 10 s with its answer unfinished.
 */
static void test_daemon_status_stalled_clients(void **st_)
{
    (void)st_;
    start_forwards("", 40);
    uint64_t t0 = ms();
    int slow = tcp(mp);
    assert_int_equal(write(slow, "GET /metrics HTTP/1.1\r\nHo", 25), 25);
    int reader = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {0};
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
    assert_int_equal(connect(reader, (struct sockaddr *)&a, sizeof a), 0);
    static const char get[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    int never = tcp_small(mp), trickle = tcp_small(mp);
    assert_int_equal(write(never, get, sizeof get - 1), (ssize_t)(sizeof get - 1));
    assert_int_equal(write(trickle, get, sizeof get - 1), (ssize_t)(sizeof get - 1));
    for (int i = 0; i < 10; i++) {
        int c = tcp(pa);
        echo(c, 1000);
        close(c);
        scrape(mp);
    }
    uint64_t took = ms() - t0;
    print_message("10 echoes and scrapes beside four stalled clients: %llu ms\n",
                  (unsigned long long)took);
    assert_true(took < 4000);
    /* the slow reader: 1 KiB every 5 ms, the whole answer */
    static char resp[1 << 18];
    size_t got = read_slowly(trickle, resp, sizeof resp, 1024, 5);
    const char *cl = strstr(resp, "\r\nContent-Length: ");
    assert_non_null(cl);
    size_t body_len = (size_t)strtol(cl + 18, NULL, 10);
    print_message("a slow reader took %zu bytes of /metrics in %llu ms\n", got,
                  (unsigned long long)(ms() - t0));
    assert_true(body_len > 60000);
    assert_int_equal(strlen(body_of(resp)), body_len);
    size_t full = got;
    close(trickle);
    /* the request that never ended */
    got = read_slowly(slow, resp, sizeof resp, sizeof resp, 0);
    uint64_t waited = ms() - t0;
    assert_true(!strncmp(resp, "HTTP/1.1 408 ", 13));
    assert_true(waited >= 4000 && waited < 9000);
    close(slow);
    /* the scraper that never read: cut at 10 s, its answer unfinished */
    while (ms() - t0 < 10500)
        usleep(50000);
    got = read_slowly(never, resp, sizeof resp, sizeof resp, 0);
    print_message("the one that never read got %zu bytes when it did\n", got);
    assert_true(got > 0 && got < full); /* the rest never left the daemon's buffer */
    close(never);
    close(reader);
    assert_int_equal(dmn_stop(&d), 0);
    relay_stop(&r);
}

/* A StatusSocket that is a regular file, or that a live daemon holds, stops the start. */
static void test_daemon_status_socket_taken(void **st_)
{
    (void)st_;
    start_forwards("", 2);
    dmn other;
    char arg[128], marg[64];
    snprintf(arg, sizeof arg, "StatusSocket=%s", sock);
    snprintf(marg, sizeof marg, "LocalPort=%d", free_port());
    dmn_start(&other,
              (const char *const[]){"NamespaceAddress=ws://127.0.0.1:9", "HybridConnection=x",
                                    "LocalHost=127.0.0.1", marg, arg, NULL});
    int rc;
    uint64_t stop = ms() + 10000;
    while (waitpid(other.pid, &rc, WNOHANG) != other.pid && ms() < stop)
        usleep(5000);
    procs_track(other.pid, false);
    dmn_read(&other);
    close(other.out);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
    assert_non_null(strstr(other.log, "another process listens there"));
    assert_int_equal(dmn_stop(&d), 0);
    relay_stop(&r);
    /* a regular file in the way */
    FILE *f = fopen(sock, "w");
    assert_non_null(f);
    fclose(f);
    dmn_start(&other,
              (const char *const[]){"NamespaceAddress=ws://127.0.0.1:9", "HybridConnection=x",
                                    "LocalHost=127.0.0.1", marg, arg, NULL});
    stop = ms() + 10000;
    while (waitpid(other.pid, &rc, WNOHANG) != other.pid && ms() < stop)
        usleep(5000);
    procs_track(other.pid, false);
    dmn_read(&other);
    close(other.out);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
    assert_non_null(strstr(other.log, "the file exists and is not a socket"));
    unlink(sock);
    /* --status where nobody listens */
    static char out[1024];
    assert_int_equal(status_run((const char *const[]){sock, NULL}, out, sizeof out), 1);
}

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/azr-status-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(cfg, sizeof cfg, "%s/azrelay.conf", dir);
    snprintf(sock, sizeof sock, "%s/status", dir);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    procs_kill_all();
    char p[128];
    static const char *const files[] = {"status", "status2", "azrelay.conf", "azrelay.conf.new"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_daemon_status_metrics_scraped),
        T(test_daemon_status_reload_keeps_counting),
        T(test_daemon_status_stalled_clients),
        T(test_daemon_status_socket_taken),
    };
    return cmocka_run_group_tests_name("daemon_status", tests, NULL, NULL);
}
