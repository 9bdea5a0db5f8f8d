/* Different handles in different threads at once (docs/threading.md): each
 * thread builds its own graphs and model, trains it, saves it to a buffer
 * and to its own file, loads both back, generates from one copy and resumes
 * training on the other. Run concurrently, every thread must produce
 * exactly the bytes the same job produces alone: parameters, ELBOs, saved
 * files, samples. The suite's "tsan" phase runs this under ThreadSanitizer,
 * which also reports any unsynchronised access the bytes happen to survive.
 *
 * cmocka's assertions longjmp into the test that runs them, so threads only
 * record what happened; the main thread checks after joining them. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

enum { STEPS = 10, MORE = 4, N_GEN = 3 };

/* Three model families, so threads run different ops side by side. */
typedef enum { KIND_MLP, KIND_CONV, KIND_TEXT, N_KINDS } kind;

static const char *const kind_name[N_KINDS] = {"mlp", "conv", "text"};

/* Text model sizes; T is also the generated length. */
enum { T = 8, V = 12, EMB = 6, HID = 10 };
#define BOS 1.0f
#define EOS 2

typedef struct job {
    kind kind;
    uint64_t seed;
    const char *path; /* this job's checkpoint file */
    /* Outcome: the first failing call, or status VAE_OK. */
    int32_t status;
    const char *failed; /* the call's text */
    char msg[256];
    double elbo[STEPS + MORE]; /* STEPS on the model, MORE after reload */
    unsigned char *saved;      /* save_to_buffer after STEPS */
    size_t saved_len;
    unsigned char *resumed; /* save_to_buffer after MORE more steps */
    size_t resumed_len;
    float gen[N_GEN * 64]; /* samples (MLP, conv) or sentences (text) */
} job;

static int64_t data_size(kind k) { return k == KIND_TEXT ? T : 64; }
static int64_t batch_of(kind k) { return k == KIND_MLP ? 16 : 8; }
static int64_t latent_of(kind k) { return k == KIND_TEXT ? 3 : 4; }

/* The job's data, from a test-side generator: pixels in [0, 1], or
 * sentences of ids in [3, V) ending in EOS and padded with 0. */
static void make_data(kind k, uint64_t seed, float *x)
{
    tu_rng r;
    tu_seed(&r, seed);
    int64_t n = batch_of(k) * data_size(k);
    if (k != KIND_TEXT) {
        tu_fill_uniform(&r, x, n, 0.0, 1.0);
        return;
    }
    for (int64_t b = 0; b < batch_of(k); b++) {
        int64_t len = 2 + b % (T - 1);
        for (int64_t t = 0; t < T; t++)
            x[b * T + t] = t < len - 1 ? (float)(3 + (int)tu_uniform(&r, 0, V - 3))
                           : t == len - 1 ? (float)EOS : 0.0f;
    }
}

/* Encoder and decoder of each family, through the public builder. A failed
 * call leaves its sticky status on the graph, checked by the caller. */
