/*
 * azrelay-proxy: the daemon's command line. Settings come from a config file
 * (-c FILE, one Name=Value per line, '#' comments) and then from Name=Value
 * arguments, which win; both go through the vocabulary table in config.c, so
 * names and values mean what they mean in the C API's Config().
 */
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__) && !defined(AZR_SIGNAL_PIPE)
#include <sys/signalfd.h>
#endif

#include "azrelay.h"
#include "conffile.h"
#include "config.h"
#include "text.h"

#define PROG "azrelay-proxy"

/* text in lines of at most width columns: the first indented by indent, the
 * others by hang (a list item's number stands out) */
static void wrap_hang(FILE *f, const char *text, int indent, int hang, int width)
{
    int col = indent, left = indent;
    fprintf(f, "%*s", indent, "");
    const char *p = text;
    while (*p) {
        const char *w = p;
        while (*w && *w != ' ')
            w++;
        int len = (int)(w - p);
        if (col > left && col + 1 + len > width) {
            fprintf(f, "\n%*s", hang, "");
            col = left = hang;
        } else if (col > left) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", len, p);
        col += len;
        p = *w ? w + 1 : w;
    }
    fputc('\n', f);
}

static void wrap(FILE *f, const char *text, int indent, int width)
{
    wrap_hang(f, text, indent, indent, width);
}

static const char *type_name(const azr_conf_def *d)
{
    switch (d->type) {
    case AZR_CT_BOOL:
        return "True|False";
    case AZR_CT_INT:
        return "N";
    case AZR_CT_ENUM:
        return "N|NAME";
    case AZR_CT_FLAGS:
        return "0xBITS";
    default:
        return "TEXT";
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: " PROG " [-c FILE] [--check | --get NAME] [Name=Value ...]\n"
               "       " PROG " --help | --version\n");
}

