/* files.h - how the example programs open the files they read, so that a
 * path naming a FIFO, a device or a directory cannot hang or exhaust them,
 * and how they replace or append to the files they write, so that a failed
 * write (a full disk, a file-size limit) never leaves a good file truncated
 * or a record half written.
 *
 * Errors follow errmsg.h: -1 and a one-line message in err (may be NULL)
 * that starts with the path and gives the system's reason. */
#ifndef VAE_EXAMPLE_FILES_H
#define VAE_EXAMPLE_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Opens path for reading. Anything but a regular file is refused with what
 * it is ("not a regular file (a FIFO)", a directory, a character device,
 * ...), from its stat before it is opened, and the open itself does not
 * block (a FIFO without a writer would otherwise hang the program); a file
 * of more than max_bytes is refused too. On success *fd is an ordinary blocking
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

/* ---- Replacing a file atomically -----------------------------------------
 * Readers of the path see the old file or the new one, never a mix: the new
 * bytes go to a temporary file beside it, `<path>.tmp.<pid>.<k>` (the
 * smallest free k, created with O_EXCL, as libvae's model saves name
 * theirs), which replaces the path by rename only once it is complete and
 * synced. A temporary file left by a killed process is never reused or
 * removed: another process may be writing it. */

struct file_replace {
    FILE *fp;         /* write the new contents here */
    const char *path; /* the caller's string, used until commit or abort */
    char *dest;       /* what is replaced: path, or the file a link leads to */
    char *tmp;        /* the temporary file's name */
};

/*
 * Starts replacing path: fails ("PATH: not a regular file (a FIFO)") if
 * path exists and is not a regular file (or a symbolic link to one), which
 * a rename over it would replace, then creates the
 * temporary file and opens it as r->fp. Errors are "PATH: cannot write:
 * REASON" or "PATH: not a regular file (...)".
 */
int file_replace_begin(struct file_replace *r, const char *path, char *err,
                       size_t errlen);

/*
 * Finishes: flushes, fsyncs and closes the temporary file, renames it over
 * the path and fsyncs the directory (best effort: some file systems refuse
 * that, and the file is in place by then). On any failure the temporary
 * file is removed, the path keeps its old contents byte for byte, and the
 * message is "PATH: cannot write: REASON" ("File too large", "No space
 * left on device", ...).
 */
int file_replace_commit(struct file_replace *r, char *err, size_t errlen);

/*
 * Gives up: closes and removes the temporary file; the path is untouched.
 * With error != 0, the errno value a write met, records "PATH: cannot
 * write: REASON"; with 0 leaves err to the caller. Returns -1.
 */
int file_replace_abort(struct file_replace *r, int error, char *err,
                       size_t errlen);

/* ---- Appending records whole --------------------------------------------- */

/*
 * Opens path for appending, creating it if missing (mode 0666 less the
 * umask). As for inputs, the open does not block and anything but a
 * regular file is refused ("not a regular file (a FIFO)"). Returns the
 * descriptor, or -1.
 */
int file_open_append(const char *path, char *err, size_t errlen);

/*
 * Appends the len bytes at buf to fd (opened by file_open_append) as one
 * record and fsyncs it. If any part cannot be written or synced, the file
 * is cut back to its size before the call, so readers never see part of a
 * record and the records before it keep their bytes; the message is
 * "PATH: cannot append: REASON". One writer at a time: a record another
 * process appended meanwhile would be cut off too.
 */
int file_append(int fd, const char *path, const void *buf, size_t len,
                char *err, size_t errlen);

#endif
