/* textmodel.c - see textmodel.h. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "models.h"
#include "le32.h"
#include "textmodel.h"

/* ---- Architectures ------------------------------------------------------ */

const char *const text_arch_names[ARCH_COUNT] = {
    [ARCH_BOWMAN] = "bowman", [ARCH_SEED] = "seed", [ARCH_LM] = "lm"};

/* The write-up's encoder LSTM width, kept for --arch seed. */
#define SEED_ENCODER_HIDDEN 32

/* A conditional model's genre joins the vector v: [v | one-hot genre]
 * (Sohn et al. 2015). The encoder reads it beside the sentence's last
 * state, the decoder beside z, so it reaches every place z does. v as it
 * is for an unconditional model. */
static int32_t with_genre(vae_graph *g, const struct text_arch *t, int32_t v)
{
    if (t->ngenres == 0)
        return v;
    return vae_graph_concat(g, v, vae_graph_condition(g, t->ngenres));
}

/* Encoder shared by bowman and seed (x: T token ids as floats, padded with
 * 0, as libvae carries them): embedding -> LSTM over the unpadded
 * steps -> its last state, to which libvae appends the Gaussian head.
 * BN-VAE gives q(z|x) itself instead: the head's two dense layers, the
 * mean's batch-normalised with a fixed scale, so that every dimension's
 * mean varies over a batch with variance gamma^2 and the expected KL
 * cannot fall below about latent * gamma^2 / 2 (Zhu et al. 2020). */
static void build_lstm_encoder(vae_graph *enc, const struct text_arch *t,
                               int64_t hidden)
{
    int32_t x = vae_graph_input(enc, &t->maxlen, 1);
    int32_t e = vae_graph_embedding(enc, x, t->vocab, t->embed);
    int32_t h = vae_graph_lstm(enc, e, hidden, VAE_NO_NODE, x,
                               VAE_LSTM_LAST_STATE);

    h = with_genre(enc, t, h);

    if (t->bn_gamma > 0.0) {
        int32_t mu = vae_graph_batch_norm(
            enc, vae_graph_dense(enc, h, t->latent), (float)t->bn_gamma);
        h = vae_graph_gaussian(enc, mu, vae_graph_dense(enc, h, t->latent));
    }
    vae_graph_set_output(enc, h);
}

/* The decoder's view of the sentence for teacher forcing: the tokens
 * (some dropped to <unk> while training), one step late after <bos>. */
static int32_t teacher_input(vae_graph *dec, const struct text_arch *t,
                             int32_t *data)
{
    int32_t d = vae_graph_data(dec, &t->maxlen, 1);
    int32_t in = d;

    if (t->word_dropout > 0.0)
        in = vae_graph_token_dropout(dec, in, (float)t->word_dropout,
                                     (float)TEXT_UNK);
    *data = d;
    return vae_graph_shift_right(dec, in, (float)TEXT_BOS);
}

/* Bowman et al. (2016): z starts the decoder LSTM (h0, c0 = dense(z)) and
 * joins the word vector at every step (a conditional model's genre with
 * it); the embedding is the encoder's.
 * The bag-of-words loss asks z alone to predict the sentence's ids, in no
 * order, which the LSTM cannot do for it (Zhao et al. 2017). */
static void build_bowman(vae_graph *enc, vae_graph *dec,
                         const struct text_arch *t)
{
    int32_t z, zg, d, in, h;

    build_lstm_encoder(enc, t, t->hidden);
    z = vae_graph_input(dec, &t->latent, 1);
    zg = with_genre(dec, t, z);
    in = teacher_input(dec, t, &d);
    if (t->bow_weight > 0.0)
        vae_graph_bag_of_words(dec, vae_graph_dense(dec, z, t->vocab), d,
                               (float)t->bow_weight);
    in = vae_graph_embedding_shared(dec, in, t->vocab, t->embed);
    in = vae_graph_concat(dec, in, vae_graph_repeat(dec, zg, t->maxlen));
    h = vae_graph_lstm(dec, in, t->hidden,
                       vae_graph_dense(dec, zg, 2 * t->hidden), d, 1);
    vae_graph_set_output(dec, vae_graph_dense(dec, h, t->vocab));
}

/* The write-up's model made valid: the decoder sees z alone, repeated at
 * every step, and never the sentence. */
