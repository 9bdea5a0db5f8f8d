/* decoding.c - see decoding.h. */
#include <stdlib.h>

#include <vae.h>

#include "commands.h"
#include "decoding.h"
#include "models.h"
#include "normal.h"
#include "order.h"
#include "vocab.h"

/* The default decoding, chosen by measurement (docs/results.md): nucleus
 * sampling keeps the sentences varied, and forbidding a repeated trigram
 * stops the loops ("the <unk> of the <unk> of ...") that greedy and beam
 * decoding of a sentence VAE fall into. */
#define DEFAULT_DECODE DEC_TOPP
#define DEFAULT_TOP_P 0.9
#define DEFAULT_NO_REPEAT_NGRAM 3

const char *const decode_names[DEC_COUNT] = {
    [DEC_GREEDY] = "greedy", [DEC_SAMPLE] = "sample", [DEC_TOPK] = "topk",
    [DEC_TOPP] = "topp",     [DEC_BEAM] = "beam"};

static const int32_t decode_codes[DEC_COUNT] = {
    [DEC_GREEDY] = VAE_DECODE_GREEDY, [DEC_SAMPLE] = VAE_DECODE_SAMPLE,
    [DEC_TOPK] = VAE_DECODE_TOP_K,    [DEC_TOPP] = VAE_DECODE_TOP_P,
    [DEC_BEAM] = VAE_DECODE_BEAM};

int get_decoding(const struct args *a, struct decoding *d)
{
    if (get_choice(a, OPT_DECODE, decode_names, DEC_COUNT, DEFAULT_DECODE,
                   &d->mode) ||
        get_double(a, OPT_TEMPERATURE, 1.0, 0.0, 1000.0, 1, &d->temperature) ||
        get_long(a, OPT_TOP_K, 10, 1, 1L << 24, &d->top_k) ||
        get_double(a, OPT_TOP_P, DEFAULT_TOP_P, 0.0, 1.0, 1, &d->top_p) ||
        get_long(a, OPT_BEAM, 5, 1, 1024, &d->beam) ||
        get_long(a, OPT_NO_REPEAT_NGRAM, DEFAULT_NO_REPEAT_NGRAM, 0,
                 VAE_GEN_NGRAM_MAX, &d->no_repeat_ngram))
        return -1;
    return 0;
}

struct decoding greedy_like(const struct decoding *d)
{
    struct decoding g = *d;

    g.mode = DEC_GREEDY;
    return g;
}

void prior_latents(uint64_t seed, int64_t n, int64_t D, float *z)
{
    uint64_t state = seed;

    for (int64_t i = 0; i < n * D; i++) {
        double u = ((double)(splitmix64(&state) >> 11) + 0.5) * 0x1.0p-53;
        z[i] = (float)normal_quantile(u);
    }
}

void interpolate_latents(const float *a, const float *b, int64_t D,
                         long steps, float *z, float *t)
{
    for (long j = 0; j < steps; j++) {
        float f = (float)j / (float)(steps - 1);
        if (t)
            t[j] = f;
        for (int64_t i = 0; i < D; i++)
            z[j * D + i] = (1.0f - f) * a[i] + f * b[i];
    }
}

int decode_ids(struct text_model *tm, const float *z, const float *cond,
               int64_t n, const struct decoding *d, int32_t *ids)
{
    const int64_t T = tm->arch.maxlen;
    const struct {
        int32_t key;
        double value;
    } settings[] = {
        {VAE_GEN_MODE, decode_codes[d->mode]},
        {VAE_GEN_TEMPERATURE, d->temperature},
        {VAE_GEN_TOP_K, (double)d->top_k},
        {VAE_GEN_TOP_P, d->top_p},
        {VAE_GEN_BEAM, (double)d->beam},
        {VAE_GEN_EOS, TEXT_EOS},
        {VAE_GEN_NO_REPEAT_NGRAM, (double)d->no_repeat_ngram},
    };
    float *out = malloc((size_t)(n * T) * sizeof *out);
    int32_t s = VAE_OK;

    if (!out)
        return fail("out of memory");
    for (size_t i = 0; i < sizeof settings / sizeof *settings && !s; i++)
        s = vae_model_set_generation(tm->m, settings[i].key,
                                     settings[i].value);
    if (s == VAE_OK && model_condition(tm->m, cond, 0, n)) {
        free(out);
        return -1;
    }
    if (s == VAE_OK)
        s = vae_model_generate_tokens(tm->m, z, n, T, out, NULL);
    if (s != VAE_OK) {
        free(out);
        return fail_lib("vae_model_generate_tokens", s,
                        vae_model_last_error(tm->m));
    }
    for (int64_t i = 0; i < n * T; i++)
        ids[i] = (int32_t)out[i];
    free(out);
    return 0;
}

void free_texts(char **texts, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        free(texts[i]);
}

int decode_texts(struct text_model *tm, const float *z, const float *cond,
                 int64_t n, const struct decoding *d, char **texts)
{
    const int64_t T = tm->arch.maxlen;
    int32_t *ids = malloc((size_t)(n * T) * sizeof *ids);
    char e[512];
    int64_t i = 0;

    for (int64_t j = 0; j < n; j++)
        texts[j] = NULL;
    if (!ids)
        return fail("out of memory");
    if (decode_ids(tm, z, cond, n, d, ids)) {
        free(ids);
        return -1;
    }
    for (; i < n; i++)
        if (text_tokenizer_decode(tm->tok, ids + i * T, (size_t)T, &texts[i],
                                  e, sizeof e))
            break;
    free(ids);
    if (i < n) {
        free_texts(texts, i);
        return fail("generated ids: %s", e);
    }
    return 0;
}
