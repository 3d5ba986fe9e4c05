/*
 * IMPLEMENTATION NOTES
 * The bodies of hooks.h, in the order src/daemon/INTEGRATION.md gives them.
 * One static state: the watchdog's interval and its last ping, the last
 * STATUS= sent (so a loop turn that changed nothing costs one strcmp), and
 * the config file's name for "reloading FILE". The watchdog is pinged from
 * the loop itself (azr_hook_tick after every turn, the wait capped by
 * azr_hook_timeout_ms), never from a timer or a thread, so a loop that is
 * stuck misses its pings and systemd restarts it. Notification failures are
 * logged once until a message goes through again: a full or vanished
 * socket at PID 1 must neither stop the daemon nor flood its log.
 */
#include "platform.h"

#include "hooks.h"
#include "dlog.h"
#include "help.h"
#include "load.h"
#include "sdnotify.h"
#include "secretfile.h"
#include "secrets.h"
#include "text.h"

#include <errno.h>
#include <stdarg.h>
#include <time.h>

static struct {
    long wd_ms;                         /* WATCHDOG=1 every wd_ms; 0: no watchdog */
    uint64_t wd_last;                   /* the last ping (or READY=1), ms, monotonic */
    bool running;                       /* READY=1 went out: ticks count from now on */
    bool stopping;                      /* STOPPING=1 went out: status texts say so */
    bool failing;                       /* a message was lost and logged; quiet until one goes */
    bool held;                          /* a changed status waits for AZR_HOOK_STATUS_EVERY_MS */
    uint64_t status_at;                 /* when the last STATUS= went */
    char status[AZR_SD_STATUS_MAX + 1]; /* the last status text sent (the fleet's words) */
    char cfg[PATH_MAX];                 /* the config file, for "reloading FILE" */
} hk;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A line of the daemon's own before the loop runs: "PROG: TEXT", as main()
 * prints its start-time lines, with the journal's priority when it is there. */
static void say(int priority, const char *fmt, ...) AZR_PRINTF(2, 3);
static void say(int priority, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    fprintf(stderr, "%s" PROG ": %s\n", azr_sd_log_prefix(priority), msg);
}

/* What became of one message to NOTIFY_SOCKET. */
static void sent(azr_err e, const char *what)
{
    if (e == AZR_OK) {
        hk.failing = false;
        return;
    }
    if (hk.failing)
        return;
    hk.failing = true;
    azr_dlog(NULL, 0, "Error",
             "warning: %s was not sent to systemd (NOTIFY_SOCKET: %s); the next failures are "
             "not logged until a message goes through",
             what, e == AZR_E_IO ? strerror(errno) : "message refused");
}

static void keep_status(const char *status, uint64_t now)
{
    snprintf(hk.status, sizeof hk.status, "%s", status);
    hk.status_at = now;
    hk.held = false;
}

/* ---------------------------------------------------------------- lifecycle */

void azr_hook_start(void)
{
    /* before any secret is read: no core file, no ptrace, /proc/PID/environ root's */
    azr_err dump = azr_core_dumps_set(false);
    int dump_errno = errno;
    char err[256];
    if (azr_sd_init(err, sizeof err) != AZR_OK)
        say(AZR_SD_WARNING, "warning: %s", err);
    if (dump == AZR_E_IO)
        say(AZR_SD_WARNING, "warning: core dumps stay possible: prctl(PR_SET_DUMPABLE, 0): %s",
            strerror(dump_errno));
    hk.wd_ms = azr_sd_enabled() ? azr_sd_watchdog_interval_ms() : 0;
}

void azr_hook_ready(const char *status)
{
    uint64_t now = now_ms();
    sent(azr_sd_ready(status), "READY=1");
    keep_status(status, now);
    hk.wd_last = now;
    hk.running = true;
}

void azr_hook_reloading(void)
{
    char st[PATH_MAX + 32];
    snprintf(st, sizeof st, "reloading %s", hk.cfg[0] ? hk.cfg : "the command line");
    sent(azr_sd_reloading(st), "RELOADING=1");
}

