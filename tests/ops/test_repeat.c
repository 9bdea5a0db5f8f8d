/* repeat (src/ops/repeat.c): a vector repeated as a sequence, exactly;
 * gradients against central differences (OPS_COPY_FD_TOL) and
 * accumulation; shape errors; the builder's argument checks. */
#include <string.h>

#include "op_test.h"

static void test_repeat(void **state)
{
    (void)state;
    const tu_input in = {1, {3}, 0};
    const int64_t times = 2;
    tu_harness h;
    tu_harness_init_op(&h, &in, 1, VAE_OP_REPEAT, &times, 1, NULL, 0, 2, 6);
    assert_int_equal(h.node.s.rank, 2);
    assert_int_equal(h.node.s.shape[0], 2);
    assert_int_equal(h.node.s.shape[1], 3);
    const float x[6] = {1, 2, 3, 4, 5, 6};
    memcpy(h.in.val, x, sizeof x);
    tu_forward(&h);
    const float want[12] = {1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6};
    ops_expect_exact(h.node.val, want, 12, "repeat");
    tu_harness_free(&h);

    const int64_t four = 4;
    tu_harness_init_op(&h, &in, 1, VAE_OP_REPEAT, &four, 1, NULL, 0, 3, 7);
    ops_check_linear_grads(&h, "repeat", OPS_COPY_FD_TOL);
    tu_harness_free(&h);
}

/* Builder calls that must fail (test_repeat_errors). */
static int32_t rep_rank2(vae_graph *g)
{
    return vae_graph_repeat(g, 2, 3);
}
static int32_t rep_zero(vae_graph *g)
{
    return vae_graph_repeat(g, 0, 0);
}
static int32_t rep_neg(vae_graph *g)
{
    return vae_graph_repeat(g, 0, -5);
}
static int32_t rep_huge(vae_graph *g)
{
    return vae_graph_repeat(g, 0, (int64_t)1 << 40);
}
static int32_t rep_no_node(vae_graph *g)
{
    return vae_graph_repeat(g, -1, 3);
}

/* Shape errors through the public builders (ops_expect_failures). */
static void test_repeat_errors(void **state)
{
    (void)state;
    const ops_bad_case cases[] = {
        {rep_rank2, VAE_ERR_SHAPE, "repeat", "vector"},
        {rep_zero, VAE_ERR_RANGE, "repeat", "times"},
        {rep_neg, VAE_ERR_RANGE, "repeat", "times"},
        {rep_huge, VAE_ERR_SHAPE, "repeat", "2^40"},
        {rep_no_node, VAE_ERR_GRAPH, "repeat", "does not exist"},
    };
    ops_expect_failures(cases, TU_COUNT(cases));
}

/* The builder's arguments (recorded for the table walk and
 * docs/reliability.md). */
static void test_repeat_arguments(void **state)
{
    (void)state;
    OPS_EXPECT_NODE_CHECKS(vae_graph_repeat, OPS_VEC, , 3);
    const int64_t bad_times[] = {0, -1, INT64_MIN};
    for (int i = 0; i < TU_COUNT(bad_times); i++) {
        ops_fresh(OPS_VEC);
        OPS_EXPECT_G("times < 1", VAE_ERR_RANGE,
                     vae_graph_repeat(ops_g, 0, bad_times[i]));
    }
    const int64_t too_many[] = {(int64_t)1 << 40, INT64_MAX};
    for (int i = 0; i < TU_COUNT(too_many); i++) {
        ops_fresh(OPS_VEC);
        OPS_EXPECT_G("times x F above 2^40", VAE_ERR_SHAPE,
                     vae_graph_repeat(ops_g, 0, too_many[i]));
    }
    ops_fresh(OPS_SEQ);
    OPS_EXPECT_G("input not a vector", VAE_ERR_SHAPE,
                 vae_graph_repeat(ops_g, 1, 3));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_repeat),
    cmocka_unit_test(test_repeat_errors),
    cmocka_unit_test(test_repeat_arguments),
};
OPS_GROUP(tests)
