/* What is left of the op tests here until it moves to tests/ops/: the op
 * table, and shape errors of layers on missing nodes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "rng.h"
#include "testutil.h"

/* ---- op table and shape errors ------------------------------------------ */

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

static void expect_sticky_failure(vae_graph *g, int32_t got)
{
    assert_true(got < 0);
    assert_int_equal(vae_graph_status(g), got);
    assert_true(vae_graph_last_error(g)[0] != '\0');
}

static void test_shape_errors(void **state)
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
            expect_sticky_failure(g, tu_add_layer(g, bad_ids[i], &l));
            vae_graph_free(g);
        }

    /* A layer in an empty graph has nothing to refer to. */
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    expect_sticky_failure(g, vae_graph_relu(g, 0));
    vae_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_table),
        cmocka_unit_test(test_shape_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