static void help(void)
{
    FILE *f = stdout;
    fprintf(f, "NAME\n    " PROG " - forward local TCP connections to an Azure Relay\n"
               "    hybrid connection\n\nSYNOPSIS\n");
    fprintf(f, "    " PROG " [-c FILE] [Name=Value ...]\n"
               "    " PROG " --check [-c FILE] [Name=Value ...]\n"
               "    " PROG " --get NAME [-c FILE] [Name=Value ...]\n"
               "    " PROG " --help | --version\n\n");
    fprintf(f, "DESCRIPTION\n");
    wrap(f,
         "Listens on LocalHost:LocalPort. For every accepted client it opens its own wss:// "
         "connection to NamespaceAddress as a sender on HybridConnection, authenticated with a "
         "Shared Access Signature made from AccessKeyName and AccessKey, and forwards bytes both "
         "ways as binary WebSocket frames. One client, one relay connection.",
         4, 78);
    fputc('\n', f);
    wrap(f,
         "Settings use the names of the AzureRelayProxy class. They are read from FILE first "
         "(one Name=Value per line; blank lines and lines starting with # are ignored), then "
         "from the command line, which wins. Names are case-insensitive; booleans accept "
         "True/False, Yes/No, 1/0; enumerations accept their number or their name.",
         4, 78);
    fputc('\n', f);
    wrap(f,
         "FILE must be a regular file of at most 1 MiB, in lines of at most 8192 bytes (LF or "
         "CRLF), with no NUL byte; anything else stops the start with the file and line named.",
         4, 78);
    fprintf(f, "\nOPTIONS\n");
    fprintf(f, "    -c FILE, --config FILE\n");
    wrap(f, "Read settings from FILE (a regular file, at most 1 MiB).", 8, 78);
    fprintf(f, "    --check\n");
    wrap(f,
         "Validate the settings, say what is missing for a relay connection, and exit: 0 when "
         "they can be used, 1 otherwise.",
         8, 78);
    fprintf(f, "    --get NAME\n");
    wrap(f,
         "Apply the settings, print the value of NAME and exit (for example --get AccessToken "
         "prints a fresh SAS token).",
         8, 78);
    fprintf(f, "    -h, --help\n");
    wrap(f, "Show this text.", 8, 78);
    fprintf(f, "    -V, --version\n");
    wrap(f, "Show the version.", 8, 78);
    fprintf(f, "\nSETTINGS\n");
    for (size_t i = 0; i < azr_config_count; i++) {
        const azr_conf_def *d = &azr_config_table[i];
        if (d->flags & AZR_CF_READONLY)
            fprintf(f, "    %s (read only)\n", d->name);
        else if (d->flags & AZR_CF_SECRET || !d->dflt[0])
            fprintf(f, "    %s=%s\n", d->name, type_name(d));
        else if (strlen(d->name) + strlen(d->dflt) < 56)
            fprintf(f, "    %s=%s (default %s)\n", d->name, type_name(d), d->dflt);
        else /* a long default (a list) gets its own lines */
            fprintf(f, "    %s=%s (default below)\n", d->name, type_name(d));
        wrap(f, d->help, 8, 78);
        if (d->type == AZR_CT_INT)
            fprintf(f, "        Range %ld to %ld.\n", d->min, d->max);
        if (d->type == AZR_CT_ENUM)
            fprintf(f, "        Values %s.\n", d->enums);
        if (!(d->flags & (AZR_CF_SECRET | AZR_CF_READONLY)) && d->dflt[0] &&
            strlen(d->name) + strlen(d->dflt) >= 56) {
            fprintf(f, "        Default:\n");
            for (const char *q = d->dflt; *q;) {
                const char *semi = strchr(q, ';');
                int n = semi ? (int)(semi - q) : (int)strlen(q);
                fprintf(f, "          %.*s%s\n", n, q, semi ? ";" : "");
                q += semi ? n + 1 : n;
            }
        }
    }
    fprintf(f, "\nPROXIES\n");
    wrap(f,
         "Relay connections go direct or through one proxy, chosen when listening starts, in "
         "this order:",
         4, 78);
    wrap_hang(f,
              "1. The settings. ProxyServer (with ProxyPort, ProxyUser, ProxyPassword) names an "
              "HTTP proxy that opens CONNECT tunnels: it is FirewallType=1 with FirewallHost "
              "(FirewallPort, FirewallUser, FirewallPassword) under other names. Give either name "
              "of each pair; given both, they must agree, or listening is refused naming both. "
              "FirewallType 2, 3 and 10 name a SOCKS proxy, and the Proxy* settings are then "
              "refused.",
              6, 9, 78);
    wrap_hang(f,
              "2. With FirewallAutoDetect=True and no proxy set, the environment, as curl reads it "
              "(see FirewallAutoDetect). no_proxy (or NO_PROXY) lists relay hosts that go direct, "
              "separated by commas: * alone means every host; NAME and .NAME match NAME and every "
              "name under it; an IPv4 or IPv6 address, or ADDRESS/PREFIX, matches a relay given by "
              "address; an entry with a port matches nothing.",
              6, 9, 78);
    wrap(f, "3. Otherwise, direct.", 6, 78);
    wrap(f,
         "ProxyExceptionsList sends the relay hosts it matches direct, whatever chose the "
         "proxy. The relay's host is compared as NamespaceAddress writes it, never resolved. "
         "The start line (\"listening on ...\") says which route was taken and why, --check "
         "prints it, and --get ProxyRoute reads it; passwords are never shown.",
         4, 78);
    wrap(f,
         "An HTTP proxy that asks for credentials (407) gets them as ProxyAuthScheme says: "
         "under Auto, by the strongest scheme it offers (NTLM, Digest, Basic), on the same "
         "connection when it keeps it, else on a new one; a refusal names the scheme and the "
         "settings to check.",
         4, 78);
    fprintf(f, "\n");
    wrap(f,
         "Names of the AzureRelayProxy class that azrelay does not implement are refused with "
         "\"not supported\":",
         4, 78);
    char line[4096];
    size_t o = 0;
    for (size_t i = 0; i < azr_config_unsupported_count; i++) {
        int n = snprintf(line + o, sizeof line - o, "%s%s", i ? ", " : "",
                         azr_config_unsupported[i].name);
        if (n < 0 || (size_t)n >= sizeof line - o)
            break;
        o += (size_t)n;
    }
    wrap(f, line, 8, 78);
    fprintf(f, "\nSIGNALS\n");
    wrap(f,
         "SIGINT, SIGTERM: stop listening, close every connection (close 1001 to the relay) and "
         "exit 0. SIGHUP, SIGUSR1, SIGUSR2 (and SIGALRM, SIGIO, SIGPROF, SIGPWR, SIGVTALRM, "
         "real-time signals): logged and ignored; reload is not supported yet.",
         4, 78);
    fprintf(f, "\nEXIT STATUS\n");
    wrap(f,
         "0 on success (and after SIGINT or SIGTERM), 1 on a settings error, 2 on a usage "
         "error.",
         4, 78);
    fprintf(f, "\nEXAMPLES\n");
    fprintf(f, "    " PROG " --check -c /etc/azrelay.conf\n");
    fprintf(f, "    " PROG " LocalPort=5000 NamespaceAddress=NS.servicebus.windows.net \\\n"
               "        HybridConnection=hc1 AccessKeyName=send AccessKey=KEY\n");
    fprintf(f, "    " PROG " --get AccessToken -c /etc/azrelay.conf TokenValidity=600\n");
    fprintf(f, "    https_proxy=http://proxy.corp:3128 no_proxy=.internal \\\n"
               "        " PROG " -c /etc/azrelay.conf FirewallAutoDetect=True\n");
    fprintf(f, "    " PROG " -c /etc/azrelay.conf ProxyServer=proxy.corp ProxyPort=3128 \\\n"
               "        ProxyUser=gw ProxyPassword=PW\n");
}

