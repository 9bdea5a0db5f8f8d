/* vae-bench - trains the three benchmark models of issue 6 through the
 * public API alone and reports, per model and BLAS thread count:
 *
 *   samples/s     batch / median step time (vae_model_train_step: zero_grad,
 *                 ELBO gradient, Adam) over the timed steps after warm-up
 *   GFLOP/s       the model's analytic FLOPs per step / median step time;
 *                 FLOPs = 3 x forward matrix-product FLOPs, 2 per
 *                 multiply-add (the rule)
 *   peak RSS      getrusage ru_maxrss after the timed steps, in a process
 *                 that built only this model
 *   start-up      from the first vae_* call (vae_set_num_threads) to a model
 *                 and optimizer ready to train (graphs, vae_model_new,
 *                 vae_adam_new). With --t0 (the launcher's wall clock at
 *                 launch) also launch-to-model: exec, dynamic loading of
 *                 libvae and OpenBLAS, their initialisation, then the same
 *                 build
 *
 * and for lstm_text the generation target: ms per token of
 * vae_model_generate (greedy, 32 sequences, 100 tokens, no eos) against a
 * naive generator that scores every prefix again, emulated by
 * vae_model_log_likelihood on prefixes of t = 1..100 tokens (the rest
 * padding) of the generated sequences, one call per token.
 *
 * Data are random and made before the clock: pixels uniform in [0, 1),
 * token ids uniform in 1..9999 (no padding), a pool of a few batches used in
 * turn. --model all runs each model in a fresh process (this program again,
 * with --model), so that peak RSS and start-up belong to that model alone.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vae.h>

#include "cli.h"

#define PROG "vae-bench"
/* Distinct batches cycled through the steps, so that no step reads data
 * the previous one left in cache. */
#define POOL 4
#define SEED 1
#define LR 1e-3

/* Dimensions of the models (issue 6, "Model definitions"). */
enum {
    PIXELS = 784,
    MLP_HIDDEN = 400, MLP_LATENT = 20,
    CONV_C1 = 32, CONV_C2 = 64, CONV_K = 4, CONV_S = 2, CONV_P = 1,
    CONV_FC = 256, CONV_LATENT = 32,
    VOCAB = 10000, EMBED = 256, LSTM_H = 256, SEQ_T = 100, TEXT_LATENT = 32,
    BOS = 1
};

typedef struct bench_model {
    const char *name;
    int64_t batch, latent;
    int32_t likelihood;
    int64_t vocab; /* token ids in 1..vocab-1; 0: pixels in [0, 1) */
    void (*build)(vae_graph *enc, vae_graph *dec);
    double (*macs)(void); /* forward multiply-adds per example */
} bench_model;

/* ---- Analytic multiply-adds, layer by layer --------------------------- */

static double dense_macs(double in, double out) { return in * out; }

/* A convolution, or a transposed one counted over its input positions:
 * every (position, in channel, out channel, kernel tap) is one multiply-add. */
static double conv_macs(double cin, double cout, double k, double positions)
{
    return cin * cout * k * k * positions;
}

/* All four gates, input and recurrent products, at every step. */
static double lstm_macs(double t, double f, double h)
{
    return t * 4.0 * h * (f + h);
}

static double mlp_macs(void)
{
    return dense_macs(PIXELS, MLP_HIDDEN) +
           dense_macs(MLP_HIDDEN, 2 * MLP_LATENT) +
           dense_macs(MLP_LATENT, MLP_HIDDEN) + dense_macs(MLP_HIDDEN, PIXELS);
}

static double conv_model_macs(void)
{
    return conv_macs(1, CONV_C1, CONV_K, 14 * 14) +
           conv_macs(CONV_C1, CONV_C2, CONV_K, 7 * 7) +
           dense_macs(CONV_C2 * 7 * 7, CONV_FC) +
           dense_macs(CONV_FC, 2 * CONV_LATENT) +
           dense_macs(CONV_LATENT, CONV_FC) +
           dense_macs(CONV_FC, CONV_C2 * 7 * 7) +
           conv_macs(CONV_C2, CONV_C1, CONV_K, 7 * 7) +
           conv_macs(CONV_C1, 1, CONV_K, 14 * 14);
}

