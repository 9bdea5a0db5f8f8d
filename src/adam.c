/* adam.c - Adam and AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019),
 * with bias correction and optional global-norm clipping, over the model's
 * flat parameter and gradient buffers. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adam.h"
#include "alloc.h"
#include "hugepages.h"
#include "pool.h"
#include "simd.h"

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
    vae_adam *o = vae_calloc(1, sizeof *o);
    size_t n = (size_t)(m->n_params ? m->n_params : 1);
    if (o) {
        vae_busy_init(&o->busy);
        o->m = vae_calloc(n, sizeof(float));
        o->v = vae_calloc(n, sizeof(float));
    }
    if (!o || !o->m || !o->v) {
        vae_adam_free(o);
        vae_set_err(err, errlen, "out of memory for Adam state");
        return VAE_ERR_NOMEM;
    }
    vae_advise_hugepages(o->m, n * sizeof(float));
    vae_advise_hugepages(o->v, n * sizeof(float));
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
    VAE_HOLD(o, VAE_ERR_BUSY);
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
    VAE_HOLD(o, VAE_ERR_BUSY);
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
    VAE_HOLD(o, VAE_ERR_BUSY);
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
    VAE_HOLD(o, VAE_ERR_BUSY);
    if (!(max_norm >= 0.0 && isfinite(max_norm)))
        return adam_fail(o, VAE_ERR_RANGE, "clip norm %g must be >= 0",
                         max_norm);
    o->clip_norm = max_norm;
    return VAE_OK;
}

VAE_API int64_t vae_adam_steps(const vae_adam *o)
{
    if (!o)
        return VAE_ERR_INVALID_ARG;
    /* The flag is the one mutable part of a const handle. */
    VAE_HOLD((vae_adam *)o, VAE_ERR_BUSY);
    return o->t;
}

/* Sum of squares in double, in eight fixed lanes: the compiler can keep them
 * in vector registers, and the summation order (so the result) is fixed. */
static double sum_squares(const float *g, int64_t n)
{
    double lane[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            lane[k] += (double)g[i + k] * g[i + k];
    double s = 0.0;
    for (; i < n; i++)
        s += (double)g[i] * g[i];
    for (int k = 0; k < 8; k++)
        s += lane[k];
    return s;
}

/* The per-step constants of the update. */
typedef struct adam_coef {
    float scale, l2, decay, b1, b2, c1, c2, step, inv_sqrt_bc2, eps;
} adam_coef;

static adam_coef coefficients(const vae_adam *o, float scale, int64_t t)
{
    adam_coef c;
    c.scale = scale;
    /* Either decoupled decay (AdamW) or an L2 term in the gradient (Adam);
     * the unused one is 0, which keeps the loop branch-free. */
    c.decay = o->decoupled ? (float)(o->lr * o->weight_decay) : 0.0f;
    c.l2 = o->decoupled ? 0.0f : (float)o->weight_decay;
    c.b1 = (float)o->beta1;
    c.b2 = (float)o->beta2;
    /* 1 - beta in double: 1 - 0.999f is off by 1.3e-5 relative. */
    c.c1 = (float)(1.0 - o->beta1);
    c.c2 = (float)(1.0 - o->beta2);
    c.step = (float)(o->lr / (1.0 - pow(o->beta1, (double)t)));
    c.inv_sqrt_bc2 = (float)(1.0 / sqrt(1.0 - pow(o->beta2, (double)t)));
    c.eps = (float)o->eps;
    return c;
}

/* The first part of one parameter's update: stores the new moments through
 * mom and vel and returns the decayed parameter, which the update finishes
 * as  p - step * mom / (sqrt(vel) * inv_sqrt_bc2 + eps). */
static inline float moments(const adam_coef *c, float p, float g, float *mom,
                            float *vel)
{
    g = g * c->scale + c->l2 * p;
    *mom = c->b1 * *mom + c->c1 * g;
    *vel = c->b2 * *vel + c->c2 * g * g;
    return p - c->decay * p;
}

static inline float update_one(const adam_coef *c, float p, float g,
                               float *mom, float *vel)
{
    float pd = moments(c, p, g, mom, vel);
    return pd - c->step * *mom / (sqrtf(*vel) * c->inv_sqrt_bc2 + c->eps);
}

/* 1 when every new parameter and moment is certainly finite, without the
 * square root and division of the update: the denominator is at least eps,
 * so |step * m / den| < FLT_MAX / 4 when |step * m| < FLT_MAX / 4 * eps,
 * and with |decayed p| <= FLT_MAX / 4 the new p stays finite. NaN fails
 * every comparison. 0 means "look closer" (first_bad), not "overflows". */
VAE_CLONES
static int surely_finite(const adam_coef *c, const float *p, const float *grad,
                         const float *mom, const float *vel, int64_t n)
{
    const float lim = FLT_MAX / 4.0f * c->eps;
    int ok = 1;
    for (int64_t i = 0; i < n; i++) {
        float mi = mom[i], vi = vel[i];
        float pd = moments(c, p[i], grad[i], &mi, &vi);
        ok &= (fabsf(pd) <= FLT_MAX / 4.0f) & (fabsf(c->step * mi) < lim) &
              (vi <= FLT_MAX);
    }
    return ok;
}

/* The largest |g scale + l2 p| for which every new moment and parameter is
 * surely finite, given |m| <= m_bound and v <= v_bound everywhere: then
 * |new m| <= b1 m_bound + c1 A and new v <= b2 v_bound + c2 A^2, and
 * surely_finite's limits hold with a factor 2 to spare for rounding. 0 when
 * no such A exists, or the bounds are unknown (infinite). */
static float gradient_limit(const adam_coef *c, float m_bound, float v_bound)
{
    if (!(isfinite(c->step) && c->step > 0.0f))
        return 0.0f;
    double a1 = ((double)FLT_MAX / 8.0 * c->eps / c->step -
                 (double)c->b1 * m_bound) / c->c1;
    double a2 = ((double)FLT_MAX / 2.0 - (double)c->b2 * v_bound) / c->c2;
    if (!(a1 > 0.0 && a2 > 0.0))
        return 0.0f;
    double a = sqrt(a2);
    a = a < a1 ? a : a1;
    return a < FLT_MAX ? (float)a : FLT_MAX;
}

/* 1 when every |g scale + l2 p| is within `limit` (gradient_limit) and
 * every decayed parameter within FLT_MAX / 4: surely_finite's verdict from
 * two of its four arrays, the moments represented by their bounds. */
VAE_CLONES
static int gradients_within(const adam_coef *c, float limit, const float *p,
                            const float *grad, int64_t n)
{
    int ok = 1;
    for (int64_t i = 0; i < n; i++) {
        float g = grad[i] * c->scale + c->l2 * p[i];
        float pd = p[i] - c->decay * p[i];
        ok &= (fabsf(g) <= limit) & (fabsf(pd) <= FLT_MAX / 4.0f);
    }
    return ok;
}

/* A non-negative float's bits order as the float does. */
static inline uint32_t magnitude_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u & 0x7fffffffu;
}

