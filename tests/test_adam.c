/* Adam/AdamW's first steps against the update rule written out here in
 * double, and the guarantees around non-finite gradients.
 *
 * The reference (Kingma & Ba, Algorithm 1; Loshchilov & Hutter for AdamW):
 *   g  = clip(grad) [+ wd * p            for Adam with L2]
 *   m  = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2
 *   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 *  [p -= lr * wd * p_before                for AdamW]
 * with clip(g) = g * max_norm / ||g|| when ||g|| > max_norm.
 *
 * Each step starts the reference from the library's own float parameters,
 * so per-step differences are only float32 rounding: half an ulp of the new
 * parameter (plus one for AdamW's separate decay) and a few ulps (~5e-7) of
 * the update itself. The tolerance is 2 ulps of |p| plus 2e-6 of the update.
 * Parameters start in [-0.05, 0.05] and lr = 0.1, so updates dominate the
 * parameters and the 2e-6 relative bound is what is tested: a missing bias
 * correction (x3 at t=1), an eps in the wrong place (gradient components go
 * down to ~1e-5, where eps = 1e-8 moves the update by ~1e-3 relative), a
 * dropped weight decay, or betas rounded to float before 1 - beta2 is formed
 * (6e-6 relative at t=1) all fall outside it. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adam.h"
#include "model.h" /* struct vae_adam: moments and step count */
#include "testutil.h"

#define UPD_RTOL 2e-6
#define N_STEPS 3

typedef struct adam_cfg {
    double lr, b1, b2, eps, wd;
    int32_t decoupled;
    double clip;
} adam_cfg;

static const adam_cfg DEFAULTS = {0.1, 0.9, 0.999, 1e-8, 0.0, 0, 0.0};

static vae_model *tiny_model(uint64_t seed)
{
    const tu_layer enc[] = {TU_DENSE(2)};
    const tu_layer dec[] = {TU_DENSE(3)};
    return tu_model(3, enc, 1, 1, dec, 1, VAE_LIKELIHOOD_GAUSSIAN_FIXED, seed);
}

static vae_adam *make_adam(const vae_model *m, const adam_cfg *c)
{
    vae_adam *o = NULL;
    assert_int_equal(vae_adam_new(m, c->lr, &o, NULL, 0), VAE_OK);
    assert_int_equal(vae_adam_set_betas(o, c->b1, c->b2, c->eps), VAE_OK);
    assert_int_equal(vae_adam_set_weight_decay(o, c->wd, c->decoupled), VAE_OK);
    assert_int_equal(vae_adam_set_clip_norm(o, c->clip), VAE_OK);
    return o;
}

/* Gradients for step t: magnitudes from 1 down to 1e-7, signs mixed, one
 * exact zero at t = 1, and a different overall norm at each step so that
 * clipping bites on some steps and not others. */
static void step_grads(float *g, int64_t n, int t)
{
    tu_rng r;
    tu_seed(&r, 1000 + (uint64_t)t);
    /* Norms in the hundreds make torch's clip rule max/(norm + 1e-6) and
     * the exact max/norm agree to 1e-8. */
    const double norm_scale[N_STEPS + 1] = {0.0, 400.0, 20.0, 300.0};
    for (int64_t i = 0; i < n; i++) {
        double mag = pow(10.0, -(double)(i % 8));
        g[i] = (float)(norm_scale[t] * mag * tu_uniform(&r, -1.0, 1.0));
    }
    if (t == 1)
        g[n / 2] = 0.0f;
}

static void set_params(vae_model *m)
{
    tu_rng r;
    tu_seed(&r, 77);
    tu_fill_uniform(&r, vae_model_params(m), vae_model_num_params(m), -0.05,
                    0.05);
}

typedef struct ref_state {
    double *m, *v;
} ref_state;

/* One reference step from the float parameters p; returns new params in out. */
static void ref_step(const adam_cfg *c, ref_state *s, int t, const float *p,
                     const float *grad, int64_t n, double *out)
{
    double scale = 1.0;
    if (c->clip > 0.0) {
        double sq = 0.0;
        for (int64_t i = 0; i < n; i++)
            sq += (double)grad[i] * grad[i];
        if (sqrt(sq) > c->clip)
            scale = c->clip / sqrt(sq);
    }
    double bc1 = 1.0 - pow(c->b1, t), bc2 = 1.0 - pow(c->b2, t);
    for (int64_t i = 0; i < n; i++) {
        double g = grad[i] * scale, q = p[i];
        if (!c->decoupled)
            g += c->wd * q;
        s->m[i] = c->b1 * s->m[i] + (1.0 - c->b1) * g;
        s->v[i] = c->b2 * s->v[i] + (1.0 - c->b2) * g * g;
        double upd = c->lr * (s->m[i] / bc1) / (sqrt(s->v[i] / bc2) + c->eps);
        if (c->decoupled)
            q -= c->lr * c->wd * q;
        out[i] = q - upd;
    }
}

