/*
 * vae.h - libvae, a small C11 library for variational autoencoders.
 *
 * Conventions (see docs/design.md and docs/errors.md):
 *  - Every object is an opaque handle; *_free(NULL) is a no-op.
 *  - Fallible calls return an int32_t status: VAE_OK (0) or a negative
 *    VAE_ERR_* value. Values never change between releases. Each call
 *    below says what it returns when that is more than a status.
 *  - The detailed message of the last error is kept per handle
 *    (vae_graph_last_error, vae_model_last_error, vae_adam_last_error).
 *    Calls that have no handle yet take an optional buffer `err`/`errlen`
 *    (may be NULL/0) that receives a NUL-terminated message. A NULL handle
 *    and the read-only queries (vae_graph_node_size, vae_model_data_shape)
 *    give a status without a message.
 *  - Bad arguments: VAE_ERR_INVALID_ARG for a NULL pointer or an unknown
 *    constant; VAE_ERR_SHAPE for a bad shape (a rank or dimension out of
 *    range, element counts that disagree, sizes that are each in range but
 *    do not fit the input or each other); VAE_ERR_RANGE for any other
 *    number outside its documented range (units, kernel, batch, rates...);
 *    VAE_ERR_GRAPH for a node id that names no node of the graph.
 *  - Lifetimes: the library never prints, aborts or exits, and keeps no
 *    pointer to a caller's buffer after a call returns. A pointer it
 *    returns (a message, the parameter buffer, metadata) lives as long as
 *    its handle, unless the call says otherwise.
 *  - Shapes are per example; the batch dimension is implicit and is the
 *    `batch` argument of the calls that run the model. Data are float32,
 *    row-major, one example after another. batch is at least 1 and at most
 *    (2^31 - 1) / R, where R is the largest element count of a node
 *    without its last axis (BLAS takes int dimensions; e.g. R = T for
 *    [T, F] sequences, 1 for vectors); VAE_ERR_RANGE otherwise.
 *  - A handle is used by one thread at a time; different handles may be
 *    used from different threads at once. A call that finds its model or
 *    optimizer in use by a call in another thread returns VAE_ERR_BUSY at
 *    once and does nothing: it records no message on that handle (the
 *    message belongs to the other call), but on a handle it holds itself,
 *    as vae_adam_step does on its optimizer when the model is busy.
 *    vae_*_free, vae_*_last_error and the pointer queries are not guarded.
 */
#ifndef VAE_H
#define VAE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(VAE_STATIC_DEFINE)
#  define VAE_API
#elif defined(_WIN32)
#  ifdef VAE_BUILDING
#    define VAE_API __declspec(dllexport)
#  else
#    define VAE_API __declspec(dllimport)
#  endif
#else
#  define VAE_API __attribute__((visibility("default")))
#endif

/* ---- Version ----------------------------------------------------------- */

#define VAE_VERSION_MAJOR 0
#define VAE_VERSION_MINOR 1
#define VAE_VERSION_PATCH 0
#define VAE_VERSION_NUMBER \
    (VAE_VERSION_MAJOR * 10000 + VAE_VERSION_MINOR * 100 + VAE_VERSION_PATCH)

/* Version of the library actually loaded, as "MAJOR.MINOR.PATCH". Static. */
VAE_API const char *vae_version_string(void);
/* Version of the library actually loaded, as MAJOR*10000+MINOR*100+PATCH. */
VAE_API int32_t vae_version_number(void);

/* ---- Status codes (fixed values) --------------------------------------- */

#define VAE_OK                 0
#define VAE_ERR_INVALID_ARG   -1  /* NULL pointer, bad enum value, bad size */
#define VAE_ERR_SHAPE         -2  /* shapes of connected things disagree    */
#define VAE_ERR_NOMEM         -3  /* an allocation failed; nothing changed  */
#define VAE_ERR_IO            -4  /* open/read/write/rename failed          */
#define VAE_ERR_FORMAT        -5  /* file or buffer is not a valid model    */
#define VAE_ERR_NONFINITE     -6  /* NaN or Inf in input, loss or gradient  */
#define VAE_ERR_GRAPH         -7  /* bad wiring: unknown node, no output... */
#define VAE_ERR_VERSION       -8  /* file of an unknown format version      */
#define VAE_ERR_RANGE         -9  /* value outside its documented range     */
#define VAE_ERR_UNSUPPORTED  -10  /* not available in this build            */
#define VAE_ERR_BUSY         -11  /* the handle is in use by another call   */

/* Static English description of a status code ("unknown status" if none).
 * Never NULL; the string lives as long as the library is loaded. */
VAE_API const char *vae_status_string(int32_t status);

/* ---- Threads ------------------------------------------------------------ */

/* Sets the number of threads the BLAS library (OpenBLAS) uses for matrix
 * products, process-wide (1 <= n <= 1024, VAE_ERR_RANGE otherwise).
 * VAE_ERR_UNSUPPORTED when libvae was built against a BLAS without a
 * thread setting. Results are bit-identical for the same thread count;
 * they may differ in the last bits between counts. */
VAE_API int32_t vae_set_num_threads(int32_t n);
/* Returns the current BLAS thread count, or VAE_ERR_UNSUPPORTED. */
VAE_API int32_t vae_get_num_threads(void);

