/* op_test.h - what the op tests share. Each src/ops/<file>.c that defines
 * an op has its tests in tests/ops/test_<file>.c, one cmocka group that the
 * file registers with OPS_GROUP; CMake compiles every tests/ops/test_*.c
 * into one program, test_ops (main.c), which runs the groups named on its
 * command line, or all of them and then the table walk (walk.c). */
#ifndef VAE_OP_TEST_H
#define VAE_OP_TEST_H

#include "testutil.h"

/* Adds a group to test_ops, named after `file` (its __FILE__): the part
 * of the base name between "test_" and ".c". Called before main. */
void ops_register(const char *file, int (*run)(const char *group));

/* ---- steps and tolerances ----------------------------------------------
 *
 * The harness's loss is L = sum(val * R) for a fixed random R (testutil.h),
 * summed in double; the op runs in float32. Tolerances bound
 * |a - n| <= tol * max(1, |a|, |n|) (tu_close).
 *
 * Smooth, nonlinear ops at the harness's step h = 1e-3 (TU_FD_H):
 * truncation error of a central difference is about h^2/6 * |f'| ~ 1e-7
 * for these smooth functions (inputs are kept at least 0.2 away from the
 * relu/leaky kink, farther than h). Rounding error is about (outputs
 * touched) * |R| * |val| * 6e-8 / (2h), i.e. up to a few 1e-4 for the
 * dense layers here; the largest disagreement measured is 2e-4.
 * OPS_SMOOTH_FD_TOL is 10x above that noise; a wrong derivative (missing
 * factor, transposed weight, wrong slope) is off by O(10%) or more. */
#define OPS_SMOOTH_FD_TOL 2e-3

/* ---- shared checks ------------------------------------------------------ */

/* got is a failure status, g's sticky status, with a message. */
void ops_expect_sticky_failure(vae_graph *g, int32_t got);

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
