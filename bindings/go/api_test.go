package vae_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// unwrapped lists the VAE_API functions this package deliberately does not
// call, each with the reason. Everything else in vae.h must be wrapped.
var unwrapped = map[string]string{}

// readHeader reads the vae.h that pkg-config points at, the header cgo compiles
// this package against: its VAE_API functions and its type names.
func readHeader(t *testing.T) (funcs, types map[string]bool) {
	t.Helper()
	out, err := exec.Command("pkg-config", "--variable=includedir", "vae").Output()
	if err != nil {
		t.Fatalf("pkg-config --variable=includedir vae: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "vae.h"))
	if err != nil {
		t.Fatal(err)
	}
	// Comments could mention "VAE_API ... vae_x(" in prose.
	code := regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`).ReplaceAll(src, nil)
	decl := regexp.MustCompile(`\bVAE_API\b[^;{(]*?\b(vae_\w+)\s*\(`)
	funcs = map[string]bool{}
	for _, m := range decl.FindAllSubmatch(code, -1) {
		funcs[string(m[1])] = true
	}
	if len(funcs) < 10 {
		t.Fatalf("found only %d VAE_API functions in vae.h", len(funcs))
	}
	typedef := regexp.MustCompile(`\btypedef\s+struct\s+\w+\s+(vae_\w+)\s*;`)
	types = map[string]bool{}
	for _, m := range typedef.FindAllSubmatch(code, -1) {
		types[string(m[1])] = true
	}
	return funcs, types
}

// calledFunctions are the C.vae_* names (functions and types) the
// package's own (non-test) Go files refer to.
func calledFunctions(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, pkg := range pkgs {
		ast.Inspect(pkg, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "C" &&
				strings.HasPrefix(sel.Sel.Name, "vae_") {
				names[sel.Sel.Name] = true
			}
			return true
		})
	}
	return names
}

func TestEveryFunctionWrapped(t *testing.T) {
	header, types := readHeader(t)
	called := calledFunctions(t)
	var missing, stale []string
	for name := range header {
		if !called[name] && unwrapped[name] == "" {
			missing = append(missing, name)
		}
	}
	for name := range unwrapped {
		if !header[name] || called[name] {
			stale = append(stale, name)
		}
	}
	for name := range called {
		if !header[name] && !types[name] {
			t.Errorf("%s is called but not declared VAE_API in vae.h", name)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("VAE_API functions without a Go wrapper (wrap them or list them in "+
			"unwrapped with a reason): %s", strings.Join(missing, ", "))
	}
	if len(stale) > 0 {
		t.Errorf("listed as unwrapped but wrapped or gone from vae.h: %s",
			strings.Join(stale, ", "))
	}
	wrapped := 0
	for name := range header {
		if called[name] {
			wrapped++
		}
	}
	t.Logf("%d VAE_API functions, %d wrapped, %d deliberately not", len(header), wrapped,
		len(unwrapped))
}
