/* objective.c - the training objectives and their gradients: the ELBO
 * (one reparameterised sample, analytic KL, optional free bits) and the
 * importance-weighted bound of k samples, each through the decoder, the
 * Gaussian head and the encoder; and a training step (gradient, then
 * Adam). The KL weight is an argument, so a step's annealed weight never
 * touches the model's setting. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adam.h"
#include "alloc.h"
#include "conditioning.h"
#include "kl.h"
#include "net.h"
#include "ops/ops.h"

/* z = mu + exp(logvar / 2) * eps into the decoder input: k draws per
 * example, in rows b * k + s; eps from the caller when `given` is not
 * NULL, else from the model's generator. */
static void sample_z(vae_model *m, int64_t batch, int64_t k,
                     const float *given)
{
    int64_t D = m->latent;
    const float *h = vae_head(m)->val;
    float *z = m->dec[0].val;
    if (given)
        memcpy(m->eps, given, (size_t)(batch * k * D) * sizeof(float));
    else
        vae_rng_normal_fill(&m->rng, m->eps, batch * k * D);
    for (int64_t r = 0; r < batch * k; r++) {
        const float *mu = h + (r / k) * 2 * D, *lv = mu + D;
        for (int64_t j = 0; j < D; j++)
            z[r * D + j] = mu[j] + expf(0.5f * vae_clamp_logvar(lv[j])) *
                                       m->eps[r * D + j];
    }
}

/* Gradient of the loss wrt the head output, from dL/dz and the KL term.
 * The KL weight of dimension j is beta, or 0 where free bits hold it
 * constant. */
static void head_backward(vae_model *m, int64_t batch, double beta)
{
    int64_t D = m->latent;
    const float *h = vae_head(m)->val;
    float *dh = vae_head(m)->grad;
    const float *dz = m->dec[0].grad;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t j = 0; j < D; j++) {
            float mu = h[b * 2 * D + j], raw = h[b * 2 * D + D + j];
            float lv = vae_clamp_logvar(raw);
            int inside = raw > VAE_LOGVAR_MIN && raw < VAE_LOGVAR_MAX;
            /* The KL that free bits compare: the batch mean of dimension j,
             * or this example's alone. */
            double kl = m->free_bits_mode == VAE_FREE_BITS_EXAMPLE
                            ? vae_kl_one(mu, raw) : m->kl_dim[j];
            float w = (m->free_bits > 0.0 && kl <= m->free_bits)
                          ? 0.0f : (float)beta;
            float g = dz[b * D + j];
            float std = expf(0.5f * lv);
            dh[b * 2 * D + j] = g + w * mu;
            dh[b * 2 * D + D + j] =
                inside ? 0.5f * (g * m->eps[b * D + j] * std +
                                 w * (std * std - 1.0f))
                       : 0.0f;
        }
}

/* What run_elbo does with the gradient buffer. GRAD_SET is train_step's
 * zero_grad + elbo_grad, with the zeroing put off until the gradient is
 * certain to be computed: a step refused for memory, data or a non-finite
 * loss leaves the buffer as it was. */
enum { GRAD_NONE, GRAD_ADD, GRAD_SET };

/* Head gradient of the importance-weighted loss. kl_b holds each row's
 * normalised weight w_r; the decoder's dL/dz rows already carry it. With
 * z = mu + sigma eps, row r adds w_r (dz/dmu, dz/dlogvar) . (g + beta z) and
 * beta w_r d log q / d logvar = -beta w_r / 2 (eps held fixed); the weights
 * of an example sum to 1. */
static void head_backward_weighted(vae_model *m, int64_t batch, int64_t k,
                                   double beta)
{
    int64_t D = m->latent;
    const float *h = vae_head(m)->val, *z = m->dec[0].val, *dz = m->dec[0].grad;
    float *dh = vae_head(m)->grad;
    float fbeta = (float)beta;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t j = 0; j < D; j++) {
            float raw = h[b * 2 * D + D + j];
            int inside = raw > VAE_LOGVAR_MIN && raw < VAE_LOGVAR_MAX;
            float gmu = 0.0f, glv = 0.0f;
            for (int64_t r = b * k; r < (b + 1) * k; r++) {
                float g =
                    dz[r * D + j] + fbeta * (float)m->kl_b[r] * z[r * D + j];
                gmu += g;
                glv += g * m->eps[r * D + j];
            }
            float std = expf(0.5f * vae_clamp_logvar(raw));
            dh[b * 2 * D + j] = gmu;
            dh[b * 2 * D + D + j] = inside ? 0.5f * (glv * std - fbeta) : 0.0f;
        }
}