static void build_graphs(kind k, vae_graph *enc, vae_graph *dec)
{
    const int64_t lat = latent_of(k);
    vae_graph_input(dec, &lat, 1);
    if (k == KIND_MLP) {
        const int64_t d = 64;
        int32_t h = vae_graph_relu(enc, vae_graph_dense(enc, vae_graph_input(enc, &d, 1), 32));
        vae_graph_set_output(enc, h);
        h = vae_graph_tanh(dec, vae_graph_dense(dec, 0, 32));
        vae_graph_set_output(dec, vae_graph_dense(dec, h, 64));
    } else if (k == KIND_CONV) {
        const int64_t img[3] = {1, 8, 8}, feat[3] = {4, 4, 4};
        int32_t h = vae_graph_input(enc, img, 3);
        h = vae_graph_relu(enc, vae_graph_conv2d(enc, h, 4, 3, 2, 1));
        h = vae_graph_relu(enc, vae_graph_dense(enc, vae_graph_flatten(enc, h), 16));
        vae_graph_set_output(enc, h);
        h = vae_graph_relu(dec, vae_graph_dense(dec, 0, 64));
        h = vae_graph_reshape(dec, h, feat, 3);
        vae_graph_set_output(dec, vae_graph_conv2d_transpose(dec, h, 1, 4, 2, 1));
    } else {
        const int64_t t = T;
        int32_t x = vae_graph_input(enc, &t, 1);
        int32_t h = vae_graph_embedding(enc, x, V, EMB);
        vae_graph_set_output(enc, vae_graph_lstm(enc, h, HID, -1, x, 0));
        int32_t xd = vae_graph_data(dec, &t, 1);
        int32_t in = vae_graph_shift_right(dec, xd, BOS);
        int32_t e = vae_graph_embedding_shared(dec, in, V, EMB);
        int32_t init = vae_graph_tanh(dec, vae_graph_dense(dec, 0, 2 * HID));
        h = vae_graph_lstm(dec, e, HID, init, xd, 1);
        vae_graph_set_output(dec, vae_graph_dense(dec, h, V));
    }
}

static void fail_at(job *j, const char *what, int32_t st, const char *msg)
{
    j->status = st;
    j->failed = what;
    snprintf(j->msg, sizeof j->msg, "%s", msg ? msg : "");
}

