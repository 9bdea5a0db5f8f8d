package vae_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"libvae.example/vae"
)

const (
	dataDim = 8
	hidden  = 16
	latent  = 2
)

// mlp is input(in) -> dense(hidden) relu -> dense(out).
func mlp(t *testing.T, in, out int64) *vae.Graph {
	t.Helper()
	g, err := vae.NewGraph()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	if err := g.SetOutput(g.Dense(g.Relu(g.Dense(g.Input(in), hidden)), out)); err != nil {
		t.Fatal(err)
	}
	return g
}

func newMLPModel(t *testing.T, seed uint64) *vae.Model {
	t.Helper()
	m, err := vae.NewModel(mlp(t, dataDim, hidden), mlp(t, latent, dataDim), latent,
		vae.Bernoulli, seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// toyData is n binary vectors, each one of two complementary patterns with
// a tenth of its bits flipped: structure a 2-d latent can capture.
func toyData(n int, seed int64) []float32 {
	r := rand.New(rand.NewSource(seed))
	x := make([]float32, n*dataDim)
	for i := 0; i < n; i++ {
		c := r.Intn(2)
		for j := 0; j < dataDim; j++ {
			bit := (j + c) % 2
			if r.Float64() < 0.1 {
				bit = 1 - bit
			}
			x[i*dataDim+j] = float32(bit)
		}
	}
	return x
}

// meanElbo is the ELBO of x with the model's generator reset to seed, so
// two evaluations differ only through the parameters.
func meanElbo(t *testing.T, m *vae.Model, x []float32, seed uint64) float64 {
	t.Helper()
	if err := m.SetSeed(seed); err != nil {
		t.Fatal(err)
	}
	r, err := m.Elbo(x)
	if err != nil {
		t.Fatal(err)
	}
	if d := r.Recon - r.KL - r.ELBO; math.Abs(d) > 1e-9*math.Max(1, math.Abs(r.ELBO)) {
		t.Errorf("elbo %v is not recon - kl (off by %g)", r, d)
	}
	return r.ELBO
}

func train(t *testing.T, m *vae.Model, opt *vae.Adam, x []float32, steps, batch int) {
	t.Helper()
	n := len(x) / dataDim
	for s := 0; s < steps; s++ {
		lo := (s * batch) % n
		if _, err := m.TrainStep(opt, x[lo*dataDim:(lo+batch)*dataDim]); err != nil {
			t.Fatalf("step %d: %v", s, err)
		}
	}
}

func sameFloats(t *testing.T, what string, a, b []float32) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d and %d values", what, len(a), len(b))
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("%s: index %d differs: %v and %v", what, i, a[i], b[i])
		}
	}
}

func TestVersion(t *testing.T) {
	n := vae.VersionNumber()
	if n != vae.HeaderVersionNumber {
		t.Errorf("library %d, header %d", n, vae.HeaderVersionNumber)
	}
	if want := fmt.Sprintf("%d.%d.%d", n/10000, n/100%100, n%100); vae.Version() != want {
		t.Errorf("version string %q, number %d", vae.Version(), n)
	}
}

func TestStatusStrings(t *testing.T) {
	all := []vae.Status{vae.OK, vae.ErrInvalidArg, vae.ErrShape, vae.ErrNoMem, vae.ErrIO,
		vae.ErrFormat, vae.ErrNonFinite, vae.ErrGraph, vae.ErrVersion, vae.ErrRange,
		vae.ErrUnsupported, vae.ErrBusy}
	seen := map[string]vae.Status{}
	names := map[string]vae.Status{}
	for _, s := range all {
		str := s.String()
		// ErrBusy is named before the library that returns it.
		if (str == "" || str == "unknown status") && s != vae.ErrBusy {
			t.Errorf("status %d has no description", int32(s))
		}
		if prev, dup := seen[str]; dup && s != vae.ErrBusy {
			t.Errorf("statuses %d and %d share %q", int32(prev), int32(s), str)
		}
		seen[str] = s
		name := s.Name()
		if !strings.HasPrefix(name, "VAE_") {
			t.Errorf("status %d is named %q", int32(s), name)
		}
		if prev, dup := names[name]; dup {
			t.Errorf("statuses %d and %d share the name %q", int32(prev), int32(s), name)
		}
		names[name] = s
	}
	if s := vae.Status(-1000).String(); s != "unknown status" {
		t.Errorf("status -1000 is %q", s)
	}
	err := &vae.Error{Op: "vae_model_elbo", Status: -42, Msg: "something new"}
	if got, want := err.Error(), "vae_model_elbo: something new [status -42]"; got != want {
		t.Errorf("unknown status prints %q, want %q", got, want)
	}
}

