"""libvae from Python: variational autoencoders through ctypes and numpy.

    import libvae
    with libvae.Graph() as enc, libvae.Graph() as dec:
        ...build the networks...
        model = libvae.Model(enc, dec, latent_dim, libvae.LIKELIHOOD_BERNOULLI,
                             seed=1)

The shared library is $VAE_LIBRARY if set, else whatever
ctypes.util.find_library("vae") finds; it is loaded on import. Every failing
call raises VaeError carrying the library's status and message. Arrays go to
the library without copies, so they must be numpy float32 arrays in C order;
anything else raises TypeError or ValueError instead of being converted
behind your back. See docs/ffi/python.md.
"""
import collections
import ctypes
import os
import weakref

import numpy as np

from . import _capi
from ._capi import (
    ABI_MAJOR, ANNEAL_LINEAR, ANNEAL_NONE, ANNEAL_SIGMOID, DECODE_BEAM,
    DECODE_GREEDY, DECODE_SAMPLE, DECODE_TOP_K, DECODE_TOP_P, ERR_BUSY,
    ERR_FORMAT, ERR_GRAPH, ERR_INVALID_ARG, ERR_IO, ERR_NOMEM, ERR_NONFINITE,
    ERR_RANGE, ERR_SHAPE, ERR_UNSUPPORTED, ERR_VERSION, GEN_BEAM, GEN_EOS,
    GEN_LENGTH_PENALTY, GEN_MODE, GEN_NGRAM_MAX, GEN_NO_REPEAT_NGRAM,
    GEN_TEMPERATURE, GEN_TOP_K, GEN_TOP_P, LIKELIHOOD_BERNOULLI, LIKELIHOOD_CATEGORICAL,
    LIKELIHOOD_GAUSSIAN_FIXED, LIKELIHOOD_GAUSSIAN_LEARNED, LSTM_LAST_STATE,
    LSTM_SEQUENCE, METADATA_MAX, NO_EOS, NO_NODE, OK, TRAIN_SAMPLES_MAX,
    VaeError)

__all__ = [
    "ABI_MAJOR", "ANNEAL_LINEAR", "ANNEAL_NONE", "ANNEAL_SIGMOID",
    "DECODE_BEAM", "DECODE_GREEDY", "DECODE_SAMPLE", "DECODE_TOP_K",
    "DECODE_TOP_P", "GEN_LENGTH_PENALTY", "GEN_NGRAM_MAX",
    "GEN_NO_REPEAT_NGRAM", "GEN_TOP_P",
    "ERR_BUSY", "ERR_FORMAT", "ERR_GRAPH", "ERR_INVALID_ARG", "ERR_IO", "ERR_NOMEM",
    "ERR_NONFINITE", "ERR_RANGE", "ERR_SHAPE", "ERR_UNSUPPORTED",
    "ERR_VERSION", "GEN_BEAM", "GEN_EOS", "GEN_MODE", "GEN_TEMPERATURE",
    "GEN_TOP_K", "LIKELIHOOD_BERNOULLI", "LIKELIHOOD_CATEGORICAL",
    "LIKELIHOOD_GAUSSIAN_FIXED", "LIKELIHOOD_GAUSSIAN_LEARNED",
    "LSTM_LAST_STATE", "LSTM_SEQUENCE", "METADATA_MAX", "NO_EOS", "NO_NODE",
    "OK", "TRAIN_SAMPLES_MAX", "VaeError",
    "Adam", "Elbo", "Graph", "Model", "lib",
    "get_num_threads", "set_num_threads", "status_string", "version_number",
    "version_string",
]

# The raw functions, every one declared: for what the classes do not cover.
lib = _capi.load(_capi.find_library())

Elbo = collections.namedtuple("Elbo", "elbo recon kl")
Elbo.__doc__ = """Means per example in nats: elbo = recon - kl."""

_P_F32 = ctypes.POINTER(ctypes.c_float)
_P_F64 = ctypes.POINTER(ctypes.c_double)
_ERRLEN = 512  # messages are at most 255 bytes (docs/errors.md)


def version_string():
    """Version of the loaded library, "MAJOR.MINOR.PATCH"."""
    return lib.vae_version_string().decode()


