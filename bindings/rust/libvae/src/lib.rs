//! Safe Rust interface to libvae, a C library for variational autoencoders.
//!
//! Build an encoder and a decoder as [`Graph`]s, join them into a [`Model`]
//! with a latent size and a [`Likelihood`], and train it with an [`Adam`]
//! optimizer. Every fallible call returns a [`Result`] whose error carries
//! the library's status code and message. Buffers are slices whose lengths
//! are checked against the model's sizes before the C library sees them.
//!
//! Handles are `Send` but not `Sync`: a handle may move to another thread,
//! but only one thread uses it at a time, as libvae requires. Different
//! handles may be used from different threads at once.
//!
//! ```
//! fn movable<T: Send>() {}
//! movable::<libvae::Model>();
//! ```
//!
//! ```compile_fail
//! fn shared<T: Sync>() {}
//! shared::<libvae::Model>(); // not Sync: wrap it in a Mutex to share it
//! ```
//!
//! The raw declarations are in the `libvae-sys` crate; the comments of the
//! installed `vae.h` are the reference for every call's exact behaviour.

#![deny(missing_docs)]

use libvae_sys as sys;
use std::ffi::{CStr, CString};
use std::fmt;
use std::os::raw::{c_char, c_void};
use std::path::Path;
use std::ptr::{self, NonNull};

/// The result of a fallible libvae call.
pub type Result<T> = std::result::Result<T, VaeError>;

/// What kind of failure a [`VaeError`] is, from its status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `VAE_ERR_INVALID_ARG`: a bad argument or constant.
    InvalidArg,
    /// `VAE_ERR_SHAPE`: sizes of connected things (or of a buffer) disagree.
    Shape,
    /// `VAE_ERR_NOMEM`: an allocation failed; nothing changed.
    NoMem,
    /// `VAE_ERR_IO`: a file could not be opened, read, written or renamed.
    Io,
    /// `VAE_ERR_FORMAT`: the file or buffer is not a valid model.
    Format,
    /// `VAE_ERR_NONFINITE`: NaN or Inf in the data, loss or gradients.
    NonFinite,
    /// `VAE_ERR_GRAPH`: bad wiring, e.g. an unknown node or no output.
    Graph,
    /// `VAE_ERR_VERSION`: a model file of an unknown format version.
    Version,
    /// `VAE_ERR_RANGE`: a value outside its documented range.
    Range,
    /// `VAE_ERR_UNSUPPORTED`: not available in this build of libvae.
    Unsupported,
    /// `VAE_ERR_BUSY`: the handle is in use by a call in another thread.
    Busy,
    /// A status this crate does not know (a newer library).
    Unknown,
}

/// Every status this crate knows: its kind and its name in vae.h.
const STATUSES: [(i32, ErrorKind, &str); 11] = [
    (
        sys::VAE_ERR_INVALID_ARG,
        ErrorKind::InvalidArg,
        "VAE_ERR_INVALID_ARG",
    ),
    (sys::VAE_ERR_SHAPE, ErrorKind::Shape, "VAE_ERR_SHAPE"),
    (sys::VAE_ERR_NOMEM, ErrorKind::NoMem, "VAE_ERR_NOMEM"),
    (sys::VAE_ERR_IO, ErrorKind::Io, "VAE_ERR_IO"),
    (sys::VAE_ERR_FORMAT, ErrorKind::Format, "VAE_ERR_FORMAT"),
    (
        sys::VAE_ERR_NONFINITE,
        ErrorKind::NonFinite,
        "VAE_ERR_NONFINITE",
    ),
    (sys::VAE_ERR_GRAPH, ErrorKind::Graph, "VAE_ERR_GRAPH"),
    (sys::VAE_ERR_VERSION, ErrorKind::Version, "VAE_ERR_VERSION"),
    (sys::VAE_ERR_RANGE, ErrorKind::Range, "VAE_ERR_RANGE"),
    (
        sys::VAE_ERR_UNSUPPORTED,
        ErrorKind::Unsupported,
        "VAE_ERR_UNSUPPORTED",
    ),
    (sys::VAE_ERR_BUSY, ErrorKind::Busy, "VAE_ERR_BUSY"),
];

/// A failed libvae call: the status code, the library's message and the
/// C function that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaeError {
    status: i32,
    message: String,
    function: &'static str,
}

impl VaeError {
    /// Falls back to the status description when the library left no message.
    fn new(status: i32, message: String, function: &'static str) -> VaeError {
        let message = if message.is_empty() {
            status_string(status).to_string()
        } else {
            message
        };
        VaeError {
            status,
            message,
            function,
        }
    }

    /// The negative `VAE_ERR_*` status code.
    pub fn status(&self) -> i32 {
        self.status
    }

    /// The kind of error the status code stands for.
    pub fn kind(&self) -> ErrorKind {
        STATUSES
            .iter()
            .find(|(status, _, _)| *status == self.status)
            .map_or(ErrorKind::Unknown, |(_, kind, _)| *kind)
    }

    /// The detailed message: the library's, or this crate's for a buffer
    /// rejected before the call.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The C function that failed (or that a rejected buffer was meant for),
    /// e.g. "vae_model_load".
    pub fn function(&self) -> &'static str {
        self.function
    }
}

/// How messages name a status: its vae.h constant, or its number for one
/// this crate does not know.
fn status_label(status: i32) -> String {
    STATUSES.iter().find(|(s, _, _)| *s == status).map_or_else(
        || format!("status {}", status),
        |(_, _, name)| name.to_string(),
    )
}

/// The one line every binding prints for a failed call, "function: message
/// [VAE_ERR_...]". The library starts some messages with the function's own
/// name ("dense: units 0 ..." from vae_graph_dense); it is named once.
impl fmt::Display for VaeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = match self.message.split_once(": ") {
            Some((name, rest))
                if !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                    && self.function.ends_with(&format!("_{}", name)) =>
            {
                rest
            }
            _ => &self.message,
        };
        write!(
            f,
            "{}: {} [{}]",
            self.function,
            message,
            status_label(self.status)
        )
    }
}

impl std::error::Error for VaeError {}

