#!/usr/bin/env bash
# The Python binding against an installed libvae, as a user meets it.
#   bindings/python/test.sh PREFIX      (a prefix that `cmake --install` filled)
# Installs the package with pip (offline, Debian's setuptools) into a
# temporary target and runs everything from there, the library found through
# the prefix's vae.pc (PKG_CONFIG_PATH): the unittest modules (one line per
# test), mypy --strict on the installed package, the documented example, the
# byte-for-byte check of its copy in docs/ffi.md, and the MNIST example on a
# few images. Prints PASS/FAIL/SKIP lines and ends with "python: N passed, M
# failed"; exits non-zero if anything failed. Uses /usr/bin/python3
# (Debian's python3-numpy).
set -uo pipefail

if (($# != 1)) || [[ ! -d "$1" ]]; then
  echo "usage: $0 PREFIX" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
prefix=$(cd "$1" && pwd)
python=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/vae-python.XXXXXX")
trap 'rm -rf "$work"' EXIT
site=$work/site
# Only the prefix under test may provide libvae.
unset LD_LIBRARY_PATH PKG_CONFIG_PATH VAE_LIBRARY VAE_HEADER PYTHONPATH

passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }

pc=$(find "$prefix" -name vae.pc -print -quit)
if [[ -z "$pc" ]]; then
  fail "find vae.pc under $prefix"
  echo "python: $passed passed, $failed failed"
  exit 1
fi
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
includedir=$(realpath "$(pkg-config --variable=includedir vae)")
export VAE_HEADER=$includedir/vae.h
export PYTHONPATH=$site
# Keep the source tree free of __pycache__ directories.
export PYTHONDONTWRITEBYTECODE=1
echo "vae.pc $pc, header $VAE_HEADER"

# check NAME COMMAND...: one PASS/FAIL line; the output only on failure.
check() {
  local name=$1 log=$work/$1.log
  shift
  if "$@" >"$log" 2>&1; then
    pass "$name"
  else
    fail "$name"
    sed 's/^/    /' "$log"
  fi
}

# The unit tests print their own PASS/FAIL lines.
unit_tests() {
  local out=$work/unittest.out status=0 n
  "$python" "$here/tests/run.py" >"$out" 2>&1 || status=$?
  cat "$out"
  n=$(grep -c '^PASS ' "$out")
  passed=$((passed + n))
  n=$(grep -c '^FAIL ' "$out")
  failed=$((failed + n))
  # A runner that died before reporting anything must still count.
  if ((status != 0 && n == 0)); then
    fail "tests/run.py (exit $status)"
  fi
}

# The code block between the markers for NAME in DOC, fences removed,
# equals FILE byte for byte.
doc_snippet() {
  local doc=$1 file=$2 name=$3 lang=$4
  "$python" - "$doc" "$file" "$name" "$lang" <<'EOF'
import sys
doc, file, name, lang = sys.argv[1:]
text = open(doc, "rb").read()
begin = f"<!-- begin {name} -->\n```{lang}\n".encode()
end = f"```\n<!-- end {name} -->".encode()
if text.count(begin) != 1 or text.count(end) != 1:
    sys.exit(f"{doc}: want one pair of snippet markers for {name}")
snippet = text[text.index(begin) + len(begin):text.index(end)]
if snippet != open(file, "rb").read():
    sys.exit(f"{doc}: the snippet for {name} differs from {file}")
EOF
}

example_hello() {
  local out
  out=$(cd "$work" && "$python" "$here/examples/hello.py") || return 1
  echo "$out"
  grep -q 'identical: True' <<<"$out"
}

# Raw IDX files of 28x28 images: strokes on black, like digits in shape
# statistics only, for machines without MNIST.
write_fixture() {
  "$python" - "$1" <<'EOF'
import os, struct, sys
import numpy as np
rng = np.random.default_rng(0)
os.makedirs(sys.argv[1], exist_ok=True)
for name, n in (("train-images-idx3-ubyte", 600),
                ("t10k-images-idx3-ubyte", 100)):
    img = np.zeros((n, 28, 28), np.uint8)
    for k in range(n):
        r, c = rng.integers(4, 24, size=2)
        img[k, 4:24, c] = 255
        img[k, r, 4:24] = 200
    with open(os.path.join(sys.argv[1], name), "wb") as f:
        f.write(struct.pack(">4I", 0x803, n, 28, 28) + img.tobytes())
EOF
}

# A complete, valid 8x8 grid of 28x28 greyscale samples, and a model file
# that loads back.
check_outputs() {
  "$python" - "$1" "$2" <<'EOF'
import struct, sys, zlib
import libvae
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature"
pos, chunks = 8, {}
while pos < len(data):
    n, = struct.unpack(">I", data[pos:pos + 4])
    kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
    crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
    assert crc == zlib.crc32(kind + body), f"CRC of {kind}"
    chunks[kind] = chunks.get(kind, b"") + body
    pos += 12 + n
w, h, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
assert (w, h, depth, colour) == (224, 224, 8, 0), (w, h, depth, colour)
pixels = zlib.decompress(chunks[b"IDAT"])
assert len(pixels) == h * (w + 1), len(pixels)
assert len(set(pixels)) > 16, "a flat picture"
with libvae.Model.load(sys.argv[2]) as m:
    assert m.data_shape == (1, 28, 28), m.data_shape
print(f"{w}x{h} PNG, {len(set(pixels))} grey levels; model reloads")
EOF
}

example_mnist() {
  local data=${VAE_DATA:-$HOME/.cache/libvae}/mnist
  if [[ -f $data/train-images-idx3-ubyte && -f $data/t10k-images-idx3-ubyte ]]
  then
    echo "MNIST from $data"
  else
    echo "no MNIST in $data: synthetic IDX files instead"
    data=$work/idx
    write_fixture "$data" || return 1
  fi
  "$python" "$here/examples/mnist_vae.py" --data "$data" --limit 600 \
    --samples "$work/samples.png" --out "$work/mnist.vae" &&
    check_outputs "$work/samples.png" "$work/mnist.vae"
}

# pip builds in the directory it is given: a copy keeps the checkout clean.
# --no-deps: numpy is Debian's python3-numpy, which a --target install
# cannot see as installed.
pip_install() {
  cp -r "$here" "$work/source" &&
    (cd "$work" && "$python" -m pip install --no-build-isolation --no-index \
       --no-deps --target "$site" "$work/source") || return 1
  [[ -f $site/libvae/py.typed ]] || { echo "py.typed not installed"; return 1; }
  local version want
  version=$(cd "$work" && "$python" -c \
    'import importlib.metadata as m; print(m.version("libvae"))') || return 1
  want=$(pkg-config --modversion vae)
  echo "installed libvae $version (Python package), library $want"
  [[ $version == "$want" ]] ||
    { echo "pyproject.toml's version is not the library's"; return 1; }
  # The tests must use what pip installed, not the source tree.
  (cd "$work" && "$python" -c 'import libvae; print(libvae.__file__)') |
    grep -q "^$site/libvae/__init__.py\$"
}

# The type hints hold (strict), and a client type-checks against them.
typing() {
  "$python" -m mypy --version ||
    { echo "no mypy (Debian: apt-get install python3-mypy)"; return 1; }
  (cd "$work" && MYPYPATH=$site "$python" -m mypy --strict --no-incremental \
     -p libvae && MYPYPATH=$site "$python" -m mypy --no-incremental \
     "$here/examples/hello.py")
}

check pip_install pip_install
if ((failed > 0)); then
  echo "python: $passed passed, $failed failed"
  exit 1
fi
unit_tests
check typing typing
check doc_snippet doc_snippet "$root/docs/ffi.md" \
  "$here/examples/hello.py" bindings/python/examples/hello.py python
check example_hello example_hello
check example_mnist example_mnist

echo "python: $passed passed, $failed failed"
((failed == 0))
