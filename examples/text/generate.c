/* generate.c - vae-text sample, reconstruct and interpolate: sentences
 * decoded from latents of the prior, of one sentence, or between two. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <vae.h>

#include "cli.h"
#include "commands.h"
#include "decoding.h"
#include "models.h"
#include "textmodel.h"

#define MAX_SAMPLES 10000 /* --n limit for sample */

/* Generates one sentence per latent of z (n x latent), all of genre g (-1:
 * an unconditional model), and prints each on its own line, after `label`
 * when given, else after its t_values entry when given. */
static int generate_lines(struct text_model *tm, const float *z, int g,
                          int64_t n, const struct decoding *d,
                          const char *label, const float *t_values)
{
    char **texts = malloc((size_t)n * sizeof *texts);
    float *cond = NULL;

    if (!texts)
        return fail("out of memory");
    if (text_genre_rows(g < 0 ? 0 : tm->arch.ngenres, NULL, g, n, &cond) ||
        decode_texts(tm, z, cond, n, d, texts)) {
        free(cond);
        free(texts);
        return -1;
    }
    free(cond);
    for (int64_t i = 0; i < n; i++) {
        if (label)
            printf("%-8s%s\n", label, texts[i]);
        else if (t_values)
            printf("%.2f  %s\n", t_values[i], texts[i]);
        else
            printf("%s\n", texts[i]);
    }
    free_texts(texts, n);
    free(texts);
    return 0;
}

int cmd_sample(const struct args *a)
{
    long n = 0;
    uint64_t seed = 0;
    struct decoding d;
    struct text_model tm = {0};
    float *z = NULL;
    int rc = -1, g = -1;

    if (get_long(a, OPT_N, 10, 1, MAX_SAMPLES, &n) || get_decoding(a, &d) ||
        get_seed(a, OPT_SEED, 1, &seed))
        return -1;
    if (load_text_model(a->val[OPT_MODEL], &tm) ||
        text_model_genre(&tm, a->val[OPT_MODEL], a->val[OPT_GENRE], &g) ||
        model_set_seed(tm.m, seed))
        goto done;
    z = malloc((size_t)(n * tm.arch.latent) * sizeof *z);
    if (!z) {
        fail("out of memory");
        goto done;
    }
    /* The model's generator (same seed) drives the decoding. */
    prior_latents(seed, n, tm.arch.latent, z);
    rc = generate_lines(&tm, z, g, n, &d, NULL, NULL);

done:
    free(z);
    text_model_free(&tm);
    return rc;
}

int cmd_reconstruct(const struct args *a)
{
    struct decoding d, greedy;
    uint64_t seed = 0;
    struct text_model tm = {0};
    float *mu = NULL;
    char *shown = NULL, label[16];
    int rc = -1, g = -1;

    if (get_decoding(a, &d) || get_seed(a, OPT_SEED, 1, &seed))
        return -1;
    greedy = greedy_like(&d);
    if (load_text_model(a->val[OPT_MODEL], &tm) ||
        text_need_vae(&tm, a->val[OPT_MODEL], "reconstruct") ||
        text_model_genre(&tm, a->val[OPT_MODEL], a->val[OPT_GENRE], &g) ||
        model_set_seed(tm.m, seed))
        goto done;
    mu = malloc((size_t)tm.arch.latent * sizeof *mu);
    if (!mu) {
        fail("out of memory");
        goto done;
    }
    if (text_encode_sentence(&tm, "--sentence", a->val[OPT_SENTENCE], g, mu,
                             &shown))
        goto done;
    printf("%-8s%s\n", "input:", shown);
    if (generate_lines(&tm, mu, g, 1, &greedy, "greedy:", NULL))
        goto done;
    snprintf(label, sizeof label, "%s:", decode_names[d.mode]);
    if (d.mode != DEC_GREEDY &&
        generate_lines(&tm, mu, g, 1, &d, label, NULL))
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
    struct decoding d, greedy;
    long steps = 0;
    struct text_model tm = {0};
    float *ends = NULL, *z = NULL, *tv = NULL;
    char *shown_a = NULL, *shown_b = NULL;
    int64_t D;
    int rc = -1, g = -1;

    if (get_long(a, OPT_STEPS, 5, 2, 100, &steps) || get_decoding(a, &d))
        return -1;
    greedy = greedy_like(&d);
    if (load_text_model(a->val[OPT_MODEL], &tm) ||
        text_need_vae(&tm, a->val[OPT_MODEL], "interpolate") ||
        text_model_genre(&tm, a->val[OPT_MODEL], a->val[OPT_GENRE], &g))
        goto done;
    D = tm.arch.latent;
    ends = malloc((size_t)(2 * D) * sizeof *ends);
    z = malloc((size_t)(steps * D) * sizeof *z);
    tv = malloc((size_t)steps * sizeof *tv);
    if (!ends || !z || !tv) {
        fail("out of memory");
        goto done;
    }
    if (text_encode_sentence(&tm, "--sentence", a->val[OPT_SENTENCE], g,
                             ends, &shown_a) ||
        text_encode_sentence(&tm, "--to", a->val[OPT_TO], g, ends + D,
                             &shown_b))
        goto done;
    interpolate_latents(ends, ends + D, D, steps, z, tv);
    printf("from  %s\nto    %s\n", shown_a, shown_b);
    rc = generate_lines(&tm, z, g, steps, &greedy, NULL, tv);
done:
    free(shown_a);
    free(shown_b);
    free(tv);
    free(z);
    free(ends);
    text_model_free(&tm);
    return rc;
}
