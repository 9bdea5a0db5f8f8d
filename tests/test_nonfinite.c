/* Non-finite values: NaN and Inf in the data and latents a call is given,
 * in parameters and optimizer state read from a file, and arising inside a
 * call from huge but finite numbers (forward overflow, backward overflow,
 * an Adam update that would overflow). Each must give an error status with
 * a message and leave the parameters and the optimizer state (moments and
 * step count) byte for byte as they were: the tests compare the parameter
 * buffer with memcmp and the whole saved image (model and optimizer), which
 * must also keep the generator state when the call failed before drawing.
 *
 * File offsets come from docs/file-format.md (section order and sizes). */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32.h"
#include "testutil.h"

/* ---- Documented layout (docs/file-format.md) --------------------------- */

enum {
    HDR = 32,       /* header bytes */
    OFF_CRC = 28,   /* checksum field: covers bytes 0..27 and the payload */
    RNG0 = 32 + 36, /* generator state: settings offset 36, 32 bytes */
    RNG_BYTES = 32,
    OPT_FIXED = 68, /* optimizer settings before the moments */
    O_T = 52,       /* step count within them */
};

/* ---- The model ---------------------------------------------------------- */

/* 6 -> dense 8 -> leaky relu -> head(2); 2 -> dense 8 -> leaky relu ->
 * dense 6, Gaussian with fixed variance: no activation bounds its values,
 * so scaled weights overflow where the test wants them to. */
enum { D = 6, L = 2, B = 3, K = 4 };

static float X[B * D], Z[B * L];

static vae_model *model(uint64_t seed)
{
    const tu_layer enc[] = {TU_DENSE(8), TU_LEAKY(0.1f)};
    const tu_layer dec[] = {TU_DENSE(8), TU_LEAKY(0.1f), TU_DENSE(D)};
    return tu_model(D, enc, TU_COUNT(enc), L, dec, TU_COUNT(dec),
                    VAE_LIKELIHOOD_GAUSSIAN_FIXED, seed);
}

/* A model with an optimizer that has taken two steps, so the moments and
 * the step count are not their initial zeros. */
static vae_model *trained(uint64_t seed, vae_adam **opt)
{
    vae_model *m = model(seed);
    assert_int_equal(vae_adam_new(m, 1e-2, opt, NULL, 0), VAE_OK);
    for (int i = 0; i < 2; i++)
        assert_int_equal(vae_model_train_step(m, *opt, X, B, NULL, NULL, NULL),
                         VAE_OK);
    return m;
}

/* ---- The calls under test ------------------------------------------------ */

enum call {
    C_ELBO, C_ELBO_GRAD, C_TRAIN, C_ENCODE, C_IWAE, C_RECONSTRUCT,
    C_DECODE, C_LOG_LIKELIHOOD, C_SAMPLE, N_CALLS
};
static const char *const call_name[N_CALLS] = {
    "elbo", "elbo_grad", "train_step", "encode", "iwae", "reconstruct",
    "decode", "log_likelihood", "sample"};

/* The calls whose input is z (the others read x; sample reads neither). */
static int takes_z(int c) { return c == C_DECODE || c == C_LOG_LIKELIHOOD; }

static int32_t run(int c, vae_model *m, vae_adam *o, const float *x,
                   const float *z)
{
    double d[B];
    float out[B * D], mu[B * L], lv[B * L];
    switch (c) {
    case C_ELBO: return vae_model_elbo(m, x, B, d, NULL, NULL);
    case C_ELBO_GRAD: return vae_model_elbo_grad(m, x, B, d, NULL, NULL);
    case C_TRAIN: return vae_model_train_step(m, o, x, B, d, NULL, NULL);
    case C_ENCODE: return vae_model_encode(m, x, B, mu, lv);
    case C_IWAE: return vae_model_iwae(m, x, B, K, d);
    case C_RECONSTRUCT: return vae_model_reconstruct(m, x, B, out);
    case C_DECODE: return vae_model_decode(m, z, B, out);
    case C_LOG_LIKELIHOOD: return vae_model_log_likelihood(m, z, x, B, d);
    default: return vae_model_sample(m, B, NULL, out);
    }
}

/* ---- Snapshots ------------------------------------------------------------ */

