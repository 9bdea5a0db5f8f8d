/* bias.h - the bias rows that dense and lstm share (bias.c): a bias put
 * into every row before a product adds to it, and the bias gradient
 * summed over rows, both split across the worker pool. */
#ifndef VAE_BIAS_H
#define VAE_BIAS_H

#include <stdint.h>

/* y[r][j] = b1[j] (+ b2[j] when b2 is not NULL), for `rows` rows of
 * `width`. */
void vae_bias_fill(float *y, int64_t rows, int64_t width, const float *b1,
                   const float *b2);

/* db1[j] += sum over r of dy[r][j] (and the same into db2 when not NULL),
 * added row by row in order, as a serial loop adds them. */
void vae_bias_grad(const float *dy, int64_t rows, int64_t width, float *db1,
                   float *db2);

#endif
