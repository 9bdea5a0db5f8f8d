/* net.h - the steps that run a model's nets over a batch (net.c): the
 * workspace, forward and backward over a net, the decoder output in
 * chunks, and bringing a batch of data in. Above model.h, below the
 * objectives (objective.c), inference (infer.c) and generation. */
#ifndef VAE_NET_H
#define VAE_NET_H

#include "model.h"

/* The data needs no gradient, so the encoder's gradients start at node 1;
 * the decoder's start at its input, which receives dL/dz. */
#define VAE_ENC_FIRST_GRAD 1
#define VAE_DEC_FIRST_GRAD 0

/* The Gaussian head, the encoder's last node: mu then logvar per row. */
static inline vae_node *vae_head(vae_model *m) { return &m->enc[m->n_enc - 1]; }

/* ---- Any net (the model's and generation's step net) ------------------- */

/* Elements per example of a net's values, gradients (nodes first_grad on),
 * saved activations and carried state. */
int64_t vae_net_layout_floats(const vae_node *nodes, int32_t n,
                              int32_t first_grad);
/* The largest scratch any node of the net needs for `batch` examples and
 * `slots` (vae_op.scratch). */
int64_t vae_net_scratch(const vae_node *nodes, int32_t n, int64_t batch,
                        int32_t slots);
/* Points each node's buffers into the arena at p for `batch` examples (a
 * net's values, then its gradients from node first_grad on, contiguous,
 * then saved activations and state; scratch shared at `scratch`, sized
 * for `slots`) and returns the end. val_in_input nodes use their input's
 * values; grad_in_val nodes are left to the caller. */
float *vae_place_nodes(vae_node *nodes, int32_t n, int32_t first_grad,
                       float *p, int64_t batch, float *scratch,
                       int32_t slots, const vae_run *run);
/* Forward over nodes 1..n-1. */
void vae_net_forward(vae_node *nodes, int32_t n, const float *params,
                     int64_t batch);
/* Backward over nodes n-1..1; the gradients of the net's results must be
 * in place. */
void vae_net_backward(vae_node *nodes, int32_t n, const float *params,
                      float *grads, int64_t batch);
/* Clears the net's gradients (the batch is the one it is laid out for). */
void vae_net_zero_grads(vae_node *nodes, int32_t n, int32_t first_grad,
                        int64_t batch);

/* ---- The model's workspace and batches ---------------------------------- */

/* Makes the workspace hold `batch` examples and lays the nodes out for it;
 * allocates only for a batch larger than any before. On failure the old
 * workspace is kept and the status recorded on m. */
int32_t vae_ensure_workspace(vae_model *m, int64_t batch);
/* The largest batch the model runs (BLAS takes int dimensions). */
int64_t vae_model_max_batch(const vae_model *m);
/* Checks p is not NULL and batch is in 1..max, then ensures the
 * workspace; `what` names the call in the message. */
int32_t vae_check_batch(vae_model *m, const void *p, int64_t batch,
                        const char *what);
/* VAE_OK, or VAE_ERR_NONFINITE recorded on m naming `what` and the index
 * of the first NaN or Inf among v[0..n-1]. */
int32_t vae_check_finite(vae_model *m, const float *v, int64_t n,
                         const char *what);
/* As vae_check_finite, for per-example results in double. */
int32_t vae_check_finite_results(vae_model *m, const double *v,
                                 int64_t batch, const char *what);
/* Checks x suits the likelihood and copies it into the encoder input (and
 * a teacher-forced decoder's data node). */
int32_t vae_load_data(vae_model *m, const float *x, int64_t batch);
/* Gives a teacher-forced decoder its view of the data. */
void vae_set_decoder_data(vae_model *m, const float *x, int64_t batch);

/* ---- The decoder and its output, a chunk of examples at a time ---------- */

/* Examples per output chunk for a batch of `rows`: all of them unless the
 * output is grad_in_val and larger than m->out_chunk_floats. */
int64_t vae_out_chunk(const vae_model *m, int64_t rows);
/* The decoder forward for `rows`, except a grad_in_val output. */
void vae_dec_forward(vae_model *m, int64_t rows);
/* The decoder's backward, except a grad_in_val output. */
void vae_dec_backward(vae_model *m, int64_t rows);
/* The decoder output of examples [b0, b0 + *nb), the next chunk of `rows`
 * after vae_dec_forward. */
float *vae_out_rows(vae_model *m, int64_t b0, int64_t rows, int64_t *nb);

/* What vae_out_likelihood does with each chunk after scoring it into logp:
 * nothing more; write the loss gradient into the output's grad (one chunk
 * only: the caller runs the output's backward later, vae_out_backward_kept);
 * run the output's backward into m->out_dw; or scale each example's
 * gradient by its weight and run the backward into m->grads. */
enum {
    VAE_OUT_SCORE,
    VAE_OUT_GRAD,
    VAE_OUT_GRAD_BACKWARD,
    VAE_OUT_WEIGHTED_BACKWARD
};
/* logp[b] = log p(x_b | decoder output b) for `rows` examples after
 * vae_dec_forward, chunk by chunk, plus what `mode` asks for. */
void vae_out_likelihood(vae_model *m, const float *x, int64_t rows, int mode,
                        double *logp, const double *weight);
/* After VAE_OUT_GRAD: scales each example's gradient by its weight (if
 * any) and runs the output's backward when vae_dec_backward does not. */
void vae_out_backward_kept(vae_model *m, int64_t rows, const double *weight);
/* After VAE_OUT_GRAD_BACKWARD: the output's parameter gradient joins the
 * others. */
void vae_out_add_dw(vae_model *m);

#endif
