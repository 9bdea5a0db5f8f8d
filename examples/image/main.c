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
#include "models.h"
#include "trainer.h"
#include "normal.h"
#include "order.h"
#include "png_grid.h"

#define GRID_COLS 8     /* tiles per row in the sample and reconstruction PNGs */
#define MAX_IMAGES 1024 /* --n limit for sample and reconstruct */

/* Fixed seeds of the once-only binarisations (docs/image.md): the ASCII
 * bytes of "test" and "train", so every run and every command sees the same
 * binarised test set, and --binarize static the same training set. */
#define TEST_BINARIZE_SEED UINT64_C(0x74657374)
#define TRAIN_BINARIZE_SEED UINT64_C(0x747261696e)

/* Decoder passes per vae_model_iwae call: small enough for progress lines
 * every few seconds at K = 5000 (4 images a call), while the library's own
 * fixed-size chunks keep the products efficient however few images a call
 * has. */
#define IWAE_PASSES_PER_CALL 20000

/* ---- Command line ------------------------------------------------------ */

enum opt_id {
    OPT_DATA, OPT_ARCH, OPT_LATENT, OPT_EPOCHS, OPT_BATCH, OPT_LR, OPT_SEED,
    OPT_OUT, OPT_METRICS, OPT_MODEL, OPT_N, OPT_PROGRESS, OPT_BINARIZE,
    OPT_THREADS, OPT_IWAE, OPT_LIMIT, OPT_RESUME, OPT_PAIRS, OPT_STEPS,
    OPT_GRID, OPT_LR_END, OPT_WARMUP, OPT_TRAIN_SAMPLES, OPT_COUNT
};

static const char *const opt_names[OPT_COUNT] = {
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
};

static const char usage[] =
    "usage: vae-image <command> [options]\n"
    "\n"
    "  train        --data DIR --out MODEL [--arch mlp|conv|mlp2|seed]\n"
    "               [--latent D] [--epochs N] [--batch B] [--lr LR] [--seed S]\n"
    "               [--binarize none|dynamic|static] [--metrics FILE.jsonl]\n"
    "               [--resume MODEL] [--progress SECONDS]\n"
    "               [--lr-end LR] [--warmup EPOCHS] [--train-samples K]\n"
    "  eval         --data DIR --model MODEL [--binarize none|dynamic|static]\n"
    "               [--iwae K] [--limit N] [--metrics FILE.jsonl] [--batch B]\n"
    "               [--seed S] [--progress SECONDS]\n"
    "  sample       --model MODEL --out FILE.png [--n N] [--seed S]\n"
    "  reconstruct  --data DIR --model MODEL --out FILE.png [--n N]\n"
    "  interpolate  --data DIR --model MODEL --out FILE.png [--pairs P]\n"
    "               [--steps T]\n"
    "  manifold     --model MODEL --out FILE.png [--grid G]   (2-D latent only)\n"
    "\n"
    "Every command takes --threads N (BLAS threads; default: the BLAS default).\n"
    "DIR holds the MNIST or Fashion-MNIST IDX files (train-images-idx3-ubyte,\n"
    "..., raw or .gz). With --resume, --out defaults to the resumed file.\n"
    "Defaults: --arch mlp, --latent 20 (mlp), 32 (conv, seed) or 50 (mlp2),\n"
    "--epochs 10 --batch 128 --lr 1e-3 --seed 1 --binarize none\n"
    "--progress 2 (0: quiet); --n 64 (sample), 32 (reconstruct); --pairs 8\n"
    "--steps 10; --grid 20; --train-samples 1 (K > 1: the importance-weighted\n"
    "bound of K samples, and train_elbo reports it).\n"
    "See docs/image.md.\n";

enum binarize { BIN_NONE, BIN_DYNAMIC, BIN_STATIC };

static int get_binarize(const struct args *a, enum binarize *out)
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

/* ---- Small helpers ----------------------------------------------------- */

/* Replaces each pixel p by 1 with probability p, else 0, drawing u from
 * splitmix64(seed) in array order: pixel i is 1 iff u_i < p_i, with u_i the
 * top 24 bits of the i-th draw over 2^24 (the same construction as
 * vae_model_random_uniform, so both binarisations follow one rule). */
static void binarize_fixed(float *px, int64_t n, uint64_t seed)
{
    uint64_t state = seed;
    for (int64_t i = 0; i < n; i++) {
        float u = (float)(splitmix64(&state) >> 40) * 0x1.0p-24f;
        px[i] = u < px[i] ? 1.0f : 0.0f;
    }
}

