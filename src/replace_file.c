/* replace_file.c - crash-safe replacement of a file: a temporary file
 * beside the target, written and synced, then renamed over it.
 *
 * Temporary names are `<stem>.tmp.<host>.<pid>.<k>`: stem is the target's
 * file name (shortened when the whole would exceed NAME_MAX), host the tag
 * of this machine, pid the saving process and k the smallest number whose
 * name is free (O_EXCL makes it this call's alone, so threads of one
 * process saving to one path take different k). A save killed mid-write
 * leaves its temporary file; the next save to the same path removes those
 * whose process is gone, which it can only tell for processes of its own
 * host: the tag keeps it from touching a live save on another machine that
 * shares the directory. */
#define _XOPEN_SOURCE 700 /* realpath */

#include "replace_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "crc32.h"
#include "status.h"
#include "vae.h"

/* Temp names tried per save before giving up; each one taken is a file
 * being written by another thread of this process right now, or one left
 * by a killed process that had this pid. */
#define TEMP_ATTEMPTS 1000

/* ".tmp." + tag + "." + pid + "." + k at their longest. */
#define SUFFIX_MAX (5 + 8 + 1 + 10 + 1 + 3)

/* The CRC-32 of the n bytes at s as 8 hex digits and a NUL. */
static void crc_hex(const char *s, size_t n, char out[9])
{
    static const char hex[] = "0123456789abcdef";
    uint32_t crc = vae_crc32(0, s, n);
    for (int i = 0; i < 8; i++)
        out[i] = hex[(crc >> (28 - 4 * i)) & 0xF];
    out[8] = '\0';
}

void vae_host_tag(char tag[9])
{
    char name[256] = "";
    if (gethostname(name, sizeof name - 1) != 0)
        name[0] = '\0';
    crc_hex(name, strlen(name), tag);
}

/* The stem of base's temporary names, in out (NAME_MAX + 1 bytes): base
 * itself when base and the longest suffix fit in NAME_MAX, else base's first
 * bytes (cut at a UTF-8 boundary), '~' and the CRC-32 of base in hex, so
 * that two long names with a common start get different stems. */
static void temp_stem(const char *base, char *out)
{
    size_t n = strlen(base);
    if (n + SUFFIX_MAX <= NAME_MAX) {
        memcpy(out, base, n + 1);
        return;
    }
    size_t keep = NAME_MAX - SUFFIX_MAX - 9;
    while (keep > 0 && ((unsigned char)base[keep] & 0xC0) == 0x80)
        keep--;
    memcpy(out, base, keep);
    out[keep] = '~';
    crc_hex(base, n, out + keep + 1);
}

/* Parses a decimal number of 1..max digits that makes up all of s up to
 * `end` (a character not in s's digits, or '\0'). Returns -1 if s is not
 * one. */
static long parse_digits(const char *s, char end, int max)
{
    long v = 0;
    int i = 0;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        if (i == max)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return i > 0 && s[i] == end ? v : -1;
}

/* The pid in a temporary name's "<pid>.<k>" ending, or -1 if the ending is
 * not one. */
static long temp_pid(const char *rest)
{
    long pid = parse_digits(rest, '.', 10);
    if (pid <= 0 || pid > INT_MAX)
        return -1;
    const char *k = strchr(rest, '.') + 1;
    return parse_digits(k, '\0', 3) >= 0 ? pid : -1;
}

/* Removes dir's temporary files of stem written on this host by processes
 * that no longer exist. Best effort: a file that cannot be read or removed
 * stays, and a save never fails because of one. */
