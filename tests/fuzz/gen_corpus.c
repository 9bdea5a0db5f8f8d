/* gen_corpus.c - writes the fuzz drivers' seed corpora: small valid inputs
 * of every kind each driver reads, plus truncations of them.
 *   gen_corpus OUTDIR   writes OUTDIR/fuzz_model_load/, OUTDIR/fuzz_idx/,
 *                       OUTDIR/fuzz_text/ (the directories must exist)
 * tests/fuzz/corpus/ holds its output: from a build with the tests,
 *   BUILD/tests/fuzz/gen_corpus tests/fuzz/corpus
 * rewrites the seeds and leaves other files (saved findings) alone. The
 * input layouts are described in each driver. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vae.h>
#include <zlib.h>

#include "corpus.h"
#include "vocab.h"

static const char *g_out;

static void die(const char *what, const char *why)
{
    fprintf(stderr, "gen_corpus: %s: %s\n", what, why);
    exit(1);
}

static void write_seed(const char *driver, const char *name,
                       const void *p, size_t n)
{
    char path[1024];
    FILE *fp;

    snprintf(path, sizeof path, "%s/%s/%s", g_out, driver, name);
    fp = fopen(path, "wb");
    if (!fp || (n && fwrite(p, 1, n, fp) != n) || fclose(fp) != 0)
        die(path, "cannot write");
}

/* The seed and the truncations that stop inside each part of it. */
static void write_with_cuts(const char *driver, const char *name,
                            const void *p, size_t n, const size_t *cuts,
                            int ncuts)
{
    char cut_name[256];

    write_seed(driver, name, p, n);
    for (int i = 0; i < ncuts; i++) {
        if (cuts[i] >= n)
            continue;
        snprintf(cut_name, sizeof cut_name, "%s.cut%zu", name, cuts[i]);
        write_seed(driver, cut_name, p, cuts[i]);
    }
}

/* ---- Models ------------------------------------------------------------ */

static void check(int32_t st, const char *what)
{
    if (st < 0)
        die(what, vae_status_string(st));
}

/* The decoder's output size for data of d floats. */
static int64_t out_size(int32_t likelihood, int64_t d)
{
    return likelihood == VAE_LIKELIHOOD_GAUSSIAN_LEARNED ? 2 * d : d;
}

/* MLP: dense layers and the pointwise activations. */
static void mlp(vae_graph *enc, vae_graph *dec, int32_t likelihood)
{
    int64_t in = 6, z = 2;
    int32_t x = vae_graph_input(enc, &in, 1);
    x = vae_graph_leaky_relu(enc, vae_graph_dense(enc, x, 5), 0.1f);
    vae_graph_set_output(enc, vae_graph_softplus(enc, x));
    x = vae_graph_tanh(dec, vae_graph_dense(dec, vae_graph_input(dec, &z, 1), 4));
    x = vae_graph_relu(dec, vae_graph_identity(dec, x));
    vae_graph_set_output(dec, vae_graph_dense(dec, x, out_size(likelihood, in)));
}

/* Convolutions over a 1x6x6 image, and a transposed one back. */
static void conv(vae_graph *enc, vae_graph *dec, int32_t likelihood)
{
    (void)likelihood; /* Gaussian, fixed variance: one output per pixel */
    int64_t img[3] = {1, 6, 6}, z = 2, grid[3] = {2, 3, 3};
    int32_t x = vae_graph_input(enc, img, 3);
    x = vae_graph_relu(enc, vae_graph_conv2d(enc, x, 2, 3, 2, 1));
    vae_graph_set_output(enc, vae_graph_flatten(enc, x));
    x = vae_graph_dense(dec, vae_graph_input(dec, &z, 1), 18);
    x = vae_graph_reshape(dec, vae_graph_sigmoid(dec, x), grid, 3);
    vae_graph_set_output(dec, vae_graph_conv2d_transpose(dec, x, 1, 2, 2, 0));
}

/* An image read as a sequence of rows by an LSTM (transpose), decoded by
 * an LSTM over z repeated at every step. */
