/*
 * azrelay-mangen: the man pages from their templates and the vocabulary
 * table, so a setting's name, type, range, default and help text are written
 * once (src/conftable.c) and the pages cannot drift from it.
 *
 *   azrelay-mangen TEMPLATE > PAGE
 *
 * A template (tools/man/NAME.in) is a man(7) page whose text is copied as is,
 * except for these placeholders:
 *
 *   @VERSION@          AZRELAY_VERSION (anywhere in a line)
 *   @DEFAULT:Name@     the default of setting Name, as text (anywhere in a line)
 *   @SETTINGS@         every setting, grouped, with type, range or values,
 *                      default, flags and help text (a line of its own)
 *   @SETTINGS_BRIEF@   the settings' names, grouped (a line of its own)
 *   @UNSUPPORTED@      the class's names azrelay refuses, with hints (a line of its own)
 *
 * An unknown placeholder or setting name is an error (exit 1), as is a
 * group below whose first setting is no longer in the table. The output
 * depends on nothing but the template and the table: no date, no path, no
 * locale, so tests/test_config.c compares it byte for byte with dist/man/.
 * ./build.sh man writes dist/man/ with it.
 *
 * A host program: it links src/conftable.c (data only) and nothing else.
 */
#include "platform.h"

#include <ctype.h>
#include <errno.h>

#include "azrelay.h"
#include "config.h"

#define PROG         "azrelay-mangen"
#define TEMPLATE_MAX (256 * 1024)

/*
 * The table's groups, each named by its first setting, in table order. A
 * setting added to the table joins the group it is placed in; renaming or
 * moving a first setting stops the generator until this list follows.
 */
static const struct {
    const char *first;
    const char *title;
} groups[] = {
    {"NamespaceAddress", "Relay and credentials"},
    {"LocalHost", "Local listener and connection timeouts"},
    {"LogLevel", "Logging"},
    {"ConnectionTimeout", "Relay connection and outbound proxy"},
    {"TCPKeepAlive", "Sockets"},
    {"UserAgent", "WebSocket upgrade request"},
    {"MaxFrameSize", "WebSocket"},
    {"SSLCACertFilePaths", "TLS"},
    {"EventLoop", "Event loop and data path"},
};
#define NGROUPS (sizeof groups / sizeof groups[0])

static size_t group_start[NGROUPS];

static int fail(const char *what, const char *detail)
{
    fprintf(stderr, PROG ": %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return 1;
}

static const azr_conf_def *find(const char *name, size_t len)
{
    for (size_t i = 0; i < azr_config_count; i++)
        if (strlen(azr_config_table[i].name) == len && !memcmp(azr_config_table[i].name, name, len))
            return &azr_config_table[i];
    return NULL;
}

/* Each group's first table index, checked to rise; false names the culprit. */
static bool find_groups(void)
{
    for (size_t g = 0; g < NGROUPS; g++) {
        const azr_conf_def *d = find(groups[g].first, strlen(groups[g].first));
        if (!d) {
            fail("the first setting of a group is not in the table (tools/mangen.c's groups)",
                 groups[g].first);
            return false;
        }
        group_start[g] = (size_t)(d - azr_config_table);
        if (g == 0 ? group_start[g] != 0 : group_start[g] <= group_start[g - 1]) {
            fail("a group does not start where the table's order says (tools/mangen.c's groups)",
                 groups[g].first);
            return false;
        }
    }
    return true;
}

/*
 * Output. A text line is built in tl (roff, escapes included) and written by
 * flush(), which wraps it at spaces into lines of at most WRAP bytes where it
 * can (mandoc -Tlint's style) and neutralises a control character ('.' or
 * '\'') at the start of each output line with \&.
 */
#define WRAP   80
#define TL_MAX 32768

static char tl[TL_MAX];
static size_t tl_len;
static bool tl_full; /* a text line did not fit: main() fails */

static void rawn(const char *s, size_t n)
{
    if (n > TL_MAX - tl_len) {
        tl_full = true;
        return;
    }
    memcpy(tl + tl_len, s, n);
    tl_len += n;
}

static void raw(const char *s)
{
    rawn(s, strlen(s));
}

/* Plain text into roff: backslashes and hyphens escaped (a '-' in a command
 * stays an ASCII hyphen-minus), non-ASCII UTF-8 as \[uXXXX]. */
static void text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\') {
            raw("\\e");
        } else if (c == '-') {
            raw("\\-");
        } else if (c >= 0xc0 && c < 0xf8) {
            int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
            unsigned long cp = c & (0x3fu >> more);
            for (int k = 0; k < more && i + 1 < n; k++)
                cp = (cp << 6) | ((unsigned char)s[++i] & 0x3fu);
            char u[16];
            snprintf(u, sizeof u, "\\[u%04lX]", cp);
            raw(u);
        } else if (c >= 0x20 && c < 0x7f) {
            rawn((const char *)&c, 1);
        } else {
            raw(" "); /* a control byte, or a stray continuation byte */
        }
    }
}

