/*
 * The daemon's secrets: argv scrubbing, the environment, core dumps.
 */
#include "secrets.h"
#include "config.h"
#include "text.h"

#include <errno.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

/* The secret setting named by s[0..len) (spaces around it ignored), or NULL. */
static const azr_conf_def *secret_def(const char *s, size_t len)
{
    azr_text_trim(&s, &len);
    const azr_conf_def *d = len ? azr_config_find(s, len) : NULL;
    return d && (d->flags & AZR_CF_SECRET) ? d : NULL;
}

/*
 * In arg, the first "NAME=" naming a secret at the start or right after a ':'
 * or '=': the setting, and where its value starts. NULL when none.
 */
static const azr_conf_def *find_secret(const char *arg, size_t *value_at)
{
    size_t len = strlen(arg);
    for (size_t at = 0; at < len; at++) {
        if (at > 0 && arg[at - 1] != ':' && arg[at - 1] != '=')
            continue;
        const char *eq = memchr(arg + at, '=', len - at);
        if (!eq)
            return NULL;
        const azr_conf_def *d = secret_def(arg + at, (size_t)(eq - (arg + at)));
        if (d) {
            *value_at = (size_t)(eq - arg) + 1;
            return d;
        }
    }
    return NULL;
}

void azr_argv_scrub(int argc, char **argv, azr_argv_scrubbed *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 1; i < argc; i++) {
        size_t at;
        const azr_conf_def *d = argv[i] ? find_secret(argv[i], &at) : NULL;
        if (!d || argv[i][at] == '\0')
            continue;
        /* '*' rather than NUL: ps and /proc/PID/cmdline keep one argument */
        for (char *p = argv[i] + at; *p; p++)
            *p = '*';
        out->args++;
        size_t k = 0;
        while (k < out->n && out->names[k] != d->name)
            k++;
        if (k == out->n && out->n < AZR_ARGV_SCRUB_MAX)
            out->names[out->n++] = d->name;
    }
}

/* The setting that reads name's value from a file, or NULL. */
static const char *file_setting(const char *name)
{
    if (strcmp(name, "AccessKey") == 0)
        return "AccessKeyFile";
    if (strcmp(name, "ConnectionString") == 0)
        return "ConnectionStringFile";
    return NULL;
}

/* Append text to out[*o..cap), cutting it to fit (out stays NUL-terminated). */
static void put(char *out, size_t cap, size_t *o, const char *text)
{
    size_t n = strlen(text);
    if (*o >= cap)
        return;
    if (n > cap - 1 - *o)
        n = cap - 1 - *o;
    memcpy(out + *o, text, n);
    *o += n;
    out[*o] = '\0';
}

size_t azr_argv_scrub_warning(const azr_argv_scrubbed *s, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return 0;
    out[0] = '\0';
    if (s->n == 0)
        return 0;
    for (size_t i = 0; i < s->n; i++) {
        put(out, cap, &o, i == 0 ? "" : i + 1 == s->n ? " and " : ", ");
        put(out, cap, &o, s->names[i]);
    }
    put(out, cap, &o, " given on the command line: visible to other users until scrubbed; use ");
    size_t files = 0, others = 0;
    for (size_t i = 0; i < s->n; i++) {
        const char *f = file_setting(s->names[i]);
        if (!f) {
            others++;
            continue;
        }
        put(out, cap, &o, files++ ? " and " : "");
        put(out, cap, &o, f);
    }
    if (others) {
        put(out, cap, &o, files ? ", and for " : "for ");
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++) {
            if (file_setting(s->names[i]))
                continue;
            put(out, cap, &o, k == 0 ? "" : k + 1 == others ? " and " : ", ");
            put(out, cap, &o, s->names[i]);
            k++;
        }
        put(out, cap, &o, " a config file only its owner may read (chmod 600)");
    }
    return o;
}

/* One variable as "Name=value" through apply; the buffer is wiped after. */
static azr_err env_one(azr_secret_apply_fn apply, void *ud, const char *var, const char *name,
                       size_t max, bool *done)
{
    char stmt[AZR_CONNSTR_MAX + 32];
    const char *v = getenv(var);
    *done = false;
    if (!v || !v[0])
        return AZR_OK;
    size_t vl = strlen(v), nl = strlen(name);
    if (vl > max || vl > sizeof stmt - nl - 2)
        return AZR_E_LIMIT;
    memcpy(stmt, name, nl);
    stmt[nl] = '=';
    memcpy(stmt + nl + 1, v, vl);
    stmt[nl + 1 + vl] = '\0';
    azr_err e = apply(ud, stmt);
    azr_wipe(stmt, sizeof stmt);
    *done = e == AZR_OK;
    return e;
}

azr_err azr_secret_env_apply(azr_secret_apply_fn apply, void *ud, unsigned *applied,
                             const char **failed)
{
    static const struct {
        const char *var, *name;
        size_t max;
        unsigned bit;
    } vars[] = {
        {"AZRELAY_CONNECTION_STRING", "ConnectionString", AZR_CONNSTR_MAX, AZR_SECRET_ENV_CONNSTR},
        {"AZRELAY_ACCESS_KEY", "AccessKey", AZR_KEY_MAX, AZR_SECRET_ENV_KEY},
    };
    *applied = 0;
    *failed = NULL;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        bool done;
        azr_err e = env_one(apply, ud, vars[i].var, vars[i].name, vars[i].max, &done);
        if (e != AZR_OK) {
            *failed = vars[i].var;
            return e;
        }
        if (done)
            *applied |= vars[i].bit;
    }
    return AZR_OK;
}

azr_err azr_core_dumps_set(bool allow)
{
#if defined(__linux__)
    return prctl(PR_SET_DUMPABLE, allow ? 1L : 0L, 0L, 0L, 0L) == 0 ? AZR_OK : AZR_E_IO;
#else
    (void)allow;
    return AZR_E_UNSUPPORTED;
#endif
}

bool azr_core_dumps_allowed(void)
{
#if defined(__linux__)
    return prctl(PR_GET_DUMPABLE, 0L, 0L, 0L, 0L) == 1;
#else
    return false;
#endif
}

bool azr_secret_stmt(const char *stmt, size_t len)
{
    const char *p = stmt;
    size_t n = len;
    azr_text_trim(&p, &n);
    if (n == 0 || p[0] == '#')
        return false;
    const char *eq = memchr(p, '=', n);
    if (!eq || !secret_def(p, (size_t)(eq - p)))
        return false;
    const char *v = eq + 1;
    size_t vl = n - (size_t)(eq - p) - 1;
    azr_text_trim(&v, &vl);
    return vl > 0;
}
