/* likelihood.h - log p(x|z) for each likelihood kind, its gradient with
 * respect to the decoder output, and the mean of p(x|z). */
#ifndef VAE_LIKELIHOOD_H
#define VAE_LIKELIHOOD_H

#include <stdint.h>

/* Decoder output elements per example for data size d (d, 2d, or d x
 * classes for the categorical likelihood), or -1 for an unknown kind. */
int64_t vae_likelihood_out_size(int32_t kind, int64_t d, int64_t classes);

/* logp[b] = log p(x_b | out_b) in nats, accumulated in double, for the
 * decoder output `out` (batch x out_size) and data x (batch x d). If dout is
 * not NULL it is overwritten with d(-sum_b logp[b]) / d(out); dout may be
 * out itself, the gradient then replacing the output. obs_logvar is
 * the log-variance of VAE_LIKELIHOOD_GAUSSIAN_FIXED. Stable for any finite
 * logits: Bernoulli uses softplus(l) - x*l with softplus computed as
 * max(l,0) + log1p(exp(-|l|)). Categorical: x holds d token ids, out d rows
 * of `classes` logits; positions whose id is 0 (padding) add nothing and get
 * a zero gradient. */
void vae_likelihood(int32_t kind, const float *out, const float *x,
                    int64_t batch, int64_t d, int64_t classes,
                    double obs_logvar, double *logp, float *dout);

/* mean[b*d + i] = E[x_i | out_b]: sigmoid(logit) or the Gaussian mean; for
 * the categorical likelihood, the most probable id (the mode). */
void vae_likelihood_mean(int32_t kind, const float *out, int64_t batch,
                         int64_t d, int64_t classes, float *mean);

/* Index of the largest of n values (the first on ties). */
int64_t vae_argmax(const float *v, int64_t n);

#endif