/* ---- Graph builder ------------------------------------------------------ */

/*
 * A vae_graph describes one network: the encoder (data -> features) or the
 * decoder (latent z -> likelihood parameters). Each builder call returns the
 * id (>= 0) of the new node, or a negative status. Errors are sticky: after
 * the first failure every builder call returns that same status, so checking
 * vae_graph_status() once at the end is enough.
 */
typedef struct vae_graph vae_graph;

/* Sentinels of the builder calls. */
#define VAE_NO_NODE         -1 /* vae_graph_lstm's init and mask: none      */
#define VAE_LSTM_LAST_STATE  0 /* vae_graph_lstm: [hidden] after the end     */
#define VAE_LSTM_SEQUENCE    1 /* vae_graph_lstm: [T, hidden], every step    */

/* New empty graph in *out, which the caller frees with vae_graph_free.
 * Returns VAE_ERR_NOMEM or VAE_ERR_INVALID_ARG on failure (*out NULL). */
VAE_API int32_t vae_graph_new(vae_graph **out);
/* Frees a graph. NULL is a no-op. Models keep their own copy of graphs, so
 * a graph may be freed as soon as vae_model_new has returned. */
VAE_API void vae_graph_free(vae_graph *g);
/* Returns VAE_OK, or the first error a builder call recorded. */
VAE_API int32_t vae_graph_status(const vae_graph *g);
/* Message of the first recorded error, or "" if none. Never NULL; valid
 * until g is freed. */
VAE_API const char *vae_graph_last_error(const vae_graph *g);

/* f32 input with per-example shape dims[0..rank-1] (1 <= rank <= 4, every
 * dim >= 1). A graph has exactly one input, node 0. */
VAE_API int32_t vae_graph_input(vae_graph *g, const int64_t *dims,
                                int32_t rank);
/* Fully connected layer on the last axis: y = x W^T + b, W is units x in
 * (PyTorch nn.Linear layout), initialised like nn.Linear. units in 1..2^30
 * (VAE_ERR_RANGE otherwise); units x in at most 2^36 (VAE_ERR_SHAPE). */
VAE_API int32_t vae_graph_dense(vae_graph *g, int32_t x, int64_t units);
/* Elementwise activations: the output has x's shape. */
VAE_API int32_t vae_graph_relu(vae_graph *g, int32_t x);
/* slope in [0, 1) (VAE_ERR_RANGE otherwise). */
VAE_API int32_t vae_graph_leaky_relu(vae_graph *g, int32_t x, float slope);
VAE_API int32_t vae_graph_tanh(vae_graph *g, int32_t x);
VAE_API int32_t vae_graph_sigmoid(vae_graph *g, int32_t x);
VAE_API int32_t vae_graph_softplus(vae_graph *g, int32_t x);
VAE_API int32_t vae_graph_identity(vae_graph *g, int32_t x);
/* 2-D convolution of a [C, H, W] node (channels first, zero padding):
 * out_channels filters of kernel x kernel, output [out_channels, H', W'] with
 * H' = floor((H + 2 padding - kernel) / stride) + 1 (likewise W'), which must
 * be >= 1. Weights out x C x kernel x kernel then bias, laid out and
 * initialised like nn.Conv2d. out_channels in 1..2^30, kernel and stride in
 * 1..2^20, 0 <= padding < kernel (VAE_ERR_RANGE otherwise). */
VAE_API int32_t vae_graph_conv2d(vae_graph *g, int32_t x, int64_t out_channels,
                                 int64_t kernel, int64_t stride,
                                 int64_t padding);
/* Transposed 2-D convolution (the gradient of conv2d with respect to its
 * input) of a [C, H, W] node: output [out_channels, H', W'] with
 * H' = (H - 1) stride - 2 padding + kernel (likewise W'), which must be >= 1.
 * Weights C x out x kernel x kernel then bias, laid out and initialised like
 * nn.ConvTranspose2d. Attribute ranges as conv2d. */
VAE_API int32_t vae_graph_conv2d_transpose(vae_graph *g, int32_t x,
                                           int64_t out_channels, int64_t kernel,
                                           int64_t stride, int64_t padding);
/* The same elements (row-major order) viewed with shape dims[0..rank-1];
 * the element counts must agree. */
VAE_API int32_t vae_graph_reshape(vae_graph *g, int32_t x, const int64_t *dims,
                                  int32_t rank);
/* The node's axes reordered: output axis i is input axis axes[i], where
 * axes is a permutation of 0..rank-1 and rank is the node's rank; e.g.
 * {1, 2, 0} turns [C, H, W] into [H, W, C], whose reshape to [H, W*C] reads
 * an image as a sequence of rows. */
VAE_API int32_t vae_graph_transpose(vae_graph *g, int32_t x,
                                    const int32_t *axes, int32_t rank);
/* reshape to one axis of all the node's elements. */
VAE_API int32_t vae_graph_flatten(vae_graph *g, int32_t x);

/* Sequences and tokens. A sequence node has shape [T, F]: T time steps of F
 * features. Token ids travel as floats (exact up to 2^24) in the same data
 * buffers as everything else; id 0 is padding everywhere: padded steps
 * neither update a recurrent state nor count in the likelihood. */

