/* testutil.h - shared helpers for the cmocka tests: a test-side random
 * generator (independent of the library's, so test data never depends on the
 * code under test), tolerant comparisons, and small graph/model builders. */
#ifndef VAE_TESTUTIL_H
#define VAE_TESTUTIL_H

/* cmocka needs these before its own header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "graph.h"
#include "ops/ops.h" /* op codes, the table, vae_node, vae_run */
#include "vae.h"

/* splitmix64: tiny and fully specified. */
typedef struct tu_rng {
    uint64_t s;
} tu_rng;

void tu_seed(tu_rng *r, uint64_t seed);
/* Uniform in [lo, hi). */
double tu_uniform(tu_rng *r, double lo, double hi);
/* Standard normal. */
double tu_normal(tu_rng *r);
void tu_fill_uniform(tu_rng *r, float *p, int64_t n, double lo, double hi);

/* |a - b| <= tol * max(1, |a|, |b|): relative for large values, absolute
 * near zero, where a relative test would demand impossible digits. */
int tu_close(double a, double b, double tol);

#define TU_ASSERT_CLOSE(a, b, tol, what)                                   \
    do {                                                                   \
        double tu_a_ = (a), tu_b_ = (b);                                   \
        if (!tu_close(tu_a_, tu_b_, (tol)))                                \
            fail_msg("%s: %.10g vs %.10g (diff %.3g, tol %.3g)", (what),   \
                     tu_a_, tu_b_, tu_a_ - tu_b_, (double)(tol));          \
    } while (0)

/* TU_ASSERT_CLOSE, and *worst raised to the relative disagreement
 * |got - want| / max(1, |got|, |want|) seen, so tests can report how close
 * to the tolerance they run. */
void tu_expect_close(double got, double want, double tol, const char *what,
                     double *worst);

/* malloc that fails the test instead of returning NULL; n may be 0. */
void *tu_alloc(size_t n);
/* What vae_model_save would write for m and o (o may be NULL), in a new
 * buffer of *len bytes: the bytes tests compare to show that a refused call
 * changed nothing. */
unsigned char *tu_save_image(vae_model *m, const vae_adam *o, size_t *len);
/* Array of n floats copied from src. */
float *tu_dup(const float *src, int64_t n);

/* One layer of a test network; op is an internal VAE_OP_* code. Fields a
 * layer does not use stay 0. */
typedef struct tu_layer {
    int32_t op;
    int64_t units; /* dense: units; conv2d, conv2d_transpose: out channels;
                      embedding: dim; lstm: hidden (full sequence, no init,
                      no mask); repeat: times */
    float slope;   /* leaky relu; token_dropout: rate; batch_norm: gamma
                      (0 learned) */
    int64_t kernel, stride, padding; /* conv2d, conv2d_transpose */
    int32_t rank;  /* reshape, data: the shape; rank 0 means flatten */
    int64_t dims[VAE_MAX_RANK];
    int64_t vocab; /* embedding */
    float token;   /* shift_right: bos; token_dropout: unk */
} tu_layer;

#define TU_DENSE(u) {VAE_OP_DENSE, (u), 0.0f, 0, 0, 0, 0, {0}, 0, 0.0f}
#define TU_ACT(op) {(op), 0, 0.0f, 0, 0, 0, 0, {0}, 0, 0.0f}
#define TU_LEAKY(s) {VAE_OP_LEAKY_RELU, 0, (s), 0, 0, 0, 0, {0}, 0, 0.0f}
#define TU_CONV(c, k, s, p)                                                \
    {VAE_OP_CONV2D, (c), 0.0f, (k), (s), (p), 0, {0}, 0, 0.0f}
#define TU_CONVT(c, k, s, p)                                               \
    {VAE_OP_CONV2D_TRANSPOSE, (c), 0.0f, (k), (s), (p), 0, {0}, 0, 0.0f}
#define TU_FLATTEN {VAE_OP_RESHAPE, 0, 0.0f, 0, 0, 0, 0, {0}, 0, 0.0f}
#define TU_RESHAPE3(a, b, c)                                               \
    {VAE_OP_RESHAPE, 0, 0.0f, 0, 0, 0, 3, {(a), (b), (c), 0}, 0, 0.0f}
#define TU_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Adds one layer on node x through the public builder (data, a source,
 * ignores x; concat joins x with itself); returns its node id or status. */
int32_t tu_add_layer(vae_graph *g, int32_t x, const tu_layer *l);
/* Graph: input of shape dims[0..rank-1] -> layers in order; the last layer
 * is the output. Fails the test if any builder call fails. */
vae_graph *tu_graph_nd(const int64_t *dims, int32_t rank,
                       const tu_layer *layers, int n);
/* A new graph holding only its input node 0, of shape dims[0..rank-1];
 * fails the test if either call fails. */
