#!/usr/bin/env bash
# Plots a vae-image metrics file as a PNG with gnuplot.
#   plot-metrics.sh METRICS.jsonl OUT.png
# Lines: train_elbo and test_elbo per epoch (from `vae-image train`). Points:
# the importance-weighted bound -test_nll of each `vae-image eval --iwae K`
# line, drawn at the epoch of the training line before it (the model it
# evaluated) and labelled with K and the number of test images; it is a tighter bound on log p(x) than the
# test ELBO, so it sits above the test curve. Several runs appended to one
# file become separate curves (a new run starts where the epoch number does
# not increase). Needs gnuplot (Debian: apt-get install gnuplot-nox) and
# python3 for the JSON.
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 METRICS.jsonl OUT.png" >&2
  exit 2
fi
metrics=$1 out=$2

if ! command -v gnuplot >/dev/null 2>&1; then
  echo "plot-metrics: gnuplot not found; install it with: apt-get install gnuplot-nox" >&2
  exit 1
fi
python=/usr/bin/python3
[[ -x $python ]] || python=python3
if [[ ! -r "$metrics" ]]; then
  echo "plot-metrics: cannot read $metrics" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# epochs.dat: "epoch train_elbo test_elbo", a blank line between runs;
# nll.dat: "epoch -test_nll k n"; xtics: the epoch tick step. JSON null (a non-finite value) becomes "?",
# gnuplot's missing-data mark.
"$python" - "$metrics" "$tmp" <<'EOF'
import json, sys

path, tmp = sys.argv[1], sys.argv[2]

def num(v):
    return "?" if v is None else repr(float(v))

epochs, nll = [], []
last_epoch = None
with open(path, encoding="utf-8") as f:
    for lineno, line in enumerate(f, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            sys.exit(f"plot-metrics: {path}:{lineno}: not JSON ({e})")
        if not isinstance(rec, dict):
            sys.exit(f"plot-metrics: {path}:{lineno}: not a JSON object")
        if "epoch" in rec:
            e = rec["epoch"]
            if last_epoch is not None and e <= last_epoch:
                epochs.append("")
            epochs.append(f"{e} {num(rec.get('train_elbo'))} {num(rec.get('test_elbo'))}")
            last_epoch = e
        elif rec.get("test_nll") is not None:
            nll.append(f"{last_epoch or 0} {-float(rec['test_nll'])!r} "
                       f"{rec.get('iwae_k', '?')} {rec.get('n', '?')}")
if not epochs and not nll:
    sys.exit(f"plot-metrics: {path}: no training or IWAE lines to plot")
# Whole epochs only, about ten ticks at most.
step = max(1, -(-(last_epoch or 1) // 10))
for name, rows in (("epochs.dat", epochs), ("nll.dat", nll), ("xtics", [str(step)])):
    with open(f"{tmp}/{name}", "w") as f:
        f.write("\n".join(rows) + "\n" if rows else "")
EOF

# pngcairo draws antialiased lines; the plain png terminal (libgd) is the
# fallback for gnuplot builds without cairo.
if gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1; then
  terminal="pngcairo size 900,600 font ',11'"
else
  terminal="png size 900,600"
fi

plots=()
if [[ -s $tmp/epochs.dat ]]; then
  plots+=("'$tmp/epochs.dat' using 1:2 with linespoints lc rgb '#1f77b4' pt 7 ps 0.6 title 'train ELBO'"
          "'' using 1:3 with linespoints lc rgb '#d62728' pt 7 ps 0.6 title 'test ELBO'")
fi
if [[ -s $tmp/nll.dat ]]; then
  plots+=("'$tmp/nll.dat' using 1:2 with points lc rgb '#2ca02c' pt 9 ps 1.6 title 'IWAE bound, -test\\_nll'"
          "'' using 1:2:(sprintf('k=%s, n=%s', strcol(3), strcol(4))) with labels offset 0,1.2 notitle")
fi
plot_cmd=$(IFS=,; echo "${plots[*]}")
# Inside gnuplot's single-quoted strings a quote is written twice.
out_q=${out//\'/\'\'}

# gnuplot writes the file itself; a failure here leaves no PNG behind.
if ! gnuplot <<EOF
set terminal $terminal
set output '$out_q'
set datafile missing '?'
set title "vae-image: $(basename "$metrics" | sed 's/[\\"]//g')" noenhanced
set xlabel 'epoch'
set ylabel 'nats per example (higher is better)'
set key bottom right
set grid
set xtics $(cat "$tmp/xtics")
set offsets 0.2, 0.2, graph 0.1, 0
plot $plot_cmd
EOF
then
  rm -f "$out"
  echo "plot-metrics: gnuplot failed" >&2
  exit 1
fi
echo "plot-metrics: wrote $out" >&2
