/* The full training loss's gradient wrt every parameter, by central
 * differences through the public API, and the reported ELBO/recon/KL against
 * independent computations.
 *
 * vae_model_set_seed before each evaluation fixes the z sample, so the loss
 * is a deterministic, smooth function of the parameters (tanh/softplus only:
 * no kinks). The loss is rebuilt here from the public outputs:
 *   L = -B * recon + beta * B * kl                     (no free bits)
 *   L = -B * recon + beta * B * sum_j max(fb, kl_j)    (free bits; kl_j from
 *                                          vae_model_encode, closed form)
 *
 * Step and tolerance: h = 1e-3 on float32 parameters. L is O(10) and the
 * float32 forward pass makes it noisy at ~1e-7 relative, i.e. ~1e-6
 * absolute, which becomes up to ~1e-3 in (L+ - L-)/(2h); truncation error is
 * O(h^2) ~ 1e-6. The largest disagreement measured is 3.5e-4. Tolerance:
 * |a - n| <= 5e-3 * max(1, |a|, |n|), over 10x that; a wrong gradient
 * (beta ignored, free bits misapplied, a missing reparameterisation path)
 * is off by 2e-2 or far more on some parameter.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "likelihood.h"
#include "model.h"
#include "testutil.h"

enum { D = 5, H = 4, L = 2, B = 4 };
#define Z_SEED 2024u
#define FD_H 1e-3f
#define FD_TOL 5e-3

typedef struct elbo_case {
    const char *name;
    int32_t likelihood;
    double beta, free_bits, obs_logvar;
    int32_t free_bits_mode; /* 0: VAE_FREE_BITS_BATCH */
} elbo_case;

static vae_model *make_model(int32_t likelihood, uint64_t seed)
{
    const tu_layer enc[] = {TU_DENSE(H), TU_ACT(VAE_OP_TANH)};
    const tu_layer dec[] = {TU_DENSE(4), TU_ACT(VAE_OP_SOFTPLUS),
                            TU_DENSE(vae_likelihood_out_size(likelihood, D, 0))};
    vae_model *m = tu_model(D, enc, TU_COUNT(enc), L, dec, TU_COUNT(dec),
                            likelihood, seed);
    assert_int_equal(vae_model_data_size(m), D);
    assert_int_equal(vae_model_latent_dim(m), L);
    return m;
}

static void make_data(float *x, int64_t n, uint64_t seed)
{
    tu_rng r;
    tu_seed(&r, seed);
    tu_fill_uniform(&r, x, n, 0.0, 1.0);
}

/* Per-dimension batch-mean KL from the encoder's mu/logvar, closed form with
 * the documented log-variance clamp. */
static void kl_from_encode(vae_model *m, const float *x, double *kl_dim,
                           double *kl_bj, double *kl_mean)
{
    float mu[B * L], lv[B * L];
    assert_int_equal(vae_model_encode(m, x, B, mu, lv), VAE_OK);
    *kl_mean = 0.0;
    for (int j = 0; j < L; j++) {
        double s = 0.0;
        for (int b = 0; b < B; b++) {
            double u = mu[b * L + j];
            double v = fmin(fmax(lv[b * L + j], VAE_LOGVAR_MIN), VAE_LOGVAR_MAX);
            double k = 0.5 * (u * u + exp(v) - 1.0 - v);
            s += k;
            if (kl_bj)
                kl_bj[b * L + j] = k;
        }
        kl_dim[j] = s / B;
        *kl_mean += kl_dim[j];
    }
}