static int load_split(const char *dir, enum idx_split split, idx_dataset *d)
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
static int image_shape(const vae_model *m, int64_t *rows, int64_t *cols)
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

static int check_fits(const vae_model *m, const idx_dataset *d, const char *dir)
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

/* ---- Architectures ------------------------------------------------------ */

/* Each builder fills an empty encoder and decoder graph for rows x cols
 * grey images, input shape [1, rows, cols]. Graph errors are sticky, so the
 * caller checks the graphs once; a builder returns -1 (with a message) only
 * for images it cannot handle. */
typedef int (*arch_builder)(vae_graph *enc, vae_graph *dec, int64_t rows,
                            int64_t cols, int64_t latent);

/* Dense layers of the given widths on h, each followed by act. */
static int32_t dense_stack(vae_graph *g, int32_t h, const int64_t *widths,
                           int n, int32_t (*act)(vae_graph *, int32_t))
{
    for (int i = 0; i < n; i++)
        h = act(g, vae_graph_dense(g, h, widths[i]));
    return h;
}

/* Encoder image -> hidden widths; decoder latent -> the same widths -> one
 * logit per pixel. */
static void build_dense(vae_graph *enc, vae_graph *dec, int64_t rows,
                        int64_t cols, int64_t latent, const int64_t *widths,
                        int n, int32_t (*act)(vae_graph *, int32_t))
{
    const int64_t in[3] = {1, rows, cols};
    int32_t h = vae_graph_flatten(enc, vae_graph_input(enc, in, 3));
    vae_graph_set_output(enc, dense_stack(enc, h, widths, n, act));
    h = dense_stack(dec, vae_graph_input(dec, &latent, 1), widths, n, act);
    vae_graph_set_output(dec, vae_graph_dense(dec, h, rows * cols));
}

/* The PyTorch examples/vae model: 784-400-(20, 20) / 20-400-784. */
static int build_mlp(vae_graph *enc, vae_graph *dec, int64_t rows,
                     int64_t cols, int64_t latent)
{
    const int64_t widths[] = {400};
    build_dense(enc, dec, rows, cols, latent, widths, 1, vae_graph_relu);
    return 0;
}

/* Burda et al. (2015)'s one-stochastic-layer model: two tanh layers of 200
 * units each way, 50 latents. Its decoder is cheap (0.4 MFLOP per z), which
 * is what an IWAE-5000 evaluation of the whole test set pays 5000 times per
 * image. */
static int build_mlp2(vae_graph *enc, vae_graph *dec, int64_t rows,
                      int64_t cols, int64_t latent)
{
    const int64_t widths[] = {200, 200};
    build_dense(enc, dec, rows, cols, latent, widths, 2, vae_graph_tanh);
    return 0;
}

/* Two stride-2 convolutions down (28 -> 14 -> 7), a dense bottleneck, and
 * the mirror image up: k4 s2 p1 halves a side exactly and its transpose
 * doubles it, so any side divisible by 4 round-trips. */
static int build_conv(vae_graph *enc, vae_graph *dec, int64_t rows,
                      int64_t cols, int64_t latent)
{
    const int64_t in[3] = {1, rows, cols};
    const int64_t mid[3] = {64, rows / 4, cols / 4};
    int32_t h;

    if (rows % 4 != 0 || cols % 4 != 0)
        return fail("--arch conv needs image sides divisible by 4, but these "
                    "images are %lldx%lld", (long long)rows, (long long)cols);

    h = vae_graph_input(enc, in, 3);
    h = vae_graph_conv2d(enc, h, 32, 4, 2, 1);
    h = vae_graph_relu(enc, h);
    h = vae_graph_conv2d(enc, h, 64, 4, 2, 1);
    h = vae_graph_relu(enc, h);
    h = vae_graph_flatten(enc, h);
    h = vae_graph_dense(enc, h, 256);
    h = vae_graph_relu(enc, h);
    vae_graph_set_output(enc, h);

    h = vae_graph_input(dec, &latent, 1);
    h = vae_graph_dense(dec, h, 256);
    h = vae_graph_relu(dec, h);
    h = vae_graph_dense(dec, h, mid[0] * mid[1] * mid[2]);
    h = vae_graph_relu(dec, h);
    h = vae_graph_reshape(dec, h, mid, 3);
    h = vae_graph_conv2d_transpose(dec, h, 32, 4, 2, 1);
    h = vae_graph_relu(dec, h);
    h = vae_graph_conv2d_transpose(dec, h, 1, 4, 2, 1);
    vae_graph_set_output(dec, h);
    return 0;
}

