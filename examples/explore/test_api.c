/* test_api.c - vae-explore's JSON API over HTTP: the server on an
 * ephemeral loopback port with a small image model (and a small text
 * model), good requests on every route, and bad ones: malformed JSON,
 * oversized bodies, wrong vector lengths, NaN and overflowing numbers,
 * unknown routes and fields, a foreign Host, a form content type; then
 * 1000 requests in a row, after which the server still answers. Built
 * with the examples, so the ASan build checks it for leaks. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "explore.h"
#include "server.h"
#include "test_dir.h"

#define SIDE 8
#define LATENT 3
#define N_TEST 12

struct fixture {
    char dir[512];
    struct explore e;
    struct explore_server *srv;
    unsigned port;
};

/* ---- A tiny HTTP client ------------------------------------------------------ */

struct reply {
    int status;
    char *body; /* after the headers; NUL-terminated */
    char *all;
};

static void reply_free(struct reply *r)
{
    free(r->all);
    memset(r, 0, sizeof *r);
}

/* Sends raw bytes (request line, headers, body) and reads until the server
 * closes; a 10 s receive timeout keeps a hung server from hanging the
 * test. */
static struct reply raw(unsigned port, const char *req, size_t len)
{
    struct sockaddr_in a = {0};
    struct timeval tv = {10, 0};
    struct reply r = {0, NULL, NULL};
    size_t cap = 1 << 16, n = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    /* A refused upload may be cut short by the server: that is its
     * answer, not a failure to send. */
    for (size_t sent = 0; sent < len;) {
        ssize_t k = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
        if (k <= 0)
            break;
        sent += (size_t)k;
    }
    r.all = malloc(cap + 1);
    assert_non_null(r.all);
    for (;;) {
        ssize_t k;
        if (n == cap) {
            cap *= 2;
            r.all = realloc(r.all, cap + 1);
            assert_non_null(r.all);
        }
        k = recv(fd, r.all + n, cap - n, 0);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    r.all[n] = '\0';
    if (sscanf(r.all, "HTTP/1.%*d %d", &r.status) != 1)
        r.status = -1;
    r.body = strstr(r.all, "\r\n\r\n");
    r.body = r.body ? r.body + 4 : r.all + n;
    return r;
}

/* A request with Connection: close; body NULL for none. */
static struct reply request(unsigned port, const char *method,
                            const char *path, const char *type,
                            const char *body)
{
    size_t blen = body ? strlen(body) : 0, cap = blen + 512;
    char *req = malloc(cap);
    int n;
    struct reply r;

    assert_non_null(req);
    n = snprintf(req, cap,
                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                 "Connection: close\r\n%s%s%sContent-Length: %zu\r\n\r\n",
                 method, path, port, type ? "Content-Type: " : "",
                 type ? type : "", type ? "\r\n" : "", blen);
    memcpy(req + n, body ? body : "", blen);
    r = raw(port, req, (size_t)n + blen);
    free(req);
    return r;
}

static struct reply post(unsigned port, const char *path, const char *body)
{
    return request(port, "POST", path, "application/json", body);
}

/* The status, and that an error answer is {"error": ...}. */
static void expect(struct reply r, int status, const char *needle)
{
    if (r.status != status || (needle && !strstr(r.body, needle)))
        fail_msg("expected %d with '%s', got: %s", status,
                 needle ? needle : "", r.all);
    if (status >= 400)
        assert_non_null(strstr(r.body, "{\"error\":\""));
    reply_free(&r);
}

/* ---- Fixtures ----------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const void *data,
                       size_t len)
{
    char path[600];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* N_TEST images of SIDE x SIDE (a bar whose place depends on the label)
 * and their labels, as the IDX test split; the training split is never
 * read. */
static void write_idx(const char *dir)
{
    unsigned char img[16 + N_TEST * SIDE * SIDE] = {0}, lab[8 + N_TEST];

    put_be32(img, 0x803);
    put_be32(img + 4, N_TEST);
    put_be32(img + 8, SIDE);
    put_be32(img + 12, SIDE);
    put_be32(lab, 0x801);
    put_be32(lab + 4, N_TEST);
    for (int i = 0; i < N_TEST; i++) {
        lab[8 + i] = (unsigned char)(i % 3);
        for (int x = 0; x < SIDE; x++)
            img[16 + i * SIDE * SIDE + (2 * (i % 3) + 1) * SIDE + x] = 255;
    }
    write_file(dir, "t10k-images-idx3-ubyte", img, sizeof img);
    write_file(dir, "t10k-labels-idx1-ubyte", lab, sizeof lab);
}

/* An MLP VAE for SIDE x SIDE images, saved as model.vae. */
static void write_image_model(const char *dir)
{
    const int64_t in[3] = {1, SIDE, SIDE}, lat = LATENT, out[3] = {1, SIDE, SIDE};
    vae_graph *enc, *dec;
    vae_model *m;
    char path[600];

    assert_int_equal(vae_graph_new(&enc), VAE_OK);
    assert_int_equal(vae_graph_new(&dec), VAE_OK);
    vae_graph_set_output(enc, vae_graph_relu(enc, vae_graph_dense(
        enc, vae_graph_flatten(enc, vae_graph_input(enc, in, 3)), 16)));
    vae_graph_set_output(dec, vae_graph_reshape(dec, vae_graph_dense(
        dec, vae_graph_input(dec, &lat, 1), SIDE * SIDE), out, 3));
    assert_int_equal(vae_model_new(enc, dec, LATENT, VAE_LIKELIHOOD_BERNOULLI,
                                   7, &m, NULL, 0), VAE_OK);
    snprintf(path, sizeof path, "%s/model.vae", dir);
    assert_int_equal(vae_model_save(m, NULL, path), VAE_OK);
    vae_model_free(m);
    vae_graph_free(enc);
    vae_graph_free(dec);
}

static const char corpus_text[] =
    "the cat sees the dog .\na dog likes the red ball .\nshe reads a book .\n"
    "he finds an old letter today .\nthe bird sings .\nmy friend paints "
    "the river at night .\nthe teacher wants music .\na cat eats .\n"
    "the old man walks slowly in the park .\nshe likes the house .\n";

/* A bowman sentence VAE with a tokenizer (`kind`, tokenizer.h) of the
 * corpus in its metadata, saved as text.vae (untrained: the API's checks
 * do not need a good model), and the corpus, repeated so its test split
 * is not empty. */
static void write_text_model(const char *dir, int kind)
{
    text_sentences s = {0};
    text_tokenizer *v = NULL;
    struct text_arch t = {.arch = ARCH_BOWMAN, .maxlen = 10, .embed = 8,
                          .hidden = 8, .latent = LATENT};
    vae_model *m = NULL;
    char path[600];
    FILE *f;

    for (const char *p = corpus_text; *p;) {
        size_t n = strcspn(p, "\n");
        assert_int_equal(text_sentences_add(&s, p, n, NULL, 0), 0);
        p += n + (p[n] == '\n');
    }
    assert_int_equal(text_tokenizer_build(kind, &s,
                                          kind == TEXT_TOK_WORDS ? 100 : 300,
                                          &v, NULL, 0),
                     0);
    t.vocab = (int64_t)text_tokenizer_size(v);
    assert_int_equal(text_make_model(&t, 3, &m), 0);
    assert_int_equal(text_attach_metadata(m, &t, v, NULL), 0);
    snprintf(path, sizeof path, "%s/text.vae", dir);
    assert_int_equal(vae_model_save(m, NULL, path), VAE_OK);
    snprintf(path, sizeof path, "%s/corpus.txt", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 4; i++)
        fputs(corpus_text, f);
    assert_int_equal(fclose(f), 0);
    vae_model_free(m);
    text_tokenizer_free(v);
    text_sentences_free(&s);
}

/* text: 0 an image model, else a sentence model with tokenizer text - 1. */
static int start(void **state, int text)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct explore_config cfg = {0};
    char model[600], data[600];

