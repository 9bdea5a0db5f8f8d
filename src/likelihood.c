/* likelihood.c - log p(x|z) per example, its gradient, and E[x|z]. */
#include <math.h>
#include <string.h>

#include "fastmath.h"
#include "gaussian.h"
#include "likelihood.h"
#include "pool.h"
#include "simd.h"
#include "vae.h"


int64_t vae_likelihood_out_size(int32_t kind, int64_t d, int64_t classes)
{
    switch (kind) {
    case VAE_LIKELIHOOD_BERNOULLI:
    case VAE_LIKELIHOOD_GAUSSIAN_FIXED: return d;
    case VAE_LIKELIHOOD_GAUSSIAN_LEARNED: return 2 * d;
    case VAE_LIKELIHOOD_CATEGORICAL: return d * classes;
    default: return -1;
    }
}

/* log p(x|l) = x*l - softplus(l); d(-logp)/dl = sigmoid(l) - x. One
 * e = exp(-|l|) serves both softplus and sigmoid. */
static inline float bernoulli_term(float l, float x, float e)
{
    return x * l - vae_softplus_from_exp(l, e);
}

/* Float terms summed in double over BERNOULLI_LANES interleaved partial
 * sums: GCC will not vectorise one running double sum of float terms (an
 * in-order reduction of mixed types), and the lanes keep the loop off the
 * add latency. */
enum { BERNOULLI_LANES = 8 };

/* The lanes' sum, in lane order. */
static inline double lanes_total(const double *acc)
{
    double s = 0.0;
    for (int k = 0; k < BERNOULLI_LANES; k++)
        s += acc[k];
    return s;
}

VAE_CLONES
static double bernoulli_sum(const float *l, const float *x, const float *e,
                            int64_t n)
{
    double acc[BERNOULLI_LANES] = {0.0};
    int64_t i = 0;
    for (; i + BERNOULLI_LANES <= n; i += BERNOULLI_LANES)
        for (int k = 0; k < BERNOULLI_LANES; k++)
            acc[k] += (double)bernoulli_term(l[i + k], x[i + k], e[i + k]);
    for (; i < n; i++)
        acc[0] += (double)bernoulli_term(l[i], x[i], e[i]);
    return lanes_total(acc);
}

/* Adds n floats into BERNOULLI_LANES interleaved partial sums in double,
 * so that it vectorises; those past the last whole group go into acc[0].
 * Pieces of a longer sum give its bytes if every piece but the last is a
 * whole number of groups. */
static inline void add_lanes(double *acc, const float *v, int64_t n)
{
    int64_t i = 0;
    for (; i + BERNOULLI_LANES <= n; i += BERNOULLI_LANES)
        for (int k = 0; k < BERNOULLI_LANES; k++)
            acc[k] += (double)v[i + k];
    for (; i < n; i++)
        acc[0] += (double)v[i];
}

VAE_CLONES
static double sum_floats(const float *v, int64_t n)
{
    double acc[BERNOULLI_LANES] = {0.0};
    add_lanes(acc, v, n);
    return lanes_total(acc);
}

/* sum_floats of exp(l[c] - mx), c < n, without a buffer for the
 * exponentials: the same terms in the same lanes, through a chunk on the
 * stack (scoring without a gradient was one scalar loop). */
enum { EXP_CHUNK = 256 };

VAE_CLONES
static double sum_exps(const float *l, int64_t n, float mx)
{
    double acc[BERNOULLI_LANES] = {0.0};
    float e[EXP_CHUNK];
    for (int64_t i = 0; i < n; i += EXP_CHUNK) {
        int64_t m = n - i < EXP_CHUNK ? n - i : EXP_CHUNK;
        for (int64_t j = 0; j < m; j++)
            e[j] = vae_fast_expf(l[i + j] - mx);
        add_lanes(acc, e, m);
    }
    return lanes_total(acc);
}

/* The largest of v[0..n), n >= 1, over MAX_LANES interleaved running
 * maxima: a single running maximum is a chain of dependent compares the
 * compiler cannot vectorise (it was 40% of a softmax over 10,000 words).
 * NaNs are passed over as by one running maximum, unless v[0] is NaN. */
