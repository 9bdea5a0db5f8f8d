/* The id rewriters of src/ops/tokens.c, shift_right and token_dropout:
 * forward values against hand-written expectations, training, carry and
 * random behaviour, shape errors, the builders' argument checks. Both take
 * token ids and give token ids and own no parameters: nothing to
 * differentiate, which tu_check_no_grads checks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_test.h"

static void shift_harness(tu_harness *h, int64_t T, float bos, int64_t batch)
{
    const tu_input in = ops_ids_input(T, 9);
    tu_harness_init_op(h, &in, 1, VAE_OP_SHIFT_RIGHT, NULL, 0, &bos, 1, batch,
                       11);
}

static void test_shift_right(void **state)
{
    (void)state;
    tu_harness h;
    shift_harness(&h, 4, 2.0f, 2);
    const float ids[8] = {5, 6, 7, 3, 8, 9, 0, 0};
    memcpy(h.in.val, ids, sizeof ids);
    tu_forward(&h);
    const float want[8] = {2, 5, 6, 7, 2, 8, 9, 0};
    ops_expect_exact(h.node.val, want, 8, "shift_right");
    ops_expect_exact(h.in.val, ids, 8, "shift_right leaves its input");
    tu_check_no_grads(&h, "shift_right");

    /* Generation feeds the previous token itself: it passes through. */
    h.run.carry = 1;
    tu_forward(&h);
    ops_expect_exact(h.node.val, ids, 8, "shift_right while carrying");
    tu_harness_free(&h);

    shift_harness(&h, 1, 3.0f, 3);
    const float one[3] = {7, 1, 0};
    memcpy(h.in.val, one, sizeof one);
    tu_forward(&h);
    const float bos3[3] = {3, 3, 3};
    ops_expect_exact(h.node.val, bos3, 3, "shift_right of one step");
    h.run.carry = 1;
    tu_forward(&h);
    ops_expect_exact(h.node.val, one, 3, "shift_right of one step, carrying");
    tu_harness_free(&h);
}

static void dropout_harness(tu_harness *h, int64_t T, float rate, float unk,
                            int64_t batch, uint64_t seed)
{
    const tu_input in = ops_ids_input(T, 50);
    const float attr[2] = {rate, unk};
    tu_harness_init_op(h, &in, 1, VAE_OP_TOKEN_DROPOUT, NULL, 0, attr, 2, batch,
                       seed);
}

/* Ids 2..49 and every fifth one padding, so unk (1) is never an original. */
static void dropout_ids(tu_harness *h)
{
    tu_rng r;
    tu_seed(&r, 77);
    for (int64_t i = 0; i < tu_in_count(h); i++)
        h->in.val[i] = i % 5 == 0 ? 0.0f : (float)floor(tu_uniform(&r, 2, 50));
}

static void test_token_dropout_copies(void **state)
{
    (void)state;
    tu_harness h;
    dropout_harness(&h, 40, 0.0f, 1.0f, 3, 12);
    dropout_ids(&h);
    tu_forward(&h);
    ops_expect_exact(h.node.val, h.in.val, tu_in_count(&h), "rate 0");
    tu_harness_free(&h);

    dropout_harness(&h, 40, 0.5f, 1.0f, 3, 12);
    dropout_ids(&h);
    h.run.training = 0;
    vae_rng before = h.rng;
    tu_forward(&h);
    ops_expect_exact(h.node.val, h.in.val, tu_in_count(&h), "not training");
    /* Nothing drawn: evaluation does not move the model's stream. */
    assert_memory_equal(&before, &h.rng, sizeof before);
    tu_harness_free(&h);
}

/* Over 4000 ids (3200 non-padding) at rate 0.5 the replaced fraction has sd
 * 0.009; the bound is 5 sd. */
static void test_token_dropout_rate(void **state)
{
    (void)state;
    tu_harness h;
    dropout_harness(&h, 1000, 0.5f, 1.0f, 4, 13);
    dropout_ids(&h);
    float *in = tu_dup(h.in.val, tu_in_count(&h));
    tu_forward(&h);
    ops_expect_exact(h.in.val, in, tu_in_count(&h), "token_dropout input");
    int64_t words = 0, dropped = 0;
    for (int64_t i = 0; i < tu_in_count(&h); i++) {
        float y = h.node.val[i];
        if (in[i] == 0.0f) {
            assert_true(y == 0.0f);
            continue;
        }
        words++;
        if (y == 1.0f)
            dropped++;
        else
            assert_true(y == in[i]);
    }
    double frac = (double)dropped / (double)words;
    printf("  token_dropout: %lld of %lld words replaced (%.4f)\n",
           (long long)dropped, (long long)words, frac);
    assert_int_equal(words, 3200);
    assert_true(fabs(frac - 0.5) < 0.045);

    /* Same seed, same result; another seed, another result. */
    tu_harness same, other;
    dropout_harness(&same, 1000, 0.5f, 1.0f, 4, 13);
    dropout_harness(&other, 1000, 0.5f, 1.0f, 4, 14);
    memcpy(same.in.val, in, (size_t)tu_in_count(&h) * sizeof(float));
    memcpy(other.in.val, in, (size_t)tu_in_count(&h) * sizeof(float));
    tu_forward(&same);
    tu_forward(&other);
    ops_expect_exact(same.node.val, h.node.val, tu_out_count(&h), "same seed");
    int64_t differ = 0;
    for (int64_t i = 0; i < tu_out_count(&h); i++)
        differ += other.node.val[i] != h.node.val[i];
    assert_true(differ > 100);
    /* The stream moves on: a second call drops other words. */
    tu_forward(&same);
    differ = 0;
    for (int64_t i = 0; i < tu_out_count(&h); i++)
        differ += same.node.val[i] != h.node.val[i];
    assert_true(differ > 100);
    tu_harness_free(&same);
    tu_harness_free(&other);
    free(in);
    tu_check_no_grads(&h, "token_dropout");
    tu_harness_free(&h);
}

