/* bias.h - the bias gradient that dense and lstm share (bias.c): summed
 * over rows, split across the worker pool. */
#ifndef VAE_BIAS_H
#define VAE_BIAS_H

#include <stdint.h>

/* db1[j] += sum over r of dy[r][j] (and the same into db2 when not NULL),
 * added row by row in order, as a serial loop adds them. */
void vae_bias_grad(const float *dy, int64_t rows, int64_t width, float *db1,
                   float *db2);

#endif
