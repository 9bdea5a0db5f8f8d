/* train.c - vae-text train (the VAE) and lm (the language model): one
 * training loop, two objectives. */
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
#include "textmodel.h"
#include "vocab.h"

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
        get_long(a, OPT_EMBED, 256, 1, TEXT_MAX_WIDTH, &embed) ||
        get_long(a, OPT_HIDDEN, 256, 1, TEXT_MAX_WIDTH, &hidden) ||
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

int cmd_train(const struct args *a)
{
    return train_command(a, 0);
}

int cmd_lm(const struct args *a)
{
    return train_command(a, 1);
}
