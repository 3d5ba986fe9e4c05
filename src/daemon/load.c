/*
 * IMPLEMENTATION NOTES
 * The file is read as before the grammar came (a regular file of at most
 * AZR_CONF_FILE_MAX bytes, opened non-blocking so a FIFO cannot stall a
 * start or a reload, its lines cut by conffile.c and wiped after use);
 * each line then goes to fwdconf.c. The forwards' settings are built the
 * way a proxy's are, statement by statement through the vocabulary, so an
 * error names the statement's line (or argument) and a configuration that
 * loads is one every proxy accepts.
 */
#include "platform.h"

#include "load.h"
#include "conffile.h"
#include "hooks.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

bool azr_cmdline_add(azr_cmdline *cl, const char *text, int argno, bool forward)
{
    azr_cmdarg *v = realloc(cl->v, (cl->n + 1) * sizeof *v);
    if (!v)
        return false;
    cl->v = v;
    size_t len = strlen(text);
    char *t = malloc(len + 1);
    if (!t)
        return false;
    memcpy(t, text, len + 1);
    v[cl->n].text = t;
    v[cl->n].argno = argno;
    v[cl->n].forward = forward;
    cl->n++;
    return true;
}

void azr_cmdline_free(azr_cmdline *cl)
{
    for (size_t i = 0; i < cl->n; i++) {
        azr_wipe(cl->v[i].text, strlen(cl->v[i].text));
        free(cl->v[i].text);
    }
    free(cl->v);
    cl->v = NULL;
    cl->n = 0;
}

static bool failed(azr_load *l, const char *fmt, ...) AZR_PRINTF(2, 3);
static bool failed(azr_load *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(l->err, sizeof l->err, fmt, ap);
    va_end(ap);
    if (k < 0)
        l->err[0] = '\0';
    return false;
}

/* The grammar's error, with the file and line when a line is at fault. */
static bool grammar_failed(azr_load *l)
{
    if (l->fc.err_line)
        return failed(l, "%s:%lu: %s", l->path, l->fc.err_line, l->fc.why);
    return failed(l, "%s", l->fc.why);
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

/* Every line of the file into the grammar. */
static bool read_file(azr_load *l, int fd)
{
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
            ok = failed(l, "%s: %s", l->path, strerror(errno));
            break;
        }
        if (n == 0) {
            e = azr_conffile_end(&cf, &ev);
            if (e == AZR_OK)
                ok = azr_fwdconf_file_line(&l->fc, ev.text, ev.len, ev.lineno) == AZR_OK ||
                     grammar_failed(l);
            e = e == AZR_OK ? AZR_E_CLOSED : e;
            break;
        }
        size_t off = 0, used;
        while (ok &&
               (e = azr_conffile_feed(&cf, buf + off, (size_t)n - off, &used, &ev)) == AZR_OK) {
            off += used;
            ok = azr_fwdconf_file_line(&l->fc, ev.text, ev.len, ev.lineno) == AZR_OK ||
                 grammar_failed(l);
        }
    }
    if (ok && e != AZR_E_CLOSED)
        ok = failed(l, "%s:%lu: %s", l->path, cf.err_line, cf.why);
    azr_conffile_wipe(&cf);
    azr_wipe(buf, sizeof buf);
    return ok;
}

