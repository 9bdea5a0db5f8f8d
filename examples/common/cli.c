/* cli.c - see cli.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vae.h>

#include "cli.h"

/* ---- Errors ------------------------------------------------------------- */

static char g_err[1024];
/* The error_name or name of the program cli_main runs. */
static const char *g_prog = "";

int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err, sizeof g_err, fmt, ap);
    va_end(ap);
    return -1;
}

int fail_lib(const char *what, int32_t status, const char *detail)
{
    return fail("%s: %s", what,
                detail && *detail ? detail : vae_status_string(status));
}

int fail_file(const char *path, int32_t status, const char *detail)
{
    if (detail && *detail && strstr(detail, path))
        return fail("%s", detail);
    return fail_lib(path, status, detail);
}

/* One line, whatever the message held, so scripts can rely on it. */
static void print_line(const char *kind, char *msg)
{
    for (char *s = msg; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
    fprintf(stderr, "%s: %s%s\n", g_prog, kind, msg);
}

static void report_error(void)
{
    print_line("", g_err);
}

void warn(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_line("warning: ", msg);
}

/* ---- Options ------------------------------------------------------------ */

static int parse_args(const struct program *p, const struct command *cmd,
                      int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof *a);
    a->names = p->opt_names;
    int after_switch = 0; /* argv[i - 1] was a switch */
    for (int i = 0; i < argc; i++) {
        const char *flag = argv[i];
        int id = -1;

        for (int o = 0; o < p->n_opts; o++)
            if ((cmd->allowed & OPT(o)) && strcmp(flag, p->opt_names[o]) == 0)
                id = o;
        /* "--conditional yes": a value given to a switch. */
        if (id < 0 && after_switch && strncmp(flag, "--", 2) != 0)
            return fail("%s: %s takes no value (given: '%s')", cmd->name,
                        argv[i - 1], flag);
        after_switch = 0;
        if (id < 0)
            return fail("%s: unknown option '%s' (see %s --help)", cmd->name,
                        flag, p->name);
        if (a->val[id])
            return fail("%s: %s given twice", cmd->name, flag);
        /* A switch is its own value: given or not. */
        if (p->switches & OPT(id)) {
            a->val[id] = flag;
            after_switch = 1;
            continue;
        }
        /* A following flag is a forgotten value, not a value. */
        if (i + 1 >= argc || argv[i + 1][0] == '\0' ||
            strncmp(argv[i + 1], "--", 2) == 0)
            return fail("%s: %s needs a value", cmd->name, flag);
        a->val[id] = argv[++i];
    }
    for (int o = 0; o < p->n_opts; o++)
        if ((cmd->required & OPT(o)) && !a->val[o])
            return fail("%s: missing required option %s", cmd->name,
                        p->opt_names[o]);
    return 0;
}

/* The one number syntax of the command line (docs/image.md): plain decimal
 * and nothing around it. strtol and strtod alone also take leading
 * whitespace, a '+', hexadecimal floats ("0x1p-3"), "inf" and "nan". */
static size_t count_digits(const char *s)
{
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    return n;
}

/* -?D+ (an integer), or with `fraction` -?(D+(.D*)?|.D+)([eE][+-]?D+)? */
static int is_plain_decimal(const char *s, int fraction)
{
    size_t n;

    s += *s == '-';
    n = count_digits(s);
    s += n;
    if (fraction && *s == '.') {
        size_t m = count_digits(s + 1);
        s += 1 + m;
        n += m;
    }
    if (n == 0)
        return 0;
    if (fraction && (*s == 'e' || *s == 'E')) {
        s += 1 + (s[1] == '+' || s[1] == '-');
        n = count_digits(s);
        if (n == 0)
            return 0;
        s += n;
    }
    return *s == '\0';
}

int get_long(const struct args *a, int o, long def, long lo, long hi,
             long *out)
{
    const char *s = a->val[o];
    long v = 0;
    int ok;

    if (!s) {
        *out = def;
        return 0;
    }
    ok = is_plain_decimal(s, 0);
    if (ok) {
        errno = 0;
        v = strtol(s, NULL, 10);
        ok = errno != ERANGE && v >= lo && v <= hi;
    }
    if (!ok)
        return fail("%s: expected a decimal integer in [%ld, %ld], got '%s'",
                    a->names[o], lo, hi, s);
    *out = v;
    return 0;
}