func TestTrainSaveLoad(t *testing.T) {
	m := newMLPModel(t, 1)
	opt, err := vae.NewAdam(m, 1e-2)
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	x := toyData(256, 2)

	before := meanElbo(t, m, x, 7)
	train(t, m, opt, x, 300, 32)
	after := meanElbo(t, m, x, 7)
	t.Logf("ELBO %.3f -> %.3f nats after %d steps", before, after, opt.Steps())
	if opt.Steps() != 300 {
		t.Errorf("optimizer took %d steps, want 300", opt.Steps())
	}
	// Eight fair coins cost 8 log 2 = 5.5 nats; the two patterns with 10%
	// noise need about 8 H(0.1) = 2.6 plus under a nat to name the pattern.
	if after < before+1 {
		t.Fatalf("training did not improve the ELBO: %.3f -> %.3f", before, after)
	}

	if err := m.SetMetadata([]byte("toy\x00data")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "toy.vae")
	if err := m.Save(path, opt); err != nil {
		t.Fatal(err)
	}
	loaded, lopt, err := vae.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	if lopt == nil {
		t.Fatal("saved optimizer state did not come back")
	}
	defer lopt.Close()

	sameFloats(t, "loaded parameters", m.Params(), loaded.Params())
	if loaded.NumParams() != m.NumParams() || loaded.LatentDim() != latent ||
		loaded.DataSize() != dataDim {
		t.Errorf("loaded sizes %d/%d/%d", loaded.NumParams(), loaded.LatentDim(), loaded.DataSize())
	}
	if shape, err := loaded.DataShape(); err != nil || len(shape) != 1 || shape[0] != dataDim {
		t.Errorf("loaded data shape %v, %v", shape, err)
	}
	if got := loaded.Metadata(); !bytes.Equal(got, []byte("toy\x00data")) {
		t.Errorf("loaded metadata %q", got)
	}
	if lopt.Steps() != opt.Steps() {
		t.Errorf("loaded optimizer at step %d, saved at %d", lopt.Steps(), opt.Steps())
	}
	// The generator state is saved too: both draw the same z from here on.
	// The saved Adam moments must then give the same next update.
	batch := x[:32*dataDim]
	r1, err1 := m.TrainStep(opt, batch)
	r2, err2 := loaded.TrainStep(lopt, batch)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if r1 != r2 {
		t.Errorf("resumed step: %+v, original %+v", r2, r1)
	}
	sameFloats(t, "parameters after a resumed step", m.Params(), loaded.Params())

	// Without an optimizer the file has no optimizer state.
	if err := m.Save(path, nil); err != nil {
		t.Fatal(err)
	}
	plain, popt, err := vae.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if popt != nil {
		t.Error("a file saved without optimizer loaded one")
	}
	sameFloats(t, "parameters saved without optimizer", m.Params(), plain.Params())
}

func TestSaveBytes(t *testing.T) {
	m := newMLPModel(t, 3)
	opt, err := vae.NewAdam(m, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	train(t, m, opt, toyData(64, 4), 5, 16)
	data, err := m.SaveBytes(opt)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.vae")
	if err := m.Save(path, opt); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, file) {
		t.Fatalf("SaveBytes gave %d bytes, Save wrote %d different ones", len(data), len(file))
	}
	loaded, lopt, err := vae.LoadBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	defer lopt.Close()
	sameFloats(t, "parameters from bytes", m.Params(), loaded.Params())
	if lopt == nil || lopt.Steps() != 5 {
		t.Errorf("optimizer from bytes: %v", lopt)
	}
}

// wantError checks that err is a *vae.Error with the given status and a
// message from the library that contains each of the given fragments.
func wantError(t *testing.T, err error, status vae.Status, fragments ...string) {
	t.Helper()
	var e *vae.Error
	if !errors.As(err, &e) {
		t.Fatalf("want a *vae.Error with %v, got %v", status, err)
	}
	if !errors.Is(err, status) || e.Status != status {
		t.Errorf("want %v (%d), got %v (%d): %v", status, int32(status), e.Status,
			int32(e.Status), err)
	}
	if e.Msg == "" {
		t.Errorf("%v: no message", err)
	}
	for _, f := range fragments {
		if !strings.Contains(e.Msg, f) {
			t.Errorf("message %q does not mention %q", e.Msg, f)
		}
	}
	if !strings.HasPrefix(err.Error(), e.Op+": ") ||
		!strings.HasSuffix(err.Error(), " ["+status.Name()+"]") {
		t.Errorf("Error() %q is not %q: message [%s]", err.Error(), e.Op, status.Name())
	}
}

