/* The worker pool (src/pool.c) and what runs on it.
 *
 * The pool itself: every task of a loop runs exactly once, whatever the
 * thread count; ranges cover [0, n) exactly; a loop started inside a task
 * runs on that thread; the thread count reads back.
 *
 * The library on it: models of every kind the issue names (dense, conv,
 * LSTM text with teacher forcing and masks, batch norm in training, the
 * importance-weighted bound, a bag-of-words auxiliary loss, a condition
 * with the encoder's own Gaussian and a learned-variance likelihood),
 * sized so that the loops and products really are split, train a few
 * steps with 1, 2 and 3 threads, each count twice. Same thread count, same bytes is the
 * contract. Across counts, the library's own loops keep each value's
 * arithmetic, and the products (src/gemm.c) do when their kernels give the
 * same sums split and whole (libvae's AVX-512 product always; OpenBLAS's
 * AVX-512 kernels): the test asks the products, and then requires one
 * thread's bytes from every count; otherwise (OpenBLAS's Haswell kernels)
 * the same numbers to a few units in the last place.
 *
 * Then three handles training at once on a pool of 2 (one owns the pool,
 * the others run their loops alone) give the bytes of each alone, and a
 * forked child, which has no workers, trains as the parent does, and
 * again after growing its pool (except under ThreadSanitizer, which does
 * not let such a child start threads). The suite's tsan phase runs all of
 * this under ThreadSanitizer. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <math.h>

#include "gemm.h"
#include "pool.h"
#include "testutil.h"

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

/* ---- The pool ----------------------------------------------------------- */

enum { N_TASKS = 1000 };

typedef struct counts {
    int hits[N_TASKS];
} counts;

static void count_task(void *ctx, int64_t t)
{
    ((counts *)ctx)->hits[t]++;
}

/* A task that starts a loop of its own: it must run on this thread. */
static void nested_task(void *ctx, int64_t t)
{
    counts *c = ctx;
    counts inner;
    memset(&inner, 0, sizeof inner);
    vae_parallel_for(10, count_task, &inner);
    for (int i = 0; i < 10; i++)
        c->hits[t] += inner.hits[i];
}

static void count_range(void *ctx, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++)
        ((counts *)ctx)->hits[i]++;
}

static void test_tasks_run_once(void **state)
{
    (void)state;
    const int32_t sizes[] = {1, 2, 3, 8, 1};
    for (int s = 0; s < TU_COUNT(sizes); s++) {
        assert_int_equal(vae_set_num_threads(sizes[s]), VAE_OK);
        assert_int_equal(vae_get_num_threads(), sizes[s] > 1 ? sizes[s] : 1);
        assert_int_equal(vae_pool_threads(), sizes[s]);
        for (int64_t n = 0; n <= N_TASKS; n += n < 5 ? 1 : 333) {
            counts *c = calloc(1, sizeof *c);
            assert_non_null(c);
            vae_parallel_for(n, count_task, c);
            for (int64_t t = 0; t < N_TASKS; t++)
                assert_int_equal(c->hits[t], t < n ? 1 : 0);
            memset(c, 0, sizeof *c);
            vae_parallel_ranges(n, 7, count_range, c);
            for (int64_t t = 0; t < N_TASKS; t++)
                assert_int_equal(c->hits[t], t < n ? 1 : 0);
            free(c);
        }
        counts *c = calloc(1, sizeof *c);
        assert_non_null(c);
        vae_parallel_for(50, nested_task, c);
        for (int t = 0; t < 50; t++)
            assert_int_equal(c->hits[t], 10);
        free(c);
        /* vae_parallel_zero clears exactly its floats, below and above one
         * range per thread. */
        const int64_t lengths[] = {0, 1, 4 * VAE_POOL_GRAIN + 1, 400001};
        for (int k = 0; k < TU_COUNT(lengths); k++) {
            int64_t n = lengths[k];
            float *v = malloc((size_t)(n + 2) * sizeof *v);
            assert_non_null(v);
            for (int64_t i = 0; i < n + 2; i++)
                v[i] = 1.0f;
            vae_parallel_zero(v + 1, n);
            for (int64_t i = 0; i < n + 2; i++)
                if (v[i] != (i == 0 || i == n + 1 ? 1.0f : 0.0f))
                    fail_msg("parallel_zero of %lld floats, %d threads: "
                             "v[%lld] = %g", (long long)n, sizes[s],
                             (long long)i, (double)v[i]);
            free(v);
        }
    }
    assert_int_equal(vae_set_num_threads(0), VAE_ERR_RANGE);
    assert_int_equal(vae_set_num_threads(1025), VAE_ERR_RANGE);
    assert_int_equal(vae_get_num_threads(), 1);
}

