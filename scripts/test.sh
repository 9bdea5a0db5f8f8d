#!/usr/bin/env bash
# The whole libvae test suite, as CI runs it (.ci/run calls this script).
#   1. installs the Debian packages it needs (scripts/install-deps.sh test)
#   2. Debug + AddressSanitizer/UBSan build in build-asan/, ctest
#   3. Debug + ThreadSanitizer build of the library tests in build-tsan/,
#      ctest (one BLAS thread; see tsan_tests)
#   4. Release build in build-release/, ctest
#   5. the installed library used by outside programs (tests/consumers/run.sh)
#   6. the FFI clients and the C++ consumer against an installed prefix
#      (bindings/*/test.sh, tests/consumers/cxx/test.sh), and the ABI
#      against the baseline in lib/ (tests/abi/check.sh)
#   7. the Release cmocka tests again under valgrind (leaks, uninitialised reads)
#   8. the Debian packages (cpack -G DEB in a Release build of their own),
#      unpacked and used, and lintian (tests/packages/run.sh)
#   9. every command of docs/getting-started.md and docs/ffi.md, as written,
#      in a copy of the checkout (tests/docs/commands.sh); as root, this
#      installs into /usr/local for seconds and removes it again
#  10. each fuzz driver for 60 s under libFuzzer when clang-14 is installed
# Every phase runs even if an earlier one failed (except those needing a
# build that failed); a summary with times closes the run, and the exit
# status is non-zero if anything failed.
set -euo pipefail

cd "$(dirname "$0")/.."
jobs=2
# --timeout only applies to tests that set no TIMEOUT property of their own.
ctest_args=(--output-on-failure --no-tests=error -j"$jobs" --timeout 900)

names=()
results=()
times=()
# record NAME STATUS SECONDS
record() {
  names+=("$1")
  results+=("$2")
  times+=("$3")
}

# run_phase NAME COMMAND...: runs the command, records PASS/FAIL and its time.
# Phase functions chain their steps with && (set -e does not apply inside a
# command whose status is being tested).
run_phase() {
  local name=$1 start=$SECONDS status=0
  shift
  printf '\n==== %s ====\n' "$name"
  "$@" || status=$?
  if ((status == 0)); then
    record "$name" PASS $((SECONDS - start))
  else
    echo "==== $name FAILED (exit $status) ===="
    record "$name" FAIL $((SECONDS - start))
  fi
  return "$status"
}

skip_phase() {
  printf '\n==== %s ==== skipped: %s\n' "$1" "$2"
  record "$1" SKIP 0
}

build() {
  local dir=$1
  shift
  cmake -S . -B "$dir" "$@" && cmake --build "$dir" -j"$jobs"
}

ctest_asan() {
  ASAN_OPTIONS=detect_leaks=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --test-dir build-asan "${ctest_args[@]}"
}

# The library's tests (examples and benchmarks are not built) under TSan.
# OpenBLAS's own code is not instrumented, so TSan cannot see how its thread
# pool synchronises; with one BLAS thread every product runs on the calling
# thread, and every buffer a product uses is also written or read by
# libvae's instrumented code around it (bias fill, gradient memset, the
# loops that use the result), where a race between two of the caller's
# threads is still reported (docs/threading.md).
tsan_tests() {
  build build-tsan -DCMAKE_BUILD_TYPE=Debug -DVAE_SANITIZE=thread \
      -DVAE_BUILD_EXAMPLES=OFF -DVAE_BUILD_BENCH=OFF &&
    OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
      ctest --test-dir build-tsan "${ctest_args[@]}"
}

ctest_release() {
  ctest --test-dir build-release "${ctest_args[@]}"
}

# The registered tests whose executable links cmocka, as a ctest -R regex:
# interpreters and example programs are left to the plain ctest phases.
cmocka_test_regex() {
  ctest --test-dir build-release --show-only=json-v1 | /usr/bin/python3 -c '
import json, re, subprocess, sys
names = []
for test in json.load(sys.stdin)["tests"]:
    command = test.get("command") or []
    if not command:
        continue
    dyn = subprocess.run(["readelf", "-d", command[0]], capture_output=True,
                         text=True)
    if dyn.returncode == 0 and "[libcmocka.so" in dyn.stdout:
        names.append(re.escape(test["name"]))
if not names:
    sys.exit("no cmocka test executables registered with ctest")
print("^(" + "|".join(names) + ")$")
'
}