static double train_loss(vae_model *m, const float *x, const elbo_case *c)
{
    double elbo, recon, kl;
    assert_int_equal(vae_model_set_seed(m, Z_SEED), VAE_OK);
    assert_int_equal(vae_model_elbo(m, x, B, &elbo, &recon, &kl), VAE_OK);
    double kl_term = B * kl;
    if (c->free_bits > 0.0) {
        double kd[L], kbj[B * L], km;
        kl_from_encode(m, x, kd, kbj, &km);
        kl_term = 0.0;
        for (int j = 0; j < L; j++)
            if (c->free_bits_mode == VAE_FREE_BITS_EXAMPLE)
                for (int b = 0; b < B; b++)
                    kl_term += fmax(c->free_bits, kbj[b * L + j]);
            else
                kl_term += B * fmax(c->free_bits, kd[j]);
    }
    return -B * recon + c->beta * kl_term;
}

/* The head is the last encoder node: W (2L x H) then b (2L), mu rows first. */
static float *head_bias(vae_model *m)
{
    const vae_node *head = &m->enc[m->n_enc - 1];
    assert_int_equal(head->s.n_params, 2 * L * H + 2 * L);
    return vae_model_params(m) + head->param_off + 2 * L * H;
}

static void configure(vae_model *m, const elbo_case *c)
{
    assert_int_equal(vae_model_set_beta(m, c->beta), VAE_OK);
    assert_int_equal(vae_model_set_free_bits(m, c->free_bits), VAE_OK);
    if (c->free_bits_mode)
        assert_int_equal(vae_model_set_free_bits_mode(m, c->free_bits_mode),
                         VAE_OK);
    assert_int_equal(vae_model_set_obs_logvar(m, c->obs_logvar), VAE_OK);
}

/* Whether every KL_bj of the batch is at least `gap` from the threshold,
 * away from max()'s kink, where the gradient has no single value. */
static int clear_of_kink(const double *kbj, double free_bits, double gap)
{
    for (int i = 0; i < B * L; i++)
        if (fabs(kbj[i] - free_bits) < gap)
            return 0;
    return 1;
}

/* Shifts mu (the head's bias) so that dim 1's KL is well above the free
 * bits and dim 0's is below them on average; per example, dim 0 must also
 * have examples on both sides, where thresholding the batch mean and each
 * example's KL disagree (so a test that took one for the other fails).
 * For that, dim 0's means are first spread apart (its weights times 4):
 * with the initial weights alone, whether any shift leaves every example
 * clear of the threshold depends on the seed. */
static void place_around_threshold(vae_model *m, const float *x,
                                   const elbo_case *c)
{
    float *bias = head_bias(m);
    double kd[L], kbj[B * L], km;
    bias[1] = 1.6f;
    if (c->free_bits_mode != VAE_FREE_BITS_EXAMPLE) {
        bias[0] = 0.1f;
        kl_from_encode(m, x, kd, kbj, &km);
        assert_true(kd[0] < c->free_bits - 0.1);
        assert_true(kd[1] > c->free_bits + 0.1);
        return;
    }
    for (int i = 0; i < H; i++)
        bias[i - 2 * L * H] *= 4.0f; /* row 0 of W, mu of dim 0 */
    for (int k = 0; k <= 60; k++) {
        bias[0] = -1.5f + 0.05f * (float)k;
        kl_from_encode(m, x, kd, kbj, &km);
        int below = 0, above = 0;
        for (int b = 0; b < B; b++) {
            below += kbj[b * L] < c->free_bits;
            above += kbj[b * L] > c->free_bits;
        }
        if (below && above && kd[1] > c->free_bits + 0.1 &&
            clear_of_kink(kbj, c->free_bits, 0.02))
            return;
    }
    fail_msg("no shift of mu puts dim 0's examples on both sides of %g",
             c->free_bits);
}

