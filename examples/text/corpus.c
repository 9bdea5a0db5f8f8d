/* corpus.c - the three corpus loaders and the sentence list; the formats
 * and the split rule are described in corpus.h. */
#define _POSIX_C_SOURCE 200809L /* opendir, readdir */

#include "corpus.h"
#include "errmsg.h"
#include "files.h"
#include "vocab.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Sentence list ------------------------------------------------------- */

/* Token strings live in blocks that never move, so the tok pointers stay
 * valid while the list grows. */
struct text_block {
    struct text_block *next;
    size_t used;
    size_t cap;
    char data[];
};

#define BLOCK_BYTES ((size_t)1 << 16)

static char *arena_alloc(struct text_block **head, size_t n)
{
    struct text_block *b = *head;
    char *p;

    if (!b || b->cap - b->used < n) {
        size_t cap = n > BLOCK_BYTES ? n : BLOCK_BYTES;
        if (cap > SIZE_MAX - sizeof *b)
            return NULL;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = *head;
        b->used = 0;
        b->cap = cap;
        *head = b;
    }
    p = b->data + b->used;
    b->used += n;
    return p;
}

/* Returns p grown to hold at least `need` elements of `size` bytes (*cap
 * updated), or NULL with p untouched. */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap ? *cap : 256;
    void *q;

    if (need <= *cap)
        return p;
    while (n < need) {
        if (n > SIZE_MAX / 2 / size)
            return NULL;
        n *= 2;
    }
    q = realloc(p, n * size);
    if (q)
        *cap = n;
    return q;
}

int text_sentences_add(text_sentences *s, const char *text, size_t len,
                       char *err, size_t errlen)
{
    size_t pos = 0, a, b, n = 0;
    void *q;

    if (!s || (!text && len))
        return errmsg_set(err, errlen, "text_sentences_add: NULL argument");
    /* New tokens go after the last finished sentence; they only become part
     * of the list when the counts move at the end, so a failure leaves the
     * list as it was. */
    for (;;) {
        char *copy;
        int r = text_next_token(text, len, &pos, &a, &b, err, errlen);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        q = grow(s->tok, &s->tok_cap, s->ntokens + n + 1, sizeof *s->tok);
        if (!q)
            return errmsg_set(err, errlen, "out of memory");
        s->tok = q;
        copy = arena_alloc(&s->arena, b - a + 1);
        if (!copy)
            return errmsg_set(err, errlen, "out of memory");
        text_normalize_token(copy, text + a, b - a);
        copy[b - a] = '\0';
        s->tok[s->ntokens + n++] = copy;
    }
    if (n == 0)
        return 0;
    q = grow(s->start, &s->start_cap, s->count + 2, sizeof *s->start);
    if (!q)
        return errmsg_set(err, errlen, "out of memory");
    s->start = q;
    if (s->count == 0)
        s->start[0] = 0;
    s->ntokens += n;
    s->count++;
    s->start[s->count] = s->ntokens;
    return 0;
}

void text_sentences_free(text_sentences *s)
{
    struct text_block *b;

    if (!s)
        return;
    b = s->arena;
    while (b) {
        struct text_block *next = b->next;
        free(b);
        b = next;
    }
    free(s->start);
    free(s->tok);
    memset(s, 0, sizeof *s);
}

void text_corpus_free(text_corpus *c)
{
    if (!c)
        return;
    for (int i = 0; i < TEXT_NUM_SPLITS; i++) {
        text_sentences_free(&c->split[i]);
        free(c->genre[i]);
    }
    for (size_t g = 0; g < c->ngenres; g++)
        free(c->genre_names[g]);
    free(c->genre_names);
    memset(c, 0, sizeof *c);
}

/* ---- Routing sentences to splits ------------------------------------------ */

enum route {
    ROUTE_BY_INDEX, /* lines, brown, sotu: 90/5/5 by load index */
    ROUTE_ACL_TRAIN, /* aclImdb train/: train, every 20th to valid */
    ROUTE_ACL_TEST   /* aclImdb test/ */
};

static size_t total_sentences(const text_corpus *c)
{
    size_t n = 0;
    for (int i = 0; i < TEXT_NUM_SPLITS; i++)
        n += c->split[i].count;
    return n;
}

