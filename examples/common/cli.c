/* cli.c - see cli.h. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, isatty, fileno */

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vae.h>

#include "cli.h"

/* ---- Errors ------------------------------------------------------------- */

static char g_err[1024];

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
static void report_error(const struct program *p)
{
    const char *prog = p->error_name ? p->error_name : p->name;

    for (char *s = g_err; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
    fprintf(stderr, "%s: %s\n", prog, g_err);
}

/* ---- Options ------------------------------------------------------------ */

static int parse_args(const struct program *p, const struct command *cmd,
                      int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof *a);
    a->names = p->opt_names;
    for (int i = 0; i < argc; i++) {
        const char *flag = argv[i];
        int id = -1;

        for (int o = 0; o < p->n_opts; o++)
            if ((cmd->allowed & OPT(o)) && strcmp(flag, p->opt_names[o]) == 0)
                id = o;
        if (id < 0)
            return fail("%s: unknown option '%s' (see %s --help)", cmd->name,
                        flag, p->name);
        /* A following flag is a forgotten value, not a value. */
        if (i + 1 >= argc || argv[i + 1][0] == '\0' ||
            strncmp(argv[i + 1], "--", 2) == 0)
            return fail("%s: %s needs a value", cmd->name, flag);
        if (a->val[id])
            return fail("%s: %s given twice", cmd->name, flag);
        a->val[id] = argv[++i];
    }
    for (int o = 0; o < p->n_opts; o++)
        if ((cmd->required & OPT(o)) && !a->val[o])
            return fail("%s: missing required option %s", cmd->name,
                        p->opt_names[o]);
    return 0;
}

int get_long(const struct args *a, int o, long def, long lo, long hi,
             long *out)
{
    const char *s = a->val[o];
    char *end;
    long v;

    if (!s) {
        *out = def;
        return 0;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || *end || errno == ERANGE || v < lo || v > hi)
        return fail("%s: expected an integer in [%ld, %ld], got '%s'",
                    a->names[o], lo, hi, s);
    *out = v;
    return 0;
}

int get_double(const struct args *a, int o, double def, double lo, double hi,
               int lo_open, double *out)
{
    const char *s = a->val[o];
    char *end;
    double v;

    if (!s) {
        *out = def;
        return 0;
    }
    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v) ||
        (lo_open ? v <= lo : v < lo) || v > hi)
        return fail("%s: expected a number in %c%g, %g], got '%s'",
                    a->names[o], lo_open ? '(' : '[', lo, hi, s);
    *out = v;
    return 0;
}

int get_seed(const struct args *a, int o, uint64_t def, uint64_t *out)
{
    const char *s = a->val[o];
    char *end;
    unsigned long long v = 0;
    int ok;

    if (!s) {
        *out = def;
        return 0;
    }
    /* strtoull would quietly wrap "-1"; insist on plain digits. */
    ok = s[0] >= '0' && s[0] <= '9';
    if (ok) {
        errno = 0;
        v = strtoull(s, &end, 10);
        ok = *end == '\0' && errno != ERANGE;
    }
    if (!ok)
        return fail("%s: expected an integer in [0, 2^64), got '%s'",
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

int cli_main(const struct program *p, int argc, char **argv)
{
    const struct command *cmd = NULL;
    struct args a;

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
        report_error(p);
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        if (is_help(argv[i])) {
            fputs(p->usage, stdout);
            return 0;
        }
    }
    if (parse_args(p, cmd, argc - 2, argv + 2, &a) || apply_threads(p, &a) ||
        cmd->run(&a)) {
        report_error(p);
        return 1;
    }
    return 0;
}

/* ---- Metrics ------------------------------------------------------------ */

FILE *open_metrics(const char *path)
{
    FILE *f = fopen(path, "a");
    if (!f)
        fail("%s: %s", path, strerror(errno));
    return f;
}

void json_num(FILE *f, int *fields, const char *key, double v, int decimals)
{
    fputs((*fields)++ ? "," : "{", f);
    if (isfinite(v))
        fprintf(f, "\"%s\":%.*f", key, decimals, v);
    else
        fprintf(f, "\"%s\":null", key);
}

int finish_json_line(FILE *f, const char *path)
{
    fputs("}\n", f);
    if (fflush(f) != 0 || ferror(f))
        return fail("%s: write failed: %s", path, strerror(errno));
    return 0;
}

int close_metrics(FILE *f, const char *path, int rc)
{
    if (f && fclose(f) != 0 && rc == 0)
        return fail("%s: %s", path, strerror(errno));
    return rc;
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

/* ---- Time and progress -------------------------------------------------- */

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void format_duration(double s, char *buf, size_t len)
{
    long t;

    if (!(s >= 0.0 && s < 1e8)) {
        snprintf(buf, len, "?");
        return;
    }
    t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, len, "%lds", t);
}

void format_etas(double elapsed, int64_t seen, int64_t n, long epochs_after,
                 double cap, char *run, char *epoch, size_t len)
{
    double rate = elapsed > 0.0 ? (double)seen / elapsed : 0.0;
    double left = rate > 0.0 ? (double)(n - seen) / rate : -1.0;
    double left_all =
        rate > 0.0 ? left + (double)epochs_after * (double)n / rate : -1.0;

    if (cap >= 0.0 && left_all > cap)
        left_all = cap;
    format_duration(left_all, run, len);
    format_duration(left, epoch, len);
}

void progress_init(struct progress *p, double interval)
{
    p->interval = interval;
    p->next = now_seconds() + interval;
    p->tty = isatty(fileno(stderr));
    p->shown = 0;
}

int progress_due(struct progress *p)
{
    double t;

    if (p->interval <= 0.0)
        return 0;
    t = now_seconds();
    if (t < p->next)
        return 0;
    p->next = t + p->interval;
    return 1;
}

void progress_line(struct progress *p, const char *fmt, ...)
{
    va_list ap;

    fputs(p->tty ? "\r" : "", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(p->tty ? "\033[K" : "\n", stderr);
    p->shown = p->tty;
}

void progress_clear(struct progress *p)
{
    if (p->shown)
        fputs("\r\033[K", stderr);
    p->shown = 0;
}
