/* status.h - formatting the messages that go with a status code. */
#ifndef VAE_STATUS_H
#define VAE_STATUS_H

#include <stddef.h>

/* Room for a handle's message (vae_*_last_error). */
#define VAE_ERRLEN 256

/* Writes a formatted message into err (if err && errlen). */
void vae_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The longest path a message shows: with it, the reason that follows a path
 * always fits in VAE_ERRLEN. */
#define VAE_PATH_SHOWN 96

/* path as a message shows it: itself when it has at most VAE_PATH_SHOWN
 * bytes, else its start and its end (the file name) around "...", written
 * to buf (VAE_PATH_SHOWN + 1 bytes). */
const char *vae_short_path(const char *path, char buf[VAE_PATH_SHOWN + 1]);

#endif
