/* plot_latent.c - see plot_latent.h. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "latent_plot.h"
#include "plot_latent.h"

#define ENCODE_BATCH 64

int text_plot_latent(struct text_model *tm, const struct text_set *test,
                     int64_t limit, const char *model_path,
                     const char *data_path, const char *out)
{
    float *mu = NULL;
    int *cls = NULL;
    char title[512];
    double share[2];
    int rc = -1;

    if (test->n == 0)
        return fail("%s: the corpus has no test sentences", data_path);
    if (limit > test->n)
        return fail("--limit: %lld exceeds the %lld test sentences",
                    (long long)limit, (long long)test->n);
    mu = malloc((size_t)(limit * tm->arch.latent) * sizeof *mu);
    cls = malloc((size_t)limit * sizeof *cls);
    if (!mu || !cls) {
        fail("out of memory");
        goto done;
    }
    for (int64_t i = 0; i < limit; i++)
        cls[i] = text_length_class(test->ntok[i]);
    snprintf(title, sizeof title,
             "vae-text plot-latent: %s, test sentences of %s", model_path,
             data_path);
    if (latent_means(tm->m, test->x, limit, tm->arch.maxlen, ENCODE_BATCH,
                     mu) ||
        latent_plot_png(mu, limit, tm->arch.latent,
                        &(struct latent_plot){out, title, cls,
                                              TEXT_LENGTH_CLASSES,
                                              text_length_class_names,
                                              "length"},
                        share))
        goto done;
    printf("wrote %s: %lld test sentences; the axes explain %.1f%% and "
           "%.1f%% of the variance of their posterior means\n",
           out, (long long)limit, 100.0 * share[0], 100.0 * share[1]);
    rc = 0;
done:
    free(cls);
    free(mu);
    return rc;
}
