"""The C API of libvae as ctypes sees it: the library, one signature per
function of vae.h, the constants, and the error check that turns a negative
status into a VaeError carrying the library's message.

Everything here mirrors include/vae.h; tests/test_api.py parses the installed
header and fails if a function, a parameter type or a constant disagrees.
"""
import ctypes
import os
import re
import subprocess
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

# The major version whose ABI these signatures describe: SONAME libvae.so.0.
ABI_MAJOR = 0
SONAME = f"libvae.so.{ABI_MAJOR}"

# ---- Constants (fixed values, as in vae.h) ---------------------------------

OK = 0
ERR_INVALID_ARG = -1
ERR_SHAPE = -2
ERR_NOMEM = -3
ERR_IO = -4
ERR_FORMAT = -5
ERR_NONFINITE = -6
ERR_GRAPH = -7
ERR_VERSION = -8
ERR_RANGE = -9
ERR_UNSUPPORTED = -10
ERR_BUSY = -11

LIKELIHOOD_BERNOULLI = 1
LIKELIHOOD_GAUSSIAN_FIXED = 2
LIKELIHOOD_GAUSSIAN_LEARNED = 3
LIKELIHOOD_CATEGORICAL = 4

ANNEAL_NONE = 0
ANNEAL_LINEAR = 1
ANNEAL_SIGMOID = 2

DECODE_GREEDY = 1
DECODE_SAMPLE = 2
DECODE_TOP_K = 3
DECODE_BEAM = 4
DECODE_TOP_P = 5
NO_EOS = -1

NO_NODE = -1
FREE_BITS_BATCH = 0
FREE_BITS_EXAMPLE = 1
LSTM_LAST_STATE = 0
LSTM_SEQUENCE = 1

GEN_MODE = 1
GEN_TEMPERATURE = 2
GEN_TOP_K = 3
GEN_BEAM = 4
GEN_EOS = 5
GEN_TOP_P = 6
GEN_NO_REPEAT_NGRAM = 7
GEN_NGRAM_MAX = 64
GEN_LENGTH_PENALTY = 8

METADATA_MAX = 1 << 30
TRAIN_SAMPLES_MAX = 4096

_STATUS_NAMES = {
    value: name for name, value in globals().items()
    if name == "OK" or name.startswith("ERR_")
}


def status_label(status: int) -> str:
    """How messages name a status: its vae.h constant, or its number for a
    status this binding does not know (a newer library)."""
    name = _STATUS_NAMES.get(status)
    return f"VAE_{name}" if name else f"status {status}"


_NAMED = re.compile(r"([a-z0-9_]+): ")


def error_text(function: Optional[str], message: str, status: int) -> str:
    """The one line every binding prints for a failed call:
    "function: message [VAE_ERR_...]". The library starts some messages
    with the function's own name ("dense: units 0 ..." from
    vae_graph_dense); the function is then named once, not twice."""
    if not function:
        return f"{message} [{status_label(status)}]"
    named = _NAMED.match(message)
    if named and function.endswith("_" + named.group(1)):
        message = message[named.end():]
    return f"{function}: {message} [{status_label(status)}]"


class VaeError(Exception):
    """A libvae call failed.

    status   -- the negative VAE_ERR_* value (compare with libvae.ERR_*)
    message  -- the library's detailed message for this failure, or the
                binding's for an array it refused before the call
    function -- the name of the C function that returned (or would have
                been given) the status
    """

    def __init__(self, status: int, message: str,
                 function: Optional[str] = None) -> None:
        super().__init__(status, message, function)
        self.status = status
        self.message = message
        self.function = function

    @property
    def name(self) -> str:
        """The constant's name without the VAE_ prefix, e.g. "ERR_SHAPE"."""
        return _STATUS_NAMES.get(self.status, "unknown status")

    def __str__(self) -> str:
        return error_text(self.function, self.message, self.status)


class ShapeError(VaeError, ValueError):
    """An array whose size or shape does not fit the model, refused before
    the library is called (status ERR_SHAPE). Also a ValueError."""

    def __init__(self, function: str, message: str) -> None:
        super().__init__(ERR_SHAPE, message, function)


def whole_examples(name: str, n: int, per: int) -> str:
    """The message for a buffer that is not a whole number of examples;
    every binding words it so."""
    return (f"{name}: {n} floats are not a whole number of examples of "
            f"{per} floats")


def exact_length(name: str, n: int, want: int) -> str:
    """The message for a buffer of the wrong length; every binding words it
    so."""
    return f"{name}: {n} floats, not the {want} this call needs"


# ---- Signatures ------------------------------------------------------------