static void rows(vae_graph *enc, vae_graph *dec, int32_t likelihood)
{
    (void)likelihood; /* Bernoulli */
    int64_t img[3] = {1, 4, 4}, seq[2] = {4, 4}, z = 2;
    int32_t axes[3] = {1, 2, 0};
    int32_t x = vae_graph_input(enc, img, 3);
    x = vae_graph_reshape(enc, vae_graph_transpose(enc, x, axes, 3), seq, 2);
    vae_graph_set_output(enc, vae_graph_lstm(enc, x, 3, -1, -1, 0));
    x = vae_graph_repeat(dec, vae_graph_input(dec, &z, 1), 4);
    x = vae_graph_dense(dec, vae_graph_lstm(dec, x, 3, -1, -1, 1), 4);
    vae_graph_set_output(dec, vae_graph_reshape(dec, x, img, 3));
}

/* The text model of examples/text (Bowman et al.): shared embedding,
 * teacher forcing with token dropout, LSTM started from z. */
#define TEXT_T 5
#define TEXT_V 9
static void text(vae_graph *enc, vae_graph *dec, int32_t likelihood)
{
    (void)likelihood; /* categorical */
    int64_t t = TEXT_T, zdim = 2;
    int32_t x = vae_graph_input(enc, &t, 1);
    int32_t e = vae_graph_embedding(enc, x, TEXT_V, 3);
    vae_graph_set_output(enc, vae_graph_lstm(enc, e, 4, -1, x, 0));
    int32_t z = vae_graph_input(dec, &zdim, 1);
    int32_t d = vae_graph_data(dec, &t, 1);
    int32_t in = vae_graph_shift_right(dec, vae_graph_token_dropout(dec, d, 0.25f, 3.0f), 1.0f);
    in = vae_graph_embedding_shared(dec, in, TEXT_V, 3);
    in = vae_graph_concat(dec, in, vae_graph_repeat(dec, z, TEXT_T));
    int32_t h = vae_graph_lstm(dec, in, 4, vae_graph_dense(dec, z, 8), d, 1);
    vae_graph_set_output(dec, vae_graph_dense(dec, h, TEXT_V));
}

struct model_seed {
    const char *name;
    void (*build)(vae_graph *, vae_graph *, int32_t);
    int32_t likelihood;
    int with_optimizer;
    const char *metadata;
};

/* One training step on a fixed batch, so the optimizer state is not all
 * zeros. Token models get ids in 1..V-1 with padding at the end. */
static void train_once(vae_model *m, vae_adam *opt, int32_t likelihood)
{
    int64_t d = vae_model_data_size(m);
    float *x = calloc((size_t)(2 * d), sizeof *x);
    if (!x)
        die("train", "out of memory");
    for (int64_t i = 0; i < 2 * d; i++)
        x[i] = likelihood == VAE_LIKELIHOOD_CATEGORICAL
                   ? (float)(i % d < d - 1 ? 1 + i % (TEXT_V - 1) : 0)
                   : (float)(i % 3) / 2.0f;
    check(vae_model_train_step(m, opt, x, 2, NULL, NULL, NULL), "train step");
    free(x);
}