/* The update of all n parameters and their moments; raises *m_max and
 * *v_max to the largest new |m| and |v| (as float bits). */
VAE_CLONES
static void update_all(const adam_coef *c, float *restrict p,
                       const float *restrict grad, float *restrict mom,
                       float *restrict vel, int64_t n, uint32_t *m_max,
                       uint32_t *v_max)
{
    uint32_t mx = *m_max, vx = *v_max;
    for (int64_t i = 0; i < n; i++) {
        p[i] = update_one(c, p[i], grad[i], &mom[i], &vel[i]);
        uint32_t mb = magnitude_bits(mom[i]), vb = magnitude_bits(vel[i]);
        mx = mb > mx ? mb : mx;
        vx = vb > vx ? vb : vx;
    }
    *m_max = mx;
    *v_max = vx;
}

/* The check and the update over the worker pool, in ranges of parameters:
 * each element's update is its own, and the check's verdicts combine by
 * AND, so neither depends on the split. */
typedef struct adam_loop {
    const adam_coef *c;
    float *p, *mom, *vel;
    const float *grad;
    float limit;
    atomic_int ok;
    atomic_uint_least32_t m_max, v_max;
} adam_loop;

static void quick_check_range(void *ctx, int64_t lo, int64_t hi)
{
    adam_loop *l = ctx;
    if (!gradients_within(l->c, l->limit, l->p + lo, l->grad + lo, hi - lo))
        atomic_store_explicit(&l->ok, 0, memory_order_relaxed);
}

static void check_range(void *ctx, int64_t lo, int64_t hi)
{
    adam_loop *l = ctx;
    if (!surely_finite(l->c, l->p + lo, l->grad + lo, l->mom + lo,
                       l->vel + lo, hi - lo))
        atomic_store_explicit(&l->ok, 0, memory_order_relaxed);
}

/* *max = the larger of itself and x; a maximum does not depend on the
 * order the ranges finish in. */