/// Copies a C string the library owns (valid only until its next call).
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string.
unsafe fn owned_string(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// The `err`/`errlen` buffer of the calls that have no handle yet.
struct ErrBuf([c_char; 256]);

impl ErrBuf {
    fn new() -> ErrBuf {
        ErrBuf([0; 256])
    }

    fn ptr(&mut self) -> *mut c_char {
        self.0.as_mut_ptr()
    }

    fn error(&self, status: i32, function: &'static str) -> VaeError {
        // SAFETY: zero-initialised, and the library writes at most len - 1
        // bytes plus a NUL, so the buffer always holds a terminated string.
        VaeError::new(status, unsafe { owned_string(self.0.as_ptr()) }, function)
    }
}

/// A handle a constructor returned, or the error it reported.
fn created<T>(
    status: i32,
    raw: *mut T,
    err: &ErrBuf,
    function: &'static str,
) -> Result<NonNull<T>> {
    match NonNull::new(raw) {
        Some(raw) if status == sys::VAE_OK => Ok(raw),
        _ => Err(err.error(
            if status == sys::VAE_OK {
                sys::VAE_ERR_NOMEM
            } else {
                status
            },
            function,
        )),
    }
}

fn shape_error(function: &'static str, message: String) -> VaeError {
    VaeError::new(sys::VAE_ERR_SHAPE, message, function)
}

/// The number of examples in a buffer of `len` values, `per` per example.
/// The message is worded as in every binding.
fn examples(len: usize, per: usize, what: &str, function: &'static str) -> Result<usize> {
    if per == 0 || len % per != 0 {
        return Err(shape_error(
            function,
            format!(
                "{}: {} floats are not a whole number of examples of {} floats",
                what, len, per
            ),
        ));
    }
    Ok(len / per)
}

/// A buffer must hold exactly what the call writes (worded as in every
/// binding).
fn expect_len(len: usize, want: usize, what: &str, function: &'static str) -> Result<()> {
    if len == want {
        Ok(())
    } else {
        Err(shape_error(
            function,
            format!("{}: {} floats, not the {} this call needs", what, len, want),
        ))
    }
}

/// The number of ids `n` sequences of `max_len` tokens hold.
fn ids_len(n: usize, max_len: usize) -> Result<usize> {
    n.checked_mul(max_len).ok_or_else(|| {
        shape_error(
            "vae_model_generate",
            format!("{} x {} ids overflow", n, max_len),
        )
    })
}

/// A count of the C API (never negative for a valid handle) as a size.
fn size(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// A slice length as the C API's int64_t: lossless, since a slice never
/// holds more than isize::MAX elements.
fn c_len(n: usize) -> i64 {
    n as i64
}

fn rank(len: usize, function: &'static str) -> Result<i32> {
    i32::try_from(len).map_err(|_| {
        shape_error(
            function,
            format!("{} dimensions are more than any node has", len),
        )
    })
}

fn c_path(path: &Path, function: &'static str) -> Result<CString> {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = path
        .to_str()
        .ok_or_else(|| {
            VaeError::new(
                sys::VAE_ERR_INVALID_ARG,
                format!("path {:?} is not UTF-8", path),
                function,
            )
        })?
        .as_bytes()
        .to_vec();
    CString::new(bytes).map_err(|_| {
        VaeError::new(
            sys::VAE_ERR_INVALID_ARG,
            format!("path {:?} contains a NUL byte", path),
            function,
        )
    })
}

/// The version of the loaded library, "MAJOR.MINOR.PATCH".
pub fn version() -> &'static str {
    // SAFETY: the library returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(sys::vae_version_string()) }
        .to_str()
        .unwrap_or("")
}

/// The version of the loaded library as MAJOR*10000 + MINOR*100 + PATCH.
pub fn version_number() -> i32 {
    // SAFETY: no arguments.
    unsafe { sys::vae_version_number() }
}

/// The library's short English description of a status code.
pub fn status_string(status: i32) -> &'static str {
    // SAFETY: any value is allowed; the result is a static string.
    unsafe { CStr::from_ptr(sys::vae_status_string(status)) }
        .to_str()
        .unwrap_or("")
}

/// Sets the number of BLAS threads, process-wide (n >= 1).
pub fn set_num_threads(n: i32) -> Result<()> {
    // SAFETY: plain value argument.
    let status = unsafe { sys::vae_set_num_threads(n) };
    if status == sys::VAE_OK {
        Ok(())
    } else {
        Err(VaeError::new(status, String::new(), "vae_set_num_threads"))
    }
}

/// The current number of BLAS threads.
pub fn num_threads() -> Result<i32> {
    // SAFETY: no arguments.
    let n = unsafe { sys::vae_get_num_threads() };
    if n < 0 {
        Err(VaeError::new(n, String::new(), "vae_get_num_threads"))
    } else {
        Ok(n)
    }
}

/// A node of a [`Graph`]: the id a builder call returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Node(i32);

impl Node {
    /// The node id as the C API numbers it.
    pub fn id(self) -> i32 {
        self.0
    }
}

/// A network definition: the encoder (data to features) or the decoder
/// (latent z to the likelihood's parameters). Shapes are per example.
///
/// Builder errors are sticky in libvae: after the first failure every later
/// builder call fails with the same error, so `?` on each call loses nothing.
#[derive(Debug)]
pub struct Graph {
    raw: NonNull<sys::vae_graph>,
}

// SAFETY: libvae keeps no thread-local state and lets a handle move between
// threads as long as one thread uses it at a time; `&mut self` on every
// mutating call and the missing Sync impl ensure exactly that.
unsafe impl Send for Graph {}

impl Graph {
    /// A new empty graph.
    pub fn new() -> Result<Graph> {
        let mut raw = ptr::null_mut();
        // SAFETY: `raw` is a valid place for the handle.
        let status = unsafe { sys::vae_graph_new(&mut raw) };
        // vae_graph_new has no error buffer: the status says everything.
        Ok(Graph {
            raw: created(status, raw, &ErrBuf::new(), "vae_graph_new")?,
        })
    }

    fn error(&self, status: i32, function: &'static str) -> VaeError {
        // SAFETY: the handle is valid; the message is copied at once.
        VaeError::new(
            status,
            unsafe { owned_string(sys::vae_graph_last_error(self.raw.as_ptr())) },
            function,
        )
    }

    /// A builder call's result: a node id, or a negative status.
    fn node(&self, id: i32, function: &'static str) -> Result<Node> {
        if id < 0 {
            Err(self.error(id, function))
        } else {
            Ok(Node(id))
        }
    }

    fn check(&self, status: i32, function: &'static str) -> Result<()> {
        if status == sys::VAE_OK {
            Ok(())
        } else {
            Err(self.error(status, function))
        }
    }

    /// `Ok` if every builder call so far succeeded, else the first error.
    pub fn status(&self) -> Result<()> {
        // SAFETY: the handle is valid.
        self.check(
            unsafe { sys::vae_graph_status(self.raw.as_ptr()) },
            "vae_graph_status",
        )
    }

    /// The graph's one f32 input, of per-example shape `dims` (rank 1..4).
    pub fn input(&mut self, dims: &[i64]) -> Result<Node> {
        let rank = rank(dims.len(), "vae_graph_input")?;
        // SAFETY: dims holds `rank` values; the library copies them.
        let id = unsafe { sys::vae_graph_input(self.raw.as_ptr(), dims.as_ptr(), rank) };
        self.node(id, "vae_graph_input")
    }

    /// Fully connected layer on the last axis (nn.Linear layout).
    pub fn dense(&mut self, x: Node, units: i64) -> Result<Node> {
        // SAFETY: the handle is valid; the library checks the node id.
        let id = unsafe { sys::vae_graph_dense(self.raw.as_ptr(), x.0, units) };
        self.node(id, "vae_graph_dense")
    }