static void check_three_steps(const adam_cfg *c, const char *what)
{
    vae_model *m = tiny_model(5);
    int64_t n = vae_model_num_params(m);
    set_params(m);
    vae_adam *o = make_adam(m, c);
    ref_state s = {tu_alloc((size_t)n * sizeof(double)),
                   tu_alloc((size_t)n * sizeof(double))};
    memset(s.m, 0, (size_t)n * sizeof(double));
    memset(s.v, 0, (size_t)n * sizeof(double));
    double *want = tu_alloc((size_t)n * sizeof(double));
    float *p = vae_model_params(m), *g = vae_model_grads(m);

    double moved = 0.0;
    for (int t = 1; t <= N_STEPS; t++) {
        step_grads(g, n, t);
        float *g_copy = tu_dup(g, n);
        ref_step(c, &s, t, p, g, n, want);
        float *before = tu_dup(p, n);
        assert_int_equal(vae_adam_step(o, m), VAE_OK);
        assert_int_equal(vae_adam_steps(o), t);
        for (int64_t i = 0; i < n; i++) {
            double upd = want[i] - before[i];
            double tol = UPD_RTOL * fabs(upd) +
                         2.0 * FLT_EPSILON * fmax(fabs(want[i]), fabs(before[i]));
            if (fabs(p[i] - want[i]) > tol)
                fail_msg("%s, step %d, p[%lld]: %.9g, want %.9g (update %.6g)",
                         what, t, (long long)i, p[i], want[i], upd);
            moved = fmax(moved, fabs((double)p[i] - before[i]));
        }
        /* The step reads the gradients but leaves them as they were, even
         * when it clips or adds weight decay. */
        assert_memory_equal(g, g_copy, (size_t)n * sizeof(float));
        free(g_copy);
        free(before);
    }
    assert_true(moved > 0.5 * c->lr);
    free(s.m);
    free(s.v);
    free(want);
    vae_adam_free(o);
    vae_model_free(m);
}

static void test_adam_plain(void **state)
{
    (void)state;
    check_three_steps(&DEFAULTS, "adam");
    adam_cfg c = DEFAULTS;
    c.b1 = 0.5;
    c.b2 = 0.9;
    c.eps = 1e-3;
    check_three_steps(&c, "adam, custom betas/eps");
}

static void test_adam_l2(void **state)
{
    (void)state;
    adam_cfg c = DEFAULTS;
    c.wd = 0.1;
    c.decoupled = 0;
    check_three_steps(&c, "adam + L2");
}

static void test_adamw(void **state)
{
    (void)state;
    adam_cfg c = DEFAULTS;
    c.wd = 0.5;
    c.decoupled = 1;
    check_three_steps(&c, "adamw");
}

static void test_adam_clip(void **state)
{
    (void)state;
    /* step_grads makes step 2 much smaller than steps 1 and 3; a max norm
     * between them clips steps 1 and 3 but not 2, which changes how the
     * steps mix in m and v (a uniform rescale alone would barely show in
     * Adam's scale-free update). */
    vae_model *m = tiny_model(5);
    int64_t n = vae_model_num_params(m);
    float *g = tu_alloc((size_t)n * sizeof(float));
    double norms[N_STEPS + 1];
    for (int t = 1; t <= N_STEPS; t++) {
        step_grads(g, n, t);
        double sq = 0.0;
        for (int64_t i = 0; i < n; i++)
            sq += (double)g[i] * g[i];
        norms[t] = sqrt(sq);
    }
    free(g);
    vae_model_free(m);
    adam_cfg c = DEFAULTS;
    c.clip = sqrt(norms[2] * fmin(norms[1], norms[3]));
    assert_true(norms[1] > 1.5 * c.clip && norms[2] < c.clip / 1.5 &&
                norms[3] > 1.5 * c.clip);
    check_three_steps(&c, "adam + clip");
    c.wd = 0.2;
    c.decoupled = 1;
    check_three_steps(&c, "adamw + clip");
}

