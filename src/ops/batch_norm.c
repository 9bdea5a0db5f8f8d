/* batch_norm.c - batch normalisation (Ioffe & Szegedy 2015) of each
 * feature of the last axis over all rows of a batch (its examples, and the
 * time steps of a sequence): y = gamma (x - mean) / sqrt(var + eps) + beta.
 * While gradients are computed (run->training) the batch's mean and
 * variance are used and the running ones updated (momentum 0.1, as
 * PyTorch's); otherwise the running ones, which the model saves. gamma is
 * learned (initialised to 1), or fixed: BN-VAE (Zhu et al. 2020) fixes the
 * scale of the posterior mean so that the expected KL cannot fall below
 * about latent x gamma^2 / 2. beta is always learned (initialised to 0). */
#include <math.h>

#include "ops.h"

/* fattr: the fixed scale gamma, or 0 for a learned one. */
enum { BN_GAMMA };

#define BN_EPS 1e-5
#define BN_MOMENTUM 0.1

/* Features (the last axis) and rows (everything else over the batch). */
static int64_t features(const vae_node_spec *s)
{
    return s->shape[s->rank - 1];
}

static int learned_scale(const vae_node_spec *s)
{
    return s->fattr[BN_GAMMA] == 0.0f;
}

static int32_t bn_shape(vae_node_spec *s, const vae_node_spec *const *in,
                        char *err, size_t errlen)
{
    int32_t st = vae_want_inputs(s, 1, err, errlen);
    if (st != VAE_OK)
        return st;
    float gamma = s->fattr[BN_GAMMA];
    if (!(gamma >= 0.0f && gamma <= 1e6f)) {
        vae_set_err(err, errlen, "gamma %g not in [0, 1e6] (0: learned)",
                    (double)gamma);
        return VAE_ERR_RANGE;
    }
    s->rank = in[0]->rank;
    for (int32_t i = 0; i < s->rank; i++)
        s->shape[i] = in[0]->shape[i];
    int64_t f = in[0]->shape[in[0]->rank - 1];
    s->n_params = learned_scale(s) ? 2 * f : f;
    return vae_shape_finish(s, err, errlen);
}

/* Learned: gamma 1 then beta 0; fixed: beta 0. */
static void bn_init(const vae_node_spec *s, float *w, vae_rng *r)
{
    (void)r;
    int64_t f = features(s);
    for (int64_t j = 0; j < s->n_params; j++)
        w[j] = learned_scale(s) && j < f ? 1.0f : 0.0f;
}

/* The running mean then the running variance. */
static int64_t bn_buffers(const vae_node_spec *s) { return 2 * features(s); }

static void bn_init_buffers(const vae_node_spec *s, float *b)
{
    int64_t f = features(s);
    for (int64_t j = 0; j < 2 * f; j++)
        b[j] = j < f ? 0.0f : 1.0f;
}

/* The scale and shift of feature j. */
static float gamma_of(const vae_node_spec *s, const float *w, int64_t j)
{
    return learned_scale(s) ? w[j] : s->fattr[BN_GAMMA];
}

static float beta_of(const vae_node_spec *s, const float *w, int64_t j)
{
    return w[(learned_scale(s) ? features(s) : 0) + j];
}

/* The mean and (biased) variance of feature j over the rows of x, in
 * double: two passes, so a large mean does not eat the variance. */
static void batch_stats(const float *x, int64_t rows, int64_t f, int64_t j,
                        double *mean, double *var)
{
    double s = 0.0, ss = 0.0;
    for (int64_t r = 0; r < rows; r++)
        s += x[r * f + j];
    *mean = s / (double)rows;
    for (int64_t r = 0; r < rows; r++) {
        double d = x[r * f + j] - *mean;
        ss += d * d;
    }
    *var = ss / (double)rows;
}

/* The statistics that normalise feature j: the batch's in training (and
 * the running ones updated with them), else the running ones. */
