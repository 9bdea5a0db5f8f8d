#!/usr/bin/env bash
# The Python binding against an installed libvae, as a user meets it.
#   bindings/python/test.sh PREFIX      (a prefix that `cmake --install` filled)
# Installs the package with pip as docs/ffi.md says, with pip's defaults
# (isolated build) and no package index: into a temporary target with
# /usr/bin/python3 (Debian's python3-numpy), and runs everything from there,
# the library found through the prefix's vae.pc (PKG_CONFIG_PATH): the
# unittest modules (one line per test), mypy --strict on the installed
# package and its build backend, the documented example, the byte-for-byte
# check of its copy in docs/ffi.md, and the MNIST example on a few images.
# Then the install with another python3 on PATH (one without numpy), into
# a virtual environment, with the library in a standard path, and editable.
# Prints PASS/FAIL/SKIP lines and ends with "python: N passed, M failed";
# exits non-zero if anything failed.
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
# A check that cannot run here returns SKIP after printing why.
SKIP=77

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
# The version every install must report: the library's; and where
# libvae.so.0 is, as the binding spells the path it finds through vae.pc.
want=$(pkg-config --modversion vae)
libdir=$("$python" -c 'import os, sys; print(os.path.normpath(sys.argv[1]))' \
  "$(pkg-config --variable=libdir vae)")
# "From another directory": one that holds nothing importable.
elsewhere=$work/elsewhere
venv=$work/venv
mkdir "$elsewhere"
echo "vae.pc $pc, header $VAE_HEADER"