static void check_case(const elbo_case *c)
{
    vae_model *m = make_model(c->likelihood, 7);
    configure(m, c);
    float x[B * D];
    make_data(x, B * D, 5);

    if (c->free_bits > 0.0)
        place_around_threshold(m, x, c);

    int64_t n = vae_model_num_params(m);
    float *p = vae_model_params(m);
    assert_int_equal(vae_model_zero_grad(m), VAE_OK);
    assert_int_equal(vae_model_set_seed(m, Z_SEED), VAE_OK);
    double e1, r1, k1, e2, r2, k2;
    assert_int_equal(vae_model_elbo_grad(m, x, B, &e1, &r1, &k1), VAE_OK);
    float *g = tu_dup(vae_model_grads(m), n);

    /* With the same z, elbo and elbo_grad report the same numbers. */
    assert_int_equal(vae_model_set_seed(m, Z_SEED), VAE_OK);
    assert_int_equal(vae_model_elbo(m, x, B, &e2, &r2, &k2), VAE_OK);
    TU_ASSERT_CLOSE(e1, e2, 1e-12, "elbo vs elbo_grad");
    TU_ASSERT_CLOSE(r1, r2, 1e-12, "recon vs elbo_grad");
    TU_ASSERT_CLOSE(k1, k2, 1e-12, "kl vs elbo_grad");

    double biggest = 0.0;
    char msg[128];
    for (int64_t k = 0; k < n; k++) {
        float keep = p[k];
        p[k] = keep + FD_H;
        float up = p[k];
        double lp = train_loss(m, x, c);
        p[k] = keep - FD_H;
        float down = p[k];
        double lm = train_loss(m, x, c);
        p[k] = keep;
        double num = (lp - lm) / ((double)up - (double)down);
        snprintf(msg, sizeof msg, "%s: dL/dp[%lld]", c->name, (long long)k);
        TU_ASSERT_CLOSE(g[k], num, FD_TOL, msg);
        biggest = fmax(biggest, fabs(g[k]));
    }
    assert_true(biggest > 0.1);
    free(g);
    vae_model_free(m);
}

static void test_grad_bernoulli(void **state)
{
    (void)state;
    const elbo_case c = {"bernoulli", VAE_LIKELIHOOD_BERNOULLI, 1.0, 0.0, 0.0,
                         0};
    check_case(&c);
}

static void test_grad_gaussian_fixed(void **state)
{
    (void)state;
    const elbo_case c = {"gaussian fixed", VAE_LIKELIHOOD_GAUSSIAN_FIXED, 1.0,
                         0.0, -1.0, 0};
    check_case(&c);
}

static void test_grad_gaussian_learned(void **state)
{
    (void)state;
    const elbo_case c = {"gaussian learned", VAE_LIKELIHOOD_GAUSSIAN_LEARNED,
                         1.0, 0.0, 0.0, 0};
    check_case(&c);
}

static void test_grad_beta(void **state)
{
    (void)state;
    const elbo_case c = {"beta 0.5", VAE_LIKELIHOOD_BERNOULLI, 0.5, 0.0, 0.0,
                         0};
    check_case(&c);
}

static void test_grad_free_bits(void **state)
{
    (void)state;
    const elbo_case c = {"free bits", VAE_LIKELIHOOD_BERNOULLI, 1.0, 0.5, 0.0,
                         0};
    check_case(&c);
}

/* Free bits per example (Li et al. 2019's per-sentence thresholding):
 * sum_b sum_j max(lambda, KL_bj), no KL gradient where KL_bj <= lambda. */
static void test_grad_free_bits_per_example(void **state)
{
    (void)state;
    const elbo_case c = {"free bits per example", VAE_LIKELIHOOD_BERNOULLI,
                         0.8, 0.5, 0.0, VAE_FREE_BITS_EXAMPLE};
    check_case(&c);
}

/* KL against the closed form of encode's mu/logvar (no dependence on the z
 * sample); ELBO = recon - KL; beta and free bits leave the reported values
 * alone. */
