/*
 * Files that hold secrets: where a name points ($CREDENTIALS_DIRECTORY), who
 * may open them (the mode), and their first line.
 */
#include "secretfile.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

azr_err azr_secretfile_path(const char *path, size_t len, char *out, size_t cap, char *err,
                            size_t errcap)
{
    if (cap)
        out[0] = '\0';
    if (len == 0) {
        snprintf(err, errcap, "empty file name");
        return AZR_E_ARG;
    }
    if (memchr(path, '\0', len)) {
        snprintf(err, errcap, "a NUL byte in the file name");
        return AZR_E_ARG;
    }
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    const char *rest = path;
    size_t rl = len;
    bool in_dir = false;
    if (len >= 3 && memcmp(path, "%d/", 3) == 0) {
        /* systemd.unit(5): %d is the credentials directory; a config file
         * is not expanded by systemd, so the same spelling works here */
        if (!dir || !dir[0]) {
            snprintf(err, errcap,
                     "%.*s: %%d/ names a systemd credential, but $CREDENTIALS_DIRECTORY is not "
                     "set (LoadCredential= in the unit sets it)",
                     (int)(len > 200 ? 200 : len), path);
            return AZR_E_ARG;
        }
        rest = path + 3;
        rl = len - 3;
        in_dir = true;
    } else if (path[0] != '/' && dir && dir[0] == '/') {
        in_dir = true;
    }
    size_t dl = in_dir ? strlen(dir) : 0;
    bool slash = in_dir && dl && dir[dl - 1] != '/';
    size_t total = dl + (slash ? 1u : 0u) + rl;
    if (total > AZR_SECRET_PATH_MAX || total >= cap) {
        snprintf(err, errcap, "file name longer than %d bytes", AZR_SECRET_PATH_MAX);
        return AZR_E_LIMIT;
    }
    size_t o = 0;
    if (in_dir) {
        memcpy(out, dir, dl);
        o = dl;
        if (slash)
            out[o++] = '/';
    }
    memcpy(out + o, rest, rl);
    out[o + rl] = '\0';
    return AZR_OK;
}

static const char *file_kind(mode_t m)
{
    if (S_ISFIFO(m))
        return "a FIFO (named pipe)";
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

/* path as one shell word for a command to copy: as is when every byte is
 * plain, else in single quotes (a quote inside written '\''); a leading '-'
 * gets "./" so chmod does not take it for an option */
static void shell_word(const char *path, char *out, size_t cap)
{
    bool plain = path[0] != '\0';
    for (const char *p = path; *p && plain; p++) {
        char c = *p;
        plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                strchr("/._-+,:@%=", c) != NULL;
    }
    const char *pre = path[0] == '-' ? "./" : "";
    if (plain || cap < 8) {
        snprintf(out, cap, "%s%s", pre, path);
        return;
    }
    size_t o = 0;
    out[o++] = '\'';
    for (const char *p = pre; *p; p++)
        out[o++] = *p;
    for (const char *p = path; *p; p++) {
        const char *piece = *p == '\'' ? "'\\''" : p;
        size_t pl = *p == '\'' ? 4u : 1u;
        if (pl > cap - o - 2)
            break;
        memcpy(out + o, piece, pl);
        o += pl;
    }
    out[o++] = '\'';
    out[o] = '\0';
}

azr_err azr_secretfile_check_fd(int fd, const char *what, const char *path, bool insecure_ok,
                                char *err, size_t errcap)
{
    struct stat st;
    if (errcap)
        err[0] = '\0';
    if (fstat(fd, &st) != 0) {
        snprintf(err, errcap, "%s %.300s: %s", what, path, strerror(errno));
        return AZR_E_IO;
    }
    unsigned mode = (unsigned)(st.st_mode & 07777);
    if (!(mode & 077))
        return AZR_OK;
    const char *who = (mode & 070) && (mode & 007) ? "group and others"
                      : (mode & 070)               ? "its group"
                                                   : "others";
    char word[4 * AZR_SECRET_PATH_MAX + 8];
    shell_word(path, word, sizeof word);
    if (insecure_ok)
        snprintf(err, errcap,
                 "%s %.300s: mode %04o gives %s access to a secret; used anyway "
                 "(InsecureSecretFiles=True); run: chmod 600 %s",
                 what, path, mode, who, word);
    else
        snprintf(err, errcap,
                 "%s %.300s: mode %04o gives %s access to a secret; run: chmod 600 %s "
                 "(InsecureSecretFiles=True accepts it with a warning)",
                 what, path, mode, who, word);
    return insecure_ok ? AZR_OK : AZR_E_ARG;
}

/* Open path for reading without blocking, refusing anything but a regular file
 * (looked at first: opening a FIFO or a device may block or have effects). */
static azr_err open_regular(const char *what, const char *path, int *fd, char *err, size_t errcap)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(err, errcap, "%s %.300s: is %s, not a file holding a secret", what, path,
                 file_kind(st.st_mode));
        return AZR_E_ARG;
    }
    *fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (*fd < 0) {
        snprintf(err, errcap, "%s %.300s: %s", what, path, strerror(errno));
        return AZR_E_IO;
    }
    /* judge what was opened: the path may have changed since stat */
    if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errcap, "%s %.300s: is %s, not a file holding a secret", what, path,
                 file_kind(st.st_mode));
        close(*fd);
        *fd = -1;
        return AZR_E_ARG;
    }
    return AZR_OK;
}

