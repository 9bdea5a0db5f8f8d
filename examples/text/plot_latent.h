/* plot_latent.h - vae-text plot-latent: the test sentences' posterior
 * means in 2-D, coloured by length (docs/text.md). */
#ifndef VAE_TEXT_PLOT_LATENT_H
#define VAE_TEXT_PLOT_LATENT_H

#include "textmodel.h"

#define TEXT_PLOT_LATENT_USAGE                                                \
    "  plot-latent  --model MODEL --corpus brown|aclimdb|lines --data PATH\n" \
    "               --out FILE.png [--limit N]\n"

/* Draws the first `limit` sentences of `test` (encoded for tm) to `out`;
 * the paths name the picture's title. */
int text_plot_latent(struct text_model *tm, const struct text_set *test,
                     int64_t limit, const char *model_path,
                     const char *data_path, const char *out);

#endif