static void test_reported_values(void **state)
{
    (void)state;
    const int32_t kinds[] = {VAE_LIKELIHOOD_BERNOULLI,
                             VAE_LIKELIHOOD_GAUSSIAN_FIXED,
                             VAE_LIKELIHOOD_GAUSSIAN_LEARNED};
    float x[B * D];
    make_data(x, B * D, 9);
    for (int i = 0; i < TU_COUNT(kinds); i++) {
        vae_model *m = make_model(kinds[i], 100 + (uint64_t)i);
        double elbo, recon, kl, kd[L], kl_ref;
        assert_int_equal(vae_model_set_seed(m, 1), VAE_OK);
        assert_int_equal(vae_model_elbo(m, x, B, &elbo, &recon, &kl), VAE_OK);
        kl_from_encode(m, x, kd, NULL, &kl_ref);
        TU_ASSERT_CLOSE(kl, kl_ref, 1e-6, "kl vs closed form");
        TU_ASSERT_CLOSE(elbo, recon - kl, 1e-9, "elbo = recon - kl");
        assert_true(kl >= 0.0);
        if (kinds[i] == VAE_LIKELIHOOD_BERNOULLI)
            assert_true(recon < 0.0);

        assert_int_equal(vae_model_set_beta(m, 0.25), VAE_OK);
        assert_int_equal(vae_model_set_free_bits(m, 2.0), VAE_OK);
        double e2, r2, k2;
        assert_int_equal(vae_model_set_seed(m, 1), VAE_OK);
        assert_int_equal(vae_model_elbo_grad(m, x, B, &e2, &r2, &k2), VAE_OK);
        TU_ASSERT_CLOSE(e2, elbo, 1e-12, "elbo ignores beta/free bits");
        TU_ASSERT_CLOSE(r2, recon, 1e-12, "recon ignores beta/free bits");
        TU_ASSERT_CLOSE(k2, kl, 1e-12, "kl ignores beta/free bits");

        /* All outputs are optional. */
        assert_int_equal(vae_model_elbo(m, x, B, NULL, NULL, NULL), VAE_OK);
        vae_model_free(m);
    }
}

/* Forcing q(z|x) to a near-point mass (logvar bias -40, clamped to -30:
 * std 3e-7) makes z = mu, so recon must equal log p(x | decode(mu)),
 * computed here from vae_model_reconstruct's means. */
static void test_recon_independent(void **state)
{
    (void)state;
    const int32_t kinds[] = {VAE_LIKELIHOOD_BERNOULLI,
                             VAE_LIKELIHOOD_GAUSSIAN_FIXED};
    const double obs_lv = -0.5;
    float x[B * D], mean[B * D];
    make_data(x, B * D, 13);
    for (int i = 0; i < TU_COUNT(kinds); i++) {
        vae_model *m = make_model(kinds[i], 200 + (uint64_t)i);
        assert_int_equal(vae_model_set_obs_logvar(m, obs_lv), VAE_OK);
        const vae_node *head = &m->enc[m->n_enc - 1];
        float *w = vae_model_params(m) + head->param_off;
        memset(w + L * H, 0, L * H * sizeof(float)); /* logvar rows of W */
        float *bias = head_bias(m);
        for (int j = 0; j < L; j++)
            bias[L + j] = -40.0f;

        double elbo, recon, kl, kd[L], kl_ref;
        assert_int_equal(vae_model_elbo(m, x, B, &elbo, &recon, &kl), VAE_OK);
        assert_int_equal(vae_model_reconstruct(m, x, B, mean), VAE_OK);
        double ref = 0.0;
        for (int k = 0; k < B * D; k++) {
            double xv = x[k], pm = mean[k];
            if (kinds[i] == VAE_LIKELIHOOD_BERNOULLI)
                ref += xv * log(pm) + (1.0 - xv) * log1p(-pm);
            else
                ref += -0.5 * (1.8378770664093454836 + obs_lv +
                               (xv - pm) * (xv - pm) / exp(obs_lv));
        }
        TU_ASSERT_CLOSE(recon, ref / B, 1e-5, "recon at z = mu");
        kl_from_encode(m, x, kd, NULL, &kl_ref);
        TU_ASSERT_CLOSE(kl, kl_ref, 1e-6, "kl with clamped logvar");
        /* Each dim holds at least 0.5 * (30 - 1) nats at logvar = -30. */
        assert_true(kl > L * 14.5 - 1e-6);
        vae_model_free(m);
    }
}

