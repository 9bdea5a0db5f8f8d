package vae_test

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"libvae.example/vae"
)

// errorTable is {mistake: line} of the Go rows of docs/ffi.md's error
// table, after checking that every language prints the same line for a
// mistake.
func errorTable(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "ffi.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	begin := strings.Index(text, "<!-- begin error-table -->")
	end := strings.Index(text, "<!-- end error-table -->")
	if begin < 0 || end < begin {
		t.Fatal("docs/ffi.md has no error table")
	}
	all := map[string]map[string]string{}
	rows := strings.Split(strings.TrimSpace(text[begin:end]), "\n")[3:]
	for _, row := range rows {
		cells := strings.Split(strings.Trim(row, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if len(cells) != 3 || !strings.HasPrefix(cells[2], "`") {
			continue // a language that cannot make the mistake
		}
		if all[cells[0]] == nil {
			all[cells[0]] = map[string]string{}
		}
		all[cells[0]][cells[1]] = strings.Trim(cells[2], "`")
	}
	want := map[string]string{}
	for mistake, lines := range all {
		for language, line := range lines {
			if line != lines["Go"] {
				t.Errorf("%s: %s prints %q, Go %q", mistake, language, line, lines["Go"])
			}
		}
		want[mistake] = lines["Go"]
	}
	return want
}

// TestErrorTable: the same mistakes read the same in every language.
func TestErrorTable(t *testing.T) {
	m := newMLPModel(t, 1)
	defer m.Close()
	nan := make([]float32, 2*dataDim)
	nan[3] = float32(math.NaN())
	bad := filepath.Join(t.TempDir(), "bad.vae")
	if err := os.WriteFile(bad, []byte(strings.Repeat("not a libvae model\n", 4)), 0o600); err != nil {
		t.Fatal(err)
	}
	printed := map[string]string{}
	line := func(err error) string {
		if err == nil {
			return "(no error)"
		}
		return err.Error()
	}
	_, err := m.Elbo(make([]float32, 2*dataDim-1))
	printed["wrong size"] = line(err)
	_, err = m.Elbo(nan)
	printed["NaN input"] = line(err)
	// The table's file name is relative: load it from its directory.
	wd, _ := os.Getwd()
	if err := os.Chdir(filepath.Dir(bad)); err != nil {
		t.Fatal(err)
	}
	_, _, err = vae.Load("bad.vae")
	if cerr := os.Chdir(wd); cerr != nil {
		t.Fatal(cerr)
	}
	printed["bad file"] = line(err)
	if want := errorTable(t); !reflect.DeepEqual(printed, want) {
		t.Errorf("Go prints\n%q\nthe table says\n%q", printed, want)
	}
}
