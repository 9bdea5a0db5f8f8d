/* eval.c - vae-text eval, and the evaluation of a split that train and lm
 * use too (eval.h). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vae.h>

#include "cli.h"
#include "commands.h"
#include "eval.h"
#include "latent_plot.h"
#include "models.h"
#include "textmodel.h"

/* Decoder passes per vae_model_iwae call: a sentence decoder pass costs
 * far more than an image one, so fewer per call keep progress lines
 * coming every few seconds. */
#define IWAE_PASSES_PER_CALL 1000

/* Draws z ~ q(z|x) per sentence for the mutual information's aggregate
 * posterior term (vae_model_mutual_info): its cost grows with the square
 * of the test sentences, so a few, which over thousands of sentences
 * already average out. */
#define MI_SAMPLES 10

/* The default importance samples of eval: issue 17 measures the NLL with
 * K >= 100. */
#define DEFAULT_IWAE 100

/* Burda et al. (2015): a latent dimension is active when the variance over
 * the data of its posterior mean exceeds this. */
#define ACTIVE_UNIT_THRESHOLD 0.01

/* Latent dimensions whose posterior mean varies over the set by more than
 * ACTIVE_UNIT_THRESHOLD (variance over the sentences, two passes). */
static int active_units(vae_model *m, const struct text_set *s, int64_t maxlen,
                        long batch, long *out)
{
    int64_t D = vae_model_latent_dim(m);
    float *mu = malloc((size_t)(s->n * D) * sizeof *mu);
    long active = 0;

    if (!mu)
        return fail("out of memory");
    if (latent_means_cond(m, s->x, s->cond, s->n, maxlen, batch, mu)) {
        free(mu);
        return -1;
    }
    for (int64_t j = 0; j < D; j++) {
        double mean = 0.0, var = 0.0;
        for (int64_t i = 0; i < s->n; i++)
            mean += mu[i * D + j];
        mean /= (double)s->n;
        for (int64_t i = 0; i < s->n; i++)
            var += (mu[i * D + j] - mean) * (mu[i * D + j] - mean);
        active += var / (double)s->n > ACTIVE_UNIT_THRESHOLD;
    }
    free(mu);
    *out = active;
    return 0;
}

/* A language model's exact mean NLL per sentence: log p(x | z = 0). */
static int lm_nll(vae_model *m, const struct text_set *s, int64_t maxlen,
                  long batch, double *nll)
{
    float *z = calloc((size_t)batch, sizeof *z); /* latent dimension 1 */
    double *logp = malloc((size_t)batch * sizeof *logp), sum = 0.0;

    if (!z || !logp) {
        free(z);
        free(logp);
        return fail("out of memory");
    }
    for (int64_t i = 0; i < s->n; i += batch) {
        int64_t b = s->n - i < batch ? s->n - i : batch;
        int32_t st = vae_model_log_likelihood(m, z, s->x + i * maxlen, b, logp);
        if (st != VAE_OK) {
            free(z);
            free(logp);
            return fail_lib("vae_model_log_likelihood", st,
                            vae_model_last_error(m));
        }
        for (int64_t j = 0; j < b; j++)
            sum -= logp[j];
    }
    free(z);
    free(logp);
    *nll = sum / (double)s->n;
    return 0;
}

/* The NLL of a VAE on s by the IWAE bound with k samples. */
static int iwae_nll(vae_model *m, const struct text_arch *t,
                    const struct text_set *s, long k, double progress,
                    double *nll)
{
    double logpx;

    if (model_iwae_mean_cond(m, s->x, s->cond, s->n, t->maxlen, k,
                             IWAE_PASSES_PER_CALL, progress, "sentences",
                             &logpx))
        return -1;
    *nll = -logpx;
    return 0;
}

int evaluate_set(vae_model *m, const struct text_arch *t,
                 const struct text_set *s, long batch, long k,
                 long mi_samples, double progress, struct set_eval *r)
{
    memset(r, 0, sizeof *r);
    if (t->arch == ARCH_LM) {
        if (lm_nll(m, s, t->maxlen, batch, &r->nll))
            return -1;
    } else {
        double elbo, recon;
        int32_t st = VAE_OK;
        if (model_evaluate_cond(m, s->x, s->cond, s->n, t->maxlen, batch,
                                &elbo, &recon, &r->kl) ||
            active_units(m, s, t->maxlen, batch, &r->active))
            return -1;
        if (mi_samples > 0 && s->n >= 2 &&
            (model_condition(m, s->cond, 0, s->n) ||
             (st = vae_model_mutual_info(m, s->x, s->n, mi_samples,
                                         &r->mi)) != VAE_OK))
            return st == VAE_OK ? -1
                                : fail_lib("vae_model_mutual_info", st,
                                           vae_model_last_error(m));
        r->nll = -elbo;
        if (k > 0 && iwae_nll(m, t, s, k, progress, &r->nll))
            return -1;
    }
    r->ppl = exp(r->nll * (double)s->n / (double)s->tokens);
    return 0;
}

