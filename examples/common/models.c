/* models.c - see models.h. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "models.h"

/* A cap on examples per vae_model_iwae call when k is small: enough for
 * efficient products, few enough for timely progress lines. */
#define IWAE_MAX_BATCH 100

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

int model_train_step(vae_model *m, vae_adam *opt, const float *x, int64_t n,
                     long epoch, int64_t b, double *elbo, double *recon)
{
    int32_t s = vae_model_train_step(m, opt, x, n, elbo, recon, NULL);
    if (s != VAE_OK) {
        char where[64];
        snprintf(where, sizeof where, "epoch %ld, batch %lld", epoch,
                 (long long)b + 1);
        return fail_lib(where, s, vae_model_last_error(m));
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

int model_evaluate(vae_model *m, const float *x, int64_t n, int64_t dim,
                   int64_t batch, double *elbo, double *recon, double *kl)
{
    double sums[3];

    if (model_evaluate_shard(m, x, n, dim, batch, 0, 1, sums))
        return -1;
    *elbo = sums[0] / (double)n;
    *recon = sums[1] / (double)n;
    *kl = sums[2] / (double)n;
    return 0;
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

int model_evaluate_shard(vae_model *m, const float *x, int64_t n, int64_t dim,
                         int64_t batch, int rank, int size, double sums[3])
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
            int32_t s = vae_model_elbo(m, x + (i + first) * dim, count, &e,
                                       &r, &k);
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

int model_iwae_mean(vae_model *m, const float *x, int64_t n, int64_t dim,
                    long k, int64_t passes, double progress, const char *unit,
                    double *mean_logpx)
{
    int64_t per_call = passes / k;
    struct progress prog;
    double sum = 0.0, t0 = now_seconds();
    double *logpx;

    if (per_call < 1)
        per_call = 1;
    if (per_call > IWAE_MAX_BATCH)
        per_call = IWAE_MAX_BATCH;
    logpx = malloc((size_t)per_call * sizeof *logpx);
    if (!logpx)
        return fail("out of memory");
    progress_init(&prog, progress);
    for (int64_t i = 0; i < n; i += per_call) {
        int64_t b = n - i < per_call ? n - i : per_call;
        int32_t s = vae_model_iwae(m, x + i * dim, b, k, logpx);
        if (s != VAE_OK) {
            progress_clear(&prog);
            free(logpx);
            return fail_lib("vae_model_iwae", s, vae_model_last_error(m));
        }
        for (int64_t j = 0; j < b; j++)
            sum += logpx[j];
        if (progress_due(&prog)) {
            double el = now_seconds() - t0;
            double rate = (double)(i + b) / el;
            char eta[32];

            format_duration((double)(n - i - b) / rate, eta, sizeof eta);
            progress_line(&prog,
                          "iwae k=%ld  %lld/%lld %s  test_nll %.2f  "
                          "%.1f %s/s  ETA %s",
                          k, (long long)(i + b), (long long)n, unit,
                          -sum / (double)(i + b), rate, unit, eta);
        }
    }
    progress_clear(&prog);
    free(logpx);
    *mean_logpx = sum / (double)n;
    return 0;
}
