/*
 * Target: azr_fwdconf_file_line, azr_fwdconf_arg, azr_fwdconf_finish,
 * azr_fwdconf_each (src/daemon/fwdconf.c, the daemon's config grammar).
 * The input is cut at LF into lines; a line starting with "@" is fed as a
 * Name=Value argument, "@@" as a --forward argument, the rest as file lines.
 * Invariants: an error's sentence is NUL-terminated and names a line no
 * later than the last one fed (0 for the command line); an error sticks;
 * after a successful finish there is at least one forward, each with a
 * valid name, and every statement walked holds '=' after a non-empty name,
 * which appears at most once per section; free leaves nothing behind
 * (LeakSanitizer).
 */
#include "daemon/fwdconf.h"
#include "text.h"
#include <stdlib.h>

typedef struct seen {
    unsigned long section_line; /* the forward's [forward NAME] line: its statements follow it */
    const azr_fc_stmt *s[4 * AZR_FC_STMTS_MAX + 8];
    size_t n;
} seen;

/* Which section a walked statement belongs to: the top level, the
 * arguments, the forward's section, its --forward arguments. */
static int section_of(const seen *v, const azr_fc_stmt *s)
{
    if (s->origin == AZR_FC_FILE)
        return v->section_line && s->where > v->section_line ? 2 : 0;
    return s->origin == AZR_FC_ARG ? 1 : 3;
}

static azr_err check(void *ud, const azr_fc_stmt *s)
{
    seen *v = ud;
    if (s->name_len == 0 || s->name_len >= s->len || s->text[s->len] != '\0' ||
        !memchr(s->text, '=', s->len))
        abort();
    for (size_t i = 0; i < v->n; i++) {
        const azr_fc_stmt *o = v->s[i];
        if (section_of(v, o) != section_of(v, s) || o->name_len != s->name_len)
            continue;
        size_t k = 0;
        while (k < s->name_len && azr_text_lower(o->text[k]) == azr_text_lower(s->text[k]))
            k++;
        if (k == s->name_len) /* a name twice in one section */
            abort();
    }
    if (v->n < sizeof v->s / sizeof v->s[0])
        v->s[v->n++] = s;
    return AZR_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static azr_fwdconf c;
    static char line[1024];
    azr_fwdconf_init(&c);
    unsigned long lineno = 0;
    azr_err e = AZR_OK;
    for (size_t off = 0; off < size && e == AZR_OK;) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t len = nl ? (size_t)(nl - (data + off)) : size - off;
        size_t n = len < sizeof line - 1 ? len : sizeof line - 1;
        memcpy(line, data + off, n);
        line[n] = '\0';
        off += len + (nl ? 1 : 0);
        if (n >= 2 && line[0] == '@' && line[1] == '@')
            e = azr_fwdconf_arg(&c, line + 2, n - 2, 1, true);
        else if (n >= 1 && line[0] == '@')
            e = azr_fwdconf_arg(&c, line + 1, n - 1, 1, false);
        else
            e = azr_fwdconf_file_line(&c, line, n, ++lineno);
    }
    if (e == AZR_OK)
        e = azr_fwdconf_finish(&c);
    if (e != AZR_OK) {
        if (!memchr(c.why, '\0', sizeof c.why) || c.err_line > lineno || c.err != e)
            abort();
        if (azr_fwdconf_file_line(&c, "A=1", 3, lineno + 1) != e || azr_fwdconf_count(&c) != 0)
            abort();
    } else {
        size_t nf = azr_fwdconf_count(&c);
        if (nf == 0 || nf > AZR_FC_FORWARDS_MAX)
            abort();
        for (size_t i = 0; i < nf; i++) {
            const azr_fc_section *f = azr_fwdconf_forward(&c, i);
            size_t nl = strlen(f->name);
            if (nl == 0 || nl > AZR_FC_NAME_MAX)
                abort();
            static seen v;
            v.n = 0;
            v.section_line = f->line;
            if (azr_fwdconf_each(&c, i, check, &v) != AZR_OK)
                abort();
        }
    }
    azr_fwdconf_free(&c);
    return 0;
}