int get_double(const struct args *a, int o, double def, double lo, double hi,
               int lo_open, double *out)
{
    const char *s = a->val[o];
    double v = 0.0;
    int ok;

    if (!s) {
        *out = def;
        return 0;
    }
    ok = is_plain_decimal(s, 1);
    if (ok) {
        errno = 0;
        v = strtod(s, NULL);
        /* ERANGE: too large or too small in magnitude for a double. */
        ok = errno != ERANGE && isfinite(v) && (lo_open ? v > lo : v >= lo) &&
             v <= hi;
    }
    if (!ok)
        return fail("%s: expected a decimal number in %c%g, %g] (like 0.25 "
                    "or 1e-3), got '%s'", a->names[o], lo_open ? '(' : '[',
                    lo, hi, s);
    *out = v;
    return 0;
}

int get_seed(const struct args *a, int o, uint64_t def, uint64_t *out)
{
    const char *s = a->val[o];
    unsigned long long v = 0;
    int ok;

    if (!s) {
        *out = def;
        return 0;
    }
    /* strtoull would quietly wrap "-1". */
    ok = s[0] != '-' && is_plain_decimal(s, 0);
    if (ok) {
        errno = 0;
        v = strtoull(s, NULL, 10);
        ok = errno != ERANGE;
    }
    if (!ok)
        return fail("%s: expected a decimal integer in [0, 2^64), got '%s'",
                    a->names[o], s);
    *out = (uint64_t)v;
    return 0;
}

int get_choice(const struct args *a, int o, const char *const *names, int n,
               int def, int *out)
{
    const char *s = a->val[o];
    char list[256] = "";

    *out = def;
    if (!s)
        return 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    /* "a, b or c" */
    for (int i = 0; i < n; i++) {
        const char *sep = i == 0 ? "" : i == n - 1 ? " or " : ", ";
        strncat(list, sep, sizeof list - strlen(list) - 1);
        strncat(list, names[i], sizeof list - strlen(list) - 1);
    }
    return fail("%s: expected %s, got '%s'", a->names[o], list, s);
}

/* ---- main --------------------------------------------------------------- */

static int is_help(const char *s)
{
    return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
}

/* --threads N, for every command, before any work. */
static int apply_threads(const struct program *p, const struct args *a)
{
    long n = 0;
    int32_t s;

    if (!a->val[p->threads_opt])
        return 0;
    if (get_long(a, p->threads_opt, 0, 1, 1024, &n))
        return -1;
    s = vae_set_num_threads((int32_t)n);
    if (s != VAE_OK)
        return fail_lib(p->opt_names[p->threads_opt], s, NULL);
    return 0;
}

/* What a command prints on stdout (vae-text's sentences, its results) is
 * output too: written into a full disk or a closed pipe, it must not end
 * in exit status 0. It cannot be replaced atomically, as files are; a
 * caller who wants that redirects into a temporary file and renames it. */
static int flush_stdout(void)
{
    int e = 0;

    errno = 0;
    if (fflush(stdout) != 0)
        e = errno ? errno : EIO;
    else if (ferror(stdout))
        e = EIO;
    return e ? fail("standard output: cannot write: %s", strerror(e)) : 0;
}

int cli_main(const struct program *p, int argc, char **argv)
{
    const struct command *cmd = NULL;
    struct args a;

    g_prog = p->error_name ? p->error_name : p->name;
    if (argc < 2) {
        fputs(p->usage, stderr);
        return 2;
    }
    if (is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        fputs(p->usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("%s (libvae %s)\n", p->name, vae_version_string());
        return 0;
    }
    for (size_t i = 0; i < p->n_commands; i++)
        if (strcmp(argv[1], p->commands[i].name) == 0)
            cmd = &p->commands[i];
    if (!cmd) {
        fail("unknown command '%s' (see %s --help)", argv[1], p->name);
        report_error();
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        if (is_help(argv[i])) {
            fputs(p->usage, stdout);
            return 0;
        }
    }
    if (parse_args(p, cmd, argc - 2, argv + 2, &a) || apply_threads(p, &a) ||
        cmd->run(&a) || flush_stdout()) {
        report_error();
        return 1;
    }
    return 0;
}

/* ---- Paths -------------------------------------------------------------- */

char *base_name(const char *path)
{
    const char *slash;
    size_t n;
    char *s;

    if (!path)
        return NULL;
    n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    for (slash = path + n; slash > path && slash[-1] != '/'; slash--)
        ;
    n -= (size_t)(slash - path);
    s = malloc(n + 1);
    if (s) {
        memcpy(s, slash, n);
        s[n] = '\0';
    }
    return s;
}