static double text_macs(void)
{
    return lstm_macs(SEQ_T, EMBED, LSTM_H) +
           dense_macs(LSTM_H, 2 * TEXT_LATENT) +
           dense_macs(TEXT_LATENT, 2 * LSTM_H) +
           lstm_macs(SEQ_T, EMBED + TEXT_LATENT, LSTM_H) +
           SEQ_T * dense_macs(LSTM_H, VOCAB);
}

/* ---- The models, built with the public API ---------------------------- */

static void build_mlp(vae_graph *enc, vae_graph *dec)
{
    const int64_t d = PIXELS, l = MLP_LATENT;
    int32_t h = vae_graph_dense(enc, vae_graph_input(enc, &d, 1), MLP_HIDDEN);
    vae_graph_set_output(enc, vae_graph_relu(enc, h));
    h = vae_graph_dense(dec, vae_graph_input(dec, &l, 1), MLP_HIDDEN);
    h = vae_graph_dense(dec, vae_graph_relu(dec, h), PIXELS);
    vae_graph_set_output(dec, h);
}

static void build_conv(vae_graph *enc, vae_graph *dec)
{
    const int64_t img[3] = {1, 28, 28}, l = CONV_LATENT;
    const int64_t maps[3] = {CONV_C2, 7, 7};
    int32_t h = vae_graph_input(enc, img, 3);
    h = vae_graph_relu(enc, vae_graph_conv2d(enc, h, CONV_C1, CONV_K, CONV_S,
                                             CONV_P));
    h = vae_graph_relu(enc, vae_graph_conv2d(enc, h, CONV_C2, CONV_K, CONV_S,
                                             CONV_P));
    h = vae_graph_dense(enc, vae_graph_flatten(enc, h), CONV_FC);
    vae_graph_set_output(enc, vae_graph_relu(enc, h));

    h = vae_graph_dense(dec, vae_graph_input(dec, &l, 1), CONV_FC);
    h = vae_graph_dense(dec, vae_graph_relu(dec, h), CONV_C2 * 7 * 7);
    h = vae_graph_reshape(dec, vae_graph_relu(dec, h), maps, 3);
    h = vae_graph_conv2d_transpose(dec, h, CONV_C1, CONV_K, CONV_S, CONV_P);
    h = vae_graph_conv2d_transpose(dec, vae_graph_relu(dec, h), 1, CONV_K,
                                   CONV_S, CONV_P);
    vae_graph_set_output(dec, h);
}

/* Bowman et al. 2016: the encoder's last h feeds the Gaussian head; the
 * decoder starts from (h0, c0) = dense(z) and reads [embed(x_{t-1}); z] at
 * step t. No masks: the data hold no padding, as in the PyTorch twin. */
static void build_text(vae_graph *enc, vae_graph *dec)
{
    const int64_t t = SEQ_T, l = TEXT_LATENT;
    int32_t x = vae_graph_input(enc, &t, 1);
    int32_t e = vae_graph_embedding(enc, x, VOCAB, EMBED);
    vae_graph_set_output(enc, vae_graph_lstm(enc, e, LSTM_H, -1, -1, 0));

    int32_t z = vae_graph_input(dec, &l, 1);
    int32_t prev = vae_graph_shift_right(dec, vae_graph_data(dec, &t, 1), BOS);
    e = vae_graph_embedding_shared(dec, prev, VOCAB, EMBED);
    int32_t in = vae_graph_concat(dec, e, vae_graph_repeat(dec, z, SEQ_T));
    int32_t init = vae_graph_dense(dec, z, 2 * LSTM_H);
    int32_t h = vae_graph_lstm(dec, in, LSTM_H, init, -1, 1);
    vae_graph_set_output(dec, vae_graph_dense(dec, h, VOCAB));
}

static const bench_model MODELS[] = {
    {"mlp", 128, MLP_LATENT, VAE_LIKELIHOOD_BERNOULLI, 0, build_mlp, mlp_macs},
    {"conv", 128, CONV_LATENT, VAE_LIKELIHOOD_BERNOULLI, 0, build_conv,
     conv_model_macs},
    {"lstm_text", 32, TEXT_LATENT, VAE_LIKELIHOOD_CATEGORICAL, VOCAB,
     build_text, text_macs},
};
#define N_MODELS (sizeof MODELS / sizeof *MODELS)