static void build_seed(vae_graph *enc, vae_graph *dec,
                       const struct text_arch *t)
{
    int32_t h;

    build_lstm_encoder(enc, t, SEED_ENCODER_HIDDEN);
    h = vae_graph_dense(
        dec, with_genre(dec, t, vae_graph_input(dec, &t->latent, 1)),
        t->embed);
    h = vae_graph_repeat(dec, h, t->maxlen);
    h = vae_graph_lstm(dec, h, t->hidden, -1, -1, 1);
    vae_graph_set_output(dec, vae_graph_dense(dec, h, t->vocab));
}

/* The language model: bowman's decoder without z. libvae needs an encoder
 * and a latent; a dense layer on the ids gives one the decoder ignores,
 * so log p(x | z = 0) is the model's exact log-likelihood. */
static void build_lm(vae_graph *enc, vae_graph *dec, const struct text_arch *t)
{
    int32_t d, in, h;
    const int64_t one = 1;

    vae_graph_set_output(
        enc, vae_graph_dense(enc, vae_graph_input(enc, &t->maxlen, 1), 1));
    vae_graph_input(dec, &one, 1);
    in = teacher_input(dec, t, &d);
    in = vae_graph_embedding(dec, in, t->vocab, t->embed);
    h = vae_graph_lstm(dec, in, t->hidden, -1, d, 1);
    vae_graph_set_output(dec, vae_graph_dense(dec, h, t->vocab));
}

static int build_text_model(vae_graph *enc, vae_graph *dec, const void *ctx)
{
    static void (*const builders[ARCH_COUNT])(vae_graph *, vae_graph *,
                                              const struct text_arch *) = {
        [ARCH_BOWMAN] = build_bowman, [ARCH_SEED] = build_seed,
        [ARCH_LM] = build_lm};
    const struct text_arch *t = ctx;

    builders[t->arch](enc, dec, t);
    return 0;
}

int text_make_model(const struct text_arch *t, uint64_t seed, vae_model **out)
{
    return model_build(build_text_model, t, t->latent,
                       VAE_LIKELIHOOD_CATEGORICAL, seed, out);
}

/* ---- Model files: libvae model + vae-text metadata ---------------------- */

/*
 * The metadata vae-text keeps in the model file (little-endian):
 *   "VTX1" or "VTX2"           magic and version
 *   u32 flags                  bit 0: a language model (the lm command);
 *                              VTX2 only: bit 1 BN-VAE, bit 2 bag of words
 *   u32 maxlen, embed, hidden  the sizes the graphs were built with
 *   u32 n, n bytes             architecture name (bowman, seed or lm)
 *   VTX2 with flag bit 3 (conditional on genre) only:
 *   u32 g, g x (u32 n, n bytes) the genres, in the order of the one-hot
 *                              condition's entries
 *   the rest                   VTX1: the word vocabulary as
 *                              text_vocab_serialize writes it; VTX2: the
 *                              tokenizer, text_tokenizer_serialize's bytes
 * A word-vocabulary model without BN-VAE or bag of words is written as
 * VTX1, which vae-text before subword models reads too.
 */
#define META_MAGIC_V1 "VTX1"
#define META_MAGIC_V2 "VTX2"
#define META_FLAG_LM 1u
#define META_FLAG_BN 2u
#define META_FLAG_BOW 4u
#define META_FLAG_GENRES 8u
#define META_FIXED 24 /* bytes before the architecture name */
#define META_NAME_MAX 32

void text_model_free(struct text_model *tm)
{
    vae_model_free(tm->m);
    text_tokenizer_free(tm->tok);
    if (tm->genres)
        for (int64_t g = 0; g < tm->arch.ngenres; g++)
            free(tm->genres[g]);
    free(tm->genres);
    memset(tm, 0, sizeof *tm);
}

