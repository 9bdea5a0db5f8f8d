/* infer.c - using a model: encode, decode, sample the prior, reconstruct,
 * log p(x|z) at given latents, and the importance-weighted estimate of
 * log p(x). None of these computes gradients. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "conditioning.h"
#include "generate.h"
#include "kl.h"
#include "likelihood.h"
#include "net.h"

/* Copies `cols` floats from each of `rows` rows of src into dst. */
static void copy_rows(float *dst, int64_t dst_stride, const float *src,
                      int64_t src_stride, int64_t rows, int64_t cols)
{
    for (int64_t r = 0; r < rows; r++)
        memcpy(dst + r * dst_stride, src + r * src_stride,
               (size_t)cols * sizeof(float));
}

/* Checks x (examples first.. of the call) and the output buffer, loads x
 * and its condition and runs the encoder, after which each head row holds
 * mu then logvar. */
static int32_t encode_rows(vae_model *m, const float *x, int64_t first,
                           int64_t batch, const void *out, const char *what)
{
    if (!out)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG, "%s: output is NULL",
                              what);
    int32_t st = vae_check_batch(m, x, batch, what);
    if (st == VAE_OK)
        st = vae_load_data(m, x, batch);
    if (st != VAE_OK)
        return st;
    vae_put_condition(m, vae_enc_condition(m), first, batch, 1);
    vae_net_forward(m->enc, m->n_enc, m->params, batch);
    return vae_check_finite(m, vae_head(m)->val, batch * 2 * m->latent,
                            "encoder output (mu, logvar)");
}

/* encode_rows for a call on `batch` examples, all encoded at once. */
static int32_t run_encoder(vae_model *m, const float *x, int64_t batch,
                           const void *out, const char *what)
{
    int32_t st = vae_check_condition(m, batch, what);
    return st == VAE_OK ? encode_rows(m, x, 0, batch, out, what) : st;
}

VAE_API int32_t vae_model_encode(vae_model *m, const float *x, int64_t batch,
                                 float *mu, float *logvar)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    int32_t st = run_encoder(m, x, batch, mu, "encode");
    if (st != VAE_OK)
        return st;
    int64_t D = m->latent;
    copy_rows(mu, D, vae_head(m)->val, 2 * D, batch, D);
    if (logvar)
        copy_rows(logvar, D, vae_head(m)->val + D, 2 * D, batch, D);
    return VAE_OK;
}

/* Decodes the latents already in the decoder input into out. A decoder
 * that reads the data (teacher forcing) has no data to read here: it
 * decodes greedily, one step at a time, instead. */
static int32_t decode_loaded(vae_model *m, int64_t batch, float *out)
{
    static const vae_gen_settings greedy = VAE_GEN_DEFAULTS;
    if (m->dec_data >= 0)
        return vae_generate(m, m->dec[0].val, batch, &greedy, m->data_size,
                            out, NULL);
    vae_put_condition(m, vae_dec_condition(m), 0, batch, 1);
    vae_dec_forward(m, batch);
    for (int64_t b0 = 0, nb; b0 < batch; b0 += nb) {
        const float *o = vae_out_rows(m, b0, batch, &nb);
        vae_likelihood_mean(m->likelihood, o, nb, m->data_size, m->classes,
                            out + b0 * m->data_size);
    }
    return vae_check_finite(m, out, batch * m->data_size, "decoded mean");
}

VAE_API int32_t vae_model_decode(vae_model *m, const float *z, int64_t batch,
                                 float *out)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    int32_t st = vae_check_batch(m, z, batch, "decode");
    if (st == VAE_OK)
        st = vae_check_condition(m, batch, "decode");
    if (st == VAE_OK && !out)
        st = vae_model_fail(m, VAE_ERR_INVALID_ARG, "decode: out is NULL");
    if (st == VAE_OK)
        st = vae_check_finite(m, z, batch * m->latent, "decode: z");
    if (st != VAE_OK)
        return st;
    memcpy(m->dec[0].val, z, (size_t)(batch * m->latent) * sizeof(float));
    return decode_loaded(m, batch, out);
}

