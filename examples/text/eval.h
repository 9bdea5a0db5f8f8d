/* eval.h - evaluating a sentence model on a split (for train, lm and
 * eval): NLL, perplexity, KL and active units, and the eval line. */
#ifndef VAE_TEXT_EVAL_H
#define VAE_TEXT_EVAL_H

#include <stdint.h>

#include <vae.h>

#include "cli.h"
#include "textmodel.h"

struct set_eval {
    double nll;  /* mean per sentence, nats */
    double ppl;  /* exp(sum of NLL / sum of tokens) */
    double kl;   /* mean KL(q(z|x) || p(z)) per sentence */
    double mi;   /* mutual information I(x; z) over the set, nats */
    long active; /* active latent units */
};

/* NLL, perplexity, KL, active units and, with mi_samples > 0, the mutual
 * information of a set: for a VAE the NLL is -ELBO, or the IWAE bound with
 * k > 0 samples; for a language model it is exact and the latent terms
 * are 0. */
int evaluate_set(vae_model *m, const struct text_arch *t,
                 const struct text_set *s, long batch, long k,
                 long mi_samples, double progress, struct set_eval *r);

/* The eval line on stdout and in metrics (may be NULL), for eval and the
 * end of lm. */
int write_eval(struct metrics *metrics, const struct set_eval *r, int lm,
               long k, int64_t n);

#endif