/* Two products at once (vae_sgemm_pair): the pair of a dense layer's
 * backward at the mlp benchmark's latent side (too small to split: side by
 * side, one per thread) and a pair large enough to split, at 1, 2 and 3
 * threads; each C must be what the product gives whole on one thread (C
 * starts non-zero: beta 1 adds to it). A pair that ran one product twice,
 * or wrote one C into the other, fails it. */
static float pattern(int64_t i, int64_t mult, int64_t mod)
{
    return (float)((i * mult) % mod) / (float)mod - 0.5f;
}

static void test_sgemm_pair(void **state)
{
    (void)state;
    const int64_t dims[2][3] = {{128, 20, 400}, {256, 320, 400}};
    for (int s = 0; s < 2; s++) {
        const int64_t rows = dims[s][0], fan_in = dims[s][1],
                      units = dims[s][2];
        const int64_t size[2] = {units * fan_in, rows * fan_in};
        float *dy = tu_alloc((size_t)(rows * units) * sizeof(float));
        float *x = tu_alloc((size_t)(rows * fan_in) * sizeof(float));
        float *w = tu_alloc((size_t)(units * fan_in) * sizeof(float));
        float *want[2], *got[2];
        for (int64_t i = 0; i < rows * units; i++)
            dy[i] = pattern(i, 7919, 1009);
        for (int64_t i = 0; i < rows * fan_in; i++)
            x[i] = pattern(i, 104729, 997);
        for (int64_t i = 0; i < units * fan_in; i++)
            w[i] = pattern(i, 15485863, 991);
        for (int k = 0; k < 2; k++) {
            want[k] = tu_alloc((size_t)size[k] * sizeof(float));
            got[k] = tu_alloc((size_t)size[k] * sizeof(float));
            for (int64_t i = 0; i < size[k]; i++)
                want[k][i] = pattern(i, 31, 13);
        }
        /* dW += dy^T x and dx += dy w, each whole on this thread. */
        vae_sgemm_one(1, 0, units, fan_in, rows, 1.0f, dy, units, x, fan_in,
                      1.0f, want[0], fan_in);
        vae_sgemm_one(0, 0, rows, fan_in, units, 1.0f, dy, units, w, fan_in,
                      1.0f, want[1], fan_in);
        for (int32_t threads = 1; threads <= 3; threads++) {
            assert_int_equal(vae_set_num_threads(threads), VAE_OK);
            for (int k = 0; k < 2; k++)
                for (int64_t i = 0; i < size[k]; i++)
                    got[k][i] = pattern(i, 31, 13);
            const vae_gemm dw = {1, 0, units, fan_in, rows, 1.0f, dy, units,
                                 x, fan_in, 1.0f, got[0], fan_in, NULL, NULL};
            const vae_gemm dx = {0, 0, rows, fan_in, units, 1.0f, dy, units,
                                 w, fan_in, 1.0f, got[1], fan_in, NULL, NULL};
            vae_sgemm_pair(&dw, &dx);
            for (int k = 0; k < 2; k++) {
                const char *what = k ? "dx" : "dW";
                /* A split product may end in other last bits with
                 * OpenBLAS's Haswell kernels (products_split_exactly). */
                if (memcmp(got[k], want[k], (size_t)size[k] * sizeof(float))
                        && (s == 0 || threads == 1))
                    fail_msg("pair %d, %s, %d threads: not the whole "
                             "product's bytes", s, what, (int)threads);
                for (int64_t i = 0; i < size[k]; i++)
                    if (!(fabsf(got[k][i] - want[k][i]) <=
                          1e-5f * (1.0f + fabsf(want[k][i]))))
                        fail_msg("pair %d, %s, %d threads: element %lld is "
                                 "%.9g, not %.9g", s, what, (int)threads,
                                 (long long)i, got[k][i], want[k][i]);
            }
        }
        for (int k = 0; k < 2; k++) {
            free(want[k]);
            free(got[k]);
        }
        free(dy);
        free(x);
        free(w);
    }
    assert_int_equal(vae_set_num_threads(1), VAE_OK);
}

