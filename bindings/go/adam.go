package vae

/*
#include <vae.h>
*/
import "C"

import "runtime"

// Adam is an Adam/AdamW optimizer for one model; PyTorch's defaults
// (betas 0.9/0.999, eps 1e-8, no weight decay, no clipping).
type Adam struct {
	p *C.vae_adam
}

// NewAdam makes an optimizer for m with learning rate lr (> 0).
func NewAdam(m *Model, lr float64) (*Adam, error) {
	var p *C.vae_adam
	var eb errBuf
	st := C.vae_adam_new(m.handle(), C.double(lr), &p, eb.ptr(), eb.size())
	runtime.KeepAlive(m)
	if err := statusError("vae_adam_new", int64(st), eb.String()); err != nil {
		return nil, err
	}
	return wrapAdam(p), nil
}

func (m *Model) handle() *C.vae_model {
	if m == nil {
		return nil
	}
	return m.p
}

func wrapAdam(p *C.vae_adam) *Adam {
	if p == nil {
		return nil
	}
	o := &Adam{p: p}
	runtime.SetFinalizer(o, (*Adam).Close)
	return o
}

// handle is the C optimizer, NULL for a nil *Adam.
func (o *Adam) handle() *C.vae_adam {
	if o == nil {
		return nil
	}
	return o.p
}

// Close frees the optimizer. Closing twice, or a nil Adam, does nothing.
func (o *Adam) Close() {
	if o == nil || o.p == nil {
		return
	}
	C.vae_adam_free(o.p)
	o.p = nil
	runtime.SetFinalizer(o, nil)
}

// check turns the status of a C call on o into an error carrying the
// optimizer's message, keeping o alive until the call is over.
func (o *Adam) check(op string, st C.int32_t) error {
	defer runtime.KeepAlive(o)
	if st >= 0 {
		return nil
	}
	return &Error{Op: op, Status: Status(st), Msg: C.GoString(C.vae_adam_last_error(o.handle()))}
}

// SetLR sets the learning rate (> 0).
func (o *Adam) SetLR(lr float64) error {
	return o.check("vae_adam_set_lr", C.vae_adam_set_lr(o.handle(), C.double(lr)))
}

// SetBetas sets the moment decay rates (in [0, 1)) and epsilon (> 0).
func (o *Adam) SetBetas(beta1, beta2, eps float64) error {
	return o.check("vae_adam_set_betas",
		C.vae_adam_set_betas(o.handle(), C.double(beta1), C.double(beta2), C.double(eps)))
}

// SetWeightDecay sets the weight decay: an L2 term in the gradient (Adam),
// or decoupled from it (AdamW).
func (o *Adam) SetWeightDecay(wd float64, decoupled bool) error {
	d := C.int32_t(0)
	if decoupled {
		d = 1
	}
	return o.check("vae_adam_set_weight_decay", C.vae_adam_set_weight_decay(o.handle(), C.double(wd), d))
}

// SetClipNorm rescales gradients whose global L2 norm exceeds maxNorm;
// 0 disables clipping.
func (o *Adam) SetClipNorm(maxNorm float64) error {
	return o.check("vae_adam_set_clip_norm", C.vae_adam_set_clip_norm(o.handle(), C.double(maxNorm)))
}

// Steps is the number of steps taken.
func (o *Adam) Steps() int64 {
	defer runtime.KeepAlive(o)
	return int64(C.vae_adam_steps(o.handle()))
}

// Step updates m's parameters from its gradient buffer. m must be the
// model the optimizer was made for.
func (o *Adam) Step(m *Model) error {
	defer runtime.KeepAlive(m)
	return o.check("vae_adam_step", C.vae_adam_step(o.handle(), m.handle()))
}
