/* One handle used by two calls at once: the second gets VAE_ERR_BUSY and
 * changes nothing (docs/threading.md).
 *
 * The table tests hold a handle's flag the way a running call holds it and
 * make every guarded call once: each must return VAE_ERR_BUSY, leave the
 * model's and optimizer's saved bytes as they were and record no message
 * on a handle it does not hold. The header test reads vae.h and fails when
 * a function that takes a model or an optimizer is in neither the guarded
 * tables nor the documented list of unguarded calls, so a new function
 * must choose. Then real threads: two threads on one model see BUSY (and
 * only OK or BUSY), two threads on two models never do. The suite's tsan
 * phase runs this file under ThreadSanitizer. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adam.h"
#include "model.h"
#include "testutil.h"

enum { D = 64, H = 128, L = 8, B = 16, BUF_BYTES = 1 << 20 };

static float X[B * D];

static vae_model *model(uint64_t seed)
{
    const tu_layer enc[] = {TU_DENSE(H), TU_ACT(VAE_OP_TANH)};
    const tu_layer dec[] = {TU_DENSE(H), TU_ACT(VAE_OP_TANH), TU_DENSE(D)};
    return tu_model(D, enc, TU_COUNT(enc), L, dec, TU_COUNT(dec),
                    VAE_LIKELIHOOD_BERNOULLI, seed);
}

static vae_adam *adam(vae_model *m)
{
    vae_adam *o = NULL;
    assert_int_equal(vae_adam_new(m, 1e-3, &o, NULL, 0), VAE_OK);
    return o;
}

/* ---- Every guarded call, with arguments that would succeed ------------- */

typedef struct fixture {
    vae_model *m;
    vae_adam *o;
    float out[B * D], z[B * L], mu[B * L], eps[B * 2 * L];
    double logp[B];
    unsigned char *buf; /* BUF_BYTES: room for the saved model */
    char path[64];
} fixture;

typedef struct call {
    const char *name;
    int32_t (*run)(fixture *f);
} call;

#define CALL(fn, ...)                                                      \
    static int32_t run_##fn(fixture *f) { return (int32_t)fn(__VA_ARGS__); }
CALL(vae_model_set_seed, f->m, 7)
CALL(vae_model_set_beta, f->m, 0.5)
CALL(vae_model_set_free_bits, f->m, 0.0)
CALL(vae_model_set_kl_anneal, f->m, VAE_ANNEAL_LINEAR, 10)
CALL(vae_model_set_train_samples, f->m, 2)
CALL(vae_model_set_free_bits_mode, f->m, VAE_FREE_BITS_EXAMPLE)
CALL(vae_model_reset_decoder, f->m, 5)
CALL(vae_model_mutual_info, f->m, X, B, 2, &(double){0})
CALL(vae_model_active_units, f->m, X, B, 0.01, &(int64_t){0}, NULL)
CALL(vae_model_set_obs_logvar, f->m, -1.0)
CALL(vae_model_set_metadata, f->m, "abc", 3)
CALL(vae_model_set_condition, f->m, NULL, 0)
CALL(vae_model_zero_grad, f->m)
CALL(vae_model_scale_grad, f->m, 0.5)
CALL(vae_model_elbo, f->m, X, B, NULL, NULL, NULL)
CALL(vae_model_elbo_grad, f->m, X, B, NULL, NULL, NULL)
CALL(vae_model_elbo_noise, f->m, X, B, f->eps, NULL, NULL, NULL)
CALL(vae_model_elbo_grad_noise, f->m, X, B, f->eps, NULL, NULL, NULL)
CALL(vae_model_decoder_output, f->m, f->z, NULL, B, f->out)
CALL(vae_model_set_generation, f->m, VAE_GEN_TOP_K, 3)
CALL(vae_model_get_generation, f->m, VAE_GEN_TOP_K, &(double){0})
CALL(vae_model_generate_tokens, f->m, f->z, 1, 4, f->out, NULL)
CALL(vae_model_encode, f->m, X, B, f->mu, NULL)
CALL(vae_model_decode, f->m, f->z, B, f->out)
CALL(vae_model_sample, f->m, B, NULL, f->out)
CALL(vae_model_reconstruct, f->m, X, B, f->out)
CALL(vae_model_log_likelihood, f->m, f->z, X, B, f->logp)
CALL(vae_model_iwae, f->m, X, B, 3, f->logp)
CALL(vae_model_random_uniform, f->m, 4, f->out)
CALL(vae_model_generate, f->m, f->z, 1, VAE_DECODE_GREEDY, 1.0, 1, 1, -1, 4,
     f->out, NULL)
