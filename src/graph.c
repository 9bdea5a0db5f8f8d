/* graph.c - the graph builder: validated node specs with sticky errors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "graph.h"
#include "ops/ops.h"

VAE_API int32_t vae_graph_new(vae_graph **out)
{
    if (!out)
        return VAE_ERR_INVALID_ARG;
    *out = NULL;
    vae_graph *g = vae_calloc(1, sizeof *g);
    if (!g)
        return VAE_ERR_NOMEM;
    g->output = -1;
    *out = g;
    return VAE_OK;
}

VAE_API void vae_graph_free(vae_graph *g)
{
    if (!g)
        return;
    free(g->nodes);
    free(g);
}

VAE_API int32_t vae_graph_status(const vae_graph *g)
{
    return g ? g->status : VAE_ERR_INVALID_ARG;
}

VAE_API const char *vae_graph_last_error(const vae_graph *g)
{
    return g ? g->err : "graph is NULL";
}

int32_t vae_graph_fail(vae_graph *g, int32_t status, const char *fmt, ...)
{
    if (g->status != VAE_OK)
        return g->status;
    g->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->err, sizeof g->err, fmt, ap);
    va_end(ap);
    return status;
}

int32_t vae_graph_add(vae_graph *g, int32_t op, const int32_t *inputs,
                      int32_t n_inputs, const int64_t *iattr, int32_t n_iattr,
                      const float *fattr, int32_t n_fattr)
{
    if (!g)
        return VAE_ERR_INVALID_ARG;
    if (g->status != VAE_OK)
        return g->status;
    const vae_op *impl = vae_op_get(op);
    if (!impl)
        return vae_graph_fail(g, VAE_ERR_INVALID_ARG, "unknown op code %d",
                              (int)op);
    if (n_inputs < 0 || n_inputs > VAE_MAX_INPUTS || n_iattr < 0 ||
        n_iattr > VAE_N_IATTR || n_fattr < 0 || n_fattr > VAE_N_FATTR)
        return vae_graph_fail(g, VAE_ERR_INVALID_ARG,
                              "%s: bad input or attribute count", impl->name);
    if (g->n >= VAE_MAX_NODES)
        return vae_graph_fail(g, VAE_ERR_RANGE, "graph has too many nodes (max %d)",
                              VAE_MAX_NODES);

    vae_node_spec s;
    memset(&s, 0, sizeof s);
    s.op = op;
    s.n_inputs = n_inputs;
    const vae_node_spec *in[VAE_MAX_INPUTS] = {0};
    for (int32_t i = 0; i < n_inputs; i++) {
        if (inputs[i] < 0 || inputs[i] >= g->n)
            return vae_graph_fail(g, VAE_ERR_GRAPH,
                                  "%s: input %d is node %d, which does not exist",
                                  impl->name, (int)i, (int)inputs[i]);
        s.inputs[i] = inputs[i];
        in[i] = &g->nodes[inputs[i]];
    }
    for (int32_t i = 0; i < n_iattr; i++)
        s.iattr[i] = iattr[i];
    for (int32_t i = 0; i < n_fattr; i++)
        s.fattr[i] = fattr[i];
    if (op == VAE_OP_INPUT && g->n > 0)
        return vae_graph_fail(g, VAE_ERR_GRAPH,
                              "input: a graph has exactly one input, node 0");
    if (op != VAE_OP_INPUT && g->n == 0)
        return vae_graph_fail(g, VAE_ERR_GRAPH,
                              "%s: the first node of a graph must be its input",
                              impl->name);

    char msg[VAE_ERRLEN] = "";
    int32_t st = impl->shape(&s, in, msg, sizeof msg);
    if (st != VAE_OK)
        return vae_graph_fail(g, st, "%s: %s", impl->name, msg);

    if (g->n == g->cap) {
        int32_t cap = g->cap ? g->cap * 2 : 16;
        vae_node_spec *p = vae_realloc(g->nodes, (size_t)cap * sizeof *p);
        if (!p)
            return vae_graph_fail(g, VAE_ERR_NOMEM, "out of memory adding a node");
        g->nodes = p;
        g->cap = cap;
    }
    g->nodes[g->n] = s;
    return g->n++;
}

int32_t vae_graph_copy(const vae_graph *src, vae_graph **out)
{
    int32_t st = vae_graph_new(out);
    if (st != VAE_OK)
        return st;
    vae_graph *g = *out;
    if (src->n > 0) {
        g->nodes = vae_malloc((size_t)src->n * sizeof *g->nodes);
        if (!g->nodes) {
            vae_graph_free(g);
            *out = NULL;
            return VAE_ERR_NOMEM;
        }
        memcpy(g->nodes, src->nodes, (size_t)src->n * sizeof *g->nodes);
    }
    g->n = g->cap = src->n;
    g->output = src->output;
    g->status = src->status;
    memcpy(g->err, src->err, sizeof g->err);
    return VAE_OK;
}

int32_t vae_graph_check_complete(const vae_graph *g, const char *what,
                                 char *err, size_t errlen)
{
    if (!g) {
        vae_set_err(err, errlen, "%s graph is NULL", what);
        return VAE_ERR_INVALID_ARG;
    }
    if (g->status != VAE_OK) {
        vae_set_err(err, errlen, "%s graph has an error: %s", what, g->err);
        return g->status;
    }
    if (g->n == 0 || g->nodes[0].op != VAE_OP_INPUT) {
        vae_set_err(err, errlen, "%s graph has no input", what);
        return VAE_ERR_GRAPH;
    }
    if (g->output < 0) {
        vae_set_err(err, errlen, "%s graph has no output (vae_graph_set_output)",
                    what);
        return VAE_ERR_GRAPH;
    }
    return VAE_OK;
}

/* ---- Public builder calls: thin wrappers over vae_graph_add. ---------- */

