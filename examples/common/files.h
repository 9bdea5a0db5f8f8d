/* files.h - how the example programs open the files they read, so that a
 * path naming a FIFO, a device or a directory cannot hang or exhaust them.
 *
 * Errors follow errmsg.h: -1 and a one-line message in err (may be NULL)
 * that starts with the path and gives the system's reason. */
#ifndef VAE_EXAMPLE_FILES_H
#define VAE_EXAMPLE_FILES_H

#include <stddef.h>
#include <stdint.h>

/*
 * Opens path for reading. The open itself does not block (a FIFO without a
 * writer would otherwise hang the program before its type could be
 * checked); anything but a regular file is refused with what it is ("not a
 * regular file (a FIFO)", a directory, a character device, ...), and so is
 * a file of more than max_bytes. On success *fd is an ordinary blocking
 * descriptor, the caller's to close (or to hand to fdopen or gzdopen), and
 * *size, when size is not NULL, the file's size when it was opened.
 */
int file_open_input(const char *path, uint64_t max_bytes, int *fd,
                    uint64_t *size, char *err, size_t errlen);

/*
 * Reads the whole of the file at path, opened as file_open_input does, into
 * *out (malloc'd, the caller frees it; never NULL on success, even for an
 * empty file) and its length into *len. A file that grows past max_bytes
 * while it is read is refused too.
 */
int file_read_all(const char *path, uint64_t max_bytes, char **out,
                  size_t *len, char *err, size_t errlen);

#endif
