/* op_test.h - what the op tests share. Each src/ops/<file>.c that defines
 * an op has its tests in tests/ops/test_<file>.c, one cmocka group that the
 * file registers with OPS_GROUP; CMake compiles every tests/ops/test_*.c
 * into one program, test_ops (main.c), which runs the groups named on its
 * command line, or all of them. */
#ifndef VAE_OP_TEST_H
#define VAE_OP_TEST_H

#include "testutil.h"

/* Adds a group to test_ops, named after `file` (its __FILE__): the part
 * of the base name between "test_" and ".c". Called before main. */
void ops_register(const char *file, int (*run)(const char *group));

/* Registers the file's cmocka tests, the array `tests`, as its group. */
#define OPS_GROUP(tests)                                                   \
    static int ops_run_group_(const char *group)                          \
    {                                                                      \
        return cmocka_run_group_tests_name(group, tests, NULL, NULL);      \
    }                                                                      \
    __attribute__((constructor)) static void ops_register_group_(void)     \
    {                                                                      \
        ops_register(__FILE__, ops_run_group_);                            \
    }

#endif
