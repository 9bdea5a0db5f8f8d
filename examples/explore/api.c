/* api.c - vae-explore's JSON API (explore_api in explore.h). Every request
 * is checked in full before the model runs: a body must be a JSON object
 * with known fields only, vectors must have the latent's length and finite
 * values within EXPLORE_Z_LIMIT, counts and indices their ranges; anything
 * else answers 4xx with {"error": "..."}. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "explore.h"
#include "normal.h"
#include "order.h"

/* Decimals enough for float latents and map coordinates. */
#define JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(7))

/* What a handler reports when it refuses or fails. */
struct api_error {
    unsigned status;
    char msg[512];
};

static json_t *refuse(struct api_error *err, unsigned status, const char *fmt,
                      ...) __attribute__((format(printf, 3, 4)));

static json_t *refuse(struct api_error *err, unsigned status, const char *fmt,
                      ...)
{
    va_list ap;
    err->status = status;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return NULL;
}

/* A failed library call: 422 when the numbers overflowed (a z far out in
 * the tails), 500 for anything else. */
static json_t *lib_failed(struct api_error *err, const struct explore *e,
                          const char *what, int32_t s)
{
    const char *detail = vae_model_last_error(e->m);
    return refuse(err, s == VAE_ERR_NONFINITE ? 422 : 500, "%s: %s", what,
                  *detail ? detail : vae_status_string(s));
}

/* ---- Reading requests ----------------------------------------------------- */

/* Refuses fields outside `allowed` (NULL-terminated), so that a misspelt
 * option is an error rather than silently ignored. */
static int known_fields(json_t *req, const char *const *allowed,
                        struct api_error *err)
{
    const char *key;
    json_t *v;

    json_object_foreach(req, key, v) {
        int ok = 0;
        (void)v;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(key, *a) == 0;
        if (!ok) {
            refuse(err, 400, "unknown field '%.100s'", key);
            return -1;
        }
    }
    return 0;
}