static void texts(const char *s)
{
    text(s, strlen(s));
}

static void flush(FILE *f, bool wrap)
{
    size_t i = 0;
    while (i < tl_len) {
        while (i < tl_len && tl[i] == ' ') /* a leading space would break the line */
            i++;
        if (i == tl_len)
            break;
        size_t end = tl_len;
        if (wrap && tl_len - i > WRAP) {
            size_t cut = 0;
            for (size_t k = i + 1; k < tl_len && (k - i <= WRAP - 2 || !cut); k++)
                if (tl[k] == ' ')
                    cut = k;
            if (cut)
                end = cut;
        }
        size_t last = end;
        while (last > i && tl[last - 1] == ' ')
            last--;
        if (tl[i] == '.' || tl[i] == '\'')
            fputs("\\&", f);
        fwrite(tl + i, 1, last - i, f);
        fputc('\n', f);
        i = end;
    }
    tl_len = 0;
}

static void line(FILE *f, const char *s)
{
    fprintf(f, "%s\n", s);
}

/* Where a sentence ends inside a help text: ". " before a capital or a digit,
 * not after an abbreviation. */
static bool sentence_end(const char *s, size_t i)
{
    if (s[i] != '.' && s[i] != '?' && s[i] != '!')
        return false;
    if (s[i + 1] != ' ' || !(isupper((unsigned char)s[i + 2]) || isdigit((unsigned char)s[i + 2])))
        return false;
    static const char *const abbrev[] = {"e.g", "i.e", "etc", "vs"};
    for (size_t k = 0; k < sizeof abbrev / sizeof abbrev[0]; k++) {
        size_t l = strlen(abbrev[k]);
        if (i >= l && !memcmp(s + i - l, abbrev[k], l) &&
            (i == l || s[i - l - 1] == ' ' || s[i - l - 1] == '('))
            return false;
    }
    return true;
}

/* A help text, one sentence a line (man(7): a new sentence starts a new line). */
static void put_help(FILE *f, const char *s)
{
    size_t start = 0, n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        if (sentence_end(s, i)) {
            text(s + start, i + 1 - start);
            flush(f, true);
            start = i + 2;
            i++;
        }
    }
    if (start < n) {
        text(s + start, n - start);
        flush(f, true);
    }
}

static const char *type_word(const azr_conf_def *d)
{
    switch (d->type) {
    case AZR_CT_BOOL:
        return "boolean";
    case AZR_CT_INT:
        return "integer";
    case AZR_CT_ENUM:
        return "enumeration";
    case AZR_CT_FLAGS:
        return "bits";
    default:
        return "text";
    }
}

/* An enumeration's "0=None,1=Info" list, one item at a time: number and name. */
static bool enum_next(const char **p, const char **num, size_t *num_len, const char **name,
                      size_t *name_len)
{
    if (!**p)
        return false;
    const char *end = strchr(*p, ','), *eq;
    if (!end)
        end = *p + strlen(*p);
    eq = memchr(*p, '=', (size_t)(end - *p));
    *num = *p;
    *num_len = (size_t)((eq ? eq : end) - *p);
    *name = eq ? eq + 1 : end;
    *name_len = eq ? (size_t)(end - eq - 1) : 0;
    *p = *end ? end + 1 : end;
    return true;
}

