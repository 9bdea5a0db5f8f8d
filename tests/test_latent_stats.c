/* What the posterior says about a set of examples, and starting a decoder
 * afresh: vae_model_mutual_info against the same estimator computed here in
 * double from the posteriors and the noise (which sample() shows after
 * set_seed), and against its closed-form limits (0 for posteriors that do
 * not depend on x, log n for posteriors that do not overlap);
 * vae_model_active_units against the variances computed here; and
 * vae_model_reset_decoder, which must touch the decoder's parameters only
 * and leave the model's random stream alone. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { D = 6, H = 5, L = 3, N = 40, K = 4 };
#define LOG_2PI 1.8378770664093453 /* log(2 pi) */

static vae_model *model(uint64_t seed)
{
    const tu_layer enc[] = {TU_DENSE(H), TU_ACT(VAE_OP_TANH)};
    const tu_layer dec[] = {TU_DENSE(H), TU_ACT(VAE_OP_TANH), TU_DENSE(D)};
    return tu_model(D, enc, TU_COUNT(enc), L, dec, TU_COUNT(dec),
                    VAE_LIKELIHOOD_BERNOULLI, seed);
}

static void data(float *x, int64_t n, uint64_t seed)
{
    tu_rng r;
    tu_seed(&r, seed);
    tu_fill_uniform(&r, x, n * D, 0.0, 1.0);
}

/* The head is the encoder's last node: W (2L x H) then b (2L). */
static float *head_params(vae_model *m, int64_t *off)
{
    /* enc: dense H (D*H + H), tanh; head (2L*H + 2L). */
    *off = D * H + H;
    return vae_model_params(m) + *off;
}

/* The estimator of vae.h, in double: closed-form negative entropy minus
 * the mean log density of each draw under the mixture of all n. */
static double mi_reference(const float *mu, const float *lv, const float *eps,
                           int64_t n, int64_t k)
{
    double negent = 0.0, sum = 0.0;
    for (int64_t j = 0; j < n; j++)
        for (int t = 0; t < L; t++)
            negent += -0.5 * LOG_2PI - 0.5 * lv[j * L + t] - 0.5;
    negent /= (double)n;
    double *lq = tu_alloc((size_t)n * sizeof *lq);
    for (int64_t i = 0; i < n; i++)
        for (int64_t s = 0; s < k; s++) {
            double z[L], top = -INFINITY, acc = 0.0;
            for (int t = 0; t < L; t++)
                z[t] = mu[i * L + t] +
                       exp(0.5 * lv[i * L + t]) * eps[(i * k + s) * L + t];
            for (int64_t j = 0; j < n; j++) {
                lq[j] = 0.0;
                for (int t = 0; t < L; t++) {
                    double d = z[t] - mu[j * L + t];
                    lq[j] += -0.5 * LOG_2PI - 0.5 * lv[j * L + t] -
                             0.5 * d * d * exp(-lv[j * L + t]);
                }
                top = fmax(top, lq[j]);
            }
            for (int64_t j = 0; j < n; j++)
                acc += exp(lq[j] - top);
            sum += top + log(acc) - log((double)n);
        }
    free(lq);
    return negent - sum / (double)(n * k);
}

static void test_mutual_info_matches_reference(void **state)
{
    (void)state;
    vae_model *m = model(3);
    float x[N * D], mu[N * L], lv[N * L], eps[N * K * L], out[N * K * D];
    data(x, N, 4);
    assert_int_equal(vae_model_encode(m, x, N, mu, lv), VAE_OK);
    /* The noise the estimate will draw: after set_seed(s), sample's z. */
    assert_int_equal(vae_model_set_seed(m, 9), VAE_OK);
    assert_int_equal(vae_model_sample(m, N * K, eps, out), VAE_OK);
    assert_int_equal(vae_model_set_seed(m, 9), VAE_OK);
    double mi = -1.0;
    assert_int_equal(vae_model_mutual_info(m, x, N, K, &mi), VAE_OK);
    double want = mi_reference(mu, lv, eps, N, K);
    print_message("mutual information %.6f nats (reference %.6f, log n "
                  "%.3f)\n", mi, want, log((double)N));
    TU_ASSERT_CLOSE(mi, want, 1e-5, "mutual information");
    vae_model_free(m);
}

/* Posteriors that ignore x (head weights 0) are all one Gaussian: the
 * mixture is that Gaussian and the estimate is 0 up to the noise of the
 * draws; posteriors far apart and narrow (means spread by large weights,
 * log-variance -20) do not overlap, and the estimate is log n up to the
 * same noise: each draw's mixture density is its own posterior's, so the
 * estimate is exactly log n - D / 2 + mean |eps|^2 / 2 over the draws
 * (about 0.06 nats from log n with these sizes, whichever way the seed
 * falls), and that is what it is compared with. */
