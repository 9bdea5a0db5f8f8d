/* images.c - see images.h. */
#include <math.h>
#include <stdlib.h>

#include "images.h"
#include "order.h"

const char *const image_opt_names[OPT_COUNT] = {
    [OPT_DATA] = "--data",         [OPT_ARCH] = "--arch",
    [OPT_LATENT] = "--latent",     [OPT_EPOCHS] = "--epochs",
    [OPT_BATCH] = "--batch",       [OPT_LR] = "--lr",
    [OPT_SEED] = "--seed",         [OPT_OUT] = "--out",
    [OPT_METRICS] = "--metrics",   [OPT_MODEL] = "--model",
    [OPT_N] = "--n",               [OPT_PROGRESS] = "--progress",
    [OPT_BINARIZE] = "--binarize", [OPT_THREADS] = "--threads",
    [OPT_IWAE] = "--iwae",         [OPT_LIMIT] = "--limit",
    [OPT_RESUME] = "--resume",     [OPT_PAIRS] = "--pairs",
    [OPT_STEPS] = "--steps",       [OPT_GRID] = "--grid",
    [OPT_LR_END] = "--lr-end",     [OPT_WARMUP] = "--warmup",
    [OPT_TRAIN_SAMPLES] = "--train-samples",
    [OPT_PROJECTION] = "--projection",
    [OPT_CONDITIONAL] = "--conditional", [OPT_LABEL] = "--label",
};

int get_binarize(const struct args *a, enum binarize *out)
{
    static const char *const names[] = {
        [BIN_NONE] = "none", [BIN_DYNAMIC] = "dynamic", [BIN_STATIC] = "static"};
    int i = BIN_NONE;

    if (get_choice(a, OPT_BINARIZE, names, sizeof names / sizeof *names,
                   BIN_NONE, &i))
        return -1;
    *out = (enum binarize)i;
    return 0;
}

/* Replaces each pixel p by 1 with probability p, else 0, drawing u from
 * splitmix64(seed) in array order: pixel i is 1 iff u_i < p_i, with u_i the
 * top 24 bits of the i-th draw over 2^24 (the same construction as
 * vae_model_random_uniform, so both binarisations follow one rule). */
void binarize_fixed(float *px, int64_t n, uint64_t seed)
{
    uint64_t state = seed;
    for (int64_t i = 0; i < n; i++) {
        float u = (float)(splitmix64(&state) >> 40) * 0x1.0p-24f;
        px[i] = u < px[i] ? 1.0f : 0.0f;
    }
}

int load_split(const char *dir, enum idx_split split, idx_dataset *d)
{
    char e[512];
    if (idx_load_dir(dir, split, d, e, sizeof e) != 0)
        return fail("%s", e);
    return 0;
}

/* The rows x cols of the grey images a model is built for, from the shape
 * of its input: [1, H, W] or [H, W]. A flat input [D] (a model built on flat
 * vectors, as vae-image's mlp was before it used image-shaped inputs) is
 * taken as a square when D is a perfect square. */
int image_shape(const vae_model *m, int64_t *rows, int64_t *cols)
{
    int64_t d[4] = {0};
    int32_t rank = vae_model_data_shape(m, d, 4);

    if (rank < 0)
        return fail_lib("vae_model_data_shape", rank, NULL);
    if (rank == 3 && d[0] == 1) {
        *rows = d[1];
        *cols = d[2];
        return 0;
    }
    if (rank == 2) {
        *rows = d[0];
        *cols = d[1];
        return 0;
    }
    if (rank == 1) {
        int64_t side = (int64_t)(sqrt((double)d[0]) + 0.5);
        if (side * side == d[0]) {
            *rows = *cols = side;
            return 0;
        }
    }
    return fail("the model's input shape (rank %d: %lld x %lld x %lld x %lld) "
                "is not a grey image [1, H, W], [H, W] or a flat square",
                (int)rank, (long long)d[0], (long long)d[1], (long long)d[2],
                (long long)d[3]);
}

int check_fits(const vae_model *m, const idx_dataset *d, const char *dir)
{
    int64_t rows = 0, cols = 0;

    if (image_shape(m, &rows, &cols))
        return -1;
    if (rows != d->rows || cols != d->cols)
        return fail("the model is built for %lldx%lld images, but the images "
                    "in %s are %lldx%lld", (long long)rows, (long long)cols,
                    dir, (long long)d->rows, (long long)d->cols);
    return 0;
}

int image_classes(const vae_model *m, const char *path, int64_t *classes)
{
    int64_t c = vae_model_condition_size(m);

    if (c < 0)
        return fail_lib("vae_model_condition_size", (int32_t)c, NULL);
    if (c > IMAGE_MAX_CLASSES)
        return fail("%s: the model's condition has %lld floats, not a "
                    "one-hot label of vae-image's (at most %d classes)", path,
                    (long long)c, IMAGE_MAX_CLASSES);
    *classes = c;
    return 0;
}

int64_t label_classes(const idx_dataset *d)
{
    int64_t top = 0;

    for (int64_t i = 0; i < d->count; i++)
        if (d->labels[i] > top)
            top = d->labels[i];
    return top + 1;
}

int one_hot(const uint8_t *labels, int64_t n, int64_t classes, float **out)
{
    float *c = calloc((size_t)(n * classes), sizeof *c);

    if (!c)
        return fail("out of memory");
    for (int64_t i = 0; i < n; i++)
        c[i * classes + labels[i]] = 1.0f;
    *out = c;
    return 0;
}

int labels_condition(const idx_dataset *d, int64_t classes, const char *dir,
                     const char *what, float **cond)
{
    *cond = NULL;
    if (classes == 0)
        return 0;
    for (int64_t i = 0; i < d->count; i++)
        if (d->labels[i] >= classes)
            return fail("%s: %s label %d (image %lld) is not one of the "
                        "model's %lld classes 0..%lld", dir, what,
                        d->labels[i], (long long)i + 1, (long long)classes,
                        (long long)classes - 1);
    return one_hot(d->labels, d->count, classes, cond);
}
