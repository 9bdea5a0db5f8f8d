/* tokenizer.h - how vae-text turns sentences into ids and back: a
 * SentencePiece subword model (spm.h, the default) or the word vocabulary
 * (vocab.h). Both read the word tokenizer's tokens (vocab.h): subword
 * pieces are learnt on a sentence's tokens joined by single spaces, so the
 * two see the same text, and both give text back joined by the same rule
 * (text_vocab_decode). Ids 0..3 are <pad>, <bos>, <eos>, <unk> in both.
 * Functions return 0, or -1 with a message in err (errlen bytes). */
#ifndef VAE_TEXT_TOKENIZER_H
#define VAE_TEXT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "corpus.h"

enum text_tokenizer_kind { TEXT_TOK_SENTENCEPIECE, TEXT_TOK_WORDS,
                           TEXT_TOK_COUNT };

/* Names as --tokenizer takes them. */
extern const char *const text_tokenizer_names[TEXT_TOK_COUNT];

typedef struct text_tokenizer text_tokenizer;

/* A tokenizer of at most `size` ids (exactly `size` for SentencePiece)
 * learnt from the training split `train`. */
int text_tokenizer_build(int kind, const text_sentences *train, size_t size,
                         text_tokenizer **out, char *err, size_t errlen);

/* Frees a tokenizer. NULL is a no-op. */
void text_tokenizer_free(text_tokenizer *t);

int text_tokenizer_kind(const text_tokenizer *t);

/* Number of ids, specials included. */
size_t text_tokenizer_size(const text_tokenizer *t);

/* How many ids of the sentences of s, untruncated, are <unk>: unknown
 * words for the word vocabulary, none for SentencePiece (byte fallback). */
int text_tokenizer_count_unknown(const text_tokenizer *t,
                                 const text_sentences *s, size_t *unknown,
                                 size_t *total, char *err, size_t errlen);

/* Exactly maxlen (>= 1) ids per sentence of s into ids (s->count * maxlen
 * entries, sentence i at ids[i * maxlen]): the ids of its first maxlen - 1
 * pieces or words, <eos>, then <pad>. */
int text_tokenizer_encode(const text_tokenizer *t, const text_sentences *s,
                          size_t maxlen, int32_t *ids, char *err,
                          size_t errlen);

/* The text of n ids up to the first <eos>, malloc'd and NUL-terminated, in
 * *out (the caller frees it); <unk> shows as "<unk>". An id outside the
 * vocabulary is an error. */
int text_tokenizer_decode(const text_tokenizer *t, const int32_t *ids,
                          size_t n, char **out, char *err, size_t errlen);

/* Serialised form: the word vocabulary as text_vocab_serialize writes it
 * ("VTXV" ...), or "VTXS", u32 version 1 and SentencePiece's model bytes.
 * *buf is malloc'd; the caller frees it. */
int text_tokenizer_serialize(const text_tokenizer *t, unsigned char **buf,
                             size_t *len, char *err, size_t errlen);

/* Reads either serialised form, checking every byte. */
int text_tokenizer_parse(const unsigned char *buf, size_t len,
                         text_tokenizer **out, char *err, size_t errlen);

#endif
