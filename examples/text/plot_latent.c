/* plot_latent.c - see plot_latent.h. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "latent_plot.h"
#include "plot_latent.h"

#define ENCODE_BATCH 64

int text_plot_latent(struct text_model *tm, const struct text_set *test,
                     int64_t limit, struct latent_plot *p)
{
    float *mu = malloc((size_t)(limit * tm->arch.latent) * sizeof *mu);
    int *cls = malloc((size_t)limit * sizeof *cls);
    int rc = -1;

    if (!mu || !cls) {
        fail("out of memory");
        goto done;
    }
    for (int64_t i = 0; i < limit; i++)
        cls[i] = text_length_class(test->ntok[i]);
    p->cls = cls;
    p->nclass = TEXT_LENGTH_CLASSES;
    p->class_names = text_length_class_names;
    p->legend = "length";
    if (latent_means(tm->m, test->x, limit, tm->arch.maxlen, ENCODE_BATCH,
                     mu) ||
        latent_plot_png(mu, limit, tm->arch.latent, p))
        goto done;
    rc = 0;
done:
    free(cls);
    free(mu);
    return rc;
}