# check NAME COMMAND...: one PASS/FAIL line, or SKIP with the reason (the
# last line the command printed); the output only on failure.
check() {
  local name=$1 log=$work/$1.log status=0
  shift
  "$@" >"$log" 2>&1 || status=$?
  if ((status == 0)); then
    pass "$name"
  elif ((status == SKIP)); then
    echo "SKIP $name: $(tail -n 1 "$log")"
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

# The acceptance command of issue 19 as written, from the checkout's root:
# pip's defaults (an isolated build) and --no-index, so that nothing can be
# fetched: the build needs no package and the install no dependency. A
# --target directory is not on sys.path by itself; PYTHONPATH names it.
pip_target() {
  (cd "$root" &&
    "$python" -m pip install --no-index --target "$site" ./bindings/python) ||
    return 1
  [[ -f $site/libvae/py.typed ]] || { echo "py.typed not installed"; return 1; }
  local version
  version=$(cd "$elsewhere" && "$python" -c \
    'import importlib.metadata as m; print(m.version("libvae"))') || return 1
  echo "installed libvae $version (Python package), library $want"
  [[ $version == "$want" ]] ||
    { echo "pyproject.toml's version is not the library's"; return 1; }
  # The tests must use what pip installed, not the source tree.
  (cd "$elsewhere" && "$python" -c 'import libvae; print(libvae.__file__)') |
    grep -q "^$site/libvae/__init__.py\$" || return 1
  version=$(cd "$elsewhere" &&
    "$python" -c "import libvae; print(libvae.version())") || return 1
  echo "libvae.version(): $version"
  [[ $version == "$want" ]]
}

# The first python3 on PATH that is not /usr/bin/python3 (pyenv's, say),
# or nothing.
other_python() {
  local candidate system where='import os, sys; print(os.path.realpath(sys.executable))'
  system=$("$python" -c "$where")
  while read -r candidate; do
    if [[ $("$candidate" -c "$where" 2>/dev/null) != "$system" ]]; then
      echo "$candidate"
      return
    fi
  done < <(type -ap python3)
}

# The same install with that python3, which has pip but, unlike Debian's,
# no numpy: `import libvae` and version() work, and the unit tests of
# test_numpy_optional.py show every call without arrays working and the
# array calls raising the ImportError that says how to install numpy.
other_python_install() {
  local other target=$work/other-site version
  other=$(other_python)
  [[ -n $other ]] ||
    { echo "no python3 on PATH other than $python"; return "$SKIP"; }
  "$other" -c 'import sys; print(sys.executable, sys.version)' || return 1
  "$other" -m pip --version || { echo "$other has no pip"; return "$SKIP"; }
  "$other" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    { echo "$other is older than Python 3.11: its build needs tomli"
      return "$SKIP"; }
  (cd "$root" &&
    "$other" -m pip install --no-index --target "$target" ./bindings/python) ||
    return 1
  version=$(cd "$elsewhere" && PYTHONPATH=$target "$other" -c \
    "import libvae; print(libvae.version())") || return 1
  echo "libvae.version(): $version"
  [[ $version == "$want" ]] || return 1
  if (cd "$elsewhere" && PYTHONPATH='' "$other" -c 'import numpy') 2>/dev/null
  then
    echo "$other has numpy: the tests hide it (sys.modules)"
  else
    echo "$other has no numpy"
  fi
  (cd "$elsewhere" && PYTHONPATH=$target:$here/tests "$other" -m unittest -v \
     test_numpy_optional.WithoutNumpyTest)
}

# A virtual environment that sees Debian's numpy, and the documented
# install into it with no flags at all (docs/ffi.md); then `import libvae`
# from another directory with neither PYTHONPATH nor VAE_LIBRARY set, the
# library found through the prefix's vae.pc (PKG_CONFIG_PATH).
in_venv() {
  env -u PYTHONPATH -u VAE_LIBRARY "$venv/bin/python" "$@"
}

venv_install() {
  "$python" -m venv --system-site-packages "$venv" &&
    (cd "$root" && in_venv -m pip install ./bindings/python) || return 1
  local out
  out=$(cd "$elsewhere" && in_venv -c 'import libvae
print(libvae.__file__)
print(libvae.lib._name, libvae.version())') || return 1
  echo "$out"
  grep -q "^$venv/lib/python3[.0-9]*/site-packages/libvae/__init__.py\$" \
    <<<"$out" || { echo "not the venv's libvae"; return 1; }
  grep -qx "$libdir/libvae.so.0 $want" <<<"$out"
}

# The same venv with the library in a standard path and nothing set at all
# (no PYTHONPATH, VAE_LIBRARY, PKG_CONFIG_PATH or LD_LIBRARY_PATH). The
# system stays as it is: unshare gives this check a mount namespace of its
# own (root only), in which /usr/local is an overlay that adds the prefix's
# libvae.so.0 and vae.pc to it, and /etc/ld.so.cache a cache that ldconfig
# wrote with them. There pkg-config finds vae.pc in its default path; and
# with no pkg-config, the dynamic loader finds libvae.so.0 in its cache.
# (tests/docs/commands.sh installs into the real /usr/local, as root.)
venv_standard_path() {
  ((EUID == 0)) ||
    { echo "needs root (a private mount namespace)"; return "$SKIP"; }
  unshare -m true ||
    { echo "unshare -m is not permitted here"; return "$SKIP"; }
  unshare -m --propagation private env -u PYTHONPATH -u VAE_LIBRARY \
    -u VAE_HEADER -u PKG_CONFIG_PATH -u LD_LIBRARY_PATH \
    bash -s "$libdir" "$pc" "$venv" "$work/ns" "$want" <<'EOF'
set -euo pipefail
libdir=$1 pc=$2 venv=$3 ns=$4 want=$5
PATH=$PATH:/usr/sbin:/sbin  # ldconfig, for a root without them on PATH
mkdir "$ns"
mount -t tmpfs libvae-test "$ns"
mkdir "$ns/upper" "$ns/work"
mount -t overlay overlay \
  -o "lowerdir=/usr/local,upperdir=$ns/upper,workdir=$ns/work" /usr/local
mkdir -p /usr/local/lib/pkgconfig
cp -P "$libdir"/libvae.so.0* /usr/local/lib/
cp "$pc" /usr/local/lib/pkgconfig/
# ldconfig writes its auxiliary cache whatever it is told, and links in the
# directories it reads unless told -X: it writes nothing of the system's.
mount -t tmpfs libvae-test /var/cache/ldconfig
ldconfig -X -C "$ns/ld.so.cache"
mount --bind "$ns/ld.so.cache" /etc/ld.so.cache
show='import libvae
print(libvae.lib._name, libvae.version())
print(*{line.split()[-1] for line in open("/proc/self/maps")
        if "/libvae.so" in line})'
cd /
echo "through pkg-config's default path:"
out=$("$venv/bin/python" -c "$show")
echo "$out"
[[ $out == "/usr/local/lib/libvae.so.0 $want"$'\n'/usr/local/lib/libvae.so.0* ]]
echo "without pkg-config, through the dynamic loader's cache:"
out=$(PKG_CONFIG=/nonexistent "$venv/bin/python" -c "$show")
echo "$out"
[[ $out == "libvae.so.0 $want"$'\n'/usr/local/lib/libvae.so.0* ]]
EOF
}

# pip install --editable: the venv imports the package from the source tree.
venv_editable() {
  (cd "$root" && in_venv -m pip install --editable ./bindings/python) ||
    return 1
  local out
  out=$(cd "$elsewhere" && in_venv -c \
    'import libvae; print(libvae.__file__, libvae.version())') || return 1
  echo "$out"
  [[ $out == "$here/libvae/__init__.py $want" ]]
}

# pip, the build backend and the tests wrote nothing into the checkout.
source_untouched() {
  find "$here" | sort | diff "$work/source-before" -
}

# The type hints hold (strict), a client type-checks against them, and they
# are numpy's own array types, not Any, although numpy is imported only
# when a call needs it: a client that takes an array for an int is caught.
typing() {
  "$python" -m mypy --version ||
    { echo "no mypy (Debian: apt-get install python3-mypy)"; return 1; }
  (cd "$work" && MYPYPATH=$site "$python" -m mypy --strict --no-incremental \
     -p libvae && MYPYPATH=$site "$python" -m mypy --no-incremental \
     "$here/examples/hello.py" &&
     "$python" -m mypy --strict --no-incremental \
       "$here/backend/libvae_backend.py") || return 1
  cat >"$work/mistyped.py" <<'EOF'
import libvae


def size(model: libvae.Model) -> int:
    return model.decode(model.sample(1)[0])
EOF
  local out
  if out=$(cd "$work" && MYPYPATH=$site "$python" -m mypy --strict \
             --no-incremental mistyped.py); then
    echo "mypy let a mistake pass"
    return 1
  fi
  echo "$out"
  grep -q 'Incompatible return value type (got "ndarray\[' <<<"$out"
}

find "$here" | sort >"$work/source-before"
check pip_target pip_target
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
check other_python_install other_python_install
check venv_install venv_install
check venv_standard_path venv_standard_path
check venv_editable venv_editable
check source_untouched source_untouched

echo "python: $passed passed, $failed failed"
((failed == 0))