int text_attach_metadata(vae_model *m, const struct text_arch *t,
                         const text_tokenizer *tok,
                         const char *const *genres)
{
    const char *name = text_arch_names[t->arch];
    size_t nlen = strlen(name), vlen = 0, glen = 0, len, at;
    uint32_t flags = (t->arch == ARCH_LM ? META_FLAG_LM : 0u) |
                     (t->bn_gamma > 0.0 ? META_FLAG_BN : 0u) |
                     (t->bow_weight > 0.0 ? META_FLAG_BOW : 0u) |
                     (t->ngenres > 0 ? META_FLAG_GENRES : 0u);
    int v1 = text_tokenizer_kind(tok) == TEXT_TOK_WORDS &&
             !(flags & ~META_FLAG_LM);
    unsigned char *vbuf = NULL, *buf;
    char e[512];
    int32_t s;

    if (text_tokenizer_serialize(tok, &vbuf, &vlen, e, sizeof e))
        return fail("tokenizer: %s", e);
    if (t->ngenres > 0)
        glen = 4;
    for (int64_t g = 0; g < t->ngenres; g++)
        glen += 4 + strlen(genres[g]);
    len = META_FIXED + nlen + glen + vlen;
    buf = malloc(len);
    if (!buf) {
        free(vbuf);
        return fail("out of memory");
    }
    memcpy(buf, v1 ? META_MAGIC_V1 : META_MAGIC_V2, 4);
    le32_put(buf + 4, flags);
    le32_put(buf + 8, (uint32_t)t->maxlen);
    le32_put(buf + 12, (uint32_t)t->embed);
    le32_put(buf + 16, (uint32_t)t->hidden);
    le32_put(buf + 20, (uint32_t)nlen);
    memcpy(buf + META_FIXED, name, nlen);
    at = META_FIXED + nlen;
    if (t->ngenres > 0) {
        le32_put(buf + at, (uint32_t)t->ngenres);
        at += 4;
    }
    for (int64_t g = 0; g < t->ngenres; g++) {
        size_t l = strlen(genres[g]);
        le32_put(buf + at, (uint32_t)l);
        memcpy(buf + at + 4, genres[g], l);
        at += 4 + l;
    }
    memcpy(buf + at, vbuf, vlen);
    free(vbuf);
    s = vae_model_set_metadata(m, buf, len);
    free(buf);
    if (s != VAE_OK)
        return fail_lib("vae_model_set_metadata", s, vae_model_last_error(m));
    return 0;
}

/* A conditional model's genres at p[0..len) (after the architecture
 * name) into t->ngenres and *genres; *used receives their bytes. */
static int parse_genres(const char *path, const unsigned char *p, size_t len,
                        struct text_arch *t, char ***genres, size_t *used)
{
    size_t at = 4;
    uint32_t n;