/* ---- Options ----------------------------------------------------------- */

typedef struct options {
    const bench_model *model; /* NULL: all, one process each */
    long threads, steps, warmup, gen_stride;
    int json;
    double t0; /* launcher's wall clock at launch (epoch seconds), or NAN */
} options;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " [--model mlp|conv|lstm_text|all] [--threads N] "
            "[--steps N] [--warmup N]\n"
            "                 [--gen-stride S] [--json] [--t0 SECONDS]\n"
            "  --model M       one model, or all (default), each in a fresh "
            "process\n"
            "  --threads N     BLAS threads (vae_set_num_threads), default 1\n"
            "  --steps N       timed training steps, default 20\n"
            "  --warmup N      untimed steps before them, default 3\n"
            "  --gen-stride S  lstm_text: score the prefixes of S, 2S, ... "
            "tokens for the\n"
            "                  naive generator (default 1: all 100)\n"
            "  --json          one JSON object per model instead of text\n"
            "  --t0 SECONDS    wall clock (epoch seconds, e.g. bash's "
            "$EPOCHREALTIME)\n"
            "                  when the launcher started this process\n");
}

static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){.threads = 1, .steps = 20, .warmup = 3, .gen_stride = 1,
                   .t0 = NAN};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long *num = !strcmp(a, "--threads")      ? &o->threads
                    : !strcmp(a, "--steps")      ? &o->steps
                    : !strcmp(a, "--warmup")     ? &o->warmup
                    : !strcmp(a, "--gen-stride") ? &o->gen_stride
                                                 : NULL;
        if (!strcmp(a, "--json")) {
            o->json = 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (!num && strcmp(a, "--model") && strcmp(a, "--t0")) {
            fprintf(stderr, PROG ": %s: unknown option\n", a);
            return -1;
        }
        if (!v) {
            fprintf(stderr, PROG ": %s: missing value\n", a);
            return -1;
        }
        i++;
        if (num) {
            long lo = num == &o->warmup ? 0 : 1;
            long hi = num == &o->gen_stride ? SEQ_T
                      : num == &o->threads  ? 1024
                                            : 1000000;
            if (bench_parse_long(v, lo, hi, num)) {
                fprintf(stderr, PROG ": %s %s: expected an integer in "
                        "%ld..%ld\n", a, v, lo, hi);
                return -1;
            }
        } else if (!strcmp(a, "--t0")) {
            char *end;
            o->t0 = strtod(v, &end);
            if (end == v || *end || !(o->t0 > 0.0)) {
                fprintf(stderr, PROG ": --t0 %s: expected seconds\n", v);
                return -1;
            }
        } else {
            o->model = NULL;
            for (size_t k = 0; k < N_MODELS; k++)
                if (!strcmp(v, MODELS[k].name))
                    o->model = &MODELS[k];
            if (!o->model && strcmp(v, "all")) {
                fprintf(stderr, PROG ": --model %s: expected mlp, conv, "
                        "lstm_text or all\n", v);
                return -1;
            }
        }
    }
    return 0;
}

/* ---- Helpers ------------------------------------------------------------ */

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now(void) { return clock_s(CLOCK_MONOTONIC); }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v in place. */
static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* splitmix64: the bench's own data generator, independent of libvae's. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s)
{
    return (double)(next_u64(s) >> 11) * 0x1.0p-53;
}

static float normal(uint64_t *s)
{
    double u1 = 1.0 - uniform(s), u2 = uniform(s);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

static int lib_fail(const char *what, int32_t st, const char *msg)
{
    fprintf(stderr, PROG ": %s: %s%s%s\n", what, vae_status_string(st),
            msg && *msg ? ": " : "", msg ? msg : "");
    return 1;
}

static int64_t peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)ru.ru_maxrss;
}

static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* ---- One model in this process ----------------------------------------- */

