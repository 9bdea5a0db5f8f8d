package vae

/*
#include <vae.h>
*/
import "C"

import (
	"fmt"
	"math"
	"runtime"
)

// Node is the id of a graph node. A builder call that fails returns a
// negative Node (its status); see Graph.
type Node int32

// NoNode stands for "none" where a node is optional (LSTM init and mask).
const NoNode Node = -1

// Graph is a network definition: the encoder (data -> features) or the
// decoder (latent z -> likelihood parameters). Shapes are per example.
//
// Builder errors are sticky: after the first failing call every builder
// call returns that same status as its Node and does nothing, so checking
// Err (or the error of SetOutput) once at the end is enough.
type Graph struct {
	p *C.vae_graph
}

// NewGraph returns an empty graph.
func NewGraph() (*Graph, error) {
	var p *C.vae_graph
	if err := statusError("vae_graph_new", int64(C.vae_graph_new(&p)), ""); err != nil {
		return nil, err
	}
	g := &Graph{p: p}
	runtime.SetFinalizer(g, (*Graph).Close)
	return g, nil
}

// Close frees the graph. Models keep their own copy, so a graph may be
// closed as soon as the models using it are built. Closing twice, or a nil
// Graph, does nothing.
func (g *Graph) Close() {
	if g == nil || g.p == nil {
		return
	}
	C.vae_graph_free(g.p)
	g.p = nil
	runtime.SetFinalizer(g, nil)
}

// Err is nil, or the first error a builder call recorded.
func (g *Graph) Err() error {
	return g.check("vae_graph_status", C.vae_graph_status(g.p))
}

// check turns the result of a C call on g into an error. Being called after
// that call, it also keeps g (so its finalizer) away until the call is over.
func (g *Graph) check(op string, st C.int32_t) error {
	defer runtime.KeepAlive(g)
	if st >= 0 {
		return nil
	}
	return &Error{Op: op, Status: Status(st), Msg: C.GoString(C.vae_graph_last_error(g.p))}
}

// node converts a builder result, keeping g alive until the call is over.
func (g *Graph) node(id C.int32_t) Node {
	runtime.KeepAlive(g)
	return Node(id)
}

// rank is len(s) as the C rank argument. A length no int32 can hold becomes
// a rank the library rejects rather than one that wraps around.
func rank(n int) C.int32_t {
	if n > math.MaxInt32 {
		return C.int32_t(math.MaxInt32)
	}
	return C.int32_t(n)
}

// Input declares the float32 input of shape dims (1 to 4 axes, each >= 1).
// A graph has exactly one input.
func (g *Graph) Input(dims ...int64) Node {
	return g.node(C.vae_graph_input(g.p, i64ptr(dims), rank(len(dims))))
}

// Dense is a fully connected layer on the last axis (nn.Linear layout).
func (g *Graph) Dense(x Node, units int64) Node {
	return g.node(C.vae_graph_dense(g.p, C.int32_t(x), C.int64_t(units)))
}

// Relu is max(x, 0).
func (g *Graph) Relu(x Node) Node { return g.node(C.vae_graph_relu(g.p, C.int32_t(x))) }

// LeakyRelu is x for x > 0, slope*x otherwise; slope in [0, 1).
func (g *Graph) LeakyRelu(x Node, slope float32) Node {
	return g.node(C.vae_graph_leaky_relu(g.p, C.int32_t(x), C.float(slope)))
}

// Tanh is the hyperbolic tangent.
func (g *Graph) Tanh(x Node) Node { return g.node(C.vae_graph_tanh(g.p, C.int32_t(x))) }

// Sigmoid is 1 / (1 + exp(-x)).
func (g *Graph) Sigmoid(x Node) Node { return g.node(C.vae_graph_sigmoid(g.p, C.int32_t(x))) }

// Softplus is log(1 + exp(x)).
func (g *Graph) Softplus(x Node) Node { return g.node(C.vae_graph_softplus(g.p, C.int32_t(x))) }

// Identity passes x unchanged.
func (g *Graph) Identity(x Node) Node { return g.node(C.vae_graph_identity(g.p, C.int32_t(x))) }

// Conv2D convolves a [C, H, W] node (nn.Conv2d layout and output size).
func (g *Graph) Conv2D(x Node, outChannels, kernel, stride, padding int64) Node {
	return g.node(C.vae_graph_conv2d(g.p, C.int32_t(x), C.int64_t(outChannels),
		C.int64_t(kernel), C.int64_t(stride), C.int64_t(padding)))
}

// Conv2DTranspose is the transposed convolution of a [C, H, W] node
// (nn.ConvTranspose2d layout and output size).
func (g *Graph) Conv2DTranspose(x Node, outChannels, kernel, stride, padding int64) Node {
	return g.node(C.vae_graph_conv2d_transpose(g.p, C.int32_t(x), C.int64_t(outChannels),
		C.int64_t(kernel), C.int64_t(stride), C.int64_t(padding)))
}

// Reshape views x's elements (row-major) with shape dims.
func (g *Graph) Reshape(x Node, dims ...int64) Node {
	return g.node(C.vae_graph_reshape(g.p, C.int32_t(x), i64ptr(dims), rank(len(dims))))
}