func TestErrors(t *testing.T) {
	t.Run("sticky graph error", func(t *testing.T) {
		g, err := vae.NewGraph()
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		bad := g.Dense(g.Input(dataDim), 0)
		if bad >= 0 {
			t.Fatalf("dense with 0 units gave node %d", bad)
		}
		first := g.Err()
		var e *vae.Error
		if !errors.As(first, &e) || (e.Status != vae.ErrRange && e.Status != vae.ErrShape) {
			t.Fatalf("dense with 0 units: %v", first)
		}
		wantError(t, first, e.Status)
		// Later calls return the first error and do nothing.
		if n := g.Relu(0); vae.Status(n) != e.Status {
			t.Errorf("builder call after the error returned %d", n)
		}
		var later *vae.Error
		if err := g.SetOutput(0); !errors.As(err, &later) || later.Status != e.Status ||
			later.Msg != e.Msg {
			t.Errorf("SetOutput after the error: %v, want %v", err, first)
		}
	})
	t.Run("function named once", func(t *testing.T) {
		// The library starts this message with "reconstruct: ", the
		// function's own name: Error() names it once.
		_, err := newMLPModel(t, 1).Reconstruct(nil)
		var e *vae.Error
		if !errors.As(err, &e) {
			t.Fatal(err)
		}
		msg := strings.TrimPrefix(e.Msg, "reconstruct: ")
		if got, want := err.Error(), "vae_model_reconstruct: "+msg+" [VAE_ERR_RANGE]"; got != want {
			t.Errorf("Error() %q, want %q", got, want)
		}
		// Another function's name in the message stays.
		g, err := vae.NewGraph()
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		g.Dense(g.Input(dataDim), 0)
		err = g.Err()
		if !errors.As(err, &e) {
			t.Fatal(err)
		}
		if got, want := err.Error(), "vae_graph_status: "+e.Msg+" [VAE_ERR_RANGE]"; got != want {
			t.Errorf("Error() %q, want %q", got, want)
		}
	})
	t.Run("model from mismatched graphs", func(t *testing.T) {
		_, err := vae.NewModel(mlp(t, dataDim, hidden), mlp(t, latent+1, dataDim), latent,
			vae.Bernoulli, 1)
		wantError(t, err, vae.ErrShape)
	})
	t.Run("unknown likelihood", func(t *testing.T) {
		_, err := vae.NewModel(mlp(t, dataDim, hidden), mlp(t, latent, dataDim), latent,
			vae.Likelihood(99), 1)
		wantError(t, err, vae.ErrInvalidArg)
	})
	t.Run("zero learning rate", func(t *testing.T) {
		_, err := vae.NewAdam(newMLPModel(t, 1), 0)
		wantError(t, err, vae.ErrRange)
	})
	t.Run("garbage file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "garbage.vae")
		junk := bytes.Repeat([]byte("not a model "), 100)
		if err := os.WriteFile(path, junk, 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := vae.Load(path)
		wantError(t, err, vae.ErrFormat, path)
		_, _, err = vae.LoadBytes(junk)
		wantError(t, err, vae.ErrFormat)
		_, _, err = vae.LoadBytes(nil)
		wantError(t, err, vae.ErrFormat)
	})
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing.vae")
		_, _, err := vae.Load(path)
		wantError(t, err, vae.ErrIO, path)
		_, _, err = vae.Load(path + "\x00.vae")
		wantError(t, err, vae.ErrInvalidArg, "NUL")
	})
	t.Run("truncated file", func(t *testing.T) {
		data, err := newMLPModel(t, 1).SaveBytes(nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = vae.LoadBytes(data[:len(data)-1])
		var e *vae.Error
		if !errors.As(err, &e) || e.Msg == "" {
			t.Fatalf("truncated model loaded: %v", err)
		}
	})
	t.Run("bad data", func(t *testing.T) {
		m := newMLPModel(t, 1)
		x := toyData(4, 1)
		x[5] = float32(math.NaN())
		_, err := m.Elbo(x)
		wantError(t, err, vae.ErrNonFinite)
		x[5] = 2
		_, err = m.ElboGrad(x)
		wantError(t, err, vae.ErrRange)
		_, err = m.Elbo(x[:dataDim+1])
		wantError(t, err, vae.ErrShape)
		_, err = m.Elbo(nil)
		wantError(t, err, vae.ErrRange)
		_, err = m.IWAE(toyData(2, 1), 0)
		wantError(t, err, vae.ErrRange)
		wantError(t, m.SetBeta(-1), vae.ErrRange)
		wantError(t, m.SetParams(make([]float32, 3)), vae.ErrShape)
	})
	t.Run("use after close", func(t *testing.T) {
		m := newMLPModel(t, 1)
		opt, err := vae.NewAdam(m, 1e-3)
		if err != nil {
			t.Fatal(err)
		}
		opt.Close()
		wantError(t, m.Save(filepath.Join(t.TempDir(), "m.vae"), opt), vae.ErrInvalidArg)
		_, err = m.TrainStep(opt, toyData(2, 1))
		wantError(t, err, vae.ErrInvalidArg)
		wantError(t, opt.SetLR(1), vae.ErrInvalidArg)
		m.Close()
		m.Close()
		_, err = m.Elbo(toyData(2, 1))
		wantError(t, err, vae.ErrInvalidArg)
		if m.Params() != nil {
			t.Error("a closed model has parameters")
		}
		wantError(t, m.SetParams(nil), vae.ErrInvalidArg)
		var nilModel *vae.Model
		nilModel.Close()
	})
	t.Run("unknown node", func(t *testing.T) {
		g, err := vae.NewGraph()
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		_, err = g.NodeSize(3)
		wantError(t, err, vae.ErrGraph)
	})
	t.Run("thread count", func(t *testing.T) {
		var e *vae.Error
		if err := vae.SetNumThreads(0); !errors.As(err, &e) || e.Status != vae.ErrRange {
			t.Errorf("0 threads: %v", err)
		}
	})
}

