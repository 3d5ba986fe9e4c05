/*
 * systemd service notification for azrelay-proxy, without libsystemd: the
 * sd_notify(3) datagram protocol written to $NOTIFY_SOCKET directly, the
 * watchdog interval from $WATCHDOG_USEC, and sd-daemon(3) "<N>" priority
 * prefixes when stderr is the journal ($JOURNAL_STREAM). Daemon-only (not
 * in the library). One thread; no allocation.
 *
 * Without $NOTIFY_SOCKET every notify call is a no-op that returns AZR_OK, so
 * the daemon calls them unconditionally.
 */
#ifndef AZR_SDNOTIFY_H
#define AZR_SDNOTIFY_H

#include "err.h"

/* sd-daemon(3) priorities (syslog levels) used by the daemon's log lines. */
#define AZR_SD_ERR     3
#define AZR_SD_WARNING 4
#define AZR_SD_INFO    6
#define AZR_SD_DEBUG   7

/* Longest STATUS= text sent (longer text is cut); longest message. */
#define AZR_SD_STATUS_MAX 256
#define AZR_SD_MSG_MAX    512

/*
 * Once at start, before listening (the socket counts among the daemon's own
 * descriptors): reads $NOTIFY_SOCKET ("/path" or "@abstract"), opens one
 * datagram socket (close-on-exec) kept for every later message, and notes
 * whether stderr is the journal (azr_sd_log_prefix). Calling it again closes
 * what the last call opened and reads the environment again. Errors (the
 * daemon logs a warning and runs on; notify calls are then no-ops):
 * AZR_E_ARG NOTIFY_SOCKET is neither an absolute path nor "@name", AZR_E_LIMIT
 * too long for sun_path, AZR_E_IO socket() failed; err says which.
 */
AZR_MUST_CHECK azr_err azr_sd_init(char *err, size_t errcap);

/* Close the socket (at exit, or in a child). */
void azr_sd_close(void);

/* Whether messages go anywhere (NOTIFY_SOCKET was set and usable). */
bool azr_sd_enabled(void);

/*
 * One datagram of "KEY=VALUE" lines, as is (msg must not be empty, at most
 * AZR_SD_MSG_MAX bytes). Never blocks: sent with MSG_DONTWAIT, so a full
 * receive queue at PID 1 loses this message (AZR_E_IO) rather than stalling
 * the loop. sendto() names the socket each time, so a systemd re-executed
 * since azr_sd_init is still reached.
 */
AZR_MUST_CHECK azr_err azr_sd_notify(const char *msg);

/* "READY=1" plus "STATUS=status" when status is not NULL: after every
 * forward listens, and again after a reload. */
AZR_MUST_CHECK azr_err azr_sd_ready(const char *status);

/* "RELOADING=1" and "MONOTONIC_USEC=<CLOCK_MONOTONIC now, µs>" (what
 * Type=notify-reload requires; Type=notify accepts it), plus STATUS= when
 * given: before a reload starts. azr_sd_ready() ends it. */
AZR_MUST_CHECK azr_err azr_sd_reloading(const char *status);

/* "STOPPING=1" plus STATUS= when given: when the drain starts. */
AZR_MUST_CHECK azr_err azr_sd_stopping(const char *status);

/* "STATUS=status": one line for systemctl status ("3 forwards, 12
 * connections"). Control characters (a newline would start another
 * assignment) become spaces; cut at AZR_SD_STATUS_MAX bytes. */
AZR_MUST_CHECK azr_err azr_sd_status(const char *status);

/* "WATCHDOG=1": every azr_sd_watchdog_interval_ms(). */
AZR_MUST_CHECK azr_err azr_sd_watchdog(void);

/*
 * How often to send WATCHDOG=1, in ms: half of $WATCHDOG_USEC (at least 1),
 * or 0 when there is no watchdog: the variable unset, not a positive
 * decimal number, or $WATCHDOG_PID set to another process's PID (the
 * variables were inherited by a child). Read from the environment on each
 * call; call it once at start.
 */
long azr_sd_watchdog_interval_ms(void);

/*
 * Whether fd is the journal's stream: $JOURNAL_STREAM is "DEVICE:INODE" (decimal)
 * and matches fd's st_dev and st_ino. Read on each call.
 */
bool azr_sd_journal_fd(int fd);

/*
 * "<3>", "<4>", "<6>" or "<7>" for priority (AZR_SD_*; others are clamped to
 * 0..7) when azr_sd_init found stderr to be the journal, "" otherwise: what
 * to put at the start of each stderr line. Never NULL; static text.
 */
const char *azr_sd_log_prefix(int priority);

/*
 * The priority of one Log event of the library (the log callback's level and
 * type): "Error" is AZR_SD_ERR, or AZR_SD_WARNING when the message starts with
 * "warning:"; "Info" AZR_SD_INFO; "Verbose" and "Debug" AZR_SD_DEBUG.
 */
int azr_sd_priority(int log_level, const char *log_type, const char *message);

#endif
