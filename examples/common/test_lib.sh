# test_lib.sh - sourced by the examples' newer shell tests: a temporary
# directory ($tmp, removed on exit), PASS/FAIL lines and their count, and
# the checks they share. A test ends with `finish`.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
is_png() { [[ -s $1 && $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]; }

# skip_without_gnuplot: exit 77 (ctest's skip) when gnuplot is missing.
skip_without_gnuplot() {
  if ! command -v gnuplot > /dev/null; then
    echo "SKIP: gnuplot is not installed (apt-get install gnuplot-nox)"
    exit 77
  fi
}

# expect_error PROGRAM NAME PATTERN CMD...: CMD exits 1 with exactly one
# stderr line, "PROGRAM: ..." matching PATTERN (an extended regex).
expect_error() {
  local prog=$1 name=$2 pattern=$3 status
  shift 3
  "$@" > /dev/null 2> "$tmp/err"
  status=$?
  if [[ $status == 1 && $(wc -l < "$tmp/err") == 1 ]] &&
     grep -Eq "^$prog: .*$pattern" "$tmp/err"; then
    ok "$name"
  else
    bad "$name (exit $status: $(cat "$tmp/err"))"
  fi
}

finish() {
  echo "$passed passed, $failed failed"
  ((failed == 0))
}