static void stats_for(vae_node *n, const float *x, int64_t rows, int64_t j,
                      double *mean, double *var, int update)
{
    const int64_t f = features(&n->s);
    if (!n->run->training) {
        *mean = n->buf[j];
        *var = n->buf[f + j];
        return;
    }
    batch_stats(x, rows, f, j, mean, var);
    if (!update)
        return;
    /* The running variance is the unbiased one, as PyTorch keeps it. */
    double unbiased = rows > 1 ? *var * (double)rows / (double)(rows - 1)
                               : *var;
    n->buf[j] = (float)((1.0 - BN_MOMENTUM) * n->buf[j] + BN_MOMENTUM * *mean);
    n->buf[f + j] =
        (float)((1.0 - BN_MOMENTUM) * n->buf[f + j] + BN_MOMENTUM * unbiased);
}

static void bn_forward(vae_node *n, vae_node *const *in, const float *w,
                       int64_t batch)
{
    const int64_t f = features(&n->s), rows = batch * n->s.size / f;
    const float *x = in[0]->val;
    for (int64_t j = 0; j < f; j++) {
        double mean, var;
        stats_for(n, x, rows, j, &mean, &var, 1);
        float inv = (float)(1.0 / sqrt(var + BN_EPS));
        float g = gamma_of(&n->s, w, j), b = beta_of(&n->s, w, j);
        for (int64_t r = 0; r < rows; r++)
            n->val[r * f + j] = g * ((x[r * f + j] - (float)mean) * inv) + b;
    }
}

/* With the batch's statistics (training), every output depends on every
 * row through the mean and variance:
 *   dx = gamma / sigma (dy - mean(dy) - xhat mean(dy xhat));
 * with the running ones the map is affine per feature. The statistics are
 * computed again from x: forward keeps nothing. */
static void bn_backward(vae_node *n, vae_node *const *in, const float *w,
                        float *dw, int64_t batch)
{
    const int64_t f = features(&n->s), rows = batch * n->s.size / f;
    const float *x = in[0]->val, *dy = n->grad;
    float *dx = in[0]->grad;
    const int learned = learned_scale(&n->s);
    for (int64_t j = 0; j < f; j++) {
        double mean, var;
        stats_for(n, x, rows, j, &mean, &var, 0);
        double inv = 1.0 / sqrt(var + BN_EPS), sdy = 0.0, sdyx = 0.0;
        for (int64_t r = 0; r < rows; r++) {
            double xhat = (x[r * f + j] - mean) * inv;
            sdy += dy[r * f + j];
            sdyx += dy[r * f + j] * xhat;
        }
        if (learned)
            dw[j] += (float)sdyx;
        dw[(learned ? f : 0) + j] += (float)sdy;
        if (!dx)
            continue;
        double g = gamma_of(&n->s, w, j);
        for (int64_t r = 0; r < rows; r++) {
            double d = dy[r * f + j];
            if (n->run->training) {
                double xhat = (x[r * f + j] - mean) * inv;
                d -= (sdy + xhat * sdyx) / (double)rows;
            }
            dx[r * f + j] += (float)(g * inv * d);
        }
    }
}

const vae_op vae_op_batch_norm = {
    .name = "batch_norm",
    .code = VAE_OP_BATCH_NORM,
    .shape = bn_shape,
    .init = bn_init,
    .forward = bn_forward,
    .backward = bn_backward,
    .buffers = bn_buffers,
    .init_buffers = bn_init_buffers,
    /* Each example's output depends on the whole batch in training, and on
     * the running statistics alone otherwise: one step at a time gives
     * what the whole sequence gives in generation, which runs without
     * gradients. */
    .batch_coupled = 1,
    .per_step = 1,
};

VAE_API int32_t vae_graph_batch_norm(vae_graph *g, int32_t x, float gamma)
{
    float attr[] = {[BN_GAMMA] = gamma};
    return vae_graph_add(g, &vae_op_batch_norm, &x, 1, NULL, 0, attr, 1);
}
