/* vocab.h - the text example's tokenizer and vocabulary.
 *
 * Tokenizer rules (one place, so training data and a sentence typed on the
 * command line become the same tokens):
 *  - input must be valid UTF-8 (no overlong forms, surrogates or code points
 *    above U+10FFFF); anything else is an error naming the byte offset;
 *  - ASCII whitespace and control bytes separate tokens;
 *  - ASCII letters are lower-cased; other characters are left as they are;
 *  - a word is a run of ASCII letters and digits and non-ASCII characters;
 *    inside a word (a word character on both sides) an apostrophe or hyphen
 *    stays part of it (don't, it's, well-known), and so do '.', ',' and ':'
 *    between two digits (3.5, 1,000, 7:30);
 *  - every other ASCII punctuation character is a token of its own.
 *
 * Vocabulary: ids 0..3 are <pad>, <bos>, <eos>, <unk> (libvae treats id 0
 * as padding); then the most frequent training tokens, most frequent first,
 * equal counts in byte order of the token.
 */
#ifndef VAE_TEXT_VOCAB_H
#define VAE_TEXT_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "corpus.h"

#define TEXT_PAD 0
#define TEXT_BOS 1
#define TEXT_EOS 2
#define TEXT_UNK 3
#define TEXT_NUM_SPECIALS 4

/* libvae carries token ids in float buffers, exact up to 2^24. */
#define TEXT_VOCAB_MAX ((size_t)1 << 24)

/* ---- Tokenizer ---------------------------------------------------------- */

/*
 * Checks that text[0..len) is valid UTF-8. Returns 0, or -1 with *bad (may
 * be NULL) set to the offset of the first byte that does not start a valid
 * character and a message naming that offset, its line and the reason.
 */
int text_utf8_check(const char *text, size_t len, size_t *bad, char *err,
                    size_t errlen);

/*
 * Finds the next token of text[0..len) at or after *pos. Returns 1 with the
 * token's raw bytes at text[*start .. *end) and *pos just past them; 0 when
 * only separators remain (*pos = len); -1 on invalid UTF-8, with *pos at the
 * bad byte and a message as text_utf8_check gives. Tokens are at most the
 * input's length; copy them through text_normalize_token.
 */
int text_next_token(const char *text, size_t len, size_t *pos, size_t *start,
                    size_t *end, char *err, size_t errlen);

/* Copies the n bytes of a token found by text_next_token to dst in their
 * normal form (ASCII letters lower-cased). dst needs n bytes; no NUL added. */
void text_normalize_token(char *dst, const char *src, size_t n);

/* ---- Vocabulary --------------------------------------------------------- */

typedef struct text_vocab text_vocab;

/*
 * Builds the vocabulary of at most max_size ids (4 <= max_size <=
 * TEXT_VOCAB_MAX) from the tokens of `train`: the specials, then the
 * (max_size - 4) most frequent tokens (fewer if train has fewer distinct
 * ones). Build it from the training split only.
 */
int text_vocab_build(const text_sentences *train, size_t max_size,
                     text_vocab **out, char *err, size_t errlen);

/* Frees a vocabulary. NULL is a no-op. */
void text_vocab_free(text_vocab *v);

/* Number of ids, specials included (0 for NULL). */
size_t text_vocab_size(const text_vocab *v);

/* The id of a (normalised, NUL-terminated) token, or TEXT_UNK if absent. */
int32_t text_vocab_lookup(const text_vocab *v, const char *token);

/* The token of an id, or NULL if id is outside [0, size). */
const char *text_vocab_token(const text_vocab *v, int32_t id);

/* How many of the tokens of all sentences of s are not in v (they would be
 * encoded as <unk>). */
size_t text_vocab_count_unknown(const text_vocab *v, const text_sentences *s);

/*
 * Writes exactly maxlen (>= 1) ids for a sentence of ntok tokens: the ids of
 * the first min(ntok, maxlen - 1) tokens (TEXT_UNK for unknown ones), then
 * TEXT_EOS, then TEXT_PAD up to maxlen. No TEXT_BOS: the decoder's
 * shift-right puts it in front.
 */
int text_vocab_encode(const text_vocab *v, const char *const *tokens,
                      size_t ntok, size_t maxlen, int32_t *ids, char *err,
                      size_t errlen);

/* text_vocab_encode for every sentence of s: ids holds s->count * maxlen
 * entries, sentence i at ids[i * maxlen]. */
int text_vocab_encode_sentences(const text_vocab *v, const text_sentences *s,
                                size_t maxlen, int32_t *ids, char *err,
                                size_t errlen);

/*
 * Turns n ids into text in *out (malloc'd, NUL-terminated; the caller frees
 * it): stops at TEXT_EOS, skips TEXT_PAD and TEXT_BOS, writes <unk> for
 * TEXT_UNK, joins tokens with spaces except before closing punctuation
 * (. , ; : ! ? ) ] } %) and after opening brackets (( [ { $). An id outside
 * the vocabulary is an error.
 */
int text_vocab_decode(const text_vocab *v, const int32_t *ids, size_t n,
                      char **out, char *err, size_t errlen);

/* Joins the space-separated tokens of `spaced` as text_vocab_decode joins
 * tokens, into *out (malloc'd, NUL-terminated; the caller frees it): for
 * text made of tokens by other means, such as subword pieces. */
int text_detokenize(const char *spaced, char **out, char *err, size_t errlen);

/*
 * Serialised form, little-endian: "VTXV", u32 format version (1), u32 number
 * of ids N, then N entries of u32 byte length and the token's bytes (no NUL).
 * *buf is malloc'd; the caller frees it.
 */
int text_vocab_serialize(const text_vocab *v, unsigned char **buf,
                         size_t *len, char *err, size_t errlen);

/*
 * Reads a serialised vocabulary. Every length is checked against the bytes
 * left before it is used; the tokens must be non-empty valid UTF-8 without
 * NUL bytes, ids 0..3 must be the specials, no token may appear twice and
 * no bytes may follow the last entry.
 */
int text_vocab_parse(const unsigned char *buf, size_t len, text_vocab **out,
                     char *err, size_t errlen);

#endif