/* The model's data x as a node of the decoder (teacher forcing: the decoder
 * reads the previous tokens of x). dims must equal the encoder input's
 * shape. Only in a decoder graph, at most once. */
VAE_API int32_t vae_graph_data(vae_graph *g, const int64_t *dims, int32_t rank);
/* Lookup table: a node of T ids (shape [T]) -> [T, dim]. The table is
 * vocab x dim, initialised N(0, 1) like nn.Embedding. vocab in 1..2^24 and
 * dim in 1..2^30 (VAE_ERR_RANGE otherwise); vocab x dim at most 2^36
 * (VAE_ERR_SHAPE). An id that is not an integer in [0, vocab) gives a zero
 * vector. */
VAE_API int32_t vae_graph_embedding(vae_graph *g, int32_t ids, int64_t vocab,
                                    int64_t dim);
/* An embedding that uses the encoder's table (its first embedding node,
 * which must have the same vocab and dim) instead of owning one: the
 * encoder and decoder share one set of word vectors. Only in a decoder. */
VAE_API int32_t vae_graph_embedding_shared(vae_graph *g, int32_t ids,
                                           int64_t vocab, int64_t dim);
/*
 * LSTM with `hidden` units over a sequence x [T, F]; weights W_ih (4H x F),
 * W_hh (4H x H), b_ih, b_hh, gates in the order i, f, g, o, laid out and
 * initialised like nn.LSTM. hidden in 1..2^20. init: VAE_NO_NODE (zero
 * state) or a node of 2*hidden elements holding h0 then c0 (e.g. a dense
 * layer on z). mask: VAE_NO_NODE or a node of T token ids; steps whose id
 * is 0 keep the state and output zeros. Other negative ids name no node
 * (VAE_ERR_GRAPH). full_sequence VAE_LSTM_SEQUENCE: output [T, hidden], h
 * at every step; VAE_LSTM_LAST_STATE: [hidden], h after the last unmasked
 * step.
 */
VAE_API int32_t vae_graph_lstm(vae_graph *g, int32_t x, int64_t hidden,
                               int32_t init, int32_t mask,
                               int32_t full_sequence);
/* A vector [F] repeated as a sequence [times, F] (Keras' RepeatVector);
 * times >= 1 (VAE_ERR_RANGE otherwise). */
VAE_API int32_t vae_graph_repeat(vae_graph *g, int32_t x, int64_t times);
/* Concatenation on the last axis: [T, Fa] and [T, Fb] -> [T, Fa + Fb]
 * (or two vectors). All other axes must agree. */
VAE_API int32_t vae_graph_concat(vae_graph *g, int32_t a, int32_t b);
/* Token ids [T] shifted one step later with `bos` in front (the last id
 * drops off): the decoder input for teacher forcing. bos is an integer in
 * 1..2^24-1 (VAE_ERR_RANGE otherwise). */
VAE_API int32_t vae_graph_shift_right(vae_graph *g, int32_t ids, float bos);
/* Word dropout (Bowman et al. 2016): while gradients are computed, each
 * non-padding id is replaced by `unk` (an integer in 1..2^24-1) with
 * probability `rate` in [0, 1), drawn from the model's generator (so it
 * shifts the z draws that follow); otherwise ids pass unchanged. */
VAE_API int32_t vae_graph_token_dropout(vae_graph *g, int32_t ids, float rate,
                                        float unk);

/* Batch normalisation (Ioffe & Szegedy 2015) of each feature of the last
 * axis over all rows of the batch: y = gamma (x - mean) / sqrt(var + 1e-5)
 * + beta. While gradients are computed (vae_model_elbo_grad,
 * _train_step) it uses the batch's statistics and updates running ones
 * (momentum 0.1, PyTorch's), which every other call uses and model files
 * keep. gamma 0: gamma is a parameter (initialised to 1); gamma > 0 (at
 * most 1e6): it is that fixed value, as BN-VAE fixes it on the posterior
 * mean (Zhu et al. 2020). beta is a parameter (initialised to 0). Models
 * with batch normalisation are saved in file format 1.2. */
VAE_API int32_t vae_graph_batch_norm(vae_graph *g, int32_t x, float gamma);
/* q(z|x) = N(mu, exp(logvar)) given by the encoder itself: mu and logvar,
 * two vectors of latent_dim elements, joined as [mu | logvar]. Set as the
 * output (and last node) of an encoder, it replaces the dense head that
 * vae_model_new appends otherwise. */
VAE_API int32_t vae_graph_gaussian(vae_graph *g, int32_t mu, int32_t logvar);
/* An auxiliary bag-of-words loss (Zhao et al. 2017) in a decoder: logits
 * [V] (e.g. a dense layer on z) and token ids [T] (the data node); its
 * value per example, weight x -sum_t log softmax(logits)[id_t] over the
 * ids in 1..V-1, is added to the training loss of vae_model_elbo_grad and
 * _train_step (with k train samples, 1/k of it per sample) but not to the
 * reported ELBO. weight in [0, 1e6]. */
VAE_API int32_t vae_graph_bag_of_words(vae_graph *g, int32_t logits,
                                       int32_t ids, float weight);

