/* Save/load: round trips through files and memory give the same model (and
 * optimizer, and metadata) bit for bit; damaged, truncated, oversized and
 * hand-crafted images are refused with the documented status and never
 * crash or leak (run under ASan by scripts/test.sh); failed saves leave the
 * previous file as it was.
 *
 * Byte offsets below come from docs/file-format.md, not from the library, so
 * the tests also pin the documented layout. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crc32.h"
#include "adam.h"
#include "model.h"
#include "testutil.h"

/* ---- Documented layout (docs/file-format.md) --------------------------- */

enum {
    HDR = 32,         /* header bytes; payload starts here */
    OFF_MAJOR = 8,
    OFF_MINOR = 10,
    OFF_FLAGS = 12,
    OFF_LEN = 16,
    OFF_RESERVED = 24,
    OFF_CRC = 28,     /* covers bytes 0..27 and the payload */
    MINOR_NOW = 1,    /* the minor version of files without 1.2's parts */
    MINOR_NEWEST = 2, /* the newest minor version this library reads */
    FLAG_OPT = 0x1,   /* section 5 present */
    FLAG_META = 0x2,  /* section 6 present */
    SETTINGS = 68,    /* latent, likelihood, beta, free bits, obs logvar, rng */
    S_LATENT = 0,
    S_LIKELIHOOD = 8,
    S_BETA = 12,
    S_RNG = 36,
    GRAPH_HDR = 8,    /* n_nodes, output */
    REC = 132,        /* one node record */
    R_OP = 0,
    R_INPUTS = 8,
    R_IATTR = 24,
    R_FATTR = 88,
    R_RANK = 96,
    R_SHAPE = 100,
    OPT_FIXED = 68,   /* lr .. clip_norm, decoupled, t, n */
    O_BETA1 = 8,
    O_T = 52,
    META_HDR = 8,     /* section 6: u64 length, then the bytes */
};

/* The test model: 6 -> dense 5 -> tanh -> head(2); 2 -> dense 4 -> leaky
 * relu 0.25 -> dense 6, Bernoulli. The leaky slope puts a float attribute
 * in the file. */
enum { D = 6, L = 2, B = 4, ENC_NODES = 3, DEC_NODES = 4 };
#define ENC0 (HDR + SETTINGS)                      /* encoder section */
#define DEC0 (ENC0 + GRAPH_HDR + ENC_NODES * REC)  /* decoder section */
#define PARAMS0 (DEC0 + GRAPH_HDR + DEC_NODES * REC) /* n_params field */
#define ENC_REC(i) (ENC0 + GRAPH_HDR + (i) * REC)
#define DEC_REC(i) (DEC0 + GRAPH_HDR + (i) * REC)

static char tmpdir[64];
static float X[B * D];

static vae_model *tiny(uint64_t seed)
{
    const tu_layer enc[] = {TU_DENSE(5), TU_ACT(VAE_OP_TANH)};
    const tu_layer dec[] = {TU_DENSE(4), TU_LEAKY(0.25f), TU_DENSE(D)};
    return tu_model(D, enc, TU_COUNT(enc), L, dec, TU_COUNT(dec),
                    VAE_LIKELIHOOD_BERNOULLI, seed);
}

static vae_adam *adam(vae_model *m)
{
    vae_adam *opt = NULL;
    char err[256] = "";
    assert_int_equal(vae_adam_new(m, 1e-2, &opt, err, sizeof err), VAE_OK);
    /* Non-default settings, so a load that forgot one would show. */
    assert_int_equal(vae_adam_set_betas(opt, 0.8, 0.99, 1e-7), VAE_OK);
    assert_int_equal(vae_adam_set_weight_decay(opt, 0.01, 1), VAE_OK);
    assert_int_equal(vae_adam_set_clip_norm(opt, 5.0), VAE_OK);
    return opt;
}

static void train(vae_model *m, vae_adam *opt, int steps)
{
    for (int i = 0; i < steps; i++)
        assert_int_equal(vae_model_train_step(m, opt, X, B, NULL, NULL, NULL),
                         VAE_OK);
}

/* A model (and optionally its optimizer) that has trained a little, with
 * non-default settings, so every saved field differs from a fresh model's. */
static vae_model *trained(uint64_t seed, vae_adam **opt_out)
{
    vae_model *m = tiny(seed);
    assert_int_equal(vae_model_set_beta(m, 0.75), VAE_OK);
    assert_int_equal(vae_model_set_free_bits(m, 0.125), VAE_OK);
    assert_int_equal(vae_model_set_obs_logvar(m, -0.5), VAE_OK);
    vae_adam *opt = adam(m);
    train(m, opt, 3);
    if (opt_out)
        *opt_out = opt;
    else
        vae_adam_free(opt);
    return m;
}

static const char *tmp_path(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

static void write_bytes(const char *path, const unsigned char *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

static unsigned char *read_bytes(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long size = ftell(fp);
    assert_true(size >= 0);
    rewind(fp);
    unsigned char *p = tu_alloc((size_t)size);
    assert_int_equal(fread(p, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);
    *n = (size_t)size;
    return p;
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* The temp file a save by this process would use (docs/file-format.md). */
static int temp_left(const char *path)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld.0", path, (long)getpid());
    return exists(tmp);
}

/* Test-side little-endian access, written from the documentation. */
static uint64_t rd_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void wr_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void wr_f32(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    wr_le(p, u, 4);
}

static void wr_f64(unsigned char *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    wr_le(p, u, 8);
}

/* The documented checksum: header bytes before the field, then the payload. */
static uint32_t file_crc(const unsigned char *buf, size_t len)
{
    return vae_crc32(vae_crc32(0, buf, OFF_CRC), buf + HDR, len - HDR);
}

/* Makes an edited image consistent again: length and checksum. */
static void reseal(unsigned char *buf, size_t len)
{
    wr_le(buf + OFF_LEN, len - HDR, 8);
    wr_le(buf + OFF_CRC, file_crc(buf, len), 4);
}

/* Loads buf and expects status `want`, no outputs and a message, which is
 * returned (valid until the next call). */
static const char *expect_reject(const unsigned char *buf, size_t len,
                                 int32_t want, const char *what)
{
    vae_model *m = (vae_model *)&m; /* garbage the loader must clear */
    vae_adam *opt = (vae_adam *)&opt;
    static char err[256];
    err[0] = '\0';
    int32_t st = vae_model_load_from_buffer(buf, len, &m, &opt, err, sizeof err);
    if (st != want)
        fail_msg("%s: status %d (%s), want %d; message: %s", what, (int)st,
                 vae_status_string(st), (int)want, err);
    assert_null(m);
    assert_null(opt);
    assert_true(err[0] != '\0');
    return err;
}

/* ---- Metadata helpers ---------------------------------------------------- */

/* An odd length, so nothing after the section could rely on alignment. */
enum { META_N = 37 };

/* n bytes from seed with a 0 among them: metadata is binary, not a
 * NUL-terminated string. */
static void meta_bytes(unsigned char *p, size_t n, uint64_t seed)
{
    tu_rng r;
    tu_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)tu_uniform(&r, 0, 256);
    p[n / 2] = 0;
}

/* Gives m the metadata meta_bytes(want, n, seed) from a scratch buffer that
 * is overwritten afterwards: the model must have kept its own copy. */
static void set_meta(vae_model *m, unsigned char *want, size_t n,
                     uint64_t seed)
{
    meta_bytes(want, n, seed);
    unsigned char *arg = tu_alloc(n);
    memcpy(arg, want, n);
    assert_int_equal(vae_model_set_metadata(m, arg, n), VAE_OK);
    memset(arg, 0xEE, n);
    free(arg);
}

/* m's metadata is exactly want[0..n-1]; n = 0: none at all. */
static void assert_meta(const vae_model *m, const unsigned char *want,
                        size_t n)
{
    size_t len = 12345;
    const void *got = vae_model_metadata(m, &len);
    assert_int_equal(len, n);
    if (n == 0) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_memory_equal(got, want, n);
}

/* ---- Equality of models and optimizers ---------------------------------- */

static void assert_same_graph(const vae_graph *a, const vae_graph *b)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->output, b->output);
    for (int32_t i = 0; i < a->n; i++) {
        const vae_node_spec *x = &a->nodes[i], *y = &b->nodes[i];
        assert_int_equal(x->op, y->op);
        assert_int_equal(x->n_inputs, y->n_inputs);
        assert_memory_equal(x->inputs, y->inputs, sizeof x->inputs);
        assert_memory_equal(x->iattr, y->iattr, sizeof x->iattr);
        assert_memory_equal(x->fattr, y->fattr, sizeof x->fattr);
        assert_int_equal(x->rank, y->rank);
        assert_memory_equal(x->shape, y->shape, sizeof x->shape);
        assert_int_equal(x->size, y->size);
        assert_int_equal(x->n_params, y->n_params);
    }
}

