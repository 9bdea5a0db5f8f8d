/* errmsg.h - the examples' error convention for their data layers: a caller
 * buffer receives the message, the function returns -1. */
#ifndef VAE_EXAMPLE_ERRMSG_H
#define VAE_EXAMPLE_ERRMSG_H

#include <stddef.h>

/* Formats into err (if err && errlen) and returns -1. */
int errmsg_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
