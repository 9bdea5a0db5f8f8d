/* The rules of replacing a model file (src/replace_file.c,
 * docs/file-format.md "Saving"), through vae_model_save: what is refused
 * before anything is written (an empty path, a directory, a FIFO, a
 * read-only file, a link to nothing), what is followed (a link to a file)
 * and kept (the old file's permission bits), file names as long as the
 * system allows, messages that keep their reason whatever the path's
 * length, and the removal of temporary files that dead processes of this
 * host left. Saves killed for real are test_crash_save's. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crc32.h"
#include "replace_file.h"
#include "testutil.h"

static char dir[64];

static const char *at(const char *name)
{
    static char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static vae_model *tiny(uint64_t seed)
{
    const tu_layer enc[] = {TU_DENSE(5)};
    const tu_layer dec[] = {TU_DENSE(6)};
    return tu_model(6, enc, TU_COUNT(enc), 2, dec, TU_COUNT(dec),
                    VAE_LIKELIHOOD_BERNOULLI, seed);
}

/* The number of entries in dir besides . and .. */
static int entries(const char *d)
{
    DIR *h = opendir(d);
    assert_non_null(h);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(h)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(h);
    return n;
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

static void assert_text(const char *path, const char *text)
{
    char buf[64] = "";
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    assert_string_equal(buf, text);
}

/* A save of a fresh model to path fails with VAE_ERR_IO, a message that
 * holds `reason`, and no file more or less in dir. */
static void refused(const char *path, const char *reason)
{
    vae_model *m = tiny(1);
    int before = entries(dir);
    assert_int_equal(vae_model_save(m, NULL, path), VAE_ERR_IO);
    if (!strstr(vae_model_last_error(m), reason))
        fail_msg("save to \"%s\": \"%s\" lacks \"%s\"", path,
                 vae_model_last_error(m), reason);
    assert_int_equal(entries(dir), before);
    vae_model_free(m);
}

static void test_refused_before_writing(void **state)
{
    (void)state;
    /* The empty path used to write a whole temporary file into the
     * working directory before its rename failed. */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    refused("", "the path is empty");
    assert_int_equal(chdir(cwd), 0);

    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s", at("sub"));
    assert_int_equal(mkdir(sub, 0700), 0);
    refused(sub, "not a regular file (a directory)");
    strcat(sub, "/");
    refused(sub, "names a directory");
    assert_int_equal(rmdir(at("sub")), 0);

    assert_int_equal(mkfifo(at("fifo"), 0600), 0);
    refused(at("fifo"), "not a regular file (a FIFO)");
    struct stat sb;
    assert_int_equal(lstat(at("fifo"), &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode));
    assert_int_equal(remove(at("fifo")), 0);

    /* A file no one may write is someone's "keep this": refused even for
     * root, whom the permission bits do not bind. */
    write_text(at("kept.vae"), "precious");
    assert_int_equal(chmod(at("kept.vae"), 0444), 0);
    refused(at("kept.vae"), "read-only (mode 444)");
    assert_text(at("kept.vae"), "precious");
    assert_int_equal(remove(at("kept.vae")), 0);

    assert_int_equal(symlink("nowhere.vae", at("dangling.vae")), 0);
    refused(at("dangling.vae"), "a symbolic link to nothing");
    assert_int_equal(lstat(at("dangling.vae"), &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    assert_int_equal(remove(at("dangling.vae")), 0);
    assert_int_equal(entries(dir), 0);
}

/* A link to a file stays a link; the file it leads to is replaced. */
static void test_symlink_followed(void **state)
{
    (void)state;
    write_text(at("real.vae"), "old");
    assert_int_equal(symlink("real.vae", at("link.vae")), 0);
    vae_model *m = tiny(2);
    assert_int_equal(vae_model_save(m, NULL, at("link.vae")), VAE_OK);
    struct stat sb;
    assert_int_equal(lstat(at("link.vae"), &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    vae_model *back = NULL;
    assert_int_equal(vae_model_load(at("real.vae"), &back, NULL, NULL, 0),
                     VAE_OK);
    assert_memory_equal(vae_model_params(back), vae_model_params(m),
                        (size_t)vae_model_num_params(m) * sizeof(float));
    assert_int_equal(entries(dir), 2);
    vae_model_free(back);
    vae_model_free(m);
    remove(at("link.vae"));
    remove(at("real.vae"));
}

/* The new file has the permission bits of the one it replaces; a new path
 * gets the usual 0666 less the umask. */
static void test_mode_kept(void **state)
{
    (void)state;
    vae_model *m = tiny(3);
    write_text(at("mode.vae"), "old");
    assert_int_equal(chmod(at("mode.vae"), 0640), 0);
    assert_int_equal(vae_model_save(m, NULL, at("mode.vae")), VAE_OK);
    struct stat sb;
    assert_int_equal(stat(at("mode.vae"), &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);
    remove(at("mode.vae"));

    mode_t old = umask(022);
    assert_int_equal(vae_model_save(m, NULL, at("new.vae")), VAE_OK);
    umask(old);
    assert_int_equal(stat(at("new.vae"), &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);
    remove(at("new.vae"));
    vae_model_free(m);
}

/* A name of `len` bytes in dir: "m" repeated, then ".vae". */
static const char *long_name(size_t len)
{
    static char name[NAME_MAX + 1];
    assert_true(len <= NAME_MAX && len > 4);
    memset(name, 'm', len - 4);
    memcpy(name + len - 4, ".vae", 5);
    return name;
}

/* The temp stem of a base name, by the documented rule: the name itself
 * when it and the longest suffix (28 bytes) fit in NAME_MAX, else its first
 * NAME_MAX - 37 bytes, '~' and its CRC-32 in 8 hex digits. */
static void stem_of(const char *base, char *out)
{
    size_t n = strlen(base);
    if (n + 28 <= NAME_MAX) {
        strcpy(out, base);
        return;
    }
    size_t keep = NAME_MAX - 37;
    snprintf(out, NAME_MAX + 1, "%.*s~%08x", (int)keep, base,
             (unsigned)vae_crc32(0, base, n));
}

static void test_long_names(void **state)
{
    (void)state;
    vae_model *m = tiny(4);
    for (size_t len = 200; len <= NAME_MAX; len += 11) {
        const char *path = at(long_name(len));
        if (vae_model_save(m, NULL, path) != VAE_OK)
            fail_msg("save to a %zu-byte name: %s", len,
                     vae_model_last_error(m));
        vae_model *back = NULL;
        assert_int_equal(vae_model_load(path, &back, NULL, NULL, 0), VAE_OK);
        vae_model_free(back);
        assert_int_equal(remove(path), 0);
    }
    assert_int_equal(entries(dir), 0);
    vae_model_free(m);
}

/* However long the path, the message ends with the reason; the path is
 * what is shortened, keeping its end (the file name). */
static void test_long_path_keeps_reason(void **state)
{
    (void)state;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/no-such-directory-%0200d/%s", dir, 0,
             long_name(250));
    vae_model *m = tiny(5);
    assert_int_equal(vae_model_save(m, NULL, path), VAE_ERR_IO);
    const char *msg = vae_model_last_error(m);
    const char *reason = strerror(ENOENT);
    size_t n = strlen(msg), r = strlen(reason);
    if (n < r || strcmp(msg + n - r, reason) != 0 || !strstr(msg, "...") ||
        !strstr(msg, "mmm.vae"))
        fail_msg("message \"%s\"", msg);
    vae_model_free(m);

    char err[256] = "";
    vae_model *out = NULL;
    assert_int_equal(vae_model_load(path, &out, NULL, err, sizeof err),
                     VAE_ERR_IO);
    n = strlen(err);
    if (n < r || strcmp(err + n - r, reason) != 0 || !strstr(err, "..."))
        fail_msg("load message \"%s\"", err);
}

/* A pid that no longer names a process: a child that has exited and been
 * waited for. */
static long dead_pid(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(0);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    return (long)pid;
}

/* Temp files of dead processes of this host go; those of this process, of
 * a live one and of another host stay; so do other files. For a short name
 * and for a long one, whose stem is shortened. */
static void test_stale_temps_removed(void **state)
{
    (void)state;
    char host[9], other[9];
    vae_host_tag(host);
    char name[256];
    gethostname(name, sizeof name - 1);
    name[sizeof name - 1] = '\0';
    snprintf(other, sizeof other, "%08x",
             (unsigned)vae_crc32(0, name, strlen(name)));
    assert_string_equal(host, other); /* the documented tag */
    other[0] = other[0] == '0' ? '1' : '0';

    vae_model *m = tiny(6);
    const size_t lens[] = {8, NAME_MAX};
    for (int i = 0; i < 2; i++) {
        const char *base = long_name(lens[i]);
        char path[PATH_MAX], stem[NAME_MAX + 1];
        snprintf(path, sizeof path, "%s", at(base));
        stem_of(base, stem);
        long dead1 = dead_pid(), dead2 = dead_pid();
        const struct {
            const char *tag;
            long pid;
            int stays;
        } t[] = {{host, dead1, 0}, {host, dead2, 0},
                 {host, (long)getpid(), 1}, {host, (long)getppid(), 1},
                 {other, dead1, 1}};
        char names[5][PATH_MAX];
        for (int k = 0; k < 5; k++) {
            snprintf(names[k], sizeof names[k], "%s/%s.tmp.%s.%ld.%d", dir,
                     stem, t[k].tag, t[k].pid, k);
            write_text(names[k], "partial");
        }
        /* Not temp files of this path: kept whatever their pid. */
        char near[2][PATH_MAX];
        snprintf(near[0], sizeof near[0], "%s/%s.tmp.%s.%ld.x", dir, stem,
                 host, dead1);
        snprintf(near[1], sizeof near[1], "%s/%s.tmp.%ld.0", dir, stem, dead1);
        write_text(near[0], "not mine");
        write_text(near[1], "older naming");
        assert_int_equal(vae_model_save(m, NULL, path), VAE_OK);
        for (int k = 0; k < 5; k++) {
            if ((access(names[k], F_OK) == 0) != t[k].stays)
                fail_msg("%s: %s", names[k], t[k].stays ? "removed" : "kept");
            remove(names[k]);
        }
        for (int k = 0; k < 2; k++)
            assert_int_equal(remove(near[k]), 0);
        assert_int_equal(remove(path), 0);
    }
    assert_int_equal(entries(dir), 0);
    vae_model_free(m);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/vae-test-replace-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_before_writing),
        cmocka_unit_test(test_symlink_followed),
        cmocka_unit_test(test_mode_kept),
        cmocka_unit_test(test_long_names),
        cmocka_unit_test(test_long_path_keeps_reason),
        cmocka_unit_test(test_stale_temps_removed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
