/* condition (src/ops/condition.c): a source node of one vector per
 * example that the model fills, so forward leaves its values as they are
 * and backward has nothing to do (the table walk counts it a source);
 * shape errors; the builder's argument checks. How the model fills it is
 * tested in tests/test_conditional.c. */
#include <string.h>

#include "op_test.h"

static void test_condition_node(void **state)
{
    (void)state;
    vae_graph *g = tu_graph_input((const int64_t[]){2}, 1);
    int32_t c = vae_graph_condition(g, 5);
    assert_int_equal(c, 1);
    const vae_node_spec *s = &g->nodes[c];
    assert_int_equal(s->rank, 1);
    assert_int_equal(s->shape[0], 5);
    assert_int_equal(s->n_params, 0);
    assert_int_equal(s->n_inputs, 0);
    assert_int_equal(vae_graph_node_size(g, c), 5);
    vae_graph_free(g);

    /* Forward keeps the values the model put there. */
    vae_node node = {0};
    float val[6] = {1, 2, 3, 4, 5, 6}, keep[6];
    memcpy(keep, val, sizeof val);
    node.val = val;
    vae_op_condition.forward(&node, NULL, NULL, 2);
    vae_op_condition.backward(&node, NULL, NULL, NULL, 2);
    ops_expect_exact(val, keep, 6, "condition values");
}

/* Builder calls on ops_three_nodes's graph that must fail. */
static int32_t cond_zero(vae_graph *g)
{
    return vae_graph_condition(g, 0);
}
static int32_t cond_negative(vae_graph *g)
{
    return vae_graph_condition(g, -3);
}
static int32_t cond_huge(vae_graph *g)
{
    return vae_graph_condition(g, (int64_t)1 << 40);
}
static int32_t cond_with_input(vae_graph *g)
{
    const int32_t x = 0;
    const int64_t attr[2] = {1, 3};
    return vae_graph_add_code(g, VAE_OP_CONDITION, &x, 1, attr, 2, NULL, 0);
}
static int32_t cond_rank2(vae_graph *g)
{
    const int64_t attr[3] = {2, 3, 4};
    return vae_graph_add_code(g, VAE_OP_CONDITION, NULL, 0, attr, 3, NULL, 0);
}

static void test_condition_errors(void **state)
{
    (void)state;
    const ops_bad_case cases[] = {
        {cond_zero, VAE_ERR_RANGE, "condition", "size 0"},
        {cond_negative, VAE_ERR_RANGE, "condition", "size -3"},
        {cond_huge, VAE_ERR_RANGE, "condition", "2^24"},
        {cond_with_input, VAE_ERR_GRAPH, "condition", "no inputs"},
        {cond_rank2, VAE_ERR_SHAPE, "condition", "vector"},
    };
    ops_expect_failures(cases, TU_COUNT(cases));
}

/* The builder's arguments (recorded for the table walk and
 * docs/reliability.md). */
static void test_condition_arguments(void **state)
{
    (void)state;
    TU_EXPECT("NULL graph", VAE_ERR_INVALID_ARG, vae_graph_condition(NULL, 2),
              TU_NO_MSG);
    const int64_t bad_size[] = {0, -1, ((int64_t)1 << 24) + 1, INT64_MIN};
    for (int i = 0; i < TU_COUNT(bad_size); i++) {
        ops_fresh(OPS_VEC);
        OPS_EXPECT_G("size not in 1..2^24", VAE_ERR_RANGE,
                     vae_graph_condition(ops_g, bad_size[i]));
    }
    ops_fresh(OPS_EMPTY);
    OPS_EXPECT_G("before the input", VAE_ERR_GRAPH,
                 vae_graph_condition(ops_g, 2));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_condition_node),
    cmocka_unit_test(test_condition_errors),
    cmocka_unit_test(test_condition_arguments),
};
OPS_GROUP(tests)
