/* latent_plot.h - the 2-D picture of a latent space that vae-image and
 * vae-text plot-latent draw: the posterior means of a data set, mapped to
 * the plane by t-SNE (tsne.h) or projected onto their two principal axes
 * (pca.h), one colour per class, drawn by gnuplot. Failures are recorded
 * with fail() (cli.h). */
#ifndef VAE_EXAMPLE_LATENT_PLOT_H
#define VAE_EXAMPLE_LATENT_PLOT_H

#include <stdint.h>

#include <vae.h>

#include "cli.h"

/* The posterior means (vae_model_encode) of the n items of dim floats at x,
 * `batch` items a call: mu receives n x latent floats. cond: a conditional
 * model's condition rows, one per item (models.h). */
int latent_means_cond(vae_model *m, const float *x, const float *cond,
                      int64_t n, int64_t dim, int64_t batch, float *mu);
/* latent_means_cond of an unconditional model. */
int latent_means(vae_model *m, const float *x, int64_t n, int64_t dim,
                 int64_t batch, float *mu);

/* The palette of the pictures (and of vae-explore's map): colour i of a
 * class is latent_plot_colour(i), "#rrggbb"; it cycles after 20. */
const char *latent_plot_colour(int i);

enum latent_projection { LATENT_PCA, LATENT_TSNE };

/* --limit's default under t-SNE, whose time grows as the square of it. */
#define LATENT_TSNE_LIMIT 2000

#define LATENT_PLOT_USAGE                                                     \
    "               [--projection pca|tsne] [--seed S]\n"
#define LATENT_PLOT_DEFAULTS                                                  \
    "plot-latent: --projection tsne (--limit 2000) above a 2-D latent, else\n" \
    "pca (--limit: the whole test split); --seed 1 (t-SNE's start).\n"

struct latent_plot {
    const char *path;    /* the PNG to write */
    const char *program; /* "vae-image": the title's first word */
    const char *model;   /* the model's and the data's paths: their last */
    const char *data;    /* components name them in the title */
    const char *items;   /* what a point is, "test images" */
    const int *cls;      /* n classes in [0, nclass) */
    int nclass;
    const char *const *class_names; /* nclass legend entries */
    const char *legend;             /* the legend's heading */
    enum latent_projection projection;
    uint64_t seed; /* of t-SNE's start */
};

/* plot-latent's --projection (option number o_projection), --seed
 * (o_seed) and --limit (o_limit) for a dim-D latent and `count` of
 * p->items. The projection defaults to t-SNE above 2 dimensions and to
 * the latent's own axes at 2; the limit to all items under PCA and
 * LATENT_TSNE_LIMIT under t-SNE, which takes at most TSNE_MAX_POINTS.
 * Sets p->projection and p->seed. */
int latent_plot_options(const struct args *a, int o_projection, int o_seed,
                        int o_limit, int64_t dim, int64_t count,
                        struct latent_plot *p, int64_t *limit);

/*
 * Draws the n latent vectors mu (n x dim, dim >= 2) as points, mapped to
 * the plane as p->projection says: by t-SNE, or onto the two leading
 * principal axes, whose shares of the variance label the axes (at dim 2,
 * the coordinates themselves). Writes p->path with gnuplot (pngcairo, or
 * png without cairo); a missing gnuplot is an error that says how to
 * install it. On success prints the program's last line: "wrote PATH: n
 * ITEMS; " and what the axes are ("the axes explain 8.2% and 8.0% of the
 * variance of their posterior means", or t-SNE's settings and time).
 */
int latent_plot_png(const float *mu, int64_t n, int64_t dim,
                    const struct latent_plot *p);

#endif
