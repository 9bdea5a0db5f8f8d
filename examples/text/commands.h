/* commands.h - what vae-text's command files share: the flags (their ids
 * and names), the corpus flags, and each command's entry point. Failures
 * are recorded with fail() (cli.h). */
#ifndef VAE_TEXT_COMMANDS_H
#define VAE_TEXT_COMMANDS_H

#include "cli.h"
#include "corpus.h"

enum opt_id {
    OPT_CORPUS, OPT_DATA, OPT_ARCH, OPT_EPOCHS, OPT_MINUTES, OPT_OUT,
    OPT_METRICS, OPT_VOCAB, OPT_MAXLEN, OPT_EMBED, OPT_HIDDEN, OPT_LATENT,
    OPT_KL_ANNEAL, OPT_WORD_DROPOUT, OPT_FREE_BITS, OPT_BATCH, OPT_LR,
    OPT_SEED, OPT_PROGRESS, OPT_THREADS, OPT_MODEL, OPT_IWAE, OPT_N,
    OPT_DECODE, OPT_TEMPERATURE, OPT_TOP_K, OPT_BEAM, OPT_SENTENCE, OPT_TO,
    OPT_STEPS, OPT_LIMIT, OPT_PROJECTION, OPT_TOKENIZER, OPT_KL_SCHEDULE,
    OPT_FREE_BITS_MODE, OPT_BN_GAMMA, OPT_BOW, OPT_PRETRAIN_EPOCHS,
    OPT_TOP_P, OPT_NO_REPEAT_NGRAM, OPT_CONDITIONAL, OPT_GENRE, OPT_COUNT
};

extern const char *const text_opt_names[OPT_COUNT];

/* The corpus --corpus and --data name; with `genres`, the genre of each
 * sentence too, which only --corpus brown has (its cats.txt). */
int load_corpus(const struct args *a, int genres, text_corpus *c);

/* The commands (train.c, eval.c, generate.c, sample_stats.c,
 * plot_latent.c). */
int cmd_train(const struct args *a);
int cmd_lm(const struct args *a);
int cmd_eval(const struct args *a);
int cmd_sample(const struct args *a);
int cmd_reconstruct(const struct args *a);
int cmd_interpolate(const struct args *a);
int cmd_sample_stats(const struct args *a);
int cmd_plot_latent(const struct args *a);

#endif