/* Input and reshape carry a shape in iattr: rank, then the dims. */
static int32_t add_shaped(vae_graph *g, int32_t op, const int32_t *x,
                          int32_t n_inputs, const int64_t *dims, int32_t rank,
                          const char *name)
{
    if (!g)
        return VAE_ERR_INVALID_ARG;
    if (!dims)
        return vae_graph_fail(g, VAE_ERR_INVALID_ARG, "%s: dims is NULL", name);
    if (rank < 1 || rank > VAE_MAX_RANK)
        return vae_graph_fail(g, VAE_ERR_SHAPE, "%s: rank %d not in 1..%d", name,
                              (int)rank, VAE_MAX_RANK);
    int64_t attr[VAE_N_IATTR] = {rank};
    for (int32_t i = 0; i < rank; i++)
        attr[1 + i] = dims[i];
    return vae_graph_add(g, op, x, n_inputs, attr, 1 + rank, NULL, 0);
}

VAE_API int32_t vae_graph_input(vae_graph *g, const int64_t *dims, int32_t rank)
{
    return add_shaped(g, VAE_OP_INPUT, NULL, 0, dims, rank, "input");
}

VAE_API int32_t vae_graph_dense(vae_graph *g, int32_t x, int64_t units)
{
    return vae_graph_add(g, VAE_OP_DENSE, &x, 1, &units, 1, NULL, 0);
}

static int32_t unary(vae_graph *g, int32_t op, int32_t x)
{
    return vae_graph_add(g, op, &x, 1, NULL, 0, NULL, 0);
}

VAE_API int32_t vae_graph_relu(vae_graph *g, int32_t x)
{
    return unary(g, VAE_OP_RELU, x);
}

VAE_API int32_t vae_graph_leaky_relu(vae_graph *g, int32_t x, float slope)
{
    return vae_graph_add(g, VAE_OP_LEAKY_RELU, &x, 1, NULL, 0, &slope, 1);
}

VAE_API int32_t vae_graph_tanh(vae_graph *g, int32_t x)
{
    return unary(g, VAE_OP_TANH, x);
}

VAE_API int32_t vae_graph_sigmoid(vae_graph *g, int32_t x)
{
    return unary(g, VAE_OP_SIGMOID, x);
}

VAE_API int32_t vae_graph_softplus(vae_graph *g, int32_t x)
{
    return unary(g, VAE_OP_SOFTPLUS, x);
}

VAE_API int32_t vae_graph_identity(vae_graph *g, int32_t x)
{
    return unary(g, VAE_OP_IDENTITY, x);
}

/* iattr: out_channels, kernel, stride, padding. */
static int32_t conv(vae_graph *g, int32_t op, int32_t x, int64_t out_channels,
                    int64_t kernel, int64_t stride, int64_t padding)
{
    int64_t attr[4] = {out_channels, kernel, stride, padding};
    return vae_graph_add(g, op, &x, 1, attr, 4, NULL, 0);
}

VAE_API int32_t vae_graph_conv2d(vae_graph *g, int32_t x, int64_t out_channels,
                                 int64_t kernel, int64_t stride,
                                 int64_t padding)
{
    return conv(g, VAE_OP_CONV2D, x, out_channels, kernel, stride, padding);
}

VAE_API int32_t vae_graph_conv2d_transpose(vae_graph *g, int32_t x,
                                           int64_t out_channels, int64_t kernel,
                                           int64_t stride, int64_t padding)
{
    return conv(g, VAE_OP_CONV2D_TRANSPOSE, x, out_channels, kernel, stride,
                padding);
}

VAE_API int32_t vae_graph_reshape(vae_graph *g, int32_t x, const int64_t *dims,
                                  int32_t rank)
{
    return add_shaped(g, VAE_OP_RESHAPE, &x, 1, dims, rank, "reshape");
}

