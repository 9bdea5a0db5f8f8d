#!/usr/bin/env bash
# libvae against PyTorch and against the sgemm ceiling, in one run
# (issues 6 and 18), in three configurations of the environment:
#   (a) the environment as given;
#   (b) (a) without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, so OpenBLAS
#       picks its kernels for the CPU, as on a user's machine;
#   (c) (b) with OMP_WAIT_POLICY=PASSIVE and glibc.malloc.hugetlb=1 added
#       to GLIBC_TUNABLES (PyTorch's best runtime settings).
# Each configuration applies to both programs alike. First
# bench/sgemm_ceiling for 1 and 2 threads in each configuration, then per
# model (mlp, conv, lstm_text) and thread count (1, 2), for (a), (b), (c)
# in turn: bench/vae-bench, bench/torch_ref.py, and at 1 thread
# torch_ref.py again with OPENBLAS_NUM_THREADS=1 (PyTorch on one core);
# each in a fresh process. Prints per configuration one table (model,
# threads, samples/s of both, their ratio, libvae's GFLOP/s as a fraction
# of the model's sgemm ceiling (the faster of OpenBLAS's and libvae's own
# product per shape, bench/sgemm_ceiling.c), peak RSS of both, start-up) and the
# generation figures; then best versus best (each program at its fastest
# run), one core versus one core, libvae's 2-thread / 1-thread speed, the
# issue's targets against the figures, and as its last line one JSON object
# with all figures, each naming its configuration, the command, commit and
# machine.
#
# usage: bench/compare.sh [--quick] BUILD_DIR
#   BUILD_DIR  a Release build of libvae with VAE_BUILD_BENCH=ON (the
#              default), VAE_SANITIZE off
#   --quick    smoke run: 3 timed steps after 1 warm-up, 3 calls per GEMM
#              shape, 4 prefixes for the naive generator. Proves the
#              pipeline works; its numbers are not measurements.
# Raw records go to $OUT_DIR/a, /b, /c (default: a new temporary directory,
# printed).
#
# Nothing but the variables above changes between configurations: torch
# sees the caller's OPENBLAS_NUM_THREADS and OMP_NUM_THREADS (except in the
# one-core run), all recorded in the JSON. Each program gets --threads N:
# vae-bench calls vae_set_num_threads(N), torch_ref.py
# torch.set_num_threads(N), as a user would; Debian's torch does its matrix
# products in OpenBLAS, whose pool that call does not resize, so the torch
# records also report OpenBLAS's thread count.
set -euo pipefail

usage() {
    echo "usage: $0 [--quick] BUILD_DIR" >&2
    exit 2
}
quick=0
if [[ ${1:-} == --quick ]]; then
    quick=1
    shift
fi
[[ $# -eq 1 ]] || usage
build=$1
command="$0 $*"
[[ $quick == 1 ]] && command="$0 --quick $*"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py=/usr/bin/python3
lib_bench=$build/bench/vae-bench
ceiling=$build/bench/sgemm_ceiling
for f in "$lib_bench" "$ceiling"; do
    [[ -x $f ]] || { echo "$0: $f not found; build with VAE_BUILD_BENCH=ON (OpenBLAS needed for sgemm_ceiling)" >&2; exit 1; }
done
"$py" -c 'import torch' 2>/dev/null || { echo "$0: $py cannot import torch" >&2; exit 1; }

cache_value() {
    sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2>/dev/null
}
build_type=$(cache_value CMAKE_BUILD_TYPE)
sanitize=$(cache_value VAE_SANITIZE)
if [[ $build_type != Release || ${sanitize,,} != @(off|no|false|n|0|) ]]; then
    msg="$build is a '$build_type' build (VAE_SANITIZE=${sanitize:-?}); timings need Release without sanitizers"
    if [[ $quick == 1 ]]; then
        echo "$0: warning: $msg" >&2
    else
        echo "$0: $msg" >&2
        exit 1
    fi
fi

out=${OUT_DIR:-$(mktemp -d /tmp/vae-compare.XXXXXX)}
configs=(a b c)
for c in "${configs[@]}"; do
    mkdir -p "$out/$c"
    rm -f "$out/$c/sgemm.jsonl" "$out/$c/libvae.jsonl" "$out/$c/torch.jsonl" \
        "$out/$c/torch_1core.jsonl"
done
echo "outputs in $out" >&2

# in_config C CMD...: runs CMD in configuration C.
env_b=(-u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
env_c=("${env_b[@]}" OMP_WAIT_POLICY=PASSIVE
       "GLIBC_TUNABLES=${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.malloc.hugetlb=1")
in_config() {
    local c=$1
    shift
    case $c in
        a) env "$@" ;;
        b) env "${env_b[@]}" "$@" ;;
        c) env "${env_c[@]}" "$@" ;;
    esac
}

