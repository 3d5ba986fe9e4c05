/*
 * IMPLEMENTATION NOTES
 * The signals the daemon takes: SIGINT and SIGTERM (drain, then stop;
 * again: stop now), SIGHUP (reload), and SIGUSR1, SIGUSR2 and the other
 * signals whose default action would end the process without a fault
 * (SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, the real-time signals), which
 * main.c logs and ignores. Faults (SIGSEGV, ...), SIGQUIT and the resource
 * limits (SIGXCPU, SIGXFSZ) keep their default actions. No handler runs
 * inside the loop (see sig.h).
 */
#include "platform.h"

#include "sig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#if defined(__linux__) && !defined(AZR_SIGNAL_PIPE)
#include <sys/signalfd.h>
#endif

static const struct {
    int sig;
    const char *name;
} sig_table[] = {
    {SIGINT, "SIGINT"},   {SIGTERM, "SIGTERM"}, {SIGHUP, "SIGHUP"},   {SIGUSR1, "SIGUSR1"},
    {SIGUSR2, "SIGUSR2"}, {SIGALRM, "SIGALRM"}, {SIGPROF, "SIGPROF"}, {SIGVTALRM, "SIGVTALRM"},
#ifdef SIGIO
    {SIGIO, "SIGIO"},
#endif
#ifdef SIGPWR
    {SIGPWR, "SIGPWR"},
#endif
};
#define SIG_TABLE (sizeof sig_table / sizeof sig_table[0])

/* The i-th signal the daemon takes (the table, then the real-time ones); 0 past the last. */
static int nth(size_t i)
{
    if (i < SIG_TABLE)
        return sig_table[i].sig;
#ifdef SIGRTMIN
    if (i - SIG_TABLE <= (size_t)(SIGRTMAX - SIGRTMIN))
        return SIGRTMIN + (int)(i - SIG_TABLE);
#endif
    return 0;
}

void azr_sig_name(int sig, char *out, size_t cap)
{
    for (size_t i = 0; i < SIG_TABLE; i++)
        if (sig_table[i].sig == sig) {
            snprintf(out, cap, "%s", sig_table[i].name);
            return;
        }
#ifdef SIGRTMIN
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
        snprintf(out, cap, "SIGRTMIN+%d", sig - SIGRTMIN);
        return;
    }
#endif
    snprintf(out, cap, "signal %d", sig);
}

#if defined(__linux__) && !defined(AZR_SIGNAL_PIPE)
int azr_sig_open(void)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; nth(i); i++)
        sigaddset(&set, nth(i));
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int azr_sig_next(int fd)
{
    struct signalfd_siginfo si;
    ssize_t n;
    do
        n = read(fd, &si, sizeof si);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof si ? (int)si.ssi_signo : 0;
}
#else
static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    /* a full pipe already holds a wake-up; the loop reads and acts on what is there */
    ssize_t n = write(sig_pipe[1], &b, 1);
    (void)n;
    errno = saved;
}

int azr_sig_open(void)
{
    if (pipe(sig_pipe) != 0)
        return -1;
    for (int i = 0; i < 2; i++)
        if (fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC) != 0 ||
            fcntl(sig_pipe[i], F_SETFL, fcntl(sig_pipe[i], F_GETFL) | O_NONBLOCK) != 0)
            return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; nth(i); i++)
        if (sigaction(nth(i), &sa, NULL) != 0)
            return -1;
    return sig_pipe[0];
}

int azr_sig_next(int fd)
{
    unsigned char b;
    ssize_t n;
    do
        n = read(fd, &b, 1);
    while (n < 0 && errno == EINTR);
    return n == 1 ? b : 0;
}
#endif
