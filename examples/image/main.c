/* main.c - vae-image: trains, evaluates and draws a VAE on MNIST-style
 * images. Uses only the public libvae API, like any outside program would. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vae.h>

#include "cli.h"
#include "idx.h"
#include "images.h"
#include "latent_plot.h"
#include "models.h"
#include "normal.h"
#include "png_grid.h"
#include "train.h"

#define GRID_COLS 8     /* tiles per row in the sample and reconstruction PNGs */
#define MAX_IMAGES 1024 /* --n limit for sample and reconstruct; --grid's too */
#define MAX_GRID_IMAGES 16384 /* sample --grid: classes x N at most */
#define SAMPLE_BATCH 256 /* images per vae_model_sample call */
#define ENCODE_BATCH 256 /* images per vae_model_encode call (plot-latent) */
#define MAX_LABELS 256   /* plot-latent's classes: IDX labels are bytes */

/* Decoder passes per vae_model_iwae call: small enough for progress lines
 * every few seconds at K = 5000 (4 images a call), while the library's own
 * fixed-size chunks keep the products efficient however few images a call
 * has. */
#define IWAE_PASSES_PER_CALL 20000

/* sample writes an --out name that ends in this as IDX files rather than
 * a PNG: the images, and a conditional model's labels beside them in
 * PREFIX-labels-idx1-ubyte, the layout of MNIST's own files, which other
 * programs (scripts/check-conditional.py) read as they read MNIST. */
#define IDX_IMAGES_SUFFIX "-images-idx3-ubyte"
#define IDX_LABELS_SUFFIX "-labels-idx1-ubyte"

/* ---- Command line ------------------------------------------------------ */

static const char usage[] =
    "usage: vae-image <command> [options]\n"
    "\n"
    IMAGE_TRAIN_USAGE
    "  eval         --data DIR --model MODEL [--binarize none|dynamic|static]\n"
    "               [--iwae K] [--limit N] [--metrics FILE.jsonl] [--batch B]\n"
    "               [--seed S] [--progress SECONDS]\n"
    "  sample       --model MODEL --out FILE.png [--n N] [--seed S]\n"
    "               [--label L | --grid N]   (conditional models)\n"
    "  reconstruct  --data DIR --model MODEL --out FILE.png [--n N]\n"
    "  interpolate  --data DIR --model MODEL --out FILE.png [--pairs P]\n"
    "               [--steps T]\n"
    "  manifold     --model MODEL --out FILE.png [--grid G] [--label L]\n"
    "               (2-D latent only)\n"
    "  plot-latent  --data DIR --model MODEL --out FILE.png [--limit N]\n"
    LATENT_PLOT_USAGE
    "\n"
    "Every command takes --threads N (BLAS threads; default: the BLAS default).\n"
    "DIR holds the MNIST or Fashion-MNIST IDX files (train-images-idx3-ubyte,\n"
    "..., raw or .gz). With --resume, --out defaults to the resumed file.\n"
    "Defaults: --arch mlp, --latent 20 (mlp), 32 (conv, seed) or 50 (mlp2),\n"
    "--epochs 10 --batch 128 --lr 1e-3 --seed 1 --binarize none\n"
    "--progress 2 (0: quiet); --n 64 (sample), 32 (reconstruct); --pairs 8\n"
    "--steps 10; --grid 20; --train-samples 1 (K > 1: the importance-weighted\n"
    "bound of K samples, and train_elbo reports it).\n"
    "A conditional model (train --conditional) reads each image's label; the\n"
    "commands on test images give it theirs, sample and manifold --label L\n"
    "(sample --grid N: N of each class, one row per class). sample writes an\n"
    "--out ending in -images-idx3-ubyte as IDX files (labels beside).\n"
    LATENT_PLOT_DEFAULTS
    "See docs/image.md.\n";

/* ---- Small helpers ----------------------------------------------------- */

/* Writes tiles of h x w grey values as a PNG grid `cols` tiles wide, tile
 * rows in groups of group_rows (0: ungrouped). */
