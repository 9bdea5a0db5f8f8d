package vae

/*
#include <vae.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Likelihood is the form of p(x|z); the decoder output must have the size
// it states (see vae.h).
type Likelihood int32

// Likelihoods.
const (
	Bernoulli       Likelihood = C.VAE_LIKELIHOOD_BERNOULLI        // D logits, x in [0, 1]
	GaussianFixed   Likelihood = C.VAE_LIKELIHOOD_GAUSSIAN_FIXED   // D means, fixed variance
	GaussianLearned Likelihood = C.VAE_LIKELIHOOD_GAUSSIAN_LEARNED // D means then D log-variances
	Categorical     Likelihood = C.VAE_LIKELIHOOD_CATEGORICAL      // [T, V] logits, x: T token ids
)

// Anneal is a KL annealing schedule for TrainStep.
type Anneal int32

// KL annealing schedules.
const (
	AnnealNone    Anneal = C.VAE_ANNEAL_NONE
	AnnealLinear  Anneal = C.VAE_ANNEAL_LINEAR
	AnnealSigmoid Anneal = C.VAE_ANNEAL_SIGMOID
)

// MetadataMax is the largest metadata SetMetadata accepts, in bytes.
const MetadataMax = C.VAE_METADATA_MAX

// TrainSamplesMax is the largest k of SetTrainSamples.
const TrainSamplesMax = C.VAE_TRAIN_SAMPLES_MAX

// ELBO holds means per example, in nats: ELBO = Recon - KL.
type ELBO struct {
	ELBO  float64 // the evidence lower bound
	Recon float64 // E_q log p(x|z)
	KL    float64 // KL(q(z|x) || N(0, I))
}

// Model is a VAE: encoder, Gaussian head, decoder and likelihood, with its
// parameters, gradients and random generator.
type Model struct {
	p *C.vae_model
	// Fixed for the model's life; cached to size buffers and batches.
	dataSize, latent, numParams, condSize int64
	// The importance samples per example (SetTrainSamples), which size the
	// noise ElboGradNoise takes; 0 until set, meaning 1.
	trainSamples int64
}

// NewModel builds a model from copies of enc and dec (see vae_model_new in
// vae.h): a Gaussian head of latentDim is appended to the encoder, and the
// parameters are initialised from seed.
func NewModel(enc, dec *Graph, latentDim int64, lik Likelihood, seed uint64) (*Model, error) {
	var p *C.vae_model
	var eb errBuf
	st := C.vae_model_new(enc.handle(), dec.handle(), C.int64_t(latentDim), C.int32_t(lik),
		C.uint64_t(seed), &p, eb.ptr(), eb.size())
	runtime.KeepAlive(enc)
	runtime.KeepAlive(dec)
	if err := statusError("vae_model_new", int64(st), eb.String()); err != nil {
		return nil, err
	}
	return wrapModel(p), nil
}

func (g *Graph) handle() *C.vae_graph {
	if g == nil {
		return nil
	}
	return g.p
}

func wrapModel(p *C.vae_model) *Model {
	m := &Model{
		p:         p,
		dataSize:  int64(C.vae_model_data_size(p)),
		latent:    int64(C.vae_model_latent_dim(p)),
		numParams: int64(C.vae_model_num_params(p)),
		condSize:  int64(C.vae_model_condition_size(p)),
	}
	runtime.SetFinalizer(m, (*Model).Close)
	return m
}

// Close frees the model. Closing twice, or a nil Model, does nothing.
func (m *Model) Close() {
	if m == nil || m.p == nil {
		return
	}
	C.vae_model_free(m.p)
	m.p = nil
	runtime.SetFinalizer(m, nil)
}

// check turns the status of a C call on m into an error carrying the
// model's message. Being called after that call, it also keeps m (so its
// finalizer) away until the call is over.
func (m *Model) check(op string, st C.int32_t) error {
	defer runtime.KeepAlive(m)
	if st >= 0 {
		return nil
	}
	return &Error{Op: op, Status: Status(st), Msg: C.GoString(C.vae_model_last_error(m.p))}
}

// rows is the number of examples in the n floats of the slice called
// name, width floats each. The message is worded as in every binding.
func rows(op, name string, n int, width int64) (int64, error) {
	if width < 1 || int64(n)%width != 0 {
		return 0, &Error{Op: op, Status: ErrShape,
			Msg: fmt.Sprintf("%s: %d floats are not a whole number of examples of %d floats",
				name, n, width)}
	}
	return int64(n) / width, nil
}

// lengthError is a slice of the wrong length, worded as in every binding.
func lengthError(op, name string, n, want int64) error {
	return &Error{Op: op, Status: ErrShape,
		Msg: fmt.Sprintf("%s: %d floats, not the %d this call needs", name, n, want)}
}

// count is a number of rows the caller asked for as a buffer length: a
// negative one becomes an empty buffer, and the library reports the count.
func count(n, width int64) int {
	if n < 0 {
		return 0
	}
	return int(n * width)
}

// DataSize is the number of floats of one example.
func (m *Model) DataSize() int64 { return m.dataSize }

// LatentDim is the latent dimension.
func (m *Model) LatentDim() int64 { return m.latent }

// NumParams is the number of float parameters.
func (m *Model) NumParams() int64 { return m.numParams }

// DataShape is the shape of one example (the encoder input's shape).
func (m *Model) DataShape() ([]int64, error) {
	dims := make([]int64, 4)
	for {
		r := C.vae_model_data_shape(m.p, i64ptr(dims), C.int32_t(len(dims)))
		if err := m.check("vae_model_data_shape", r); err != nil {
			return nil, err
		}
		if int(r) <= len(dims) {
			return dims[:r], nil
		}
		dims = make([]int64, r)
	}
}

// SetSeed resets the model's random generator (z samples, word dropout).
func (m *Model) SetSeed(seed uint64) error {
	return m.check("vae_model_set_seed", C.vae_model_set_seed(m.p, C.uint64_t(seed)))
}

// SetBeta sets the weight of the KL term in the training objective.
func (m *Model) SetBeta(beta float64) error {
	return m.check("vae_model_set_beta", C.vae_model_set_beta(m.p, C.double(beta)))
}

// SetFreeBits sets the free bits per latent dimension (0 disables them).
func (m *Model) SetFreeBits(nats float64) error {
	return m.check("vae_model_set_free_bits", C.vae_model_set_free_bits(m.p, C.double(nats)))
}

// SetTrainSamples sets the importance samples per example of the objective
// of ElboGrad and TrainStep: 1 the ELBO, k > 1 the k-sample IWAE bound.
func (m *Model) SetTrainSamples(k int64) error {
	err := m.check("vae_model_set_train_samples", C.vae_model_set_train_samples(m.p, C.int64_t(k)))
	if err == nil {
		m.trainSamples = k
	}
	return err
}

// FreeBitsMode is what free bits compare with their floor.
type FreeBitsMode int32

// Free bits modes.
const (
	FreeBitsBatch   FreeBitsMode = C.VAE_FREE_BITS_BATCH   // each dimension's batch mean
	FreeBitsExample FreeBitsMode = C.VAE_FREE_BITS_EXAMPLE // each example's KL per dimension
)

// SetFreeBitsMode sets what free bits compare (not saved with the model).
func (m *Model) SetFreeBitsMode(mode FreeBitsMode) error {
	return m.check("vae_model_set_free_bits_mode",
		C.vae_model_set_free_bits_mode(m.p, C.int32_t(mode)))
}

// ResetDecoder initialises the decoder's parameters afresh from seed; the
// encoder and the Gaussian head keep theirs.
func (m *Model) ResetDecoder(seed uint64) error {
	return m.check("vae_model_reset_decoder", C.vae_model_reset_decoder(m.p, C.uint64_t(seed)))
}

// MutualInfo is I(x; z) in nats over the examples x (He et al. 2019),
// with samples draws per example.
func (m *Model) MutualInfo(x []float32, samples int64) (float64, error) {
	const op = "vae_model_mutual_info"
	n, err := rows(op, "x", len(x), m.dataSize)
	if err != nil {
		return 0, err
	}
	var mi C.double
	st := C.vae_model_mutual_info(m.p, f32ptr(x), C.int64_t(n), C.int64_t(samples), &mi)
	return float64(mi), m.check(op, st)
}

// ActiveUnits counts the latent dimensions whose posterior mean varies
// across x by more than threshold, and returns each one's variance.
func (m *Model) ActiveUnits(x []float32, threshold float64) (int64, []float64, error) {
	const op = "vae_model_active_units"
	n, err := rows(op, "x", len(x), m.dataSize)
	if err != nil {
		return 0, nil, err
	}
	var count C.int64_t
	v := make([]C.double, m.latent)
	st := C.vae_model_active_units(m.p, f32ptr(x), C.int64_t(n), C.double(threshold),
		&count, &v[0])
	if err := m.check(op, st); err != nil {
		return 0, nil, err
	}
	out := make([]float64, m.latent)
	for i := range v {
		out[i] = float64(v[i])
	}
	return int64(count), out, nil
}

// SetKLAnneal sets the KL annealing schedule of TrainStep over steps
// optimizer steps. It is not saved with the model.
func (m *Model) SetKLAnneal(kind Anneal, steps int64) error {
	return m.check("vae_model_set_kl_anneal",
		C.vae_model_set_kl_anneal(m.p, C.int32_t(kind), C.int64_t(steps)))
}

// SetObsLogvar sets the log-variance of the GaussianFixed likelihood.
func (m *Model) SetObsLogvar(logvar float64) error {
	return m.check("vae_model_set_obs_logvar", C.vae_model_set_obs_logvar(m.p, C.double(logvar)))
}

// SetMetadata stores a copy of data with the model (saved in its file);
// empty data clears it.
func (m *Model) SetMetadata(data []byte) error {
	return m.check("vae_model_set_metadata",
		C.vae_model_set_metadata(m.p, bytesptr(data), C.size_t(len(data))))
}

// SetCondition gives the condition of the next calls of a conditional
// model: whole rows of ConditionSize floats, one per example; every call on
// n examples then needs exactly n rows. An empty slice clears it.
func (m *Model) SetCondition(cond []float32) error {
	const op = "vae_model_set_condition"
	n := int64(len(cond))
	if m.condSize > 0 { // an unconditional model: the library says why
		var err error
		if n, err = rows(op, "cond", len(cond), m.condSize); err != nil {
			return err
		}
	}
	return m.check(op, C.vae_model_set_condition(m.p, f32ptr(cond), C.int64_t(n)))
}

// ConditionSize is the floats per example of the condition; 0 for an
// unconditional model.
func (m *Model) ConditionSize() int64 { return m.condSize }

// Metadata is a copy of the model's metadata, nil if it has none.
func (m *Model) Metadata() []byte {
	var n C.size_t
	p := C.vae_model_metadata(m.p, &n)
	defer runtime.KeepAlive(m)
	if p == nil {
		return nil
	}
	return C.GoBytes(p, C.int(n))
}

// floats views n floats of C memory owned by m; valid while m is open and
// only until the caller returns, so it never escapes this package.
func floats(p *C.float, n int64) []float32 {
	if p == nil {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(p)), n)
}

// Params is a copy of the parameter buffer (nil if m is closed).
func (m *Model) Params() []float32 {
	defer runtime.KeepAlive(m)
	return append([]float32(nil), floats(C.vae_model_params(m.p), m.numParams)...)
}

// Grads is a copy of the gradient buffer, same layout as Params.
func (m *Model) Grads() []float32 {
	defer runtime.KeepAlive(m)
	return append([]float32(nil), floats(C.vae_model_grads(m.p), m.numParams)...)
}

// SetParams overwrites the parameters with p (NumParams floats).
func (m *Model) SetParams(p []float32) error {
	defer runtime.KeepAlive(m)
	return m.copyIn("vae_model_params", "p", floats(C.vae_model_params(m.p), m.numParams), p)
}

// SetGrads overwrites the gradients with g (NumParams floats), e.g. after
// an all-reduce between data-parallel replicas.
func (m *Model) SetGrads(g []float32) error {
	defer runtime.KeepAlive(m)
	return m.copyIn("vae_model_grads", "g", floats(C.vae_model_grads(m.p), m.numParams), g)
}

func (m *Model) copyIn(op, name string, dst, src []float32) error {
	if dst == nil {
		return m.check(op, C.int32_t(ErrInvalidArg))
	}
	if len(src) != len(dst) {
		return lengthError(op, name, int64(len(src)), int64(len(dst)))
	}
	copy(dst, src)
	return nil
}

// ZeroGrad sets every gradient to 0.
func (m *Model) ZeroGrad() error {
	return m.check("vae_model_zero_grad", C.vae_model_zero_grad(m.p))
}

// ScaleGrad multiplies every gradient by s.
func (m *Model) ScaleGrad(s float64) error {
	return m.check("vae_model_scale_grad", C.vae_model_scale_grad(m.p, C.double(s)))
}

// Elbo is the ELBO of the batch x, one z sample per example.
func (m *Model) Elbo(x []float32) (ELBO, error) {
	return m.elbo("vae_model_elbo", x, func(b C.int64_t, e, r, k *C.double) C.int32_t {
		return C.vae_model_elbo(m.p, f32ptr(x), b, e, r, k)
	})
}

// ElboGrad is Elbo, and adds the gradient of the training loss to the
// gradient buffer.
func (m *Model) ElboGrad(x []float32) (ELBO, error) {
	return m.elbo("vae_model_elbo_grad", x, func(b C.int64_t, e, r, k *C.double) C.int32_t {
		return C.vae_model_elbo_grad(m.p, f32ptr(x), b, e, r, k)
	})
}

// ElboNoise is Elbo with z = mu + sigma * eps for the given eps (batch x
// LatentDim) instead of drawn noise.
func (m *Model) ElboNoise(x, eps []float32) (ELBO, error) {
	const op = "vae_model_elbo_noise"
	if err := m.checkNoise(op, x, eps, 1); err != nil {
		return ELBO{}, err
	}
	return m.elbo(op, x, func(b C.int64_t, e, r, k *C.double) C.int32_t {
		return C.vae_model_elbo_noise(m.p, f32ptr(x), b, f32ptr(eps), e, r, k)
	})
}

// ElboGradNoise is ElboGrad with the given eps (batch x k x LatentDim for
// k train samples, example after example).
func (m *Model) ElboGradNoise(x, eps []float32) (ELBO, error) {
	const op = "vae_model_elbo_grad_noise"
	k := m.trainSamples
	if k < 1 {
		k = 1
	}
	if err := m.checkNoise(op, x, eps, k); err != nil {
		return ELBO{}, err
	}
	return m.elbo(op, x, func(b C.int64_t, e, r, kl *C.double) C.int32_t {
		return C.vae_model_elbo_grad_noise(m.p, f32ptr(x), b, f32ptr(eps), e, r, kl)
	})
}

// checkNoise: eps must hold k draws of LatentDim per example of x.
func (m *Model) checkNoise(op string, x, eps []float32, k int64) error {
	batch, err := rows(op, "x", len(x), m.dataSize)
	if err != nil {
		return err
	}
	if want := batch * k * m.latent; int64(len(eps)) != want {
		return lengthError(op, "eps", int64(len(eps)), want)
	}
	return nil
}

// TrainStep is ZeroGrad, ElboGrad and an Adam step of opt in one call.
func (m *Model) TrainStep(opt *Adam, x []float32) (ELBO, error) {
	defer runtime.KeepAlive(opt)
	return m.elbo("vae_model_train_step", x, func(b C.int64_t, e, r, k *C.double) C.int32_t {
		return C.vae_model_train_step(m.p, opt.handle(), f32ptr(x), b, e, r, k)
	})
}

func (m *Model) elbo(op string, x []float32,
	call func(batch C.int64_t, elbo, recon, kl *C.double) C.int32_t) (ELBO, error) {
	batch, err := rows(op, "x", len(x), m.dataSize)
	if err != nil {
		return ELBO{}, err
	}
	var e, r, k C.double
	if err := m.check(op, call(C.int64_t(batch), &e, &r, &k)); err != nil {
		return ELBO{}, err
	}
	return ELBO{ELBO: float64(e), Recon: float64(r), KL: float64(k)}, nil
}

// Encode is the mean and log-variance of q(z|x), batch x LatentDim each.
func (m *Model) Encode(x []float32) (mu, logvar []float32, err error) {
	batch, err := rows("vae_model_encode", "x", len(x), m.dataSize)
	if err != nil {
		return nil, nil, err
	}
	mu = make([]float32, batch*m.latent)
	logvar = make([]float32, batch*m.latent)
	st := C.vae_model_encode(m.p, f32ptr(x), C.int64_t(batch), f32ptr(mu), f32ptr(logvar))
	if err := m.check("vae_model_encode", st); err != nil {
		return nil, nil, err
	}
	return mu, logvar, nil
}

// Decode is the mean of p(x|z) for latents z (batch x LatentDim).
func (m *Model) Decode(z []float32) ([]float32, error) {
	batch, err := rows("vae_model_decode", "z", len(z), m.latent)
	if err != nil {
		return nil, err
	}
	out := make([]float32, batch*m.dataSize)
	st := C.vae_model_decode(m.p, f32ptr(z), C.int64_t(batch), f32ptr(out))
	if err := m.check("vae_model_decode", st); err != nil {
		return nil, err
	}
	return out, nil
}

// OutputSize is the number of elements per example of the decoder's raw
// output.
func (m *Model) OutputSize() int64 { return int64(C.vae_model_output_size(m.p)) }

// DecoderOutput is the decoder's raw output (logits, or the Gaussian's
// parameters) at z, batch x OutputSize; x (batch x DataSize) is read only by
// a teacher-forced decoder and may be nil otherwise.
func (m *Model) DecoderOutput(z, x []float32) ([]float32, error) {
	const op = "vae_model_decoder_output"
	batch, err := rows(op, "z", len(z), m.latent)
	if err != nil {
		return nil, err
	}
	out := make([]float32, batch*m.OutputSize())
	var xp *C.float
	if x != nil {
		if want := batch * m.dataSize; int64(len(x)) != want {
			return nil, lengthError(op, "x", int64(len(x)), want)
		}
		xp = f32ptr(x)
	}
	st := C.vae_model_decoder_output(m.p, f32ptr(z), xp, C.int64_t(batch), f32ptr(out))
	if err := m.check(op, st); err != nil {
		return nil, err
	}
	return out, nil
}

// Sample draws n latents from the prior and decodes them: z is n x
// LatentDim, x is n x DataSize.
func (m *Model) Sample(n int64) (z, x []float32, err error) {
	z = make([]float32, count(n, m.latent))
	x = make([]float32, count(n, m.dataSize))
	st := C.vae_model_sample(m.p, C.int64_t(n), f32ptr(z), f32ptr(x))
	if err := m.check("vae_model_sample", st); err != nil {
		return nil, nil, err
	}
	return z, x, nil
}

// Reconstruct decodes the posterior mean of each example of x.
func (m *Model) Reconstruct(x []float32) ([]float32, error) {
	batch, err := rows("vae_model_reconstruct", "x", len(x), m.dataSize)
	if err != nil {
		return nil, err
	}
	out := make([]float32, batch*m.dataSize)
	st := C.vae_model_reconstruct(m.p, f32ptr(x), C.int64_t(batch), f32ptr(out))
	if err := m.check("vae_model_reconstruct", st); err != nil {
		return nil, err
	}
	return out, nil
}

// LogLikelihood is log p(x_b | z_b) in nats for each example b.
func (m *Model) LogLikelihood(z, x []float32) ([]float64, error) {
	const op = "vae_model_log_likelihood"
	batch, err := rows(op, "x", len(x), m.dataSize)
	if err != nil {
		return nil, err
	}
	if int64(len(z)) != batch*m.latent {
		return nil, lengthError(op, "z", int64(len(z)), batch*m.latent)
	}
	logp := make([]float64, batch)
	st := C.vae_model_log_likelihood(m.p, f32ptr(z), f32ptr(x), C.int64_t(batch), f64ptr(logp))
	if err := m.check(op, st); err != nil {
		return nil, err
	}
	return logp, nil
}

// IWAE is the importance-weighted estimate of log p(x) with k samples, per
// example; -IWAE is the NLL in nats.
func (m *Model) IWAE(x []float32, k int64) ([]float64, error) {
	batch, err := rows("vae_model_iwae", "x", len(x), m.dataSize)
	if err != nil {
		return nil, err
	}
	logpx := make([]float64, batch)
	st := C.vae_model_iwae(m.p, f32ptr(x), C.int64_t(batch), C.int64_t(k), f64ptr(logpx))
	if err := m.check("vae_model_iwae", st); err != nil {
		return nil, err
	}
	return logpx, nil
}

// RandomUniform draws n numbers in [0, 1) from the model's generator.
func (m *Model) RandomUniform(n int64) ([]float32, error) {
	out := make([]float32, count(n, 1))
	st := C.vae_model_random_uniform(m.p, C.int64_t(n), f32ptr(out))
	if err := m.check("vae_model_random_uniform", st); err != nil {
		return nil, err
	}
	return out, nil
}

// DecodeMode is how Generate picks each token.
type DecodeMode int32

// Decoding modes.
const (
	DecodeGreedy DecodeMode = C.VAE_DECODE_GREEDY // the most probable id
	DecodeSample DecodeMode = C.VAE_DECODE_SAMPLE // a draw from softmax(logits / Temperature)
	DecodeTopK   DecodeMode = C.VAE_DECODE_TOP_K  // a draw among the TopK most probable ids
	DecodeBeam   DecodeMode = C.VAE_DECODE_BEAM   // beam search of width Beam
	// DecodeTopP is nucleus sampling; only through SetGeneration.
	DecodeTopP DecodeMode = C.VAE_DECODE_TOP_P
)

// GenerateOptions are the settings of Generate; those a mode does not use
// are ignored.
type GenerateOptions struct {
	Mode        DecodeMode
	Temperature float64 // DecodeSample, DecodeTopK: in (0, 1000]
	TopK        int64   // DecodeTopK: >= 1
	Beam        int64   // DecodeBeam: 1..1024
	EOS         int64   // end-of-sequence id, included in the output; < 0: never
	MaxLen      int64   // tokens per sequence
}

// Generate decodes token sequences from latents z (n x LatentDim) of a
// categorical model, incrementally. ids holds n x MaxLen token ids, each
// sequence padded with 0 after its EOS; steps is the number of decoder
// steps run.
func (m *Model) Generate(z []float32, o GenerateOptions) (ids []float32, steps int64, err error) {
	const op = "vae_model_generate"
	n, err := rows(op, "z", len(z), m.latent)
	if err != nil {
		return nil, 0, err
	}
	ids = make([]float32, count(n, o.MaxLen))
	var s C.int64_t
	st := C.vae_model_generate(m.p, f32ptr(z), C.int64_t(n), C.int32_t(o.Mode),
		C.double(o.Temperature), C.int64_t(o.TopK), C.int64_t(o.Beam), C.int64_t(o.EOS),
		C.int64_t(o.MaxLen), f32ptr(ids), &s)
	if err := m.check(op, st); err != nil {
		return nil, 0, err
	}
	return ids, int64(s), nil
}

// GenSetting names a generation setting kept on the model.
type GenSetting int32

// Generation settings (vae.h, VAE_GEN_*).
const (
	GenMode        GenSetting = C.VAE_GEN_MODE        // a DecodeMode
	GenTemperature GenSetting = C.VAE_GEN_TEMPERATURE // (0, 1000]
	GenTopK        GenSetting = C.VAE_GEN_TOP_K       // 1..2^24
	GenBeam        GenSetting = C.VAE_GEN_BEAM        // 1..1024
	GenEOS         GenSetting = C.VAE_GEN_EOS         // an id, or -1 for none
	GenTopP        GenSetting = C.VAE_GEN_TOP_P       // (0, 1] for DecodeTopP
	// GenNoRepeatNgram n > 0: no sequence repeats an n-gram of its own.
	GenNoRepeatNgram GenSetting = C.VAE_GEN_NO_REPEAT_NGRAM
	// GenLengthPenalty a: beam search ranks by log p / length^a.
	GenLengthPenalty GenSetting = C.VAE_GEN_LENGTH_PENALTY
)

// SetGeneration sets one generation setting that GenerateTokens uses.
func (m *Model) SetGeneration(key GenSetting, value float64) error {
	return m.check("vae_model_set_generation",
		C.vae_model_set_generation(m.p, C.int32_t(key), C.double(value)))
}

// Generation reads one generation setting.
func (m *Model) Generation(key GenSetting) (float64, error) {
	var v C.double
	st := C.vae_model_get_generation(m.p, C.int32_t(key), &v)
	return float64(v), m.check("vae_model_get_generation", st)
}

// GenerateTokens is Generate with the model's generation settings and
// maxLen tokens per sequence.
func (m *Model) GenerateTokens(z []float32, maxLen int64) (ids []float32, steps int64, err error) {
	const op = "vae_model_generate_tokens"
	n, err := rows(op, "z", len(z), m.latent)
	if err != nil {
		return nil, 0, err
	}
	ids = make([]float32, count(n, maxLen))
	var s C.int64_t
	st := C.vae_model_generate_tokens(m.p, f32ptr(z), C.int64_t(n), C.int64_t(maxLen),
		f32ptr(ids), &s)
	if err := m.check(op, st); err != nil {
		return nil, 0, err
	}
	return ids, int64(s), nil
}