/* A conditional model's side information (Sohn et al. 2015): a vector of
 * `size` floats per example (e.g. a one-hot label), given to the model
 * with vae_model_set_condition, as a node of the encoder, the decoder or
 * both (one per graph; both of the same size). size in 1..2^24
 * (VAE_ERR_RANGE otherwise). A model with a condition node is saved in
 * file format 1.2. */
VAE_API int32_t vae_graph_condition(vae_graph *g, int64_t size);

/* Marks the node whose value is the graph's result. Returns a status. */
VAE_API int32_t vae_graph_set_output(vae_graph *g, int32_t node);
/* Returns the number of elements per example of a node, or a negative
 * status (VAE_ERR_GRAPH for an id that names no node). */
VAE_API int64_t vae_graph_node_size(const vae_graph *g, int32_t node);

/* ---- Model -------------------------------------------------------------- */

/* Likelihoods p(x|z); the decoder output must have the stated size. */
#define VAE_LIKELIHOOD_BERNOULLI        1 /* output: D logits; x in [0,1]    */
#define VAE_LIKELIHOOD_GAUSSIAN_FIXED   2 /* output: D means; fixed variance */
#define VAE_LIKELIHOOD_GAUSSIAN_LEARNED 3 /* output: D means, D logvars      */
/* output: [T, V] logits for data of T token ids in [0, V); id 0 is padding
 * and does not count. The "mean" that decode/reconstruct return is the most
 * probable id of each step. */
#define VAE_LIKELIHOOD_CATEGORICAL      4

typedef struct vae_model vae_model;

/*
 * Builds a model from copies of `encoder` and `decoder` into *out, which
 * the caller frees with vae_model_free. A dense Gaussian head (encoder
 * output -> 2*latent_dim: mu then logvar) is appended to the encoder. The
 * decoder's input must have latent_dim elements; its output size fixes the
 * data size (see VAE_LIKELIHOOD_*), which must equal the encoder's input
 * size. Parameters are initialised from `seed` like PyTorch's defaults.
 * On failure *out is NULL and err receives the reason.
 */
VAE_API int32_t vae_model_new(const vae_graph *encoder,
                              const vae_graph *decoder, int64_t latent_dim,
                              int32_t likelihood, uint64_t seed,
                              vae_model **out, char *err, size_t errlen);
/* Frees a model. NULL is a no-op. */
VAE_API void vae_model_free(vae_model *m);
/* Message of the model's last error, or "" if none. Never NULL; valid until
 * the next call on m. */
VAE_API const char *vae_model_last_error(const vae_model *m);

/* Resets the model's random generator (used for z samples). The generator
 * then yields the same numbers as after any other set_seed with this seed:
 * e.g. vae_model_sample's z_out after set_seed(s) holds the normals that
 * vae_model_elbo's first z draws would use after set_seed(s) (the eps of
 * z = mu + sigma eps, example after example). */
VAE_API int32_t vae_model_set_seed(vae_model *m, uint64_t seed);
/* Weight of the KL term in the training objective (>= 0, default 1). */
VAE_API int32_t vae_model_set_beta(vae_model *m, double beta);
/* Free bits: per latent dimension, the batch-mean KL below `nats` is not
 * penalised (Kingma et al. 2016). 0 (default) disables it. */
VAE_API int32_t vae_model_set_free_bits(vae_model *m, double nats);
/* What free bits compare with `nats` (not saved in model files):
 * VAE_FREE_BITS_BATCH (default) the batch mean of each dimension's KL, as
 * above; VAE_FREE_BITS_EXAMPLE each example's KL of each dimension, so the
 * loss's KL term is sum_b sum_j max(nats, KL_bj) (the per-sentence KL
 * thresholding of Li et al. 2019). */
#define VAE_FREE_BITS_BATCH   0
#define VAE_FREE_BITS_EXAMPLE 1
VAE_API int32_t vae_model_set_free_bits_mode(vae_model *m, int32_t mode);
/* KL annealing schedules for vae_model_train_step. */
#define VAE_ANNEAL_NONE    0 /* weight 1                                    */
#define VAE_ANNEAL_LINEAR  1 /* weight min(1, t / steps)                    */
#define VAE_ANNEAL_SIGMOID 2 /* weight 1 / (1 + exp(-10 (t / steps - 1/2))) */
/* KL annealing (Bowman et al. 2016): vae_model_train_step weighs the KL term
 * by beta times the schedule's weight at t, the optimizer's step count before
 * the step. steps >= 1. vae_model_elbo_grad alone uses beta. The schedule is
 * not saved in model files: set it again after loading. */
VAE_API int32_t vae_model_set_kl_anneal(vae_model *m, int32_t kind,
                                        int64_t steps);
/* Importance samples per example in the objective that vae_model_elbo_grad
 * and vae_model_train_step optimise (1..VAE_TRAIN_SAMPLES_MAX, default 1).
 * k = 1: the ELBO with analytic KL. k > 1: the importance-weighted bound of
 * Burda et al. (2016), log (1/k) sum_s p(x|z_s) [p(z_s) / q(z_s|x)]^beta over
 * k draws z_s ~ q(z|x), tighter than the ELBO; the decoder then runs on
 * batch * k rows, which the batch limit above applies to. Incompatible with
 * free bits (VAE_ERR_INVALID_ARG at the call). vae_model_elbo always
 * reports the one-sample ELBO. Not saved. */