// Transpose reorders x's axes: output axis i is input axis axes[i].
func (g *Graph) Transpose(x Node, axes ...int32) Node {
	return g.node(C.vae_graph_transpose(g.p, C.int32_t(x), i32ptr(axes), rank(len(axes))))
}

// Flatten reshapes x to one axis.
func (g *Graph) Flatten(x Node) Node { return g.node(C.vae_graph_flatten(g.p, C.int32_t(x))) }

// Data makes the model's data x a node of the decoder (teacher forcing);
// dims must equal the encoder input's shape.
func (g *Graph) Data(dims ...int64) Node {
	return g.node(C.vae_graph_data(g.p, i64ptr(dims), rank(len(dims))))
}

// Embedding maps a node of T token ids to [T, dim] from a vocab x dim table.
func (g *Graph) Embedding(ids Node, vocab, dim int64) Node {
	return g.node(C.vae_graph_embedding(g.p, C.int32_t(ids), C.int64_t(vocab), C.int64_t(dim)))
}

// EmbeddingShared is an embedding of a decoder that uses the encoder's
// first embedding table (same vocab and dim) instead of owning one.
func (g *Graph) EmbeddingShared(ids Node, vocab, dim int64) Node {
	return g.node(C.vae_graph_embedding_shared(g.p, C.int32_t(ids), C.int64_t(vocab),
		C.int64_t(dim)))
}

// LSTM runs hidden units over the sequence x [T, F] (nn.LSTM layout). init
// is NoNode (zero state) or a node of 2*hidden elements, h0 then c0; mask is
// NoNode or a node of T token ids whose padding steps (id 0) keep the state.
// fullSequence: output [T, hidden] rather than the last state [hidden].
func (g *Graph) LSTM(x Node, hidden int64, init, mask Node, fullSequence bool) Node {
	full := C.int32_t(0)
	if fullSequence {
		full = 1
	}
	return g.node(C.vae_graph_lstm(g.p, C.int32_t(x), C.int64_t(hidden), C.int32_t(init),
		C.int32_t(mask), full))
}

// Repeat turns a vector [F] into the sequence [times, F].
func (g *Graph) Repeat(x Node, times int64) Node {
	return g.node(C.vae_graph_repeat(g.p, C.int32_t(x), C.int64_t(times)))
}

// Concat joins a and b on the last axis.
func (g *Graph) Concat(a, b Node) Node {
	return g.node(C.vae_graph_concat(g.p, C.int32_t(a), C.int32_t(b)))
}

// ShiftRight shifts token ids one step later with bos in front.
func (g *Graph) ShiftRight(ids Node, bos float32) Node {
	return g.node(C.vae_graph_shift_right(g.p, C.int32_t(ids), C.float(bos)))
}

// TokenDropout replaces non-padding ids by unk with probability rate while
// gradients are computed (word dropout).
func (g *Graph) TokenDropout(ids Node, rate, unk float32) Node {
	return g.node(C.vae_graph_token_dropout(g.p, C.int32_t(ids), C.float(rate), C.float(unk)))
}

// Condition is a conditional model's condition: size floats per example,
// given with Model.SetCondition.
func (g *Graph) Condition(size int64) Node {
	return g.node(C.vae_graph_condition(g.p, C.int64_t(size)))
}

// BatchNorm normalises the last axis over the batch; gamma 0 learns the
// scale, gamma > 0 fixes it (BN-VAE).
func (g *Graph) BatchNorm(x Node, gamma float32) Node {
	return g.node(C.vae_graph_batch_norm(g.p, C.int32_t(x), C.float(gamma)))
}

// Gaussian is q(z|x) from the encoder's own mu and logvar: the encoder's
// last node and output, in place of the appended head.
func (g *Graph) Gaussian(mu, logvar Node) Node {
	return g.node(C.vae_graph_gaussian(g.p, C.int32_t(mu), C.int32_t(logvar)))
}

// BagOfWords adds an auxiliary bag-of-words loss on logits [V] against ids;
// it trains but is not part of the reported ELBO.
func (g *Graph) BagOfWords(logits, ids Node, weight float32) Node {
	return g.node(C.vae_graph_bag_of_words(g.p, C.int32_t(logits), C.int32_t(ids), C.float(weight)))
}

// SetOutput marks x as the graph's result. Its error is the graph's first
// error, so it also reports a failure of any earlier builder call.
func (g *Graph) SetOutput(x Node) error {
	return g.check("vae_graph_set_output", C.vae_graph_set_output(g.p, C.int32_t(x)))
}

// NodeSize is the number of elements per example of node x.
func (g *Graph) NodeSize(x Node) (int64, error) {
	n := C.vae_graph_node_size(g.p, C.int32_t(x))
	runtime.KeepAlive(g)
	// The graph is const here, so the library records no message: the
	// graph's own message may be about an earlier, unrelated failure.
	if err := statusError("vae_graph_node_size", int64(n), fmt.Sprintf("node %d", x)); err != nil {
		return 0, err
	}
	return int64(n), nil
}
