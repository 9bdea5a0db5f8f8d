/* vae_likelihood, vae_likelihood_mean and vae_kl_normal against formulas
 * written out here in double / long double, including extreme inputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kl.h"
#include "likelihood.h"
#include "model.h"
#include "testutil.h"

#define LOG_2PI 1.8378770664093454836
#define E_ 2.7182818284590452354
#define LN2_ 0.69314718055994530942

/* Inputs are float32, so a float evaluation of each term is accurate to a
 * few 1e-8 relative; 1e-6 leaves room for that and catches any wrong term. */
#define LIK_TOL 1e-6

/* log sigmoid(l) without overflow for any finite l, in long double. */
static long double log_sigmoid(long double l)
{
    return l >= 0 ? -log1pl(expl(-l)) : l - log1pl(expl(l));
}

static double bernoulli_ref(double x, double l)
{
    return (double)((long double)x * log_sigmoid(l) +
                    (1.0L - (long double)x) * log_sigmoid(-l));
}

static double clamp_lv(double lv)
{
    return fmin(fmax(lv, VAE_LOGVAR_MIN), VAE_LOGVAR_MAX);
}

static double gauss_ref(double x, double mean, double lv)
{
    double d = x - mean;
    return -0.5 * (LOG_2PI + lv + d * d / exp(lv));
}

/* logp of one example of each kind, from the formulas above. */
static double ref_logp(int32_t kind, const float *out, const float *x,
                       int64_t d, double obs_logvar)
{
    double s = 0.0;
    for (int64_t i = 0; i < d; i++) {
        if (kind == VAE_LIKELIHOOD_BERNOULLI)
            s += bernoulli_ref(x[i], out[i]);
        else if (kind == VAE_LIKELIHOOD_GAUSSIAN_FIXED)
            s += gauss_ref(x[i], out[i], obs_logvar);
        else
            s += gauss_ref(x[i], out[i], clamp_lv(out[d + i]));
    }
    return s;
}

static void test_out_size(void **state)
{
    (void)state;
    assert_int_equal(vae_likelihood_out_size(VAE_LIKELIHOOD_BERNOULLI, 7, 0), 7);
    assert_int_equal(
        vae_likelihood_out_size(VAE_LIKELIHOOD_GAUSSIAN_FIXED, 7, 0), 7);
    assert_int_equal(
        vae_likelihood_out_size(VAE_LIKELIHOOD_GAUSSIAN_LEARNED, 7, 0), 14);
    assert_int_equal(vae_likelihood_out_size(0, 7, 0), -1);
    assert_int_equal(
        vae_likelihood_out_size(VAE_LIKELIHOOD_CATEGORICAL, 7, 10), 70);
    assert_int_equal(vae_likelihood_out_size(5, 7, 0), -1);
    assert_int_equal(vae_likelihood_out_size(-1, 7, 0), -1);
}

/* Compares logp against the reference and checks dout is finite. */
static void check_values(int32_t kind, const float *out, const float *x,
                         int64_t batch, int64_t d, double obs_logvar)
{
    int64_t osz = vae_likelihood_out_size(kind, d, 0);
    double *logp = tu_alloc((size_t)batch * sizeof *logp);
    float *dout = tu_alloc((size_t)(batch * osz) * sizeof *dout);
    vae_likelihood(kind, out, x, batch, d, 0, obs_logvar, logp, dout);
    for (int64_t b = 0; b < batch; b++) {
        assert_true(isfinite(logp[b]));
        TU_ASSERT_CLOSE(logp[b],
                        ref_logp(kind, out + b * osz, x + b * d, d, obs_logvar),
                        LIK_TOL, "log-likelihood");
    }
    for (int64_t i = 0; i < batch * osz; i++)
        assert_true(isfinite(dout[i]));
    /* dout is optional. */
    vae_likelihood(kind, out, x, batch, d, 0, obs_logvar, logp, NULL);
    assert_true(isfinite(logp[0]));
    free(logp);
    free(dout);
}

