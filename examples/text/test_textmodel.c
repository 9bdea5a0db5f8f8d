/* test_textmodel.c - vae-text's tokenizers (tokenizer.h: the SentencePiece
 * subword model and the word vocabulary) and its model files (textmodel.h):
 * round trips, byte fallback, determinism, the tokenizer inside the model
 * file in both metadata versions, and metadata that must be refused.
 *
 *   test_textmodel                   the cmocka tests
 *   test_textmodel --bad-models DIR  writes DIR/bad-*.vae, libvae models
 *                                    whose vae-text metadata is wrong in
 *                                    one way each, for test_cli.sh to
 *                                    check vae-text's one-line errors
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vae.h>

#include "corpus.h"
#include "spm.h"
#include "test_dir.h"
#include "textmodel.h"
#include "tokenizer.h"
#include "vocab.h"

/* 200 sentences from a fixed generator: subject verb object [adverb] . */
static void corpus(text_sentences *s)
{
    static const char *const subj[] = {"the cat", "a dog", "my friend",
                                        "the old man", "she", "he"};
    static const char *const verb[] = {"sees", "likes", "eats", "finds",
                                        "wants", "reads"};
    static const char *const obj[] = {"the ball", "a book", "an apple",
                                       "the house", "a letter", "music"};
    static const char *const adv[] = {"today", "slowly", "again",
                                       "at night", "in the park"};
    uint32_t r = 7;

    memset(s, 0, sizeof *s);
    for (int i = 0; i < 200; i++) {
        char line[128];
        r = r * 1103515245u + 12345u;
        unsigned x = r >> 16;
        snprintf(line, sizeof line, "%s %s %s%s%s .", subj[x % 6],
                 verb[x / 6 % 6], obj[x / 36 % 6], x % 3 ? " " : "",
                 x % 3 ? adv[x / 216 % 5] : "");
        assert_int_equal(text_sentences_add(s, line, strlen(line), NULL, 0),
                         0);
    }
}

static text_tokenizer *build(int kind, const text_sentences *s)
{
    text_tokenizer *t = NULL;
    char err[512] = "";

    if (text_tokenizer_build(kind, s, kind == TEXT_TOK_WORDS ? 100 : 300, &t,
                             err, sizeof err))
        fail_msg("build: %s", err);
    return t;
}

/* The text a sentence comes back as: encoded with maxlen ids, decoded. */
static char *round_trip(const text_tokenizer *t, const char *sentence,
                        size_t maxlen, int32_t *ids)
{
    text_sentences s = {0};
    char *out = NULL, err[512] = "";

    assert_int_equal(text_sentences_add(&s, sentence, strlen(sentence), NULL,
                                        0),
                     0);
    assert_int_equal(s.count, 1);
    if (text_tokenizer_encode(t, &s, maxlen, ids, err, sizeof err) ||
        text_tokenizer_decode(t, ids, maxlen, &out, err, sizeof err))
        fail_msg("round trip: %s", err);
    text_sentences_free(&s);
    return out;
}

static int count_id(const int32_t *ids, size_t n, int32_t id)
{
    int k = 0;
    for (size_t i = 0; i < n; i++)
        k += ids[i] == id;
    return k;
}

/* Subword pieces give back the text as the word vocabulary would write it,
 * with one <eos> and padding after it. */
static void test_subword_round_trip(void **state)
{
    text_sentences s;
    text_tokenizer *t;
    int32_t ids[64];
    char *out;
    (void)state;

    corpus(&s);
    t = build(TEXT_TOK_SENTENCEPIECE, &s);
    assert_int_equal(text_tokenizer_kind(t), TEXT_TOK_SENTENCEPIECE);
    assert_true(text_tokenizer_size(t) > 260 && text_tokenizer_size(t) <= 300);
    out = round_trip(t, "The old man READS a book (slowly), again!", 64, ids);
    assert_string_equal(out, "the old man reads a book (slowly), again!");
    assert_int_equal(count_id(ids, 64, TEXT_EOS), 1);
    assert_int_equal(count_id(ids, 64, TEXT_UNK), 0);
    assert_int_equal(ids[63], TEXT_PAD);
    free(out);
    /* Truncated at maxlen - 1 pieces, <eos> last. */
    out = round_trip(t, "the cat sees the ball today .", 4, ids);
    assert_int_equal(ids[3], TEXT_EOS);
    assert_true(strlen(out) > 0 && strlen(out) < strlen("the cat sees"));
    free(out);
    text_tokenizer_free(t);
    text_sentences_free(&s);
}