#define VAE_TRAIN_SAMPLES_MAX 4096
VAE_API int32_t vae_model_set_train_samples(vae_model *m, int64_t k);
/* Log-variance of VAE_LIKELIHOOD_GAUSSIAN_FIXED (default 0, i.e. var 1). */
VAE_API int32_t vae_model_set_obs_logvar(vae_model *m, double logvar);
/* Initialises the decoder's parameters again, as vae_model_new does, from
 * `seed` (a generator of its own: the model's stream is left as it is);
 * the encoder, the Gaussian head and a table the decoder shares with the
 * encoder keep theirs. For training as an autoencoder first and then
 * resetting the decoder (Li et al. 2019); an optimizer made before keeps
 * the old moments: make a new one. */
VAE_API int32_t vae_model_reset_decoder(vae_model *m, uint64_t seed);

/* Caller-defined bytes kept with the model and saved in its file (e.g. an
 * application's vocabulary or architecture name): the library copies them
 * and never interprets them. len <= VAE_METADATA_MAX; len 0 clears. */
#define VAE_METADATA_MAX ((size_t)1 << 30)
VAE_API int32_t vae_model_set_metadata(vae_model *m, const void *data,
                                       size_t len);
/* Returns the metadata bytes (NULL if none) and their count in *len (may
 * be NULL). Valid until the next set_metadata or free. */
VAE_API const void *vae_model_metadata(const vae_model *m, size_t *len);

/*
 * The condition of the next calls of a conditional model (one whose graphs
 * have a vae_graph_condition node): rows x vae_model_condition_size floats,
 * copied (cond may be freed after the call). Every call that runs the
 * model on n examples (the ELBO calls, train step, encode, decode,
 * decoder output, sample, reconstruct, log-likelihood, IWAE, mutual
 * information, active units, generation: n is their batch or n) then
 * needs exactly n rows, row b for example b: VAE_ERR_SHAPE otherwise, and
 * VAE_ERR_INVALID_ARG before any is set. So set it before each batch.
 * rows 0 clears it (cond may then be NULL). An unconditional model and
 * rows > 0: VAE_ERR_INVALID_ARG. NaN or Inf: VAE_ERR_NONFINITE, and the
 * previous rows stay.
 */
VAE_API int32_t vae_model_set_condition(vae_model *m, const float *cond,
                                        int64_t rows);
/* Returns the floats per example of the condition: 0 for an unconditional
 * model (or a negative status). */
VAE_API int64_t vae_model_condition_size(const vae_model *m);

/* Returns the elements per example of the data x (or a negative status). */
VAE_API int64_t vae_model_data_size(const vae_model *m);
/* Shape of one example (the encoder input's shape): writes up to cap dims
 * and returns the rank (1..4), or a negative status. */
VAE_API int32_t vae_model_data_shape(const vae_model *m, int64_t *dims,
                                     int32_t cap);
/* Returns the latent dimension D (or a negative status). */
VAE_API int64_t vae_model_latent_dim(const vae_model *m);
/* Returns the elements per example of the decoder's raw output (or a
 * negative status): the data size for Bernoulli and fixed Gaussian, twice
 * it for the learned Gaussian, T x V for categorical. */
VAE_API int64_t vae_model_output_size(const vae_model *m);
/* Returns the number of float parameters (= length of the parameter and
 * gradient buffers), or a negative status. */
VAE_API int64_t vae_model_num_params(const vae_model *m);
/* The one contiguous parameter buffer, vae_model_num_params floats
 * (read/write; NULL if m is NULL), valid until m is freed. Nodes in order,
 * encoder, Gaussian head, decoder; each node's tensors in PyTorch's layout
 * (docs/file-format.md, "Parameters"). */
VAE_API float *vae_model_params(vae_model *m);
/* The gradient buffer, same length, layout and lifetime as the
 * parameters. */
VAE_API float *vae_model_grads(vae_model *m);
/* Sets every gradient to 0. */
VAE_API int32_t vae_model_zero_grad(vae_model *m);
/* Multiplies every gradient by `s` (e.g. 1/ranks after an all-reduce). */
VAE_API int32_t vae_model_scale_grad(vae_model *m, double s);

/*
 * ELBO of a batch x (batch x data_size floats), one z sample per example.
 * Outputs (each may be NULL) are means per example in nats:
 *   *recon = E_q log p(x|z),  *kl = KL(q(z|x) || N(0,I)),  *elbo = recon - kl.
 * The reported ELBO is the true bound: beta and free bits do not change it.
 * NaN/Inf in x or in the loss: VAE_ERR_NONFINITE; Bernoulli targets outside
 * [0, 1]: VAE_ERR_RANGE; batch < 1: VAE_ERR_RANGE.
 */
VAE_API int32_t vae_model_elbo(vae_model *m, const float *x, int64_t batch,
                               double *elbo, double *recon, double *kl);
