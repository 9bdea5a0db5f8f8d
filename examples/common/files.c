/* files.c - see files.h. */
#define _XOPEN_SOURCE 700 /* O_CLOEXEC, O_DIRECTORY, fsync, realpath */

#include "files.h"
#include "errmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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

/* open(2) of a regular file. A stat first keeps devices from being opened
 * at all (opening some has effects: a tape rewinds); O_NONBLOCK keeps the
 * open from hanging should the path become a FIFO after it, and fstat
 * checks what was opened. The descriptor returns to blocking mode, so the
 * reads and writes after it behave as usual. *st receives the fstat. */
static int open_regular(const char *path, int flags, struct stat *st,
                        char *err, size_t errlen)
{
    int fd, fl, e;

    if (stat(path, st) == 0 && !S_ISREG(st->st_mode))
        return not_regular(path, st->st_mode, err, errlen);
    errno = 0;
    fd = open(path, flags | O_NONBLOCK | O_CLOEXEC, 0666);
    if (fd < 0) {
        e = errno ? errno : EIO;
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
    int fd = -1; /* set by file_open_input; GCC cannot see that at -O2 */

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

/* ---- Replacing a file atomically ------------------------------------------ */

/* Temporary names tried before giving up: each one taken is a file left by
 * a killed writer or being written right now. */
#define TEMP_ATTEMPTS 1000

static int cannot_write(const char *path, int e, char *err, size_t errlen)
{
    return errmsg_set(err, errlen, "%s: cannot write: %s", path,
                      strerror(e ? e : EIO));
}

static int check_replaceable(const char *path, char *err, size_t errlen)
{
    struct stat st;

    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return not_regular(path, st.st_mode, err, errlen);
    return 0;
}

/* Where a write to path goes: the file a symbolic link at path leads to
 * (the link stays a link, as libvae's model saves do), or path itself. A
 * new string; NULL with a message for a link to nothing. */
static char *destination(const char *path, char *err, size_t errlen)
{
    struct stat st;
    char *dest = NULL;

    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        if (!(dest = realpath(path, NULL)))
            errmsg_set(err, errlen, "%s: a symbolic link to nothing", path);
    } else if (!(dest = strdup(path))) {
        errmsg_set(err, errlen, "%s: out of memory", path);
    }
    return dest;
}

int file_replace_begin(struct file_replace *r, const char *path, char *err,
                       size_t errlen)
{
    int e = EEXIST;

    memset(r, 0, sizeof *r);
    r->path = path;
    if (check_replaceable(path, err, errlen) != 0)
        return -1;
    if (!(r->dest = destination(path, err, errlen)))
        return -1;
    /* The pid and k take at most 20 and 3 digits. */
    size_t cap = strlen(r->dest) + sizeof ".tmp.." + 32;
    if (!(r->tmp = malloc(cap))) {
        free(r->dest);
        r->dest = NULL;
        return errmsg_set(err, errlen, "%s: out of memory", path);
    }
    for (int k = 0; k < TEMP_ATTEMPTS && e == EEXIST; k++) {
        int fd;
        snprintf(r->tmp, cap, "%s.tmp.%ld.%d", r->dest, (long)getpid(), k);
        fd = open(r->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) {
            e = errno;
            continue;
        }
        if ((r->fp = fdopen(fd, "wb")))
            return 0;
        e = errno;
        close(fd);
        remove(r->tmp);
    }
    free(r->tmp);
    free(r->dest);
    r->tmp = r->dest = NULL;
    return cannot_write(path, e, err, errlen);
}

int file_replace_abort(struct file_replace *r, int error, char *err,
                       size_t errlen)
{
    if (r->fp)
        fclose(r->fp);
    if (r->tmp)
        remove(r->tmp);
    free(r->tmp);
    free(r->dest);
    r->fp = NULL;
    r->tmp = r->dest = NULL;
    if (error)
        cannot_write(r->path, error, err, errlen);
    return -1;
}

/* Makes the rename itself durable: fsync of the directory holding the
 * temporary name (the path's). Best effort, see files.h. */
static void sync_dir_of(char *name)
{
    char *slash = strrchr(name, '/');
    int fd;

    if (!slash) {
        fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } else {
        /* The name cut after its directory; "/x" lives in "/". */
        char *cut = slash == name ? slash + 1 : slash;
        char keep = *cut;
        *cut = '\0';
        fd = open(name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        *cut = keep;
    }
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

int file_replace_commit(struct file_replace *r, char *err, size_t errlen)
{
    FILE *fp = r->fp;
    int e = 0;

    errno = 0;
    if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0)
        e = errno ? errno : EIO;
    r->fp = NULL;
    if (fclose(fp) != 0 && !e)
        e = errno ? errno : EIO;
    if (!e && rename(r->tmp, r->dest) != 0)
        e = errno ? errno : EIO;
    if (e)
        return file_replace_abort(r, e, err, errlen);
    sync_dir_of(r->tmp);
    free(r->tmp);
    free(r->dest);
    r->tmp = r->dest = NULL;
    return 0;
}

/* ---- Appending records whole ----------------------------------------------- */

int file_open_append(const char *path, char *err, size_t errlen)
{
    struct stat st;
    return open_regular(path, O_WRONLY | O_APPEND | O_CREAT, &st, err,
                        errlen);
}

int file_append(int fd, const char *path, const void *buf, size_t len,
                char *err, size_t errlen)
{
    const char *p = buf;
    struct stat st;
    size_t done = 0;
    int e = 0;

    if (fstat(fd, &st) != 0)
        e = errno;
    while (!e && done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            e = w < 0 ? errno : EIO;
        else
            done += (size_t)w;
    }
    if (!e && fsync(fd) != 0)
        e = errno;
    if (!e)
        return 0;
    if (done > 0 && ftruncate(fd, st.st_size) != 0)
        return errmsg_set(err, errlen,
                          "%s: cannot append: %s; cutting off the partial "
                          "record failed too: %s", path, strerror(e),
                          strerror(errno));
    return errmsg_set(err, errlen, "%s: cannot append: %s", path,
                      strerror(e));
}
