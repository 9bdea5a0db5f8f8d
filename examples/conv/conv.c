/* conv.c - a convolutional VAE on MNIST in one file: reads an IDX image
 * file, trains a few epochs, writes 16 samples from the prior as a picture.
 * Needs only vae.h and libc (MNIST: scripts/fetch-mnist.sh, unzipped):
 *   cc conv.c $(pkg-config --cflags --libs vae) -o conv
 *   ./conv train-images-idx3-ubyte 2 samples.pgm */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <vae.h>

enum { BATCH = 64, LATENT = 16, SAMPLES = 16 };

static void die(const char *what, const char *why)
{
    fprintf(stderr, "%s: %s\n", what, why);
    exit(1);
}

#define CHECK(call) do { int32_t s_ = (call); \
    if (s_ != VAE_OK) die(#call, vae_status_string(s_)); } while (0)

/* The images as grey levels in [0, 1], which the Bernoulli likelihood takes
 * as targets as it does binary pixels. IDX: the magic 0x00000803, the
 * count, rows and cols, then one byte a pixel. */
static float *read_idx(const char *path, int64_t *n, int64_t *rows,
                       int64_t *cols)
{
    unsigned char b[16];
    uint32_t v[4] = {0};
    FILE *f = fopen(path, "rb");
    if (!f || fread(b, 1, 16, f) != 16)
        die(path, "cannot read an IDX header");
    for (int i = 0; i < 16; i++) /* four big-endian 32-bit numbers */
        v[i / 4] = v[i / 4] << 8 | b[i];
    *n = v[1], *rows = v[2], *cols = v[3];
    if (v[0] != 0x803 || *n < 1 || *n > 1000000 || *rows % 4 || *cols % 4 ||
        *rows < 4 || *rows > 1024 || *cols < 4 || *cols > 1024)
        die(path, "not 1..10^6 IDX images with sides 4..1024 divisible by 4");
    size_t size = (size_t)(*n * *rows * *cols);
    unsigned char *bytes = malloc(size);
    float *x = malloc(size * sizeof *x);
    if (!bytes || !x || fread(bytes, 1, size, f) != size)
        die(path, "out of memory, or shorter than its header says");
    for (size_t i = 0; i < size; i++)
        x[i] = bytes[i] / 255.0f;
    free(bytes);
    fclose(f);
    return x;
}

int main(int argc, char **argv)
{
    int epochs = argc == 4 ? atoi(argv[2]) : 0;
    if (epochs < 1)
        die(argv[0], "usage: IMAGES.idx3-ubyte EPOCHS OUT.pgm");
    int64_t n, rows, cols, latent = LATENT;
    float *x = read_idx(argv[1], &n, &rows, &cols);
    const int64_t dim = rows * cols, in[3] = {1, rows, cols};
    const int64_t mid[3] = {32, rows / 4, cols / 4}; /* MNIST: 32 x 7 x 7 */

    /* Encoder: two k4 s2 p1 convolutions, each halving the sides exactly;
     * libvae appends the dense head that gives mu and log-variance. */
    vae_graph *enc, *dec;
    CHECK(vae_graph_new(&enc));
    CHECK(vae_graph_new(&dec));
    int32_t h = vae_graph_input(enc, in, 3);
    h = vae_graph_relu(enc, vae_graph_conv2d(enc, h, 16, 4, 2, 1));
    h = vae_graph_relu(enc, vae_graph_conv2d(enc, h, 32, 4, 2, 1));
    CHECK(vae_graph_set_output(enc, vae_graph_flatten(enc, h)));
    /* Decoder: the mirror image, ending in one logit per pixel. Builder
     * errors are sticky: set_output's status covers every call before. */
    h = vae_graph_input(dec, &latent, 1);
    h = vae_graph_relu(dec, vae_graph_dense(dec, h, mid[0] * mid[1] * mid[2]));
    h = vae_graph_reshape(dec, h, mid, 3);
    h = vae_graph_relu(dec, vae_graph_conv2d_transpose(dec, h, 16, 4, 2, 1));
    h = vae_graph_conv2d_transpose(dec, h, 1, 4, 2, 1);
    CHECK(vae_graph_set_output(dec, h));

    char err[256];
    vae_model *m;
    vae_adam *opt;
    if (vae_model_new(enc, dec, LATENT, VAE_LIKELIHOOD_BERNOULLI, 1, &m, err,
                      sizeof err) ||
        vae_adam_new(m, 1e-3, &opt, err, sizeof err))
        die("model", err);
    vae_graph_free(enc); /* the model keeps copies */
    vae_graph_free(dec);

    /* MNIST's files are not sorted by digit, so batches in file order are
     * fair samples; a longer run would shuffle them every epoch. */
    for (int epoch = 1; epoch <= epochs; epoch++) {
        double sum = 0.0, elbo;
        for (int64_t i = 0; i < n; i += BATCH) {
            int64_t b = n - i < BATCH ? n - i : BATCH;
            if (vae_model_train_step(m, opt, x + i * dim, b, &elbo, NULL, NULL))
                die("train", vae_model_last_error(m));
            sum += elbo * (double)b;
        }
        printf("epoch %d  ELBO %.2f nats per image\n", epoch, sum / n);
    }

    /* z ~ N(0, I) decoded to Bernoulli means (smoother than 0/1 draws), as
     * PGM: a text header, then a byte a pixel, the samples one per row. */
    float *s = malloc(SAMPLES * (size_t)dim * sizeof *s);
    FILE *f = fopen(argv[3], "wb");
    if (!s || !f)
        die(argv[3], "out of memory or cannot create");
    CHECK(vae_model_sample(m, SAMPLES, NULL, s));
    fprintf(f, "P5\n%d %d\n255\n", (int)cols, SAMPLES * (int)rows);
    for (int64_t i = 0; i < SAMPLES * dim; i++)
        fputc((int)(255.0f * s[i] + 0.5f), f);
    if (fclose(f) != 0)
        die(argv[3], "cannot write");
    printf("wrote %s: %d samples\n", argv[3], SAMPLES);
    vae_adam_free(opt);
    vae_model_free(m);
    free(s);
    free(x);
    return 0;
}