/*
 * As vae_model_elbo, and adds to the gradient buffer the gradient of the
 * training loss  L = sum over the batch of (-recon_b + beta * KL_b)
 * (with free bits, the KL term is batch * sum_j max(free_bits, mean_b KL_bj),
 * still multiplied by beta), plus the decoder's auxiliary losses
 * (vae_graph_bag_of_words), which the reported ELBO leaves out. It runs in
 * training mode: batch norm normalises with the batch's statistics (and
 * updates its running ones), token dropout drops; no other call does.
 * With k = vae_model_set_train_samples > 1 the loss is minus the sum of the
 * examples' importance-weighted bounds; *elbo is then their mean bound (at
 * beta 1), *recon the mean log p(x|z_s) and *kl the mean of
 * log q(z_s|x) - log p(z_s) over the k samples.
 * A non-finite loss returns VAE_ERR_NONFINITE and leaves gradients unchanged.
 * A finite loss whose gradient overflows (huge weights or data) returns
 * VAE_ERR_NONFINITE after the backward pass: the gradient buffer then holds
 * non-finite values (zero it before reusing it). Parameters never change.
 */
VAE_API int32_t vae_model_elbo_grad(vae_model *m, const float *x, int64_t batch,
                                    double *elbo, double *recon, double *kl);
/* vae_model_elbo and vae_model_elbo_grad with the noise of the z draws
 * given instead of drawn: z = mu + exp(logvar / 2) eps with eps read from
 * `eps`, batch x latent_dim floats for _elbo_noise, batch x k x latent_dim
 * for _elbo_grad_noise (k = train samples; example b's samples first).
 * The model's generator is not used for z (token dropout still draws from
 * it). For checking against another implementation with the same noise. */
VAE_API int32_t vae_model_elbo_noise(vae_model *m, const float *x,
                                     int64_t batch, const float *eps,
                                     double *elbo, double *recon, double *kl);
VAE_API int32_t vae_model_elbo_grad_noise(vae_model *m, const float *x,
                                          int64_t batch, const float *eps,
                                          double *elbo, double *recon,
                                          double *kl);

/* mu and logvar of q(z|x): each batch x latent_dim floats (logvar may be
 * NULL). Like decode, sample, reconstruct, log_likelihood and iwae, it
 * returns VAE_ERR_NONFINITE if its input has a NaN or Inf or if a result
 * overflows (huge but finite weights); outputs are then unspecified. */
VAE_API int32_t vae_model_encode(vae_model *m, const float *x, int64_t batch,
                                 float *mu, float *logvar);
/* Mean of p(x|z) for z (batch x latent_dim): sigmoid(logits) for Bernoulli,
 * the Gaussian mean otherwise. out: batch x data_size floats. */
VAE_API int32_t vae_model_decode(vae_model *m, const float *z, int64_t batch,
                                 float *out);
/* The decoder's raw output for z (batch x latent_dim) into out (batch x
 * vae_model_output_size floats): logits for Bernoulli and categorical,
 * means (then log-variances) for Gaussian. x (batch x data_size) is read
 * only by a decoder with a data node (teacher forcing), which needs it;
 * otherwise it may be NULL. */
VAE_API int32_t vae_model_decoder_output(vae_model *m, const float *z,
                                         const float *x, int64_t batch,
                                         float *out);
/* Draws n latents z ~ N(0, I) from the model's generator into z_out (may be
 * NULL) and writes their decoded means to out (n x data_size). */
VAE_API int32_t vae_model_sample(vae_model *m, int64_t n, float *z_out,
                                 float *out);
/* Decodes the posterior mean of each example: out = decode(mu(x)). */
VAE_API int32_t vae_model_reconstruct(vae_model *m, const float *x,
                                      int64_t batch, float *out);

/* logp[b] = log p(x_b | z_b) in nats for given latents z (batch x
 * latent_dim) and data x: the decoder's likelihood alone, e.g. to score a
 * sentence under a chosen z. */
VAE_API int32_t vae_model_log_likelihood(vae_model *m, const float *z,
                                         const float *x, int64_t batch,
                                         double *logp);

/*
 * Importance-weighted estimate of log p(x) (Burda et al. 2015), per example:
 *   logpx[b] = logsumexp_k [log p(x_b|z_k) + log p(z_k) - log q(z_k|x_b)]
 *              - log k,   z_1..z_k ~ q(z|x_b),
 * a lower bound on log p(x_b) that tightens as k grows (k = 1 is the ELBO);
 * -logpx[b] is the NLL in nats. Samples are decoded in chunks of a fixed
 * number of rows, so memory does not grow with k; accumulation is in double.
 * k in 1..10^9.
 */
VAE_API int32_t vae_model_iwae(vae_model *m, const float *x, int64_t batch,
                               int64_t k, double *logpx);
/* The mutual information I(x; z) in nats between the n examples x and
 * their latents under q (He et al. 2019, Eq. 5):
 *   mi = E_x E_q(z|x) log q(z|x) - E_q(z) log q(z),
 * where q(z) is the mixture of the n posteriors (so mi <= log n), the first
 * term in closed form and the second over `samples` draws z ~ q(z|x) per
 * example (n x samples x latent_dim normals from the model's generator,
 * example after example). n >= 2, samples in 1..10^6. O(n^2 samples
 * latent_dim) time, O(n latent_dim) memory. */
VAE_API int32_t vae_model_mutual_info(vae_model *m, const float *x, int64_t n,
                                      int64_t samples, double *mi);
/* Active units (Burda et al. 2016): *count receives the number of latent
 * dimensions whose posterior mean varies across the n examples x with a
 * variance (n - 1 in the denominator) above threshold (0.01 is usual);
 * var (may be NULL) each dimension's variance, latent_dim doubles.
 * n >= 2. */
