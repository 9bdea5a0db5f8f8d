/* replay.c - runs a fuzz driver on every file of the corpus directories
 * (or single files) named on the command line, so the normal test suite,
 * with its sanitizers and valgrind, checks each saved input without
 * libFuzzer: replay_DRIVER DIR_OR_FILE...
 * A cmocka test, so the suite's valgrind phase picks it up. An empty
 * directory is an error: a corpus that went missing must not pass. */
#define _POSIX_C_SOURCE 200809L /* opendir, readdir, stat */

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fuzz.h"

static int g_npaths;
static char **g_paths;

static void replay_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0, got;

    if (!fp)
        fail_msg("cannot open %s", path);
    do {
        if (len == cap) {
            unsigned char *q;
            cap = cap ? 2 * cap : 4096;
            q = realloc(buf, cap);
            assert_non_null(q);
            buf = q;
        }
        got = fread(buf + len, 1, cap - len, fp);
        len += got;
    } while (got > 0);
    assert_int_equal(ferror(fp), 0);
    fclose(fp);
    /* Exactly len bytes, as libFuzzer hands them over, so that the
     * sanitizers see any read past the input. */
    unsigned char *exact = malloc(len ? len : 1);
    assert_non_null(exact);
    if (len)
        memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays the regular files of dir in name order; returns their count. */
static size_t replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;

    if (!d)
        fail_msg("cannot open directory %s", dir);
    while ((e = readdir(d)) != NULL) {
        struct stat sb;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(len);
        assert_non_null(path);
        snprintf(path, len, "%s/%s", dir, e->d_name);
        if (e->d_name[0] == '.' || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            free(path);
            continue;
        }
        names = realloc(names, (n + 1) * sizeof *names);
        assert_non_null(names);
        names[n++] = path;
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        replay_file(names[i]);
        free(names[i]);
    }
    free(names);
    return n;
}

static void test_replay(void **state)
{
    (void)state;
    assert_true(g_npaths > 0);
    for (int i = 0; i < g_npaths; i++) {
        struct stat sb;
        if (stat(g_paths[i], &sb) != 0)
            fail_msg("%s does not exist", g_paths[i]);
        if (S_ISDIR(sb.st_mode)) {
            size_t n = replay_dir(g_paths[i]);
            if (n == 0)
                fail_msg("%s holds no inputs", g_paths[i]);
            print_message("replayed %zu inputs of %s\n", n, g_paths[i]);
        } else {
            replay_file(g_paths[i]);
        }
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_replay)};
    g_npaths = argc - 1;
    g_paths = argv + 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