CALL(vae_model_train_step, f->m, f->o, X, B, NULL, NULL, NULL)
CALL(vae_model_save, f->m, f->o, f->path)
CALL(vae_model_save_size, f->m, f->o, &(size_t){0})
CALL(vae_model_save_to_buffer, f->m, f->o, f->buf, BUF_BYTES, &(size_t){0})
CALL(vae_adam_set_lr, f->o, 1e-2)
CALL(vae_adam_set_betas, f->o, 0.5, 0.9, 1e-6)
CALL(vae_adam_set_weight_decay, f->o, 0.1, 1)
CALL(vae_adam_set_clip_norm, f->o, 1.0)
CALL(vae_adam_steps, f->o)
CALL(vae_adam_step, f->o, f->m)
#undef CALL

#define ENTRY(fn) {#fn, run_##fn}
/* The calls that hold the model. */
static const call model_calls[] = {
    ENTRY(vae_model_set_seed),       ENTRY(vae_model_set_beta),
    ENTRY(vae_model_set_free_bits),  ENTRY(vae_model_set_kl_anneal),
    ENTRY(vae_model_set_train_samples), ENTRY(vae_model_set_obs_logvar),
    ENTRY(vae_model_set_free_bits_mode), ENTRY(vae_model_reset_decoder),
    ENTRY(vae_model_mutual_info),    ENTRY(vae_model_active_units),
    ENTRY(vae_model_set_metadata),   ENTRY(vae_model_set_condition),
    ENTRY(vae_model_zero_grad),
    ENTRY(vae_model_scale_grad),     ENTRY(vae_model_elbo),
    ENTRY(vae_model_elbo_grad),      ENTRY(vae_model_elbo_noise),
    ENTRY(vae_model_elbo_grad_noise), ENTRY(vae_model_decoder_output),
    ENTRY(vae_model_set_generation), ENTRY(vae_model_get_generation),
    ENTRY(vae_model_generate_tokens), ENTRY(vae_model_encode),
    ENTRY(vae_model_decode),         ENTRY(vae_model_sample),
    ENTRY(vae_model_reconstruct),    ENTRY(vae_model_log_likelihood),
    ENTRY(vae_model_iwae),           ENTRY(vae_model_random_uniform),
    ENTRY(vae_model_generate),       ENTRY(vae_model_train_step),
    ENTRY(vae_model_save),           ENTRY(vae_model_save_size),
    ENTRY(vae_model_save_to_buffer), ENTRY(vae_adam_step),
};
/* The calls that hold the optimizer. */
static const call adam_calls[] = {
    ENTRY(vae_adam_set_lr),          ENTRY(vae_adam_set_betas),
    ENTRY(vae_adam_set_weight_decay), ENTRY(vae_adam_set_clip_norm),
    ENTRY(vae_adam_steps),           ENTRY(vae_adam_step),
    ENTRY(vae_model_train_step),     ENTRY(vae_model_save),
    ENTRY(vae_model_save_size),      ENTRY(vae_model_save_to_buffer),
};
#undef ENTRY

/* Functions that take a model or optimizer and hold neither: freeing (the
 * caller's to order), the last error, and queries of what never changes
 * after construction or of a pointer (vae.h's threading rule names them). */
static const char *const unguarded[] = {
    "vae_model_free",       "vae_model_last_error", "vae_model_params",
    "vae_model_grads",      "vae_model_metadata",   "vae_model_data_size",
    "vae_model_output_size", "vae_model_condition_size",
    "vae_model_data_shape", "vae_model_latent_dim", "vae_model_num_params",
    "vae_adam_new",         "vae_adam_free",        "vae_adam_last_error",
    "vae_model_new",        "vae_model_load",       "vae_model_load_from_buffer",
};

static void fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->m = model(3);
    f->o = adam(f->m);
    f->buf = tu_alloc(BUF_BYTES);
    snprintf(f->path, sizeof f->path, "/tmp/vae-test-busy-%ld.vae",
             (long)getpid());
    /* A model that has trained, so gradients and moments are not zero. */
    for (int i = 0; i < 2; i++)
        assert_int_equal(
            vae_model_train_step(f->m, f->o, X, B, NULL, NULL, NULL), VAE_OK);
    /* Known messages, which a refused call must leave alone. */
    assert_int_equal(vae_model_set_beta(f->m, -1.0), VAE_ERR_RANGE);
    assert_int_equal(vae_adam_set_lr(f->o, -1.0), VAE_ERR_RANGE);
}

static void fixture_free(fixture *f)
{
    remove(f->path);
    free(f->buf);
    vae_adam_free(f->o);
    vae_model_free(f->m);
}