typedef struct snap {
    int64_t n;
    float *params, *grads;
    unsigned char *img; /* the saved model with its optimizer */
    size_t len;
} snap;

static snap take(vae_model *m, const vae_adam *o)
{
    snap s;
    s.n = vae_model_num_params(m);
    s.params = tu_dup(vae_model_params(m), s.n);
    s.grads = tu_dup(vae_model_grads(m), s.n);
    s.img = tu_save_image(m, o, &s.len);
    return s;
}

static void drop(snap *s)
{
    free(s->params);
    free(s->grads);
    free(s->img);
}

/* The parameters, the gradients if `grads`, and every byte of the saved
 * model and optimizer as in s; the generator state (and so the checksum)
 * may differ only when `drew` (the call sampled z before it failed). */
static void expect_unchanged(vae_model *m, const vae_adam *o, const snap *s,
                             int grads, int drew, const char *what)
{
    size_t bytes = (size_t)s->n * sizeof(float);
    if (memcmp(vae_model_params(m), s->params, bytes) != 0)
        fail_msg("%s: parameters changed", what);
    if (grads && memcmp(vae_model_grads(m), s->grads, bytes) != 0)
        fail_msg("%s: gradients changed", what);
    size_t len = 0;
    unsigned char *now = tu_save_image(m, o, &len);
    assert_int_equal(len, s->len);
    /* The checksum follows any change, so it is compared last. */
    for (size_t i = 0; i < len; i++) {
        int rng = i >= RNG0 && i < RNG0 + RNG_BYTES;
        if ((i >= OFF_CRC && i < OFF_CRC + 4) || (drew && rng))
            continue;
        if (now[i] != s->img[i])
            fail_msg("%s: saved byte %zu changed (%s)", what, i,
                     rng ? "generator" : "model or optimizer");
    }
    if (!drew)
        assert_memory_equal(now + OFF_CRC, s->img + OFF_CRC, 4);
    free(now);
}

static void expect_error(vae_model *m, int32_t got, int32_t want,
                         const char *needle, const char *what)
{
    const char *msg = vae_model_last_error(m);
    if (got != want)
        fail_msg("%s: status %d, want %d (message: %s)", what, (int)got,
                 (int)want, msg);
    if (!strstr(msg, needle))
        fail_msg("%s: message \"%s\" lacks \"%s\"", what, msg, needle);
}

/* Fills the gradient buffer with a pattern that a call must not add to. */
static void mark_grads(vae_model *m)
{
    float *g = vae_model_grads(m);
    for (int64_t i = 0; i < vae_model_num_params(m); i++)
        g[i] = 0.25f * (float)(i % 7) - 0.5f;
}

/* ---- Inputs --------------------------------------------------------------- */

/* NaN, Inf or -Inf at the first, a middle or the last element of x or z:
 * VAE_ERR_NONFINITE naming the element, and nothing changed at all, not
 * even the generator or the gradients. The same calls with the clean input then succeed, and a
 * training step does move the parameters, so the comparisons can fail. */
static void test_nonfinite_inputs(void **state)
{
    (void)state;
    vae_adam *o = NULL;
    vae_model *m = trained(1, &o);
    const float bad[] = {NAN, INFINITY, -INFINITY};
    float x[B * D], z[B * L];
    char what[128];
    for (int c = 0; c < C_SAMPLE; c++) {
        int64_t n = takes_z(c) ? B * L : B * D;
        const int64_t where[] = {0, n / 2, n - 1};
        for (int v = 0; v < TU_COUNT(bad); v++)
            for (int w = 0; w < TU_COUNT(where); w++) {
                memcpy(x, X, sizeof x);
                memcpy(z, Z, sizeof z);
                (takes_z(c) ? z : x)[where[w]] = bad[v];
                snprintf(what, sizeof what, "%s with %g at %lld",
                         call_name[c], (double)bad[v], (long long)where[w]);
                mark_grads(m);
                snap s = take(m, o);
                expect_error(m, run(c, m, o, x, z), VAE_ERR_NONFINITE,
                             "not finite", what);
                char idx[32];
                snprintf(idx, sizeof idx, "element %lld", (long long)where[w]);
                if (!strstr(vae_model_last_error(m), idx))
                    fail_msg("%s: message \"%s\" does not name %s", what,
                             vae_model_last_error(m), idx);
                expect_unchanged(m, o, &s, 1, 0, what);
                drop(&s);
            }
    }
    for (int c = 0; c < N_CALLS; c++) {
        snap s = take(m, o);
        int32_t st = run(c, m, o, X, Z);
        if (st != VAE_OK)
            fail_msg("%s with clean input: %s", call_name[c],
                     vae_model_last_error(m));
        if (c == C_TRAIN)
            assert_memory_not_equal(vae_model_params(m), s.params,
                                    (size_t)s.n * sizeof(float));
        drop(&s);
    }
    vae_adam_free(o);
    vae_model_free(m);
}