/* The config file: a regular file of at most AZR_CONF_FILE_MAX bytes. */
static bool open_file(azr_load *l)
{
    int fd = open(l->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return failed(l, "%s: %s", l->path, strerror(errno));
    struct stat st;
    bool ok = true;
    if (fstat(fd, &st) != 0)
        ok = failed(l, "%s: %s", l->path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        ok = failed(l, "%s: %s, not a config file (a regular file is needed)", l->path,
                    file_kind(st.st_mode));
    else if (st.st_size > AZR_CONF_FILE_MAX)
        ok = failed(l, "%s: %lld bytes; a config file may hold at most %d (1 MiB)", l->path,
                    (long long)st.st_size, AZR_CONF_FILE_MAX);
    else
        ok = read_file(l, fd);
    close(fd);
    return ok;
}

void azr_load_where(const azr_load *l, const azr_fc_stmt *s, char *out, size_t cap)
{
    if (s->origin == AZR_FC_FILE)
        snprintf(out, cap, "%s:%lu: ", l->path ? l->path : "?", s->where);
    else if (s->origin == AZR_FC_FWDARG)
        snprintf(out, cap, "--forward %s: ", s->fwd);
    else if (cap)
        out[0] = '\0';
}

typedef struct apply_ctx {
    azr_load *l;
    azr_settings *set;
} apply_ctx;

/* A warning line into l->warn, once (a default applies to every forward);
 * what does not fit is left out. */
static void warn(azr_load *l, const char *where, const char *text)
{
    char line[AZR_FC_NAME_MAX + PATH_MAX + AZR_CONF_ERR_MAX + 64];
    int k = snprintf(line, sizeof line, "%swarning: %s\n", where, text);
    size_t n = k < 0 ? 0 : (size_t)k < sizeof line ? (size_t)k : sizeof line - 1;
    size_t used = strlen(l->warn);
    if (n == 0 || strstr(l->warn, line) || n >= sizeof l->warn - used)
        return;
    memcpy(l->warn + used, line, n + 1);
}

static azr_err apply_one(void *ud, const azr_fc_stmt *s)
{
    apply_ctx *a = ud;
    char err[AZR_CONF_ERR_MAX], where[AZR_FC_NAME_MAX + PATH_MAX + 40];
    const azr_conf_def *d = azr_config_find(s->text, s->name_len);
    if (s->origin == AZR_FC_FILE && d && (d->flags & AZR_CF_SECRET))
        a->l->holds_secret = true;
    azr_err e = azr_config_apply(a->set, s->text, s->len, err, sizeof err);
    if (e != AZR_OK || err[0])
        azr_load_where(a->l, s, where, sizeof where);
    if (e != AZR_OK)
        failed(a->l, "%s%s", where, err);
    else if (err[0]) /* a setting applied with a word of warning (a secret file's mode) */
        warn(a->l, where, err);
    return e;
}

/* azr_hook_lowest's statements into a forward's settings. */
static bool lowest_to_settings(void *ud, const char *stmt, size_t len, char *err, size_t cap)
{
    apply_ctx *a = ud;
    return azr_config_apply(a->set, stmt, len, err, cap) == AZR_OK;
}

static bool wildcard(const char *host)
{
    return !host[0] || !strcmp(host, "0.0.0.0") || !strcmp(host, "::") || !strcmp(host, "[::]");
}

/* No two forwards on one LocalHost:LocalPort (port 0: the system picks, no clash). */
static bool addresses_distinct(azr_load *l)
{
    for (size_t j = 1; j < l->n; j++) {
        const azr_settings *b = &l->f[j].set;
        for (size_t i = 0; i < j && b->local_port; i++) {
            const azr_settings *a = &l->f[i].set;
            if (a->local_port != b->local_port)
                continue;
            bool same = azr_text_ieq(a->local_host, strlen(a->local_host), b->local_host);
            if (!same && !wildcard(a->local_host) && !wildcard(b->local_host))
                continue;
            const char *host = b->local_host[0] ? b->local_host : "*";
            return failed(l,
                          "%s:%lu: [forward %s] listens on %s:%ld, as [forward %s] (line %lu) "
                          "does%s: give each forward its own LocalHost:LocalPort",
                          l->path ? l->path : "?", l->f[j].sec->line, l->f[j].sec->name, host,
                          b->local_port, l->f[i].sec->name, l->f[i].sec->line,
                          same ? "" : " (an empty LocalHost takes every address)");
        }
    }
    return true;
}

bool azr_load_read(azr_load *l, const char *path, const azr_cmdline *cl)
{
    memset(l, 0, sizeof *l);
    l->path = path;
    azr_fwdconf_init(&l->fc);
    if (path && !open_file(l))
        return false;
    for (size_t i = 0; i < cl->n; i++)
        if (azr_fwdconf_arg(&l->fc, cl->v[i].text, strlen(cl->v[i].text), cl->v[i].argno,
                            cl->v[i].forward) != AZR_OK)
            return grammar_failed(l);
    if (azr_fwdconf_finish(&l->fc) != AZR_OK)
        return grammar_failed(l);
    size_t n = azr_fwdconf_count(&l->fc);
    l->f = calloc(n, sizeof *l->f);
    if (!l->f)
        return failed(l, "out of memory");
    for (size_t i = 0; i < n; i++) {
        azr_fwdcfg *f = &l->f[i];
        f->sec = azr_fwdconf_forward(&l->fc, i);
        f->idx = i;
        azr_settings_init(&f->set);
        l->n = i + 1;
        apply_ctx a = {l, &f->set};
        char why[AZR_CONF_ERR_MAX + 64];
        if (!azr_hook_lowest(f->sec->name, lowest_to_settings, &a, why, sizeof why))
            return failed(l, "%s", why);
        if (azr_fwdconf_each(&l->fc, i, apply_one, &a) != AZR_OK)
            return false;
    }
    if (!addresses_distinct(l))
        return false;
    char why[AZR_LOAD_ERR_MAX];
    why[0] = '\0';
    if (!azr_hook_loaded(l, why, sizeof why))
        return failed(l, "%s", why);
    if (why[0])
        warn(l, "", why);
    return true;
}

void azr_load_free(azr_load *l)
{
    for (size_t i = 0; i < l->n; i++)
        azr_settings_wipe(&l->f[i].set);
    free(l->f);
    l->f = NULL;
    l->n = 0;
    azr_fwdconf_free(&l->fc);
}

typedef struct configure_ctx {
    const azr_load *l;
    azr_proxy *px;
    bool skip_event_loop;
    char *err;
    size_t cap;
} configure_ctx;

static azr_err configure_one(void *ud, const azr_fc_stmt *s)
{
    configure_ctx *c = ud;
    if (c->skip_event_loop && azr_text_ieq(s->text, s->name_len, "EventLoop"))
        return AZR_OK;
    if (azr_proxy_config(c->px, s->text, NULL, 0) == 0)
        return AZR_OK;
    char where[AZR_FC_NAME_MAX + PATH_MAX + 40];
    azr_load_where(c->l, s, where, sizeof where);
    snprintf(c->err, c->cap, "%s%s", where, azr_proxy_last_error(c->px));
    return AZR_E_ARG;
}

/* azr_hook_lowest's statements into a proxy. */
static bool lowest_to_proxy(void *ud, const char *stmt, size_t len, char *err, size_t cap)
{
    configure_ctx *c = ud;
    char text[AZR_CONF_LINE_MAX + 1];
    if (len >= sizeof text) {
        snprintf(err, cap, "a statement longer than %d bytes", AZR_CONF_LINE_MAX);
        return false;
    }
    memcpy(text, stmt, len);
    text[len] = '\0';
    bool ok = azr_proxy_config(c->px, text, NULL, 0) == 0;
    azr_wipe(text, len);
    if (!ok)
        snprintf(err, cap, "%s", azr_proxy_last_error(c->px));
    return ok;
}

bool azr_load_configure(const azr_load *l, size_t i, azr_proxy *px, bool skip_event_loop, char *err,
                        size_t cap)
{
    configure_ctx c = {l, px, skip_event_loop, err, cap};
    const azr_fc_section *f = azr_fwdconf_forward(&l->fc, i);
    return f && azr_hook_lowest(f->name, lowest_to_proxy, &c, err, cap) &&
           azr_fwdconf_each(&l->fc, i, configure_one, &c) == AZR_OK;
}
