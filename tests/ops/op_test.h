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

/* Registers the file's cmocka tests, the array `tests`, as its group;
 * the group's teardown frees the graph of its argument checks (ops_g). */
#define OPS_GROUP(tests)                                                   \
    static int ops_run_group_(const char *group)                          \
    {                                                                      \
        return cmocka_run_group_tests_name(group, tests, NULL,             \
                                           ops_free_graph);                \
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

/* ---- argument checks of the builders ------------------------------------
 *
 * Each op's test file calls the public builders of its src/ops file with
 * every kind of bad argument (NULL graph, node ids naming no node,
 * attributes out of range, inputs that do not fit) through the macros
 * below, which record each check (testutil.h's record). The table walk
 * fails for a builder without any; with VAE_VALIDATION_TABLE=1 it prints
 * their rows of the table in docs/reliability.md (test_api_validation
 * prints the other public functions'). */

/* The graph under test: errors are sticky, so every failing builder call
 * needs a fresh one. ops_fresh frees the one before. */
extern vae_graph *ops_g;
/* Frees ops_g: the teardown of every group (OPS_GROUP). */
int ops_free_graph(void **state);

/* OPS_EMPTY: no nodes. OPS_VEC: input [4]. OPS_IMG: input [2, 6, 6].
 * OPS_SEQ: ids [5] (node 0) and their embedding [5, 3] (node 1). */
typedef enum ops_graph_kind {
    OPS_EMPTY,
    OPS_VEC,
    OPS_IMG,
    OPS_SEQ
} ops_graph_kind;
vae_graph *ops_fresh(ops_graph_kind kind);
/* A graph whose input has shape dims (for sizes no fixed graph has). */
vae_graph *ops_fresh_input(const int64_t *dims, int32_t rank);

/* A builder call on ops_g: status, the same sticky status on ops_g, a
 * message. */
#define OPS_EXPECT_G(what, status, call)                                    \
    do {                                                                    \
        TU_EXPECT((what), (status), (call), vae_graph_last_error(ops_g));   \
        assert_int_equal(vae_graph_status(ops_g), (status));                \
    } while (0)

/* The checks every builder call that takes a node shares: NULL graph, node
 * ids that name no node, a layer before the input. fn(g, x <tail>) adds
 * the layer on x with valid attributes to a graph made by ops_fresh(kind);
 * the tail is empty or starts with a comma: (vae_graph_dense, OPS_VEC, , 3).
 */
#define OPS_EXPECT_NODE_CHECKS(fn, kind, ...)                               \
    do {                                                                    \
        TU_EXPECT("NULL graph", VAE_ERR_INVALID_ARG,                        \
                  fn(NULL, 0 __VA_ARGS__), TU_NO_MSG);                      \
        const int32_t bad_ids_[] = {-1, 2, INT32_MAX, INT32_MIN};           \
        for (int i_ = 0; i_ < TU_COUNT(bad_ids_); i_++) {                   \
            ops_fresh(kind);                                                \
            OPS_EXPECT_G("node id naming no node", VAE_ERR_GRAPH,           \
                         fn(ops_g, bad_ids_[i_] __VA_ARGS__));              \
        }                                                                   \
        ops_fresh(OPS_EMPTY);                                               \
        OPS_EXPECT_G("layer before the input", VAE_ERR_GRAPH,               \
                     fn(ops_g, 0 __VA_ARGS__));                             \
    } while (0)

/* The shape arguments of the two builders that take one, input and data,
 * the same way: NULL graph, NULL dims, ranks and dimensions out of range.
 * fn(g, dims, rank) on a graph made by ops_fresh(kind). */
#define OPS_EXPECT_SHAPE_CHECKS(fn, kind)                                   \
    do {                                                                    \
        const int64_t four_[1] = {4}, ones5_[5] = {1, 1, 1, 1, 1};          \
        const int32_t bad_ranks_[] = {0, -1, 5, INT32_MIN, INT32_MAX};      \
        const int64_t bad_dims_[][2] = {                                    \
            {0, 2}, {3, 0}, {-3, 2}, {INT64_MIN, 1},                        \
            {((int64_t)1 << 40) + 1, 1},                                    \
            {(int64_t)1 << 21, (int64_t)1 << 21}, {INT64_MAX, INT64_MAX}};  \
        TU_EXPECT("NULL graph", VAE_ERR_INVALID_ARG, fn(NULL, four_, 1),    \
                  TU_NO_MSG);                                               \
        ops_fresh(kind);                                                    \
        OPS_EXPECT_G("NULL dims", VAE_ERR_INVALID_ARG, fn(ops_g, NULL, 1)); \
        for (int i_ = 0; i_ < TU_COUNT(bad_ranks_); i_++) {                 \
            ops_fresh(kind);                                                \
            OPS_EXPECT_G("rank not in 1..4", VAE_ERR_SHAPE,                 \
                         fn(ops_g, ones5_, bad_ranks_[i_]));                \
        }                                                                   \
        for (int i_ = 0; i_ < TU_COUNT(bad_dims_); i_++) {                  \
            ops_fresh(kind);                                                \
            OPS_EXPECT_G("dimension < 1, > 2^40, or product > 2^40",        \
                         VAE_ERR_SHAPE, fn(ops_g, bad_dims_[i_], 2));       \
        }                                                                   \
    } while (0)

/* Attributes out of range on their own, and an input that is not an
 * image: both convolutions, fn(g, x, channels, kernel, stride, padding). */
#define OPS_EXPECT_CONV_ATTRS(fn)                                           \
    do {                                                                    \
        const int64_t big_c = ((int64_t)1 << 30) + 1;                       \
        const int64_t big_k = ((int64_t)1 << 20) + 1;                       \
        const int64_t bad_[][4] = {                                         \
            {0, 3, 1, 1},  {-1, 3, 1, 1},  {big_c, 3, 1, 1},                \
            {2, 0, 1, 0},  {2, -3, 1, 0},  {2, big_k, 1, 0},                \
            {2, INT64_MAX, 1, 0},          {2, 3, 0, 1},                    \
            {2, 3, -1, 1}, {2, 3, big_k, 1}, {2, 3, 1, -1},                 \
            {2, 3, 1, 3},  {2, 3, 1, INT64_MAX}};                           \
        for (int i_ = 0; i_ < TU_COUNT(bad_); i_++) {                       \
            ops_fresh(OPS_IMG);                                             \
            OPS_EXPECT_G(                                                   \
                "channels, kernel, stride or padding out of range",         \
                VAE_ERR_RANGE,                                              \
                fn(ops_g, 0, bad_[i_][0], bad_[i_][1], bad_[i_][2],         \
                   bad_[i_][3]));                                           \
        }                                                                   \
        ops_fresh(OPS_VEC);                                                 \
        OPS_EXPECT_G("input not [C, H, W]", VAE_ERR_SHAPE,                  \
                     fn(ops_g, 0, 2, 1, 1, 0));                             \
    } while (0)

/* For an op linear in each input and weight: tu_check_grads at step
 * OPS_LINEAR_FD_H within tol, its worst disagreement printed, then
 * tu_check_accumulates. */
void ops_check_linear_grads(tu_harness *h, const char *what, double tol);
/* ops_check_linear_grads within OPS_LINEAR_FD_TOL on the harness of layer l
 * (tu_harness_init with these arguments). */
void ops_check_layer_grads(const int64_t *dims, int32_t rank, const tu_layer *l,
                           int64_t batch, uint64_t seed, const char *what);

#endif