/* One setting's value as text ("" when it cannot be read). */
static const char *value(azr_proxy *px, const char *name)
{
    static char out[AZR_CONF_VALUE_MAX];
    if (azr_proxy_config(px, name, out, sizeof out) != 0)
        out[0] = '\0';
    return out;
}

/* What a relay connection needs; prints each problem (and, for --check, the
 * route relay connections would take), returns false if any. */
static bool check(azr_proxy *px, bool show_route)
{
    bool ok = true;
    if (!value(px, "NamespaceAddress")[0]) {
        fprintf(stderr, PROG ": NamespaceAddress is not set (or give ConnectionString)\n");
        ok = false;
    }
    if (!value(px, "HybridConnection")[0]) {
        fprintf(stderr, PROG ": HybridConnection is not set (or EntityPath in "
                             "ConnectionString)\n");
        ok = false;
    }
    if (!strcmp(value(px, "LocalPort"), "0"))
        fprintf(stderr, PROG ": warning: LocalPort is 0: the system picks a port (the log "
                             "names it); set LocalPort for a port clients can rely on\n");
    bool name = value(px, "AccessKeyName")[0] != '\0', key = value(px, "AccessKey")[0] != '\0';
    if (name != key) {
        fprintf(stderr, PROG ": %s is set but %s is not\n", name ? "AccessKeyName" : "AccessKey",
                name ? "AccessKey" : "AccessKeyName");
        ok = false;
    } else if (!name && ok && !value(px, "AccessToken")[0]) {
        fprintf(stderr, PROG ": warning: no AccessKeyName/AccessKey: connecting without a "
                             "token works only for hybrid connections that allow anonymous "
                             "senders\n");
    }
    /* the proxy settings together (and the environment, with FirewallAutoDetect) */
    char route[AZR_ROUTE_SOURCE_MAX];
    if (azr_proxy_config(px, "ProxyRoute", route, sizeof route) != 0) {
        fprintf(stderr, PROG ": %s\n", azr_proxy_last_error(px));
        ok = false;
    } else if (show_route) {
        fprintf(stderr, PROG ": proxy: %s\n", route);
    }
    return ok;
}

static void log_line(void *ud, int conn_id, int level, const char *msg, const char *type)
{
    (void)ud;
    (void)level;
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (conn_id > 0)
        fprintf(stderr, "%s %-7s [%d] %s\n", ts, type, conn_id, msg);
    else
        fprintf(stderr, "%s %-7s %s\n", ts, type, msg);
}