static void test_bernoulli_values(void **state)
{
    (void)state;
    /* Each x against each logit, from saturated to tiny. */
    const float logits[] = {-100.0f, -30.0f, -5.0f, -0.5f, 0.0f,
                            1e-4f,   0.5f,   5.0f,  30.0f, 100.0f};
    const float xs[] = {0.0f, 1.0f, 0.3f, 0.75f};
    enum { NL = TU_COUNT(logits), NX = TU_COUNT(xs) };
    float out[NX * NL], x[NX * NL];
    for (int b = 0; b < NX; b++)
        for (int i = 0; i < NL; i++) {
            out[b * NL + i] = logits[i];
            x[b * NL + i] = xs[b];
        }
    check_values(VAE_LIKELIHOOD_BERNOULLI, out, x, NX, NL, 0.0);

    /* Single elements, so a saturated term cannot hide in a sum: a correct
     * log(1 - sigmoid(100)) is -100, not -Inf and not 0. */
    for (int i = 0; i < NL; i++)
        for (int b = 0; b < NX; b++)
            check_values(VAE_LIKELIHOOD_BERNOULLI, &logits[i], &xs[b], 1, 1,
                         0.0);
    double lp;
    const float l100 = 100.0f, one = 1.0f, zero = 0.0f;
    vae_likelihood(VAE_LIKELIHOOD_BERNOULLI, &l100, &zero, 1, 1, 0, 0.0, &lp,
                   NULL);
    TU_ASSERT_CLOSE(lp, -100.0, LIK_TOL, "log(1 - sigmoid(100))");
    vae_likelihood(VAE_LIKELIHOOD_BERNOULLI, &l100, &one, 1, 1, 0, 0.0, &lp,
                   NULL);
    assert_true(lp <= 0.0 && lp > -1e-30);
}

static void test_gaussian_values(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 3);
    enum { B = 3, D = 5 };
    float x[B * D], fixed_out[B * D], learned_out[B * 2 * D];
    tu_fill_uniform(&r, x, B * D, -2.0, 2.0);
    tu_fill_uniform(&r, fixed_out, B * D, -2.0, 2.0);
    for (int b = 0; b < B; b++)
        for (int i = 0; i < D; i++) {
            learned_out[b * 2 * D + i] = (float)tu_uniform(&r, -2.0, 2.0);
            learned_out[b * 2 * D + D + i] = (float)tu_uniform(&r, -3.0, 3.0);
        }
    const double obs[] = {0.0, -2.0, 1.5};
    for (int k = 0; k < TU_COUNT(obs); k++)
        check_values(VAE_LIKELIHOOD_GAUSSIAN_FIXED, fixed_out, x, B, D, obs[k]);
    check_values(VAE_LIKELIHOOD_GAUSSIAN_LEARNED, learned_out, x, B, D, 0.0);

    /* The fixed-variance density at its mean with var 1: -log(2 pi)/2. */
    const float m0 = 0.25f;
    double lp;
    vae_likelihood(VAE_LIKELIHOOD_GAUSSIAN_FIXED, &m0, &m0, 1, 1, 0, 0.0, &lp,
                   NULL);
    TU_ASSERT_CLOSE(lp, -0.5 * LOG_2PI, LIK_TOL, "N(m; m, 1)");
}

/* Means of 1e4, log-variances far outside the clamp range: still finite. */
static void test_gaussian_extremes(void **state)
{
    (void)state;
    enum { D = 4 };
    const float x[D] = {0.0f, 1.0f, -1.0f, 0.5f};
    const float learned[2 * D] = {1e4f, -1e4f, 0.0f, 3.0f,
                                  -100.0f, 100.0f, -1e4f, 1e4f};
    check_values(VAE_LIKELIHOOD_GAUSSIAN_LEARNED, learned, x, 1, D, 0.0);
    check_values(VAE_LIKELIHOOD_GAUSSIAN_FIXED, learned, x, 1, D, -5.0);
}

/* dout = d(-sum_b logp_b)/d(out), against central differences of the
 * library's own logp (summed in double). h = 1e-2: the functions are smooth
 * and logp is exact to ~1e-7 relative, so the error is O(h^2) ~ 1e-4 of the
 * second-derivative scale; tolerance 1e-3. Also against the closed forms. */