/* Runs steps 1..n_steps of step_grads on a fresh model; returns params. */
static float *fresh_run(const adam_cfg *c, int n_steps)
{
    vae_model *m = tiny_model(5);
    int64_t n = vae_model_num_params(m);
    set_params(m);
    vae_adam *o = make_adam(m, c);
    for (int t = 1; t <= n_steps; t++) {
        step_grads(vae_model_grads(m), n, t);
        assert_int_equal(vae_adam_step(o, m), VAE_OK);
    }
    float *p = tu_dup(vae_model_params(m), n);
    vae_adam_free(o);
    vae_model_free(m);
    return p;
}

/* A NaN or Inf gradient: VAE_ERR_NONFINITE, and neither the parameters nor
 * the optimizer state (m, v, t) move: the following valid steps give exactly
 * what a run that never saw the bad gradient gives. */
static void test_nonfinite_grad(void **state)
{
    (void)state;
    adam_cfg c = DEFAULTS;
    c.wd = 0.1;
    c.decoupled = 1;
    c.clip = 0.5;
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < TU_COUNT(bad); k++) {
        vae_model *m = tiny_model(5);
        int64_t n = vae_model_num_params(m);
        set_params(m);
        vae_adam *o = make_adam(m, &c);
        float *g = vae_model_grads(m);
        step_grads(g, n, 1);
        assert_int_equal(vae_adam_step(o, m), VAE_OK);

        float *p1 = tu_dup(vae_model_params(m), n);
        step_grads(g, n, 2);
        g[n - 1] = bad[k];
        assert_int_equal(vae_adam_step(o, m), VAE_ERR_NONFINITE);
        assert_memory_equal(vae_model_params(m), p1, (size_t)n * sizeof(float));
        assert_int_equal(vae_adam_steps(o), 1);
        assert_true(vae_adam_last_error(o)[0] != '\0');

        for (int t = 2; t <= N_STEPS; t++) {
            step_grads(g, n, t);
            assert_int_equal(vae_adam_step(o, m), VAE_OK);
        }
        float *ref = fresh_run(&c, N_STEPS);
        assert_memory_equal(vae_model_params(m), ref, (size_t)n * sizeof(float));
        free(ref);
        free(p1);
        vae_adam_free(o);
        vae_model_free(m);
    }
}

/* Finite gradients whose update overflows (found by fuzzing the loader: a
 * file's moments, or a huge learning rate) are refused like non-finite
 * ones, with nothing changed; so is a step past the largest step count. */
static void test_update_overflow(void **state)
{
    (void)state;
    for (int k = 0; k < 3; k++) {
        vae_model *m = tiny_model(5);
        int64_t n = vae_model_num_params(m);
        vae_adam *o = make_adam(m, &DEFAULTS);
        step_grads(vae_model_grads(m), n, 1);
        assert_int_equal(vae_adam_step(o, m), VAE_OK);
        int32_t want = VAE_ERR_NONFINITE;
        if (k == 0) {
            assert_int_equal(vae_adam_set_lr(o, 1e38), VAE_OK);
        } else if (k == 1) {
            /* A second moment near 0 under a large first moment, from a
             * file: the loaded moments replace those the last update
             * measured. */
            o->m[1] = FLT_MAX;
            o->v[1] = 0.0f;
            size_t len;
            unsigned char *img = tu_save_image(m, o, &len);
            vae_adam_free(o);
            vae_model_free(m);
            assert_int_equal(
                vae_model_load_from_buffer(img, len, &m, &o, NULL, 0), VAE_OK);
            assert_non_null(o);
            free(img);
        } else {
            o->t = INT64_MAX;
            want = VAE_ERR_RANGE;
        }
        size_t len0, len1;
        unsigned char *before = tu_save_image(m, o, &len0);
        step_grads(vae_model_grads(m), n, 2);
        assert_int_equal(vae_adam_step(o, m), want);
        assert_true(vae_adam_last_error(o)[0] != '\0');
        unsigned char *after = tu_save_image(m, o, &len1);
        assert_int_equal(len0, len1);
        assert_memory_equal(before, after, len0);
        free(before);
        free(after);
        vae_adam_free(o);
        vae_model_free(m);
    }
}

/* The check before an update reads the gradients and parameters and
 * stands for the moments by bounds measured in the last update. A first
 * moment built up by one huge gradient must still stop a later step that
 * would overflow with a zero gradient: with beta2 = 0 the denominator falls
 * to eps and lr * m / eps exceeds FLT_MAX. Had the bound not been kept, the
 * quick check would pass (every gradient is 0) and the parameters become
 * infinite. The same steps with a learning rate that keeps the update
 * finite must go through, by the quick check or the full one. */
