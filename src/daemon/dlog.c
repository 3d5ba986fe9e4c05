/*
 * IMPLEMENTATION NOTES
 * Every log line of the daemon passes line(): its body is text
 * ("LEVEL [FORWARD] [ID] MESSAGE") or, with LogFormat=JSON, one object
 * {"time","level","forward","conn","msg"} with RFC 8259 escaping. Then it
 * goes to stderr (with the journal's <N> prefix under systemd, and a UTC
 * timestamp otherwise) or, with LogTarget=syslog[:PATH], as one RFC 5424
 * datagram (facility daemon, the level's severity) to /dev/log or PATH; a
 * datagram the socket refuses (full, gone) is dropped, never waited for, and
 * counted in the next one that gets through.
 */
#include "platform.h"

#include "dlog.h"
#include "hooks.h"

#include <errno.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct {
    bool json;
    int sys_fd; /* LogTarget=syslog: a connected datagram socket; -1: stderr */
    char host[64];
    unsigned long dropped;
} out = {false, -1, "-", 0};

azr_err azr_dlog_setup(long format, const char *target, char *err, size_t cap)
{
    const char *path = NULL;
    if (strcmp(target, "stderr") == 0 || target[0] == '\0')
        path = NULL;
    else if (strcmp(target, "syslog") == 0)
        path = "/dev/log";
    else if (strncmp(target, "syslog:", 7) == 0 && target[7])
        path = target + 7;
    else {
        snprintf(err, cap, "LogTarget=%.200s: not stderr, syslog or syslog:PATH", target);
        return AZR_E_ARG;
    }
    int fd = -1;
    if (path) {
        struct sockaddr_un a;
        memset(&a, 0, sizeof a);
        a.sun_family = AF_UNIX;
        if (strlen(path) >= sizeof a.sun_path) {
            snprintf(err, cap, "LogTarget: socket path too long: %.200s", path);
            return AZR_E_ARG;
        }
        memcpy(a.sun_path, path, strlen(path));
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
            snprintf(err, cap, "LogTarget: cannot reach the syslog socket %.200s: %s", path,
                     strerror(errno));
            if (fd >= 0)
                close(fd);
            return AZR_E_IO;
        }
    }
    if (out.sys_fd >= 0)
        close(out.sys_fd);
    out.sys_fd = fd;
    out.json = format == 1;
    if (gethostname(out.host, sizeof out.host) != 0 || !out.host[0])
        snprintf(out.host, sizeof out.host, "-");
    out.host[sizeof out.host - 1] = '\0';
    return AZR_OK;
}

/* s into o as a JSON string's characters (RFC 8259 §7). */
static size_t json_str(char *o, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s && n + 7 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            o[n++] = '\\';
            o[n++] = (char)ch;
        } else if (ch < 0x20) {
            n += (size_t)snprintf(o + n, cap - n, "\\u%04x", ch);
        } else {
            o[n++] = (char)ch;
        }
    }
    o[n] = '\0';
    return n;
}

static int severity(const char *type, const char *msg)
{
    if (strcmp(type, "Error") == 0)
        return 3;
    if (strncmp(msg, "warning:", 8) == 0 || strstr(msg, ": warning:"))
        return 4;
    if (strcmp(type, "Info") == 0)
        return 6;
    return 7;
}

static void line(const char *forward, int conn_id, const char *type, const char *msg)
{
    char ts[96] = "", secs[80], body[2048], rec[2300];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    /* not strftime: with it a static build carries the time zone code */
    snprintf(secs, sizeof secs, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    /* JSON and syslog: milliseconds; the text line keeps its whole seconds */
    snprintf(ts, sizeof ts, "%s.%03dZ", secs, (int)(now.tv_nsec / 1000000) % 1000);
    if (out.json) {
        char f[160], m[1600];
        json_str(f, sizeof f, forward ? forward : "");
        json_str(m, sizeof m, msg);
        snprintf(body, sizeof body,
                 "{\"time\":\"%s\",\"level\":\"%s\",\"forward\":%s%s%s,\"conn\":%d,\"msg\":\"%s\"}",
                 ts, type, forward ? "\"" : "", forward ? f : "null", forward ? "\"" : "", conn_id,
                 m);
    } else {
        char fw[64] = "", id[24] = "";
        if (forward)
            snprintf(fw, sizeof fw, "[%s] ", forward);
        if (conn_id > 0)
            snprintf(id, sizeof id, "[%d] ", conn_id);
        snprintf(body, sizeof body, "%-7s %s%s%s", type, fw, id, msg);
    }
    int n;
    if (out.sys_fd >= 0) {
        /* RFC 5424 §6: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG */
        n = snprintf(rec, sizeof rec, "<%d>1 %s %s azrelay-proxy %ld - - %s",
                     3 * 8 + severity(type, msg), ts, out.host, (long)getpid(), body);
        size_t len = n < 0 ? 0 : (size_t)n < sizeof rec ? (size_t)n : sizeof rec - 1;
        if (send(out.sys_fd, rec, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
            out.dropped++;
        else if (out.dropped) {
            unsigned long d = out.dropped;
            out.dropped = 0;
            azr_dlog(NULL, 0, "Error", "syslog: %lu log line%s dropped (the socket refused them)",
                     d, d == 1 ? "" : "s");
        }
        return;
    }
    /* one write per line: lines of two processes sharing the file do not mix */
    bool stamp = azr_hook_log_timestamps() && !out.json; /* JSON carries its time */
    n = snprintf(rec, sizeof rec, "%s%s%s%s\n", azr_hook_log_prefix(type, msg), stamp ? secs : "",
                 stamp ? "Z " : "", body);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof rec ? (size_t)n : sizeof rec - 1;
    if ((size_t)n >= sizeof rec)
        rec[len - 1] = '\n';
    fwrite(rec, 1, len, stderr);
}

void azr_dlog(const char *forward, int conn_id, const char *type, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (k < 0)
        msg[0] = '\0';
    line(forward, conn_id, type, msg);
}

void azr_dlog_event(void *ud, int conn_id, int level, const char *message, const char *type)
{
    (void)level;
    line(ud, conn_id, type, message);
}