    assert_non_null(fx);
    assert_int_equal(test_dir_make(fx->dir, sizeof fx->dir, "explore"), 0);
    snprintf(model, sizeof model, "%s/%s", fx->dir,
             text ? "text.vae" : "model.vae");
    if (text) {
        write_text_model(fx->dir, text - 1);
        snprintf(data, sizeof data, "%s/corpus.txt", fx->dir);
        cfg.corpus = "lines";
    } else {
        write_idx(fx->dir);
        write_image_model(fx->dir);
        snprintf(data, sizeof data, "%s", fx->dir);
    }
    cfg.model = model;
    cfg.data = data;
    cfg.map_limit = 1000;
    cfg.seed = 1;
    assert_int_equal(explore_open(&fx->e, &cfg), 0);
    assert_int_equal(
        explore_server_start(&fx->e, "127.0.0.1", 0, &fx->srv, &fx->port), 0);
    assert_true(fx->port > 0);
    *state = fx;
    return 0;
}

static int start_image(void **state) { return start(state, 0); }
static int start_text(void **state)
{
    return start(state, 1 + TEXT_TOK_WORDS);
}
static int start_subword(void **state)
{
    return start(state, 1 + TEXT_TOK_SENTENCEPIECE);
}

static int stop(void **state)
{
    struct fixture *fx = *state;
    explore_server_stop(fx->srv);
    explore_close(&fx->e);
    test_dir_remove(fx->dir);
    free(fx);
    return 0;
}