enum { MAX_LANES = 16 };

VAE_CLONES
static float max_floats(const float *v, int64_t n)
{
    float lane[MAX_LANES];
    for (int k = 0; k < MAX_LANES; k++)
        lane[k] = v[0];
    int64_t i = 0;
    for (; i + MAX_LANES <= n; i += MAX_LANES)
        for (int k = 0; k < MAX_LANES; k++)
            lane[k] = v[i + k] > lane[k] ? v[i + k] : lane[k];
    float mx = v[0];
    for (; i < n; i++)
        mx = v[i] > mx ? v[i] : mx;
    for (int k = 0; k < MAX_LANES; k++)
        mx = lane[k] > mx ? lane[k] : mx;
    return mx;
}

/* A row goes through in chunks that keep e on the stack: exp, sum and
 * gradient are three separate loops, each without branches or calls, so
 * each vectorises (one fused loop with "if (dl)" inside does not). */
enum { BERNOULLI_CHUNK = 256 };

VAE_CLONES
static double bernoulli_row(const float *l, const float *x, int64_t d,
                            float *dl)
{
    float e[BERNOULLI_CHUNK];
    double lp = 0.0;
    for (int64_t i = 0; i < d; i += BERNOULLI_CHUNK) {
        int64_t n = d - i < BERNOULLI_CHUNK ? d - i : BERNOULLI_CHUNK;
        for (int64_t k = 0; k < n; k++)
            e[k] = vae_fast_expf(-fabsf(l[i + k]));
        lp += bernoulli_sum(l + i, x + i, e, n);
        if (dl)
            for (int64_t k = 0; k < n; k++)
                dl[i + k] = vae_sigmoid_from_exp(l[i + k], e[k]) - x[i + k];
    }
    return lp;
}

/* log N(x; m, exp(lv)); lv is per element (learned) or one value (fixed).
 * Gradients: d(-logp)/dm = (m - x) / var, d(-logp)/dlv = 0.5 (1 - r^2/var). */
static double gaussian_row(const float *m, const float *lv, double fixed_lv,
                           const float *x, int64_t d, float *dm, float *dlv)
{
    double lp = 0.0;
    for (int64_t i = 0; i < d; i++) {
        double v_log = lv ? (double)vae_clamp_logvar(lv[i]) : fixed_lv;
        double inv_var = exp(-v_log);
        double r = (double)x[i] - m[i];
        lp += -0.5 * (VAE_LOG_2PI + v_log + r * r * inv_var);
        if (dm)
            dm[i] = (float)(-r * inv_var);
        if (dlv) {
            int inside = lv[i] > VAE_LOGVAR_MIN && lv[i] < VAE_LOGVAR_MAX;
            dlv[i] = inside ? (float)(0.5 * (1.0 - r * r * inv_var)) : 0.0f;
        }
    }
    return lp;
}

/* log softmax(l)[id] over the `classes` logits of each non-padding step;
 * d(-logp)/dl = softmax(l) - onehot(id). Exponentials of l - max only, so
 * any finite logits are safe; their sum is kept in double. With a gradient
 * the exponentials are written into it on the way and scaled afterwards,
 * so each row is read twice (max, then exp) rather than three times. */
VAE_CLONES
static double categorical_row(const float *l, const float *x, int64_t d,
                              int64_t classes, float *dl)
{
    double lp = 0.0;
    for (int64_t t = 0; t < d; t++, l += classes) {
        int64_t id = (int64_t)x[t];
        float *g = dl ? dl + t * classes : NULL;
        if (id == 0) {
            if (g)
                memset(g, 0, (size_t)classes * sizeof *g);
            continue;
        }
        float lid = l[id], mx = max_floats(l, classes); /* g may be l */
        double sum = 0.0;
        if (g) {
            for (int64_t c = 0; c < classes; c++)
                g[c] = vae_fast_expf(l[c] - mx);
            sum = sum_floats(g, classes);
            float inv = (float)(1.0 / sum);
            for (int64_t c = 0; c < classes; c++)
                g[c] *= inv;
            g[id] -= 1.0f;
        } else {
            sum = sum_exps(l, classes, mx);
        }
        lp += (double)lid - ((double)mx + log(sum));
    }
    return lp;
}