VAE_API int32_t vae_model_decoder_output(vae_model *m, const float *z,
                                         const float *x, int64_t batch,
                                         float *out)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    int32_t st = vae_check_batch(m, z, batch, "decoder_output");
    if (st == VAE_OK)
        st = vae_check_condition(m, batch, "decoder_output");
    if (st == VAE_OK && !out)
        st = vae_model_fail(m, VAE_ERR_INVALID_ARG,
                            "decoder_output: out is NULL");
    if (st == VAE_OK && m->dec_data >= 0 && !x)
        st = vae_model_fail(m, VAE_ERR_INVALID_ARG, "decoder_output: x is "
                            "NULL, but the decoder reads the data");
    if (st == VAE_OK)
        st = vae_check_finite(m, z, batch * m->latent, "decoder_output: z");
    /* Only a teacher-forced decoder reads x; its ids are checked as data. */
    if (st == VAE_OK && m->dec_data >= 0)
        st = vae_load_data(m, x, batch);
    if (st != VAE_OK)
        return st;
    memcpy(m->dec[0].val, z, (size_t)(batch * m->latent) * sizeof(float));
    vae_put_condition(m, vae_dec_condition(m), 0, batch, 1);
    vae_dec_forward(m, batch);
    int64_t size = vae_model_output_size(m);
    for (int64_t b0 = 0, nb; b0 < batch; b0 += nb) {
        const float *o = vae_out_rows(m, b0, batch, &nb);
        memcpy(out + b0 * size, o, (size_t)(nb * size) * sizeof(float));
    }
    return vae_check_finite(m, out, batch * size, "decoder output");
}

VAE_API int32_t vae_model_sample(vae_model *m, int64_t n, float *z_out,
                                 float *out)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    int32_t st = vae_check_batch(m, out, n, "sample");
    if (st == VAE_OK)
        st = vae_check_condition(m, n, "sample");
    if (st != VAE_OK)
        return st;
    vae_rng_normal_fill(&m->rng, m->dec[0].val, n * m->latent);
    if (z_out)
        memcpy(z_out, m->dec[0].val, (size_t)(n * m->latent) * sizeof(float));
    return decode_loaded(m, n, out);
}

VAE_API int32_t vae_model_reconstruct(vae_model *m, const float *x,
                                      int64_t batch, float *out)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    int32_t st = run_encoder(m, x, batch, out, "reconstruct");
    if (st != VAE_OK)
        return st;
    int64_t D = m->latent;
    copy_rows(m->dec[0].val, D, vae_head(m)->val, 2 * D, batch, D);
    return decode_loaded(m, batch, out);
}

VAE_API int32_t vae_model_random_uniform(vae_model *m, int64_t n, float *out)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (!out)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "random_uniform: out is NULL");
    if (n < 0)
        return vae_model_fail(m, VAE_ERR_RANGE, "random_uniform: n %lld < 0",
                              (long long)n);
    /* 24 random bits: every value is exact in float and below 1. */
    for (int64_t i = 0; i < n; i++)
        out[i] = (float)(vae_rng_next(&m->rng) >> 40) * 0x1.0p-24f;
    return VAE_OK;
}

/* logp[r] = log p(x_r | z_r) for the latents already in the decoder input,
 * rows row0.. of a batch of k rows per example (for the condition). */
static void decoder_logp(vae_model *m, const float *x, int64_t row0,
                         int64_t rows, int64_t k, double *logp)
{
    vae_set_decoder_data(m, x, rows);
    vae_put_condition(m, vae_dec_condition(m), row0, rows, k);
    vae_dec_forward(m, rows);
    vae_out_likelihood(m, x, rows, VAE_OUT_SCORE, logp, NULL);
}

