/*
 * The application's own descriptors in a proxy's event loop (the work behind
 * azr_proxy_watch_fd): a watched descriptor only wakes the wait. Nothing is
 * read from it and nothing is called for it; the turn ends, the public call
 * returns, and the application reads the descriptor itself.
 */
#ifndef AZR_WATCH_H
#define AZR_WATCH_H

#include "reactor.h"

/*
 * Wake r's wait when fd turns readable, and set *fired (unless NULL) when
 * it does. Watching a watched fd again is a no-op. Errors, with a sentence in err[cap]: AZR_E_STATE
 * when r is NULL (no loop yet) or fd is registered by the loop's own users (a listener, a
 * connection) or is the loop's descriptor; AZR_E_ARG when fd is negative;
 * AZR_E_LIMIT when fd is beyond the loop's descriptor table; AZR_E_IO
 * (errno kept) when the backend refuses fd (epoll refuses regular files).
 */
AZR_MUST_CHECK azr_err azr_watch_add(azr_reactor *r, int fd, bool *fired, char *err, size_t cap);

/* Stop watching fd; nothing happens when r is NULL or fd is not a watch. */
void azr_watch_del(azr_reactor *r, int fd);

#endif
