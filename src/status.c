/* status.c - status code descriptions and the shared message formatter. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "status.h"
#include "vae.h"

VAE_API const char *vae_status_string(int32_t status)
{
    switch (status) {
    case VAE_OK: return "ok";
    case VAE_ERR_INVALID_ARG: return "invalid argument";
    case VAE_ERR_SHAPE: return "shape mismatch";
    case VAE_ERR_NOMEM: return "out of memory";
    case VAE_ERR_IO: return "input/output error";
    case VAE_ERR_FORMAT: return "invalid model file";
    case VAE_ERR_NONFINITE: return "non-finite value";
    case VAE_ERR_GRAPH: return "invalid graph";
    case VAE_ERR_VERSION: return "unsupported file format version";
    case VAE_ERR_RANGE: return "value out of range";
    case VAE_ERR_UNSUPPORTED: return "not supported by this build";
    case VAE_ERR_BUSY: return "handle in use by another call";
    default: return "unknown status";
    }
}

void vae_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

const char *vae_short_path(const char *path, char buf[VAE_PATH_SHOWN + 1])
{
    size_t n = strlen(path);
    if (n <= VAE_PATH_SHOWN)
        return path;
    /* The end names the file, so it gets the larger share; a cut inside a
     * UTF-8 sequence moves to the sequence's first byte. */
    size_t head = 32, tail = VAE_PATH_SHOWN - head - 3;
    while (head > 0 && ((unsigned char)path[head] & 0xC0) == 0x80)
        head--;
    const char *end = path + n - tail;
    while (((unsigned char)*end & 0xC0) == 0x80)
        end++;
    memcpy(buf, path, head);
    memcpy(buf + head, "...", 3);
    strcpy(buf + head + 3, end);
    return buf;
}