/* The write-up's Conv2D + LSTM model, made valid by reading image rows as
 * time steps. Encoder: conv 3x3 (32, relu) gives [32, H-2, W-2]; each of
 * its H-2 rows, with all channels, is one step of an LSTM of 32 units
 * whose last state feeds the head. Decoder: dense to 7 x 7 x 64 (relu), 7
 * steps of 448 through an LSTM of 256 units, that 7 x 256 sequence seen as
 * a one-channel image, conv 3x3 (32, relu), dense to the pixels. */
static int build_seed(vae_graph *enc, vae_graph *dec, int64_t rows,
                      int64_t cols, int64_t latent)
{
    const int64_t in[3] = {1, rows, cols};
    const int32_t rows_first[3] = {1, 2, 0}; /* [C, H, W] -> [H, W, C] */
    const int64_t steps[2] = {7, 448};
    const int64_t image[3] = {1, 7, 256};
    int32_t h;

    if (rows < 3 || cols < 3)
        return fail("--arch seed needs images of at least 3x3, but these are "
                    "%lldx%lld", (long long)rows, (long long)cols);
    const int64_t seq[2] = {rows - 2, (cols - 2) * 32};

    h = vae_graph_input(enc, in, 3);
    h = vae_graph_relu(enc, vae_graph_conv2d(enc, h, 32, 3, 1, 0));
    h = vae_graph_transpose(enc, h, rows_first, 3);
    h = vae_graph_reshape(enc, h, seq, 2);
    h = vae_graph_lstm(enc, h, 32, -1, -1, 0);
    vae_graph_set_output(enc, h);

    h = vae_graph_input(dec, &latent, 1);
    h = vae_graph_relu(dec, vae_graph_dense(dec, h, 7 * 7 * 64));
    h = vae_graph_reshape(dec, h, steps, 2);
    h = vae_graph_lstm(dec, h, 256, -1, -1, 1);
    h = vae_graph_reshape(dec, h, image, 3);
    h = vae_graph_relu(dec, vae_graph_conv2d(dec, h, 32, 3, 1, 0));
    h = vae_graph_flatten(dec, h);
    h = vae_graph_dense(dec, h, rows * cols);
    vae_graph_set_output(dec, h);
    return 0;
}

struct arch {
    const char *name;
    long default_latent;
    arch_builder build;
};

/* Both decoders end in Bernoulli logits (VAE_LIKELIHOOD_BERNOULLI). */
static const struct arch archs[] = {
    {"mlp", 20, build_mlp},
    {"conv", 32, build_conv},
    {"mlp2", 50, build_mlp2},
    {"seed", 32, build_seed},
};

#define N_ARCHS (sizeof archs / sizeof *archs)

static const struct arch *find_arch(const char *name)
{
    char known[256] = "";

    for (size_t i = 0; i < N_ARCHS; i++)
        if (strcmp(archs[i].name, name) == 0)
            return &archs[i];
    for (size_t i = 0; i < N_ARCHS; i++) {
        strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
        strncat(known, archs[i].name, sizeof known - strlen(known) - 1);
    }
    fail("--arch: unknown architecture '%s' (known: %s)", name, known);
    return NULL;
}

/* What make_model asks model_build to build. */
struct image_model {
    const struct arch *arch;
    int64_t rows, cols, latent;
};

static int build_image_model(vae_graph *enc, vae_graph *dec, const void *ctx)
{
    const struct image_model *im = ctx;
    return im->arch->build(enc, dec, im->rows, im->cols, im->latent);
}

static int make_model(const struct arch *ar, int64_t rows, int64_t cols,
                      int64_t latent, uint64_t seed, vae_model **out)
{
    const struct image_model im = {ar, rows, cols, latent};
    return model_build(build_image_model, &im, latent,
                       VAE_LIKELIHOOD_BERNOULLI, seed, out);
}

/* 1 if m has the parameter count and latent dimension that `ar` with this
 * latent dimension builds, 0 if not, -1 on error. The file keeps no
 * architecture name; the parameter count tells vae-image's architectures
 * apart (and a wrong --latent changes the latent dimension). */
static int arch_matches(const struct arch *ar, const vae_model *m,
                        int64_t rows, int64_t cols, int64_t latent)
{
    vae_model *ref = NULL;
    int same;

    if (vae_model_latent_dim(m) != latent)
        return 0;
    if (make_model(ar, rows, cols, latent, 0, &ref))
        return -1;
    same = vae_model_num_params(ref) == vae_model_num_params(m);
    vae_model_free(ref);
    return same;
}