func TestModelCalls(t *testing.T) {
	m := newMLPModel(t, 5)
	x := toyData(6, 6)
	batch := int64(6)

	mu, logvar, err := m.Encode(x)
	if err != nil || int64(len(mu)) != batch*latent || len(logvar) != len(mu) {
		t.Fatalf("encode: %d, %d, %v", len(mu), len(logvar), err)
	}
	out, err := m.Decode(mu)
	if err != nil || int64(len(out)) != batch*dataDim {
		t.Fatalf("decode: %d, %v", len(out), err)
	}
	for _, p := range out {
		if !(p > 0 && p < 1) {
			t.Fatalf("a Bernoulli mean %v is not a probability", p)
		}
	}
	rec, err := m.Reconstruct(x)
	if err != nil {
		t.Fatal(err)
	}
	sameFloats(t, "reconstruct = decode(encode mu)", out, rec)

	// After SetSeed(s), Sample's z are the eps the ELBO draws.
	if err := m.SetSeed(8); err != nil {
		t.Fatal(err)
	}
	eps, _, err := m.Sample(batch)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetSeed(8); err != nil {
		t.Fatal(err)
	}
	drawn, err := m.Elbo(x)
	if err != nil {
		t.Fatal(err)
	}
	given, err := m.ElboNoise(x, eps)
	if err != nil || given != drawn {
		t.Fatalf("elbo with the drawn noise: %v vs %v (%v)", given, drawn, err)
	}
	count, v, err := m.ActiveUnits(x, 0)
	if err != nil || int64(len(v)) != latent || count < 0 || count > latent {
		t.Fatalf("active units: %d %v %v", count, v, err)
	}
	if mi, err := m.MutualInfo(x, 2); err != nil || mi > math.Log(float64(batch))+0.1 {
		t.Fatalf("mutual information %v, %v", mi, err)
	}
	if err := m.SetFreeBitsMode(vae.FreeBitsExample); err != nil {
		t.Fatal(err)
	}
	raw, err := m.DecoderOutput(mu, nil)
	if err != nil || len(raw) != len(out) {
		t.Fatalf("decoder output: %d, %v", len(raw), err)
	}

	// log p(x|z) of a Bernoulli is sum x log p + (1 - x) log(1 - p).
	logp, err := m.LogLikelihood(mu, x)
	if err != nil {
		t.Fatal(err)
	}
	for b := 0; b < int(batch); b++ {
		want := 0.0
		for j := 0; j < dataDim; j++ {
			p, v := float64(out[b*dataDim+j]), float64(x[b*dataDim+j])
			want += v*math.Log(p) + (1-v)*math.Log(1-p)
		}
		if math.Abs(logp[b]-want) > 1e-4*math.Abs(want) {
			t.Errorf("log p(x_%d|z) = %v, from the decoded means %v", b, logp[b], want)
		}
	}

	// A single importance sample is an ELBO estimate; it cannot exceed 0
	// for binary data, and more samples cannot make the bound worse on
	// average.
	iw1, err := m.IWAE(x, 1)
	if err != nil {
		t.Fatal(err)
	}
	iw64, err := m.IWAE(x, 64)
	if err != nil {
		t.Fatal(err)
	}
	sum1, sum64 := 0.0, 0.0
	for b := range iw1 {
		if iw1[b] > 0 || iw64[b] > 0 {
			t.Errorf("log p(x) estimate above 0: %v %v", iw1[b], iw64[b])
		}
		sum1 += iw1[b]
		sum64 += iw64[b]
	}
	if sum64 < sum1-0.5 {
		t.Errorf("IWAE-64 %.3f below IWAE-1 %.3f", sum64, sum1)
	}

	z, xs, err := m.Sample(3)
	if err != nil || len(z) != 3*latent || len(xs) != 3*dataDim {
		t.Fatalf("sample: %d %d %v", len(z), len(xs), err)
	}
	dz, err := m.Decode(z)
	if err != nil {
		t.Fatal(err)
	}
	sameFloats(t, "samples = decode(z)", xs, dz)

	u, err := m.RandomUniform(1000)
	if err != nil {
		t.Fatal(err)
	}
	mean := 0.0
	for _, v := range u {
		if v < 0 || v >= 1 {
			t.Fatalf("uniform draw %v", v)
		}
		mean += float64(v) / 1000
	}
	if math.Abs(mean-0.5) > 0.05 {
		t.Errorf("mean of 1000 uniform draws %v", mean)
	}

	// Gradients: accumulate, scale, zero, overwrite.
	if err := m.ZeroGrad(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ElboGrad(x); err != nil {
		t.Fatal(err)
	}
	g1 := m.Grads()
	if len(g1) != int(m.NumParams()) {
		t.Fatalf("%d gradients for %d parameters", len(g1), m.NumParams())
	}
	if err := m.ScaleGrad(2); err != nil {
		t.Fatal(err)
	}
	nonzero := false
	for i, g := range m.Grads() {
		if g != 2*g1[i] {
			t.Fatalf("gradient %d: %v after scaling %v by 2", i, g, g1[i])
		}
		nonzero = nonzero || g != 0
	}
	if !nonzero {
		t.Fatal("all gradients are 0")
	}
	if err := m.SetGrads(g1); err != nil {
		t.Fatal(err)
	}
	sameFloats(t, "gradients set", g1, m.Grads())

	opt, err := vae.NewAdam(m, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	for _, err := range []error{opt.SetLR(1e-2), opt.SetBetas(0.8, 0.99, 1e-7),
		opt.SetWeightDecay(1e-4, true), opt.SetClipNorm(1)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	wantError(t, opt.SetBetas(1, 0.9, 1e-8), vae.ErrRange)
	p0 := m.Params()
	if err := opt.Step(m); err != nil {
		t.Fatal(err)
	}
	p1 := m.Params()
	changed := 0
	for i := range p0 {
		if p0[i] != p1[i] {
			changed++
		}
	}
	if changed == 0 || opt.Steps() != 1 {
		t.Fatalf("an Adam step changed %d parameters, steps %d", changed, opt.Steps())
	}
	if err := m.SetParams(p0); err != nil {
		t.Fatal(err)
	}
	sameFloats(t, "parameters set", p0, m.Params())

	// An optimizer for another model has another parameter count.
	small, err := vae.NewModel(mlp(t, 4, hidden), mlp(t, latent, 4), latent, vae.Bernoulli, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	wantError(t, opt.Step(small), vae.ErrShape)

	for _, err := range []error{m.SetBeta(0.5), m.SetFreeBits(0.1),
		m.SetKLAnneal(vae.AnnealSigmoid, 100), m.SetKLAnneal(vae.AnnealLinear, 10),
		m.SetKLAnneal(vae.AnnealNone, 1), m.SetMetadata(nil)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if m.Metadata() != nil {
		t.Error("cleared metadata is still there")
	}
	wantError(t, m.SetKLAnneal(vae.AnnealLinear, 0), vae.ErrRange)
	// The Bernoulli model has no observation variance to set, but the
	// setter only validates the value.
	wantError(t, m.SetObsLogvar(math.Inf(1)), vae.ErrRange)
}

// Every layer through the binding, with sizes from the formulas in vae.h.
func TestLayers(t *testing.T) {
	g, err := vae.NewGraph()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	in := g.Input(1, 6, 6)
	conv := g.Conv2D(in, 4, 3, 1, 0)                                     // [4, 4, 4]
	up := g.Conv2DTranspose(g.Tanh(conv), 2, 3, 2, 1)                    // (4-1)2 - 2 + 3 = 7: [2, 7, 7]
	rows := g.Reshape(g.Transpose(g.LeakyRelu(up, 0.1), 1, 2, 0), 7, 14) // [7, 14]
	seq := g.LSTM(rows, 5, vae.NoNode, vae.NoNode, false)                // [5]
	flat := g.Flatten(g.Softplus(g.Sigmoid(g.Identity(seq))))
	if err := g.SetOutput(flat); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		node vae.Node
		size int64
	}{{in, 36}, {conv, 64}, {up, 98}, {rows, 98}, {seq, 5}, {flat, 5}} {
		if n, err := g.NodeSize(c.node); err != nil || n != c.size {
			t.Errorf("node %d: size %d (%v), want %d", c.node, n, err, c.size)
		}
	}

	// Gaussian likelihoods: fixed variance (D means), learned (2D outputs).
	for _, c := range []struct {
		lik vae.Likelihood
		out int64
	}{{vae.GaussianFixed, 36}, {vae.GaussianLearned, 72}} {
		dec := mlp(t, latent, c.out)
		m, err := vae.NewModel(g, dec, latent, c.lik, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if err := m.SetObsLogvar(-1); err != nil {
			t.Fatal(err)
		}
		shape, err := m.DataShape()
		if err != nil || fmt.Sprint(shape) != "[1 6 6]" {
			t.Errorf("data shape %v, %v", shape, err)
		}
		x := make([]float32, 2*36)
		for i := range x {
			x[i] = float32(i%7) / 7
		}
		if _, err := m.Elbo(x); err != nil {
			t.Errorf("likelihood %d: %v", c.lik, err)
		}
	}
}

const (
	seqLen = 6
	vocab  = 7
	eos    = 3
)

// A sentence VAE in miniature (Bowman et al. 2016): a shared embedding,
// LSTM encoder, decoder started from z, reading the previous tokens with
// word dropout and z at every step.
func sentenceModel(t *testing.T) *vae.Model {
	t.Helper()
	enc, err := vae.NewGraph()
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	ids := enc.Input(seqLen)
	if err := enc.SetOutput(enc.LSTM(enc.Embedding(ids, vocab, 4), 8, vae.NoNode, ids, false)); err != nil {
		t.Fatal(err)
	}
	dec, err := vae.NewGraph()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	z := dec.Input(latent)
	x := dec.Data(seqLen)
	prev := dec.TokenDropout(dec.ShiftRight(x, 2), 0.2, 1)
	steps := dec.Concat(dec.EmbeddingShared(prev, vocab, 4), dec.Repeat(z, seqLen))
	h := dec.LSTM(steps, 8, dec.Dense(z, 16), vae.NoNode, true)
	if err := dec.SetOutput(dec.Dense(h, vocab)); err != nil {
		t.Fatal(err)
	}
	m, err := vae.NewModel(enc, dec, latent, vae.Categorical, 11)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func TestGenerate(t *testing.T) {
	m := sentenceModel(t)
	opt, err := vae.NewAdam(m, 1e-2)
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	// Sentences "4 5 6 3" and "5 4 3", padded with 0.
	x := []float32{4, 5, 6, 3, 0, 0, 5, 4, 3, 0, 0, 0}
	before := meanElbo(t, m, x, 3)
	for i := 0; i < 60; i++ {
		if _, err := m.TrainStep(opt, x); err != nil {
			t.Fatal(err)
		}
	}
	if after := meanElbo(t, m, x, 3); after < before+1 {
		t.Errorf("sentence ELBO %.3f -> %.3f", before, after)
	}
	z := make([]float32, 3*latent)
	for _, o := range []vae.GenerateOptions{
		{Mode: vae.DecodeGreedy},
		{Mode: vae.DecodeSample, Temperature: 1},
		{Mode: vae.DecodeTopK, Temperature: 0.5, TopK: 2},
		{Mode: vae.DecodeBeam, Beam: 3},
	} {
		o.EOS, o.MaxLen = eos, 5
		ids, steps, err := m.Generate(z, o)
		if err != nil {
			t.Fatalf("mode %d: %v", o.Mode, err)
		}
		if len(ids) != 3*5 || steps < 1 || (o.Mode != vae.DecodeBeam && steps > 5) {
			t.Fatalf("mode %d: %d ids in %d steps", o.Mode, len(ids), steps)
		}
		for s := 0; s < 3; s++ {
			ended := false
			for _, id := range ids[s*5 : (s+1)*5] {
				switch {
				case ended && id != 0:
					t.Errorf("mode %d: id %v after EOS in %v", o.Mode, id, ids)
				case !ended && (id < 1 || id >= vocab || id != float32(int(id))):
					t.Errorf("mode %d: bad id %v in %v", o.Mode, id, ids)
				}
				ended = ended || id == eos
			}
		}
	}
	_, _, err = m.Generate(z, vae.GenerateOptions{Mode: vae.DecodeMode(42), MaxLen: 5})
	var e *vae.Error
	if !errors.As(err, &e) || e.Msg == "" {
		t.Errorf("unknown decode mode: %v", err)
	}

	// The model's settings give what Generate gives with the same ones.
	for key, v := range map[vae.GenSetting]float64{vae.GenMode: float64(vae.DecodeTopK),
		vae.GenTemperature: 0.5, vae.GenTopK: 2, vae.GenEOS: eos} {
		if err := m.SetGeneration(key, v); err != nil {
			t.Fatal(err)
		}
		if got, err := m.Generation(key); err != nil || got != v {
			t.Fatalf("setting %d: %v, %v", key, got, err)
		}
	}
	if err := m.SetSeed(3); err != nil {
		t.Fatal(err)
	}
	a, sa, err := m.GenerateTokens(z, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetSeed(3); err != nil {
		t.Fatal(err)
	}
	b, sb, err := m.Generate(z, vae.GenerateOptions{Mode: vae.DecodeTopK, Temperature: 0.5,
		TopK: 2, EOS: eos, MaxLen: 5})
	if err != nil || sa != sb {
		t.Fatalf("generate: %v, steps %d vs %d", err, sa, sb)
	}
	sameFloats(t, "GenerateTokens = Generate with the same settings", a, b)
	if err := m.SetGeneration(vae.GenBeam, 0); !errors.As(err, &e) || e.Status != vae.ErrRange {
		t.Errorf("beam 0: %v", err)
	}

	// The raw output is the logits of each step: T x vocab per example.
	logits, err := m.DecoderOutput(z[:2*latent], x[:2*seqLen])
	if err != nil || int64(len(logits)) != 2*m.OutputSize() || m.OutputSize() != seqLen*vocab {
		t.Fatalf("decoder output: %d floats, %v", len(logits), err)
	}
}

// Different handles may run in different goroutines at once; each gives
// what it gives alone.
func TestParallelHandles(t *testing.T) {
	x := toyData(64, 9)
	const workers, steps = 4, 20
	models := make([]*vae.Model, workers+1)
	opts := make([]*vae.Adam, workers+1)
	for i := range models {
		models[i] = newMLPModel(t, 21)
		opt, err := vae.NewAdam(models[i], 1e-2)
		if err != nil {
			t.Fatal(err)
		}
		defer opt.Close()
		opts[i] = opt
	}
	train := func(i int) {
		for s := 0; s < steps; s++ {
			if _, err := models[i].TrainStep(opts[i], x); err != nil {
				t.Errorf("model %d step %d: %v", i, s, err)
				return
			}
		}
	}
	train(0)
	var wg sync.WaitGroup
	for i := 1; i <= workers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			train(i)
		}(i)
	}
	wg.Wait()
	for i := 1; i <= workers; i++ {
		sameFloats(t, fmt.Sprintf("goroutine %d", i), models[0].Params(), models[i].Params())
	}
}

// Objects left to the garbage collector are freed by their finalizers
// without disturbing live ones.
func TestFinalizers(t *testing.T) {
	keep := newMLPModel(t, 1)
	want := keep.Params()
	for i := 0; i < 50; i++ {
		g, err := vae.NewGraph()
		if err != nil {
			t.Fatal(err)
		}
		g.Dense(g.Input(dataDim), hidden)
		m, err := vae.NewModel(mlp(t, dataDim, hidden), mlp(t, latent, dataDim), latent,
			vae.Bernoulli, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := vae.NewAdam(m, 1e-3); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	sameFloats(t, "live model after collections", want, keep.Params())
	if _, err := keep.Elbo(toyData(4, 1)); err != nil {
		t.Fatal(err)
	}
}

// With zero gradients, one step of AdamW only decays: p(1 - lr wd). Adam
// with L2 instead sees the gradient wd p, and its first step moves every
// parameter by lr against that gradient's sign.
func TestWeightDecay(t *testing.T) {
	const lr, wd = 0.01, 0.1
	for _, decoupled := range []bool{true, false} {
		m := newMLPModel(t, 8)
		opt, err := vae.NewAdam(m, lr)
		if err != nil {
			t.Fatal(err)
		}
		defer opt.Close()
		if err := opt.SetWeightDecay(wd, decoupled); err != nil {
			t.Fatal(err)
		}
		if err := m.ZeroGrad(); err != nil {
			t.Fatal(err)
		}
		p0 := m.Params()
		if err := opt.Step(m); err != nil {
			t.Fatal(err)
		}
		for i, p := range m.Params() {
			want := p0[i] * (1 - lr*wd)
			if !decoupled {
				want = p0[i] - float32(math.Copysign(lr, float64(p0[i])))
			}
			if math.Abs(float64(p0[i])) > 1e-3 && math.Abs(float64(p-want)) > 1e-6 {
				t.Fatalf("decoupled %v: parameter %d went %v -> %v, want %v", decoupled,
					i, p0[i], p, want)
			}
		}
	}
}

// The sentence model with its own posterior (batch-normalised mean,
// BN-VAE) and a bag-of-words loss on z.
func bnVAE(t *testing.T) *vae.Model {
	t.Helper()
	enc, err := vae.NewGraph()
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	ids := enc.Input(seqLen)
	h := enc.LSTM(enc.Embedding(ids, vocab, 4), 8, vae.NoNode, ids, false)
	mu := enc.BatchNorm(enc.Dense(h, latent), 0.6)
	if err := enc.SetOutput(enc.Gaussian(mu, enc.Dense(h, latent))); err != nil {
		t.Fatal(err)
	}
	dec, err := vae.NewGraph()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	z := dec.Input(latent)
	x := dec.Data(seqLen)
	steps := dec.Concat(dec.Embedding(dec.ShiftRight(x, 2), vocab, 4), dec.Repeat(z, seqLen))
	h = dec.LSTM(steps, 8, vae.NoNode, x, true)
	dec.BagOfWords(dec.Dense(z, vocab), x, 1)
	if err := dec.SetOutput(dec.Dense(h, vocab)); err != nil {
		t.Fatal(err)
	}
	m, err := vae.NewModel(enc, dec, latent, vae.Categorical, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func TestBNVAE(t *testing.T) {
	m := bnVAE(t)
	opt, err := vae.NewAdam(m, 1e-2)
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	x := []float32{4, 5, 6, 3, 0, 0, 5, 4, 3, 0, 0, 0}
	// Training normalises with the batch's statistics, evaluation with the
	// running ones: compare training steps with each other.
	first, err := m.TrainStep(opt, x)
	if err != nil {
		t.Fatal(err)
	}
	last := first
	for i := 0; i < 40; i++ {
		if last, err = m.TrainStep(opt, x); err != nil {
			t.Fatal(err)
		}
	}
	if last.ELBO < first.ELBO+2 {
		t.Errorf("training ELBO %.3f -> %.3f", first.ELBO, last.ELBO)
	}
	eps := make([]float32, 2*latent)
	want, err := m.ElboNoise(x, eps)
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.SaveBytes(nil)
	if err != nil {
		t.Fatal(err)
	}
	copied, _, err := vae.LoadBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	defer copied.Close()
	if got, err := copied.ElboNoise(x, eps); err != nil || got != want {
		t.Errorf("loaded copy: %+v, %v; want %+v", got, err, want)
	}
}

// A model whose encoder and decoder both read a 2-float condition refuses
// calls without it, or with rows for another batch, and reads it.
func TestConditional(t *testing.T) {
	enc, err := vae.NewGraph()
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	if err := enc.SetOutput(enc.Dense(enc.Concat(enc.Input(dataDim), enc.Condition(2)), 8)); err != nil {
		t.Fatal(err)
	}
	dec, err := vae.NewGraph()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	if err := dec.SetOutput(dec.Dense(dec.Concat(dec.Input(latent), dec.Condition(2)), dataDim)); err != nil {
		t.Fatal(err)
	}
	m, err := vae.NewModel(enc, dec, latent, vae.Bernoulli, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.ConditionSize() != 2 {
		t.Fatalf("ConditionSize %d", m.ConditionSize())
	}
	x := make([]float32, 4*dataDim)
	eps := make([]float32, 4*latent)
	var e *vae.Error
	if _, err := m.Elbo(x); !errors.As(err, &e) || e.Status != vae.ErrInvalidArg {
		t.Fatalf("no condition: %v", err)
	}
	cond := []float32{1, 0, 0, 1, 1, 0, 0, 1}
	if err := m.SetCondition(cond[:6]); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Elbo(x); !errors.As(err, &e) || e.Status != vae.ErrShape {
		t.Fatalf("3 rows for 4 examples: %v", err)
	}
	if err := m.SetCondition(cond[:3]); !errors.As(err, &e) || e.Status != vae.ErrShape {
		t.Fatalf("half a row: %v", err)
	}
	if err := m.SetCondition(cond); err != nil {
		t.Fatal(err)
	}
	a, err := m.ElboNoise(x, eps)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cond {
		cond[i] = 3 * cond[i]
	}
	if err := m.SetCondition(cond); err != nil {
		t.Fatal(err)
	}
	if b, err := m.ElboNoise(x, eps); err != nil || b == a {
		t.Errorf("another condition: %+v, %v; before %+v", b, err, a)
	}
}