/* One statement into the proxy through Config(), skipping blanks and comments.
 * where is "FILE:LINE" for a config file's line, NULL for an argument. */
static bool proxy_line(azr_proxy *px, const char *line, size_t len, const char *where)
{
    const char *p = line;
    azr_text_trim(&p, &len);
    if (!len || *p == '#')
        return true;
    if (!memchr(p, '=', len)) {
        /* Config("Name") would read the setting: in a file or an argument that is a mistake */
        char shown[72];
        azr_text_printable(p, len, 48, shown, sizeof shown);
        if (where)
            fprintf(stderr, PROG ": %s: no '=' in this line: a line is Name=Value or a # comment\n",
                    where);
        else
            fprintf(stderr, PROG ": '%s' is not Name=Value (--get NAME reads a setting)\n", shown);
        return false;
    }
    if (azr_proxy_config(px, p, NULL, 0) != 0) {
        if (where)
            fprintf(stderr, PROG ": %s: %s\n", where, azr_proxy_last_error(px));
        else
            fprintf(stderr, PROG ": %s\n", azr_proxy_last_error(px));
        return false;
    }
    return true;
}

static const char *file_kind(mode_t m)
{
    return S_ISDIR(m)    ? "a directory"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "not a regular file";
}

/* One complete line of the file into the proxy. */
static bool file_line(azr_proxy *px, const char *cfg, const azr_conffile_line *ev)
{
    char where[PATH_MAX + 32];
    snprintf(where, sizeof where, "%s:%lu", cfg, ev->lineno);
    return proxy_line(px, ev->text, ev->len, where);
}

/*
 * The config file: a regular file of at most AZR_CONF_FILE_MAX bytes, cut
 * into lines by conffile.c (no line split, cut at a NUL or longer than
 * AZR_CONF_LINE_MAX). Opened non-blocking so a FIFO cannot stall the start;
 * what was read is wiped (lines carry keys).
 */
static bool read_config(azr_proxy *px, const char *cfg)
{
    int fd = open(cfg, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, PROG ": %s: %s\n", cfg, strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        fprintf(stderr, PROG ": %s: %s\n", cfg, strerror(errno));
        close(fd);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, PROG ": %s: %s, not a config file (a regular file is needed)\n", cfg,
                file_kind(st.st_mode));
        close(fd);
        return false;
    }
    if (st.st_size > AZR_CONF_FILE_MAX) {
        fprintf(stderr, PROG ": %s: %lld bytes; a config file may hold at most %d (1 MiB)\n", cfg,
                (long long)st.st_size, AZR_CONF_FILE_MAX);
        close(fd);
        return false;
    }
    static azr_conffile cf;
    static uint8_t buf[4096];
    azr_conffile_line ev;
    azr_err e = AZR_AGAIN;
    bool ok = true;
    azr_conffile_init(&cf);
    while (ok && e == AZR_AGAIN) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, PROG ": %s: %s\n", cfg, strerror(errno));
            ok = false;
            break;
        }
        if (n == 0) {
            e = azr_conffile_end(&cf, &ev);
            if (e == AZR_OK)
                ok = file_line(px, cfg, &ev);
            e = e == AZR_OK ? AZR_E_CLOSED : e;
            break;
        }
        size_t off = 0, used;
        while (ok &&
               (e = azr_conffile_feed(&cf, buf + off, (size_t)n - off, &used, &ev)) == AZR_OK) {
            off += used;
            ok = file_line(px, cfg, &ev);
        }
    }
    if (ok && e != AZR_E_CLOSED) {
        fprintf(stderr, PROG ": %s:%lu: %s\n", cfg, cf.err_line, cf.why);
        ok = false;
    }
    azr_conffile_wipe(&cf);
    azr_wipe(buf, sizeof buf);
    close(fd);
    return ok;
}

/* The same statements --check validated, applied to the proxy: file, then argv. */
static bool configure(azr_proxy *px, const char *cfg, int argc, char **argv, int first)
{
    if (cfg && !read_config(px, cfg))
        return false;
    for (int i = first; i < argc; i++) {
        if (argv[i][0] == '-') {
            if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config") || !strcmp(argv[i], "--get"))
                i++;
            continue;
        }
        if (!proxy_line(px, argv[i], strlen(argv[i]), NULL))
            return false;
    }
    return true;
}

