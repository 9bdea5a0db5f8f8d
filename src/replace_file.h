/* replace_file.h - putting a new version of a file in place so that a
 * reader, or a crash at any moment, sees the old version or the new one,
 * never a mixture. The rules are docs/file-format.md's "Saving". */
#ifndef VAE_REPLACE_FILE_H
#define VAE_REPLACE_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writes the whole new content to fp (opened "wb", positioned at 0; it may
 * seek). Returns 0 or an errno value. */
typedef int (*vae_write_fn)(FILE *fp, const void *ctx);

/* Replaces the file at path by what write() produces: refuses an empty path,
 * a path ending in '/', a directory or other non-file, a read-only file and
 * a symbolic link to nothing before anything is written; follows a link to
 * an existing file; removes the temporary files that killed saves to the
 * same path on this host left; writes and syncs a temporary file beside the
 * target, gives it the old file's permission bits, renames it over the
 * target and syncs the directory. Returns VAE_OK, VAE_ERR_IO or
 * VAE_ERR_NOMEM, with a message in err that shows the path
 * shortened (status.h) so that the reason always fits. */
int32_t vae_replace_file(const char *path, vae_write_fn write, const void *ctx,
                         char *err, size_t errlen);

/* The tag of this host in temporary names: 8 hex digits of the CRC-32 of
 * its name, in tag (9 bytes). */
void vae_host_tag(char tag[9]);

#endif