/* After a backward pass: a finite loss can still overflow on the way back
 * (huge weights multiplying huge upstream gradients). */
static int32_t check_gradient(vae_model *m)
{
    return vae_check_finite(m, m->grads, m->n_params,
                            "elbo_grad: gradient after the backward pass");
}

/* Clears the decoder's gradients for `rows` rows and seeds those of its
 * auxiliary losses (vae_op.aux_loss, only in decoders) with dL/dvalue = g:
 * 1, or 1/k when each example has k samples. */
static void start_dec_backward(vae_model *m, int64_t rows, float g)
{
    vae_net_zero_grads(m->dec, m->n_dec, VAE_DEC_FIRST_GRAD, rows);
    for (int32_t i = VAE_DEC_FIRST_GRAD; i < m->n_dec; i++)
        if (vae_op_get(m->dec[i].s.op)->aux_loss)
            for (int64_t r = 0; r < rows * m->dec[i].s.size; r++)
                m->dec[i].grad[r] = g;
}

/* The rest of a backward pass once the decoder output's gradient is in
 * place: decoder, Gaussian head (k samples per example) and encoder, then
 * the gradient's finiteness check, except for train_step (GRAD_SET):
 * there Adam's pre-check reads every gradient before anything changes and
 * names a non-finite one, so a pass of its own would only repeat it (2% of
 * the mlp benchmark's step). */
static int32_t backward_from_decoder(vae_model *m, int64_t batch, int64_t k,
                                     double beta, int want_grad)
{
    /* The nets are laid out for the decoder's batch * k rows. */
    vae_dec_backward(m, batch * k);
    vae_net_zero_grads(m->enc, m->n_enc, VAE_ENC_FIRST_GRAD, batch * k);
    if (k > 1)
        head_backward_weighted(m, batch, k, beta);
    else
        head_backward(m, batch, beta);
    vae_net_backward(m->enc, m->n_enc, m->params, m->grads, batch);
    return want_grad == GRAD_SET ? VAE_OK : check_gradient(m);
}

/* The per-example figures an ELBO call reports, each where asked for. */
static void put_results(double *elbo, double e, double *recon, double r,
                        double *kl, double k)
{
    if (elbo)
        *elbo = e;
    if (recon)
        *recon = r;
    if (kl)
        *kl = k;
}

/* Grows the buffer of repeated examples to `rows` rows (rarely: it is kept). */
static int32_t ensure_rows_x(vae_model *m, int64_t rows)
{
    if (rows <= m->rows_x_cap)
        return VAE_OK;
    float *p = vae_malloc((size_t)(rows * m->data_size) * sizeof(float));
    if (!p)
        return vae_model_fail(m, VAE_ERR_NOMEM, "out of memory for %lld "
                              "importance-sampled rows", (long long)rows);
    free(m->rows_x);
    m->rows_x = p;
    m->rows_x_cap = rows;
    return VAE_OK;
}

/* elbo_grad with k = train_samples > 1: the importance-weighted bound. The
 * encoder runs on the batch, the decoder on batch * k rows (example b's
 * samples in rows b * k ..), and each row's loss gradient is scaled by its
 * normalised importance weight, which is the bound's gradient. */