    /// max(x, 0).
    pub fn relu(&mut self, x: Node) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe { sys::vae_graph_relu(self.raw.as_ptr(), x.0) };
        self.node(id, "vae_graph_relu")
    }

    /// Leaky ReLU with `slope` in [0, 1).
    pub fn leaky_relu(&mut self, x: Node, slope: f32) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe { sys::vae_graph_leaky_relu(self.raw.as_ptr(), x.0, slope) };
        self.node(id, "vae_graph_leaky_relu")
    }

    /// tanh(x).
    pub fn tanh(&mut self, x: Node) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe { sys::vae_graph_tanh(self.raw.as_ptr(), x.0) };
        self.node(id, "vae_graph_tanh")
    }

    /// The logistic function.
    pub fn sigmoid(&mut self, x: Node) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe { sys::vae_graph_sigmoid(self.raw.as_ptr(), x.0) };
        self.node(id, "vae_graph_sigmoid")
    }

    /// log(1 + exp(x)).
    pub fn softplus(&mut self, x: Node) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe { sys::vae_graph_softplus(self.raw.as_ptr(), x.0) };
        self.node(id, "vae_graph_softplus")
    }

    /// x unchanged, as a new node.
    pub fn identity(&mut self, x: Node) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe { sys::vae_graph_identity(self.raw.as_ptr(), x.0) };
        self.node(id, "vae_graph_identity")
    }

    /// 2-D convolution of a `[C, H, W]` node (nn.Conv2d layout).
    pub fn conv2d(
        &mut self,
        x: Node,
        out_channels: i64,
        kernel: i64,
        stride: i64,
        padding: i64,
    ) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe {
            sys::vae_graph_conv2d(
                self.raw.as_ptr(),
                x.0,
                out_channels,
                kernel,
                stride,
                padding,
            )
        };
        self.node(id, "vae_graph_conv2d")
    }

    /// Transposed 2-D convolution of a `[C, H, W]` node (nn.ConvTranspose2d layout).
    pub fn conv2d_transpose(
        &mut self,
        x: Node,
        out_channels: i64,
        kernel: i64,
        stride: i64,
        padding: i64,
    ) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe {
            sys::vae_graph_conv2d_transpose(
                self.raw.as_ptr(),
                x.0,
                out_channels,
                kernel,
                stride,
                padding,
            )
        };
        self.node(id, "vae_graph_conv2d_transpose")
    }

    /// The same elements viewed with shape `dims`.
    pub fn reshape(&mut self, x: Node, dims: &[i64]) -> Result<Node> {
        let rank = rank(dims.len(), "vae_graph_reshape")?;
        // SAFETY: dims holds `rank` values; the library copies them.
        let id = unsafe { sys::vae_graph_reshape(self.raw.as_ptr(), x.0, dims.as_ptr(), rank) };
        self.node(id, "vae_graph_reshape")
    }

    /// The node's axes reordered: output axis i is input axis `axes[i]`.
    pub fn transpose(&mut self, x: Node, axes: &[i32]) -> Result<Node> {
        let rank = rank(axes.len(), "vae_graph_transpose")?;
        // SAFETY: axes holds `rank` values; the library copies them.
        let id = unsafe { sys::vae_graph_transpose(self.raw.as_ptr(), x.0, axes.as_ptr(), rank) };
        self.node(id, "vae_graph_transpose")
    }

    /// All of the node's elements as one axis.
    pub fn flatten(&mut self, x: Node) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe { sys::vae_graph_flatten(self.raw.as_ptr(), x.0) };
        self.node(id, "vae_graph_flatten")
    }

    /// The model's data x as a decoder node (teacher forcing); `dims` is the
    /// encoder input's shape.
    pub fn data(&mut self, dims: &[i64]) -> Result<Node> {
        let rank = rank(dims.len(), "vae_graph_data")?;
        // SAFETY: dims holds `rank` values; the library copies them.
        let id = unsafe { sys::vae_graph_data(self.raw.as_ptr(), dims.as_ptr(), rank) };
        self.node(id, "vae_graph_data")
    }

    /// Lookup table from a node of T token ids to `[T, dim]`.
    pub fn embedding(&mut self, ids: Node, vocab: i64, dim: i64) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe { sys::vae_graph_embedding(self.raw.as_ptr(), ids.0, vocab, dim) };
        self.node(id, "vae_graph_embedding")
    }

    /// An embedding sharing the encoder's table (decoder only).
    pub fn embedding_shared(&mut self, ids: Node, vocab: i64, dim: i64) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe { sys::vae_graph_embedding_shared(self.raw.as_ptr(), ids.0, vocab, dim) };
        self.node(id, "vae_graph_embedding_shared")
    }

    /// LSTM with `hidden` units over a sequence `[T, F]`. `init` holds h0 then
    /// c0 (zero state if `None`); `mask` is a node of T ids whose 0 entries
    /// are padding. Output: `[T, hidden]` if `full_sequence`, else the last
    /// unmasked h.
    pub fn lstm(
        &mut self,
        x: Node,
        hidden: i64,
        init: Option<Node>,
        mask: Option<Node>,
        full_sequence: bool,
    ) -> Result<Node> {
        let init = init.map_or(-1, Node::id);
        let mask = mask.map_or(-1, Node::id);
        // SAFETY: as for dense.
        let id = unsafe {
            sys::vae_graph_lstm(
                self.raw.as_ptr(),
                x.0,
                hidden,
                init,
                mask,
                i32::from(full_sequence),
            )
        };
        self.node(id, "vae_graph_lstm")
    }

    /// A vector `[F]` repeated as a sequence `[times, F]`.
    pub fn repeat(&mut self, x: Node, times: i64) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe { sys::vae_graph_repeat(self.raw.as_ptr(), x.0, times) };
        self.node(id, "vae_graph_repeat")
    }

    /// Concatenation on the last axis.
    pub fn concat(&mut self, a: Node, b: Node) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe { sys::vae_graph_concat(self.raw.as_ptr(), a.0, b.0) };
        self.node(id, "vae_graph_concat")
    }

    /// Token ids shifted one step later with `bos` in front.
    pub fn shift_right(&mut self, ids: Node, bos: f32) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe { sys::vae_graph_shift_right(self.raw.as_ptr(), ids.0, bos) };
        self.node(id, "vae_graph_shift_right")
    }

    /// Word dropout: while training, each non-padding id becomes `unk` with
    /// probability `rate`.
    pub fn token_dropout(&mut self, ids: Node, rate: f32, unk: f32) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe { sys::vae_graph_token_dropout(self.raw.as_ptr(), ids.0, rate, unk) };
        self.node(id, "vae_graph_token_dropout")
    }

    /// A conditional model's condition: `size` floats per example, given
    /// with [`Model::set_condition`].
    pub fn condition(&mut self, size: i64) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe { sys::vae_graph_condition(self.raw.as_ptr(), size) };
        self.node(id, "vae_graph_condition")
    }

    /// Batch normalisation of the last axis; `gamma` 0 learns the scale,
    /// `gamma` > 0 fixes it (BN-VAE).
    pub fn batch_norm(&mut self, x: Node, gamma: f32) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe { sys::vae_graph_batch_norm(self.raw.as_ptr(), x.0, gamma) };
        self.node(id, "vae_graph_batch_norm")
    }

    /// q(z|x) from the encoder's own `mu` and `logvar`: the encoder's last
    /// node and output, in place of the appended head.
    pub fn gaussian(&mut self, mu: Node, logvar: Node) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe { sys::vae_graph_gaussian(self.raw.as_ptr(), mu.0, logvar.0) };
        self.node(id, "vae_graph_gaussian")
    }

    /// Auxiliary bag-of-words loss on `logits` (`[V]`) against `ids`; it trains
    /// but is not part of the reported ELBO.
    pub fn bag_of_words(&mut self, logits: Node, ids: Node, weight: f32) -> Result<Node> {
        // SAFETY: as for dense.
        let id = unsafe {
            sys::vae_graph_bag_of_words(self.raw.as_ptr(), logits.0, ids.0, weight)
        };
        self.node(id, "vae_graph_bag_of_words")
    }

    /// Marks the graph's result.
    pub fn set_output(&mut self, x: Node) -> Result<()> {
        // SAFETY: as for dense.
        self.check(
            unsafe { sys::vae_graph_set_output(self.raw.as_ptr(), x.0) },
            "vae_graph_set_output",
        )
    }

    /// Number of elements per example of a node.
    pub fn node_size(&self, x: Node) -> Result<usize> {
        // SAFETY: the handle is valid; the library checks the node id.
        let n = unsafe { sys::vae_graph_node_size(self.raw.as_ptr(), x.0) };
        if n < 0 {
            // This query records no message on the graph (it is const).
            Err(VaeError::new(
                n as i32,
                format!("node {} does not exist", x.0),
                "vae_graph_node_size",
            ))
        } else {
            Ok(size(n))
        }
    }
}

