/*
 * The daemon's lifecycle as real processes (build/azrelay-proxy with a config
 * file, the bundled emulator build/azrelay-emu and tests/node/ws-relay.js):
 * two forwards serving two hybrid connections at once; a reload under load
 * (a live connection of an unchanged forward streams on across the SIGHUP,
 * sha256 of what came back equal to what was sent, while an added forward
 * starts, a removed one stops listening and drains until its DrainTimeout,
 * and a changed one rebinds its port with the new settings while its old
 * connection drains); a file that does not load, and new settings that do not
 * start, change nothing; SIGTERM lets a 50 MB transfer finish (sha256 equal
 * to the relay's) and exits 0 after it; a second SIGTERM exits at once; the
 * end of DrainTimeout closes what is left with 1001. Figures (reload time,
 * the longest pause of the stream, drain times) are printed, not asserted.
 */
#include "testutil.h"
#include "peers.h"
#include "sha256.h"
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define KEY  "8oKRDwkl0s440MlLUi4qHxDL34j1FS6K3t5TRoJ216c="
#define RULE "RootManageSharedAccessKey:" KEY

/* ------------------------------------------------------------ the daemon */

typedef struct dmn {
    pid_t pid;
    int out;    /* its stderr, a file we read */
    size_t len; /* bytes of log */
    char log[1 << 20];
} dmn;

/* What the daemon wrote since the last look. */
static void dmn_read(dmn *d)
{
    ssize_t n;
    while (d->len < sizeof d->log - 1 &&
           (n = read(d->out, d->log + d->len, sizeof d->log - 1 - d->len)) > 0)
        d->len += (size_t)n;
    d->log[d->len] = '\0';
}

/* The offset of needle in the log at or after from, waiting at most limit_ms;
 * fails with the log when it does not come. */
static size_t dmn_wait(dmn *d, const char *needle, size_t from, int limit_ms)
{
    uint64_t stop = ms() + (uint64_t)limit_ms;
    for (;;) {
        dmn_read(d);
        const char *at = strstr(d->log + from, needle);
        if (at)
            return (size_t)(at - d->log);
        if (ms() > stop)
            fail_msg("no '%s' in the daemon's log within %d ms:\n%s", needle, limit_ms,
                     d->log + from);
        usleep(5000);
    }
}

static bool dmn_has(dmn *d, const char *needle, size_t from)
{
    dmn_read(d);
    return strstr(d->log + from, needle) != NULL;
}

