#!/usr/bin/env bash
# test_mpi.sh VAE_IMAGE VAE_IMAGE_MPI VAE_COMPARE_PARAMS MPIEXEC - data-parallel
# training on a tiny synthetic IDX data set, 2 ranks on this machine:
#   - 2 ranks train the same model as one vae-image process with the same
#     global batch and seed, up to the order of float sums (TOL below);
#   - the same with the importance-weighted objective (--train-samples),
#     and for a conditional model (--conditional);
#   - 1 rank writes vae-image's model file byte for byte;
#   - a 2-rank run resumed from a 2-rank checkpoint stays on that path;
#   - a rank fed bad input (missing data, other data, a bad flag) ends the
#     whole job with its message instead of hanging.
set -uo pipefail
image=$1 mpi=$2 compare=$3 mpiexec=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../image/idx_fixture.sh
source "$here/../image/idx_fixture.sh"

# Open MPI: CI runs as root in a container; 2 ranks may exceed the cores;
# loopback and shared memory only, no network. Other MPIs ignore these.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_oob_tcp_if_include=lo
# Sanitizer builds: Open MPI's own leaks at exit are suppressed; the full
# unwind lets the suppressions see the MPI frames under the components it
# has unloaded by then. Other builds ignore these.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$here/lsan-openmpi.supp:print_suppressions=0"
# A hang fails the test instead of holding CI.
run_mpi() { timeout 300 "$mpiexec" "$@"; }

# Adam divides each gradient element by its running RMS, so where a batch's
# contributions to an element nearly cancel, the different order of the
# float sums (two partial sums added by the all-reduce instead of one sum)
# changes that element's step by up to lr. Measured here: max |diff| 6e-8
# to 2e-6 after 10 steps at lr 1e-3; wrong z noise on one rank gives 2e-2.
TOL=1e-4

# same_params LABEL A.vae B.vae: the two models' parameters agree within TOL.
same_params() {
  local out
  if out=$("$compare" "$2" "$3" "$TOL"); then
    ok "$1: $out"
  else
    bad "$1: $out"
  fi
}

# 12 x 12 images keep the model small (140k parameters) for the sanitizer
# build. Batch 15 splits 8 + 7 between 2 ranks, and the last batch of an
# epoch (4 images) 2 + 2; dynamic binarisation draws from the model's
# generator too.
data=$tmp/data
write_idx_dir "$data" 64 24 12
flags=(--arch mlp --batch 15 --seed 5 --binarize dynamic --threads 1
       --progress 0)

"$image" train --data "$data" "${flags[@]}" --epochs 2 --out "$tmp/one.vae" \
  --metrics "$tmp/one.jsonl" 2> "$tmp/one.err" ||
  bad "vae-image train: $(cat "$tmp/one.err")"

if run_mpi -np 2 "$mpi" train --data "$data" "${flags[@]}" --epochs 2 \
    --out "$tmp/two.vae" --metrics "$tmp/two.jsonl" 2> "$tmp/two.err"; then
  same_params "2 ranks = 1 process" "$tmp/one.vae" "$tmp/two.vae"
else
  bad "2 ranks train: $(cat "$tmp/two.err")"
fi

# The metrics: the same lines, the numbers within 0.01 (4 decimals, and the
# ELBO sums in double in another order), the timings aside.
if paste -d'\n' "$tmp/one.jsonl" "$tmp/two.jsonl" 2> /dev/null | awk -F'[,:{}]' '
    NR % 2 { for (i = 1; i <= NF; i++) a[i] = $i; n = NF; next }
    { if (NF != n) exit 1
      for (i = 1; i <= NF; i++) {
        if (a[i - 1] ~ /seconds|samples_per_s/) continue
        if (a[i] !~ /^-?[0-9.]+$/) { if (a[i] != $i) exit 1; continue }
        d = a[i] - $i; if (d > 0.01 || d < -0.01) exit 1 } }
    END { if (NR != 4) exit 1 }'; then
  ok "2 ranks: metrics lines as vae-image's"
else
  bad "2 ranks: metrics differ: $(cat "$tmp/one.jsonl" "$tmp/two.jsonl" 2>&1)"
fi

