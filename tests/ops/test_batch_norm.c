/* batch_norm (src/ops/batch_norm.c): forward with the batch's statistics
 * over every row (examples and time steps) and with the running ones,
 * against the formula in double; the running statistics' update
 * (momentum 0.1, unbiased variance); gradients against central
 * differences in both modes, learned and fixed scale, where in training
 * every output depends on every row; accumulation; builder errors and
 * the builder's argument checks. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "op_test.h"

#define EPS 1e-5
#define MOMENTUM 0.1

/* x [T, F] for `batch` examples: rows = batch x T, features F. */
enum { T = 3, F = 4, BATCH = 2, ROWS = BATCH * T };

static void bn_harness(tu_harness *h, float gamma, uint64_t seed)
{
    const tu_input in = {2, {T, F}, 0};
    tu_harness_init_op(h, &in, 1, VAE_OP_BATCH_NORM, NULL, 0, &gamma, 1, BATCH,
                       seed);
}

/* Feature j's mean and biased variance over all rows, in double. */
static void moments(const float *x, int j, double *mean, double *var)
{
    double s = 0.0, ss = 0.0;
    for (int r = 0; r < ROWS; r++)
        s += x[r * F + j];
    *mean = s / ROWS;
    for (int r = 0; r < ROWS; r++)
        ss += (x[r * F + j] - *mean) * (x[r * F + j] - *mean);
    *var = ss / ROWS;
}

/* y = gamma (x - mean) / sqrt(var + eps) + beta for the given statistics. */
static void expect_normalised(const tu_harness *h, const double *mean,
                              const double *var, const float *gamma,
                              const float *beta, const char *what)
{
    for (int r = 0; r < ROWS; r++)
        for (int j = 0; j < F; j++) {
            double want = gamma[j] * (h->in.val[r * F + j] - mean[j]) /
                              sqrt(var[j] + EPS) +
                          beta[j];
            TU_ASSERT_CLOSE(h->node.val[r * F + j], want, 1e-6, what);
        }
}

static void test_batch_norm_training(void **state)
{
    (void)state;
    tu_harness h;
    bn_harness(&h, 0.0f, 21);
    /* A learned scale: gamma then beta, F each. */
    assert_int_equal(h.node.s.n_params, 2 * F);
    double mean[F], var[F];
    for (int j = 0; j < F; j++)
        moments(h.in.val, j, &mean[j], &var[j]);
    tu_forward(&h);
    expect_normalised(&h, mean, var, h.w, h.w + F, "batch statistics");
    /* Running statistics move a tenth of the way from (0, 1). */
    for (int j = 0; j < F; j++) {
        TU_ASSERT_CLOSE(h.node.buf[j], MOMENTUM * mean[j], 1e-6,
                        "running mean");
        TU_ASSERT_CLOSE(h.node.buf[F + j],
                        (1 - MOMENTUM) + MOMENTUM * var[j] * ROWS / (ROWS - 1),
                        1e-6, "running variance (unbiased)");
    }
    tu_harness_free(&h);

    /* A fixed scale: beta alone is a parameter. */
    const float g7[F] = {0.7f, 0.7f, 0.7f, 0.7f};
    bn_harness(&h, 0.7f, 22);
    assert_int_equal(h.node.s.n_params, F);
    for (int j = 0; j < F; j++)
        moments(h.in.val, j, &mean[j], &var[j]);
    tu_forward(&h);
    expect_normalised(&h, mean, var, g7, h.w, "fixed scale");
    tu_harness_free(&h);
}

/* Running statistics the test chose; forward leaves them alone. */
static void set_running(tu_harness *h, double *mean, double *var)
{
    tu_rng r;
    tu_seed(&r, 23);
    for (int j = 0; j < F; j++) {
        h->node.buf[j] = (float)tu_uniform(&r, -1.0, 1.0);
        h->node.buf[F + j] = (float)tu_uniform(&r, 0.3, 2.0);
        mean[j] = h->node.buf[j];
        var[j] = h->node.buf[F + j];
    }
}

static void test_batch_norm_running(void **state)
{
    (void)state;
    tu_harness h;
    double mean[F], var[F];
    bn_harness(&h, 0.0f, 24);
    h.run.training = 0;
    set_running(&h, mean, var);
    tu_forward(&h);
    expect_normalised(&h, mean, var, h.w, h.w + F, "running statistics");
    for (int j = 0; j < F; j++)
        assert_true(h.node.buf[j] == (float)mean[j] &&
                    h.node.buf[F + j] == (float)var[j]);
    tu_harness_free(&h);
}

static void test_batch_norm_grads(void **state)
{
    (void)state;
    const float gammas[2] = {0.0f, 1.5f};
    for (int k = 0; k < 2; k++) {
        for (int training = 1; training >= 0; training--) {
            tu_harness h;
            double mean[F], var[F];
            bn_harness(&h, gammas[k], 25 + (uint64_t)k);
            h.run.training = training;
            if (!training)
                set_running(&h, mean, var);
            char what[64];
            snprintf(what, sizeof what, "batch_norm, gamma %g, %s",
                     (double)gammas[k], training ? "training" : "running");
            double worst = tu_check_grads(&h, what, OPS_SMOOTH_FD_TOL);
            print_message("%s: worst %.2g\n", what, worst);
            tu_check_accumulates(&h);
            tu_harness_free(&h);
        }
    }
}

/* Builder calls that must fail (test_batch_norm_errors). */
static int32_t bn_negative(vae_graph *g)
{
    return vae_graph_batch_norm(g, 0, -1.0f);
}
static int32_t bn_nan(vae_graph *g)
{
    return vae_graph_batch_norm(g, 0, NAN);
}
static int32_t bn_huge(vae_graph *g)
{
    return vae_graph_batch_norm(g, 0, 2e6f);
}
static int32_t bn_no_node(vae_graph *g)
{
    return vae_graph_batch_norm(g, 7, 0.0f);
}

static void test_batch_norm_errors(void **state)
{
    (void)state;
    const ops_bad_case cases[] = {
        {bn_negative, VAE_ERR_RANGE, "batch_norm", "gamma"},
        {bn_nan, VAE_ERR_RANGE, "batch_norm", "gamma"},
        {bn_huge, VAE_ERR_RANGE, "batch_norm", "gamma"},
        {bn_no_node, VAE_ERR_GRAPH, "batch_norm", "does not exist"},
    };
    ops_expect_failures(cases, TU_COUNT(cases));
}

/* The builder's arguments (recorded for the table walk and
 * docs/reliability.md). */
static void test_batch_norm_arguments(void **state)
{
    (void)state;
    OPS_EXPECT_NODE_CHECKS(vae_graph_batch_norm, OPS_VEC, , 0.0f);
    const float bad_gamma[] = {-0.5f, NAN, INFINITY, 2e6f};
    for (int i = 0; i < TU_COUNT(bad_gamma); i++) {
        ops_fresh(OPS_VEC);
        OPS_EXPECT_G("gamma not in [0, 1e6]", VAE_ERR_RANGE,
                     vae_graph_batch_norm(ops_g, 0, bad_gamma[i]));
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_batch_norm_training),
    cmocka_unit_test(test_batch_norm_running),
    cmocka_unit_test(test_batch_norm_grads),
    cmocka_unit_test(test_batch_norm_errors),
    cmocka_unit_test(test_batch_norm_arguments),
};
OPS_GROUP(tests)