impl Drop for Graph {
    fn drop(&mut self) {
        // SAFETY: the handle came from vae_graph_new and is freed once.
        unsafe { sys::vae_graph_free(self.raw.as_ptr()) }
    }
}

/// The likelihood p(x|z), which fixes what the decoder outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Likelihood {
    /// D logits for data in [0, 1].
    Bernoulli,
    /// D means with a fixed variance ([`Model::set_obs_logvar`]).
    GaussianFixed,
    /// D means then D log-variances.
    GaussianLearned,
    /// `[T, V]` logits for T token ids in [0, V); id 0 is padding.
    Categorical,
}

impl Likelihood {
    fn code(self) -> i32 {
        match self {
            Likelihood::Bernoulli => sys::VAE_LIKELIHOOD_BERNOULLI,
            Likelihood::GaussianFixed => sys::VAE_LIKELIHOOD_GAUSSIAN_FIXED,
            Likelihood::GaussianLearned => sys::VAE_LIKELIHOOD_GAUSSIAN_LEARNED,
            Likelihood::Categorical => sys::VAE_LIKELIHOOD_CATEGORICAL,
        }
    }
}

/// KL annealing schedule for [`Model::train_step`], over `steps` >= 1
/// optimizer steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KlAnneal {
    /// Weight 1 throughout.
    None,
    /// Weight min(1, t / steps).
    Linear {
        /// Steps until the weight reaches 1.
        steps: i64,
    },
    /// Weight 1 / (1 + exp(-10 (t / steps - 1/2))).
    Sigmoid {
        /// Steps over which the weight rises.
        steps: i64,
    },
}

/// How [`Model::generate`] picks each token.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decode {
    /// The most probable id at every step.
    Greedy,
    /// A draw from softmax(logits / temperature), temperature in (0, 1000].
    Sample {
        /// Softmax temperature.
        temperature: f64,
    },
    /// A draw among the `k` most probable ids.
    TopK {
        /// How many ids to draw among (>= 1).
        k: i64,
        /// Softmax temperature.
        temperature: f64,
    },
    /// Beam search; each example's best beam by mean log-probability.
    Beam {
        /// Beam width, 1..1024.
        width: i64,
    },
}

/// Per-example means, in nats, of one ELBO evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elbo {
    /// recon - kl, the evidence lower bound.
    pub elbo: f64,
    /// E_q log p(x|z).
    pub recon: f64,
    /// KL(q(z|x) || N(0, I)).
    pub kl: f64,
}

/// The C signature of vae_model_elbo_noise and vae_model_elbo_grad_noise.
type NoiseCall =
    unsafe extern "C" fn(*mut sys::vae_model, *const f32, i64, *const f32, *mut f64, *mut f64, *mut f64) -> i32;

/// A variational autoencoder: encoder, Gaussian head, decoder, likelihood,
/// all parameters in one buffer and its own random generator.
#[derive(Debug)]
pub struct Model {
    raw: NonNull<sys::vae_model>,
    // Importance samples per example (set_train_samples): the length of
    // the noise elbo_grad_noise takes.
    train_samples: usize,
}

// SAFETY: as for Graph.
unsafe impl Send for Model {}

/// Runs a C call on a model and turns its status into a `Result` carrying
/// the message the call left on the model.
macro_rules! model_call {
    ($self:ident, $function:ident($($arg:expr),* $(,)?)) => {{
        // SAFETY: the handle is valid, and the caller checked every buffer's
        // length against the model's sizes; the library keeps no pointer.
        let status = unsafe { sys::$function($($arg),*) };
        $self.check(status, stringify!($function))
    }};
}

impl Model {
    /// A model from copies of `encoder` and `decoder`; the encoder gets a
    /// Gaussian head of `latent_dim` means and log-variances. Parameters are
    /// initialised from `seed`.
    pub fn new(
        encoder: &Graph,
        decoder: &Graph,
        latent_dim: i64,
        likelihood: Likelihood,
        seed: u64,
    ) -> Result<Model> {
        let mut raw = ptr::null_mut();
        let mut err = ErrBuf::new();
        // SAFETY: both graphs are valid and only read; the library copies them.
        let status = unsafe {
            sys::vae_model_new(
                encoder.raw.as_ptr(),
                decoder.raw.as_ptr(),
                latent_dim,
                likelihood.code(),
                seed,
                &mut raw,
                err.ptr(),
                err.0.len(),
            )
        };
        Ok(Model {
            raw: created(status, raw, &err, "vae_model_new")?,
            train_samples: 1,
        })
    }

    /// Loads a model file, with the optimizer state if the file has one.
    pub fn load(path: impl AsRef<Path>) -> Result<(Model, Option<Adam>)> {
        let path = c_path(path.as_ref(), "vae_model_load")?;
        let (mut raw, mut opt) = (ptr::null_mut(), ptr::null_mut());
        let mut err = ErrBuf::new();
        // SAFETY: path is NUL-terminated; raw and opt are valid places.
        let status = unsafe {
            sys::vae_model_load(path.as_ptr(), &mut raw, &mut opt, err.ptr(), err.0.len())
        };
        Model::loaded(status, raw, opt, &err, "vae_model_load")
    }

    /// As [`Model::load`], from the bytes of a model file
    /// ([`Model::save_bytes`]).
    pub fn load_bytes(bytes: &[u8]) -> Result<(Model, Option<Adam>)> {
        let (mut raw, mut opt) = (ptr::null_mut(), ptr::null_mut());
        let mut err = ErrBuf::new();
        // SAFETY: bytes is readable for its length; the library copies what it keeps.
        let status = unsafe {
            sys::vae_model_load_from_buffer(
                bytes.as_ptr() as *const c_void,
                bytes.len(),
                &mut raw,
                &mut opt,
                err.ptr(),
                err.0.len(),
            )
        };
        Model::loaded(status, raw, opt, &err, "vae_model_load_from_buffer")
    }

    fn loaded(
        status: i32,
        raw: *mut sys::vae_model,
        opt: *mut sys::vae_adam,
        err: &ErrBuf,
        function: &'static str,
    ) -> Result<(Model, Option<Adam>)> {
        // Owning the optimizer first frees it even if the model is missing.
        let opt = NonNull::new(opt).map(|raw| Adam { raw });
        Ok((
            Model {
                raw: created(status, raw, err, function)?,
                train_samples: 1,
            },
            opt,
        ))
    }

    fn check(&self, status: i32, function: &'static str) -> Result<()> {
        if status == sys::VAE_OK {
            return Ok(());
        }
        // SAFETY: the handle is valid; the message is copied at once.
        Err(VaeError::new(
            status,
            unsafe { owned_string(sys::vae_model_last_error(self.raw.as_ptr())) },
            function,
        ))
    }

    /// Writes the model, and `opt`'s state if given, to `path` atomically.
    pub fn save(&self, path: impl AsRef<Path>, opt: Option<&Adam>) -> Result<()> {
        let path = c_path(path.as_ref(), "vae_model_save")?;
        model_call!(
            self,
            vae_model_save(self.raw.as_ptr(), Adam::ptr_or_null(opt), path.as_ptr())
        )
    }

