/* plot_latent.h - vae-image plot-latent: the test set's posterior means in
 * 2-D, one colour per label (docs/image.md). */
#ifndef VAE_IMAGE_PLOT_LATENT_H
#define VAE_IMAGE_PLOT_LATENT_H

#include "cli.h"
#include "latent_plot.h"

#define IMAGE_PLOT_LATENT_USAGE                                              \
    "  plot-latent  --data DIR --model MODEL --out FILE.png [--limit N]\n"   \
    LATENT_PLOT_USAGE

int image_plot_latent(const struct args *a);

#endif