steps=() gen=() reps=()
if [[ $quick == 1 ]]; then
    steps=(--steps 3 --warmup 1)
    gen=(--gen-stride 25)
    reps=(--reps 3)
fi

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for c in "${configs[@]}"; do
    for threads in 1 2; do
        echo "== ($c) sgemm ceiling, $threads thread(s)" >&2
        in_config "$c" "$ceiling" --threads "$threads" "${reps[@]}" --json \
            >>"$out/$c/sgemm.jsonl"
    done
    # The environment each configuration's programs saw.
    in_config "$c" "$py" -c 'import json, os; print(json.dumps({k: os.environ.get(k) for k in (
        "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GLIBC_TUNABLES")}))' >"$out/$c/env.json"
done
for model in mlp conv lstm_text; do
    for threads in 1 2; do
        for c in "${configs[@]}"; do
            echo "== ($c) $model, $threads thread(s): libvae" >&2
            in_config "$c" "$lib_bench" --model "$model" --threads "$threads" \
                "${steps[@]}" "${gen[@]}" --json --t0 "${EPOCHREALTIME/,/.}" \
                >>"$out/$c/libvae.jsonl"
            echo "== ($c) $model, $threads thread(s): torch" >&2
            in_config "$c" "$py" "$here/torch_ref.py" --model "$model" \
                --threads "$threads" "${steps[@]}" --json \
                --t0 "${EPOCHREALTIME/,/.}" >>"$out/$c/torch.jsonl"
            if [[ $threads == 1 ]]; then
                echo "== ($c) $model, 1 thread: torch, OPENBLAS_NUM_THREADS=1" >&2
                in_config "$c" OPENBLAS_NUM_THREADS=1 "$py" "$here/torch_ref.py" \
                    --model "$model" --threads 1 "${steps[@]}" --json \
                    --t0 "${EPOCHREALTIME/,/.}" >>"$out/$c/torch_1core.jsonl"
            fi
        done
    done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

commit=$(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)

"$py" - "$out" "$quick" "$command" "$commit" "$cpu" "$(nproc)" "$(uname -r)" \
    "$load_start" "$load_end" <<'EOF'
import json, os, sys

out, quick, command, commit, cpu, nproc, kernel, load_start, load_end = sys.argv[1:]
quick = quick == "1"
configs = ["a", "b", "c"]
config_name = {"a": "environment as given",
               "b": "OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE unset",
               "c": "(b) + OMP_WAIT_POLICY=PASSIVE, glibc.malloc.hugetlb=1"}
models = ["mlp", "conv", "lstm_text"]

def records(c, name):
    with open(os.path.join(out, c, name)) as f:
        return [json.loads(line) for line in f if line.strip()]

lib, tor, tor1, sgemm, env = {}, {}, {}, {}, {}
for c in configs:
    for r in records(c, "libvae.jsonl"):
        lib[(c, r["model"], r["threads"])] = dict(r, config=c)
    for r in records(c, "torch.jsonl"):
        tor[(c, r["model"], r["threads"])] = dict(r, config=c)
    for r in records(c, "torch_1core.jsonl"):
        tor1[(c, r["model"])] = dict(r, config=c, openblas_num_threads_env=1)
    for r in records(c, "sgemm.jsonl"):
        sgemm[(c, r["threads"])] = dict(r, config=c)
    with open(os.path.join(out, c, "env.json")) as f:
        env[c] = json.load(f)

keys = [(c, m, t) for c in configs for t in (1, 2) for m in models]
for k in keys:
    c, m, t = k
    if k not in lib or k not in tor or (c, t) not in sgemm or (c, m) not in tor1:
        sys.exit(f"compare: ({c}) no record for {m} at {t} thread(s)")
    # Three independent derivations of the issue's FLOP counts must agree.
    f = {lib[k]["flops_per_step"], tor[k]["flops_per_step"],
         tor1[(c, m)]["flops_per_step"], sgemm[(c, t)]["models"][m]["flops_per_step"]}
    if len(f) != 1:
        sys.exit(f"compare: {m}: FLOPs per step disagree: {sorted(f)}")
    if lib[k]["params"] != tor[k]["params"]:
        sys.exit(f"compare: {m}: {lib[k]['params']} parameters in libvae, "
                 f"{tor[k]['params']} in torch: not the same model")

