/*
 * IMPLEMENTATION NOTES
 * One byte at a time into buf until an LF: the line is then handed out in
 * place (NUL-terminated, its CR dropped) and stays there until the next
 * call, which wipes it and starts the next line. buf has room for the
 * longest line plus a CR, so a line of exactly AZR_CONF_LINE_MAX bytes
 * ending in CRLF fits, and a byte beyond that can only belong to a line that
 * is too long: the error comes as soon as that byte arrives, never after
 * reading on (the rest of such a line must not become a setting, as fgets
 * made it). The file bound counts every byte taken, LFs included.
 */
#include "conffile.h"
#include "text.h"

#include <stdarg.h>

static const uint8_t bom[3] = {0xEF, 0xBB, 0xBF}; /* UTF-8 byte order mark */

void azr_conffile_init(azr_conffile *f)
{
    memset(f, 0, sizeof *f);
    f->lineno = 1;
}

static azr_err fail(azr_conffile *f, azr_err e, const char *fmt, ...) AZR_PRINTF(3, 4);
static azr_err fail(azr_conffile *f, azr_err e, const char *fmt, ...)
{
    f->err = e;
    f->err_line = f->lineno;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(f->why, sizeof f->why, fmt, ap);
    va_end(ap);
    if (k < 0)
        f->why[0] = '\0';
    azr_wipe(f->buf, sizeof f->buf);
    f->len = 0;
    return e;
}

static azr_err line_done(azr_conffile *f, azr_conffile_line *ev)
{
    if (f->len && f->buf[f->len - 1] == '\r')
        f->len--;
    if (f->len > AZR_CONF_LINE_MAX)
        return fail(f, AZR_E_LIMIT, "line longer than %zu bytes", (size_t)AZR_CONF_LINE_MAX);
    f->buf[f->len] = '\0';
    f->reported = true;
    ev->text = f->buf;
    ev->len = f->len;
    ev->lineno = f->lineno;
    return AZR_OK;
}

/* The line handed out last is done with: clear it and count the next one. */
static void next_line(azr_conffile *f)
{
    if (!f->reported)
        return;
    azr_wipe(f->buf, f->len + 1);
    f->len = 0;
    f->reported = false;
    f->lineno++;
}

azr_err azr_conffile_feed(azr_conffile *f, const uint8_t *in, size_t len, size_t *consumed,
                          azr_conffile_line *ev)
{
    *consumed = 0;
    if (f->err != AZR_OK)
        return f->err;
    if (f->ended)
        return AZR_E_STATE;
    next_line(f);
    for (size_t i = 0; i < len; i++) {
        if (f->total == AZR_CONF_FILE_MAX) {
            *consumed = i;
            return fail(f, AZR_E_LIMIT, "the file is larger than %zu bytes (1 MiB)",
                        (size_t)AZR_CONF_FILE_MAX);
        }
        uint8_t c = in[i];
        if (c == '\0') {
            *consumed = i;
            return fail(f, AZR_E_PROTO, "NUL byte at column %zu (not a text file?)", f->len + 1);
        }
        if (c != '\n' && f->len == AZR_CONF_LINE_MAX + 1) {
            *consumed = i;
            return fail(f, AZR_E_LIMIT, "line longer than %zu bytes", (size_t)AZR_CONF_LINE_MAX);
        }
        f->total++;
        if (c == '\n') {
            *consumed = i + 1;
            return line_done(f, ev);
        }
        f->buf[f->len++] = (char)c;
        if (f->total == sizeof bom && f->len == sizeof bom && !memcmp(f->buf, bom, sizeof bom))
            f->len = 0;
    }
    *consumed = len;
    return AZR_AGAIN;
}

azr_err azr_conffile_end(azr_conffile *f, azr_conffile_line *ev)
{
    if (f->err != AZR_OK)
        return f->err;
    if (f->ended)
        return AZR_E_CLOSED;
    f->ended = true;
    if (f->reported) {
        next_line(f);
        return AZR_E_CLOSED;
    }
    if (f->len == 0)
        return AZR_E_CLOSED;
    return line_done(f, ev);
}

void azr_conffile_wipe(azr_conffile *f)
{
    azr_wipe(f->buf, sizeof f->buf);
    f->len = 0;
    f->reported = false;
}