/* Same architecture, settings, weights, generator state and outputs. */
static void assert_same_model(vae_model *a, vae_model *b)
{
    assert_int_equal(vae_model_num_params(a), vae_model_num_params(b));
    assert_int_equal(vae_model_data_size(a), vae_model_data_size(b));
    assert_int_equal(vae_model_latent_dim(a), vae_model_latent_dim(b));
    assert_int_equal(a->likelihood, b->likelihood);
    assert_true(a->beta == b->beta);
    assert_true(a->free_bits == b->free_bits);
    assert_true(a->obs_logvar == b->obs_logvar);
    assert_same_graph(a->enc_graph, b->enc_graph);
    assert_same_graph(a->dec_graph, b->dec_graph);
    assert_memory_equal(vae_model_params(a), vae_model_params(b),
                        (size_t)vae_model_num_params(a) * sizeof(float));

    /* The generator continues the same stream without reseeding. */
    const int64_t lat = vae_model_latent_dim(a), d = vae_model_data_size(a);
    const size_t zbytes = 3 * (size_t)lat * sizeof(float);
    const size_t obytes = 3 * (size_t)d * sizeof(float);
    assert_int_equal(d, D); /* the size of the test batch X */
    float *za = tu_alloc(zbytes), *zb = tu_alloc(zbytes);
    float *oa = tu_alloc(obytes), *ob = tu_alloc(obytes);
    assert_int_equal(vae_model_sample(a, 3, za, oa), VAE_OK);
    assert_int_equal(vae_model_sample(b, 3, zb, ob), VAE_OK);
    assert_memory_equal(za, zb, zbytes);
    assert_memory_equal(oa, ob, obytes);

    /* Decoding a fixed z (not from either generator). */
    tu_rng r;
    tu_seed(&r, 123);
    for (int64_t i = 0; i < 3 * lat; i++)
        za[i] = (float)tu_normal(&r);
    assert_int_equal(vae_model_decode(a, za, 3, oa), VAE_OK);
    assert_int_equal(vae_model_decode(b, za, 3, ob), VAE_OK);
    assert_memory_equal(oa, ob, obytes);
    free(za);
    free(zb);
    free(oa);
    free(ob);

    double ea, ra, ka, eb, rb, kb;
    assert_int_equal(vae_model_set_seed(a, 99), VAE_OK);
    assert_int_equal(vae_model_set_seed(b, 99), VAE_OK);
    assert_int_equal(vae_model_elbo(a, X, B, &ea, &ra, &ka), VAE_OK);
    assert_int_equal(vae_model_elbo(b, X, B, &eb, &rb, &kb), VAE_OK);
    assert_true(ea == eb && ra == rb && ka == kb);

    /* beta and free bits act only on the gradient. */
    assert_int_equal(vae_model_set_seed(a, 7), VAE_OK);
    assert_int_equal(vae_model_set_seed(b, 7), VAE_OK);
    assert_int_equal(vae_model_zero_grad(a), VAE_OK);
    assert_int_equal(vae_model_zero_grad(b), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(a, X, B, NULL, NULL, NULL), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(b, X, B, NULL, NULL, NULL), VAE_OK);
    assert_memory_equal(vae_model_grads(a), vae_model_grads(b),
                        (size_t)vae_model_num_params(a) * sizeof(float));
}

static void assert_same_adam(const vae_adam *a, const vae_adam *b)
{
    assert_int_equal(a->n, b->n);
    assert_true(a->lr == b->lr && a->beta1 == b->beta1 &&
                a->beta2 == b->beta2 && a->eps == b->eps &&
                a->weight_decay == b->weight_decay &&
                a->clip_norm == b->clip_norm);
    assert_int_equal(a->decoupled, b->decoupled);
    assert_int_equal(vae_adam_steps(a), vae_adam_steps(b));
    assert_memory_equal(a->m, b->m, (size_t)a->n * sizeof(float));
    assert_memory_equal(a->v, b->v, (size_t)a->n * sizeof(float));
}

/* Saves and loads back, through a file or through memory. */
static void reload(vae_model *m, const vae_adam *opt, int via_file,
                   vae_model **out, vae_adam **opt_out)
{
    char err[256] = "";
    int32_t st;
    if (via_file) {
        const char *path = tmp_path("reload.vae");
        assert_int_equal(vae_model_save(m, opt, path), VAE_OK);
        assert_false(temp_left(path));
        st = vae_model_load(path, out, opt_out, err, sizeof err);
    } else {
        size_t len = 0;
        unsigned char *buf = tu_save_image(m, opt, &len);
        st = vae_model_load_from_buffer(buf, len, out, opt_out, err, sizeof err);
        free(buf);
    }
    if (st != VAE_OK)
        fail_msg("reload: %s: %s", vae_status_string(st), err);
    assert_non_null(*out);
}

/* ---- Round trips ------------------------------------------------------- */

static void roundtrip(int via_file)
{
    vae_model *a = trained(1, NULL);
    vae_model *b = NULL;
    vae_adam *opt = (vae_adam *)&opt;
    reload(a, NULL, via_file, &b, &opt);
    assert_null(opt); /* saved without an optimizer */
    assert_same_model(a, b);
    vae_model_free(a);
    vae_model_free(b);
}

static void test_roundtrip_file(void **state)
{
    (void)state;
    roundtrip(1);
}

static void test_roundtrip_memory(void **state)
{
    (void)state;
    roundtrip(0);
}

/* Resuming from a checkpoint continues training exactly as if there had been
 * no interruption. */
static void optimizer_roundtrip(int via_file)
{
    vae_adam *opt_a = NULL;
    vae_model *a = trained(2, &opt_a);
    vae_model *b = NULL;
    vae_adam *opt_b = NULL;
    reload(a, opt_a, via_file, &b, &opt_b);
    assert_non_null(opt_b);
    assert_same_adam(opt_a, opt_b);
    assert_int_equal(vae_adam_steps(opt_b), 3);

    /* assert_same_model moves the generators; restore them identically. */
    assert_int_equal(vae_model_set_seed(a, 5), VAE_OK);
    assert_int_equal(vae_model_set_seed(b, 5), VAE_OK);
    train(a, opt_a, 2);
    train(b, opt_b, 2);
    assert_memory_equal(vae_model_params(a), vae_model_params(b),
                        (size_t)vae_model_num_params(a) * sizeof(float));
    assert_same_adam(opt_a, opt_b);
    assert_int_equal(vae_adam_steps(opt_b), 5);
    vae_adam_free(opt_a);
    vae_adam_free(opt_b);
    vae_model_free(a);
    vae_model_free(b);
}

static void test_optimizer_roundtrip_file(void **state)
{
    (void)state;
    optimizer_roundtrip(1);
}

static void test_optimizer_roundtrip_memory(void **state)
{
    (void)state;
    optimizer_roundtrip(0);
}

/* The generator state is saved as is: a checkpoint taken mid-stream resumes
 * the same random numbers, and so the same training trajectory. */
static void test_resume_without_reseeding(void **state)
{
    (void)state;
    vae_adam *opt_a = NULL;
    vae_model *a = trained(3, &opt_a);
    size_t len = 0;
    unsigned char *buf = tu_save_image(a, opt_a, &len);
    vae_model *b = NULL;
    vae_adam *opt_b = NULL;
    assert_int_equal(vae_model_load_from_buffer(buf, len, &b, &opt_b, NULL, 0),
                     VAE_OK);
    train(a, opt_a, 2);
    train(b, opt_b, 2);
    assert_memory_equal(vae_model_params(a), vae_model_params(b),
                        (size_t)vae_model_num_params(a) * sizeof(float));
    free(buf);
    vae_adam_free(opt_a);
    vae_adam_free(opt_b);
    vae_model_free(a);
    vae_model_free(b);
}

/* A file with an optimizer also loads when the caller does not want it. */
static void test_optimizer_not_requested(void **state)
{
    (void)state;
    vae_adam *opt = NULL;
    vae_model *a = trained(4, &opt);
    size_t len = 0;
    unsigned char *buf = tu_save_image(a, opt, &len);
    vae_model *b = NULL;
    assert_int_equal(vae_model_load_from_buffer(buf, len, &b, NULL, NULL, 0),
                     VAE_OK);
    assert_memory_equal(vae_model_params(a), vae_model_params(b),
                        (size_t)vae_model_num_params(a) * sizeof(float));
    free(buf);
    vae_adam_free(opt);
    vae_model_free(a);
    vae_model_free(b);
}

/* Every likelihood survives a round trip; the decoder's rank-2 input (1 x
 * latent) puts multi-axis shapes into the node records. */
static void test_roundtrip_likelihoods(void **state)
{
    (void)state;
    const int32_t kinds[] = {VAE_LIKELIHOOD_BERNOULLI,
                             VAE_LIKELIHOOD_GAUSSIAN_FIXED,
                             VAE_LIKELIHOOD_GAUSSIAN_LEARNED};
    for (int k = 0; k < 3; k++) {
        vae_graph *ge = NULL, *gd = NULL;
        const int64_t data = D, lat = 3, zdims[2] = {1, lat};
        assert_int_equal(vae_graph_new(&ge), VAE_OK);
        int32_t x = vae_graph_input(ge, &data, 1);
        x = vae_graph_dense(ge, x, 4);
        x = vae_graph_softplus(ge, x);
        assert_true(x >= 0);
        assert_int_equal(vae_graph_set_output(ge, x), VAE_OK);
        assert_int_equal(vae_graph_new(&gd), VAE_OK);
        int32_t z = vae_graph_input(gd, zdims, 2);
        z = vae_graph_relu(gd, vae_graph_dense(gd, z, 5));
        z = vae_graph_dense(gd, z, kinds[k] == VAE_LIKELIHOOD_GAUSSIAN_LEARNED
                                       ? 2 * D : D);
        assert_true(z >= 0);
        assert_int_equal(vae_graph_set_output(gd, z), VAE_OK);
        vae_model *a = NULL, *b = NULL;
        char err[256] = "";
        int32_t st = vae_model_new(ge, gd, lat, kinds[k], 11, &a, err, sizeof err);
        vae_graph_free(ge);
        vae_graph_free(gd);
        if (st != VAE_OK)
            fail_msg("likelihood %d: %s", (int)kinds[k], err);
        assert_int_equal(vae_model_set_obs_logvar(a, 0.3), VAE_OK);
        reload(a, NULL, k == 1, &b, NULL);
        assert_same_model(a, b);
        vae_model_free(a);
        vae_model_free(b);
    }
}

/* A convolutional model round-trips: conv, transposed conv, reshape and
 * flatten records (their attributes and multi-axis shapes) rebuild the same
 * graph, and a loaded model computes the same ELBO and gradient. */