/* elbo_grad adds into the gradient buffer; zero_grad and scale_grad act on
 * all of it. */
static void test_grad_accumulation(void **state)
{
    (void)state;
    vae_model *m = make_model(VAE_LIKELIHOOD_BERNOULLI, 3);
    float x[B * D];
    make_data(x, B * D, 21);
    int64_t n = vae_model_num_params(m);
    float *g = vae_model_grads(m);

    assert_int_equal(vae_model_zero_grad(m), VAE_OK);
    for (int64_t k = 0; k < n; k++)
        assert_true(g[k] == 0.0f);
    assert_int_equal(vae_model_set_seed(m, 4), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(m, x, B, NULL, NULL, NULL), VAE_OK);
    float *once = tu_dup(g, n);
    assert_int_equal(vae_model_set_seed(m, 4), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(m, x, B, NULL, NULL, NULL), VAE_OK);
    for (int64_t k = 0; k < n; k++)
        TU_ASSERT_CLOSE(g[k], 2.0 * once[k], 1e-6, "second call adds");

    assert_int_equal(vae_model_scale_grad(m, 0.25), VAE_OK);
    for (int64_t k = 0; k < n; k++)
        TU_ASSERT_CLOSE(g[k], 0.5 * once[k], 1e-6, "scale_grad");
    assert_int_equal(vae_model_zero_grad(m), VAE_OK);
    for (int64_t k = 0; k < n; k++)
        assert_true(g[k] == 0.0f);
    free(once);
    vae_model_free(m);
}

/* The workspace is sized by the largest batch seen; a later, smaller batch
 * must give exactly the gradients a fresh model gives (no activation
 * gradients left over from the larger batch). */
/* A decoder output computed a chunk of examples at a time (3 then 1)
 * gives the results of the whole batch at once, for a likelihood with one
 * output per pixel and one with two. */
static void test_output_chunks(void **state)
{
    (void)state;
    const int32_t kinds[] = {VAE_LIKELIHOOD_BERNOULLI,
                             VAE_LIKELIHOOD_GAUSSIAN_LEARNED};
    float x[B * D];
    make_data(x, B * D, 3);
    for (int i = 0; i < 2; i++) {
        vae_model *whole = make_model(kinds[i], 1);
        vae_model *chunked = make_model(kinds[i], 1);
        tu_check_out_chunks(whole, chunked, x, B, 3);
        tu_check_model_grads(chunked, x, B, Z_SEED, FD_H, FD_TOL);
        vae_model_free(whole);
        vae_model_free(chunked);
    }
}

/* The encoder's tanh computes over its dense layer's values (its
 * derivative needs only y); the decoder's softplus, whose derivative needs
 * x, keeps a buffer of its own. The gradient tests above run both. */
static void test_in_place_activations(void **state)
{
    (void)state;
    vae_model *m = make_model(VAE_LIKELIHOOD_BERNOULLI, 1);
    float x[B * D];
    make_data(x, B * D, 3);
    double elbo;
    assert_int_equal(vae_model_elbo(m, x, B, &elbo, NULL, NULL), VAE_OK);
    assert_int_equal(m->enc[2].s.op, VAE_OP_TANH);
    assert_true(m->enc[2].val_in_input);
    assert_ptr_equal(m->enc[2].val, m->enc[1].val);
    assert_int_equal(m->dec[2].s.op, VAE_OP_SOFTPLUS);
    assert_false(m->dec[2].val_in_input);
    assert_ptr_not_equal(m->dec[2].val, m->dec[1].val);
    vae_model_free(m);
}