/* ---- Models on the pool ------------------------------------------------- */

typedef enum {
    M_DENSE,    /* dense, relu, Bernoulli */
    M_CONV,     /* conv, transposed conv, Bernoulli */
    M_TEXT,     /* embedding, masked LSTMs, teacher forcing, categorical */
    M_BN,       /* batch norm (batch statistics couple the rows) */
    M_IWAE,     /* the importance-weighted bound of 3 samples */
    M_BOW,      /* an auxiliary bag-of-words loss */
    M_COND,     /* a condition, the encoder's own Gaussian (mu through batch
                   norm), a learned-variance Gaussian likelihood */
    N_MODELS
} model_kind;

enum { STEPS = 3, SEQ = 12, VOCAB = 40, BATCH = 64, COND = 5 };

static const char *const model_name[N_MODELS] = {"dense", "conv", "text",
                                                 "batch_norm", "iwae", "bow",
                                                 "conditional"};

static int64_t data_size(model_kind k)
{
    return k == M_CONV ? 28 * 28 : k == M_TEXT || k == M_BOW ? SEQ : 200;
}

static vae_model *build(model_kind k)
{
    vae_graph *enc, *dec;
    assert_int_equal(vae_graph_new(&enc), VAE_OK);
    assert_int_equal(vae_graph_new(&dec), VAE_OK);
    const int64_t lat = 8, d = data_size(k), seq = SEQ;
    int32_t z = vae_graph_input(dec, &lat, 1);
    int32_t h;
    int32_t likelihood = VAE_LIKELIHOOD_BERNOULLI;
    if (k == M_CONV) {
        const int64_t img[3] = {1, 28, 28}, maps[3] = {16, 7, 7};
        h = vae_graph_input(enc, img, 3);
        h = vae_graph_relu(enc, vae_graph_conv2d(enc, h, 8, 4, 2, 1));
        h = vae_graph_relu(enc, vae_graph_conv2d(enc, h, 16, 4, 2, 1));
        vae_graph_set_output(enc, vae_graph_dense(enc,
                                                  vae_graph_flatten(enc, h),
                                                  64));
        h = vae_graph_relu(dec, vae_graph_dense(dec, z, 16 * 7 * 7));
        h = vae_graph_reshape(dec, h, maps, 3);
        h = vae_graph_relu(dec, vae_graph_conv2d_transpose(dec, h, 8, 4, 2, 1));
        vae_graph_set_output(dec, vae_graph_conv2d_transpose(dec, h, 1, 4, 2,
                                                             1));
    } else if (k == M_TEXT || k == M_BOW) {
        likelihood = VAE_LIKELIHOOD_CATEGORICAL;
        int32_t x = vae_graph_input(enc, &seq, 1);
        h = vae_graph_embedding(enc, x, VOCAB, 16);
        vae_graph_set_output(enc, vae_graph_lstm(enc, h, 32, -1, x, 0));
        int32_t xd = vae_graph_data(dec, &seq, 1);
        int32_t e = vae_graph_embedding_shared(
            dec, vae_graph_shift_right(dec, xd, 1.0f), VOCAB, 16);
        int32_t init = vae_graph_tanh(dec, vae_graph_dense(dec, z, 64));
        h = vae_graph_lstm(dec, e, 32, init, xd, 1);
        if (k == M_BOW)
            vae_graph_bag_of_words(dec, vae_graph_dense(dec, z, VOCAB), xd,
                                   0.5f);
        vae_graph_set_output(dec, vae_graph_dense(dec, h, VOCAB));
    } else if (k == M_COND) {
        likelihood = VAE_LIKELIHOOD_GAUSSIAN_LEARNED;
        int32_t x = vae_graph_input(enc, &d, 1);
        h = vae_graph_concat(enc, x, vae_graph_condition(enc, COND));
        h = vae_graph_relu(enc, vae_graph_dense(enc, h, 300));
        int32_t mu = vae_graph_batch_norm(enc, vae_graph_dense(enc, h, lat),
                                          0.5f);
        vae_graph_set_output(enc, vae_graph_gaussian(
                                      enc, mu, vae_graph_dense(enc, h, lat)));
        h = vae_graph_concat(dec, z, vae_graph_condition(dec, COND));
        h = vae_graph_relu(dec, vae_graph_dense(dec, h, 300));
        vae_graph_set_output(dec, vae_graph_dense(dec, h, 2 * d));
    } else {
        h = vae_graph_dense(enc, vae_graph_input(enc, &d, 1), 300);
        if (k == M_BN)
            h = vae_graph_batch_norm(enc, h, 1.0f);
        vae_graph_set_output(enc, vae_graph_relu(enc, h));
        h = vae_graph_relu(dec, vae_graph_dense(dec, z, 300));
        vae_graph_set_output(dec, vae_graph_dense(dec, h, d));
    }
    if (vae_graph_status(enc) != VAE_OK || vae_graph_status(dec) != VAE_OK)
        fail_msg("%s: encoder: %s; decoder: %s", model_name[k],
                 vae_graph_last_error(enc), vae_graph_last_error(dec));
    vae_model *m = NULL;
    char err[256] = "";
    int32_t st = vae_model_new(enc, dec, lat, likelihood, 5, &m, err,
                               sizeof err);
    vae_graph_free(enc);
    vae_graph_free(dec);
    if (st != VAE_OK)
        fail_msg("vae_model_new: %s", err);
    if (k == M_IWAE)
        assert_int_equal(vae_model_set_train_samples(m, 3), VAE_OK);
    return m;
}

