#include "platform.h"

#include "dlog.h"
#include "hooks.h"

#include <stdarg.h>
#include <time.h>

static void line(const char *forward, int conn_id, const char *type, const char *msg)
{
    char ts[32] = "", fw[64] = "", id[24] = "";
    if (azr_hook_log_timestamps()) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    }
    if (forward)
        snprintf(fw, sizeof fw, "[%s] ", forward);
    if (conn_id > 0)
        snprintf(id, sizeof id, "[%d] ", conn_id);
    /* one write per line: lines of two processes sharing the file do not mix */
    char out[1024];
    int n = snprintf(out, sizeof out, "%s%s%-7s %s%s%s\n", azr_hook_log_prefix(type, msg), ts, type,
                     fw, id, msg);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof out ? (size_t)n : sizeof out - 1;
    if ((size_t)n >= sizeof out)
        out[len - 1] = '\n';
    fwrite(out, 1, len, stderr);
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