/* ---- Image model ---------------------------------------------------------------- */

static void test_image_routes(void **state)
{
    struct fixture *fx = *state;
    const unsigned p = fx->port;
    struct reply r = request(p, "GET", "/", NULL, NULL);

    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.all, "Content-Security-Policy: default-src 'none'"));
    assert_non_null(strstr(r.body, "<script src=\"/explore.js\">"));
    reply_free(&r);
    expect(request(p, "GET", "/explore.js", NULL, NULL), 200, "use strict");
    expect(request(p, "GET", "/api/info", NULL, NULL), 200,
           "\"kind\":\"image\"");
    expect(request(p, "GET", "/api/info", NULL, NULL), 200,
           "\"data_shape\":[1,8,8]");
    expect(request(p, "GET", "/api/map", NULL, NULL), 200, "\"points\":[[");
    expect(post(p, "/api/decode", "{\"z\":[0,0.5,-1]}"), 200, "\"image\":[");
    expect(post(p, "/api/encode", "{\"index\":11}"), 200, "\"coords\":[");
    expect(post(p, "/api/sample", "{\"n\":3}"), 200, "\"samples\":[");
    expect(post(p, "/api/interpolate",
                "{\"from\":{\"index\":0},\"to\":{\"z\":[1,2,3]},\"steps\":4}"),
           200, "\"t\":1");
}

