#!/usr/bin/env bash
# Fuzzes libvae's loaders with libFuzzer (clang-14); drivers in tests/fuzz/.
#
#   scripts/fuzz.sh [--seconds S | --runs N] [--merge] [--ci] [DRIVER...]
#
# DRIVER is fuzz_model_load, fuzz_idx or fuzz_text (default: all three, one
# after another). Each runs for S seconds (default 60) or N executions,
# starting from its seed corpus tests/fuzz/corpus/DRIVER/ and the inputs
# earlier runs kept (build-fuzz/corpus/DRIVER/, not in git). An input that
# crashes, leaks, trips ASan/UBSan, runs too long or fails a driver check is
# saved in tests/fuzz/crashes/DRIVER/; the script then names it, shows the
# report and fails. Once the bug is fixed, move the input to
# tests/fuzz/corpus/DRIVER/ so the replay test keeps checking it.
#   --merge  add the inputs of this run that reach new coverage to
#            tests/fuzz/corpus/DRIVER/ (review the size before committing)
#   --ci     the test-suite mode: 60 s per driver, and a clean exit with a
#            message when clang-14 is not installed
#   --coverage  fuzz nothing: replay the seeds and the kept inputs through
#            a clang source-coverage build (BUILD-cov/) and print the line
#            and branch coverage of the files each driver targets
# Environment: FUZZ_CC (default clang-14), FUZZ_BUILD (default build-fuzz),
# FUZZ_ARGS (extra libFuzzer options).
set -euo pipefail

cd "$(dirname "$0")/.."
cc=${FUZZ_CC:-clang-14}
build=${FUZZ_BUILD:-build-fuzz}
limit=(-max_total_time=60)
merge=0
ci=0
coverage=0
drivers=()
all_drivers=(fuzz_model_load fuzz_idx fuzz_text)

usage() {
  sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while (($#)); do
  case $1 in
    --seconds) [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || usage
               limit=(-max_total_time="$2"); shift 2 ;;
    --runs) [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || usage
            limit=(-runs="$2"); shift 2 ;;
    --merge) merge=1; shift ;;
    --ci) ci=1; limit=(-max_total_time=60); shift ;;
    --coverage) coverage=1; shift ;;
    -h|--help) usage ;;
    fuzz_model_load|fuzz_idx|fuzz_text) drivers+=("$1"); shift ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
((${#drivers[@]})) || drivers=("${all_drivers[@]}")

if ! command -v "$cc" > /dev/null; then
  if ((ci)); then
    echo "fuzz.sh: $cc not found; fuzzing skipped (scripts/install-deps.sh test installs it)"
    exit 0
  fi
  echo "fuzz.sh: $cc not found (apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 1
fi

# The files each driver is aimed at, for --coverage.
targets_of() {
  case $1 in
    fuzz_model_load) echo src/io.c src/graph.c src/model.c src/adam.c ;;
    fuzz_idx) echo examples/image/idx.c examples/common/files.c ;;
    fuzz_text) echo examples/text/corpus.c examples/text/vocab.c examples/common/files.c ;;
  esac
}

if ((coverage)); then
  cov=$build-cov
  echo "== coverage build of ${drivers[*]} in $cov"
  nice -n 19 cmake -S . -B "$cov" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_BUILD_TYPE=Debug -DVAE_SANITIZE=OFF -DVAE_BUILD_BENCH=OFF \
    -DCMAKE_C_FLAGS="-fprofile-instr-generate -fcoverage-mapping" \
    -DCMAKE_EXE_LINKER_FLAGS=-fprofile-instr-generate \
    -DCMAKE_SHARED_LINKER_FLAGS=-fprofile-instr-generate > /dev/null
  nice -n 19 cmake --build "$cov" -j2 --target "${drivers[@]/fuzz_/replay_}" > /dev/null
  for d in "${drivers[@]}"; do
    replay=$cov/tests/fuzz/${d/fuzz_/replay_}
    dirs=(tests/fuzz/corpus/"$d")
    [[ -d $build/corpus/$d ]] && dirs+=("$build/corpus/$d")
    rm -f "$cov"/"$d".*.profraw
    OPENBLAS_NUM_THREADS=1 LLVM_PROFILE_FILE="$cov/$d.%p.profraw" \
      nice -n 19 "$replay" "${dirs[@]}" | grep '^replayed' || true
    llvm-profdata-14 merge -o "$cov/$d.profdata" "$cov"/"$d".*.profraw
    # shellcheck disable=SC2046 # one argument per file
    llvm-cov-14 report "$replay" -instr-profile="$cov/$d.profdata" \
      $(targets_of "$d")
  done
  exit 0
fi

# The whole library is built with coverage feedback and the sanitizers;
# the drivers alone are linked with libFuzzer's main.
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
echo "== building ${drivers[*]} in $build with $cc"
nice -n 19 cmake -S . -B "$build" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="$flags" -DVAE_SANITIZE=OFF \
  -DVAE_FUZZ_ENGINE=ON -DVAE_BUILD_BENCH=OFF > "$build.cmake.log" 2>&1 ||
  { cat "$build.cmake.log" >&2; exit 1; }
rm -f "$build.cmake.log"
nice -n 19 cmake --build "$build" -j2 --target "${drivers[@]}" > /dev/null

# One BLAS thread: the models are tiny, and the machine is shared.
export OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

status=0
summary=()
for d in "${drivers[@]}"; do
  bin=$build/tests/fuzz/$d
  seeds=tests/fuzz/corpus/$d
  work=$build/corpus/$d
  crashes=tests/fuzz/crashes/$d
  log=$build/logs/$d.log
  mkdir -p "$work" "$crashes" "$(dirname "$log")"
  echo "== $d: ${limit[*]}, log $log"
  rc=0
  # New inputs go to the first directory; the seeds are only read. The
  # timeout is wall-clock time: on a busy machine a nice'd run can wait
  # tens of seconds for a CPU, so only a unit stuck for minutes counts.
  # shellcheck disable=SC2086 # FUZZ_ARGS is a list of options
  nice -n 19 "$bin" "${limit[@]}" -timeout=180 -report_slow_units=180 \
    -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" ${FUZZ_ARGS:-} "$work" "$seeds" \
    > "$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' || true)
  line="$d: ${execs:-?} executions, ${rate:-?}/s, ${cov:-no coverage line}"
  if ((rc != 0)); then
    status=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    line="$line; FOUND A FAILING INPUT: ${artifact:-see $log}"
    echo "---- $d failed (exit $rc); the report:"
    grep -n -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|fuzz check failed|==[0-9]+==' "$log" | head -1 || true
    grep -E -A40 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|fuzz check failed' "$log" | head -60 || tail -40 "$log"
    echo "---- replay it: $bin ${artifact:-INPUT}"
    echo "---- once fixed: git mv ${artifact:-INPUT} $seeds/"
  elif ((merge)); then
    before=$(find "$seeds" -type f | wc -l)
    nice -n 19 "$bin" -merge=1 "$seeds" "$work" >> "$log" 2>&1
    line="$line; merged $(($(find "$seeds" -type f | wc -l) - before)) inputs into $seeds"
  fi
  echo "$line"
  summary+=("$line")
done

printf '\n==== fuzz summary ====\n'
printf '  %s\n' "${summary[@]}"
exit "$status"