/* Refuses to resume a model that --arch and --latent would not build, and
 * names the flags that would, if any. */
static int check_resume_arch(const vae_model *m, const char *path,
                             const struct arch *ar, int64_t rows,
                             int64_t cols, long latent)
{
    int64_t d = vae_model_latent_dim(m);
    int r = arch_matches(ar, m, rows, cols, latent);

    if (r != 0)
        return r < 0 ? -1 : 0;
    for (size_t i = 0; i < N_ARCHS; i++) {
        /* An architecture that cannot take these images is no candidate. */
        r = arch_matches(&archs[i], m, rows, cols, d);
        if (r > 0)
            return fail("--resume %s: the model is an --arch %s --latent %lld "
                        "model, not --arch %s --latent %ld; pass the flags it "
                        "was trained with", path, archs[i].name, (long long)d,
                        ar->name, latent);
    }
    return fail("--resume %s: the model (%lld parameters, latent %lld) is not "
                "an --arch %s --latent %ld model, nor any other vae-image "
                "architecture", path, (long long)vae_model_num_params(m),
                (long long)d, ar->name, latent);
}

/* ---- train -------------------------------------------------------------- */

struct train_cfg {
    const char *data, *out_path, *metrics_path;
    const char *resume; /* NULL: a fresh model */
    const struct arch *arch;
    long latent, epochs, batch;
    double lr, lr_end; /* lr_end 0: a constant rate */
    long warmup;       /* KL warm-up epochs; 0: none */
    long samples;      /* importance samples of the objective; 1: the ELBO */
    int lr_given;
    uint64_t seed;
    enum binarize binarize;
    double progress;
};

static int parse_train(const struct args *a, struct train_cfg *c)
{
    c->data = a->val[OPT_DATA];
    c->resume = a->val[OPT_RESUME];
    c->out_path = a->val[OPT_OUT] ? a->val[OPT_OUT] : c->resume;
    c->metrics_path = a->val[OPT_METRICS];
    c->lr_given = a->val[OPT_LR] != NULL;
    if (!c->out_path)
        return fail("train: missing required option --out (or --resume)");
    c->arch = find_arch(a->val[OPT_ARCH] ? a->val[OPT_ARCH] : "mlp");
    if (!c->arch ||
        get_long(a, OPT_LATENT, c->arch->default_latent, 1, 4096,
                 &c->latent) ||
        get_double(a, OPT_LR, 1e-3, 0.0, 10.0, 1, &c->lr) ||
        get_long(a, OPT_EPOCHS, 10, 1, 100000, &c->epochs) ||
        get_long(a, OPT_BATCH, 128, 1, 65536, &c->batch) ||
        get_double(a, OPT_LR_END, 0.0, 0.0, 10.0, 1, &c->lr_end) ||
        get_long(a, OPT_WARMUP, 0, 0, 100000, &c->warmup) ||
        get_long(a, OPT_TRAIN_SAMPLES, 1, 1, VAE_TRAIN_SAMPLES_MAX,
                 &c->samples) ||
        get_double(a, OPT_PROGRESS, 2.0, 0.0, 86400.0, 0, &c->progress) ||
        get_seed(a, OPT_SEED, 1, &c->seed) || get_binarize(a, &c->binarize))
        return -1;
    if (c->lr_end > 0.0 && !c->lr_given)
        return fail("train: --lr-end needs --lr (the rate of epoch 1)");
    return 0;
}

/* The model and optimizer to train: a fresh model, or the model and
 * optimizer state of --resume after checking that they are what the flags
 * describe. */
static int setup_model(const struct train_cfg *c, const idx_dataset *train,
                       vae_model **m, vae_adam **opt)
{
    char e[512] = "";
    int32_t s;

    if (!c->resume) {
        if (make_model(c->arch, train->rows, train->cols, c->latent, c->seed,
                       m))
            return -1;
        s = vae_adam_new(*m, c->lr, opt, e, sizeof e);
        if (s != VAE_OK)
            return fail_lib("vae_adam_new", s, e);
        return 0;
    }
    if (model_load(c->resume, m, opt) || check_fits(*m, train, c->data) ||
        check_resume_arch(*m, c->resume, c->arch, train->rows, train->cols,
                          c->latent))
        return -1;
    if (!*opt)
        return fail("--resume %s: the file holds no optimizer state, so "
                    "training cannot continue from it", c->resume);
    /* Without --lr the saved learning rate stays, as an uninterrupted run
     * would have kept it. */
    if (c->lr_given && (s = vae_adam_set_lr(*opt, c->lr)) != VAE_OK)
        return fail_lib("vae_adam_set_lr", s, vae_adam_last_error(*opt));
    return 0;
}