typedef struct result {
    double median_ms, min_ms, max_ms, samples_per_s, flops, gflops;
    double startup_ms, launch_ms, minflt_per_step, last_elbo;
    int64_t rss_kib, params;
    int32_t blas_threads;
    /* lstm_text generation; gen_prefixes 0 when not measured */
    double gen_ms_per_token, naive_ms_per_token;
    long gen_prefixes;
} result;

static int build_model(const bench_model *bm, vae_model **m)
{
    vae_graph *enc = NULL, *dec = NULL;
    char err[512] = "";
    int32_t st = vae_graph_new(&enc);
    if (st == VAE_OK)
        st = vae_graph_new(&dec);
    if (st != VAE_OK) {
        vae_graph_free(enc);
        return lib_fail("vae_graph_new", st, NULL);
    }
    bm->build(enc, dec);
    int rc = 0;
    if ((st = vae_graph_status(enc)) != VAE_OK)
        rc = lib_fail("encoder", st, vae_graph_last_error(enc));
    else if ((st = vae_graph_status(dec)) != VAE_OK)
        rc = lib_fail("decoder", st, vae_graph_last_error(dec));
    else if ((st = vae_model_new(enc, dec, bm->latent, bm->likelihood, SEED, m,
                                 err, sizeof err)) != VAE_OK)
        rc = lib_fail("vae_model_new", st, err);
    vae_graph_free(enc);
    vae_graph_free(dec);
    return rc;
}

static void fill_data(const bench_model *bm, float *x, int64_t n, uint64_t *s)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = bm->vocab ? (float)(1 + next_u64(s) % (uint64_t)(bm->vocab - 1))
                         : (float)uniform(s);
}

/* log p(x|z) of the first len ids of each row of y (the rest padding, put
 * in x): what a naive generator pays to choose one more token. *secs
 * receives the time of the call. */
static int score_prefix(vae_model *m, const float *z, const float *y,
                        float *x, int64_t batch, int64_t len, double *logp,
                        double *secs)
{
    for (int64_t b = 0; b < batch; b++)
        for (int64_t t = 0; t < SEQ_T; t++)
            x[b * SEQ_T + t] = t < len ? y[b * SEQ_T + t] : 0.0f;
    double t0 = now();
    int32_t st = vae_model_log_likelihood(m, z, x, batch, logp);
    *secs = now() - t0;
    return st == VAE_OK ? 0
                        : lib_fail("vae_model_log_likelihood", st,
                                   vae_model_last_error(m));
}

/* Greedy generation of SEQ_T tokens for the batch, timed like training;
 * then the naive generator: one log-likelihood pass over each prefix of the
 * generated ids (the rest padding), the cost of choosing one more token
 * when nothing is carried between tokens. */
static int bench_generation(vae_model *m, const options *o, int64_t batch,
                            result *r)
{
    const int64_t D = TEXT_LATENT, T = SEQ_T;
    float *z = malloc((size_t)(batch * D) * sizeof *z);
    float *y = malloc((size_t)(batch * T) * sizeof *y);
    float *x = malloc((size_t)(batch * T) * sizeof *x);
    double *logp = malloc((size_t)batch * sizeof *logp);
    double *times = malloc((size_t)o->steps * sizeof *times);
    int rc = 1;
    if (!z || !y || !x || !logp || !times) {
        fprintf(stderr, PROG ": out of memory\n");
        goto done;
    }
    uint64_t s = SEED + 1;
    for (int64_t i = 0; i < batch * D; i++)
        z[i] = normal(&s);

    for (long i = -o->warmup; i < o->steps; i++) {
        int64_t steps = 0;
        double t = now();
        int32_t st = vae_model_generate(m, z, batch, VAE_DECODE_GREEDY, 1.0, 0,
                                        0, -1, T, y, &steps);
        t = now() - t;
        if (st != VAE_OK) {
            rc = lib_fail("vae_model_generate", st, vae_model_last_error(m));
            goto done;
        }
        if (steps != T) {
            fprintf(stderr, PROG ": generate ran %lld decoder steps for %lld "
                    "tokens\n", (long long)steps, (long long)T);
            goto done;
        }
        if (i >= 0)
            times[i] = t;
    }
    r->gen_ms_per_token = 1e3 * median(times, (size_t)o->steps) / (double)T;

    /* A full-length pass first, untimed (warm-up). */
    double t;
    if (score_prefix(m, z, y, x, batch, T, logp, &t))
        goto done;
    double total = 0.0;
    long calls = 0;
    for (int64_t len = o->gen_stride; len <= T; len += o->gen_stride) {
        if (score_prefix(m, z, y, x, batch, len, logp, &t))
            goto done;
        total += t;
        calls++;
    }
    r->naive_ms_per_token = 1e3 * total / (double)calls;
    r->gen_prefixes = calls;
    rc = 0;
done:
    free(z);
    free(y);
    free(x);
    free(logp);
    free(times);
    return rc;
}

