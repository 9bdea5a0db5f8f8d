/* simd.h - VAE_CLONES marks a hot elementwise loop to be compiled three
 * times on x86-64, for AVX-512, for AVX2 and for the baseline (SSE2), with
 * the dynamic loader picking the one the CPU runs (GCC and Clang
 * target_clones, an ifunc). The library is built for the baseline so that
 * it runs on every x86-64; each clone doubles the vector width where the
 * CPU has it. Results are the same bytes either way: the loops are
 * elementwise or keep explicit lanes, and ISO C mode does not contract
 * a * b + c into an FMA (tests/test_fastmath.c compares the clone this CPU
 * runs with the baseline code). CMake defines VAE_SIMD_CLONES for
 * optimised builds without sanitizers (CMakeLists.txt). */
#ifndef VAE_SIMD_H
#define VAE_SIMD_H

/* VAE_AVX512 is 1 where the clones are built: there a loop may also have
 * an AVX-512 version written with intrinsics, chosen at run time with
 * __builtin_cpu_supports("avx512f"); such a version must give the bytes of
 * the plain loop it stands in for. */
#if defined(VAE_SIMD_CLONES) && defined(__x86_64__) && \
    (defined(__GNUC__) || defined(__clang__))
#define VAE_CLONES \
    __attribute__((target_clones("avx512f", "avx2", "default")))
#define VAE_AVX512 1
#include <immintrin.h>
#include <stdint.h>

/* Lanes [lo, hi) of a 16-lane mask, for 0 <= lo <= hi <= 16. */
static inline __mmask16 vae_lane_span(int64_t lo, int64_t hi)
{
    return (__mmask16)((((uint32_t)1 << (hi - lo)) - 1) << lo);
}
#else
#define VAE_CLONES
#define VAE_AVX512 0
#endif

#endif
