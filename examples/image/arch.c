/* arch.c - see arch.h. */
#include <string.h>

#include "arch.h"
#include "cli.h"
#include "models.h"

/* Dense layers of the given widths on h, each followed by act. */
static int32_t dense_stack(vae_graph *g, int32_t h, const int64_t *widths,
                           int n, int32_t (*act)(vae_graph *, int32_t))
{
    for (int i = 0; i < n; i++)
        h = act(g, vae_graph_dense(g, h, widths[i]));
    return h;
}

/* h joined by a condition node of `cond` floats, or h alone when cond is 0
 * (an unconditional model). Every architecture gives the condition to the
 * first dense layer of each net, as Sohn et al. (2015) give the label to
 * both: the encoder's with the image's features, so that the latent need
 * not carry the label, and the decoder's with z, so that z says how to
 * draw and the label what. */
static int32_t conditioned(vae_graph *g, int32_t h, int64_t cond)
{
    return cond > 0 ? vae_graph_concat(g, h, vae_graph_condition(g, cond)) : h;
}

/* Encoder image -> hidden widths; decoder latent -> the same widths -> one
 * logit per pixel. */
static void build_dense(vae_graph *enc, vae_graph *dec, int64_t rows,
                        int64_t cols, int64_t latent, int64_t cond,
                        const int64_t *widths, int n,
                        int32_t (*act)(vae_graph *, int32_t))
{
    const int64_t in[3] = {1, rows, cols};
    int32_t h = vae_graph_flatten(enc, vae_graph_input(enc, in, 3));
    h = conditioned(enc, h, cond);
    vae_graph_set_output(enc, dense_stack(enc, h, widths, n, act));
    h = conditioned(dec, vae_graph_input(dec, &latent, 1), cond);
    h = dense_stack(dec, h, widths, n, act);
    vae_graph_set_output(dec, vae_graph_dense(dec, h, rows * cols));
}

/* The PyTorch examples/vae model: 784-400-(20, 20) / 20-400-784. */
static int build_mlp(vae_graph *enc, vae_graph *dec, int64_t rows,
                     int64_t cols, int64_t latent, int64_t cond)
{
    const int64_t widths[] = {400};
    build_dense(enc, dec, rows, cols, latent, cond, widths, 1, vae_graph_relu);
    return 0;
}

/* Burda et al. (2015)'s one-stochastic-layer model: two tanh layers of 200
 * units each way, 50 latents. Its decoder is cheap (0.4 MFLOP per z), which
 * is what an IWAE-5000 evaluation of the whole test set pays 5000 times per
 * image. */
static int build_mlp2(vae_graph *enc, vae_graph *dec, int64_t rows,
                      int64_t cols, int64_t latent, int64_t cond)
{
    const int64_t widths[] = {200, 200};
    build_dense(enc, dec, rows, cols, latent, cond, widths, 2, vae_graph_tanh);
    return 0;
}

/* Two stride-2 convolutions down (28 -> 14 -> 7), a dense bottleneck, and
 * the mirror image up: k4 s2 p1 halves a side exactly and its transpose
 * doubles it, so any side divisible by 4 round-trips. */
static int build_conv(vae_graph *enc, vae_graph *dec, int64_t rows,
                      int64_t cols, int64_t latent, int64_t cond)
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
    h = conditioned(enc, h, cond);
    h = vae_graph_dense(enc, h, 256);
    h = vae_graph_relu(enc, h);
    vae_graph_set_output(enc, h);

    h = conditioned(dec, vae_graph_input(dec, &latent, 1), cond);
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
                      int64_t cols, int64_t latent, int64_t cond)
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
    /* The encoder's first dense layer is the Gaussian head. */
    vae_graph_set_output(enc, conditioned(enc, h, cond));

    h = conditioned(dec, vae_graph_input(dec, &latent, 1), cond);
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

/* Both decoders end in Bernoulli logits (VAE_LIKELIHOOD_BERNOULLI). */
static const struct arch archs[] = {
    {"mlp", 20, build_mlp},
    {"conv", 32, build_conv},
    {"mlp2", 50, build_mlp2},
    {"seed", 32, build_seed},
};

#define N_ARCHS (sizeof archs / sizeof *archs)

const struct arch *find_arch(const char *name)
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
    int64_t rows, cols, latent, cond;
};

static int build_image_model(vae_graph *enc, vae_graph *dec, const void *ctx)
{
    const struct image_model *im = ctx;
    return im->arch->build(enc, dec, im->rows, im->cols, im->latent, im->cond);
}

int make_model(const struct arch *ar, int64_t rows, int64_t cols,
               int64_t latent, int64_t cond, uint64_t seed, vae_model **out)
{
    const struct image_model im = {ar, rows, cols, latent, cond};
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
    if (make_model(ar, rows, cols, latent, vae_model_condition_size(m), 0,
                   &ref))
        return -1;
    same = vae_model_num_params(ref) == vae_model_num_params(m);
    vae_model_free(ref);
    return same;
}

/* Refuses a model whose condition is not the one the flags ask for: none,
 * or a one-hot label of the training labels' `cond` classes. */
static int check_resume_condition(const vae_model *m, const char *path,
                                  int64_t cond)
{
    int64_t c = vae_model_condition_size(m);

    if (c == cond)
        return 0;
    if (cond == 0)
        return fail("--resume %s: the model is conditional (%lld classes); "
                    "resume it with --conditional", path, (long long)c);
    if (c == 0)
        return fail("--resume %s: the model is not conditional; resume it "
                    "without --conditional", path);
    return fail("--resume %s: the model has %lld classes, but the training "
                "labels %lld", path, (long long)c, (long long)cond);
}

int check_resume_arch(const vae_model *m, const char *path,
                      const struct arch *ar, int64_t rows, int64_t cols,
                      long latent, int64_t cond)
{
    int64_t d = vae_model_latent_dim(m);
    int r;

    if (check_resume_condition(m, path, cond))
        return -1;
    r = arch_matches(ar, m, rows, cols, latent);
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
