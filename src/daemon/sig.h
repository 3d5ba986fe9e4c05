/*
 * The daemon's signals, taken outside any handler: on Linux blocked and read
 * from a signalfd, elsewhere (or built with -DAZR_SIGNAL_PIPE) written by a
 * handler into a self-pipe. The loop watches the descriptor
 * (azr_loop_watch_fd), so a signal that arrives after the last look and
 * before the loop sleeps is still there, readable, when it does.
 */
#ifndef AZR_DAEMON_SIG_H
#define AZR_DAEMON_SIG_H

#include "platform.h"

/* Take the daemon's signals; a descriptor that turns readable while one is
 * pending, or -1 with errno. */
int azr_sig_open(void);
/* The next pending signal, 0 when none is left. */
int azr_sig_next(int fd);
/* "SIGHUP", "SIGRTMIN+2", "signal 99". */
void azr_sig_name(int sig, char *out, size_t cap);

#endif
