/* walk.c - the tests that walk the op table (src/ops/op_table.c, made
 * from src/ops/op_list.h). test_ops runs them after every group. */
#include <stdio.h>

#include "op_test.h"

static void test_op_table(void **state)
{
    (void)state;
    assert_null(vae_op_get(0));
    assert_null(vae_op_get(-1));
    assert_null(vae_op_get(VAE_OP_COUNT_));
    assert_null(vae_op_get(1000));
    for (int32_t op = VAE_OP_INPUT; op < VAE_OP_COUNT_; op++) {
        const vae_op *o = vae_op_get(op);
        assert_non_null(o);
        assert_non_null(o->name);
        assert_int_equal(o->code, op); /* each op states its own code */
        assert_non_null(o->shape);
        if (op != VAE_OP_INPUT) {
            assert_non_null(o->forward);
            assert_non_null(o->backward);
        }
    }
}

/* A layer of every op after input on a node that does not exist fails
 * with a sticky error (data, which takes no node, on the rank 0 of the
 * layer here); so does a layer in an empty graph. */
static void test_missing_nodes(void **state)
{
    (void)state;
    const int64_t v[1] = {4};
    vae_graph *g;

    const int32_t bad_ids[] = {1, 7, -1};
    for (int32_t op = VAE_OP_DENSE; op < VAE_OP_COUNT_; op++)
        for (int i = 0; i < TU_COUNT(bad_ids); i++) {
            tu_layer l = {.op = op, .units = 3, .slope = 0.1f, .kernel = 1,
                          .stride = 1};
            assert_int_equal(vae_graph_new(&g), VAE_OK);
            assert_int_equal(vae_graph_input(g, v, 1), 0);
            ops_expect_sticky_failure(g, tu_add_layer(g, bad_ids[i], &l));
            vae_graph_free(g);
        }

    /* A layer in an empty graph has nothing to refer to. */
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    ops_expect_sticky_failure(g, vae_graph_relu(g, 0));
    vae_graph_free(g);
}

int ops_run_walk(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_table),
        cmocka_unit_test(test_missing_nodes),
    };
    printf("---- table walk (tests/ops/walk.c)\n");
    fflush(stdout);
    return cmocka_run_group_tests_name("walk", tests, NULL, NULL);
}