static void check_dout(int32_t kind, float *out, const float *x, int64_t batch,
                       int64_t d, double obs_logvar)
{
    int64_t osz = vae_likelihood_out_size(kind, d, 0), n = batch * osz;
    double *logp = tu_alloc((size_t)batch * sizeof *logp);
    float *dout = tu_alloc((size_t)n * sizeof *dout);
    vae_likelihood(kind, out, x, batch, d, 0, obs_logvar, logp, dout);
    for (int64_t k = 0; k < n; k++) {
        float keep = out[k];
        double lp = 0.0, lm = 0.0;
        out[k] = keep + 1e-2f;
        float up = out[k];
        vae_likelihood(kind, out, x, batch, d, 0, obs_logvar, logp, NULL);
        for (int64_t b = 0; b < batch; b++)
            lp -= logp[b];
        out[k] = keep - 1e-2f;
        float down = out[k];
        vae_likelihood(kind, out, x, batch, d, 0, obs_logvar, logp, NULL);
        for (int64_t b = 0; b < batch; b++)
            lm -= logp[b];
        out[k] = keep;
        TU_ASSERT_CLOSE(dout[k], (lp - lm) / ((double)up - (double)down), 1e-3,
                        "dout vs finite differences");

        int64_t b = k / osz, i = k % osz;
        double xv = x[b * d + i % d], closed;
        if (kind == VAE_LIKELIHOOD_BERNOULLI)
            closed = 1.0 / (1.0 + exp(-(double)keep)) - xv;
        else if (kind == VAE_LIKELIHOOD_GAUSSIAN_FIXED)
            closed = (keep - xv) / exp(obs_logvar);
        else if (i < d)
            closed = (keep - xv) / exp((double)out[b * osz + d + i]);
        else {
            double m = out[b * osz + i - d];
            closed = 0.5 * (1.0 - (xv - m) * (xv - m) / exp((double)keep));
        }
        TU_ASSERT_CLOSE(dout[k], closed, 1e-5, "dout vs closed form");
    }
    free(logp);
    free(dout);
}

/* Categorical: log p = sum over non-padding steps of l[id] - log sum exp l,
 * computed here in double straight from the definition; the gradient
 * against central differences of the library's logp and against
 * softmax - onehot; padding steps contribute nothing and get zero gradient;
 * logits of +-1e4 stay finite (the max is subtracted first). */
static void check_categorical(const float *l, const float *x, int B, int T,
                              int V, float *g)
{
    double logp[4], scored[4];
    assert_true(B <= 4);
    vae_likelihood(VAE_LIKELIHOOD_CATEGORICAL, l, x, B, T, V, 0.0, logp, g);
    /* Scoring alone sums the same exponentials in the same order. */
    vae_likelihood(VAE_LIKELIHOOD_CATEGORICAL, l, x, B, T, V, 0.0, scored,
                   NULL);
    for (int b = 0; b < B; b++)
        assert_true(scored[b] == logp[b]);
    for (int b = 0; b < B; b++) {
        double want = 0.0;
        for (int t = 0; t < T; t++) {
            int id = (int)x[b * T + t];
            const float *row = l + (b * T + t) * V;
            double mx = row[0], se = 0.0;
            for (int c = 1; c < V; c++)
                mx = fmax(mx, row[c]);
            for (int c = 0; c < V; c++)
                se += exp((double)row[c] - mx);
            for (int c = 0; c < V; c++) {
                double p = exp((double)row[c] - mx) / se;
                double closed = id == 0 ? 0.0 : p - (c == id);
                TU_ASSERT_CLOSE(g[(b * T + t) * V + c], closed, 1e-5,
                                "categorical gradient vs softmax - onehot");
            }
            if (id != 0)
                want += row[id] - (mx + log(se));
        }
        assert_true(isfinite(logp[b]));
        TU_ASSERT_CLOSE(logp[b], want, 1e-6, "categorical logp vs formula");
    }
}

