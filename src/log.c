/*
 * LogLevel and the Log event: every module logs through here, never through
 * the public façade. Peer-supplied text is escaped by the caller before it
 * gets here (text.h).
 */
#include "proxy.h"

#include <stdarg.h>

bool azr_proxy_log_on(const azr_proxy_state *p, int level)
{
    int lv = level < 0 ? 1 : level;
    return p->ev.log && lv <= p->set.log_level;
}

void azr_proxy_log(azr_proxy_state *p, int conn_id, int level, const char *fmt, ...)
{
    static const char *const types[] = {"Info", "Info", "Verbose", "Debug"};
    if (!azr_proxy_log_on(p, level))
        return;
    int lv = level < 0 ? 1 : level;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->ev.log(p->ud, conn_id, lv, msg, level < 0 ? "Error" : types[lv & 3]);
}
