"""libvae from Python: variational autoencoders through ctypes and numpy.

    import libvae
    with libvae.Graph() as enc, libvae.Graph() as dec:
        ...build the networks...
        model = libvae.Model(enc, dec, latent_dim, libvae.LIKELIHOOD_BERNOULLI,
                             seed=1)

The shared library is loaded on import: $VAE_LIBRARY if set, else
libvae.so.0 in the libdir of the vae.pc that pkg-config finds, else
libvae.so.0 wherever the dynamic loader finds it (LD_LIBRARY_PATH, ldconfig's
cache). Every failing call raises VaeError carrying the library's status and
message. Arrays go to the library without copies, so they must be numpy
float32 arrays in C order; anything else raises TypeError or ValueError
instead of being converted behind your back. numpy is imported by the first
call that takes or returns an array, so that everything else works without
it (`pip install libvae[numpy]`, or Debian's python3-numpy). See
docs/ffi/python.md.
"""
from __future__ import annotations

import ctypes
import os
import sys
from typing import (TYPE_CHECKING, Any, Callable, Literal, NamedTuple,
                    Optional, Sequence, Tuple, TypeVar, Union, overload)
import weakref

from . import _capi
from ._capi import (
    ABI_MAJOR, ANNEAL_LINEAR, ANNEAL_NONE, ANNEAL_SIGMOID, DECODE_BEAM,
    DECODE_GREEDY, DECODE_SAMPLE, DECODE_TOP_K, DECODE_TOP_P, ERR_BUSY,
    ERR_FORMAT, ERR_GRAPH, ERR_INVALID_ARG, ERR_IO, ERR_NOMEM, ERR_NONFINITE,
    ERR_RANGE, ERR_SHAPE, ERR_UNSUPPORTED, ERR_VERSION, FREE_BITS_BATCH,
    FREE_BITS_EXAMPLE, GEN_BEAM, GEN_EOS,
    GEN_LENGTH_PENALTY, GEN_MODE, GEN_NGRAM_MAX, GEN_NO_REPEAT_NGRAM,
    GEN_TEMPERATURE, GEN_TOP_K, GEN_TOP_P, LIKELIHOOD_BERNOULLI,
    LIKELIHOOD_CATEGORICAL, LIKELIHOOD_GAUSSIAN_FIXED,
    LIKELIHOOD_GAUSSIAN_LEARNED, LSTM_LAST_STATE, LSTM_SEQUENCE, METADATA_MAX,
    NO_EOS, NO_NODE, OK, TRAIN_SAMPLES_MAX, ShapeError, VaeError)

__all__ = [
    "ABI_MAJOR", "ANNEAL_LINEAR", "ANNEAL_NONE", "ANNEAL_SIGMOID",
    "DECODE_BEAM", "DECODE_GREEDY", "DECODE_SAMPLE", "DECODE_TOP_K",
    "DECODE_TOP_P", "ERR_BUSY", "ERR_FORMAT", "ERR_GRAPH", "ERR_INVALID_ARG",
    "ERR_IO", "ERR_NOMEM", "ERR_NONFINITE", "ERR_RANGE", "ERR_SHAPE",
    "ERR_UNSUPPORTED", "ERR_VERSION", "FREE_BITS_BATCH", "FREE_BITS_EXAMPLE",
    "GEN_BEAM", "GEN_EOS",
    "GEN_LENGTH_PENALTY", "GEN_MODE", "GEN_NGRAM_MAX", "GEN_NO_REPEAT_NGRAM",
    "GEN_TEMPERATURE", "GEN_TOP_K", "GEN_TOP_P", "LIKELIHOOD_BERNOULLI",
    "LIKELIHOOD_CATEGORICAL", "LIKELIHOOD_GAUSSIAN_FIXED",
    "LIKELIHOOD_GAUSSIAN_LEARNED", "LSTM_LAST_STATE", "LSTM_SEQUENCE",
    "METADATA_MAX", "NO_EOS", "NO_NODE", "OK", "TRAIN_SAMPLES_MAX",
    "ShapeError", "VaeError",
    "Adam", "Elbo", "Graph", "Loaded", "Model", "lib",
    "num_threads", "set_num_threads", "status_string", "version",
    "version_number",
]

# The raw functions, every one declared: for what the classes do not cover.
lib = _capi.open_library()


