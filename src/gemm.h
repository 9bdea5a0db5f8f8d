/* gemm.h - the library's matrix product (gemm.c): cblas_sgemm, split
 * across the worker pool (pool.h) when the pool has several threads. */
#ifndef VAE_GEMM_H
#define VAE_GEMM_H

#include <stdint.h>

/* C = alpha op(A) op(B) + beta C, row-major, op(X) = X^T when tx is 1:
 * cblas_sgemm's contract, with C m x n and k the inner dimension. */
void vae_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
               const float *a, int64_t lda, const float *b, int64_t ldb,
               float beta, float *c, int64_t ldc);

/* The same product as one cblas_sgemm on the calling thread: for a
 * product that is itself one task of a parallel loop, whose blocks would
 * only run one after the other. */
void vae_sgemm_one(int ta, int tb, int64_t m, int64_t n, int64_t k,
                   float alpha, const float *a, int64_t lda, const float *b,
                   int64_t ldb, float beta, float *c, int64_t ldc);

#endif
