#!/usr/bin/env bash
# Compares the ABI of an installed libvae with the checked-in baseline
# lib/libvae.abi, using abidw/abidiff (Debian: abigail-tools).
#   tests/abi/check.sh PREFIX            check the library installed in PREFIX
#   tests/abi/check.sh --update PREFIX   rewrite lib/libvae.abi from it
# Fails when a function or type of the baseline was removed or changed
# incompatibly; a library that only adds functions passes. Only what vae.h
# declares counts: the handles are opaque, so the library's internal structs
# may change freely. The values of vae.h's constants (status codes,
# likelihoods, ...) are part of the ABI too but invisible to abidiff; they
# are kept in lib/libvae.constants and may be added to, never changed.
# The library must carry DWARF debug info (build with -g, e.g.
# -DCMAKE_C_FLAGS=-g or -DCMAKE_BUILD_TYPE=RelWithDebInfo): without it only
# symbol names could be compared, and a changed signature would pass.
# Prints PASS/FAIL per check and ends with "abi: N passed, M failed"; exits
# non-zero if anything failed.
set -uo pipefail

update=0
if [[ "${1:-}" == --update ]]; then
  update=1
  shift
fi
if (($# != 1)) || [[ ! -d "$1" ]]; then
  echo "usage: $0 [--update] PREFIX" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$(cd "$1" && pwd)
baseline=$root/lib/libvae.abi
constants_baseline=$root/lib/libvae.constants
work=$(mktemp -d "${TMPDIR:-/tmp}/vae-abi.XXXXXX")
trap 'rm -rf "$work"' EXIT

lib=
current=$work/current.abi

# The representation of the public ABI only: types not defined in the
# installed headers are dropped (the handles' structs stay opaque), and
# paths, source locations and DT_NEEDED are left out so that the file
# changes only when the ABI does: the source files' paths are cut to start
# at src/, whatever the checkout's location. Hash type ids keep regenerated
# files diffable.
dump() {
  abidw --headers-dir "$prefix/include" --drop-private-types \
    --exported-interfaces-only --no-corpus-path --no-comp-dir-path \
    --no-show-locs --no-elf-needed --type-id-style hash \
    --out-file "$1.tmp" "$lib" &&
    sed -E "s|path='[^']*/(src/[^']*)'|path='\1'|" "$1.tmp" >"$1" &&
    rm -f "$1.tmp"
}

installed_library() {
  if ! command -v abidw >/dev/null || ! command -v abidiff >/dev/null; then
    echo "abidw/abidiff not found: apt-get install abigail-tools"
    return 1
  fi
  local so
  so=$(find "$prefix" -name libvae.so.0 -print -quit)
  [[ -n "$so" ]] || { echo "no libvae.so.0 under $prefix"; return 1; }
  lib=$(realpath "$so")
  [[ -f "$prefix/include/vae.h" ]] || { echo "no $prefix/include/vae.h"; return 1; }
  echo "$lib"
}

debug_info() {
  local sections
  sections=$(readelf -S "$lib") || return 1
  if ! grep -q '\.debug_info' <<<"$sections"; then
    echo "$lib has no DWARF debug info: build libvae with -g" \
      "(e.g. -DCMAKE_C_FLAGS=-g) so that types and signatures can be compared"
    return 1
  fi
}

# Exit status of abidiff: bit 0 tool error, bit 1 usage error, bit 2 an
# ABI change, bit 3 an incompatible one (a removed symbol). A changed
# signature only sets bit 2, like an added function does, so the summary
# lines decide: anything removed or changed fails, additions pass.
compare() {
  dump "$current" || return 1
  local report status=0
  report=$(abidiff --no-show-locs "$baseline" "$current") || status=$?
  echo "$report"
  if ((status & 3)); then
    echo "abidiff failed (exit $status)"
    return 1
  fi
  if ((status & 8)); then
    echo "incompatible ABI change (exit $status)"
    return 1
  fi
  if ((status & 4)); then
    # e.g. "Functions changes summary: 0 Removed, 1 Changed (2 filtered out), 3 Added functions"
    local bad
    bad=$(grep -E 'changes summary:' <<<"$report" |
      grep -E '(^|[^0-9])([1-9][0-9]*) (Removed|Changed)')
    if grep -qE 'SONAME changed|architecture changed' <<<"$report" || [[ -n "$bad" ]]; then
      echo "ABI changed incompatibly:${bad:+ }${bad}"
      return 1
    fi
    echo "compatible: additions only"
  else
    echo "no ABI change"
  fi
}

# "NAME VALUE" for each integer constant vae.h defines, as the compiler
# evaluates it. The version macros are meant to change.
constants() {
  local names
  names=$(sed -nE 's/^#[[:space:]]*define[[:space:]]+(VAE_[A-Z0-9_]+)[[:space:]]+[^[:space:]].*/\1/p' \
    "$prefix/include/vae.h" | grep -vxE 'VAE_API|VAE_VERSION_[A-Z_]+') || return 1
  {
    echo '#include <stdio.h>'
    echo '#include <vae.h>'
    echo 'int main(void) {'
    local n
    for n in $names; do
      printf '    printf("%%s %%lld\\n", "%s", (long long)(%s));\n' "$n" "$n"
    done
    echo '    return 0;'
    echo '}'
  } >"$work/constants.c"
  cc -std=c11 -Wall -Werror -I"$prefix/include" "$work/constants.c" \
    -o "$work/constants" && "$work/constants" | LC_ALL=C sort
}

same_constants() {
  local now missing
  now=$(constants) || return 1
  missing=$(LC_ALL=C comm -23 "$constants_baseline" <(echo "$now")) || return 1
  if [[ -n "$missing" ]]; then
    echo "constants of the baseline that vae.h no longer defines with that value:"
    echo "$missing"
    echo "vae.h now has:"
    grep -F -f <(awk '{print $1 " "}' <<<"$missing") <<<"$now"
    return 1
  fi
  echo "$(wc -l <"$constants_baseline") constants unchanged," \
    "$(($(wc -l <<<"$now") - $(wc -l <"$constants_baseline"))) added"
}

if ((update)); then
  installed_library >/dev/null && debug_info && dump "$baseline" &&
    constants >"$constants_baseline" || exit 1
  echo "wrote $baseline from $lib ($(grep -c '<function-decl ' "$baseline") functions)"
  echo "wrote $constants_baseline ($(wc -l <"$constants_baseline") constants)"
  exit 0
fi

passed=0
failed=0
checks=(installed_library debug_info compare same_constants)
for check in "${checks[@]}"; do
  log=$work/$check.log
  if "$check" >"$log" 2>&1; then
    echo "PASS $check"
    grep -E '^[[:space:]]*\[A\]' "$log" | sed 's/^ */    added: /'
    tail -n 1 "$log" | sed 's/^/    /'
    passed=$((passed + 1))
  else
    echo "FAIL $check"
    sed 's/^/    /' "$log"
    failed=$((failed + 1))
    # Without a library or its debug info nothing else can run.
    [[ $check == installed_library || $check == debug_info ]] && break
  fi
done
# Checks that could not run count as failed.
failed=$((${#checks[@]} - passed))
echo "abi: $passed passed, $failed failed"
((failed == 0))