azr_err azr_secretfile_check(const char *what, const char *path, bool insecure_ok, char *err,
                             size_t errcap)
{
    int fd = -1;
    if (errcap)
        err[0] = '\0';
    azr_err e = open_regular(what, path, &fd, err, errcap);
    if (e != AZR_OK)
        return e;
    e = azr_secretfile_check_fd(fd, what, path, insecure_ok, err, errcap);
    close(fd);
    return e;
}

azr_err azr_secretfile_read(const char *name, const char *path, bool insecure_ok, size_t max,
                            char *out, size_t cap, size_t *len, char *err, size_t errcap)
{
    char buf[AZR_SECRET_READ_MAX];
    size_t got = 0;
    int fd = -1;
    *len = 0;
    if (errcap)
        err[0] = '\0';
    if (cap == 0 || max >= cap || max > sizeof buf - 2) {
        snprintf(err, errcap, "%s: internal bound error", name);
        return AZR_E_STATE;
    }
    out[0] = '\0';
    azr_err e = open_regular(name, path, &fd, err, errcap);
    if (e != AZR_OK)
        return e;
    e = azr_secretfile_check_fd(fd, name, path, insecure_ok, err, errcap);
    if (e != AZR_OK) {
        close(fd);
        return e;
    }
    /* enough for the longest line and its CR LF; stop at the first LF */
    bool eof = false;
    while (got < max + 2 && !memchr(buf, '\n', got)) {
        ssize_t n = read(fd, buf + got, max + 2 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int en = errno;
            close(fd);
            azr_wipe(buf, sizeof buf);
            snprintf(err, errcap, "%s %.300s: %s", name, path, strerror(en));
            return AZR_E_IO;
        }
        if (n == 0) {
            eof = true;
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    const char *lf = memchr(buf, '\n', got);
    size_t n = lf ? (size_t)(lf - buf) : got;
    e = AZR_OK;
    if (got == 0) {
        snprintf(err, errcap, "%s %.300s: the file is empty (the value goes on its first line)",
                 name, path);
        e = AZR_E_ARG;
    } else if (!lf && !eof) {
        snprintf(err, errcap,
                 "%s %.300s: the first line is longer than %zu bytes (the file holds the value "
                 "alone, on its first line)",
                 name, path, max);
        e = AZR_E_LIMIT;
    }
    while (e == AZR_OK && n && buf[n - 1] == '\r')
        n--;
    if (e == AZR_OK && n == 0) {
        snprintf(err, errcap, "%s %.300s: the first line is empty (the value goes on it)", name,
                 path);
        e = AZR_E_ARG;
    } else if (e == AZR_OK && n > max) {
        snprintf(err, errcap, "%s %.300s: the first line is longer than %zu bytes", name, path,
                 max);
        e = AZR_E_LIMIT;
    } else if (e == AZR_OK && memchr(buf, '\0', n)) {
        snprintf(err, errcap, "%s %.300s: a NUL byte in the first line", name, path);
        e = AZR_E_ARG;
    }
    if (e == AZR_OK) {
        /* keep the mode warning, if any, that check_fd left in err */
        memcpy(out, buf, n);
        out[n] = '\0';
        *len = n;
    }
    azr_wipe(buf, sizeof buf);
    return e;
}