static void raise_to(atomic_uint_least32_t *max, uint32_t x)
{
    uint_least32_t cur = atomic_load_explicit(max, memory_order_relaxed);
    while (x > cur && !atomic_compare_exchange_weak_explicit(
                          max, &cur, x, memory_order_relaxed,
                          memory_order_relaxed))
        ;
}

static void update_range(void *ctx, int64_t lo, int64_t hi)
{
    adam_loop *l = ctx;
    uint32_t mx = 0, vx = 0;
    update_all(l->c, l->p + lo, l->grad + lo, l->mom + lo, l->vel + lo,
               hi - lo, &mx, &vx);
    raise_to(&l->m_max, mx);
    raise_to(&l->v_max, vx);
}

static float float_of_bits(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

void vae_adam_moments_written(vae_adam *o)
{
    o->m_bound = INFINITY;
    o->v_bound = INFINITY;
}

/* The first parameter whose exact update is not finite, or -1. */
static int64_t first_bad(const adam_coef *c, const float *p, const float *grad,
                         const float *mom, const float *vel, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float mi = mom[i], vi = vel[i];
        float pi = update_one(c, p[i], grad[i], &mi, &vi);
        if (!isfinite(pi) || !isfinite(mi) || !isfinite(vi))
            return i;
    }
    return -1;
}

int32_t vae_adam_update(vae_adam *o, vae_model *m)
{
    if (m->n_params != o->n)
        return adam_fail(o, VAE_ERR_SHAPE,
                         "optimizer has %lld parameters, model %lld",
                         (long long)o->n, (long long)m->n_params);
    /* Everything is checked before anything changes. */
    if (o->t == INT64_MAX)
        return adam_fail(o, VAE_ERR_RANGE, "step count %lld cannot grow",
                         (long long)o->t);
    float scale = 1.0f;
    if (o->clip_norm > 0.0) {
        double sq = sum_squares(m->grads, o->n);
        double norm = sqrt(sq);
        /* Same rule as torch.nn.utils.clip_grad_norm_. A NaN or Inf
         * gradient makes the norm so; the check below names it. */
        if (isfinite(norm) && norm > o->clip_norm)
            scale = (float)(o->clip_norm / (norm + 1e-6));
    }
    const adam_coef c = coefficients(o, scale, o->t + 1);
    float *p = m->params, *mom = o->m, *vel = o->v;
    const float *grad = m->grads;
    adam_loop l = {.c = &c, .p = p, .mom = mom, .vel = vel, .grad = grad,
                   .limit = gradient_limit(&c, o->m_bound, o->v_bound)};
    atomic_init(&l.ok, l.limit > 0.0f);
    atomic_init(&l.m_max, 0);
    atomic_init(&l.v_max, 0);
    /* Not only a NaN or Inf gradient: a finite one can overflow g * g, and
     * a huge learning rate the step. The quick check reads the gradients
     * and parameters; only when it cannot vouch for them do the moments
     * get read too (a sixth of the mlp benchmark's step at one thread
     * went to the optimizer, half of that to the check). */
    if (l.limit > 0.0f)
        vae_parallel_ranges(o->n, VAE_POOL_GRAIN, quick_check_range, &l);
    if (!atomic_load(&l.ok)) {
        atomic_store(&l.ok, 1);
        vae_parallel_ranges(o->n, VAE_POOL_GRAIN, check_range, &l);
    }
    int64_t bad = atomic_load(&l.ok) ? -1
                                     : first_bad(&c, p, grad, mom, vel, o->n);
    if (bad >= 0)
        return adam_fail(o, VAE_ERR_NONFINITE,
                         "%s %lld %s; parameters and optimizer state "
                         "unchanged",
                         !isfinite(grad[bad]) ? "gradient"
                         : !isfinite(p[bad]) ? "parameter"
                                             : "update of parameter",
                         (long long)bad,
                         !isfinite(grad[bad]) || !isfinite(p[bad])
                             ? "is not finite" : "would overflow");
    vae_parallel_ranges(o->n, VAE_POOL_GRAIN, update_range, &l);
    o->m_bound = float_of_bits(atomic_load(&l.m_max));
    o->v_bound = float_of_bits(atomic_load(&l.v_max));
    o->t++;
    return VAE_OK;
}

VAE_API int32_t vae_adam_step(vae_adam *o, vae_model *m)
{
    if (!o)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(o, VAE_ERR_BUSY);
    if (!m)
        return adam_fail(o, VAE_ERR_INVALID_ARG, "model is NULL");
    VAE_HOLD(m, adam_fail(o, VAE_ERR_BUSY,
                          "the model is in use by another call"));
    return vae_adam_update(o, m);
}
