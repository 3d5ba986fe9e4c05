/*
 * Files that hold secrets: AccessKeyFile and ConnectionStringFile (read here
 * for config.c) and the daemon's config file (checked by the daemon). Such a
 * file must be a regular file that only its owner may open: group or other
 * permission bits are refused with the chmod to run, or, with
 * InsecureSecretFiles=True, let through with that text as a warning.
 *
 * Contract of the err texts: on an error, err says why and names the file;
 * on AZR_OK, err holds a warning for the log, or is "" (cap > 0).
 */
#ifndef AZR_SECRETFILE_H
#define AZR_SECRETFILE_H

#include "err.h"
#include "bounds.h"

/*
 * Where path[0..len) names a file. "%d/NAME" is NAME in $CREDENTIALS_DIRECTORY
 * (systemd's LoadCredential=; a unit's ExecStart expands %d itself, a config
 * file gets it here); a relative path is looked up there too while that
 * variable is set; anything else is taken as given. out gets the path and a
 * NUL, at most AZR_SECRET_PATH_MAX bytes. Errors: AZR_E_ARG (empty, a NUL
 * byte, %d/ without $CREDENTIALS_DIRECTORY), AZR_E_LIMIT (too long).
 */
AZR_MUST_CHECK azr_err azr_secretfile_path(const char *path, size_t len, char *out, size_t cap,
                                           char *err, size_t errcap);

/*
 * The mode of the file open on fd, which holds a secret; what ("AccessKeyFile",
 * "config file") and path name it in the texts. Group or other permission bits:
 * AZR_E_ARG, err "WHAT PATH: mode 0644 gives group and others access to a
 * secret; run: chmod 600 PATH" (the path shell-quoted when it needs it); with
 * insecure_ok AZR_OK and the same facts as a warning in err. AZR_E_IO when
 * fstat fails. Nothing is read from the file.
 */
AZR_MUST_CHECK azr_err azr_secretfile_check_fd(int fd, const char *what, const char *path,
                                               bool insecure_ok, char *err, size_t errcap);

/* The same for a path (opened without blocking, never read); AZR_E_IO when it
 * cannot be opened. */
AZR_MUST_CHECK azr_err azr_secretfile_check(const char *what, const char *path, bool insecure_ok,
                                            char *err, size_t errcap);

/*
 * The first line of the file at path (already resolved by azr_secretfile_path)
 * for setting name: a regular file (anything else is refused without being
 * opened for reading, so a FIFO never blocks), its mode checked as above, the
 * line without its trailing CR/LF, not empty, without NUL bytes, at most max
 * bytes (max < cap, max <= AZR_SECRET_READ_MAX - 2). Lines after the first are
 * not read. out gets the line and a NUL, *len its length. Everything read
 * into temporary buffers is wiped; on an error out is wiped too.
 * Errors: AZR_E_IO (open or read failed, errno text), AZR_E_ARG (not a
 * regular file, empty, NUL byte, mode), AZR_E_LIMIT (line longer than max).
 */
AZR_MUST_CHECK azr_err azr_secretfile_read(const char *name, const char *path, bool insecure_ok,
                                           size_t max, char *out, size_t cap, size_t *len,
                                           char *err, size_t errcap);

#endif