static void test_categorical(void **state)
{
    (void)state;
    enum { B = 2, T = 4, V = 5 };
    const float x[B * T] = {3, 1, 0, 4, 0, 2, 2, 0};
    float l[B * T * V];
    tu_rng r;
    tu_seed(&r, 9);
    tu_fill_uniform(&r, l, B * T * V, -3.0, 3.0);
    l[V + 2] = 1e4f; /* example 0, step 1: one huge logit */
    l[V + 1] = -1e4f;
    double logp[B];
    float g[B * T * V];
    check_categorical(l, x, B, T, V, g);
    /* Central differences on the moderate logits (h = 1e-2, as above). */
    for (int k = 0; k < B * T * V; k++) {
        if (fabsf(l[k]) > 100.0f)
            continue;
        float keep = l[k];
        double up, down;
        l[k] = keep + 1e-2f;
        vae_likelihood(VAE_LIKELIHOOD_CATEGORICAL, l, x, B, T, V, 0.0, logp,
                       NULL);
        up = -(logp[0] + logp[1]);
        l[k] = keep - 1e-2f;
        vae_likelihood(VAE_LIKELIHOOD_CATEGORICAL, l, x, B, T, V, 0.0, logp,
                       NULL);
        down = -(logp[0] + logp[1]);
        l[k] = keep;
        TU_ASSERT_CLOSE(g[k], (up - down) / 2e-2, 1e-3,
                        "categorical gradient vs finite differences");
    }
    /* The mode of each step is its largest logit. */
    float mode[B * T];
    vae_likelihood_mean(VAE_LIKELIHOOD_CATEGORICAL, l, B, T, V, mode);
    assert_true(mode[1] == 2.0f);
    for (int k = 0; k < B * T; k++)
        for (int c = 0; c < V; c++)
            assert_true(l[k * V + c] <= l[k * V + (int)mode[k]]);
}

/* Rows wider than the running maxima's lanes (37 classes: two rounds of 16
 * and a tail of 5) and than the chunks that scoring alone sums through
 * (603: two of 256 and a rest of 91): a huge logit in a lane, in the
 * tail, first and last, where a maximum that missed it would overflow the
 * exponentials. */
static void test_categorical_wide(void **state)
{
    (void)state;
    enum { B = 1, T = 5 };
    const int widths[] = {37, 603};
    for (int w = 0; w < TU_COUNT(widths); w++) {
        const int V = widths[w];
        /* The last step has no huge logit: there every exponential
         * counts. */
        const float x[B * T] = {21, 3, (float)(V - 1), 0, 7};
        const int huge_at[T] = {21, V - 2, 0, V - 1, -1};
        float *l = tu_alloc((size_t)(B * T * V) * sizeof *l);
        float *g = tu_alloc((size_t)(B * T * V) * sizeof *g);
        tu_rng r;
        tu_seed(&r, 10);
        tu_fill_uniform(&r, l, B * T * V, -3.0, 3.0);
        for (int t = 0; t < T; t++)
            if (huge_at[t] >= 0)
                l[t * V + huge_at[t]] = 1e4f;
        check_categorical(l, x, B, T, V, g);
        free(l);
        free(g);
    }
}

/* vae_argmax against one running maximum: the first index of the
 * largest value, for lengths around its lanes (16) and a vocabulary's,
 * with the maximum repeated (in a lane, in the tail, at 0), NaNs skipped
 * (but a NaN at 0 wins), and +0 / -0 ties going to the first. */