def version_number():
    """Version of the loaded library, MAJOR*10000 + MINOR*100 + PATCH."""
    return lib.vae_version_number()


def status_string(status):
    """English description of a status code."""
    return lib.vae_status_string(status).decode()


def set_num_threads(n):
    """Threads OpenBLAS uses for matrix products, process-wide (n >= 1)."""
    lib.vae_set_num_threads(n)


def get_num_threads():
    """The current OpenBLAS thread count."""
    return lib.vae_get_num_threads()


# ---- Arrays ----------------------------------------------------------------

def _f32(a, name):
    """A pointer to a's own memory, after checking the library can read it
    as float32 values in C order."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of float32, "
                        f"not {type(a).__name__}")
    if a.dtype != np.float32:
        raise TypeError(f"{name} has dtype {a.dtype}, libvae needs float32 "
                        f"(convert with {name}.astype(np.float32))")
    if not (a.flags.c_contiguous and a.flags.aligned):
        raise ValueError(f"{name} is not a C-contiguous aligned array "
                         f"(copy it with np.ascontiguousarray({name}))")
    return a.ctypes.data_as(_P_F32)


def _rows(a, name, per_row, what):
    """(pointer, batch) for a batch of rows of per_row floats each: shape
    (batch, per_row) or (batch, *shape of one row)."""
    ptr = _f32(a, name)
    if a.ndim < 2 or a.size != a.shape[0] * per_row:
        raise ValueError(f"{name} has shape {a.shape}; expected (batch, "
                         f"{per_row}) or (batch, *{what})")
    return ptr, a.shape[0]


def _dims(values, ctype):
    values = [int(v) for v in values]
    return (ctype * len(values))(*values), len(values)


def _path(path):
    return os.fsencode(path)


# ---- Handles ---------------------------------------------------------------

class _Handle:
    """Owns one C object and frees it when the last reference goes: the
    wrapper's, or that of a numpy view into the object's memory."""

    __slots__ = ("ptr", "__weakref__")

    def __init__(self, ptr, free):
        self.ptr = ptr
        weakref.finalize(self, free, ptr)


class _Wrapper:
    """close() and the with-statement for one handle; closing twice, or a
    wrapper whose construction failed, is fine."""

    _own = None

    def _adopt(self, ptr, free):
        self._own = _Handle(ptr, free)

    def _ptr(self):
        if self._own is None:
            raise ValueError(f"operation on a closed {type(self).__name__}")
        return self._own.ptr

    @property
    def closed(self):
        return self._own is None

    def close(self):
        """Frees the C object (a Model's memory once no params/grads view
        of it is left). Later calls raise ValueError; close() again does
        nothing."""
        self._own = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Graph(_Wrapper):
    """A network definition: the encoder (data -> features) or the decoder
    (z -> likelihood parameters). Builder methods return node ids; the first
    failing one raises VaeError, and the graph keeps that error (every later
    builder call raises it again). Shapes are per example."""

    def __init__(self):
        out = ctypes.c_void_p()
        lib.vae_graph_new(ctypes.byref(out))
        self._adopt(out, lib.vae_graph_free)

    @property
    def last_error(self):
        """Message of the first recorded error, or ""."""
        return _capi._text(lib.vae_graph_last_error(self._ptr()))

    def check(self):
        """Raises the graph's recorded error, if it has one."""
        lib.vae_graph_status(self._ptr())

    def input(self, dims):
        """The f32 input, per-example shape dims (1 to 4 axes)."""
        arr, rank = _dims(dims, ctypes.c_int64)
        return lib.vae_graph_input(self._ptr(), arr, rank)

    def dense(self, x, units):
        """Fully connected layer on the last axis (nn.Linear)."""
        return lib.vae_graph_dense(self._ptr(), x, units)

    def relu(self, x):
        return lib.vae_graph_relu(self._ptr(), x)

    def leaky_relu(self, x, slope):
        """slope in [0, 1)."""
        return lib.vae_graph_leaky_relu(self._ptr(), x, slope)

    def tanh(self, x):
        return lib.vae_graph_tanh(self._ptr(), x)

    def sigmoid(self, x):
        return lib.vae_graph_sigmoid(self._ptr(), x)

    def softplus(self, x):
        return lib.vae_graph_softplus(self._ptr(), x)

    def identity(self, x):
        return lib.vae_graph_identity(self._ptr(), x)

    def conv2d(self, x, out_channels, kernel, stride=1, padding=0):
        """2-D convolution of a [C, H, W] node (nn.Conv2d)."""
        return lib.vae_graph_conv2d(self._ptr(), x, out_channels, kernel,
                                    stride, padding)

    def conv2d_transpose(self, x, out_channels, kernel, stride=1, padding=0):
        """Transposed 2-D convolution of a [C, H, W] node
        (nn.ConvTranspose2d)."""
        return lib.vae_graph_conv2d_transpose(self._ptr(), x, out_channels,
                                              kernel, stride, padding)

    def reshape(self, x, dims):
        """The same elements viewed with shape dims."""
        arr, rank = _dims(dims, ctypes.c_int64)
        return lib.vae_graph_reshape(self._ptr(), x, arr, rank)

    def transpose(self, x, axes):
        """Axes reordered: output axis i is input axis axes[i]."""
        arr, rank = _dims(axes, ctypes.c_int32)
        return lib.vae_graph_transpose(self._ptr(), x, arr, rank)

    def flatten(self, x):
        return lib.vae_graph_flatten(self._ptr(), x)

    def data(self, dims):
        """The model's data x as a decoder node (teacher forcing)."""
        arr, rank = _dims(dims, ctypes.c_int64)
        return lib.vae_graph_data(self._ptr(), arr, rank)

    def embedding(self, ids, vocab, dim):
        """Token ids [T] -> [T, dim] through a vocab x dim table."""
        return lib.vae_graph_embedding(self._ptr(), ids, vocab, dim)

    def embedding_shared(self, ids, vocab, dim):
        """An embedding reading the encoder's table (decoders only)."""
        return lib.vae_graph_embedding_shared(self._ptr(), ids, vocab, dim)

    def lstm(self, x, hidden, init=-1, mask=-1, full_sequence=False):
        """LSTM over a sequence [T, F] (nn.LSTM). init: -1 or a node of
        h0 then c0; mask: -1 or a node of T ids (0 = padding)."""
        return lib.vae_graph_lstm(self._ptr(), x, hidden, init, mask,
                                  1 if full_sequence else 0)

    def repeat(self, x, times):
        """A vector [F] as the sequence [times, F]."""
        return lib.vae_graph_repeat(self._ptr(), x, times)

    def concat(self, a, b):
        """Concatenation on the last axis."""
        return lib.vae_graph_concat(self._ptr(), a, b)

    def shift_right(self, ids, bos):
        """Token ids one step later with bos in front."""
        return lib.vae_graph_shift_right(self._ptr(), ids, bos)

    def token_dropout(self, ids, rate, unk):
        """Word dropout: ids replaced by unk with probability rate while
        training."""
        return lib.vae_graph_token_dropout(self._ptr(), ids, rate, unk)

    def set_output(self, node):
        """Marks the node whose value is the graph's result."""
        lib.vae_graph_set_output(self._ptr(), node)

    def node_size(self, node):
        """Elements per example of a node."""
        return lib.vae_graph_node_size(self._ptr(), node)


