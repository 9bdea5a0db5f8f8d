/* test_alloc_failure.c - allocation-failure injection (issue 8). Every
 * allocation the library makes while building models, loading them,
 * training, evaluating the IWAE bound, generating and saving is made to fail
 * in turn: first that one allocation alone, then it and every later one. At
 * each point the call must return VAE_ERR_NOMEM (never VAE_OK: a failure it
 * absorbed would be one it hid) with a message and must not crash or leak (LeakSanitizer in the ASan build and valgrind in the Release
 * one check at exit; every handle is freed here); a call given a model must
 * leave it as it was (the bytes of its saved state, optimizer included, are
 * compared), and the same call repeated with the hook off must give exactly
 * what an undisturbed run gives.
 *
 * The test links vae_alloc_hooked, the library compiled with the failable
 * allocator of src/alloc.c (see tests/CMakeLists.txt). */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc.h"
#include "vae.h"

enum {
    MSG = 256,
    SEED = 11,
    /* The MLP and conv models: data of D floats in [0, 1], batch NB. */
    D = 64,
    NB = 6,
    /* The text model: T tokens from a vocabulary of V, batch TB. */
    T = 5,
    V = 9,
    TB = 3,
    LATENT = 3,
    /* IWAE samples: TB * K rows exceed the decoder's 256-row chunk, so the
     * call grows the workspace twice. */
    K = 100,
    BEAM = 3,
    OUT_MAX = 64,
    /* Far more allocations than any scenario makes: a loop that does not
     * end by then would never end. */
    MAX_POINTS = 10000,
};

static float x_dense[NB * D];
static float x_text[TB * T];
static char tmpdir[64];

/* ---- Models, built only through the public calls ----------------------- */

/* Builder errors are sticky, so a graph is built without checks and its
 * status read once; the message goes to msg. */
static int32_t graph_status(vae_graph *g, char *msg, size_t len)
{
    int32_t st = vae_graph_status(g);
    if (st != VAE_OK)
        snprintf(msg, len, "%s", vae_graph_last_error(g));
    return st;
}

/* Deep enough (21 nodes) that the builder's node array grows twice. */
static void mlp_encoder(vae_graph *g)
{
    const int64_t d = D;
    int32_t h = vae_graph_input(g, &d, 1);
    for (int i = 0; i < 9; i++)
        h = vae_graph_relu(g, vae_graph_dense(g, h, 16));
    vae_graph_set_output(g, vae_graph_tanh(g, vae_graph_dense(g, h, 8)));
}

static void mlp_decoder(vae_graph *g)
{
    const int64_t l = LATENT;
    int32_t h = vae_graph_dense(g, vae_graph_input(g, &l, 1), 16);
    h = vae_graph_leaky_relu(g, h, 0.1f);
    vae_graph_set_output(g, vae_graph_dense(g, h, D));
}

/* [1, 8, 8] images: conv down to [4, 4, 4] and a transposed conv back. */
static void conv_encoder(vae_graph *g)
{
    const int64_t img[3] = {1, 8, 8};
    int32_t h = vae_graph_conv2d(g, vae_graph_input(g, img, 3), 4, 3, 2, 1);
    h = vae_graph_flatten(g, vae_graph_relu(g, h));
    vae_graph_set_output(g, vae_graph_dense(g, h, 8));
}

static void conv_decoder(vae_graph *g)
{
    const int64_t l = LATENT, grid[3] = {4, 4, 4};
    int32_t h = vae_graph_dense(g, vae_graph_input(g, &l, 1), 64);
    h = vae_graph_reshape(g, vae_graph_relu(g, h), grid, 3);
    h = vae_graph_conv2d_transpose(g, h, 1, 4, 2, 1);
    vae_graph_set_output(g, vae_graph_flatten(g, h));
}

/* Bowman et al.'s text VAE: embedding + LSTM encoder; a teacher-forced LSTM
 * decoder started from z, reading [embedding; z] with word dropout and the
 * encoder's embedding table. */
static void text_encoder(vae_graph *g)
{
    const int64_t t = T;
    int32_t x = vae_graph_input(g, &t, 1);
    int32_t e = vae_graph_embedding(g, x, V, 4);
    vae_graph_set_output(g, vae_graph_lstm(g, e, 5, -1, x, 0));
}

