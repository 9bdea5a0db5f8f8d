/* errmsg.h - the example's error convention: a caller buffer receives the
 * message, the function returns -1. */
#ifndef VAE_IMAGE_ERRMSG_H
#define VAE_IMAGE_ERRMSG_H

#include <stddef.h>

/* Formats into err (if err && errlen) and returns -1. */
int errmsg_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
