/* explore.c - loading a model and its data for vae-explore (explore.h). */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "explore.h"
#include "images.h"
#include "latent_plot.h"
#include "models.h"

#define ENCODE_BATCH 64

/* A vae-text model is a libvae model whose metadata starts with vae-text's
 * magic; anything else is taken for an image model. */
static int is_text_model(const vae_model *m)
{
    size_t len = 0;
    const unsigned char *meta = vae_model_metadata(m, &len);
    return meta && len >= 3 && memcmp(meta, "VTX", 3) == 0;
}

static int set_classes(struct explore *e, int nclass, const char *const *names)
{
    e->class_names = calloc((size_t)nclass, sizeof *e->class_names);
    if (!e->class_names)
        return fail("out of memory");
    e->nclass = nclass;
    for (int c = 0; c < nclass; c++) {
        char buf[16];
        const char *name = names ? names[c] : buf;
        snprintf(buf, sizeof buf, "%d", c);
        if (!(e->class_names[c] = strdup(name)))
            return fail("out of memory");
    }
    return 0;
}

static int open_images(struct explore *e, const char *dir)
{
    idx_dataset test = {0};
    int nclass = 0;

    if (load_split(dir, IDX_TEST, &test) || check_fits(e->m, &test, dir)) {
        idx_free(&test);
        return -1;
    }
    e->n_items = test.count;
    e->items = test.pixels;
    test.pixels = NULL;
    e->labels = malloc((size_t)test.count * sizeof *e->labels);
    if (!e->labels) {
        idx_free(&test);
        return fail("out of memory");
    }
    for (int64_t i = 0; i < test.count; i++) {
        e->labels[i] = test.labels[i];
        if (e->labels[i] + 1 > nclass)
            nclass = e->labels[i] + 1;
    }
    idx_free(&test);
    e->legend = "label";
    return set_classes(e, nclass, NULL);
}

static int open_sentences(struct explore *e, const char *kind,
                          const char *path)
{
    text_corpus corpus = {0};
    struct text_set test = {0};
    char err[1024];

    if (text_corpus_load(kind, path, &corpus, err, sizeof err)) {
        text_corpus_free(&corpus);
        return fail("%s", err);
    }
    if (text_encode_set(e->tm.tok, &corpus.split[TEXT_TEST],
                        e->tm.arch.maxlen, &test)) {
        text_corpus_free(&corpus);
        return -1;
    }
    text_corpus_free(&corpus);
    if (test.n == 0) {
        text_set_free(&test);
        return fail("%s: the corpus has no test sentences", path);
    }
    e->n_items = test.n;
    e->items = test.x;
    test.x = NULL;
    e->labels = malloc((size_t)test.n * sizeof *e->labels);
    if (!e->labels) {
        text_set_free(&test);
        return fail("out of memory");
    }
    for (int64_t i = 0; i < test.n; i++)
        e->labels[i] = text_length_class(test.ntok[i]);
    text_set_free(&test);
    e->legend = "length";
    return set_classes(e, TEXT_LENGTH_CLASSES, text_length_class_names);
}

/* The sliders' basis and the map: principal axes of the first n_map
 * items' posterior means, or the first latent coordinates (spread 1, the
 * prior's) without data. */
