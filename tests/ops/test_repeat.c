/* repeat (src/ops/repeat.c): a vector repeated as a sequence, exactly;
 * gradients against central differences (OPS_COPY_FD_TOL) and
 * accumulation; shape errors. */
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

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_repeat),
    cmocka_unit_test(test_repeat_errors),
};
OPS_GROUP(tests)