rows = []
for c, m, t in keys:
    l, p = lib[(c, m, t)], tor[(c, m, t)]
    ceil = sgemm[(c, t)]["models"][m]["ceiling_gflops"]
    rows.append({
        "config": c, "model": m, "threads": t,
        "speed_ratio": l["samples_per_s"] / p["samples_per_s"],
        "ceiling_gflops": ceil,
        "ceiling_fraction": l["gflops"] / ceil,
        "rss_ratio": l["peak_rss_kib"] / p["peak_rss_kib"],
        "libvae": l, "torch": p,
    })
row = {(r["config"], r["model"], r["threads"]): r for r in rows}

def sps(r):
    return r["samples_per_s"]

# Best versus best: each program at its fastest run of the configuration
# (PyTorch's one-core run included: at its best whatever the setting).
best = {}
for c in configs:
    for m in models:
        lt = max((1, 2), key=lambda t: sps(lib[(c, m, t)]))
        tk = max([("1", tor[(c, m, 1)]), ("2", tor[(c, m, 2)]), ("1core", tor1[(c, m)])],
                 key=lambda x: sps(x[1]))
        best[(c, m)] = {"config": c, "model": m,
                        "libvae_threads": lt, "libvae": sps(lib[(c, m, lt)]),
                        "torch_run": tk[0], "torch": sps(tk[1]),
                        "ratio": sps(lib[(c, m, lt)]) / sps(tk[1])}
one_core = {(c, m): {"config": c, "model": m, "libvae": sps(lib[(c, m, 1)]),
                     "torch": sps(tor1[(c, m)]),
                     "ratio": sps(lib[(c, m, 1)]) / sps(tor1[(c, m)])}
            for c in configs for m in models}
scaling = {(c, m): sps(lib[(c, m, 2)]) / sps(lib[(c, m, 1)])
           for c in configs for m in models}

if quick:
    print("SMOKE RUN (--quick): 3 steps, figures are not measurements")
print(f"commit {commit}; {cpu}, {nproc} cores, Linux {kernel}; "
      f"load {load_start} -> {load_end}")
hdr = (f"{'model':<10}{'thr':>4}{'libvae/s':>11}{'torch/s':>10}{'ratio':>7}"
       f"{'lib GF/s':>10}{'ceil GF/s':>10}{'%ceil':>7}{'RSS lib':>9}{'RSS torch':>10}"
       f"{'start lib':>10}{'start torch':>12}")
def env_text(c):
    set_ = [f"{k}={v}" for k, v in env[c].items() if v is not None]
    return " ".join(set_) if set_ else "none of OPENBLAS_*, OMP_*, GLIBC_TUNABLES set"
for c in configs:
    print()
    print(f"({c}) {config_name[c]}: {env_text(c)}")
    print(hdr)
    for t in (1, 2):
        for m in models:
            r = row[(c, m, t)]
            l, p = r["libvae"], r["torch"]
            print(f"{m:<10}{t:>4}{sps(l):>11.1f}{sps(p):>10.1f}{r['speed_ratio']:>7.2f}"
                  f"{l['gflops']:>10.2f}{r['ceiling_gflops']:>10.2f}"
                  f"{100 * r['ceiling_fraction']:>6.1f}%"
                  f"{l['peak_rss_kib'] / 1024:>8.1f}M{p['peak_rss_kib'] / 1024:>9.1f}M"
                  f"{l['startup_ms']:>8.2f}ms{p['startup_ms']:>10.1f}ms")
    for t in (1, 2):
        l = lib[(c, "lstm_text", t)]
        print(f"lstm_text generation, {t} thread(s): greedy {l['gen_ms_per_token']:.3f} ms/token, "
              f"naive prefix re-scoring {l['naive_ms_per_token']:.3f} ms/token "
              f"({l['gen_prefixes']} prefixes): {l['gen_speedup']:.1f}x")
    print("sgemm square 1024: " + ", ".join(
        f"{sgemm[(c, t)]['square1024_gflops']:.2f} GFLOP/s at {t} thread(s)" for t in (1, 2)))
print()
print("RSS: peak resident set (MiB) of a process that trained only that model; "
      "start: first library call (libvae) or `import torch` (torch) to model + optimizer")

print()
print("best vs best (samples/s; each program's fastest run; torch 1core = "
      "--threads 1 with OPENBLAS_NUM_THREADS=1):")