    /// The bytes [`Model::save`] would write.
    pub fn save_bytes(&self, opt: Option<&Adam>) -> Result<Vec<u8>> {
        let opt = Adam::ptr_or_null(opt);
        let mut len = 0usize;
        model_call!(self, vae_model_save_size(self.raw.as_ptr(), opt, &mut len))?;
        let mut bytes = vec![0u8; len];
        let mut written = 0usize;
        model_call!(
            self,
            vae_model_save_to_buffer(
                self.raw.as_ptr(),
                opt,
                bytes.as_mut_ptr() as *mut c_void,
                bytes.len(),
                &mut written
            )
        )?;
        bytes.truncate(written);
        Ok(bytes)
    }

    /// Resets the random generator that z samples come from.
    pub fn set_seed(&mut self, seed: u64) -> Result<()> {
        model_call!(self, vae_model_set_seed(self.raw.as_ptr(), seed))
    }

    /// Weight of the KL term in training (>= 0, default 1).
    pub fn set_beta(&mut self, beta: f64) -> Result<()> {
        model_call!(self, vae_model_set_beta(self.raw.as_ptr(), beta))
    }

    /// Free bits per latent dimension, in nats (0 disables).
    pub fn set_free_bits(&mut self, nats: f64) -> Result<()> {
        model_call!(self, vae_model_set_free_bits(self.raw.as_ptr(), nats))
    }

    /// Importance samples per example in the objective of `elbo_grad` and
    /// [`Model::train_step`]: 1 the ELBO, k > 1 the k-sample IWAE bound.
    pub fn set_train_samples(&mut self, k: i64) -> Result<()> {
        model_call!(self, vae_model_set_train_samples(self.raw.as_ptr(), k))?;
        self.train_samples = k as usize;
        Ok(())
    }

    /// Free bits per example (`true`: each example's KL of each dimension
    /// against the floor) or per batch mean (`false`, the default); not
    /// saved in model files.
    pub fn set_free_bits_per_example(&mut self, per_example: bool) -> Result<()> {
        let mode = if per_example {
            sys::VAE_FREE_BITS_EXAMPLE
        } else {
            sys::VAE_FREE_BITS_BATCH
        };
        model_call!(self, vae_model_set_free_bits_mode(self.raw.as_ptr(), mode))
    }

    /// The decoder's parameters initialised afresh from `seed`; the
    /// encoder and the Gaussian head keep theirs.
    pub fn reset_decoder(&mut self, seed: u64) -> Result<()> {
        model_call!(self, vae_model_reset_decoder(self.raw.as_ptr(), seed))
    }

    /// I(x; z) in nats over the examples `x` (He et al. 2019, Eq. 5), with
    /// `samples` draws per example.
    pub fn mutual_info(&mut self, x: &[f32], samples: i64) -> Result<f64> {
        let n = c_len(self.batch(x, "vae_model_mutual_info")?);
        let mut mi = 0.0;
        model_call!(
            self,
            vae_model_mutual_info(self.raw.as_ptr(), x.as_ptr(), n, samples, &mut mi)
        )?;
        Ok(mi)
    }

    /// (count, variances): the latent dimensions whose posterior mean
    /// varies across `x` by more than `threshold`, and each one's variance.
    pub fn active_units(&mut self, x: &[f32], threshold: f64) -> Result<(i64, Vec<f64>)> {
        let n = c_len(self.batch(x, "vae_model_active_units")?);
        let mut count = 0i64;
        let mut var = vec![0.0; self.latent_dim()];
        model_call!(
            self,
            vae_model_active_units(
                self.raw.as_ptr(),
                x.as_ptr(),
                n,
                threshold,
                &mut count,
                var.as_mut_ptr()
            )
        )?;
        Ok((count, var))
    }

    /// KL annealing for [`Model::train_step`]; not saved in model files.
    pub fn set_kl_anneal(&mut self, schedule: KlAnneal) -> Result<()> {
        let (kind, steps) = match schedule {
            // The library requires steps >= 1 even where they are unused.
            KlAnneal::None => (sys::VAE_ANNEAL_NONE, 1),
            KlAnneal::Linear { steps } => (sys::VAE_ANNEAL_LINEAR, steps),
            KlAnneal::Sigmoid { steps } => (sys::VAE_ANNEAL_SIGMOID, steps),
        };
        model_call!(
            self,
            vae_model_set_kl_anneal(self.raw.as_ptr(), kind, steps)
        )
    }

    /// Log-variance of [`Likelihood::GaussianFixed`] (default 0).
    pub fn set_obs_logvar(&mut self, logvar: f64) -> Result<()> {
        model_call!(self, vae_model_set_obs_logvar(self.raw.as_ptr(), logvar))
    }

    /// Application bytes saved with the model (empty clears them).
    pub fn set_metadata(&mut self, data: &[u8]) -> Result<()> {
        model_call!(
            self,
            vae_model_set_metadata(
                self.raw.as_ptr(),
                data.as_ptr() as *const c_void,
                data.len()
            )
        )
    }

    /// The metadata bytes (empty if none).
    pub fn metadata(&self) -> &[u8] {
        let mut len = 0usize;
        // SAFETY: the handle is valid; the bytes stay valid until the next
        // set_metadata or free, both of which need the model borrowed mutably
        // or moved, which the returned borrow prevents.
        unsafe {
            let p = sys::vae_model_metadata(self.raw.as_ptr(), &mut len);
            if p.is_null() || len == 0 {
                &[]
            } else {
                std::slice::from_raw_parts(p as *const u8, len)
            }
        }
    }

    /// The condition of the next calls of a conditional model: whole rows
    /// of [`Model::condition_size`] floats, one per example; every call on
    /// n examples then needs exactly n rows. An empty slice clears it.
    pub fn set_condition(&mut self, cond: &[f32]) -> Result<()> {
        let f = "vae_model_set_condition";
        let per = self.condition_size();
        // An unconditional model: the library says why.
        let rows = if per == 0 {
            cond.len()
        } else {
            examples(cond.len(), per, "cond", f)?
        };
        model_call!(
            self,
            vae_model_set_condition(self.raw.as_ptr(), cond.as_ptr(), c_len(rows))
        )
    }

    /// Floats per example of the condition; 0 for an unconditional model.
    pub fn condition_size(&self) -> usize {
        // SAFETY: the handle is valid.
        size(unsafe { sys::vae_model_condition_size(self.raw.as_ptr()) })
    }

    /// Elements per example of the data x.
    pub fn data_size(&self) -> usize {
        // SAFETY: the handle is valid.
        size(unsafe { sys::vae_model_data_size(self.raw.as_ptr()) })
    }

    /// Shape of one example (the encoder input's shape).
    pub fn data_shape(&self) -> Vec<i64> {
        let mut dims = [0i64; 4];
        // SAFETY: dims has room for `cap` values; the rank is at most 4.
        let rank = unsafe {
            sys::vae_model_data_shape(self.raw.as_ptr(), dims.as_mut_ptr(), dims.len() as i32)
        };
        dims[..size(rank.into()).min(dims.len())].to_vec()
    }

    /// Latent dimension.
    pub fn latent_dim(&self) -> usize {
        // SAFETY: the handle is valid.
        size(unsafe { sys::vae_model_latent_dim(self.raw.as_ptr()) })
    }