def _errbuf():
    return ctypes.create_string_buffer(_ERRLEN)


def _opt_ptr(opt):
    return None if opt is None else opt._ptr()


def _load(cls, loader, args, with_optimizer):
    out, opt = ctypes.c_void_p(), ctypes.c_void_p()
    err = _errbuf()
    loader(*args, ctypes.byref(out),
           ctypes.byref(opt) if with_optimizer else None, err, len(err))
    model = cls._from_ptr(out)
    if not with_optimizer:
        return model
    return model, Adam._from_ptr(opt) if opt.value else None


class Model(_Wrapper):
    """A VAE built from copies of an encoder and a decoder graph; owns its
    parameters, gradients, workspace and random generator.

    Data arrays are float32 batches, one example per row: shape
    (batch, data_size) or (batch, *data_shape). Latents are
    (batch, latent_dim). One thread at a time per model."""

    def __init__(self, encoder, decoder, latent_dim, likelihood, seed):
        out = ctypes.c_void_p()
        err = _errbuf()
        lib.vae_model_new(encoder._ptr(), decoder._ptr(), latent_dim,
                          likelihood, seed, ctypes.byref(out), err, len(err))
        self._adopt(out, lib.vae_model_free)

    @classmethod
    def _from_ptr(cls, ptr):
        model = cls.__new__(cls)
        model._adopt(ptr, lib.vae_model_free)
        return model

    @classmethod
    def load(cls, path, with_optimizer=False):
        """The model saved at path. with_optimizer=True returns
        (model, adam) instead, adam None when the file has no optimizer
        state."""
        return _load(cls, lib.vae_model_load, (_path(path),), with_optimizer)

    @classmethod
    def from_bytes(cls, data, with_optimizer=False):
        """As load(), from the bytes that to_bytes() returned."""
        data = bytes(data)
        return _load(cls, lib.vae_model_load_from_buffer, (data, len(data)),
                     with_optimizer)

    def save(self, path, opt=None):
        """Writes the model (and opt's state, if given) atomically."""
        lib.vae_model_save(self._ptr(), _opt_ptr(opt), _path(path))

    def to_bytes(self, opt=None):
        """The bytes save() would write."""
        size = ctypes.c_size_t()
        lib.vae_model_save_size(self._ptr(), _opt_ptr(opt), ctypes.byref(size))
        buf = ctypes.create_string_buffer(size.value)
        written = ctypes.c_size_t()
        lib.vae_model_save_to_buffer(self._ptr(), _opt_ptr(opt), buf,
                                     size.value, ctypes.byref(written))
        return buf.raw[:written.value]

    @property
    def last_error(self):
        """Message of the model's last error, or ""."""
        return _capi._text(lib.vae_model_last_error(self._ptr()))

    # -- settings

    def set_seed(self, seed):
        """Resets the random generator that z samples come from."""
        lib.vae_model_set_seed(self._ptr(), seed)

    def set_beta(self, beta):
        """Weight of the KL term in the training loss (>= 0)."""
        lib.vae_model_set_beta(self._ptr(), beta)

    def set_free_bits(self, nats):
        """Per-dimension KL not penalised below nats (0 disables)."""
        lib.vae_model_set_free_bits(self._ptr(), nats)

    def set_train_samples(self, k):
        """Importance samples per example in elbo_grad/train_step's
        objective: 1 the ELBO, k > 1 the k-sample IWAE bound. Not saved."""
        lib.vae_model_set_train_samples(self._ptr(), k)

    def set_kl_anneal(self, kind, steps):
        """KL annealing for train_step: ANNEAL_NONE/LINEAR/SIGMOID over
        steps optimizer steps. Not saved with the model."""
        lib.vae_model_set_kl_anneal(self._ptr(), kind, steps)

    def set_obs_logvar(self, logvar):
        """Log-variance of LIKELIHOOD_GAUSSIAN_FIXED."""
        lib.vae_model_set_obs_logvar(self._ptr(), logvar)

    @property
    def metadata(self):
        """Application bytes saved with the model (b"" if none)."""
        n = ctypes.c_size_t()
        ptr = lib.vae_model_metadata(self._ptr(), ctypes.byref(n))
        return ctypes.string_at(ptr, n.value) if ptr else b""

    @metadata.setter
    def metadata(self, data):
        data = bytes(data)
        lib.vae_model_set_metadata(self._ptr(), data or None, len(data))

    # -- sizes

    @property
    def data_size(self):
        """Elements per example of the data."""
        return lib.vae_model_data_size(self._ptr())

    @property
    def data_shape(self):
        """Shape of one example (the encoder input's shape)."""
        dims = (ctypes.c_int64 * 4)()
        rank = lib.vae_model_data_shape(self._ptr(), dims, len(dims))
        return tuple(dims[:rank])

    @property
    def latent_dim(self):
        return lib.vae_model_latent_dim(self._ptr())

    @property
    def num_params(self):
        return lib.vae_model_num_params(self._ptr())

    # -- parameters and gradients, in place

    def _view(self, getter):
        n = self.num_params
        buf = (ctypes.c_float * n).from_address(
            ctypes.addressof(getter(self._ptr()).contents))
        # The view keeps the C object alive: close() cannot leave it
        # dangling.
        buf.owner = self._own
        return np.frombuffer(buf, dtype=np.float32)

    @property
    def params(self):
        """The parameter buffer itself (writable, no copy)."""
        return self._view(lib.vae_model_params)

    @property
    def grads(self):
        """The gradient buffer itself, same layout as params."""
        return self._view(lib.vae_model_grads)

    def zero_grad(self):
        lib.vae_model_zero_grad(self._ptr())

    def scale_grad(self, s):
        lib.vae_model_scale_grad(self._ptr(), s)

    # -- running the model

    def _x(self, x, name="x"):
        return _rows(x, name, self.data_size, self.data_shape)

    def _z(self, z, name="z"):
        return _rows(z, name, self.latent_dim, (self.latent_dim,))

    def _out(self, batch):
        return np.empty((batch,) + self.data_shape, dtype=np.float32)

    def _elbo(self, fn, x, *extra):
        ptr, batch = self._x(x)
        e, r, k = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        fn(self._ptr(), *extra, ptr, batch, ctypes.byref(e), ctypes.byref(r),
           ctypes.byref(k))
        return Elbo(e.value, r.value, k.value)

    def elbo(self, x):
        """Elbo of the batch x, one z sample per example."""
        return self._elbo(lib.vae_model_elbo, x)

    def elbo_grad(self, x):
        """As elbo(x), and adds the training loss's gradient to grads."""
        return self._elbo(lib.vae_model_elbo_grad, x)

    def _noise(self, fn, x, eps):
        ptr, batch = self._x(x)
        e, r, k = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        fn(self._ptr(), ptr, batch, _f32(eps, "eps"), ctypes.byref(e),
           ctypes.byref(r), ctypes.byref(k))
        return Elbo(e.value, r.value, k.value)

    def elbo_noise(self, x, eps):
        """elbo(x) with z = mu + sigma * eps for the given eps, shape
        (batch, latent_dim), instead of drawn noise."""
        return self._noise(lib.vae_model_elbo_noise, x, eps)

    def elbo_grad_noise(self, x, eps):
        """elbo_grad(x) with the given eps, (batch * k, latent_dim) for k
        train samples (example after example)."""
        return self._noise(lib.vae_model_elbo_grad_noise, x, eps)

    def train_step(self, opt, x):
        """zero_grad + elbo_grad + one step of opt, returning the Elbo."""
        return self._elbo(lib.vae_model_train_step, x, opt._ptr())

    def encode(self, x):
        """(mu, logvar) of q(z|x), each (batch, latent_dim)."""
        ptr, batch = self._x(x)
        mu = np.empty((batch, self.latent_dim), dtype=np.float32)
        logvar = np.empty_like(mu)
        lib.vae_model_encode(self._ptr(), ptr, batch, _f32(mu, "mu"),
                             _f32(logvar, "logvar"))
        return mu, logvar

    def decode(self, z):
        """Mean of p(x|z), shape (batch, *data_shape)."""
        ptr, batch = self._z(z)
        out = self._out(batch)
        lib.vae_model_decode(self._ptr(), ptr, batch, _f32(out, "out"))
        return out

    @property
    def output_size(self):
        """Elements per example of the decoder's raw output."""
        return lib.vae_model_output_size(self._ptr())

    def decoder_output(self, z, x=None):
        """The decoder's raw output (logits, or Gaussian parameters) at z,
        shape (batch, output_size); x is needed only by a teacher-forced
        decoder."""
        ptr, batch = self._z(z)
        xp = None
        if x is not None:
            xp, xbatch = self._x(x)
            if xbatch != batch:
                raise ValueError(f"z has {batch} rows but x has {xbatch}")
        out = np.empty((batch, self.output_size), dtype=np.float32)
        lib.vae_model_decoder_output(self._ptr(), ptr, xp, batch,
                                     _f32(out, "out"))
        return out

    def sample(self, n):
        """(z, x): n latents drawn from N(0, I) and their decoded means."""
        z = np.empty((n, self.latent_dim), dtype=np.float32)
        out = self._out(n)
        lib.vae_model_sample(self._ptr(), n, _f32(z, "z"), _f32(out, "out"))
        return z, out

    def reconstruct(self, x):
        """decode(mu(x)) for each example."""
        ptr, batch = self._x(x)
        out = self._out(batch)
        lib.vae_model_reconstruct(self._ptr(), ptr, batch, _f32(out, "out"))
        return out

    def log_likelihood(self, z, x):
        """log p(x_b | z_b) in nats per example (float64 array)."""
        zp, batch = self._z(z)
        xp, xbatch = self._x(x)
        if xbatch != batch:
            raise ValueError(f"z has {batch} rows but x has {xbatch}")
        logp = np.empty(batch, dtype=np.float64)
        lib.vae_model_log_likelihood(self._ptr(), zp, xp, batch,
                                     logp.ctypes.data_as(_P_F64))
        return logp

    def iwae(self, x, k):
        """Importance-weighted bound on log p(x) with k samples, per
        example (float64 array); -iwae is the NLL in nats."""
        ptr, batch = self._x(x)
        logpx = np.empty(batch, dtype=np.float64)
        lib.vae_model_iwae(self._ptr(), ptr, batch, k,
                           logpx.ctypes.data_as(_P_F64))
        return logpx

    def random_uniform(self, n):
        """n uniform floats in [0, 1) from the model's generator."""
        out = np.empty(n, dtype=np.float32)
        lib.vae_model_random_uniform(self._ptr(), n, _f32(out, "out"))
        return out

    def generate(self, z, max_len, mode=DECODE_GREEDY, temperature=1.0,
                 top_k=1, beam=1, eos=-1):
        """Token sequences from latents z of a categorical model, decoded
        incrementally. Returns (ids, steps): ids (n, max_len) float32, 0
        after each sequence's eos; steps the decoder steps run."""
        ptr, n = self._z(z)
        out = np.empty((n, max_len), dtype=np.float32)
        steps = ctypes.c_int64()
        lib.vae_model_generate(self._ptr(), ptr, n, mode, temperature, top_k,
                               beam, eos, max_len, _f32(out, "out"),
                               ctypes.byref(steps))
        return out, steps.value

    def set_generation(self, key, value):
        """Sets one generation setting (GEN_MODE, GEN_TEMPERATURE, ...)
        that generate_tokens uses."""
        lib.vae_model_set_generation(self._ptr(), key, value)

    def get_generation(self, key):
        """The value of one generation setting."""
        v = ctypes.c_double()
        lib.vae_model_get_generation(self._ptr(), key, ctypes.byref(v))
        return v.value

    def generate_tokens(self, z, max_len):
        """generate() with the model's generation settings: (ids, steps)."""
        ptr, n = self._z(z)
        out = np.empty((n, max_len), dtype=np.float32)
        steps = ctypes.c_int64()
        lib.vae_model_generate_tokens(self._ptr(), ptr, n, max_len,
                                      _f32(out, "out"), ctypes.byref(steps))
        return out, steps.value


