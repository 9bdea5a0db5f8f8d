#!/usr/bin/env bash
# Runs every command of docs/getting-started.md and docs/ffi.md as written:
#   tests/docs/commands.sh [-v]     (-v: every scenario's script and output)
# A page's command blocks (```sh blocks marked <!-- run: NAME FLAG... -->,
# see tests/docs/blocks.py, which also fails on an unmarked block) run in a
# copy of the checkout, one bash script per scenario NAME, in the page's
# order, with PREFIX a temporary prefix, LIBVAE the copy and HOME a
# temporary home, and none of LD_LIBRARY_PATH, PKG_CONFIG_PATH, VAE_LIBRARY
# or PYTHONPATH set. Then:
# - `sudo apt-get install P...` checks that each P is present
#   (scripts/install-deps.sh check): this test installs no packages, the
#   suite's dependency phase does;
# - a scenario flagged root changes the system (it installs into
#   /usr/local): it runs as root only, when no libvae is in /usr/local yet
#   and VAE_TEST_SYSTEM is not 0, else it is skipped and says why; what it
#   installed is removed afterwards, as the page says, with
#   build/install_manifest.txt and ldconfig;
# - a scenario flagged empty-dir runs in a new empty directory;
# - some scenarios' output must show more than success (expect_* below).
# Prints PASS/FAIL/SKIP per scenario and ends with "docs: N passed, M
# failed"; exits non-zero if anything failed.
set -uo pipefail

verbose=''
[[ ${1:-} == -v ]] && verbose=1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/vae-docs.XXXXXX")
installed_system=''
cleanup() {
  [[ -z $installed_system ]] || uninstall_system
  # Go's module cache holds read-only files.
  chmod -R u+w "$work" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
pages=(getting-started ffi)
version=$(sed -n 's/^project(vae VERSION \([0-9.]*\) .*/\1/p' "$root/CMakeLists.txt")

# The toolchains keep their homes when HOME moves.
export CARGO_HOME=${CARGO_HOME:-$HOME/.cargo} RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
# Kept between runs, as bindings/rust/test.sh keeps it.
export CARGO_TARGET_DIR=${TMPDIR:-/tmp}/libvae-rust-target-$(id -u)
export GOCACHE=$work/gocache GOPATH=$work/gopath GOPROXY=off GOFLAGS='' \
  GO111MODULE=on CGO_ENABLED=1
unset LD_LIBRARY_PATH PKG_CONFIG_PATH PKG_CONFIG_LIBDIR VAE_LIBRARY \
  VAE_HEADER PYTHONPATH

# Defined in every scenario's shell: the pages' sudo lines as this test
# runs them.
preamble() {
  cat <<EOF
sudo() {
  if [[ \$1 == apt-get && \$2 == install ]]; then
    bash "$root/scripts/install-deps.sh" check "\${@:3}"
  elif ((EUID == 0)); then
    "\$@"
  else
    command sudo -n "\$@"
  fi
}
EOF
}

# ---- the system-wide scenario: /usr/local, put back as it was ------------

system_paths=(/usr/local/lib/libvae.so.0 /usr/local/include/vae.h
              /usr/local/lib/pkgconfig/vae.pc /usr/local/lib/cmake/vae)
# Directories the install may create, deepest first.
system_dirs=(/usr/local/lib/cmake/vae /usr/local/lib/cmake
             /usr/local/lib/pkgconfig /usr/local/include /usr/local/lib)
created_dirs=()

# Why a root scenario cannot run here, or nothing.
system_refusal() {
  ((EUID == 0)) || { echo "needs root"; return; }
  [[ ${VAE_TEST_SYSTEM:-1} != 0 ]] || { echo "VAE_TEST_SYSTEM=0"; return; }
  local path
  for path in "${system_paths[@]}"; do
    [[ ! -e $path ]] || { echo "$path exists: a libvae is installed there"; return; }
  done
}

prepare_system() {
  local dir
  created_dirs=()
  for dir in "${system_dirs[@]}"; do
    [[ -d $dir ]] || created_dirs+=("$dir")
  done
  installed_system=$1
}

# As docs/getting-started.md says: the manifest's files, then ldconfig;
# and the directories the install created.
uninstall_system() {
  local manifest=$installed_system/build/install_manifest.txt dir
  [[ -f $manifest ]] && xargs rm -f <"$manifest"
  for dir in "${created_dirs[@]}"; do
    rmdir "$dir" 2>/dev/null
  done
  ldconfig
  installed_system=''
  local path
  for path in "${system_paths[@]}"; do
    [[ ! -e $path ]] || { echo "left behind: $path"; return 1; }
  done
}

# ---- what some scenarios' output must show --------------------------------

# The Python import from / prints the version, found with no variable set.
expect_getting-started_system() { tail -n 1 "$1" | grep -qx "$version"; }
# The truly static program needs no libvae.so; the one-file sentence VAE
# generates its five sentences.
expect_getting-started_private() {
  ldd "$src/hello-static" | tee -a "$1"
  ! ldd "$src/hello-static" | grep -q libvae &&
    [[ $(grep -c '^sample:' "$1") == 5 ]]
}
expect_ffi_cxx() { grep -q '^expected error: .*\[VAE_ERR_FORMAT\]$' "$1"; }
expect_ffi_python() { grep -q 'identical: True' "$1"; }
expect_ffi_rust() { grep -q 'parameters identical' "$1"; }
expect_ffi_go() { grep -q '^expected error: status -4 ' "$1"; }

# ---- running a page ---------------------------------------------------------

passed=0
failed=0
result() {
  echo "$1 $2"
  case $1 in
    PASS) passed=$((passed + 1)) ;;
    FAIL) failed=$((failed + 1)) ;;
  esac
}

