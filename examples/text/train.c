/* train.c - vae-text train (the VAE) and lm (the language model): one
 * training loop, two objectives. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vae.h>

#include "cli.h"
#include "commands.h"
#include "corpus.h"
#include "eval.h"
#include "loss_watch.h"
#include "models.h"
#include "order.h"
#include "spm.h"
#include "textmodel.h"
#include "tokenizer.h"
#include "vocab.h"

/* Defaults of the levers against posterior collapse, chosen by the
 * ablation in docs/results.md (equal training time on Brown). */
#define DEFAULT_BN_GAMMA 0.7 /* expected KL >= about D 0.7^2 / 2 (7.8 at D 32) */
#define DEFAULT_BOW 0.0
#define DEFAULT_FREE_BITS 0.0
#define DEFAULT_KL_ANNEAL 3000
#define DEFAULT_WORD_DROPOUT 0.25 /* bowman; seed reads no tokens */
/* The subword vocabulary's default size: smaller than the word
 * vocabulary's 10,000, since pieces cover rare words without <unk>. */
#define DEFAULT_SPM_VOCAB 8000
#define DEFAULT_WORD_VOCAB 10000

static const char *const free_bits_modes[] = {"batch", "example"};
static const int32_t free_bits_codes[] = {VAE_FREE_BITS_BATCH,
                                          VAE_FREE_BITS_EXAMPLE};
static const char *const kl_schedules[] = {"linear", "sigmoid"};
static const int32_t kl_schedule_codes[] = {VAE_ANNEAL_LINEAR,
                                            VAE_ANNEAL_SIGMOID};
/* What --conditional takes: the side information a model can read. */
static const char *const conditions[] = {"genre"};

struct train_cfg {
    struct text_arch arch;
    const char *out_path, *metrics_path;
    long epochs, batch, vocab, kl_anneal;
    double lr, free_bits, minutes, progress; /* minutes 0: no limit */
    double pretrain_epochs; /* autoencoder epochs before the reset */
    int tokenizer, free_bits_mode, kl_schedule;
    int open_ended; /* --minutes without --epochs: no epoch count to show */
    int conditional; /* --conditional genre */
    uint64_t seed;
};

