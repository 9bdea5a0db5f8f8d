/* options.c - vae-text's flag names and the corpus flags (commands.h). */
#include "commands.h"

const char *const text_opt_names[OPT_COUNT] = {
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
    [OPT_TOKENIZER] = "--tokenizer",   [OPT_KL_SCHEDULE] = "--kl-schedule",
    [OPT_FREE_BITS_MODE] = "--free-bits-mode",
    [OPT_BN_GAMMA] = "--bn-gamma",     [OPT_BOW] = "--bow",
    [OPT_PRETRAIN_EPOCHS] = "--pretrain-epochs",
    [OPT_TOP_P] = "--top-p",           [OPT_NO_REPEAT_NGRAM] = "--no-repeat-ngram",
    [OPT_CONDITIONAL] = "--conditional", [OPT_GENRE] = "--genre",
};

int load_corpus(const struct args *a, int genres, text_corpus *c)
{
    static const char *const kinds[] = {"brown", "sotu", "aclimdb", "lines"};
    char e[1024];
    int kind = 0;

    if (get_choice(a, OPT_CORPUS, kinds, 4, 0, &kind))
        return -1;
    if (genres && kind != 0)
        return fail("--corpus %s has no genres: a model conditional on genre "
                    "reads --corpus brown", kinds[kind]);
    if (genres ? text_corpus_load_brown_genres(a->val[OPT_DATA], c, e,
                                               sizeof e)
               : text_corpus_load(kinds[kind], a->val[OPT_DATA], c, e,
                                  sizeof e))
        return fail("%s", e);
    return 0;
}
