/* sample_stats.c - vae-text sample-stats: what the sentences a model
 * generates are like. From --n prior samples with the decoding flags (the
 * default decoding without them), word-level statistics after
 * detokenisation; with --corpus and --data also how much of a test
 * sentence its posterior mean gives back against a prior sample, and how
 * distinct the sentences along interpolations between test sentences are
 * (docs/text.md, "sample-stats"). One JSON line on stdout, and in
 * --metrics. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vae.h>

#include "cli.h"
#include "commands.h"
#include "decoding.h"
#include "latent_plot.h"
#include "models.h"
#include "order.h"
#include "textmodel.h"
#include "vocab.h"

#define MAX_SAMPLES 100000 /* --n limit */
#define ENCODE_BATCH 64
#define INTERP_PAIRS 100    /* test-sentence pairs interpolated */
#define INTERP_STEPS 5      /* sentences along each */
#define INTERP_DISTINCT 4   /* a pair counts with at least this many */
/* Seeds of the prior samples for reconstruction and of the pairs, apart
 * from --seed's samples. */
#define PRIOR_SEED_SALT UINT64_C(0x7265636f6e)
#define PAIR_SEED_SALT UINT64_C(0x7061697273)

/* ---- Word statistics ---------------------------------------------------- */

struct word_stats {
    int64_t sentences, words, unknown, repeated;
    char **grams[2]; /* every unigram and bigram, for the distinct shares */
    int64_t ngrams[2];
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Distinct share of n strings (sorted in place). */
static double distinct(char **s, int64_t n)
{
    int64_t k = 0;

    if (n == 0)
        return 0.0;
    qsort(s, (size_t)n, sizeof *s, cmp_str);
    for (int64_t i = 0; i < n; i++)
        k += i == 0 || strcmp(s[i], s[i - 1]) != 0;
    return (double)k / (double)n;
}

static int same_trigram(char *const *w, int64_t i, int64_t j)
{
    return !strcmp(w[i], w[j]) && !strcmp(w[i + 1], w[j + 1]) &&
           !strcmp(w[i + 2], w[j + 2]);
}

/* Adds one sentence: its words are what spaces separate in the text as a
 * reader sees it, whatever the model's tokens were. */
static int add_sentence(struct word_stats *st, const char *text)
{
    size_t len = strlen(text), nw = 0;
    char *copy = malloc(len + 1), **w = malloc((len / 2 + 1) * sizeof *w);
    int rep = 0;

    if (!copy || !w) {
        free(copy);
        free(w);
        return fail("out of memory");
    }
    memcpy(copy, text, len + 1);
    for (char *p = strtok(copy, " "); p; p = strtok(NULL, " "))
        w[nw++] = p;
    for (size_t i = 0; i + 2 < nw && !rep; i++)
        for (size_t j = i + 1; j + 2 < nw && !rep; j++)
            rep = same_trigram(w, (int64_t)i, (int64_t)j);
    st->repeated += rep;
    st->sentences++;
    st->words += (int64_t)nw;
    for (size_t i = 0; i < nw; i++) {
        size_t l1 = strlen(w[i]);
        st->unknown += strstr(w[i], "<unk>") != NULL;
        for (int g = 0; g < 2 && i + (size_t)g < nw; g++) {
            size_t l2 = g ? strlen(w[i + 1]) + 1 : 0;
            char *s = malloc(l1 + l2 + 1);
            if (!s) {
                free(copy);
                free(w);
                return fail("out of memory");
            }
            memcpy(s, w[i], l1);
            if (g) {
                s[l1] = ' ';
                memcpy(s + l1 + 1, w[i + 1], l2);
            }
            s[l1 + l2] = '\0';
            st->grams[g][st->ngrams[g]++] = s;
        }
    }
    free(copy);
    free(w);
    return 0;
}

static void free_word_stats(struct word_stats *st)
{
    for (int g = 0; g < 2; g++) {
        for (int64_t i = 0; i < st->ngrams[g]; i++)
            free(st->grams[g][i]);
        free(st->grams[g]);
    }
}

/* ---- Reconstruction and interpolation ----------------------------------- */

/* Share of the tokens of the n sentences x (their ids up to and with
 * <eos>) that `got` (n x T decoded ids) has at the same place. */
static double token_accuracy(const struct text_set *s, int64_t n, int64_t T,
                             const int32_t *got)
{
    int64_t hit = 0, all = 0;

    for (int64_t i = 0; i < n; i++)
        for (int64_t t = 0; t < s->ntok[i]; t++) {
            hit += got[i * T + t] == (int32_t)s->x[i * T + t];
            all++;
        }
    return all ? (double)hit / (double)all : 0.0;
}

struct latent_stats {
    double recon_accuracy, prior_accuracy;
    long interp_pairs, interp_distinct;
};

/* Pairs of test sentences, at random but fixed by the seed: consecutive
 * entries of a shuffled order, so no sentence is in two pairs. */
static int interpolation_distinctness(struct text_model *tm,
                                      const struct text_set *test,
                                      const float *mu, uint64_t seed,
                                      const struct decoding *greedy,
                                      struct latent_stats *r)
{
    const int64_t D = tm->arch.latent;
    int64_t *perm = malloc((size_t)test->n * sizeof *perm);
    float *z = malloc((size_t)(INTERP_STEPS * D) * sizeof *z), *cond = NULL;
    char *texts[INTERP_STEPS];
    int rc = -1;

