#!/usr/bin/env bash
# Tests the Go binding against an installed libvae, as a Go user meets it:
#   bindings/go/test.sh PREFIX        (PREFIX: where libvae is installed)
# Needs Debian's golang-go. Besides the package's own checks, the example
# that docs/ffi.md prints is the one compiled and run (the build steps it
# prints are run by tests/docs/commands.sh).
# Prints PASS/FAIL per check and ends with "go: N passed, M failed"; exits
# non-zero if anything failed.
set -uo pipefail

if (($# != 1)) || [[ ! -d "$1" ]]; then
  echo "usage: $0 PREFIX" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
prefix=$(cd "$1" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vae-go.XXXXXX")
# The module cache holds read-only files; let rm remove them.
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# Only the prefix under test may provide libvae.
unset LD_LIBRARY_PATH PKG_CONFIG_PATH VAE_LIBRARY
pc=$(find "$prefix" -name vae.pc -print -quit)
libdir=$prefix/lib
if [[ -n "$pc" ]]; then
  libdir=$(dirname "$(dirname "$pc")")
  export PKG_CONFIG_PATH=$libdir/pkgconfig
fi
export LD_LIBRARY_PATH=$libdir VAE_LIBRARY=$libdir/libvae.so
# A fresh build cache: Go's cache does not notice a changed vae.h or
# libvae outside the module, so a shared one could test a stale build.
# No network and no module downloads: the binding has no dependencies.
export GOCACHE=$work/gocache GOPATH=$work/gopath GOPROXY=off GOFLAGS='' \
  GO111MODULE=on CGO_ENABLED=1

doc=$root/docs/ffi.md
example=bindings/go/example/main.go

# snippet NAME LANG: the code block of $doc between the markers for NAME,
# whose fence must be ```LANG.
snippet() {
  awk -v b="<!-- begin $1 -->" -v e="<!-- end $1 -->" -v f="\`\`\`$2" '
    $0 == b { on = 1; n = 0; next }
    on && $0 == e { found = 1; on = 0; next }
    on { line[++n] = $0 }
    END {
      if (!found || n < 2 || line[1] != f || line[n] != "```") exit 1
      for (i = 2; i < n; i++) print line[i]
    }' "$doc"
}

toolchain() {
  [[ -n "$pc" ]] || { echo "no vae.pc under $prefix"; return 1; }
  command -v go >/dev/null ||
    { echo "go not found: apt-get install golang-go"; return 1; }
  go version && pkg-config --modversion vae
}

gofmt_clean() {
  local files
  files=$(cd "$here" && gofmt -l .) || return 1
  [[ -z "$files" ]] || { echo "not gofmt-formatted: $files"; return 1; }
}

go_vet() {
  (cd "$here" && go vet ./...)
}

# The race detector and cgocheck=2 also vet the cgo pointer passing.
go_test() {
  (cd "$here" && GODEBUG=cgocheck=2 go test -race -count=1 -v ./...)
}

doc_example_is_the_file() {
  snippet "$example" go >"$work/doc-example.go" ||
    { echo "$doc: no go block between the markers for $example"; return 1; }
  if ! cmp -s "$work/doc-example.go" "$root/$example"; then
    diff -u "$root/$example" "$work/doc-example.go" | head -n 40
    echo "$doc: the example block differs from $example"
    return 1
  fi
}

passed=0
failed=0
for check in toolchain gofmt_clean go_vet go_test doc_example_is_the_file; do
  log=$work/$check.log
  if "$check" >"$log" 2>&1; then
    echo "PASS $check"
    grep -E '^\s*--- PASS' "$log" | sed 's/^/    /'
    passed=$((passed + 1))
  else
    echo "FAIL $check"
    sed 's/^/    /' "$log"
    failed=$((failed + 1))
    [[ $check == toolchain ]] && break
  fi
done
echo "go: $passed passed, $failed failed"
((failed == 0))