int write_eval(struct metrics *metrics, const struct set_eval *r, int lm,
               long k, int64_t n)
{
    char how[48];

    if (lm)
        snprintf(how, sizeof how, "exact, language model");
    else if (k > 0)
        snprintf(how, sizeof how, "IWAE k=%ld", k);
    else
        snprintf(how, sizeof how, "-ELBO");
    printf("test_nll %.4f  test_ppl %.3f  kl %.4f  mi %.4f  active_units %ld  "
           "(%s, %lld test sentences)\n",
           r->nll, r->ppl, r->kl, r->mi, r->active, how, (long long)n);
    if (!metrics)
        return 0;
    json_num(metrics, "test_nll", r->nll, 4);
    json_num(metrics, "test_ppl", r->ppl, 3);
    json_num(metrics, "kl", r->kl, 4);
    json_num(metrics, "mi", r->mi, 4);
    json_num(metrics, "active_units", (double)r->active, 0);
    json_num(metrics, "iwae_k", (double)k, 0);
    json_num(metrics, "n", (double)n, 0);
    return finish_json_line(metrics);
}
/* ---- A conditional model: each genre given the right and the wrong ones -- */

/* The sentences of s of genre g, with room for their condition rows. */
static int genre_subset(const struct text_set *s, int32_t g, int64_t G,
                        int64_t T, struct text_set *out)
{
    int64_t n = 0;

    memset(out, 0, sizeof *out);
    for (int64_t i = 0; i < s->n; i++)
        n += s->genre[i] == g;
    out->x = malloc((size_t)((n ? n : 1) * T) * sizeof *out->x);
    out->ntok = malloc((size_t)(n ? n : 1) * sizeof *out->ntok);
    out->cond = malloc((size_t)((n ? n : 1) * G) * sizeof *out->cond);
    if (!out->x || !out->ntok || !out->cond) {
        text_set_free(out);
        return fail("out of memory");
    }
    for (int64_t i = 0; i < s->n; i++)
        if (s->genre[i] == g) {
            memcpy(out->x + out->n * T, s->x + i * T,
                   (size_t)T * sizeof *out->x);
            out->ntok[out->n++] = s->ntok[i];
            out->tokens += s->ntok[i];
        }
    return 0;
}

/* The mean NLL per sentence of the sentences of set s given genre c for
 * all of them: -ELBO, or the IWAE bound with k > 0. */
static int nll_given(struct text_model *tm, struct text_set *s, int64_t c,
                     long batch, long k, double progress, double *nll)
{
    const int64_t G = tm->arch.ngenres;
    double elbo, recon, kl;

    for (int64_t i = 0; i < s->n; i++)
        for (int64_t j = 0; j < G; j++)
            s->cond[i * G + j] = j == c ? 1.0f : 0.0f;
    if (k > 0)
        return iwae_nll(tm->m, &tm->arch, s, k, progress, nll);
    if (model_evaluate_cond(tm->m, s->x, s->cond, s->n, tm->arch.maxlen,
                            batch, &elbo, &recon, &kl))
        return -1;
    *nll = -elbo;
    return 0;
}

/*
 * Issue 21's test of a conditional model: the NLL of each genre's test
 * sentences given each genre, in a table on stdout (the right genre's, the
 * mean of the wrong ones' and how many wrong ones score better), the count
 * of genres whose right genre scores best, and the same as keys of the
 * metrics line being built. Every genre's sentences see the same draws
 * under every condition (the generator set to seed + genre before each), so
 * the differences are the condition's, not the noise's.
 */
static int genre_table(struct text_model *tm, const struct text_set *test,
                       long batch, long k, double progress, uint64_t seed,
                       struct metrics *metrics)
{
    const int64_t G = tm->arch.ngenres;
    double *nll = malloc((size_t)G * sizeof *nll);
    long best = 0, scored = 0;
    int rc = -1;