static int get_int(json_t *req, const char *key, long long lo, long long hi,
                   long long def, long long *out, struct api_error *err)
{
    json_t *v = json_object_get(req, key);

    *out = def;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo ||
        json_integer_value(v) > hi) {
        refuse(err, 400, "%s: expected an integer in [%lld, %lld]", key, lo,
               hi);
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

/* A number in (lo, hi]. */
static int get_real(json_t *req, const char *key, double lo, double hi,
                    double def, double *out, struct api_error *err)
{
    json_t *v = json_object_get(req, key);

    *out = def;
    if (!v)
        return 0;
    if (!json_is_number(v) || !(json_number_value(v) > lo) ||
        !(json_number_value(v) <= hi)) {
        refuse(err, 400, "%s: expected a number in (%g, %g]", key, lo, hi);
        return -1;
    }
    *out = json_number_value(v);
    return 0;
}

/* Exactly e->latent finite numbers of magnitude at most EXPLORE_Z_LIMIT.
 * JSON has no NaN or Infinity, and jansson refuses numbers that overflow a
 * double, so the range check is what keeps absurd latents out. */
static int get_z(const struct explore *e, json_t *v, const char *what,
                 float *z, struct api_error *err)
{
    size_t i;
    json_t *x;

    if (!json_is_array(v) || json_array_size(v) != (size_t)e->latent) {
        refuse(err, 400, "%s: expected an array of %lld numbers", what,
               (long long)e->latent);
        return -1;
    }
    json_array_foreach(v, i, x) {
        double d = json_number_value(x);
        if (!json_is_number(x) || !(fabs(d) <= EXPLORE_Z_LIMIT)) {
            refuse(err, 400, "%s[%zu]: expected a number in [-%g, %g]", what,
                   i, EXPLORE_Z_LIMIT, EXPLORE_Z_LIMIT);
            return -1;
        }
        z[i] = (float)d;
    }
    return 0;
}

static int get_index(const struct explore *e, json_t *v, const char *what,
                     int64_t *out, struct api_error *err)
{
    if (e->n_items == 0) {
        refuse(err, 400, "%s: no data set is loaded (start vae-explore with "
               "--data)", what);
        return -1;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) >= e->n_items) {
        refuse(err, 400, "%s: expected an item index in [0, %lld]", what,
               (long long)e->n_items - 1);
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

/* How a text model decodes: the fields mode, temperature, top_k, top_p. */
struct decoding {
    int32_t mode;
    double temperature, top_p;
    long long top_k;
};

static const char *const decode_names[] = {"greedy", "sample", "topk", "topp"};
static const int32_t decode_modes[] = {VAE_DECODE_GREEDY, VAE_DECODE_SAMPLE,
                                       VAE_DECODE_TOP_K, VAE_DECODE_TOP_P};
#define DECODE_FIELDS "mode", "temperature", "top_k", "top_p"

static int get_decoding(const struct explore *e, json_t *req,
                        struct decoding *d, struct api_error *err)
{
    json_t *mode = json_object_get(req, "mode");

    d->mode = VAE_DECODE_GREEDY;
    if (mode) {
        int found = 0;
        for (size_t i = 0; i < sizeof decode_names / sizeof *decode_names; i++)
            if (json_is_string(mode) &&
                strcmp(json_string_value(mode), decode_names[i]) == 0) {
                d->mode = decode_modes[i];
                found = 1;
            }
        if (!found) {
            refuse(err, 400, "mode: expected \"greedy\", \"sample\", "
                   "\"topk\" or \"topp\"");
            return -1;
        }
    }
    return get_real(req, "temperature", 0.0, 100.0, 1.0, &d->temperature,
                    err) ||
           get_real(req, "top_p", 0.0, 1.0, 0.9, &d->top_p, err) ||
           get_int(req, "top_k", 1, (long long)e->tm.arch.vocab, 10, &d->top_k,
                   err);
}

/* The model's generation settings for d (greedy when d is NULL); a
 * status. */
static int32_t set_decoding(vae_model *m, const struct decoding *d)
{
    const struct decoding greedy = {VAE_DECODE_GREEDY, 1.0, 0.9, 1};
    if (!d)
        d = &greedy;
    int32_t s = vae_model_set_generation(m, VAE_GEN_MODE, d->mode);
    if (s == VAE_OK)
        s = vae_model_set_generation(m, VAE_GEN_TEMPERATURE, d->temperature);
    if (s == VAE_OK)
        s = vae_model_set_generation(m, VAE_GEN_TOP_K, (double)d->top_k);
    if (s == VAE_OK)
        s = vae_model_set_generation(m, VAE_GEN_TOP_P, d->top_p);
    if (s == VAE_OK)
        s = vae_model_set_generation(m, VAE_GEN_EOS, TEXT_EOS);
    return s;
}

/* ---- Writing answers ------------------------------------------------------ */

static json_t *floats_json(const float *v, int64_t n)
{
    json_t *a = json_array();
    for (int64_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

/* Grey levels 0..255, the page's canvas format. */
static json_t *image_json(const float *px, int64_t n)
{
    json_t *a = json_array();
    for (int64_t i = 0; a && i < n; i++) {
        float v = px[i];
        long g = !(v > 0.0f) ? 0 : v >= 1.0f ? 255 : lroundf(v * 255.0f);
        json_array_append_new(a, json_integer(g));
    }
    return a;
}

/* A sentence of maxlen ids (floats) as text. */
static json_t *sentence_json(const struct explore *e, const float *ids,
                             struct api_error *err)
{
    const int64_t T = e->tm.arch.maxlen;
    int32_t *buf = malloc((size_t)T * sizeof *buf);
    char *text = NULL, msg[256];
    json_t *s = NULL;

    if (!buf)
        return refuse(err, 500, "out of memory");
    for (int64_t t = 0; t < T; t++)
        buf[t] = (int32_t)ids[t];
    if (text_tokenizer_decode(e->tm.tok, buf, (size_t)T, &text, msg, sizeof msg))
        refuse(err, 500, "generated ids: %s", msg);
    else if (!(s = json_string(text)))
        refuse(err, 500, "out of memory");
    free(text);
    free(buf);
    return s;
}

/* The slider coordinates of z: c_j = <z - mean, axis_j>. */
static json_t *coords_json(const struct explore *e, const float *z)
{
    json_t *a = json_array();
    for (int64_t j = 0; a && j < e->nbasis; j++) {
        double c = 0.0;
        for (int64_t i = 0; i < e->latent; i++)
            c += (z[i] - e->mean[i]) * e->axes[j * e->latent + i];
        json_array_append_new(a, json_real(c));
    }
    return a;
}

/* Decodes n latents and appends one value per latent to `into`: grey
 * images, or sentences generated with d (greedy when d is NULL). */
static int decode_into(struct explore *e, const float *z, int64_t n,
                       const struct decoding *d, json_t *into,
                       struct api_error *err)
{
    const int64_t size = e->item_size;
    float *out = malloc((size_t)(n * size) * sizeof *out);
    int32_t s;
    int rc = -1;

    if (!out) {
        refuse(err, 500, "out of memory");
        return -1;
    }
    if (e->kind == EXPLORE_IMAGE)
        s = vae_model_decode(e->m, z, n, out);
    else if ((s = set_decoding(e->m, d)) == VAE_OK)
        s = vae_model_generate_tokens(e->m, z, n, e->tm.arch.maxlen, out,
                                      NULL);
    if (s != VAE_OK) {
        lib_failed(err, e, e->kind == EXPLORE_IMAGE
                               ? "vae_model_decode"
                               : "vae_model_generate_tokens", s);
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        json_t *v = e->kind == EXPLORE_IMAGE
                        ? image_json(out + i * size, size)
                        : sentence_json(e, out + i * size, err);
        if (!v || json_array_append_new(into, v)) {
            if (err->status == 0)
                refuse(err, 500, "out of memory");
            goto done;
        }
    }
    rc = 0;
done:
    free(out);
    return rc;
}

/* One decoded value (image or sentence) for a single z. */
static json_t *decode_one(struct explore *e, const float *z,
                          const struct decoding *d, struct api_error *err)
{
    json_t *a = json_array(), *v = NULL;

    if (!a)
        return refuse(err, 500, "out of memory");
    if (decode_into(e, z, 1, d, a, err) == 0)
        v = json_incref(json_array_get(a, 0));
    json_decref(a);
    return v;
}

/* ---- Items and sentences -------------------------------------------------- */

/* Whether a sentence has a token to encode. jansson hands over valid
 * UTF-8 without NUL bytes, so the tokenizer's only refusal left is an
 * empty sentence, which is the client's to fix (400); text_encode_sentence
 * reports through fail(), whose message is for command lines. */
static int has_tokens(const char *sentence)
{
    size_t pos = 0, start, end;
    return text_next_token(sentence, strlen(sentence), &pos, &start, &end,
                           NULL, 0) == 1;
}

/* An endpoint of encode or interpolate: an item of the data set by index,
 * a typed sentence (text models), or a latent vector. z receives its
 * latent (the posterior mean); *shown (unless NULL) the item as the model
 * reads it (grey image, or the sentence with <unk> and truncation). */
static int resolve(struct explore *e, json_t *obj, const char *what, float *z,
                   json_t **shown, json_t **label, struct api_error *err)
{
    static const char *const fields[] = {"index", "sentence", "z", NULL};
    json_t *index = json_object_get(obj, "index");
    json_t *sentence = json_object_get(obj, "sentence");
    json_t *zv = json_object_get(obj, "z");
    int64_t i = 0;
    int32_t s;

    *shown = NULL;
    if (label)
        *label = NULL;
    if (!json_is_object(obj) || known_fields(obj, fields, err) ||
        (index != NULL) + (sentence != NULL) + (zv != NULL) != 1) {
        if (err->status == 0)
            refuse(err, 400, "%s: expected one of \"index\", \"sentence\" or "
                   "\"z\"", what);
        return -1;
    }
    if (zv)
        return get_z(e, zv, what, z, err);
    if (sentence) {
        char *text = NULL;
        if (e->kind != EXPLORE_TEXT) {
            refuse(err, 400, "%s: sentences need a text model", what);
            return -1;
        }
        if (!json_is_string(sentence) ||
            json_string_length(sentence) > EXPLORE_MAX_SENTENCE) {
            refuse(err, 400, "%s: expected a sentence of at most %d bytes",
                   what, EXPLORE_MAX_SENTENCE);
            return -1;
        }
        if (!has_tokens(json_string_value(sentence))) {
            refuse(err, 400, "%s: the sentence has no tokens", what);
            return -1;
        }
        if (text_encode_sentence(&e->tm, "sentence",
                                 json_string_value(sentence), -1, z, &text)) {
            refuse(err, 500, "%s: encoding the sentence failed", what);
            return -1;
        }
        *shown = json_string(text);
        free(text);
        return *shown ? 0 : (refuse(err, 500, "out of memory"), -1);
    }
    if (get_index(e, index, what, &i, err))
        return -1;
    s = vae_model_encode(e->m, e->items + i * e->item_size, 1, z, NULL);
    if (s != VAE_OK) {
        lib_failed(err, e, "vae_model_encode", s);
        return -1;
    }
    if (label)
        *label = json_string(e->class_names[e->labels[i]]);
    *shown = e->kind == EXPLORE_IMAGE
                 ? image_json(e->items + i * e->item_size, e->item_size)
                 : sentence_json(e, e->items + i * e->item_size, err);
    if (!*shown && err->status == 0)
        refuse(err, 500, "out of memory");
    return *shown ? 0 : -1;
}

/* ---- Routes ---------------------------------------------------------------- */

static json_t *h_info(struct explore *e, json_t *req, struct api_error *err)
{
    json_t *r = json_object(), *shape = json_array(), *basis = json_object();
    json_t *axes = json_array(), *classes = json_array();

    (void)req;
    if (!r || !shape || !basis || !axes || !classes) {
        json_decref(r);
        json_decref(shape);
        json_decref(basis);
        json_decref(axes);
        json_decref(classes);
        return refuse(err, 500, "out of memory");
    }
    for (int32_t i = 0; i < e->rank; i++)
        json_array_append_new(shape, json_integer(e->dims[i]));
    for (int64_t j = 0; j < e->nbasis; j++) {
        json_t *axis = json_array();
        for (int64_t i = 0; axis && i < e->latent; i++)
            json_array_append_new(axis, json_real(e->axes[j * e->latent + i]));
        json_array_append_new(axes, axis);
    }
    for (int c = 0; c < e->nclass; c++)
        json_array_append_new(classes, json_string(e->class_names[c]));
    json_object_set_new(basis, "kind", json_string(e->basis_is_pca ? "pca"
                                                                  : "latent"));
    json_object_set_new(basis, "axes", axes);
    {
        json_t *mean = json_array(), *scale = json_array(),
               *share = json_array();
        for (int64_t i = 0; mean && i < e->latent; i++)
            json_array_append_new(mean, json_real(e->mean[i]));
        for (int64_t j = 0; scale && share && j < e->nbasis; j++) {
            json_array_append_new(scale, json_real(e->scale[j]));
            json_array_append_new(share, json_real(e->share[j]));
        }
        json_object_set_new(basis, "mean", mean);
        json_object_set_new(basis, "scale", scale);
        json_object_set_new(basis, "share", share);
    }
    json_object_set_new(r, "kind", json_string(e->kind == EXPLORE_IMAGE
                                                   ? "image"
                                                   : "text"));
    json_object_set_new(r, "model", json_string(e->model_name));
    json_object_set_new(r, "data", e->data_name ? json_string(e->data_name)
                                                : json_null());
    json_object_set_new(r, "latent", json_integer(e->latent));
    json_object_set_new(r, "data_shape", shape);
    json_object_set_new(r, "items", json_integer(e->n_items));
    json_object_set_new(r, "map_points", json_integer(e->n_map));
    json_object_set_new(r, "classes", classes);
    json_object_set_new(r, "legend", e->legend ? json_string(e->legend)
                                               : json_null());
    json_object_set_new(r, "basis", basis);
    json_object_set_new(
        r, "limits",
        json_pack("{s:i, s:i, s:i, s:i, s:f}", "body", EXPLORE_MAX_BODY,
                  "n", EXPLORE_MAX_N, "steps", EXPLORE_MAX_STEPS, "sentence",
                  EXPLORE_MAX_SENTENCE, "z", EXPLORE_Z_LIMIT));
    if (e->kind == EXPLORE_TEXT)
        json_object_set_new(
            r, "text",
            json_pack("{s:I, s:I, s:[s,s,s,s]}", "maxlen",
                      (json_int_t)e->tm.arch.maxlen, "vocab",
                      (json_int_t)e->tm.arch.vocab, "modes", "greedy",
                      "sample", "topk", "topp"));
    return r;
}

static json_t *h_map(struct explore *e, json_t *req, struct api_error *err)
{
    json_t *r = json_object(), *pts = json_array(), *labels = json_array();

    (void)req;
    if (!r || !pts || !labels) {
        json_decref(r);
        json_decref(pts);
        json_decref(labels);
        return refuse(err, 500, "out of memory");
    }
    for (int64_t i = 0; i < e->n_map; i++) {
        json_array_append_new(pts, floats_json(e->map_xy + 2 * i, 2));
        json_array_append_new(labels, json_integer(e->labels[i]));
    }
    json_object_set_new(r, "points", pts);
    json_object_set_new(r, "labels", labels);
    return r;
}

static json_t *h_decode(struct explore *e, json_t *req, struct api_error *err)
{
    static const char *const fields[] = {"z", DECODE_FIELDS, NULL};
    struct decoding d;
    float *z = malloc((size_t)e->latent * sizeof *z);
    json_t *r = NULL, *v;

    if (!z)
        return refuse(err, 500, "out of memory");
    if (known_fields(req, fields, err) ||
        get_z(e, json_object_get(req, "z"), "z", z, err) ||
        (e->kind == EXPLORE_TEXT && get_decoding(e, req, &d, err)))
        goto done;
    if ((v = decode_one(e, z, e->kind == EXPLORE_TEXT ? &d : NULL, err)))
        r = json_pack("{s:o}", e->kind == EXPLORE_IMAGE ? "image" : "sentence",
                      v);
done:
    free(z);
    return r;
}

static json_t *h_encode(struct explore *e, json_t *req, struct api_error *err)
{
    static const char *const fields[] = {"index", "sentence", DECODE_FIELDS,
                                         NULL};
    json_t *ends = json_object(), *shown = NULL, *label = NULL, *recon,
           *r = NULL;
    struct decoding d;
    float *z = malloc((size_t)e->latent * sizeof *z);

    if (!z || !ends) {
        free(z);
        json_decref(ends);
        return refuse(err, 500, "out of memory");
    }
    /* resolve() reads index or sentence; decoding fields stay here. */
    json_object_set(ends, "index", json_object_get(req, "index"));
    json_object_set(ends, "sentence", json_object_get(req, "sentence"));
    if (known_fields(req, fields, err) ||
        (e->kind == EXPLORE_TEXT && get_decoding(e, req, &d, err)) ||
        resolve(e, ends, "encode", z, &shown, &label, err))
        goto done;
    if (!(recon = decode_one(e, z, e->kind == EXPLORE_TEXT ? &d : NULL, err)))
        goto done;
    r = json_pack("{s:o, s:o, s:o, s:o, s:o}", "z", floats_json(z, e->latent),
                  "coords", coords_json(e, z), "input", shown,
                  "reconstruction", recon, "label",
                  label ? label : json_null());
    shown = label = NULL;
done:
    json_decref(shown);
    json_decref(label);
    json_decref(ends);
    free(z);
    return r;
}

static json_t *h_sample(struct explore *e, json_t *req, struct api_error *err)
{
    static const char *const fields[] = {"n", DECODE_FIELDS, NULL};
    struct decoding d;
    long long n = 1;
    float *z = NULL, *x = NULL;
    json_t *values = json_array(), *r = NULL, *samples = NULL;
    int32_t s;

    if (!values)
        return refuse(err, 500, "out of memory");
    if (known_fields(req, fields, err) ||
        get_int(req, "n", 1, EXPLORE_MAX_N, 1, &n, err) ||
        (e->kind == EXPLORE_TEXT && get_decoding(e, req, &d, err)))
        goto done;
    z = malloc((size_t)(n * e->latent) * sizeof *z);
    x = malloc((size_t)(n * e->item_size) * sizeof *x);
    if (!z || !x) {
        refuse(err, 500, "out of memory");
        goto done;
    }
    if (e->kind == EXPLORE_IMAGE) {
        if ((s = vae_model_sample(e->m, n, z, x)) != VAE_OK) {
            lib_failed(err, e, "vae_model_sample", s);
            goto done;
        }
        for (long long i = 0; i < n; i++)
            json_array_append_new(values,
                                  image_json(x + i * e->item_size,
                                             e->item_size));
    } else {
        /* z ~ N(0, I) by inversion of 53-bit uniforms, as vae-text sample
         * draws them; the model's own generator drives the decoding. */
        for (int64_t i = 0; i < n * e->latent; i++) {
            double u = ((double)(splitmix64(&e->rng) >> 11) + 0.5) * 0x1.0p-53;
            z[i] = (float)normal_quantile(u);
        }
        if (decode_into(e, z, n, &d, values, err))
            goto done;
    }
    samples = json_array();
    for (long long i = 0; samples && i < n; i++)
        json_array_append_new(
            samples,
            json_pack("{s:o, s:o, s:O}", "z", floats_json(z + i * e->latent,
                                                          e->latent),
                      "coords", coords_json(e, z + i * e->latent),
                      e->kind == EXPLORE_IMAGE ? "image" : "sentence",
                      json_array_get(values, (size_t)i)));
    r = json_pack("{s:o}", "samples", samples);
done:
    json_decref(values);
    free(x);
    free(z);
    return r;
}

static json_t *h_interpolate(struct explore *e, json_t *req,
                             struct api_error *err)
{
    static const char *const fields[] = {"from", "to", "steps", DECODE_FIELDS,
                                         NULL};
    struct decoding d;
    long long steps = 8;
    float *ends = NULL, *z = NULL;
    json_t *shown_a = NULL, *shown_b = NULL, *values = json_array(),
           *list = NULL, *r = NULL;
    const int64_t D = e->latent;

    if (!values)
        return refuse(err, 500, "out of memory");
    ends = malloc((size_t)(2 * D) * sizeof *ends);
    if (!ends) {
        refuse(err, 500, "out of memory");
        goto done;
    }
    if (known_fields(req, fields, err) ||
        get_int(req, "steps", 2, EXPLORE_MAX_STEPS, 8, &steps, err) ||
        (e->kind == EXPLORE_TEXT && get_decoding(e, req, &d, err)) ||
        resolve(e, json_object_get(req, "from"), "from", ends, &shown_a, NULL,
                err) ||
        resolve(e, json_object_get(req, "to"), "to", ends + D, &shown_b, NULL,
                err))
        goto done;
    z = malloc((size_t)(steps * D) * sizeof *z);
    if (!z) {
        refuse(err, 500, "out of memory");
        goto done;
    }
    for (long long j = 0; j < steps; j++) {
        float t = (float)j / (float)(steps - 1);
        for (int64_t i = 0; i < D; i++)
            z[j * D + i] = (1.0f - t) * ends[i] + t * ends[D + i];
    }
    if (decode_into(e, z, steps, e->kind == EXPLORE_TEXT ? &d : NULL, values,
                    err))
        goto done;
    list = json_array();
    for (long long j = 0; list && j < steps; j++)
        json_array_append_new(
            list, json_pack("{s:f, s:O}", "t", (double)j / (double)(steps - 1),
                            e->kind == EXPLORE_IMAGE ? "image" : "sentence",
                            json_array_get(values, (size_t)j)));
    r = json_pack("{s:o, s:o, s:o}", "from",
                  shown_a ? shown_a : json_null(), "to",
                  shown_b ? shown_b : json_null(), "steps", list);
    shown_a = shown_b = NULL;
done:
    json_decref(shown_a);
    json_decref(shown_b);
    json_decref(values);
    free(z);
    free(ends);
    return r;
}

/* ---- Dispatch -------------------------------------------------------------- */

struct route {
    const char *method, *path;
    json_t *(*run)(struct explore *e, json_t *req, struct api_error *err);
};

static const struct route routes[] = {
    {"GET", "/api/info", h_info},
    {"GET", "/api/map", h_map},
    {"POST", "/api/decode", h_decode},
    {"POST", "/api/encode", h_encode},
    {"POST", "/api/sample", h_sample},
    {"POST", "/api/interpolate", h_interpolate},
};

static unsigned answer(json_t *body, unsigned status, char **out)
{
    *out = body ? json_dumps(body, JSON_FLAGS) : NULL;
    json_decref(body);
    return *out ? status : 500;
}

static unsigned answer_error(const struct api_error *err, char **out)
{
    return answer(json_pack("{s:s}", "error", err->msg), err->status, out);
}

unsigned explore_api(struct explore *e, const char *method, const char *path,
                     const char *body, size_t len, char **out)
{
    const struct route *route = NULL;
    struct api_error err = {0, ""};
    json_t *req = NULL, *res;
    int path_known = 0;

    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        if (strcmp(path, routes[i].path) != 0)
            continue;
        path_known = 1;
        /* HEAD is GET without the body, which the server drops. */
        if (strcmp(method, routes[i].method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0))
            route = &routes[i];
    }
    if (!route) {
        refuse(&err, path_known ? 405 : 404,
               path_known ? "method %.16s not allowed here" : "no route %.200s",
               path_known ? method : path);
        return answer_error(&err, out);
    }
    if (strcmp(route->method, "POST") == 0) {
        json_error_t jerr;
        if (len == 0) {
            refuse(&err, 400, "empty body: expected a JSON object");
            return answer_error(&err, out);
        }
        if (len > EXPLORE_MAX_BODY) {
            refuse(&err, 413, "body of %zu bytes; at most %d", len,
                   EXPLORE_MAX_BODY);
            return answer_error(&err, out);
        }
        req = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!req) {
            refuse(&err, 400, "malformed JSON (line %d, column %d): %s",
                   jerr.line, jerr.column, jerr.text);
            return answer_error(&err, out);
        }
        if (!json_is_object(req)) {
            json_decref(req);
            refuse(&err, 400, "expected a JSON object");
            return answer_error(&err, out);
        }
    }
    res = route->run(e, req, &err);
    json_decref(req);
    if (!res) {
        if (err.status == 0)
            refuse(&err, 500, "out of memory");
        return answer_error(&err, out);
    }
    return answer(res, 200, out);
}