static int64_t argmax_reference(const float *v, int64_t n)
{
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

static void test_argmax(void **state)
{
    (void)state;
    enum { MAXN = 10007 };
    float *v = tu_alloc(MAXN * sizeof *v);
    tu_rng r;
    tu_seed(&r, 11);
    const int64_t lengths[] = {1, 2, 15, 16, 17, 33, 100, MAXN};
    for (int c = 0; c < TU_COUNT(lengths); c++) {
        const int64_t n = lengths[c];
        for (int trial = 0; trial < 6; trial++) {
            tu_fill_uniform(&r, v, n, -3.0, 3.0);
            if (trial == 1) /* the maximum three times */
                v[n / 2] = v[n - 1] = v[n / 3] = 5.0f;
            if (trial == 2) /* ties at 0 and in the last lane group */
                v[0] = v[n - n % 16 - (n >= 16)] = 6.0f;
            if (trial == 3) /* NaNs after the start are passed over */
                for (int64_t i = 1; i < n; i += 5)
                    v[i] = NAN;
            if (trial == 4)
                v[0] = NAN;
            if (trial == 5) { /* all zeros of both signs */
                for (int64_t i = 0; i < n; i++)
                    v[i] = i % 3 ? 0.0f : -0.0f;
            }
            int64_t want = argmax_reference(v, n), got = vae_argmax(v, n);
            if (got != want)
                fail_msg("argmax of %lld values, trial %d: %lld, want %lld",
                         (long long)n, trial, (long long)got,
                         (long long)want);
        }
    }
    free(v);
}

/* The model writes the gradient over the decoder output (grad_in_val):
 * dout == out must give the bytes of separate buffers, for every kind. */
static void test_in_place(void **state)
{
    (void)state;
    enum { B = 3, D = 6, V = 7 };
    const int32_t kinds[] = {VAE_LIKELIHOOD_BERNOULLI,
                             VAE_LIKELIHOOD_GAUSSIAN_FIXED,
                             VAE_LIKELIHOOD_GAUSSIAN_LEARNED,
                             VAE_LIKELIHOOD_CATEGORICAL};
    tu_rng r;
    tu_seed(&r, 21);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        int32_t kind = kinds[k];
        int64_t classes = kind == VAE_LIKELIHOOD_CATEGORICAL ? V : 0;
        int64_t n = B * vae_likelihood_out_size(kind, D, classes);
        float out[B * D * V], grad[B * D * V], x[B * D];
        double lp_apart[B], lp_in_place[B];
        tu_fill_uniform(&r, out, n, -4.0, 4.0);
        for (int i = 0; i < B * D; i++)
            x[i] = kind == VAE_LIKELIHOOD_CATEGORICAL
                       ? (float)(i % V) /* id 0 included: padding */
                       : (float)tu_uniform(&r, 0.0, 1.0);
        vae_likelihood(kind, out, x, B, D, classes, -0.5, lp_apart, grad);
        vae_likelihood(kind, out, x, B, D, classes, -0.5, lp_in_place, out);
        assert_memory_equal(lp_apart, lp_in_place, sizeof lp_apart);
        assert_memory_equal(grad, out, (size_t)n * sizeof(float));
    }
}

static void test_gradients(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 8);
    enum { B = 2, D = 6 };
    float x[B * D], out[B * 2 * D];
    tu_fill_uniform(&r, x, B * D, 0.0, 1.0);
    tu_fill_uniform(&r, out, B * D, -4.0, 4.0);
    check_dout(VAE_LIKELIHOOD_BERNOULLI, out, x, B, D, 0.0);
    tu_fill_uniform(&r, out, B * D, -2.0, 2.0);
    check_dout(VAE_LIKELIHOOD_GAUSSIAN_FIXED, out, x, B, D, 0.0);
    check_dout(VAE_LIKELIHOOD_GAUSSIAN_FIXED, out, x, B, D, -1.0);
    tu_fill_uniform(&r, out, B * 2 * D, -1.5, 1.5);
    check_dout(VAE_LIKELIHOOD_GAUSSIAN_LEARNED, out, x, B, D, 0.0);

    /* Saturated logits: the gradient sigmoid(l) - x stays exact. */
    const float ext[4] = {100.0f, -100.0f, 100.0f, -100.0f};
    const float xe[4] = {0.0f, 1.0f, 1.0f, 0.25f};
    float de[4];
    double lpe;
    vae_likelihood(VAE_LIKELIHOOD_BERNOULLI, ext, xe, 1, 4, 0, 0.0, &lpe, de);
    assert_true(isfinite(lpe));
    TU_ASSERT_CLOSE(de[0], 1.0, 1e-6, "d/dl at +100, x=0");
    TU_ASSERT_CLOSE(de[1], -1.0, 1e-6, "d/dl at -100, x=1");
    TU_ASSERT_CLOSE(de[2], 0.0, 1e-6, "d/dl at +100, x=1");
    TU_ASSERT_CLOSE(de[3], -0.25, 1e-6, "d/dl at -100, x=0.25");
}

static void test_mean(void **state)
{
    (void)state;
    enum { D = 3 };
    const float logits[2 * D] = {0.0f, 2.0f, -100.0f, 100.0f, -1.0f, 30.0f};
    float mean[2 * D];
    vae_likelihood_mean(VAE_LIKELIHOOD_BERNOULLI, logits, 2, D, 0, mean);
    for (int i = 0; i < 2 * D; i++) {
        assert_true(mean[i] >= 0.0f && mean[i] <= 1.0f);
        TU_ASSERT_CLOSE(mean[i], 1.0 / (1.0 + exp(-(double)logits[i])), 1e-7,
                        "sigmoid mean");
    }
    vae_likelihood_mean(VAE_LIKELIHOOD_GAUSSIAN_FIXED, logits, 2, D, 0, mean);
    for (int i = 0; i < 2 * D; i++)
        assert_true(mean[i] == logits[i]);
    /* Learned: each row is D means then D log-variances. */
    const float learned[2 * 2 * D] = {1, 2, 3, -9, -9, -9, 4, 5, 6, 9, 9, 9};
    vae_likelihood_mean(VAE_LIKELIHOOD_GAUSSIAN_LEARNED, learned, 2, D, 0, mean);
    const float want[2 * D] = {1, 2, 3, 4, 5, 6};
    assert_memory_equal(mean, want, sizeof want);
}

