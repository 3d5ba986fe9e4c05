/*
 * IMPLEMENTATION NOTES
 * Both reports start from the fleet's views (azr_fleet_each), copied into
 * an array first so a view's proxy is read once per report.
 *  - /metrics sums the views by forward name: a forward's counters are its
 *    live proxy's, its draining proxies' and its retired counts, so they
 *    never go down across reloads and drains (a Prometheus counter that
 *    drops reads as a restart). Gauges (active connections, listening) are
 *    the proxies' that exist now. Every series is written, zeros too, so a
 *    rate() has a start. Label values are escaped (\, ", newline) though
 *    forward names cannot hold them.
 *  - --status lists proxies, not names: an old proxy draining beside its
 *    replacement is a line of its own, with its own counts; then the
 *    connections, with columns as wide as their widest cell.
 * The process figures come from /proc/self (open descriptors, resident
 * memory); where there is no /proc they are left out.
 */
#include "report.h"

#include "text.h"

#include <dirent.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ rbuf */

void azr_rbuf_init(azr_rbuf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

void azr_rbuf_free(azr_rbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void azr_rbuf_printf(azr_rbuf *b, const char *fmt, ...)
{
    if (b->full)
        return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->full = true;
            return;
        }
        if (b->p && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t want = b->len + (size_t)n + 1;
        if (want > b->max) {
            b->full = true;
            if (b->p)
                b->p[b->len] = '\0'; /* what did not fit is not half written */
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < want)
            cap *= 2;
        if (cap > b->max)
            cap = b->max;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->full = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

/* ----------------------------------------------------------------- views */

typedef struct views {
    azr_fleet_view *v;
    size_t n, cap;
    bool oom;
} views;

static void collect(void *ud, const azr_fleet_view *v)
{
    views *vs = ud;
    if (vs->n == vs->cap) {
        size_t cap = vs->cap ? 2 * vs->cap : 16;
        azr_fleet_view *p = realloc(vs->v, cap * sizeof *p);
        if (!p) {
            vs->oom = true;
            return;
        }
        vs->v = p;
        vs->cap = cap;
    }
    vs->v[vs->n++] = *v;
}

static void views_get(const azr_fleet *fl, views *vs)
{
    memset(vs, 0, sizeof *vs);
    azr_fleet_each(fl, collect, vs);
}

void azr_report_stats_add(azr_proxy_stats *d, const azr_proxy_stats *s)
{
    d->accepted += s->accepted;
    d->active += s->active;
    d->refused_max_connections += s->refused_max_connections;
    d->refused_connection_request += s->refused_connection_request;
    d->refused_no_memory += s->refused_no_memory;
    d->opened += s->opened;
    for (size_t i = 0; i < AZR_FAIL_REASONS; i++)
        d->relay_failures[i] += s->relay_failures[i];
    d->retries += s->retries;
    d->bytes_to_relay += s->bytes_to_relay;
    d->bytes_to_client += s->bytes_to_client;
    memcpy(d->connect_bucket_ms, s->connect_bucket_ms, sizeof d->connect_bucket_ms);
    for (size_t i = 0; i <= AZR_STATS_CONNECT_BUCKETS; i++)
        d->connect_buckets[i] += s->connect_buckets[i];
    d->connect_ms_sum += s->connect_ms_sum;
    d->tls_failures_client += s->tls_failures_client;
    d->tls_failures_relay += s->tls_failures_relay;
    d->frames_to_relay += s->frames_to_relay;
    d->frames_to_client += s->frames_to_client;
}

/* One setting of px as text ("" when it cannot be read). */
static void setting(azr_proxy *px, const char *name, char *out, size_t cap)
{
    if (!px || azr_proxy_config(px, name, out, cap) != 0)
        out[0] = '\0';
}

static bool listening(azr_proxy *px)
{
    char v[8];
    setting(px, "Listening", v, sizeof v);
    return !strcmp(v, "True");
}

/* ---------------------------------------------------------------- process */

static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0; /* the directory's own descriptor */
}

static long long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    /* "size resident shared ...", in pages (no scanf: it would bring the C
     * library's float parser into a static build, ~10 KB with musl) */
    char buf[128];
    bool got = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    char *end;
    if (!got || page <= 0)
        return -1;
    (void)strtoull(buf, &end, 10);
    if (end == buf || *end != ' ')
        return -1;
    const char *at = end + 1;
    unsigned long long rss = strtoull(at, &end, 10);
    if (end == at)
        return -1;
    return (long long)(rss * (unsigned long long)page);
}

/* ---------------------------------------------------------------- metrics */

typedef struct fsum {
    const char *name;
    azr_proxy_stats st;
    bool live, listening;
} fsum;

/* The views summed by name, in the order names first appear. */
static size_t sums(const views *vs, fsum *out)
{
    size_t n = 0;
    for (size_t i = 0; i < vs->n; i++) {
        const azr_fleet_view *v = &vs->v[i];
        size_t k = 0;
        while (k < n && strcmp(out[k].name, v->name) != 0)
            k++;
        if (k == n) {
            memset(&out[n], 0, sizeof out[n]);
            out[n++].name = v->name;
        }
        azr_proxy_stats st;
        if (v->kind == AZR_FLEET_RETIRED) {
            st = *v->retired;
        } else {
            (void)azr_proxy_get_stats(v->px, &st);
        }
        azr_report_stats_add(&out[k].st, &st);
        if (v->kind == AZR_FLEET_LIVE) {
            out[k].live = true;
            out[k].listening = listening(v->px);
        }
    }
    return n;
}

/* A label value, escaped as the text format wants (\\, \", \n). */
static const char *label(const char *v, char *out, size_t cap)
{
    size_t o = 0;
    for (; *v && o + 3 < cap; v++) {
        if (*v == '\\' || *v == '"' || *v == '\n') {
            out[o++] = '\\';
            out[o++] = *v == '\n' ? 'n' : *v;
        } else {
            out[o++] = *v;
        }
    }
    out[o] = '\0';
    return out;
}

static void family(azr_rbuf *o, const char *name, const char *type, const char *help)
{
    azr_rbuf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A sample per forward: name{forward="F"<extra>} value. */
#define EACH_FWD(o, s, n, metric, extra, value)                                                    \
    for (size_t i_ = 0; i_ < (n); i_++) {                                                          \
        char l_[2 * AZR_FC_NAME_MAX + 2];                                                          \
        const azr_proxy_stats *st = &(s)[i_].st;                                                   \
        (void)st;                                                                                  \
        azr_rbuf_printf((o), "%s{forward=\"%s\"%s} %llu\n", (metric),                              \
                        label((s)[i_].name, l_, sizeof l_), (extra), (unsigned long long)(value)); \
    }

static void forward_metrics(azr_rbuf *o, const fsum *s, size_t n)
{
    family(o, "azrelay_connections_accepted_total", "counter",
           "Client connections accepted (each got a connection id).");
    EACH_FWD(o, s, n, "azrelay_connections_accepted_total", "", st->accepted);
    family(o, "azrelay_connections_active", "gauge",
           "Client connections accepted and not ended yet.");
    EACH_FWD(o, s, n, "azrelay_connections_active", "", st->active);
    family(o, "azrelay_connections_refused_total", "counter",
           "Clients accepted and closed at once: MaxConnections (or the descriptor limit) "
           "reached, the ConnectionRequest event, no memory.");
    EACH_FWD(o, s, n, "azrelay_connections_refused_total", ",reason=\"max_connections\"",
             st->refused_max_connections);
    EACH_FWD(o, s, n, "azrelay_connections_refused_total", ",reason=\"connection_request\"",
             st->refused_connection_request);
    EACH_FWD(o, s, n, "azrelay_connections_refused_total", ",reason=\"out_of_memory\"",
             st->refused_no_memory);
    family(o, "azrelay_relay_connect_failures_total", "counter",
           "Failed attempts at the relay connection, by the step that failed (reason) and, "
           "for the WebSocket upgrade, the relay's HTTP status (401, 403, 404, 5xx, other, "
           "none: no valid answer).");
    for (int r = 0; r < AZR_FAIL_REASONS; r++) {
        const char *nm = azr_relay_failure_name(r);
        const char *sp = strchr(nm, ' ');
        char extra[64];
        if (sp)
            snprintf(extra, sizeof extra, ",reason=\"%.*s\",status=\"%s\"", (int)(sp - nm), nm,
                     sp + 1);
        else
            snprintf(extra, sizeof extra, ",reason=\"%s\"", nm);
        EACH_FWD(o, s, n, "azrelay_relay_connect_failures_total", extra, st->relay_failures[r]);
    }
    family(o, "azrelay_retries_total", "counter",
           "Failed attempts at the relay tried again after a backoff (within ConnectionTimeout).");
    EACH_FWD(o, s, n, "azrelay_retries_total", "", st->retries);
    family(o, "azrelay_bytes_total", "counter",
           "Payload bytes forwarded: from clients to the relay, from the relay to clients.");
    EACH_FWD(o, s, n, "azrelay_bytes_total", ",direction=\"to_relay\"", st->bytes_to_relay);
    EACH_FWD(o, s, n, "azrelay_bytes_total", ",direction=\"to_client\"", st->bytes_to_client);
    family(o, "azrelay_ws_frames_total", "counter",
           "WebSocket frames written to the relay (data and control), and read from it.");
    EACH_FWD(o, s, n, "azrelay_ws_frames_total", ",direction=\"to_relay\"", st->frames_to_relay);
    EACH_FWD(o, s, n, "azrelay_ws_frames_total", ",direction=\"to_client\"", st->frames_to_client);
    family(o, "azrelay_connect_seconds", "histogram",
           "Seconds from a client's accept to its relay connection's opening (1 ms resolution).");
    for (size_t i = 0; i < n; i++) {
        char l[2 * AZR_FC_NAME_MAX + 2];
        const azr_proxy_stats *st = &s[i].st;
        label(s[i].name, l, sizeof l);
        uint64_t cum = 0;
        for (size_t b = 0; b <= AZR_STATS_CONNECT_BUCKETS; b++) {
            cum += st->connect_buckets[b];
            char le[24];
            if (b == AZR_STATS_CONNECT_BUCKETS)
                snprintf(le, sizeof le, "+Inf");
            else
                snprintf(le, sizeof le, "%g", (double)st->connect_bucket_ms[b] / 1000.0);
            azr_rbuf_printf(o, "azrelay_connect_seconds_bucket{forward=\"%s\",le=\"%s\"} %llu\n", l,
                            le, (unsigned long long)cum);
        }
        azr_rbuf_printf(o, "azrelay_connect_seconds_sum{forward=\"%s\"} %llu.%03u\n", l,
                        (unsigned long long)(st->connect_ms_sum / 1000u),
                        (unsigned)(st->connect_ms_sum % 1000u));
        azr_rbuf_printf(o, "azrelay_connect_seconds_count{forward=\"%s\"} %llu\n", l,
                        (unsigned long long)cum);
    }
    family(o, "azrelay_tls_handshake_failures_total", "counter",
           "TLS handshakes that did not complete: with clients (SSLEnabled) and with the relay.");
    EACH_FWD(o, s, n, "azrelay_tls_handshake_failures_total", ",side=\"client\"",
             st->tls_failures_client);
    EACH_FWD(o, s, n, "azrelay_tls_handshake_failures_total", ",side=\"relay\"",
             st->tls_failures_relay);
    family(o, "azrelay_forward_listening", "gauge",
           "1 while the forward's proxy listens, 0 when it does not (or only drains).");
    EACH_FWD(o, s, n, "azrelay_forward_listening", "", s[i_].listening ? 1u : 0u);
}

void azr_report_metrics(const azr_fleet *fl, const azr_report_proc *pr, azr_rbuf *o)
{
    views vs;
    views_get(fl, &vs);
    fsum *s = vs.n ? calloc(vs.n, sizeof *s) : NULL;
    size_t n = s ? sums(&vs, s) : 0;
    if (vs.oom || (vs.n && !s))
        o->full = true; /* the caller answers 500 */
    forward_metrics(o, s, n);
    free(s);
    free(vs.v);
    long fds = open_fds();
    if (fds >= 0) {
        family(o, "azrelay_open_fds", "gauge", "Open file descriptors of the daemon.");
        azr_rbuf_printf(o, "azrelay_open_fds %ld\n", fds);
    }
    long long rss = resident_bytes();
    if (rss >= 0) {
        family(o, "azrelay_resident_memory_bytes", "gauge", "Resident memory of the daemon.");
        azr_rbuf_printf(o, "azrelay_resident_memory_bytes %lld\n", rss);
    }
    family(o, "azrelay_reloads_total", "counter",
           "SIGHUP reloads: configurations applied, and refused (not loaded: nothing changed).");
    azr_rbuf_printf(o, "azrelay_reloads_total{result=\"applied\"} %llu\n",
                    (unsigned long long)pr->reloads_applied);
    azr_rbuf_printf(o, "azrelay_reloads_total{result=\"refused\"} %llu\n",
                    (unsigned long long)pr->reloads_refused);
    family(o, "azrelay_start_time_seconds", "gauge",
           "When the daemon started, in seconds since the Unix epoch.");
    azr_rbuf_printf(o, "azrelay_start_time_seconds %lld\n", (long long)pr->start_time);
    family(o, "azrelay_build_info", "gauge", "The daemon's version, as a label; the value is 1.");
    azr_rbuf_printf(o, "azrelay_build_info{version=\"%s\"} 1\n", azr_version());
}

bool azr_report_healthy(const azr_fleet *fl, char *why, size_t cap)
{
    views vs;
    views_get(fl, &vs);
    size_t live = 0, down = 0, o = 0;
    why[0] = '\0';
    for (size_t i = 0; i < vs.n; i++) {
        if (vs.v[i].kind != AZR_FLEET_LIVE)
            continue;
        live++;
        if (listening(vs.v[i].px))
            continue;
        down++;
        int k =
            snprintf(why + o, cap - o, "%s%s", down > 1 ? ", " : "not listening: ", vs.v[i].name);
        if (k > 0 && (size_t)k < cap - o)
            o += (size_t)k;
    }
    free(vs.v);
    if (vs.oom) {
        snprintf(why, cap, "out of memory");
        return false;
    }
    if (live == 0)
        snprintf(why, cap, "no forward (the daemon is stopping)");
    return live > 0 && down == 0;
}

/* ----------------------------------------------------------------- status */

/* "12.3 s", "4m05s", "2h03m", "3d04h" */
static void age_text(uint64_t ms, char *out, size_t cap)
{
    uint64_t s = ms / 1000u;
    if (s < 60)
        snprintf(out, cap, "%llu.%u s", (unsigned long long)s, (unsigned)(ms % 1000u / 100u));
    else if (s < 3600)
        snprintf(out, cap, "%llum%02us", (unsigned long long)(s / 60), (unsigned)(s % 60));
    else if (s < 86400)
        snprintf(out, cap, "%lluh%02um", (unsigned long long)(s / 3600), (unsigned)(s % 3600 / 60));
    else
        snprintf(out, cap, "%llud%02uh", (unsigned long long)(s / 86400),
                 (unsigned)(s % 86400 / 3600));
}

/* ws://host:port/$hc/NAME, as NamespaceAddress and HybridConnection read. */
static void relay_text(azr_proxy *px, char *out, size_t cap)
{
    char ns[AZR_HOST_MAX + 32], hc[AZR_HC_MAX + 1];
    setting(px, "NamespaceAddress", ns, sizeof ns);
    setting(px, "HybridConnection", hc, sizeof hc);
    const char *host = ns, *scheme = "wss://";
    const char *sep = strstr(ns, "://");
    if (sep && (size_t)(sep - ns) == 2 && !strncmp(ns, "ws", 2))
        scheme = "ws://";
    if (sep)
        host = sep + 3;
    size_t hl = strlen(host);
    while (hl > 0 && host[hl - 1] == '/')
        hl--;
    snprintf(out, cap, "%s%.*s/$hc/%s", scheme, (int)hl, host, hc);
}

#define MAX_COLS 11

typedef struct table {
    size_t ncol;
    const char *head[MAX_COLS];
    bool right[MAX_COLS]; /* numbers: right-aligned */
    size_t w[MAX_COLS];
} table;

typedef char cells[MAX_COLS][AZR_HC_MAX + AZR_HOST_MAX + 48];

static void widen(table *t, cells c)
{
    for (size_t k = 0; k < t->ncol; k++) {
        size_t n = strlen(c[k]);
        if (n > t->w[k])
            t->w[k] = n;
    }
}

static void row(azr_rbuf *o, const table *t, cells c)
{
    for (size_t k = 0; k < t->ncol; k++) {
        bool last = k + 1 == t->ncol;
        azr_rbuf_printf(o, t->right[k] ? "%*s%s" : "%-*s%s",
                        last && !t->right[k] ? 0 : (int)t->w[k], c[k], last ? "\n" : "  ");
    }
}

static void header(azr_rbuf *o, table *t)
{
    cells *c = calloc(1, sizeof *c);
    if (!c) {
        o->full = true;
        return;
    }
    for (size_t k = 0; k < t->ncol; k++)
        snprintf((*c)[k], sizeof(*c)[k], "%s", t->head[k]);
    row(o, t, *c);
    free(c);
}

static uint64_t failed(const azr_proxy_stats *st)
{
    uint64_t n = 0;
    for (size_t i = 0; i < AZR_FAIL_REASONS; i++)
        n += st->relay_failures[i];
    return n;
}

static void proxy_cells(const azr_fleet_view *v, cells c)
{
    azr_proxy_stats st;
    char lh[AZR_HOST_MAX + 1], lp[16];
    (void)azr_proxy_get_stats(v->px, &st);
    setting(v->px, "LocalHost", lh, sizeof lh);
    setting(v->px, "LocalPort", lp, sizeof lp);
    bool v6 = strchr(lh, ':') != NULL;
    snprintf(c[0], sizeof c[0], "%s", v->name);
    snprintf(c[1], sizeof c[1], "%s",
             v->kind == AZR_FLEET_DRAINING ? "draining"
             : listening(v->px)            ? "listening"
                                           : "not listening");
    snprintf(c[2], sizeof c[2], "%s%s%s:%s", v6 ? "[" : "", lh[0] ? lh : "*", v6 ? "]" : "", lp);
    relay_text(v->px, c[3], sizeof c[3]);
    snprintf(c[4], sizeof c[4], "%llu", (unsigned long long)st.active);
    snprintf(c[5], sizeof c[5], "%llu", (unsigned long long)st.accepted);
    snprintf(c[6], sizeof c[6], "%llu",
             (unsigned long long)(st.refused_max_connections + st.refused_connection_request +
                                  st.refused_no_memory));
    snprintf(c[7], sizeof c[7], "%llu", (unsigned long long)failed(&st));
    snprintf(c[8], sizeof c[8], "%llu", (unsigned long long)st.retries);
    snprintf(c[9], sizeof c[9], "%llu", (unsigned long long)st.bytes_to_relay);
    snprintf(c[10], sizeof c[10], "%llu", (unsigned long long)st.bytes_to_client);
}

typedef struct conn_row {
    const char *forward;
    azr_connection_info info;
} conn_row;

static void conn_cells(const conn_row *r, cells c)
{
    const azr_connection_info *i = &r->info;
    bool v6 = strchr(i->remote_host, ':') != NULL;
    snprintf(c[0], sizeof c[0], "%s", r->forward);
    snprintf(c[1], sizeof c[1], "%d", i->id);
    snprintf(c[2], sizeof c[2], "%s%s%s:%d", v6 ? "[" : "", i->remote_host, v6 ? "]" : "",
             i->remote_port);
    age_text(i->age_ms, c[3], sizeof c[3]);
    snprintf(c[4], sizeof c[4], "%s", i->phase);
    snprintf(c[5], sizeof c[5], "%llu", (unsigned long long)i->bytes_in);
    snprintf(c[6], sizeof c[6], "%llu", (unsigned long long)i->bytes_out);
    snprintf(c[7], sizeof c[7], "%s", i->relay_address[0] ? i->relay_address : "-");
}

/* Up to max live connections of the proxies in vs; *total gets how many there are. */
static conn_row *conn_rows(const views *vs, size_t max, size_t *n, size_t *total)
{
    *n = *total = 0;
    for (size_t i = 0; i < vs->n; i++)
        if (vs->v[i].px)
            *total += (size_t)azr_proxy_connection_count(vs->v[i].px);
    size_t want = *total < max ? *total : max;
    conn_row *rows = want ? calloc(want, sizeof *rows) : NULL;
    if (!rows)
        return NULL;
    azr_connection_info *buf = calloc(want, sizeof *buf);
    if (!buf) {
        free(rows);
        return NULL;
    }
    for (size_t i = 0; i < vs->n && *n < want; i++) {
        if (!vs->v[i].px)
            continue;
        int got = azr_proxy_connection_list(vs->v[i].px, buf, (int)(want - *n));
        size_t k = got < 0 ? 0 : (size_t)got;
        if (k > want - *n)
            k = want - *n;
        for (size_t j = 0; j < k; j++) {
            rows[*n].forward = vs->v[i].name;
            rows[(*n)++].info = buf[j];
        }
    }
    free(buf);
    return rows;
}

void azr_report_status(const azr_fleet *fl, const azr_report_proc *pr, size_t max_rows, azr_rbuf *o)
{
    views vs;
    views_get(fl, &vs);
    cells *c = calloc(1, sizeof *c);
    size_t nf = 0, nd = 0, total, n;
    for (size_t i = 0; i < vs.n; i++) {
        nf += vs.v[i].kind == AZR_FLEET_LIVE;
        nd += vs.v[i].kind == AZR_FLEET_DRAINING;
    }
    conn_row *rows = conn_rows(&vs, max_rows, &n, &total);
    int64_t up = (int64_t)time(NULL) - pr->start_time;
    char age[32];
    age_text(up > 0 ? (uint64_t)up * 1000u : 0, age, sizeof age);
    azr_rbuf_printf(o,
                    "azrelay-proxy %s: pid %ld, up %s, %zu forward%s%s, %zu connection%s, "
                    "reloads: %llu applied, %llu refused\n\n",
                    azr_version(), (long)getpid(), age, nf, nf == 1 ? "" : "s",
                    nd ? " (and old proxies draining)" : "", total, total == 1 ? "" : "s",
                    (unsigned long long)pr->reloads_applied,
                    (unsigned long long)pr->reloads_refused);
    if (!c || vs.oom) {
        o->full = true;
        goto out;
    }
    table ft = {11,
                {"FORWARD", "STATE", "LISTENS ON", "RELAY", "OPEN", "ACCEPTED", "REFUSED", "FAILED",
                 "RETRIES", "BYTES IN", "BYTES OUT"},
                {false, false, false, false, true, true, true, true, true, true, true},
                {0}};
    for (size_t k = 0; k < ft.ncol; k++)
        ft.w[k] = strlen(ft.head[k]);
    for (int pass = 0; pass < 2; pass++) {
        if (pass)
            header(o, &ft);
        for (size_t i = 0; i < vs.n; i++) {
            if (!vs.v[i].px)
                continue;
            proxy_cells(&vs.v[i], *c);
            if (pass)
                row(o, &ft, *c);
            else
                widen(&ft, *c);
        }
    }
    azr_rbuf_printf(o, "\n");
    if (total == 0) {
        azr_rbuf_printf(o, "no connections\n");
        goto out;
    }
    table ct = {8,
                {"FORWARD", "ID", "PEER", "AGE", "PHASE", "BYTES IN", "BYTES OUT", "RELAY"},
                {false, true, false, true, false, true, true, false},
                {0}};
    for (size_t k = 0; k < ct.ncol; k++)
        ct.w[k] = strlen(ct.head[k]);
    for (int pass = 0; pass < 2; pass++) {
        if (pass)
            header(o, &ct);
        for (size_t i = 0; i < n; i++) {
            conn_cells(&rows[i], *c);
            if (pass)
                row(o, &ct, *c);
            else
                widen(&ct, *c);
        }
    }
    if (total > n)
        azr_rbuf_printf(o, "... and %zu more connection%s not shown\n", total - n,
                        total - n == 1 ? "" : "s");
out:
    free(rows);
    free(c);
    free(vs.v);
}