static void test_batch_shrink(void **state)
{
    (void)state;
    enum { BIG = 16 };
    const int32_t kinds[] = {VAE_LIKELIHOOD_BERNOULLI,
                             VAE_LIKELIHOOD_GAUSSIAN_LEARNED};
    float big[BIG * D], x[B * D];
    make_data(big, BIG * D, 30);
    make_data(x, B * D, 31);
    for (int i = 0; i < TU_COUNT(kinds); i++) {
        vae_model *used = make_model(kinds[i], 50);
        vae_model *fresh = make_model(kinds[i], 50);
        int64_t n = vae_model_num_params(used);
        assert_int_equal(vae_model_elbo_grad(used, big, BIG, NULL, NULL, NULL),
                         VAE_OK);
        for (int rep = 0; rep < 2; rep++) {
            double eu, ef;
            assert_int_equal(vae_model_zero_grad(used), VAE_OK);
            assert_int_equal(vae_model_zero_grad(fresh), VAE_OK);
            assert_int_equal(vae_model_set_seed(used, 3), VAE_OK);
            assert_int_equal(vae_model_set_seed(fresh, 3), VAE_OK);
            assert_int_equal(vae_model_elbo_grad(used, x, B, &eu, NULL, NULL),
                             VAE_OK);
            assert_int_equal(vae_model_elbo_grad(fresh, x, B, &ef, NULL, NULL),
                             VAE_OK);
            TU_ASSERT_CLOSE(eu, ef, 1e-12, "elbo after a larger batch");
            const float *gu = vae_model_grads(used), *gf = vae_model_grads(fresh);
            for (int64_t k = 0; k < n; k++)
                TU_ASSERT_CLOSE(gu[k], gf[k], 1e-6, "grad after a larger batch");
        }
        vae_model_free(used);
        vae_model_free(fresh);
    }
}

/* A NaN weight makes the loss NaN: an error, and the gradients that were
 * already accumulated are left exactly as they were. */
static void test_nonfinite_loss(void **state)
{
    (void)state;
    vae_model *m = make_model(VAE_LIKELIHOOD_GAUSSIAN_LEARNED, 8);
    float x[B * D];
    make_data(x, B * D, 22);
    int64_t n = vae_model_num_params(m);
    assert_int_equal(vae_model_zero_grad(m), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(m, x, B, NULL, NULL, NULL), VAE_OK);
    float *before = tu_dup(vae_model_grads(m), n);

    float *p = vae_model_params(m);
    p[0] = NAN;
    double elbo = 0.0;
    assert_int_equal(vae_model_elbo_grad(m, x, B, &elbo, NULL, NULL),
                     VAE_ERR_NONFINITE);
    assert_memory_equal(vae_model_grads(m), before, (size_t)n * sizeof(float));
    assert_true(vae_model_last_error(m)[0] != '\0');
    free(before);
    vae_model_free(m);
}

/* The noise of the z draws given by the caller: the normals that
 * vae_model_sample draws after set_seed(s) are the eps that the ELBO and
 * its gradient draw after set_seed(s) (the header's promise), so passing
 * them reproduces the drawn calls bit for bit, with k = 1 and k = 3 samples;
 * and eps = 0 puts z at the posterior mean, where the reconstruction term
 * is log p(x | mu), which vae_model_log_likelihood computes on its own. */