/* The learning rate and KL weight of one epoch, functions of the flags and
 * the epoch number alone, so that a resumed run continues the same schedule.
 * The rate falls geometrically from --lr at epoch 1 to --lr-end at the last
 * epoch: a steady decay keeps Adam's step noise shrinking as the optimum
 * nears, where one late drop gained two nats of ELBO at once. The KL weight
 * rises linearly to 1 over the warm-up (Sonderby et al. 2016), letting the
 * decoder learn to use z before the KL term can switch units off. */
static int apply_schedule(const struct train_cfg *c, trainer *t,
                          vae_adam *opt, long epoch)
{
    int32_t s;

    if (c->lr_end > 0.0) {
        double t = c->epochs > 1 ? (double)(epoch - 1) / (double)(c->epochs - 1)
                                 : 0.0;
        s = vae_adam_set_lr(opt, c->lr * pow(c->lr_end / c->lr, t));
        if (s != VAE_OK)
            return fail_lib("vae_adam_set_lr", s, vae_adam_last_error(opt));
    }
    if (c->warmup > 0) {
        double beta = epoch >= c->warmup ? 1.0
                                         : (double)epoch / (double)c->warmup;
        return trainer_set_beta(t, beta);
    }
    return 0;
}

/* One epoch of training steps in the order (seed, epoch) fixes. Returns 0
 * and the mean train ELBO and the training time, or -1. */
static int train_epoch(const struct train_cfg *c, vae_model *m, trainer *t,
                       vae_adam *opt, const idx_dataset *train, long epoch,
                       int64_t *perm,
                       float *xb, float *ub, double *mean_elbo, double *secs)
{
    int64_t dim = train->rows * train->cols;
    int64_t nbatches = (train->count + c->batch - 1) / c->batch;
    struct progress prog;
    double sum = 0.0, t0 = now_seconds();
    int64_t seen = 0;
    int32_t s;

    epoch_order(perm, train->count, c->seed, epoch);
    progress_init(&prog, c->progress);
    for (int64_t b = 0; b < nbatches; b++) {
        int64_t start = b * c->batch;
        int64_t n = train->count - start < c->batch ? train->count - start
                                                    : c->batch;
        double elbo;

        for (int64_t j = 0; j < n; j++)
            memcpy(xb + j * dim, train->pixels + perm[start + j] * dim,
                   (size_t)dim * sizeof *xb);
        /* Fresh Bernoulli draws every time an image is used, from the
         * model's generator, whose state the model file carries. */
        if (c->binarize == BIN_DYNAMIC) {
            s = vae_model_random_uniform(m, n * dim, ub);
            if (s != VAE_OK) {
                progress_clear(&prog);
                return fail_lib("vae_model_random_uniform", s,
                                vae_model_last_error(m));
            }
            for (int64_t i = 0; i < n * dim; i++)
                xb[i] = ub[i] < xb[i] ? 1.0f : 0.0f;
        }
        if (trainer_step(t, opt, xb, n, dim, epoch, b, &elbo)) {
            progress_clear(&prog);
            return -1;
        }
        sum += elbo * (double)n;
        seen += n;
        if (progress_due(&prog)) {
            double el = now_seconds() - t0;
            double rate = el > 0.0 ? (double)seen / el : 0.0;
            char eta[32], eta_epoch[32];

            format_etas(el, seen, train->count, c->epochs - epoch, -1.0, eta,
                        eta_epoch, sizeof eta);
            progress_line(&prog,
                          "epoch %ld/%ld  batch %lld/%lld  train_elbo %.2f  "
                          "%.0f samples/s  ETA %s (epoch %s)",
                          epoch, c->epochs, (long long)b + 1,
                          (long long)nbatches, sum / (double)seen, rate, eta,
                          eta_epoch);
        }
    }
    progress_clear(&prog);
    *secs = now_seconds() - t0;
    *mean_elbo = sum / (double)seen;
    return 0;
}

/* Epochs a model has finished, from its optimizer's step count. */
static int finished_epochs(const vae_adam *opt, int64_t nbatches,
                           const char *path, long *out)
{
    int64_t steps = vae_adam_steps(opt);

    if (steps < 0 || steps % nbatches != 0)
        return fail("--resume %s: the model has taken %lld optimizer steps, "
                    "not a whole number of %lld-batch epochs; resume with the "
                    "--batch and --data it was trained with", path,
                    (long long)steps, (long long)nbatches);
    *out = (long)(steps / nbatches);
    return 0;
}