static int32_t run_weighted_grad(vae_model *m, const float *x, int64_t batch,
                                 const float *eps, int want_grad, double beta,
                                 double *elbo, double *recon, double *kl)
{
    int64_t k = m->train_samples, D = m->latent, d = m->data_size;
    if (m->free_bits > 0.0)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "elbo_grad: free bits do not apply to the "
                              "bound of %lld importance samples", (long long)k);
    /* The decoder's batch is batch x k rows; checked before the product,
     * which a huge or negative batch would overflow. */
    if (batch < 1 || batch > vae_model_max_batch(m) / k)
        return vae_model_fail(m, VAE_ERR_RANGE, "elbo_grad: batch %lld x %lld "
                              "train samples not in 1..%lld rows",
                              (long long)batch, (long long)k,
                              (long long)vae_model_max_batch(m));
    int64_t rows = batch * k;
    int32_t st = vae_check_batch(m, x, rows, "elbo_grad");
    if (st == VAE_OK)
        st = ensure_rows_x(m, rows);
    if (st == VAE_OK)
        st = vae_load_data(m, x, batch);
    if (st == VAE_OK && eps)
        st = vae_check_finite(m, eps, rows * D, "elbo_grad: eps");
    if (st != VAE_OK)
        return st;
    for (int64_t r = 0; r < rows; r++)
        memcpy(m->rows_x + r * d, x + (r / k) * d, (size_t)d * sizeof(float));

    vae_put_condition(m, vae_enc_condition(m), 0, batch, 1);
    vae_net_forward(m->enc, m->n_enc, m->params, batch);
    sample_z(m, batch, k, eps);
    vae_set_decoder_data(m, m->rows_x, rows);
    vae_put_condition(m, vae_dec_condition(m), 0, rows, k);
    vae_dec_forward(m, rows);

    /* A row's gradient needs its weight, known once every row is scored:
     * a chunked output is scored here and computed again below. */
    start_dec_backward(m, rows, 1.0f / (float)k);
    int split = vae_out_chunk(m, rows) < rows;
    vae_out_likelihood(m, m->rows_x, rows, split ? VAE_OUT_SCORE : VAE_OUT_GRAD,
                       m->recon_b, NULL);
    /* kl_b[r] = log p(z_r) - log q(z_r|x) first, then the weight of row r. */
    const float *h = vae_head(m)->val, *z = m->dec[0].val;
    double recon_sum = 0.0, ratio_sum = 0.0, bound_sum = 0.0;
    for (int64_t b = 0; b < batch; b++) {
        double top = -INFINITY, top1 = -INFINITY;
        for (int64_t r = b * k; r < (b + 1) * k; r++) {
            m->kl_b[r] = vae_log_prior_ratio(z + r * D, m->eps + r * D,
                                             h + b * 2 * D + D, D);
            recon_sum += m->recon_b[r];
            ratio_sum += m->kl_b[r];
            top = fmax(top, m->recon_b[r] + beta * m->kl_b[r]);
            top1 = fmax(top1, m->recon_b[r] + m->kl_b[r]);
        }
        double sum = 0.0, sum1 = 0.0;
        for (int64_t r = b * k; r < (b + 1) * k; r++) {
            double lw = m->recon_b[r] + beta * m->kl_b[r];
            sum1 += exp(m->recon_b[r] + m->kl_b[r] - top1);
            m->kl_b[r] = exp(lw - top);
            sum += m->kl_b[r];
        }
        for (int64_t r = b * k; r < (b + 1) * k; r++)
            m->kl_b[r] /= sum;
        bound_sum += top1 + log(sum1) - log((double)k);
    }
    if (!isfinite(bound_sum) || !isfinite(recon_sum) || !isfinite(ratio_sum))
        return vae_model_fail(m, VAE_ERR_NONFINITE,
                              "loss is not finite (recon %g, log-weight "
                              "ratio %g); gradients left unchanged",
                              recon_sum, ratio_sum);

    if (want_grad == GRAD_SET)
        vae_model_clear_grads(m);
    if (split)
        vae_out_likelihood(m, m->rows_x, rows, VAE_OUT_WEIGHTED_BACKWARD,
                           m->recon_b, m->kl_b);
    else
        vae_out_backward_kept(m, rows, m->kl_b);
    st = backward_from_decoder(m, batch, k, beta, want_grad);
    if (st != VAE_OK)
        return st;
    put_results(elbo, bound_sum / (double)batch, recon,
                recon_sum / (double)rows, kl, -ratio_sum / (double)rows);
    return VAE_OK;
}

/* run_elbo's work, run->training already set. */
static int32_t elbo_pass(vae_model *m, const float *x, int64_t batch,
                         const float *eps, int want_grad, double beta,
                         double *elbo, double *recon, double *kl)
{
    if (want_grad && m->train_samples > 1)
        return run_weighted_grad(m, x, batch, eps, want_grad, beta, elbo,
                                 recon, kl);
    int32_t st = vae_check_batch(m, x, batch, want_grad ? "elbo_grad" : "elbo");
    if (st == VAE_OK)
        st = vae_load_data(m, x, batch);
    if (st == VAE_OK && eps)
        st = vae_check_finite(m, eps, batch * m->latent,
                              want_grad ? "elbo_grad: eps" : "elbo: eps");
    if (st != VAE_OK)
        return st;

    vae_put_condition(m, vae_enc_condition(m), 0, batch, 1);
    vae_net_forward(m->enc, m->n_enc, m->params, batch);
    sample_z(m, batch, 1, eps);
    vae_put_condition(m, vae_dec_condition(m), 0, batch, 1);
    vae_dec_forward(m, batch);

    /* A chunked output's backward runs chunk by chunk here, into out_dw:
     * the gradient buffer is touched only once the loss is known finite. */
    int split = vae_out_chunk(m, batch) < batch;
    if (want_grad)
        start_dec_backward(m, batch, 1.0f);
    vae_out_likelihood(m, x, batch,
                       !want_grad ? VAE_OUT_SCORE
                       : split    ? VAE_OUT_GRAD_BACKWARD
                                  : VAE_OUT_GRAD,
                       m->recon_b, NULL);
    double recon_sum = 0.0, kl_sum = 0.0;
    for (int64_t b = 0; b < batch; b++)
        recon_sum += m->recon_b[b];
    vae_kl_normal(vae_head(m)->val, vae_head(m)->val + m->latent, 2 * m->latent,
                  batch, m->latent, m->kl_b, m->kl_dim);
    for (int64_t b = 0; b < batch; b++)
        kl_sum += m->kl_b[b];

    /* The loss, -recon + beta x (the KL term, thresholded or not), is
     * finite exactly when these two are: beta is at most 1e6, and free
     * bits only raise KL terms to a finite floor. */
    if (!isfinite(recon_sum) || !isfinite(kl_sum))
        return vae_model_fail(m, VAE_ERR_NONFINITE,
                              "loss is not finite (recon %g, kl %g); "
                              "gradients left unchanged", recon_sum, kl_sum);

    if (want_grad == GRAD_SET)
        vae_model_clear_grads(m);
    if (want_grad) {
        if (split)
            vae_out_add_dw(m);
        else
            vae_out_backward_kept(m, batch, NULL);
        st = backward_from_decoder(m, batch, 1, beta, want_grad);
        if (st != VAE_OK)
            return st;
    }
    put_results(elbo, (recon_sum - kl_sum) / (double)batch, recon,
                recon_sum / (double)batch, kl, kl_sum / (double)batch);
    return VAE_OK;
}