/*
 * Signals. SIGINT and SIGTERM stop the daemon. SIGHUP (a reload comes with a
 * later release), SIGUSR1, SIGUSR2 and the other signals whose default action
 * would end the process without a fault (SIGALRM, SIGVTALRM, SIGPROF, SIGIO,
 * SIGPWR, the real-time signals) are logged and ignored. Faults (SIGSEGV,
 * ...), SIGQUIT and the resource limits (SIGXCPU, SIGXFSZ) keep their
 * default actions.
 *
 * No handler runs inside the loop: on Linux the signals are blocked and read
 * from a signalfd, elsewhere (or built with -DAZR_SIGNAL_PIPE) a handler
 * writes each one's number into a self-pipe. The proxy's loop watches that
 * descriptor (azr_proxy_watch_fd), so a signal that arrives after the last
 * look and before the loop sleeps is still there, readable, when it does:
 * the wait returns at once.
 */
static const struct {
    int sig;
    const char *name;
} sig_table[] = {
    {SIGINT, "SIGINT"},   {SIGTERM, "SIGTERM"}, {SIGHUP, "SIGHUP"},   {SIGUSR1, "SIGUSR1"},
    {SIGUSR2, "SIGUSR2"}, {SIGALRM, "SIGALRM"}, {SIGPROF, "SIGPROF"}, {SIGVTALRM, "SIGVTALRM"},
#ifdef SIGIO
    {SIGIO, "SIGIO"},
#endif
#ifdef SIGPWR
    {SIGPWR, "SIGPWR"},
#endif
};
#define SIG_TABLE (sizeof sig_table / sizeof sig_table[0])

/* The i-th signal the daemon takes (the table, then the real-time ones); 0 past the last. */
static int sig_nth(size_t i)
{
    if (i < SIG_TABLE)
        return sig_table[i].sig;
#ifdef SIGRTMIN
    if (i - SIG_TABLE <= (size_t)(SIGRTMAX - SIGRTMIN))
        return SIGRTMIN + (int)(i - SIG_TABLE);
#endif
    return 0;
}

static void sig_name(int sig, char *out, size_t cap)
{
    for (size_t i = 0; i < SIG_TABLE; i++)
        if (sig_table[i].sig == sig) {
            snprintf(out, cap, "%s", sig_table[i].name);
            return;
        }
#ifdef SIGRTMIN
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
        snprintf(out, cap, "SIGRTMIN+%d", sig - SIGRTMIN);
        return;
    }
#endif
    snprintf(out, cap, "signal %d", sig);
}

#if defined(__linux__) && !defined(AZR_SIGNAL_PIPE)
/* A descriptor that turns readable while one of the signals is pending; -1 with errno. */
static int sig_open(void)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; sig_nth(i); i++)
        sigaddset(&set, sig_nth(i));
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* The next pending signal, 0 when none is left. */
static int sig_next(int fd)
{
    struct signalfd_siginfo si;
    ssize_t n;
    do
        n = read(fd, &si, sizeof si);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof si ? (int)si.ssi_signo : 0;
}
#else
static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    /* a full pipe already holds a wake-up; the loop reads and acts on what is there */
    ssize_t n = write(sig_pipe[1], &b, 1);
    (void)n;
    errno = saved;
}

static int sig_open(void)
{
    if (pipe(sig_pipe) != 0)
        return -1;
    for (int i = 0; i < 2; i++)
        if (fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC) != 0 ||
            fcntl(sig_pipe[i], F_SETFL, fcntl(sig_pipe[i], F_GETFL) | O_NONBLOCK) != 0)
            return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; sig_nth(i); i++)
        if (sigaction(sig_nth(i), &sa, NULL) != 0)
            return -1;
    return sig_pipe[0];
}

