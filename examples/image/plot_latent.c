/* plot_latent.c - see plot_latent.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images.h"
#include "latent_plot.h"
#include "models.h"
#include "plot_latent.h"

#define ENCODE_BATCH 256
#define MAX_LABELS 256 /* IDX labels are bytes */

int image_plot_latent(const struct args *a)
{
    const char *model_path = a->val[OPT_MODEL], *dir = a->val[OPT_DATA];
    long limit = 0;
    idx_dataset test = {0};
    vae_model *m = NULL;
    float *mu = NULL;
    int *cls = NULL, nclass = 0;
    char names[MAX_LABELS][12], title[512];
    const char *name_ptr[MAX_LABELS];
    double share[2];
    int rc = -1;

    if (model_load(model_path, &m, NULL) || load_split(dir, IDX_TEST, &test) ||
        check_fits(m, &test, dir) ||
        get_long(a, OPT_LIMIT, (long)test.count, 1, (long)test.count, &limit))
        goto done;
    mu = malloc((size_t)limit * (size_t)vae_model_latent_dim(m) * sizeof *mu);
    cls = malloc((size_t)limit * sizeof *cls);
    if (!mu || !cls) {
        fail("out of memory");
        goto done;
    }
    for (long i = 0; i < limit; i++) {
        cls[i] = test.labels[i];
        if (cls[i] + 1 > nclass)
            nclass = cls[i] + 1;
    }
    for (int c = 0; c < nclass; c++) {
        snprintf(names[c], sizeof names[c], "%d", c);
        name_ptr[c] = names[c];
    }
    snprintf(title, sizeof title,
             "vae-image plot-latent: %s, test images of %s", model_path, dir);
    if (latent_means(m, test.pixels, limit, test.rows * test.cols,
                     ENCODE_BATCH, mu) ||
        latent_plot_png(mu, limit, vae_model_latent_dim(m),
                        &(struct latent_plot){a->val[OPT_OUT], title, cls,
                                              nclass, name_ptr, "label"},
                        share))
        goto done;
    printf("wrote %s: %ld test images; the axes explain %.1f%% and %.1f%% of "
           "the variance of their posterior means\n",
           a->val[OPT_OUT], limit, 100.0 * share[0], 100.0 * share[1]);
    rc = 0;
done:
    free(cls);
    free(mu);
    vae_model_free(m);
    idx_free(&test);
    return rc;
}