/* ---- Overflow inside a call ---------------------------------------------- */

/* The training objectives: the ELBO (1 sample) and the importance-weighted
 * bound, whose gradient has its own code path. */
static const int64_t SAMPLES[] = {1, 4};

/* Every weight and bias times 1e30: finite, but the encoder's head and the
 * decoder's output overflow, so every call fails (at its loss, its encoder
 * output, its decoded mean or its log-likelihood) and changes nothing but
 * the generator (the gradients neither: the loss fails before them). (With the same model unscaled every call succeeds:
 * test_nonfinite_inputs.) */
static void test_forward_overflow(void **state)
{
    (void)state;
    char what[64];
    for (int k = 0; k < TU_COUNT(SAMPLES); k++) {
        vae_adam *o = NULL;
        vae_model *m = trained(2, &o);
        assert_int_equal(vae_model_set_train_samples(m, SAMPLES[k]), VAE_OK);
        float *p = vae_model_params(m);
        for (int64_t i = 0; i < vae_model_num_params(m); i++)
            p[i] *= 1e30f;
        for (int c = 0; c < N_CALLS; c++) {
            snprintf(what, sizeof what, "%s, %lld samples", call_name[c],
                     (long long)SAMPLES[k]);
            mark_grads(m);
            snap s = take(m, o);
            expect_error(m, run(c, m, o, X, Z), VAE_ERR_NONFINITE,
                         "not finite", what);
            expect_unchanged(m, o, &s, 1, 1, what);
            drop(&s);
        }
        assert_int_equal(vae_adam_steps(o), 2);
        vae_adam_free(o);
        vae_model_free(m);
    }
}

/* The decoder's output bias at 1e30 with log-variance -30: the loss,
 * r^2 / var ~ 1e73 in double, is finite, but its gradient r / var ~ 1e43 is
 * beyond float. elbo succeeds; elbo_grad reports the gradient; train_step
 * reports it too (Adam's check refuses the step); for either training
 * objective. */
static void test_backward_overflow(void **state)
{
    (void)state;
    char what[64];
    for (int k = 0; k < TU_COUNT(SAMPLES); k++) {
        vae_adam *o = NULL;
        vae_model *m = trained(3, &o);
        assert_int_equal(vae_model_set_train_samples(m, SAMPLES[k]), VAE_OK);
        assert_int_equal(vae_model_set_obs_logvar(m, -30.0), VAE_OK);
        float *p = vae_model_params(m);
        int64_t n = vae_model_num_params(m);
        for (int64_t i = n - D; i < n; i++) /* the last block: output bias */
            p[i] = 1e30f;
        double elbo = 0.0;
        assert_int_equal(vae_model_elbo(m, X, B, &elbo, NULL, NULL), VAE_OK);
        assert_true(isfinite(elbo) && elbo < -1e60);

        snprintf(what, sizeof what, "elbo_grad, %lld samples",
                 (long long)SAMPLES[k]);
        snap s = take(m, o);
        expect_error(m, vae_model_elbo_grad(m, X, B, NULL, NULL, NULL),
                     VAE_ERR_NONFINITE, "gradient", what);
        expect_unchanged(m, o, &s, 0, 1, what);
        drop(&s);

        snprintf(what, sizeof what, "train_step, %lld samples",
                 (long long)SAMPLES[k]);
        s = take(m, o);
        expect_error(m, vae_model_train_step(m, o, X, B, NULL, NULL, NULL),
                     VAE_ERR_NONFINITE, "gradient", what);
        expect_unchanged(m, o, &s, 0, 1, what);
        assert_int_equal(vae_adam_steps(o), 2);
        drop(&s);
        vae_adam_free(o);
        vae_model_free(m);
    }
}

