/* fastmath.h - float exp, expm1 and log1p for the elementwise hot loops, and
 * the activations built from them.
 *
 * glibc's expf, logf and tanhf are out-of-line calls, so a loop that uses
 * them runs one element at a time. Everything here is static inline and
 * branch-free (bit-mask selects; fabsf and copysignf compile to bit
 * operations), so GCC -O3 vectorises the loops that call it. There is
 * no fmaf: without hardware FMA in the target it would be a library call.
 *
 * Accuracy, measured against double-precision libm by tests/test_fastmath.c
 * (which asserts these bounds), in units of FLT_EPSILON relative error:
 *   vae_fast_expf 1, vae_fast_expm1f 1.5, vae_fast_tanhf 2,
 *   vae_fast_sigmoidf 2.5, vae_fast_softplusf 2.5,
 *   vae_fast_log1p_small 2 (and 1.5e-7 absolute) on its domain [0, 1].
 * expf flushes results below FLT_MIN to 0 (see VAE_FAST_EXP_LO), so the
 * sigmoid and softplus of x < -87.34 are 0 rather than a subnormal.
 * NaN in gives NaN out. */
#ifndef VAE_FASTMATH_H
#define VAE_FASTMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Inputs are clamped to [VAE_FAST_EXP_LO, VAE_FAST_EXP_HI], the range where
 * 2^n with n = round(x / ln 2) is a normal float (n in [-126, 127]).
 * LO is the float just above ln(FLT_MIN): below it exp(x) would be
 * subnormal, and vae_fast_expf returns +0 instead (subnormals are slow and
 * the callers' sums cannot tell them from 0). At HI and above the result
 * saturates at exp(HI) ~ 2.4e38: finite, never inf. */
#define VAE_FAST_EXP_LO (-87.3365402f)
#define VAE_FAST_EXP_HI 88.3762589f

/* Cody-Waite split of ln 2: LN2_HI has 9 significant bits, so n * LN2_HI is
 * exact for every n the clamp allows, and x - n * LN2_HI loses nothing. */
#define VAE_FAST_LN2_HI 0.693359375f
#define VAE_FAST_LN2_LO (-2.12194442e-4f)
#define VAE_FAST_LOG2E 1.44269504f
/* 1.5 * 2^23: adding it to a float of magnitude below 2^22 rounds to the
 * nearest integer, which then sits in the low mantissa bits. */
#define VAE_FAST_ROUNDER 12582912.0f
#define VAE_FAST_ROUNDER_BITS 0x4B400000u

/* c ? a : b as a bit mask. Under GCC's default -ftrapping-math a ?: on
 * floats stays a branch whenever GCC can specialise the paths (a clamped
 * input is a constant on one of them, so the code after it gets duplicated
 * and folded per path), and a loop with a branch does not vectorise. A mask
 * has no paths to split. */
static inline float vae_fast_select(int c, float a, float b)
{
    uint32_t ua, ub, m = 0u - (uint32_t)(c != 0);
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    ua = (ua & m) | (ub & ~m);
    memcpy(&a, &ua, sizeof a);
    return a;
}

/* exp(x) = 2^n * exp(r) with |r| <= ln2 / 2 (plus rounding slack). Returns
 * r and stores 2^n in *scale. */
static inline float vae_fast_exp_reduce(float x, float *scale)
{
    /* Comparisons, not fmaxf/fminf (library calls): NaN fails both, passes
     * through and makes the result NaN. */
    float xc = vae_fast_select(x < VAE_FAST_EXP_LO, VAE_FAST_EXP_LO, x);
    xc = vae_fast_select(xc > VAE_FAST_EXP_HI, VAE_FAST_EXP_HI, xc);
    float t = xc * VAE_FAST_LOG2E + VAE_FAST_ROUNDER;
    float n = t - VAE_FAST_ROUNDER;
    uint32_t bits;
    memcpy(&bits, &t, sizeof bits);
    /* bits = ROUNDER_BITS + n (two's complement, mod 2^32), so the biased
     * exponent n + 127 is in [1, 254]; unsigned arithmetic keeps every step
     * defined, and the shift drops the high bits. */
    bits = (bits - VAE_FAST_ROUNDER_BITS + 127u) << 23;
    memcpy(scale, &bits, sizeof bits);
    float r = xc - n * VAE_FAST_LN2_HI;
    return r - n * VAE_FAST_LN2_LO;
}

/* expm1(r) ~ r + r^2 Q(r) on |r| <= 0.3466. Q is a degree-4 near-minimax
 * fit to (e^r - 1 - r) / r^2 for relative error of e^r (Lawson's reweighted
 * least squares in numpy, scripts/fit-fastmath.py; max approximation error
 * 3.1e-9), coefficients rounded to float. Writing the polynomial as
 * r + r^2 Q keeps expm1(r) relatively accurate as r -> 0. */
static inline float vae_fast_expm1_reduced(float r)
{
    float q = 1.381460228e-03f;
    q = q * r + 8.368715644e-03f;
    q = q * r + 4.166838899e-02f;
    q = q * r + 1.666652113e-01f;
    q = q * r + 4.999999404e-01f;
    return r + (r * r) * q;
}

/* e^x for any float x; see VAE_FAST_EXP_LO/HI for the ends of the range. */
static inline float vae_fast_expf(float x)
{
    float scale;
    float r = vae_fast_exp_reduce(x, &scale);
    float y = (1.0f + vae_fast_expm1_reduced(r)) * scale;
    return vae_fast_select(x < VAE_FAST_EXP_LO, 0.0f, y);
}

/* e^x - 1 without cancellation near 0: 2^n expm1(r) + (2^n - 1), where
 * 2^n - 1 is exact for the small n where cancellation could matter. Tends
 * to exactly -1 as x -> -inf. */
static inline float vae_fast_expm1f(float x)
{
    float scale;
    float r = vae_fast_exp_reduce(x, &scale);
    return vae_fast_expm1_reduced(r) * scale + (scale - 1.0f);
}

/* log(1 + e) for e in [0, 1] only (outside it the polynomial diverges):
 * what softplus needs, with e = exp(-|x|). e + e^2 P(e), P a degree-7
 * near-minimax fit to (log1p(e) - e) / e^2 for relative error (same script;
 * approximation error 3.3e-8 relative, the rest is float rounding). Exact
 * at 0 and relatively accurate for small e, where logf(1 + e) is not. */
static inline float vae_fast_log1p_small(float e)
{
    float p = 5.364821292e-03f;
    p = p * e - 3.006578051e-02f;
    p = p * e + 7.920452207e-02f;
    p = p * e - 1.375380158e-01f;
    p = p * e + 1.915365458e-01f;
    p = p * e - 2.485716343e-01f;
    p = p * e + 3.332132399e-01f;
    p = p * e - 4.999964833e-01f;
    return e + (e * e) * p;
}

/* sigmoid(x) given e = exp(-|x|): 1/(1+e) or e/(1+e) by the sign of x, so
 * both tails keep their relative accuracy. One division, shared. */
static inline float vae_sigmoid_from_exp(float x, float e)
{
    float r = 1.0f / (1.0f + e);
    return vae_fast_select(x >= 0.0f, r, e * r);
}

/* softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e), e = exp(-|x|). */
static inline float vae_softplus_from_exp(float x, float e)
{
    return vae_fast_select(x > 0.0f, x, 0.0f) + vae_fast_log1p_small(e);
}

static inline float vae_fast_sigmoidf(float x)
{
    return vae_sigmoid_from_exp(x, vae_fast_expf(-fabsf(x)));
}

static inline float vae_fast_softplusf(float x)
{
    return vae_softplus_from_exp(x, vae_fast_expf(-fabsf(x)));
}

/* tanh|x| = -m / (2 + m) with m = expm1(-2|x|) in [-1, 0]: no overflow,
 * no cancellation near 0, and exactly 1 once m rounds to -1; the sign is
 * copied back, so tanh(-0) = -0. */
static inline float vae_fast_tanhf(float x)
{
    float m = vae_fast_expm1f(-2.0f * fabsf(x));
    return copysignf(-m / (2.0f + m), x);
}

#endif