/* Holding `held` (the model's or the optimizer's flag), every call in
 * calls returns VAE_ERR_BUSY and changes nothing. A message, if any, goes
 * only to the handle the call holds itself: the other one of the pair. */
static void check_refused(const call *calls, int n, int hold_model)
{
    fixture f;
    fixture_init(&f);
    size_t len = 0;
    unsigned char *before = tu_save_image(f.m, f.o, &len);
    float *grads = tu_dup(vae_model_grads(f.m), vae_model_num_params(f.m));
    char model_err[VAE_ERRLEN], adam_err[VAE_ERRLEN];
    atomic_flag *held = hold_model ? &f.m->busy : &f.o->busy;
    for (int i = 0; i < n; i++) {
        snprintf(model_err, sizeof model_err, "%s", vae_model_last_error(f.m));
        snprintf(adam_err, sizeof adam_err, "%s", vae_adam_last_error(f.o));
        assert_false(atomic_flag_test_and_set(held));
        int32_t st = calls[i].run(&f);
        atomic_flag_clear(held);
        if (st != VAE_ERR_BUSY)
            fail_msg("%s with the %s held: %s, want VAE_ERR_BUSY",
                     calls[i].name, hold_model ? "model" : "optimizer",
                     vae_status_string(st));
        /* The refusing call holds the handle that is not busy, if it takes
         * one, and says why there. */
        const char *own = hold_model ? vae_adam_last_error(f.o)
                                     : vae_model_last_error(f.m);
        const char *saved = hold_model ? adam_err : model_err;
        if (strcmp(own, saved) != 0 && !strstr(own, "in use by another call"))
            fail_msg("%s: message \"%s\"", calls[i].name, own);
        assert_string_equal(hold_model ? vae_model_last_error(f.m)
                                       : vae_adam_last_error(f.o),
                            hold_model ? model_err : adam_err);
    }
    size_t len_after = 0;
    unsigned char *after = tu_save_image(f.m, f.o, &len_after);
    assert_int_equal(len_after, len);
    assert_memory_equal(after, before, len);
    assert_memory_equal(vae_model_grads(f.m), grads,
                        (size_t)vae_model_num_params(f.m) * sizeof(float));
    FILE *fp = fopen(f.path, "rb");
    assert_null(fp); /* the refused save wrote nothing */
    free(before);
    free(after);
    free(grads);
    fixture_free(&f);
}

static void test_model_held(void **state)
{
    (void)state;
    check_refused(model_calls, TU_COUNT(model_calls), 1);
}

static void test_optimizer_held(void **state)
{
    (void)state;
    check_refused(adam_calls, TU_COUNT(adam_calls), 0);
}

/* Every call is free again once the holder is gone: the same table runs
 * to VAE_OK (which also shows that no call left its flag taken). */
static void test_calls_work_after(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    for (int i = 0; i < TU_COUNT(model_calls); i++) {
        int32_t st = model_calls[i].run(&f);
        if (st < 0 && strcmp(model_calls[i].name, "vae_model_generate") != 0 &&
            strcmp(model_calls[i].name, "vae_model_generate_tokens") != 0)
            fail_msg("%s: %s (%s)", model_calls[i].name,
                     vae_status_string(st), vae_model_last_error(f.m));
    }
    for (int i = 0; i < TU_COUNT(adam_calls); i++)
        assert_true(adam_calls[i].run(&f) >= 0);
    /* generate refuses a Bernoulli model, but after its hold. */
    assert_int_equal(run_vae_model_generate(&f), VAE_ERR_UNSUPPORTED);
    assert_int_equal(run_vae_model_generate_tokens(&f), VAE_ERR_UNSUPPORTED);
    fixture_free(&f);
}

/* ---- The header: each function is guarded or named unguarded ----------- */

static int listed(const char *name)
{
    for (int i = 0; i < TU_COUNT(model_calls); i++)
        if (strcmp(model_calls[i].name, name) == 0)
            return 1;
    for (int i = 0; i < TU_COUNT(adam_calls); i++)
        if (strcmp(adam_calls[i].name, name) == 0)
            return 1;
    for (int i = 0; i < TU_COUNT(unguarded); i++)
        if (strcmp(unguarded[i], name) == 0)
            return 1;
    return 0;
}