vae_graph *tu_graph_input(const int64_t *dims, int32_t rank);
/* tu_graph_nd with a vector input [in]. */
vae_graph *tu_graph(int64_t in, const tu_layer *layers, int n);
/* Model from two such graphs; fails the test on error. */
vae_model *tu_model(int64_t data, const tu_layer *enc, int n_enc,
                    int64_t latent, const tu_layer *dec, int n_dec,
                    int32_t likelihood, uint64_t seed);

/* ---- Op harness: one op node driven directly through the op table ----
 *
 * The node's inputs are source nodes (input 0 the graph input, the others
 * data nodes) and the test owns every buffer. Gradient checks use the loss
 * L = sum(val * R) for a fixed random R, so dL/dval = R exercises backward
 * with a dense, non-uniform upstream gradient. L is summed in double; the
 * op itself runs in float32. */

/* One input of an op under test. */
typedef struct tu_input {
    int32_t rank;
    int64_t dims[VAE_MAX_RANK];
    int64_t id_max; /* > 0: token ids in [0, id_max) stored as floats (0, the
                       padding id, included); the op must leave their
                       gradient alone. 0: ordinary float values. */
} tu_input;

typedef struct tu_harness {
    vae_graph *g;
    const vae_op *op;
    /* ins[k] is input k; `in` names input 0, which single-input tests use. */
    union {
        vae_node in;
        vae_node ins[VAE_MAX_INPUTS];
    };
    int n_in;
    int64_t id_max[VAE_MAX_INPUTS];
    vae_node node;
    vae_rng rng; /* the node's generator, seeded from the harness seed */
    vae_run run; /* node.run: training 1, carry 0; tests may change both */
    float *w, *dw, *r;
    int64_t batch;
    float fd_step; /* central-difference step, TU_FD_H unless changed */
} tu_harness;

/* The harness's node.slots: its scratch holds this many chunks of a batch
 * at once, which ops that split a batch use with as many pool threads. */
#define TU_SLOTS 3

/* Central-difference step for smooth, nonlinear functions: truncation error
 * O(h^2) against float32 rounding noise O(1/h). */
#define TU_FD_H 1e-3f

/* Builds input dims[0..rank-1] -> layer for `batch` examples. Inputs get
 * |v| in [0.2, 1.5] with random signs (away from activation kinks),
 * weights U(-0.8, 0.8), R U(-1, 1), all from `seed`. The op's scratch, saved
 * and state buffers (if any) start as NaN, so an op that reads one before
 * writing it shows up. */
void tu_harness_init(tu_harness *h, const int64_t *dims, int32_t rank,
                     const tu_layer *layer, int64_t batch, uint64_t seed);
/* As tu_harness_init for an op with n_in inputs (1..VAE_MAX_INPUTS) added
 * with vae_graph_add(op, iattr, fattr), so its shape function sees the
 * inputs' real specs. Float inputs are filled as above, id inputs with
 * uniform ids in [0, id_max), in input order, then weights, then R. */
void tu_harness_init_op(tu_harness *h, const tu_input *ins, int n_in,
                        int32_t op, const int64_t *iattr, int n_iattr,
                        const float *fattr, int n_fattr, int64_t batch,
                        uint64_t seed);
void tu_harness_free(tu_harness *h);
/* Floats of input 0, of input k, of the output, for the whole batch. */
int64_t tu_in_count(const tu_harness *h);
int64_t tu_input_count(const tu_harness *h, int k);
int64_t tu_out_count(const tu_harness *h);
/* The op's forward pass; val starts as NaN, so it must all be written. */
void tu_forward(tu_harness *h);
/* Forward, then backward with dL/dval = R, adding into whatever the input
 * and parameter gradients already hold. */
void tu_backward(tu_harness *h);
/* Every float input's and every parameter's gradient against central
 * differences of L: |analytic - numeric| <= tol * max(1, |analytic|,
 * |numeric|); id inputs' gradients must stay exactly 0. Returns the largest
 * |analytic - numeric| / max(1, |analytic|, |numeric|) seen, so tests can
 * report how close to the tolerance they run. */
double tu_check_grads(tu_harness *h, const char *what, double tol);
/* The values tu_check_grads has compared with central differences for op
 * code `op` so far in this process (0 for a code outside the table): the
 * record by which tests/ops/walk.c finds ops without a gradient check. */
int64_t tu_fd_checked(int32_t op);
/* For an op with nothing to differentiate: every input holds ids (id_max >
 * 0) and the node owns no parameters, so there is no gradient for central
 * differences to check (token ids in, token ids out). Fails the test if
 * an input holds floats or the node has parameters; checks that backward
 * leaves the inputs' gradients exactly as they were; and records the op
 * (tu_no_grads_checked) for tests/ops/walk.c. */
void tu_check_no_grads(tu_harness *h, const char *what);
int tu_no_grads_checked(int32_t op);
/* backward adds into existing gradients (and leaves id inputs' gradients
 * as they were), and skips any one NULL input gradient while still
 * computing every other gradient. */
