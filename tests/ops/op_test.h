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

/* The registered groups, named as their files: 1 if `name` is one. */
int ops_group_registered(const char *name);

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

/* Ops linear in each single input and weight (conv2d, its transpose,
 * reshape, and the copies: embedding, repeat, concat, transpose): a
 * central difference has no truncation error at any step, so a step of
 * 0.125 (exact in float) instead of 1e-3 cuts the float32 rounding noise
 * 100x. OPS_LINEAR_FD_TOL is for conv2d, conv2d_transpose and reshape:
 * the largest disagreement measured is 4.6e-6. */
#define OPS_LINEAR_FD_H 0.125f
#define OPS_LINEAR_FD_TOL 1e-4
/* For the copies (embedding, repeat, concat, transpose), whose forward is
 * compared exactly (==): the largest disagreement measured is 7e-8. A wrong
 * index, an overwritten instead of accumulated gradient or a lost repeat
 * is off by O(0.1) or more. */
#define OPS_COPY_FD_TOL 1e-5

/* ---- shared checks ------------------------------------------------------ */

/* got is a failure status, g's sticky status, with a message. */
void ops_expect_sticky_failure(vae_graph *g, int32_t got);
/* got must be the status `want`, recorded on g with a message, and sticky;
 * frees g. */
void ops_expect_error(vae_graph *g, int32_t got, int32_t want,
                      const char *what);

/* An id input [T] whose values the test sets (id_max only shapes the
 * harness's own random fill). */
tu_input ops_ids_input(int64_t T, int64_t id_max);
/* got[i] == want[i] for all n. */
void ops_expect_exact(const float *got, const float *want, int64_t n,
                      const char *what);

/* A decoder-like graph: input [3] (node 0), the data x as ids [4] (node 1)
 * and the input repeated as a sequence [4, 3] (node 2). */
vae_graph *ops_three_nodes(void);
/* A builder call on ops_three_nodes's graph that must fail with `status`
 * and a message that names the op and contains `word`. */
typedef struct ops_bad_case {
    int32_t (*build)(vae_graph *g);
    int32_t status;
    const char *op, *word;
} ops_bad_case;
/* Runs each case on a graph of its own; the error must also be sticky. */
void ops_expect_failures(const ops_bad_case *cases, int n);

/* For an op linear in each input and weight: tu_check_grads at step
 * OPS_LINEAR_FD_H within tol, its worst disagreement printed, then
 * tu_check_accumulates. */
void ops_check_linear_grads(tu_harness *h, const char *what, double tol);
/* ops_check_linear_grads within OPS_LINEAR_FD_TOL on the harness of layer l
 * (tu_harness_init with these arguments). */
void ops_check_layer_grads(const int64_t *dims, int32_t rank, const tu_layer *l,
                           int64_t batch, uint64_t seed, const char *what);

#endif