static int cmd_train(const struct args *a)
{
    struct train_cfg c = {0};
    idx_dataset train = {0}, test = {0};
    vae_model *m = NULL;
    vae_adam *opt = NULL;
    trainer *t = NULL;
    FILE *metrics = NULL;
    int64_t *perm = NULL;
    float *xb = NULL, *ub = NULL;
    int64_t dim;
    long done_epochs = 0;
    int rc = -1;

    if (parse_train(a, &c))
        return -1;
    if (load_split(c.data, IDX_TRAIN, &train) ||
        load_split(c.data, IDX_TEST, &test))
        goto done;
    if (test.rows != train.rows || test.cols != train.cols) {
        fail("%s: training images are %lldx%lld but test images %lldx%lld",
             c.data, (long long)train.rows, (long long)train.cols,
             (long long)test.rows, (long long)test.cols);
        goto done;
    }
    if (setup_model(&c, &train, &m, &opt))
        goto done;
    int32_t blas = vae_get_num_threads();
    if (trainer_new(m, blas > 1 ? (blas < 16 ? blas : 16) : 1, &t) ||
        trainer_set_train_samples(t, c.samples))
        goto done;
    if (c.batch > train.count)
        c.batch = (long)train.count;
    if (c.resume &&
        finished_epochs(opt, (train.count + c.batch - 1) / c.batch, c.resume,
                        &done_epochs))
        goto done;
    if (done_epochs >= c.epochs) {
        fail("--resume %s: the model has finished %ld epoch%s already and "
             "--epochs (the total) is %ld", c.resume, done_epochs,
             done_epochs == 1 ? "" : "s", c.epochs);
        goto done;
    }
    if (c.metrics_path && !(metrics = open_metrics(c.metrics_path)))
        goto done;
    /* Saving before training proves --out writable before any time goes
     * into training. */
    if (model_save(m, opt, c.out_path))
        goto done;

    dim = train.rows * train.cols;
    if (c.binarize != BIN_NONE)
        binarize_fixed(test.pixels, test.count * dim, TEST_BINARIZE_SEED);
    if (c.binarize == BIN_STATIC)
        binarize_fixed(train.pixels, train.count * dim, TRAIN_BINARIZE_SEED);
    perm = malloc((size_t)train.count * sizeof *perm);
    xb = malloc((size_t)c.batch * (size_t)dim * sizeof *xb);
    if (c.binarize == BIN_DYNAMIC)
        ub = malloc((size_t)c.batch * (size_t)dim * sizeof *ub);
    if (!perm || !xb || (c.binarize == BIN_DYNAMIC && !ub)) {
        fail("out of memory");
        goto done;
    }

    for (long epoch = done_epochs + 1; epoch <= c.epochs; epoch++) {
        double train_elbo = 0.0, secs = 0.0, te, tr, tk;

        if (apply_schedule(&c, t, opt, epoch) ||
            train_epoch(&c, m, t, opt, &train, epoch, perm, xb, ub,
                        &train_elbo, &secs) ||
            model_evaluate(m, test.pixels, test.count, dim, c.batch, &te, &tr,
                           &tk))
            goto done;
        /* Saved after the evaluation, whose z draws advance the model's
         * generator: a resumed run starts from exactly this state. */
        if (model_save(m, opt, c.out_path))
            goto done;
        if (metrics) {
            int k = 0;
            json_num(metrics, &k, "epoch", (double)epoch, 0);
            json_num(metrics, &k, "train_elbo", train_elbo, 4);
            json_num(metrics, &k, "test_elbo", te, 4);
            json_num(metrics, &k, "recon", tr, 4);
            json_num(metrics, &k, "kl", tk, 4);
            json_num(metrics, &k, "seconds", secs, 3);
            json_num(metrics, &k, "samples_per_s",
                     (double)train.count / secs, 1);
            if (finish_json_line(metrics, c.metrics_path))
                goto done;
        }
        fprintf(stderr,
                "epoch %ld/%ld  train_elbo %.2f  test_elbo %.2f (recon %.2f, "
                "kl %.2f)  %.1fs  %.0f samples/s\n",
                epoch, c.epochs, train_elbo, te, tr, tk, secs,
                (double)train.count / secs);
    }
    rc = 0;

done:
    rc = close_metrics(metrics, c.metrics_path, rc);
    free(ub);
    free(xb);
    free(perm);
    trainer_free(t);
    vae_adam_free(opt);
    vae_model_free(m);
    idx_free(&train);
    idx_free(&test);
    return rc;
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
    FILE *metrics = NULL;
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
    if (model_load(a->val[OPT_MODEL], &m, NULL) ||
        load_split(a->val[OPT_DATA], IDX_TEST, &test) ||
        check_fits(m, &test, a->val[OPT_DATA]))
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
    if (model_evaluate(m, test.pixels, limit, dim, batch, &te, &tr, &tk))
        goto done;
    printf("test_elbo %.4f  recon %.4f  kl %.4f  (%ld test images)\n", te, tr,
           tk, limit);
    if (k > 0) {
        t0 = now_seconds();
        if (model_iwae_mean(m, test.pixels, limit, dim, k, IWAE_PASSES_PER_CALL,
                            progress, "images", &logpx))
            goto done;
        printf("test_nll %.4f  (IWAE k=%ld, %ld test images, %.1fs)\n",
               -logpx, k, limit, now_seconds() - t0);
    }
    if (metrics) {
        int n = 0;
        json_num(metrics, &n, "test_elbo", te, 4);
        json_num(metrics, &n, "recon", tr, 4);
        json_num(metrics, &n, "kl", tk, 4);
        if (k > 0) {
            json_num(metrics, &n, "test_nll", -logpx, 4);
            json_num(metrics, &n, "iwae_k", (double)k, 0);
        }
        json_num(metrics, &n, "n", (double)limit, 0);
        if (finish_json_line(metrics, metrics_path))
            goto done;
    }
    rc = 0;

done:
    rc = close_metrics(metrics, metrics_path, rc);
    vae_model_free(m);
    idx_free(&test);
    return rc;
}

