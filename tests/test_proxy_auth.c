/*
 * Proxy authentication end to end against a real squid (Debian's squid 5.7,
 * started by this suite in the foreground with `squid -N -f conf`, one per
 * set of schemes, on ports the kernel handed out, with a private directory
 * for its configuration, passwords, pid file and logs under build/), the
 * relay stand-in (tests/node/ws-relay.js, echo) behind it, and the proxy in
 * process: a client's bytes go through squid's CONNECT tunnel to the relay
 * and back. squid's own helpers decide: basic_ncsa_auth (Basic, an htpasswd
 * file), digest_file_auth (Digest, RFC 7616's user), ntlm_fake_auth (NTLM:
 * the message flow, any password); its access.log says which user it let
 * through and how many CONNECTs it refused.
 * What is proven: Basic preemptive (ProxyAuthScheme=Basic: one CONNECT) and
 * under Auto (after a 407, on the same connection); Digest under Auto and
 * named; NTLM chosen first by Auto when squid offers NTLM, Digest and Basic,
 * and named; a wrong password ends with "proxy refused our credentials
 * (scheme)" after at most one retry; no ProxyUser and a Negotiate-only proxy
 * are refused clearly; squid and every helper it started are gone after it
 * is stopped by its PID.
 */
#include "testutil.h"
#include "peers.h"
#include "harness.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>

/* `openssl passwd -apr1 -salt azrelay1 'open sesame'` (RFC 7617's example user) */
#define BASIC_PW "Aladdin:$apr1$azrelay1$tSbWN8XXZ/7D4KcdLEi5H1\n"
/* digest_file_auth's plain text form; RFC 7616 §3.9.1's user and password */
#define DIGEST_PW "Mufasa:Circle of Life\n"

enum { S_BASIC = 1, S_DIGEST = 2, S_NTLM = 4, S_NEGOTIATE = 8 };

typedef struct squid {
    pid_t pid;
    int port;
    char dir[512];     /* private: squid.conf, passwords, pid file, logs */
    long access_seen;  /* bytes of access.log read before the case */
    pid_t helpers[32]; /* its children seen while it ran (authentication helpers) */
    size_t nhelpers;
} squid;

static squid sq_basic, sq_digest, sq_all, sq_negotiate;
static relay rel;
static int cases_passed; /* all of them: the squids' directories go, else they stay for a look */

/* ------------------------------------------------------------ squid */

static const char *squid_bin(void)
{
    /* /usr/sbin is not in every PATH */
    return access("/usr/sbin/squid", X_OK) == 0 ? "/usr/sbin/squid" : "squid";
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[640];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void squid_conf(const squid *q, unsigned schemes)
{
    char path[640];
    snprintf(path, sizeof path, "%s/squid.conf", q->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "http_port 127.0.0.1:%d\nvisible_hostname azrelay-test\n"
            "pid_filename %s/squid.pid\ncache_log %s/cache.log\naccess_log %s/access.log\n"
            "cache_store_log none\ncoredump_dir %s\nnetdb_filename none\npinger_enable off\n"
            "cache deny all\nshutdown_lifetime 0 seconds\n",
            q->port, q->dir, q->dir, q->dir, q->dir);
    if (geteuid() == 0)
        fprintf(f, "cache_effective_user proxy\n");
    /* squid offers the schemes in this order: NTLM, Digest, Basic (as in the field) */
    if (schemes & S_NEGOTIATE) /* never run: azrelay sends no Negotiate token */
        fprintf(f, "auth_param negotiate program /usr/lib/squid/ntlm_fake_auth\n"
                   "auth_param negotiate children 1\n");
    if (schemes & S_NTLM)
        fprintf(f, "auth_param ntlm program /usr/lib/squid/ntlm_fake_auth\n"
                   "auth_param ntlm children 2\nauth_param ntlm keep_alive on\n");
    if (schemes & S_DIGEST)
        fprintf(f,
                "auth_param digest program /usr/lib/squid/digest_file_auth %s/digest.pw\n"
                "auth_param digest children 2\nauth_param digest realm azrelay-digest\n"
                "auth_param digest nonce_garbage_interval 5 minutes\n"
                "auth_param digest nonce_max_duration 30 minutes\n"
                "auth_param digest nonce_max_count 50\n",
                q->dir);
    if (schemes & S_BASIC) /* casesensitive: squid lowercases Basic user names otherwise */
        fprintf(f,
                "auth_param basic program /usr/lib/squid/basic_ncsa_auth %s/basic.pw\n"
                "auth_param basic children 2\nauth_param basic realm azrelay-basic\n"
                "auth_param basic casesensitive on\n",
                q->dir);
    /* no "deny CONNECT !SSL_ports": the relay stand-in is on a high port */
    fprintf(f, "acl authed proxy_auth REQUIRED\nhttp_access allow authed\n"
               "http_access deny all\n");
    fclose(f);
}

/* Whether something accepts on 127.0.0.1:port. */
static bool accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    close(fd);
    return rc == 0;
}

