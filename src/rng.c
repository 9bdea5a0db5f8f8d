/* rng.c - xoshiro256** (Blackman & Vigna), seeded through splitmix64. */
#include <math.h>

#include "rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void vae_rng_seed(vae_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

double vae_rng_normal(vae_rng *r)
{
    /* 1 - u lies in (0, 1], so the log is finite. */
    double u1 = 1.0 - vae_rng_uniform(r);
    double u2 = vae_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void vae_rng_normal_fill(vae_rng *r, float *out, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = (float)vae_rng_normal(r);
}