    if (!perm || !z) {
        fail("out of memory");
        goto done;
    }
    epoch_order(perm, test->n, seed ^ PAIR_SEED_SALT, 0);
    r->interp_pairs = test->n / 2 < INTERP_PAIRS ? (long)(test->n / 2)
                                                 : INTERP_PAIRS;
    for (long p = 0; p < r->interp_pairs; p++) {
        int distinct_texts = 0;
        interpolate_latents(mu + perm[2 * p] * D, mu + perm[2 * p + 1] * D, D,
                            INTERP_STEPS, z, NULL);
        if (text_genre_rows(tm->arch.ngenres, NULL,
                            test->genre ? test->genre[perm[2 * p]] : 0,
                            INTERP_STEPS, &cond) ||
            decode_texts(tm, z, cond, INTERP_STEPS, greedy, texts))
            goto done;
        free(cond);
        cond = NULL;
        for (int i = 0; i < INTERP_STEPS; i++) {
            int seen = 0;
            for (int j = 0; j < i && !seen; j++)
                seen = !strcmp(texts[i], texts[j]);
            distinct_texts += !seen;
        }
        free_texts(texts, INTERP_STEPS);
        r->interp_distinct += distinct_texts >= INTERP_DISTINCT;
    }
    rc = 0;
done:
    free(cond);
    free(z);
    free(perm);
    return rc;
}

/* Greedy decoding of the first n test sentences from their posterior
 * means and from prior samples, scored against the sentences; then the
 * interpolations. */
static int latent_stats(struct text_model *tm, const struct text_set *test,
                        int64_t n, uint64_t seed,
                        const struct decoding *greedy, struct latent_stats *r)
{
    const int64_t T = tm->arch.maxlen, D = tm->arch.latent;
    float *mu = malloc((size_t)(test->n * D) * sizeof *mu);
    float *z = malloc((size_t)(n * D) * sizeof *z);
    int32_t *ids = malloc((size_t)(n * T) * sizeof *ids);
    int rc = -1;

    if (!mu || !z || !ids) {
        fail("out of memory");
        goto done;
    }
    if (latent_means_cond(tm->m, test->x, test->cond, test->n, T,
                          ENCODE_BATCH, mu) ||
        decode_ids(tm, mu, test->cond, n, greedy, ids))
        goto done;
    r->recon_accuracy = token_accuracy(test, n, T, ids);
    prior_latents(seed ^ PRIOR_SEED_SALT, n, D, z);
    if (decode_ids(tm, z, test->cond, n, greedy, ids))
        goto done;
    r->prior_accuracy = token_accuracy(test, n, T, ids);
    rc = interpolation_distinctness(tm, test, mu, seed, greedy, r);
done:
    free(ids);
    free(z);
    free(mu);
    return rc;
}

/* ---- The command -------------------------------------------------------- */

struct stat_value {
    const char *key;
    double value;
    int decimals;
};

/* The line on stdout and, when metrics is not NULL, in the file. */
static int report(const struct stat_value *v, int n, struct metrics *metrics)
{
    for (int i = 0; i < n; i++) {
        printf("%s\"%s\":%.*f", i ? "," : "{", v[i].key, v[i].decimals,
               v[i].value);
        if (metrics)
            json_num(metrics, v[i].key, v[i].value, v[i].decimals);
    }
    printf("}\n");
    return metrics ? finish_json_line(metrics) : 0;
}

/* The word statistics of n sentences decoded from prior samples. */
static int prior_word_stats(struct text_model *tm, int g, int64_t n,
                            uint64_t seed, const struct decoding *d,
                            struct word_stats *st)
{
    float *z = malloc((size_t)(n * tm->arch.latent) * sizeof *z), *cond = NULL;
    char **texts = malloc((size_t)n * sizeof *texts);
    int rc = -1;

