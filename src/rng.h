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

/* Inline: parameter initialisation draws millions of these in a row, and a
 * call per number was a third of a model's start-up. */
static inline uint64_t vae_rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t vae_rng_next(vae_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = vae_rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = vae_rng_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double vae_rng_uniform(vae_rng *r)
{
    return (double)(vae_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Standard normal (Box-Muller on doubles; no cached second value, so the
 * stream position depends only on how many numbers were drawn). */
double vae_rng_normal(vae_rng *r);
/* Fills out[0..n-1] with standard normals. */
void vae_rng_normal_fill(vae_rng *r, float *out, int64_t n);

/* Parameter initialisation draws millions of numbers at once, where the
 * double Box-Muller above (a log and a cos in double per value) was most
 * of a text model's start-up. These two fill a whole array in float, 32
 * random bits per value, from VAE_RNG_INIT_DRAWS generators seeded by as
 * many draws of r and stepped side by side in vectorised loops (rng.c):
 * a fill advances r by VAE_RNG_INIT_DRAWS draws, whatever its length. */
#define VAE_RNG_INIT_DRAWS 4
/* out[i] uniform in [-bound, bound) (24-bit resolution). */
void vae_rng_init_uniform(vae_rng *r, float *out, int64_t n, float bound);
/* out[i] standard normal: float Box-Muller using both values of a pair,
 * tails to about 6.7 standard deviations. */
void vae_rng_init_normal(vae_rng *r, float *out, int64_t n);

#endif