def _numpy() -> Any:
    """numpy, or an ImportError that says how to install it."""
    try:
        import numpy
    except ImportError as e:
        raise ImportError(
            "libvae: this call takes or returns numpy arrays, but "
            f"{sys.executable} cannot import numpy ({e}). Install it: "
            "`sudo apt-get install python3-numpy` on Debian (for "
            "/usr/bin/python3, and virtual environments made with "
            "--system-site-packages), else `python3 -m pip install numpy` "
            "or `python3 -m pip install 'libvae[numpy]'`") from e
    return numpy


class _LazyNumpy:
    """Stands for the numpy module until an attribute is used, which
    imports it: `import libvae`, graphs, models, files and settings need no
    numpy, only the calls with arrays do."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_numpy(), name)


if TYPE_CHECKING:
    # The type checker sees the real numpy, so the hints stay exact.
    import numpy as np
    import numpy.typing as npt
    F32Array = npt.NDArray[np.float32]
    F64Array = npt.NDArray[np.float64]
else:
    np = _LazyNumpy()

    def __getattr__(name: str) -> Any:
        # The array types exist at run time too, for annotations evaluated
        # then (libvae.F32Array); numpy is imported when one is used.
        if name in ("F32Array", "F64Array"):
            _numpy()
            import numpy.typing
            return numpy.typing.NDArray[numpy.float32 if name == "F32Array"
                                        else numpy.float64]
        raise AttributeError(f"module {__name__!r} has no attribute "
                             f"{name!r}")
PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


class Elbo(NamedTuple):
    """Means per example in nats: elbo = recon - kl."""
    elbo: float
    recon: float
    kl: float


_P_F32 = ctypes.POINTER(ctypes.c_float)
_P_F64 = ctypes.POINTER(ctypes.c_double)
_ERRLEN = 512  # messages are at most 255 bytes (docs/errors.md)


def version() -> str:
    """Version of the loaded library, "MAJOR.MINOR.PATCH"."""
    return str(lib.vae_version_string().decode())


def version_number() -> int:
    """Version of the loaded library, MAJOR*10000 + MINOR*100 + PATCH."""
    return int(lib.vae_version_number())


def status_string(status: int) -> str:
    """The library's English description of a status code."""
    return str(lib.vae_status_string(status).decode())


def set_num_threads(n: int) -> None:
    """Threads OpenBLAS uses for matrix products, process-wide (n >= 1)."""
    lib.vae_set_num_threads(n)


def num_threads() -> int:
    """The current OpenBLAS thread count."""
    return int(lib.vae_get_num_threads())


# ---- Arrays ----------------------------------------------------------------

def _f32(a: Any, name: str) -> Any:
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


def _shape_text(shape: Sequence[int]) -> str:
    return "(" + ", ".join(["batch"] + [str(d) for d in shape]) + ")"


def _rows(a: Any, name: str, function: str,
          row_shape: Tuple[int, ...]) -> Tuple[Any, int]:
    """(pointer, batch) for a batch of rows: shape (batch, row size) or
    (batch, *row_shape), nothing else."""
    ptr = _f32(a, name)
    per_row = int(np.prod(row_shape))
    # The same mistake reads the same in every binding: a size that is not
    # whole examples is told in floats, as Rust and Go tell it.
    if per_row == 0 or a.size % per_row:
        raise ShapeError(function,
                         _capi.whole_examples(name, a.size, per_row))
    if not (a.shape[1:] in ((per_row,), row_shape) and a.ndim >= 2):
        wanted = _shape_text((per_row,))
        if row_shape != (per_row,):
            wanted += " or " + _shape_text(row_shape)
        raise ShapeError(function, f"{name} has shape {tuple(a.shape)}; "
                         f"this model takes {wanted}: one example per row")
    return ptr, a.shape[0]


def _dims(values: Sequence[int], ctype: Any) -> Tuple[Any, int]:
    ints = [int(v) for v in values]
    return (ctype * len(ints))(*ints), len(ints)


def _path(path: PathLike) -> bytes:
    return os.fsencode(path)


# ---- Handles ---------------------------------------------------------------

class _Handle:
    """Owns one C object and frees it when the last reference goes: the
    wrapper's, or that of a numpy view into the object's memory."""

    __slots__ = ("ptr", "__weakref__")

    def __init__(self, ptr: ctypes.c_void_p,
                 free: Callable[[ctypes.c_void_p], None]) -> None:
        self.ptr = ptr
        weakref.finalize(self, free, ptr)


_W = TypeVar("_W", bound="_Wrapper")