static int run_model(const bench_model *bm, const options *o, result *r)
{
    vae_model *m = NULL;
    vae_adam *opt = NULL;
    float *pool[POOL] = {NULL};
    double *times = NULL;
    char err[512] = "";
    int rc = 1;
    memset(r, 0, sizeof *r);

    double t_first = now();
    int32_t st = vae_set_num_threads((int32_t)o->threads);
    if (st != VAE_OK)
        return lib_fail("vae_set_num_threads", st, NULL);
    if (build_model(bm, &m))
        return 1;
    if ((st = vae_adam_new(m, LR, &opt, err, sizeof err)) != VAE_OK) {
        rc = lib_fail("vae_adam_new", st, err);
        goto done;
    }
    r->startup_ms = 1e3 * (now() - t_first);
    r->launch_ms = 1e3 * (clock_s(CLOCK_REALTIME) - o->t0);
    r->blas_threads = vae_get_num_threads();
    r->params = vae_model_num_params(m);

    const int64_t n = bm->batch * vae_model_data_size(m);
    uint64_t s = SEED;
    for (int k = 0; k < POOL; k++) {
        if (!(pool[k] = malloc((size_t)n * sizeof **pool))) {
            fprintf(stderr, PROG ": out of memory\n");
            goto done;
        }
        fill_data(bm, pool[k], n, &s);
    }
    if (!(times = malloc((size_t)o->steps * sizeof *times))) {
        fprintf(stderr, PROG ": out of memory\n");
        goto done;
    }

    long faults = 0;
    for (long i = -o->warmup; i < o->steps; i++) {
        if (i == 0)
            faults = minor_faults();
        double elbo, t = now();
        st = vae_model_train_step(m, opt, pool[(i + o->warmup) % POOL],
                                  bm->batch, &elbo, NULL, NULL);
        t = now() - t;
        if (st != VAE_OK) {
            rc = lib_fail("vae_model_train_step", st, vae_model_last_error(m));
            goto done;
        }
        if (i >= 0)
            times[i] = t;
        r->last_elbo = elbo;
    }
    r->minflt_per_step = (double)(minor_faults() - faults) / (double)o->steps;
    r->rss_kib = peak_rss_kib();

    r->median_ms = 1e3 * median(times, (size_t)o->steps);
    /* median() left the times sorted. */
    r->min_ms = 1e3 * times[0];
    r->max_ms = 1e3 * times[o->steps - 1];
    r->samples_per_s = (double)bm->batch / (1e-3 * r->median_ms);
    r->flops = 6.0 * (double)bm->batch * bm->macs();
    r->gflops = 1e-9 * r->flops / (1e-3 * r->median_ms);

    rc = bm->vocab ? bench_generation(m, o, bm->batch, r) : 0;
done:
    for (int k = 0; k < POOL; k++)
        free(pool[k]);
    free(times);
    vae_adam_free(opt);
    vae_model_free(m);
    return rc;
}