static void text_decoder(vae_graph *g)
{
    const int64_t l = LATENT, t = T;
    int32_t z = vae_graph_input(g, &l, 1);
    int32_t x = vae_graph_data(g, &t, 1);
    int32_t in = vae_graph_token_dropout(g, vae_graph_shift_right(g, x, 1.0f),
                                         0.25f, 2.0f);
    int32_t e = vae_graph_embedding_shared(g, in, V, 4);
    int32_t cat = vae_graph_concat(g, e, vae_graph_repeat(g, z, T));
    int32_t init = vae_graph_tanh(g, vae_graph_dense(g, z, 10));
    int32_t h = vae_graph_lstm(g, cat, 5, init, x, 1);
    vae_graph_set_output(g, vae_graph_dense(g, h, V));
}

typedef struct arch {
    void (*encoder)(vae_graph *g);
    void (*decoder)(vae_graph *g);
    int32_t likelihood;
} arch;

static const arch mlp = {mlp_encoder, mlp_decoder, VAE_LIKELIHOOD_BERNOULLI};
static const arch conv = {conv_encoder, conv_decoder,
                          VAE_LIKELIHOOD_GAUSSIAN_FIXED};
static const arch text = {text_encoder, text_decoder,
                          VAE_LIKELIHOOD_CATEGORICAL};

static int32_t new_graph(void (*build)(vae_graph *), vae_graph **g, char *msg,
                         size_t len)
{
    int32_t st = vae_graph_new(g);
    if (st != VAE_OK) {
        /* vae_graph_new has no handle or buffer for a message: its status
         * is its whole report. */
        assert_null(*g);
        snprintf(msg, len, "vae_graph_new: %s", vae_status_string(st));
        return st;
    }
    build(*g);
    return graph_status(*g, msg, len);
}

/* Graphs, model, Adam and metadata in *m and *opt: everything a program
 * does before its first step. */
static int32_t build(const arch *a, vae_model **m, vae_adam **opt, char *msg,
                     size_t len)
{
    vae_graph *enc = NULL, *dec = NULL;
    int32_t st = new_graph(a->encoder, &enc, msg, len);
    if (st == VAE_OK)
        st = new_graph(a->decoder, &dec, msg, len);
    if (st == VAE_OK) {
        st = vae_model_new(enc, dec, LATENT, a->likelihood, SEED, m, msg, len);
        if (st != VAE_OK)
            assert_null(*m);
    }
    vae_graph_free(enc);
    vae_graph_free(dec);
    if (st == VAE_OK) {
        st = vae_adam_new(*m, 1e-3, opt, msg, len);
        if (st != VAE_OK)
            assert_null(*opt);
    }
    if (st == VAE_OK) {
        static const char meta[] = "vocabulary: a b c d e f g h";
        st = vae_model_set_metadata(*m, meta, sizeof meta);
        if (st != VAE_OK)
            snprintf(msg, len, "%s", vae_model_last_error(*m));
    }
    return st;
}

static void build_ok(const arch *a, vae_model **m, vae_adam **opt)
{
    char msg[MSG] = "";
    int32_t st = build(a, m, opt, msg, sizeof msg);
    if (st != VAE_OK)
        fail_msg("building a model: %s (%s)", vae_status_string(st), msg);
}

/* ---- Fixtures: what a scenario starts from and what it produces -------- */

typedef struct fixture {
    vae_model *m;
    vae_adam *opt;
    unsigned char *image; /* a saved model: the input of load scenarios, the
                             previous file of the save scenario */
    size_t image_len;
    char path[128];       /* a model file, or "" */
    double out[OUT_MAX];  /* the call's numeric results */
    int n_out;
} fixture;

typedef struct bytes {
    unsigned char *p;
    size_t n;
} bytes;

static void append(bytes *b, const void *p, size_t n)
{
    unsigned char *q = realloc(b->p, b->n + n + 1);
    assert_non_null(q);
    if (n)
        memcpy(q + b->n, p, n);
    b->p = q;
    b->n += n;
}

/* What vae_model_save would write for m and opt (every parameter and
 * setting, the generator state, the optimizer state and the metadata), then
 * the gradient buffer. */