/* Characters the training text never had become byte pieces, never <unk>,
 * and come back whole; the word vocabulary writes <unk> for them. */
static void test_byte_fallback(void **state)
{
    static const char sentence[] = "Zebras saw \xe6\x97\xa5\xe6\x9c\xac "
                                   "caf\xc3\xa9 & 42 quokkas.";
    text_sentences s;
    text_tokenizer *t;
    int32_t ids[64];
    char *out;
    size_t unknown = 0, total = 0;
    (void)state;

    corpus(&s);
    t = build(TEXT_TOK_SENTENCEPIECE, &s);
    out = round_trip(t, sentence, 64, ids);
    assert_int_equal(count_id(ids, 64, TEXT_UNK), 0);
    assert_string_equal(out, "zebras saw \xe6\x97\xa5\xe6\x9c\xac "
                             "caf\xc3\xa9 & 42 quokkas.");
    free(out);
    assert_int_equal(text_tokenizer_count_unknown(t, &s, &unknown, &total,
                                                  NULL, 0),
                     0);
    assert_int_equal(unknown, 0);
    assert_true(total >= s.ntokens / 2);
    text_tokenizer_free(t);

    t = build(TEXT_TOK_WORDS, &s);
    out = round_trip(t, sentence, 64, ids);
    assert_true(count_id(ids, 64, TEXT_UNK) > 0);
    assert_non_null(strstr(out, "<unk>"));
    free(out);
    text_tokenizer_free(t);
    text_sentences_free(&s);
}

/* The same sentences give the same pieces; the serialised form reads back
 * into a tokenizer that encodes alike; an id out of range is an error. */
static void test_serialize_and_determinism(void **state)
{
    text_sentences s;
    (void)state;

    corpus(&s);
    for (int kind = 0; kind < TEXT_TOK_COUNT; kind++) {
        text_tokenizer *a = build(kind, &s), *b = build(kind, &s), *c = NULL;
        unsigned char *ba = NULL, *bb = NULL;
        size_t la = 0, lb = 0;
        int32_t ia[16], ic[16], bad[2] = {5, 1 << 20};
        char *out, *oc, *none = NULL, err[256] = "";

        assert_int_equal(text_tokenizer_serialize(a, &ba, &la, NULL, 0), 0);
        assert_int_equal(text_tokenizer_serialize(b, &bb, &lb, NULL, 0), 0);
        assert_int_equal(la, lb);
        assert_memory_equal(ba, bb, la);
        assert_memory_equal(ba, kind == TEXT_TOK_WORDS ? "VTXV" : "VTXS", 4);
        assert_int_equal(text_tokenizer_parse(ba, la, &c, NULL, 0), 0);
        assert_int_equal(text_tokenizer_kind(c), kind);
        assert_int_equal(text_tokenizer_size(c), text_tokenizer_size(a));
        out = round_trip(a, "she finds a letter in the park .", 16, ia);
        oc = round_trip(c, "she finds a letter in the park .", 16, ic);
        assert_memory_equal(ia, ic, sizeof ia);
        assert_string_equal(out, oc);
        assert_int_equal(text_tokenizer_decode(a, bad, 2, &none, err,
                                               sizeof err),
                         -1);
        assert_non_null(strstr(err, "outside the vocabulary"));
        assert_null(none);
        free(out);
        free(oc);
        free(ba);
        free(bb);
        text_tokenizer_free(a);
        text_tokenizer_free(b);
        text_tokenizer_free(c);
    }
    text_sentences_free(&s);
}