    /// Number of parameters (and gradients).
    pub fn num_params(&self) -> usize {
        // SAFETY: the handle is valid.
        size(unsafe { sys::vae_model_num_params(self.raw.as_ptr()) })
    }

    /// The model's one contiguous parameter buffer.
    pub fn params(&self) -> &[f32] {
        // SAFETY: the buffer holds num_params floats for the model's life
        // and only calls through `&mut self` write it.
        unsafe {
            std::slice::from_raw_parts(sys::vae_model_params(self.raw.as_ptr()), self.num_params())
        }
    }

    /// The parameter buffer, writable (e.g. to load weights from elsewhere).
    pub fn params_mut(&mut self) -> &mut [f32] {
        let n = self.num_params();
        // SAFETY: as for params, and the borrow of self excludes every other access.
        unsafe { std::slice::from_raw_parts_mut(sys::vae_model_params(self.raw.as_ptr()), n) }
    }

    /// The gradient buffer, laid out like the parameters.
    pub fn grads(&self) -> &[f32] {
        // SAFETY: as for params.
        unsafe {
            std::slice::from_raw_parts(sys::vae_model_grads(self.raw.as_ptr()), self.num_params())
        }
    }

    /// The gradient buffer, writable (e.g. for an all-reduce across processes).
    pub fn grads_mut(&mut self) -> &mut [f32] {
        let n = self.num_params();
        // SAFETY: as for params_mut.
        unsafe { std::slice::from_raw_parts_mut(sys::vae_model_grads(self.raw.as_ptr()), n) }
    }

    /// Sets every gradient to 0.
    pub fn zero_grad(&mut self) -> Result<()> {
        model_call!(self, vae_model_zero_grad(self.raw.as_ptr()))
    }

    /// Multiplies every gradient by `s`.
    pub fn scale_grad(&mut self, s: f64) -> Result<()> {
        model_call!(self, vae_model_scale_grad(self.raw.as_ptr(), s))
    }

    fn batch(&self, x: &[f32], function: &'static str) -> Result<usize> {
        examples(x.len(), self.data_size(), "x", function)
    }

    /// ELBO of the batch `x` (whole examples of data_size values), one z
    /// sample per example.
    pub fn elbo(&mut self, x: &[f32]) -> Result<Elbo> {
        let batch = c_len(self.batch(x, "vae_model_elbo")?);
        let mut e = Elbo {
            elbo: 0.0,
            recon: 0.0,
            kl: 0.0,
        };
        model_call!(
            self,
            vae_model_elbo(
                self.raw.as_ptr(),
                x.as_ptr(),
                batch,
                &mut e.elbo,
                &mut e.recon,
                &mut e.kl
            )
        )?;
        Ok(e)
    }

    /// As [`Model::elbo`], and adds the training loss's gradient to the
    /// gradient buffer.
    pub fn elbo_grad(&mut self, x: &[f32]) -> Result<Elbo> {
        let batch = c_len(self.batch(x, "vae_model_elbo_grad")?);
        let mut e = Elbo {
            elbo: 0.0,
            recon: 0.0,
            kl: 0.0,
        };
        model_call!(
            self,
            vae_model_elbo_grad(
                self.raw.as_ptr(),
                x.as_ptr(),
                batch,
                &mut e.elbo,
                &mut e.recon,
                &mut e.kl
            )
        )?;
        Ok(e)
    }

    /// [`Model::elbo`] with z = mu + sigma * eps for the given `eps`
    /// (batch x latent_dim values) instead of drawn noise.
    pub fn elbo_noise(&mut self, x: &[f32], eps: &[f32]) -> Result<Elbo> {
        self.noise(x, eps, 1, sys::vae_model_elbo_noise, "vae_model_elbo_noise")
    }

    /// [`Model::elbo_grad`] with the given `eps`: batch x k x latent_dim
    /// values for k train samples, example after example.
    pub fn elbo_grad_noise(&mut self, x: &[f32], eps: &[f32]) -> Result<Elbo> {
        let k = self.train_samples;
        self.noise(x, eps, k, sys::vae_model_elbo_grad_noise, "vae_model_elbo_grad_noise")
    }

    fn noise(
        &mut self,
        x: &[f32],
        eps: &[f32],
        k: usize,
        call: NoiseCall,
        function: &'static str,
    ) -> Result<Elbo> {
        let batch = self.batch(x, function)?;
        expect_len(eps.len(), batch * k * self.latent_dim(), "eps", function)?;
        let mut e = Elbo {
            elbo: 0.0,
            recon: 0.0,
            kl: 0.0,
        };
        // SAFETY: x and eps were checked against the model's sizes above.
        let status = unsafe {
            call(
                self.raw.as_ptr(),
                x.as_ptr(),
                c_len(batch),
                eps.as_ptr(),
                &mut e.elbo,
                &mut e.recon,
                &mut e.kl,
            )
        };
        self.check(status, function)?;
        Ok(e)
    }

    /// zero_grad + elbo_grad + an `opt` step, in one call.
    pub fn train_step(&mut self, opt: &mut Adam, x: &[f32]) -> Result<Elbo> {
        let batch = c_len(self.batch(x, "vae_model_train_step")?);
        let mut e = Elbo {
            elbo: 0.0,
            recon: 0.0,
            kl: 0.0,
        };
        model_call!(
            self,
            vae_model_train_step(
                self.raw.as_ptr(),
                opt.raw.as_ptr(),
                x.as_ptr(),
                batch,
                &mut e.elbo,
                &mut e.recon,
                &mut e.kl
            )
        )?;
        Ok(e)
    }

    /// (mu, logvar) of q(z|x), each batch x latent_dim values.
    pub fn encode(&mut self, x: &[f32]) -> Result<(Vec<f32>, Vec<f32>)> {
        let n = self.batch(x, "vae_model_encode")? * self.latent_dim();
        let (mut mu, mut logvar) = (vec![0.0; n], vec![0.0; n]);
        self.encode_into(x, &mut mu, Some(&mut logvar))?;
        Ok((mu, logvar))
    }

    /// [`Model::encode`] into caller buffers of batch x latent_dim values;
    /// logvar only if given.
    pub fn encode_into(
        &mut self,
        x: &[f32],
        mu: &mut [f32],
        logvar: Option<&mut [f32]>,
    ) -> Result<()> {
        let batch = self.batch(x, "vae_model_encode")?;
        let want = batch * self.latent_dim();
        expect_len(mu.len(), want, "mu", "vae_model_encode")?;
        let logvar = match logvar {
            Some(l) => {
                expect_len(l.len(), want, "logvar", "vae_model_encode")?;
                l.as_mut_ptr()
            }
            None => ptr::null_mut(),
        };
        model_call!(
            self,
            vae_model_encode(
                self.raw.as_ptr(),
                x.as_ptr(),
                c_len(batch),
                mu.as_mut_ptr(),
                logvar
            )
        )
    }

    /// Mean of p(x|z) for latents `z` (whole rows of latent_dim): as many
    /// rows of data_size.
    pub fn decode(&mut self, z: &[f32]) -> Result<Vec<f32>> {
        let mut out = vec![
            0.0;
            examples(z.len(), self.latent_dim(), "z", "vae_model_decode")?
                * self.data_size()
        ];
        self.decode_into(z, &mut out)?;
        Ok(out)
    }