/* The facts line of a writable setting: type, range or values, default. */
static void put_facts(FILE *f, const azr_conf_def *d)
{
    const char *p, *num, *name;
    size_t nl, ml;
    switch (d->type) {
    case AZR_CT_BOOL:
        raw("True or False (also Yes or No, 1 or 0)");
        break;
    case AZR_CT_INT: {
        char r[64];
        snprintf(r, sizeof r, "From %ld to %ld", d->min, d->max);
        raw(r);
        break;
    }
    case AZR_CT_ENUM:
        raw("A number or its name:");
        for (p = d->enums ? d->enums : ""; enum_next(&p, &num, &nl, &name, &ml);) {
            raw(num == d->enums ? " \\fB" : ", \\fB");
            text(num, nl);
            raw("\\fR\\~\\fB");
            text(name, ml);
            raw("\\fR");
        }
        break;
    case AZR_CT_FLAGS:
        raw("Bits, in hex (0x) or decimal");
        break;
    default: {
        char r[64];
        snprintf(r, sizeof r, "At most %ld bytes", d->max);
        raw(r);
        if (d->flags & AZR_CF_MULTILINE)
            raw(", several lines (\\en between them)");
        break;
    }
    }
    size_t dl = strlen(d->dflt);
    if (!dl) {
        raw("; default empty.");
        flush(f, true);
    } else if (strchr(d->dflt, ';') && dl > 40) {
        /* a long list: one item a line, unfilled (a path cannot be adjusted or hyphenated) */
        raw("; default (one line, shown here broken after each semicolon):");
        flush(f, true);
        line(f, ".nf");
        for (const char *q = d->dflt; *q;) {
            const char *semi = strchr(q, ';');
            size_t n = semi ? (size_t)(semi - q) + 1 : strlen(q);
            raw("\\fB");
            text(q, n);
            raw("\\fR");
            flush(f, false);
            q += n;
        }
        line(f, ".fi");
    } else {
        raw("; default \\fB");
        text(d->dflt, dl);
        raw("\\fR");
        for (p = d->type == AZR_CT_ENUM && d->enums ? d->enums : "";
             enum_next(&p, &num, &nl, &name, &ml);)
            if (nl == dl && !memcmp(num, d->dflt, dl) && ml) {
                raw(" (");
                text(name, ml);
                raw(")");
            }
        raw(".");
        flush(f, true);
    }
}

/* One setting: a tag line, a line of facts, the help text. */
static void put_setting(FILE *f, const azr_conf_def *d)
{
    bool ro = (d->flags & AZR_CF_READONLY) != 0;
    line(f, ".TP");
    raw("\\fB");
    texts(d->name);
    raw("\\fR");
    if (!ro) {
        raw("=\\fI");
        raw(type_word(d));
        raw("\\fR");
    }
    const char *marks[4];
    size_t nm = 0;
    if (ro)
        marks[nm++] = "read only";
    if (d->flags & AZR_CF_WRITEONLY)
        marks[nm++] = "write only";
    if (d->flags & AZR_CF_SECRET)
        marks[nm++] = "secret";
    if (d->flags & AZR_CF_OURS)
        marks[nm++] = "azrelay's own";
    for (size_t i = 0; i < nm; i++) {
        raw(i ? ", " : " (");
        raw(marks[i]);
    }
    if (nm)
        raw(")");
    flush(f, false); /* the tag is one line */
    if (!ro) {
        put_facts(f, d);
        line(f, ".br");
    }
    put_help(f, d->help);
}

static void put_settings(FILE *f)
{
    for (size_t g = 0; g < NGROUPS; g++) {
        size_t end = g + 1 < NGROUPS ? group_start[g + 1] : azr_config_count;
        fprintf(f, ".SS %s\n", groups[g].title);
        for (size_t i = group_start[g]; i < end; i++)
            put_setting(f, &azr_config_table[i]);
    }
}

static void put_settings_brief(FILE *f)
{
    for (size_t g = 0; g < NGROUPS; g++) {
        size_t end = g + 1 < NGROUPS ? group_start[g + 1] : azr_config_count;
        line(f, ".TP");
        fprintf(f, "%s\n", groups[g].title);
        for (size_t i = group_start[g]; i < end; i++) {
            raw("\\fB");
            texts(azr_config_table[i].name);
            raw(i + 1 < end ? "\\fR, " : "\\fR");
        }
        flush(f, true);
    }
}