/* Bytes that are no tokenizer are refused with a reason. */
static void test_parse_rejects(void **state)
{
    static const unsigned char junk[] = "VTXS\x01\x00\x00\x00not a model";
    static const unsigned char v2[] = "VTXS\x02\x00\x00\x00";
    static const unsigned char other[] = "ABCDEFGH";
    text_tokenizer *t = NULL;
    char err[256];
    (void)state;

    assert_int_equal(text_tokenizer_parse(junk, sizeof junk - 1, &t, err,
                                          sizeof err),
                     -1);
    assert_non_null(strstr(err, "not a SentencePiece model"));
    assert_int_equal(text_tokenizer_parse(v2, sizeof v2 - 1, &t, err,
                                          sizeof err),
                     -1);
    assert_non_null(strstr(err, "format version 2"));
    assert_int_equal(text_tokenizer_parse(other, 8, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "neither a word vocabulary"));
    assert_int_equal(text_tokenizer_parse(other, 2, &t, err, sizeof err), -1);
    assert_null(t);
}

/* ---- Model files ----------------------------------------------------------- */

#define LATENT 3

static vae_model *make_model(const struct text_arch *t)
{
    vae_model *m = NULL;
    assert_int_equal(text_make_model(t, 3, &m), 0);
    return m;
}

static void save(vae_model *m, const char *dir, const char *name, char *path,
                 size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    assert_int_equal(vae_model_save(m, NULL, path), VAE_OK);
}

/* A model keeps its tokenizer: loaded alone, it encodes as the tokenizer
 * it was made with. Word models without BN-VAE or bag of words stay
 * VTX1, which vae-text before subwords reads; the others are VTX2. */
static void test_model_carries_tokenizer(void **state)
{
    struct {
        int kind;
        double bn, bow;
        const char *magic;
    } cases[] = {
        {TEXT_TOK_WORDS, 0.0, 0.0, "VTX1"},
        {TEXT_TOK_WORDS, 0.5, 0.0, "VTX2"},
        {TEXT_TOK_SENTENCEPIECE, 0.0, 0.0, "VTX2"},
        {TEXT_TOK_SENTENCEPIECE, 0.7, 2.0, "VTX2"},
    };
    text_sentences s;
    char dir[512], path[600];
    (void)state;

    corpus(&s);
    assert_int_equal(test_dir_make(dir, sizeof dir, "textmodel"), 0);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        text_tokenizer *tok = build(cases[i].kind, &s);
        struct text_arch t = {.arch = ARCH_BOWMAN, .maxlen = 12, .embed = 4,
                              .hidden = 4, .latent = LATENT,
                              .bn_gamma = cases[i].bn,
                              .bow_weight = cases[i].bow};
        struct text_model tm;
        vae_model *m;
        const unsigned char *meta;
        size_t len = 0;
        int32_t a[12], b[12];
        char *x, *y;

        t.vocab = (int64_t)text_tokenizer_size(tok);
        m = make_model(&t);
        assert_int_equal(text_attach_metadata(m, &t, tok, NULL), 0);
        meta = vae_model_metadata(m, &len);
        assert_memory_equal(meta, cases[i].magic, 4);
        save(m, dir, "m.vae", path, sizeof path);
        vae_model_free(m);
        assert_int_equal(load_text_model(path, &tm), 0);
        assert_int_equal(text_tokenizer_kind(tm.tok), cases[i].kind);
        assert_int_equal(tm.arch.vocab, t.vocab);
        assert_true((tm.arch.bn_gamma > 0) == (cases[i].bn > 0));
        assert_true((tm.arch.bow_weight > 0) == (cases[i].bow > 0));
        x = round_trip(tok, "a dog eats the house again .", 12, a);
        y = round_trip(tm.tok, "a dog eats the house again .", 12, b);
        assert_memory_equal(a, b, sizeof a);
        assert_string_equal(x, y);
        free(x);
        free(y);
        text_model_free(&tm);
        text_tokenizer_free(tok);
    }
    test_dir_remove(dir);
    text_sentences_free(&s);
}