static void append_state(bytes *b, vae_model *m, const vae_adam *opt)
{
    size_t n = 0, written = 0;
    assert_int_equal(vae_model_save_size(m, opt, &n), VAE_OK);
    unsigned char *p = malloc(n);
    assert_non_null(p);
    assert_int_equal(vae_model_save_to_buffer(m, opt, p, n, &written), VAE_OK);
    assert_int_equal(written, n);
    append(b, p, n);
    free(p);
    append(b, vae_model_grads(m),
           (size_t)vae_model_num_params(m) * sizeof(float));
}

static bytes read_file(const char *path)
{
    bytes b = {NULL, 0};
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    unsigned char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0)
        append(&b, chunk, got);
    fclose(fp);
    return b;
}

/* Everything a scenario's result consists of, as bytes: the model's state,
 * the outputs, and the model file if there is one. */
static bytes digest(const fixture *f)
{
    bytes b = {NULL, 0};
    if (f->m)
        append_state(&b, f->m, f->opt);
    append(&b, f->out, (size_t)f->n_out * sizeof f->out[0]);
    if (f->path[0]) {
        bytes file = read_file(f->path);
        append(&b, file.p, file.n);
        free(file.p);
    }
    return b;
}

static void free_handles(fixture *f)
{
    vae_adam_free(f->opt);
    vae_model_free(f->m);
    f->opt = NULL;
    f->m = NULL;
}

static void fixture_free(fixture *f)
{
    free_handles(f);
    free(f->image);
    if (f->path[0])
        remove(f->path);
}

static void save_image(fixture *f)
{
    size_t written = 0;
    assert_int_equal(vae_model_save_size(f->m, f->opt, &f->image_len), VAE_OK);
    f->image = malloc(f->image_len);
    assert_non_null(f->image);
    assert_int_equal(vae_model_save_to_buffer(f->m, f->opt, f->image,
                                              f->image_len, &written),
                     VAE_OK);
}

static void write_image(const fixture *f)
{
    FILE *fp = fopen(f->path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(f->image, 1, f->image_len, fp), f->image_len);
    assert_int_equal(fclose(fp), 0);
}

/* ---- Setups (run with the hook off) ------------------------------------ */

static void setup_mlp(fixture *f) { build_ok(&mlp, &f->m, &f->opt); }

static void setup_text(fixture *f) { build_ok(&text, &f->m, &f->opt); }

/* The importance-weighted objective: the decoder's workspace for TB * 3
 * rows and the buffer of repeated sequences. */
static void setup_text_samples(fixture *f)
{
    setup_text(f);
    assert_int_equal(vae_model_set_train_samples(f->m, 3), VAE_OK);
}

/* A text model one step into training, its workspace sized for TB. */
static void setup_text_trained(fixture *f)
{
    setup_text(f);
    assert_int_equal(vae_model_train_step(f->m, f->opt, x_text, TB, NULL, NULL,
                                          NULL),
                     VAE_OK);
}

static void setup_mlp_trained_small(fixture *f)
{
    setup_mlp(f);
    assert_int_equal(vae_model_train_step(f->m, f->opt, x_dense, NB / 2, NULL,
                                          NULL, NULL),
                     VAE_OK);
}

/* The image of a trained text model (optimizer and metadata included), no
 * handles. */
static void setup_image(fixture *f)
{
    setup_text_trained(f);
    save_image(f);
    free_handles(f);
}

static void setup_file(fixture *f)
{
    setup_image(f);
    snprintf(f->path, sizeof f->path, "%s/load.vae", tmpdir);
    write_image(f);
}

/* A model whose file holds its state of one step ago. */
static void setup_save(fixture *f)
{
    setup_text_trained(f);
    save_image(f);
    snprintf(f->path, sizeof f->path, "%s/save.vae", tmpdir);
    write_image(f);
    assert_int_equal(vae_model_train_step(f->m, f->opt, x_text, TB, NULL, NULL,
                                          NULL),
                     VAE_OK);
}

/* ---- The calls under test ---------------------------------------------- */

static int32_t model_status(const fixture *f, int32_t st, char *msg,
                            size_t len)
{
    if (st != VAE_OK)
        snprintf(msg, len, "%s", vae_model_last_error(f->m));
    return st;
}

