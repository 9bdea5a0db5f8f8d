/* test_dir.h - a fresh directory for tests that write fixture files, its
 * removal with everything in it, and the clock of tests that must finish
 * quickly. */
#ifndef VAE_EXAMPLE_TEST_DIR_H
#define VAE_EXAMPLE_TEST_DIR_H

#include <stddef.h>

/* Creates $TMPDIR/NAME.XXXXXX (/tmp without TMPDIR) and writes its path
 * into path (cap bytes). Returns 0, or -1 if it cannot. */
int test_dir_make(char *path, size_t cap, const char *name);

/* Removes path, recursively if it is a directory. Missing paths are fine. */
void test_dir_remove(const char *path);

/* now_seconds() (progress.h), the clock of tests that must finish
 * quickly: a FIFO or a device given as input must be refused within a
 * second, not after a hang. */
double test_seconds(void);

#endif