VAE_API int32_t vae_model_active_units(vae_model *m, const float *x,
                                       int64_t n, double threshold,
                                       int64_t *count, double *var);
/* n uniform numbers in [0, 1) from the model's generator (the stream that
 * z samples come from), e.g. to binarise data reproducibly: saved with the
 * model, so a resumed run continues the same stream. Each number is one draw
 * of the generator. The z samples of vae_model_elbo, _elbo_grad and
 * _train_step take two draws per latent element and sample, example after
 * example (k samples per example in training with set_train_samples(k), 1
 * otherwise; token dropout, in training only, takes one per non-padding
 * token after them); so a data-parallel rank that computes rows [a, b) of
 * a batch of n keeps its generator in step with one process computing the
 * whole batch by drawing and discarding a x 2 x k x latent_dim numbers
 * before and (n - b) x 2 x k x latent_dim after (docs/distributed.md). */
VAE_API int32_t vae_model_random_uniform(vae_model *m, int64_t n, float *out);

/* ---- Generation (categorical sequence models) -------------------------- */

#define VAE_DECODE_GREEDY 1 /* the most probable id at every step          */
#define VAE_DECODE_SAMPLE 2 /* a draw from softmax(logits / temperature)   */
#define VAE_DECODE_TOP_K  3 /* a draw among the top_k most probable ids    */
#define VAE_DECODE_BEAM   4 /* beam search of width `beam`                 */
#define VAE_DECODE_TOP_P  5 /* nucleus: a draw among the most probable ids
                               covering top_p of the probability (set by
                               vae_model_set_generation only)             */
#define VAE_NO_EOS       -1 /* eos: no end-of-sequence id                  */

/*
 * Token sequences from latents z (n x latent_dim) of a categorical model,
 * decoded incrementally: recurrent state is carried from step to step and
 * the prefix is never run again, so max_len tokens cost at most max_len
 * decoder steps. The decoder must act per time step (embedding, dense,
 * activations, repeat, concat, shift_right, LSTM; VAE_ERR_UNSUPPORTED
 * otherwise). out: n x max_len ids as floats; a sequence ends at its first
 * `eos` (included; VAE_NO_EOS: never) and is padded with 0 after it; id 0
 * is never generated. Beam search returns each example's beam with the
 * best mean log-probability per token. temperature in (0, 1000] for SAMPLE
 * and TOP_K, top_k >= 1, beam in 1..1024; unused ones are ignored. n x beam
 * (beam 1 unless BEAM) is a batch, limited as above; max_len in 1..2^24.
 * *steps (may be NULL) receives the number of decoder steps run. Draws
 * advance the model's generator. The same as vae_model_set_generation for
 * each setting, then vae_model_generate_tokens, without changing the
 * model's settings.
 */
VAE_API int32_t vae_model_generate(vae_model *m, const float *z, int64_t n,
                                   int32_t mode, double temperature,
                                   int64_t top_k, int64_t beam, int64_t eos,
                                   int64_t max_len, float *out, int64_t *steps);

/* Generation settings, kept on the model for vae_model_generate_tokens
 * (not saved in model files). Values are doubles; integer settings must
 * be whole numbers. vae_model_generate uses the defaults of those it has
 * no argument for. */
#define VAE_GEN_MODE        1 /* VAE_DECODE_*; default GREEDY               */
#define VAE_GEN_TEMPERATURE 2 /* (0, 1000]; default 1                       */
#define VAE_GEN_TOP_K       3 /* 1..2^24; default 10                        */
#define VAE_GEN_BEAM        4 /* 1..1024; default 5                         */
#define VAE_GEN_EOS         5 /* an id in 0..2^24-1 or VAE_NO_EOS (default) */
#define VAE_GEN_TOP_P       6 /* (0, 1] for VAE_DECODE_TOP_P; default 0.9   */
/* n: no generated sequence repeats an n-gram of its own (ids that would
 * are skipped, in every mode, unless none would be left); 0 (default)
 * off, n in 1..VAE_GEN_NGRAM_MAX. */
#define VAE_GEN_NO_REPEAT_NGRAM 7
#define VAE_GEN_NGRAM_MAX 64
/* Beam search picks the beam with the best log-probability / length^a,
 * a in [0, 10]; default 1 (the mean per token); 0: the raw sum. */
#define VAE_GEN_LENGTH_PENALTY 8
/* Sets one generation setting (VAE_ERR_INVALID_ARG for an unknown key,
 * VAE_ERR_RANGE for a value outside its range). */
VAE_API int32_t vae_model_set_generation(vae_model *m, int32_t key,
                                         double value);
/* Reads one generation setting into *value. */
VAE_API int32_t vae_model_get_generation(vae_model *m, int32_t key,
                                         double *value);
/* vae_model_generate with the model's generation settings: out holds
 * n x max_len ids as floats, *steps (may be NULL) the decoder steps. */
VAE_API int32_t vae_model_generate_tokens(vae_model *m, const float *z,
                                          int64_t n, int64_t max_len,
                                          float *out, int64_t *steps);

/* ---- Adam / AdamW ------------------------------------------------------- */