/* log p(x | z) of one sentence x given genre g of a conditional model,
 * and its posterior mean's first element: what the decoder and the
 * encoder make of the genre. */
static void genre_effect(vae_model *m, const float *x, int g, double *logp,
                         float *mu0)
{
    float z[LATENT] = {0.5f, -0.25f, 1.0f}, mu[LATENT], row[8] = {0};

    row[g] = 1.0f;
    assert_int_equal(vae_model_set_condition(m, row, 1), VAE_OK);
    assert_int_equal(vae_model_log_likelihood(m, z, x, 1, logp), VAE_OK);
    assert_int_equal(vae_model_set_condition(m, row, 1), VAE_OK);
    assert_int_equal(vae_model_encode(m, x, 1, mu, NULL), VAE_OK);
    *mu0 = mu[0];
}

/* A conditional model, bowman and seed: its condition is a one-hot genre
 * that both encoder and decoder read, and its file keeps the genres'
 * names, which --genre is checked against. */
static void test_conditional_model(void **state)
{
    static const char *const genres[] = {"news", "religion", "fiction"};
    static const int archs[] = {ARCH_BOWMAN, ARCH_SEED};
    text_sentences s;
    text_tokenizer *tok;
    char dir[512], path[600];
    (void)state;

    corpus(&s);
    tok = build(TEXT_TOK_WORDS, &s);
    assert_int_equal(test_dir_make(dir, sizeof dir, "textmodel"), 0);
    for (int k = 0; k < 2; k++) {
        struct text_arch t = {.arch = archs[k], .maxlen = 12, .embed = 4,
                              .hidden = 4, .latent = LATENT, .ngenres = 3};
        struct text_model tm;
        vae_model *m, *plain;
        int32_t ids[12];
        float x[12], mu_a, mu_b;
        double lp_a, lp_b;
        int g = -5;
        char *shown = round_trip(tok, "the cat sees a book today .", 12, ids);

        free(shown);
        for (int i = 0; i < 12; i++)
            x[i] = (float)ids[i];
        t.vocab = (int64_t)text_tokenizer_size(tok);
        m = make_model(&t);
        assert_int_equal(vae_model_condition_size(m), 3);
        genre_effect(m, x, 0, &lp_a, &mu_a);
        genre_effect(m, x, 2, &lp_b, &mu_b);
        assert_true(lp_a != lp_b);
        assert_true(mu_a != mu_b);

        assert_int_equal(text_attach_metadata(m, &t, tok, genres), 0);
        save(m, dir, "c.vae", path, sizeof path);
        vae_model_free(m);
        assert_int_equal(load_text_model(path, &tm), 0);
        assert_int_equal(tm.arch.arch, archs[k]);
        assert_int_equal(tm.arch.ngenres, 3);
        for (int i = 0; i < 3; i++)
            assert_string_equal(tm.genres[i], genres[i]);
        assert_int_equal(vae_model_condition_size(tm.m), 3);
        /* The loaded model computes what the saved one did. */
        {
            double lp;
            float mu;
            genre_effect(tm.m, x, 2, &lp, &mu);
            assert_true(lp == lp_b);
            assert_true(mu == mu_b);
        }
        assert_int_equal(text_model_genre(&tm, path, "fiction", &g), 0);
        assert_int_equal(g, 2);
        assert_int_equal(text_model_genre(&tm, path, "humor", &g), -1);
        assert_int_equal(text_model_genre(&tm, path, NULL, &g), -1);
        text_model_free(&tm);

        /* Genres in the metadata of a model without a condition. */
        t.ngenres = 0;
        plain = make_model(&t);
        t.ngenres = 3;
        assert_int_equal(text_attach_metadata(plain, &t, tok, genres), 0);
        save(plain, dir, "plain.vae", path, sizeof path);
        vae_model_free(plain);
        assert_int_equal(load_text_model(path, &tm), -1);
        text_model_free(&tm);
    }
    /* An unconditional model takes no --genre, and needs none. */
    {
        struct text_arch t = {.arch = ARCH_BOWMAN, .maxlen = 12, .embed = 4,
                              .hidden = 4, .latent = LATENT};
        struct text_model tm;
        vae_model *m;
        int g = 7;

        t.vocab = (int64_t)text_tokenizer_size(tok);
        m = make_model(&t);
        assert_int_equal(vae_model_condition_size(m), 0);
        assert_int_equal(text_attach_metadata(m, &t, tok, NULL), 0);
        save(m, dir, "u.vae", path, sizeof path);
        vae_model_free(m);
        assert_int_equal(load_text_model(path, &tm), 0);
        assert_int_equal(tm.arch.ngenres, 0);
        assert_null(tm.genres);
        assert_int_equal(text_model_genre(&tm, path, NULL, &g), 0);
        assert_int_equal(g, -1);
        assert_int_equal(text_model_genre(&tm, path, "news", &g), -1);
        text_model_free(&tm);
    }
    test_dir_remove(dir);
    text_tokenizer_free(tok);
    text_sentences_free(&s);
}

