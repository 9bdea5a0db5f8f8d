package vae

/*
#include <stdlib.h>
#include <vae.h>
*/
import "C"

import (
	"runtime"
	"strings"
	"unsafe"
)

// optHandle is the optimizer whose state goes into a model file: none for a
// nil *Adam, an error for a closed one rather than silently saving none.
func optHandle(op string, opt *Adam) (*C.vae_adam, error) {
	if opt != nil && opt.p == nil {
		return nil, &Error{Op: op, Status: ErrInvalidArg, Msg: "optimizer is closed"}
	}
	return opt.handle(), nil
}

// cPath is path as a C string; C would read a path with a NUL byte as a
// shorter, different path.
func cPath(op, path string) (*C.char, error) {
	if strings.IndexByte(path, 0) >= 0 {
		return nil, &Error{Op: op, Status: ErrInvalidArg, Msg: "path contains a NUL byte"}
	}
	return C.CString(path), nil
}

// Save writes the model, and opt's state unless opt is nil, to path
// atomically (temporary file + rename).
func (m *Model) Save(path string, opt *Adam) error {
	const op = "vae_model_save"
	o, err := optHandle(op, opt)
	if err != nil {
		return err
	}
	cp, err := cPath(op, path)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cp))
	defer runtime.KeepAlive(opt)
	return m.check(op, C.vae_model_save(m.p, o, cp))
}

// SaveBytes is the content Save would write.
func (m *Model) SaveBytes(opt *Adam) ([]byte, error) {
	o, err := optHandle("vae_model_save_size", opt)
	if err != nil {
		return nil, err
	}
	defer runtime.KeepAlive(opt)
	var size C.size_t
	if err := m.check("vae_model_save_size", C.vae_model_save_size(m.p, o, &size)); err != nil {
		return nil, err
	}
	buf := make([]byte, size)
	var written C.size_t
	st := C.vae_model_save_to_buffer(m.p, o, bytesptr(buf), size, &written)
	if err := m.check("vae_model_save_to_buffer", st); err != nil {
		return nil, err
	}
	return buf[:written], nil
}

// Load reads a model file. opt is the saved optimizer state, nil when the
// file has none.
func Load(path string) (m *Model, opt *Adam, err error) {
	const op = "vae_model_load"
	cp, err := cPath(op, path)
	if err != nil {
		return nil, nil, err
	}
	defer C.free(unsafe.Pointer(cp))
	var p *C.vae_model
	var o *C.vae_adam
	var eb errBuf
	if err := statusError(op, int64(C.vae_model_load(cp, &p, &o, eb.ptr(), eb.size())), eb.String()); err != nil {
		return nil, nil, err
	}
	return wrapModel(p), wrapAdam(o), nil
}

// LoadBytes is Load from the bytes of a model file.
func LoadBytes(data []byte) (m *Model, opt *Adam, err error) {
	const op = "vae_model_load_from_buffer"
	var p *C.vae_model
	var o *C.vae_adam
	var eb errBuf
	st := C.vae_model_load_from_buffer(bytesptr(data), C.size_t(len(data)), &p, &o, eb.ptr(),
		eb.size())
	if err := statusError(op, int64(st), eb.String()); err != nil {
		return nil, nil, err
	}
	return wrapModel(p), wrapAdam(o), nil
}