_i32, _i64, _u64 = ctypes.c_int32, ctypes.c_int64, ctypes.c_uint64
_f32, _f64, _size = ctypes.c_float, ctypes.c_double, ctypes.c_size_t
_P = ctypes.POINTER
_str = ctypes.c_char_p   # NUL-terminated text, or a caller's char buffer
_mem = ctypes.c_void_p   # untyped bytes
_H = ctypes.c_void_p     # any opaque handle: vae_graph*, vae_model*, vae_adam*

# Where the message of a failing call comes from. A call that takes a const
# handle cannot record one, and the handle's last error would then describe
# an older failure, so those calls get the status description.
NOT_STATUS = None  # returns a value, not a status
STATUS = "status"  # vae_status_string(status)
GRAPH = "graph"    # vae_graph_last_error(args[0])
MODEL = "model"    # vae_model_last_error(args[0])
ADAM = "adam"      # vae_adam_last_error(args[0])
ERRBUF = "errbuf"  # the caller's err buffer, the second to last argument

_UNARY = ([_H, _i32], GRAPH)

# name -> (restype, argtypes, source of the error message)
SIGNATURES = {
    "vae_version_string": (_str, [], NOT_STATUS),
    "vae_version_number": (_i32, [], NOT_STATUS),
    "vae_status_string": (_str, [_i32], NOT_STATUS),
    "vae_set_num_threads": (_i32, [_i32], STATUS),
    "vae_get_num_threads": (_i32, [], STATUS),

    "vae_graph_new": (_i32, [_P(_H)], STATUS),
    "vae_graph_free": (None, [_H], NOT_STATUS),
    # The recorded error is exactly what vae_graph_last_error describes.
    "vae_graph_status": (_i32, [_H], GRAPH),
    "vae_graph_last_error": (_str, [_H], NOT_STATUS),
    "vae_graph_input": (_i32, [_H, _P(_i64), _i32], GRAPH),
    "vae_graph_dense": (_i32, [_H, _i32, _i64], GRAPH),
    "vae_graph_relu": (_i32, *_UNARY),
    "vae_graph_leaky_relu": (_i32, [_H, _i32, _f32], GRAPH),
    "vae_graph_tanh": (_i32, *_UNARY),
    "vae_graph_sigmoid": (_i32, *_UNARY),
    "vae_graph_softplus": (_i32, *_UNARY),
    "vae_graph_identity": (_i32, *_UNARY),
    "vae_graph_conv2d": (_i32, [_H, _i32, _i64, _i64, _i64, _i64], GRAPH),
    "vae_graph_conv2d_transpose": (_i32, [_H, _i32, _i64, _i64, _i64, _i64],
                                   GRAPH),
    "vae_graph_reshape": (_i32, [_H, _i32, _P(_i64), _i32], GRAPH),
    "vae_graph_transpose": (_i32, [_H, _i32, _P(_i32), _i32], GRAPH),
    "vae_graph_flatten": (_i32, *_UNARY),
    "vae_graph_data": (_i32, [_H, _P(_i64), _i32], GRAPH),
    "vae_graph_embedding": (_i32, [_H, _i32, _i64, _i64], GRAPH),
    "vae_graph_embedding_shared": (_i32, [_H, _i32, _i64, _i64], GRAPH),
    "vae_graph_lstm": (_i32, [_H, _i32, _i64, _i32, _i32, _i32], GRAPH),
    "vae_graph_repeat": (_i32, [_H, _i32, _i64], GRAPH),
    "vae_graph_concat": (_i32, [_H, _i32, _i32], GRAPH),
    "vae_graph_shift_right": (_i32, [_H, _i32, _f32], GRAPH),
    "vae_graph_token_dropout": (_i32, [_H, _i32, _f32, _f32], GRAPH),
    "vae_graph_batch_norm": (_i32, [_H, _i32, _f32], GRAPH),
    "vae_graph_gaussian": (_i32, [_H, _i32, _i32], GRAPH),
    "vae_graph_bag_of_words": (_i32, [_H, _i32, _i32, _f32], GRAPH),
    "vae_graph_condition": (_i32, [_H, _i64], GRAPH),
    "vae_graph_set_output": (_i32, [_H, _i32], GRAPH),
    "vae_graph_node_size": (_i64, [_H, _i32], STATUS),

    "vae_model_new": (_i32, [_H, _H, _i64, _i32, _u64, _P(_H), _str, _size],
                      ERRBUF),
    "vae_model_free": (None, [_H], NOT_STATUS),
    "vae_model_last_error": (_str, [_H], NOT_STATUS),
    "vae_model_set_seed": (_i32, [_H, _u64], MODEL),
    "vae_model_set_beta": (_i32, [_H, _f64], MODEL),
    "vae_model_set_free_bits": (_i32, [_H, _f64], MODEL),
    "vae_model_set_train_samples": (_i32, [_H, _i64], MODEL),
    "vae_model_set_kl_anneal": (_i32, [_H, _i32, _i64], MODEL),
    "vae_model_set_obs_logvar": (_i32, [_H, _f64], MODEL),
    "vae_model_set_free_bits_mode": (_i32, [_H, _i32], MODEL),
    "vae_model_reset_decoder": (_i32, [_H, _u64], MODEL),
    "vae_model_mutual_info": (_i32, [_H, _P(_f32), _i64, _i64, _P(_f64)],
                              MODEL),
    "vae_model_active_units": (_i32, [_H, _P(_f32), _i64, _f64, _P(_i64),
                                      _P(_f64)], MODEL),
    "vae_model_set_metadata": (_i32, [_H, _mem, _size], MODEL),
    "vae_model_metadata": (_mem, [_H, _P(_size)], NOT_STATUS),
    "vae_model_set_condition": (_i32, [_H, _P(_f32), _i64], MODEL),
    "vae_model_condition_size": (_i64, [_H], STATUS),
    "vae_model_data_size": (_i64, [_H], STATUS),
    "vae_model_data_shape": (_i32, [_H, _P(_i64), _i32], STATUS),
    "vae_model_latent_dim": (_i64, [_H], STATUS),
    "vae_model_output_size": (_i64, [_H], STATUS),
    "vae_model_num_params": (_i64, [_H], STATUS),
    "vae_model_params": (_P(_f32), [_H], NOT_STATUS),
    "vae_model_grads": (_P(_f32), [_H], NOT_STATUS),
    "vae_model_zero_grad": (_i32, [_H], MODEL),
    "vae_model_scale_grad": (_i32, [_H, _f64], MODEL),
    "vae_model_elbo": (_i32, [_H, _P(_f32), _i64, _P(_f64), _P(_f64),
                              _P(_f64)], MODEL),
    "vae_model_elbo_grad": (_i32, [_H, _P(_f32), _i64, _P(_f64), _P(_f64),
                                   _P(_f64)], MODEL),
    "vae_model_elbo_noise": (_i32, [_H, _P(_f32), _i64, _P(_f32), _P(_f64),
                                    _P(_f64), _P(_f64)], MODEL),
    "vae_model_elbo_grad_noise": (_i32, [_H, _P(_f32), _i64, _P(_f32),
                                         _P(_f64), _P(_f64), _P(_f64)],
                                  MODEL),
    "vae_model_decoder_output": (_i32, [_H, _P(_f32), _P(_f32), _i64,
                                        _P(_f32)], MODEL),
    "vae_model_encode": (_i32, [_H, _P(_f32), _i64, _P(_f32), _P(_f32)],
                         MODEL),
    "vae_model_decode": (_i32, [_H, _P(_f32), _i64, _P(_f32)], MODEL),
    "vae_model_sample": (_i32, [_H, _i64, _P(_f32), _P(_f32)], MODEL),
    "vae_model_reconstruct": (_i32, [_H, _P(_f32), _i64, _P(_f32)], MODEL),
    "vae_model_log_likelihood": (_i32, [_H, _P(_f32), _P(_f32), _i64,
                                        _P(_f64)], MODEL),
    "vae_model_iwae": (_i32, [_H, _P(_f32), _i64, _i64, _P(_f64)], MODEL),
    "vae_model_random_uniform": (_i32, [_H, _i64, _P(_f32)], MODEL),
    "vae_model_generate": (_i32, [_H, _P(_f32), _i64, _i32, _f64, _i64, _i64,
                                  _i64, _i64, _P(_f32), _P(_i64)], MODEL),
    "vae_model_set_generation": (_i32, [_H, _i32, _f64], MODEL),
    "vae_model_get_generation": (_i32, [_H, _i32, _P(_f64)], MODEL),
    "vae_model_generate_tokens": (_i32, [_H, _P(_f32), _i64, _i64, _P(_f32),
                                         _P(_i64)], MODEL),

    "vae_adam_new": (_i32, [_H, _f64, _P(_H), _str, _size], ERRBUF),
    "vae_adam_free": (None, [_H], NOT_STATUS),
    "vae_adam_last_error": (_str, [_H], NOT_STATUS),
    "vae_adam_set_lr": (_i32, [_H, _f64], ADAM),
    "vae_adam_set_betas": (_i32, [_H, _f64, _f64, _f64], ADAM),
    "vae_adam_set_weight_decay": (_i32, [_H, _f64, _i32], ADAM),
    "vae_adam_set_clip_norm": (_i32, [_H, _f64], ADAM),
    "vae_adam_steps": (_i64, [_H], STATUS),
    "vae_adam_step": (_i32, [_H, _H], ADAM),
    # Optimizer errors are copied onto the model (docs/errors.md).
    "vae_model_train_step": (_i32, [_H, _H, _P(_f32), _i64, _P(_f64),
                                    _P(_f64), _P(_f64)], MODEL),

    "vae_model_save": (_i32, [_H, _H, _str], MODEL),
    "vae_model_save_size": (_i32, [_H, _H, _P(_size)], MODEL),
    "vae_model_save_to_buffer": (_i32, [_H, _H, _mem, _size, _P(_size)],
                                 MODEL),
    "vae_model_load": (_i32, [_str, _P(_H), _P(_H), _str, _size], ERRBUF),
    "vae_model_load_from_buffer": (_i32, [_mem, _size, _P(_H), _P(_H), _str,
                                          _size], ERRBUF),
}


