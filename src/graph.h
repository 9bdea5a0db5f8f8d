/* graph.h - the graph builder's internal form: a graph is an array of node
 * specs, each added through one validating path. */
#ifndef VAE_GRAPH_H
#define VAE_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"
#include "status.h"

struct vae_graph {
    vae_node_spec *nodes;
    int32_t n, cap;
    int32_t output; /* -1 until set */
    int32_t status;
    char err[VAE_ERRLEN];
};

/* Appends a node of op after validating it (the one path used by both the
 * public builder calls and the model loader). Records sticky errors on g.
 * Returns the node id or a negative status. */
int32_t vae_graph_add(vae_graph *g, const vae_op *op, const int32_t *inputs,
                      int32_t n_inputs, const int64_t *iattr, int32_t n_iattr,
                      const float *fattr, int32_t n_fattr);
/* The iattr of an op whose attributes are a shape (input, reshape, data):
 * the rank, then the dims. */
enum { VAE_SHAPED_RANK, VAE_SHAPED_DIMS };
/* vae_graph_add for such an op, with dims[0..rank - 1]; checks dims and
 * rank first. */
int32_t vae_graph_add_shaped(vae_graph *g, const vae_op *op,
                             const int32_t *x, int32_t n_inputs,
                             const int64_t *dims, int32_t rank);
/* Records an error on g (if none yet) and returns the stored status. */
int32_t vae_graph_fail(vae_graph *g, int32_t status, const char *fmt, ...);
/* Deep copy. */
int32_t vae_graph_copy(const vae_graph *src, vae_graph **out);
/* Checks a graph is ready to be part of a model: no sticky error, exactly
 * one input (node 0), an output set. */
int32_t vae_graph_check_complete(const vae_graph *g, const char *what,
                                 char *err, size_t errlen);

#endif
