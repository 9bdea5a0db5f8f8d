/* latent_plot.h - the 2-D picture of a latent space that vae-image and
 * vae-text plot-latent draw: the posterior means of a data set, projected
 * onto their two principal axes when the latent has more than two
 * dimensions, one colour per class, drawn by gnuplot. Failures are
 * recorded with fail() (cli.h). */
#ifndef VAE_EXAMPLE_LATENT_PLOT_H
#define VAE_EXAMPLE_LATENT_PLOT_H

#include <stdint.h>

#include <vae.h>

/* The posterior means (vae_model_encode) of the n items of dim floats at x,
 * `batch` items a call: mu receives n x latent floats. */
int latent_means(vae_model *m, const float *x, int64_t n, int64_t dim,
                 int64_t batch, float *mu);

/* The palette of the pictures (and of vae-explore's map): colour i of a
 * class is latent_plot_colour(i), "#rrggbb"; it cycles after 20. */
const char *latent_plot_colour(int i);

struct latent_plot {
    const char *path;  /* the PNG to write */
    const char *title; /* first line of the title */
    const int *cls;    /* n classes in [0, nclass) */
    int nclass;
    const char *const *class_names; /* nclass legend entries */
    const char *legend;             /* the legend's heading */
};

/*
 * Draws the n latent vectors mu (n x dim, dim >= 2) as points: the
 * coordinates themselves when dim is 2, else their projections on the two
 * leading principal axes, whose shares of the variance label the axes.
 * Writes p->path with gnuplot (pngcairo, or png without cairo); a missing
 * gnuplot is an error that says how to install it. On success, share[0..1]
 * (may be NULL) receive the two axes' shares of the means' variance.
 */
int latent_plot_png(const float *mu, int64_t n, int64_t dim,
                    const struct latent_plot *p, double share[2]);

#endif