static void test_roundtrip_conv(void **state)
{
    (void)state;
    const int64_t img[3] = {1, 8, 8}, lat = 2, grid[3] = {2, 4, 4};
    vae_graph *ge = NULL, *gd = NULL;
    assert_int_equal(vae_graph_new(&ge), VAE_OK);
    int32_t x = vae_graph_input(ge, img, 3);
    x = vae_graph_relu(ge, vae_graph_conv2d(ge, x, 3, 3, 2, 1));
    x = vae_graph_flatten(ge, x);
    assert_int_equal(vae_graph_set_output(ge, x), VAE_OK);
    assert_int_equal(vae_graph_new(&gd), VAE_OK);
    int32_t z = vae_graph_input(gd, &lat, 1);
    z = vae_graph_reshape(gd, vae_graph_dense(gd, z, 32), grid, 3);
    z = vae_graph_conv2d_transpose(gd, z, 1, 4, 2, 1);
    assert_int_equal(vae_graph_set_output(gd, z), VAE_OK);
    vae_model *a = NULL, *b = NULL;
    char err[256] = "";
    int32_t st = vae_model_new(ge, gd, lat, VAE_LIKELIHOOD_BERNOULLI, 3, &a,
                               err, sizeof err);
    vae_graph_free(ge);
    vae_graph_free(gd);
    if (st != VAE_OK)
        fail_msg("conv model: %s", err);
    reload(a, NULL, 1, &b, NULL);
    /* assert_same_model's checks use the 6-element test data; here the
     * graphs and parameters are compared, then outputs on 8x8 images. */
    assert_same_graph(a->enc_graph, b->enc_graph);
    assert_same_graph(a->dec_graph, b->dec_graph);
    assert_memory_equal(vae_model_params(a), vae_model_params(b),
                        (size_t)vae_model_num_params(a) * sizeof(float));

    float xs[2 * 64];
    for (int i = 0; i < 2 * 64; i++)
        xs[i] = (float)((i * 37) % 11) / 10.0f;
    double ea, eb;
    assert_int_equal(vae_model_set_seed(a, 9), VAE_OK);
    assert_int_equal(vae_model_set_seed(b, 9), VAE_OK);
    assert_int_equal(vae_model_zero_grad(a), VAE_OK);
    assert_int_equal(vae_model_zero_grad(b), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(a, xs, 2, &ea, NULL, NULL), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(b, xs, 2, &eb, NULL, NULL), VAE_OK);
    assert_true(ea == eb);
    assert_memory_equal(vae_model_grads(a), vae_model_grads(b),
                        (size_t)vae_model_num_params(a) * sizeof(float));
    vae_model_free(a);
    vae_model_free(b);
}

/* Metadata survives a save and load through a file or memory, next to an
 * optimizer; the loaded model owns its copy; the loaded model saves to the
 * very same bytes, and saving twice gives the same file. */
static void metadata_roundtrip(int via_file)
{
    vae_adam *opt_a = NULL;
    vae_model *a = trained(30, &opt_a);
    unsigned char want[META_N];
    set_meta(a, want, META_N, 301);
    size_t len = 0;
    unsigned char *first = tu_save_image(a, opt_a, &len);

    vae_model *b = NULL;
    vae_adam *opt_b = NULL;
    reload(a, opt_a, via_file, &b, &opt_b);
    assert_meta(b, want, META_N);
    assert_non_null(opt_b);
    assert_same_adam(opt_a, opt_b);
    size_t len_b = 0;
    unsigned char *again = tu_save_image(b, opt_b, &len_b);
    assert_int_equal(len_b, len);
    assert_memory_equal(again, first, len);
    free(again);

    if (via_file) {
        const char *path = tmp_path("reload.vae");
        for (int k = 0; k < 2; k++) {
            assert_int_equal(vae_model_save(a, opt_a, path), VAE_OK);
            size_t flen = 0;
            unsigned char *f = read_bytes(path, &flen);
            assert_int_equal(flen, len);
            assert_memory_equal(f, first, len);
            free(f);
        }
    } else {
        again = tu_save_image(a, opt_a, &len_b);
        assert_int_equal(len_b, len);
        assert_memory_equal(again, first, len);
        free(again);
    }

    assert_same_model(a, b);
    vae_adam_free(opt_a);
    vae_model_free(a);
    assert_meta(b, want, META_N); /* not a view of a's bytes */
    free(first);
    vae_adam_free(opt_b);
    vae_model_free(b);
}

static void test_metadata_roundtrip_file(void **state)
{
    (void)state;
    metadata_roundtrip(1);
}

static void test_metadata_roundtrip_memory(void **state)
{
    (void)state;
    metadata_roundtrip(0);
}

/* Without metadata there is no section 6 and flag bit 1 is clear; a model
 * loads without metadata; clearing metadata restores the bytes a model that
 * never had any saves. One byte is the shortest metadata. */
static void test_metadata_absent(void **state)
{
    (void)state;
    vae_adam *opt = NULL;
    vae_model *m = trained(31, &opt);
    for (int with_opt = 0; with_opt < 2; with_opt++) {
        const vae_adam *o = with_opt ? opt : NULL;
        size_t len = 0, len2 = 0;
        unsigned char *plain = tu_save_image(m, o, &len);
        assert_int_equal(rd_le(plain + OFF_FLAGS, 4),
                         (uint64_t)(with_opt ? FLAG_OPT : 0));
        vae_model *b = NULL;
        assert_int_equal(vae_model_load_from_buffer(plain, len, &b, NULL,
                                                    NULL, 0), VAE_OK);
        assert_meta(b, NULL, 0);
        vae_model_free(b);

        unsigned char one[1];
        set_meta(m, one, 1, 311);
        unsigned char *with = tu_save_image(m, o, &len2);
        assert_int_equal(len2, len + META_HDR + 1);
        assert_int_equal(rd_le(with + OFF_FLAGS, 4),
                         (uint64_t)(with_opt ? FLAG_OPT | FLAG_META
                                             : FLAG_META));
        assert_int_equal(vae_model_load_from_buffer(with, len2, &b, NULL,
                                                    NULL, 0), VAE_OK);
        assert_meta(b, one, 1);
        vae_model_free(b);
        free(with);

        /* Both ways of clearing: NULL or a pointer, with length 0. */
        assert_int_equal(vae_model_set_metadata(m, with_opt ? one : NULL, 0),
                         VAE_OK);
        assert_meta(m, NULL, 0);
        with = tu_save_image(m, o, &len2);
        assert_int_equal(len2, len);
        assert_memory_equal(with, plain, len);
        free(with);
        free(plain);
    }
    vae_adam_free(opt);
    vae_model_free(m);
}

/* The setter's contract (include/vae.h): a copy, at most VAE_METADATA_MAX
 * bytes, and a failed call changes nothing. */
static void test_set_metadata_errors(void **state)
{
    (void)state;
    vae_model *m = tiny(32);
    unsigned char want[META_N], other[4] = {1, 2, 3, 4};
    size_t len = 7;
    assert_int_equal(vae_model_set_metadata(NULL, other, 4),
                     VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_set_metadata(NULL, NULL, 0),
                     VAE_ERR_INVALID_ARG);
    assert_null(vae_model_metadata(NULL, &len));
    assert_int_equal(len, 0);
    assert_null(vae_model_metadata(m, NULL)); /* len may be NULL */

    set_meta(m, want, META_N, 321);
    assert_int_equal(vae_model_set_metadata(m, NULL, 5), VAE_ERR_INVALID_ARG);
    assert_true(vae_model_last_error(m)[0] != '\0');
    assert_meta(m, want, META_N);
    assert_int_equal(vae_model_set_metadata(m, other, VAE_METADATA_MAX + 1),
                     VAE_ERR_RANGE);
    assert_meta(m, want, META_N);
    assert_int_equal(vae_model_set_metadata(m, other, SIZE_MAX),
                     VAE_ERR_RANGE);
    assert_meta(m, want, META_N);

    /* Replacing, then clearing. */
    assert_int_equal(vae_model_set_metadata(m, other, 4), VAE_OK);
    assert_meta(m, other, 4);
    assert_int_equal(vae_model_set_metadata(m, NULL, 0), VAE_OK);
    assert_meta(m, NULL, 0);
    vae_model_free(m);
}

/* A text model uses every op code 1.1 added (data, embedding and a shared
 * embedding, lstm with init and mask, repeat, concat, shift right, token
 * dropout) and the categorical likelihood; its records, parameter count and
 * computations survive a round trip. Sizes from docs/file-format.md. */
enum { ST = 5, SV = 7, SE = 3, SH = 4, SL = 2, SB = 3 };
/* Node ids of the text graphs below. */
enum { SENC_EMB = 1, SENC_LSTM = 2, SDEC_EMB = 4, SDEC_LSTM = 8 };

static vae_model *text_model(uint64_t seed)
{
    const int64_t t = ST, l = SL;
    vae_graph *ge = NULL, *gd = NULL;
    assert_int_equal(vae_graph_new(&ge), VAE_OK);
    int32_t x = vae_graph_input(ge, &t, 1);
    int32_t h = vae_graph_lstm(ge, vae_graph_embedding(ge, x, SV, SE), SH, -1,
                               x, 0);
    assert_int_equal(h, SENC_LSTM);
    assert_int_equal(vae_graph_set_output(ge, h), VAE_OK);

    assert_int_equal(vae_graph_new(&gd), VAE_OK);
    int32_t z = vae_graph_input(gd, &l, 1);
    int32_t d = vae_graph_data(gd, &t, 1);
    int32_t in = vae_graph_token_dropout(gd, vae_graph_shift_right(gd, d, 1.0f),
                                         0.25f, 2.0f);
    int32_t e = vae_graph_embedding_shared(gd, in, SV, SE);
    assert_int_equal(e, SDEC_EMB);
    int32_t cat = vae_graph_concat(gd, e, vae_graph_repeat(gd, z, ST));
    int32_t init = vae_graph_dense(gd, z, 2 * SH);
    int32_t y = vae_graph_lstm(gd, cat, SH, init, d, 1);
    assert_int_equal(y, SDEC_LSTM);
    assert_int_equal(vae_graph_set_output(gd, vae_graph_dense(gd, y, SV)),
                     VAE_OK);
    vae_model *m = NULL;
    char err[256] = "";
    int32_t st = vae_model_new(ge, gd, SL, VAE_LIKELIHOOD_CATEGORICAL, seed,
                               &m, err, sizeof err);
    vae_graph_free(ge);
    vae_graph_free(gd);
    if (st != VAE_OK)
        fail_msg("text model: %s", err);
    return m;
}