static int write_png(const char *path, const float *const *tiles, size_t n,
                     int64_t h, int64_t w, size_t cols, size_t group_rows)
{
    char e[512];
    if (png_write_grid(path, tiles, n, (size_t)h, (size_t)w, cols, group_rows,
                       e, sizeof e) != 0)
        return fail("%s", e);
    return 0;
}

/* Tiles for n consecutive images of `dim` values each. */
static const float **image_tiles(const float *x, size_t n, int64_t dim)
{
    const float **tiles = malloc(n * sizeof *tiles);
    if (!tiles) {
        fail("out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        tiles[i] = x + (int64_t)i * dim;
    return tiles;
}

/* ---- Conditional models ------------------------------------------------ */

/* A flag for conditional models given for a model that is not one. */
static int not_conditional(int o, const char *model)
{
    return fail("%s: %s is not a conditional model (it was trained without "
                "--conditional)", image_opt_names[o], model);
}

/* --label for a model of `classes` classes (0: unconditional, which takes
 * none) into *label; -1 when absent. */
static int get_label(const struct args *a, int64_t classes, long *label)
{
    *label = -1;
    if (classes == 0)
        return a->val[OPT_LABEL] ? not_conditional(OPT_LABEL, a->val[OPT_MODEL])
                                 : 0;
    return get_long(a, OPT_LABEL, -1, 0, (long)classes - 1, label);
}

/* A conditional model draws nothing without being told which class. */
static int need_label(const char *model, int64_t classes, const char *or_else)
{
    return fail("%s is a conditional model of %lld classes: give --label L "
                "(0..%lld)%s", model, (long long)classes,
                (long long)classes - 1, or_else);
}

/* The model and the test images of a command, checked to fit each other,
 * and a conditional model's condition for them, their labels one-hot
 * (*cond; NULL for an unconditional model). */
static int open_test(const struct args *a, vae_model **m, idx_dataset *test,
                     float **cond)
{
    int64_t classes = 0;

    if (model_load(a->val[OPT_MODEL], m, NULL) ||
        load_split(a->val[OPT_DATA], IDX_TEST, test) ||
        check_fits(*m, test, a->val[OPT_DATA]) ||
        image_classes(*m, a->val[OPT_MODEL], &classes) ||
        labels_condition(test, classes, a->val[OPT_DATA], "test", cond))
        return -1;
    return 0;
}

/* n labels, all `label`, or NULL with classes 0 (an unconditional model). */
static int same_labels(int64_t classes, long label, int64_t n,
                       uint8_t **labels)
{
    *labels = NULL;
    if (classes == 0)
        return 0;
    if (!(*labels = malloc((size_t)n)))
        return fail("out of memory");
    memset(*labels, (int)label, (size_t)n);
    return 0;
}

/* Draws `count` images of dim pixels into x, image i of class labels[i]
 * (labels NULL for an unconditional model), SAMPLE_BATCH a call so that
 * the workspace stays small however many are asked for. */
static int draw_samples(vae_model *m, const uint8_t *labels, int64_t classes,
                        int64_t count, int64_t dim, float *x)
{
    float *cond = NULL;
    int rc = -1;

    if (labels && one_hot(labels, count, classes, &cond))
        return -1;
    for (int64_t i = 0; i < count; i += SAMPLE_BATCH) {
        int64_t b = count - i < SAMPLE_BATCH ? count - i : SAMPLE_BATCH;
        int32_t s;
        if (model_condition(m, cond, i, b))
            goto done;
        s = vae_model_sample(m, b, NULL, x + i * dim);
        if (s != VAE_OK) {
            fail_lib("vae_model_sample", s, vae_model_last_error(m));
            goto done;
        }
    }
    rc = 0;
done:
    free(cond);
    return rc;
}

/* 1 if path ends in suffix. */
static int ends_with(const char *path, const char *suffix)
{
    size_t n = strlen(path), k = strlen(suffix);
    return n >= k && strcmp(path + n - k, suffix) == 0;
}

/* The images as an IDX file at path (bytes as the PNGs show them), and
 * their labels, when there are, beside it (IDX_LABELS_SUFFIX). */
static int write_idx_images(const char *path, const float *x,
                            const uint8_t *labels, int64_t count,
                            int64_t rows, int64_t cols)
{
    const uint32_t dims[3] = {(uint32_t)count, (uint32_t)rows, (uint32_t)cols};
    size_t n = (size_t)(count * rows * cols);
    size_t stem = strlen(path) - strlen(IDX_IMAGES_SUFFIX);
    uint8_t *bytes = malloc(n);
    char *lpath = malloc(stem + sizeof IDX_LABELS_SUFFIX);
    char e[512];
    int rc = -1;

    if (!bytes || !lpath) {
        fail("out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        bytes[i] = grey_byte(x[i]);
    memcpy(lpath, path, stem);
    memcpy(lpath + stem, IDX_LABELS_SUFFIX, sizeof IDX_LABELS_SUFFIX);
    if (idx_write(path, bytes, dims, 3, e, sizeof e) != 0 ||
        (labels && idx_write(lpath, labels, dims, 1, e, sizeof e) != 0)) {
        fail("%s", e);
        goto done;
    }
    rc = 0;
done:
    free(lpath);
    free(bytes);
    return rc;
}

/* ---- train -------------------------------------------------------------- */

static int cmd_train(const struct args *a)
{
    return image_train(a, &train_comm_single);
}

/* ---- eval --------------------------------------------------------------- */

static int cmd_eval(const struct args *a)
{
    const char *metrics_path = a->val[OPT_METRICS];
    long batch = 0, k = 0, limit = 0;
    double progress = 0.0, te, tr, tk, logpx = 0.0, t0;
    uint64_t seed = 0;
    enum binarize bin;
    idx_dataset test = {0};
    vae_model *m = NULL;
    float *cond = NULL;
    struct metrics *metrics = NULL;
    int64_t dim;
    int rc = -1;

    if (get_long(a, OPT_BATCH, 128, 1, 65536, &batch) ||
        get_long(a, OPT_IWAE, 0, 1, 1000000000, &k) ||
        get_long(a, OPT_LIMIT, 0, 1, 1L << 31, &limit) ||
        get_double(a, OPT_PROGRESS, 2.0, 0.0, 86400.0, 0, &progress) ||
        get_seed(a, OPT_SEED, 0, &seed) || get_binarize(a, &bin))
        return -1;
    if (metrics_path && !(metrics = open_metrics(metrics_path)))
        return -1;
    if (open_test(a, &m, &test, &cond))
        goto done;
    if (!a->val[OPT_LIMIT])
        limit = (long)test.count;
    if (limit > test.count) {
        fail("--limit: %ld exceeds the %lld test images", limit,
             (long long)test.count);
        goto done;
    }
    /* Without --seed the generator continues from the state saved in the
     * model file, which is just as reproducible. */
    if (a->val[OPT_SEED] && model_set_seed(m, seed))
        goto done;
    dim = test.rows * test.cols;
    /* The whole set, so the first `limit` images are binarised exactly as
     * train's evaluation binarised them. */
    if (bin != BIN_NONE)
        binarize_fixed(test.pixels, test.count * dim, TEST_BINARIZE_SEED);
    if (model_evaluate_cond(m, test.pixels, cond, limit, dim, batch, &te, &tr,
                            &tk))
        goto done;
    printf("test_elbo %.4f  recon %.4f  kl %.4f  (%ld test images)\n", te, tr,
           tk, limit);
    if (k > 0) {
        t0 = now_seconds();
        if (model_iwae_mean_cond(m, test.pixels, cond, limit, dim, k,
                                 IWAE_PASSES_PER_CALL, progress, "images",
                                 &logpx))
            goto done;
        printf("test_nll %.4f  (IWAE k=%ld, %ld test images, %.1fs)\n",
               -logpx, k, limit, now_seconds() - t0);
    }
    if (metrics) {
        json_num(metrics, "test_elbo", te, 4);
        json_num(metrics, "recon", tr, 4);
        json_num(metrics, "kl", tk, 4);
        if (k > 0) {
            json_num(metrics, "test_nll", -logpx, 4);
            json_num(metrics, "iwae_k", (double)k, 0);
        }
        json_num(metrics, "n", (double)limit, 0);
        if (finish_json_line(metrics))
            goto done;
    }
    rc = 0;

done:
    rc = close_metrics(metrics, rc);
    free(cond);
    vae_model_free(m);
    idx_free(&test);
    return rc;
}

/* ---- sample ------------------------------------------------------------- */

static int cmd_sample(const struct args *a)
{
    const char *path = a->val[OPT_MODEL], *out = a->val[OPT_OUT];
    long n = 0, label = -1, per_class = 0;
    uint64_t seed = 0;
    vae_model *m = NULL;
    float *x = NULL;
    uint8_t *labels = NULL;
    const float **tiles = NULL;
    int64_t rows = 0, cols = 0, classes = 0, count;
    size_t tile_cols = GRID_COLS;
    int rc = -1;

    if (get_long(a, OPT_N, 64, 1, MAX_IMAGES, &n) || get_seed(a, OPT_SEED, 0, &seed))
        return -1;
    if (model_load(path, &m, NULL) || image_shape(m, &rows, &cols) ||
        image_classes(m, path, &classes) || get_label(a, classes, &label))
        goto done;
    count = n;
    if (a->val[OPT_GRID]) {
        /* A row of N for each class, class 0 at the top. */
        if (classes == 0) {
            not_conditional(OPT_GRID, path);
            goto done;
        }
        if (a->val[OPT_N] || a->val[OPT_LABEL]) {
            fail("--grid N draws N of every class: give it without --n and "
                 "--label");
            goto done;
        }
        if (get_long(a, OPT_GRID, 0, 1, MAX_IMAGES, &per_class))
            goto done;
        count = classes * per_class;
        if (count > MAX_GRID_IMAGES) {
            fail("--grid %ld: %lld classes of %ld images is more than %d",
                 per_class, (long long)classes, per_class, MAX_GRID_IMAGES);
            goto done;
        }
        tile_cols = (size_t)per_class;
        if (!(labels = malloc((size_t)count))) {
            fail("out of memory");
            goto done;
        }
        for (int64_t i = 0; i < count; i++)
            labels[i] = (uint8_t)(i / per_class);
    } else if (classes > 0 && label < 0) {
        need_label(path, classes, " or --grid N (N of each class)");
        goto done;
    } else if (same_labels(classes, label, count, &labels)) {
        goto done;
    }
    if (a->val[OPT_SEED] && model_set_seed(m, seed))
        goto done;
    x = malloc((size_t)count * (size_t)(rows * cols) * sizeof *x);
    if (!x) {
        fail("out of memory");
        goto done;
    }
    if (draw_samples(m, labels, classes, count, rows * cols, x))
        goto done;
    if (ends_with(out, IDX_IMAGES_SUFFIX)) {
        if (write_idx_images(out, x, labels, count, rows, cols))
            goto done;
    } else if (!(tiles = image_tiles(x, (size_t)count, rows * cols)) ||
               write_png(out, tiles, (size_t)count, rows, cols, tile_cols, 0)) {
        goto done;
    }
    if (per_class > 0)
        printf("wrote %s: %lld rows of %ld samples, one row per class "
               "(0..%lld from the top)\n", out, (long long)classes, per_class,
               (long long)classes - 1);
    else if (label >= 0)
        printf("wrote %s: %lld samples of label %ld\n", out, (long long)count,
               label);
    else
        printf("wrote %s: %lld samples\n", out, (long long)count);
    rc = 0;

done:
    free(tiles);
    free(labels);
    free(x);
    vae_model_free(m);
    return rc;
}

/* ---- reconstruct -------------------------------------------------------- */

static int cmd_reconstruct(const struct args *a)
{
    long n = 0;
    idx_dataset test = {0};
    vae_model *m = NULL;
    float *x = NULL, *cond = NULL;
    const float **tiles = NULL;
    int64_t dim;
    size_t groups, slots;
    int32_t s;
    int rc = -1;

    if (get_long(a, OPT_N, 32, 1, MAX_IMAGES, &n))
        return -1;
    if (open_test(a, &m, &test, &cond))
        goto done;
    if (n > test.count) {
        fail("--n: %ld exceeds the %lld test images", n, (long long)test.count);
        goto done;
    }
    dim = test.rows * test.cols;
    /* Rows of GRID_COLS originals, each directly above a row of their
     * reconstructions; the PNG sets each such pair of rows apart. */
    groups = ((size_t)n + GRID_COLS - 1) / GRID_COLS;
    slots = groups * 2 * GRID_COLS;
    x = malloc((size_t)n * (size_t)dim * sizeof *x);
    tiles = calloc(slots, sizeof *tiles);
    if (!x || !tiles) {
        fail("out of memory");
        goto done;
    }
    if (model_condition(m, cond, 0, n))
        goto done;
    s = vae_model_reconstruct(m, test.pixels, n, x);
    if (s != VAE_OK) {
        fail_lib("vae_model_reconstruct", s, vae_model_last_error(m));
        goto done;
    }
    for (long i = 0; i < n; i++) {
        size_t g = (size_t)i / GRID_COLS, c = (size_t)i % GRID_COLS;
        tiles[(2 * g) * GRID_COLS + c] = test.pixels + i * dim;
        tiles[(2 * g + 1) * GRID_COLS + c] = x + i * dim;
    }
    if (write_png(a->val[OPT_OUT], tiles, slots, test.rows, test.cols,
                  GRID_COLS, 2))
        goto done;
    printf("wrote %s: %ld test images (odd rows) above their reconstructions "
           "(even rows)\n", a->val[OPT_OUT], n);
    rc = 0;

done:
    free(tiles);
    free(cond);
    free(x);
    vae_model_free(m);
    idx_free(&test);
    return rc;
}

/* ---- interpolate -------------------------------------------------------- */

/* out = (1 - t) a + t b for the n floats at a and the n that follow them. */
static void lerp(float *out, const float *a, int64_t n, float t)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = (1.0f - t) * a[i] + t * a[n + i];
}

static int cmd_interpolate(const struct args *a)
{
    long pairs = 0, steps = 0;
    idx_dataset test = {0};
    vae_model *m = NULL;
    float *mu = NULL, *z = NULL, *x = NULL, *cond = NULL, *zc = NULL;
    const float **tiles = NULL;
    int64_t dim, D, C;
    size_t cols;
    int32_t s;
    int rc = -1;

    if (get_long(a, OPT_PAIRS, 8, 1, 256, &pairs) ||
        get_long(a, OPT_STEPS, 10, 2, 100, &steps))
        return -1;
    if (open_test(a, &m, &test, &cond))
        goto done;
    if (2 * pairs > test.count) {
        fail("--pairs: %ld pairs need %ld test images, there are %lld", pairs,
             2 * pairs, (long long)test.count);
        goto done;
    }
    dim = test.rows * test.cols;
    D = vae_model_latent_dim(m);
    C = vae_model_condition_size(m);
    /* Each row: test image A, the decoded steps from A to B, test image B. */
    cols = (size_t)steps + 2;
    mu = malloc((size_t)(2 * pairs * D) * sizeof *mu);
    z = malloc((size_t)(pairs * steps * D) * sizeof *z);
    x = malloc((size_t)(pairs * steps * dim) * sizeof *x);
    tiles = malloc((size_t)pairs * cols * sizeof *tiles);
    if (cond)
        zc = malloc((size_t)(pairs * steps * C) * sizeof *zc);
    if (!mu || !z || !x || !tiles || (cond && !zc)) {
        fail("out of memory");
        goto done;
    }
    /* Pair p is test images 2p and 2p+1; their posterior means are the
     * end points, so the first and last steps are the reconstructions. */
    if (model_condition(m, cond, 0, 2 * pairs))
        goto done;
    s = vae_model_encode(m, test.pixels, 2 * pairs, mu, NULL);
    if (s != VAE_OK) {
        fail_lib("vae_model_encode", s, vae_model_last_error(m));
        goto done;
    }
    /* A conditional model's label moves from A's to B's with z: the one-hot
     * vectors mixed in the same proportion. */
    for (long p = 0; p < pairs; p++) {
        for (long j = 0; j < steps; j++) {
            float t = (float)j / (float)(steps - 1);
            lerp(z + (p * steps + j) * D, mu + 2 * p * D, D, t);
            if (cond)
                lerp(zc + (p * steps + j) * C, cond + 2 * p * C, C, t);
        }
    }
    if (model_condition(m, zc, 0, pairs * steps))
        goto done;
    s = vae_model_decode(m, z, pairs * steps, x);
    if (s != VAE_OK) {
        fail_lib("vae_model_decode", s, vae_model_last_error(m));
        goto done;
    }
    for (long p = 0; p < pairs; p++) {
        const float **row = tiles + (size_t)p * cols;
        row[0] = test.pixels + 2 * p * dim;
        for (long j = 0; j < steps; j++)
            row[1 + j] = x + (p * steps + j) * dim;
        row[cols - 1] = test.pixels + (2 * p + 1) * dim;
    }
    if (write_png(a->val[OPT_OUT], tiles, (size_t)pairs * cols, test.rows,
                  test.cols, cols, 0))
        goto done;
    printf("wrote %s: %ld rows of test image, %ld decoded steps, test image\n",
           a->val[OPT_OUT], pairs, steps);
    rc = 0;

done:
    free(tiles);
    free(zc);
    free(cond);
    free(x);
    free(z);
    free(mu);
    vae_model_free(m);
    idx_free(&test);
    return rc;
}

/* ---- manifold ----------------------------------------------------------- */

static int cmd_manifold(const struct args *a)
{
    const char *path = a->val[OPT_MODEL];
    long g = 0, label = -1;
    vae_model *m = NULL;
    float *z = NULL, *x = NULL, *cond = NULL;
    uint8_t *labels = NULL;
    const float **tiles = NULL;
    int64_t rows = 0, cols = 0, D, classes = 0;
    int32_t s;
    int rc = -1;

    if (get_long(a, OPT_GRID, 20, 2, 100, &g))
        return -1;
    if (model_load(path, &m, NULL) || image_shape(m, &rows, &cols) ||
        image_classes(m, path, &classes) || get_label(a, classes, &label))
        goto done;
    if (classes > 0 && label < 0) {
        need_label(path, classes, "");
        goto done;
    }
    D = vae_model_latent_dim(m);
    if (D != 2) {
        fail("manifold needs a model with a 2-D latent space (train with "
             "--latent 2); %s has %lld latent dimensions", a->val[OPT_MODEL],
             (long long)D);
        goto done;
    }
    z = malloc((size_t)(g * g * 2) * sizeof *z);
    x = malloc((size_t)(g * g) * (size_t)(rows * cols) * sizeof *x);
    if (!z || !x) {
        fail("out of memory");
        goto done;
    }
    /* A conditional model: the whole lattice in the one class. */
    if (same_labels(classes, label, g * g, &labels) ||
        (labels && one_hot(labels, g * g, classes, &cond)) ||
        model_condition(m, cond, 0, g * g))
        goto done;
    /* Evenly spaced probabilities (i + 1/2) / g through the inverse normal
     * CDF (Kingma & Welling 2014, figure 4): equal prior mass per tile.
     * z1 grows to the right, z2 upwards, as on a plot. */
    for (long r = 0; r < g; r++) {
        for (long c = 0; c < g; c++) {
            float *zz = z + (r * g + c) * 2;
            zz[0] = (float)normal_quantile(((double)c + 0.5) / (double)g);
            zz[1] = (float)normal_quantile(((double)(g - 1 - r) + 0.5) /
                                           (double)g);
        }
    }
    s = vae_model_decode(m, z, g * g, x);
    if (s != VAE_OK) {
        fail_lib("vae_model_decode", s, vae_model_last_error(m));
        goto done;
    }
    if (!(tiles = image_tiles(x, (size_t)(g * g), rows * cols)) ||
        write_png(a->val[OPT_OUT], tiles, (size_t)(g * g), rows, cols,
                  (size_t)g, 0))
        goto done;
    printf("wrote %s: %ldx%ld decoded latents\n", a->val[OPT_OUT], g, g);
    rc = 0;

done:
    free(tiles);
    free(cond);
    free(labels);
    free(x);
    free(z);
    vae_model_free(m);
    return rc;
}

/* ---- plot-latent -------------------------------------------------------- */

static int cmd_plot_latent(const struct args *a)
{
    int64_t limit = 0;
    idx_dataset test = {0};
    vae_model *m = NULL;
    float *mu = NULL, *cond = NULL;
    int *cls = NULL, nclass = 0;
    char names[MAX_LABELS][12];
    const char *name_ptr[MAX_LABELS];
    struct latent_plot plot = {
        .path = a->val[OPT_OUT], .program = "vae-image",
        .model = a->val[OPT_MODEL], .data = a->val[OPT_DATA],
        .items = "test images", .class_names = name_ptr, .legend = "label"};
    int rc = -1;

    if (open_test(a, &m, &test, &cond) ||
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
    if (latent_means_cond(m, test.pixels, cond, limit, test.rows * test.cols,
                          ENCODE_BATCH, mu) ||
        latent_plot_png(mu, limit, vae_model_latent_dim(m), &plot))
        goto done;
    rc = 0;
done:
    free(cls);
    free(cond);
    free(mu);
    vae_model_free(m);
    idx_free(&test);
    return rc;
}

/* ---- main --------------------------------------------------------------- */

#define ALL_COMMANDS OPT(OPT_THREADS)

static const struct command commands[] = {
    {"train", IMAGE_TRAIN_OPTS, OPT(OPT_DATA), cmd_train},
    {"eval",
     ALL_COMMANDS | OPT(OPT_DATA) | OPT(OPT_MODEL) | OPT(OPT_METRICS) |
         OPT(OPT_BATCH) | OPT(OPT_SEED) | OPT(OPT_BINARIZE) | OPT(OPT_IWAE) |
         OPT(OPT_LIMIT) | OPT(OPT_PROGRESS),
     OPT(OPT_DATA) | OPT(OPT_MODEL), cmd_eval},
    {"sample",
     ALL_COMMANDS | OPT(OPT_MODEL) | OPT(OPT_OUT) | OPT(OPT_N) | OPT(OPT_SEED) |
         OPT(OPT_LABEL) | OPT(OPT_GRID),
     OPT(OPT_MODEL) | OPT(OPT_OUT), cmd_sample},
    {"reconstruct",
     ALL_COMMANDS | OPT(OPT_DATA) | OPT(OPT_MODEL) | OPT(OPT_OUT) | OPT(OPT_N),
     OPT(OPT_DATA) | OPT(OPT_MODEL) | OPT(OPT_OUT), cmd_reconstruct},
    {"interpolate",
     ALL_COMMANDS | OPT(OPT_DATA) | OPT(OPT_MODEL) | OPT(OPT_OUT) |
         OPT(OPT_PAIRS) | OPT(OPT_STEPS),
     OPT(OPT_DATA) | OPT(OPT_MODEL) | OPT(OPT_OUT), cmd_interpolate},
    {"manifold",
     ALL_COMMANDS | OPT(OPT_MODEL) | OPT(OPT_OUT) | OPT(OPT_GRID) |
         OPT(OPT_LABEL),
     OPT(OPT_MODEL) | OPT(OPT_OUT), cmd_manifold},
    {"plot-latent",
     ALL_COMMANDS | OPT(OPT_DATA) | OPT(OPT_MODEL) | OPT(OPT_OUT) |
         OPT(OPT_LIMIT) | OPT(OPT_PROJECTION) | OPT(OPT_SEED),
     OPT(OPT_DATA) | OPT(OPT_MODEL) | OPT(OPT_OUT), cmd_plot_latent},
};

int main(int argc, char **argv)
{
    static const struct program vae_image = {
        "vae-image", usage, image_opt_names, OPT_COUNT, OPT_THREADS, commands,
        sizeof commands / sizeof *commands, NULL, IMAGE_SWITCHES};
    return cli_main(&vae_image, argc, argv);
}
