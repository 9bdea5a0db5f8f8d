#!/usr/bin/env bash
# A C++17 program against an installed libvae, built with pkg-config's flags
# only: linked to the shared library, then to the static one, and run (it
# trains a few steps and round-trips the model through memory). Also checks
# that docs/ffi.md shows hello.cpp byte for byte, and that the errors it
# prints are the C++ lines of docs/ffi.md's error table.
#   tests/consumers/cxx/test.sh PREFIX    (a prefix that `cmake --install` filled)
# Prints PASS/FAIL lines and ends with "cxx: N passed, M failed"; exits
# non-zero if anything failed.
set -uo pipefail

if (($# != 1)) || [[ ! -d "$1" ]]; then
  echo "usage: $0 PREFIX" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
prefix=$(cd "$1" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vae-cxx.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Only the prefix under test may provide libvae.
unset LD_LIBRARY_PATH PKG_CONFIG_PATH
cxx=(g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror)

passed=0
failed=0
# check NAME COMMAND...: one PASS/FAIL line; the output only on failure.
check() {
  local name=$1 log=$work/$1.log
  shift
  if "$@" >"$log" 2>&1; then
    echo "PASS $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name"
    sed 's/^/    /' "$log"
    failed=$((failed + 1))
  fi
}

pc=$(find "$prefix" -name vae.pc -print -quit)
export PKG_CONFIG_PATH=${pc%/*}
libdir=$(pkg-config --variable=libdir vae 2>/dev/null)

find_pc() {
  [[ -n "$pc" ]] || { echo "no vae.pc under $prefix"; return 1; }
  echo "$pc, libdir $libdir"
}

shared() {
  local flags
  flags=$(pkg-config --cflags --libs vae) || return 1
  # shellcheck disable=SC2086 # flags is a list of words by design
  "${cxx[@]}" "$here/hello.cpp" $flags -o "$work/hello_shared" &&
    # In $work: it writes (and removes) bad.vae in its directory.
    (cd "$work" && LD_LIBRARY_PATH=$libdir ./hello_shared) |
      tee "$work/hello_shared.out"
}

# With libvae.so and libvae.a side by side, -lvae picks the shared library
# even under pkg-config --static; -l:libvae.a names the archive.
static() {
  local flags
  flags=$(pkg-config --cflags --libs --static vae) || return 1
  flags=${flags/-lvae/-l:libvae.a}
  echo "flags: $flags"
  # shellcheck disable=SC2086
  "${cxx[@]}" "$here/hello.cpp" $flags -o "$work/hello_static" || return 1
  if readelf -d "$work/hello_static" | grep -q 'libvae\.so'; then
    echo "hello_static still needs libvae.so"
    return 1
  fi
  (cd "$work" && ./hello_static)
}

# The code block between the markers in docs/ffi.md equals hello.cpp.
doc_snippet() {
  local doc=$root/docs/ffi.md name=tests/consumers/cxx/hello.cpp
  local begin="<!-- begin $name -->" end="<!-- end $name -->"
  [[ $(grep -cx -- "$begin" "$doc") == 1 && $(grep -cx -- "$end" "$doc") == 1 ]] ||
    { echo "$doc: want one pair of snippet markers for $name"; return 1; }
  # Between the markers: the opening fence, the code, the closing fence.
  sed -n "\\|^$begin\$|,\\|^$end\$|p" "$doc" | sed '1d;$d' >"$work/block"
  [[ $(head -n1 "$work/block") == '```cpp' && $(tail -n1 "$work/block") == '```' ]] ||
    { echo "$doc: the snippet for $name is not one \`\`\`cpp block"; return 1; }
  sed '1d;$d' "$work/block" | cmp - "$here/hello.cpp"
}

# The mistakes hello.cpp makes print the lines docs/ffi.md's table shows.
error_table() {
  [[ -s $work/hello_shared.out ]] || { echo "hello_shared did not run"; return 1; }
  /usr/bin/python3 "$root/tests/docs/error_table.py" "$root/docs/ffi.md" C++ |
    cut -f2 >"$work/table" || return 1
  sed -n 's/^expected error: //p' "$work/hello_shared.out" >"$work/printed"
  cat "$work/printed"
  diff -u "$work/table" "$work/printed"
}

check find_vae_pc find_pc
check cxx_shared shared
check cxx_static static
check cxx_doc_snippet doc_snippet
check cxx_error_table error_table
echo "cxx: $passed passed, $failed failed"
((failed == 0))