/* Builder calls that must fail (test_tokens_errors). */
static int32_t shift_rank2(vae_graph *g)
{
    return vae_graph_shift_right(g, 2, 2);
}
static int32_t shift_bos0(vae_graph *g)
{
    return vae_graph_shift_right(g, 1, 0);
}
static int32_t shift_bos_neg(vae_graph *g)
{
    return vae_graph_shift_right(g, 1, -2);
}
static int32_t shift_bos_frac(vae_graph *g)
{
    return vae_graph_shift_right(g, 1, 2.5f);
}
static int32_t shift_bos_nan(vae_graph *g)
{
    return vae_graph_shift_right(g, 1, NAN);
}
static int32_t shift_bos_huge(vae_graph *g)
{
    return vae_graph_shift_right(g, 1, 33554432.0f);
}
static int32_t drop_rank2(vae_graph *g)
{
    return vae_graph_token_dropout(g, 2, 0.1f, 1);
}
static int32_t drop_rate_one(vae_graph *g)
{
    return vae_graph_token_dropout(g, 1, 1.0f, 1);
}
static int32_t drop_rate_neg(vae_graph *g)
{
    return vae_graph_token_dropout(g, 1, -0.1f, 1);
}
static int32_t drop_rate_nan(vae_graph *g)
{
    return vae_graph_token_dropout(g, 1, NAN, 1);
}
static int32_t drop_unk0(vae_graph *g)
{
    return vae_graph_token_dropout(g, 1, 0.1f, 0);
}
static int32_t drop_unk_frac(vae_graph *g)
{
    return vae_graph_token_dropout(g, 1, 0.1f, 1.5f);
}
static int32_t drop_no_node(vae_graph *g)
{
    return vae_graph_token_dropout(g, 7, 0.1f, 1);
}

/* Shape errors through the public builders (ops_expect_failures). */
static void test_tokens_errors(void **state)
{
    (void)state;
    const ops_bad_case cases[] = {
        {shift_rank2, VAE_ERR_SHAPE, "shift_right", "[T]"},
        {shift_bos0, VAE_ERR_RANGE, "shift_right", "bos"},
        {shift_bos_neg, VAE_ERR_RANGE, "shift_right", "bos"},
        {shift_bos_frac, VAE_ERR_RANGE, "shift_right", "bos"},
        {shift_bos_nan, VAE_ERR_RANGE, "shift_right", "bos"},
        {shift_bos_huge, VAE_ERR_RANGE, "shift_right", "bos"},
        {drop_rank2, VAE_ERR_SHAPE, "token_dropout", "[T]"},
        {drop_rate_one, VAE_ERR_RANGE, "token_dropout", "rate"},
        {drop_rate_neg, VAE_ERR_RANGE, "token_dropout", "rate"},
        {drop_rate_nan, VAE_ERR_RANGE, "token_dropout", "rate"},
        {drop_unk0, VAE_ERR_RANGE, "token_dropout", "unk"},
        {drop_unk_frac, VAE_ERR_RANGE, "token_dropout", "unk"},
        {drop_no_node, VAE_ERR_GRAPH, "token_dropout", "does not exist"},
    };
    ops_expect_failures(cases, TU_COUNT(cases));
}

/* The builders' arguments (recorded for the table walk and
 * docs/reliability.md). */
static void test_tokens_arguments(void **state)
{
    (void)state;
    OPS_EXPECT_NODE_CHECKS(vae_graph_shift_right, OPS_SEQ, , 1.0f);
    OPS_EXPECT_NODE_CHECKS(vae_graph_token_dropout, OPS_SEQ, , 0.25f, 3.0f);
    const float bad_ids[] = {0.0f, -1.0f, 1.5f, NAN, INFINITY, 16777216.0f,
                             1e30f};
    for (int i = 0; i < TU_COUNT(bad_ids); i++) {
        ops_fresh(OPS_SEQ);
        OPS_EXPECT_G("bos not an integer in 1..2^24-1", VAE_ERR_RANGE,
                     vae_graph_shift_right(ops_g, 0, bad_ids[i]));
        ops_fresh(OPS_SEQ);
        OPS_EXPECT_G("unk not an integer in 1..2^24-1", VAE_ERR_RANGE,
                     vae_graph_token_dropout(ops_g, 0, 0.25f, bad_ids[i]));
    }
    const float bad_rates[] = {1.0f, -0.1f, NAN, INFINITY, -INFINITY};
    for (int i = 0; i < TU_COUNT(bad_rates); i++) {
        ops_fresh(OPS_SEQ);
        OPS_EXPECT_G("rate NaN or not in [0, 1)", VAE_ERR_RANGE,
                     vae_graph_token_dropout(ops_g, 0, bad_rates[i], 3.0f));
    }
    ops_fresh(OPS_SEQ);
    OPS_EXPECT_G("ids not of shape [T]", VAE_ERR_SHAPE,
                 vae_graph_shift_right(ops_g, 1, 1.0f));
    ops_fresh(OPS_SEQ);
    OPS_EXPECT_G("ids not of shape [T]", VAE_ERR_SHAPE,
                 vae_graph_token_dropout(ops_g, 1, 0.25f, 3.0f));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_shift_right),
    cmocka_unit_test(test_token_dropout_copies),
    cmocka_unit_test(test_token_dropout_rate),
    cmocka_unit_test(test_tokens_errors),
    cmocka_unit_test(test_tokens_arguments),
};
OPS_GROUP(tests)
