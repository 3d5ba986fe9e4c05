/*
 * IMPLEMENTATION NOTES
 * Two lists of forwards: live (in the configuration's order, each with its
 * effective settings) and draining (old proxies that stopped accepting and
 * wait for their connections to end). An entry is one allocation that never
 * moves: its label is the Log event's user data, so a proxy's lines keep
 * their prefix while the entry goes from one list to the other ("b"
 * becomes "b, draining"). Draining proxies are looked at after every loop
 * turn (azr_fleet_tick): a connection that ended in the turn is no longer
 * counted, and the loop's wait is bounded by the nearest DrainTimeout
 * (azr_fleet_timeout_ms), so no timer of our own is needed. A proxy that
 * is freed while the fleet goes on leaves its counts in a third list,
 * retired, by forward name (azr_fleet_each), so a forward's metrics never
 * go down; a name that is no longer live nor draining loses its entry at
 * the next tick or reload.
 */
#include "platform.h"

#include "fleet.h"
#include "dlog.h"
#include "hooks.h"
#include "report.h"
#include "text.h"

#include <time.h>

typedef struct fwd {
    char label[AZR_FC_NAME_MAX + 16]; /* the Log event's user data: "b", "b, draining" */
    char name[AZR_FC_NAME_MAX + 1];
    azr_proxy *px;
    azr_settings *set;   /* live: the effective settings */
    long drain_timeout;  /* seconds */
    uint64_t drain_from; /* draining: since (ms, monotonic) */
    uint64_t drain_until;
    size_t drain_conns; /* open when the drain began */
    struct fwd *next;
} fwd;

/* The counts of a forward's freed proxies (azr_fleet_each's RETIRED). */
typedef struct retired {
    char name[AZR_FC_NAME_MAX + 1];
    azr_proxy_stats st;
    struct retired *next;
} retired;