/* Sentences of ids in 1..SV-1, padded with 0 at the end. */
static void text_batch(float *x)
{
    const int lens[SB] = {ST, 3, 1};
    tu_rng r;
    tu_seed(&r, 55);
    for (int b = 0; b < SB; b++)
        for (int t = 0; t < ST; t++)
            x[b * ST + t] = t < lens[b] ? (float)(int)tu_uniform(&r, 1, SV)
                                        : 0.0f;
}

static void test_roundtrip_sequence_ops(void **state)
{
    (void)state;
    vae_model *a = text_model(40);
    unsigned char want[META_N];
    set_meta(a, want, META_N, 401);
    /* Encoder: embedding, lstm (F = SE), head; decoder: shared embedding
     * (no block), dense init, lstm (F = SE + SL), dense to logits. */
    const int64_t lstm_enc = 4 * SH * (SE + SH) + 8 * SH;
    const int64_t lstm_dec = 4 * SH * (SE + SL + SH) + 8 * SH;
    assert_int_equal(vae_model_num_params(a),
                     SV * SE + lstm_enc + 2 * SL * (SH + 1) +
                         2 * SH * (SL + 1) + lstm_dec + SV * (SH + 1));

    size_t len = 0;
    unsigned char *buf = tu_save_image(a, NULL, &len);
    const size_t enc_nodes = rd_le(buf + ENC0, 4);
    const size_t dec0 = ENC0 + GRAPH_HDR + enc_nodes * REC;
    const size_t lstm_rec = ENC_REC(SENC_LSTM), emb_rec = dec0 + GRAPH_HDR +
                                                          SDEC_EMB * REC;
    assert_int_equal(rd_le(buf + lstm_rec + R_OP, 4), VAE_OP_LSTM);
    assert_int_equal(rd_le(buf + lstm_rec + R_IATTR + 4 * 8, 8), ST);
    assert_int_equal(rd_le(buf + emb_rec + R_OP, 4), VAE_OP_EMBEDDING);
    assert_int_equal(rd_le(buf + emb_rec + R_IATTR + 2 * 8, 8), 1);
    assert_int_equal(rd_le(buf + dec0 + GRAPH_HDR + SDEC_LSTM * REC + 4, 4),
                     3); /* x, init, mask */

    vae_model *b = NULL;
    char err[256] = "";
    if (vae_model_load_from_buffer(buf, len, &b, NULL, err, sizeof err) !=
        VAE_OK)
        fail_msg("text model: %s", err);
    assert_same_graph(a->enc_graph, b->enc_graph);
    assert_same_graph(a->dec_graph, b->dec_graph);
    assert_int_equal(b->likelihood, VAE_LIKELIHOOD_CATEGORICAL);
    assert_memory_equal(vae_model_params(a), vae_model_params(b),
                        (size_t)vae_model_num_params(a) * sizeof(float));
    assert_meta(b, want, META_N);

    /* Word dropout draws from the generator: same seed, same gradient. */
    float x[SB * ST];
    text_batch(x);
    double ea, eb;
    assert_int_equal(vae_model_set_seed(a, 4), VAE_OK);
    assert_int_equal(vae_model_set_seed(b, 4), VAE_OK);
    assert_int_equal(vae_model_zero_grad(a), VAE_OK);
    assert_int_equal(vae_model_zero_grad(b), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(a, x, SB, &ea, NULL, NULL), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(b, x, SB, &eb, NULL, NULL), VAE_OK);
    assert_true(ea == eb);
    assert_memory_equal(vae_model_grads(a), vae_model_grads(b),
                        (size_t)vae_model_num_params(a) * sizeof(float));

    /* The documented record rules, behind a valid checksum: the lstm's
     * recorded T must match its input, and unsharing the decoder's
     * embedding asks for a table the file does not hold. */
    unsigned char *e = tu_alloc(len);
    const struct {
        const char *what;
        size_t off;
        uint64_t value;
    } edits[] = {
        {"lstm T + 1", lstm_rec + R_IATTR + 4 * 8, ST + 1},
        {"lstm has_mask 0", lstm_rec + R_IATTR + 3 * 8, 0},
        {"embedding unshared", emb_rec + R_IATTR + 2 * 8, 0},
        {"embedding shared 2", emb_rec + R_IATTR + 2 * 8, 2},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        memcpy(e, buf, len);
        wr_le(e + edits[i].off, edits[i].value, 8);
        reseal(e, len);
        expect_reject(e, len, VAE_ERR_FORMAT, edits[i].what);
    }
    free(e);
    free(buf);
    vae_model_free(a);
    vae_model_free(b);
}

/* ---- The documented bytes ---------------------------------------------- */

static void test_crc32_check_value(void **state)
{
    (void)state;
    /* The published check value of CRC-32/ISO-HDLC (zlib, PNG). */
    assert_int_equal(vae_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(vae_crc32(vae_crc32(0, "1234", 4), "56789", 5),
                     0xCBF43926u);
    assert_int_equal(vae_crc32(0, "", 0), 0);
}

/* The header and the first fields decode as the documentation says, and the
 * size follows the documented section sizes, with and without the optional
 * sections: the metadata section comes last, after the optimizer. */
static void test_layout(void **state)
{
    (void)state;
    vae_adam *opt = NULL;
    vae_model *m = trained(5, &opt);
    int64_t n = vae_model_num_params(m);
    assert_int_equal(n, (6 * 5 + 5) + (5 * 4 + 4) + (2 * 4 + 4) + (4 * 6 + 6));
    unsigned char meta[META_N];

    for (int sections = 0; sections < 4; sections++) {
        const int with_opt = sections & 1, with_meta = sections >> 1;
        if (with_meta)
            set_meta(m, meta, META_N, 51);
        else
            assert_int_equal(vae_model_set_metadata(m, NULL, 0), VAE_OK);
        size_t len = 0;
        unsigned char *buf = tu_save_image(m, with_opt ? opt : NULL, &len);
        size_t want = (size_t)PARAMS0 + 8 + 4 * (size_t)n;
        if (with_opt)
            want += OPT_FIXED + 8 * (size_t)n;
        const size_t meta0 = want;
        if (with_meta)
            want += META_HDR + META_N;
        assert_int_equal(len, want);
        if (with_meta) {
            assert_int_equal(rd_le(buf + meta0, 8), META_N);
            assert_memory_equal(buf + meta0 + META_HDR, meta, META_N);
        }
        const unsigned char magic[8] = {0x89, 'V', 'A', 'E', 0x0D, 0x0A, 0x1A,
                                        0x0A};
        assert_memory_equal(buf, magic, 8);
        assert_int_equal(rd_le(buf + OFF_MAJOR, 2), 1);
        assert_int_equal(rd_le(buf + OFF_MINOR, 2), MINOR_NOW);
        assert_int_equal(rd_le(buf + OFF_FLAGS, 4),
                         (uint64_t)((with_opt ? FLAG_OPT : 0) |
                                    (with_meta ? FLAG_META : 0)));
        assert_int_equal(rd_le(buf + OFF_LEN, 8), len - HDR);
        assert_int_equal(rd_le(buf + OFF_CRC, 4), file_crc(buf, len));
        assert_int_equal(rd_le(buf + OFF_RESERVED, 4), 0);
        assert_int_equal(rd_le(buf + HDR + S_LATENT, 8), L);
        assert_int_equal(rd_le(buf + HDR + S_LIKELIHOOD, 4),
                         VAE_LIKELIHOOD_BERNOULLI);
        assert_int_equal(rd_le(buf + ENC0, 4), ENC_NODES);
        assert_int_equal(rd_le(buf + ENC0 + 4, 4), ENC_NODES - 1);
        assert_int_equal(rd_le(buf + ENC_REC(0) + R_OP, 4), VAE_OP_INPUT);
        assert_int_equal(rd_le(buf + ENC_REC(0) + R_IATTR, 8), 1);     /* rank */
        assert_int_equal(rd_le(buf + ENC_REC(0) + R_IATTR + 8, 8), D); /* dim */
        assert_int_equal(rd_le(buf + ENC_REC(1) + R_OP, 4), VAE_OP_DENSE);
        assert_int_equal(rd_le(buf + ENC_REC(1) + R_IATTR, 8), 5);
        assert_int_equal(rd_le(buf + ENC_REC(1) + R_RANK, 4), 1);
        assert_int_equal(rd_le(buf + ENC_REC(1) + R_SHAPE, 8), 5);
        assert_int_equal(rd_le(buf + DEC_REC(2) + R_OP, 4), VAE_OP_LEAKY_RELU);
        assert_int_equal(rd_le(buf + DEC_REC(2) + R_FATTR, 4), 0x3E800000u);
        assert_int_equal(rd_le(buf + PARAMS0, 8), (uint64_t)n);
        uint32_t p0;
        memcpy(&p0, vae_model_params(m), 4);
        assert_int_equal(rd_le(buf + PARAMS0 + 8, 4), p0);
        if (with_opt)
            assert_int_equal(rd_le(buf + PARAMS0 + 8 + 4 * n + O_T, 8), 3);
        free(buf);
    }
    vae_adam_free(opt);
    vae_model_free(m);
}

/* File and buffer hold the same bytes; saving twice gives the same bytes;
 * a save replaces an existing file. */
static void test_file_equals_buffer(void **state)
{
    (void)state;
    vae_adam *opt = NULL;
    vae_model *m = trained(6, &opt);
    vae_model *other = tiny(77);
    const char *path = tmp_path("same.vae");
    assert_int_equal(vae_model_save(other, NULL, path), VAE_OK);
    assert_int_equal(vae_model_save(m, opt, path), VAE_OK);
    size_t flen = 0, blen = 0;
    unsigned char *f = read_bytes(path, &flen);
    unsigned char *b = tu_save_image(m, opt, &blen);
    assert_int_equal(flen, blen);
    assert_memory_equal(f, b, blen);
    free(f);
    free(b);
    vae_adam_free(opt);
    vae_model_free(m);
    vae_model_free(other);
}

/* A bare file name saves into and loads from the working directory. */
static void test_relative_path(void **state)
{
    (void)state;
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(tmpdir), 0);
    vae_model *m = tiny(22), *b = NULL;
    int32_t st = vae_model_save(m, NULL, "rel.vae");
    int32_t ld = vae_model_load("rel.vae", &b, NULL, NULL, 0);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(st, VAE_OK);
    assert_int_equal(ld, VAE_OK);
    assert_memory_equal(vae_model_params(m), vae_model_params(b),
                        (size_t)vae_model_num_params(m) * sizeof(float));
    vae_model_free(m);
    vae_model_free(b);
}

