/* Every op's forward pass against its formula and its backward pass against
 * central differences, driven directly through the internal op table.
 *
 * The loss is L = sum(val * R) for a fixed random R, so dL/dval = R and the
 * backward pass is exercised with a dense, non-uniform upstream gradient.
 * L is summed in double; the op itself runs in float32.
 *
 * Step and tolerance: h = 1e-3. Truncation error of a central difference is
 * about h^2/6 * |f'| ~ 1e-7 for these smooth functions (inputs are kept at
 * least 0.2 away from the relu/leaky kink, farther than h). Rounding error is
 * about (outputs touched) * |R| * |val| * 6e-8 / (2h), i.e. up to a few 1e-4
 * for the dense layers here; the largest disagreement measured is 2e-4.
 * Tolerance: |a - n| <= 2e-3 * max(1, |a|, |n|), 10x above that noise; a
 * wrong derivative (missing factor, transposed weight, wrong slope) is off by
 * O(10%) or more.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "rng.h"
#include "testutil.h"

#define FD_TOL 2e-3

/* ---- dense ---------------------------------------------------------------- */

/* y = x W^T + b on the last axis, W units x in (nn.Linear), then b. */
static void check_dense_forward(tu_harness *h, int64_t units)
{
    int64_t in = h->in.s.shape[h->in.s.rank - 1];
    int64_t rows = h->batch * (h->in.s.size / in);
    const float *W = h->w, *b = h->w + units * in;
    tu_forward(h);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t u = 0; u < units; u++) {
            double s = b[u];
            for (int64_t k = 0; k < in; k++)
                s += (double)W[u * in + k] * h->in.val[r * in + k];
            TU_ASSERT_CLOSE(h->node.val[r * units + u], s, 1e-5,
                            "dense forward");
        }
}

static void check_dense(const int64_t *dims, int32_t rank, int64_t units,
                        int64_t batch)
{
    tu_layer l = TU_DENSE(units);
    tu_harness h;
    tu_harness_init(&h, dims, rank, &l, batch, 77 + (uint64_t)rank);
    int64_t in = dims[rank - 1];
    assert_int_equal(h.node.s.rank, rank);
    for (int32_t k = 0; k < rank - 1; k++)
        assert_int_equal(h.node.s.shape[k], dims[k]);
    assert_int_equal(h.node.s.shape[rank - 1], units);
    assert_int_equal(h.node.s.size, h.in.s.size / in * units);
    assert_int_equal(h.node.s.n_params, units * in + units);
    assert_int_equal(vae_graph_node_size(h.g, 1), h.node.s.size);

    check_dense_forward(&h, units);
    tu_check_grads(&h, "dense", FD_TOL);
    tu_check_accumulates(&h);
    tu_harness_free(&h);
}

static void test_dense(void **state)
{
    (void)state;
    const int64_t v[1] = {6};
    const int64_t seq[2] = {3, 4};    /* [T, F]: applied to each of T rows */
    const int64_t img[3] = {2, 3, 4};
    check_dense(v, 1, 5, 4);
    check_dense(v, 1, 1, 1);
    check_dense(seq, 2, 5, 2);
    check_dense(img, 3, 2, 2);
}

/* Dense on [T, F] equals dense on each [F] row with the same weights. */
static void test_dense_per_row(void **state)
{
    (void)state;
    const int64_t seq[2] = {3, 4}, row[1] = {4};
    tu_layer l = TU_DENSE(5);
    tu_harness hs, hr;
    tu_harness_init(&hs, seq, 2, &l, 2, 11);
    tu_harness_init(&hr, row, 1, &l, 6, 12);
    assert_int_equal(hs.node.s.n_params, hr.node.s.n_params);
    memcpy(hr.w, hs.w, (size_t)hs.node.s.n_params * sizeof(float));
    memcpy(hr.in.val, hs.in.val, (size_t)tu_in_count(&hs) * sizeof(float));
    assert_int_equal(tu_out_count(&hs), tu_out_count(&hr));
    tu_forward(&hs);
    tu_forward(&hr);
    for (int64_t i = 0; i < tu_out_count(&hs); i++)
        TU_ASSERT_CLOSE(hs.node.val[i], hr.node.val[i], 1e-6, "per row");
    tu_harness_free(&hs);
    tu_harness_free(&hr);
}

/* nn.Linear's default: W and b uniform in +-1/sqrt(fan_in). For a correct
 * init the spread checks fail for a fraction of seeds of about 0.8^128 <
 * 1e-12 (max of 128 weights), 0.25^8 < 2e-5 (max of 8 biases) and < 1e-6
 * (mean of 136 draws, sd bound/20, more than 5 sd off). */
static void test_dense_init(void **state)
{
    (void)state;
    const int64_t v[1] = {16};
    tu_layer l = TU_DENSE(8);
    tu_check_init(v, 1, &l, 16, 8, 0.8);
}

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
    const int64_t five[5] = {1, 2, 1, 2, 1};
    const int64_t zero_dim[2] = {3, 0};
    const int64_t neg_dim[1] = {-2};
    vae_graph *g;

    const int64_t bad_units[] = {0, -1, INT64_MIN};
    for (int i = 0; i < TU_COUNT(bad_units); i++) {
        assert_int_equal(vae_graph_new(&g), VAE_OK);
        assert_int_equal(vae_graph_input(g, v, 1), 0);
        expect_sticky_failure(g, vae_graph_dense(g, 0, bad_units[i]));
        vae_graph_free(g);
    }

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

    struct {
        const int64_t *dims;
        int32_t rank;
    } bad_inputs[] = {{five, 5}, {v, 0}, {v, -1}, {zero_dim, 2}, {neg_dim, 1}};
    for (int i = 0; i < TU_COUNT(bad_inputs); i++) {
        assert_int_equal(vae_graph_new(&g), VAE_OK);
        expect_sticky_failure(
            g, vae_graph_input(g, bad_inputs[i].dims, bad_inputs[i].rank));
        vae_graph_free(g);
    }

    /* Rank 4 is the documented maximum and must work. */
    const int64_t four[4] = {2, 1, 3, 2};
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    assert_int_equal(vae_graph_input(g, four, 4), 0);
    assert_int_equal(vae_graph_dense(g, 0, 5), 1);
    assert_int_equal(vae_graph_node_size(g, 1), 2 * 1 * 3 * 5);
    assert_int_equal(vae_graph_status(g), VAE_OK);
    assert_string_equal(vae_graph_last_error(g), "");
    vae_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_table),
        cmocka_unit_test(test_dense),
        cmocka_unit_test(test_dense_per_row),
        cmocka_unit_test(test_dense_init),
        cmocka_unit_test(test_shape_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