void tu_check_accumulates(tu_harness *h);

/* The layer's init (seed 42) puts weights and n_bias trailing biases
 * uniformly in +-1/sqrt(fan_in), PyTorch's default: all within the bound,
 * the largest weight above wfrac * bound, the largest bias above 0.25 *
 * bound, the mean within 0.25 * bound of 0 (spread, not constant). */
void tu_check_init(const int64_t *dims, int32_t rank, const tu_layer *layer,
                   int64_t fan_in, int64_t n_bias, double wfrac);

/* The gradient of a model's training loss (beta 1, no free bits: -batch
 * ELBO) wrt every parameter, from vae_model_elbo_grad, against central
 * differences with step h, the same z draws (z_seed) in every evaluation.
 * Asserts each within tol and that the gradient is not all zero; returns
 * the largest relative disagreement. */
double tu_check_model_grads(vae_model *m, const float *x, int64_t batch,
                            uint64_t z_seed, float h, double tol);

/* A model whose decoder output goes through in chunks of `chunk`
 * examples (model.c's out_chunk, forced small) against the same model in
 * one piece: ELBO, gradient (also with train_samples 3), log p(x|z), IWAE
 * and reconstruction agree, and the chunked path is shown to have run.
 * whole and chunked are built alike with the same seed; x holds `batch`
 * examples, batch > chunk. */
void tu_check_out_chunks(vae_model *whole, vae_model *chunked, const float *x,
                         int64_t batch, int64_t chunk);

/* ---- The record of argument checks (checks.c) ---------------------------
 *
 * Every public function is called with each kind of bad argument it can
 * get: the op builders (the VAE_API functions of src/ops) in their op's
 * tests/ops/test_<file>.c, run by test_ops, the rest in
 * tests/test_api_validation.c. Each check records the function it called
 * and what it covered, so that each program can fail for a function of its
 * share without checks, and print its share of the table of
 * docs/reliability.md with VAE_VALIDATION_TABLE=1 in the environment. */

/* Longest function name the record and the source readers take, plus 1. */
#define TU_NAME_LEN 48

/* Records a check, covering `what`, of the function whose call text is
 * `call` (its name: the text before the first '(' or space, after any
 * leading parentheses and spaces). */
void tu_check_note(const char *call, const char *what);
/* Records the check, then requires got == want and, when want is a failure
 * and msg is not NULL, a message in msg (NULL: the call has nowhere to put
 * one). */
void tu_check_expect(const char *call, const char *what, int64_t got,
                     int64_t want, const char *msg);
/* The call with status `status`; `msg` is evaluated after the call. */
#define TU_EXPECT(what, status, call, msg)                                  \
    do {                                                                    \
        int64_t tu_got_ = (int64_t)(call);                                  \
        tu_check_expect(#call, (what), tu_got_, (status), (msg));           \
    } while (0)
#define TU_NO_MSG NULL
/* A check that is not a status comparison. */
#define TU_NOTE(call, what) tu_check_note(#call, (what))

/* The checks recorded for the function `name` so far in this process. */
int tu_checks_of(const char *name);
/* The functions with checks, in the order of their first check. */
int tu_checked_count(void);
const char *tu_checked_name(int i);
/* With VAE_VALIDATION_TABLE=1 in the environment: the markdown table of the
 * functions with checks, their counts and what they covered, and a line
 * "N functions, M checks". Otherwise nothing. */
void tu_checks_table(void);

/* ---- Public functions in source files (checks.c) ------------------------ */

/* The text of a file, NUL-terminated, for the caller to free; fails the
 * test when the file cannot be read. */
char *tu_read_text(const char *path);
/* The C files of a directory: base names without ".c", and their text. */
typedef struct tu_c_file {
    char stem[64];
    char *text;
} tu_c_file;
/* Reads at most cap of them (more fails the test), sorted by name; returns
 * how many. */
int tu_read_c_files(const char *dir, tu_c_file *files, int cap);
void tu_free_c_files(tu_c_file *files, int n);
/* The next public function of a source text from *text on: the name on a
 * line that starts "VAE_API " (in this project the name and its '(' are on
 * that line). Writes it to name (cap bytes), moves *text past the line and
 * returns 1; 0 when there is none. */
int tu_next_api_function(const char **text, char *name, size_t cap);

/* The op builders: the public functions defined in the C files of
 * src/ops (ops_dir), each with its file's base name. test_api_validation
 * leaves their checks to test_ops, whose table walk requires them. */
typedef struct tu_builder {
    char name[TU_NAME_LEN];
    char stem[64];
} tu_builder;
/* Finds at most cap (more fails the test, as does none); returns how many. */
int tu_op_builders(const char *ops_dir, tu_builder *out, int cap);
int tu_is_op_builder(const char *name, const tu_builder *builders, int n);

#endif