VAE_API int32_t vae_model_log_likelihood(vae_model *m, const float *z,
                                         const float *x, int64_t batch,
                                         double *logp)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (!logp)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "log_likelihood: logp is NULL");
    int32_t st = vae_check_batch(m, z, batch, "log_likelihood");
    if (st == VAE_OK)
        st = vae_check_condition(m, batch, "log_likelihood");
    if (st == VAE_OK)
        st = vae_check_finite(m, z, batch * m->latent, "log_likelihood: z");
    if (st == VAE_OK && !x)
        st =
            vae_model_fail(m, VAE_ERR_INVALID_ARG, "log_likelihood: x is NULL");
    if (st == VAE_OK)
        st = vae_load_data(m, x, batch);
    if (st != VAE_OK)
        return st;
    memcpy(m->dec[0].val, z, (size_t)(batch * m->latent) * sizeof(float));
    decoder_logp(m, x, 0, batch, 1, logp);
    return vae_check_finite_results(m, logp, batch,
                                    "log_likelihood: log p(x|z)");
}

/* Rows (example, sample) decoded per pass: enough to keep the GEMMs
 * efficient, small enough that memory does not depend on k. */
#define IWAE_CHUNK 256

/* Running log-sum-exp of one example's log-weights, in double. */
typedef struct lse {
    double max, sum;
} lse;

static void lse_add(lse *a, double v)
{
    if (v > a->max) {
        a->sum = a->sum * exp(a->max - v) + 1.0;
        a->max = v;
    } else {
        a->sum += exp(v - a->max);
    }
}

/* Decodes `rows` consecutive (example, sample) pairs starting at pair r0 and
 * adds their log-weights to acc. mulv holds each example's mu|logvar row;
 * xs and logw are scratch of IWAE_CHUNK rows. */
static void iwae_chunk(vae_model *m, const float *x, const float *mulv,
                       int64_t k, int64_t r0, int64_t rows, float *xs,
                       double *logw, lse *acc)
{
    int64_t D = m->latent, d = m->data_size;
    float *z = m->dec[0].val;
    vae_rng_normal_fill(&m->rng, m->eps, rows * D);
    for (int64_t r = 0; r < rows; r++) {
        int64_t b = (r0 + r) / k;
        const float *mu = mulv + b * 2 * D, *lv = mu + D;
        const float *eps = m->eps + r * D;
        for (int64_t j = 0; j < D; j++)
            z[r * D + j] =
                mu[j] + expf(0.5f * vae_clamp_logvar(lv[j])) * eps[j];
        logw[r] = vae_log_prior_ratio(z + r * D, eps, lv, D);
        memcpy(xs + r * d, x + b * d, (size_t)d * sizeof(float));
    }
    decoder_logp(m, xs, r0, rows, k, m->recon_b);
    for (int64_t r = 0; r < rows; r++)
        lse_add(&acc[(r0 + r) / k], logw[r] + m->recon_b[r]);
}

VAE_API int32_t vae_model_iwae(vae_model *m, const float *x, int64_t batch,
                               int64_t k, double *logpx)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (k < 1 || k > 1000000000)
        return vae_model_fail(m, VAE_ERR_RANGE, "iwae: k %lld not in 1..1e9",
                              (long long)k);
    int32_t st = run_encoder(m, x, batch, logpx, "iwae");
    if (st != VAE_OK)
        return st;

    int64_t D = m->latent, d = m->data_size;
    float *mulv = vae_malloc((size_t)(batch * 2 * D) * sizeof(float));
    float *xs = vae_malloc((size_t)(IWAE_CHUNK * d) * sizeof(float));
    double *logw = vae_malloc(IWAE_CHUNK * sizeof(double));
    lse *acc = vae_malloc((size_t)batch * sizeof(lse));
    if (!mulv || !xs || !logw || !acc) {
        st = vae_model_fail(m, VAE_ERR_NOMEM, "iwae: out of memory");
        goto done;
    }
    /* The head's values are copied out: the decoder workspace is laid out
     * for chunk-sized batches next, which moves the encoder's buffers. */
    memcpy(mulv, vae_head(m)->val, (size_t)(batch * 2 * D) * sizeof(float));
    for (int64_t b = 0; b < batch; b++)
        acc[b] = (lse){-INFINITY, 0.0};
    int64_t total = batch * k;
    int64_t chunk = total < IWAE_CHUNK ? total : IWAE_CHUNK;
    st = vae_ensure_workspace(m, chunk);
    for (int64_t r0 = 0; st == VAE_OK && r0 < total; r0 += chunk) {
        int64_t rows = total - r0 < chunk ? total - r0 : chunk;
        iwae_chunk(m, x, mulv, k, r0, rows, xs, logw, acc);
    }
    if (st == VAE_OK) {
        for (int64_t b = 0; b < batch; b++)
            logpx[b] = acc[b].max + log(acc[b].sum) - log((double)k);
        st = vae_check_finite_results(m, logpx, batch, "iwae: log p(x)");
    }
