/* models.c - see models.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "models.h"
#include "order.h"

/* A cap on examples per vae_model_iwae call when k is small: enough for
 * efficient products, few enough for timely progress lines. */
#define IWAE_MAX_BATCH 100
/* Threads of model_iwae_mean at most. */
#define IWAE_MAX_WORKERS 16

int model_build(graph_builder build, const void *ctx, int64_t latent,
                int32_t likelihood, uint64_t seed, vae_model **out)
{
    vae_graph *enc = NULL, *dec = NULL;
    char e[512] = "";
    int32_t s;
    int rc = -1;

    if ((s = vae_graph_new(&enc)) != VAE_OK ||
        (s = vae_graph_new(&dec)) != VAE_OK) {
        fail_lib("vae_graph_new", s, NULL);
        goto done;
    }
    if (build(enc, dec, ctx))
        goto done;
    if ((s = vae_graph_status(enc)) != VAE_OK) {
        fail_lib("encoder graph", s, vae_graph_last_error(enc));
        goto done;
    }
    if ((s = vae_graph_status(dec)) != VAE_OK) {
        fail_lib("decoder graph", s, vae_graph_last_error(dec));
        goto done;
    }
    s = vae_model_new(enc, dec, latent, likelihood, seed, out, e, sizeof e);
    if (s != VAE_OK) {
        fail_lib("vae_model_new", s, e);
        goto done;
    }
    rc = 0;
done:
    vae_graph_free(enc);
    vae_graph_free(dec);
    return rc;
}

int model_load(const char *path, vae_model **m, vae_adam **opt_out)
{
    char e[512] = "";
    int32_t s = vae_model_load(path, m, opt_out, e, sizeof e);
    if (s != VAE_OK)
        return fail_file(path, s, e);
    return 0;
}

int model_save(vae_model *m, const vae_adam *opt, const char *path)
{
    int32_t s = vae_model_save(m, opt, path);
    if (s != VAE_OK)
        return fail_file(path, s, vae_model_last_error(m));
    return 0;
}

int fail_step(const char *where, int32_t status, const char *detail)
{
    if (status != VAE_ERR_NONFINITE)
        return fail_lib(where, status, detail);
    return fail("%s: %s; the training diverged: try a smaller --lr", where,
                detail && *detail ? detail : vae_status_string(status));
}

int model_train_step(vae_model *m, vae_adam *opt, const float *x, int64_t n,
                     long epoch, int64_t b, double *elbo, double *recon)
{
    int32_t s = vae_model_train_step(m, opt, x, n, elbo, recon, NULL);
    if (s != VAE_OK) {
        char where[64];
        snprintf(where, sizeof where, "epoch %ld, batch %lld", epoch,
                 (long long)b + 1);
        return fail_step(where, s, vae_model_last_error(m));
    }
    return 0;
}

int model_set_seed(vae_model *m, uint64_t seed)
{
    int32_t s = vae_model_set_seed(m, seed);
    if (s != VAE_OK)
        return fail_lib("vae_model_set_seed", s, vae_model_last_error(m));
    return 0;
}

int model_condition(vae_model *m, const float *cond, int64_t first,
                    int64_t n)
{
    int32_t s;

    if (!cond)
        return 0;
    s = vae_model_set_condition(m, cond + first * vae_model_condition_size(m),
                                n);
    if (s != VAE_OK)
        return fail_lib("vae_model_set_condition", s, vae_model_last_error(m));
    return 0;
}

int model_evaluate_cond(vae_model *m, const float *x, const float *cond,
                        int64_t n, int64_t dim, int64_t batch, double *elbo,
                        double *recon, double *kl)
{
    double sums[3];

    if (model_evaluate_shard(m, x, cond, n, dim, batch, 0, 1, sums))
        return -1;
    *elbo = sums[0] / (double)n;
    *recon = sums[1] / (double)n;
    *kl = sums[2] / (double)n;
    return 0;
}

int model_evaluate(vae_model *m, const float *x, int64_t n, int64_t dim,
                   int64_t batch, double *elbo, double *recon, double *kl)
{
    return model_evaluate_cond(m, x, NULL, n, dim, batch, elbo, recon, kl);
}

void shard_rows(int64_t n, int rank, int size, int64_t *first, int64_t *count)
{
    *first = n * rank / size;
    *count = n * (rank + 1) / size - *first;
}

int64_t model_draws_per_example(const vae_model *m)
{
    return 2 * vae_model_latent_dim(m);
}