/* A squid with these schemes, listening; its files in build/. */
static void squid_start(squid *q, const char *name, unsigned schemes)
{
    memset(q, 0, sizeof *q);
    char rel_dir[256];
    snprintf(rel_dir, sizeof rel_dir, "../build/squid-%d-%s", (int)getpid(), name);
    mkdir("../build", 0755);
    if (mkdir(rel_dir, 0755) != 0 && errno != EEXIST)
        fail_msg("cannot make %s: %s", rel_dir, strerror(errno));
    assert_non_null(realpath(rel_dir, q->dir));
    write_file(q->dir, "basic.pw", BASIC_PW);
    write_file(q->dir, "digest.pw", DIGEST_PW);
    write_file(q->dir, "access.log", "");
    const struct passwd *pw = geteuid() == 0 ? getpwnam("proxy") : NULL;
    if (geteuid() == 0 && !pw)
        fail_msg("no user 'proxy' for squid's cache_effective_user (is squid installed?)");
    static const char *const owned[] = {"", "/basic.pw", "/digest.pw", "/access.log"};
    for (size_t i = 0; pw && i < 4; i++) {
        char path[640];
        snprintf(path, sizeof path, "%s%s", q->dir, owned[i]);
        assert_int_equal(chown(path, pw->pw_uid, pw->pw_gid), 0);
    }
    for (int attempt = 0; attempt < 3; attempt++) { /* a port taken meanwhile: another */
        q->port = free_port();
        squid_conf(q, schemes);
        char conf[640], out[640];
        snprintf(conf, sizeof conf, "%s/squid.conf", q->dir);
        snprintf(out, sizeof out, "%s/stderr.txt", q->dir);
        const char *argv[] = {squid_bin(), "-N", "-f", conf, NULL};
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        int rc = posix_spawn(&q->pid, argv[0], &fa, NULL, (char *const *)argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0)
            fail_msg("cannot start %s (./build.sh test installs squid)", argv[0]);
        procs_track(q->pid, true);
        for (uint64_t stop = ms() + 10000; ms() < stop;) {
            if (accepts(q->port))
                return;
            if (waitpid(q->pid, NULL, WNOHANG) == q->pid)
                break; /* it ended: look at cache.log, then try another port */
            usleep(20000);
        }
        procs_track(q->pid, false);
        proc_end(q->pid);
        q->pid = 0;
    }
    fail_msg("squid did not start: see %s/cache.log and %s/stderr.txt", q->dir, q->dir);
}

/* squid's children now (its authentication helpers), added to q->helpers. */
static void squid_note_helpers(squid *q)
{
    DIR *d = opendir("/proc");
    assert_non_null(d);
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[300], stat[512];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[n] = '\0';
        const char *rp = strrchr(stat, ')'); /* "pid (comm) state ppid ..." */
        int ppid = 0;
        char state;
        if (!rp || sscanf(rp + 1, " %c %d", &state, &ppid) != 2 || ppid != q->pid)
            continue;
        pid_t h = (pid_t)strtol(e->d_name, NULL, 10);
        bool known = false;
        for (size_t i = 0; i < q->nhelpers; i++)
            known = known || q->helpers[i] == h;
        if (!known && q->nhelpers < sizeof q->helpers / sizeof q->helpers[0])
            q->helpers[q->nhelpers++] = h;
    }
    closedir(d);
}

