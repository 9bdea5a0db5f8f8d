/* graph.c - the graph builder: validated node specs with sticky errors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "graph.h"

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

int32_t vae_graph_add(vae_graph *g, const vae_op *impl, const int32_t *inputs,
                      int32_t n_inputs, const int64_t *iattr, int32_t n_iattr,
                      const float *fattr, int32_t n_fattr)
{
    if (!g)
        return VAE_ERR_INVALID_ARG;
    if (g->status != VAE_OK)
        return g->status;
    int32_t op = impl->code;
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

int32_t vae_graph_add_shaped(vae_graph *g, const vae_op *op,
                             const int32_t *x, int32_t n_inputs,
                             const int64_t *dims, int32_t rank)
{
    if (!g)
        return VAE_ERR_INVALID_ARG;
    if (!dims)
        return vae_graph_fail(g, VAE_ERR_INVALID_ARG, "%s: dims is NULL",
                              op->name);
    if (rank < 1 || rank > VAE_MAX_RANK)
        return vae_graph_fail(g, VAE_ERR_SHAPE, "%s: rank %d not in 1..%d",
                              op->name, (int)rank, VAE_MAX_RANK);
    int64_t attr[VAE_N_IATTR] = {[VAE_SHAPED_RANK] = rank};
    for (int32_t i = 0; i < rank; i++)
        attr[VAE_SHAPED_DIMS + i] = dims[i];
    return vae_graph_add(g, op, x, n_inputs, attr, VAE_SHAPED_DIMS + rank,
                         NULL, 0);
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
