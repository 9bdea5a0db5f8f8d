/* textmodel.h - what vae-text and vae-explore share about sentence models:
 * the architectures, the model file (a libvae model whose metadata holds
 * vae-text's sizes and tokenizer, docs/text.md), and sentences encoded
 * as the model reads them. Failures are recorded with fail() (cli.h). */
#ifndef VAE_TEXT_TEXTMODEL_H
#define VAE_TEXT_TEXTMODEL_H

#include <stdint.h>

#include <vae.h>

#include "corpus.h"
#include "tokenizer.h"
#include "vocab.h"

/* The --embed and --hidden limit, which loading checks too. */
#define TEXT_MAX_WIDTH 8192

/* ---- Architectures ------------------------------------------------------ */

enum arch_id { ARCH_BOWMAN, ARCH_SEED, ARCH_LM, ARCH_COUNT };

/* Names as --arch takes them and as the model file records them; lm, the
 * last, only through the lm command. */
extern const char *const text_arch_names[ARCH_COUNT];

/* Everything that fixes a model's graphs. */
struct text_arch {
    int arch;
    int64_t vocab, maxlen, embed, hidden, latent;
    double word_dropout; /* on the decoder's input tokens; 0: none */
    /* BN-VAE (Zhu et al. 2020): the posterior mean batch-normalised with
     * this fixed scale; 0: the plain Gaussian head. */
    double bn_gamma;
    /* Weight of the bag-of-words loss from z (Zhao et al. 2017); 0: none. */
    double bow_weight;
    /* A conditional model's genres (the one-hot condition's size); 0: an
     * unconditional model. */
    int64_t ngenres;
};

/* A new model of the architecture t describes. */
int text_make_model(const struct text_arch *t, uint64_t seed, vae_model **out);

/* ---- Model files -------------------------------------------------------- */

/* A loaded vae-text model and what its metadata says. */
struct text_model {
    vae_model *m;
    /* word_dropout unknown, left 0; bn_gamma and bow_weight 1 when the
     * model has them (their values are in the model's graphs) */
    struct text_arch arch;
    text_tokenizer *tok;
    char **genres; /* arch.ngenres names, or NULL */
};

/* Stores t, the tokenizer and, for a conditional model, its t->ngenres
 * genre names in m's metadata. */
int text_attach_metadata(vae_model *m, const struct text_arch *t,
                         const text_tokenizer *tok,
                         const char *const *genres);

/* Loads a vae-text model file and checks that its metadata describes its
 * weights. */
int load_text_model(const char *path, struct text_model *tm);

/* Releases the model and tokenizer and zeroes *tm. */
void text_model_free(struct text_model *tm);

/* Refuses a language model where the command needs a latent space. */
int text_need_vae(const struct text_model *tm, const char *path,
                  const char *command);

/* ---- Genres: a conditional model's condition ---------------------------- */

/* The genre --genre names (name may be NULL: not given) into *g: -1 for
 * an unconditional model without --genre. A conditional model needs one of
 * its genres, an unconditional one none; the errors list the model's
 * genres. */
int text_model_genre(const struct text_model *tm, const char *path,
                     const char *name, int *g);

/* n one-hot rows of ngenres floats, row i for genre[i] (one genre for all
 * when genre is NULL: `one`), malloc'd into *rows; NULL when ngenres is 0. */
int text_genre_rows(int64_t ngenres, const int32_t *genre, int32_t one,
                    int64_t n, float **rows);

/* The condition of the next call on n examples of genre g (-1: an
 * unconditional model, nothing to set). */
int text_set_genre(vae_model *m, int64_t ngenres, int g, int64_t n);

/* ---- Encoded sentences -------------------------------------------------- */

/* One split encoded for the model: n sentences of maxlen ids as floats;
 * for a conditional model, cond holds their n one-hot genre rows
 * (text_set_genres), else NULL. */
struct text_set {
    float *x;
    int32_t *ntok; /* per sentence: its ids that are not padding */
    int64_t n, tokens;
    float *cond;
    int32_t *genre; /* the model's genre of each sentence, with cond */
};

int text_encode_set(const text_tokenizer *tok, const text_sentences *s,
                    int64_t maxlen, struct text_set *out);
void text_set_free(struct text_set *s);
/* Keeps the first n sentences of s (all when it has no more). */
void text_set_truncate(struct text_set *s, int64_t n);

/* For a model conditional on ngenres genres (names): the genre rows of
 * split `split` of corpus c, which must have been loaded with genres that
 * are all the model's (matched by name). Nothing for ngenres 0. `data`
 * names the corpus in errors. */
int text_set_genres(struct text_set *s, const text_corpus *c, int split,
                    int64_t ngenres, const char *const *names,
                    const char *data);

/* Classes of sentence length for the latent pictures (plot-latent,
 * vae-explore's map): the class of a sentence of `ntok` encoded ids (its
 * words and <eos>), and the classes' names ("1-5 words", ...). */
#define TEXT_LENGTH_CLASSES 6
int text_length_class(int32_t ntok);
extern const char *const text_length_class_names[TEXT_LENGTH_CLASSES];

/* The posterior mean of one sentence (mu: latent floats) of genre g (-1
 * for an unconditional model); *shown receives the sentence as the model
 * sees it (<unk>, truncation), malloc'd. `flag` names the sentence's source
 * in errors. */
int text_encode_sentence(struct text_model *tm, const char *flag,
                         const char *sentence, int g, float *mu,
                         char **shown);

#endif
