/* fuzz_text.c - the text example's data layer on arbitrary bytes: the
 * corpus formats (plain lines, Brown token files, aclImdb reviews) through
 * text_corpus_add_text, which every loader calls on each file it reads, then
 * the vocabulary built, encoded, decoded and serialised from what loaded;
 * or a serialised vocabulary through text_vocab_parse.
 *
 * Input layout: byte 0 picks the mode (byte 0 % 5: 0 lines, 1 Brown, 2 and
 * 3 a training or test review, 4 a serialised vocabulary). For 0..3, byte 1
 * sets the vocabulary size (4 + byte 1 % 64), byte 2 the encoded length
 * (1 + byte 2 % 16) and the text starts at byte 3; for 4, the vocabulary
 * starts at byte 1. */
#include <string.h>

#include "corpus.h"
#include "fuzz.h"
#include "vocab.h"

/* A token is what the tokenizer promises: non-empty valid UTF-8 without
 * separators or upper-case ASCII letters. */
static void check_token(const char *t)
{
    size_t n = strlen(t);

    FUZZ_CHECK(n > 0);
    FUZZ_CHECK(text_utf8_check(t, n, NULL, NULL, 0) == 0);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        FUZZ_CHECK(c > 0x20 && c != 0x7F && !(c >= 'A' && c <= 'Z'));
    }
}

static void check_sentences(const text_sentences *s)
{
    if (s->count == 0) {
        FUZZ_CHECK(s->ntokens == 0);
        return;
    }
    FUZZ_CHECK(s->start[0] == 0 && s->start[s->count] == s->ntokens);
    for (size_t i = 0; i < s->count; i++)
        FUZZ_CHECK(s->start[i] < s->start[i + 1]);
    for (size_t t = 0; t < s->ntokens; t++)
        check_token(s->tok[t]);
}

/* Every id maps to its token and back; the serialised form parses to a
 * vocabulary that serialises to the same bytes. */
static void check_vocab(const text_vocab *v, const unsigned char *bytes,
                        size_t len)
{
    unsigned char *again = NULL;
    size_t again_len = 0;
    size_t n = text_vocab_size(v);

    FUZZ_CHECK(n >= TEXT_NUM_SPECIALS && n <= TEXT_VOCAB_MAX);
    for (size_t i = 0; i < n; i++) {
        const char *t = text_vocab_token(v, (int32_t)i);
        FUZZ_CHECK(t != NULL);
        FUZZ_CHECK(text_vocab_lookup(v, t) == (int32_t)i);
    }
    FUZZ_CHECK(text_vocab_token(v, (int32_t)n) == NULL);
    FUZZ_CHECK(text_vocab_serialize(v, &again, &again_len, NULL, 0) == 0);
    FUZZ_CHECK(again_len == len && memcmp(again, bytes, len) == 0);
    free(again);
}

static void vocab_round_trip(const text_vocab *v)
{
    unsigned char *bytes = NULL;
    size_t len = 0;
    text_vocab *parsed = NULL;

    FUZZ_CHECK(text_vocab_serialize(v, &bytes, &len, NULL, 0) == 0);
    FUZZ_CHECK(text_vocab_parse(bytes, len, &parsed, NULL, 0) == 0);
    check_vocab(parsed, bytes, len);
    text_vocab_free(parsed);
    free(bytes);
}

/* Encodes every sentence of s and decodes it again. */
static void encode_decode(const text_vocab *v, const text_sentences *s,
                          size_t maxlen)
{
    int32_t *ids;

    if (s->count == 0)
        return;
    ids = malloc(s->count * maxlen * sizeof *ids);
    FUZZ_CHECK(ids != NULL);
    FUZZ_CHECK(text_vocab_encode_sentences(v, s, maxlen, ids, NULL, 0) == 0);
    for (size_t i = 0; i < s->count; i++) {
        char *text = NULL;
        for (size_t k = 0; k < maxlen; k++)
            FUZZ_CHECK(ids[i * maxlen + k] >= 0 &&
                       (size_t)ids[i * maxlen + k] < text_vocab_size(v));
        FUZZ_CHECK(text_vocab_decode(v, ids + i * maxlen, maxlen, &text, NULL,
                                     0) == 0);
        free(text);
    }
    free(ids);
}

static void fuzz_corpus(enum text_format f, size_t vocab_size, size_t maxlen,
                        const char *text, size_t len)
{
    text_corpus c;
    text_vocab *v = NULL;
    char err[256] = "";
    const text_sentences *train = NULL;

    memset(&c, 0, sizeof c);
    if (text_corpus_add_text(&c, f, "fuzz", text, len, err, sizeof err) != 0) {
        FUZZ_CHECK(err[0] != '\0');
        text_corpus_free(&c);
        return;
    }
    for (int i = 0; i < TEXT_NUM_SPLITS; i++) {
        check_sentences(&c.split[i]);
        if (!train && c.split[i].ntokens)
            train = &c.split[i];
    }
    FUZZ_CHECK(train != NULL);
    FUZZ_CHECK(text_vocab_build(train, vocab_size, &v, err, sizeof err) == 0);
    FUZZ_CHECK(text_vocab_size(v) <= vocab_size);
    /* A vocabulary with room to spare holds every token it was built from. */
    if (text_vocab_size(v) < vocab_size)
        FUZZ_CHECK(text_vocab_count_unknown(v, train) == 0);
    for (int i = 0; i < TEXT_NUM_SPLITS; i++)
        encode_decode(v, &c.split[i], maxlen);
    vocab_round_trip(v);
    text_vocab_free(v);
    text_corpus_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] % 5 == 4) {
        text_vocab *v = NULL;
        char err[256] = "";
        if (text_vocab_parse(data + 1, size - 1, &v, err, sizeof err) != 0) {
            FUZZ_CHECK(v == NULL && err[0] != '\0');
            return 0;
        }
        check_vocab(v, data + 1, size - 1);
        text_vocab_free(v);
        return 0;
    }
    if (size < 3)
        return 0;
    fuzz_corpus((enum text_format)(data[0] % 5), 4 + (size_t)data[1] % 64,
                1 + (size_t)data[2] % 16, (const char *)data + 3, size - 3);
    return 0;
}