done:
    free(mulv);
    free(xs);
    free(logw);
    free(acc);
    return st;
}


/* ---- Statistics of the posterior over a set of examples ----------------- */

/* Examples encoded per pass: the workspace stays that of a small batch
 * however large the set. */
#define STATS_CHUNK 256

/* mu then logvar of each of the n examples x into mulv (n x 2D), encoded
 * STATS_CHUNK at a time. */
static int32_t encode_set(vae_model *m, const float *x, int64_t n, float *mulv,
                          const char *what)
{
    int64_t D = m->latent, d = m->data_size;
    for (int64_t b0 = 0; b0 < n; b0 += STATS_CHUNK) {
        int64_t nb = n - b0 < STATS_CHUNK ? n - b0 : STATS_CHUNK;
        int32_t st = encode_rows(m, x + b0 * d, b0, nb, mulv, what);
        if (st != VAE_OK)
            return st;
        memcpy(mulv + b0 * 2 * D, vae_head(m)->val,
               (size_t)(nb * 2 * D) * sizeof(float));
    }
    return VAE_OK;
}

/* Checks a statistics call's set and output, and encodes the set into a
 * new array of n x 2D floats (*mulv, freed by the caller). */
static int32_t begin_stats(vae_model *m, const float *x, int64_t n,
                           const void *out, const char *what, float **mulv)
{
    *mulv = NULL;
    if (!x || !out)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG, "%s: x or the output "
                              "is NULL", what);
    if (n < 2 || n > INT64_MAX / 8 / (2 * m->latent))
        return vae_model_fail(m, VAE_ERR_RANGE, "%s: n %lld not in 2..%lld",
                              what, (long long)n,
                              (long long)(INT64_MAX / 8 / (2 * m->latent)));
    int32_t st = vae_check_condition(m, n, what);
    if (st != VAE_OK)
        return st;
    *mulv = vae_malloc((size_t)(n * 2 * m->latent) * sizeof(float));
    if (!*mulv)
        return vae_model_fail(m, VAE_ERR_NOMEM, "%s: out of memory for %lld "
                              "posteriors", what, (long long)n);
    st = encode_set(m, x, n, *mulv, what);
    if (st != VAE_OK) {
        free(*mulv);
        *mulv = NULL;
    }
    return st;
}

/* log q(z | x_j) for one z under each of the n posteriors (rows of mulv),
 * into lq; cj holds each posterior's constant -D/2 log 2 pi - 1/2 sum lv
 * and iv its 1 / variance per dimension (n x D). */
static void log_densities(const float *z, const float *mulv, const double *cj,
                          const float *iv, int64_t n, int64_t D, double *lq)
{
    for (int64_t j = 0; j < n; j++) {
        const float *mu = mulv + j * 2 * D, *w = iv + j * D;
        float q = 0.0f;
        for (int64_t t = 0; t < D; t++) {
            float dz = z[t] - mu[t];
            q += dz * dz * w[t];
        }
        lq[j] = cj[j] - 0.5 * (double)q;
    }
}