static void test_update_overflow_from_moments(void **state)
{
    (void)state;
    const double lr2[] = {1e13, 1.0};
    for (int k = 0; k < 2; k++) {
        vae_model *m = tiny_model(5);
        int64_t n = vae_model_num_params(m);
        adam_cfg c = DEFAULTS;
        c.lr = 1e-30;
        vae_adam *o = make_adam(m, &c);
        float *g = vae_model_grads(m);
        memset(g, 0, (size_t)n * sizeof(float));
        g[0] = 1e19f;
        assert_int_equal(vae_adam_step(o, m), VAE_OK);
        assert_true(o->m[0] > 9e17f);
        memset(g, 0, (size_t)n * sizeof(float));
        assert_int_equal(vae_adam_set_betas(o, 0.9, 0.0, 1e-8), VAE_OK);
        assert_int_equal(vae_adam_set_lr(o, lr2[k]), VAE_OK);
        size_t len0, len1;
        unsigned char *before = tu_save_image(m, o, &len0);
        if (k == 0) {
            assert_int_equal(vae_adam_step(o, m), VAE_ERR_NONFINITE);
            unsigned char *after = tu_save_image(m, o, &len1);
            assert_int_equal(len0, len1);
            assert_memory_equal(before, after, len0);
            free(after);
        } else {
            assert_int_equal(vae_adam_step(o, m), VAE_OK);
            for (int64_t i = 0; i < n; i++)
                assert_true(isfinite(vae_model_params(m)[i]));
            assert_true(fabsf(vae_model_params(m)[0]) > 1e24f);
        }
        free(before);
        vae_adam_free(o);
        vae_model_free(m);
    }
}

/* train_step = zero_grad + elbo_grad + adam_step, bit for bit. */
static void test_train_step_composition(void **state)
{
    (void)state;
    enum { B = 4, DX = 3 };
    float x[B * DX];
    tu_rng r;
    tu_seed(&r, 6);
    tu_fill_uniform(&r, x, B * DX, -1.0, 1.0);

    vae_model *a = tiny_model(9), *b = tiny_model(9);
    int64_t n = vae_model_num_params(a);
    vae_adam *oa = make_adam(a, &DEFAULTS), *ob = make_adam(b, &DEFAULTS);
    assert_int_equal(vae_model_set_seed(a, 3), VAE_OK);
    assert_int_equal(vae_model_set_seed(b, 3), VAE_OK);
    /* Stale gradients that train_step must clear first. */
    step_grads(vae_model_grads(a), n, 1);
    for (int t = 0; t < N_STEPS; t++) {
        double ea, eb;
        assert_int_equal(vae_model_train_step(a, oa, x, B, &ea, NULL, NULL),
                         VAE_OK);
        assert_int_equal(vae_model_zero_grad(b), VAE_OK);
        assert_int_equal(vae_model_elbo_grad(b, x, B, &eb, NULL, NULL), VAE_OK);
        assert_int_equal(vae_adam_step(ob, b), VAE_OK);
        assert_true(ea == eb);
    }
    assert_memory_equal(vae_model_params(a), vae_model_params(b),
                        (size_t)n * sizeof(float));
    assert_int_equal(vae_adam_steps(oa), N_STEPS);
    vae_adam_free(oa);
    vae_adam_free(ob);
    vae_model_free(a);
    vae_model_free(b);
}

/* With KL annealing, train step t equals zero_grad + elbo_grad at beta
 * times the schedule's weight + adam_step, bit for bit: model b replays
 * model a's steps with the weights computed here from the documented
 * formulas. beta 0.5 also checks that the weight multiplies beta and that
 * beta is restored after each step. */