static int32_t run_build_mlp(fixture *f, char *msg, size_t len)
{
    return build(&mlp, &f->m, &f->opt, msg, len);
}

static int32_t run_build_conv(fixture *f, char *msg, size_t len)
{
    return build(&conv, &f->m, &f->opt, msg, len);
}

static int32_t run_build_text(fixture *f, char *msg, size_t len)
{
    return build(&text, &f->m, &f->opt, msg, len);
}

static int32_t run_load_buffer(fixture *f, char *msg, size_t len)
{
    int32_t st = vae_model_load_from_buffer(f->image, f->image_len, &f->m,
                                            &f->opt, msg, len);
    if (st != VAE_OK) {
        assert_null(f->m);
        assert_null(f->opt);
    }
    return st;
}

static int32_t run_load_path(fixture *f, char *msg, size_t len)
{
    int32_t st = vae_model_load(f->path, &f->m, &f->opt, msg, len);
    if (st != VAE_OK) {
        assert_null(f->m);
        assert_null(f->opt);
    }
    return st;
}

static int32_t train(fixture *f, const float *x, int64_t batch, char *msg,
                     size_t len)
{
    f->n_out = 3;
    return model_status(f, vae_model_train_step(f->m, f->opt, x, batch,
                                                 &f->out[0], &f->out[1],
                                                 &f->out[2]),
                        msg, len);
}

static int32_t run_train_mlp(fixture *f, char *msg, size_t len)
{
    return train(f, x_dense, NB / 2, msg, len);
}

/* After a step at NB / 2, a step at NB must grow the workspace. */
static int32_t run_train_mlp_grow(fixture *f, char *msg, size_t len)
{
    return train(f, x_dense, NB, msg, len);
}

static int32_t run_train_text(fixture *f, char *msg, size_t len)
{
    return train(f, x_text, TB, msg, len);
}

static int32_t run_iwae_mlp(fixture *f, char *msg, size_t len)
{
    f->n_out = NB;
    return model_status(f, vae_model_iwae(f->m, x_dense, NB, K, f->out), msg,
                        len);
}

static int32_t run_iwae_text(fixture *f, char *msg, size_t len)
{
    f->n_out = TB;
    return model_status(f, vae_model_iwae(f->m, x_text, TB, K, f->out), msg,
                        len);
}

/* Latents for TB sequences, fixed. */
static const float z_text[TB * LATENT] = {0.5f,  -1.0f, 0.25f, 1.5f, 0.0f,
                                          -0.5f, -2.0f, 0.75f, 1.0f};

static int32_t generate(fixture *f, int32_t mode, char *msg, size_t len)
{
    float out[TB * T] = {0};
    int64_t steps = 0;
    int32_t st = vae_model_generate(f->m, z_text, TB, mode, 0.8, 3, BEAM, 8, T,
                                    out, &steps);
    for (int i = 0; i < TB * T; i++)
        f->out[i] = out[i];
    f->out[TB * T] = (double)steps;
    f->n_out = TB * T + 1;
    return model_status(f, st, msg, len);
}

static int32_t run_generate_beam(fixture *f, char *msg, size_t len)
{
    return generate(f, VAE_DECODE_BEAM, msg, len);
}

/* Sampling advances the generator: a failed call must not have. */
static int32_t run_generate_sample(fixture *f, char *msg, size_t len)
{
    return generate(f, VAE_DECODE_SAMPLE, msg, len);
}

/* A teacher-forced decoder decodes greedily through generation. */
static int32_t run_reconstruct_text(fixture *f, char *msg, size_t len)
{
    float out[TB * T] = {0};
    int32_t st = vae_model_reconstruct(f->m, x_text, TB, out);
    for (int i = 0; i < TB * T; i++)
        f->out[i] = out[i];
    f->n_out = TB * T;
    return model_status(f, st, msg, len);
}

/* Replaces the metadata that build() set: a failure must keep the old. */
static int32_t run_set_metadata(fixture *f, char *msg, size_t len)
{
    static const char meta[] = "another vocabulary";
    return model_status(f, vae_model_set_metadata(f->m, meta, sizeof meta),
                        msg, len);
}