static void make_data(model_kind k, float *x)
{
    tu_rng r;
    tu_seed(&r, 17 + (uint64_t)k);
    int64_t n = BATCH * data_size(k);
    if (k != M_TEXT && k != M_BOW) {
        tu_fill_uniform(&r, x, n, 0.0, 1.0);
        return;
    }
    /* Sentences of different lengths, padded with 0. */
    for (int64_t b = 0; b < BATCH; b++)
        for (int64_t t = 0; t < SEQ; t++)
            x[b * SEQ + t] = t < 3 + b % (SEQ - 3)
                                 ? (float)(2 + (int)tu_uniform(&r, 0, VOCAB - 2))
                                 : 0.0f;
}

/* What a run leaves: each step's ELBO and the parameters after it. */
typedef struct outcome {
    int32_t status;
    double elbo[STEPS];
    float *params;
    int64_t n;
} outcome;

/* Trains model k for STEPS Adam steps on the calling thread. Records
 * rather than asserts: it also runs on threads of its own. */
static void train(model_kind k, outcome *o)
{
    vae_model *m = build(k);
    vae_adam *opt = NULL;
    float *x = tu_alloc((size_t)(BATCH * data_size(k)) * sizeof *x);
    make_data(k, x);
    o->status = vae_adam_new(m, 1e-3, &opt, NULL, 0);
    if (k == M_COND && o->status == VAE_OK) {
        float cond[BATCH * COND];
        tu_rng r;
        tu_seed(&r, 29);
        tu_fill_uniform(&r, cond, BATCH * COND, -1.0, 1.0);
        o->status = vae_model_set_condition(m, cond, BATCH);
    }
    for (int s = 0; s < STEPS && o->status == VAE_OK; s++)
        o->status = vae_model_train_step(m, opt, x, BATCH, &o->elbo[s], NULL,
                                         NULL);
    o->n = vae_model_num_params(m);
    o->params = tu_dup(vae_model_params(m), o->n);
    vae_adam_free(opt);
    vae_model_free(m);
    free(x);
}

