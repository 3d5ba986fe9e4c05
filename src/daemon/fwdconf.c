/*
 * IMPLEMENTATION NOTES
 * Four kinds of section hold statements: the file's top level, each
 * [forward NAME], the Name=Value arguments and the --forward arguments (one
 * list, each statement naming its forward). A statement is checked for its
 * shape and for a repeat within its section as it arrives, so the error
 * names the line; whether the forwards --forward names exist is known only
 * once everything is in (azr_fwdconf_finish). Precedence is the order
 * azr_fwdconf_each() walks the lists in: applying them in turn to fresh
 * settings lets the later ones win.
 */
#include "platform.h"

#include "fwdconf.h"
#include "config.h"
#include "text.h"

#include <stdarg.h>

static azr_err fail(azr_fwdconf *c, azr_err e, unsigned long line, const char *fmt, ...)
    AZR_PRINTF(4, 5);
static azr_err fail(azr_fwdconf *c, azr_err e, unsigned long line, const char *fmt, ...)
{
    c->err = e;
    c->err_line = line;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
    if (k < 0)
        c->why[0] = '\0';
    return e;
}

static bool same_ci(const char *a, size_t al, const char *b, size_t bl)
{
    if (al != bl)
        return false;
    for (size_t i = 0; i < al; i++)
        if (azr_text_lower(a[i]) != azr_text_lower(b[i]))
            return false;
    return true;
}

static bool is_ws(char ch)
{
    return ch == ' ' || ch == '\t';
}

static bool name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-';
}

/* A forward's NAME: 1..AZR_FC_NAME_MAX name characters. */
static bool name_ok(const char *s, size_t len)
{
    if (len == 0 || len > AZR_FC_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!name_char(s[i]))
            return false;
    return true;
}

void azr_fwdconf_init(azr_fwdconf *c)
{
    memset(c, 0, sizeof *c);
}

static void section_free(azr_fc_section *s)
{
    for (size_t i = 0; i < s->n; i++) {
        azr_wipe(s->stmts[i].text, s->stmts[i].len);
        free(s->stmts[i].text);
    }
    free(s->stmts);
    s->stmts = NULL;
    s->n = s->cap = 0;
}

void azr_fwdconf_free(azr_fwdconf *c)
{
    section_free(&c->top);
    section_free(&c->args);
    section_free(&c->fargs);
    for (size_t i = 0; i < c->nfwd; i++)
        section_free(&c->fwd[i]);
    azr_fwdconf_init(c);
}

/* What a message calls a section. */
static void section_text(const azr_fwdconf *c, const azr_fc_section *s, char *out, size_t cap)
{
    if (s == &c->top)
        snprintf(out, cap, "the top level");
    else if (s == &c->args)
        snprintf(out, cap, "the Name=Value arguments");
    else
        snprintf(out, cap, "[forward %s]", s->name);
}

/* Where a statement was, for "... (first at ...)". */
static void where_text(const azr_fc_stmt *s, char *out, size_t cap)
{
    if (s->origin == AZR_FC_FILE)
        snprintf(out, cap, "line %lu", s->where);
    else
        snprintf(out, cap, "argument %lu", s->where);
}

/* Settings of the whole daemon, never of one forward: why, or NULL. */
static const char *daemon_wide(const char *name, size_t len)
{
    if (azr_text_ieq(name, len, "EventLoop"))
        return "EventLoop belongs to the whole daemon (one event loop serves every forward)";
    if (azr_text_ieq(name, len, "StatusSocket"))
        return "StatusSocket belongs to the whole daemon (one socket reports every forward)";
    if (azr_text_ieq(name, len, "LogFormat") || azr_text_ieq(name, len, "LogTarget"))
        return azr_text_ieq(name, len, "LogFormat")
                   ? "LogFormat belongs to the whole daemon (one log serves every forward)"
                   : "LogTarget belongs to the whole daemon (one log serves every forward)";
    if (azr_text_ieq(name, len, "MetricsAddress"))
        return "MetricsAddress belongs to the whole daemon (one endpoint serves every "
               "forward's metrics)";
    return NULL;
}

/*
 * One statement into section s (the shape checked, no repeat). text is
 * trimmed and holds '='; fwd is the target forward of a --forward argument.
 */
