#!/usr/bin/env bash
# Checks libvae the way its users meet it: installed into a prefix, then used
# through pkg-config (shared and static) and through find_package, and the
# installed example programs run from there.
# (The FFI clients have their own runners under bindings/.)
#   tests/consumers/run.sh BUILD_DIR         installs a configured and built
#                                            tree into a temporary prefix
#   tests/consumers/run.sh --prefix PREFIX   checks an installed tree (e.g.
#                                            unpacked .deb packages)
# Prints PASS/FAIL per check and ends with "consumers: N passed, M failed";
# exits non-zero if anything failed.
set -uo pipefail

usage() {
  echo "usage: $0 BUILD_DIR | $0 --prefix PREFIX" >&2
  exit 2
}
build='' prefix=''
case "${1:-}" in
  --prefix) (($# == 2)) && [[ -d "$2" ]] || usage; prefix=$(cd "$2" && pwd) ;;
  *) (($# == 1)) && [[ -d "$1" ]] || usage; build=$(cd "$1" && pwd) ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vae-consumers.XXXXXX")
trap 'rm -rf "$work"' EXIT
[[ -n "$prefix" ]] || prefix=$work/prefix
libdir=$prefix/lib
# Only the prefix under test may provide libvae.
unset LD_LIBRARY_PATH PKG_CONFIG_PATH

install_build() {
  cmake --install "$build" --prefix "$prefix"
}

# (a) a C program built with pkg-config's flags only, against the prefix's
# vae.pc.
pkgconfig() {
  local pc
  pc=$(find "$prefix" -name vae.pc -print -quit)
  [[ -n "$pc" ]] || { echo "no vae.pc under $prefix"; return 1; }
  libdir=$(dirname "$(dirname "$pc")")
  export PKG_CONFIG_PATH=$libdir/pkgconfig
  # A vae.pc that still names the configure-time prefix would compile
  # against whatever happens to be installed there.
  local pc_libdir
  pc_libdir=$(pkg-config --variable=libdir vae) || return 1
  if [[ "$(realpath -m "$pc_libdir")" != "$(realpath "$libdir")" ]]; then
    echo "vae.pc libdir is $pc_libdir, not the install prefix's $libdir"
    return 1
  fi
  local flags
  flags=$(pkg-config --cflags --libs vae) || return 1
  echo "pkg-config --cflags --libs vae: $flags"
  # shellcheck disable=SC2086 # flags is a list of words by design
  cc -std=c11 -Wall -Wextra -Wpedantic -Werror "$here/hello.c" $flags -lm \
    -o "$work/hello_pc" || return 1
  LD_LIBRARY_PATH=$libdir "$work/hello_pc" | tee "$work/hello_pc.out" ||
    return 1
  local want
  want=$(pkg-config --modversion vae)
  if [[ "$(head -n1 "$work/hello_pc.out")" != "$want" ]]; then
    echo "library reports version $(head -n1 "$work/hello_pc.out"), vae.pc says $want"
    return 1
  fi
}

# (a') the same program linked with `pkg-config --static`. With libvae.so
# and libvae.a side by side, -lvae would still pick the shared library, so
# the archive is named explicitly and the result must not need libvae.so.
static_pkgconfig() {
  [[ -n "${PKG_CONFIG_PATH:-}" ]] || { echo "nothing installed"; return 1; }
  local flags
  flags=$(pkg-config --static --cflags --libs vae) || return 1
  flags=$(sed 's/-lvae\b/-l:libvae.a/' <<<"$flags")
  echo "pkg-config --static (archive named): $flags"
  # shellcheck disable=SC2086 # flags is a list of words by design
  cc -std=c11 -Wall -Wextra -Wpedantic -Werror "$here/hello.c" $flags -lm \
    -o "$work/hello_static" || return 1
  if readelf -d "$work/hello_static" | grep -q 'libvae\.so'; then
    echo "hello_static still needs libvae.so"
    return 1
  fi
  "$work/hello_static"
}

# (b) the shared library exports the API and nothing else, under its SONAME.
exports() {
  local so=$libdir/libvae.so
  [[ -e "$so" ]] || { echo "$so not installed"; return 1; }
  local symbols others
  symbols=$(nm -D --defined-only "$so" | awk '{print $NF}') || return 1
  others=$(grep -v '^vae_' <<<"$symbols")
  if [[ -n "$others" ]]; then
    echo "exported symbols without the vae_ prefix:"
    echo "$others"
    return 1
  fi
  grep -qx vae_version_string <<<"$symbols" ||
    { echo "vae_version_string is not exported"; return 1; }
  echo "$(wc -l <<<"$symbols") symbols, all vae_*"
  local soname
  soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
  echo "SONAME $soname"
  [[ "$soname" == libvae.so.0 ]]
}

# (c) a CMake project using find_package(vae) against the prefix.
cmake_consumer() {
  [[ -d "$libdir" ]] || { echo "nothing installed"; return 1; }
  # The static target reaches OpenBLAS through the package's vae::blas,
  # never by a bare library name that only a default linker path resolves.
  local link
  link=$(grep -h 'INTERFACE_LINK_LIBRARIES' "$libdir"/cmake/vae/vaeTargets.cmake)
  echo "exported: $link"
  if grep -qw openblas <<<"$link"; then
    echo "vae::vae_static names OpenBLAS directly"
    return 1
  fi
  cmake -S "$here/cmake" -B "$work/cmake-build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" || return 1
  cmake --build "$work/cmake-build" -j2 || return 1
  "$work/cmake-build/hello_shared" || return 1
  "$work/cmake-build/hello_static"
}

# (d) the installed example programs run from the prefix as they are: their
# run path finds the libvae beside them. Programs built for a libdir the
# loader searches anyway (packages for /usr) have none: unpacked elsewhere,
# they need LD_LIBRARY_PATH.
installed_examples() {
  local program out loader=()
  for program in vae-image vae-text; do
    [[ -x "$prefix/bin/$program" ]] || { echo "no $prefix/bin/$program"; return 1; }
    if [[ -z "$build" ]] && ! readelf -d "$prefix/bin/$program" | grep -q RUNPATH; then
      loader=(env LD_LIBRARY_PATH="$libdir")
    fi
    echo "${loader[*]} $prefix/bin/$program --help"
    out=$("${loader[@]}" "$prefix/bin/$program" --help) || return 1
    head -n 1 <<<"$out"
  done
}

checks=(pkgconfig static_pkgconfig exports cmake_consumer installed_examples)
[[ -z "$build" ]] || checks=(install_build "${checks[@]}")
passed=0
failed=0
for check in "${checks[@]}"; do
  log=$work/$check.log
  if "$check" >"$log" 2>&1; then
    echo "PASS $check"
    passed=$((passed + 1))
  else
    echo "FAIL $check"
    sed 's/^/    /' "$log"
    failed=$((failed + 1))
  fi
done
echo "consumers: $passed passed, $failed failed"
((failed == 0))