if run_mpi -np 1 "$mpi" train --data "$data" "${flags[@]}" --epochs 2 \
     --out "$tmp/single.vae" 2> "$tmp/single.err" &&
   cmp -s "$tmp/one.vae" "$tmp/single.vae"; then
  ok "1 rank: vae-image's model file, byte for byte"
else
  bad "1 rank: $(cat "$tmp/single.err")"
fi

# The importance-weighted objective draws k z samples per example.
if "$image" train --data "$data" "${flags[@]}" --epochs 1 --train-samples 3 \
     --out "$tmp/one3.vae" 2> "$tmp/k.err" &&
   run_mpi -np 2 "$mpi" train --data "$data" "${flags[@]}" --epochs 1 \
     --train-samples 3 --out "$tmp/two3.vae" 2>> "$tmp/k.err"; then
  same_params "2 ranks = 1 process, --train-samples 3" "$tmp/one3.vae" "$tmp/two3.vae"
else
  bad "--train-samples 3: $(cat "$tmp/k.err")"
fi

# A conditional model: each rank gives its rows of a batch their labels.
if "$image" train --data "$data" "${flags[@]}" --epochs 1 --conditional \
     --out "$tmp/onec.vae" 2> "$tmp/c.err" &&
   run_mpi -np 2 "$mpi" train --data "$data" "${flags[@]}" --epochs 1 \
     --conditional --out "$tmp/twoc.vae" 2>> "$tmp/c.err"; then
  same_params "2 ranks = 1 process, --conditional" "$tmp/onec.vae" "$tmp/twoc.vae"
else
  bad "--conditional: $(cat "$tmp/c.err")"
fi

# Resuming needs every rank to start from rank 0's optimizer state as well
# as its parameters.
if run_mpi -np 2 "$mpi" train --data "$data" "${flags[@]}" --epochs 1 \
     --out "$tmp/resumed.vae" 2> "$tmp/resumed.err" &&
   run_mpi -np 2 "$mpi" train --data "$data" "${flags[@]}" --epochs 2 \
     --resume "$tmp/resumed.vae" 2>> "$tmp/resumed.err"; then
  same_params "2 ranks, resumed after epoch 1" "$tmp/one.vae" "$tmp/resumed.vae"
else
  bad "2 ranks, resumed: $(cat "$tmp/resumed.err")"
fi

# expect_job_error NAME PATTERN RANK1_ARGS...: rank 0 gets good flags, rank
# 1 the given ones (MPMD syntax); the job must fail in time and say PATTERN.
expect_job_error() {
  local name=$1 pattern=$2 status
  shift 2
  run_mpi -np 1 "$mpi" train --data "$data" "${flags[@]}" --epochs 1 \
    --out "$tmp/bad.vae" : -np 1 "$mpi" "$@" > /dev/null 2> "$tmp/bad.err"
  status=$?
  if ((status == 124)); then
    bad "$name: the job hung"
  elif ((status == 0)); then
    bad "$name: exit 0"
  elif grep -q -- "$pattern" "$tmp/bad.err"; then
    ok "$name"
  else
    bad "$name: stderr: $(cat "$tmp/bad.err")"
  fi
}

expect_job_error "rank 1 without data: the ranks agree to stop" \
  "rank 1: cannot find train-images-idx3-ubyte" \
  train --data "$tmp/none" "${flags[@]}" --epochs 1 --out "$tmp/bad.vae"
grep -q "rank 0: stopping: rank 1 of 2 failed" "$tmp/bad.err" &&
  ok "rank 0 names the failed rank" ||
  bad "rank 0's line: $(cat "$tmp/bad.err")"

other=$tmp/other
cp -r "$data" "$other"
printf '\001' | dd of="$other/train-images-idx3-ubyte" bs=1 seek=1000 \
  conv=notrunc 2> /dev/null
expect_job_error "rank 1 with other data" \
  "rank 1: the training images or labels in $other differ from those rank 0 read" \
  train --data "$other" "${flags[@]}" --epochs 1 --out "$tmp/bad.vae"

# A flag error stops rank 1 before it joins the others: it ends the job.
expect_job_error "rank 1 with a bad flag: the job is aborted" \
  "rank 1: train: unknown option '--bogus'" \
  train --data "$data" "${flags[@]}" --epochs 1 --out "$tmp/bad.vae" \
  --bogus 1

echo "$passed passed, $failed failed"
((failed == 0))