typedef struct vae_adam vae_adam;

/* Adam for model m with learning rate lr (> 0) into *out, which the caller
 * frees with vae_adam_free; betas 0.9/0.999, eps 1e-8, no weight decay, no
 * clipping (PyTorch defaults). m is only read for its parameter count. */
VAE_API int32_t vae_adam_new(const vae_model *m, double lr, vae_adam **out,
                             char *err, size_t errlen);
/* Frees the optimizer. NULL is a no-op. */
VAE_API void vae_adam_free(vae_adam *opt);
/* Message of the optimizer's last error, or "" if none. Never NULL; valid
 * until the next call on opt. */
VAE_API const char *vae_adam_last_error(const vae_adam *opt);
/* Learning rate for the next steps (> 0 and finite, VAE_ERR_RANGE
 * otherwise), e.g. for a schedule; the moments are kept. */
VAE_API int32_t vae_adam_set_lr(vae_adam *opt, double lr);
/* 0 <= beta1, beta2 < 1; eps > 0. */
VAE_API int32_t vae_adam_set_betas(vae_adam *opt, double beta1, double beta2,
                                   double eps);
/* decoupled = 0: Adam with L2 (grad += wd * p); 1: AdamW (p -= lr * wd * p).
 * wd >= 0. */
VAE_API int32_t vae_adam_set_weight_decay(vae_adam *opt, double wd,
                                          int32_t decoupled);
/* Rescales gradients whose global L2 norm exceeds max_norm; 0 disables. */
VAE_API int32_t vae_adam_set_clip_norm(vae_adam *opt, double max_norm);
/* Returns the number of steps taken (or a negative status). */
VAE_API int64_t vae_adam_steps(const vae_adam *opt);
/* One update of m's parameters from its gradient buffer (the gradients are
 * left as they are). Every new parameter and moment is computed and checked
 * before any is stored: a NaN or Inf gradient or parameter, or a finite one
 * whose update would overflow (|gradient| above ~6e20 with the default
 * betas and no clipping, a huge learning rate), gives VAE_ERR_NONFINITE,
 * and a step count that cannot grow (INT64_MAX, only from a crafted file)
 * VAE_ERR_RANGE; then the parameters and the optimizer state (moments,
 * step count) stay unchanged, bit for bit. m must be the model opt was
 * made for (same parameter count). */
VAE_API int32_t vae_adam_step(vae_adam *opt, vae_model *m);

/* zero_grad + elbo_grad + adam_step in one call. Outputs as vae_model_elbo.
 * Errors are reported on the model. The loss is checked before the
 * backward pass, the gradient by Adam's check before any update: on any
 * error the parameters and the optimizer state are unchanged, and so is
 * the gradient buffer unless the loss was finite (then it holds this
 * batch's gradient, possibly non-finite). */
VAE_API int32_t vae_model_train_step(vae_model *m, vae_adam *opt,
                                     const float *x, int64_t batch,
                                     double *elbo, double *recon, double *kl);

/* ---- Save / load (format: docs/file-format.md) -------------------------- */

/* Writes architecture, settings, generator state, weights and metadata, plus
 * the optimizer state when opt is not NULL, atomically: the file is written
 * and synced under a temporary name new to this call,
 * <name>.tmp.<host>.<pid>.<k> beside the target, then renamed over it. If
 * the process dies at any point (SIGKILL included), path holds the previous
 * complete file or the new one, never a mixture; once the call returns, the
 * new file and the rename are synced to disk. A killed save leaves its
 * temporary file; the next save to the same path on this host removes
 * those of processes that no longer exist. Refused with VAE_ERR_IO before
 * anything is written: an empty path, a directory, FIFO or other non-file,
 * a file without any write permission bit, a link to nothing. A symbolic
 * link to a file is followed (the link stays); the new file keeps the old
 * one's permission bits. Rules: docs/file-format.md. Saves to one path
 * from several threads or processes at once are safe: the last rename
 * wins. The KL annealing schedule and generation settings are not saved. */
VAE_API int32_t vae_model_save(vae_model *m, const vae_adam *opt,
                               const char *path);
/* The size in bytes of what vae_model_save_to_buffer writes, in *size. */
VAE_API int32_t vae_model_save_size(vae_model *m, const vae_adam *opt,
                                    size_t *size);
/* Writes the same bytes as vae_model_save into buf (capacity cap, which must
 * be >= the size query); *written receives the size. */
VAE_API int32_t vae_model_save_to_buffer(vae_model *m, const vae_adam *opt,
                                         void *buf, size_t cap,
                                         size_t *written);
/* Loads a model from a file into *out (freed with vae_model_free). If
 * opt_out is not NULL it receives the saved optimizer state (freed with
 * vae_adam_free), or NULL when the file has none. A FIFO, device or
 * directory is refused at once (VAE_ERR_IO). On failure the outputs are
 * NULL and err receives the reason. */
VAE_API int32_t vae_model_load(const char *path, vae_model **out,
                               vae_adam **opt_out, char *err, size_t errlen);
/* As vae_model_load, from len bytes at buf (not kept after the call). */
VAE_API int32_t vae_model_load_from_buffer(const void *buf, size_t len,
                                           vae_model **out, vae_adam **opt_out,
                                           char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* VAE_H */
