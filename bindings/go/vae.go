// Package vae is a Go binding of libvae, a C library for variational
// autoencoders, through cgo.
//
// The package finds the library with pkg-config (module "vae"), so
// PKG_CONFIG_PATH must name the directory holding vae.pc when libvae is
// installed outside the default search path, and the dynamic loader must
// find libvae.so.0 at run time (LD_LIBRARY_PATH, an rpath, or a system
// library directory).
//
// Every object (Graph, Model, Adam) owns one C handle. Close frees it at
// once; a finalizer frees it when the Go object becomes unreachable, as a
// safety net only, since the Go garbage collector does not see the C
// memory behind a handle. An object is not safe for concurrent use: one
// goroutine at a time per object, different objects in parallel.
//
// Errors are *Error values carrying the library's status code and its
// detailed message; errors.Is(err, vae.ErrShape) tests the status.
//
// Data are float32, row-major, one example after another; the batch size of
// a call is the length of its data slice divided by the size of one example.
// Slices are passed to C without copying, only for the duration of a call:
// the library keeps no pointer to them.
package vae

/*
#cgo pkg-config: vae
#include <stdlib.h>
#include <vae.h>
*/
import "C"

import (
	"fmt"
	"math"
	"strings"
	"unsafe"
)

// Status is a libvae status code. The values are the library's VAE_OK and
// VAE_ERR_* constants, which never change between releases.
type Status int32

// Status codes; see docs/errors.md for when each occurs.
const (
	OK             Status = C.VAE_OK
	ErrInvalidArg  Status = C.VAE_ERR_INVALID_ARG
	ErrShape       Status = C.VAE_ERR_SHAPE
	ErrNoMem       Status = C.VAE_ERR_NOMEM
	ErrIO          Status = C.VAE_ERR_IO
	ErrFormat      Status = C.VAE_ERR_FORMAT
	ErrNonFinite   Status = C.VAE_ERR_NONFINITE
	ErrGraph       Status = C.VAE_ERR_GRAPH
	ErrVersion     Status = C.VAE_ERR_VERSION
	ErrRange       Status = C.VAE_ERR_RANGE
	ErrUnsupported Status = C.VAE_ERR_UNSUPPORTED
	ErrBusy        Status = C.VAE_ERR_BUSY
)

// statusNames are the vae.h names of the statuses this package knows.
var statusNames = map[Status]string{
	OK: "VAE_OK", ErrInvalidArg: "VAE_ERR_INVALID_ARG", ErrShape: "VAE_ERR_SHAPE",
	ErrNoMem: "VAE_ERR_NOMEM", ErrIO: "VAE_ERR_IO", ErrFormat: "VAE_ERR_FORMAT",
	ErrNonFinite: "VAE_ERR_NONFINITE", ErrGraph: "VAE_ERR_GRAPH",
	ErrVersion: "VAE_ERR_VERSION", ErrRange: "VAE_ERR_RANGE",
	ErrUnsupported: "VAE_ERR_UNSUPPORTED", ErrBusy: "VAE_ERR_BUSY",
}

// String is the library's static description of the status.
func (s Status) String() string {
	return C.GoString(C.vae_status_string(C.int32_t(s)))
}

// Name is the status's constant in vae.h, e.g. "VAE_ERR_SHAPE", or
// "status N" for one this package does not know (a newer library).
func (s Status) Name() string {
	if name, ok := statusNames[s]; ok {
		return name
	}
	return fmt.Sprintf("status %d", int32(s))
}

// Error makes a Status usable as a target of errors.Is; it is String, so
// that a Status prints the same with %v and %s whether or not fmt sees it
// as an error.
func (s Status) Error() string { return s.String() }

// Error is a failed libvae call.
type Error struct {
	Op     string // the C function that failed, e.g. "vae_model_load"
	Status Status // negative
	Msg    string // the library's detailed message; "" if it gave none
}

