/* adam.c - Adam and AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019),
 * with bias correction and optional global-norm clipping, over the model's
 * flat parameter and gradient buffers. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "model.h"

static int32_t adam_fail(vae_adam *o, int32_t status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->err, sizeof o->err, fmt, ap);
    va_end(ap);
    return status;
}

VAE_API int32_t vae_adam_new(const vae_model *m, double lr, vae_adam **out,
                             char *err, size_t errlen)
{
    if (!out || !m) {
        vae_set_err(err, errlen, "%s is NULL", out ? "model" : "out");
        if (out)
            *out = NULL;
        return VAE_ERR_INVALID_ARG;
    }
    *out = NULL;
    if (!(lr > 0.0 && isfinite(lr))) {
        vae_set_err(err, errlen, "learning rate %g must be positive", lr);
        return VAE_ERR_RANGE;
    }
    vae_adam *o = calloc(1, sizeof *o);
    size_t n = (size_t)(m->n_params ? m->n_params : 1);
    if (o) {
        o->m = calloc(n, sizeof(float));
        o->v = calloc(n, sizeof(float));
    }
    if (!o || !o->m || !o->v) {
        vae_adam_free(o);
        vae_set_err(err, errlen, "out of memory for Adam state");
        return VAE_ERR_NOMEM;
    }
    o->n = m->n_params;
    o->lr = lr;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    *out = o;
    return VAE_OK;
}

VAE_API void vae_adam_free(vae_adam *o)
{
    if (!o)
        return;
    free(o->m);
    free(o->v);
    free(o);
}

VAE_API const char *vae_adam_last_error(const vae_adam *o)
{
    return o ? o->err : "optimizer is NULL";
}

VAE_API int32_t vae_adam_set_lr(vae_adam *o, double lr)
{
    if (!o)
        return VAE_ERR_INVALID_ARG;
    if (!(lr > 0.0 && isfinite(lr)))
        return adam_fail(o, VAE_ERR_RANGE, "learning rate %g must be positive",
                         lr);
    o->lr = lr;
    return VAE_OK;
}

VAE_API int32_t vae_adam_set_betas(vae_adam *o, double beta1, double beta2,
                                   double eps)
{
    if (!o)
        return VAE_ERR_INVALID_ARG;
    if (!(beta1 >= 0.0 && beta1 < 1.0 && beta2 >= 0.0 && beta2 < 1.0 &&
          eps > 0.0 && isfinite(eps)))
        return adam_fail(o, VAE_ERR_RANGE,
                         "need 0 <= beta1, beta2 < 1 and eps > 0 (got %g, %g, %g)",
                         beta1, beta2, eps);
    o->beta1 = beta1;
    o->beta2 = beta2;
    o->eps = eps;
    return VAE_OK;
}

VAE_API int32_t vae_adam_set_weight_decay(vae_adam *o, double wd,
                                          int32_t decoupled)
{
    if (!o)
        return VAE_ERR_INVALID_ARG;
    if (decoupled != 0 && decoupled != 1)
        return adam_fail(o, VAE_ERR_INVALID_ARG, "decoupled must be 0 or 1, "
                         "not %d", (int)decoupled);
    if (!(wd >= 0.0 && isfinite(wd)))
        return adam_fail(o, VAE_ERR_RANGE, "weight decay %g must be >= 0", wd);
    o->weight_decay = wd;
    o->decoupled = decoupled;
    return VAE_OK;
}

VAE_API int32_t vae_adam_set_clip_norm(vae_adam *o, double max_norm)
{
    if (!o)
        return VAE_ERR_INVALID_ARG;
    if (!(max_norm >= 0.0 && isfinite(max_norm)))
        return adam_fail(o, VAE_ERR_RANGE, "clip norm %g must be >= 0",
                         max_norm);
    o->clip_norm = max_norm;
    return VAE_OK;
}

VAE_API int64_t vae_adam_steps(const vae_adam *o)
{
    return o ? o->t : VAE_ERR_INVALID_ARG;
}

VAE_API int32_t vae_adam_step(vae_adam *o, vae_model *m)
{
    if (!o)
        return VAE_ERR_INVALID_ARG;
    if (!m)
        return adam_fail(o, VAE_ERR_INVALID_ARG, "model is NULL");
    if (m->n_params != o->n)
        return adam_fail(o, VAE_ERR_SHAPE,
                         "optimizer has %lld parameters, model %lld",
                         (long long)o->n, (long long)m->n_params);
    /* Check everything before changing anything. */
    double sq = 0.0;
    for (int64_t i = 0; i < o->n; i++)
        sq += (double)m->grads[i] * m->grads[i];
    if (!isfinite(sq))
        return adam_fail(o, VAE_ERR_NONFINITE,
                         "gradient is not finite; parameters and optimizer "
                         "state unchanged");
    double norm = sqrt(sq);
    /* Same rule as torch.nn.utils.clip_grad_norm_. */
    float scale = (o->clip_norm > 0.0 && norm > o->clip_norm)
                      ? (float)(o->clip_norm / (norm + 1e-6)) : 1.0f;

    o->t++;
    /* 1 - beta in double: 1 - 0.999f is off by 1.3e-5 relative. */
    const float b1 = (float)o->beta1, b2 = (float)o->beta2;
    const float c1 = (float)(1.0 - o->beta1), c2 = (float)(1.0 - o->beta2);
    const float step = (float)(o->lr / (1.0 - pow(o->beta1, (double)o->t)));
    const float inv_sqrt_bc2 =
        (float)(1.0 / sqrt(1.0 - pow(o->beta2, (double)o->t)));
    const float eps = (float)o->eps, lr = (float)o->lr;
    const float wd = (float)o->weight_decay;
    float *p = m->params;
    for (int64_t i = 0; i < o->n; i++) {
        float g = m->grads[i] * scale;
        if (o->decoupled)
            p[i] -= lr * wd * p[i];
        else
            g += wd * p[i];
        o->m[i] = b1 * o->m[i] + c1 * g;
        o->v[i] = b2 * o->v[i] + c2 * g * g;
        p[i] -= step * o->m[i] / (sqrtf(o->v[i]) * inv_sqrt_bc2 + eps);
    }
    return VAE_OK;
}

VAE_API int32_t vae_model_train_step(vae_model *m, vae_adam *opt,
                                     const float *x, int64_t batch,
                                     double *elbo, double *recon, double *kl)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    if (!opt)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG, "optimizer is NULL");
    vae_model_zero_grad(m);
    int32_t st = vae_model_elbo_grad(m, x, batch, elbo, recon, kl);
    if (st != VAE_OK)
        return st;
    st = vae_adam_step(opt, m);
    if (st != VAE_OK)
        return vae_model_fail(m, st, "adam: %s", opt->err);
    return VAE_OK;
}