static void test_bad_requests(void **state)
{
    struct fixture *fx = *state;
    const unsigned p = fx->port;
    char *big = malloc(EXPLORE_MAX_BODY + 64);
    char head[256];
    struct reply r;

    expect(post(p, "/api/decode", "{\"z\":[0,0,"), 400, "malformed JSON");
    expect(post(p, "/api/decode", "[1,2,3]"), 400, "JSON object");
    expect(post(p, "/api/decode", ""), 400, "empty body");
    expect(post(p, "/api/decode", "{\"z\":[0,0]}"), 400, "array of 3 numbers");
    expect(post(p, "/api/decode", "{\"z\":[0,0,0,0]}"), 400, "array of 3");
    expect(post(p, "/api/decode", "{\"z\":[NaN,0,0]}"), 400, "malformed JSON");
    expect(post(p, "/api/decode", "{\"z\":[\"NaN\",0,0]}"), 400, "z[0]");
    expect(post(p, "/api/decode", "{\"z\":[1e999,0,0]}"), 400, "malformed");
    expect(post(p, "/api/decode", "{\"z\":[1e300,0,0]}"), 400, "z[0]");
    expect(post(p, "/api/decode", "{\"z\":[0,0,0],\"zz\":1}"), 400,
           "unknown field 'zz'");
    expect(post(p, "/api/decode", "{\"z\":[0,0,0],\"z\":[0,0,0]}"), 400,
           "malformed JSON");
    expect(post(p, "/api/encode", "{\"index\":12}"), 400, "[0, 11]");
    expect(post(p, "/api/encode", "{\"index\":-1}"), 400, "item index");
    expect(post(p, "/api/encode", "{\"sentence\":\"a cat\"}"), 400,
           "text model");
    expect(post(p, "/api/sample", "{\"n\":65}"), 400, "[1, 64]");
    expect(post(p, "/api/sample", "{\"n\":2.5}"), 400, "integer");
    expect(post(p, "/api/interpolate", "{\"from\":{\"index\":0}}"), 400,
           "to: expected one of");
    expect(post(p, "/api/interpolate",
                "{\"from\":{\"index\":0,\"z\":[0,0,0]},\"to\":{\"index\":1}}"),
           400, "from: expected one of");
    expect(post(p, "/api/interpolate",
                "{\"from\":{\"index\":0},\"to\":{\"index\":1},\"steps\":33}"),
           400, "steps");
    expect(request(p, "GET", "/api/nothing", NULL, NULL), 404, "no route");
    expect(request(p, "GET", "/etc/passwd", NULL, NULL), 404, "no such page");
    expect(request(p, "GET", "/api/decode", NULL, NULL), 405, "not allowed");
    expect(request(p, "DELETE", "/api/info", NULL, NULL), 405, "not allowed");
    expect(request(p, "POST", "/api/decode",
                   "application/x-www-form-urlencoded", "z=1"),
           415, "application/json");
    expect(request(p, "POST", "/api/decode", NULL, "{\"z\":[0,0,0]}"), 415,
           "application/json");
    /* A foreign Host reached a loopback server through DNS rebinding. */
    snprintf(head, sizeof head,
             "GET /api/info HTTP/1.1\r\nHost: attacker.example:%u\r\n"
             "Connection: close\r\n\r\n", p);
    expect(raw(p, head, strlen(head)), 403, "Host");
    /* Oversized: a declared length is refused before the body is read,
     * a body that runs past the limit as soon as it does. */
    assert_non_null(big);
    memset(big, ' ', EXPLORE_MAX_BODY + 63);
    big[0] = '{';
    big[EXPLORE_MAX_BODY + 62] = '}';
    big[EXPLORE_MAX_BODY + 63] = '\0';
    expect(post(p, "/api/decode", big), 413, "too large");
    snprintf(head, sizeof head,
             "POST /api/decode HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Content-Type: application/json\r\nConnection: close\r\n"
             "Transfer-Encoding: chunked\r\n\r\n");
    {
        size_t hl = strlen(head), chunks = 5, cl = 16384;
        char *req = malloc(hl + chunks * (cl + 16) + 8), *q = req;
        assert_non_null(req);
        memcpy(q, head, hl);
        q += hl;
        for (size_t i = 0; i < chunks; i++) {
            q += sprintf(q, "%zx\r\n", cl);
            memset(q, ' ', cl);
            q += cl;
            q += sprintf(q, "\r\n");
        }
        q += sprintf(q, "0\r\n\r\n");
        r = raw(p, req, (size_t)(q - req));
        /* The server may close before it could read the rest, and the
         * client may then see a reset instead of the answer; either way
         * nothing was accepted. */
        assert_true(r.status == 413 || r.status == -1);
        reply_free(&r);
        free(req);
    }
    free(big);
    expect(request(p, "GET", "/api/info", NULL, NULL), 200, "\"latent\":3");
}

/* Bounded: 1000 requests, each of which ends by itself; the server must
 * answer all, good and bad alike, and still answer after. */
static void test_many_requests(void **state)
{
    struct fixture *fx = *state;
    static const char *const bodies[] = {
        "{\"z\":[0.1,0.2,0.3]}", "{\"z\":[1]}", "{oops", "{\"z\":[0,0,0]}"};
    static const int codes[] = {200, 400, 400, 200};

    for (int i = 0; i < 1000; i++) {
        struct reply r = post(fx->port, "/api/decode", bodies[i % 4]);
        if (r.status != codes[i % 4])
            fail_msg("request %d: %s", i, r.all);
        reply_free(&r);
    }
    expect(request(fx->port, "GET", "/api/info", NULL, NULL), 200, "image");
}