def _text(raw: Optional[bytes]) -> str:
    # Messages may quote file names, which need not be UTF-8.
    return raw.decode("utf-8", "replace") if raw else ""


def _errcheck(lib: ctypes.CDLL, source: str) -> Callable[..., Any]:
    last_error = {
        GRAPH: lib.vae_graph_last_error,
        MODEL: lib.vae_model_last_error,
        ADAM: lib.vae_adam_last_error,
    }.get(source)

    def check(result: Any, func: Any, args: Sequence[Any]) -> Any:
        if result >= 0:
            return result
        if source == ERRBUF:
            message = _text(getattr(args[-2], "value", None))
        elif last_error is not None:
            message = _text(last_error(args[0]))
        else:
            message = ""
        raise VaeError(result,
                       message or _text(lib.vae_status_string(result)),
                       func.__name__)

    return check


class WrongLibrary(OSError):
    """A shared library that loads but is not a libvae this binding can
    drive."""


def load(path: str) -> ctypes.CDLL:
    """Loads the shared library at path (a file, or a name the dynamic
    loader resolves) and declares every function of vae.h on it; OSError if
    it cannot be loaded, WrongLibrary if it is not a libvae this binding
    can drive."""
    lib = ctypes.CDLL(path)
    for name, (restype, argtypes, source) in SIGNATURES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise WrongLibrary(f"{path} has no {name}: not libvae "
                               f"{ABI_MAJOR}.x, or older than this "
                               "binding") from None
        fn.restype = restype
        fn.argtypes = argtypes
        if source is not NOT_STATUS:
            fn.errcheck = _errcheck(lib, source)
    major = lib.vae_version_number() // 10000
    if major != ABI_MAJOR:
        raise WrongLibrary(f"{path} is libvae "
                           f"{_text(lib.vae_version_string())}; this binding "
                           f"speaks the ABI of version {ABI_MAJOR}")
    return lib