VAE_API int32_t vae_model_mutual_info(vae_model *m, const float *x, int64_t n,
                                      int64_t samples, double *mi)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (samples < 1 || samples > 1000000)
        return vae_model_fail(m, VAE_ERR_RANGE, "mutual_info: samples %lld "
                              "not in 1..1e6", (long long)samples);
    float *mulv;
    int32_t st = begin_stats(m, x, n, mi, "mutual_info", &mulv);
    if (st != VAE_OK)
        return st;
    int64_t D = m->latent;
    double *cj = vae_malloc((size_t)n * sizeof(double));
    double *lq = vae_malloc((size_t)n * sizeof(double));
    float *iv = vae_malloc((size_t)(n * D) * sizeof(float));
    float *eps = vae_malloc((size_t)(samples * D) * sizeof(float));
    float *z = vae_malloc((size_t)D * sizeof(float));
    if (!cj || !lq || !iv || !eps || !z) {
        st = vae_model_fail(m, VAE_ERR_NOMEM, "mutual_info: out of memory");
        goto done;
    }
    /* E_q log q(z|x) in closed form (He et al.'s estimator): the negative
     * entropy of each Gaussian posterior. */
    double negent = 0.0;
    for (int64_t j = 0; j < n; j++) {
        const float *lv = mulv + j * 2 * D + D;
        double s = 0.0;
        for (int64_t t = 0; t < D; t++) {
            float c = vae_clamp_logvar(lv[t]);
            s += c;
            iv[j * D + t] = expf(-c);
        }
        cj[j] = -0.5 * (double)D * VAE_LOG_2PI - 0.5 * s;
        negent += cj[j] - 0.5 * (double)D;
    }
    negent /= (double)n;
    /* E_q(z) log q(z): z drawn from each posterior in turn, its density
     * under the mixture of all n. */
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float *mu = mulv + i * 2 * D, *lv = mu + D;
        vae_rng_normal_fill(&m->rng, eps, samples * D);
        for (int64_t s = 0; s < samples; s++) {
            for (int64_t t = 0; t < D; t++)
                z[t] = mu[t] + expf(0.5f * vae_clamp_logvar(lv[t])) *
                                   eps[s * D + t];
            log_densities(z, mulv, cj, iv, n, D, lq);
            double top = -INFINITY, acc = 0.0;
            for (int64_t j = 0; j < n; j++)
                top = fmax(top, lq[j]);
            for (int64_t j = 0; j < n; j++)
                acc += exp(lq[j] - top);
            sum += top + log(acc) - log((double)n);
        }
    }
    *mi = negent - sum / (double)(n * samples);
    if (!isfinite(*mi))
        st = vae_model_fail(m, VAE_ERR_NONFINITE, "mutual_info: the "
                            "estimate is not finite");
done:
    free(mulv);
    free(cj);
    free(lq);
    free(iv);
    free(eps);
    free(z);
    return st;
}

VAE_API int32_t vae_model_active_units(vae_model *m, const float *x,
                                       int64_t n, double threshold,
                                       int64_t *count, double *var)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (!(threshold >= 0.0 && isfinite(threshold)))
        return vae_model_fail(m, VAE_ERR_RANGE, "active_units: threshold %g "
                              "must be >= 0", threshold);
    float *mulv;
    int32_t st = begin_stats(m, x, n, count, "active_units", &mulv);
    if (st != VAE_OK)
        return st;
    int64_t D = m->latent, active = 0;
    /* The variance across examples of each dimension's posterior mean,
     * accumulated in double with the mean taken out first. */
    for (int64_t t = 0; t < D; t++) {
        double mean = 0.0, ss = 0.0;
        for (int64_t j = 0; j < n; j++)
            mean += mulv[j * 2 * D + t];
        mean /= (double)n;
        for (int64_t j = 0; j < n; j++) {
            double dev = mulv[j * 2 * D + t] - mean;
            ss += dev * dev;
        }
        double v = ss / (double)(n - 1);
        active += v > threshold;
        if (var)
            var[t] = v;
    }
    *count = active;
    free(mulv);
    return VAE_OK;
}