valgrind_tests() {
  local regex status=0 supp=$PWD/tests/valgrind.supp
  regex=$(cmocka_test_regex) || return 1
  rm -f build-release/Testing/Temporary/MemoryChecker.*.log
  # ctest's memcheck mode keeps each test's working directory and
  # environment. Without a CTest dashboard configuration it warns about the
  # missing DartConfiguration.tcl; that noise is filtered out. One BLAS
  # thread: valgrind runs threads one at a time anyway. tests/valgrind.supp
  # says what it suppresses and why.
  (cd build-release &&
    OPENBLAS_NUM_THREADS=1 ctest -T memcheck \
      --overwrite MemoryCheckCommand="$(command -v valgrind)" \
      --overwrite "MemoryCheckCommandOptions=--error-exitcode=1 --leak-check=full --num-callers=30 --suppressions=$supp" \
      -R "$regex" -LE no_valgrind "${ctest_args[@]}" \
      2> >(grep -v 'DartConfiguration.tcl' >&2)) || status=$?
  if ((status != 0)); then
    local log
    for log in build-release/Testing/Temporary/MemoryChecker.*.log; do
      [[ -e "$log" ]] || continue
      if grep -q 'ERROR SUMMARY: [1-9]' "$log"; then
        # The first reports name the bug; the rest are mostly its echoes.
        printf '\n---- %s (first 150 lines) ----\n' "$log"
        head -n 150 "$log"
      fi
    done
  fi
  return "$status"
}

# Each client's runner against one fresh install of the Release build; all
# run even if one fails.
bindings() {
  local prefix status=0 runner
  prefix=$(mktemp -d "${TMPDIR:-/tmp}/vae-bindings.XXXXXX") || return 1
  if cmake --install build-release --prefix "$prefix" > /dev/null; then
    for runner in tests/consumers/cxx/test.sh bindings/python/test.sh \
                  bindings/rust/test.sh bindings/go/test.sh tests/abi/check.sh; do
      printf -- '-- %s\n' "$runner"
      bash "$runner" "$prefix" || status=1
    done
  else
    status=1
  fi
  rm -rf "$prefix"
  return "$status"
}

total_start=$SECONDS
run_phase "dependencies" bash scripts/install-deps.sh test || true

if run_phase "build asan (Debug)" build build-asan \
     -DCMAKE_BUILD_TYPE=Debug -DVAE_SANITIZE=ON; then
  run_phase "ctest asan" ctest_asan || true
else
  skip_phase "ctest asan" "build failed"
fi

run_phase "tsan" tsan_tests || true

# -g adds debug information only (the same code): the ABI check reads the
# types from it, and valgrind names lines with it.
if run_phase "build release" build build-release \
     -DCMAKE_BUILD_TYPE=Release -DVAE_SANITIZE=OFF -DCMAKE_C_FLAGS=-g; then
  run_phase "ctest release" ctest_release || true
  run_phase "consumers" bash tests/consumers/run.sh build-release || true
  run_phase "bindings" bindings || true
  run_phase "valgrind" valgrind_tests || true
else
  for p in "ctest release" consumers bindings valgrind; do
    skip_phase "$p" "build failed"
  done
fi

# Its own Release build, configured for /usr as docs/packaging.md says.
run_phase "packages" bash tests/packages/run.sh || true

# Builds of its own in copies of the checkout.
run_phase "docs commands" bash tests/docs/commands.sh || true

# libFuzzer, 60 s per driver (the long runs: scripts/fuzz.sh --seconds).
if command -v clang-14 > /dev/null; then
  run_phase "fuzz (60 s each)" bash scripts/fuzz.sh --ci || true
else
  skip_phase "fuzz (60 s each)" "clang-14 not installed"
fi

passed=0
failed=0
printf '\n==== summary ====\n'
for i in "${!names[@]}"; do
  printf '  %-4s  %-20s %5ds\n' "${results[$i]}" "${names[$i]}" "${times[$i]}"
  case "${results[$i]}" in
    PASS) passed=$((passed + 1)) ;;
    *) failed=$((failed + 1)) ;;
  esac
done
printf '  total %d s\n' $((SECONDS - total_start))
echo "phases: $passed passed, $failed failed"
((failed == 0))