/* The same bias with log-variance 0: the gradient, ~1e30, is finite, so
 * elbo_grad succeeds, but Adam's g^2 is not: the step is refused with
 * nothing changed. Clipping brings g back into range and the same step
 * goes through, so the refusal is the overflow, not the size. */
static void test_update_overflow(void **state)
{
    (void)state;
    vae_adam *o = NULL;
    vae_model *m = trained(4, &o);
    float *p = vae_model_params(m);
    int64_t n = vae_model_num_params(m);
    for (int64_t i = n - D; i < n; i++)
        p[i] = 1e30f;

    snap s = take(m, o);
    expect_error(m, vae_model_train_step(m, o, X, B, NULL, NULL, NULL),
                 VAE_ERR_NONFINITE, "overflow", "train_step");
    expect_unchanged(m, o, &s, 0, 1, "train_step");
    drop(&s);

    assert_int_equal(vae_model_zero_grad(m), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(m, X, B, NULL, NULL, NULL), VAE_OK);
    s = take(m, o);
    assert_int_equal(vae_adam_step(o, m), VAE_ERR_NONFINITE);
    assert_non_null(strstr(vae_adam_last_error(o), "overflow"));
    expect_unchanged(m, o, &s, 1, 0, "adam_step");
    drop(&s);

    assert_int_equal(vae_adam_set_clip_norm(o, 1.0), VAE_OK);
    assert_int_equal(vae_adam_step(o, m), VAE_OK);
    assert_int_equal(vae_adam_steps(o), 3);
    vae_adam_free(o);
    vae_model_free(m);
}

/* A learning rate of 1e38 is a valid setting, but its first update,
 * lr / (1 - beta1^t) > FLT_MAX, is not: refused, then fine at 1e-3. */
static void test_huge_learning_rate(void **state)
{
    (void)state;
    vae_adam *o = NULL;
    vae_model *m = trained(5, &o);
    assert_int_equal(vae_model_zero_grad(m), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(m, X, B, NULL, NULL, NULL), VAE_OK);
    assert_int_equal(vae_adam_set_lr(o, 1e38), VAE_OK);
    snap s = take(m, o);
    assert_int_equal(vae_adam_step(o, m), VAE_ERR_NONFINITE);
    assert_non_null(strstr(vae_adam_last_error(o), "overflow"));
    expect_unchanged(m, o, &s, 1, 0, "adam_step with lr 1e38");
    drop(&s);
    assert_int_equal(vae_adam_set_lr(o, 1e-3), VAE_OK);
    assert_int_equal(vae_adam_step(o, m), VAE_OK);
    vae_adam_free(o);
    vae_model_free(m);
}

/* ---- Files ----------------------------------------------------------------- */

static void reseal(unsigned char *buf, size_t len)
{
    uint32_t crc = vae_crc32(vae_crc32(0, buf, OFF_CRC), buf + HDR, len - HDR);
    for (int i = 0; i < 4; i++)
        buf[OFF_CRC + i] = (unsigned char)(crc >> (8 * i));
}

static void put_f32(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(u >> (8 * i));
}

static char dir[64];

/* Loads the image from memory and from a file: want either way, with a
 * message containing `needle`, no outputs. */
