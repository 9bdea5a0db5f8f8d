/* plot_latent.h - vae-text plot-latent: the test sentences' posterior
 * means in 2-D, coloured by length (docs/text.md). */
#ifndef VAE_TEXT_PLOT_LATENT_H
#define VAE_TEXT_PLOT_LATENT_H

#include "latent_plot.h"

#define TEXT_PLOT_LATENT_USAGE                                                \
    "  plot-latent  --model MODEL --corpus brown|aclimdb|lines --data PATH\n" \
    "               --out FILE.png [--limit N]\n"                             \
    LATENT_PLOT_USAGE

#endif
