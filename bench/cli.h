/* cli.h - command-line parsing shared by the bench programs. */
#ifndef VAE_BENCH_CLI_H
#define VAE_BENCH_CLI_H

#include <errno.h>
#include <stdlib.h>

/* *out = the decimal integer s when all of s is one in [lo, hi]; returns 0,
 * or -1 (and leaves *out) otherwise. */
static inline int bench_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

#endif
