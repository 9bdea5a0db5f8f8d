/* tokenizer.c - see tokenizer.h. */
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "le32.h"
#include "spm.h"
#include "tokenizer.h"
#include "vocab.h"

#define SPM_MAGIC "VTXS"
#define SPM_VERSION 1u
#define SPM_HEADER 8 /* magic, version */

const char *const text_tokenizer_names[TEXT_TOK_COUNT] = {
    [TEXT_TOK_SENTENCEPIECE] = "sentencepiece", [TEXT_TOK_WORDS] = "words"};

struct text_tokenizer {
    int kind;
    text_vocab *words; /* TEXT_TOK_WORDS */
    text_spm *spm;     /* TEXT_TOK_SENTENCEPIECE */
};

void text_tokenizer_free(text_tokenizer *t)
{
    if (!t)
        return;
    text_vocab_free(t->words);
    text_spm_free(t->spm);
    free(t);
}

int text_tokenizer_kind(const text_tokenizer *t)
{
    return t->kind;
}

size_t text_tokenizer_size(const text_tokenizer *t)
{
    return t->kind == TEXT_TOK_WORDS ? text_vocab_size(t->words)
                                     : text_spm_size(t->spm);
}

/* Sentence i of s as SentencePiece reads it: its tokens joined by single
 * spaces, in *out (malloc'd). */
static int joined(const text_sentences *s, size_t i, char **out, char *err,
                  size_t errlen)
{
    size_t a = s->start[i], b = s->start[i + 1], n = 0;
    char *p;

    for (size_t k = a; k < b; k++)
        n += strlen(s->tok[k]) + 1;
    p = *out = malloc(n);
    if (!p)
        return errmsg_set(err, errlen, "out of memory");
    for (size_t k = a; k < b; k++) {
        size_t l = strlen(s->tok[k]);
        memcpy(p, s->tok[k], l);
        p += l;
        *p++ = k + 1 < b ? ' ' : '\0';
    }
    return 0;
}

static int train_spm(const text_sentences *train, size_t size,
                     text_spm **out, char *err, size_t errlen)
{
    char **text = calloc(train->count ? train->count : 1, sizeof *text);
    size_t done = 0;
    int rc = -1;

    if (!text)
        return errmsg_set(err, errlen, "out of memory");
    for (; done < train->count; done++)
        if (joined(train, done, &text[done], err, errlen))
            goto out;
    rc = text_spm_train((const char *const *)text, train->count, size, out,
                        err, errlen);
out:
    for (size_t i = 0; i < done; i++)
        free(text[i]);
    free(text);
    return rc;
}

