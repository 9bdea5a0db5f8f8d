/* trainer.c - see trainer.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "models.h"
#include "trainer.h"

#define TRAINER_MAX_WORKERS 16

struct slice {
    vae_model *m;
    const float *x, *cond; /* cond: the slice's condition rows, or NULL */
    int64_t n;
    uint64_t seed;
    double elbo;
    int32_t status;
};

struct trainer {
    vae_model *m;
    int workers;
    int32_t blas; /* BLAS threads before trainer_new */
    vae_model *copy[TRAINER_MAX_WORKERS]; /* copy[0] is m itself */
    struct slice slice[TRAINER_MAX_WORKERS];
};

/* Gradient of one slice; the copies draw from their step's seed. */
static void *slice_grad(void *arg)
{
    struct slice *s = arg;
    s->status = VAE_OK;
    if (s->seed)
        s->status = vae_model_set_seed(s->m, s->seed);
    if (s->status == VAE_OK && s->cond)
        s->status = vae_model_set_condition(s->m, s->cond, s->n);
    if (s->status == VAE_OK)
        s->status = vae_model_zero_grad(s->m);
    if (s->status == VAE_OK)
        s->status = vae_model_elbo_grad(s->m, s->x, s->n, &s->elbo, NULL, NULL);
    return NULL;
}

int trainer_new(vae_model *m, int workers, trainer **out)
{
    trainer *t;

    if (workers < 1 || workers > TRAINER_MAX_WORKERS)
        return fail("trainer: %d workers not in 1..%d", workers,
                    TRAINER_MAX_WORKERS);
    if (!(t = calloc(1, sizeof *t)))
        return fail("out of memory");
    t->m = m;
    t->workers = workers;
    t->blas = vae_get_num_threads();
    t->copy[0] = m;
    for (int i = 1; i < workers; i++)
        if (model_clone(m, &t->copy[i])) {
            trainer_free(t);
            return -1;
        }
    if (workers > 1)
        vae_set_num_threads(1);
    *out = t;
    return 0;
}

void trainer_free(trainer *t)
{
    if (!t)
        return;
    for (int i = 1; i < t->workers; i++)
        vae_model_free(t->copy[i]);
    if (t->workers > 1 && t->blas > 0)
        vae_set_num_threads(t->blas);
    free(t);
}

int trainer_set_beta(trainer *t, double beta)
{
    for (int i = 0; i < t->workers; i++) {
        int32_t s = vae_model_set_beta(t->copy[i], beta);
        if (s != VAE_OK)
            return fail_lib("vae_model_set_beta", s,
                            vae_model_last_error(t->copy[i]));
    }
    return 0;
}

int trainer_set_train_samples(trainer *t, int64_t k)
{
    for (int i = 0; i < t->workers; i++) {
        int32_t s = vae_model_set_train_samples(t->copy[i], k);
        if (s != VAE_OK)
            return fail_lib("vae_model_set_train_samples", s,
                            vae_model_last_error(t->copy[i]));
    }
    return 0;
}

/* Seeds for the copies' draws this step, from the main model's generator. */
static int draw_seeds(trainer *t)
{
    float u[3 * TRAINER_MAX_WORKERS];
    int32_t s = vae_model_random_uniform(t->m, 3 * (t->workers - 1), u);

    if (s != VAE_OK)
        return fail_lib("vae_model_random_uniform", s,
                        vae_model_last_error(t->m));
    for (int i = 1; i < t->workers; i++) {
        uint64_t seed = 1; /* never 0, which means "keep the generator" */
        for (int j = 0; j < 3; j++)
            seed = (seed << 24) ^ (uint64_t)(u[3 * (i - 1) + j] * 0x1.0p24f);
        t->slice[i].seed = seed;
    }
    t->slice[0].seed = 0;
    return 0;
}

int trainer_step(trainer *t, vae_adam *opt, const float *x, const float *cond,
                 int64_t n, int64_t dim, long epoch, int64_t b, double *elbo)
{
    pthread_t th[TRAINER_MAX_WORKERS];
    int w = (int64_t)t->workers < n ? t->workers : (int)n, started = 1;
    int64_t np = vae_model_num_params(t->m);
    char where[64];
    double sum = 0.0;

    if (w == 1) {
        if (model_condition(t->m, cond, 0, n))
            return -1;
        return model_train_step(t->m, opt, x, n, epoch, b, elbo, NULL);
    }
    snprintf(where, sizeof where, "epoch %ld, batch %lld", epoch,
             (long long)b + 1);
    if (draw_seeds(t))
        return -1;
    for (int i = 0; i < w; i++) {
        int64_t lo = n * i / w, hi = n * (i + 1) / w;
        t->slice[i].m = t->copy[i];
        t->slice[i].x = x + lo * dim;
        t->slice[i].cond = cond ? cond + lo * vae_model_condition_size(t->m)
                                : NULL;
        t->slice[i].n = hi - lo;
    }
    for (; started < w; started++)
        if (pthread_create(&th[started], NULL, slice_grad, &t->slice[started]))
            break;
    /* A slice whose thread could not start runs here, after slice 0. */
    for (int i = 0; i < w; i++)
        if (i == 0 || i >= started)
            slice_grad(&t->slice[i]);
    for (int i = 1; i < started; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < w; i++)
        if (t->slice[i].status != VAE_OK)
            return fail_step(where, t->slice[i].status,
                             vae_model_last_error(t->copy[i]));

    float *g = vae_model_grads(t->m);
    for (int i = 1; i < w; i++) {
        const float *gi = vae_model_grads(t->copy[i]);
        for (int64_t p = 0; p < np; p++)
            g[p] += gi[p];
    }
    int32_t s = vae_adam_step(opt, t->m);
    if (s != VAE_OK)
        return fail_step(where, s, vae_adam_last_error(opt));
    const float *p0 = vae_model_params(t->m);
    for (int i = 1; i < w; i++)
        memcpy(vae_model_params(t->copy[i]), p0, (size_t)np * sizeof *p0);
    for (int i = 0; i < w; i++)
        sum += t->slice[i].elbo * (double)t->slice[i].n;
    *elbo = sum / (double)n;
    return 0;
}