    if (len < 4 || (n = le32_get(p)) < 1 || n > TEXT_MAX_GENRES)
        return fail("%s: vae-text metadata: bad genre count", path);
    if (!(*genres = calloc(n, sizeof **genres)))
        return fail("out of memory");
    t->ngenres = n;
    for (uint32_t g = 0; g < n; g++) {
        uint32_t l = len - at >= 4 ? le32_get(p + at) : 0;
        if (l < 1 || l > TEXT_GENRE_NAME_MAX || l > len - at - 4)
            return fail("%s: vae-text metadata: genre %u: bad name length",
                        path, g + 1);
        for (uint32_t j = 0; j < l; j++) {
            unsigned char ch = p[at + 4 + j];
            if (!(ch == '_' || ch == '-' || (ch >= '0' && ch <= '9') ||
                  (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
                return fail("%s: vae-text metadata: genre %u: a name of "
                            "other bytes than letters, digits, _ and -",
                            path, g + 1);
        }
        if (!((*genres)[g] = malloc(l + 1)))
            return fail("out of memory");
        memcpy((*genres)[g], p + at + 4, l);
        (*genres)[g][l] = '\0';
        at += 4 + l;
    }
    *used = at;
    return 0;
}

/* Reads the header of the metadata into t, a conditional model's genres
 * into *genres and the tokenizer into *tok. */
static int parse_metadata(const char *path, const unsigned char *p, size_t len,
                          struct text_arch *t, char ***genres,
                          text_tokenizer **tok)
{
    size_t glen = 0;
    uint32_t flags, nlen, known;
    char name[META_NAME_MAX + 1], e[512];
    int lm, v1;

    if (len < 4 || memcmp(p, "VTX", 3) != 0)
        return fail("%s: not a vae-text model (its metadata is not "
                    "vae-text's)", path);
    v1 = p[3] == META_MAGIC_V1[3];
    if (!v1 && p[3] != META_MAGIC_V2[3])
        return fail("%s: vae-text model format '%.4s' is not %s or %s, the "
                    "ones this vae-text reads", path, (const char *)p,
                    META_MAGIC_V1, META_MAGIC_V2);
    if (len < META_FIXED)
        return fail("%s: vae-text metadata truncated (%zu bytes)", path, len);
    flags = le32_get(p + 4);
    nlen = le32_get(p + 20);
    known = v1 ? META_FLAG_LM
               : META_FLAG_LM | META_FLAG_BN | META_FLAG_BOW |
                     META_FLAG_GENRES;
    if (flags & ~known)
        return fail("%s: vae-text metadata has unknown flags 0x%x", path,
                    flags);
    if (nlen < 1 || nlen > META_NAME_MAX || nlen > len - META_FIXED)
        return fail("%s: vae-text metadata: bad architecture name length %u",
                    path, nlen);
    memcpy(name, p + META_FIXED, nlen);
    name[nlen] = '\0';
    t->arch = -1;
    for (int i = 0; i < ARCH_COUNT; i++)
        if (strcmp(name, text_arch_names[i]) == 0)
            t->arch = i;
    if (t->arch < 0)
        return fail("%s: vae-text metadata: unknown architecture '%s'", path,
                    name);
    lm = (flags & META_FLAG_LM) != 0;
    if (lm != (t->arch == ARCH_LM))
        return fail("%s: vae-text metadata: architecture '%s' %s flagged as a "
                    "language model", path, name, lm ? "is" : "is not");
    if (((flags & (META_FLAG_BN | META_FLAG_GENRES)) && t->arch == ARCH_LM) ||
        ((flags & META_FLAG_BOW) && t->arch != ARCH_BOWMAN))
        return fail("%s: vae-text metadata: architecture '%s' with flags "
                    "0x%x it cannot have", path, name, flags);
    t->maxlen = le32_get(p + 8);
    t->embed = le32_get(p + 12);
    t->hidden = le32_get(p + 16);
    /* Only whether there is one changes the parameters; the values are in
     * the model's graphs. */
    t->bn_gamma = flags & META_FLAG_BN ? 1.0 : 0.0;
    t->bow_weight = flags & META_FLAG_BOW ? 1.0 : 0.0;
    if ((flags & META_FLAG_GENRES) &&
        parse_genres(path, p + META_FIXED + nlen, len - META_FIXED - nlen, t,
                     genres, &glen))
        return -1;
    if (text_tokenizer_parse(p + META_FIXED + nlen + glen,
                             len - META_FIXED - nlen - glen, tok, e,
                             sizeof e))
        return fail("%s: vae-text metadata: %s: %s", path,
                    v1 ? "vocabulary" : "tokenizer", e);
    if (v1 && text_tokenizer_kind(*tok) != TEXT_TOK_WORDS)
        return fail("%s: vae-text metadata: a VTX1 file with a subword model",
                    path);
    t->vocab = (int64_t)text_tokenizer_size(*tok);
    return 0;
}

/* The graphs the metadata describes must be the model's: same input, and
 * the same parameter count once rebuilt (a vocabulary or size that does
 * not belong to the weights changes it). */
static int check_model_fits(const char *path, const vae_model *m,
                            const struct text_arch *t)
{
    vae_model *ref = NULL;
    int64_t dims[4] = {0}, want, have;
    int32_t rank = vae_model_data_shape(m, dims, 4);

    if (rank != 1 || dims[0] != t->maxlen)
        return fail("%s: the model's input is not a sentence of %lld ids, as "
                    "its vae-text metadata says", path, (long long)t->maxlen);
    if (vae_model_condition_size(m) != t->ngenres)
        return fail("%s: the model's condition has %lld floats, but its "
                    "vae-text metadata names %lld genres", path,
                    (long long)vae_model_condition_size(m),
                    (long long)t->ngenres);
    /* The ranges train accepts: a crafted file cannot make the rebuild
     * allocate without bound. */
    if (t->embed < 1 || t->embed > TEXT_MAX_WIDTH || t->hidden < 1 ||
        t->hidden > TEXT_MAX_WIDTH || text_make_model(t, 0, &ref))
        return fail("%s: vae-text metadata: sizes that build no model (embed "
                    "%lld, hidden %lld, vocabulary %lld)", path,
                    (long long)t->embed, (long long)t->hidden,
                    (long long)t->vocab);
    want = vae_model_num_params(ref);
    have = vae_model_num_params(m);
    vae_model_free(ref);
    if (want != have)
        return fail("%s: the model has %lld parameters, but its vae-text "
                    "metadata (architecture %s, vocabulary %lld, embed %lld, "
                    "hidden %lld, latent %lld) builds %lld", path,
                    (long long)have, text_arch_names[t->arch],
                    (long long)t->vocab, (long long)t->embed,
                    (long long)t->hidden,
                    (long long)t->latent, (long long)want);
    return 0;
}

int load_text_model(const char *path, struct text_model *tm)
{
    const void *meta;
    size_t len = 0;

    memset(tm, 0, sizeof *tm);
    if (model_load(path, &tm->m, NULL))
        return -1;
    meta = vae_model_metadata(tm->m, &len);
    if (!meta)
        return fail("%s: not a vae-text model (it has no vae-text metadata)",
                    path);
    tm->arch.latent = vae_model_latent_dim(tm->m);
    if (parse_metadata(path, meta, len, &tm->arch, &tm->genres, &tm->tok) ||
        check_model_fits(path, tm->m, &tm->arch))
        return -1;
    return 0;
}

int text_need_vae(const struct text_model *tm, const char *path,
                  const char *command)
{
    if (tm->arch.arch == ARCH_LM)
        return fail("%s: %s is a language model (from vae-text lm), which has "
                    "no latent space; %s needs a VAE from vae-text train",
                    command, path, command);
    return 0;
}

/* ---- Genres --------------------------------------------------------------- */

/* The model's genres, ", "-separated, into buf. */
static void list_genres(const struct text_model *tm, char *buf, size_t cap)
{
    size_t at = 0;

    buf[0] = '\0';
    for (int64_t g = 0; g < tm->arch.ngenres && at < cap; g++) {
        int k = snprintf(buf + at, cap - at, "%s%s", g ? ", " : "",
                         tm->genres[g]);
        if (k < 0)
            break;
        at += (size_t)k;
    }
}

int text_model_genre(const struct text_model *tm, const char *path,
                     const char *name, int *g)
{
    char known[TEXT_MAX_GENRES * (TEXT_GENRE_NAME_MAX + 2) + 1];

    *g = -1;
    if (tm->arch.ngenres == 0) {
        if (name)
            return fail("--genre: %s is not a conditional model (trained "
                        "without --conditional genre), so it has no genres",
                        path);
        return 0;
    }
    list_genres(tm, known, sizeof known);
    if (!name)
        return fail("%s is conditional on genre: give --genre, one of %s",
                    path, known);
    for (int64_t i = 0; i < tm->arch.ngenres; i++)
        if (strcmp(name, tm->genres[i]) == 0)
            *g = (int)i;
    if (*g < 0)
        return fail("--genre: '%s' is not a genre of %s; its genres are %s",
                    name, path, known);
    return 0;
}

int text_genre_rows(int64_t ngenres, const int32_t *genre, int32_t one,
                    int64_t n, float **rows)
{
    *rows = NULL;
    if (ngenres == 0)
        return 0;
    *rows = calloc((size_t)((n ? n : 1) * ngenres), sizeof **rows);
    if (!*rows)
        return fail("out of memory");
    for (int64_t i = 0; i < n; i++)
        (*rows)[i * ngenres + (genre ? genre[i] : one)] = 1.0f;
    return 0;
}

int text_set_genre(vae_model *m, int64_t ngenres, int g, int64_t n)
{
    float *rows = NULL;
    int rc;

    if (g < 0)
        return 0;
    if (text_genre_rows(ngenres, NULL, g, n, &rows))
        return -1;
    rc = model_condition(m, rows, 0, n);
    free(rows);
    return rc;
}

/* ---- Encoded sentences --------------------------------------------------- */

void text_set_free(struct text_set *s)
{
    free(s->x);
    free(s->ntok);
    free(s->cond);
    free(s->genre);
    memset(s, 0, sizeof *s);
}

void text_set_truncate(struct text_set *s, int64_t n)
{
    if (n >= s->n)
        return;
    s->n = n;
    s->tokens = 0;
    for (int64_t i = 0; i < n; i++)
        s->tokens += s->ntok[i];
}

int text_set_genres(struct text_set *s, const text_corpus *c, int split,
                    int64_t ngenres, const char *const *names,
                    const char *data)
{
    int32_t map[TEXT_MAX_GENRES];

    if (ngenres == 0)
        return 0;
    if (c->ngenres == 0)
        return fail("%s: the model is conditional on genre, but this corpus "
                    "has no genres (--corpus brown gives them)", data);
    for (size_t cg = 0; cg < c->ngenres; cg++) {
        map[cg] = -1;
        for (int64_t g = 0; g < ngenres; g++)
            if (strcmp(c->genre_names[cg], names[g]) == 0)
                map[cg] = (int32_t)g;
        if (map[cg] < 0)
            return fail("%s: the corpus's genre '%s' is not one of the "
                        "model's", data, c->genre_names[cg]);
    }
    free(s->genre);
    s->genre = malloc((size_t)(s->n ? s->n : 1) * sizeof *s->genre);
    if (!s->genre)
        return fail("out of memory");
    for (int64_t i = 0; i < s->n; i++)
        s->genre[i] = map[c->genre[split][i]];
    free(s->cond);
    return text_genre_rows(ngenres, s->genre, 0, s->n, &s->cond);
}

int text_encode_set(const text_tokenizer *tok, const text_sentences *s,
                    int64_t maxlen, struct text_set *out)
{
    size_t cells = s->count * (size_t)maxlen;
    int32_t *ids = malloc((cells ? cells : 1) * sizeof *ids);
    char e[512];

    memset(out, 0, sizeof *out);
    out->x = malloc((cells ? cells : 1) * sizeof *out->x);
    out->ntok = malloc((s->count ? s->count : 1) * sizeof *out->ntok);
    if (!ids || !out->x || !out->ntok) {
        free(ids);
        text_set_free(out);
        return fail("out of memory");
    }
    if (text_tokenizer_encode(tok, s, (size_t)maxlen, ids, e, sizeof e)) {
        free(ids);
        text_set_free(out);
        return fail("%s", e);
    }
    out->n = (int64_t)s->count;
    for (int64_t i = 0; i < out->n; i++) {
        int32_t k = 0;
        for (int64_t t = 0; t < maxlen; t++) {
            int32_t id = ids[i * maxlen + t];
            out->x[i * maxlen + t] = (float)id;
            k += id != TEXT_PAD;
        }
        out->ntok[i] = k;
        out->tokens += k;
    }
    free(ids);
    return 0;
}

/* Upper bounds in words; sentence VAEs order their latent space largely
 * by length, so the bins are finest where most sentences are. */
static const int32_t length_bounds[TEXT_LENGTH_CLASSES - 1] = {5, 10, 15, 20,
                                                               30};
const char *const text_length_class_names[TEXT_LENGTH_CLASSES] = {
    "1-5 words", "6-10 words", "11-15 words", "16-20 words", "21-30 words",
    "31+ words"};

int text_length_class(int32_t ntok)
{
    int c = 0;
    /* Every encoded sentence ends in <eos>, which is not a word. */
    while (c < TEXT_LENGTH_CLASSES - 1 && ntok - 1 > length_bounds[c])
        c++;
    return c;
}

int text_encode_sentence(struct text_model *tm, const char *flag,
                         const char *sentence, int g, float *mu,
                         char **shown)
{
    const int64_t T = tm->arch.maxlen;
    text_sentences s = {0};
    int32_t *ids = malloc((size_t)T * sizeof *ids);
    float *x = malloc((size_t)T * sizeof *x);
    char e[512];
    int rc = -1;
    int32_t st;

    if (!ids || !x) {
        fail("out of memory");
        goto done;
    }
    if (text_sentences_add(&s, sentence, strlen(sentence), e, sizeof e)) {
        fail("%s: %s", flag, e);
        goto done;
    }
    if (s.count == 0) {
        fail("%s: the sentence has no tokens", flag);
        goto done;
    }
    if (text_tokenizer_encode(tm->tok, &s, (size_t)T, ids, e, sizeof e) ||
        text_tokenizer_decode(tm->tok, ids, (size_t)T, shown, e, sizeof e)) {
        fail("%s: %s", flag, e);
        goto done;
    }
    for (int64_t t = 0; t < T; t++)
        x[t] = (float)ids[t];
    if (text_set_genre(tm->m, tm->arch.ngenres, g, 1))
        goto done;
    st = vae_model_encode(tm->m, x, 1, mu, NULL);
    if (st != VAE_OK) {
        fail_lib("vae_model_encode", st, vae_model_last_error(tm->m));
        goto done;
    }
    rc = 0;
done:
    text_sentences_free(&s);
    free(x);
    free(ids);
    return rc;
}