static void expect_load(const unsigned char *img, size_t len, int32_t want,
                        const char *needle, const char *what)
{
    char path[128];
    snprintf(path, sizeof path, "%s/edited.vae", dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(img, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    for (int via_file = 0; via_file < 2; via_file++) {
        char err[256] = "";
        vae_model *m = NULL;
        vae_adam *o = NULL;
        int32_t st = via_file
                         ? vae_model_load(path, &m, &o, err, sizeof err)
                         : vae_model_load_from_buffer(img, len, &m, &o, err,
                                                      sizeof err);
        if (st != want)
            fail_msg("%s (%s): status %d, want %d: %s", what,
                     via_file ? "file" : "buffer", (int)st, (int)want, err);
        if (want != VAE_OK) {
            assert_null(m);
            assert_null(o);
            if (!strstr(err, needle))
                fail_msg("%s: message \"%s\" lacks \"%s\"", what, err, needle);
        }
        vae_adam_free(o);
        vae_model_free(m);
    }
    remove(path);
}

/* NaN, Inf or -Inf at the first or last parameter, first moment or second
 * moment of a saved model, behind a correct checksum: VAE_ERR_NONFINITE
 * from memory and from a file. Unedited but resealed, the image loads. */
static void test_nonfinite_in_file(void **state)
{
    (void)state;
    vae_adam *o = NULL;
    vae_model *m = trained(6, &o);
    size_t len = 0;
    unsigned char *img = tu_save_image(m, o, &len);
    size_t n = (size_t)vae_model_num_params(m);
    /* Sections 4 and 5 end the file (no metadata): parameters, then the
     * optimizer's settings and its two moment arrays. */
    const size_t opt0 = len - (OPT_FIXED + 8 * n);
    const struct {
        const char *name;
        size_t start;
    } blocks[] = {{"parameter", opt0 - 4 * n},
                  {"first moment", opt0 + OPT_FIXED},
                  {"second moment", opt0 + OPT_FIXED + 4 * n}};
    const float bad[] = {NAN, INFINITY, -INFINITY};
    unsigned char *e = tu_alloc(len);
    const size_t where[] = {0, n - 1};
    char what[96];
    for (int b = 0; b < TU_COUNT(blocks); b++)
        for (int v = 0; v < TU_COUNT(bad); v++)
            for (int w = 0; w < TU_COUNT(where); w++) {
                size_t at = where[w];
                memcpy(e, img, len);
                put_f32(e + blocks[b].start + 4 * at, bad[v]);
                reseal(e, len);
                snprintf(what, sizeof what, "%s %zu = %g", blocks[b].name, at,
                         (double)bad[v]);
                expect_load(e, len, VAE_ERR_NONFINITE, "not finite", what);
            }
    memcpy(e, img, len);
    reseal(e, len);
    expect_load(e, len, VAE_OK, "", "unedited");
    free(e);
    free(img);
    vae_adam_free(o);
    vae_model_free(m);
}

/* A step count of INT64_MAX in a file loads (it is a count), but the next
 * step cannot count itself: VAE_ERR_RANGE with nothing changed, rather than
 * a signed overflow. */
static void test_step_count_limit(void **state)
{
    (void)state;
    vae_adam *o = NULL;
    vae_model *m = trained(7, &o);
    size_t len = 0;
    unsigned char *img = tu_save_image(m, o, &len);
    size_t n = (size_t)vae_model_num_params(m);
    unsigned char *t = img + len - (OPT_FIXED + 8 * n) + O_T;
    for (int i = 0; i < 8; i++)
        t[i] = i == 7 ? 0x7F : 0xFF;
    reseal(img, len);
    vae_model *lm = NULL;
    vae_adam *lo = NULL;
    assert_int_equal(vae_model_load_from_buffer(img, len, &lm, &lo, NULL, 0),
                     VAE_OK);
    assert_true(vae_adam_steps(lo) == INT64_MAX);
    assert_int_equal(vae_model_zero_grad(lm), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(lm, X, B, NULL, NULL, NULL), VAE_OK);
    snap s = take(lm, lo);
    assert_int_equal(vae_adam_step(lo, lm), VAE_ERR_RANGE);
    assert_true(vae_adam_last_error(lo)[0] != '\0');
    expect_unchanged(lm, lo, &s, 1, 0, "adam_step at INT64_MAX");
    drop(&s);
    free(img);
    vae_adam_free(lo);
    vae_model_free(lm);
    vae_adam_free(o);
    vae_model_free(m);
}

static int setup(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 77);
    tu_fill_uniform(&r, X, B * D, -1.0, 1.0);
    for (int i = 0; i < B * L; i++)
        Z[i] = (float)tu_normal(&r);
    snprintf(dir, sizeof dir, "/tmp/vae-test-nonfinite-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/edited.vae", dir);
    remove(path); /* left behind if a test failed part way */
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nonfinite_inputs),
        cmocka_unit_test(test_forward_overflow),
        cmocka_unit_test(test_backward_overflow),
        cmocka_unit_test(test_update_overflow),
        cmocka_unit_test(test_huge_learning_rate),
        cmocka_unit_test(test_nonfinite_in_file),
        cmocka_unit_test(test_step_count_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