    if (!nll)
        return fail("out of memory");
    printf("%-16s %6s %10s %15s %13s\n", "genre", "test", "nll_right",
           "nll_wrong_mean", "wrong_better");
    for (int32_t g = 0; g < G; g++) {
        struct text_set sub;
        double wrong = 0.0;
        long better = 0;
        char key[TEXT_GENRE_NAME_MAX + 32];

        if (genre_subset(test, g, G, tm->arch.maxlen, &sub))
            goto done;
        if (sub.n == 0) {
            printf("%-16s %6d  (no test sentences)\n", tm->genres[g], 0);
            text_set_free(&sub);
            continue;
        }
        for (int64_t c = 0; c < G; c++)
            if (model_set_seed(tm->m, seed + (uint64_t)g) ||
                nll_given(tm, &sub, c, batch, k, progress, &nll[c])) {
                text_set_free(&sub);
                goto done;
            }
        for (int64_t c = 0; c < G; c++)
            if (c != g) {
                wrong += nll[c] / (double)(G - 1);
                better += nll[c] <= nll[g];
            }
        scored++;
        best += better == 0;
        printf("%-16s %6lld %10.3f %15.3f %13ld\n", tm->genres[g],
               (long long)sub.n, nll[g], G > 1 ? wrong : nll[g], better);
        if (metrics) {
            snprintf(key, sizeof key, "nll_right_%s", tm->genres[g]);
            json_num(metrics, key, nll[g], 4);
            snprintf(key, sizeof key, "nll_wrong_mean_%s", tm->genres[g]);
            json_num(metrics, key, G > 1 ? wrong : nll[g], 4);
            snprintf(key, sizeof key, "wrong_better_%s", tm->genres[g]);
            json_num(metrics, key, (double)better, 0);
        }
        text_set_free(&sub);
    }
    printf("right genre best for %ld of %ld\n", best, scored);
    if (metrics) {
        json_num(metrics, "right_genre_best", (double)best, 0);
        json_num(metrics, "genres_scored", (double)scored, 0);
    }
    rc = 0;
done:
    free(nll);
    return rc;
}

int cmd_eval(const struct args *a)
{
    const char *metrics_path = a->val[OPT_METRICS];
    long batch = 0, k = 0, limit = 0;
    double progress = 0.0;
    uint64_t seed = 0;
    struct text_model tm = {0};
    text_corpus corpus = {0};
    struct text_set test = {0};
    struct set_eval r;
    struct metrics *metrics = NULL;
    int rc = -1;

    if (get_long(a, OPT_BATCH, 32, 1, 65536, &batch) ||
        get_long(a, OPT_IWAE, DEFAULT_IWAE, 0, 1000000000, &k) ||
        get_long(a, OPT_LIMIT, 0, 1, 1000000000, &limit) ||
        get_double(a, OPT_PROGRESS, 2.0, 0.0, 86400.0, 0, &progress) ||
        get_seed(a, OPT_SEED, 0, &seed))
        return -1;
    if (metrics_path && !(metrics = open_metrics(metrics_path)))
        return -1;
    if (load_text_model(a->val[OPT_MODEL], &tm))
        goto done;
    if (tm.arch.arch == ARCH_LM) {
        if (a->val[OPT_IWAE]) {
            fail("--iwae: %s is a language model, whose NLL is exact; drop "
                 "--iwae", a->val[OPT_MODEL]);
            goto done;
        }
        k = 0;
    }
    /* Without --seed the generator continues from the state saved in the
     * model file, which is just as reproducible. */
    if (a->val[OPT_SEED] && model_set_seed(tm.m, seed))
        goto done;
    if (load_corpus(a, tm.arch.ngenres > 0, &corpus) ||
        text_encode_set(tm.tok, &corpus.split[TEXT_TEST], tm.arch.maxlen,
                        &test) ||
        text_set_genres(&test, &corpus, TEXT_TEST, tm.arch.ngenres,
                        (const char *const *)tm.genres, a->val[OPT_DATA]))
        goto done;
    if (test.n == 0) {
        fail("%s: the corpus has no test sentences", a->val[OPT_DATA]);
        goto done;
    }
    if (limit > 0)
        text_set_truncate(&test, limit);
    /* The table's lines come before the eval line, whose metrics line
     * gets the table's keys too. */
    if (evaluate_set(tm.m, &tm.arch, &test, batch, k, MI_SAMPLES, progress,
                     &r) ||
        (tm.arch.ngenres > 0 &&
         genre_table(&tm, &test, batch, k, progress, seed, metrics)) ||
        write_eval(metrics, &r, tm.arch.arch == ARCH_LM, k, test.n))
        goto done;
    rc = 0;

done:
    rc = close_metrics(metrics, rc);
    text_set_free(&test);
    text_corpus_free(&corpus);
    text_model_free(&tm);
    return rc;
}