// Error is the line every binding prints for the same failure,
// "op: message [VAE_ERR_NAME]". The library starts some messages with the
// function's own name ("dense: units 0 ..." from vae_graph_dense); it is
// named once.
func (e *Error) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = e.Status.String()
	}
	if name, rest, ok := strings.Cut(msg, ": "); ok && isCName(name) &&
		strings.HasSuffix(e.Op, "_"+name) {
		msg = rest
	}
	return fmt.Sprintf("%s: %s [%s]", e.Op, msg, e.Status.Name())
}

// isCName reports whether s could be a C function's short name.
func isCName(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}

// Unwrap returns the status, so errors.Is(err, vae.ErrIO) works.
func (e *Error) Unwrap() error { return e.Status }

// HeaderVersionNumber is the version of the vae.h this package was compiled
// against, as MAJOR*10000 + MINOR*100 + PATCH.
const HeaderVersionNumber = C.VAE_VERSION_NUMBER

// Version is the version of the library actually loaded, "MAJOR.MINOR.PATCH".
func Version() string { return C.GoString(C.vae_version_string()) }

// VersionNumber is the version of the library actually loaded, as
// MAJOR*10000 + MINOR*100 + PATCH.
func VersionNumber() int { return int(C.vae_version_number()) }

// SetNumThreads sets the number of threads of the BLAS library, for the
// whole process (see docs/threading.md).
func SetNumThreads(n int) error {
	if n < math.MinInt32 || n > math.MaxInt32 {
		return &Error{Op: "vae_set_num_threads", Status: ErrRange,
			Msg: fmt.Sprintf("%d threads", n)}
	}
	return statusError("vae_set_num_threads", int64(C.vae_set_num_threads(C.int32_t(n))), "")
}

// NumThreads is the current BLAS thread count of the process.
func NumThreads() (int, error) {
	n := C.vae_get_num_threads()
	if err := statusError("vae_get_num_threads", int64(n), ""); err != nil {
		return 0, err
	}
	return int(n), nil
}

// statusError is nil for a status >= 0, else an *Error with message msg.
func statusError(op string, st int64, msg string) error {
	if st >= 0 {
		return nil
	}
	return &Error{Op: op, Status: Status(st), Msg: msg}
}

// errBuf receives the message of calls that have no handle yet. The library
// bounds its own messages; a path in a load error may make one longer, and
// the library truncates at the buffer's end.
type errBuf [1024]C.char

func (b *errBuf) ptr() *C.char   { return &b[0] }
func (b *errBuf) size() C.size_t { return C.size_t(len(b)) }
func (b *errBuf) String() string { return C.GoString(&b[0]) }

// spare stands in for the first element of an empty slice, which has
// none. NULL would read as a missing argument; a valid pointer lets the
// library judge the zero length itself ("batch 0 < 1"), and with no
// elements it reads or writes none of spare. 8 bytes, 8-aligned: it serves
// every element type below.
var spare uint64

// Slices reach C as pointers to their first element, valid for the call.
func f32ptr(s []float32) *C.float {
	if len(s) == 0 {
		return (*C.float)(unsafe.Pointer(&spare))
	}
	return (*C.float)(unsafe.Pointer(&s[0]))
}

func f64ptr(s []float64) *C.double {
	if len(s) == 0 {
		return (*C.double)(unsafe.Pointer(&spare))
	}
	return (*C.double)(unsafe.Pointer(&s[0]))
}

func i64ptr(s []int64) *C.int64_t {
	if len(s) == 0 {
		return (*C.int64_t)(unsafe.Pointer(&spare))
	}
	return (*C.int64_t)(unsafe.Pointer(&s[0]))
}

func i32ptr(s []int32) *C.int32_t {
	if len(s) == 0 {
		return (*C.int32_t)(unsafe.Pointer(&spare))
	}
	return (*C.int32_t)(unsafe.Pointer(&s[0]))
}

func bytesptr(s []byte) unsafe.Pointer {
	if len(s) == 0 {
		return unsafe.Pointer(&spare)
	}
	return unsafe.Pointer(&s[0])
}
