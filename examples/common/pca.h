/* pca.h - principal axes of a set of latent vectors, for the 2-D pictures
 * of a latent space (vae-image and vae-text plot-latent, vae-explore's map
 * and sliders). */
#ifndef VAE_EXAMPLE_PCA_H
#define VAE_EXAMPLE_PCA_H

#include <stdint.h>

struct pca {
    int64_t dim, k;
    double *mean;     /* dim */
    double *axes;     /* k x dim: orthonormal, by decreasing variance */
    double *var;      /* k: the data's variance along each axis */
    double total_var; /* the covariance's trace: var[i] / total_var is the
                         share of the variance axis i explains */
};

/* The k (1 <= k <= dim) leading principal axes of the n >= 1 rows of x
 * (n x dim floats). Deterministic: the same data give the same axes, each
 * signed so that its largest component is positive. Returns 0, or -1 with
 * fail() (out of memory). */
int pca_fit(const float *x, int64_t n, int64_t dim, int64_t k,
            struct pca *out);

/* out[i * k + j] = <x_i - mean, axis_j> for the n rows of x. */
void pca_project(const struct pca *p, const float *x, int64_t n, float *out);

/* Releases the buffers and zeroes *p. NULL is a no-op. */
void pca_free(struct pca *p);

#endif
