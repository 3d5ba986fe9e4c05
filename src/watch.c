#include "watch.h"

#include <errno.h>

/* The wait returned for fd: that is all a watch is for (and, where the
 * owner asked, a note that it did). The turn ends after dispatch and the
 * application, back from DoEvents, reads fd itself. */
static void woken(azr_reactor *r, int fd, unsigned events, void *ud)
{
    (void)r;
    (void)fd;
    (void)events;
    if (ud)
        *(bool *)ud = true;
}

azr_err azr_watch_add(azr_reactor *r, int fd, bool *fired, char *err, size_t cap)
{
    if (!r) {
        snprintf(err, cap, "no event loop yet: watch descriptors after StartListening");
        return AZR_E_STATE;
    }
    if (fd < 0) {
        snprintf(err, cap, "descriptor %d is not valid", fd);
        return AZR_E_ARG;
    }
    azr_io_fn fn = azr_reactor_fn(r, fd);
    if ((fn && fn != woken) || fd == azr_reactor_fd(r)) {
        snprintf(err, cap, "descriptor %d belongs to the proxy", fd);
        return AZR_E_STATE;
    }
    azr_err e = azr_reactor_set(r, fd, AZR_READABLE, woken, fired);
    if (e == AZR_OK)
        return AZR_OK;
    int saved = errno;
    if (e == AZR_E_LIMIT) {
        snprintf(err, cap, "descriptor %d is beyond the event loop's table", fd);
    } else {
        snprintf(err, cap, "cannot watch descriptor %d: %s", fd, strerror(saved));
        azr_reactor_del(r, fd); /* the slot stays free for the proxy's own descriptors */
    }
    errno = saved;
    return e;
}

void azr_watch_del(azr_reactor *r, int fd)
{
    if (r && azr_reactor_fn(r, fd) == woken)
        azr_reactor_del(r, fd);
}
