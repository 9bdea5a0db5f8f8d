/* tsne.h - t-SNE (van der Maaten and Hinton, 2008) in two dimensions, for
 * the latent pictures of vae-image and vae-text plot-latent: a map that
 * keeps each point's nearest neighbours near it, where two principal axes
 * of a 20-D latent leave most classes on top of each other.
 *
 * Exact t-SNE: every pair of points is visited in every iteration, so the
 * time grows as n^2, or faster once the affinities outgrow the cache
 * (on the shared 2-core test machine at a load average of 10, 2000 points
 * of 20-D took 21 s and 5000 took 3 minutes), and n is capped at
 * TSNE_MAX_POINTS. One thread, sums in a fixed order: the map depends on
 * the data, the options and the build only. */
#ifndef VAE_EXAMPLE_TSNE_H
#define VAE_EXAMPLE_TSNE_H

#include <stdint.h>

#define TSNE_MAX_POINTS 10000
#define TSNE_PERPLEXITY 30.0
#define TSNE_ITERATIONS 1000

struct tsne_options {
    double perplexity; /* 0: TSNE_PERPLEXITY; lowered to (n - 1) / 3 for
                          small n, where fewer neighbours exist */
    int iterations;    /* 0: TSNE_ITERATIONS; the first quarter, at most
                          250, exaggerates the affinities */
    uint64_t seed;     /* of the random start; the same seed, data and
                          build give the same map */
};

/* The perplexity tsne_embed uses for n points when asked for `asked`
 * (0: TSNE_PERPLEXITY): no more than (n - 1) / 3, no less than 1. */
double tsne_perplexity(double asked, int64_t n);

/* Embeds the n rows of x (n x dim floats, 1 <= n <= TSNE_MAX_POINTS) in the
 * plane: y receives n x 2 floats, centred on 0. Returns 0, or -1 with
 * fail() (cli.h) for bad sizes or options and out of memory. */
int tsne_embed(const float *x, int64_t n, int64_t dim,
               const struct tsne_options *o, float *y);

/* One point's conditional affinities p_j = exp(-beta d2[j]) / sum, over the
 * m >= 1 squared distances d2 to the other points, with beta found by
 * bisection so that the distribution's perplexity e^H (H its entropy in
 * nats) is `perplexity`
 * (1 <= perplexity <= m) to a relative 1e-5. Returns the perplexity
 * reached. */
double tsne_row_affinities(const double *d2, int64_t m, double perplexity,
                           double *p);

#endif
