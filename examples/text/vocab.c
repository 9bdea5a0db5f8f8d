/* vocab.c - tokenizer and vocabulary; the rules are in vocab.h. */
#include "vocab.h"
#include "errmsg.h"
#include "le32.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VOCAB_MAGIC "VTXV"
#define VOCAB_VERSION 1u
#define VOCAB_HEADER 12 /* magic, version, count */

static const char *const SPECIALS[TEXT_NUM_SPECIALS] = {"<pad>", "<bos>",
                                                        "<eos>", "<unk>"};

/* ---- UTF-8 ---------------------------------------------------------------- */

/* For a lead byte: the character's length and the range its second byte
 * must fall in (narrower than 80..BF where that excludes overlong forms,
 * surrogates and code points above U+10FFFF). Returns 0 if c cannot start a
 * multi-byte character. */
static size_t utf8_lead(unsigned c, unsigned *lo, unsigned *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c >= 0xE0 && c <= 0xEF) {
        if (c == 0xE0)
            *lo = 0xA0;
        else if (c == 0xED)
            *hi = 0x9F;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (c == 0xF0)
            *lo = 0x90;
        else if (c == 0xF4)
            *hi = 0x8F;
        return 4;
    }
    return 0;
}

/* Length of the valid multi-byte character at s[0..n) (s[0] >= 0x80), or 0. */
static size_t utf8_char_len(const unsigned char *s, size_t n)
{
    unsigned lo, hi;
    size_t len = utf8_lead(s[0], &lo, &hi);

    if (len == 0 || n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* Describes why text[at] does not start a valid character. */
static int utf8_error(const char *text, size_t len, size_t at, char *err,
                      size_t errlen)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t line = 1, clen;
    unsigned lo, hi;
    char why[96];

    for (size_t i = 0; i < at; i++)
        line += s[i] == '\n';
    clen = utf8_lead(s[at], &lo, &hi);
    if (clen == 0) {
        snprintf(why, sizeof why, "byte 0x%02x cannot start a character",
                 s[at]);
    } else {
        snprintf(why, sizeof why, "character cut off by the end of the text");
        for (size_t k = 1; k < clen && at + k < len; k++) {
            unsigned b = s[at + k];
            int ok = k == 1 ? b >= lo && b <= hi : (b & 0xC0) == 0x80;
            if (!ok) {
                snprintf(why, sizeof why,
                         "byte 0x%02x after lead byte 0x%02x is not a valid "
                         "continuation", b, s[at]);
                break;
            }
        }
    }
    return errmsg_set(err, errlen, "invalid UTF-8 at byte %zu (line %zu): %s",
                      at, line, why);
}

int text_utf8_check(const char *text, size_t len, size_t *bad, char *err,
                    size_t errlen)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;

    while (i < len) {
        size_t n;
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        n = utf8_char_len(s + i, len - i);
        if (n == 0) {
            if (bad)
                *bad = i;
            return utf8_error(text, len, i, err, errlen);
        }
        i += n;
    }
    return 0;
}

/* ---- Tokenizer -------------------------------------------------------------- */

static int is_digit(unsigned c)
{
    return c >= '0' && c <= '9';
}

static int is_ascii_word(unsigned c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_separator(unsigned c)
{
    return c <= 0x20 || c == 0x7F;
}

/* Whether the ASCII punctuation c, between the bytes prev and next of a
 * word, belongs to the word. An invalid byte in next is reported when the
 * scan reaches it. */
static int joins_word(unsigned prev, unsigned c, unsigned next)
{
    if (c == '\'' || c == '-')
        return is_ascii_word(next) || next >= 0x80;
    if (c == '.' || c == ',' || c == ':')
        return is_digit(prev) && is_digit(next);
    return 0;
}

int text_next_token(const char *text, size_t len, size_t *pos, size_t *start,
                    size_t *end, char *err, size_t errlen)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = *pos, b;

    while (i < len && is_separator(s[i]))
        i++;
    if (i == len) {
        *pos = len;
        return 0;
    }
    b = i;
    if (s[i] < 0x80 && !is_ascii_word(s[i])) {
        i++;
    } else {
        /* A word starts with a word character, so s[i - 1] is part of it
         * whenever a connector is tested. */
        while (i < len) {
            unsigned c = s[i];
            if (c >= 0x80) {
                size_t n = utf8_char_len(s + i, len - i);
                if (n == 0) {
                    *pos = i;
                    return utf8_error(text, len, i, err, errlen);
                }
                i += n;
            } else if (is_ascii_word(c) ||
                       (i + 1 < len && joins_word(s[i - 1], c, s[i + 1]))) {
                i++;
            } else {
                break;
            }
        }
    }
    *start = b;
    *end = i;
    *pos = i;
    return 1;
}