static int fit_basis(struct explore *e, long map_limit)
{
    const int64_t D = e->latent;
    struct pca pca = {0};
    float *mu = NULL, *coords = NULL;
    int rc = -1;

    e->nbasis = D < EXPLORE_SLIDERS ? D : EXPLORE_SLIDERS;
    e->mean = calloc((size_t)D, sizeof *e->mean);
    e->axes = calloc((size_t)(e->nbasis * D), sizeof *e->axes);
    e->scale = malloc((size_t)e->nbasis * sizeof *e->scale);
    e->share = calloc((size_t)e->nbasis, sizeof *e->share);
    if (!e->mean || !e->axes || !e->scale || !e->share)
        return fail("out of memory");
    if (e->n_items == 0) {
        for (int64_t j = 0; j < e->nbasis; j++) {
            e->axes[j * D + j] = 1.0;
            e->scale[j] = 1.0;
        }
        return 0;
    }
    e->n_map = e->n_items < map_limit ? e->n_items : map_limit;
    mu = malloc((size_t)(e->n_map * D) * sizeof *mu);
    coords = malloc((size_t)(e->n_map * e->nbasis) * sizeof *coords);
    e->map_xy = calloc((size_t)(2 * e->n_map), sizeof *e->map_xy);
    if (!mu || !coords || !e->map_xy) {
        fail("out of memory");
        goto done;
    }
    if (latent_means(e->m, e->items, e->n_map, e->item_size, ENCODE_BATCH,
                     mu) ||
        pca_fit(mu, e->n_map, D, e->nbasis, &pca))
        goto done;
    memcpy(e->mean, pca.mean, (size_t)D * sizeof *e->mean);
    memcpy(e->axes, pca.axes, (size_t)(e->nbasis * D) * sizeof *e->axes);
    for (int64_t j = 0; j < e->nbasis; j++) {
        /* A dead direction still gets a slider that moves something. */
        e->scale[j] = pca.var[j] > 1e-6 ? sqrt(pca.var[j]) : 1e-3;
        e->share[j] = pca.total_var > 0.0 ? pca.var[j] / pca.total_var : 0.0;
    }
    pca_project(&pca, mu, e->n_map, coords);
    for (int64_t i = 0; i < e->n_map; i++) {
        e->map_xy[2 * i] = coords[i * e->nbasis];
        e->map_xy[2 * i + 1] = e->nbasis > 1 ? coords[i * e->nbasis + 1] : 0.0f;
    }
    e->basis_is_pca = 1;
    rc = 0;
done:
    pca_free(&pca);
    free(coords);
    free(mu);
    return rc;
}

int explore_open(struct explore *e, const struct explore_config *cfg)
{
    memset(e, 0, sizeof *e);
    e->rng = cfg->seed;
    if (model_load(cfg->model, &e->m, NULL))
        return -1;
    /* Every decode of a conditional model needs a label, for which the
     * page has no control. */
    if (vae_model_condition_size(e->m) > 0)
        return fail("%s is a conditional model (trained with --conditional), "
                    "which vae-explore does not serve: its page has no "
                    "control for the label", cfg->model);
    if (is_text_model(e->m)) {
        vae_model_free(e->m);
        e->m = NULL;
        e->kind = EXPLORE_TEXT; /* explore_close frees tm from here on */
        if (load_text_model(cfg->model, &e->tm) ||
            text_need_vae(&e->tm, cfg->model, "vae-explore"))
            return -1;
        e->m = e->tm.m;
    } else {
        int64_t rows = 0, cols = 0;
        if (image_shape(e->m, &rows, &cols))
            return -1;
        if (rows * cols > EXPLORE_MAX_PIXELS)
            return fail("%s: images of %lldx%lld pixels; vae-explore shows "
                        "at most %d pixels", cfg->model, (long long)rows,
                        (long long)cols, EXPLORE_MAX_PIXELS);
        e->kind = EXPLORE_IMAGE;
    }
    e->latent = vae_model_latent_dim(e->m);
    e->item_size = vae_model_data_size(e->m);
    e->rank = vae_model_data_shape(e->m, e->dims, 4);
    if (e->latent > EXPLORE_MAX_LATENT)
        return fail("%s: a latent space of %lld dimensions; vae-explore "
                    "serves at most %d", cfg->model, (long long)e->latent,
                    EXPLORE_MAX_LATENT);
    if (!(e->model_name = base_name(cfg->model)) ||
        (cfg->data && !(e->data_name = base_name(cfg->data))))
        return fail("out of memory");
    if (cfg->data &&
        (e->kind == EXPLORE_IMAGE
             ? open_images(e, cfg->data)
             : open_sentences(e, cfg->corpus ? cfg->corpus : "brown",
                              cfg->data)))
        return -1;
    return fit_basis(e, cfg->map_limit);
}

void explore_close(struct explore *e)
{
    if (e->kind == EXPLORE_TEXT)
        text_model_free(&e->tm);
    else
        vae_model_free(e->m);
    free(e->model_name);
    free(e->data_name);
    free(e->items);
    free(e->labels);
    for (int c = 0; c < e->nclass; c++)
        free(e->class_names[c]);
    free(e->class_names);
    free(e->mean);
    free(e->axes);
    free(e->scale);
    free(e->share);
    free(e->map_xy);
    memset(e, 0, sizeof *e);
}
