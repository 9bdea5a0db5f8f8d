/* rng.c - xoshiro256** (Blackman & Vigna), seeded through splitmix64, and
 * the normal and uniform draws built on it. */
#include <math.h>
#include <string.h>

#include "fastmath.h"
#include "rng.h"
#include "simd.h"

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

/* ---- Parameter initialisation in float ---------------------------------- */

/* Parameter initialisation draws millions of numbers at once, so it uses
 * INIT_LANES xoshiro256** generators side by side, each seeded by
 * splitmix64 from one draw of the model's generator (vae_rng_seed): the
 * lanes step together in vector registers, which the one generator's
 * serial dependency does not allow. Draws go through a small array, a
 * chunk at a time, into branch-free loops that map them to floats (every
 * loop here is cloned for AVX2 and AVX-512, simd.h). */
enum { INIT_LANES = VAE_RNG_INIT_DRAWS, INIT_CHUNK = 32 * INIT_LANES };

/* One step of vae_rng_next on state words a, b, c, d of type T, its draw
 * into out, in operators that work on scalars and GNU vectors alike. The
 * multiplications by 5 and 9 are shifts and adds: 64-bit vector multiplies
 * exist only from AVX-512 on. */
#define XOSHIRO_STEP(T, out, a, b, c, d)                                      \
    do {                                                                      \
        T x5_ = (b << 2) + b, r_ = x5_ << 7 | x5_ >> 57, t_ = b << 17;        \
        out = (r_ << 3) + r_;                                                 \
        c ^= a;                                                               \
        d ^= b;                                                               \
        b ^= c;                                                               \
        a ^= d;                                                               \
        c ^= t_;                                                              \
        d = d << 45 | d >> 19;                                                \
    } while (0)

typedef struct lanes {
    uint64_t s[4][INIT_LANES];
} lanes;

static void seed_lanes(vae_rng *r, lanes *l)
{
    for (int k = 0; k < INIT_LANES; k++) {
        vae_rng one;
        vae_rng_seed(&one, vae_rng_next(r));
        for (int w = 0; w < 4; w++)
            l->s[w][k] = one.s[w];
    }
}

/* bits[step * INIT_LANES + k] = the next draw of lane k, for INIT_CHUNK
 * draws. GCC vectorises no loop form of this (it scalarises the lanes), so
 * with GNU C the lanes are one vector; elsewhere a loop steps them. */
#if defined(__GNUC__) || defined(__clang__)
typedef uint64_t lane_vec __attribute__((vector_size(8 * INIT_LANES)));

VAE_CLONES
static void draw(lanes *l, uint64_t *bits)
{
    lane_vec a, b, c, d, out;
    memcpy(&a, l->s[0], sizeof a);
    memcpy(&b, l->s[1], sizeof b);
    memcpy(&c, l->s[2], sizeof c);
    memcpy(&d, l->s[3], sizeof d);
    for (int step = 0; step < INIT_CHUNK / INIT_LANES; step++) {
        XOSHIRO_STEP(lane_vec, out, a, b, c, d);
        memcpy(bits + step * INIT_LANES, &out, sizeof out);
    }
    memcpy(l->s[0], &a, sizeof a);
    memcpy(l->s[1], &b, sizeof b);
    memcpy(l->s[2], &c, sizeof c);
    memcpy(l->s[3], &d, sizeof d);
}
#else
static void draw(lanes *l, uint64_t *bits)
{
    for (int step = 0; step < INIT_CHUNK / INIT_LANES; step++)
        for (int k = 0; k < INIT_LANES; k++)
            XOSHIRO_STEP(uint64_t, bits[step * INIT_LANES + k], l->s[0][k],
                         l->s[1][k], l->s[2][k], l->s[3][k]);
}
#endif

/* The top 24 bits of a 32-bit half as a float in [0, 1). */
static inline float unit24(uint32_t half)
{
    return (float)(int32_t)(half >> 8) * 0x1.0p-24f;
}

/* out[2i], out[2i + 1] from the two halves of bits[i]. */
VAE_CLONES
static void uniform_pairs(const uint64_t *bits, float *out, int64_t pairs,
                          float bound)
{
    for (int64_t i = 0; i < pairs; i++) {
        /* 2u - 1 is exact in float for a 24-bit u: one rounding, by bound. */
        out[2 * i] = (2.0f * unit24((uint32_t)(bits[i] >> 32)) - 1.0f) * bound;
        out[2 * i + 1] = (2.0f * unit24((uint32_t)bits[i]) - 1.0f) * bound;
    }
}