/* azrelay-proxy with args (NULL-terminated), its stderr into d->log. */
static void dmn_start(dmn *d, const char *const *args)
{
    const char *bin = getenv("AZR_PROXY_BIN") ? getenv("AZR_PROXY_BIN") : "../build/azrelay-proxy";
    const char *argv[32] = {bin};
    int n = 1;
    for (; *args && n < 31; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    relay r; /* proc_start's process with its output in a file */
    proc_start(&r, argv, 2);
    close(r.in);
    d->pid = r.pid;
    d->out = r.out;
    d->len = 0;
    d->log[0] = '\0';
}

/* Wait at most limit_ms for the daemon to end; its exit status, -1 when it still runs. */
static int dmn_exit(dmn *d, int limit_ms)
{
    uint64_t stop = ms() + (uint64_t)limit_ms;
    int st;
    for (;;) {
        pid_t r = waitpid(d->pid, &st, WNOHANG);
        if (r == d->pid) {
            procs_track(d->pid, false);
            dmn_read(d);
            close(d->out);
            if (!WIFEXITED(st))
                fail_msg("the daemon ended by signal %d; its log:\n%s", WTERMSIG(st), d->log);
            return WEXITSTATUS(st);
        }
        if (ms() > stop)
            return -1;
        dmn_read(d);
        usleep(2000);
    }
}

static int teardown(void **st)
{
    (void)st;
    procs_kill_all();
    return 0;
}

/* ------------------------------------------------------------------ peers */

/* The emulator with echo on hc1 and hc2 and a 1000-byte source on hc3; its
 * log (one line per sender, naming the hybrid connection) in e. */
static int emu_start(relay *e)
{
    const char *bin = getenv("AZR_EMU_BIN") ? getenv("AZR_EMU_BIN") : "../build/azrelay-emu";
    const char *argv[] = {bin,   "--port", "0",   "--rule",   RULE,       "--echo",
                          "hc1", "--echo", "hc2", "--source", "hc3:1000", NULL};
    proc_start(e, argv, 2);
    char line[256];
    assert_true(relay_match(e, "listening on ", false, line, sizeof line, 10000));
    int port = (int)strtol(strstr(line, "127.0.0.1:") + 10, NULL, 10);
    assert_true(port > 0);
    return port;
}

static void write_file(const char *path, const char *text)
{
    /* a new file renamed over the old one, as editors and config managers do; mode
     * 600: it holds the key, and the daemon refuses a config file with a secret that
     * others may read */
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static int tcp(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void refused(int port)
{
    int fd = tcp(port);
    if (fd >= 0)
        fail_msg("port %d still accepts", port);
    assert_int_equal(errno, ECONNREFUSED);
}

/* text sent on a new connection to port comes back */
static void echo_once(int port, const char *text)
{
    int fd = tcp(port);
    if (fd < 0)
        fail_msg("port %d refuses: %s", port, strerror(errno));
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t len = strlen(text), got = 0;
    char buf[256];
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    while (got < len) {
        ssize_t n = read(fd, buf + got, sizeof buf - got);
        if (n <= 0)
            fail_msg("no echo of '%s' on port %d (%zu bytes back)", text, port, got);
        got += (size_t)n;
    }
    assert_memory_equal(buf, text, len);
    close(fd);
}

/* Read until EOF (5 s at most): how many bytes, each checked against the
 * emulator's source pattern (byte i is i % 251). */
static size_t read_source(int port)
{
    int fd = tcp(port);
    if (fd < 0)
        fail_msg("port %d refuses: %s", port, strerror(errno));
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t total = 0;
    uint8_t buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++, total++)
            assert_int_equal(buf[i], (uint8_t)(total % 251u));
    close(fd);
    return total;
}

/* ------------------------------------------------- a stream through echo */

/* Pseudo-random bytes written as fast as the echo takes them (at most
 * 1 MiB ahead of what came back), both directions hashed. */
typedef struct stream {
    int fd;
    uint64_t rng;
    uint8_t chunk[16384];
    size_t chunk_len, chunk_off;
    uint64_t sent, got;
    azr_sha256_ctx tx, rx;
    uint64_t last_rx, max_gap; /* ms: the longest wait for echoed bytes while some were due */
    bool closed;               /* EOF or an error on the socket */
} stream;

static void stream_open(stream *s, int port)
{
    memset(s, 0, sizeof *s);
    s->fd = tcp(port);
    if (s->fd < 0)
        fail_msg("port %d refuses: %s", port, strerror(errno));
    fcntl(s->fd, F_SETFL, O_NONBLOCK);
    s->rng = 0x9E3779B97F4A7C15ull ^ (uint64_t)port;
    azr_sha256_init(&s->tx);
    azr_sha256_init(&s->rx);
    s->last_rx = ms();
}

static void stream_fill(stream *s)
{
    for (size_t i = 0; i < sizeof s->chunk; i++) {
        s->rng ^= s->rng << 13;
        s->rng ^= s->rng >> 7;
        s->rng ^= s->rng << 17;
        s->chunk[i] = (uint8_t)s->rng;
    }
    s->chunk_len = sizeof s->chunk;
    s->chunk_off = 0;
}

/* Move bytes for limit_ms (writing only while more), reading the daemon's log too. */
static void stream_pump(stream *s, dmn *d, int limit_ms, bool more)
{
    uint64_t stop = ms() + (uint64_t)limit_ms;
    while (ms() < stop && !s->closed) {
        bool want_out = more && s->sent - s->got < (1u << 20);
        struct pollfd p = {s->fd, (short)(POLLIN | (want_out ? POLLOUT : 0)), 0};
        poll(&p, 1, 5);
        if (want_out && (p.revents & POLLOUT)) {
            if (s->chunk_off == s->chunk_len)
                stream_fill(s);
            ssize_t n = write(s->fd, s->chunk + s->chunk_off, s->chunk_len - s->chunk_off);
            if (n > 0) {
                azr_sha256_update(&s->tx, s->chunk + s->chunk_off, (size_t)n);
                s->chunk_off += (size_t)n;
                s->sent += (uint64_t)n;
            }
        }
        uint8_t buf[65536];
        ssize_t n = read(s->fd, buf, sizeof buf);
        uint64_t now = ms();
        if (n > 0) {
            azr_sha256_update(&s->rx, buf, (size_t)n);
            s->got += (uint64_t)n;
            if (now - s->last_rx > s->max_gap)
                s->max_gap = now - s->last_rx;
            s->last_rx = now;
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            s->closed = true;
        } else if (s->got == s->sent) {
            s->last_rx = now; /* nothing due: not a pause */
        }
        if (d)
            dmn_read(d);
    }
}

/* Stop writing, take back what is due, compare the digests. */
static void stream_finish(stream *s, dmn *d)
{
    uint64_t stop = ms() + 10000;
    while (s->got < s->sent && !s->closed && ms() < stop)
        stream_pump(s, d, 50, false);
    if (s->got != s->sent)
        fail_msg("the stream lost bytes: %llu sent, %llu back%s", (unsigned long long)s->sent,
                 (unsigned long long)s->got, s->closed ? " (the connection closed)" : "");
    uint8_t a[AZR_SHA256_LEN], b[AZR_SHA256_LEN];
    azr_sha256_final(&s->tx, a);
    azr_sha256_final(&s->rx, b);
    assert_memory_equal(a, b, sizeof a);
    close(s->fd);
}

/* ------------------------------------------------------------------ cases */

static char conf_path[64];

static void conf_new(void)
{
    snprintf(conf_path, sizeof conf_path, "/tmp/azrelay-reload-%d.conf", (int)getpid());
}

/* Two forwards, one loop: two clients at once, each on its own hybrid
 * connection (the emulator logs which), each gets its own bytes back. */
static void test_daemon_reload_two_forwards_two_hybrid_connections(void **st)
{
    (void)st;
    relay e;
    int eport = emu_start(&e);
    int pp[2];
    free_ports(pp, 2);
    int pa = pp[0], pb = pp[1];
    char text[1024];
    conf_new();
    snprintf(text, sizeof text,
             "NamespaceAddress=ws://127.0.0.1:%d\nAccessKeyName=RootManageSharedAccessKey\n"
             "AccessKey=%s\nLocalHost=127.0.0.1\n"
             "[forward one]\nHybridConnection=hc1\nLocalPort=%d\n"
             "[forward two]\nHybridConnection=hc2\nLocalPort=%d\n",
             eport, KEY, pa, pb);
    write_file(conf_path, text);
    static dmn d;
    dmn_start(&d, (const char *const[]){"-c", conf_path, NULL});
    dmn_wait(&d, "[one] listening on 127.0.0.1:", 0, 10000);
    dmn_wait(&d, "[two] listening on 127.0.0.1:", 0, 10000);
    static stream s1, s2;
    stream_open(&s1, pa);
    stream_open(&s2, pb);
    for (int i = 0; i < 20; i++) { /* interleaved, both open at once */
        stream_pump(&s1, &d, 25, true);
        stream_pump(&s2, &d, 25, true);
    }
    char line[256];
    assert_true(relay_match(&e, "connected to hc1", false, line, sizeof line, 5000));
    assert_true(relay_match(&e, "connected to hc2", false, line, sizeof line, 5000));
    uint64_t sent1 = s1.sent, sent2 = s2.sent;
    stream_finish(&s1, &d);
    stream_finish(&s2, &d);
    print_message("two forwards at once: %llu and %llu bytes echoed\n", (unsigned long long)sent1,
                  (unsigned long long)sent2);
    assert_true(sent1 > 0 && sent2 > 0);
    /* each connection's end: one line with forward, peer, duration, bytes, reason */
    dmn_wait(&d, "[one] [1] disconnected (0): ", 0, 5000);
    size_t at = dmn_wait(&d, "[two] [1] disconnected (0): ", 0, 5000);
    char want[96];
    snprintf(want, sizeof want, " bytes in, %llu out)\n", (unsigned long long)sent2);
    const char *eol = strchr(d.log + at, '\n');
    /* "(peer 127.0.0.1:PORT, S.mmm s, N bytes in, N out)" */
    const char *peer = strstr(d.log + at, "(peer 127.0.0.1:");
    assert_non_null(peer);
    char *q;
    assert_true(strtol(peer + 16, &q, 10) > 0);
    unsigned long secs = strtoul(q + 2, &q, 10);
    assert_true(q[0] == '.' && q[4] == ' ' && q[5] == 's' && q[6] == ',');
    assert_true(secs < 60);
    assert_true(strstr(d.log + at, want) && strstr(d.log + at, want) < eol + 1);
    /* EventLoop changes with a restart only: no forward changes; LogLevel (and DrainTimeout)
     * apply in place: the listener stays */
    snprintf(text, sizeof text,
             "EventLoop=poll\n"
             "NamespaceAddress=ws://127.0.0.1:%d\nAccessKeyName=RootManageSharedAccessKey\n"
             "AccessKey=%s\nLocalHost=127.0.0.1\n"
             "[forward one]\nHybridConnection=hc1\nLocalPort=%d\nLogLevel=2\nDrainTimeout=5\n"
             "[forward two]\nHybridConnection=hc2\nLocalPort=%d\n",
             eport, KEY, pa, pb);
    write_file(conf_path, text);
    size_t mark = d.len;
    kill(d.pid, SIGHUP);
    dmn_wait(&d, "reload: EventLoop=3 takes effect at the next start (the loop in use stays)\n",
             mark, 5000);
    dmn_wait(&d,
             "[one] changed (LogLevel, DrainTimeout): applied in place, its listener and "
             "connections stay\n",
             mark, 5000);
    dmn_wait(&d, "reload: 0 added, 1 changed (one), 0 removed, 1 unchanged\n", mark, 5000);
    assert_false(dmn_has(&d, "stopped listening", 0));
    echo_once(pa, "LogLevel 2 now");
    dmn_wait(&d, "Verbose [one] [2] ", mark, 5000); /* LogLevel 2 took effect */
    kill(d.pid, SIGTERM);
    assert_int_equal(dmn_exit(&d, 5000), 0);
    unlink(conf_path);
    relay_stop(&e);
}

/* The reload under load. v1: a, b, x; v2: a the same (written differently),
 * b changed (hc2 -> hc3, same port), x removed, c added. */
static void test_daemon_reload_under_load(void **st)
{
    (void)st;
    relay e;
    int eport = emu_start(&e);
    int pp[4];
    free_ports(pp, 4);
    int pa = pp[0], pb = pp[1], px = pp[2], pc = pp[3];
    char text[2048];
    conf_new();
    snprintf(text, sizeof text,
             "NamespaceAddress=ws://127.0.0.1:%d\n"
             "AccessKeyName=RootManageSharedAccessKey\n"
             "AccessKey=%s\n"
             "LocalHost=127.0.0.1\n"
             "LogLevel=1\n"
             "[forward a]\nHybridConnection=hc1\nLocalPort=%d\n"
             "[forward b]\nHybridConnection=hc2\nLocalPort=%d\n"
             "[forward x]\nHybridConnection=hc1\nLocalPort=%d\nDrainTimeout=3\n",
             eport, KEY, pa, pb, px);
    write_file(conf_path, text);
    static dmn d;
    dmn_start(&d, (const char *const[]){"-c", conf_path, NULL});
    dmn_wait(&d, "[x] listening on", 0, 10000);
    /* a streams throughout; b and x each hold an open connection */
    static stream sa, sb, sx;
    stream_open(&sa, pa);
    stream_open(&sb, pb);
    stream_open(&sx, px);
    stream_pump(&sb, &d, 50, true);
    stream_pump(&sx, &d, 50, true);
    stream_pump(&sa, &d, 1000, true);
    uint64_t before = sa.got;
    /* v2: a's settings in another order and spelling (LogLevel=Info is 1): the same values */
    snprintf(text, sizeof text,
             "# v2\n"
             "LogLevel=Info\n"
             "LocalHost=127.0.0.1\n"
             "AccessKey=%s\n"
             "AccessKeyName=RootManageSharedAccessKey\n"
             "NamespaceAddress=ws://127.0.0.1:%d\n"
             "[forward c]\nHybridConnection=hc2\nLocalPort=%d\n"
             "[forward a]\nLocalPort=%d\nHybridConnection=hc1\n"
             "[forward b]\nHybridConnection=hc3\nLocalPort=%d\n",
             KEY, eport, pc, pa, pb);
    write_file(conf_path, text);
    size_t mark = d.len;
    uint64_t gap_before = sa.max_gap;
    sa.max_gap = 0;
    uint64_t t0 = ms();
    assert_int_equal(kill(d.pid, SIGHUP), 0);
    uint64_t reload_ms = 0;
    while (!dmn_has(&d, "reload: ", mark) && ms() - t0 < 10000)
        stream_pump(&sa, &d, 5, true);
    reload_ms = ms() - t0;
    size_t sum = dmn_wait(&d, "reload: ", mark, 0);
    const char *want = "reload: 1 added (c), 1 changed (b), 1 removed (x), 1 unchanged\n";
    if (strncmp(d.log + sum, want, strlen(want)) != 0)
        fail_msg("summary: %.*s", (int)strcspn(d.log + sum, "\n"), d.log + sum);
    stream_pump(&sa, &d, 1000, true);
    uint64_t gap_reload = sa.max_gap; /* from the SIGHUP to a second after the summary */
    /* x: removed, its port refuses; its open connection still echoes (it drains) */
    refused(px);
    stream_pump(&sx, &d, 100, true);
    assert_false(sx.closed);
    /* a was not touched: no listener change, its connection streams on */
    assert_false(dmn_has(&d, "[a] stopped listening", 0));
    assert_false(dmn_has(&d, "[a] [1] disconnected", 0));
    assert_true(sa.got > before);
    /* b: the same port, the new settings (hc3's source); its old connection (hc2's echo)
     * drains on */
    dmn_wait(&d, "[b] changed (HybridConnection): a new proxy takes over", mark, 0);
    assert_int_equal(read_source(pb), 1000);
    stream_pump(&sb, &d, 100, true);
    uint64_t sent_b = sb.sent;
    stream_finish(&sb, &d);
    dmn_wait(&d, "[b, draining] drained: the last of 1 connection ended after", mark, 5000);
    /* c: added */
    echo_once(pc, "to the added forward");
    /* x's connection is closed by the daemon once its DrainTimeout (3 s) passed */
    stream_pump(&sx, &d, 5000, false);
    assert_true(sx.closed);
    dmn_wait(&d,
             "[x, draining] DrainTimeout (3 s) passed: closing 1 connection (1001 to the relay)",
             mark, 0);
    close(sx.fd);
    /* the stream, end to end */
    uint64_t gap = sa.max_gap > gap_before ? sa.max_gap : gap_before, total = sa.sent;
    stream_finish(&sa, &d);
    print_message("reload under load: SIGHUP to summary %llu ms; the unchanged forward's stream "
                  "moved %llu bytes, its longest pause %llu ms around the reload (%llu ms in "
                  "all); the changed forward's old connection moved %llu bytes\n",
                  (unsigned long long)reload_ms, (unsigned long long)total,
                  (unsigned long long)gap_reload, (unsigned long long)gap,
                  (unsigned long long)sent_b);
    kill(d.pid, SIGTERM);
    assert_int_equal(dmn_exit(&d, 5000), 0);
    unlink(conf_path);
    relay_stop(&e);
}

/* A file that does not load changes nothing (and says why); a forward whose
 * new settings do not start keeps its old ones; a fixed file loads. */
static void test_daemon_reload_refused_changes_nothing(void **st)
{
    (void)st;
    relay e;
    int eport = emu_start(&e);
    int pp[2];
    free_ports(pp, 2);
    int pa = pp[0], pb = pp[1];
    char text[2048], head[512];
    conf_new();
    snprintf(head, sizeof head,
             "NamespaceAddress=ws://127.0.0.1:%d\nAccessKeyName=RootManageSharedAccessKey\n"
             "AccessKey=%s\nLocalHost=127.0.0.1\n",
             eport, KEY);
    snprintf(text, sizeof text, "%s[forward a]\nHybridConnection=hc1\nLocalPort=%d\n", head, pa);
    write_file(conf_path, text);
    static dmn d;
    dmn_start(&d, (const char *const[]){"-c", conf_path, NULL});
    dmn_wait(&d, "[a] listening on", 0, 10000);
    static stream s;
    stream_open(&s, pa);
    stream_pump(&s, &d, 200, true);
    /* line 8 repeats LocalPort; b would be added, a changed: neither happens */
    snprintf(text, sizeof text,
             "%s[forward a]\nHybridConnection=hc2\nLocalPort=%d\nLocalPort=%d\n"
             "[forward b]\nHybridConnection=hc1\nLocalPort=%d\n",
             head, pa, pa, pb);
    write_file(conf_path, text);
    size_t mark = d.len;
    kill(d.pid, SIGHUP);
    char want[256];
    snprintf(want, sizeof want,
             "Error   reload: %s:8: LocalPort is set again in [forward a] (first at line 7): a "
             "setting appears once per section; nothing changed\n",
             conf_path);
    dmn_wait(&d, want, mark, 5000);
    stream_pump(&s, &d, 200, true);
    refused(pb);
    echo_once(pa, "still a");
    assert_false(dmn_has(&d, "stopped listening", 0)); /* a was not restarted */
    /* a value the vocabulary refuses: the same */
    snprintf(text, sizeof text, "%s[forward a]\nHybridConnection=hc1\nLocalPort=%d\nLogLevel=9\n",
             head, pa);
    write_file(conf_path, text);
    mark = d.len;
    kill(d.pid, SIGHUP);
    snprintf(want, sizeof want,
             "reload: %s:8: LogLevel: '9' is not one of 0=None,1=Info,2=Verbose,3=Debug; nothing "
             "changed\n",
             conf_path);
    dmn_wait(&d, want, mark, 5000);
    /* new settings that do not start (a's new port is held by someone else): the old stay */
    int busy = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in ba = {0};
    socklen_t bl = sizeof ba;
    ba.sin_family = AF_INET;
    ba.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(busy, (struct sockaddr *)&ba, sizeof ba), 0);
    assert_int_equal(listen(busy, 1), 0);
    assert_int_equal(getsockname(busy, (struct sockaddr *)&ba, &bl), 0);
    snprintf(text, sizeof text,
             "%s[forward a]\nHybridConnection=hc1\nLocalPort=%d\n"
             "[forward b]\nHybridConnection=hc2\nLocalPort=%d\n",
             head, ntohs(ba.sin_port), pb);
    write_file(conf_path, text);
    mark = d.len;
    kill(d.pid, SIGHUP);
    size_t sum = dmn_wait(&d, "reload: ", mark, 5000);
    const char *sw = "reload: 1 added (b), 0 changed, 0 removed, 0 unchanged, 1 failed (a)\n";
    if (strncmp(d.log + sum, sw, strlen(sw)) != 0)
        fail_msg("summary: %.*s", (int)strcspn(d.log + sum, "\n"), d.log + sum);
    dmn_wait(&d, "[a] the new settings do not start (cannot listen on 127.0.0.1:", mark, 0);
    stream_pump(&s, &d, 300, true);
    echo_once(pa, "old settings");
    echo_once(pb, "added b");
    close(busy);
    /* and a file that starts: a moves to hc3 (the source) on its old port */
    snprintf(text, sizeof text,
             "%s[forward a]\nHybridConnection=hc3\nLocalPort=%d\n"
             "[forward b]\nHybridConnection=hc2\nLocalPort=%d\n",
             head, pa, pb);
    write_file(conf_path, text);
    mark = d.len;
    kill(d.pid, SIGHUP);
    dmn_wait(&d, "reload: 0 added, 1 changed (a), 0 removed, 1 unchanged\n", mark, 5000);
    assert_int_equal(read_source(pa), 1000);
    stream_finish(&s, &d); /* the old connection of a, drained on hc1, lost nothing */
    kill(d.pid, SIGTERM);
    assert_int_equal(dmn_exit(&d, 5000), 0);
    unlink(conf_path);
    relay_stop(&e);
}

/* SIGTERM in the middle of a 50 MB download: no new connections, the
 * transfer finishes (sha256 equal to what the relay sent), then exit 0. */
static void test_daemon_drain_lets_a_50mb_transfer_finish(void **st)
{
    (void)st;
    relay r;
    const char *const rargs[] = {"--mode", "source", "--bytes", "52428800", NULL};
    relay_start(&r, rargs);
    char ns[64];
    snprintf(ns, sizeof ns, "NamespaceAddress=ws://127.0.0.1:%d", r.port);
    int port = free_port();
    char lp[32];
    snprintf(lp, sizeof lp, "LocalPort=%d", port);
    static dmn d;
    dmn_start(&d, (const char *const[]){ns, "HybridConnection=hc1",
                                        "AccessKeyName=RootManageSharedAccessKey", "AccessKey=" KEY,
                                        "LocalHost=127.0.0.1", lp, NULL});
    dmn_wait(&d, "[default] listening on", 0, 10000);
    int fd = tcp(port);
    assert_true(fd >= 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    static uint8_t buf[1 << 16];
    azr_sha256_ctx h;
    azr_sha256_init(&h);
    size_t total = 0;
    ssize_t n;
    while (total < (1u << 20) && (n = read(fd, buf, sizeof buf)) > 0) {
        azr_sha256_update(&h, buf, (size_t)n);
        total += (size_t)n;
    }
    /* the client pauses: the transfer is in flight when SIGTERM comes */
    uint64_t t0 = ms();
    kill(d.pid, SIGTERM);
    dmn_wait(&d,
             "SIGTERM: shutting down: no new connections; 1 open connection may finish "
             "within 30 s (DrainTimeout); SIGTERM again closes them now",
             0, 5000);
    refused(port);
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        azr_sha256_update(&h, buf, (size_t)n);
        total += (size_t)n;
    }
    uint64_t t_eof = ms();
    close(fd);
    int rc = dmn_exit(&d, 5000);
    uint64_t t_exit = ms();
    if (rc != 0)
        fail_msg("exit status %d; the log:\n%s", rc, d.log);
    char line[256], hex[65];
    assert_true(relay_line(&r, "SENT ", line, sizeof line, 5000));
    uint8_t dig[AZR_SHA256_LEN];
    azr_sha256_final(&h, dig);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", dig[i]);
    char want[128];
    snprintf(want, sizeof want, "SENT %zu %s", total, hex);
    if (strcmp(line, want) != 0)
        fail_msg("the relay: '%s'; the client: '%s'", line, want);
    assert_int_equal(total, 52428800);
    assert_non_null(strstr(d.log, "[default, draining] drained: the last of 1 connection ended "
                                  "after"));
    print_message("drain: SIGTERM to the last byte %llu ms (50 MB), to the exit %llu ms\n",
                  (unsigned long long)(t_eof - t0), (unsigned long long)(t_exit - t0));
    relay_stop(&r);
}

/* An idle connection holds the drain: a second SIGTERM ends it at once
 * (1001 to the relay); another time DrainTimeout=1 does. */
static void test_daemon_drain_second_sigterm_and_drain_timeout(void **st)
{
    (void)st;
    for (int round = 0; round < 2; round++) {
        relay r;
        relay_start(&r, NULL);
        char ns[64];
        snprintf(ns, sizeof ns, "NamespaceAddress=ws://127.0.0.1:%d", r.port);
        int port = free_port();
        char lp[32];
        snprintf(lp, sizeof lp, "LocalPort=%d", port);
        static dmn d;
        dmn_start(&d, (const char *const[]){ns, "HybridConnection=hc1",
                                            "AccessKeyName=RootManageSharedAccessKey",
                                            "AccessKey=" KEY, "LocalHost=127.0.0.1", lp,
                                            round ? "DrainTimeout=1" : "DrainTimeout=30", NULL});
        dmn_wait(&d, "[default] listening on", 0, 10000);
        echo_once(port, "warm up");
        int fd = tcp(port);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "idle", 4), 4);
        char buf[16];
        assert_int_equal(read(fd, buf, sizeof buf), 4);
        uint64_t t0 = ms();
        kill(d.pid, SIGTERM);
        dmn_wait(&d, "SIGTERM: shutting down: no new connections; 1 open connection", 0, 5000);
        if (round == 0) {
            usleep(300000);
            assert_int_equal(dmn_exit(&d, 0), -1); /* still draining */
            kill(d.pid, SIGTERM);
        }
        int rc = dmn_exit(&d, 5000);
        uint64_t took = ms() - t0;
        if (rc != 0)
            fail_msg("exit status %d; the log:\n%s", rc, d.log);
        if (round == 0) {
            assert_non_null(strstr(d.log, "SIGTERM again: closing 1 connection now (1001 to "
                                          "the relay)"));
            assert_true(took < 1500);
        } else {
            assert_non_null(strstr(d.log, "[default, draining] DrainTimeout (1 s) passed: closing "
                                          "1 connection (1001 to the relay)"));
            assert_true(took >= 900 && took < 3000);
        }
        /* the relay heard 1001; the client got its FIN */
        char line[256];
        if (!relay_line(&r, "CLOSE 1001", line, sizeof line, 5000))
            fail_msg("the relay did not see close 1001");
        assert_int_equal(read(fd, buf, sizeof buf), 0);
        close(fd);
        print_message("%s: exit %llu ms after the first SIGTERM\n",
                      round ? "DrainTimeout=1" : "second SIGTERM after 300 ms",
                      (unsigned long long)took);
        relay_stop(&r);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_daemon_reload_two_forwards_two_hybrid_connections, teardown),
        cmocka_unit_test_teardown(test_daemon_reload_under_load, teardown),
        cmocka_unit_test_teardown(test_daemon_reload_refused_changes_nothing, teardown),
        cmocka_unit_test_teardown(test_daemon_drain_lets_a_50mb_transfer_finish, teardown),
        cmocka_unit_test_teardown(test_daemon_drain_second_sigterm_and_drain_timeout, teardown),
    };
    return cmocka_run_group_tests_name("daemon_reload", tests, NULL, NULL);
}