static void test_given_noise(void **state)
{
    (void)state;
    vae_model *m = make_model(VAE_LIKELIHOOD_BERNOULLI, 9);
    const int64_t n = vae_model_num_params(m);
    enum { K = 3 };
    float x[B * D], eps[B * K * L], out[B * K * D];
    make_data(x, B * D, 10);
    for (int64_t k = 1; k <= K; k += K - 1) {
        assert_int_equal(vae_model_set_train_samples(m, k), VAE_OK);
        assert_int_equal(vae_model_set_seed(m, 77), VAE_OK);
        assert_int_equal(vae_model_sample(m, B * k, eps, out), VAE_OK);

        double e1, r1, k1, e2, r2, k2;
        assert_int_equal(vae_model_set_seed(m, 77), VAE_OK);
        assert_int_equal(vae_model_zero_grad(m), VAE_OK);
        assert_int_equal(vae_model_elbo_grad(m, x, B, &e1, &r1, &k1), VAE_OK);
        float *g1 = tu_dup(vae_model_grads(m), n);
        assert_int_equal(vae_model_set_seed(m, 12345), VAE_OK);
        assert_int_equal(vae_model_zero_grad(m), VAE_OK);
        assert_int_equal(vae_model_elbo_grad_noise(m, x, B, eps, &e2, &r2, &k2),
                         VAE_OK);
        assert_memory_equal(vae_model_grads(m), g1, (size_t)n * sizeof(float));
        assert_true(e1 == e2 && r1 == r2 && k1 == k2);
        free(g1);
    }
    double e1, e2;
    assert_int_equal(vae_model_set_seed(m, 77), VAE_OK);
    assert_int_equal(vae_model_elbo(m, x, B, &e1, NULL, NULL), VAE_OK);
    assert_int_equal(vae_model_elbo_noise(m, x, B, eps, &e2, NULL, NULL),
                     VAE_OK);
    assert_true(e1 == e2);

    float zero[B * L] = {0}, mu[B * L];
    double recon, logp[B], sum = 0.0;
    assert_int_equal(vae_model_elbo_noise(m, x, B, zero, NULL, &recon, NULL),
                     VAE_OK);
    assert_int_equal(vae_model_encode(m, x, B, mu, NULL), VAE_OK);
    assert_int_equal(vae_model_log_likelihood(m, mu, x, B, logp), VAE_OK);
    for (int b = 0; b < B; b++)
        sum += logp[b];
    TU_ASSERT_CLOSE(recon, sum / B, 1e-12, "recon at eps = 0 vs log p(x|mu)");
    vae_model_free(m);
}

/* The raw decoder output: its sigmoid is the decoded mean (Bernoulli);
 * for the learned Gaussian, means then log-variances, whose first half is
 * the decoded mean. */
static void test_decoder_output(void **state)
{
    (void)state;
    const int32_t liks[] = {VAE_LIKELIHOOD_BERNOULLI,
                            VAE_LIKELIHOOD_GAUSSIAN_LEARNED};
    for (int i = 0; i < TU_COUNT(liks); i++) {
        vae_model *m = make_model(liks[i], 3);
        const int64_t size = vae_model_output_size(m);
        assert_int_equal(size, vae_likelihood_out_size(liks[i], D, 0));
        float z[B * L], raw[B * 2 * D], mean[B * D];
        make_data(z, B * L, 6);
        assert_int_equal(vae_model_decoder_output(m, z, NULL, B, raw), VAE_OK);
        assert_int_equal(vae_model_decode(m, z, B, mean), VAE_OK);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < D; j++) {
                float r = raw[b * size + j];
                double want = liks[i] == VAE_LIKELIHOOD_BERNOULLI
                                  ? 1.0 / (1.0 + exp(-(double)r))
                                  : (double)r;
                TU_ASSERT_CLOSE(mean[b * D + j], want, 1e-6,
                                "decoded mean from the raw output");
            }
        vae_model_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_bernoulli),
        cmocka_unit_test(test_grad_gaussian_fixed),
        cmocka_unit_test(test_grad_gaussian_learned),
        cmocka_unit_test(test_grad_beta),
        cmocka_unit_test(test_grad_free_bits),
        cmocka_unit_test(test_grad_free_bits_per_example),
        cmocka_unit_test(test_reported_values),
        cmocka_unit_test(test_recon_independent),
        cmocka_unit_test(test_grad_accumulation),
        cmocka_unit_test(test_batch_shrink),
        cmocka_unit_test(test_given_noise),
        cmocka_unit_test(test_decoder_output),
        cmocka_unit_test(test_output_chunks),
        cmocka_unit_test(test_in_place_activations),
        cmocka_unit_test(test_nonfinite_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