/* One-hot rows: one genre for all, or each its own. */
static void test_genre_rows(void **state)
{
    static const int32_t genre[] = {2, 0, 1};
    float *rows = NULL;
    (void)state;

    assert_int_equal(text_genre_rows(0, NULL, 0, 3, &rows), 0);
    assert_null(rows);
    assert_int_equal(text_genre_rows(3, genre, 0, 3, &rows), 0);
    {
        const float want[] = {0, 0, 1, 1, 0, 0, 0, 1, 0};
        assert_memory_equal(rows, want, sizeof want);
    }
    free(rows);
    assert_int_equal(text_genre_rows(3, NULL, 1, 2, &rows), 0);
    {
        const float want[] = {0, 1, 0, 0, 1, 0};
        assert_memory_equal(rows, want, sizeof want);
    }
    free(rows);
}

/* Metadata that is wrong in one way each, with what vae-text must say. */
struct bad_meta {
    const char *name, *message;
    unsigned char bytes[64];
    size_t len;
};

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* The header of a bowman model of maxlen 12, embed and hidden 4, with
 * `magic` and `flags`, then `rest` (n bytes). */
static struct bad_meta header(const char *name, const char *message,
                              const char *magic, uint32_t flags,
                              const char *arch, const void *rest, size_t n)
{
    struct bad_meta b = {name, message, {0}, 0};
    size_t al = strlen(arch);

    memcpy(b.bytes, magic, 4);
    put32(b.bytes + 4, flags);
    put32(b.bytes + 8, 12);
    put32(b.bytes + 12, 4);
    put32(b.bytes + 16, 4);
    put32(b.bytes + 20, (uint32_t)al);
    memcpy(b.bytes + 24, arch, al);
    memcpy(b.bytes + 24 + al, rest, n);
    b.len = 24 + al + n;
    return b;
}