struct azr_fleet {
    azr_loop *loop;
    fwd *live;
    fwd *draining;
    retired *retired;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

azr_fleet *azr_fleet_new(long event_loop, char *err, size_t cap)
{
    azr_fleet *fl = calloc(1, sizeof *fl);
    if (!fl) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    fl->loop = azr_loop_new((int)event_loop);
    if (!fl->loop) {
        snprintf(err, cap, "cannot create the event loop (EventLoop=%ld: not available here?)",
                 event_loop);
        free(fl);
        return NULL;
    }
    return fl;
}

azr_loop *azr_fleet_loop(azr_fleet *fl)
{
    return fl->loop;
}

static fwd *fwd_new(const char *name)
{
    fwd *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->set = malloc(sizeof *f->set);
    if (!f->set) {
        free(f);
        return NULL;
    }
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(f->label, sizeof f->label, "%s", name);
    return f;
}

/* Free an entry: its proxy (closing what is still open, 1001 to the relay)
 * and its settings (wiped: they hold keys). */
static void fwd_free(fwd *f)
{
    if (!f)
        return;
    azr_proxy_free(f->px);
    if (f->set) {
        azr_settings_wipe(f->set);
        free(f->set);
    }
    free(f);
}

static void take_settings(fwd *f, const azr_fwdcfg *c)
{
    azr_settings_wipe(f->set);
    memcpy(f->set, &c->set, sizeof *f->set);
    f->drain_timeout = c->set.drain_timeout;
}

/* A new proxy for f with forward i of l, listening. false with err[cap]. */
static bool fwd_run(azr_fleet *fl, fwd *f, const azr_load *l, size_t i, char *err, size_t cap)
{
    azr_events ev;
    memset(&ev, 0, sizeof ev);
    ev.log = azr_dlog_event;
    f->px = azr_proxy_new_on(fl->loop, &ev, f->label);
    if (!f->px) {
        snprintf(err, cap, "cannot create its proxy: out of memory or no system random source");
        return false;
    }
    bool ok = azr_load_configure(l, i, f->px, true, err, cap);
    if (ok && azr_proxy_start_listening(f->px) != 0) {
        snprintf(err, cap, "%s", azr_proxy_last_error(f->px));
        ok = false;
    }
    if (!ok) {
        azr_proxy_free(f->px);
        f->px = NULL;
    }
    return ok;
}

static size_t conns(const fwd *f)
{
    int n = f->px ? azr_proxy_connection_count(f->px) : 0;
    return n > 0 ? (size_t)n : 0;
}

/* Ms as "1.234 s". */
static void secs(uint64_t ms, char *out, size_t cap)
{
    snprintf(out, cap, "%llu.%03u s", (unsigned long long)(ms / 1000u), (unsigned)(ms % 1000u));
}

/* f's proxy is about to be freed: its counts go on under its name. */
static void retire(azr_fleet *fl, const fwd *f)
{
    retired *r = fl->retired;
    while (r && strcmp(r->name, f->name) != 0)
        r = r->next;
    if (!r && f->px && (r = calloc(1, sizeof *r)) != NULL) {
        snprintf(r->name, sizeof r->name, "%s", f->name);
        r->next = fl->retired;
        fl->retired = r;
    }
    if (r && f->px) {
        azr_proxy_stats st; /* bytes count as they move: nothing is left to add at the close */
        (void)azr_proxy_get_stats(f->px, &st);
        st.active = 0; /* a gauge: the live proxies' only */
        azr_report_stats_add(&r->st, &st);
    }
}

/* The counts of names neither live nor draining go: the forward was removed. */
static void prune(azr_fleet *fl)
{
    for (retired **rp = &fl->retired; *rp;) {
        retired *r = *rp;
        bool used = false;
        for (const fwd *f = fl->live; f && !used; f = f->next)
            used = !strcmp(f->name, r->name);
        for (const fwd *f = fl->draining; f && !used; f = f->next)
            used = !strcmp(f->name, r->name);
        if (used) {
            rp = &r->next;
            continue;
        }
        *rp = r->next;
        free(r);
    }
}

void azr_fleet_each(const azr_fleet *fl, void (*fn)(void *ud, const azr_fleet_view *v), void *ud)
{
    azr_fleet_view v;
    memset(&v, 0, sizeof v);
    for (const fwd *f = fl->live; f; f = f->next) {
        v.name = f->name, v.kind = AZR_FLEET_LIVE, v.px = f->px;
        fn(ud, &v);
    }
    for (const fwd *f = fl->draining; f; f = f->next) {
        v.name = f->name, v.kind = AZR_FLEET_DRAINING, v.px = f->px;
        fn(ud, &v);
    }
    v.px = NULL;
    for (const retired *r = fl->retired; r; r = r->next) {
        v.name = r->name, v.kind = AZR_FLEET_RETIRED, v.retired = &r->st;
        fn(ud, &v);
    }
}

/* f stops accepting and goes to the draining list; an entry with no
 * connection (or DrainTimeout 0) is done at once. */
static void to_draining(azr_fleet *fl, fwd *f)
{
    if (f->px)
        (void)azr_proxy_stop_listening(f->px);
    if (f->set) {
        azr_settings_wipe(f->set);
        free(f->set);
        f->set = NULL;
    }
    size_t n = conns(f);
    if (n == 0) {
        retire(fl, f);
        fwd_free(f);
        return;
    }
    snprintf(f->label, sizeof f->label, "%s, draining", f->name);
    if (f->drain_timeout == 0) {
        azr_dlog(f->label, 0, "Info", "DrainTimeout is 0: closing %zu connection%s now", n,
                 n == 1 ? "" : "s");
        retire(fl, f);
        fwd_free(f);
        return;
    }
    f->drain_from = now_ms();
    f->drain_until = f->drain_from + (uint64_t)f->drain_timeout * 1000u;
    f->drain_conns = n;
    azr_dlog(f->label, 0, "Info",
             "%zu open connection%s may finish within %ld s (DrainTimeout); then the rest are "
             "closed",
             n, n == 1 ? "" : "s", f->drain_timeout);
    f->next = fl->draining;
    fl->draining = f;
}

void azr_fleet_tick(azr_fleet *fl)
{
    uint64_t now = now_ms();
    char took[32];
    bool freed = false;
    for (fwd **pp = &fl->draining; *pp;) {
        fwd *f = *pp;
        size_t n = conns(f);
        if (n == 0) {
            secs(now - f->drain_from, took, sizeof took);
            azr_dlog(f->label, 0, "Info", "drained: the last of %zu connection%s ended after %s",
                     f->drain_conns, f->drain_conns == 1 ? "" : "s", took);
        } else if (now >= f->drain_until) {
            azr_dlog(f->label, 0, "Info",
                     "DrainTimeout (%ld s) passed: closing %zu connection%s (1001 to the relay)",
                     f->drain_timeout, n, n == 1 ? "" : "s");
        } else {
            pp = &f->next;
            continue;
        }
        *pp = f->next;
        retire(fl, f);
        fwd_free(f);
        freed = true;
    }
    if (freed)
        prune(fl);
}

int azr_fleet_timeout_ms(const azr_fleet *fl)
{
    if (!fl->draining)
        return -1;
    uint64_t now = now_ms(), first = UINT64_MAX;
    for (const fwd *f = fl->draining; f; f = f->next)
        if (f->drain_until < first)
            first = f->drain_until;
    if (first <= now)
        return 0;
    uint64_t left = first - now;
    return left > INT_MAX ? INT_MAX : (int)left;
}

bool azr_fleet_idle(const azr_fleet *fl)
{
    return !fl->live && !fl->draining;
}

static void free_list(fwd *f)
{
    while (f) {
        fwd *next = f->next;
        fwd_free(f);
        f = next;
    }
}

void azr_fleet_free(azr_fleet *fl)
{
    if (!fl)
        return;
    free_list(fl->live);
    free_list(fl->draining);
    while (fl->retired) {
        retired *r = fl->retired;
        fl->retired = r->next;
        free(r);
    }
    if (azr_loop_free(fl->loop) != 0)
        azr_dlog(NULL, 0, "Error", "internal: the event loop still has users");
    free(fl);
}

/* Append f at *tail (a list built in order). */
static void append(fwd ***tail, fwd *f)
{
    f->next = NULL;
    **tail = f;
    *tail = &f->next;
}

bool azr_fleet_start(azr_fleet *fl, const azr_load *l, char *err, size_t cap)
{
    fwd **tail = &fl->live;
    char why[AZR_CONF_ERR_MAX + 64];
    for (size_t i = 0; i < l->n; i++) {
        fwd *f = fwd_new(l->f[i].sec->name);
        if (!f) {
            snprintf(err, cap, "out of memory");
            return false;
        }
        take_settings(f, &l->f[i]);
        append(&tail, f);
        if (!fwd_run(fl, f, l, i, why, sizeof why)) {
            snprintf(err, cap, "%s%s%s", l->n > 1 || strcmp(f->name, "default") ? f->name : "",
                     l->n > 1 || strcmp(f->name, "default") ? ": " : "", why);
            free_list(fl->live);
            fl->live = NULL;
            return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------------ reload */

typedef enum kind { K_SAME, K_INPLACE, K_CHANGED, K_ADDED } kind;

/* Only LogLevel and DrainTimeout differ ("LogLevel, DrainTimeout" in the diff)? */
static bool in_place(const char *diff)
{
    const char *p = diff;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (!azr_text_ieq(p, n, "LogLevel") && !azr_text_ieq(p, n, "DrainTimeout"))
            return false;
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return true;
}

static fwd *find(fwd *list, const char *name)
{
    for (fwd *f = list; f; f = f->next)
        if (azr_text_ieq(f->name, strlen(f->name), name))
            return f;
    return NULL;
}

/* Names into a summary's "(a, b)". */
static void note(char *list, size_t cap, const char *name)
{
    size_t used = strlen(list);
    if (used < cap)
        snprintf(list + used, cap - used, "%s%s", used ? ", " : "", name);
}

typedef struct tally {
    size_t n;
    char names[256];
} tally;

static void count(tally *t, const char *name)
{
    t->n++;
    note(t->names, sizeof t->names, name);
}

static void tally_text(const tally *t, const char *what, char *out, size_t cap)
{
    if (t->n)
        snprintf(out, cap, "%zu %s (%s)", t->n, what, t->names);
    else
        snprintf(out, cap, "0 %s", what);
}

void azr_fleet_reload(azr_fleet *fl, const azr_load *l, char *summary, size_t cap)
{
    struct {
        fwd *old;
        kind k;
        char diff[1024];
    } *plan = calloc(l->n ? l->n : 1, sizeof *plan);
    if (!plan) {
        snprintf(summary, cap, "reload: out of memory; nothing changed");
        azr_dlog(NULL, 0, "Error", "%s", summary);
        return;
    }
    tally added = {0}, changed = {0}, removed = {0}, failed = {0};
    size_t same = 0;
    for (size_t i = 0; i < l->n; i++) {
        plan[i].old = find(fl->live, l->f[i].sec->name);
        if (!plan[i].old) {
            plan[i].k = K_ADDED;
            continue;
        }
        size_t d =
            azr_config_diff(plan[i].old->set, &l->f[i].set, plan[i].diff, sizeof plan[i].diff);
        plan[i].k = d == 0 ? K_SAME : in_place(plan[i].diff) ? K_INPLACE : K_CHANGED;
    }
    /* first every listener that goes away or moves, so its port is free below */
    for (fwd *f = fl->live, *next; f; f = next) {
        next = f->next;
        bool kept = false;
        for (size_t i = 0; i < l->n && !kept; i++)
            kept = plan[i].old == f;
        if (kept)
            continue;
        azr_dlog(f->label, 0, "Info", "removed from the configuration: stops accepting");
        count(&removed, f->name);
        to_draining(fl, f);
    }
    for (size_t i = 0; i < l->n; i++)
        if (plan[i].k == K_CHANGED) {
            azr_dlog(plan[i].old->label, 0, "Info", "changed (%s): a new proxy takes over",
                     plan[i].diff);
            (void)azr_proxy_stop_listening(plan[i].old->px);
        }
    /* then the new list, in the configuration's order */
    fwd *live = NULL, **tail = &live;
    char why[AZR_CONF_ERR_MAX + 64];
    for (size_t i = 0; i < l->n; i++) {
        const char *name = l->f[i].sec->name;
        fwd *old = plan[i].old, *f;
        switch (plan[i].k) {
        case K_SAME:
            same++;
            append(&tail, old);
            break;
        case K_INPLACE: {
            char stmt[64];
            snprintf(stmt, sizeof stmt, "LogLevel=%ld", l->f[i].set.log_level);
            (void)azr_proxy_config(old->px, stmt, NULL, 0);
            take_settings(old, &l->f[i]);
            azr_dlog(old->label, 0, "Info",
                     "changed (%s): applied in place, its listener and connections stay",
                     plan[i].diff);
            count(&changed, name);
            append(&tail, old);
            break;
        }
        case K_CHANGED:
        case K_ADDED:
            f = fwd_new(name);
            if (f) {
                take_settings(f, &l->f[i]);
                if (!fwd_run(fl, f, l, i, why, sizeof why)) {
                    fwd_free(f);
                    f = NULL;
                }
            } else {
                snprintf(why, sizeof why, "out of memory");
            }
            if (f) {
                count(plan[i].k == K_ADDED ? &added : &changed, name);
                append(&tail, f);
                if (old)
                    to_draining(fl, old);
                break;
            }
            count(&failed, name);
            if (!old) {
                azr_dlog(name, 0, "Error", "not added: %s", why);
                break;
            }
            /* the old proxy goes on with the old settings */
            azr_dlog(name, 0, "Error", "the new settings do not start (%s): the old ones stay",
                     why);
            if (azr_proxy_start_listening(old->px) == 0) {
                append(&tail, old);
            } else {
                azr_dlog(old->label, 0, "Error", "cannot listen again: %s",
                         azr_proxy_last_error(old->px));
                to_draining(fl, old);
            }
            break;
        }
    }
    fl->live = live;
    prune(fl);
    free(plan);
    char a[300], c[300], r[300], f[300];
    tally_text(&added, "added", a, sizeof a);
    tally_text(&changed, "changed", c, sizeof c);
    tally_text(&removed, "removed", r, sizeof r);
    tally_text(&failed, "failed", f, sizeof f);
    snprintf(summary, cap, "reload: %s, %s, %s, %zu unchanged%s%s", a, c, r, same,
             failed.n ? ", " : "", failed.n ? f : "");
    azr_dlog(NULL, 0, failed.n ? "Error" : "Info", "%s", summary);
}

/* ---------------------------------------------------------------- stopping */

size_t azr_fleet_open(const azr_fleet *fl, long *longest_drain)
{
    size_t n = 0;
    *longest_drain = 0;
    for (const fwd *f = fl->live; f; f = f->next) {
        size_t k = conns(f);
        n += k;
        if (k && f->drain_timeout > *longest_drain)
            *longest_drain = f->drain_timeout;
    }
    uint64_t now = now_ms();
    for (const fwd *f = fl->draining; f; f = f->next) {
        n += conns(f);
        /* an old proxy already draining keeps its deadline: what is left of it */
        long left = f->drain_until > now ? (long)((f->drain_until - now + 999u) / 1000u) : 0;
        if (left > *longest_drain)
            *longest_drain = left;
    }
    return n;
}

void azr_fleet_stop(azr_fleet *fl)
{
    fwd *f = fl->live;
    fl->live = NULL;
    while (f) {
        fwd *next = f->next;
        to_draining(fl, f);
        f = next;
    }
}

size_t azr_fleet_close_all(azr_fleet *fl)
{
    long longest;
    size_t n = azr_fleet_open(fl, &longest);
    free_list(fl->live);
    free_list(fl->draining);
    fl->live = fl->draining = NULL;
    return n;
}

void azr_fleet_status(const azr_fleet *fl, char *out, size_t cap)
{
    size_t nf = 0, nc = 0, nd = 0;
    for (const fwd *f = fl->live; f; f = f->next) {
        nf++;
        nc += conns(f);
    }
    for (const fwd *f = fl->draining; f; f = f->next) {
        nd++;
        nc += conns(f);
    }
    int k = snprintf(out, cap, "%zu forward%s, %zu connection%s", nf, nf == 1 ? "" : "s", nc,
                     nc == 1 ? "" : "s");
    if (nd && k > 0 && (size_t)k < cap)
        snprintf(out + k, cap - (size_t)k, ", %zu draining", nd);
}