/* vae_likelihood's arguments, for its ranges of examples. */
typedef struct lik_loop {
    int32_t kind;
    const float *out, *x;
    int64_t d, classes, os;
    double obs_logvar;
    double *logp;
    float *dout;
} lik_loop;

/* Examples [lo, hi): each writes its own logp and gradient rows. */
static void lik_range(void *ctx, int64_t lo, int64_t hi)
{
    const lik_loop *l = ctx;
    int32_t kind = l->kind;
    int64_t d = l->d, classes = l->classes, os = l->os;
    double obs_logvar = l->obs_logvar, *logp = l->logp;
    for (int64_t b = lo; b < hi; b++) {
        const float *o = l->out + b * os;
        const float *xb = l->x + b * d;
        float *g = l->dout ? l->dout + b * os : NULL;
        switch (kind) {
        case VAE_LIKELIHOOD_BERNOULLI:
            logp[b] = bernoulli_row(o, xb, d, g);
            break;
        case VAE_LIKELIHOOD_GAUSSIAN_FIXED:
            logp[b] = gaussian_row(o, NULL, obs_logvar, xb, d, g, NULL);
            break;
        case VAE_LIKELIHOOD_GAUSSIAN_LEARNED:
            logp[b] = gaussian_row(o, o + d, 0.0, xb, d, g, g ? g + d : NULL);
            break;
        case VAE_LIKELIHOOD_CATEGORICAL:
            logp[b] = categorical_row(o, xb, d, classes, g);
            break;
        default:
            logp[b] = NAN;
        }
    }
}

void vae_likelihood(int32_t kind, const float *out, const float *x,
                    int64_t batch, int64_t d, int64_t classes,
                    double obs_logvar, double *logp, float *dout)
{
    lik_loop l = {kind, out, x, d, classes,
                  vae_likelihood_out_size(kind, d, classes), obs_logvar,
                  logp, dout};
    int64_t grain = l.os > 0 && l.os < VAE_POOL_GRAIN ? VAE_POOL_GRAIN / l.os
                                                       : 1;
    vae_parallel_ranges(batch, grain, lik_range, &l);
}

/* Index of the largest of n values (the first on ties), over MAX_LANES
 * interleaved running maxima as in max_floats: one running maximum was a
 * dependent scalar chain, the largest part of greedy decoding over 10,000
 * words after the products. NaNs are passed over unless v[0] is one. */
VAE_CLONES
int64_t vae_argmax(const float *v, int64_t n)
{
    float top[MAX_LANES];
    int64_t at[MAX_LANES];
    for (int k = 0; k < MAX_LANES; k++) {
        top[k] = v[0];
        at[k] = 0;
    }
    int64_t i = 0;
    for (; i + MAX_LANES <= n; i += MAX_LANES)
        for (int k = 0; k < MAX_LANES; k++) {
            int up = v[i + k] > top[k];
            top[k] = up ? v[i + k] : top[k];
            at[k] = up ? i + k : at[k];
        }
    int64_t best = 0;
    for (; i < n; i++)
        best = v[i] > v[best] ? i : best;
    for (int k = 0; k < MAX_LANES; k++)
        if (top[k] > v[best] || (top[k] == v[best] && at[k] < best))
            best = at[k];
    return best;
}

void vae_likelihood_mean(int32_t kind, const float *out, int64_t batch,
                         int64_t d, int64_t classes, float *mean)
{
    int64_t os = vae_likelihood_out_size(kind, d, classes);
    for (int64_t b = 0; b < batch; b++) {
        const float *o = out + b * os;
        float *m = mean + b * d;
        if (kind == VAE_LIKELIHOOD_BERNOULLI)
            for (int64_t i = 0; i < d; i++)
                m[i] = vae_fast_sigmoidf(o[i]);
        else if (kind == VAE_LIKELIHOOD_CATEGORICAL)
            for (int64_t i = 0; i < d; i++)
                m[i] = (float)vae_argmax(o + i * classes, classes);
        else
            memcpy(m, o, (size_t)d * sizeof *m);
    }
}
