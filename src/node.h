/* node.h - what a node is: its specification (what a builder call records
 * and a model file stores), the run-time node with its buffers, and the
 * interface that every op implements (one file per op under src/ops/). */
#ifndef VAE_NODE_H
#define VAE_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "ops/op_list.h"
#include "rng.h"
#include "vae.h"

/* Op codes, from the one list of ops (ops/op_list.h). */
enum {
#define VAE_OP_CODE_(NAME, code, name) VAE_OP_##NAME = code,
    VAE_OP_LIST(VAE_OP_CODE_)
#undef VAE_OP_CODE_
    VAE_OP_COUNT_ /* one past the last op code */
};

#define VAE_MAX_RANK 4
#define VAE_MAX_INPUTS 4
#define VAE_N_IATTR 8
#define VAE_N_FATTR 2
#define VAE_MAX_NODES 65536

/* What a builder call records: everything needed to rebuild the node. The
 * shape, size and n_params are derived by the op's shape function. */
typedef struct vae_node_spec {
    int32_t op;
    int32_t n_inputs;
    int32_t inputs[VAE_MAX_INPUTS];
    int64_t iattr[VAE_N_IATTR];
    float fattr[VAE_N_FATTR];
    int32_t rank;
    int64_t shape[VAE_MAX_RANK];
    int64_t size;     /* elements per example */
    int64_t n_params; /* floats this node owns in the parameter buffer */
} vae_node_spec;

/* What every node of a running net may consult besides its inputs. */
typedef struct vae_run {
    vae_rng *rng;     /* the model's generator (token dropout draws from it) */
    int32_t training; /* 1 while computing gradients: dropout is active */
    int32_t carry;    /* 1: recurrent ops start from their node's state, as
                         incremental generation needs; 0: from their inputs */
} vae_run;

/* A node while the model runs: its spec, where its parameters live, and its
 * activations and their gradients for the current batch (batch x size). */
typedef struct vae_node {
    vae_node_spec s;
    int64_t param_off;
    int64_t buf_off; /* where buf lies in the model's buffers */
    float *val;
    float *grad;
    float *scratch; /* the op's scratch (see vae_op.scratch), else NULL */
    int32_t slots;  /* the `slots` its scratch was sized for */
    float *saved;   /* batch x vae_op.saved floats, else NULL */
    float *state;   /* batch x vae_op.state floats, else NULL */
    float *buf;     /* the node's vae_op.buffers floats in the model, else
                       NULL */
    const vae_run *run;
    /* 1: grad is val itself, in a buffer of its own that may hold only a
     * chunk of the batch. Set on a decoder output whose value nothing reads
     * once the likelihood has turned it into its gradient (model.c), which
     * bounds the memory of large outputs (a text model's logits). */
    int grad_in_val;
    /* 1: val is in[0]'s val, which forward overwrites (model.c decides). */
    int val_in_input;
    /* 1: grad is the grad of this node's one consumer, a val_in_input node,
     * whose backward turns it into this node's gradient in place (model.c
     * decides, net.c places). */
    int grad_in_consumer;
} vae_node;

