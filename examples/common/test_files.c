/* test_files.c - files.h: inputs that are not regular files (a FIFO with no
 * writer, a directory, endless devices) or are too large are refused at
 * once, with a message saying what they are; regular files read whole;
 * an atomic replacement or an append that fails (here at a file-size
 * limit) leaves the old file byte for byte and no temporary file. */
#define _POSIX_C_SOURCE 200809L /* mkfifo, ftruncate, alarm, setrlimit */

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "files.h"
#include "test_dir.h"

/* One directory for the whole group; each test uses names of its own. */
static struct fixture {
    char dir[256];
    char path[512];
    char err[512];
} g_fix;

static int make_dir(void **state)
{
    *state = &g_fix;
    return test_dir_make(g_fix.dir, sizeof g_fix.dir, "test_files");
}

static int remove_dir(void **state)
{
    (void)state;
    test_dir_remove(g_fix.dir);
    return 0;
}

static const char *path_in(struct fixture *f, const char *name)
{
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, name);
    return f->path;
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

/* Both entry points refuse path within a second, with `needle` in the
 * message. A regression that blocks is killed by the alarm rather than
 * hanging the suite. */
static void expect_refused(struct fixture *f, const char *path,
                           uint64_t max_bytes, const char *needle)
{
    double t0 = test_seconds();
    char *buf = (char *)1;
    size_t len = 7;
    int fd = -2;

    alarm(10);
    f->err[0] = '\0';
    assert_int_equal(file_open_input(path, max_bytes, &fd, NULL, f->err,
                                     sizeof f->err), -1);
    assert_int_equal(fd, -2);
    if (!strstr(f->err, needle) || !strstr(f->err, path))
        fail_msg("open: '%s' lacks '%s' or the path", f->err, needle);
    f->err[0] = '\0';
    assert_int_equal(file_read_all(path, max_bytes, &buf, &len, f->err,
                                   sizeof f->err), -1);
    assert_ptr_equal(buf, (char *)1);
    assert_int_equal(len, 7);
    if (!strstr(f->err, needle))
        fail_msg("read: '%s' lacks '%s'", f->err, needle);
    alarm(0);
    assert_true(test_seconds() - t0 < 1.0);
}

static void test_not_regular(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(mkfifo(path_in(f, "fifo"), 0600), 0);
    expect_refused(f, f->path, 1000, "not a regular file (a FIFO)");
    expect_refused(f, f->dir, 1000, "not a regular file (a directory)");
    expect_refused(f, "/dev/zero", 1000,
                   "not a regular file (a character device)");
    expect_refused(f, "/dev/urandom", 1000, "(a character device)");
    expect_refused(f, "/dev/null", 1000, "(a character device)");
    expect_refused(f, path_in(f, "missing"), 1000,
                   "No such file or directory");
}

/* The size limit is checked before anything is read: a sparse file of
 * 5 GiB is refused as fast as one byte over. */
static void test_too_large(void **state)
{
    struct fixture *f = *state;
    FILE *fp = fopen(path_in(f, "big"), "wb");

    assert_non_null(fp);
    assert_int_equal(ftruncate(fileno(fp), (off_t)5 << 30), 0);
    assert_int_equal(fclose(fp), 0);
    expect_refused(f, f->path, (uint64_t)1 << 31,
                   "too large: more than 2147483648 bytes");

    write_text(path_in(f, "eleven"), "hello world");
    expect_refused(f, f->path, 10, "too large: more than 10 bytes");
}

static void test_read_all(void **state)
{
    struct fixture *f = *state;
    char *buf = NULL;
    size_t len = 0;
    uint64_t size = 0;
    int fd = -1;

    write_text(path_in(f, "eleven"), "hello world");
    assert_int_equal(file_open_input(f->path, 11, &fd, &size, f->err,
                                     sizeof f->err), 0);
    assert_int_equal(size, 11);
    assert_int_equal(read(fd, f->err, 5), 5); /* blocking, readable */
    assert_int_equal(close(fd), 0);
    assert_int_equal(file_read_all(f->path, 11, &buf, &len, f->err,
                                   sizeof f->err), 0);
    assert_int_equal(len, 11);
    assert_memory_equal(buf, "hello world", 11);
    free(buf);

    write_text(path_in(f, "empty"), "");
    buf = NULL;
    assert_int_equal(file_read_all(f->path, 0, &buf, &len, f->err,
                                   sizeof f->err), 0);
    assert_non_null(buf);
    assert_int_equal(len, 0);
    free(buf);
}