int model_skip_draws(vae_model *m, int64_t n)
{
    float sink[256];

    while (n > 0) {
        int64_t k = n < 256 ? n : 256;
        int32_t s = vae_model_random_uniform(m, k, sink);
        if (s != VAE_OK)
            return fail_lib("vae_model_random_uniform", s,
                            vae_model_last_error(m));
        n -= k;
    }
    return 0;
}

int model_evaluate_shard(vae_model *m, const float *x, const float *cond,
                         int64_t n, int64_t dim, int64_t batch, int rank,
                         int size, double sums[3])
{
    int64_t per = model_draws_per_example(m);

    sums[0] = sums[1] = sums[2] = 0.0;
    for (int64_t i = 0; i < n; i += batch) {
        int64_t b = n - i < batch ? n - i : batch, first, count;
        double e, r, k;

        shard_rows(b, rank, size, &first, &count);
        if (model_skip_draws(m, first * per))
            return -1;
        if (count > 0) {
            int32_t s;
            if (model_condition(m, cond, i + first, count))
                return -1;
            s = vae_model_elbo(m, x + (i + first) * dim, count, &e, &r, &k);
            if (s != VAE_OK)
                return fail_lib("vae_model_elbo", s, vae_model_last_error(m));
            sums[0] += e * (double)count;
            sums[1] += r * (double)count;
            sums[2] += k * (double)count;
        }
        if (model_skip_draws(m, (b - first - count) * per))
            return -1;
    }
    return 0;
}

/* One model_iwae_mean run shared by its workers. Block j (examples
 * j * per_call ..) draws its samples from its own seed, so which worker
 * takes it, and how many there are, does not change the estimate. */
struct iwae_run {
    const float *x, *cond; /* cond: rows of csize floats, or NULL */
    int64_t n, dim, csize, per_call, nblocks;
    long k;
    uint64_t seed;
    double *logpx; /* n values, in example order */
    pthread_mutex_t lock;
    int64_t next_block, examples_done; /* under lock */
    double sum_done;                   /* under lock */
    int failed;                        /* under lock */
};

struct iwae_worker {
    struct iwae_run *run;
    vae_model *m;
    int32_t status;
    char err[512];
};

/* Takes the next block under the lock; -1 when none is left or a worker
 * failed. Also books the previous block's results (b examples from i). */
static int64_t iwae_next_block(struct iwae_run *r, int64_t i, int64_t b)
{
    int64_t j = -1;
    pthread_mutex_lock(&r->lock);
    for (int64_t e = i; e < i + b; e++)
        r->sum_done += r->logpx[e];
    r->examples_done += b;
    if (!r->failed && r->next_block < r->nblocks)
        j = r->next_block++;
    pthread_mutex_unlock(&r->lock);
    return j;
}

/* Runs blocks until none is left; with `prog`, also prints progress. */
static void iwae_work(struct iwae_worker *w, struct progress *prog,
                      const char *unit, double t0)
{
    struct iwae_run *r = w->run;
    int64_t i = 0, b = 0, j;
    uint64_t seed;

    while ((j = iwae_next_block(r, i, b)) >= 0) {
        i = j * r->per_call;
        b = r->n - i < r->per_call ? r->n - i : r->per_call;
        seed = r->seed + (uint64_t)j;
        w->status = vae_model_set_seed(w->m, splitmix64(&seed));
        if (w->status == VAE_OK && r->cond)
            w->status = vae_model_set_condition(w->m, r->cond + i * r->csize,
                                                b);
        if (w->status == VAE_OK)
            w->status = vae_model_iwae(w->m, r->x + i * r->dim, b, r->k,
                                       r->logpx + i);
        if (w->status != VAE_OK) {
            snprintf(w->err, sizeof w->err, "%s", vae_model_last_error(w->m));
            pthread_mutex_lock(&r->lock);
            r->failed = 1;
            pthread_mutex_unlock(&r->lock);
            return;
        }
        if (prog && progress_due(prog)) {
            pthread_mutex_lock(&r->lock);
            int64_t done = r->examples_done;
            double sum = r->sum_done;
            pthread_mutex_unlock(&r->lock);
            double el = now_seconds() - t0;
            double rate = done > 0 ? (double)done / el : 0.0;
            char eta[32] = "?";

            if (rate > 0.0)
                format_duration((double)(r->n - done) / rate, eta, sizeof eta);
            progress_line(prog,
                          "iwae k=%ld  %lld/%lld %s  test_nll %.2f  "
                          "%.1f %s/s  ETA %s",
                          r->k, (long long)done, (long long)r->n, unit,
                          done > 0 ? -sum / (double)done : 0.0, rate, unit,
                          eta);
        }
    }
}

