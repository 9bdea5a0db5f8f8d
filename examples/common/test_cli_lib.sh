# test_cli_lib.sh - sourced by the example programs' test_cli.sh scripts,
# which define ok, bad, $tmp and $prog (the program's name, the prefix of
# its error lines).

# expect_quick_error NAME NEEDLE CMD...: CMD must fail within a second
# (timeout turns a hang, say on a FIFO, into a failure) with exactly one
# stderr line, "$prog: ..." holding NEEDLE.
expect_quick_error() {
  local name=$1 needle=$2 status=0 err
  shift 2
  timeout 1 "$@" > /dev/null 2> "$tmp/err" || status=$?
  err=$(cat "$tmp/err")
  if ((status == 124)); then
    bad "$name (still running after a second)"
  elif ((status == 0)); then
    bad "$name (exit 0)"
  elif [[ $(wc -l < "$tmp/err") -eq 1 && $err == "$prog: "*"$needle"* ]]; then
    ok "$name"
  else
    bad "$name (stderr: $err; expected '$needle')"
  fi
}

# fsize_limited KIB CMD...: runs CMD with every file it writes limited to
# KIB KiB (RLIMIT_FSIZE, which binds root too, unlike permission bits) and
# SIGXFSZ ignored, so a write past the limit fails with EFBIG ("File too
# large") as on a full disk, instead of killing CMD.
fsize_limited() {
  (ulimit -f "$1" && trap '' XFSZ && shift && exec "$@")
}

# no_temp_files PATH: no temporary file of an atomic write of PATH is left.
no_temp_files() {
  ! compgen -G "$1.tmp.*" > /dev/null
}

# padded_metrics PATH: a metrics file of 988 bytes (76 short JSON lines),
# so that one more line crosses a 1 KiB file-size limit part way.
padded_metrics() {
  local i
  for ((i = 0; i < 76; i++)); do printf '{"pad":%04d}\n' "$i"; done > "$1"
}

# expect_bad_numbers FLAG FORM... -- CMD...: "CMD FLAG FORM" must fail at
# once for every FORM with the message naming FLAG and the decimal form it
# takes.
expect_bad_numbers() {
  local flag=$1 forms=() form
  shift
  while [[ $1 != -- ]]; do
    forms+=("$1")
    shift
  done
  shift
  for form in "${forms[@]}"; do
    expect_quick_error "$flag '$form' refused" "$flag: expected a decimal" \
      "$@" "$flag" "$form"
  done
}

# warned_once NAME FILE: FILE (a run's stderr) holds exactly one warning,
# that the loss exploded, saying to try a smaller --lr.
warned_once() {
  if [[ $(grep -c "^$prog: warning: " "$2") == 1 ]] &&
     grep -q "^$prog: warning: the training loss exploded in epoch 1: .*try a smaller --lr$" "$2"; then
    ok "$1"
  else
    bad "$1: $(cat "$2")"
  fi
}