static azr_err stmt_add(azr_fwdconf *c, azr_fc_section *s, const char *text, size_t len,
                        azr_fc_origin origin, unsigned long where, const char *fwd)
{
    unsigned long line = origin == AZR_FC_FILE ? where : 0;
    const char *eq = memchr(text, '=', len);
    const char *name = text;
    size_t nl = (size_t)(eq - text);
    azr_text_trim(&name, &nl);
    char shown[72];
    if (nl == 0)
        return fail(c, AZR_E_ARG, line, "no setting name before '='");
    azr_text_printable(name, nl, 48, shown, sizeof shown);
    bool in_forward = origin == AZR_FC_FWDARG || (origin == AZR_FC_FILE && s != &c->top);
    const char *wide = in_forward ? daemon_wide(name, nl) : NULL;
    if (wide)
        return fail(c, AZR_E_ARG, line,
                    "%s: set it at the top level or as a Name=Value argument, not for one "
                    "forward",
                    wide);
    for (size_t i = 0; i < s->n; i++) {
        const azr_fc_stmt *o = &s->stmts[i];
        if (origin == AZR_FC_FWDARG && !same_ci(o->fwd, strlen(o->fwd), fwd, strlen(fwd)))
            continue;
        if (!same_ci(o->text, o->name_len, name, nl))
            continue;
        char first[32], sect[AZR_FC_NAME_MAX + 16];
        where_text(o, first, sizeof first);
        if (origin == AZR_FC_FWDARG)
            snprintf(sect, sizeof sect, "--forward %s", fwd);
        else
            section_text(c, s, sect, sizeof sect);
        return fail(c, AZR_E_ARG, line,
                    "%s is set again in %s (first at %s): a setting appears once per section",
                    shown, sect, first);
    }
    if (s->n == AZR_FC_STMTS_MAX) {
        char sect[AZR_FC_NAME_MAX + 16];
        section_text(c, s, sect, sizeof sect);
        return fail(c, AZR_E_LIMIT, line, "more than %d settings in %s", AZR_FC_STMTS_MAX,
                    origin == AZR_FC_FWDARG ? "--forward arguments" : sect);
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        azr_fc_stmt *m = realloc(s->stmts, cap * sizeof *m);
        if (!m)
            return fail(c, AZR_E_NOMEM, line, "out of memory");
        s->stmts = m;
        s->cap = cap;
    }
    azr_fc_stmt *st = &s->stmts[s->n];
    memset(st, 0, sizeof *st);
    st->text = malloc(len + 1);
    if (!st->text)
        return fail(c, AZR_E_NOMEM, line, "out of memory");
    memcpy(st->text, text, len);
    st->text[len] = '\0';
    st->len = len;
    st->name_len = (size_t)(name - text) + nl;
    st->origin = origin;
    st->where = where;
    if (fwd)
        snprintf(st->fwd, sizeof st->fwd, "%s", fwd);
    s->n++;
    return AZR_OK;
}

/* "[forward NAME]" (p, len: the trimmed line, starting with '['). */
static azr_err section_line(azr_fwdconf *c, const char *p, size_t len, unsigned long lineno)
{
    const char *close = memchr(p, ']', len);
    if (!close)
        return fail(c, AZR_E_ARG, lineno, "no ']' on this line: a section is [forward NAME]");
    const char *rest = close + 1;
    size_t rl = len - (size_t)(rest - p);
    azr_text_trim(&rest, &rl);
    if (rl && *rest != '#' && *rest != ';')
        return fail(c, AZR_E_ARG, lineno,
                    "text after ']': only a comment (# or ;) may follow [forward NAME]");
    const char *in = p + 1;
    size_t il = (size_t)(close - in);
    azr_text_trim(&in, &il);
    size_t kw = 0;
    while (kw < il && !is_ws(in[kw]))
        kw++;
    char shown[72];
    if (!same_ci(in, kw, "forward", 7)) {
        azr_text_printable(in, il, 48, shown, sizeof shown);
        return fail(c, AZR_E_ARG, lineno,
                    "unknown section [%s]: the only section is [forward NAME]", shown);
    }
    const char *name = in + kw;
    size_t nl = il - kw;
    azr_text_trim(&name, &nl);
    if (nl == 0)
        return fail(c, AZR_E_ARG, lineno, "[forward] needs a name: [forward NAME]");
    if (!name_ok(name, nl)) {
        azr_text_printable(name, nl, 48, shown, sizeof shown);
        return fail(c, AZR_E_ARG, lineno,
                    "'%s' is not a forward name: 1 to %d letters, digits, '.', '_' or '-'", shown,
                    AZR_FC_NAME_MAX);
    }
    for (size_t i = 0; i < c->nfwd; i++)
        if (same_ci(c->fwd[i].name, strlen(c->fwd[i].name), name, nl))
            return fail(c, AZR_E_ARG, lineno,
                        "[forward %.*s] again (first at line %lu): one section per forward",
                        (int)nl, name, c->fwd[i].line);
    if (c->nfwd == AZR_FC_FORWARDS_MAX)
        return fail(c, AZR_E_LIMIT, lineno, "more than %d forwards", AZR_FC_FORWARDS_MAX);
    azr_fc_section *s = &c->fwd[c->nfwd++];
    memcpy(s->name, name, nl);
    s->name[nl] = '\0';
    s->line = lineno;
    c->cur = c->nfwd;
    return AZR_OK;
}

azr_err azr_fwdconf_file_line(azr_fwdconf *c, const char *text, size_t len, unsigned long lineno)
{
    if (c->err != AZR_OK)
        return c->err;
    if (c->finished)
        return AZR_E_STATE;
    const char *p = text;
    azr_text_trim(&p, &len);
    if (len == 0 || *p == '#' || *p == ';')
        return AZR_OK;
    if (*p == '[')
        return section_line(c, p, len, lineno);
    if (!memchr(p, '=', len))
        return fail(c, AZR_E_ARG, lineno,
                    "no '=' in this line: a line is Name=Value, [forward NAME] or a comment "
                    "(# or ;)");
    azr_fc_section *s = c->cur ? &c->fwd[c->cur - 1] : &c->top;
    return stmt_add(c, s, p, len, AZR_FC_FILE, lineno, NULL);
}