/* Closed forms worked out by hand: 0.5 (mu^2 + e^lv - 1 - lv). */
static void test_kl_hand(void **state)
{
    (void)state;
    const struct {
        float mu, lv;
        double kl;
    } cases[] = {
        {0.0f, 0.0f, 0.0},
        {1.0f, 0.0f, 0.5},
        {-2.0f, 0.0f, 2.0},
        {0.0f, 1.0f, 0.5 * (E_ - 2.0)},
        {0.0f, -1.0f, 0.5 / E_},
        {3.0f, -1.0f, 0.5 * (9.0 + 1.0 / E_)},
        {0.5f, (float)LN2_, 0.5 * (0.25 + 1.0 - LN2_)},
        /* Clamped to [-30, 20] before exp(): finite, and equal to the
         * value at the clamp bound. */
        {0.0f, -100.0f, 0.5 * (exp(-30.0) - 1.0 + 30.0)},
        {0.0f, 100.0f, 0.5 * (exp(20.0) - 1.0 - 20.0)},
    };
    for (int i = 0; i < TU_COUNT(cases); i++) {
        double kl = -1.0, kd = -1.0;
        vae_kl_normal(&cases[i].mu, &cases[i].lv, 1, 1, 1, &kl, &kd);
        char msg[64];
        snprintf(msg, sizeof msg, "KL(mu=%g, lv=%g)", cases[i].mu,
                 cases[i].lv);
        assert_true(isfinite(kl));
        TU_ASSERT_CLOSE(kl, cases[i].kl, 1e-6, msg);
        TU_ASSERT_CLOSE(kd, cases[i].kl, 1e-6, msg);
    }
}

/* Rows laid out like the head output (mu then logvar, stride 2d); kl_b sums
 * over dimensions, kl_dim averages over the batch. */
static void test_kl_batch(void **state)
{
    (void)state;
    enum { B = 3, D = 2 };
    const float head[B * 2 * D] = {
        /* mu0  mu1   lv0   lv1 */
        0.0f, 1.0f, 0.0f, 0.0f,   /* KL dims: 0,   0.5 */
        2.0f, 0.0f, 0.0f, 1.0f,   /* 2, (e-2)/2 */
        -1.0f, 0.5f, -1.0f, 0.0f, /* (1 + 1/e)/2, 0.125 */
    };
    const double per[B][D] = {{0.0, 0.5},
                              {2.0, 0.5 * (E_ - 2.0)},
                              {0.5 * (1.0 + 1.0 / E_), 0.125}};
    double kl_b[B], kl_dim[D];
    vae_kl_normal(head, head + D, 2 * D, B, D, kl_b, kl_dim);
    for (int b = 0; b < B; b++)
        TU_ASSERT_CLOSE(kl_b[b], per[b][0] + per[b][1], 1e-6, "kl_b");
    for (int j = 0; j < D; j++)
        TU_ASSERT_CLOSE(kl_dim[j], (per[0][j] + per[1][j] + per[2][j]) / B,
                        1e-6, "kl_dim");
    /* kl_dim is optional. */
    double again[B];
    vae_kl_normal(head, head + D, 2 * D, B, D, again, NULL);
    assert_memory_equal(again, kl_b, sizeof again);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_size),
        cmocka_unit_test(test_bernoulli_values),
        cmocka_unit_test(test_gaussian_values),
        cmocka_unit_test(test_gaussian_extremes),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_categorical),
        cmocka_unit_test(test_categorical_wide),
        cmocka_unit_test(test_argmax),
        cmocka_unit_test(test_in_place),
        cmocka_unit_test(test_mean),
        cmocka_unit_test(test_kl_hand),
        cmocka_unit_test(test_kl_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