static int sig_next(int fd)
{
    unsigned char b;
    ssize_t n;
    do
        n = read(fd, &b, 1);
    while (n < 0 && errno == EINTR);
    return n == 1 ? b : 0;
}
#endif

/* Every pending signal: the ignored ones logged, the first SIGINT/SIGTERM returned (0: none). */
static int take_signals(int fd)
{
    int sig, stop = 0;
    char name[32], msg[96];
    while ((sig = sig_next(fd)) != 0) {
        if (sig == SIGINT || sig == SIGTERM) {
            stop = stop ? stop : sig;
            continue;
        }
        sig_name(sig, name, sizeof name);
        snprintf(msg, sizeof msg, "%s: %s; ignored", name,
                 sig == SIGHUP ? "reload is not supported yet" : "no action is assigned to it");
        log_line(NULL, 0, 1, msg, "Info");
    }
    return stop;
}

static int run(azr_proxy *px, int sigfd)
{
    if (azr_proxy_start_listening(px) != 0) {
        fprintf(stderr, PROG ": %s\n", azr_proxy_last_error(px));
        return 1;
    }
    if (azr_proxy_watch_fd(px, sigfd) != 0) {
        fprintf(stderr, PROG ": cannot watch signals: %s\n", azr_proxy_last_error(px));
        azr_proxy_shutdown(px);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    int rc = 0, stop = 0;
    while (!stop) {
        if (azr_proxy_do_events(px, -1) != 0) {
            fprintf(stderr, PROG ": %s\n", azr_proxy_last_error(px));
            rc = 1;
            break;
        }
        stop = take_signals(sigfd);
    }
    if (stop)
        log_line(NULL, 0, 1, stop == SIGINT ? "SIGINT: shutting down" : "SIGTERM: shutting down",
                 "Info");
    azr_proxy_unwatch_fd(px, sigfd);
    azr_proxy_shutdown(px);
    return rc;
}

int main(int argc, char **argv)
{
    const char *cfg = NULL, *get = NULL;
    bool do_check = false;
    int first_setting = argc;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help();
            return 0;
        } else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf(PROG " %s (azrelay, BearSSL)\n", azr_version());
            return 0;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
            if (++i == argc) {
                fprintf(stderr, PROG ": %s needs a file name\n", a);
                usage(stderr);
                return 2;
            }
            cfg = argv[i];
        } else if (!strcmp(a, "--check")) {
            do_check = true;
        } else if (!strcmp(a, "--get")) {
            if (++i == argc) {
                fprintf(stderr, PROG ": --get needs a setting name\n");
                usage(stderr);
                return 2;
            }
            get = argv[i];
        } else if (a[0] == '-') {
            fprintf(stderr, PROG ": unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (first_setting == argc) {
            first_setting = i;
        }
    }
    /* the daemon takes its signals before anything else, so none is missed or kills it */
    int sigfd = -1;
    if (!get && !do_check && (sigfd = sig_open()) < 0) {
        fprintf(stderr, PROG ": cannot set up signal handling: %s\n", strerror(errno));
        return 1;
    }
    azr_events ev = {0};
    ev.log = log_line;
    azr_proxy *px = azr_proxy_new(&ev, NULL);
    if (!px) {
        fprintf(stderr, PROG ": cannot start: out of memory or no system random source\n");
        return 1;
    }
    /* the file, then the arguments (which win), all through Config() */
    if (!configure(px, cfg, argc, argv, first_setting)) {
        azr_proxy_free(px);
        return 1;
    }
    int rc;
    if (get) {
        static char out[AZR_CONF_VALUE_MAX + AZR_SAS_MAX];
        rc = azr_proxy_config(px, get, out, sizeof out) == 0 ? 0 : 1;
        if (rc == 0)
            printf("%s\n", out);
        else
            fprintf(stderr, PROG ": %s\n", azr_proxy_last_error(px));
        azr_wipe(out, sizeof out);
    } else {
        bool ok = check(px, do_check);
        if (do_check && ok)
            fprintf(stderr, PROG ": settings OK\n");
        rc = do_check || !ok ? (ok ? 0 : 1) : run(px, sigfd);
    }
    azr_proxy_free(px);
    return rc;
}