static int parse_train(const struct args *a, int lm, struct train_cfg *c)
{
    struct text_arch *t = &c->arch;
    long maxlen = 0, embed = 0, hidden = 0, latent = 0;
    int arch = ARCH_BOWMAN, condition = 0;

    c->out_path = a->val[OPT_OUT];
    c->conditional = a->val[OPT_CONDITIONAL] != NULL;
    c->metrics_path = a->val[OPT_METRICS];
    c->open_ended = a->val[OPT_MINUTES] && !a->val[OPT_EPOCHS];
    if ((!lm &&
         get_choice(a, OPT_ARCH, text_arch_names, ARCH_LM, ARCH_BOWMAN,
                    &arch)) ||
        get_choice(a, OPT_TOKENIZER, text_tokenizer_names, TEXT_TOK_COUNT,
                   TEXT_TOK_SENTENCEPIECE, &c->tokenizer) ||
        get_long(a, OPT_EPOCHS, a->val[OPT_MINUTES] ? 100000 : 10, 1, 100000,
                 &c->epochs) ||
        get_double(a, OPT_MINUTES, 0.0, 0.0, 1e6, 1, &c->minutes) ||
        get_long(a, OPT_VOCAB,
                 c->tokenizer == TEXT_TOK_WORDS ? DEFAULT_WORD_VOCAB
                                                : DEFAULT_SPM_VOCAB,
                 c->tokenizer == TEXT_TOK_WORDS ? TEXT_NUM_SPECIALS + 1
                                                : TEXT_SPM_MIN_SIZE,
                 (long)TEXT_VOCAB_MAX, &c->vocab) ||
        get_long(a, OPT_MAXLEN, 40, 2, 4096, &maxlen) ||
        get_long(a, OPT_EMBED, 256, 1, TEXT_MAX_WIDTH, &embed) ||
        get_long(a, OPT_HIDDEN, 256, 1, TEXT_MAX_WIDTH, &hidden) ||
        get_long(a, OPT_LATENT, 32, 1, 4096, &latent) ||
        get_long(a, OPT_KL_ANNEAL, DEFAULT_KL_ANNEAL, 0, 1000000000,
                 &c->kl_anneal) ||
        get_choice(a, OPT_KL_SCHEDULE, kl_schedules, 2, 0, &c->kl_schedule) ||
        get_double(a, OPT_WORD_DROPOUT,
                   !lm && arch == ARCH_BOWMAN ? DEFAULT_WORD_DROPOUT : 0.0,
                   0.0, 1.0, 0, &t->word_dropout) ||
        get_double(a, OPT_FREE_BITS, DEFAULT_FREE_BITS, 0.0, 100.0, 0,
                   &c->free_bits) ||
        get_choice(a, OPT_FREE_BITS_MODE, free_bits_modes, 2, 0,
                   &c->free_bits_mode) ||
        get_double(a, OPT_BN_GAMMA, lm ? 0.0 : DEFAULT_BN_GAMMA, 0.0, 100.0, 0,
                   &t->bn_gamma) ||
        get_double(a, OPT_BOW, !lm && arch == ARCH_BOWMAN ? DEFAULT_BOW : 0.0,
                   0.0, 1e6, 0, &t->bow_weight) ||
        get_double(a, OPT_PRETRAIN_EPOCHS, 0.0, 0.0, 100000.0, 0,
                   &c->pretrain_epochs) ||
        get_long(a, OPT_BATCH, 32, 1, 65536, &c->batch) ||
        get_double(a, OPT_LR, 1e-3, 0.0, 10.0, 1, &c->lr) ||
        get_double(a, OPT_PROGRESS, 2.0, 0.0, 86400.0, 0, &c->progress) ||
        get_seed(a, OPT_SEED, 1, &c->seed) ||
        get_choice(a, OPT_CONDITIONAL, conditions, 1, 0, &condition))
        return -1;
    if (t->word_dropout >= 1.0)
        return fail("--word-dropout: expected a decimal number in [0, 1), "
                    "got '%s'", a->val[OPT_WORD_DROPOUT]);
    if (arch == ARCH_SEED && t->word_dropout > 0.0)
        return fail("--word-dropout: the seed architecture's decoder reads no "
                    "tokens, so there are none to drop");
    if (arch == ARCH_SEED && t->bow_weight > 0.0)
        return fail("--bow: the bag-of-words loss needs the sentence in the "
                    "decoder, which the seed architecture's never reads");
    t->arch = lm ? ARCH_LM : arch;
    t->maxlen = maxlen;
    t->embed = embed;
    t->hidden = hidden;
    t->latent = lm ? 1 : latent;
    return 0;
}

/* The KL settings of the VAE's objective (not kept in the file). */
static int32_t set_kl_terms(const struct train_cfg *c, vae_model *m)
{
    int32_t s = vae_model_set_beta(m, 1.0);

    if (s == VAE_OK)
        s = vae_model_set_free_bits(m, c->free_bits);
    if (s == VAE_OK)
        s = vae_model_set_free_bits_mode(m,
                                         free_bits_codes[c->free_bits_mode]);
    if (s == VAE_OK && c->kl_anneal > 0)
        s = vae_model_set_kl_anneal(m, kl_schedule_codes[c->kl_schedule],
                                    c->kl_anneal);
    return s;
}

/* Settings the file does not keep: set once the model exists. The LM's
 * latent is a placeholder its decoder ignores; beta 0 keeps its KL term
 * from training the placeholder encoder for nothing. Autoencoder
 * pre-training (Li et al. 2019) has no KL term either: beta 0 until the
 * decoder is reset. */
static int configure_model(const struct train_cfg *c, vae_model *m)
{
    int32_t s;

    if (c->arch.arch == ARCH_LM || c->pretrain_epochs > 0.0)
        s = vae_model_set_beta(m, 0.0);
    else
        s = set_kl_terms(c, m);
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
    float *xb, *cb; /* cb: the batch's genre rows, conditional models */
    double trained; /* seconds of training so far, for --minutes */
    int out_of_time;
    int64_t steps, pretrain_steps; /* pretrain_steps 0: no pre-training */
    struct loss_watch watch;
};

/* The end of autoencoder pre-training (Li et al. 2019): the encoder has
 * learnt to put each sentence somewhere of its own; a new decoder, which
 * has not learnt to do without z, and a new optimizer (the old moments
 * belong to the old decoder) then train the VAE with its KL terms. */
