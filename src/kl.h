/* kl.h - the latent Gaussian against the prior: KL(N(mu, exp(logvar)) ||
 * N(0, I)) in closed form, the log ratio p(z) / q(z|x) of one draw, and the
 * weights of the KL annealing schedules. */
#ifndef VAE_KL_H
#define VAE_KL_H

#include <math.h>
#include <stdint.h>

#include "gaussian.h"

/* KL of one dimension: 0.5 (mu^2 + exp(lv) - 1 - lv), lv clamped. */
static inline double vae_kl_one(float mu, float logvar)
{
    double m = mu, lv = vae_clamp_logvar(logvar);
    return 0.5 * (m * m + exp(lv) - 1.0 - lv);
}

/* For `batch` examples of d dimensions, with mu/logvar rows of stride
 * `stride` floats (the head output holds mu then logvar in one row, so
 * stride = 2d there): kl_b[b] = sum_j 0.5 (mu^2 + exp(lv) - 1 - lv), and
 * kl_dim[j] (may be NULL) = mean over the batch of the per-dimension KL.
 * logvar is clamped to [VAE_LOGVAR_MIN, VAE_LOGVAR_MAX] first. */
void vae_kl_normal(const float *mu, const float *logvar, int64_t stride,
                   int64_t batch, int64_t d, double *kl_b, double *kl_dim);

/* log p(z) - log q(z|x) of one draw z = mu + sigma * eps of D dimensions,
 * where lv is q's logvar row (log 2 pi cancels): the log importance ratio
 * of the prior against the posterior. */
double vae_log_prior_ratio(const float *z, const float *eps, const float *lv,
                           int64_t D);

/* The KL weight of annealing schedule `kind` (VAE_ANNEAL_*) at step t of
 * `steps`. */
double vae_kl_anneal_weight(int32_t kind, int64_t steps, int64_t t);

#endif