class _Wrapper:
    """close() and the with-statement for one handle; closing twice, or a
    wrapper whose construction failed, is fine."""

    _own: Optional[_Handle] = None

    def _adopt(self, ptr: ctypes.c_void_p,
               free: Callable[[ctypes.c_void_p], None]) -> None:
        self._own = _Handle(ptr, free)

    def _ptr(self) -> ctypes.c_void_p:
        if self._own is None:
            raise ValueError(f"operation on a closed {type(self).__name__}")
        return self._own.ptr

    @property
    def closed(self) -> bool:
        return self._own is None

    def close(self) -> None:
        """Frees the C object (a Model's memory once no params/grads view
        of it is left). Later calls raise ValueError; close() again does
        nothing."""
        self._own = None

    def __enter__(self: _W) -> _W:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Graph(_Wrapper):
    """A network definition: the encoder (data -> features) or the decoder
    (z -> likelihood parameters). Builder methods return node ids; the first
    failing one raises VaeError, and the graph keeps that error (every later
    builder call raises it again). Shapes are per example."""

    def __init__(self) -> None:
        out = ctypes.c_void_p()
        lib.vae_graph_new(ctypes.byref(out))
        self._adopt(out, lib.vae_graph_free)

    @property
    def last_error(self) -> str:
        """Message of the first recorded error, or ""."""
        return _capi._text(lib.vae_graph_last_error(self._ptr()))

    def check(self) -> None:
        """Raises the graph's recorded error, if it has one."""
        lib.vae_graph_status(self._ptr())

    def input(self, dims: Sequence[int]) -> int:
        """The f32 input, per-example shape dims (1 to 4 axes)."""
        arr, rank = _dims(dims, ctypes.c_int64)
        return int(lib.vae_graph_input(self._ptr(), arr, rank))

    def dense(self, x: int, units: int) -> int:
        """Fully connected layer on the last axis (nn.Linear)."""
        return int(lib.vae_graph_dense(self._ptr(), x, units))

    def relu(self, x: int) -> int:
        return int(lib.vae_graph_relu(self._ptr(), x))

    def leaky_relu(self, x: int, slope: float) -> int:
        """slope in [0, 1)."""
        return int(lib.vae_graph_leaky_relu(self._ptr(), x, slope))

    def tanh(self, x: int) -> int:
        return int(lib.vae_graph_tanh(self._ptr(), x))

    def sigmoid(self, x: int) -> int:
        return int(lib.vae_graph_sigmoid(self._ptr(), x))

    def softplus(self, x: int) -> int:
        return int(lib.vae_graph_softplus(self._ptr(), x))

    def identity(self, x: int) -> int:
        return int(lib.vae_graph_identity(self._ptr(), x))

    def conv2d(self, x: int, out_channels: int, kernel: int, stride: int = 1,
               padding: int = 0) -> int:
        """2-D convolution of a [C, H, W] node (nn.Conv2d)."""
        return int(lib.vae_graph_conv2d(self._ptr(), x, out_channels, kernel,
                                        stride, padding))

    def conv2d_transpose(self, x: int, out_channels: int, kernel: int,
                         stride: int = 1, padding: int = 0) -> int:
        """Transposed 2-D convolution of a [C, H, W] node
        (nn.ConvTranspose2d)."""
        return int(lib.vae_graph_conv2d_transpose(
            self._ptr(), x, out_channels, kernel, stride, padding))

    def reshape(self, x: int, dims: Sequence[int]) -> int:
        """The same elements viewed with shape dims."""
        arr, rank = _dims(dims, ctypes.c_int64)
        return int(lib.vae_graph_reshape(self._ptr(), x, arr, rank))

    def transpose(self, x: int, axes: Sequence[int]) -> int:
        """Axes reordered: output axis i is input axis axes[i]."""
        arr, rank = _dims(axes, ctypes.c_int32)
        return int(lib.vae_graph_transpose(self._ptr(), x, arr, rank))

    def flatten(self, x: int) -> int:
        return int(lib.vae_graph_flatten(self._ptr(), x))

    def data(self, dims: Sequence[int]) -> int:
        """The model's data x as a decoder node (teacher forcing)."""
        arr, rank = _dims(dims, ctypes.c_int64)
        return int(lib.vae_graph_data(self._ptr(), arr, rank))

    def embedding(self, ids: int, vocab: int, dim: int) -> int:
        """Token ids [T] -> [T, dim] through a vocab x dim table."""
        return int(lib.vae_graph_embedding(self._ptr(), ids, vocab, dim))

    def embedding_shared(self, ids: int, vocab: int, dim: int) -> int:
        """An embedding reading the encoder's table (decoders only)."""
        return int(lib.vae_graph_embedding_shared(self._ptr(), ids, vocab,
                                                  dim))

    def lstm(self, x: int, hidden: int, init: int = -1, mask: int = -1,
             full_sequence: bool = False) -> int:
        """LSTM over a sequence [T, F] (nn.LSTM). init: -1 or a node of
        h0 then c0; mask: -1 or a node of T ids (0 = padding)."""
        return int(lib.vae_graph_lstm(self._ptr(), x, hidden, init, mask,
                                      1 if full_sequence else 0))

    def repeat(self, x: int, times: int) -> int:
        """A vector [F] as the sequence [times, F]."""
        return int(lib.vae_graph_repeat(self._ptr(), x, times))

    def concat(self, a: int, b: int) -> int:
        """Concatenation on the last axis."""
        return int(lib.vae_graph_concat(self._ptr(), a, b))

    def shift_right(self, ids: int, bos: float) -> int:
        """Token ids one step later with bos in front."""
        return int(lib.vae_graph_shift_right(self._ptr(), ids, bos))

    def token_dropout(self, ids: int, rate: float, unk: float) -> int:
        """Word dropout: ids replaced by unk with probability rate while
        training."""
        return int(lib.vae_graph_token_dropout(self._ptr(), ids, rate, unk))

    def batch_norm(self, x: int, gamma: float = 0.0) -> int:
        """Batch normalisation of the last axis; gamma 0 learns the scale,
        gamma > 0 fixes it (BN-VAE)."""
        return int(lib.vae_graph_batch_norm(self._ptr(), x, gamma))

    def gaussian(self, mu: int, logvar: int) -> int:
        """q(z|x) from the encoder's own mu and logvar; the encoder's last
        node and output, in place of the appended head."""
        return int(lib.vae_graph_gaussian(self._ptr(), mu, logvar))

    def condition(self, size: int) -> int:
        """A conditional model's condition: a vector of size floats per
        example, given with Model.set_condition."""
        return int(lib.vae_graph_condition(self._ptr(), size))

    def bag_of_words(self, logits: int, ids: int, weight: float) -> int:
        """Auxiliary bag-of-words loss on logits [V] against the ids; it
        trains but is not part of the reported ELBO."""
        return int(lib.vae_graph_bag_of_words(self._ptr(), logits, ids,
                                              weight))

    def set_output(self, node: int) -> None:
        """Marks the node whose value is the graph's result."""
        lib.vae_graph_set_output(self._ptr(), node)

    def node_size(self, node: int) -> int:
        """Elements per example of a node."""
        return int(lib.vae_graph_node_size(self._ptr(), node))