static void expect_same(const outcome *a, const outcome *b, const char *what)
{
    assert_int_equal(a->status, VAE_OK);
    assert_int_equal(b->status, VAE_OK);
    assert_int_equal(a->n, b->n);
    if (memcmp(a->elbo, b->elbo, sizeof a->elbo) ||
        memcmp(a->params, b->params, (size_t)a->n * sizeof(float)))
        fail_msg("%s: different bytes", what);
}

/* Whether the library's product (vae_sgemm_one: its AVX-512 product, or
 * OpenBLAS's) computes a product's columns split in two as it does whole,
 * bit for bit, for products of these models' kinds (forward, weight
 * gradient, input gradient, im2col) with halves as large as the blocks
 * src/gemm.c makes: above OpenBLAS's routes for small products. */
static int products_split_exactly(void)
{
    const int shapes[][5] = {/* ta, tb, m, n, k */
                             {0, 1, 128, 784, 400},
                             {1, 0, 400, 784, 128},
                             {0, 0, 128, 400, 784},
                             {1, 0, 128, 1176, 16}};
    int exact = 1;
    tu_rng r;
    tu_seed(&r, 3);
    for (int s = 0; s < TU_COUNT(shapes); s++) {
        int ta = shapes[s][0], tb = shapes[s][1], m = shapes[s][2],
            n = shapes[s][3], k = shapes[s][4], h = n / 2 / 16 * 16;
        float *a = tu_alloc((size_t)(m * k) * sizeof *a);
        float *b = tu_alloc((size_t)(k * n) * sizeof *b);
        float *whole = tu_alloc((size_t)(m * n) * sizeof *whole);
        float *split = tu_alloc((size_t)(m * n) * sizeof *split);
        tu_fill_uniform(&r, a, m * k, -1.0, 1.0);
        tu_fill_uniform(&r, b, k * n, -1.0, 1.0);
        int lda = ta ? m : k, ldb = tb ? k : n;
        vae_sgemm_one(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, whole, n);
        vae_sgemm_one(ta, tb, m, h, k, 1.0f, a, lda, b, ldb, 0.0f, split, n);
        vae_sgemm_one(ta, tb, m, n - h, k, 1.0f, a, lda,
                      b + (tb ? h * ldb : h), ldb, 0.0f, split + h, n);
        exact &= !memcmp(whole, split, (size_t)(m * n) * sizeof *whole);
        free(a);
        free(b);
        free(whole);
        free(split);
    }
    return exact;
}

/* Not the same bytes: the same numbers up to products' last bits, carried
 * through three steps. */
static void expect_close(const outcome *a, const outcome *b, const char *what)
{
    assert_int_equal(a->status, VAE_OK);
    assert_int_equal(b->status, VAE_OK);
    for (int s = 0; s < STEPS; s++)
        if (!(fabs(a->elbo[s] - b->elbo[s]) <= 1e-5 * fabs(b->elbo[s])))
            fail_msg("%s: step %d elbo %.9g against %.9g", what, s,
                     a->elbo[s], b->elbo[s]);
}