static void *iwae_thread(void *arg)
{
    iwae_work(arg, NULL, NULL, 0.0);
    return NULL;
}

int model_clone(vae_model *m, vae_model **out)
{
    size_t size = 0;
    void *buf = NULL;
    char e[512] = "";
    int32_t s = vae_model_save_size(m, NULL, &size);

    if (s == VAE_OK && !(buf = malloc(size)))
        return fail("out of memory copying the model");
    if (s == VAE_OK)
        s = vae_model_save_to_buffer(m, NULL, buf, size, &size);
    if (s != VAE_OK) {
        free(buf);
        return fail_lib("vae_model_save_to_buffer", s, vae_model_last_error(m));
    }
    s = vae_model_load_from_buffer(buf, size, out, NULL, e, sizeof e);
    free(buf);
    return s == VAE_OK ? 0 : fail_lib("vae_model_load_from_buffer", s, e);
}

int model_iwae_mean(vae_model *m, const float *x, int64_t n, int64_t dim,
                    long k, int64_t passes, double progress, const char *unit,
                    double *mean_logpx)
{
    return model_iwae_mean_cond(m, x, NULL, n, dim, k, passes, progress, unit,
                                mean_logpx);
}

int model_iwae_mean_cond(vae_model *m, const float *x, const float *cond,
                         int64_t n, int64_t dim, long k, int64_t passes,
                         double progress, const char *unit,
                         double *mean_logpx)
{
    struct iwae_run r = {.x = x, .cond = cond, .n = n, .dim = dim,
                         .csize = vae_model_condition_size(m), .k = k};
    struct iwae_worker w[IWAE_MAX_WORKERS] = {{0}};
    pthread_t th[IWAE_MAX_WORKERS];
    struct progress prog;
    int32_t blas = vae_get_num_threads();
    int workers = blas > 1 ? (blas < IWAE_MAX_WORKERS ? blas : IWAE_MAX_WORKERS)
                           : 1;
    int started = 1, rc = -1;
    float u[3];
    int32_t s;

    r.per_call = passes / k;
    if (r.per_call < 1)
        r.per_call = 1;
    if (r.per_call > IWAE_MAX_BATCH)
        r.per_call = IWAE_MAX_BATCH;
    r.nblocks = (n + r.per_call - 1) / r.per_call;
    if ((int64_t)workers > r.nblocks)
        workers = (int)r.nblocks;
    /* The blocks' seeds come from the model's generator: after
     * vae_model_set_seed (or a given saved state) the estimate is fixed. */
    s = vae_model_random_uniform(m, 3, u);
    if (s != VAE_OK)
        return fail_lib("vae_model_random_uniform", s, vae_model_last_error(m));
    for (int i = 0; i < 3; i++)
        r.seed = (r.seed << 24) ^ (uint64_t)(u[i] * 0x1.0p24f);
    if (!(r.logpx = malloc((size_t)n * sizeof *r.logpx)))
        return fail("out of memory");
    pthread_mutex_init(&r.lock, NULL);
    w[0] = (struct iwae_worker){.run = &r, .m = m};
    for (int i = 1; i < workers; i++) {
        w[i].run = &r;
        if (model_clone(m, &w[i].m))
            goto done;
    }
    /* Each worker's products use one BLAS thread: the decoder's GEMMs are
     * small, and whole examples in parallel keep both cores busier than
     * splitting every product. */
    if (workers > 1)
        vae_set_num_threads(1);
    /* A thread that cannot start leaves its blocks to the others. */
    for (; started < workers; started++)
        if (pthread_create(&th[started], NULL, iwae_thread, &w[started]) != 0)
            break;
    progress_init(&prog, progress);
    iwae_work(&w[0], &prog, unit, now_seconds());
    progress_clear(&prog);
    for (int i = 1; i < started; i++)
        pthread_join(th[i], NULL);
    if (workers > 1)
        vae_set_num_threads(blas);
    for (int i = 0; i < workers; i++)
        if (w[i].status != VAE_OK) {
            fail_lib("vae_model_iwae", w[i].status, w[i].err);
            goto done;
        }
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += r.logpx[i];
    *mean_logpx = sum / (double)n;
    rc = 0;

done:
    for (int i = 1; i < workers; i++)
        vae_model_free(w[i].m);
    pthread_mutex_destroy(&r.lock);
    free(r.logpx);
    return rc;
}