/* ---- sample ------------------------------------------------------------- */

static int cmd_sample(const struct args *a)
{
    long n = 0;
    uint64_t seed = 0;
    vae_model *m = NULL;
    float *x = NULL;
    const float **tiles = NULL;
    int64_t rows = 0, cols = 0;
    int32_t s;
    int rc = -1;

    if (get_long(a, OPT_N, 64, 1, MAX_IMAGES, &n) || get_seed(a, OPT_SEED, 0, &seed))
        return -1;
    if (model_load(a->val[OPT_MODEL], &m, NULL) ||
        image_shape(m, &rows, &cols))
        goto done;
    if (a->val[OPT_SEED] && model_set_seed(m, seed))
        goto done;
    x = malloc((size_t)n * (size_t)(rows * cols) * sizeof *x);
    if (!x) {
        fail("out of memory");
        goto done;
    }
    s = vae_model_sample(m, n, NULL, x);
    if (s != VAE_OK) {
        fail_lib("vae_model_sample", s, vae_model_last_error(m));
        goto done;
    }
    if (!(tiles = image_tiles(x, (size_t)n, rows * cols)) ||
        write_png(a->val[OPT_OUT], tiles, (size_t)n, rows, cols, GRID_COLS, 0))
        goto done;
    printf("wrote %s: %ld samples\n", a->val[OPT_OUT], n);
    rc = 0;

done:
    free(tiles);
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
    float *x = NULL;
    const float **tiles = NULL;
    int64_t dim;
    size_t groups, slots;
    int32_t s;
    int rc = -1;

    if (get_long(a, OPT_N, 32, 1, MAX_IMAGES, &n))
        return -1;
    if (model_load(a->val[OPT_MODEL], &m, NULL) ||
        load_split(a->val[OPT_DATA], IDX_TEST, &test) ||
        check_fits(m, &test, a->val[OPT_DATA]))
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
    free(x);
    vae_model_free(m);
    idx_free(&test);
    return rc;
}

/* ---- interpolate -------------------------------------------------------- */

