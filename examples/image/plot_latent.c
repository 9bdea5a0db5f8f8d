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
    int64_t limit = 0;
    idx_dataset test = {0};
    vae_model *m = NULL;
    float *mu = NULL;
    int *cls = NULL, nclass = 0;
    char names[MAX_LABELS][12];
    const char *name_ptr[MAX_LABELS];
    struct latent_plot plot = {
        .path = a->val[OPT_OUT], .program = "vae-image",
        .model = a->val[OPT_MODEL], .data = a->val[OPT_DATA],
        .items = "test images", .class_names = name_ptr, .legend = "label"};
    int rc = -1;

    if (model_load(plot.model, &m, NULL) ||
        load_split(plot.data, IDX_TEST, &test) ||
        check_fits(m, &test, plot.data) ||
        latent_plot_options(a, OPT_PROJECTION, OPT_SEED, OPT_LIMIT,
                            vae_model_latent_dim(m), (int64_t)test.count,
                            &plot, &limit))
        goto done;
    mu = malloc((size_t)limit * (size_t)vae_model_latent_dim(m) * sizeof *mu);
    cls = malloc((size_t)limit * sizeof *cls);
    if (!mu || !cls) {
        fail("out of memory");
        goto done;
    }
    for (int64_t i = 0; i < limit; i++) {
        cls[i] = test.labels[i];
        if (cls[i] + 1 > nclass)
            nclass = cls[i] + 1;
    }
    for (int c = 0; c < nclass; c++) {
        snprintf(names[c], sizeof names[c], "%d", c);
        name_ptr[c] = names[c];
    }
    plot.cls = cls;
    plot.nclass = nclass;
    if (latent_means(m, test.pixels, limit, test.rows * test.cols,
                     ENCODE_BATCH, mu) ||
        latent_plot_png(mu, limit, vae_model_latent_dim(m), &plot))
        goto done;
    rc = 0;
done:
    free(cls);
    free(mu);
    vae_model_free(m);
    idx_free(&test);
    return rc;
}
