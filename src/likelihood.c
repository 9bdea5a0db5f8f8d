/* likelihood.c - log p(x|z) per example, its gradient, and E[x|z]. */
#include <math.h>

#include "likelihood.h"
#include "model.h"

#define LOG_2PI 1.8378770664093453

int64_t vae_likelihood_out_size(int32_t kind, int64_t d)
{
    switch (kind) {
    case VAE_LIKELIHOOD_BERNOULLI:
    case VAE_LIKELIHOOD_GAUSSIAN_FIXED: return d;
    case VAE_LIKELIHOOD_GAUSSIAN_LEARNED: return 2 * d;
    default: return -1;
    }
}

static float clamp_logvar(float lv)
{
    return fminf(fmaxf(lv, VAE_LOGVAR_MIN), VAE_LOGVAR_MAX);
}

static float sigmoid(float l)
{
    if (l >= 0.0f)
        return 1.0f / (1.0f + expf(-l));
    float e = expf(l);
    return e / (1.0f + e);
}

/* log p(x|l) = x*l - softplus(l); d(-logp)/dl = sigmoid(l) - x. One exp of
 * a non-positive number serves both softplus and sigmoid; terms are float
 * (exact to float rounding), the sum double. */
static double bernoulli_row(const float *l, const float *x, int64_t d,
                            float *dl)
{
    double lp = 0.0;
    for (int64_t i = 0; i < d; i++) {
        float li = l[i];
        float e = expf(-fabsf(li));
        /* logf(1 + e) instead of log1pf(e): twice as fast, and off by at
         * most e < 6e-8 nats where 1 + e rounds to 1. */
        float softplus = fmaxf(li, 0.0f) + logf(1.0f + e);
        lp += (double)(x[i] * li - softplus);
        if (dl)
            dl[i] = (li >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e)) - x[i];
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
        double v_log = lv ? (double)clamp_logvar(lv[i]) : fixed_lv;
        double inv_var = exp(-v_log);
        double r = (double)x[i] - m[i];
        lp += -0.5 * (LOG_2PI + v_log + r * r * inv_var);
        if (dm)
            dm[i] = (float)(-r * inv_var);
        if (dlv) {
            int inside = lv[i] > VAE_LOGVAR_MIN && lv[i] < VAE_LOGVAR_MAX;
            dlv[i] = inside ? (float)(0.5 * (1.0 - r * r * inv_var)) : 0.0f;
        }
    }
    return lp;
}

void vae_likelihood(int32_t kind, const float *out, const float *x,
                    int64_t batch, int64_t d, double obs_logvar,
                    double *logp, float *dout)
{
    int64_t os = vae_likelihood_out_size(kind, d);
    for (int64_t b = 0; b < batch; b++) {
        const float *o = out + b * os;
        const float *xb = x + b * d;
        float *g = dout ? dout + b * os : NULL;
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
        default:
            logp[b] = NAN;
        }
    }
}

void vae_likelihood_mean(int32_t kind, const float *out, int64_t batch,
                         int64_t d, float *mean)
{
    int64_t os = vae_likelihood_out_size(kind, d);
    for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < d; i++) {
            float o = out[b * os + i];
            mean[b * d + i] = kind == VAE_LIKELIHOOD_BERNOULLI ? sigmoid(o) : o;
        }
}