static void test_mutual_info_limits(void **state)
{
    (void)state;
    enum { NB = 200, KB = 20 };
    float *x = tu_alloc(NB * D * sizeof *x);
    data(x, NB, 5);
    int64_t off;
    vae_model *m = model(3);
    float *head = head_params(m, &off);
    memset(head, 0, 2 * L * H * sizeof *head);
    double mi;
    assert_int_equal(vae_model_mutual_info(m, x, NB, KB, &mi), VAE_OK);
    print_message("posteriors independent of x: %.4f nats\n", mi);
    assert_true(fabs(mi) < 0.05);

    tu_rng r;
    tu_seed(&r, 6);
    tu_fill_uniform(&r, head, L * H, -40.0, 40.0); /* mu rows */
    memset(head + L * H, 0, L * H * sizeof *head); /* logvar rows */
    for (int t = 0; t < L; t++)
        head[2 * L * H + L + t] = -20.0f; /* logvar bias */
    float *eps = tu_alloc(NB * KB * L * sizeof *eps);
    float *out = tu_alloc(NB * KB * D * sizeof *out);
    assert_int_equal(vae_model_set_seed(m, 9), VAE_OK);
    assert_int_equal(vae_model_sample(m, NB * KB, eps, out), VAE_OK);
    assert_int_equal(vae_model_set_seed(m, 9), VAE_OK);
    assert_int_equal(vae_model_mutual_info(m, x, NB, KB, &mi), VAE_OK);
    double sq = 0.0;
    for (int64_t i = 0; i < NB * KB * L; i++)
        sq += (double)eps[i] * eps[i];
    double want = log((double)NB) - 0.5 * L + 0.5 * sq / (NB * KB);
    print_message("posteriors apart: %.6f nats, log n %.6f, log n with the "
                  "draws' noise %.6f\n", mi, log((double)NB), want);
    TU_ASSERT_CLOSE(mi, want, 1e-4, "non-overlapping posteriors");
    free(eps);
    free(out);
    free(x);
    vae_model_free(m);
}

static void test_active_units(void **state)
{
    (void)state;
    vae_model *m = model(8);
    float x[N * D], mu[N * L];
    data(x, N, 7);
    assert_int_equal(vae_model_encode(m, x, N, mu, NULL), VAE_OK);
    double var[L];
    int64_t count = -1;
    assert_int_equal(vae_model_active_units(m, x, N, 0.0, &count, var),
                     VAE_OK);
    int want = 0;
    for (int t = 0; t < L; t++) {
        double mean = 0.0, ss = 0.0;
        for (int j = 0; j < N; j++)
            mean += mu[j * L + t] / N;
        for (int j = 0; j < N; j++)
            ss += (mu[j * L + t] - mean) * (mu[j * L + t] - mean);
        TU_ASSERT_CLOSE(var[t], ss / (N - 1), 1e-6, "variance of mu");
        want += ss / (N - 1) > 0.0;
    }
    assert_int_equal(count, want);
    /* A threshold between the variances splits the dimensions. */
    double mid = (var[0] + var[1]) / 2;
    assert_int_equal(vae_model_active_units(m, x, N, mid, &count, NULL),
                     VAE_OK);
    int above = 0;
    for (int t = 0; t < L; t++)
        above += var[t] > mid;
    assert_int_equal(count, above);
    /* No unit is active when mu ignores x. */
    int64_t off;
    memset(head_params(m, &off), 0, L * H * sizeof(float));
    assert_int_equal(vae_model_active_units(m, x, N, 0.01, &count, NULL),
                     VAE_OK);
    assert_int_equal(count, 0);
    vae_model_free(m);
}

/* The decoder's parameters start afresh (the same for the same seed,
 * spread like a fresh layer's), the encoder's and the head's do not move,
 * and the random stream goes on as if nothing happened. */
static void test_reset_decoder(void **state)
{
    (void)state;
    vae_model *m = model(11), *twin = model(11);
    const int64_t n = vae_model_num_params(m);
    const int64_t enc = D * H + H + 2 * L * H + 2 * L; /* encoder + head */
    float *before = tu_dup(vae_model_params(m), n);
    assert_int_equal(vae_model_set_seed(m, 3), VAE_OK);
    assert_int_equal(vae_model_set_seed(twin, 3), VAE_OK);
    assert_int_equal(vae_model_reset_decoder(m, 99), VAE_OK);
    float *p = vae_model_params(m);
    assert_memory_equal(p, before, (size_t)enc * sizeof *p);
    int64_t changed = 0;
    for (int64_t i = enc; i < n; i++)
        changed += p[i] != before[i];
    assert_true(changed > (n - enc) * 9 / 10);
    /* The first decoder layer (H x L weights, H biases) in +-1/sqrt(L). */
    double bound = 1.0 / sqrt((double)L);
    for (int64_t i = enc; i < enc + H * L + H; i++)
        assert_true(fabs(p[i]) <= bound);
    float *first = tu_dup(p + enc, n - enc);
    assert_int_equal(vae_model_reset_decoder(m, 99), VAE_OK);
    assert_memory_equal(p + enc, first, (size_t)(n - enc) * sizeof *p);
    /* The model's own stream was not used. */
    float a[4], b[4];
    assert_int_equal(vae_model_random_uniform(m, 4, a), VAE_OK);
    assert_int_equal(vae_model_random_uniform(twin, 4, b), VAE_OK);
    assert_memory_equal(a, b, sizeof a);
    free(first);
    free(before);
    vae_model_free(twin);
    vae_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutual_info_matches_reference),
        cmocka_unit_test(test_mutual_info_limits),
        cmocka_unit_test(test_active_units),
        cmocka_unit_test(test_reset_decoder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