def _errbuf() -> Any:
    return ctypes.create_string_buffer(_ERRLEN)


def _opt_ptr(opt: Optional["Adam"]) -> Optional[ctypes.c_void_p]:
    return None if opt is None else opt._ptr()


class Loaded(NamedTuple):
    """A model and the optimizer state saved with it (None when the file
    has none), as Model.load(..., with_optimizer=True) returns them. A
    with-block closes both:

        with libvae.Model.load(path, with_optimizer=True) as (model, opt):
            ...
    """
    model: "Model"
    optimizer: Optional["Adam"]

    def close(self) -> None:
        self.model.close()
        if self.optimizer is not None:
            self.optimizer.close()

    def __enter__(self) -> "Loaded":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _load(loader: Any, args: Tuple[Any, ...],
          with_optimizer: bool) -> Union["Model", Loaded]:
    out, opt = ctypes.c_void_p(), ctypes.c_void_p()
    err = _errbuf()
    loader(*args, ctypes.byref(out),
           ctypes.byref(opt) if with_optimizer else None, err, len(err))
    model = Model._from_ptr(out)
    if not with_optimizer:
        return model
    return Loaded(model, Adam._from_ptr(opt) if opt.value else None)


class Model(_Wrapper):
    """A VAE built from copies of an encoder and a decoder graph; owns its
    parameters, gradients, workspace and random generator.

    Data arrays are float32 batches, one example per row: shape
    (batch, data_size) or (batch, *data_shape). Latents are
    (batch, latent_dim). One thread at a time per model."""

    def __init__(self, encoder: Graph, decoder: Graph, latent_dim: int,
                 likelihood: int, seed: int) -> None:
        out = ctypes.c_void_p()
        err = _errbuf()
        lib.vae_model_new(encoder._ptr(), decoder._ptr(), latent_dim,
                          likelihood, seed, ctypes.byref(out), err, len(err))
        self._adopt(out, lib.vae_model_free)

    @classmethod
    def _from_ptr(cls, ptr: ctypes.c_void_p) -> "Model":
        model = cls.__new__(cls)
        model._adopt(ptr, lib.vae_model_free)
        return model

    @overload
    @classmethod
    def load(cls, path: PathLike,
             with_optimizer: Literal[False] = False) -> "Model": ...

    @overload
    @classmethod
    def load(cls, path: PathLike,
             with_optimizer: Literal[True]) -> Loaded: ...

    @classmethod
    def load(cls, path: PathLike,
             with_optimizer: bool = False) -> Union["Model", Loaded]:
        """The model saved at path. with_optimizer=True returns a Loaded
        (model, optimizer) pair instead, optimizer None when the file has
        no optimizer state; a with-block closes both."""
        return _load(lib.vae_model_load, (_path(path),), with_optimizer)

    @overload
    @classmethod
    def load_bytes(cls, data: bytes,
                   with_optimizer: Literal[False] = False) -> "Model": ...

    @overload
    @classmethod
    def load_bytes(cls, data: bytes,
                   with_optimizer: Literal[True]) -> Loaded: ...

    @classmethod
    def load_bytes(cls, data: bytes,
                   with_optimizer: bool = False) -> Union["Model", Loaded]:
        """As load(), from the bytes that save_bytes() returned."""
        data = bytes(data)
        return _load(lib.vae_model_load_from_buffer, (data, len(data)),
                     with_optimizer)

    def save(self, path: PathLike, opt: Optional["Adam"] = None) -> None:
        """Writes the model (and opt's state, if given) atomically."""
        lib.vae_model_save(self._ptr(), _opt_ptr(opt), _path(path))

    def save_bytes(self, opt: Optional["Adam"] = None) -> bytes:
        """The bytes save() would write."""
        size = ctypes.c_size_t()
        lib.vae_model_save_size(self._ptr(), _opt_ptr(opt), ctypes.byref(size))
        buf = ctypes.create_string_buffer(size.value)
        written = ctypes.c_size_t()
        lib.vae_model_save_to_buffer(self._ptr(), _opt_ptr(opt), buf,
                                     size.value, ctypes.byref(written))
        return bytes(buf.raw[:written.value])

    @property
    def last_error(self) -> str:
        """Message of the model's last error, or ""."""
        return _capi._text(lib.vae_model_last_error(self._ptr()))

    # -- settings

    def set_seed(self, seed: int) -> None:
        """Resets the random generator that z samples come from."""
        lib.vae_model_set_seed(self._ptr(), seed)

    def set_beta(self, beta: float) -> None:
        """Weight of the KL term in the training loss (>= 0)."""
        lib.vae_model_set_beta(self._ptr(), beta)

    def set_free_bits(self, nats: float) -> None:
        """Per-dimension KL not penalised below nats (0 disables)."""
        lib.vae_model_set_free_bits(self._ptr(), nats)

    def set_train_samples(self, k: int) -> None:
        """Importance samples per example in elbo_grad/train_step's
        objective: 1 the ELBO, k > 1 the k-sample IWAE bound. Not saved."""
        lib.vae_model_set_train_samples(self._ptr(), k)
        self._train_samples = k

    def set_free_bits_mode(self, mode: int) -> None:
        """What free bits compare: FREE_BITS_BATCH (each dimension's batch
        mean) or FREE_BITS_EXAMPLE (each example's KL). Not saved."""
        lib.vae_model_set_free_bits_mode(self._ptr(), mode)

    def reset_decoder(self, seed: int) -> None:
        """The decoder's parameters initialised afresh from seed; the
        encoder and the head keep theirs."""
        lib.vae_model_reset_decoder(self._ptr(), seed)

    def set_kl_anneal(self, kind: int, steps: int) -> None:
        """KL annealing for train_step: ANNEAL_NONE/LINEAR/SIGMOID over
        steps optimizer steps. Not saved with the model."""
        lib.vae_model_set_kl_anneal(self._ptr(), kind, steps)

    def set_obs_logvar(self, logvar: float) -> None:
        """Log-variance of LIKELIHOOD_GAUSSIAN_FIXED."""
        lib.vae_model_set_obs_logvar(self._ptr(), logvar)

    @property
    def metadata(self) -> bytes:
        """Application bytes saved with the model (b"" if none)."""
        n = ctypes.c_size_t()
        ptr = lib.vae_model_metadata(self._ptr(), ctypes.byref(n))
        return ctypes.string_at(ptr, n.value) if ptr else b""

    @metadata.setter
    def metadata(self, data: bytes) -> None:
        data = bytes(data)
        lib.vae_model_set_metadata(self._ptr(), data or None, len(data))

    def set_condition(self, cond: Optional[F32Array]) -> None:
        """The condition of the next calls of a conditional model: rows of
        condition_size floats, (n, condition_size), one per example; every
        call on n examples then needs exactly n rows. None clears it."""
        if cond is None:
            lib.vae_model_set_condition(self._ptr(), None, 0)
            return
        size = self.condition_size
        if size == 0:  # the library says why
            lib.vae_model_set_condition(self._ptr(), None, len(cond))
            return
        ptr, rows = _rows(cond, "cond", "vae_model_set_condition", (size,))
        lib.vae_model_set_condition(self._ptr(), ptr, rows)

    # -- sizes

    @property
    def condition_size(self) -> int:
        """Floats per example of the condition; 0 for an unconditional
        model."""
        return int(lib.vae_model_condition_size(self._ptr()))

    @property
    def data_size(self) -> int:
        """Elements per example of the data."""
        return int(lib.vae_model_data_size(self._ptr()))

    @property
    def data_shape(self) -> Tuple[int, ...]:
        """Shape of one example (the encoder input's shape)."""
        dims = (ctypes.c_int64 * 4)()
        rank = lib.vae_model_data_shape(self._ptr(), dims, len(dims))
        return tuple(dims[:rank])

    @property
    def latent_dim(self) -> int:
        return int(lib.vae_model_latent_dim(self._ptr()))

    @property
    def num_params(self) -> int:
        return int(lib.vae_model_num_params(self._ptr()))

    # -- parameters and gradients, in place

    def _view(self, getter: Any) -> F32Array:
        n = self.num_params
        buf = (ctypes.c_float * n).from_address(
            ctypes.addressof(getter(self._ptr()).contents))
        # The view keeps the C object alive: close() cannot leave it
        # dangling.
        setattr(buf, "owner", self._own)
        view: F32Array = np.frombuffer(memoryview(buf), dtype=np.float32)
        return view

    @property
    def params(self) -> F32Array:
        """The parameter buffer itself (writable, no copy)."""
        return self._view(lib.vae_model_params)

    @property
    def grads(self) -> F32Array:
        """The gradient buffer itself, same layout as params."""
        return self._view(lib.vae_model_grads)

    def zero_grad(self) -> None:
        lib.vae_model_zero_grad(self._ptr())

    def scale_grad(self, s: float) -> None:
        lib.vae_model_scale_grad(self._ptr(), s)

    # -- running the model

    def _x(self, x: F32Array, function: str) -> Tuple[Any, int]:
        return _rows(x, "x", function, self.data_shape)

    def _z(self, z: F32Array, function: str) -> Tuple[Any, int]:
        return _rows(z, "z", function, (self.latent_dim,))

    def _out(self, batch: int) -> F32Array:
        return np.empty((batch,) + self.data_shape, dtype=np.float32)

    def _elbo(self, fn: Any, x: F32Array, *extra: Any) -> Elbo:
        ptr, batch = self._x(x, fn.__name__)
        e, r, k = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        fn(self._ptr(), *extra, ptr, batch, ctypes.byref(e), ctypes.byref(r),
           ctypes.byref(k))
        return Elbo(e.value, r.value, k.value)

    def elbo(self, x: F32Array) -> Elbo:
        """Elbo of the batch x, one z sample per example."""
        return self._elbo(lib.vae_model_elbo, x)

    def elbo_grad(self, x: F32Array) -> Elbo:
        """As elbo(x), and adds the training loss's gradient to grads."""
        return self._elbo(lib.vae_model_elbo_grad, x)

    def _noise(self, fn: Any, x: F32Array, eps: F32Array, k: int) -> Elbo:
        ptr, batch = self._x(x, fn.__name__)
        want = batch * k * self.latent_dim
        if not isinstance(eps, np.ndarray) or eps.size != want:
            n = eps.size if isinstance(eps, np.ndarray) else 0
            raise ShapeError(fn.__name__, _capi.exact_length("eps", n, want))
        e, r, kl = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        fn(self._ptr(), ptr, batch, _f32(eps, "eps"), ctypes.byref(e),
           ctypes.byref(r), ctypes.byref(kl))
        return Elbo(e.value, r.value, kl.value)

    def elbo_noise(self, x: F32Array, eps: F32Array) -> Elbo:
        """elbo(x) with z = mu + sigma * eps for the given eps, (batch,
        latent_dim) floats, instead of drawn noise."""
        return self._noise(lib.vae_model_elbo_noise, x, eps, 1)

    def elbo_grad_noise(self, x: F32Array, eps: F32Array) -> Elbo:
        """elbo_grad(x) with the given eps: (batch * k, latent_dim) floats
        for k train samples, example after example."""
        return self._noise(lib.vae_model_elbo_grad_noise, x, eps,
                           getattr(self, "_train_samples", 1))

    def train_step(self, opt: "Adam", x: F32Array) -> Elbo:
        """zero_grad + elbo_grad + one step of opt, returning the Elbo."""
        return self._elbo(lib.vae_model_train_step, x, opt._ptr())

    def encode(self, x: F32Array) -> Tuple[F32Array, F32Array]:
        """(mu, logvar) of q(z|x), each (batch, latent_dim)."""
        ptr, batch = self._x(x, "vae_model_encode")
        mu = np.empty((batch, self.latent_dim), dtype=np.float32)
        logvar = np.empty_like(mu)
        lib.vae_model_encode(self._ptr(), ptr, batch, _f32(mu, "mu"),
                             _f32(logvar, "logvar"))
        return mu, logvar

    def decode(self, z: F32Array) -> F32Array:
        """Mean of p(x|z), shape (batch, *data_shape)."""
        ptr, batch = self._z(z, "vae_model_decode")
        out = self._out(batch)
        lib.vae_model_decode(self._ptr(), ptr, batch, _f32(out, "out"))
        return out

    @property
    def output_size(self) -> int:
        """Elements per example of the decoder's raw output."""
        return int(lib.vae_model_output_size(self._ptr()))

    def decoder_output(self, z: F32Array,
                       x: Optional[F32Array] = None) -> F32Array:
        """The decoder's raw output (logits, or the Gaussian's parameters)
        at z, shape (batch, output_size); x is read only by a teacher-forced
        decoder, which needs it."""
        function = "vae_model_decoder_output"
        zp, batch = self._z(z, function)
        xp = None
        if x is not None:
            xp, xbatch = self._x(x, function)
            if xbatch != batch:
                raise ShapeError(function, _capi.exact_length(
                    "x", x.size, batch * self.data_size))
        out = np.empty((batch, self.output_size), dtype=np.float32)
        lib.vae_model_decoder_output(self._ptr(), zp, xp, batch,
                                     _f32(out, "out"))
        return out

    def sample(self, n: int) -> Tuple[F32Array, F32Array]:
        """(z, x): n latents drawn from N(0, I) and their decoded means."""
        z = np.empty((max(n, 0), self.latent_dim), dtype=np.float32)
        out = self._out(max(n, 0))
        lib.vae_model_sample(self._ptr(), n, _f32(z, "z"), _f32(out, "out"))
        return z, out

    def reconstruct(self, x: F32Array) -> F32Array:
        """decode(mu(x)) for each example."""
        ptr, batch = self._x(x, "vae_model_reconstruct")
        out = self._out(batch)
        lib.vae_model_reconstruct(self._ptr(), ptr, batch, _f32(out, "out"))
        return out

    def log_likelihood(self, z: F32Array, x: F32Array) -> F64Array:
        """log p(x_b | z_b) in nats per example (float64 array)."""
        function = "vae_model_log_likelihood"
        xp, batch = self._x(x, function)
        zp, _ = self._z(z, function)
        if z.size != batch * self.latent_dim:
            raise ShapeError(function, _capi.exact_length(
                "z", z.size, batch * self.latent_dim))
        logp = np.empty(batch, dtype=np.float64)
        lib.vae_model_log_likelihood(self._ptr(), zp, xp, batch,
                                     logp.ctypes.data_as(_P_F64))
        return logp

    def mutual_info(self, x: F32Array, samples: int = 1) -> float:
        """I(x; z) in nats over the examples x (He et al. 2019, Eq. 5)."""
        ptr, n = self._x(x, "vae_model_mutual_info")
        mi = ctypes.c_double()
        lib.vae_model_mutual_info(self._ptr(), ptr, n, samples,
                                  ctypes.byref(mi))
        return mi.value

    def active_units(self, x: F32Array,
                     threshold: float = 0.01) -> Tuple[int, F64Array]:
        """(count, variances): the latent dimensions whose posterior mean
        varies across x by more than threshold, and each one's variance."""
        ptr, n = self._x(x, "vae_model_active_units")
        count = ctypes.c_int64()
        var = np.empty(self.latent_dim, dtype=np.float64)
        lib.vae_model_active_units(self._ptr(), ptr, n, threshold,
                                   ctypes.byref(count),
                                   var.ctypes.data_as(_P_F64))
        return count.value, var

    def iwae(self, x: F32Array, k: int) -> F64Array:
        """Importance-weighted bound on log p(x) with k samples, per
        example (float64 array); -iwae is the NLL in nats."""
        ptr, batch = self._x(x, "vae_model_iwae")
        logpx = np.empty(batch, dtype=np.float64)
        lib.vae_model_iwae(self._ptr(), ptr, batch, k,
                           logpx.ctypes.data_as(_P_F64))
        return logpx

    def random_uniform(self, n: int) -> F32Array:
        """n uniform floats in [0, 1) from the model's generator."""
        out = np.empty(max(n, 0), dtype=np.float32)
        lib.vae_model_random_uniform(self._ptr(), n, _f32(out, "out"))
        return out

    def generate(self, z: F32Array, max_len: int, mode: int = DECODE_GREEDY,
                 temperature: float = 1.0, top_k: int = 1, beam: int = 1,
                 eos: int = -1) -> Tuple[F32Array, int]:
        """Token sequences from latents z of a categorical model, decoded
        incrementally. Returns (ids, steps): ids (n, max_len) float32, 0
        after each sequence's eos; steps the decoder steps run."""
        ptr, n = self._z(z, "vae_model_generate")
        out = np.empty((n, max(max_len, 0)), dtype=np.float32)
        steps = ctypes.c_int64()
        lib.vae_model_generate(self._ptr(), ptr, n, mode, temperature, top_k,
                               beam, eos, max_len, _f32(out, "out"),
                               ctypes.byref(steps))
        return out, steps.value

    def set_generation(self, key: int, value: float) -> None:
        """Sets one generation setting (GEN_MODE, GEN_TEMPERATURE, ...)
        that generate_tokens uses."""
        lib.vae_model_set_generation(self._ptr(), key, value)

    def get_generation(self, key: int) -> float:
        """The value of one generation setting."""
        v = ctypes.c_double()
        lib.vae_model_get_generation(self._ptr(), key, ctypes.byref(v))
        return v.value

    def generate_tokens(self, z: F32Array,
                        max_len: int) -> Tuple[F32Array, int]:
        """generate() with the model's generation settings: (ids, steps)."""
        ptr, n = self._z(z, "vae_model_generate_tokens")
        out = np.empty((n, max(max_len, 0)), dtype=np.float32)
        steps = ctypes.c_int64()
        lib.vae_model_generate_tokens(self._ptr(), ptr, n, max_len,
                                      _f32(out, "out"), ctypes.byref(steps))
        return out, steps.value