static int end_pretraining(struct run *r)
{
    const struct train_cfg *c = r->c;
    char e[512] = "";
    int32_t s = vae_model_reset_decoder(r->m, c->seed + 1);

    if (s == VAE_OK)
        s = set_kl_terms(c, r->m);
    if (s != VAE_OK)
        return fail_lib("vae_model_reset_decoder", s,
                        vae_model_last_error(r->m));
    vae_adam_free(r->opt);
    r->opt = NULL;
    s = vae_adam_new(r->m, c->lr, &r->opt, e, sizeof e);
    if (s != VAE_OK)
        return fail_lib("vae_adam_new", s, e);
    fprintf(stderr, "autoencoder pre-training done after %lld steps; the "
            "decoder starts again\n", (long long)r->steps);
    return 0;
}

/* One epoch of steps in the order (seed, epoch) fixes, ended early when
 * --minutes runs out. *objective is the mean train ELBO (VAE) or NLL (LM)
 * per sentence over the batches run, *kl the mean KL (training mode:
 * batch statistics, word dropout). */
static int train_epoch(struct run *r, long epoch, double *objective,
                       double *kl, double *secs, int64_t *tokens)
{
    const struct train_cfg *c = r->c;
    const int64_t T = c->arch.maxlen, G = c->arch.ngenres;
    const int64_t n_all = r->train->n;
    const int64_t nbatches = (n_all + c->batch - 1) / c->batch;
    const int lm = c->arch.arch == ARCH_LM;
    const double limit = c->minutes * 60.0;
    struct progress prog;
    double sum = 0.0, kl_sum = 0.0, t0 = now_seconds();
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
            if (r->cb)
                memcpy(r->cb + j * G, r->train->cond + i * G,
                       (size_t)G * sizeof *r->cb);
            batch_toks += r->train->ntok[i];
        }
        if (model_condition(r->m, r->cb, 0, n) ||
            model_train_step(r->m, r->opt, r->xb, n, epoch, b, &elbo,
                             &recon)) {
            progress_clear(&prog);
            return -1;
        }
        if (++r->steps == r->pretrain_steps && end_pretraining(r)) {
            progress_clear(&prog);
            return -1;
        }
        sum += (lm ? -recon : elbo) * (double)n;
        kl_sum += (recon - elbo) * (double)n;
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
    *kl = kl_sum / (double)seen;
    *tokens = toks;
    return 0;
}

/* Epoch line of the metrics file and of stderr. */
static int report_epoch(struct metrics *metrics, const struct train_cfg *c,
                        long epoch, double objective, double train_kl,
                        const struct set_eval *v, double secs, int64_t tokens)
{
    const int lm = c->arch.arch == ARCH_LM;
    double rate = secs > 0.0 ? (double)tokens / secs : 0.0;

    if (metrics) {
        json_num(metrics, "epoch", (double)epoch, 0);
        json_num(metrics, lm ? "train_nll" : "train_elbo", objective, 4);
        if (!lm)
            json_num(metrics, "train_kl", train_kl, 4);
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
                "epoch %ld  train_elbo %.2f (kl %.2f)  valid_nll %.2f (ppl "
                "%.2f, kl %.2f, %ld active units)  %.1fs  %.0f tokens/s\n",
                epoch, objective, train_kl, v->nll, v->ppl, v->kl, v->active,
                secs, rate);
    return 0;
}