    /// [`Model::decode`] into `out`.
    pub fn decode_into(&mut self, z: &[f32], out: &mut [f32]) -> Result<()> {
        let batch = examples(z.len(), self.latent_dim(), "z", "vae_model_decode")?;
        expect_len(
            out.len(),
            batch * self.data_size(),
            "out",
            "vae_model_decode",
        )?;
        model_call!(
            self,
            vae_model_decode(
                self.raw.as_ptr(),
                z.as_ptr(),
                c_len(batch),
                out.as_mut_ptr()
            )
        )
    }

    /// Values per example of the decoder's raw output.
    pub fn output_size(&self) -> usize {
        // SAFETY: the handle is valid.
        unsafe { sys::vae_model_output_size(self.raw.as_ptr()) as usize }
    }

    /// The decoder's raw output (logits, or the Gaussian's parameters) at
    /// latents `z`, output_size values per row; `x` is read only by a
    /// teacher-forced decoder, which needs it.
    pub fn decoder_output(&mut self, z: &[f32], x: Option<&[f32]>) -> Result<Vec<f32>> {
        const F: &str = "vae_model_decoder_output";
        let batch = examples(z.len(), self.latent_dim(), "z", F)?;
        if let Some(x) = x {
            expect_len(x.len(), batch * self.data_size(), "x", F)?;
        }
        let mut out = vec![0.0; batch * self.output_size()];
        model_call!(
            self,
            vae_model_decoder_output(
                self.raw.as_ptr(),
                z.as_ptr(),
                x.map_or(ptr::null(), |x| x.as_ptr()),
                c_len(batch),
                out.as_mut_ptr()
            )
        )?;
        Ok(out)
    }

    /// Draws `n` latents z ~ N(0, I) and decodes them: (z, x), n rows of
    /// latent_dim and of data_size values.
    pub fn sample(&mut self, n: usize) -> Result<(Vec<f32>, Vec<f32>)> {
        let mut z = vec![0.0; n * self.latent_dim()];
        let mut out = vec![0.0; n * self.data_size()];
        self.sample_into(Some(&mut z), &mut out)?;
        Ok((z, out))
    }

    /// Draws as many z ~ N(0, I) as `out` has rows of data_size, decodes
    /// them into `out`, and writes the z to `z_out` if given.
    pub fn sample_into(&mut self, z_out: Option<&mut [f32]>, out: &mut [f32]) -> Result<()> {
        let n = examples(out.len(), self.data_size(), "out", "vae_model_sample")?;
        let z_out = match z_out {
            Some(z) => {
                expect_len(z.len(), n * self.latent_dim(), "z_out", "vae_model_sample")?;
                z.as_mut_ptr()
            }
            None => ptr::null_mut(),
        };
        model_call!(
            self,
            vae_model_sample(self.raw.as_ptr(), c_len(n), z_out, out.as_mut_ptr())
        )
    }

    /// decode(mu(x)) for each example of `x`.
    pub fn reconstruct(&mut self, x: &[f32]) -> Result<Vec<f32>> {
        let mut out = vec![0.0; x.len()];
        self.reconstruct_into(x, &mut out)?;
        Ok(out)
    }

    /// [`Model::reconstruct`] into `out`, as long as `x`.
    pub fn reconstruct_into(&mut self, x: &[f32], out: &mut [f32]) -> Result<()> {
        let batch = self.batch(x, "vae_model_reconstruct")?;
        expect_len(out.len(), x.len(), "out", "vae_model_reconstruct")?;
        model_call!(
            self,
            vae_model_reconstruct(
                self.raw.as_ptr(),
                x.as_ptr(),
                c_len(batch),
                out.as_mut_ptr()
            )
        )
    }

    /// log p(x_b | z_b) in nats, one value per example.
    pub fn log_likelihood(&mut self, z: &[f32], x: &[f32]) -> Result<Vec<f64>> {
        let mut logp = vec![0.0; self.batch(x, "vae_model_log_likelihood")?];
        self.log_likelihood_into(z, x, &mut logp)?;
        Ok(logp)
    }

    /// [`Model::log_likelihood`] into `logp`.
    pub fn log_likelihood_into(&mut self, z: &[f32], x: &[f32], logp: &mut [f64]) -> Result<()> {
        let batch = self.batch(x, "vae_model_log_likelihood")?;
        expect_len(
            z.len(),
            batch * self.latent_dim(),
            "z",
            "vae_model_log_likelihood",
        )?;
        expect_len(logp.len(), batch, "logp", "vae_model_log_likelihood")?;
        model_call!(
            self,
            vae_model_log_likelihood(
                self.raw.as_ptr(),
                z.as_ptr(),
                x.as_ptr(),
                c_len(batch),
                logp.as_mut_ptr()
            )
        )
    }

    /// Importance-weighted estimate of log p(x) with `k` samples, one value
    /// per example; -iwae is the NLL in nats.
    pub fn iwae(&mut self, x: &[f32], k: i64) -> Result<Vec<f64>> {
        let mut logpx = vec![0.0; self.batch(x, "vae_model_iwae")?];
        self.iwae_into(x, k, &mut logpx)?;
        Ok(logpx)
    }

    /// [`Model::iwae`] into `logpx`.
    pub fn iwae_into(&mut self, x: &[f32], k: i64, logpx: &mut [f64]) -> Result<()> {
        let batch = self.batch(x, "vae_model_iwae")?;
        expect_len(logpx.len(), batch, "logpx", "vae_model_iwae")?;
        model_call!(
            self,
            vae_model_iwae(
                self.raw.as_ptr(),
                x.as_ptr(),
                c_len(batch),
                k,
                logpx.as_mut_ptr()
            )
        )
    }

    /// `n` uniform numbers in [0, 1) from the model's generator.
    pub fn random_uniform(&mut self, n: usize) -> Result<Vec<f32>> {
        let mut out = vec![0.0; n];
        self.random_uniform_into(&mut out)?;
        Ok(out)
    }

    /// Fills `out` with uniform numbers in [0, 1) from the model's generator.
    pub fn random_uniform_into(&mut self, out: &mut [f32]) -> Result<()> {
        model_call!(
            self,
            vae_model_random_uniform(self.raw.as_ptr(), c_len(out.len()), out.as_mut_ptr())
        )
    }

    /// Token sequences of a categorical model from latents `z` (whole rows
    /// of latent_dim), decoded incrementally: (ids, steps), max_len ids per
    /// row (as floats, 0 after the row's end) and the number of decoder
    /// steps run. A sequence ends at its first `eos` (`None`: never).
    pub fn generate(
        &mut self,
        z: &[f32],
        decode: Decode,
        eos: Option<i64>,
        max_len: usize,
    ) -> Result<(Vec<f32>, i64)> {
        let n = examples(z.len(), self.latent_dim(), "z", "vae_model_generate")?;
        let mut out = vec![0.0; ids_len(n, max_len)?];
        let steps = self.generate_into(z, decode, eos, max_len, &mut out)?;
        Ok((out, steps))
    }