/* One op's implementation. `in` holds the node's inputs in order. */
typedef struct vae_op {
    const char *name;
    int32_t code; /* its VAE_OP_* code */
    /* Validates attrs and input shapes, fills s->rank/shape/size/n_params.
     * Returns a status and writes a message to err on failure. */
    int32_t (*shape)(vae_node_spec *s, const vae_node_spec *const *in,
                     char *err, size_t errlen);
    /* Initialises the node's n_params parameters (NULL: nothing to do). */
    void (*init)(const vae_node_spec *s, float *w, vae_rng *r);
    /* val = f(inputs) for `batch` examples. */
    void (*forward)(vae_node *n, vae_node *const *in, const float *w,
                    int64_t batch);
    /* Adds dL/d(input) into each input's grad (when not NULL) and dL/dw into
     * dw, given n->grad = dL/d(val). */
    void (*backward)(vae_node *n, vae_node *const *in, const float *w,
                     float *dw, int64_t batch);
    /* 1 when backward reads the node's own val (the activations do): such a
     * node's gradient may not be written over its value. */
    int backward_reads_val;
    /* 1 when forward may write over its input (n->val == in[0]->val) and
     * backward still works: activations whose derivative needs only y. */
    int forward_in_place;
    /* 1 when such an in-place forward leaves the values as they were
     * (reshape): the input's own backward may still read them. */
    int keeps_values;
    /* Floats of temporary space forward or backward needs for `batch`
     * examples (e.g. im2col columns), or NULL for none, when it may work on
     * up to `slots` parts of a batch at once (one per pool thread; ops that
     * do not split a batch so ignore it). Ops run one at a time, so all
     * nodes share one scratch region of the largest size; its contents do
     * not survive from one op call to the next. Must not shrink as the
     * batch or slots grow: the region is sized for the largest seen. */
    int64_t (*scratch)(const vae_node_spec *s, int64_t batch, int32_t slots);
    /* Floats per example that forward leaves for backward (e.g. the LSTM's
     * gate activations), or NULL for none. */
    int64_t (*saved)(const vae_node_spec *s);
    /* Floats per example that outlive the call: a recurrent op's final
     * state, which the next call starts from when run->carry is set. NULL
     * for stateless ops. */
    int64_t (*state)(const vae_node_spec *s);

    /* Floats of state that is not trained but saved with the model (batch
     * normalisation's running statistics), NULL for none; init_buffers
     * sets their first values. forward may update them in training. */
    int64_t (*buffers)(const vae_node_spec *s);
    void (*init_buffers)(const vae_node_spec *s, float *b);

    /* What the model asks of an op besides running it. Every field may be
     * left 0/NULL, which is the safe answer. */

    /* 1: an example's output depends on the other examples of the batch
     * (batch normalisation in training), so the node cannot be the decoder
     * output, which may go through in chunks. */
    int batch_coupled;
    /* 1: the node is q(z|x) itself, [mu | logvar]: as an encoder's output
     * it stands for the Gaussian head that the model appends otherwise. */
    int posterior;
    /* 1: the node's value, one float per example, is a term the training
     * loss adds (its gradient dL/dvalue is 1); the reported bound leaves
     * it out. */
    int aux_loss;

    /* 1: forward draws from the model's generator (token dropout), so the
     * node cannot be the decoder output, which may be computed twice. */
    int draws_random;
    /* 1: the node is the decoder's view of the model's data x (teacher
     * forcing): the model fills it before the decoder runs. */
    int reads_data;
    /* 1: the node holds each example's condition (a conditional model's
     * side information): the model fills it before the net runs. */
    int reads_condition;
    /* 1 when node s uses parameters of an encoder node of the same op
     * instead of its own (a shared embedding); such a node belongs in the
     * decoder. NULL: never. */
    int (*borrows)(const vae_node_spec *s);
    /* 1 when owner, the encoder's first node of this op (NULL if none),
     * holds the parameters that s borrows; else 0 and why in err. */
    int (*lends_to)(const vae_node_spec *owner, const vae_node_spec *s,
                    char *err, size_t errlen);

    /* Generation runs the decoder one time step at a time (generate.c).
     * per_step 1: the op acts on each step alone, or carries its state
     * from step to step, so running it step by step gives what the whole
     * sequence would; 0 (the default) makes generation refuse the
     * decoder. to_step rewrites a spec for a one-step decoder ([T] -> [1]);
     * start_id is the id the op puts before a sequence (shift_right's
     * bos), which the one-step decoder is fed at its first step. */
    int per_step;
    void (*to_step)(vae_node_spec *s);
    float (*start_id)(const vae_node_spec *s);
} vae_op;

#endif