/* The ELBO of a batch (and, with want_grad, its gradient) with the KL term
 * weighed by beta in the loss; what is reported is the true bound. eps:
 * the noise of the z draws, or NULL to draw it. A gradient pass runs in
 * training mode (batch statistics, word dropout) from the first forward
 * to the last backward; the running statistics it updates are put back
 * if it fails, so a failed call leaves the model as it was. */
static int32_t run_elbo(vae_model *m, const float *x, int64_t batch,
                        const float *eps, int want_grad, double beta,
                        double *elbo, double *recon, double *kl)
{
    int32_t st = vae_check_condition(m, batch,
                                     want_grad ? "elbo_grad" : "elbo");
    if (st != VAE_OK)
        return st;
    size_t buf_bytes = (size_t)m->n_buffers * sizeof(float);
    m->run.training = want_grad != GRAD_NONE;
    if (m->run.training)
        memcpy(m->buffers_kept, m->buffers, buf_bytes);
    st = elbo_pass(m, x, batch, eps, want_grad, beta, elbo, recon, kl);
    if (st != VAE_OK && m->run.training)
        memcpy(m->buffers, m->buffers_kept, buf_bytes);
    m->run.training = 0;
    return st;
}

VAE_API int32_t vae_model_elbo(vae_model *m, const float *x, int64_t batch,
                               double *elbo, double *recon, double *kl)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    return run_elbo(m, x, batch, NULL, GRAD_NONE, m->beta, elbo, recon, kl);
}

VAE_API int32_t vae_model_elbo_noise(vae_model *m, const float *x,
                                     int64_t batch, const float *eps,
                                     double *elbo, double *recon, double *kl)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (!eps)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG, "elbo: eps is NULL");
    return run_elbo(m, x, batch, eps, GRAD_NONE, m->beta, elbo, recon, kl);
}

VAE_API int32_t vae_model_elbo_grad(vae_model *m, const float *x, int64_t batch,
                                    double *elbo, double *recon, double *kl)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    return run_elbo(m, x, batch, NULL, GRAD_ADD, m->beta, elbo, recon, kl);
}

VAE_API int32_t vae_model_elbo_grad_noise(vae_model *m, const float *x,
                                          int64_t batch, const float *eps,
                                          double *elbo, double *recon,
                                          double *kl)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (!eps)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "elbo_grad: eps is NULL");
    return run_elbo(m, x, batch, eps, GRAD_ADD, m->beta, elbo, recon, kl);
}

VAE_API int32_t vae_model_train_step(vae_model *m, vae_adam *opt,
                                     const float *x, int64_t batch,
                                     double *elbo, double *recon, double *kl)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (!opt)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG, "optimizer is NULL");
    VAE_HOLD(opt, vae_model_fail(m, VAE_ERR_BUSY,
                                 "the optimizer is in use by another call"));
    double beta = m->beta * vae_kl_anneal_weight(m->anneal_kind,
                                                 m->anneal_steps, opt->t);
    int32_t st = run_elbo(m, x, batch, NULL, GRAD_SET, beta, elbo, recon, kl);
    if (st != VAE_OK)
        return st;
    st = vae_adam_update(opt, m);
    if (st != VAE_OK)
        return vae_model_fail(m, st, "adam: %s", opt->err);
    return VAE_OK;
}

