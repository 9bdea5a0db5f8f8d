/* model.h - internal layout of vae_model and vae_adam, shared by model.c,
 * adam.c and io.c. */
#ifndef VAE_MODEL_H
#define VAE_MODEL_H

#include <stdatomic.h>

#include "busy.h"
#include "gaussian.h"
#include "graph.h"

struct vae_model {
    vae_graph *enc_graph; /* copies of the caller's graphs, as given */
    vae_graph *dec_graph;
    int64_t latent;
    int64_t data_size;
    int32_t likelihood;
    int64_t classes;  /* categorical: vocabulary size V; else 0 */
    int32_t dec_data; /* the decoder's data node (teacher forcing), or -1 */
    unsigned char *meta; /* the caller's metadata bytes, saved with the model */
    size_t meta_len;
    double beta, free_bits, obs_logvar;
    int64_t train_samples; /* importance samples in elbo_grad's objective */
    int32_t anneal_kind; /* VAE_ANNEAL_*, used by vae_model_train_step */
    int64_t anneal_steps;
    vae_rng rng;
    vae_run run; /* shared by every node; run.rng points at rng */

    /* Parameters of every node, encoder first, then the Gaussian head, then
     * the decoder; gradients in the same layout. */
    int64_t n_params;
    float *params;
    float *grads;

    /* Run-time nodes; enc[n_enc - 1] is the head (2 * latent: mu, logvar). */
    vae_node *enc;
    int32_t n_enc;
    vae_node *dec;
    int32_t n_dec;

    /* Workspace for the largest batch seen so far (grown, never per step).
     * A grad_in_val decoder output lives in the first out_floats of work,
     * sized for out_chunk_floats (model.c's OUT_CHUNK_FLOATS; tests lower it
     * to force chunks); out_dw collects its parameter gradient while a batch
     * goes through it in several chunks. */
    int64_t cap_batch;
    int64_t out_chunk_floats;
    int64_t out_floats;
    float *out_dw;
    float *work;
    float *eps;      /* cap_batch x latent */
    double *kl_dim;  /* latent: batch-mean KL per dimension */
    double *recon_b; /* cap_batch: log p(x_b|z_b) */
    double *kl_b;    /* cap_batch: KL of each example */
    float *rows_x;   /* train_samples > 1: each example's data once per sample */
    int64_t rows_x_cap;

    atomic_flag busy; /* held by the public call using the model (busy.h) */
    char err[VAE_ERRLEN];
};

struct vae_adam {
    int64_t n;
    double lr, beta1, beta2, eps, weight_decay, clip_norm;
    int32_t decoupled;
    int64_t t;
    float *m, *v;
    atomic_flag busy; /* held by the public call using it (busy.h) */
    char err[VAE_ERRLEN];
};

/* Net plumbing shared by model.c and generate.c (see model.c). */
int64_t vae_net_layout_floats(const vae_node *nodes, int32_t n,
                              int32_t first_grad);
int64_t vae_net_scratch(const vae_node *nodes, int32_t n, int64_t batch);
float *vae_place_nodes(vae_node *nodes, int32_t n, int32_t first_grad,
                       float *p, int64_t batch, float *scratch,
                       const vae_run *run);
void vae_net_forward(vae_node *nodes, int32_t n, const float *params,
                     int64_t batch);

/* VAE_OK, or VAE_ERR_NONFINITE recorded on m naming `what` and the index
 * of the first NaN or Inf among v[0..n-1]. */
int32_t vae_check_finite(vae_model *m, const float *v, int64_t n,
                         const char *what);

/* The largest batch (or number of sequences) the model runs: BLAS takes
 * int dimensions, and a dense or LSTM product has batch x (a node's
 * elements without its last axis) rows. */
int64_t vae_model_max_batch(const vae_model *m);

/* vae_model_elbo_grad into a cleared gradient buffer; when the call fails,
 * the buffer is as it was (vae_model_train_step's first half). */
int32_t vae_model_train_grad(vae_model *m, const float *x, int64_t batch,
                             double *elbo, double *recon, double *kl);

/* vae_model_generate for a model the caller already holds (busy.h). */
int32_t vae_generate(vae_model *m, const float *z, int64_t n, int32_t mode,
                     double temperature, int64_t top_k, int64_t beam,
                     int64_t eos, int64_t max_len, float *out, int64_t *steps);

/* Records a message on the model and returns status. */
int32_t vae_model_fail(vae_model *m, int32_t status, const char *fmt, ...);

#endif
