/* test_dir.c - fixture directories for the examples' unit tests. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, lstat */
#include "test_dir.h"
#include "progress.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int test_dir_make(char *path, size_t cap, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(path, cap, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp",
                     name);

    if (n < 0 || (size_t)n >= cap)
        return -1;
    return mkdtemp(path) ? 0 : -1;
}

void test_dir_remove(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;

    if (lstat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    d = opendir(path);
    if (d) {
        while ((e = readdir(d)) != NULL) {
            char sub[1024];
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            test_dir_remove(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

double test_seconds(void)
{
    return now_seconds();
}