    if (!z || !texts) {
        fail("out of memory");
        goto done;
    }
    prior_latents(seed, n, tm->arch.latent, z);
    if (text_genre_rows(g < 0 ? 0 : tm->arch.ngenres, NULL, g, n, &cond) ||
        decode_texts(tm, z, cond, n, d, texts))
        goto done;
    rc = 0;
    for (int64_t i = 0; i < n && !rc; i++) {
        /* Room for every word of the text, each at least one byte and a
         * space: no second pass over the words. */
        size_t words = strlen(texts[i]) / 2 + 1;
        for (int k = 0; k < 2 && !rc; k++) {
            char **p = realloc(st->grams[k], ((size_t)st->ngrams[k] + words) *
                                                 sizeof *p);
            if (!p)
                rc = fail("out of memory");
            else
                st->grams[k] = p;
        }
        if (!rc)
            rc = add_sentence(st, texts[i]);
    }
    free_texts(texts, n);
done:
    free(cond);
    free(texts);
    free(z);
    return rc;
}

int cmd_sample_stats(const struct args *a)
{
    long n = 0;
    uint64_t seed = 0;
    struct decoding d;
    struct text_model tm = {0};
    text_corpus corpus = {0};
    struct text_set test = {0};
    struct word_stats st = {0};
    struct latent_stats ls = {0};
    struct metrics *metrics = NULL;
    int with_corpus = a->val[OPT_CORPUS] || a->val[OPT_DATA];
    int rc = -1, g = -1;

    if (get_long(a, OPT_N, 1000, 1, MAX_SAMPLES, &n) || get_decoding(a, &d) ||
        get_seed(a, OPT_SEED, 1, &seed))
        return -1;
    if (with_corpus && !(a->val[OPT_CORPUS] && a->val[OPT_DATA]))
        return fail("--corpus and --data go together: the test sentences to "
                    "reconstruct and interpolate");
    if (a->val[OPT_METRICS] && !(metrics = open_metrics(a->val[OPT_METRICS])))
        return -1;
    if (load_text_model(a->val[OPT_MODEL], &tm) ||
        text_model_genre(&tm, a->val[OPT_MODEL], a->val[OPT_GENRE], &g) ||
        model_set_seed(tm.m, seed) ||
        prior_word_stats(&tm, g, n, seed, &d, &st))
        goto done;
    if (with_corpus) {
        struct decoding greedy = greedy_like(&d);
        if (text_need_vae(&tm, a->val[OPT_MODEL], "sample-stats --corpus") ||
            load_corpus(a, tm.arch.ngenres > 0, &corpus) ||
            text_encode_set(tm.tok, &corpus.split[TEXT_TEST], tm.arch.maxlen,
                            &test) ||
            text_set_genres(&test, &corpus, TEXT_TEST, tm.arch.ngenres,
                            (const char *const *)tm.genres, a->val[OPT_DATA]))
            goto done;
        if (test.n < 2) {
            fail("%s: sample-stats needs at least 2 test sentences, the corpus "
                 "has %lld", a->val[OPT_DATA], (long long)test.n);
            goto done;
        }
        if (latent_stats(&tm, &test, n < test.n ? n : test.n, seed, &greedy,
                         &ls))
            goto done;
    }
    {
        const double s = st.sentences ? (double)st.sentences : 1.0;
        const double w = st.words ? (double)st.words : 1.0;
        const struct stat_value v[] = {
            {"repeated_trigram_rate", (double)st.repeated / s, 4},
            {"distinct1", distinct(st.grams[0], st.ngrams[0]), 4},
            {"distinct2", distinct(st.grams[1], st.ngrams[1]), 4},
            {"unk_rate", (double)st.unknown / w, 4},
            {"mean_len", (double)st.words / s, 2},
            {"n", (double)n, 0},
            {"recon_accuracy", ls.recon_accuracy, 4},
            {"prior_accuracy", ls.prior_accuracy, 4},
            {"interp_distinct", (double)ls.interp_distinct, 0},
            {"interp_pairs", (double)ls.interp_pairs, 0},
        };
        rc = report(v, with_corpus ? 10 : 6, metrics);
    }
done:
    rc = close_metrics(metrics, rc);
    free_word_stats(&st);
    text_set_free(&test);
    text_corpus_free(&corpus);
    text_model_free(&tm);
    return rc;
}