/* ---- Damaged images ---------------------------------------------------- */

/* Every cut of a valid image is refused, through memory and files. */
static void check_truncations(const unsigned char *buf, size_t len)
{
    for (size_t n = 0; n < len; n++)
        expect_reject(buf, n, VAE_ERR_FORMAT, "truncated buffer");

    /* Files: a dense sample of lengths, both ends included. */
    const char *path = tmp_path("truncated.vae");
    for (size_t n = 0; n < len; n += (n < 40 || n + 40 > len) ? 1 : 29) {
        write_bytes(path, buf, n);
        vae_model *out = (vae_model *)&out;
        char err[256] = "";
        int32_t st = vae_model_load(path, &out, NULL, err, sizeof err);
        if (st != VAE_ERR_FORMAT)
            fail_msg("file truncated to %zu: status %d: %s", n, (int)st, err);
        assert_null(out);
        assert_non_null(strstr(err, path));
    }

    /* Truncated with length and checksum made consistent: the parser's own
     * bounds checks must catch every cut. */
    unsigned char *cut = tu_alloc(len);
    for (size_t n = HDR; n < len; n++) {
        memcpy(cut, buf, n);
        reseal(cut, n);
        expect_reject(cut, n, VAE_ERR_FORMAT, "resealed truncation");
    }
    free(cut);
}

/* The damage tests run on a file with an optimizer, and again with
 * metadata after it, so that section's bounds are covered too. */
static unsigned char *damage_subject(uint64_t seed, int with_meta,
                                     size_t *len)
{
    vae_adam *opt = NULL;
    vae_model *m = trained(seed, &opt);
    unsigned char meta[META_N];
    if (with_meta)
        set_meta(m, meta, META_N, seed);
    unsigned char *buf = tu_save_image(m, opt, len);
    vae_adam_free(opt);
    vae_model_free(m);
    return buf;
}

static void test_truncated(void **state)
{
    (void)state;
    for (int with_meta = 0; with_meta < 2; with_meta++) {
        size_t len = 0;
        unsigned char *buf = damage_subject(7, with_meta, &len);
        check_truncations(buf, len);
        free(buf);
    }
}

/* CRC-32 detects every single-bit error; header fields read before the
 * checksum is verified (magic, version, flags, length) are checked on their
 * own. */
static void test_bit_flips(void **state)
{
    (void)state;
    for (int with_meta = 0; with_meta < 2; with_meta++) {
        size_t len = 0;
        unsigned char *buf = damage_subject(8, with_meta, &len);
        unsigned char *bad = tu_alloc(len);
        for (size_t i = 0; i < len; i++) {
            for (int bit = 0; bit < 8; bit++) {
                memcpy(bad, buf, len);
                bad[i] ^= (unsigned char)(1u << bit);
                vae_model *out = (vae_model *)&out;
                vae_adam *o = (vae_adam *)&o;
                int32_t st = vae_model_load_from_buffer(bad, len, &out, &o,
                                                        NULL, 0);
                if (st != VAE_ERR_FORMAT && st != VAE_ERR_VERSION)
                    fail_msg("flip of bit %d in byte %zu (metadata %d): "
                             "status %d", bit, i, with_meta, (int)st);
                assert_null(out);
                assert_null(o);
            }
        }
        free(bad);
        free(buf);
    }
}

/* A header that claims more bytes than exist is refused from the header
 * alone: the result is a format error, not an attempt to allocate. */
static void test_oversized_header(void **state)
{
    (void)state;
    vae_model *m = trained(9, NULL);
    size_t len = 0;
    unsigned char *buf = tu_save_image(m, NULL, &len);
    const uint64_t claims[] = {(uint64_t)1 << 62, UINT64_MAX, len - HDR + 1};
    const char *path = tmp_path("huge.vae");
    for (int i = 0; i < 3; i++) {
        unsigned char *big = tu_alloc(len);
        memcpy(big, buf, len);
        wr_le(big + OFF_LEN, claims[i], 8);
        expect_reject(big, len, VAE_ERR_FORMAT, "oversized header (buffer)");
        write_bytes(path, big, HDR); /* header alone */
        char err[256] = "";
        vae_model *out = NULL;
        assert_int_equal(vae_model_load(path, &out, NULL, err, sizeof err),
                         VAE_ERR_FORMAT);
        assert_null(out);
        write_bytes(path, big, len);
        assert_int_equal(vae_model_load(path, &out, NULL, err, sizeof err),
                         VAE_ERR_FORMAT);
        free(big);
    }
    free(buf);
    vae_model_free(m);
}

/* Counts inside a consistent (resealed) payload that exceed the data, or
 * describe an architecture far larger than the stored weights: refused as
 * format errors before anything is sized by them. */
static void test_oversized_counts(void **state)
{
    (void)state;
    vae_model *m = trained(10, NULL);
    size_t len = 0;
    unsigned char *buf = tu_save_image(m, NULL, &len);
    unsigned char *e = tu_alloc(len);

    const struct {
        size_t off;
        int bytes;
        uint64_t value;
    } edits[] = {
        {ENC0, 4, VAE_MAX_NODES},           /* more records than bytes */
        {ENC0, 4, 0xFFFFFFFFu},             /* beyond the node limit */
        {ENC0, 4, 0},                       /* empty graph */
        {DEC0, 4, 1000},
        {PARAMS0, 8, (uint64_t)1 << 61},    /* more floats than bytes */
        {PARAMS0, 8, UINT64_MAX},
        {HDR + S_LATENT, 8, (uint64_t)1 << 40},
        {HDR + S_LATENT, 8, UINT64_MAX},    /* -1 */
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        memcpy(e, buf, len);
        wr_le(e + edits[i].off, edits[i].value, edits[i].bytes);
        reseal(e, len);
        expect_reject(e, len, VAE_ERR_FORMAT, "oversized count");
    }

    /* A 2^30-unit encoder layer, records made self-consistent (dense and
     * tanh shapes): the graphs rebuild fine but need ~2^33 parameters while
     * the file holds 101, so loading stops before the model allocates. */
    memcpy(e, buf, len);
    wr_le(e + ENC_REC(1) + R_IATTR, (uint64_t)1 << 30, 8);
    wr_le(e + ENC_REC(1) + R_SHAPE, (uint64_t)1 << 30, 8);
    wr_le(e + ENC_REC(2) + R_SHAPE, (uint64_t)1 << 30, 8);
    reseal(e, len);
    expect_reject(e, len, VAE_ERR_FORMAT, "huge layer");
    free(e);
    free(buf);
    vae_model_free(m);
}

static void test_bad_magic_and_version(void **state)
{
    (void)state;
    vae_model *m = trained(11, NULL);
    size_t len = 0;
    unsigned char *buf = tu_save_image(m, NULL, &len);
    unsigned char *e = tu_alloc(len);

    memcpy(e, buf, len);
    memcpy(e, "PK\x03\x04", 4);
    expect_reject(e, len, VAE_ERR_FORMAT, "bad magic");

    memcpy(e, buf, len);
    wr_le(e + OFF_MAJOR, 2, 2);
    expect_reject(e, len, VAE_ERR_VERSION, "major version 2");
    memcpy(e, buf, len);
    wr_le(e + OFF_MAJOR, 0, 2);
    expect_reject(e, len, VAE_ERR_VERSION, "major version 0");

    /* A newer minor version is readable when it uses no unknown feature. */
    memcpy(e, buf, len);
    wr_le(e + OFF_MINOR, 7, 2);
    reseal(e, len);
    vae_model *out = NULL;
    assert_int_equal(vae_model_load_from_buffer(e, len, &out, NULL, NULL, 0),
                     VAE_OK);
    vae_model_free(out);
    /* Flags 0, 1 and 2 are known (1.2); every other bit is a newer
     * feature, refused before the checksum is looked at. */
    memcpy(e, buf, len);
    wr_le(e + OFF_FLAGS, 0x8, 4);
    expect_reject(e, len, VAE_ERR_VERSION, "unknown flag, stale checksum");
    for (int bit = 3; bit < 32; bit++) {
        memcpy(e, buf, len);
        wr_le(e + OFF_FLAGS, (uint64_t)1 << bit, 4);
        reseal(e, len);
        expect_reject(e, len, VAE_ERR_VERSION, "unknown flag");
    }

    /* An op or likelihood code this library lacks: from a newer minor
     * version it is a version problem, in a file of 1.0 to 1.2 damage. */
    const struct {
        const char *what;
        size_t off;
        uint64_t code;
    } codes[] = {
        {"unknown op", ENC_REC(2) + R_OP, VAE_OP_COUNT_},
        {"unknown likelihood", HDR + S_LIKELIHOOD,
         VAE_LIKELIHOOD_CATEGORICAL + 1},
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        for (int minor = 0; minor <= MINOR_NEWEST + 1; minor++) {
            memcpy(e, buf, len);
            wr_le(e + codes[i].off, codes[i].code, 4);
            wr_le(e + OFF_MINOR, (uint64_t)minor, 2);
            reseal(e, len);
            expect_reject(e, len, minor > MINOR_NEWEST ? VAE_ERR_VERSION
                                                       : VAE_ERR_FORMAT,
                          codes[i].what);
        }
    }

    memcpy(e, buf, len);
    wr_le(e + OFF_RESERVED, 1, 4);
    reseal(e, len);
    expect_reject(e, len, VAE_ERR_FORMAT, "reserved field");

    /* The same through a file: a version error reaches the caller. */
    const char *path = tmp_path("v2.vae");
    memcpy(e, buf, len);
    wr_le(e + OFF_MAJOR, 2, 2);
    write_bytes(path, e, len);
    char err[256] = "";
    assert_int_equal(vae_model_load(path, &out, NULL, err, sizeof err),
                     VAE_ERR_VERSION);
    assert_null(out);
    free(e);
    free(buf);
    vae_model_free(m);
}

