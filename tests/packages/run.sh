#!/usr/bin/env bash
# The Debian packages, built and checked as docs/packaging.md describes:
#   tests/packages/run.sh
# Runs the packaging commands of docs/packaging.md in a copy of the checkout
# (cpack -G DEB in a Release build), checks the three packages' names,
# control fields and file lists, unpacks them into a temporary root with
# dpkg-deb -x and runs tests/consumers/run.sh --prefix there (the pkg-config
# consumer, shared and static, the CMake consumer, vae-image --help from
# vae-examples), and runs lintian, whose output goes to the log. Fails on a
# lintian error or on a warning docs/packaging.md does not list.
# Prints PASS/FAIL per check and ends with "packages: N passed, M failed".
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../docs/lib.sh
source "$root/tests/docs/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/vae-packages.XXXXXX")
trap 'rm -rf "$work"' EXIT
doc=$root/docs/packaging.md
src=$work/src
unpacked=$work/root
unset LD_LIBRARY_PATH PKG_CONFIG_PATH

version=$(sed -n 's/^project(vae VERSION \([0-9.]*\) .*/\1/p' "$root/CMakeLists.txt")
major=${version%%.*}
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
lib=usr/lib/$multiarch
packages=(libvae"$major" libvae-dev vae-examples)
deb() { echo "$src/build-deb/${1}_$version-1_$arch.deb"; }

build_packages() {
  copy_checkout "$root" "$src" || return 1
  doc_script "$doc" packaging >"$work/packaging.sh" || return 1
  cat "$work/packaging.sh"
  (cd "$src" && bash "$work/packaging.sh") || return 1
  local p
  for p in "${packages[@]}"; do
    [[ -f "$(deb "$p")" ]] || { echo "no $(deb "$p")"; return 1; }
  done
  ls "$src"/build-deb/*.deb
}

# field PACKAGE NAME: one control field of a built package.
field() { dpkg-deb -f "$(deb "$1")" "$2"; }

# want_field PACKAGE NAME REGEX: the field must match the (extended) regex.
want_field() {
  local value
  value=$(field "$1" "$2")
  echo "$1 $2: $value"
  [[ "$value" =~ $3 ]] || { echo "    does not match $3"; return 1; }
}

control_fields() {
  local p status=0 same="\(= $version-1\)"
  for p in "${packages[@]}"; do
    want_field "$p" Version "^$version-1\$" || status=1
    want_field "$p" Architecture "^$arch\$" || status=1
    want_field "$p" Maintainer '^.+ <.+@.+>$' || status=1
  done
  want_field "libvae$major" Section '^libs$' || status=1
  want_field "libvae$major" Depends '(^|, )libc6 \(>= ' || status=1
  want_field "libvae$major" Depends '(^|, )libopenblas0' || status=1
  want_field libvae-dev Section '^libdevel$' || status=1
  want_field libvae-dev Depends "(^|, )libvae$major $same" || status=1
  want_field libvae-dev Depends '(^|, )libopenblas-dev($|,)' || status=1
  want_field vae-examples Depends "(^|, )libvae$major $same" || status=1
  want_field vae-examples Depends '(^|, )libpng16-16 ' || status=1
  want_field vae-examples Depends '(^|, )libsentencepiece0 ' || status=1
  # Packages built against libvae0 depend on it through the shlibs file;
  # the trigger runs ldconfig.
  dpkg-deb -e "$(deb "libvae$major")" "$work/control" || return 1
  echo "shlibs: $(cat "$work/control/shlibs")"
  grep -qx "libvae $major libvae$major (>= $version-1)" "$work/control/shlibs" ||
    status=1
  echo "triggers: $(cat "$work/control/triggers")"
  grep -qx 'activate-noawait ldconfig' "$work/control/triggers" || status=1
  return "$status"
}

# The files (and links) each package holds, directories left out.
file_lists() {
  local p status=0
  declare -A want
  want[libvae$major]="./$lib/libvae.so.$major -> libvae.so.$version
./$lib/libvae.so.$version"
  want[libvae-dev]="./$lib/cmake/vae/vaeConfig.cmake
./$lib/cmake/vae/vaeConfigVersion.cmake
./$lib/cmake/vae/vaeTargets-release.cmake
./$lib/cmake/vae/vaeTargets.cmake
./$lib/libvae.a
./$lib/libvae.so -> libvae.so.$major
./$lib/pkgconfig/vae.pc
./usr/include/vae.h"
  want[vae-examples]="./usr/bin/vae-image
./usr/bin/vae-text
./usr/share/man/man1/vae-image.1.gz
./usr/share/man/man1/vae-text.1.gz"
  for p in "${packages[@]}"; do
    want[$p]+="
./usr/share/doc/$p/changelog.Debian.gz
./usr/share/doc/$p/copyright"
    dpkg-deb -c "$(deb "$p")" | grep -v '^d' |
      awk '{ $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print }' |
      sort >"$work/$p.files"
    echo "$p:"
    sed 's/^/    /' "$work/$p.files"
    if ! diff -u <(sort <<<"${want[$p]}") "$work/$p.files"; then
      echo "    ^ $p holds other files than expected"
      status=1
    fi
  done
  return "$status"
}

unpack() {
  local p
  for p in "${packages[@]}"; do
    dpkg-deb -x "$(deb "$p")" "$unpacked" || return 1
  done
}

# The consumers' checks against the unpacked tree (its own PASS/FAIL lines).
consumers() {
  bash "$root/tests/consumers/run.sh" --prefix "$unpacked/usr"
}

# lintian's whole output goes to the log; errors fail, and so do warnings
# docs/packaging.md does not explain.
lintian_clean() {
  local debs=() p tag status=0
  for p in "${packages[@]}"; do debs+=("$(deb "$p")"); done
  command -v lintian >/dev/null ||
    { echo "no lintian (Debian: apt-get install lintian)"; return 1; }
  lintian --display-info "${debs[@]}" >"$work/lintian.out" 2>&1
  cat "$work/lintian.out"
  if grep -q '^E: ' "$work/lintian.out"; then
    echo "lintian reports errors"
    status=1
  fi
  local explained
  explained=$(sed -n '/<!-- begin lintian-warnings -->/,/<!-- end lintian-warnings -->/p' \
    "$doc" | grep -o '^| `[a-z0-9-]*`' | tr -d '|` ')
  for tag in $(sed -n 's/^W: [^:]*: \([a-z0-9-]*\).*/\1/p' "$work/lintian.out" | sort -u); do
    if ! grep -qx -- "$tag" <<<"$explained"; then
      echo "warning $tag is not explained in $doc"
      status=1
    fi
  done
  return "$status"
}

passed=0
failed=0
for check in build_packages control_fields file_lists unpack consumers lintian_clean; do
  log=$work/$check.log
  start=$SECONDS
  if "$check" >"$log" 2>&1; then
    echo "PASS $check ($((SECONDS - start)) s)"
    passed=$((passed + 1))
    # The consumers' own result lines and lintian's output belong in the
    # log whatever the outcome.
    [[ $check == consumers || $check == lintian_clean ]] && sed 's/^/    /' "$log"
  else
    echo "FAIL $check ($((SECONDS - start)) s)"
    sed 's/^/    /' "$log"
    failed=$((failed + 1))
    # Nothing else can work without the packages.
    [[ $check == build_packages ]] && break
  fi
done
echo "packages: $passed passed, $failed failed"
((failed == 0))