/* ---- Text model ----------------------------------------------------------------- */

static void test_text_routes(void **state)
{
    struct fixture *fx = *state;
    const unsigned p = fx->port;

    expect(request(p, "GET", "/api/info", NULL, NULL), 200,
           "\"kind\":\"text\"");
    expect(request(p, "GET", "/api/info", NULL, NULL), 200,
           "\"modes\":[\"greedy\",\"sample\",\"topk\",\"topp\"]");
    expect(request(p, "GET", "/api/map", NULL, NULL), 200, "\"labels\":[");
    expect(post(p, "/api/decode", "{\"z\":[0,0,0]}"), 200, "\"sentence\":");
    expect(post(p, "/api/sample",
                "{\"n\":4,\"mode\":\"topk\",\"top_k\":3,\"temperature\":0.7}"),
           200, "\"sentence\":");
    expect(post(p, "/api/encode", "{\"sentence\":\"The cat sees a zebra.\"}"),
           200, "\"input\":\"the cat sees a <unk>.\"");
    expect(post(p, "/api/encode", "{\"index\":0}"), 200, "\"label\":\"");
    expect(post(p, "/api/interpolate",
                "{\"from\":{\"sentence\":\"the cat .\"},"
                "\"to\":{\"sentence\":\"she reads a book .\"},\"steps\":3}"),
           200, "\"from\":\"the cat.\"");
    expect(post(p, "/api/encode", "{\"sentence\":\"   \"}"), 400, "no tokens");
    expect(post(p, "/api/encode", "{\"sentence\":\"a\\u0000b\"}"), 400,
           "malformed JSON");
    expect(post(p, "/api/sample", "{\"mode\":\"beam\"}"), 400, "mode");
    expect(post(p, "/api/sample", "{\"n\":3,\"mode\":\"topp\",\"top_p\":0.5}"),
           200, "\"sentence\":");
    expect(post(p, "/api/sample", "{\"mode\":\"topp\",\"top_p\":1.5}"), 400,
           "top_p");
    expect(post(p, "/api/sample", "{\"top_p\":0}"), 400, "top_p");
    expect(post(p, "/api/sample", "{\"temperature\":0}"), 400, "temperature");
    expect(post(p, "/api/sample", "{\"top_k\":100000}"), 400, "top_k");
    expect(post(p, "/api/encode", "{\"sentence\":7}"), 400, "sentence");
}

/* A subword model: the same routes, and a word the corpus never had comes
 * back whole (byte pieces) instead of as <unk>. */
static void test_subword_routes(void **state)
{
    struct fixture *fx = *state;
    const unsigned p = fx->port;

    expect(request(p, "GET", "/api/info", NULL, NULL), 200,
           "\"kind\":\"text\"");
    expect(request(p, "GET", "/api/map", NULL, NULL), 200, "\"labels\":[");
    expect(post(p, "/api/decode", "{\"z\":[0,0,0]}"), 200, "\"sentence\":");
    expect(post(p, "/api/sample", "{\"n\":2,\"mode\":\"sample\"}"), 200,
           "\"sentence\":");
    expect(post(p, "/api/encode", "{\"sentence\":\"A zebra!\"}"), 200,
           "\"input\":\"a zebra!\"");
    expect(post(p, "/api/interpolate",
                "{\"from\":{\"sentence\":\"the cat .\"},"
                "\"to\":{\"sentence\":\"she reads a book .\"},\"steps\":3}"),
           200, "\"from\":\"the cat.\"");
}

int main(void)
{
    const struct CMUnitTest image[] = {
        cmocka_unit_test(test_image_routes),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_many_requests),
    };
    const struct CMUnitTest text[] = {
        cmocka_unit_test(test_text_routes),
    };
    const struct CMUnitTest subword[] = {
        cmocka_unit_test(test_subword_routes),
    };
    return cmocka_run_group_tests_name("image model", image, start_image,
                                       stop) |
           cmocka_run_group_tests_name("text model", text, start_text, stop) |
           cmocka_run_group_tests_name("subword text model", subword,
                                       start_subword, stop);
}