VAE_API int32_t vae_graph_flatten(vae_graph *g, int32_t x)
{
    if (!g)
        return VAE_ERR_INVALID_ARG;
    if (g->status != VAE_OK)
        return g->status;
    if (x < 0 || x >= g->n)
        return vae_graph_fail(g, VAE_ERR_GRAPH,
                              "flatten: input is node %d, which does not exist",
                              (int)x);
    int64_t size = g->nodes[x].size;
    return vae_graph_reshape(g, x, &size, 1);
}

VAE_API int32_t vae_graph_data(vae_graph *g, const int64_t *dims, int32_t rank)
{
    return add_shaped(g, VAE_OP_DATA, NULL, 0, dims, rank, "data");
}

/* iattr: vocab, dim, shared (1: the table lives in the encoder). */
VAE_API int32_t vae_graph_embedding(vae_graph *g, int32_t ids, int64_t vocab,
                                    int64_t dim)
{
    int64_t attr[3] = {vocab, dim, 0};
    return vae_graph_add(g, VAE_OP_EMBEDDING, &ids, 1, attr, 3, NULL, 0);
}

VAE_API int32_t vae_graph_embedding_shared(vae_graph *g, int32_t ids,
                                           int64_t vocab, int64_t dim)
{
    int64_t attr[3] = {vocab, dim, 1};
    return vae_graph_add(g, VAE_OP_EMBEDDING, &ids, 1, attr, 3, NULL, 0);
}

/* Inputs: x, then init if given, then mask if given. iattr: hidden,
 * full_sequence, has_init, has_mask; the op's shape rule adds T in iattr[4]
 * (its buffer sizes need it, and a last-state output does not show it).
 * Only -1 means "none": any other id is an input, so one that names no node
 * (-2, say) fails like every other unknown input. */
VAE_API int32_t vae_graph_lstm(vae_graph *g, int32_t x, int64_t hidden,
                               int32_t init, int32_t mask,
                               int32_t full_sequence)
{
    int32_t in[3] = {x};
    int32_t n = 1;
    if (init != -1)
        in[n++] = init;
    if (mask != -1)
        in[n++] = mask;
    int64_t attr[4] = {hidden, full_sequence, init != -1, mask != -1};
    return vae_graph_add(g, VAE_OP_LSTM, in, n, attr, 4, NULL, 0);
}

VAE_API int32_t vae_graph_repeat(vae_graph *g, int32_t x, int64_t times)
{
    return vae_graph_add(g, VAE_OP_REPEAT, &x, 1, &times, 1, NULL, 0);
}

VAE_API int32_t vae_graph_concat(vae_graph *g, int32_t a, int32_t b)
{
    int32_t in[2] = {a, b};
    return vae_graph_add(g, VAE_OP_CONCAT, in, 2, NULL, 0, NULL, 0);
}

VAE_API int32_t vae_graph_shift_right(vae_graph *g, int32_t ids, float bos)
{
    return vae_graph_add(g, VAE_OP_SHIFT_RIGHT, &ids, 1, NULL, 0, &bos, 1);
}

/* fattr: rate, unk. */
VAE_API int32_t vae_graph_token_dropout(vae_graph *g, int32_t ids, float rate,
                                        float unk)
{
    float attr[2] = {rate, unk};
    return vae_graph_add(g, VAE_OP_TOKEN_DROPOUT, &ids, 1, NULL, 0, attr, 2);
}

/* iattr: rank, then the permutation. */
VAE_API int32_t vae_graph_transpose(vae_graph *g, int32_t x, const int32_t *axes,
                                    int32_t rank)
{
    if (!g)
        return VAE_ERR_INVALID_ARG;
    if (!axes)
        return vae_graph_fail(g, VAE_ERR_INVALID_ARG, "transpose: axes is NULL");
    if (rank < 1 || rank > VAE_MAX_RANK)
        return vae_graph_fail(g, VAE_ERR_SHAPE, "transpose: rank %d not in 1..%d",
                              (int)rank, VAE_MAX_RANK);
    int64_t attr[VAE_N_IATTR] = {rank};
    for (int32_t i = 0; i < rank; i++)
        attr[1 + i] = axes[i];
    return vae_graph_add(g, VAE_OP_TRANSPOSE, &x, 1, attr, 1 + rank, NULL, 0);
}

VAE_API int32_t vae_graph_set_output(vae_graph *g, int32_t node)
{
    if (!g)
        return VAE_ERR_INVALID_ARG;
    if (g->status != VAE_OK)
        return g->status;
    if (node < 0 || node >= g->n)
        return vae_graph_fail(g, VAE_ERR_GRAPH,
                              "set_output: node %d does not exist", (int)node);
    g->output = node;
    return VAE_OK;
}

VAE_API int64_t vae_graph_node_size(const vae_graph *g, int32_t node)
{
    if (!g)
        return VAE_ERR_INVALID_ARG;
    if (node < 0 || node >= g->n)
        return VAE_ERR_GRAPH;
    return g->nodes[node].size;
}
