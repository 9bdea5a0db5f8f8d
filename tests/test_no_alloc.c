/* test_no_alloc.c - after the first step at a batch size, training and
 * inference allocate nothing. The test is linked with -Wl,--wrap for malloc,
 * calloc and realloc, so every allocation the (static) library makes passes
 * through the counters below. */
#include <stdlib.h>

#include "testutil.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);

static int counting;
static long allocations;

void *__wrap_malloc(size_t n)
{
    allocations += counting;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    allocations += counting;
    return __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    allocations += counting;
    return __real_realloc(p, n);
}

static void start_counting(void)
{
    allocations = 0;
    counting = 1;
}

static long stop_counting(void)
{
    counting = 0;
    return allocations;
}

static void test_steady_state_does_not_allocate(void **state)
{
    (void)state;
    const tu_layer enc[] = {TU_DENSE(12), TU_ACT(VAE_OP_RELU)};
    const tu_layer dec[] = {TU_DENSE(12), TU_ACT(VAE_OP_TANH), TU_DENSE(10)};
    vae_model *m = tu_model(10, enc, TU_COUNT(enc), 3, dec, TU_COUNT(dec),
                            VAE_LIKELIHOOD_BERNOULLI, 7);
    vae_adam *opt = NULL;
    assert_int_equal(vae_adam_new(m, 1e-3, &opt, NULL, 0), VAE_OK);
    enum { BIG = 32, SMALL = 16 };
    float x[BIG * 10], out[BIG * 10], mu[BIG * 3], lv[BIG * 3], z[BIG * 3];
    tu_rng r;
    tu_seed(&r, 1);
    tu_fill_uniform(&r, x, BIG * 10, 0.0, 1.0);

    /* First step at SMALL sizes the workspace. */
    assert_int_equal(vae_model_train_step(m, opt, x, SMALL, NULL, NULL, NULL),
                     VAE_OK);
    start_counting();
    for (int i = 0; i < 5; i++)
        assert_int_equal(vae_model_train_step(m, opt, x, SMALL, NULL, NULL, NULL),
                         VAE_OK);
    assert_int_equal(vae_model_train_step(m, opt, x, SMALL / 2, NULL, NULL, NULL),
                     VAE_OK);
    assert_int_equal(vae_model_elbo(m, x, SMALL, NULL, NULL, NULL), VAE_OK);
    assert_int_equal(vae_model_encode(m, x, SMALL, mu, lv), VAE_OK);
    assert_int_equal(vae_model_decode(m, mu, SMALL, out), VAE_OK);
    assert_int_equal(vae_model_sample(m, SMALL, z, out), VAE_OK);
    assert_int_equal(vae_model_reconstruct(m, x, SMALL, out), VAE_OK);
    assert_int_equal(stop_counting(), 0);

    /* A larger batch must grow the workspace: shows the counter sees the
     * library's allocations at all. */
    start_counting();
    assert_int_equal(vae_model_train_step(m, opt, x, BIG, NULL, NULL, NULL),
                     VAE_OK);
    assert_true(stop_counting() > 0);
    start_counting();
    assert_int_equal(vae_model_train_step(m, opt, x, BIG, NULL, NULL, NULL),
                     VAE_OK);
    assert_int_equal(stop_counting(), 0);

    vae_adam_free(opt);
    vae_model_free(m);
}

/* The same for a sequence model: embedding, both LSTMs (their saved
 * gates and carried state live in the workspace), word dropout, the
 * categorical likelihood. */
static void test_sequence_model_does_not_allocate(void **state)
{
    (void)state;
    enum { T = 6, V = 11, E = 4, H = 5, L = 2, B = 8 };
    const int64_t t = T, l = L;
    vae_graph *enc, *dec;
    assert_int_equal(vae_graph_new(&enc), VAE_OK);
    int32_t x = vae_graph_input(enc, &t, 1);
    int32_t h = vae_graph_lstm(enc, vae_graph_embedding(enc, x, V, E), H, -1,
                               x, 0);
    vae_graph_set_output(enc, h);
    assert_int_equal(vae_graph_new(&dec), VAE_OK);
    int32_t z = vae_graph_input(dec, &l, 1);
    int32_t d = vae_graph_data(dec, &t, 1);
    int32_t in = vae_graph_shift_right(
        dec, vae_graph_token_dropout(dec, d, 0.25f, 3.0f), 1.0f);
    in = vae_graph_concat(dec, vae_graph_embedding_shared(dec, in, V, E),
                          vae_graph_repeat(dec, z, T));
    h = vae_graph_lstm(dec, in, H, vae_graph_dense(dec, z, 2 * H), d, 1);
    vae_graph_set_output(dec, vae_graph_dense(dec, h, V));
    vae_model *m = NULL;
    assert_int_equal(vae_model_new(enc, dec, L, VAE_LIKELIHOOD_CATEGORICAL, 3,
                                   &m, NULL, 0),
                     VAE_OK);
    vae_graph_free(enc);
    vae_graph_free(dec);
    vae_adam *opt = NULL;
    assert_int_equal(vae_adam_new(m, 1e-3, &opt, NULL, 0), VAE_OK);
    float ids[B * T];
    for (int i = 0; i < B * T; i++)
        ids[i] = (float)(i % T < T - (i / T) % 3 ? 1 + (i * 7) % (V - 1) : 0);
    assert_int_equal(vae_model_train_step(m, opt, ids, B, NULL, NULL, NULL),
                     VAE_OK);
    start_counting();
    for (int i = 0; i < 5; i++)
        assert_int_equal(vae_model_train_step(m, opt, ids, B, NULL, NULL, NULL),
                         VAE_OK);
    assert_int_equal(vae_model_elbo(m, ids, B, NULL, NULL, NULL), VAE_OK);
    assert_int_equal(stop_counting(), 0);
    vae_adam_free(opt);
    vae_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steady_state_does_not_allocate),
        cmocka_unit_test(test_sequence_model_does_not_allocate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