class Adam(_Wrapper):
    """Adam/AdamW state for one model (PyTorch defaults)."""

    def __init__(self, model, lr):
        out = ctypes.c_void_p()
        err = _errbuf()
        lib.vae_adam_new(model._ptr(), lr, ctypes.byref(out), err, len(err))
        self._adopt(out, lib.vae_adam_free)

    @classmethod
    def _from_ptr(cls, ptr):
        opt = cls.__new__(cls)
        opt._adopt(ptr, lib.vae_adam_free)
        return opt

    @property
    def last_error(self):
        """Message of the optimizer's last error, or ""."""
        return _capi._text(lib.vae_adam_last_error(self._ptr()))

    def set_lr(self, lr):
        lib.vae_adam_set_lr(self._ptr(), lr)

    def set_betas(self, beta1, beta2, eps):
        lib.vae_adam_set_betas(self._ptr(), beta1, beta2, eps)

    def set_weight_decay(self, wd, decoupled=False):
        """decoupled False: L2 in the gradient (Adam); True: AdamW."""
        lib.vae_adam_set_weight_decay(self._ptr(), wd, 1 if decoupled else 0)

    def set_clip_norm(self, max_norm):
        """Global gradient-norm clipping; 0 disables."""
        lib.vae_adam_set_clip_norm(self._ptr(), max_norm)

    @property
    def steps(self):
        """Number of steps taken."""
        return lib.vae_adam_steps(self._ptr())

    def step(self, model):
        """One update of model's parameters from its gradients."""
        lib.vae_adam_step(self._ptr(), model._ptr())