/* Files of version 1.0 (this library's files with the minor version put
 * back to 0: 1.1 changed no layout, it only added codes and section 6) still
 * load, with their optimizer, and re-save as 1.1. */
static void test_version_1_0_loads(void **state)
{
    (void)state;
    vae_adam *opt_a = NULL;
    vae_model *a = trained(33, &opt_a);
    size_t len = 0;
    unsigned char *buf = tu_save_image(a, opt_a, &len);
    wr_le(buf + OFF_MINOR, 0, 2);
    reseal(buf, len);
    const char *path = tmp_path("v10.vae");
    write_bytes(path, buf, len);
    vae_model *b = NULL;
    vae_adam *opt_b = NULL;
    char err[256] = "";
    if (vae_model_load(path, &b, &opt_b, err, sizeof err) != VAE_OK)
        fail_msg("1.0 file: %s", err);
    assert_meta(b, NULL, 0);
    size_t len_b = 0;
    unsigned char *resaved = tu_save_image(b, opt_b, &len_b);
    assert_int_equal(len_b, len);
    assert_int_equal(rd_le(resaved + OFF_MINOR, 2), MINOR_NOW);
    assert_memory_equal(resaved + HDR, buf + HDR, len - HDR);
    assert_same_adam(opt_a, opt_b);
    assert_same_model(a, b);
    free(resaved);
    free(buf);
    vae_adam_free(opt_a);
    vae_adam_free(opt_b);
    vae_model_free(a);
    vae_model_free(b);
}

/* Section 6 behind a valid checksum: its length must be 1..VAE_METADATA_MAX
 * and fit the bytes that remain, and the flag must match the section. */
static void test_metadata_crafted(void **state)
{
    (void)state;
    vae_adam *opt = NULL;
    vae_model *m = trained(34, &opt);
    size_t plain_len = 0, len = 0, both_len = 0;
    unsigned char *plain = tu_save_image(m, NULL, &plain_len);
    unsigned char want[META_N];
    set_meta(m, want, META_N, 341);
    unsigned char *buf = tu_save_image(m, NULL, &len);
    unsigned char *both = tu_save_image(m, opt, &both_len);
    const size_t meta0 = len - META_N - META_HDR;
    assert_int_equal(meta0, plain_len);
    unsigned char *e = tu_alloc(both_len + META_HDR);

    const struct {
        const char *what;
        uint64_t value;
    } lengths[] = {
        {"length one past the end", META_N + 1},
        {"length one short (a trailing byte)", META_N - 1},
        {"length 0 before the bytes", 0},
        {"length above the maximum", (uint64_t)VAE_METADATA_MAX + 1},
        {"length 2^63", (uint64_t)1 << 63},
        {"length 2^64 - 1", UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        memcpy(e, buf, len);
        wr_le(e + meta0, lengths[i].value, 8);
        reseal(e, len);
        expect_reject(e, len, VAE_ERR_FORMAT, lengths[i].what);
    }

    /* The largest valid length, far beyond the file: refused by the length
     * check itself, before the copy would be allocated. */
    memcpy(e, buf, len);
    wr_le(e + meta0, VAE_METADATA_MAX, 8);
    reseal(e, len);
    const char *msg = expect_reject(e, len, VAE_ERR_FORMAT, "length 2^30");
    if (!strstr(msg, "remain"))
        fail_msg("length 2^30 refused for another reason: %s", msg);

    /* An empty section: flag set, length 0, nothing after it. */
    memcpy(e, plain, plain_len);
    memset(e + plain_len, 0, META_HDR);
    wr_le(e + OFF_FLAGS, FLAG_META, 4);
    reseal(e, plain_len + META_HDR);
    expect_reject(e, plain_len + META_HDR, VAE_ERR_FORMAT, "empty section");

    /* Flag and section disagree. */
    memcpy(e, plain, plain_len);
    wr_le(e + OFF_FLAGS, FLAG_META, 4);
    reseal(e, plain_len);
    expect_reject(e, plain_len, VAE_ERR_FORMAT, "flag without section");
    memcpy(e, buf, len);
    wr_le(e + OFF_FLAGS, 0, 4);
    reseal(e, len);
    expect_reject(e, len, VAE_ERR_FORMAT, "section without flag");
    memcpy(e, both, both_len);
    wr_le(e + OFF_FLAGS, FLAG_META, 4);
    reseal(e, both_len);
    expect_reject(e, both_len, VAE_ERR_FORMAT, "optimizer read as metadata");
    memcpy(e, both, both_len);
    wr_le(e + OFF_FLAGS, FLAG_OPT, 4);
    reseal(e, both_len);
    expect_reject(e, both_len, VAE_ERR_FORMAT, "metadata flag cleared");

    /* The edits above are the only reason for rejection. */
    memcpy(e, both, both_len);
    reseal(e, both_len);
    vae_model *out = NULL;
    vae_adam *o = NULL;
    assert_int_equal(vae_model_load_from_buffer(e, both_len, &out, &o, NULL, 0),
                     VAE_OK);
    assert_non_null(o);
    assert_meta(out, want, META_N);
    vae_adam_free(o);
    vae_model_free(out);
    free(e);
    free(both);
    free(buf);
    free(plain);
    vae_adam_free(opt);
    vae_model_free(m);
}

/* Batch normalisation's running statistics (section 7, format 1.2): a
 * trained model's come back exactly, the file says 1.2 while a model
 * without them still writes 1.1, and a section that disagrees with the
 * model or holds a non-finite value is refused. */
static void test_buffers_section(void **state)
{
    (void)state;
    const tu_layer bn = {VAE_OP_BATCH_NORM, 0, 0.0f, 0, 0, 0, 0, {0}, 0, 0.0f};
    const tu_layer enc[] = {TU_DENSE(5), bn, TU_ACT(VAE_OP_TANH)};
    const tu_layer dec[] = {TU_DENSE(4), TU_ACT(VAE_OP_TANH), TU_DENSE(D)};
    vae_model *m = tu_model(D, enc, TU_COUNT(enc), L, dec, TU_COUNT(dec),
                            VAE_LIKELIHOOD_BERNOULLI, 35);
    vae_adam *opt = adam(m);
    train(m, opt, 3);
    unsigned char want[META_N];
    set_meta(m, want, META_N, 351);
    size_t len = 0;
    unsigned char *buf = tu_save_image(m, opt, &len);
    assert_int_equal(rd_le(buf + OFF_MINOR, 2), MINOR_NEWEST);
    assert_int_equal(rd_le(buf + OFF_FLAGS, 4), FLAG_OPT | FLAG_META | 0x4);
    vae_model *b = NULL;
    vae_adam *ob = NULL;
    assert_int_equal(vae_model_load_from_buffer(buf, len, &b, &ob, NULL, 0),
                     VAE_OK);
    assert_int_equal(b->n_buffers, 10); /* mean and variance of 5 features */
    assert_memory_equal(b->buffers, m->buffers, 10 * sizeof(float));
    assert_true(m->buffers[0] != 0.0f && m->buffers[5] != 1.0f);
    size_t len_b = 0;
    unsigned char *again = tu_save_image(b, ob, &len_b);
    assert_int_equal(len_b, len);
    assert_memory_equal(again, buf, len);

    /* Section 7 is the file's last 8 + 40 bytes. */
    const size_t sec = len - 8 - 10 * 4;
    assert_int_equal(rd_le(buf + sec, 8), 10);
    unsigned char *e = tu_alloc(len);
    const struct {
        const char *what;
        uint64_t count;
    } counts[] = {{"count one short", 9}, {"count one over", 11},
                  {"count 0", 0}, {"count 2^64 - 1", UINT64_MAX}};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        memcpy(e, buf, len);
        wr_le(e + sec, counts[i].count, 8);
        reseal(e, len);
        expect_reject(e, len, VAE_ERR_FORMAT, counts[i].what);
    }
    memcpy(e, buf, len);
    wr_f32(e + sec + 8 + 4 * 7, NAN);
    reseal(e, len);
    expect_reject(e, len, VAE_ERR_NONFINITE, "NaN running variance");
    memcpy(e, buf, len);
    wr_le(e + OFF_FLAGS, FLAG_OPT | FLAG_META, 4);
    reseal(e, len);
    expect_reject(e, len, VAE_ERR_FORMAT, "section without flag");
    memcpy(e, buf, len);
    wr_le(e + OFF_FLAGS, FLAG_OPT | FLAG_META, 4);
    reseal(e, sec);
    expect_reject(e, sec, VAE_ERR_FORMAT, "model with statistics, none saved");

    /* A model without statistics: 1.1, and a buffers flag is damage. */
    vae_model *plain = tiny(36);
    size_t plain_len = 0;
    unsigned char *p = tu_save_image(plain, NULL, &plain_len);
    assert_int_equal(rd_le(p + OFF_MINOR, 2), MINOR_NOW);
    wr_le(p + OFF_FLAGS, 0x4, 4);
    reseal(p, plain_len);
    expect_reject(p, plain_len, VAE_ERR_FORMAT, "flag without section");
    free(p);
    vae_model_free(plain);
    free(e);
    free(again);
    free(buf);
    vae_adam_free(ob);
    vae_model_free(b);
    vae_adam_free(opt);
    vae_model_free(m);
}