void text_normalize_token(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        dst[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
}

/* ---- String table: open addressing over an array of keys ------------------ */

struct strtab {
    int32_t *slot; /* index into the keys, or -1 when empty */
    size_t mask;   /* capacity - 1; capacity is a power of two */
};

/* FNV-1a. */
static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The slot holding s, or the empty slot where s would go. */
static size_t tab_find(const struct strtab *t, const char *const *keys,
                       const char *s)
{
    size_t i = (size_t)hash_str(s) & t->mask;
    while (t->slot[i] >= 0 && strcmp(keys[t->slot[i]], s) != 0)
        i = (i + 1) & t->mask;
    return i;
}

/* (Re)builds the table for keys[0..n) with room for at least 2 * want
 * entries, keeping the load at or below one half. */
static int tab_rebuild(struct strtab *t, const char *const *keys, size_t n,
                       size_t want)
{
    size_t cap = 16;
    int32_t *slot;

    while (cap < 2 * want) {
        if (cap > SIZE_MAX / 2 / sizeof *slot)
            return -1;
        cap *= 2;
    }
    slot = malloc(cap * sizeof *slot);
    if (!slot)
        return -1;
    memset(slot, 0xFF, cap * sizeof *slot); /* all -1 */
    free(t->slot);
    t->slot = slot;
    t->mask = cap - 1;
    for (size_t k = 0; k < n; k++)
        slot[tab_find(t, keys, keys[k])] = (int32_t)k;
    return 0;
}

/* ---- The vocabulary ----------------------------------------------------------- */

struct text_vocab {
    size_t size;
    const char **tok; /* size entries, into buf */
    char *buf;
    struct strtab tab;
};

void text_vocab_free(text_vocab *v)
{
    if (!v)
        return;
    free(v->tok);
    free(v->buf);
    free(v->tab.slot);
    free(v);
}

/* Makes a vocabulary of the n tokens src[i] (len[i] bytes each, no NUL) in
 * id order. A token given twice is an error. */
static int vocab_assemble(const char *const *src, const size_t *len, size_t n,
                          text_vocab **out, char *err, size_t errlen)
{
    text_vocab *v = calloc(1, sizeof *v);
    size_t bytes = 0, off = 0;

    if (!v)
        return errmsg_set(err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++)
        bytes += len[i] + 1;
    v->size = n;
    v->buf = malloc(bytes);
    v->tok = malloc(n * sizeof *v->tok);
    if (!v->buf || !v->tok || tab_rebuild(&v->tab, v->tok, 0, n) != 0) {
        text_vocab_free(v);
        return errmsg_set(err, errlen, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        size_t at;
        memcpy(v->buf + off, src[i], len[i]);
        v->buf[off + len[i]] = '\0';
        v->tok[i] = v->buf + off;
        off += len[i] + 1;
        at = tab_find(&v->tab, v->tok, v->tok[i]);
        if (v->tab.slot[at] >= 0) {
            errmsg_set(err, errlen, "vocabulary: token '%.40s' appears twice (ids %d and %zu)",
                       v->tok[i], (int)v->tab.slot[at], i);
            text_vocab_free(v);
            return -1;
        }
        v->tab.slot[at] = (int32_t)i;
    }
    *out = v;
    return 0;
}

struct counted {
    const char *tok;
    size_t count;
};

/* Most frequent first; equal counts in byte order (strcmp compares bytes
 * as unsigned char), so the order is total and the result deterministic. */
static int by_count_then_bytes(const void *pa, const void *pb)
{
    const struct counted *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->tok, b->tok);
}

/* Counts the distinct tokens of s into *out (tokens point into s). */
static int count_tokens(const text_sentences *s, struct counted **out,
                        size_t *nout)
{
    struct strtab tab = {NULL, 0};
    const char **keys = NULL;
    size_t *counts = NULL, n = 0, cap = 0;
    struct counted *c = NULL;
    int rc = -1;

    if (tab_rebuild(&tab, keys, 0, 1024) != 0)
        goto done;
    for (size_t t = 0; t < s->ntokens; t++) {
        size_t at = tab_find(&tab, keys, s->tok[t]);
        if (tab.slot[at] >= 0) {
            counts[tab.slot[at]]++;
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 1024;
            const char **nk = realloc(keys, ncap * sizeof *nk);
            size_t *nc;
            if (!nk)
                goto done;
            keys = nk;
            nc = realloc(counts, ncap * sizeof *nc);
            if (!nc)
                goto done;
            counts = nc;
            cap = ncap;
        }
        keys[n] = s->tok[t];
        counts[n] = 1;
        if (2 * (n + 1) > tab.mask + 1) {
            if (tab_rebuild(&tab, keys, n + 1, n + 1) != 0)
                goto done;
        } else {
            tab.slot[at] = (int32_t)n;
        }
        n++;
    }
    c = malloc((n ? n : 1) * sizeof *c);
    if (!c)
        goto done;
    for (size_t i = 0; i < n; i++) {
        c[i].tok = keys[i];
        c[i].count = counts[i];
    }
    *out = c;
    *nout = n;
    rc = 0;
done:
    free(tab.slot);
    free(keys);
    free(counts);
    return rc;
}

int text_vocab_build(const text_sentences *train, size_t max_size,
                     text_vocab **out, char *err, size_t errlen)
{
    struct counted *c = NULL;
    const char **src = NULL;
    size_t *len = NULL, n = 0, keep;
    int rc = -1;

    if (!out)
        return errmsg_set(err, errlen, "text_vocab_build: out is NULL");
    *out = NULL;
    if (!train)
        return errmsg_set(err, errlen, "text_vocab_build: train is NULL");
    if (max_size < TEXT_NUM_SPECIALS || max_size > TEXT_VOCAB_MAX)
        return errmsg_set(err, errlen,
                          "vocabulary size %zu outside %d..%zu (4 ids are "
                          "the specials)", max_size, TEXT_NUM_SPECIALS,
                          TEXT_VOCAB_MAX);
    if (train->ntokens == 0)
        return errmsg_set(err, errlen,
                          "the training split has no tokens to build a "
                          "vocabulary from");
    if (train->ntokens > INT32_MAX)
        return errmsg_set(err, errlen, "the training split has %zu tokens, "
                          "more than the counting table handles", train->ntokens);
    if (count_tokens(train, &c, &n) != 0)
        return errmsg_set(err, errlen, "out of memory");
    qsort(c, n, sizeof *c, by_count_then_bytes);
    keep = n < max_size - TEXT_NUM_SPECIALS ? n : max_size - TEXT_NUM_SPECIALS;
    src = malloc((TEXT_NUM_SPECIALS + keep) * sizeof *src);
    len = malloc((TEXT_NUM_SPECIALS + keep) * sizeof *len);
    if (!src || !len) {
        errmsg_set(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < TEXT_NUM_SPECIALS + keep; i++) {
        src[i] = i < TEXT_NUM_SPECIALS ? SPECIALS[i]
                                       : c[i - TEXT_NUM_SPECIALS].tok;
        len[i] = strlen(src[i]);
    }
    rc = vocab_assemble(src, len, TEXT_NUM_SPECIALS + keep, out, err, errlen);
done:
    free(c);
    free(src);
    free(len);
    return rc;
}

size_t text_vocab_size(const text_vocab *v)
{
    return v ? v->size : 0;
}

int32_t text_vocab_lookup(const text_vocab *v, const char *token)
{
    int32_t id;
    if (!v || !token)
        return TEXT_UNK;
    id = v->tab.slot[tab_find(&v->tab, v->tok, token)];
    return id >= 0 ? id : TEXT_UNK;
}

const char *text_vocab_token(const text_vocab *v, int32_t id)
{
    if (!v || id < 0 || (size_t)id >= v->size)
        return NULL;
    return v->tok[id];
}

size_t text_vocab_count_unknown(const text_vocab *v, const text_sentences *s)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (size_t t = 0; t < s->ntokens; t++)
        n += text_vocab_lookup(v, s->tok[t]) == TEXT_UNK;
    return n;
}

int text_vocab_encode(const text_vocab *v, const char *const *tokens,
                      size_t ntok, size_t maxlen, int32_t *ids, char *err,
                      size_t errlen)
{
    size_t k;

    if (!v || !ids || (!tokens && ntok))
        return errmsg_set(err, errlen, "text_vocab_encode: NULL argument");
    if (maxlen < 1)
        return errmsg_set(err, errlen,
                          "maxlen must be at least 1 (room for <eos>)");
    k = ntok < maxlen - 1 ? ntok : maxlen - 1;
    for (size_t i = 0; i < k; i++)
        ids[i] = text_vocab_lookup(v, tokens[i]);
    ids[k] = TEXT_EOS;
    for (size_t i = k + 1; i < maxlen; i++)
        ids[i] = TEXT_PAD;
    return 0;
}

int text_vocab_encode_sentences(const text_vocab *v, const text_sentences *s,
                                size_t maxlen, int32_t *ids, char *err,
                                size_t errlen)
{
    if (!v || !s || !ids)
        return errmsg_set(err, errlen, "text_vocab_encode_sentences: NULL argument");
    for (size_t i = 0; i < s->count; i++) {
        size_t a = s->start[i];
        if (text_vocab_encode(v, s->tok + a, s->start[i + 1] - a, maxlen,
                              ids + i * maxlen, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* One-character tokens that attach to their neighbour in decoded text. */
static int is_single(const char *tok, const char *set)
{
    return tok[0] && !tok[1] && strchr(set, tok[0]);
}

static int space_between(const char *prev, const char *cur)
{
    return !is_single(cur, ".,;:!?)]}%") && !is_single(prev, "([{$");
}

int text_detokenize(const char *spaced, char **out, char *err, size_t errlen)
{
    size_t n = strlen(spaced), o = 0;
    /* One byte more than the text: a token is first copied one past the
     * end of what is written, NUL-terminated. */
    char *s = malloc(n + 2), *prev = NULL;

    if (!s)
        return errmsg_set(err, errlen, "out of memory");
    for (size_t i = 0, j; i < n; i = j) {
        char *cur;
        while (i < n && spaced[i] == ' ')
            i++;
        for (j = i; j < n && spaced[j] != ' '; j++)
            ;
        if (i == j)
            break;
        /* The token whole beside the previous one (whose NUL is still
         * there), so that space_between sees both; then the gap becomes
         * a space or closes. */
        cur = s + o + 1;
        memcpy(cur, spaced + i, j - i);
        cur[j - i] = '\0';
        if (prev && space_between(prev, cur))
            s[o++] = ' ';
        else
            memmove(s + o, cur, j - i + 1);
        prev = s + o;
        o += j - i;
    }
    s[o] = '\0';
    *out = s;
    return 0;
}

int text_vocab_decode(const text_vocab *v, const int32_t *ids, size_t n,
                      char **out, char *err, size_t errlen)
{
    size_t need = 1, o = 0;
    const char *prev = NULL;
    char *s;

    if (!out)
        return errmsg_set(err, errlen, "text_vocab_decode: out is NULL");
    *out = NULL;
    if (!v || (!ids && n))
        return errmsg_set(err, errlen, "text_vocab_decode: NULL argument");
    for (size_t i = 0; i < n && ids[i] != TEXT_EOS; i++) {
        if (ids[i] < 0 || (size_t)ids[i] >= v->size)
            return errmsg_set(err, errlen,
                              "id %ld at position %zu is outside the "
                              "vocabulary (0..%zu)", (long)ids[i], i,
                              v->size - 1);
        need += strlen(v->tok[ids[i]]) + 1;
    }
    s = malloc(need);
    if (!s)
        return errmsg_set(err, errlen, "out of memory");
    for (size_t i = 0; i < n && ids[i] != TEXT_EOS; i++) {
        const char *t = v->tok[ids[i]];
        size_t tl = strlen(t);
        if (ids[i] == TEXT_PAD || ids[i] == TEXT_BOS)
            continue;
        if (prev && space_between(prev, t))
            s[o++] = ' ';
        memcpy(s + o, t, tl);
        o += tl;
        prev = t;
    }
    s[o] = '\0';
    *out = s;
    return 0;
}

/* ---- Serialised form ------------------------------------------------------------ */

int text_vocab_serialize(const text_vocab *v, unsigned char **buf,
                         size_t *len, char *err, size_t errlen)
{
    size_t total = VOCAB_HEADER, o = VOCAB_HEADER;
    unsigned char *b;

    if (!buf || !len)
        return errmsg_set(err, errlen, "text_vocab_serialize: NULL argument");
    *buf = NULL;
    *len = 0;
    if (!v)
        return errmsg_set(err, errlen, "text_vocab_serialize: vocabulary is NULL");
    for (size_t i = 0; i < v->size; i++)
        total += 4 + strlen(v->tok[i]);
    b = malloc(total);
    if (!b)
        return errmsg_set(err, errlen, "out of memory");
    memcpy(b, VOCAB_MAGIC, 4);
    le32_put(b + 4, VOCAB_VERSION);
    le32_put(b + 8, (uint32_t)v->size);
    for (size_t i = 0; i < v->size; i++) {
        size_t n = strlen(v->tok[i]);
        le32_put(b + o, (uint32_t)n);
        memcpy(b + o + 4, v->tok[i], n);
        o += 4 + n;
    }
    *buf = b;
    *len = total;
    return 0;
}

int text_vocab_parse(const unsigned char *buf, size_t len, text_vocab **out,
                     char *err, size_t errlen)
{
    const char **src = NULL;
    size_t *lens = NULL, p = VOCAB_HEADER;
    uint32_t version, count;
    int rc = -1;

    if (!out)
        return errmsg_set(err, errlen, "text_vocab_parse: out is NULL");
    *out = NULL;
    if (!buf && len)
        return errmsg_set(err, errlen, "text_vocab_parse: buf is NULL");
    if (len < VOCAB_HEADER)
        return errmsg_set(err, errlen,
                          "vocabulary: %zu bytes, too short for the %d-byte "
                          "header", len, VOCAB_HEADER);
    if (memcmp(buf, VOCAB_MAGIC, 4) != 0)
        return errmsg_set(err, errlen, "vocabulary: bad magic (expected \"%s\")",
                          VOCAB_MAGIC);
    version = le32_get(buf + 4);
    if (version != VOCAB_VERSION)
        return errmsg_set(err, errlen, "vocabulary: format version %lu, this "
                          "program reads version %u", (unsigned long)version,
                          VOCAB_VERSION);
    count = le32_get(buf + 8);
    /* Each entry takes at least 5 bytes (a length and one byte): a count the
     * buffer cannot hold is rejected before anything is allocated. */
    if (count < TEXT_NUM_SPECIALS || count > TEXT_VOCAB_MAX ||
        count > (len - VOCAB_HEADER) / 5)
        return errmsg_set(err, errlen,
                          "vocabulary: %lu tokens announced, which is outside "
                          "%d..%zu or more than its %zu bytes can hold",
                          (unsigned long)count, TEXT_NUM_SPECIALS,
                          TEXT_VOCAB_MAX, len);
    src = malloc(count * sizeof *src);
    lens = malloc(count * sizeof *lens);
    if (!src || !lens) {
        errmsg_set(err, errlen, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < count; i++) {
        size_t n;
        char why[160];
        if (len - p < 4) {
            errmsg_set(err, errlen, "vocabulary: truncated at token %lu of %lu",
                       (unsigned long)i, (unsigned long)count);
            goto done;
        }
        n = le32_get(buf + p);
        p += 4;
        if (n == 0 || n > len - p) {
            errmsg_set(err, errlen, "vocabulary: token %lu has length %zu, "
                       "outside 1..%zu (the bytes left)", (unsigned long)i,
                       n, len - p);
            goto done;
        }
        if (memchr(buf + p, '\0', n)) {
            errmsg_set(err, errlen, "vocabulary: token %lu holds a NUL byte",
                       (unsigned long)i);
            goto done;
        }
        if (text_utf8_check((const char *)buf + p, n, NULL, why, sizeof why) != 0) {
            errmsg_set(err, errlen, "vocabulary: token %lu: %s",
                       (unsigned long)i, why);
            goto done;
        }
        if (i < TEXT_NUM_SPECIALS &&
            (n != strlen(SPECIALS[i]) || memcmp(buf + p, SPECIALS[i], n) != 0)) {
            errmsg_set(err, errlen, "vocabulary: id %lu is '%.*s', expected %s",
                       (unsigned long)i, (int)(n < 40 ? n : 40),
                       (const char *)buf + p, SPECIALS[i]);
            goto done;
        }
        src[i] = (const char *)buf + p;
        lens[i] = n;
        p += n;
    }
    if (p != len) {
        errmsg_set(err, errlen, "vocabulary: %zu bytes after the last token",
                   len - p);
        goto done;
    }
    rc = vocab_assemble(src, lens, count, out, err, errlen);
done:
    free(src);
    free(lens);
    return rc;
}