static int32_t run_save_buffer(fixture *f, char *msg, size_t len)
{
    size_t need = 0, written = 0;
    int32_t st = vae_model_save_size(f->m, f->opt, &need);
    unsigned char *buf = NULL;
    if (st == VAE_OK) {
        buf = malloc(need);
        assert_non_null(buf);
        st = vae_model_save_to_buffer(f->m, f->opt, buf, need, &written);
    }
    if (st == VAE_OK) {
        for (size_t i = 0; i < written && i < OUT_MAX; i++)
            f->out[i] = buf[i];
        f->n_out = written < OUT_MAX ? (int)written : OUT_MAX;
    }
    free(buf);
    return model_status(f, st, msg, len);
}

static int32_t run_save_path(fixture *f, char *msg, size_t len)
{
    return model_status(f, vae_model_save(f->m, f->opt, f->path), msg, len);
}

/* A failed save leaves the previous file as it was, and no other file. */
static void check_save_failed(const fixture *f)
{
    bytes file = read_file(f->path);
    assert_int_equal(file.n, f->image_len);
    assert_memory_equal(file.p, f->image, f->image_len);
    free(file.p);
    DIR *dir = opendir(tmpdir);
    assert_non_null(dir);
    int entries = 0;
    struct dirent *e;
    while ((e = readdir(dir)))
        entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(dir);
    assert_int_equal(entries, 1);
}

/* ---- The driver -------------------------------------------------------- */

typedef struct scenario {
    const char *name;
    void (*setup)(fixture *f); /* NULL: the run starts from nothing */
    int32_t (*run)(fixture *f, char *msg, size_t len);
    /* Extra checks after a failed run, or NULL. */
    void (*failed)(const fixture *f);
} scenario;

static void assert_same(const bytes *got, const bytes *want, const char *what,
                        const char *name, long n)
{
    if (got->n != want->n || memcmp(got->p, want->p, want->n) != 0)
        fail_msg("%s, allocation %ld: %s", name, n, what);
}

/* Fails allocation n alone (persist 0) or n and all later ones, for
 * n = 1, 2, ... until the run makes fewer than n allocations. Returns the
 * number of points covered. */
static long drive(const scenario *sc, int persist)
{
    char msg[MSG] = "";
    fixture ref = {0};
    if (sc->setup)
        sc->setup(&ref);
    vae_alloc_fail_after(0, 0);
    int32_t st = sc->run(&ref, msg, sizeof msg);
    long allocations = vae_alloc_count();
    if (st != VAE_OK)
        fail_msg("%s without failures: %s (%s)", sc->name,
                 vae_status_string(st), msg);
    bytes want = digest(&ref);
    fixture_free(&ref);

    long n = 1;
    for (;; n++) {
        if (n > MAX_POINTS)
            fail_msg("%s: more than %d allocations", sc->name, MAX_POINTS);
        fixture f = {0};
        bytes before = {NULL, 0};
        if (sc->setup)
            sc->setup(&f);
        if (f.m)
            append_state(&before, f.m, f.opt);
        msg[0] = '\0';
        vae_alloc_fail_after(n, persist);
        st = sc->run(&f, msg, sizeof msg);
        long failures = vae_alloc_failures();
        vae_alloc_fail_after(0, 0);
        int done = failures == 0;
        if (done && st != VAE_OK)
            fail_msg("%s: %s (%s) with no allocation failed", sc->name,
                     vae_status_string(st), msg);
        if (!done) {
            if (st != VAE_ERR_NOMEM)
                fail_msg("%s, allocation %ld: %s (%s), not VAE_ERR_NOMEM",
                         sc->name, n, vae_status_string(st), msg);
            if (!msg[0])
                fail_msg("%s, allocation %ld: no message", sc->name, n);
            if (before.p) {
                bytes after = {NULL, 0};
                append_state(&after, f.m, f.opt);
                assert_same(&after, &before, "the failed call changed the "
                            "model's state", sc->name, n);
                free(after.p);
            } else {
                free_handles(&f);
            }
            if (sc->failed)
                sc->failed(&f);
            /* The same call again, nothing failing: the model is usable and
             * gives what it would have given. */
            st = sc->run(&f, msg, sizeof msg);
            if (st != VAE_OK)
                fail_msg("%s, allocation %ld: the retry failed: %s (%s)",
                         sc->name, n, vae_status_string(st), msg);
        }
        bytes got = digest(&f);
        assert_same(&got, &want, "the result differs from an undisturbed "
                    "run's", sc->name, n);
        free(got.p);
        free(before.p);
        fixture_free(&f);
        if (done)
            break;
    }
    free(want.p);
    /* The loop ended at the first n past the run's last allocation. */
    assert_int_equal(n - 1, allocations);
    return n - 1;
}