print(f"{'model':<10}" + "".join(f"{'(' + c + ') libvae':>20}{'(' + c + ') torch':>20}{'ratio':>7}"
                                 for c in configs))
for m in models:
    line = f"{m:<10}"
    for c in configs:
        b = best[(c, m)]
        line += (f"{b['libvae']:>15.1f} ({b['libvae_threads']}t)"
                 f"{b['torch']:>12.1f} ({b['torch_run']:>5})"
                 f"{b['ratio']:>7.2f}")
    print(line)
print()
print("one core vs one core (libvae 1 thread; torch 1 thread, OPENBLAS_NUM_THREADS=1):")
print(f"{'model':<10}" + "".join(f"{'(' + c + ') libvae':>14}{'(' + c + ') torch':>14}{'ratio':>7}"
                                 for c in configs))
for m in models:
    print(f"{m:<10}" + "".join(
        f"{one_core[(c, m)]['libvae']:>14.1f}{one_core[(c, m)]['torch']:>14.1f}"
        f"{one_core[(c, m)]['ratio']:>7.2f}" for c in configs))
print()
print("libvae 2-thread / 1-thread samples/s:")
print(f"{'model':<10}" + "".join(f"{'(' + c + ')':>8}" for c in configs))
for m in models:
    print(f"{m:<10}" + "".join(f"{scaling[(c, m)]:>8.2f}" for c in configs))

# The issue's targets (issue 18's acceptance, which replaces issue 6's),
# checked against this run's figures.
best_goal = {"mlp": 2.0, "conv": 2.0, "lstm_text": 1.5}
ceiling_goal = {"mlp": 0.85, "conv": 0.75, "lstm_text": 0.85}
targets = []
def target(c, name, value, goal, met):
    targets.append({"config": c, "target": name, "value": value, "goal": goal,
                    "met": bool(met)})
for c in configs:
    for m in models:
        b = best[(c, m)]["ratio"]
        target(c, f"{m} best vs best", b, f">= {best_goal[m]}", b >= best_goal[m])
    if c in ("a", "b"):
        for m in models:
            o = one_core[(c, m)]["ratio"]
            target(c, f"{m} one core vs one core", o, ">= 1.3", o >= 1.3)
        for m in models:
            target(c, f"{m} libvae 2t / 1t", scaling[(c, m)], ">= 1.7",
                   scaling[(c, m)] >= 1.7)
        for t in (1, 2):
            for m in models:
                f = row[(c, m, t)]["ceiling_fraction"]
                target(c, f"{m} {t}t GFLOP/s / ceiling", f, f">= {ceiling_goal[m]}",
                       f >= ceiling_goal[m])
    for t in (1, 2):
        for m in models:
            r = row[(c, m, t)]
            target(c, f"{m} {t}t start-up ms", r["libvae"]["startup_ms"], "< 10",
                   r["libvae"]["startup_ms"] < 10)
            target(c, f"{m} {t}t RSS / torch RSS", r["rss_ratio"], "<= 0.25",
                   r["rss_ratio"] <= 0.25)
        s = lib[(c, "lstm_text", t)]["gen_speedup"]
        target(c, f"generation {t}t speed-up per token", s, ">= 10", s >= 10)
print()
print("targets:" + (" (smoke run: not a verdict)" if quick else ""))
for x in targets:
    print(f"  {'met ' if x['met'] else 'MISS'}  ({x['config']}) {x['target']:<34} "
          f"{x['value']:>10.3f}  (goal {x['goal']})")
missed = sum(not x["met"] for x in targets)
print(f"  {len(targets) - missed} of {len(targets)} met")

sg = [{"config": c, "threads": t, "openblas_threads": s["openblas_threads"],
       "reps": s["reps"], "square1024_gflops": s["square1024_gflops"],
       "models": s["models"]} for (c, t), s in sgemm.items()]
print(json.dumps({
    "command": command, "quick": quick, "commit": commit,
    "machine": {"cpu": cpu, "cores": int(nproc), "kernel": kernel,
                "load_start": load_start, "load_end": load_end},
    "configs": {c: {"name": config_name[c], "env": env[c]} for c in configs},
    "results": rows, "torch_1core": list(tor1.values()),
    "best_vs_best": list(best.values()), "one_core": list(one_core.values()),
    "scaling_2t_1t": [{"config": c, "model": m, "ratio": v} for (c, m), v in scaling.items()],
    "sgemm": sg, "targets": targets,
}, separators=(",", ":")))
EOF