/* log(u) for u in (0, 1]: u = 2^e m with m in [1, 2), log1p(m - 1) by the
 * polynomial of fastmath.h (its domain is [0, 1]). */
static inline float log_unit(float u)
{
    uint32_t b;
    memcpy(&b, &u, sizeof b);
    float e = (float)((int32_t)(b >> 23) - 127);
    b = (b & 0x007fffffu) | 0x3f800000u;
    float m;
    memcpy(&m, &b, sizeof m);
    return e * 0.693147181f + vae_fast_log1p_small(m - 1.0f);
}

/* sin and cos of x in [-pi/4, pi/4]: Taylor polynomials to x^9 and x^10,
 * whose truncation errors (2e-9, 1e-10) are below float rounding. */
static inline float sin_small(float x)
{
    float x2 = x * x;
    float p = 2.75573192e-6f;
    p = p * x2 - 1.98412698e-4f;
    p = p * x2 + 8.33333333e-3f;
    p = p * x2 - 1.66666667e-1f;
    return x + x * x2 * p;
}

static inline float cos_small(float x)
{
    float x2 = x * x;
    float p = -2.75573192e-7f;
    p = p * x2 + 2.48015873e-5f;
    p = p * x2 - 1.38888889e-3f;
    p = p * x2 + 4.16666667e-2f;
    p = p * x2 - 0.5f;
    return 1.0f + x2 * p;
}

/* Box-Muller on the halves of bits[i]: radius sqrt(-2 log u1), u1 in
 * (0, 1] from 31 bits; the angle is a quarter turn k (2 bits) plus phi in
 * [0, pi/2) (24 bits), and cos, sin of phi come from those of
 * x = phi - pi/4 rotated by pi/4, where the polynomials are accurate. */
VAE_CLONES
static void normal_pairs(const uint64_t *bits, float *out, int64_t pairs)
{
    const float half_sqrt2 = 0.707106781f;
    for (int64_t i = 0; i < pairs; i++) {
        uint32_t a = (uint32_t)(bits[i] >> 32), b = (uint32_t)bits[i];
        float u1 = ((float)(int32_t)(a >> 1) + 0.5f) * 0x1.0p-31f;
        float radius = sqrtf(-2.0f * log_unit(u1));
        float x = (float)(int32_t)(b & 0x00ffffffu) * (0x1.0p-24f * 1.57079633f)
                  - 0.785398163f;
        float s = sin_small(x), c = cos_small(x);
        float cphi = (c - s) * half_sqrt2, sphi = (c + s) * half_sqrt2;
        uint32_t k = b >> 30;
        /* Rotating by k quarter turns: odd k swaps cos and sin (one sign
         * flipped), k >= 2 negates both. */
        float sign = 1.0f - (float)(int32_t)(k >> 1) * 2.0f;
        float cx = vae_fast_select((int)(k & 1u), -sphi, cphi);
        float sx = vae_fast_select((int)(k & 1u), cphi, sphi);
        out[2 * i] = radius * cx * sign;
        out[2 * i + 1] = radius * sx * sign;
    }
}

/* Fills out[0..n-1] by pairs, a chunk of draws at a time; an odd n's last
 * value is the first of one more pair. */
static void fill_pairs(vae_rng *r, float *out, int64_t n, float bound,
                       int normal)
{
    lanes l;
    uint64_t bits[INIT_CHUNK];
    float tail[2];
    seed_lanes(r, &l);
    for (int64_t i = 0; i < n; i += 2 * INIT_CHUNK) {
        int64_t left = n - i, pairs = left >= 2 * INIT_CHUNK ? INIT_CHUNK
                                                              : (left + 1) / 2;
        int odd = left < 2 * INIT_CHUNK && left % 2;
        draw(&l, bits);
        /* The whole pairs go straight to out, an odd last one via tail. */
        if (normal)
            normal_pairs(bits, out + i, pairs - odd);
        else
            uniform_pairs(bits, out + i, pairs - odd, bound);
        if (odd) {
            if (normal)
                normal_pairs(bits + pairs - 1, tail, 1);
            else
                uniform_pairs(bits + pairs - 1, tail, 1, bound);
            out[n - 1] = tail[0];
        }
    }
}

void vae_rng_init_uniform(vae_rng *r, float *out, int64_t n, float bound)
{
    fill_pairs(r, out, n, bound, 0);
}

void vae_rng_init_normal(vae_rng *r, float *out, int64_t n)
{
    fill_pairs(r, out, n, 0.0f, 1);
}