static void test_scenario(void **state)
{
    const scenario *sc = *state;
    long once = drive(sc, 0);
    long persistent = drive(sc, 1);
    assert_int_equal(once, persistent);
    print_message("alloc-failure %-18s %3ld injection points (each failing "
                  "once, then persistently)\n", sc->name, once);
}

/* The hook itself: the n-th allocation fails, alone or with the later
 * ones, and the counters say so. */
static void test_hook(void **state)
{
    (void)state;
    void *p[4];
    for (int persist = 0; persist <= 1; persist++) {
        vae_alloc_fail_after(2, persist);
        p[0] = vae_malloc(8);
        p[1] = vae_calloc(2, 8);
        p[2] = vae_realloc(NULL, 8);
        p[3] = vae_malloc(8);
        long count = vae_alloc_count(), failures = vae_alloc_failures();
        vae_alloc_fail_after(0, 0);
        assert_non_null(p[0]);
        assert_null(p[1]);
        assert_int_equal(p[2] == NULL, persist);
        assert_int_equal(p[3] == NULL, persist);
        assert_int_equal(count, 4);
        assert_int_equal(failures, persist ? 3 : 1);
        for (int i = 0; i < 4; i++)
            free(p[i]);
    }
    p[0] = vae_malloc(8);
    assert_non_null(p[0]);
    free(p[0]);
    assert_int_equal(vae_alloc_count(), 1);
    assert_int_equal(vae_alloc_failures(), 0);
}

static const scenario scenarios[] = {
    {"build mlp", NULL, run_build_mlp, NULL},
    {"build conv", NULL, run_build_conv, NULL},
    {"build text", NULL, run_build_text, NULL},
    {"load buffer", setup_image, run_load_buffer, NULL},
    {"load path", setup_file, run_load_path, NULL},
    {"train mlp first", setup_mlp, run_train_mlp, NULL},
    {"train mlp grow", setup_mlp_trained_small, run_train_mlp_grow, NULL},
    {"train text first", setup_text, run_train_text, NULL},
    {"train text k=3", setup_text_samples, run_train_text, NULL},
    {"iwae mlp", setup_mlp, run_iwae_mlp, NULL},
    {"iwae text", setup_text_trained, run_iwae_text, NULL},
    {"generate beam", setup_text_trained, run_generate_beam, NULL},
    {"generate sample", setup_text_trained, run_generate_sample, NULL},
    {"reconstruct text", setup_text, run_reconstruct_text, NULL},
    {"set metadata", setup_text, run_set_metadata, NULL},
    {"save buffer", setup_text_trained, run_save_buffer, NULL},
    {"save path", setup_save, run_save_path, check_save_failed},
};

static int suite_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vae-test-alloc-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    /* Data from a fixed formula: Bernoulli targets in [0, 1] (also fine as
     * Gaussian data); token ids 1..V-1 with padding at the end of the
     * second sequence. */
    for (int i = 0; i < NB * D; i++)
        x_dense[i] = (float)((i * 37 + 11) % 101) / 100.0f;
    for (int i = 0; i < TB * T; i++)
        x_text[i] = (float)(1 + (i * 5 + 3) % (V - 1));
    x_text[T + T - 1] = 0.0f;
    x_text[T + T - 2] = 0.0f;
    return 0;
}

static int suite_teardown(void **state)
{
    (void)state;
    return rmdir(tmpdir);
}

int main(void)
{
    enum { N = sizeof scenarios / sizeof scenarios[0] };
    struct CMUnitTest tests[N + 1];
    tests[0] = (struct CMUnitTest)cmocka_unit_test(test_hook);
    for (int i = 0; i < N; i++) {
        tests[i + 1] = (struct CMUnitTest)cmocka_unit_test_prestate(
            test_scenario, (void *)&scenarios[i]);
        tests[i + 1].name = scenarios[i].name;
    }
    return cmocka_run_group_tests(tests, suite_setup, suite_teardown);
}
