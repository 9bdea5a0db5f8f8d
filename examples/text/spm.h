/* spm.h - a small C interface to SentencePiece (Kudo and Richardson 2018),
 * a C++ library, for vae-text's subword vocabulary; libvae itself stays C.
 *
 * The model is a BPE model trained on the sentences given, with byte
 * fallback: a character it has no piece for becomes the pieces of its
 * UTF-8 bytes, so encoding never gives <unk>. Ids 0..3 are <pad>, <bos>,
 * <eos> and <unk>, as in vocab.h; the pieces follow. Text is taken as it
 * is (no Unicode normalisation), so decoding gives back exactly the text
 * encoded, spaces normalised. Every function returns 0, or -1 with a
 * message in err (errlen bytes, may be NULL/0); nothing is printed, and no
 * C++ exception leaves this interface. */
#ifndef VAE_TEXT_SPM_H
#define VAE_TEXT_SPM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct text_spm text_spm;

/* The smallest vocabulary a model can have: the 4 specials, 256 byte
 * pieces and room for the characters of a small corpus. */
#define TEXT_SPM_MIN_SIZE 300

/* Trains a model of at most `size` ids (fewer when the sentences have
 * fewer pieces to merge) on the n NUL-terminated UTF-8 sentences; `size`
 * must leave room for the specials, the byte pieces and every character
 * of the sentences. Deterministic: the same sentences and size give the
 * same model. */
int text_spm_train(const char *const *sentences, size_t n, size_t size,
                   text_spm **out, char *err, size_t errlen);

/* Loads a model from the bytes text_spm_serialize wrote. */
int text_spm_load(const void *buf, size_t len, text_spm **out, char *err,
                  size_t errlen);

/* The model's bytes (SentencePiece's own serialised form) in *buf,
 * malloc'd; the caller frees it. */
int text_spm_serialize(const text_spm *m, unsigned char **buf, size_t *len,
                       char *err, size_t errlen);

/* Frees a model. NULL is a no-op. */
void text_spm_free(text_spm *m);

/* Number of ids, specials and byte pieces included. */
size_t text_spm_size(const text_spm *m);

/* The ids of the pieces of text[0..len) in *ids (malloc'd, the caller
 * frees it; NULL when *n is 0) and their count in *n. */
int text_spm_encode(const text_spm *m, const char *text, size_t len,
                    int32_t **ids, size_t *n, char *err, size_t errlen);

/* The text of n ids, malloc'd and NUL-terminated, in *out: pieces joined,
 * byte pieces turned back into their characters (a byte sequence that is
 * not UTF-8 into U+FFFD, a control byte into a space), <pad>, <bos> and
 * <eos> left out and <unk> written as "<unk>". An id outside [0, size) is
 * an error. */
int text_spm_decode(const text_spm *m, const int32_t *ids, size_t n,
                    char **out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
