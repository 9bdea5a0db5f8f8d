/* rng.h - the model's random generator: xoshiro256** seeded by splitmix64.
 * Chosen for a small, fully specified state that saves to four u64 words, so
 * a checkpoint resumes the exact same stream. */
#ifndef VAE_RNG_H
#define VAE_RNG_H

#include <stdint.h>

typedef struct vae_rng {
    uint64_t s[4];
} vae_rng;

void vae_rng_seed(vae_rng *r, uint64_t seed);
uint64_t vae_rng_next(vae_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double vae_rng_uniform(vae_rng *r);
/* Standard normal (Box-Muller on doubles; no cached second value, so the
 * stream position depends only on how many numbers were drawn). */
double vae_rng_normal(vae_rng *r);
/* Fills out[0..n-1] with standard normals. */
void vae_rng_normal_fill(vae_rng *r, float *out, int64_t n);

#endif