def _pkg_config_library() -> Tuple[Optional[str], str]:
    """(path of libvae.so.0 in vae.pc's libdir, "") or (None, why not)."""
    program = os.environ.get("PKG_CONFIG") or "pkg-config"
    try:
        run = subprocess.run([program, "--variable=libdir", "vae"],
                             capture_output=True, text=True, timeout=30,
                             check=False)
    except OSError as e:
        return None, f"cannot run {program}: {e.strerror}"
    if run.returncode != 0:
        where = os.environ.get("PKG_CONFIG_PATH")
        return None, ("no vae.pc on its search path (PKG_CONFIG_PATH " +
                      (f"is {where})" if where else "is not set)"))
    path = os.path.normpath(os.path.join(run.stdout.strip(), SONAME))
    if not os.path.exists(path):
        return None, f"vae.pc names {path}, which does not exist"
    return path, ""


def open_library() -> ctypes.CDLL:
    """The libvae to drive: $VAE_LIBRARY if set, else libvae.so.0 in the
    libdir of the vae.pc pkg-config finds (PKG_CONFIG_PATH), else
    libvae.so.0 from the dynamic loader's search (LD_LIBRARY_PATH,
    ldconfig's cache, the system library directories). OSError naming
    every place tried when none has it."""
    chosen = os.environ.get("VAE_LIBRARY")
    if chosen:
        try:
            return load(chosen)
        except OSError as e:
            raise OSError(f"VAE_LIBRARY={chosen}: {e}") from None
    tried = ["$VAE_LIBRARY: not set"]
    path, why = _pkg_config_library()
    if path:
        return load(path)
    tried.append(f"pkg-config vae: {why}")
    try:
        return load(SONAME)
    except WrongLibrary:
        raise
    except OSError as e:
        tried.append(f"{SONAME} through the dynamic loader (LD_LIBRARY_PATH, "
                     f"ldconfig's cache): {e}")
    raise OSError("libvae not found. Tried:\n  " + "\n  ".join(tried) +
                  "\nSet VAE_LIBRARY to the path of libvae.so.0, or "
                  "PKG_CONFIG_PATH to PREFIX/lib/pkgconfig of the prefix "
                  "libvae is installed in, or install it in a system "
                  "library directory and run ldconfig.")
