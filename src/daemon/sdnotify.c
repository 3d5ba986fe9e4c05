/*
 * sd_notify(3) without libsystemd. The protocol (sd_notify(3), "Notes"): one
 * AF_UNIX SOCK_DGRAM message of newline-separated KEY=VALUE assignments to the
 * socket $NOTIFY_SOCKET names; a name starting with '@' is in the abstract
 * namespace (the '@' becomes a NUL byte and the address is not
 * NUL-terminated). PID 1 learns the sender from the socket's credentials,
 * so the main process (NotifyAccess=main) must send them itself.
 */
#include "sdnotify.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct {
    int fd;
    struct sockaddr_un addr;
    socklen_t addr_len;
    bool journal;
} sd = {-1, {0}, 0, false};

void azr_sd_close(void)
{
    if (sd.fd >= 0)
        close(sd.fd);
    sd.fd = -1;
    sd.addr_len = 0;
}

bool azr_sd_enabled(void)
{
    return sd.fd >= 0;
}

azr_err azr_sd_init(char *err, size_t errcap)
{
    if (errcap)
        err[0] = '\0';
    azr_sd_close();
    sd.journal = azr_sd_journal_fd(STDERR_FILENO);
    const char *name = getenv("NOTIFY_SOCKET");
    if (!name || !name[0])
        return AZR_OK;
    size_t len = strlen(name);
    if (name[0] != '/' && name[0] != '@') {
        snprintf(err, errcap,
                 "NOTIFY_SOCKET '%.100s' is neither an absolute path nor an abstract socket "
                 "(@name); systemd notification is off",
                 name);
        return AZR_E_ARG;
    }
    memset(&sd.addr, 0, sizeof sd.addr);
    sd.addr.sun_family = AF_UNIX;
    /* a path needs its NUL inside sun_path; an abstract name does not */
    if (len > sizeof sd.addr.sun_path - (name[0] == '/' ? 1u : 0u) || len < 2) {
        snprintf(err, errcap,
                 "NOTIFY_SOCKET is %zu bytes, not 2 to %zu; systemd notification is off", len,
                 sizeof sd.addr.sun_path - 1);
        return AZR_E_LIMIT;
    }
    memcpy(sd.addr.sun_path, name, len);
    if (name[0] == '@')
        sd.addr.sun_path[0] = '\0';
    sd.addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    sd.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sd.fd < 0) {
        snprintf(err, errcap, "NOTIFY_SOCKET: socket: %s; systemd notification is off",
                 strerror(errno));
        sd.addr_len = 0;
        return AZR_E_IO;
    }
    return AZR_OK;
}

azr_err azr_sd_notify(const char *msg)
{
    if (sd.fd < 0)
        return AZR_OK;
    size_t len = strlen(msg);
    if (len == 0 || len > AZR_SD_MSG_MAX)
        return AZR_E_ARG;
    ssize_t n;
    do
        n = sendto(sd.fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)&sd.addr,
                   sd.addr_len);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)len ? AZR_OK : AZR_E_IO;
}

/* "STATUS=" and status as one line: control bytes become spaces, cut whole. */
static size_t status_line(char *out, size_t cap, const char *status)
{
    size_t o = (size_t)snprintf(out, cap, "STATUS=");
    for (const char *p = status; *p && o + 1 < cap && p - status < AZR_SD_STATUS_MAX; p++) {
        unsigned char c = (unsigned char)*p;
        out[o++] = (char)(c < 0x20 || c == 0x7f ? ' ' : c);
    }
    out[o] = '\0';
    return o;
}

/* head ("READY=1", ...) and, when status is given, a STATUS= line. */
static azr_err send_with_status(const char *head, const char *status)
{
    char msg[AZR_SD_MSG_MAX + 1];
    int n = snprintf(msg, sizeof msg, "%s", head);
    if (n < 0 || (size_t)n >= sizeof msg - 16)
        return AZR_E_LIMIT;
    if (status) {
        msg[n++] = '\n';
        status_line(msg + n, sizeof msg - (size_t)n, status);
    }
    return azr_sd_notify(msg);
}

azr_err azr_sd_ready(const char *status)
{
    return send_with_status("READY=1", status);
}

azr_err azr_sd_reloading(const char *status)
{
    struct timespec ts;
    char head[64];
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return AZR_E_IO;
    unsigned long long usec =
        (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000ull;
    snprintf(head, sizeof head, "RELOADING=1\nMONOTONIC_USEC=%llu", usec);
    return send_with_status(head, status);
}

azr_err azr_sd_stopping(const char *status)
{
    return send_with_status("STOPPING=1", status);
}

azr_err azr_sd_status(const char *status)
{
    char msg[AZR_SD_MSG_MAX + 1];
    status_line(msg, sizeof msg, status);
    return azr_sd_notify(msg);
}

azr_err azr_sd_watchdog(void)
{
    return azr_sd_notify("WATCHDOG=1");
}

/* A decimal number without sign or spaces, at most max; false otherwise. */
static bool parse_dec(const char *s, unsigned long long max, unsigned long long *out)
{
    unsigned long long v = 0;
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

long azr_sd_watchdog_interval_ms(void)
{
    unsigned long long usec, pid;
    /* sd_watchdog_enabled(3): the variables are for this process only */
    const char *p = getenv("WATCHDOG_PID");
    if (p && *p &&
        (!parse_dec(p, (unsigned long long)INT_MAX, &pid) || pid != (unsigned long long)getpid()))
        return 0;
    if (!parse_dec(getenv("WATCHDOG_USEC"), ~0ull, &usec) || usec == 0)
        return 0;
    unsigned long long ms = usec / 2000ull;
    if (ms == 0)
        ms = 1;
    if (ms > (unsigned long long)LONG_MAX)
        ms = (unsigned long long)LONG_MAX;
    return (long)ms;
}

bool azr_sd_journal_fd(int fd)
{
    /* systemd.exec(5): JOURNAL_STREAM is "DEVICE:INODE" of the stream's socket */
    const char *v = getenv("JOURNAL_STREAM");
    const char *colon = v ? strchr(v, ':') : NULL;
    char dev[32];
    unsigned long long d, i;
    if (!colon || (size_t)(colon - v) >= sizeof dev)
        return false;
    memcpy(dev, v, (size_t)(colon - v));
    dev[colon - v] = '\0';
    if (!parse_dec(dev, ~0ull, &d) || !parse_dec(colon + 1, ~0ull, &i))
        return false;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == d && (unsigned long long)st.st_ino == i;
}

const char *azr_sd_log_prefix(int priority)
{
    static const char *const p[] = {"<0>", "<1>", "<2>", "<3>", "<4>", "<5>", "<6>", "<7>"};
    if (!sd.journal)
        return "";
    return p[priority < 0 ? 0 : priority > 7 ? 7 : priority];
}

int azr_sd_priority(int log_level, const char *log_type, const char *message)
{
    if (log_type && strcmp(log_type, "Error") == 0)
        return message && strncmp(message, "warning:", 8) == 0 ? AZR_SD_WARNING : AZR_SD_ERR;
    if (log_type && strcmp(log_type, "Info") == 0)
        return AZR_SD_INFO;
    return log_level <= 1 ? AZR_SD_INFO : AZR_SD_DEBUG;
}