static void remove_stale(const char *dir, const char *stem, const char *tag)
{
    char prefix[NAME_MAX + 1 + 16];
    int len = snprintf(prefix, sizeof prefix, "%s.tmp.%s.", stem, tag);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, (size_t)len) != 0)
            continue;
        long pid = temp_pid(e->d_name + len);
        /* Only ESRCH proves the process gone (EPERM means it lives); this
         * process's own files, which its other threads may be writing,
         * stay with the rest of the living. */
        if (pid < 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        (void)unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

/* Flushes the directory entry of a finished rename. Best effort: the file
 * itself is already complete and in place, and some file systems refuse
 * fsync on directories. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    (void)fsync(fd);
    close(fd);
}

static const char *kind_of(mode_t mode)
{
    return S_ISDIR(mode)    ? "a directory"
           : S_ISFIFO(mode) ? "a FIFO"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
           : S_ISSOCK(mode) ? "a socket"
                            : "a special file";
}

/* Where a save to path writes: path itself, or the existing file a
 * symbolic link at path leads to (written to target, PATH_MAX bytes).
 * *mode receives the permission bits of the file replaced, or -1 when
 * there is none. Refuses what must not be replaced. */
static int32_t find_target(const char *path, char *target, int *mode,
                           char *err, size_t errlen)
{
    char shown[VAE_PATH_SHOWN + 1];
    const char *p = vae_short_path(path, shown);
    size_t n = strlen(path);
    if (n == 0) {
        vae_set_err(err, errlen, "the path is empty");
        return VAE_ERR_IO;
    }
    if (path[n - 1] == '/') {
        vae_set_err(err, errlen, "%s names a directory, not a file", p);
        return VAE_ERR_IO;
    }
    if (n >= PATH_MAX) {
        vae_set_err(err, errlen, "cannot write %s: %s", p,
                    strerror(ENAMETOOLONG));
        return VAE_ERR_IO;
    }
    memcpy(target, path, n + 1);
    *mode = -1;
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return VAE_OK; /* a new file; open will tell if it cannot be */
    if (S_ISLNK(sb.st_mode)) {
        if (!realpath(path, target) || stat(target, &sb) != 0) {
            vae_set_err(err, errlen, "cannot write %s: a symbolic link to "
                        "%s", p, errno == ENOENT ? "nothing" : strerror(errno));
            return VAE_ERR_IO;
        }
    }
    if (!S_ISREG(sb.st_mode)) {
        vae_set_err(err, errlen, "cannot replace %s: not a regular file "
                    "(%s)", p, kind_of(sb.st_mode));
        return VAE_ERR_IO;
    }
    /* No write bit at all is someone's "keep this", which binds root too;
     * otherwise the caller must be allowed to write the file itself. */
    if ((sb.st_mode & 0222) == 0 || access(target, W_OK) != 0) {
        vae_set_err(err, errlen, "cannot replace %s: the file is read-only "
                    "(mode %03o)", p, (unsigned)(sb.st_mode & 0777));
        return VAE_ERR_IO;
    }
    *mode = (int)(sb.st_mode & 0777);
    return VAE_OK;
}

/* Creates and opens the first free temporary name in tmp (tmp_len bytes).
 * Returns 0 or an errno value. */
static int create_temp(const char *dir, const char *stem, const char *tag,
                       int mode, char *tmp, size_t tmp_len, FILE **out)
{
    int e = EEXIST;
    for (int k = 0; k < TEMP_ATTEMPTS && e == EEXIST; k++) {
        snprintf(tmp, tmp_len, "%s/%s.tmp.%s.%ld.%d", dir, stem, tag,
                 (long)getpid(), k);
        errno = 0;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) {
            e = errno ? errno : EIO;
            continue;
        }
        if (mode >= 0 && fchmod(fd, (mode_t)mode) != 0)
            e = errno ? errno : EIO;
        else if ((*out = fdopen(fd, "wb")) != NULL)
            return 0;
        else
            e = errno ? errno : ENOMEM;
        close(fd);
        remove(tmp);
        break;
    }
    return e;
}

/* Writes, syncs and closes fp. Returns 0 or an errno value. */
static int write_and_close(FILE *fp, vae_write_fn write, const void *ctx)
{
    errno = 0;
    int e = write(fp, ctx);
    if (!e && (fflush(fp) != 0 || fsync(fileno(fp)) != 0))
        e = errno ? errno : EIO;
    if (fclose(fp) != 0 && !e)
        e = errno ? errno : EIO;
    return e;
}

int32_t vae_replace_file(const char *path, vae_write_fn write, const void *ctx,
                         char *err, size_t errlen)
{
    char target[PATH_MAX];
    int mode;
    int32_t st = find_target(path, target, &mode, err, errlen);
    if (st != VAE_OK)
        return st;

    char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    char dir[PATH_MAX];
    size_t dn = !slash ? 0 : slash == target ? 1 : (size_t)(slash - target);
    memcpy(dir, dn ? target : ".", dn ? dn : 1);
    dir[dn ? dn : 1] = '\0';

    char stem[NAME_MAX + 1], tag[9];
    temp_stem(base, stem);
    vae_host_tag(tag);
    remove_stale(dir, stem, tag);

    size_t tmp_len = strlen(dir) + strlen(stem) + SUFFIX_MAX + 2;
    char *tmp = vae_malloc(tmp_len);
    if (!tmp) {
        vae_set_err(err, errlen, "out of memory");
        return VAE_ERR_NOMEM;
    }
    char shown[VAE_PATH_SHOWN + 1];
    const char *p = vae_short_path(path, shown);
    FILE *fp = NULL;
    int e = create_temp(dir, stem, tag, mode, tmp, tmp_len, &fp);
    if (e) {
        vae_set_err(err, errlen, "cannot create a temporary file beside %s: "
                    "%s", p, strerror(e));
        free(tmp);
        return VAE_ERR_IO;
    }
    e = write_and_close(fp, write, ctx);
    if (!e && rename(tmp, target) != 0)
        e = errno ? errno : EIO;
    if (e) {
        remove(tmp);
        vae_set_err(err, errlen, "cannot write %s: %s", p, strerror(e));
        free(tmp);
        return VAE_ERR_IO;
    }
    free(tmp);
    sync_dir(dir);
    return VAE_OK;
}