static void write_model(const struct model_seed *s)
{
    vae_graph *enc, *dec;
    vae_model *m;
    vae_adam *opt = NULL;
    char err[256];
    size_t n, written;
    unsigned char *buf;

    check(vae_graph_new(&enc), "graph");
    check(vae_graph_new(&dec), "graph");
    s->build(enc, dec, s->likelihood);
    if (vae_graph_status(enc) || vae_graph_status(dec))
        die(s->name, vae_graph_status(enc) ? vae_graph_last_error(enc)
                                           : vae_graph_last_error(dec));
    if (vae_model_new(enc, dec, 2, s->likelihood, 7, &m, err, sizeof err))
        die(s->name, err);
    vae_graph_free(enc);
    vae_graph_free(dec);
    if (s->with_optimizer) {
        check(vae_adam_new(m, 1e-3, &opt, err, sizeof err), "adam");
        check(vae_adam_set_weight_decay(opt, 0.01, 1), "adam");
        check(vae_adam_set_clip_norm(opt, 5.0), "adam");
        train_once(m, opt, s->likelihood);
    }
    if (s->metadata)
        check(vae_model_set_metadata(m, s->metadata, strlen(s->metadata)),
              "metadata");
    check(vae_model_set_beta(m, 0.5), "beta");
    check(vae_model_save_size(m, opt, &n), "save size");
    buf = malloc(n);
    if (!buf)
        die(s->name, "out of memory");
    check(vae_model_save_to_buffer(m, opt, buf, n, &written), "save");
    write_seed("fuzz_model_load", s->name, buf, n);
    /* Cut inside the settings, the first graph, the weights and the last
     * section, with the header's payload length (bytes 16..23) made to
     * agree so that the parser reads up to the cut; the driver recomputes
     * the checksum. A cut inside the header is kept as it is. */
    const size_t cuts[] = {20, 60, 200, n / 2, n - 1};
    for (int i = 0; i < 5; i++) {
        char cut_name[256];
        if (cuts[i] >= 32)
            for (int k = 0; k < 8; k++)
                buf[16 + k] = (unsigned char)((uint64_t)(cuts[i] - 32) >> (8 * k));
        snprintf(cut_name, sizeof cut_name, "%s.cut%zu", s->name, cuts[i]);
        write_seed("fuzz_model_load", cut_name, buf, cuts[i]);
    }
    free(buf);
    vae_adam_free(opt);
    vae_model_free(m);
}

/* ---- IDX ---------------------------------------------------------------- */

struct bytes {
    unsigned char b[4096];
    size_t n;
};

static void put(struct bytes *x, const void *p, size_t n)
{
    if (x->n + n > sizeof x->b)
        die("idx seed", "too large");
    memcpy(x->b + x->n, p, n);
    x->n += n;
}

static void put_be32(struct bytes *x, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    put(x, b, 4);
}

static struct bytes gzip(const struct bytes *in)
{
    struct bytes out = {{0}, 0};
    z_stream z;