static void print_json(const bench_model *bm, const options *o,
                       const result *r)
{
    printf("{\"impl\":\"libvae\",\"version\":\"%s\",\"model\":\"%s\","
           "\"threads\":%ld,\"blas_threads\":%d,\"batch\":%lld,"
           "\"steps\":%ld,\"warmup\":%ld,\"params\":%lld,"
           "\"median_step_ms\":%.6g,\"min_step_ms\":%.6g,\"max_step_ms\":%.6g,"
           "\"samples_per_s\":%.6g,\"flops_per_step\":%.0f,\"gflops\":%.6g,"
           "\"peak_rss_kib\":%lld,\"startup_ms\":%.6g,",
           vae_version_string(), bm->name, o->threads, (int)r->blas_threads,
           (long long)bm->batch, o->steps, o->warmup, (long long)r->params,
           r->median_ms, r->min_ms, r->max_ms, r->samples_per_s, r->flops,
           r->gflops, (long long)r->rss_kib, r->startup_ms);
    if (isnan(r->launch_ms))
        printf("\"launch_to_model_ms\":null,");
    else
        printf("\"launch_to_model_ms\":%.6g,", r->launch_ms);
    printf("\"minflt_per_step\":%.6g,\"last_elbo\":%.8g", r->minflt_per_step,
           r->last_elbo);
    if (r->gen_prefixes)
        printf(",\"gen_ms_per_token\":%.6g,\"naive_ms_per_token\":%.6g,"
               "\"gen_speedup\":%.6g,\"gen_prefixes\":%ld",
               r->gen_ms_per_token, r->naive_ms_per_token,
               r->naive_ms_per_token / r->gen_ms_per_token, r->gen_prefixes);
    printf("}\n");
}

static void print_text(const bench_model *bm, const options *o,
                       const result *r)
{
    printf("%-9s threads %ld (BLAS %d)  batch %lld  %ld steps after %ld "
           "warm-up\n", bm->name, o->threads, (int)r->blas_threads,
           (long long)bm->batch, o->steps, o->warmup);
    printf("  step      median %.3f ms (min %.3f, max %.3f)  %.1f samples/s  "
           "%.2f GFLOP/s (%.4g GFLOP/step)\n", r->median_ms, r->min_ms,
           r->max_ms, r->samples_per_s, r->gflops, 1e-9 * r->flops);
    printf("  memory    peak RSS %.1f MiB  %.1f minor faults/step  "
           "%lld parameters\n", (double)r->rss_kib / 1024.0,
           r->minflt_per_step, (long long)r->params);
    printf("  start-up  %.3f ms (first vae_* call to model + optimizer)",
           r->startup_ms);
    if (!isnan(r->launch_ms))
        printf(", launch to model %.3f ms", r->launch_ms);
    printf("\n  last ELBO %.4f nats/example\n", r->last_elbo);
    if (r->gen_prefixes)
        printf("  generate  greedy %.4f ms/token, naive prefix re-scoring "
               "%.4f ms/token (%ld prefixes): %.1fx\n", r->gen_ms_per_token,
               r->naive_ms_per_token, r->gen_prefixes,
               r->naive_ms_per_token / r->gen_ms_per_token);
}

/* ---- All models, one fresh process each -------------------------------- */

static int run_all(char **argv, const options *o)
{
    int rc = 0;
    for (size_t k = 0; k < N_MODELS; k++) {
        char threads[24], steps[24], warmup[24], stride[24], t0[48];
        snprintf(threads, sizeof threads, "%ld", o->threads);
        snprintf(steps, sizeof steps, "%ld", o->steps);
        snprintf(warmup, sizeof warmup, "%ld", o->warmup);
        snprintf(stride, sizeof stride, "%ld", o->gen_stride);
        snprintf(t0, sizeof t0, "%.6f", clock_s(CLOCK_REALTIME));
        char *args[] = {argv[0], "--model", (char *)MODELS[k].name,
                        "--threads", threads, "--steps", steps, "--warmup",
                        warmup, "--gen-stride", stride, "--t0", t0,
                        o->json ? "--json" : NULL, NULL};
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror(PROG ": fork");
            return 1;
        }
        if (pid == 0) {
            execv("/proc/self/exe", args);
            perror(PROG ": exec /proc/self/exe");
            _exit(127);
        }
        int status;
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
            WEXITSTATUS(status)) {
            fprintf(stderr, PROG ": %s failed\n", MODELS[k].name);
            rc = 1;
        }
    }
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    if (!o.model)
        return run_all(argv, &o);
    result r;
    if (run_model(o.model, &o, &r))
        return 1;
    if (o.json)
        print_json(o.model, &o, &r);
    else
        print_text(o.model, &o, &r);
    return 0;
}