static void test_kl_anneal(void **state)
{
    (void)state;
    enum { B = 4, DX = 3, STEPS = 4 };
    float x[B * DX];
    tu_rng r;
    tu_seed(&r, 8);
    tu_fill_uniform(&r, x, B * DX, -1.0, 1.0);
    const int32_t kinds[] = {VAE_ANNEAL_LINEAR, VAE_ANNEAL_SIGMOID};
    for (int k = 0; k < 2; k++) {
        vae_model *a = tiny_model(9), *b = tiny_model(9);
        vae_adam *oa = make_adam(a, &DEFAULTS), *ob = make_adam(b, &DEFAULTS);
        assert_int_equal(vae_model_set_beta(a, 0.5), VAE_OK);
        assert_int_equal(vae_model_set_kl_anneal(a, kinds[k], STEPS), VAE_OK);
        assert_int_equal(vae_model_set_seed(a, 3), VAE_OK);
        assert_int_equal(vae_model_set_seed(b, 3), VAE_OK);
        for (int t = 0; t < STEPS + 2; t++) {
            double u = (double)t / STEPS;
            double w = kinds[k] == VAE_ANNEAL_LINEAR
                           ? fmin(1.0, u)
                           : 1.0 / (1.0 + exp(-10.0 * (u - 0.5)));
            assert_int_equal(vae_model_train_step(a, oa, x, B, NULL, NULL,
                                                  NULL),
                             VAE_OK);
            assert_int_equal(vae_model_set_beta(b, 0.5 * w), VAE_OK);
            assert_int_equal(vae_model_zero_grad(b), VAE_OK);
            assert_int_equal(vae_model_elbo_grad(b, x, B, NULL, NULL, NULL),
                             VAE_OK);
            assert_int_equal(vae_adam_step(ob, b), VAE_OK);
            assert_memory_equal(vae_model_params(a), vae_model_params(b),
                                (size_t)vae_model_num_params(a) *
                                    sizeof(float));
        }
        /* (Step 0 has weight 0, so ignoring the schedule fails at once.) */
        vae_adam_free(oa);
        vae_adam_free(ob);
        vae_model_free(a);
        vae_model_free(b);
    }
    vae_model *m = tiny_model(1);
    assert_int_equal(vae_model_set_kl_anneal(m, 3, 10), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_set_kl_anneal(m, VAE_ANNEAL_LINEAR, 0),
                     VAE_ERR_RANGE);
    assert_int_equal(vae_model_set_kl_anneal(NULL, VAE_ANNEAL_LINEAR, 1),
                     VAE_ERR_INVALID_ARG);
    vae_model_free(m);
}

/* A NaN in the batch: an error on the model, parameters untouched and no
 * optimizer step counted. */
static void test_train_step_nan_input(void **state)
{
    (void)state;
    enum { B = 2, DX = 3 };
    float x[B * DX] = {0.1f, 0.2f, 0.3f, 0.4f, NAN, 0.6f};
    vae_model *m = tiny_model(4);
    int64_t n = vae_model_num_params(m);
    vae_adam *o = make_adam(m, &DEFAULTS);
    float *p0 = tu_dup(vae_model_params(m), n);
    assert_int_equal(vae_model_train_step(m, o, x, B, NULL, NULL, NULL),
                     VAE_ERR_NONFINITE);
    assert_memory_equal(vae_model_params(m), p0, (size_t)n * sizeof(float));
    assert_int_equal(vae_adam_steps(o), 0);
    assert_true(vae_model_last_error(m)[0] != '\0');

    /* And the pair still trains afterwards. */
    x[4] = 0.5f;
    assert_int_equal(vae_model_train_step(m, o, x, B, NULL, NULL, NULL),
                     VAE_OK);
    assert_int_equal(vae_adam_steps(o), 1);
    assert_memory_not_equal(vae_model_params(m), p0, (size_t)n * sizeof(float));
    free(p0);
    vae_adam_free(o);
    vae_model_free(m);
}

/* set_lr takes effect on the next step: Adam's first step moves every
 * parameter by lr * g / (|g| + eps), i.e. lr to within 2e-8 here. */
static void test_set_lr(void **state)
{
    (void)state;
    vae_model *m = tiny_model(2);
    int64_t n = vae_model_num_params(m);
    vae_adam *o = make_adam(m, &DEFAULTS);
    assert_int_equal(vae_adam_set_lr(o, 0.25), VAE_OK);
    float *g = vae_model_grads(m);
    for (int64_t i = 0; i < n; i++)
        g[i] = (i % 2) ? 0.5f : -2.0f;
    float *p0 = tu_dup(vae_model_params(m), n);
    assert_int_equal(vae_adam_step(o, m), VAE_OK);
    for (int64_t i = 0; i < n; i++)
        TU_ASSERT_CLOSE((double)p0[i] - vae_model_params(m)[i],
                        (i % 2) ? 0.25 : -0.25, UPD_RTOL, "first step = lr*sign");
    free(p0);
    vae_adam_free(o);
    vae_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adam_plain),
        cmocka_unit_test(test_adam_l2),
        cmocka_unit_test(test_adamw),
        cmocka_unit_test(test_adam_clip),
        cmocka_unit_test(test_nonfinite_grad),
        cmocka_unit_test(test_update_overflow),
        cmocka_unit_test(test_update_overflow_from_moments),
        cmocka_unit_test(test_train_step_composition),
        cmocka_unit_test(test_train_step_nan_input),
        cmocka_unit_test(test_set_lr),
        cmocka_unit_test(test_kl_anneal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