static int bad_metas(struct bad_meta *out)
{
    static const char junk_spm[] = "VTXS\x01\x00\x00\x00junk";
    static const char spm_v9[] = "VTXS\x09\x00\x00\x00";
    int n = 0;

    out[n++] = header("bad-spm.vae", "not a SentencePiece model", "VTX2", 0,
                      "bowman", junk_spm, sizeof junk_spm - 1);
    out[n++] = header("bad-spm-version.vae", "format version 9", "VTX2", 0,
                      "bowman", spm_v9, sizeof spm_v9 - 1);
    out[n++] = header("bad-v1-subwords.vae", "vocabulary", "VTX1", 0,
                      "bowman", junk_spm, sizeof junk_spm - 1);
    out[n++] = header("bad-flags.vae", "unknown flags 0x10", "VTX2", 16,
                      "bowman", junk_spm, sizeof junk_spm - 1);
    out[n++] = header("bad-v1-flags.vae", "unknown flags 0x2", "VTX1", 2,
                      "bowman", junk_spm, sizeof junk_spm - 1);
    out[n++] = header("bad-bow-seed.vae", "flags 0x4 it cannot have", "VTX2",
                      4, "seed", junk_spm, sizeof junk_spm - 1);
    out[n++] = header("bad-version.vae", "'VTX9' is not VTX1 or VTX2", "VTX9",
                      0, "bowman", junk_spm, sizeof junk_spm - 1);
    out[n++] = header("bad-empty-tokenizer.vae", "neither a word vocabulary",
                      "VTX2", 0, "bowman", "", 0);
    out[n++] = header("bad-genre-count.vae", "bad genre count", "VTX2", 8,
                      "bowman", "\0\0\0\0", 4);
    out[n++] = header("bad-genre-length.vae", "genre 2: bad name length",
                      "VTX2", 8, "seed", "\2\0\0\0\4\0\0\0news\x40\0\0\0",
                      16);
    out[n++] = header("bad-genre-name.vae", "genre 1: a name of other bytes",
                      "VTX2", 8, "bowman", "\1\0\0\0\4\0\0\0ne s", 12);
    out[n++] = header("bad-genre-lm.vae", "flags 0x9 it cannot have", "VTX2",
                      9, "lm", "\1\0\0\0\4\0\0\0news", 12);
    out[n++] = header("bad-genre-v1.vae", "unknown flags 0x8", "VTX1", 8,
                      "bowman", "\1\0\0\0\4\0\0\0news", 12);
    return n;
}

/* Writes each bad_metas model into dir, and its expected message into
 * dir/NAME.msg. */
static int write_bad_models(const char *dir)
{
    struct bad_meta b[16];
    int n = bad_metas(b);
    struct text_arch t = {.arch = ARCH_BOWMAN, .vocab = 300, .maxlen = 12,
                          .embed = 4, .hidden = 4, .latent = LATENT};
    vae_model *m = NULL;
    int rc = 0;

    if (text_make_model(&t, 3, &m))
        return 1;
    for (int i = 0; i < n && !rc; i++) {
        char path[600];
        FILE *f;
        snprintf(path, sizeof path, "%s/%s", dir, b[i].name);
        rc = vae_model_set_metadata(m, b[i].bytes, b[i].len) != VAE_OK ||
             vae_model_save(m, NULL, path) != VAE_OK;
        snprintf(path, sizeof path, "%s/%s.msg", dir, b[i].name);
        if (!rc && (f = fopen(path, "w")) != NULL) {
            fprintf(f, "%s\n", b[i].message);
            rc = fclose(f) != 0;
        } else {
            rc = 1;
        }
    }
    vae_model_free(m);
    return rc;
}

/* Every bad metadata is refused, leaving nothing to free. */
static void test_bad_metadata(void **state)
{
    char dir[512];
    struct bad_meta b[16];
    int n = bad_metas(b);
    (void)state;

    assert_int_equal(test_dir_make(dir, sizeof dir, "textmodel"), 0);
    assert_int_equal(write_bad_models(dir), 0);
    for (int i = 0; i < n; i++) {
        struct text_model tm;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, b[i].name);
        if (load_text_model(path, &tm) != -1)
            fail_msg("%s was accepted", b[i].name);
        text_model_free(&tm);
        assert_null(tm.tok);
    }
    test_dir_remove(dir);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subword_round_trip),
        cmocka_unit_test(test_byte_fallback),
        cmocka_unit_test(test_serialize_and_determinism),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_model_carries_tokenizer),
        cmocka_unit_test(test_bad_metadata),
        cmocka_unit_test(test_conditional_model),
        cmocka_unit_test(test_genre_rows),
    };

    if (argc == 3 && strcmp(argv[1], "--bad-models") == 0)
        return write_bad_models(argv[2]);
    return cmocka_run_group_tests_name("textmodel", tests, NULL, NULL);
}
