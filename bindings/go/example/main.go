// Command example trains a tiny VAE on toy binary data with libvae,
// saves it with its optimizer state, loads it back and draws samples.
//
//	example [MODEL_PATH]
package main

import (
	"errors"
	"fmt"
	"log"
	"math/rand"
	"os"
	"path/filepath"

	"libvae.example/vae"
)

const (
	dataDim = 8  // floats per example
	hidden  = 16 // units of the hidden layers
	latent  = 2  // latent dimension
)

// mlp builds input(in) -> dense(hidden) -> relu -> dense(out). Builder
// errors are sticky, so the error of SetOutput covers every call before it.
func mlp(in, out int64) (*vae.Graph, error) {
	g, err := vae.NewGraph()
	if err != nil {
		return nil, err
	}
	h := g.Relu(g.Dense(g.Input(in), hidden))
	if err := g.SetOutput(g.Dense(h, out)); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

// toyData is n binary vectors, each one of two complementary patterns
// with a tenth of its bits flipped.
func toyData(n int) []float32 {
	r := rand.New(rand.NewSource(1))
	x := make([]float32, n*dataDim)
	for i := range x {
		bit := (i + i/dataDim) % 2
		if r.Float64() < 0.1 {
			bit = 1 - bit
		}
		x[i] = float32(bit)
	}
	return x
}

func run(path string) error {
	fmt.Println("libvae", vae.Version())

	enc, err := mlp(dataDim, hidden)
	if err != nil {
		return err
	}
	defer enc.Close()
	dec, err := mlp(latent, dataDim)
	if err != nil {
		return err
	}
	defer dec.Close()
	model, err := vae.NewModel(enc, dec, latent, vae.Bernoulli, 42)
	if err != nil {
		return err
	}
	defer model.Close()
	opt, err := vae.NewAdam(model, 1e-2)
	if err != nil {
		return err
	}
	defer opt.Close()

	data := toyData(256)
	const batch = 32
	for step := 0; step < 400; step++ {
		lo := step % (256 / batch) * batch * dataDim
		r, err := model.TrainStep(opt, data[lo:lo+batch*dataDim])
		if err != nil {
			return err
		}
		if step%100 == 0 || step == 399 {
			fmt.Printf("step %3d  ELBO %7.3f  recon %7.3f  KL %6.3f\n", step, r.ELBO, r.Recon, r.KL)
		}
	}

	if err := model.Save(path, opt); err != nil {
		return err
	}
	loaded, loadedOpt, err := vae.Load(path)
	if err != nil {
		return err
	}
	defer loaded.Close()
	defer loadedOpt.Close() // nil when the file has no optimizer state: Close is a no-op
	fmt.Printf("saved and loaded %s: %d parameters, optimizer at step %d\n",
		path, loaded.NumParams(), loadedOpt.Steps())

	_, samples, err := loaded.Sample(2)
	if err != nil {
		return err
	}
	for i := 0; i < 2; i++ {
		fmt.Printf("sample %d: %.2f\n", i, samples[i*dataDim:(i+1)*dataDim])
	}

	// Errors carry the library's status and message.
	_, _, err = vae.Load(filepath.Join(filepath.Dir(path), "no-such-model.vae"))
	var e *vae.Error
	if !errors.As(err, &e) || !errors.Is(err, vae.ErrIO) {
		return fmt.Errorf("loading a missing file: %v", err)
	}
	fmt.Printf("expected error: status %d (%s): %s\n", e.Status, e.Status, e.Msg)
	return nil
}

func main() {
	path := filepath.Join(os.TempDir(), "example.vae")
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	if err := run(path); err != nil {
		log.Fatal(err)
	}
}
