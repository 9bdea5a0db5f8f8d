/* generate.c - vae-text sample, reconstruct and interpolate: sentences
 * decoded from latents of the prior, of one sentence, or between two. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <vae.h>

#include "cli.h"
#include "commands.h"
#include "models.h"
#include "normal.h"
#include "order.h"
#include "textmodel.h"
#include "vocab.h"

#define MAX_SAMPLES 10000 /* --n limit for sample */

enum decode_mode { DEC_GREEDY, DEC_SAMPLE, DEC_TOPK, DEC_BEAM };

static const char *const decode_names[] = {
    [DEC_GREEDY] = "greedy", [DEC_SAMPLE] = "sample", [DEC_TOPK] = "topk",
    [DEC_BEAM] = "beam"};

static const int32_t decode_codes[] = {
    [DEC_GREEDY] = VAE_DECODE_GREEDY, [DEC_SAMPLE] = VAE_DECODE_SAMPLE,
    [DEC_TOPK] = VAE_DECODE_TOP_K, [DEC_BEAM] = VAE_DECODE_BEAM};

/* How to generate: the flags of sample and reconstruct. */
struct decoding {
    int mode;
    double temperature;
    long top_k, beam;
};

static int get_decoding(const struct args *a, struct decoding *d)
{
    if (get_choice(a, OPT_DECODE, decode_names,
                   sizeof decode_names / sizeof *decode_names, DEC_GREEDY,
                   &d->mode) ||
        get_double(a, OPT_TEMPERATURE, 1.0, 0.0, 1000.0, 1, &d->temperature) ||
        get_long(a, OPT_TOP_K, 10, 1, 1L << 24, &d->top_k) ||
        get_long(a, OPT_BEAM, 5, 1, 1024, &d->beam))
        return -1;
    return 0;
}


/* Generates one sentence per latent of z (n x latent) and prints each on
 * its own line, after `label` when given, else after its t_values entry
 * when given. */
static int generate_lines(struct text_model *tm, const float *z, int64_t n,
                          const struct decoding *d, const char *label,
                          const float *t_values)
{
    const int64_t T = tm->arch.maxlen;
    float *out = malloc((size_t)(n * T) * sizeof *out);
    int32_t *ids = malloc((size_t)T * sizeof *ids);
    char e[512];
    int rc = -1;
    int32_t s;

    if (!out || !ids) {
        fail("out of memory");
        goto done;
    }
    s = vae_model_generate(tm->m, z, n, decode_codes[d->mode], d->temperature,
                           d->top_k, d->beam, TEXT_EOS, T, out, NULL);
    if (s != VAE_OK) {
        fail_lib("vae_model_generate", s, vae_model_last_error(tm->m));
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        char *text = NULL;
        for (int64_t t = 0; t < T; t++)
            ids[t] = (int32_t)out[i * T + t];
        if (text_vocab_decode(tm->vocab, ids, (size_t)T, &text, e, sizeof e)) {
            fail("generated ids: %s", e);
            goto done;
        }
        if (label)
            printf("%-8s%s\n", label, text);
        else if (t_values)
            printf("%.2f  %s\n", t_values[i], text);
        else
            printf("%s\n", text);
        free(text);
    }
    rc = 0;
done:
    free(ids);
    free(out);
    return rc;
}

int cmd_sample(const struct args *a)
{
    long n = 0;
    uint64_t seed = 0, state;
    struct decoding d;
    struct text_model tm = {0};
    float *z = NULL;
    int64_t D;
    int rc = -1;

    if (get_long(a, OPT_N, 10, 1, MAX_SAMPLES, &n) || get_decoding(a, &d) ||
        get_seed(a, OPT_SEED, 1, &seed))
        return -1;
    if (load_text_model(a->val[OPT_MODEL], &tm) || model_set_seed(tm.m, seed))
        goto done;
    D = tm.arch.latent;
    z = malloc((size_t)(n * D) * sizeof *z);
    if (!z) {
        fail("out of memory");
        goto done;
    }
    /* z ~ N(0, I) by inversion of 53-bit uniforms from the program's own
     * generator; the model's generator (same seed) drives the decoding. */
    state = seed;
    for (int64_t i = 0; i < n * D; i++) {
        double u = ((double)(splitmix64(&state) >> 11) + 0.5) * 0x1.0p-53;
        z[i] = (float)normal_quantile(u);
    }
    rc = generate_lines(&tm, z, n, &d, NULL, NULL);

done:
    free(z);
    text_model_free(&tm);
    return rc;
}

int cmd_reconstruct(const struct args *a)
{
    const struct decoding greedy = {DEC_GREEDY, 1.0, 1, 1};
    struct decoding d;
    uint64_t seed = 0;
    struct text_model tm = {0};
    float *mu = NULL;
    char *shown = NULL, label[16];
    int rc = -1;

    if (get_decoding(a, &d) || get_seed(a, OPT_SEED, 1, &seed))
        return -1;
    if (load_text_model(a->val[OPT_MODEL], &tm) ||
        text_need_vae(&tm, a->val[OPT_MODEL], "reconstruct") ||
        model_set_seed(tm.m, seed))
        goto done;
    mu = malloc((size_t)tm.arch.latent * sizeof *mu);
    if (!mu) {
        fail("out of memory");
        goto done;
    }
    if (text_encode_sentence(&tm, "--sentence", a->val[OPT_SENTENCE], mu, &shown))
        goto done;
    printf("%-8s%s\n", "input:", shown);
    if (generate_lines(&tm, mu, 1, &greedy, "greedy:", NULL))
        goto done;
    snprintf(label, sizeof label, "%s:", decode_names[d.mode]);
    if (d.mode != DEC_GREEDY && generate_lines(&tm, mu, 1, &d, label, NULL))
        goto done;
    rc = 0;
done:
    free(shown);
    free(mu);
    text_model_free(&tm);
    return rc;
}

int cmd_interpolate(const struct args *a)
{
    const struct decoding greedy = {DEC_GREEDY, 1.0, 1, 1};
    long steps = 0;
    struct text_model tm = {0};
    float *ends = NULL, *z = NULL, *tv = NULL;
    char *shown_a = NULL, *shown_b = NULL;
    int64_t D;
    int rc = -1;

    if (get_long(a, OPT_STEPS, 5, 2, 100, &steps))
        return -1;
    if (load_text_model(a->val[OPT_MODEL], &tm) ||
        text_need_vae(&tm, a->val[OPT_MODEL], "interpolate"))
        goto done;
    D = tm.arch.latent;
    ends = malloc((size_t)(2 * D) * sizeof *ends);
    z = malloc((size_t)(steps * D) * sizeof *z);
    tv = malloc((size_t)steps * sizeof *tv);
    if (!ends || !z || !tv) {
        fail("out of memory");
        goto done;
    }
    if (text_encode_sentence(&tm, "--sentence", a->val[OPT_SENTENCE], ends,
                        &shown_a) ||
        text_encode_sentence(&tm, "--to", a->val[OPT_TO], ends + D, &shown_b))
        goto done;
    for (long j = 0; j < steps; j++) {
        float t = (float)j / (float)(steps - 1);
        tv[j] = t;
        for (int64_t i = 0; i < D; i++)
            z[j * D + i] = (1.0f - t) * ends[i] + t * ends[D + i];
    }
    printf("from  %s\nto    %s\n", shown_a, shown_b);
    rc = generate_lines(&tm, z, steps, &greedy, NULL, tv);
done:
    free(shown_a);
    free(shown_b);
    free(tv);
    free(z);
    free(ends);
    text_model_free(&tm);
    return rc;
}