/* Whether pid is alive and not a zombie. */
static bool running(pid_t pid)
{
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *rp = strrchr(stat, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* SIGTERM to each (they shut down together: squid takes ~2 s), then wait. */
static void squids_stop(squid *const *qs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (qs[i]->pid > 0) {
            squid_note_helpers(qs[i]);
            kill(qs[i]->pid, SIGTERM);
        }
    for (size_t i = 0; i < n; i++)
        if (qs[i]->pid > 0) {
            uint64_t stop = ms() + 8000;
            while (waitpid(qs[i]->pid, NULL, WNOHANG) != qs[i]->pid && ms() < stop)
                usleep(20000);
            procs_track(qs[i]->pid, false);
            if (ms() >= stop)
                proc_end(qs[i]->pid); /* SIGKILL after SIGTERM's grace */
            qs[i]->pid = 0;
        }
}

/* What squid logged since the case began (one line per request it answered). */
static void squid_log_since(squid *q, char *out, size_t cap)
{
    char path[640];
    snprintf(path, sizeof path, "%s/access.log", q->dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    fseek(f, q->access_seen, SEEK_SET);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* Wait until squid's access.log since the case holds `want` lines of `what`
 * (tunnels are logged when they end). */
static bool squid_logged(squid *q, const char *what, int want, char *log, size_t cap)
{
    for (uint64_t stop = ms() + 5000;; usleep(20000)) {
        squid_log_since(q, log, cap);
        if (count(log, what) >= want || ms() > stop)
            return count(log, what) == want;
    }
}

static void squid_case_begins(squid *q)
{
    char path[640];
    struct stat st;
    snprintf(path, sizeof path, "%s/access.log", q->dir);
    q->access_seen = stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* ----------------------------------------------------------- the proxy */

/* A few KiB out and back through squid and the relay. */
static bool echo_ok(azr_proxy *p, int fd)
{
    static uint8_t out[8192], back[8192];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (uint8_t)(i * 13 + 5);
    size_t got = exchange(p, fd, out, back, sizeof out, false, 15000);
    return got == sizeof out && memcmp(out, back, got) == 0;
}

/* The proxy in front of the relay, through squid q, with these settings. */
static azr_proxy *through(squid *q, seen *s, const char *const *set, int *lport)
{
    const char *all[12];
    char port[32], ns[64];
    size_t k = 0;
    snprintf(port, sizeof port, "ProxyPort=%d", q->port);
    all[k++] = "ProxyServer=127.0.0.1";
    all[k++] = port;
    all[k++] = "ConnectionTimeout=10";
    for (; set && *set && k < 11; set++)
        all[k++] = *set;
    all[k] = NULL;
    memset(s, 0, sizeof *s);
    snprintf(ns, sizeof ns, "ws://127.0.0.1:%d", rel.port);
    squid_case_begins(q);
    return proxy_at(ns, "hc1", s, all, lport);
}

/* The bytes go through; squid logged one tunnel for user and `denied` 407s. */
static void tunnel_for(squid *q, const char *const *set, const char *user, int denied)
{
    static seen s;
    int lport;
    azr_proxy *p = through(q, &s, set, &lport);
    int fd = client(lport);
    bool ok = echo_ok(p, fd);
    if (!ok)
        fprintf(stderr, "%s\n", s.log);
    assert_true(ok);
    assert_int_equal(s.connected_status, 0);
    close(fd);
    azr_proxy_free(p);
    static char log[65536];
    char want[128];
    snprintf(want, sizeof want, "TCP_TUNNEL/200 ");
    if (!squid_logged(q, want, 1, log, sizeof log))
        fail_msg("squid's access.log since the case:\n%s", log);
    snprintf(want, sizeof want, " CONNECT 127.0.0.1:%d %s HIER_DIRECT", rel.port, user);
    if (!strstr(log, want))
        fail_msg("squid's access.log does not say '%s':\n%s", want, log);
    if (count(log, "TCP_DENIED/407 ") != denied)
        fail_msg("squid should have refused %d CONNECTs:\n%s", denied, log);
    /* no secret in our log */
    assert_null(strstr(s.log, "open sesame"));
    assert_null(strstr(s.log, "Circle of Life"));
}

/* The connection ends with status and why; squid refused `denied` CONNECTs. */
static void refused_with(squid *q, const char *const *set, int status, const char *why, int denied)
{
    static seen s;
    int lport;
    azr_proxy *p = through(q, &s, set, &lport);
    int fd = client(lport);
    SPIN(p, s.disconnected == 1, 10000);
    assert_int_equal(s.disconnected, 1);
    if (s.disconnected_status != status || !strstr(s.disconnected_desc, why))
        fail_msg("status %d '%s', want %d '%s'\n%s", s.disconnected_status, s.disconnected_desc,
                 status, why, s.log);
    assert_int_equal(s.connected_status, status); /* Connected reports it too */
    close(fd);
    azr_proxy_free(p);
    static char log[65536];
    if (!squid_logged(q, "TCP_DENIED/407 ", denied, log, sizeof log))
        fail_msg("squid should have refused %d CONNECTs:\n%s", denied, log);
    assert_null(strstr(log, "TCP_TUNNEL"));
}

/* ------------------------------------------------------------------ cases */

static void test_proxy_auth_basic(void **st)
{
    (void)st;
    /* named: preemptive, squid refuses nothing */
    tunnel_for(&sq_basic,
               (const char *const[]){"ProxyUser=Aladdin", "ProxyPassword=open sesame",
                                     "ProxyAuthScheme=Basic", NULL},
               "Aladdin", 0);
    /* Auto: nothing until squid's 407, then Basic on the same connection */
    static seen s;
    int lport;
    azr_proxy *p = through(
        &sq_basic, &s,
        (const char *const[]){"ProxyUser=Aladdin", "ProxyPassword=open sesame", NULL}, &lport);
    int fd = client(lport);
    assert_true(echo_ok(p, fd));
    assert_non_null(strstr(s.log, "asks for authentication (407): Basic on the same connection"));
    assert_null(strstr(s.log, "trying again"));
    close(fd);
    azr_proxy_free(p);
    static char log[65536];
    assert_true(squid_logged(&sq_basic, "TCP_TUNNEL/200 ", 1, log, sizeof log));
    assert_int_equal(count(log, "TCP_DENIED/407 "), 1);
    assert_non_null(strstr(log, " Aladdin HIER_DIRECT"));
    cases_passed++;
}

static void test_proxy_auth_basic_wrong_password(void **st)
{
    (void)st;
    /* Auto: a 407 without credentials, one with them, then the refusal */
    refused_with(&sq_basic,
                 (const char *const[]){"ProxyUser=Aladdin", "ProxyPassword=open sesam", NULL},
                 AZR_ERR_AUTH,
                 "407 Proxy Authentication Required: proxy refused our credentials (Basic) (check "
                 "ProxyUser and ProxyPassword)",
                 2);
    /* named: sent at once, refused once */
    refused_with(&sq_basic,
                 (const char *const[]){"FirewallUser=aladdin", "FirewallPassword=open sesame",
                                       "ProxyAuthScheme=Basic", NULL},
                 AZR_ERR_AUTH,
                 "proxy refused our credentials (Basic) (check FirewallUser and FirewallPassword)",
                 1);
    cases_passed++;
}

static void test_proxy_auth_digest(void **st)
{
    (void)st;
    tunnel_for(&sq_digest,
               (const char *const[]){"ProxyUser=Mufasa", "ProxyPassword=Circle of Life", NULL},
               "Mufasa", 1);
    /* named, against a squid that would rather have NTLM (Auto's choice) */
    tunnel_for(&sq_all,
               (const char *const[]){"ProxyUser=Mufasa", "ProxyPassword=Circle of Life",
                                     "ProxyAuthScheme=Digest", NULL},
               "Mufasa", 1);
    refused_with(&sq_digest,
                 (const char *const[]){"ProxyUser=Mufasa", "ProxyPassword=Circle of Death", NULL},
                 AZR_ERR_AUTH,
                 "proxy refused our credentials (Digest) (check ProxyUser and ProxyPassword)", 2);
    cases_passed++;
}

static void test_proxy_auth_ntlm(void **st)
{
    (void)st;
    /* squid offers NTLM, Digest and Basic: Auto takes NTLM, its three legs on one
     * connection (ntlm_fake_auth checks the message flow, not the password) */
    static seen s;
    int lport;
    azr_proxy *p =
        through(&sq_all, &s,
                (const char *const[]){"ProxyUser=CORP\\gw", "ProxyPassword=s3cret", NULL}, &lport);
    int fd = client(lport);
    assert_true(echo_ok(p, fd));
    assert_non_null(strstr(s.log, "(407): NTLM negotiate on the same connection"));
    assert_non_null(strstr(s.log, "(407): NTLM authenticate on the same connection"));
    assert_null(strstr(s.log, "trying again"));
    close(fd);
    azr_proxy_free(p);
    static char log[65536];
    if (!squid_logged(&sq_all, "TCP_TUNNEL/200 ", 1, log, sizeof log))
        fail_msg("%s", log);
    assert_int_equal(count(log, "TCP_DENIED/407 "), 2); /* no credentials, then the negotiate */
    assert_non_null(strstr(log, " CORP\\\\gw HIER_DIRECT")); /* squid escapes the '\\' */
    /* named: the NEGOTIATE_MESSAGE with the first CONNECT */
    tunnel_for(&sq_all,
               (const char *const[]){"ProxyUser=gw@corp", "ProxyPassword=s3cret",
                                     "ProxyAuthScheme=NTLM", NULL},
               "corp\\\\gw", 1);
    cases_passed++;
}

static void test_proxy_auth_refusals(void **st)
{
    (void)st;
    refused_with(&sq_all, NULL, AZR_ERR_AUTH,
                 "proxy asks for credentials (NTLM, Digest, Basic) but ProxyUser is not set (set "
                 "ProxyUser and ProxyPassword)",
                 1);
    refused_with(&sq_negotiate, (const char *const[]){"ProxyUser=gw", "ProxyPassword=x", NULL},
                 AZR_ERR_AUTH, "proxy asks for Negotiate (Kerberos), which azrelay does not speak",
                 1);
    refused_with(&sq_basic,
                 (const char *const[]){"ProxyUser=Aladdin", "ProxyPassword=open sesame",
                                       "ProxyAuthScheme=NTLM", NULL},
                 AZR_ERR_AUTH, "ProxyAuthScheme is NTLM but the proxy offers only Basic", 1);
    refused_with(&sq_basic,
                 (const char *const[]){"ProxyUser=Aladdin", "ProxyPassword=open sesame",
                                       "ProxyAuthScheme=None", NULL},
                 AZR_ERR_AUTH, "proxy asks for credentials (Basic) but ProxyAuthScheme is None", 1);
    /* Negotiate named: refused before a byte goes to squid */
    refused_with(&sq_negotiate,
                 (const char *const[]){"ProxyUser=gw", "ProxyAuthScheme=Negotiate", NULL},
                 AZR_ERR_UNSUPPORTED, "ProxyAuthScheme=Negotiate (Kerberos) is not supported", 0);
    cases_passed++;
}

/* Stopped by its PID, squid takes its helpers with it. */
static void test_proxy_auth_squid_stops_with_its_helpers(void **st)
{
    (void)st;
    squid *all[] = {&sq_basic, &sq_digest, &sq_all, &sq_negotiate};
    pid_t pids[4];
    for (size_t i = 0; i < 4; i++)
        pids[i] = all[i]->pid;
    squids_stop(all, 4);
    size_t helpers = 0;
    for (size_t i = 0; i < 4; i++) {
        assert_false(running(pids[i]));
        for (size_t k = 0; k < all[i]->nhelpers; k++, helpers++) {
            pid_t h = all[i]->helpers[k];
            uint64_t stop = ms() + 5000;
            while (running(h) && ms() < stop)
                usleep(20000);
            if (running(h)) {
                kill(h, SIGKILL); /* ours: started by the squid we started */
                fail_msg("helper %d of squid %d outlived it", (int)h, (int)pids[i]);
            }
        }
    }
    assert_true(helpers >= 3); /* basic, digest and NTLM helpers did run */
    cases_passed++;
}

/* --------------------------------------------------------------- suite */

static int suite_up(void **st)
{
    (void)st;
    relay_start(&rel, (const char *const[]){"--mode", "echo", NULL});
    squid_start(&sq_basic, "basic", S_BASIC);
    squid_start(&sq_digest, "digest", S_DIGEST);
    squid_start(&sq_all, "all", S_NTLM | S_DIGEST | S_BASIC);
    squid_start(&sq_negotiate, "negotiate", S_NEGOTIATE);
    return 0;
}

/* A squid's private directory and what it holds (no subdirectories). */
static void squid_remove_dir(const squid *q)
{
    DIR *d = q->dir[0] ? opendir(q->dir) : NULL;
    if (!d)
        return;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[900];
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", q->dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
    rmdir(q->dir);
}

static int suite_down(void **st)
{
    (void)st;
    squid *all[] = {&sq_basic, &sq_digest, &sq_all, &sq_negotiate};
    squids_stop(all, 4);
    relay_stop(&rel);
    procs_kill_all();
    for (size_t i = 0; cases_passed == 6 && i < 4; i++)
        squid_remove_dir(all[i]);
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proxy_auth_basic),
        cmocka_unit_test(test_proxy_auth_basic_wrong_password),
        cmocka_unit_test(test_proxy_auth_digest),
        cmocka_unit_test(test_proxy_auth_ntlm),
        cmocka_unit_test(test_proxy_auth_refusals),
        cmocka_unit_test(test_proxy_auth_squid_stops_with_its_helpers),
    };
    return cmocka_run_group_tests_name("proxy_auth", tests, suite_up, suite_down);
}
