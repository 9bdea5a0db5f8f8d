/* kl.c - KL(N(mu, exp(lv)) || N(0, I)) = 0.5 sum (mu^2 + exp(lv) - 1 - lv). */
#include <math.h>

#include "gaussian.h"
#include "kl.h"
#include "vae.h"

void vae_kl_normal(const float *mu, const float *logvar, int64_t stride,
                   int64_t batch, int64_t d, double *kl_b, double *kl_dim)
{
    if (kl_dim)
        for (int64_t j = 0; j < d; j++)
            kl_dim[j] = 0.0;
    for (int64_t b = 0; b < batch; b++) {
        double sum = 0.0;
        for (int64_t j = 0; j < d; j++) {
            double k = vae_kl_one(mu[b * stride + j], logvar[b * stride + j]);
            sum += k;
            if (kl_dim)
                kl_dim[j] += k;
        }
        kl_b[b] = sum;
    }
    if (kl_dim)
        for (int64_t j = 0; j < d; j++)
            kl_dim[j] /= (double)batch;
}

double vae_kl_anneal_weight(int32_t kind, int64_t steps, int64_t t)
{
    double u = (double)t / (double)steps;
    switch (kind) {
    case VAE_ANNEAL_LINEAR: return u < 1.0 ? u : 1.0;
    case VAE_ANNEAL_SIGMOID: return 1.0 / (1.0 + exp(-10.0 * (u - 0.5)));
    default: return 1.0;
    }
}

double vae_log_prior_ratio(const float *z, const float *eps, const float *lv,
                           int64_t D)
{
    double s = 0.0;
    for (int64_t j = 0; j < D; j++)
        s += -0.5 * ((double)z[j] * z[j] - (double)eps[j] * eps[j] -
                     vae_clamp_logvar(lv[j]));
    return s;
}