/* train (VAE) and lm (language model): the same loop, other objectives. */
static int train_command(const struct args *a, int lm)
{
    struct train_cfg c = {0};
    text_corpus corpus = {0};
    text_tokenizer *tok = NULL;
    struct text_set set[TEXT_NUM_SPLITS] = {{0}};
    struct run r = {0};
    struct metrics *metrics = NULL;
    struct set_eval v;
    char e[512] = "";
    size_t unknown = 0, pieces = 0;
    int32_t s;
    int rc = -1;

    if (parse_train(a, lm, &c))
        return -1;
    if (load_corpus(a, c.conditional, &corpus))
        goto done;
    c.arch.ngenres = (int64_t)corpus.ngenres;
    if (text_tokenizer_build(c.tokenizer, &corpus.split[TEXT_TRAIN],
                             (size_t)c.vocab, &tok, e, sizeof e) ||
        text_tokenizer_count_unknown(tok, &corpus.split[TEXT_TRAIN], &unknown,
                                     &pieces, e, sizeof e)) {
        fail("vocabulary: %s", e);
        goto done;
    }
    c.arch.vocab = (int64_t)text_tokenizer_size(tok);
    for (int i = 0; i < TEXT_NUM_SPLITS; i++)
        if (text_encode_set(tok, &corpus.split[i], c.arch.maxlen, &set[i]) ||
            text_set_genres(&set[i], &corpus, i, c.arch.ngenres,
                            (const char *const *)corpus.genre_names,
                            a->val[OPT_DATA]))
            goto done;
    if (set[TEXT_TRAIN].n == 0 || set[TEXT_VALID].n == 0) {
        fail("%s: the corpus has %lld training and %lld validation sentences; "
             "training needs both (a lines file needs at least 19 sentences)",
             a->val[OPT_DATA], (long long)set[TEXT_TRAIN].n,
             (long long)set[TEXT_VALID].n);
        goto done;
    }

    if (text_make_model(&c.arch, c.seed, &r.m) || configure_model(&c, r.m) ||
        text_attach_metadata(r.m, &c.arch, tok,
                             (const char *const *)corpus.genre_names))
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
            "%s: %lld train, %lld valid, %lld test sentences; %s "
            "vocabulary of %lld ids (%.2f%% of training tokens unknown)\n",
            a->val[OPT_DATA], (long long)set[TEXT_TRAIN].n,
            (long long)set[TEXT_VALID].n, (long long)set[TEXT_TEST].n,
            c.tokenizer == TEXT_TOK_WORDS ? "word" : "subword",
            (long long)c.arch.vocab,
            100.0 * (double)unknown / (double)(pieces ? pieces : 1));
    if (c.arch.ngenres > 0)
        fprintf(stderr, "conditional on %lld genres, which encoder and "
                "decoder read as a one-hot vector\n",
                (long long)c.arch.ngenres);
    if (c.batch > set[TEXT_TRAIN].n)
        c.batch = (long)set[TEXT_TRAIN].n;
    r.c = &c;
    r.train = &set[TEXT_TRAIN];
    loss_watch_init(&r.watch, "token");
    if (c.pretrain_epochs > 0.0) {
        int64_t per_epoch = (set[TEXT_TRAIN].n + c.batch - 1) / c.batch;
        r.pretrain_steps = (int64_t)ceil(c.pretrain_epochs * (double)per_epoch);
    }
    r.perm = malloc((size_t)set[TEXT_TRAIN].n * sizeof *r.perm);
    r.xb = malloc((size_t)(c.batch * c.arch.maxlen) * sizeof *r.xb);
    if (c.arch.ngenres > 0)
        r.cb = malloc((size_t)(c.batch * c.arch.ngenres) * sizeof *r.cb);
    if (!r.perm || !r.xb || (c.arch.ngenres > 0 && !r.cb)) {
        fail("out of memory");
        goto done;
    }

    for (long epoch = 1; epoch <= c.epochs && !r.out_of_time; epoch++) {
        double objective = 0.0, train_kl = 0.0, secs = 0.0;
        int64_t tokens = 0;

        if (train_epoch(&r, epoch, &objective, &train_kl, &secs, &tokens) ||
            evaluate_set(r.m, &c.arch, &set[TEXT_VALID], c.batch, 0, 0, 0.0,
                         &v) ||
            model_save(r.m, NULL, c.out_path) ||
            report_epoch(metrics, &c, epoch, objective, train_kl, &v, secs,
                         tokens))
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
        if (evaluate_set(r.m, &c.arch, &set[TEXT_TEST], c.batch, 0, 0, 0.0,
                         &v) ||
            write_eval(metrics, &v, 1, 0, set[TEXT_TEST].n))
            goto done;
    }
    rc = 0;

done:
    rc = close_metrics(metrics, rc);
    free(r.cb);
    free(r.xb);
    free(r.perm);
    vae_adam_free(r.opt);
    vae_model_free(r.m);
    for (int i = 0; i < TEXT_NUM_SPLITS; i++)
        text_set_free(&set[i]);
    text_tokenizer_free(tok);
    text_corpus_free(&corpus);
    return rc;
}

int cmd_train(const struct args *a)
{
    return train_command(a, 0);
}

int cmd_lm(const struct args *a)
{
    return train_command(a, 1);
}