/* Runs `call`; on failure records it with the handle's message. */
#define STEP(call, msg)                                                     \
    do {                                                                    \
        int32_t st_ = (call);                                               \
        if (st_ != VAE_OK) {                                                \
            fail_at(j, #call, st_, (msg));                                  \
            goto done;                                                      \
        }                                                                   \
    } while (0)

/* save_to_buffer into a new allocation. */
static int32_t save_copy(vae_model *m, const vae_adam *o, unsigned char **buf,
                         size_t *len)
{
    size_t size = 0;
    int32_t st = vae_model_save_size(m, o, &size);
    if (st != VAE_OK)
        return st;
    *buf = malloc(size);
    if (!*buf)
        return VAE_ERR_NOMEM;
    return vae_model_save_to_buffer(m, o, *buf, size, len);
}

static void run_job(job *j)
{
    vae_graph *enc = NULL, *dec = NULL;
    vae_model *m = NULL, *copy = NULL, *back = NULL;
    vae_adam *o = NULL, *copy_o = NULL, *back_o = NULL;
    char err[256] = "";
    float x[16 * 64];
    const kind k = j->kind;
    const int64_t B = batch_of(k);

    j->status = VAE_OK;
    make_data(k, j->seed, x);
    STEP(vae_graph_new(&enc), "");
    STEP(vae_graph_new(&dec), "");
    build_graphs(k, enc, dec);
    STEP(vae_graph_status(enc), vae_graph_last_error(enc));
    STEP(vae_graph_status(dec), vae_graph_last_error(dec));
    STEP(vae_model_new(enc, dec, latent_of(k),
                       k == KIND_TEXT ? VAE_LIKELIHOOD_CATEGORICAL
                                      : VAE_LIKELIHOOD_BERNOULLI,
                       j->seed, &m, err, sizeof err), err);
    STEP(vae_adam_new(m, 1e-2, &o, err, sizeof err), err);
    STEP(vae_model_set_seed(m, j->seed + 1), vae_model_last_error(m));
    for (int s = 0; s < STEPS; s++)
        STEP(vae_model_train_step(m, o, x, B, &j->elbo[s], NULL, NULL),
             vae_model_last_error(m));
    STEP(save_copy(m, o, &j->saved, &j->saved_len), vae_model_last_error(m));

    /* A copy from the buffer generates; the file written by the model
     * resumes training. */
    STEP(vae_model_load_from_buffer(j->saved, j->saved_len, &copy, &copy_o,
                                    err, sizeof err), err);
    STEP(vae_model_set_seed(copy, 99), vae_model_last_error(copy));
    if (k == KIND_TEXT) {
        float z[N_GEN * 3];
        STEP(vae_model_random_uniform(copy, N_GEN * 3, z),
             vae_model_last_error(copy));
        STEP(vae_model_generate(copy, z, N_GEN, VAE_DECODE_SAMPLE, 1.0, 0, 0,
                                EOS, T, j->gen, NULL),
             vae_model_last_error(copy));
    } else {
        STEP(vae_model_sample(copy, N_GEN, NULL, j->gen),
             vae_model_last_error(copy));
    }
    STEP(vae_model_save(m, o, j->path), vae_model_last_error(m));
    STEP(vae_model_load(j->path, &back, &back_o, err, sizeof err), err);
    for (int s = 0; s < MORE; s++)
        STEP(vae_model_train_step(back, back_o, x, B, &j->elbo[STEPS + s],
                                  NULL, NULL),
             vae_model_last_error(back));
    STEP(save_copy(back, back_o, &j->resumed, &j->resumed_len),
         vae_model_last_error(back));
done:
    vae_graph_free(enc);
    vae_graph_free(dec);
    vae_model_free(m);
    vae_model_free(copy);
    vae_model_free(back);
    vae_adam_free(o);
    vae_adam_free(copy_o);
    vae_adam_free(back_o);
}

static void *job_thread(void *arg)
{
    run_job(arg);
    return NULL;
}

static void job_free(job *j)
{
    free(j->saved);
    free(j->resumed);
}

static void expect_ok(const job *j)
{
    if (j->status != VAE_OK)
        fail_msg("%s job: %s returned %d (%s)", kind_name[j->kind], j->failed,
                 (int)j->status, j->msg);
}

/* Everything a job produced, byte for byte. */
static void expect_same(const job *a, const job *b)
{
    expect_ok(a);
    expect_ok(b);
    assert_memory_equal(a->elbo, b->elbo, sizeof a->elbo);
    assert_int_equal(a->saved_len, b->saved_len);
    assert_memory_equal(a->saved, b->saved, a->saved_len);
    assert_int_equal(a->resumed_len, b->resumed_len);
    assert_memory_equal(a->resumed, b->resumed, a->resumed_len);
    assert_memory_equal(a->gen, b->gen, sizeof a->gen);
}

typedef struct fixture {
    char dir[64];
    char path[2 * N_KINDS + N_KINDS][96];
    int32_t blas_threads;
} fixture;

/* One BLAS thread: results are bit-identical only for a fixed BLAS thread
 * count, and OpenBLAS shares one pool between all callers, so what a
 * model computes next to others could otherwise depend on the pool. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/vae-threads.XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    for (int i = 0; i < TU_COUNT(f->path); i++)
        snprintf(f->path[i], sizeof f->path[i], "%s/job%d.vae", f->dir, i);
    f->blas_threads = vae_get_num_threads();
    vae_set_num_threads(1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < TU_COUNT(f->path); i++)
        unlink(f->path[i]);
    rmdir(f->dir);
    if (f->blas_threads >= 1)
        vae_set_num_threads(f->blas_threads);
    free(f);
    return 0;
}

/* Each family alone, then two copies of each (same seed) in six threads at
 * once: all equal to the lone run. The seeds differ between families, and
 * a lone run with another seed must differ, so equality is not vacuous. */
static void test_concurrent_equals_alone(void **state)
{
    fixture *f = *state;
    job alone[N_KINDS], together[2 * N_KINDS];
    pthread_t tid[2 * N_KINDS];
    memset(alone, 0, sizeof alone);
    memset(together, 0, sizeof together);
    for (int k = 0; k < N_KINDS; k++) {
        alone[k] = (job){.kind = (kind)k, .seed = 11 + 7 * (uint64_t)k,
                         .path = f->path[k]};
        run_job(&alone[k]);
        expect_ok(&alone[k]);
    }
    for (int i = 0; i < 2 * N_KINDS; i++) {
        together[i] = (job){.kind = (kind)(i % N_KINDS),
                            .seed = alone[i % N_KINDS].seed,
                            .path = f->path[N_KINDS + i]};
        assert_int_equal(pthread_create(&tid[i], NULL, job_thread,
                                        &together[i]), 0);
    }
    for (int i = 0; i < 2 * N_KINDS; i++)
        assert_int_equal(pthread_join(tid[i], NULL), 0);
    for (int i = 0; i < 2 * N_KINDS; i++)
        expect_same(&together[i], &alone[i % N_KINDS]);

    for (int k = 0; k < N_KINDS; k++) {
        job other = {.kind = (kind)k, .seed = alone[k].seed + 1,
                     .path = f->path[k]};
        run_job(&other);
        expect_ok(&other);
        assert_memory_not_equal(other.elbo, alone[k].elbo, sizeof other.elbo);
        assert_memory_not_equal(other.gen, alone[k].gen, sizeof other.gen);
        job_free(&other);
    }
    for (int i = 0; i < N_KINDS; i++)
        job_free(&alone[i]);
    for (int i = 0; i < 2 * N_KINDS; i++)
        job_free(&together[i]);
}

/* The recipe of docs/threading.md: one saved buffer, read by every thread
 * at once (the library only reads a caller's buffer), one model copy per
 * thread. Each copy generates and saves exactly what a lone copy does. */
typedef struct reader {
    const unsigned char *buf;
    size_t len;
    int32_t status;
    char msg[256];
    float gen[N_GEN * T];
    unsigned char *saved;
    size_t saved_len;
} reader;

static void *read_copy(void *arg)
{
    reader *r = arg;
    vae_model *m = NULL;
    vae_adam *o = NULL;
    float z[N_GEN * 3] = {0.5f, -1.0f, 0.25f, 2.0f, 0.0f, -0.5f, 1.0f, 1.5f,
                          -2.0f};
    r->status = vae_model_load_from_buffer(r->buf, r->len, &m, &o, r->msg,
                                           sizeof r->msg);
    if (r->status == VAE_OK)
        r->status = vae_model_set_seed(m, 5);
    if (r->status == VAE_OK)
        r->status = vae_model_generate(m, z, N_GEN, VAE_DECODE_TOP_K, 0.8, 4,
                                       0, EOS, T, r->gen, NULL);
    if (r->status == VAE_OK)
        r->status = save_copy(m, o, &r->saved, &r->saved_len);
    if (r->status != VAE_OK && m)
        snprintf(r->msg, sizeof r->msg, "%s", vae_model_last_error(m));
    vae_model_free(m);
    vae_adam_free(o);
    return NULL;
}

static void test_shared_buffer_copies(void **state)
{
    fixture *f = *state;
    enum { N = 4 };
    job src = {.kind = KIND_TEXT, .seed = 3, .path = f->path[0]};
    run_job(&src);
    expect_ok(&src);

    reader lone = {.buf = src.saved, .len = src.saved_len};
    read_copy(&lone);
    if (lone.status != VAE_OK)
        fail_msg("lone copy: status %d (%s)", (int)lone.status, lone.msg);

    reader r[N];
    pthread_t tid[N];
    for (int i = 0; i < N; i++) {
        r[i] = (reader){.buf = src.saved, .len = src.saved_len};
        assert_int_equal(pthread_create(&tid[i], NULL, read_copy, &r[i]), 0);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_join(tid[i], NULL), 0);
    for (int i = 0; i < N; i++) {
        if (r[i].status != VAE_OK)
            fail_msg("copy %d: status %d (%s)", i, (int)r[i].status, r[i].msg);
        assert_memory_equal(r[i].gen, lone.gen, sizeof lone.gen);
        assert_int_equal(r[i].saved_len, lone.saved_len);
        assert_memory_equal(r[i].saved, lone.saved, lone.saved_len);
        free(r[i].saved);
    }
    free(lone.saved);
    job_free(&src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_equals_alone),
        cmocka_unit_test(test_shared_buffer_copies),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