/* Content errors behind a valid checksum, as a buggy or hostile writer
 * would produce: each is caught by validation, with the documented status. */
static void test_crafted_content(void **state)
{
    (void)state;
    vae_adam *opt = NULL;
    vae_model *m = trained(12, &opt);
    size_t len = 0;
    unsigned char *buf = tu_save_image(m, opt, &len);
    const size_t n = (size_t)vae_model_num_params(m);
    const size_t params = PARAMS0 + 8, opt0 = params + 4 * n;
    const size_t mom_m = opt0 + OPT_FIXED, mom_v = mom_m + 4 * n;
    unsigned char *e = tu_alloc(len + 1);

    const struct {
        const char *what;
        size_t off;
        int bytes;
        uint64_t value;
        int32_t want;
    } edits[] = {
        {"unknown op", ENC_REC(1) + R_OP, 4, 99, VAE_ERR_FORMAT},
        {"op 0", ENC_REC(1) + R_OP, 4, 0, VAE_ERR_FORMAT},
        {"second input node", ENC_REC(1) + R_OP, 4, VAE_OP_INPUT,
         VAE_ERR_FORMAT},
        {"forward reference", ENC_REC(2) + R_INPUTS, 4, 2, VAE_ERR_FORMAT},
        {"negative input", ENC_REC(2) + R_INPUTS, 4, 0xFFFFFFFFu,
         VAE_ERR_FORMAT},
        {"unused input slot", ENC_REC(2) + R_INPUTS + 4, 4, 1, VAE_ERR_FORMAT},
        {"n_inputs 5", ENC_REC(2) + 4, 4, 5, VAE_ERR_FORMAT},
        {"wrong stored shape", ENC_REC(1) + R_SHAPE, 8, 6, VAE_ERR_FORMAT},
        {"wrong stored rank", ENC_REC(1) + R_RANK, 4, 2, VAE_ERR_FORMAT},
        {"input rank 5", ENC_REC(0) + R_IATTR, 8, 5, VAE_ERR_FORMAT},
        {"output id", ENC0 + 4, 4, 3, VAE_ERR_FORMAT},
        {"decoder input size", DEC_REC(0) + R_IATTR + 8, 8, 3, VAE_ERR_FORMAT},
        {"likelihood 9", HDR + S_LIKELIHOOD, 4, 9, VAE_ERR_FORMAT},
        {"latent 3", HDR + S_LATENT, 8, 3, VAE_ERR_FORMAT},
        {"n_params - 1", PARAMS0, 8, n - 1, VAE_ERR_FORMAT},
        {"optimizer t < 0", opt0 + O_T, 8, UINT64_MAX, VAE_ERR_FORMAT},
        {"optimizer n", opt0 + OPT_FIXED - 8, 8, n + 1, VAE_ERR_FORMAT},
        {"decoupled 2", opt0 + O_T - 4, 4, 2, VAE_ERR_FORMAT},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        memcpy(e, buf, len);
        wr_le(e + edits[i].off, edits[i].value, edits[i].bytes);
        reseal(e, len);
        expect_reject(e, len, edits[i].want, edits[i].what);
    }

    const struct {
        const char *what;
        size_t off;
        int f64; /* 1: double field, 0: float */
        double value;
        int32_t want;
    } values[] = {
        {"NaN parameter", params, 0, NAN, VAE_ERR_NONFINITE},
        {"Inf parameter", params + 4 * (n - 1), 0, INFINITY, VAE_ERR_NONFINITE},
        {"NaN first moment", mom_m + 8, 0, NAN, VAE_ERR_NONFINITE},
        {"Inf second moment", mom_v, 0, INFINITY, VAE_ERR_NONFINITE},
        {"negative second moment", mom_v + 4, 0, -1.0, VAE_ERR_FORMAT},
        {"leaky slope 1.5", DEC_REC(2) + R_FATTR, 0, 1.5, VAE_ERR_FORMAT},
        {"beta -1", HDR + S_BETA, 1, -1.0, VAE_ERR_FORMAT},
        {"beta NaN", HDR + S_BETA, 1, NAN, VAE_ERR_FORMAT},
        {"free bits -1", HDR + S_BETA + 8, 1, -1.0, VAE_ERR_FORMAT},
        {"obs logvar 1e9", HDR + S_BETA + 16, 1, 1e9, VAE_ERR_FORMAT},
        {"lr 0", opt0, 1, 0.0, VAE_ERR_FORMAT},
        {"beta1 1.5", opt0 + O_BETA1, 1, 1.5, VAE_ERR_FORMAT},
        {"eps NaN", opt0 + 24, 1, NAN, VAE_ERR_FORMAT},
        {"weight decay -1", opt0 + 32, 1, -1.0, VAE_ERR_FORMAT},
        {"clip Inf", opt0 + 40, 1, INFINITY, VAE_ERR_FORMAT},
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        memcpy(e, buf, len);
        if (values[i].f64)
            wr_f64(e + values[i].off, values[i].value);
        else
            wr_f32(e + values[i].off, (float)values[i].value);
        reseal(e, len);
        expect_reject(e, len, values[i].want, values[i].what);
    }

    memcpy(e, buf, len);
    memset(e + HDR + S_RNG, 0, 32);
    reseal(e, len);
    expect_reject(e, len, VAE_ERR_FORMAT, "all-zero generator");

    memcpy(e, buf, len);
    e[len] = 0;
    reseal(e, len + 1);
    expect_reject(e, len + 1, VAE_ERR_FORMAT, "trailing byte");

    /* Optimizer flag cleared: its section becomes trailing bytes. */
    memcpy(e, buf, len);
    wr_le(e + OFF_FLAGS, 0, 4);
    reseal(e, len);
    expect_reject(e, len, VAE_ERR_FORMAT, "flag cleared");

    /* The edits above are the only reason for rejection: unedited, the
     * resealed image loads. */
    memcpy(e, buf, len);
    reseal(e, len);
    vae_model *out = NULL;
    vae_adam *o = NULL;
    assert_int_equal(vae_model_load_from_buffer(e, len, &out, &o, NULL, 0),
                     VAE_OK);
    vae_adam_free(o);
    vae_model_free(out);
    free(e);
    free(buf);
    vae_adam_free(opt);
    vae_model_free(m);
}

/* Random edits behind a valid checksum: any status is acceptable, a crash or
 * a leak (under ASan) is not, and a successful load is a usable model. */
static void test_random_edits(void **state)
{
    (void)state;
    vae_adam *opt = NULL;
    vae_model *m = trained(13, &opt);
    size_t len = 0;
    unsigned char *buf = tu_save_image(m, opt, &len);
    unsigned char *e = tu_alloc(len);
    tu_rng r;
    tu_seed(&r, 4242);
    int loaded = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(e, buf, len);
        int edits = 1 + (int)tu_uniform(&r, 0, 3);
        for (int k = 0; k < edits; k++) {
            /* Mostly the architecture, where the counts and ids live. */
            size_t hi = tu_uniform(&r, 0, 1) < 0.8 ? PARAMS0 + 8 : len;
            size_t pos = HDR + (size_t)tu_uniform(&r, 0, (double)(hi - HDR));
            e[pos] = (unsigned char)tu_uniform(&r, 0, 256);
        }
        reseal(e, len);
        vae_model *out = NULL;
        vae_adam *o = NULL;
        int32_t st = vae_model_load_from_buffer(e, len, &out, &o, NULL, 0);
        assert_true(st <= 0 && st >= VAE_ERR_RANGE);
        if (st == VAE_OK) {
            loaded++;
            float mean[D];
            const float z[L] = {0.1f, -0.2f};
            if (vae_model_data_size(out) == D)
                assert_int_equal(vae_model_decode(out, z, 1, mean), VAE_OK);
            vae_adam_free(o);
            vae_model_free(out);
        } else {
            assert_null(out);
            assert_null(o);
        }
    }
    /* Edits that land on weights or on equal bytes still load. */
    assert_true(loaded > 0);
    free(e);
    free(buf);
    vae_adam_free(opt);
    vae_model_free(m);
}

/* ---- Arguments and I/O errors ----------------------------------------- */

static void test_null_arguments(void **state)
{
    (void)state;
    vae_model *m = tiny(14);
    size_t len = 0;
    unsigned char *buf = tu_save_image(m, NULL, &len);
    size_t size = 0, written = 0;
    char err[256] = "";

    assert_int_equal(vae_model_save(NULL, NULL, tmp_path("x.vae")),
                     VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_save(m, NULL, NULL), VAE_ERR_INVALID_ARG);
    assert_true(vae_model_last_error(m)[0] != '\0');
    assert_int_equal(vae_model_save_size(NULL, NULL, &size), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_save_size(m, NULL, NULL), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_save_to_buffer(NULL, NULL, buf, len, &written),
                     VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_save_to_buffer(m, NULL, NULL, len, &written),
                     VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_save_to_buffer(m, NULL, buf, len, NULL),
                     VAE_ERR_INVALID_ARG);

    vae_model *out = (vae_model *)&out;
    vae_adam *o = (vae_adam *)&o;
    assert_int_equal(vae_model_load(NULL, &out, &o, err, sizeof err),
                     VAE_ERR_INVALID_ARG);
    assert_null(out);
    assert_null(o);
    assert_true(err[0] != '\0');
    o = (vae_adam *)&o;
    assert_int_equal(vae_model_load(tmp_path("x.vae"), NULL, &o, err, sizeof err),
                     VAE_ERR_INVALID_ARG);
    assert_null(o);
    out = (vae_model *)&out;
    assert_int_equal(vae_model_load_from_buffer(NULL, len, &out, NULL, err,
                                                sizeof err),
                     VAE_ERR_INVALID_ARG);
    assert_null(out);
    assert_int_equal(vae_model_load_from_buffer(buf, len, NULL, NULL, err,
                                                sizeof err),
                     VAE_ERR_INVALID_ARG);

    /* The message buffer is optional, and a short one is still terminated. */
    assert_int_equal(vae_model_load_from_buffer(buf, 3, &out, NULL, NULL, 0),
                     VAE_ERR_FORMAT);
    memset(err, 'x', sizeof err);
    assert_int_equal(vae_model_load_from_buffer(buf, 3, &out, NULL, err, 5),
                     VAE_ERR_FORMAT);
    assert_true(memchr(err, '\0', 5) != NULL);
    free(buf);
    vae_model_free(m);
}

