/*
 * IMPLEMENTATION NOTES
 * The resolver's view of the system: resolv.conf and the hosts file, read
 * whole at creation and again when a look (stat, at most once a second,
 * from a lookup) shows another inode, size or mtime. Files are opened
 * O_NONBLOCK|O_NOCTTY and must be regular files under a size bound, so a
 * FIFO or a device named by mistake cannot stall the loop. A file that
 * grows while it is read is taken up to the size fstat() saw; its new
 * stamp brings the rest at the next look. A missing resolv.conf means
 * glibc's defaults (127.0.0.1); a missing hosts file, no hosts.
 */
#include "resolver_priv.h"
#include "text.h"
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <unistd.h>

static void stamp_from(azr_res_stamp *st, const struct stat *s)
{
    memset(st, 0, sizeof *st);
    st->exists = true;
    st->dev = s->st_dev;
    st->ino = s->st_ino;
    st->size = s->st_size;
    st->mtime = s->st_mtim;
}

static bool same_stamp(const azr_res_stamp *a, const azr_res_stamp *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Read a regular file whole (at most max bytes) into *buf, grown as needed. */
static bool read_file(const char *path, size_t max, char **buf, size_t *cap, size_t *len,
                      azr_res_stamp *st)
{
    struct stat s;
    *len = 0;
    memset(st, 0, sizeof *st);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return false;
    if (fstat(fd, &s) != 0 || !S_ISREG(s.st_mode) || s.st_size < 0 || (uint64_t)s.st_size > max) {
        close(fd);
        return false;
    }
    stamp_from(st, &s);
    size_t want = (size_t)s.st_size + 1; /* one more shows a file that grew */
    if (want > *cap) {
        char *nb = realloc(*buf, want);
        if (!nb) {
            close(fd);
            return false;
        }
        *buf = nb;
        *cap = want;
    }
    while (*len < want) {
        ssize_t n = read(fd, *buf + *len, want - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        *len += (size_t)n;
    }
    close(fd);
    if (*len > (size_t)s.st_size)
        *len = (size_t)s.st_size; /* grew while read: the rest waits for the next look */
    return true;
}

unsigned azr_resolver_scope(const char *ifname)
{
    return if_nametoindex(ifname);
}

void azr_resolver_reload(azr_resolver *r, bool force)
{
    uint64_t now = azr_reactor_now(r->loop);
    if (!force && now - r->checked < AZR_RES_RECHECK_MS)
        return;
    r->checked = now;
    struct stat s;
    azr_res_stamp st = {0};
    if (stat(r->conf_path, &s) == 0)
        stamp_from(&st, &s);
    if (force || !same_stamp(&st, &r->conf_st)) {
        char *text = NULL;
        size_t cap = 0, len = 0;
        if (read_file(r->conf_path, AZR_RES_CONF_FILE_MAX, &text, &cap, &len, &st))
            azr_resolvconf_parse(text, len, azr_resolver_scope, &r->conf);
        else
            azr_resolvconf_defaults(&r->conf);
        free(text);
        r->conf_st = st;
        r->stats.reloads += !force;
    }
    if (!r->hosts_path[0])
        return;
    memset(&st, 0, sizeof st);
    if (stat(r->hosts_path, &s) == 0)
        stamp_from(&st, &s);
    if (force || !same_stamp(&st, &r->hosts_st)) {
        if (!read_file(r->hosts_path, AZR_RES_HOSTS_FILE_MAX, &r->hosts, &r->hosts_cap,
                       &r->hosts_len, &st))
            r->hosts_len = 0;
        r->hosts_st = st;
        r->stats.reloads += !force;
    }
}

void azr_resolver_host_domain(azr_resolver *r)
{
    char hn[256];
    if (gethostname(hn, sizeof hn) == 0) {
        hn[sizeof hn - 1] = '\0';
        const char *dot = strchr(hn, '.');
        uint8_t w[AZR_DNS_WIRE_MAX];
        size_t wl;
        const char *why;
        if (dot && azr_dns_name_wire(dot + 1, w, &wl, &why) == AZR_OK)
            for (size_t i = 0; i <= strlen(dot + 1); i++)
                r->host_domain[i] = azr_text_lower(dot[1 + i]);
    }
}