/* The number just before word in s ("2" of "2 unchanged"), or -1. */
static long count_before(const char *s, const char *word)
{
    const char *w = strstr(s, word);
    if (!w || w == s || w[-1] < '0' || w[-1] > '9')
        return -1;
    const char *d = w;
    while (d > s && d[-1] >= '0' && d[-1] <= '9')
        d--;
    return strtol(d, NULL, 10);
}

/* The reload's summary in a few characters: "reload: +1 ~0 -2", with ", 1
 * failed" when a forward's new settings did not start. */
static void reload_brief(const char *summary, char *out, size_t cap)
{
    static const char refused[] = "; nothing changed";
    size_t n = strlen(summary);
    if (n >= sizeof refused - 1 && !strcmp(summary + n - (sizeof refused - 1), refused)) {
        snprintf(out, cap, "reload refused, the old settings run on: see the log");
        return;
    }
    long a = count_before(summary, " added"), c = count_before(summary, " changed"),
         r = count_before(summary, " removed"), f = count_before(summary, " failed");
    if (a < 0 || c < 0 || r < 0)
        snprintf(out, cap, "reloaded");
    else if (f > 0)
        snprintf(out, cap, "reload: +%ld ~%ld -%ld, %ld failed", a, c, r, f);
    else
        snprintf(out, cap, "reload: +%ld ~%ld -%ld", a, c, r);
}

void azr_hook_reloaded(const char *status, const char *summary)
{
    char brief[96], st[AZR_SD_STATUS_MAX + 1];
    uint64_t now = now_ms();
    reload_brief(summary, brief, sizeof brief);
    snprintf(st, sizeof st, "%s (%s)", status, brief);
    /* also after a refusal: systemd waits for READY=1 to leave "reloading" */
    sent(azr_sd_ready(st), "READY=1");
    keep_status(status, now);
}

void azr_hook_stopping(const char *status, long drain_seconds)
{
    char st[AZR_SD_STATUS_MAX + 1];
    hk.stopping = true;
    if (drain_seconds > 0)
        snprintf(st, sizeof st, "stopping: %s; draining for at most %ld s", status, drain_seconds);
    else
        snprintf(st, sizeof st, "stopping: %s", status);
    sent(azr_sd_stopping(st), "STOPPING=1");
    if (drain_seconds > 0) {
        /* systemd keeps the later of TimeoutStopSec and now + this */
        char m[64];
        unsigned long long usec =
            ((unsigned long long)drain_seconds + AZR_HOOK_STOP_SLACK_S) * 1000000ull;
        snprintf(m, sizeof m, "EXTEND_TIMEOUT_USEC=%llu", usec);
        sent(azr_sd_notify(m), "EXTEND_TIMEOUT_USEC");
    }
    keep_status(status, now_ms());
}

void azr_hook_tick(const char *status)
{
    if (!hk.running || !azr_sd_enabled())
        return;
    uint64_t now = now_ms();
    if (hk.wd_ms > 0 && now - hk.wd_last >= (uint64_t)hk.wd_ms) {
        sent(azr_sd_watchdog(), "WATCHDOG=1");
        hk.wd_last = now;
    }
    if (!strcmp(status, hk.status)) {
        hk.held = false;
        return;
    }
    if (now - hk.status_at < AZR_HOOK_STATUS_EVERY_MS) {
        hk.held = true; /* azr_hook_timeout_ms wakes the loop for it */
        return;
    }
    char st[AZR_SD_STATUS_MAX + 1];
    snprintf(st, sizeof st, "%s%s", hk.stopping ? "stopping: " : "", status);
    sent(azr_sd_status(st), "STATUS=");
    keep_status(status, now);
}

int azr_hook_timeout_ms(void)
{
    if (!hk.running || !azr_sd_enabled())
        return -1;
    uint64_t now = now_ms(), due = UINT64_MAX;
    if (hk.wd_ms > 0)
        due = hk.wd_last + (uint64_t)hk.wd_ms;
    if (hk.held && hk.status_at + AZR_HOOK_STATUS_EVERY_MS < due)
        due = hk.status_at + AZR_HOOK_STATUS_EVERY_MS;
    if (due == UINT64_MAX)
        return -1;
    if (due <= now)
        return 0;
    return due - now > INT_MAX ? INT_MAX : (int)(due - now);
}