class Adam(_Wrapper):
    """Adam/AdamW state for one model (PyTorch defaults)."""

    def __init__(self, model: Model, lr: float) -> None:
        out = ctypes.c_void_p()
        err = _errbuf()
        lib.vae_adam_new(model._ptr(), lr, ctypes.byref(out), err, len(err))
        self._adopt(out, lib.vae_adam_free)

    @classmethod
    def _from_ptr(cls, ptr: ctypes.c_void_p) -> "Adam":
        opt = cls.__new__(cls)
        opt._adopt(ptr, lib.vae_adam_free)
        return opt

    @property
    def last_error(self) -> str:
        """Message of the optimizer's last error, or ""."""
        return _capi._text(lib.vae_adam_last_error(self._ptr()))

    def set_lr(self, lr: float) -> None:
        lib.vae_adam_set_lr(self._ptr(), lr)

    def set_betas(self, beta1: float, beta2: float, eps: float) -> None:
        lib.vae_adam_set_betas(self._ptr(), beta1, beta2, eps)

    def set_weight_decay(self, wd: float, decoupled: bool = False) -> None:
        """decoupled False: L2 in the gradient (Adam); True: AdamW."""
        lib.vae_adam_set_weight_decay(self._ptr(), wd, 1 if decoupled else 0)

    def set_clip_norm(self, max_norm: float) -> None:
        """Global gradient-norm clipping; 0 disables."""
        lib.vae_adam_set_clip_norm(self._ptr(), max_norm)

    @property
    def steps(self) -> int:
        """Number of steps taken."""
        return int(lib.vae_adam_steps(self._ptr()))

    def step(self, model: Model) -> None:
        """One update of model's parameters from its gradients."""
        lib.vae_adam_step(self._ptr(), model._ptr())