static int cmd_interpolate(const struct args *a)
{
    long pairs = 0, steps = 0;
    idx_dataset test = {0};
    vae_model *m = NULL;
    float *mu = NULL, *z = NULL, *x = NULL;
    const float **tiles = NULL;
    int64_t dim, D;
    size_t cols;
    int32_t s;
    int rc = -1;

    if (get_long(a, OPT_PAIRS, 8, 1, 256, &pairs) ||
        get_long(a, OPT_STEPS, 10, 2, 100, &steps))
        return -1;
    if (model_load(a->val[OPT_MODEL], &m, NULL) ||
        load_split(a->val[OPT_DATA], IDX_TEST, &test) ||
        check_fits(m, &test, a->val[OPT_DATA]))
        goto done;
    if (2 * pairs > test.count) {
        fail("--pairs: %ld pairs need %ld test images, there are %lld", pairs,
             2 * pairs, (long long)test.count);
        goto done;
    }
    dim = test.rows * test.cols;
    D = vae_model_latent_dim(m);
    /* Each row: test image A, the decoded steps from A to B, test image B. */
    cols = (size_t)steps + 2;
    mu = malloc((size_t)(2 * pairs * D) * sizeof *mu);
    z = malloc((size_t)(pairs * steps * D) * sizeof *z);
    x = malloc((size_t)(pairs * steps * dim) * sizeof *x);
    tiles = malloc((size_t)pairs * cols * sizeof *tiles);
    if (!mu || !z || !x || !tiles) {
        fail("out of memory");
        goto done;
    }
    /* Pair p is test images 2p and 2p+1; their posterior means are the
     * end points, so the first and last steps are the reconstructions. */
    s = vae_model_encode(m, test.pixels, 2 * pairs, mu, NULL);
    if (s != VAE_OK) {
        fail_lib("vae_model_encode", s, vae_model_last_error(m));
        goto done;
    }
    for (long p = 0; p < pairs; p++) {
        const float *za = mu + 2 * p * D, *zb = za + D;
        for (long j = 0; j < steps; j++) {
            float t = (float)j / (float)(steps - 1);
            float *zz = z + (p * steps + j) * D;
            for (int64_t i = 0; i < D; i++)
                zz[i] = (1.0f - t) * za[i] + t * zb[i];
        }
    }
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
    long g = 0;
    vae_model *m = NULL;
    float *z = NULL, *x = NULL;
    const float **tiles = NULL;
    int64_t rows = 0, cols = 0, D;
    int32_t s;
    int rc = -1;

    if (get_long(a, OPT_GRID, 20, 2, 100, &g))
        return -1;
    if (model_load(a->val[OPT_MODEL], &m, NULL) ||
        image_shape(m, &rows, &cols))
        goto done;
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
    free(x);
    free(z);
    vae_model_free(m);
    return rc;
}

/* ---- main --------------------------------------------------------------- */

#define ALL_COMMANDS OPT(OPT_THREADS)

static const struct command commands[] = {
    {"train",
     ALL_COMMANDS | OPT(OPT_DATA) | OPT(OPT_ARCH) | OPT(OPT_LATENT) |
         OPT(OPT_EPOCHS) | OPT(OPT_BATCH) | OPT(OPT_LR) | OPT(OPT_SEED) |
         OPT(OPT_OUT) | OPT(OPT_METRICS) | OPT(OPT_PROGRESS) |
         OPT(OPT_BINARIZE) | OPT(OPT_RESUME) | OPT(OPT_LR_END) |
         OPT(OPT_WARMUP) | OPT(OPT_TRAIN_SAMPLES),
     OPT(OPT_DATA), cmd_train},
    {"eval",
     ALL_COMMANDS | OPT(OPT_DATA) | OPT(OPT_MODEL) | OPT(OPT_METRICS) |
         OPT(OPT_BATCH) | OPT(OPT_SEED) | OPT(OPT_BINARIZE) | OPT(OPT_IWAE) |
         OPT(OPT_LIMIT) | OPT(OPT_PROGRESS),
     OPT(OPT_DATA) | OPT(OPT_MODEL), cmd_eval},
    {"sample",
     ALL_COMMANDS | OPT(OPT_MODEL) | OPT(OPT_OUT) | OPT(OPT_N) | OPT(OPT_SEED),
     OPT(OPT_MODEL) | OPT(OPT_OUT), cmd_sample},
    {"reconstruct",
     ALL_COMMANDS | OPT(OPT_DATA) | OPT(OPT_MODEL) | OPT(OPT_OUT) | OPT(OPT_N),
     OPT(OPT_DATA) | OPT(OPT_MODEL) | OPT(OPT_OUT), cmd_reconstruct},
    {"interpolate",
     ALL_COMMANDS | OPT(OPT_DATA) | OPT(OPT_MODEL) | OPT(OPT_OUT) |
         OPT(OPT_PAIRS) | OPT(OPT_STEPS),
     OPT(OPT_DATA) | OPT(OPT_MODEL) | OPT(OPT_OUT), cmd_interpolate},
    {"manifold",
     ALL_COMMANDS | OPT(OPT_MODEL) | OPT(OPT_OUT) | OPT(OPT_GRID),
     OPT(OPT_MODEL) | OPT(OPT_OUT), cmd_manifold},
};

int main(int argc, char **argv)
{
    static const struct program vae_image = {
        "vae-image", usage, opt_names, OPT_COUNT, OPT_THREADS, commands,
        sizeof commands / sizeof *commands};
    return cli_main(&vae_image, argc, argv);
}
