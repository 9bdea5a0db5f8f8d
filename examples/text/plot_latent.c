/* plot_latent.c - vae-text plot-latent (plot_latent.h). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "commands.h"
#include "latent_plot.h"
#include "plot_latent.h"
#include "textmodel.h"

#define ENCODE_BATCH 64

/* Draws the first `limit` sentences of `test` (encoded for tm) as *p says
 * (its path, names, projection and seed), coloured by length. */
static int text_plot_latent(struct text_model *tm,
                            const struct text_set *test, int64_t limit,
                            struct latent_plot *p)
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
    if (latent_means_cond(tm->m, test->x, test->cond, limit, tm->arch.maxlen,
                          ENCODE_BATCH, mu) ||
        latent_plot_png(mu, limit, tm->arch.latent, p))
        goto done;
    rc = 0;
done:
    free(cls);
    free(mu);
    return rc;
}

int cmd_plot_latent(const struct args *a)
{
    int64_t limit = 0;
    struct text_model tm = {0};
    text_corpus corpus = {0};
    struct text_set test = {0};
    struct latent_plot plot = {
        .path = a->val[OPT_OUT], .program = "vae-text",
        .model = a->val[OPT_MODEL], .data = a->val[OPT_DATA],
        .items = "test sentences"};
    int rc = -1;

    if (!load_text_model(a->val[OPT_MODEL], &tm) &&
        !text_need_vae(&tm, a->val[OPT_MODEL], "plot-latent") &&
        !load_corpus(a, tm.arch.ngenres > 0, &corpus) &&
        !text_encode_set(tm.tok, &corpus.split[TEXT_TEST], tm.arch.maxlen,
                         &test) &&
        !text_set_genres(&test, &corpus, TEXT_TEST, tm.arch.ngenres,
                         (const char *const *)tm.genres, a->val[OPT_DATA]) &&
        !latent_plot_options(a, OPT_PROJECTION, OPT_SEED, OPT_LIMIT,
                             tm.arch.latent, test.n, &plot, &limit))
        rc = text_plot_latent(&tm, &test, limit, &plot);
    text_set_free(&test);
    text_corpus_free(&corpus);
    text_model_free(&tm);
    return rc;
}
