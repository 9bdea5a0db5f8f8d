/* gemm.h - the library's matrix product (gemm.c): its own AVX-512 product
 * or cblas_sgemm, split across the worker pool (pool.h) when the pool has
 * several threads. */
#ifndef VAE_GEMM_H
#define VAE_GEMM_H

#include <stdint.h>

/* C = alpha op(A) op(B) + beta C, row-major, op(X) = X^T when tx is 1:
 * cblas_sgemm's contract, with C m x n and k the inner dimension. */
void vae_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
               const float *a, int64_t lda, const float *b, int64_t ldb,
               float beta, float *c, int64_t ldc);

/* The same product whole on the calling thread: for a
 * product that is itself one task of a parallel loop, whose blocks would
 * only run one after the other. */
void vae_sgemm_one(int ta, int tb, int64_t m, int64_t n, int64_t k,
                   float alpha, const float *a, int64_t lda, const float *b,
                   int64_t ldb, float beta, float *c, int64_t ldc);

/* C = op(A) op(B) + the row b1 (+ b2 when not NULL; n floats each) in
 * every row of C, which is not read: a layer's forward with its bias.
 * Libvae's AVX-512 product adds the bias as it stores its sums; otherwise
 * C's rows are filled with b1[j] + b2[j] and the product added to them
 * (beta 1), which gives the same bytes. */
void vae_sgemm_bias(int ta, int tb, int64_t m, int64_t n, int64_t k,
                    const float *a, int64_t lda, const float *b, int64_t ldb,
                    const float *b1, const float *b2, float *c, int64_t ldc);

/* The arguments of one vae_sgemm, or with b1 set of one vae_sgemm_bias
 * (alpha 1; beta 1, which OpenBLAS's product uses after the fill). */
typedef struct vae_gemm {
    int ta, tb;
    int64_t m, n, k;
    float alpha;
    const float *a;
    int64_t lda;
    const float *b;
    int64_t ldb;
    float beta;
    float *c;
    int64_t ldc;
    const float *b1, *b2;
} vae_gemm;

/* Two independent products (neither writes what the other reads or
 * writes), as vae_sgemm(x) then vae_sgemm(y); y NULL: x alone. Two too
 * small to split run side by side, each whole on a thread of its own,
 * where one after the other each left the other threads waiting (the mlp
 * benchmark's latent-side layers); a product is whole either way, so the
 * bytes are vae_sgemm's. */
void vae_sgemm_pair(const vae_gemm *x, const vae_gemm *y);

#endif