azr_err azr_fwdconf_arg(azr_fwdconf *c, const char *text, size_t len, int argno, bool forward)
{
    if (c->err != AZR_OK)
        return c->err;
    if (c->finished)
        return AZR_E_STATE;
    const char *p = text;
    azr_text_trim(&p, &len);
    const char *eq = memchr(p, '=', len);
    char shown[72];
    azr_text_printable(p, len, 48, shown, sizeof shown);
    unsigned long where = argno > 0 ? (unsigned long)argno : 0;
    if (!forward) {
        if (!eq)
            return fail(c, AZR_E_ARG, 0, "'%s' is not Name=Value (--get NAME reads a setting)",
                        shown);
        return stmt_add(c, &c->args, p, len, AZR_FC_ARG, where, NULL);
    }
    const char *colon = memchr(p, ':', len);
    if (!colon || !eq || colon > eq)
        return fail(c, AZR_E_ARG, 0, "--forward '%s': not NAME:Name=Value", shown);
    const char *name = p;
    size_t nl = (size_t)(colon - p);
    azr_text_trim(&name, &nl);
    if (!name_ok(name, nl))
        return fail(c, AZR_E_ARG, 0,
                    "--forward '%s': the forward's name is 1 to %d letters, digits, '.', '_' "
                    "or '-'",
                    shown, AZR_FC_NAME_MAX);
    char fwd[AZR_FC_NAME_MAX + 1];
    memcpy(fwd, name, nl);
    fwd[nl] = '\0';
    const char *stmt = colon + 1;
    size_t sl = len - (size_t)(stmt - p);
    azr_text_trim(&stmt, &sl);
    return stmt_add(c, &c->fargs, stmt, sl, AZR_FC_FWDARG, where, fwd);
}

static const azr_fc_section *find(const azr_fwdconf *c, const char *name)
{
    for (size_t i = 0; i < c->nfwd; i++)
        if (same_ci(c->fwd[i].name, strlen(c->fwd[i].name), name, strlen(name)))
            return &c->fwd[i];
    return NULL;
}

azr_err azr_fwdconf_finish(azr_fwdconf *c)
{
    if (c->err != AZR_OK)
        return c->err;
    if (c->finished)
        return AZR_E_STATE;
    c->finished = true;
    if (c->nfwd == 0) {
        snprintf(c->fwd[0].name, sizeof c->fwd[0].name, "default");
        c->fwd[0].line = 0;
        c->nfwd = 1;
    }
    for (size_t i = 0; i < c->fargs.n; i++) {
        const azr_fc_stmt *s = &c->fargs.stmts[i];
        if (find(c, s->fwd))
            continue;
        char names[AZR_FC_WHY_MAX / 2];
        size_t o = 0;
        for (size_t k = 0; k < c->nfwd && o < sizeof names; k++) {
            int n = snprintf(names + o, sizeof names - o, "%s%s", k ? ", " : "", c->fwd[k].name);
            o = n < 0 ? sizeof names : o + (size_t)n;
        }
        return fail(c, AZR_E_ARG, 0, "--forward %s: no forward is named '%s' (%s: %s)", s->fwd,
                    s->fwd, c->nfwd == 1 ? "the only forward" : "the forwards", names);
    }
    return AZR_OK;
}

size_t azr_fwdconf_count(const azr_fwdconf *c)
{
    return c->finished && c->err == AZR_OK ? c->nfwd : 0;
}

const azr_fc_section *azr_fwdconf_forward(const azr_fwdconf *c, size_t i)
{
    return i < azr_fwdconf_count(c) ? &c->fwd[i] : NULL;
}

static azr_err each_in(const azr_fc_section *s, const char *only, azr_fc_each_fn fn, void *ud)
{
    for (size_t i = 0; i < s->n; i++) {
        if (only && !same_ci(s->stmts[i].fwd, strlen(s->stmts[i].fwd), only, strlen(only)))
            continue;
        azr_err e = fn(ud, &s->stmts[i]);
        if (e != AZR_OK)
            return e;
    }
    return AZR_OK;
}

azr_err azr_fwdconf_each(const azr_fwdconf *c, size_t i, azr_fc_each_fn fn, void *ud)
{
    const azr_fc_section *f = azr_fwdconf_forward(c, i);
    if (!f)
        return AZR_E_STATE;
    azr_err e = each_in(&c->top, NULL, fn, ud);
    if (e == AZR_OK)
        e = each_in(&c->args, NULL, fn, ud);
    if (e == AZR_OK)
        e = each_in(f, NULL, fn, ud);
    if (e == AZR_OK)
        e = each_in(&c->fargs, f->name, fn, ud);
    return e;
}