# scenario PAGE NAME FLAG...: one PASS/FAIL/SKIP line; the script and its
# output only on failure.
scenario() {
  local page=$1 name=$2 dir=$src flag refusal='' status=0
  shift 2
  local script=$work/$page-$name.sh log=$work/$page-$name.log
  { preamble && doc_script "$root/docs/$page.md" "$name"; } >"$script" ||
    { result FAIL "$page/$name (no script)"; return; }
  for flag; do
    case $flag in
      empty-dir) dir=$(mktemp -d "$work/empty.XXXXXX") ;;
      root) refusal=$(system_refusal) ;;
      *) result FAIL "$page/$name (unknown flag $flag)"; return ;;
    esac
  done
  if [[ -n $refusal ]]; then
    result SKIP "$page/$name: $refusal"
    return
  fi
  [[ " $* " != *" root "* ]] || prepare_system "$src"
  local start=$SECONDS
  (cd "$dir" && HOME=$home PREFIX=$prefix LIBVAE=$src bash "$script") \
    >"$log" 2>&1 || status=$?
  if ((status == 0)) && declare -F "expect_${page}_$name" >/dev/null; then
    "expect_${page}_$name" "$log" >>"$log" 2>&1 ||
      { echo "(the output lacks what expect_${page}_$name wants)" >>"$log"; status=1; }
  fi
  if [[ -n $installed_system ]]; then
    uninstall_system >>"$log" 2>&1 || status=1
  fi
  if ((status == 0)); then
    result PASS "$page/$name ($((SECONDS - start)) s)"
    [[ -z $verbose ]] || sed 's/^/    /' "$script" "$log"
  else
    result FAIL "$page/$name ($((SECONDS - start)) s)"
    sed 's/^/    /' "$script" "$log"
  fi
}

marked=("$root/docs/packaging.md")
for page in "${pages[@]}"; do marked+=("$root/docs/$page.md"); done
if /usr/bin/python3 "$here/blocks.py" check "${marked[@]}" >"$work/marked.log" 2>&1; then
  result PASS "every command block is marked"
else
  result FAIL "every command block is marked"
  sed 's/^/    /' "$work/marked.log"
fi
for page in "${pages[@]}"; do
  src=$work/$page/src home=$work/$page/home prefix=$work/$page/prefix
  mkdir -p "$home" "$prefix" && copy_checkout "$root" "$src" ||
    { result FAIL "$page (copying the checkout)"; continue; }
  while read -r name flags; do
    # shellcheck disable=SC2086 # flags is a list of words
    scenario "$page" "$name" $flags
  done < <(/usr/bin/python3 "$here/blocks.py" scenarios "$root/docs/$page.md")
done
echo "docs: $passed passed, $failed failed"
((failed == 0))
