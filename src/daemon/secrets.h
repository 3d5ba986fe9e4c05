/*
 * Keeping azrelay-proxy's secrets where only it can see them: secret values
 * scrubbed from its command line, secrets taken from the environment
 * (AZRELAY_CONNECTION_STRING, AZRELAY_ACCESS_KEY), core dumps off, and which
 * config statements hold a secret (the config file's mode check). Daemon-only
 * (not in the library). The secret settings are those the vocabulary table
 * flags AZR_CF_SECRET; the files that hold them are checked by secretfile.h.
 */
#ifndef AZR_SECRETS_H
#define AZR_SECRETS_H

#include "err.h"

/* Distinct secret settings one scrub reports (the table has fewer). */
#define AZR_ARGV_SCRUB_MAX 16

typedef struct azr_argv_scrubbed {
    size_t n;                              /* distinct settings scrubbed */
    size_t args;                           /* arguments overwritten */
    const char *names[AZR_ARGV_SCRUB_MAX]; /* table names (static text), first seen first */
} azr_argv_scrubbed;

/*
 * Overwrite, in place, the value of every secret setting on the command line
 * (argv[1..argc)) with '*' bytes, so /proc/PID/cmdline and ps show
 * "AccessKey=********" from then on. Call it once every argument has been
 * applied, and before the loop starts; copy the arguments first if they are
 * applied again later (a reload), since their values are gone afterwards.
 * argv[i] pointers and lengths do not change (pointers the daemon kept into
 * argv, such as the config file's name, stay valid).
 *
 * A secret setting is NAME=VALUE where NAME (case-insensitive, spaces around
 * it ignored) is an AZR_CF_SECRET entry of the table (AccessKey,
 * ConnectionString, FirewallPassword, FirewallData, ProxyPassword,
 * ProxyAuthorization, SSLCertStorePassword, ...); it may stand at the start of
 * the argument or after a ':' or '=' in it, so forward-scoped forms such as
 * "web:AccessKey=..." and "--forward=web:AccessKey=..." are scrubbed too.
 * Everything after that NAME= is overwritten. out says what was scrubbed
 * (out->n == 0: nothing). Until this runs, the values were visible to every
 * local user: the daemon logs azr_argv_scrub_warning().
 */
void azr_argv_scrub(int argc, char **argv, azr_argv_scrubbed *out);

/*
 * The one warning line for what was scrubbed, without a "warning: " prefix:
 * "AccessKey given on the command line: visible to other users until
 * scrubbed; use AccessKeyFile" (ConnectionStringFile for ConnectionString; a
 * config file only its owner may read for the others). "" when nothing was.
 * Returns strlen(out); cut to fit cap.
 */
size_t azr_argv_scrub_warning(const azr_argv_scrubbed *s, char *out, size_t cap);

/* Applies one "Name=Value" statement (e.g. through azr_proxy_config); the
 * statement's buffer is wiped after the call returns. */
typedef azr_err (*azr_secret_apply_fn)(void *ud, const char *stmt);

#define AZR_SECRET_ENV_CONNSTR 1u /* AZRELAY_CONNECTION_STRING applied */
#define AZR_SECRET_ENV_KEY     2u /* AZRELAY_ACCESS_KEY applied */

/*
 * The environment's secrets, lowest precedence: call before the config file
 * and the command line, so any setting there wins (on every reload too).
 * AZRELAY_CONNECTION_STRING as ConnectionString=..., then AZRELAY_ACCESS_KEY
 * as AccessKey=... (so a key given alone replaces the string's key); unset
 * or empty variables are skipped. *applied gets AZR_SECRET_ENV_* bits. On the
 * first failure *failed names the variable and the error is returned:
 * AZR_E_LIMIT a value longer than the setting takes (not applied), else what
 * apply returned. The variables stay in the environment (a reload reads them
 * again); /proc/PID/environ is readable by the same user and root only, and by
 * root only once azr_core_dumps_set(false) ran.
 */
AZR_MUST_CHECK azr_err azr_secret_env_apply(azr_secret_apply_fn apply, void *ud, unsigned *applied,
                                            const char **failed);

/*
 * Core dumps: prctl(PR_SET_DUMPABLE, allow). Not dumpable also means no
 * ptrace by the same user and /proc/PID/{environ,mem,maps,...} owned by root.
 * Call azr_core_dumps_set(false) first thing at start, then, once the
 * settings are read, azr_core_dumps_set(true) only for AllowCoreDumps=True.
 * AZR_E_IO when prctl fails; AZR_E_UNSUPPORTED off Linux (nothing done).
 */
AZR_MUST_CHECK azr_err azr_core_dumps_set(bool allow);

/* prctl(PR_GET_DUMPABLE) == 1 (false off Linux). */
bool azr_core_dumps_allowed(void);

/*
 * Whether the statement stmt[0..len) ("Name=Value", as a config file line or
 * an argument) sets a secret setting with a non-empty value: a config file
 * holding one must pass azr_secretfile_check_fd(). Blank lines, comments and
 * unknown names are not secrets.
 */
bool azr_secret_stmt(const char *stmt, size_t len);

#endif
