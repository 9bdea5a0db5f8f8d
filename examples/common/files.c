/* files.c - see files.h. */
#define _POSIX_C_SOURCE 200809L /* O_CLOEXEC, fstat, fsync */

#include "files.h"
#include "errmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a path that is not a regular file is, for messages. */
static const char *kind_of(mode_t mode)
{
    return S_ISDIR(mode)    ? "a directory"
           : S_ISFIFO(mode) ? "a FIFO"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
           : S_ISSOCK(mode) ? "a socket"
                            : "a special file";
}

static int not_regular(const char *path, mode_t mode, char *err,
                       size_t errlen)
{
    return errmsg_set(err, errlen, "%s: not a regular file (%s)", path,
                      kind_of(mode));
}

static int too_large(const char *path, uint64_t max_bytes, char *err,
                     size_t errlen)
{
    return errmsg_set(err, errlen, "%s: too large: more than %llu bytes",
                      path, (unsigned long long)max_bytes);
}

/* open(2) with O_NONBLOCK added, then the descriptor back in blocking mode
 * once fstat has shown a regular file: the open cannot hang on a FIFO, and
 * the reads and writes after it behave as usual. *st receives the fstat. */
static int open_regular(const char *path, int flags, struct stat *st,
                        char *err, size_t errlen)
{
    int fd, fl, e;

    errno = 0;
    fd = open(path, flags | O_NONBLOCK | O_CLOEXEC, 0666);
    if (fd < 0) {
        e = errno ? errno : EIO;
        /* Opening a FIFO for writing without a reader fails (ENXIO) rather
         * than blocking; say what the path is rather than that. */
        if (stat(path, st) == 0 && !S_ISREG(st->st_mode))
            return not_regular(path, st->st_mode, err, errlen);
        return errmsg_set(err, errlen, "%s: %s", path, strerror(e));
    }
    if (fstat(fd, st) != 0) {
        e = errno;
        close(fd);
        return errmsg_set(err, errlen, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return not_regular(path, st->st_mode, err, errlen);
    }
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        e = errno;
        close(fd);
        return errmsg_set(err, errlen, "%s: %s", path, strerror(e));
    }
    return fd;
}

int file_open_input(const char *path, uint64_t max_bytes, int *fd,
                    uint64_t *size, char *err, size_t errlen)
{
    struct stat st;
    int d = open_regular(path, O_RDONLY, &st, err, errlen);

    if (d < 0)
        return -1;
    if ((uint64_t)st.st_size > max_bytes) {
        close(d);
        return too_large(path, max_bytes, err, errlen);
    }
    *fd = d;
    if (size)
        *size = (uint64_t)st.st_size;
    return 0;
}

int file_read_all(const char *path, uint64_t max_bytes, char **out,
                  size_t *len, char *err, size_t errlen)
{
    uint64_t size = 0;
    size_t n = 0, cap;
    char *buf;
    int fd;

    if (file_open_input(path, max_bytes, &fd, &size, err, errlen) != 0)
        return -1;
    /* One byte beyond the size: reading 0 there shows the end without a
     * second allocation, unless the file grew since it was opened. */
    cap = (size_t)size + 1;
    buf = malloc(cap);
    while (buf) {
        ssize_t got;

        if (n == cap) {
            /* Grown: read on, up to one byte past the limit. */
            size_t more;
            char *q;

            if (n > max_bytes) {
                free(buf);
                close(fd);
                return too_large(path, max_bytes, err, errlen);
            }
            more = cap <= max_bytes - cap ? cap * 2 : (size_t)max_bytes + 1;
            if (!(q = realloc(buf, more)))
                break;
            buf = q;
            cap = more;
        }
        got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return errmsg_set(err, errlen, "%s: read error: %s", path,
                              strerror(e));
        }
        if (got == 0) {
            close(fd);
            *out = buf;
            *len = n;
            return 0;
        }
        n += (size_t)got;
    }
    free(buf);
    close(fd);
    return errmsg_set(err, errlen, "%s: out of memory", path);
}