static text_sentences *next_split(text_corpus *c, enum route r)
{
    size_t i;

    switch (r) {
    case ROUTE_BY_INDEX:
        i = total_sentences(c) % 20;
        return &c->split[i == 19 ? TEXT_TEST : i == 18 ? TEXT_VALID : TEXT_TRAIN];
    case ROUTE_ACL_TRAIN:
        i = (c->split[TEXT_TRAIN].count + c->split[TEXT_VALID].count) % 20;
        return &c->split[i == 19 ? TEXT_VALID : TEXT_TRAIN];
    case ROUTE_ACL_TEST:
        break;
    }
    return &c->split[TEXT_TEST];
}

/* Adds one sentence of an already validated file; only running out of
 * memory can fail here. */
static int add_sentence(text_corpus *c, enum route r, const char *path,
                        const char *text, size_t len, char *err, size_t errlen)
{
    char why[256];
    if (text_sentences_add(next_split(c, r), text, len, why, sizeof why) != 0)
        return errmsg_set(err, errlen, "%s: %s", path, why);
    return 0;
}

/* ---- Files and directories --------------------------------------------------- */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/* Reads the file at path and adds its text as format f. */
static int load_file(text_corpus *c, enum text_format f, const char *path,
                     char *err, size_t errlen)
{
    char *buf = NULL; /* set by file_read_all; GCC cannot see that at -O2 */
    size_t len = 0;
    int rc;

    if (file_read_all(path, TEXT_FILE_MAX_BYTES, &buf, &len, err,
                      errlen) != 0)
        return -1;
    rc = text_corpus_add_text(c, f, path, buf, len, err, errlen);
    free(buf);
    return rc;
}