    /// [`Model::generate`] into `out` (max_len ids per row of `z`); returns
    /// the number of decoder steps run.
    pub fn generate_into(
        &mut self,
        z: &[f32],
        decode: Decode,
        eos: Option<i64>,
        max_len: usize,
        out: &mut [f32],
    ) -> Result<i64> {
        let n = examples(z.len(), self.latent_dim(), "z", "vae_model_generate")?;
        expect_len(out.len(), ids_len(n, max_len)?, "out", "vae_model_generate")?;
        // Values the chosen mode ignores: any number is accepted for them.
        let (mode, temperature, top_k, beam) = match decode {
            Decode::Greedy => (sys::VAE_DECODE_GREEDY, 1.0, 1, 1),
            Decode::Sample { temperature } => (sys::VAE_DECODE_SAMPLE, temperature, 1, 1),
            Decode::TopK { k, temperature } => (sys::VAE_DECODE_TOP_K, temperature, k, 1),
            Decode::Beam { width } => (sys::VAE_DECODE_BEAM, 1.0, 1, width),
        };
        let mut steps = 0i64;
        model_call!(
            self,
            vae_model_generate(
                self.raw.as_ptr(),
                z.as_ptr(),
                c_len(n),
                mode,
                temperature,
                top_k,
                beam,
                eos.unwrap_or(-1),
                c_len(max_len),
                out.as_mut_ptr(),
                &mut steps
            )
        )?;
        Ok(steps)
    }
}

/// A generation setting kept on the model ([`Model::set_generation`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenSetting {
    /// The decoding mode, a `VAE_DECODE_*` value (TOP_P only this way).
    Mode,
    /// Softmax temperature, (0, 1000].
    Temperature,
    /// Ids to draw among in top-k sampling, 1..2^24.
    TopK,
    /// Beam width, 1..1024.
    Beam,
    /// End-of-sequence id, or -1 for none.
    Eos,
    /// Probability mass of nucleus sampling, (0, 1].
    TopP,
    /// n > 0: no sequence repeats an n-gram of its own; 0 off.
    NoRepeatNgram,
    /// Beam search ranks by log p / length^a, a in [0, 10].
    LengthPenalty,
}

impl GenSetting {
    fn key(self) -> i32 {
        match self {
            GenSetting::Mode => sys::VAE_GEN_MODE,
            GenSetting::Temperature => sys::VAE_GEN_TEMPERATURE,
            GenSetting::TopK => sys::VAE_GEN_TOP_K,
            GenSetting::Beam => sys::VAE_GEN_BEAM,
            GenSetting::Eos => sys::VAE_GEN_EOS,
            GenSetting::TopP => sys::VAE_GEN_TOP_P,
            GenSetting::NoRepeatNgram => sys::VAE_GEN_NO_REPEAT_NGRAM,
            GenSetting::LengthPenalty => sys::VAE_GEN_LENGTH_PENALTY,
        }
    }
}

impl Model {
    /// Sets one generation setting that [`Model::generate_tokens`] uses.
    pub fn set_generation(&mut self, setting: GenSetting, value: f64) -> Result<()> {
        model_call!(
            self,
            vae_model_set_generation(self.raw.as_ptr(), setting.key(), value)
        )
    }

    /// The value of one generation setting.
    pub fn generation(&mut self, setting: GenSetting) -> Result<f64> {
        let mut v = 0.0;
        model_call!(
            self,
            vae_model_get_generation(self.raw.as_ptr(), setting.key(), &mut v)
        )?;
        Ok(v)
    }

    /// [`Model::generate`] with the model's generation settings: (ids,
    /// steps), max_len ids per row of `z`.
    pub fn generate_tokens(&mut self, z: &[f32], max_len: usize) -> Result<(Vec<f32>, i64)> {
        const F: &str = "vae_model_generate_tokens";
        let n = examples(z.len(), self.latent_dim(), "z", F)?;
        let mut out = vec![0.0; ids_len(n, max_len)?];
        let mut steps = 0i64;
        model_call!(
            self,
            vae_model_generate_tokens(
                self.raw.as_ptr(),
                z.as_ptr(),
                c_len(n),
                c_len(max_len),
                out.as_mut_ptr(),
                &mut steps
            )
        )?;
        Ok((out, steps))
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: the handle came from vae_model_new or a load and is freed once.
        unsafe { sys::vae_model_free(self.raw.as_ptr()) }
    }
}

/// Adam / AdamW optimizer state for one model (PyTorch's defaults: betas
/// 0.9 and 0.999, eps 1e-8, no weight decay, no clipping).
#[derive(Debug)]
pub struct Adam {
    raw: NonNull<sys::vae_adam>,
}

// SAFETY: as for Graph.
unsafe impl Send for Adam {}

impl Adam {
    /// An optimizer for `model` with learning rate `lr` (> 0). It keeps no
    /// reference to the model, only its parameter count.
    pub fn new(model: &Model, lr: f64) -> Result<Adam> {
        let mut raw = ptr::null_mut();
        let mut err = ErrBuf::new();
        // SAFETY: the model is valid and only read.
        let status =
            unsafe { sys::vae_adam_new(model.raw.as_ptr(), lr, &mut raw, err.ptr(), err.0.len()) };
        Ok(Adam {
            raw: created(status, raw, &err, "vae_adam_new")?,
        })
    }

    fn ptr_or_null(opt: Option<&Adam>) -> *const sys::vae_adam {
        opt.map_or(ptr::null(), |o| o.raw.as_ptr() as *const sys::vae_adam)
    }

    fn check(&self, status: i32, function: &'static str) -> Result<()> {
        if status == sys::VAE_OK {
            return Ok(());
        }
        // SAFETY: the handle is valid; the message is copied at once.
        Err(VaeError::new(
            status,
            unsafe { owned_string(sys::vae_adam_last_error(self.raw.as_ptr())) },
            function,
        ))
    }

    /// Sets the learning rate (> 0).
    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        // SAFETY: the handle is valid.
        self.check(
            unsafe { sys::vae_adam_set_lr(self.raw.as_ptr(), lr) },
            "vae_adam_set_lr",
        )
    }

    /// 0 <= beta1, beta2 < 1; eps > 0.
    pub fn set_betas(&mut self, beta1: f64, beta2: f64, eps: f64) -> Result<()> {
        // SAFETY: the handle is valid.
        self.check(
            unsafe { sys::vae_adam_set_betas(self.raw.as_ptr(), beta1, beta2, eps) },
            "vae_adam_set_betas",
        )
    }

    /// Weight decay `wd`: as AdamW if `decoupled`, else as L2 added to the
    /// gradient.
    pub fn set_weight_decay(&mut self, wd: f64, decoupled: bool) -> Result<()> {
        // SAFETY: the handle is valid.
        self.check(
            unsafe { sys::vae_adam_set_weight_decay(self.raw.as_ptr(), wd, i32::from(decoupled)) },
            "vae_adam_set_weight_decay",
        )
    }

    /// Rescales gradients whose global L2 norm exceeds `max_norm` (0 disables).
    pub fn set_clip_norm(&mut self, max_norm: f64) -> Result<()> {
        // SAFETY: the handle is valid.
        self.check(
            unsafe { sys::vae_adam_set_clip_norm(self.raw.as_ptr(), max_norm) },
            "vae_adam_set_clip_norm",
        )
    }

    /// Number of steps taken.
    pub fn steps(&self) -> i64 {
        // SAFETY: the handle is valid.
        unsafe { sys::vae_adam_steps(self.raw.as_ptr()) }
    }

    /// One update of `model`'s parameters from its gradient buffer.
    pub fn step(&mut self, model: &mut Model) -> Result<()> {
        // SAFETY: both handles are valid; the library checks they match.
        self.check(
            unsafe { sys::vae_adam_step(self.raw.as_ptr(), model.raw.as_ptr()) },
            "vae_adam_step",
        )
    }
}

impl Drop for Adam {
    fn drop(&mut self) {
        // SAFETY: the handle came from vae_adam_new or a load and is freed once.
        unsafe { sys::vae_adam_free(self.raw.as_ptr()) }
    }
}