static void put_unsupported(FILE *f)
{
    for (size_t i = 0; i < azr_config_unsupported_count; i++) {
        const azr_conf_unsupported *u = &azr_config_unsupported[i];
        line(f, ".TP");
        raw("\\fB");
        texts(u->name);
        raw("\\fR");
        flush(f, false);
        if (!u->hint) {
            raw("Not implemented.");
        } else if (!strncmp(u->hint, "azrelay", 7)) {
            texts(u->hint); /* our name keeps its lower case */
            raw(".");
        } else {
            /* a hint is a phrase: it becomes a sentence */
            char first = (char)toupper((unsigned char)u->hint[0]);
            text(&first, 1);
            texts(u->hint + 1);
            raw(".");
        }
        flush(f, true);
    }
}

/* One template line, placeholders replaced; false after an error message. */
static bool put_line(FILE *f, const char *ln, size_t len, const char *tname, unsigned long lineno)
{
    static const struct {
        const char *tag;
        void (*fn)(FILE *);
    } blocks[] = {
        {"@SETTINGS@", put_settings},
        {"@SETTINGS_BRIEF@", put_settings_brief},
        {"@UNSUPPORTED@", put_unsupported},
    };
    for (size_t k = 0; k < sizeof blocks / sizeof blocks[0]; k++)
        if (len == strlen(blocks[k].tag) && !memcmp(ln, blocks[k].tag, len)) {
            blocks[k].fn(f);
            return true;
        }
    const char *p = ln, *end = ln + len;
    while (p < end) {
        const char *at = memchr(p, '@', (size_t)(end - p));
        if (!at) {
            fwrite(p, 1, (size_t)(end - p), f);
            break;
        }
        fwrite(p, 1, (size_t)(at - p), f);
        const char *close = memchr(at + 1, '@', (size_t)(end - at - 1));
        size_t tagl = close ? (size_t)(close - at - 1) : 0;
        if (close && tagl == 7 && !memcmp(at + 1, "VERSION", 7)) {
            fputs(AZRELAY_VERSION, f);
        } else if (close && tagl > 8 && !memcmp(at + 1, "DEFAULT:", 8)) {
            const azr_conf_def *d = find(at + 9, tagl - 8);
            if (!d) {
                fprintf(stderr, PROG ": %s:%lu: @DEFAULT:%.*s@: no such setting in the table\n",
                        tname, lineno, (int)(tagl - 8), at + 9);
                return false;
            }
            texts(d->dflt);
            fwrite(tl, 1, tl_len, f);
            tl_len = 0;
        } else {
            fprintf(stderr,
                    PROG ": %s:%lu: unknown placeholder at '%.20s' (a lone @ is written \\(at)\n",
                    tname, lineno, at);
            return false;
        }
        p = close + 1;
    }
    fputc('\n', f);
    return true;
}

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: " PROG " TEMPLATE > PAGE\n");
        return 2;
    }
    if (!find_groups())
        return 1;
    FILE *in = fopen(argv[1], "rb");
    if (!in)
        return fail(argv[1], strerror(errno));
    static char buf[TEMPLATE_MAX + 1];
    size_t n = fread(buf, 1, sizeof buf, in);
    bool rerr = ferror(in) != 0;
    fclose(in);
    if (rerr)
        return fail(argv[1], "read error");
    if (n > TEMPLATE_MAX)
        return fail(argv[1], "larger than 256 KiB");
    if (memchr(buf, '\0', n))
        return fail(argv[1], "holds a NUL byte");
    const char *tname = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];
    size_t tlen = strlen(tname);
    if (tlen > 3 && !strcmp(tname + tlen - 3, ".in"))
        tlen -= 3;

    FILE *f = stdout;
    fprintf(f,
            ".\\\" Generated by tools/mangen.c from tools/man/%.*s.in and the settings table\n"
            ".\\\" (src/conftable.c). Edit those, then run ./build.sh man.\n",
            (int)tlen, tname);
    unsigned long lineno = 0;
    size_t off = 0;
    while (off < n) {
        const char *nl = memchr(buf + off, '\n', n - off);
        size_t len = nl ? (size_t)(nl - (buf + off)) : n - off;
        lineno++;
        if (!put_line(f, buf + off, len, tname, lineno))
            return 1;
        off += len + (nl ? 1 : 0);
    }
    if (tl_full)
        return fail("a line of the page is longer than the generator's buffer", NULL);
    if (fflush(f) != 0 || ferror(f))
        return fail("stdout", strerror(errno));
    return 0;
}
