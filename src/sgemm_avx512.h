/* sgemm_avx512.h - the library's own single-precision matrix product for
 * CPUs with AVX-512 (sgemm_avx512.c), which gemm.c runs in place of
 * cblas_sgemm where it is available. */
#ifndef VAE_SGEMM_AVX512_H
#define VAE_SGEMM_AVX512_H

#include <stdint.h>

/* C = alpha op(A) op(B) + beta C, row-major, op(X) = X^T when tx is 1 (with
 * beta 0, C is not read), on the calling thread. With b1 not NULL, C =
 * alpha op(A) op(B) + the row b1 (+ b2 when not NULL; n floats each) in
 * every row instead, without reading C: the bytes of filling C's rows with
 * b1[j] + b2[j] and adding the product with beta 1. Returns 1 when done, 0
 * when not: no AVX-512 on this CPU or in this build, an empty product,
 * alpha 0, or no memory for the thread's packing buffer; then nothing was written and
 * the caller multiplies otherwise. Each element is the same sum however
 * the caller cuts C into blocks: its order depends on k alone. */
int vae_sgemm_avx512(int ta, int tb, int64_t m, int64_t n, int64_t k,
                     float alpha, const float *a, int64_t lda, const float *b,
                     int64_t ldb, float beta, const float *b1, const float *b2,
                     float *c, int64_t ldc);

/* Allocates the calling thread's packing buffer (384 KiB, kept until the
 * thread exits) unless it has one or the CPU lacks AVX-512: 1, or 0 when
 * out of memory. Called where a handle makes its workspace, so that an
 * allocation failure is reported there and products never allocate. */
int vae_sgemm_avx512_reserve(void);

#endif
