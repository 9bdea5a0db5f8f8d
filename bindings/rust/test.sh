#!/usr/bin/env bash
# Tests the Rust binding against an installed libvae, the way a user builds it:
#   bindings/rust/test.sh PREFIX      (what `cmake --install` was given)
# Only PREFIX provides libvae: its vae.pc sets PKG_CONFIG_PATH (which the
# libvae-sys build script reads) and its lib directory LD_LIBRARY_PATH.
# Both crates are built offline with warnings as errors; the tests and the
# example train small models. CARGO names the cargo to use (default cargo).
# Prints PASS/FAIL per check and ends with "rust: N passed, M failed"; exits
# non-zero if anything failed.
set -uo pipefail

if (($# != 1)) || [[ ! -d "$1" ]]; then
  echo "usage: $0 PREFIX" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
prefix=$(cd "$1" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vae-rust.XXXXXX")
trap 'rm -rf "$work"' EXIT
cargo=${CARGO:-cargo}
manifest=$here/Cargo.toml
example=$here/libvae/examples/train.rs
doc=$root/docs/ffi.md

unset LD_LIBRARY_PATH PKG_CONFIG_PATH VAE_LIBRARY
pc=$(find "$prefix" -name vae.pc -print -quit)
if [[ -n "$pc" ]]; then
  libdir=$(dirname "$(dirname "$pc")")
  export PKG_CONFIG_PATH=$libdir/pkgconfig
  export LD_LIBRARY_PATH=$libdir
  export VAE_LIBRARY=$libdir/libvae.so
fi
# Outside the source tree, and kept between runs so that a second run only
# rebuilds what changed (cargo locks it against concurrent runs).
export CARGO_TARGET_DIR=${TMPDIR:-/tmp}/libvae-rust-target-$(id -u)
export RUSTFLAGS="-D warnings" RUSTDOCFLAGS="-D warnings"

found_library() {
  [[ -n "$pc" ]] || { echo "no vae.pc under $prefix"; return 1; }
  command -v "$cargo" || { echo "no $cargo (Debian: apt-get install cargo)"; return 1; }
  "$cargo" --version && pkg-config --modversion vae
}

# The example in the doc is the file that is built and run, byte for byte.
doc_shows_the_example() {
  local begin='<!-- begin bindings/rust/libvae/examples/train.rs -->'
  local end='<!-- end bindings/rust/libvae/examples/train.rs -->'
  [[ -f "$doc" ]] || { echo "$doc is missing"; return 1; }
  # Between the markers: the opening fence, the file, the closing fence.
  awk -v b="$begin" -v e="$end" '$0 == e { on = 0 } on { print } $0 == b { on = 1 }' \
    "$doc" | sed '1d;$d' >"$work/doc-example.rs"
  [[ -s "$work/doc-example.rs" ]] || { echo "no example between the markers in $doc"; return 1; }
  if ! cmp "$work/doc-example.rs" "$example"; then
    diff -u "$example" "$work/doc-example.rs"
    return 1
  fi
}

# Offline builds need every crate to come from this tree.
no_registry_dependencies() {
  "$cargo" metadata --offline --format-version 1 --manifest-path "$manifest" \
    >"$work/metadata.json" || return 1
  /usr/bin/python3 - "$work/metadata.json" <<'EOF'
import json, sys
packages = json.load(open(sys.argv[1]))["packages"]
outside = [p["name"] for p in packages if p["source"] is not None]
print("packages:", ", ".join(sorted(p["name"] for p in packages)))
if outside:
    sys.exit("from a registry or git: " + ", ".join(outside))
EOF
}

# The safe crate's public API needs no unsafe from its users.
safe_api() {
  ! grep -n 'pub unsafe' "$here"/libvae/src/*.rs
}

build() {
  "$cargo" build --offline --all-targets --manifest-path "$manifest"
}

cargo_test() {
  "$cargo" test --offline --manifest-path "$manifest"
}

# Rustdoc with -D warnings: broken links in the API documentation fail.
api_docs() {
  "$cargo" doc --offline --no-deps --manifest-path "$manifest"
}

run_example() {
  "$cargo" run --offline --example train --manifest-path "$manifest" -- \
    "$work/train.vae" | tee "$work/example.out" || return 1
  [[ -s "$work/train.vae" ]] || { echo "the example saved no model"; return 1; }
  grep -q 'parameters identical' "$work/example.out"
}

# Without a vae.pc the build stops with one line that says what to set,
# not a panic and its backtrace.
build_script_error() {
  local out
  out=$(PKG_CONFIG_PATH=$work/empty PKG_CONFIG_LIBDIR=$work/empty \
        CARGO_TARGET_DIR=$work/target "$cargo" build --offline \
        --manifest-path "$manifest" -p libvae-sys 2>&1)
  local status=$?
  echo "$out"
  ((status != 0)) || { echo "the build succeeded without a vae.pc"; return 1; }
  grep -q '^  error: libvae-sys cannot find libvae: .* set PKG_CONFIG_PATH to PREFIX/lib/pkgconfig' \
    <<<"$out" || { echo "no one-line error naming PKG_CONFIG_PATH"; return 1; }
  ! grep -q 'panicked\|stack backtrace' <<<"$out" ||
    { echo "the build script panicked"; return 1; }
}

passed=0
failed=0
for check in found_library doc_shows_the_example no_registry_dependencies \
             safe_api build_script_error build cargo_test run_example api_docs; do
  log=$work/$check.log
  start=$SECONDS
  if "$check" >"$log" 2>&1; then
    echo "PASS $check ($((SECONDS - start)) s)"
    passed=$((passed + 1))
  else
    echo "FAIL $check ($((SECONDS - start)) s)"
    sed 's/^/    /' "$log"
    failed=$((failed + 1))
    # Nothing else can work without the library or cargo.
    [[ $check == found_library ]] && break
  fi
done
echo "rust: $passed passed, $failed failed"
((failed == 0))