int text_tokenizer_build(int kind, const text_sentences *train, size_t size,
                         text_tokenizer **out, char *err, size_t errlen)
{
    text_tokenizer *t = calloc(1, sizeof *t);
    int rc;

    *out = NULL;
    if (!t)
        return errmsg_set(err, errlen, "out of memory");
    t->kind = kind;
    rc = kind == TEXT_TOK_WORDS
             ? text_vocab_build(train, size, &t->words, err, errlen)
             : train_spm(train, size, &t->spm, err, errlen);
    if (rc) {
        text_tokenizer_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

/* The pieces of sentence i of s, untruncated, in *ids (malloc'd). */
static int spm_pieces(const text_tokenizer *t, const text_sentences *s,
                      size_t i, int32_t **ids, size_t *n, char *err,
                      size_t errlen)
{
    char *text = NULL;
    int rc;

    if (joined(s, i, &text, err, errlen))
        return -1;
    rc = text_spm_encode(t->spm, text, strlen(text), ids, n, err, errlen);
    free(text);
    return rc;
}

int text_tokenizer_count_unknown(const text_tokenizer *t,
                                 const text_sentences *s, size_t *unknown,
                                 size_t *total, char *err, size_t errlen)
{
    *unknown = 0;
    *total = 0;
    if (t->kind == TEXT_TOK_WORDS) {
        *unknown = text_vocab_count_unknown(t->words, s);
        *total = s->ntokens;
        return 0;
    }
    for (size_t i = 0; i < s->count; i++) {
        int32_t *ids = NULL;
        size_t n = 0;
        if (spm_pieces(t, s, i, &ids, &n, err, errlen))
            return -1;
        for (size_t k = 0; k < n; k++)
            *unknown += ids[k] == TEXT_UNK;
        *total += n;
        free(ids);
    }
    return 0;
}

int text_tokenizer_encode(const text_tokenizer *t, const text_sentences *s,
                          size_t maxlen, int32_t *ids, char *err,
                          size_t errlen)
{
    if (t->kind == TEXT_TOK_WORDS)
        return text_vocab_encode_sentences(t->words, s, maxlen, ids, err,
                                           errlen);
    if (maxlen < 1)
        return errmsg_set(err, errlen, "maxlen must be at least 1");
    for (size_t i = 0; i < s->count; i++) {
        int32_t *p = NULL, *row = ids + i * maxlen;
        size_t n = 0, k = 0;
        if (spm_pieces(t, s, i, &p, &n, err, errlen))
            return -1;
        for (; k < n && k + 1 < maxlen; k++)
            row[k] = p[k];
        row[k++] = TEXT_EOS;
        for (; k < maxlen; k++)
            row[k] = TEXT_PAD;
        free(p);
    }
    return 0;
}

int text_tokenizer_decode(const text_tokenizer *t, const int32_t *ids,
                          size_t n, char **out, char *err, size_t errlen)
{
    char *spaced = NULL;
    size_t len = 0;
    int rc;

    if (t->kind == TEXT_TOK_WORDS)
        return text_vocab_decode(t->words, ids, n, out, err, errlen);
    while (len < n && ids[len] != TEXT_EOS)
        len++;
    if (text_spm_decode(t->spm, ids, len, &spaced, err, errlen))
        return -1;
    /* Pieces give back the tokens joined by spaces; they are then joined
     * as words are, so both tokenizers write the same text. */
    rc = text_detokenize(spaced, out, err, errlen);
    free(spaced);
    return rc;
}

int text_tokenizer_serialize(const text_tokenizer *t, unsigned char **buf,
                             size_t *len, char *err, size_t errlen)
{
    unsigned char *model = NULL, *b;
    size_t n = 0;

    if (t->kind == TEXT_TOK_WORDS)
        return text_vocab_serialize(t->words, buf, len, err, errlen);
    *buf = NULL;
    *len = 0;
    if (text_spm_serialize(t->spm, &model, &n, err, errlen))
        return -1;
    b = malloc(SPM_HEADER + n);
    if (!b) {
        free(model);
        return errmsg_set(err, errlen, "out of memory");
    }
    memcpy(b, SPM_MAGIC, 4);
    le32_put(b + 4, SPM_VERSION);
    memcpy(b + SPM_HEADER, model, n);
    free(model);
    *buf = b;
    *len = SPM_HEADER + n;
    return 0;
}

int text_tokenizer_parse(const unsigned char *buf, size_t len,
                         text_tokenizer **out, char *err, size_t errlen)
{
    text_tokenizer *t = calloc(1, sizeof *t);
    int rc;

    *out = NULL;
    if (!t)
        return errmsg_set(err, errlen, "out of memory");
    if (len >= 4 && memcmp(buf, SPM_MAGIC, 4) == 0) {
        t->kind = TEXT_TOK_SENTENCEPIECE;
        if (len < SPM_HEADER)
            rc = errmsg_set(err, errlen, "subword model: %zu bytes, too short "
                            "for its %d-byte header", len, SPM_HEADER);
        else if (le32_get(buf + 4) != SPM_VERSION)
            rc = errmsg_set(err, errlen, "subword model: format version %lu, "
                            "this program reads version %u",
                            (unsigned long)le32_get(buf + 4), SPM_VERSION);
        else
            rc = text_spm_load(buf + SPM_HEADER, len - SPM_HEADER, &t->spm,
                               err, errlen);
    } else if (len < 4 || memcmp(buf, "VTXV", 4) != 0) {
        rc = errmsg_set(err, errlen, "neither a word vocabulary (VTXV) nor a "
                        "subword model (%s)", SPM_MAGIC);
    } else {
        t->kind = TEXT_TOK_WORDS;
        rc = text_vocab_parse(buf, len, &t->words, err, errlen);
    }
    if (rc) {
        text_tokenizer_free(t);
        return -1;
    }
    *out = t;
    return 0;
}
