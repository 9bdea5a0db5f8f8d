/* cli.h - what the example programs (vae-image, vae-text, vae-explore)
 * share on the command line: one-line errors, option parsing from a table
 * of flags and the command dispatch of main(). It brings metrics.h (the
 * metrics JSON lines) and progress.h (progress lines on stderr) along, so
 * that a command needs this one include.
 *
 * Errors: a failing function records a message with fail() (or fail_lib,
 * fail_file) and returns -1 up to cli_main, which prints it as the single
 * line "PROGRAM: <message>" on stderr and exits with status 1. */
#ifndef VAE_EXAMPLE_CLI_H
#define VAE_EXAMPLE_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "metrics.h"
#include "progress.h"

/* ---- Errors ------------------------------------------------------------- */

/* Records the message of the failure; returns -1. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A failed library call: "what: detail", or the status string when the
 * handle has no message (detail NULL or ""). */
int fail_lib(const char *what, int32_t status, const char *detail);
/* A failed library call on a file: as fail_lib with the path as `what`,
 * unless the library's message names the file already. */
int fail_file(const char *path, int32_t status, const char *detail);
/* Prints "PROGRAM: warning: <message>" on stderr at once, one line, for
 * something the user should know while the command goes on. */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- Options ------------------------------------------------------------ */

/* Each program numbers its flags 0..n-1 (n <= CLI_MAX_OPTS) and names them
 * in a table ("--data", ...); a command lists the flags it allows and those
 * it requires as bit sets of those numbers. */
#define CLI_MAX_OPTS 64
typedef uint64_t cli_set;
#define OPT(o) ((cli_set)1 << (o))

struct args {
    const char *const *names;    /* the program's flag names, by number */
    const char *val[CLI_MAX_OPTS]; /* NULL when the flag was not given */
};

/* Numbers are plain decimal and nothing else: an integer is digits with an
 * optional leading '-' ("128", "-1"); a number may add a fraction and an
 * exponent ("0.25", ".5", "1e-3", "2E+2"). Whitespace, '+', hexadecimal
 * ("0x10", "0x1p-3"), "inf", "nan" and trailing characters are refused
 * with a message naming the flag and the form it takes. */
/* An integer flag in [lo, hi], def when absent. */
int get_long(const struct args *a, int o, long def, long lo, long hi,
             long *out);
/* A finite number in (lo, hi] when lo_open, else in [lo, hi]. */
int get_double(const struct args *a, int o, double def, double lo, double hi,
               int lo_open, double *out);
/* A seed in [0, 2^64), digits only. */
int get_seed(const struct args *a, int o, uint64_t def, uint64_t *out);
/* One of the n names in `names` (its index in *out), def when absent. */
int get_choice(const struct args *a, int o, const char *const *names, int n,
               int def, int *out);

struct command {
    const char *name;
    cli_set allowed, required;
    int (*run)(const struct args *a);
};

struct program {
    const char *name;          /* "vae-image": prefix of every error line */
    const char *usage;         /* the --help text */
    const char *const *opt_names;
    int n_opts;
    int threads_opt;           /* --threads, applied before any command */
    const struct command *commands;
    size_t n_commands;
    const char *error_name; /* prefix of error lines; NULL: name */
    cli_set switches;       /* flags that take no value: a->val of one
                             * given is the flag itself */
};

/* The whole of main(): --help, --version, the command and its flags, the
 * BLAS thread count, then the command; returns the exit status. */
int cli_main(const struct program *p, int argc, char **argv);

/* ---- Paths -------------------------------------------------------------- */

/* The last component of path (trailing slashes dropped) as a new string
 * for the caller to free: what pictures and pages name a file by, since
 * the rest of the path describes only the machine they were made on.
 * NULL for a NULL path or when out of memory. */
char *base_name(const char *path);

#endif