static void test_same_bytes_same_thread_count(void **state)
{
    (void)state;
    assert_int_equal(vae_set_num_threads(1), VAE_OK);
    int exact = products_split_exactly();
    print_message("the library's products split %s: %s\n",
                  exact ? "exactly" : "with other last bits",
                  exact ? "every count must give one thread's bytes"
                        : "counts are compared to 1e-5");
    const int32_t counts_[] = {1, 2, 3};
    for (int k = 0; k < N_MODELS; k++) {
        outcome one = {0};
        for (int i = 0; i < TU_COUNT(counts_); i++) {
            assert_int_equal(vae_set_num_threads(counts_[i]), VAE_OK);
            outcome o[2] = {{0}};
            train((model_kind)k, &o[0]);
            train((model_kind)k, &o[1]);
            char what[64];
            snprintf(what, sizeof what, "%s, %d threads twice", model_name[k],
                     (int)counts_[i]);
            expect_same(&o[1], &o[0], what);
            snprintf(what, sizeof what, "%s, %d threads against 1",
                     model_name[k], (int)counts_[i]);
            if (i == 0) {
                one = o[0];
            } else {
                if (exact)
                    expect_same(&o[0], &one, what);
                expect_close(&o[0], &one, what);
                free(o[0].params);
            }
            free(o[1].params);
        }
        print_message("%-10s 1, 2, 3 threads: each the same bytes twice "
                      "(elbo %.6f)\n", model_name[k], one.elbo[STEPS - 1]);
        free(one.params);
    }
    assert_int_equal(vae_set_num_threads(1), VAE_OK);
}

typedef struct job {
    model_kind k;
    outcome o;
} job;

static void *job_thread(void *arg)
{
    job *j = arg;
    train(j->k, &j->o);
    return NULL;
}

/* Three handles at once on a pool of two: whichever gets the pool, each
 * gives the bytes of its lone run. */
static void test_two_handles_share_pool(void **state)
{
    (void)state;
    assert_int_equal(vae_set_num_threads(2), VAE_OK);
    const model_kind kinds[] = {M_CONV, M_TEXT, M_DENSE};
    outcome alone[3];
    for (int i = 0; i < 3; i++)
        train(kinds[i], &alone[i]);
    job jobs[3];
    pthread_t tid[3];
    for (int i = 0; i < 3; i++) {
        jobs[i] = (job){.k = kinds[i]};
        assert_int_equal(pthread_create(&tid[i], NULL, job_thread, &jobs[i]),
                         0);
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_join(tid[i], NULL), 0);
    for (int i = 0; i < 3; i++) {
        expect_same(&jobs[i].o, &alone[i], model_name[kinds[i]]);
        free(jobs[i].o.params);
        free(alone[i].params);
    }
    assert_int_equal(vae_set_num_threads(1), VAE_OK);
}

/* fork() copies no threads: the child's loops run on its one thread, and
 * it computes what the parent does. */
static void test_fork_child_trains(void **state)
{
    (void)state;
    assert_int_equal(vae_set_num_threads(2), VAE_OK);
    outcome parent;
    train(M_CONV, &parent);
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        outcome child;
        train(M_CONV, &child);
        int same = child.status == VAE_OK &&
                   !memcmp(child.elbo, parent.elbo, sizeof child.elbo) &&
                   !memcmp(child.params, parent.params,
                           (size_t)child.n * sizeof(float));
        /* Growing the pool again in the child starts new workers; not
         * under ThreadSanitizer, which ends a child of a multi-threaded
         * process that starts a thread. */
        if (!UNDER_TSAN) {
            int grown = vae_set_num_threads(2) == VAE_OK;
            outcome again;
            train(M_CONV, &again);
            same &= grown && again.status == VAE_OK &&
                    !memcmp(again.params, parent.params,
                            (size_t)again.n * sizeof(float));
        }
        char c = same ? 'y' : 'n';
        _exit(write(fd[1], &c, 1) == 1 ? 0 : 1);
    }
    close(fd[1]);
    char c = 0;
    assert_int_equal(read(fd[0], &c, 1), 1);
    close(fd[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(c, 'y');
    free(parent.params);
    assert_int_equal(vae_set_num_threads(1), VAE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tasks_run_once),
        cmocka_unit_test(test_sgemm_pair),
        cmocka_unit_test(test_same_bytes_same_thread_count),
        cmocka_unit_test(test_two_handles_share_pool),
        cmocka_unit_test(test_fork_child_trains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