    memset(&z, 0, sizeof z);
    /* 16 + 15 window bits: a gzip wrapper, as gzopen reads. */
    if (deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        die("gzip", "deflateInit2");
    z.next_in = (unsigned char *)in->b;
    z.avail_in = (unsigned)in->n;
    z.next_out = out.b;
    z.avail_out = sizeof out.b;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        die("gzip", "deflate");
    out.n = sizeof out.b - z.avail_out;
    deflateEnd(&z);
    return out;
}

/* Driver input: mode byte, images length (LE32), images, labels. */
static void write_idx(const char *name, int to_file, const struct bytes *im,
                      const struct bytes *lb, int with_cuts)
{
    struct bytes x = {{0}, 0};
    unsigned char head[5] = {(unsigned char)to_file, (unsigned char)im->n,
                             (unsigned char)(im->n >> 8), 0, 0};
    put(&x, head, 5);
    put(&x, im->b, im->n);
    put(&x, lb->b, lb->n);
    const size_t cuts[] = {5 + 10, 5 + im->n - 1, x.n - 1};
    write_with_cuts("fuzz_idx", name, x.b, x.n, cuts, with_cuts ? 3 : 0);
}

static void idx_seeds(void)
{
    struct bytes im = {{0}, 0}, lb = {{0}, 0}, one = {{0}, 0}, one_lb = {{0}, 0};

    put_be32(&im, 0x803);
    put_be32(&im, 3);
    put_be32(&im, 2);
    put_be32(&im, 3);
    for (int i = 0; i < 18; i++) {
        unsigned char p = (unsigned char)(i * 15);
        put(&im, &p, 1);
    }
    put_be32(&lb, 0x801);
    put_be32(&lb, 3);
    put(&lb, "\x07\x00\x09", 3);
    write_idx("three-2x3", 0, &im, &lb, 1);
    write_idx("three-2x3-file", 1, &im, &lb, 0);
    struct bytes gim = gzip(&im), glb = gzip(&lb);
    write_idx("three-2x3-gzip", 1, &gim, &glb, 1);

    /* One MNIST-sized image. */
    put_be32(&one, 0x803);
    put_be32(&one, 1);
    put_be32(&one, 28);
    put_be32(&one, 28);
    for (int i = 0; i < 28 * 28; i++) {
        unsigned char p = (unsigned char)(i % 256);
        put(&one, &p, 1);
    }
    put_be32(&one_lb, 0x801);
    put_be32(&one_lb, 1);
    put(&one_lb, "\x05", 1);
    write_idx("one-28x28", 0, &one, &one_lb, 0);
}

/* ---- Text --------------------------------------------------------------- */

static void write_text(const char *name, int mode, const char *text)
{
    struct bytes x = {{0}, 0};
    size_t n = strlen(text);
    /* Vocabulary of 4 + 12 ids, sentences encoded to 1 + 7 ids. */
    unsigned char head[3] = {(unsigned char)mode, 12, 7};
    put(&x, head, 3);
    put(&x, text, n);
    const size_t cuts[] = {3 + n / 2, x.n - 1};
    write_with_cuts("fuzz_text", name, x.b, x.n, cuts, 2);
}

static void vocab_seed(void)
{
    const char *sentence = "The cat sat on the mat , the end .";
    text_sentences s;
    text_vocab *v = NULL;
    unsigned char *buf = NULL;
    size_t n = 0;
    char err[256];
    struct bytes x = {{0}, 0};

    memset(&s, 0, sizeof s);
    if (text_sentences_add(&s, sentence, strlen(sentence), err, sizeof err) != 0 ||
        text_vocab_build(&s, 9, &v, err, sizeof err) != 0 ||
        text_vocab_serialize(v, &buf, &n, err, sizeof err) != 0)
        die("vocabulary seed", err);
    put(&x, "\x04", 1);
    put(&x, buf, n);
    const size_t cuts[] = {1 + 10, x.n - 1};
    write_with_cuts("fuzz_text", "vocab", x.b, x.n, cuts, 2);
    free(buf);
    text_vocab_free(v);
    text_sentences_free(&s);
}

static void text_seeds(void)
{
    write_text("lines", 0,
               "The cat sat on the mat.\nDon't stop: 3.5 well-known, 1,000 "
               "at 7:30!\n\n   \nA (b) [c] {d} $5 50% e?\n");
    write_text("lines-utf8-bom", 0,
               "\xEF\xBB\xBF" "caf\xC3\xA9 na\xC3\xAFve \xE6\x97\xA5\xE6\x9C\xAC "
               "\xF0\x9F\x98\x80 x\xE2\x80\x94y\r\nend\n");
    write_text("brown", 1,
               "\n\n\tThe/at Fulton/np-tl County/nn-tl said/vbd ``/`` 1/2/cd "
               "''/'' ./.\n\n\n\tHe/pps ran/vbd ;/. Mr./np out/rp ./.\nYes/uh\n");
    write_text("review-train", 2,
               "I loved it!! Really.<br /><br />Bad \"acting\". OK?) yes<BR>"
               "end...\nnext line<br/>last");
    write_text("review-test", 3, "Short. And sweet!");
    vocab_seed();
}

int main(int argc, char **argv)
{
    static const struct model_seed models[] = {
        {"mlp.vae", mlp, VAE_LIKELIHOOD_BERNOULLI, 0, NULL},
        {"mlp-gaussian-learned-adam.vae", mlp,
         VAE_LIKELIHOOD_GAUSSIAN_LEARNED, 1, NULL},
        {"conv-gaussian.vae", conv, VAE_LIKELIHOOD_GAUSSIAN_FIXED, 0,
         "conv 1x6x6"},
        {"rows-lstm-adam.vae", rows, VAE_LIKELIHOOD_BERNOULLI, 1, NULL},
        {"text-lstm-adam-meta.vae", text, VAE_LIKELIHOOD_CATEGORICAL, 1,
         "vocab: <pad> <bos> <eos> <unk> a b c d e"},
    };

    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus OUTDIR\n");
        return 2;
    }
    g_out = argv[1];
    for (size_t i = 0; i < sizeof models / sizeof *models; i++)
        write_model(&models[i]);
    idx_seeds();
    text_seeds();
    return 0;
}