void azr_hook_exit(void)
{
    azr_sd_close();
}

/* ---------------------------------------------------------------------- log */

const char *azr_hook_log_prefix(const char *type, const char *msg)
{
    const char *m = msg ? msg : "";
    if (!strncmp(m, "reload: ", 8))
        m += 8;
    if (!strncmp(m, "warning:", 8))
        return azr_sd_log_prefix(AZR_SD_WARNING);
    bool detail = type && (!strcmp(type, "Verbose") || !strcmp(type, "Debug"));
    return azr_sd_log_prefix(azr_sd_priority(detail ? 2 : 1, type, msg));
}

bool azr_hook_log_timestamps(void)
{
    return azr_sd_log_prefix(AZR_SD_INFO)[0] == '\0';
}

/* ----------------------------------------------------------------- settings */

void azr_hook_args(int argc, char **argv)
{
    azr_argv_scrubbed sc;
    azr_argv_scrub(argc, argv, &sc);
    if (sc.n) {
        char w[512];
        azr_argv_scrub_warning(&sc, w, sizeof w);
        say(AZR_SD_WARNING, "warning: %s", w);
    }
}

typedef struct env_ctx {
    azr_hook_apply_fn apply;
    void *ud;
    char why[AZR_CONF_ERR_MAX];
} env_ctx;

static azr_err env_apply(void *ud, const char *stmt)
{
    env_ctx *c = ud;
    return c->apply(c->ud, stmt, strlen(stmt), c->why, sizeof c->why) ? AZR_OK : AZR_E_ARG;
}

bool azr_hook_lowest(const char *forward, azr_hook_apply_fn apply, void *ud, char *err, size_t cap)
{
    (void)forward; /* the same variables for every forward */
    env_ctx c = {apply, ud, ""};
    unsigned applied;
    const char *failed;
    azr_err e = azr_secret_env_apply(env_apply, &c, &applied, &failed);
    if (e == AZR_OK)
        return true;
    bool key = failed && !strcmp(failed, "AZRELAY_ACCESS_KEY");
    if (e == AZR_E_LIMIT)
        snprintf(err, cap, "%s: longer than %s takes (at most %d bytes)", failed,
                 key ? "AccessKey" : "ConnectionString", key ? AZR_KEY_MAX : AZR_CONNSTR_MAX);
    else
        snprintf(err, cap, "%s: %s", failed ? failed : "environment", c.why);
    azr_wipe(c.why, sizeof c.why);
    return false;
}

/* Append "\n" (when err holds a line) and a warning line to err. */
static void add_warning(char *err, size_t cap, const char *text)
{
    size_t used = strlen(err);
    if (used + 1 < cap)
        snprintf(err + used, cap - used, "%s%s", used ? "\nwarning: " : "", text);
}

bool azr_hook_loaded(const struct azr_load *l, char *err, size_t cap)
{
    bool insecure = false, cores = false;
    for (size_t i = 0; i < l->n; i++) {
        insecure = insecure || l->f[i].set.insecure_secret_files;
        cores = cores || l->f[i].set.allow_core_dumps;
    }
    if (cap)
        err[0] = '\0';
    if (l->path)
        snprintf(hk.cfg, sizeof hk.cfg, "%s", l->path);
    /* refused before anything changes: a refused reload keeps the core dump setting too */
    if (l->holds_secret && l->path &&
        azr_secretfile_check("config file", l->path, insecure, err, cap) != AZR_OK)
        return false;
    if (cores != azr_core_dumps_allowed() && azr_core_dumps_set(cores) == AZR_E_IO) {
        char w[160];
        snprintf(w, sizeof w, "AllowCoreDumps=%s: prctl(PR_SET_DUMPABLE): %s",
                 cores ? "True" : "False", strerror(errno));
        add_warning(err, cap, w);
    }
    return true;
}
