/* gaussian.h - the constants of the model's Gaussians (the latent posterior
 * and the Gaussian likelihood), shared by the KL, the likelihood and the
 * reparameterised sample. A leaf: it includes nothing of the library. */
#ifndef VAE_GAUSSIAN_H
#define VAE_GAUSSIAN_H

#include <math.h>

/* Log-variances (latent and Gaussian likelihood) are clamped to this range
 * before exp(), so one wild activation cannot overflow to Inf. */
#define VAE_LOGVAR_MIN -30.0f
#define VAE_LOGVAR_MAX 20.0f

#define VAE_LOG_2PI 1.8378770664093453

static inline float vae_clamp_logvar(float lv)
{
    return fminf(fmaxf(lv, VAE_LOGVAR_MIN), VAE_LOGVAR_MAX);
}

#endif