/* Saves that would produce an unloadable file are refused. */
static void test_save_refusals(void **state)
{
    (void)state;
    vae_model *m = tiny(15);
    vae_model *bigger = NULL;
    {
        const tu_layer enc[] = {TU_DENSE(7)};
        const tu_layer dec[] = {TU_DENSE(D)};
        bigger = tu_model(D, enc, 1, L, dec, 1, VAE_LIKELIHOOD_BERNOULLI, 1);
    }
    vae_adam *foreign = adam(bigger);
    const char *path = tmp_path("refused.vae");
    size_t size = 0;
    assert_int_equal(vae_model_save(m, foreign, path), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_save_size(m, foreign, &size), VAE_ERR_INVALID_ARG);
    assert_true(vae_model_last_error(m)[0] != '\0');

    vae_model_params(m)[3] = NAN;
    assert_int_equal(vae_model_save(m, NULL, path), VAE_ERR_NONFINITE);
    assert_false(exists(path));
    assert_false(temp_left(path));
    vae_adam_free(foreign);
    vae_model_free(bigger);
    vae_model_free(m);
}

static void test_small_capacity(void **state)
{
    (void)state;
    vae_model *m = tiny(16);
    size_t len = 0;
    assert_int_equal(vae_model_save_size(m, NULL, &len), VAE_OK);
    unsigned char *buf = tu_alloc(len);
    memset(buf, 0xAB, len);
    size_t written = 123;
    assert_int_equal(vae_model_save_to_buffer(m, NULL, buf, len - 1, &written),
                     VAE_ERR_INVALID_ARG);
    assert_int_equal(written, 0);
    assert_true(vae_model_last_error(m)[0] != '\0');
    for (size_t i = 0; i < len; i++)
        assert_int_equal(buf[i], 0xAB);
    assert_int_equal(vae_model_save_to_buffer(m, NULL, buf, 0, &written),
                     VAE_ERR_INVALID_ARG);
    free(buf);
    vae_model_free(m);
}

static void test_missing_paths(void **state)
{
    (void)state;
    char err[256] = "";
    vae_model *out = (vae_model *)&out;
    const char *path = tmp_path("does-not-exist.vae");
    assert_int_equal(vae_model_load(path, &out, NULL, err, sizeof err),
                     VAE_ERR_IO);
    assert_null(out);
    assert_non_null(strstr(err, "does-not-exist.vae"));

    /* A directory opens on some systems but is not a model file. */
    assert_int_equal(vae_model_load(tmpdir, &out, NULL, err, sizeof err),
                     VAE_ERR_IO);

    vae_model *m = tiny(17);
    assert_int_equal(vae_model_save(m, NULL, tmp_path("no/such/dir/m.vae")),
                     VAE_ERR_IO);
    assert_non_null(strstr(vae_model_last_error(m), strerror(ENOENT)));
    vae_model_free(m);
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A FIFO that no process writes to: opening it for reading the ordinary
 * way blocks until a writer comes, which here is never. The load must
 * refuse it at once, and so must the other non-files a path can name. The
 * alarm ends the test (as a failure) instead of letting it hang. */
static void test_special_files(void **state)
{
    (void)state;
    const char *fifo = tmp_path("fifo.vae");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    const char *paths[] = {fifo, "/dev/zero", "/dev/null", tmpdir};
    const char *kinds[] = {"a FIFO", "a character device",
                           "a character device", "a directory"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char err[256] = "";
        vae_model *out = (vae_model *)&out;
        alarm(10);
        double t0 = now_seconds();
        int32_t st = vae_model_load(paths[i], &out, NULL, err, sizeof err);
        double dt = now_seconds() - t0;
        alarm(0);
        assert_int_equal(st, VAE_ERR_IO);
        assert_null(out);
        assert_true(dt < 1.0);
        if (!strstr(err, kinds[i]) || !strstr(err, "not a regular file"))
            fail_msg("%s: message \"%s\"", paths[i], err);
    }
    assert_int_equal(remove(fifo), 0);
}

/* Writes the old model to path and returns its bytes. */
static unsigned char *previous_file(const char *path, size_t *len)
{
    vae_model *old = trained(18, NULL);
    assert_int_equal(vae_model_save(old, NULL, path), VAE_OK);
    vae_model_free(old);
    return read_bytes(path, len);
}

static void assert_file_is(const char *path, const unsigned char *p, size_t n)
{
    size_t len = 0;
    unsigned char *now = read_bytes(path, &len);
    assert_int_equal(len, n);
    assert_memory_equal(now, p, n);
    free(now);
}

static void test_unwritable_directory(void **state)
{
    (void)state;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/ro", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    char path[300];
    snprintf(path, sizeof path, "%s/model.vae", dir);
    size_t len = 0;
    unsigned char *before = previous_file(path, &len);
    assert_int_equal(chmod(dir, 0500), 0);

    /* Permission bits do not bind root: then this case cannot be made. */
    char probe[300];
    snprintf(probe, sizeof probe, "%s/probe", dir);
    FILE *fp = fopen(probe, "wb");
    if (fp) {
        fclose(fp);
        remove(probe);
        chmod(dir, 0700);
        free(before);
        skip();
    }
    vae_model *m = tiny(19);
    assert_int_equal(vae_model_save(m, NULL, path), VAE_ERR_IO);
    assert_non_null(strstr(vae_model_last_error(m), strerror(EACCES)));
    assert_int_equal(chmod(dir, 0700), 0);
    assert_file_is(path, before, len);
    assert_false(temp_left(path));
    free(before);
    vae_model_free(m);
}

/* A write that fails part way (file size limit, which binds root too):
 * the temp file is removed and the previous file is untouched. */
static void test_failed_write_keeps_previous(void **state)
{
    (void)state;
    const char *path = tmp_path("limited.vae");
    size_t len = 0;
    unsigned char *before = previous_file(path, &len);
    vae_adam *opt = NULL;
    vae_model *m = trained(20, &opt);

    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    struct rlimit lim = old;
    lim.rlim_cur = 100;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int32_t st = vae_model_save(m, opt, path);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);

    assert_int_equal(st, VAE_ERR_IO);
    assert_non_null(strstr(vae_model_last_error(m), strerror(EFBIG)));
    assert_file_is(path, before, len);
    assert_false(temp_left(path));
    free(before);
    vae_adam_free(opt);
    vae_model_free(m);
}

/* The final rename fails (the target is a directory): nothing is left. */
static void test_failed_rename(void **state)
{
    (void)state;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/target-dir", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    vae_model *m = tiny(21);
    assert_int_equal(vae_model_save(m, NULL, dir), VAE_ERR_IO);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_false(temp_left(dir));
    assert_int_equal(rmdir(dir), 0);
    vae_model_free(m);
}

/* ---- Fixture ----------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vae-test-io-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    tu_rng r;
    tu_seed(&r, 31);
    tu_fill_uniform(&r, X, B * D, 0.0, 1.0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = {"reload.vae", "same.vae", "truncated.vae",
                           "huge.vae", "v2.vae", "v10.vae", "limited.vae",
                           "ro/model.vae",
                           "ro", "refused.vae", "rel.vae"};
    char path[300];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
        remove(path);
    }
    return rmdir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_check_value),
        cmocka_unit_test(test_roundtrip_file),
        cmocka_unit_test(test_roundtrip_memory),
        cmocka_unit_test(test_optimizer_roundtrip_file),
        cmocka_unit_test(test_optimizer_roundtrip_memory),
        cmocka_unit_test(test_resume_without_reseeding),
        cmocka_unit_test(test_optimizer_not_requested),
        cmocka_unit_test(test_roundtrip_likelihoods),
        cmocka_unit_test(test_roundtrip_conv),
        cmocka_unit_test(test_metadata_roundtrip_file),
        cmocka_unit_test(test_metadata_roundtrip_memory),
        cmocka_unit_test(test_metadata_absent),
        cmocka_unit_test(test_set_metadata_errors),
        cmocka_unit_test(test_roundtrip_sequence_ops),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_file_equals_buffer),
        cmocka_unit_test(test_relative_path),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_bit_flips),
        cmocka_unit_test(test_oversized_header),
        cmocka_unit_test(test_oversized_counts),
        cmocka_unit_test(test_bad_magic_and_version),
        cmocka_unit_test(test_version_1_0_loads),
        cmocka_unit_test(test_metadata_crafted),
        cmocka_unit_test(test_buffers_section),
        cmocka_unit_test(test_crafted_content),
        cmocka_unit_test(test_random_edits),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_save_refusals),
        cmocka_unit_test(test_small_capacity),
        cmocka_unit_test(test_missing_paths),
        cmocka_unit_test(test_special_files),
        cmocka_unit_test(test_unwritable_directory),
        cmocka_unit_test(test_failed_write_keeps_previous),
        cmocka_unit_test(test_failed_rename),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