/* The files in the fixture directory. */
static int count_files(const struct fixture *f)
{
    DIR *d = opendir(f->dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* path must hold `want`, or n bytes of 'x' when want is NULL. */
static void expect_contents(const char *path, const char *want, size_t n)
{
    char *buf = NULL;
    size_t len = 0;

    assert_int_equal(file_read_all(path, 1 << 20, &buf, &len, NULL, 0), 0);
    assert_int_equal(len, want ? strlen(want) : n);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(buf[i], want ? want[i] : 'x');
    free(buf);
}

/* Lowers the file-size limit of this process to `limit` bytes, or with 0
 * restores it. SIGXFSZ is ignored meanwhile, as a write past the limit
 * would otherwise kill the test: the write fails with EFBIG instead. */
static void limit_file_size(rlim_t limit)
{
    static struct rlimit saved;
    static void (*saved_handler)(int);
    struct rlimit lim;

    if (limit) {
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
        saved_handler = signal(SIGXFSZ, SIG_IGN);
        lim = saved;
        lim.rlim_cur = limit;
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    } else {
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
        signal(SIGXFSZ, saved_handler);
    }
}

/* Writes n bytes of 'x' through a replacement of path under a file-size
 * limit of `limit` bytes; returns file_replace_commit's result. */
static int replace_limited(struct fixture *f, const char *path, size_t n,
                           rlim_t limit)
{
    struct file_replace r;
    int rc;

    assert_int_equal(file_replace_begin(&r, path, f->err, sizeof f->err), 0);
    limit_file_size(limit);
    for (size_t i = 0; i < n; i++)
        putc('x', r.fp);
    rc = file_replace_commit(&r, f->err, sizeof f->err);
    limit_file_size(0);
    return rc;
}

static void test_replace(void **state)
{
    struct fixture *f = *state;
    struct file_replace r;
    char path[512];
    int before = count_files(f);

    snprintf(path, sizeof path, "%s", path_in(f, "out.txt"));
    /* Created, then replaced whole. */
    assert_int_equal(file_replace_begin(&r, path, f->err, sizeof f->err), 0);
    fputs("first", r.fp);
    assert_int_equal(file_replace_commit(&r, f->err, sizeof f->err), 0);
    expect_contents(path, "first", 0);
    assert_int_equal(replace_limited(f, path, 100, 1 << 20), 0);
    expect_contents(path, NULL, 100);

    /* 10000 bytes into a 4096-byte limit: the reason, the old bytes. */
    assert_int_equal(replace_limited(f, path, 10000, 4096), -1);
    assert_non_null(strstr(f->err, "out.txt: cannot write: File too large"));
    assert_int_equal(strncmp(f->err, path, strlen(path)), 0);
    assert_int_equal(count_files(f), before + 1);
    expect_contents(path, NULL, 100);

    /* Abandoned: the temporary file goes, with or without a reason. */
    assert_int_equal(file_replace_begin(&r, path, f->err, sizeof f->err), 0);
    fputs("never", r.fp);
    assert_int_equal(count_files(f), before + 2);
    f->err[0] = '\0';
    assert_int_equal(file_replace_abort(&r, 0, f->err, sizeof f->err), -1);
    assert_string_equal(f->err, "");
    assert_int_equal(count_files(f), before + 1);
    assert_int_equal(file_replace_begin(&r, path, f->err, sizeof f->err), 0);
    assert_int_equal(file_replace_abort(&r, ENOSPC, f->err, sizeof f->err),
                     -1);
    assert_non_null(strstr(f->err, "cannot write: No space left on device"));
    assert_int_equal(count_files(f), before + 1);
    expect_contents(path, NULL, 100);
}

/* Nothing but a regular file is replaced (a rename would replace a FIFO or
 * a device node itself), and a missing directory is a plain error. */
static void test_replace_refused(void **state)
{
    struct fixture *f = *state;
    struct file_replace r;
    int before;

    assert_int_equal(mkfifo(path_in(f, "out.fifo"), 0600), 0);
    before = count_files(f);
    assert_int_equal(file_replace_begin(&r, f->path, f->err, sizeof f->err),
                     -1);
    assert_non_null(strstr(f->err, "out.fifo: not a regular file (a FIFO)"));
    assert_int_equal(file_replace_begin(&r, f->dir, f->err, sizeof f->err),
                     -1);
    assert_non_null(strstr(f->err, "not a regular file (a directory)"));
    assert_int_equal(file_replace_begin(&r, path_in(f, "no/such.png"),
                                        f->err, sizeof f->err), -1);
    assert_non_null(
        strstr(f->err, "no/such.png: cannot write: No such file or directory"));
    assert_int_equal(count_files(f), before);
}

/* A symbolic link is followed: the file it leads to is replaced and the
 * link stays a link, as libvae's model saves do; a link to nothing is
 * refused. */
static void test_replace_through_link(void **state)
{
    struct fixture *f = *state;
    struct file_replace r;
    char real[512], link[512];
    struct stat st;

    snprintf(real, sizeof real, "%s", path_in(f, "real.png"));
    snprintf(link, sizeof link, "%s", path_in(f, "link.png"));
    write_text(real, "old");
    assert_int_equal(symlink("real.png", link), 0);
    assert_int_equal(file_replace_begin(&r, link, f->err, sizeof f->err), 0);
    fputs("new", r.fp);
    assert_int_equal(file_replace_commit(&r, f->err, sizeof f->err), 0);
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    expect_contents(real, "new", 0);
    assert_int_equal(remove(real), 0);
    assert_int_equal(file_replace_begin(&r, link, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "link.png: a symbolic link to nothing"));
    assert_int_equal(remove(link), 0);
}

/* A record goes in whole or not at all; anything but a regular file is
 * refused at once (a FIFO without a reader too, which would make a
 * blocking open hang). */
static void test_append(void **state)
{
    struct fixture *f = *state;
    char path[512], big[3000];
    int fd;

    snprintf(path, sizeof path, "%s", path_in(f, "log.jsonl"));
    fd = file_open_append(path, f->err, sizeof f->err);
    assert_true(fd >= 0);
    assert_int_equal(file_append(fd, path, "{\"a\":1}\n", 8, f->err,
                                 sizeof f->err), 0);
    assert_int_equal(file_append(fd, path, "{\"b\":2}\n", 8, f->err,
                                 sizeof f->err), 0);
    expect_contents(path, "{\"a\":1}\n{\"b\":2}\n", 0);

    /* 3000 bytes from 16 into a 2048-byte limit: 2032 written, then
     * EFBIG; the partial record is cut off again. */
    memset(big, 'x', sizeof big);
    limit_file_size(2048);
    assert_int_equal(file_append(fd, path, big, sizeof big, f->err,
                                 sizeof f->err), -1);
    limit_file_size(0);
    assert_non_null(strstr(f->err, "log.jsonl: cannot append: File too large"));
    expect_contents(path, "{\"a\":1}\n{\"b\":2}\n", 0);
    assert_int_equal(close(fd), 0);

    /* Reopened, it appends after what is there. */
    fd = file_open_append(path, f->err, sizeof f->err);
    assert_true(fd >= 0);
    assert_int_equal(file_append(fd, path, "{}\n", 3, f->err, sizeof f->err),
                     0);
    assert_int_equal(close(fd), 0);
    expect_contents(path, "{\"a\":1}\n{\"b\":2}\n{}\n", 0);

    alarm(10);
    assert_int_equal(mkfifo(path_in(f, "log.fifo"), 0600), 0);
    assert_int_equal(file_open_append(f->path, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "log.fifo: not a regular file (a FIFO)"));
    assert_int_equal(file_open_append(f->dir, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "not a regular file (a directory)"));
    assert_int_equal(file_open_append("/dev/null", f->err, sizeof f->err),
                     -1);
    assert_non_null(strstr(f->err, "(a character device)"));
    alarm(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_regular),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_read_all),
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_replace_refused),
        cmocka_unit_test(test_replace_through_link),
        cmocka_unit_test(test_append),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