static void test_every_function_classified(void **state)
{
    (void)state;
    FILE *fp = fopen(VAE_HEADER_PATH, "rb");
    assert_non_null(fp);
    static char text[1 << 17];
    size_t n = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[n] = '\0';
    int missing = 0, seen = 0;
    for (char *p = strstr(text, "\nVAE_API "); p;
         p = strstr(p + 1, "\nVAE_API ")) {
        char *open = strchr(p, '('), *close = open ? strchr(open, ')') : NULL;
        assert_non_null(close);
        char *name = open;
        while (name > p && (name[-1] == '_' || (name[-1] >= 'a' &&
                                                 name[-1] <= 'z') ||
                            (name[-1] >= '0' && name[-1] <= '9')))
            name--;
        char fn[64], params[512];
        snprintf(fn, sizeof fn, "%.*s", (int)(open - name), name);
        snprintf(params, sizeof params, "%.*s", (int)(close - open), open);
        if (!strstr(params, "vae_model") && !strstr(params, "vae_adam"))
            continue;
        seen++;
        if (!listed(fn)) {
            print_error("%s takes a model or optimizer but is neither "
                        "guarded (tested here) nor listed unguarded\n", fn);
            missing++;
        }
    }
    assert_true(seen > 40);
    assert_int_equal(missing, 0);
}

/* ---- Real threads --------------------------------------------------------- */

typedef struct worker {
    vae_model *m;
    vae_adam *o;
    atomic_int *stop;
    long ok, busy, other;
} worker;

static void count(worker *w, int32_t st)
{
    w->ok += st == VAE_OK;
    w->busy += st == VAE_ERR_BUSY;
    w->other += st != VAE_OK && st != VAE_ERR_BUSY;
}

/* Gives the other thread the processor for a while: on one core, and
 * under valgrind, which runs one thread at a time, a thread that calls
 * again at once could otherwise always find the model free. */
static void pause_briefly(void)
{
    struct timespec t = {0, 200000};
    nanosleep(&t, NULL);
}

/* Trains on w->m until told to stop, taking the model again at once after
 * each step and pausing after each refusal. */
static void *train_loop(void *arg)
{
    worker *w = arg;
    while (!atomic_load(w->stop)) {
        int32_t st = vae_model_train_step(w->m, w->o, X, B, NULL, NULL, NULL);
        count(w, st);
        if (st == VAE_ERR_BUSY)
            pause_briefly();
    }
    return NULL;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Encodes on w->m, pausing between calls, until it has seen `want_busy`
 * refusals or `seconds` passed; counts the outcomes in w. */
static void encode_loop(worker *w, long want_busy, double seconds)
{
    float mu[B * L];
    double end = now() + seconds;
    while (w->busy < want_busy && now() < end) {
        count(w, vae_model_encode(w->m, X, B, mu, NULL));
        pause_briefly();
    }
}

static void test_two_threads_one_model(void **state)
{
    (void)state;
    vae_model *m = model(5);
    vae_adam *o = adam(m);
    atomic_int stop = 0;
    worker a = {m, o, &stop, 0, 0, 0}, b = {m, NULL, &stop, 0, 0, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, train_loop, &a), 0);
    /* The trainer holds the model most of the time: refusals come fast. */
    encode_loop(&b, 5, 60.0);
    atomic_store(&stop, 1);
    assert_int_equal(pthread_join(t, NULL), 0);
    print_message("one model, two threads: trainer %ld ok, %ld busy; "
                  "encoder %ld ok, %ld busy\n", a.ok, a.busy, b.ok, b.busy);
    assert_int_equal(a.other, 0);
    assert_int_equal(b.other, 0);
    assert_true(b.busy >= 5);
    assert_true(a.ok > 0);
    /* Nothing was left held. */
    assert_int_equal(vae_model_train_step(m, o, X, B, NULL, NULL, NULL),
                     VAE_OK);
    vae_adam_free(o);
    vae_model_free(m);
}

static void test_two_threads_two_models(void **state)
{
    (void)state;
    vae_model *m1 = model(5), *m2 = model(6);
    vae_adam *o1 = adam(m1);
    atomic_int stop = 0;
    worker a = {m1, o1, &stop, 0, 0, 0}, b = {m2, NULL, &stop, 0, 0, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, train_loop, &a), 0);
    double end = now() + 0.5;
    while (now() < end || b.ok < 20)
        encode_loop(&b, 1, 0.01);
    atomic_store(&stop, 1);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(a.busy + a.other + b.busy + b.other, 0);
    assert_true(a.ok > 0 && b.ok >= 20);
    vae_adam_free(o1);
    vae_model_free(m1);
    vae_model_free(m2);
}

static int setup(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 11);
    tu_fill_uniform(&r, X, B * D, 0.0, 1.0);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_held),
        cmocka_unit_test(test_optimizer_held),
        cmocka_unit_test(test_calls_work_after),
        cmocka_unit_test(test_every_function_classified),
        cmocka_unit_test(test_two_threads_one_model),
        cmocka_unit_test(test_two_threads_two_models),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