static char *path_join(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    int slash = dl > 0 && dir[dl - 1] != '/';
    char *p = malloc(dl + (size_t)slash + nl + 1);

    if (p) {
        memcpy(p, dir, dl);
        if (slash)
            p[dl] = '/';
        memcpy(p + dl + (size_t)slash, name, nl + 1);
    }
    return p;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The names in dir that `keep` accepts, sorted in byte order. */
static int list_dir(const char *dir, int (*keep)(const char *), char ***names,
                    size_t *count, char *err, size_t errlen)
{
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    DIR *d;

    *names = NULL;
    *count = 0;
    errno = 0;
    d = opendir(dir);
    if (!d)
        return errmsg_set(err, errlen, "%s: %s", dir,
                          errno ? strerror(errno) : "cannot open directory");
    for (;;) {
        size_t len;
        char *copy;
        errno = 0;
        e = readdir(d);
        if (!e)
            break;
        if (!keep(e->d_name))
            continue;
        len = strlen(e->d_name) + 1;
        copy = malloc(len);
        if (copy) {
            char **q = grow(v, &cap, n + 1, sizeof *v);
            if (q) {
                v = q;
                v[n++] = memcpy(copy, e->d_name, len);
                continue;
            }
            free(copy);
        }
        free_names(v, n);
        closedir(d);
        return errmsg_set(err, errlen, "%s: out of memory", dir);
    }
    if (errno) {
        int saved = errno;
        free_names(v, n);
        closedir(d);
        return errmsg_set(err, errlen, "%s: cannot list: %s", dir,
                          strerror(saved));
    }
    closedir(d);
    if (n > 1)
        qsort(v, n, sizeof *v, by_name);
    *names = v;
    *count = n;
    return 0;
}

/* ---- Plain lines --------------------------------------------------------------- */

static int add_lines(text_corpus *c, const char *name, const char *text,
                     size_t len, char *err, size_t errlen)
{
    size_t p = 0;

    while (p < len) {
        const char *nl = memchr(text + p, '\n', len - p);
        size_t e = nl ? (size_t)(nl - text) : len;
        if (add_sentence(c, ROUTE_BY_INDEX, name, text + p, e - p, err,
                         errlen) != 0)
            return -1;
        p = e + 1;
    }
    return 0;
}

int text_corpus_load_lines(const char *path, text_corpus *out, char *err,
                           size_t errlen)
{
    if (!out)
        return errmsg_set(err, errlen, "text_corpus_load_lines: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path)
        return errmsg_set(err, errlen, "text_corpus_load_lines: path is NULL");
    if (load_file(out, TEXT_FORMAT_LINES, path, err, errlen) != 0) {
        text_corpus_free(out);
        return -1;
    }
    return 0;
}

/* ---- Brown ------------------------------------------------------------------------ */

/* ca01 .. cr09: two lower-case letters, two digits. */
static int is_brown_name(const char *s)
{
    return s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z' &&
           s[2] >= '0' && s[2] <= '9' && s[3] >= '0' && s[3] <= '9' && !s[4];
}

/*
 * Rewrites one line of word/TAG tokens as the words alone, each followed by
 * a space, into words (which needs no more than len bytes: every token
 * loses at least its '/' and a tag byte). `` and '' become ".
 */
static int brown_words(const char *path, size_t lineno, const char *line,
                       size_t len, char *words, size_t *wlen, char *err,
                       size_t errlen)
{
    size_t i = 0, o = 0;

    while (i < len) {
        size_t b, e, slash;
        const char *problem = NULL;

        while (i < len && is_space(line[i]))
            i++;
        if (i == len)
            break;
        b = i;
        while (i < len && !is_space(line[i]))
            i++;
        e = i;
        slash = e;
        while (slash > b && line[slash - 1] != '/')
            slash--;
        /* Now line[slash - 1] is the last '/', if slash > b. */
        if (slash == b)
            problem = "has no /TAG";
        else if (slash - 1 == b)
            problem = "has an empty word before its /TAG";
        else if (slash == e)
            problem = "has an empty TAG";
        if (problem)
            return errmsg_set(err, errlen, "%s:%zu: token '%.*s' %s", path,
                              lineno, (int)(e - b < 60 ? e - b : 60), line + b,
                              problem);
        if (slash - 1 - b == 2 && (memcmp(line + b, "``", 2) == 0 ||
                                   memcmp(line + b, "''", 2) == 0)) {
            words[o++] = '"';
        } else {
            memcpy(words + o, line + b, slash - 1 - b);
            o += slash - 1 - b;
        }
        words[o++] = ' ';
    }
    *wlen = o;
    return 0;
}

static int add_brown(text_corpus *c, const char *name, const char *text,
                     size_t len, char *err, size_t errlen)
{
    size_t p = 0, lineno = 0;
    char *words = malloc(len ? len : 1);
    int rc = -1;

    if (!words)
        return errmsg_set(err, errlen, "%s: out of memory", name);
    while (p < len) {
        const char *nl = memchr(text + p, '\n', len - p);
        size_t e = nl ? (size_t)(nl - text) : len, wlen = 0;
        lineno++;
        if (brown_words(name, lineno, text + p, e - p, words, &wlen, err,
                        errlen) != 0 ||
            add_sentence(c, ROUTE_BY_INDEX, name, words, wlen, err, errlen) != 0)
            goto done;
        p = e + 1;
    }
    rc = 0;
done:
    free(words);
    return rc;
}

/* ---- Brown's genres (cats.txt) ------------------------------------------------ */

static int is_genre_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
}

/* The index of genre text[0..len) in c's names, added when new. */
static int genre_index(text_corpus *c, const char *text, size_t len,
                       const char *where, char *err, size_t errlen)
{
    char **names;

    for (size_t g = 0; g < c->ngenres; g++)
        if (strlen(c->genre_names[g]) == len &&
            memcmp(c->genre_names[g], text, len) == 0)
            return (int)g;
    if (c->ngenres == TEXT_MAX_GENRES)
        return errmsg_set(err, errlen, "%s: more than %d genres", where,
                          TEXT_MAX_GENRES);
    names = realloc(c->genre_names, (c->ngenres + 1) * sizeof *names);
    if (!names)
        return errmsg_set(err, errlen, "out of memory");
    c->genre_names = names;
    if (!(names[c->ngenres] = malloc(len + 1)))
        return errmsg_set(err, errlen, "out of memory");
    memcpy(names[c->ngenres], text, len);
    names[c->ngenres][len] = '\0';
    return (int)c->ngenres++;
}

/* The words of one line: up to max (start, length) pairs; returns their
 * count, max + 1 when there are more. */
static size_t line_fields(const char *line, size_t len, size_t max,
                          size_t *at, size_t *flen)
{
    size_t i = 0, n = 0;

    for (;;) {
        while (i < len && is_space(line[i]))
            i++;
        if (i == len || n > max)
            return n;
        if (n < max)
            at[n] = i;
        while (i < len && !is_space(line[i]))
            i++;
        if (n < max)
            flen[n] = i - at[n];
        n++;
    }
}

/* Reads path (cats.txt) into file_genre[i], the genre of names[i] (sorted),
 * and c's genre names. */
static int read_genres(text_corpus *c, const char *path, char **names,
                       size_t n, int32_t *file_genre, char *err,
                       size_t errlen)
{
    char *buf = NULL, why[512], where[600];
    size_t len = 0, p = 0, lineno = 0;
    int rc = -1;

    if (file_read_all(path, TEXT_FILE_MAX_BYTES, &buf, &len, why,
                      sizeof why) != 0)
        return errmsg_set(err, errlen, "%s (cats.txt gives each Brown file "
                          "its genre)", why);
    for (size_t i = 0; i < n; i++)
        file_genre[i] = -1;
    while (p < len) {
        const char *line = buf + p, *nl = memchr(line, '\n', len - p);
        size_t e = nl ? (size_t)(nl - buf) : len, at[2], fl[2], k;
        char file[5];
        char **hit;
        int g;

        lineno++;
        p = e + 1;
        snprintf(where, sizeof where, "%s:%zu", path, lineno);
        k = line_fields(line, (size_t)(buf + e - line), 2, at, fl);
        if (k == 0)
            continue;
        if (k != 2)
            goto bad_line;
        for (size_t j = 0; j < fl[1]; j++)
            if (!is_genre_char(line[at[1] + j]))
                goto bad_line;
        if (fl[1] > TEXT_GENRE_NAME_MAX) {
            errmsg_set(err, errlen, "%s: a genre name longer than %d bytes",
                       where, TEXT_GENRE_NAME_MAX);
            goto done;
        }
        if (fl[0] != 4)
            goto unknown_file;
        memcpy(file, line + at[0], 4);
        file[4] = '\0';
        {
            char *key = file;
            hit = n ? bsearch(&key, names, n, sizeof *names, by_name) : NULL;
        }
        if (!hit)
            goto unknown_file;
        if (file_genre[hit - names] >= 0) {
            errmsg_set(err, errlen, "%s: '%s' is given a genre twice", where,
                       file);
            goto done;
        }
        g = genre_index(c, line + at[1], fl[1], where, err, errlen);
        if (g < 0)
            goto done;
        file_genre[hit - names] = g;
        continue;
    unknown_file:
        errmsg_set(err, errlen, "%s: '%.*s' is not a Brown corpus file of "
                   "this directory", where, (int)(fl[0] < 60 ? fl[0] : 60),
                   line + at[0]);
        goto done;
    bad_line:
        errmsg_set(err, errlen, "%s: expected 'FILE GENRE' (a genre of "
                   "letters, digits, _ and -), got '%.*s'", where,
                   (int)(e - (size_t)(line - buf) < 60
                             ? e - (size_t)(line - buf) : 60), line);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if (file_genre[i] < 0) {
            errmsg_set(err, errlen, "%s: no genre for the corpus file '%s'",
                       path, names[i]);
            goto done;
        }
    rc = 0;
done:
    free(buf);
    return rc;
}

/* Gives genre g to the sentences of c added since before[] (counts per
 * split); caps[] are the genre arrays' capacities. */
static int tag_sentences(text_corpus *c, const size_t before[], size_t caps[],
                         int32_t g, char *err, size_t errlen)
{
    for (int s = 0; s < TEXT_NUM_SPLITS; s++) {
        int32_t *q = grow(c->genre[s], &caps[s],
                          c->split[s].count ? c->split[s].count : 1,
                          sizeof *q);
        if (!q)
            return errmsg_set(err, errlen, "out of memory");
        c->genre[s] = q;
        for (size_t i = before[s]; i < c->split[s].count; i++)
            q[i] = g;
    }
    return 0;
}

/* text_corpus_load_brown, with the genres when `genres` is set. */
static int load_brown(const char *dir, int genres, text_corpus *out,
                      char *err, size_t errlen)
{
    char **names;
    size_t n, caps[TEXT_NUM_SPLITS] = {0};
    int32_t *file_genre = NULL;
    int rc = 0;

    if (!out)
        return errmsg_set(err, errlen, "text_corpus_load_brown: out is NULL");
    memset(out, 0, sizeof *out);
    if (!dir)
        return errmsg_set(err, errlen, "text_corpus_load_brown: dir is NULL");
    if (list_dir(dir, is_brown_name, &names, &n, err, errlen) != 0)
        return -1;
    if (n == 0)
        rc = errmsg_set(err, errlen,
                        "%s: no Brown corpus files (named like ca01 .. cr09)",
                        dir);
    if (rc == 0 && genres) {
        char *cats = path_join(dir, "cats.txt");
        file_genre = malloc(n * sizeof *file_genre);
        rc = cats && file_genre
                 ? read_genres(out, cats, names, n, file_genre, err, errlen)
                 : errmsg_set(err, errlen, "%s: out of memory", dir);
        free(cats);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *path = path_join(dir, names[i]);
        size_t before[TEXT_NUM_SPLITS];
        for (int s = 0; s < TEXT_NUM_SPLITS; s++)
            before[s] = out->split[s].count;
        rc = path ? load_file(out, TEXT_FORMAT_BROWN, path, err, errlen)
                  : errmsg_set(err, errlen, "%s: out of memory", dir);
        if (rc == 0 && genres)
            rc = tag_sentences(out, before, caps, file_genre[i], err, errlen);
        free(path);
    }
    free(file_genre);
    free_names(names, n);
    if (rc != 0)
        text_corpus_free(out);
    return rc;
}

int text_corpus_load_brown(const char *dir, text_corpus *out, char *err,
                           size_t errlen)
{
    return load_brown(dir, 0, out, err, errlen);
}

int text_corpus_load_brown_genres(const char *dir, text_corpus *out,
                                  char *err, size_t errlen)
{
    return load_brown(dir, 1, out, err, errlen);
}

/* ---- aclImdb -------------------------------------------------------------------- */

/* NAME.txt, not hidden (archives made on macOS carry ._NAME.txt resource
 * files that are not text). */
static int is_review_name(const char *s)
{
    size_t n = strlen(s);
    return s[0] != '.' && n > 4 && strcmp(s + n - 4, ".txt") == 0;
}

static int is_terminator(char c)
{
    return c == '.' || c == '!' || c == '?';
}

static int is_closer(char c)
{
    return c == '"' || c == '\'' || c == ')' || c == ']' || c == '}';
}

/* Length of an HTML line break (<br />, <br/>, <br>, any case) at s, or 0. */
static size_t br_tag_len(const char *s, size_t n)
{
    size_t i = 3;

    if (n < 4 || s[0] != '<' || (s[1] != 'b' && s[1] != 'B') ||
        (s[2] != 'r' && s[2] != 'R'))
        return 0;
    while (i < n && s[i] == ' ')
        i++;
    if (i < n && s[i] == '/')
        i++;
    return i < n && s[i] == '>' ? i + 1 : 0;
}

/* Splits a review into sentences (the rule is in corpus.h). */
static int add_review(text_corpus *c, enum route r, const char *path,
                      const char *t, size_t n, char *err, size_t errlen)
{
    size_t seg = 0, i = 0;

    while (i < n) {
        size_t brk = t[i] == '\n' ? 1 : t[i] == '<' ? br_tag_len(t + i, n - i) : 0;
        if (brk) {
            if (add_sentence(c, r, path, t + seg, i - seg, err, errlen) != 0)
                return -1;
            i += brk;
            seg = i;
        } else if (is_terminator(t[i])) {
            size_t j = i + 1;
            while (j < n && is_terminator(t[j]))
                j++;
            while (j < n && is_closer(t[j]))
                j++;
            if (j == n || is_space(t[j]) || br_tag_len(t + j, n - j)) {
                if (add_sentence(c, r, path, t + seg, j - seg, err, errlen) != 0)
                    return -1;
                seg = j;
            }
            i = j;
        } else {
            i++;
        }
    }
    return add_sentence(c, r, path, t + seg, n - seg, err, errlen);
}

/* Every NAME.txt of dir, as format f; `what` names them in the error of
 * a directory without any ("review", "speech"). */
static int load_txt_dir(text_corpus *c, enum text_format f, const char *dir,
                        const char *what, char *err, size_t errlen)
{
    char **names;
    size_t n;
    int rc = 0;

    if (list_dir(dir, is_review_name, &names, &n, err, errlen) != 0)
        return -1;
    if (n == 0)
        rc = errmsg_set(err, errlen, "%s: no .txt %s files", dir, what);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *path = path_join(dir, names[i]);
        rc = path ? load_file(c, f, path, err, errlen)
                  : errmsg_set(err, errlen, "%s: out of memory", dir);
        free(path);
    }
    free_names(names, n);
    return rc;
}

int text_corpus_load_aclimdb(const char *dir, text_corpus *out, char *err,
                             size_t errlen)
{
    static const char *const subdirs[] = {"train/neg", "train/pos",
                                          "test/neg", "test/pos"};
    int rc = 0;

    if (!out)
        return errmsg_set(err, errlen, "text_corpus_load_aclimdb: out is NULL");
    memset(out, 0, sizeof *out);
    if (!dir)
        return errmsg_set(err, errlen, "text_corpus_load_aclimdb: dir is NULL");
    for (int k = 0; k < 4 && rc == 0; k++) {
        char *sub = path_join(dir, subdirs[k]);
        rc = sub ? load_txt_dir(out, k < 2 ? TEXT_FORMAT_REVIEW_TRAIN
                                           : TEXT_FORMAT_REVIEW_TEST,
                                sub, "review", err, errlen)
                 : errmsg_set(err, errlen, "%s: out of memory", dir);
        free(sub);
    }
    if (rc != 0)
        text_corpus_free(out);
    return rc;
}

/* ---- State of the Union -------------------------------------------------------- */

int text_corpus_load_sotu(const char *dir, text_corpus *out, char *err,
                          size_t errlen)
{
    char *data;
    int rc;

    if (!out)
        return errmsg_set(err, errlen, "text_corpus_load_sotu: out is NULL");
    memset(out, 0, sizeof *out);
    if (!dir)
        return errmsg_set(err, errlen, "text_corpus_load_sotu: dir is NULL");
    data = path_join(dir, "data");
    rc = data ? load_txt_dir(out, TEXT_FORMAT_SPEECH, data, "speech", err,
                             errlen)
              : errmsg_set(err, errlen, "%s: out of memory", dir);
    free(data);
    if (rc != 0)
        text_corpus_free(out);
    return rc;
}

/* ---- Text in memory: what every loader does with a file's bytes ------------ */

int text_corpus_add_text(text_corpus *c, enum text_format f, const char *name,
                         const char *text, size_t len, char *err,
                         size_t errlen)
{
    char why[256];
    size_t before;
    int rc;

    if (!c || !name || (!text && len))
        return errmsg_set(err, errlen, "text_corpus_add_text: NULL argument");
    if (len == 0)
        return errmsg_set(err, errlen, "%s: empty file", name);
    if (text_utf8_check(text, len, NULL, why, sizeof why) != 0)
        return errmsg_set(err, errlen, "%s: %s", name, why);
    /* Dropped after the check, so error offsets are file offsets. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    before = total_sentences(c);
    switch (f) {
    case TEXT_FORMAT_LINES:
        rc = add_lines(c, name, text, len, err, errlen);
        break;
    case TEXT_FORMAT_BROWN:
        rc = add_brown(c, name, text, len, err, errlen);
        break;
    case TEXT_FORMAT_REVIEW_TRAIN:
    case TEXT_FORMAT_REVIEW_TEST:
        rc = add_review(c, f == TEXT_FORMAT_REVIEW_TRAIN ? ROUTE_ACL_TRAIN
                                                         : ROUTE_ACL_TEST,
                        name, text, len, err, errlen);
        break;
    case TEXT_FORMAT_SPEECH:
        rc = add_review(c, ROUTE_BY_INDEX, name, text, len, err, errlen);
        break;
    default:
        return errmsg_set(err, errlen, "%s: unknown text format %d", name,
                          (int)f);
    }
    if (rc == 0 && total_sentences(c) == before)
        rc = errmsg_set(err, errlen, "%s: no sentences%s", name,
                        f == TEXT_FORMAT_LINES ? " (only blank lines)" : "");
    return rc;
}

int text_corpus_load(const char *kind, const char *path, text_corpus *out,
                     char *err, size_t errlen)
{
    if (kind && strcmp(kind, "lines") == 0)
        return text_corpus_load_lines(path, out, err, errlen);
    if (kind && strcmp(kind, "brown") == 0)
        return text_corpus_load_brown(path, out, err, errlen);
    if (kind && strcmp(kind, "aclimdb") == 0)
        return text_corpus_load_aclimdb(path, out, err, errlen);
    if (kind && strcmp(kind, "sotu") == 0)
        return text_corpus_load_sotu(path, out, err, errlen);
    if (out)
        memset(out, 0, sizeof *out);
    return errmsg_set(err, errlen,
                      "unknown corpus '%s' (expected lines, brown, sotu or "
                      "aclimdb)",
                      kind ? kind : "(null)");
}
