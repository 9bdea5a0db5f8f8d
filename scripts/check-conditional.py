#!/usr/bin/python3
"""Does a conditional model draw the class it is asked for? A judge that owes
nothing to libvae: a 1-nearest-neighbour classifier on the training images
(Euclidean distance on grey levels in [0, 1]) labels each sample, and the
table gives, per class, the share of samples it assigns to the class they
were drawn for.

    vae-image sample --model M --grid 1000 --out S/samples-images-idx3-ubyte
    scripts/check-conditional.py DATA_DIR S/samples [--names mnist|fashion]
        [--min ACCURACY] [--test N]

DATA_DIR holds the IDX files (raw or .gz) whose train split is the
classifier's memory; S/samples is the prefix of the samples' IDX files
(PREFIX-images-idx3-ubyte and PREFIX-labels-idx1-ubyte). --test N also
classifies the first N test images, the classifier's own accuracy on real
data, for scale: a column of the table gives it per class. With --min, the exit status is 1 when a class falls below
it. Prints a Markdown table. Needs Debian's python3-numpy only.
"""
import argparse
import gzip
import os
import sys

import numpy as np

NAMES = {
    "mnist": None,  # the digit is its name
    "fashion": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
}


def read_idx(path):
    """An IDX file of unsigned bytes as an array of its dimensions."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if raw[:3] != b"\x00\x00\x08":
        sys.exit(f"{path}: not an IDX file of unsigned bytes")
    ndims = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big")
            for i in range(ndims)]
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndims)
    if data.size != int(np.prod(dims)):
        sys.exit(f"{path}: {data.size} data bytes, the header says {dims}")
    return data.reshape(dims)


def find(directory, prefix, kind, idx):
    """MNIST's spellings of a file name, as vae-image accepts them."""
    for sep in "-.":
        for ext in ("", ".gz"):
            path = os.path.join(directory, f"{prefix}-{kind}{sep}{idx}-ubyte{ext}")
            if os.path.exists(path):
                return path
    sys.exit(f"cannot find {prefix}-{kind}-{idx}-ubyte (or .gz) in {directory}")


def split(directory, prefix):
    images = read_idx(find(directory, prefix, "images", "idx3"))
    labels = read_idx(find(directory, prefix, "labels", "idx1"))
    return images.reshape(len(images), -1), labels


def nearest_labels(train_x, train_y, queries, chunk=500):
    """The label of each query's nearest training image: argmin of
    |t|^2 - 2 q.t (|q|^2 is the same for every t), in float32."""
    t = train_x.astype(np.float32) / 255.0
    t_sq = (t * t).sum(axis=1)
    out = np.empty(len(queries), np.int64)
    for i in range(0, len(queries), chunk):
        q = queries[i:i + chunk].astype(np.float32) / 255.0
        d = t_sq[None, :] - 2.0 * (q @ t.T)
        out[i:i + chunk] = train_y[np.argmin(d, axis=1)]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data")
    ap.add_argument("samples", help="prefix of the samples' IDX files")
    ap.add_argument("--names", choices=sorted(NAMES), default="mnist")
    ap.add_argument("--min", type=float, default=None)
    ap.add_argument("--test", type=int, default=0)
    a = ap.parse_args()

    train_x, train_y = split(a.data, "train")
    sx = read_idx(a.samples + "-images-idx3-ubyte")
    sy = read_idx(a.samples + "-labels-idx1-ubyte")
    sx = sx.reshape(len(sx), -1)
    if sx.shape[1] != train_x.shape[1]:
        sys.exit(f"samples of {sx.shape[1]} pixels, training images of "
                 f"{train_x.shape[1]}")
    got = nearest_labels(train_x, train_y, sx)
    classes = np.unique(sy)
    names = NAMES[a.names]
    real = None
    if a.test > 0:
        test_x, test_y = split(a.data, "t10k")
        n = min(a.test, len(test_x))
        real_y = test_y[:n]
        real = nearest_labels(train_x, train_y, test_x[:n]) == real_y

    def rate(hits):
        return f"{100 * float(hits.mean()):.1f}%" if hits.size else "-"

    print(f"1-NN on the {len(train_x)} training images of {a.data}")
    print()
    head = "| class | samples | classified as the class | accuracy |"
    rule = "|---|---:|---:|---:|"
    if real is not None:
        head += f" real test images (first {n}) |"
        rule += "---:|"
    print(head)
    print(rule)
    worst = 1.0
    for c in classes:
        mine = sy == c
        right = int((got[mine] == c).sum())
        acc = right / int(mine.sum())
        worst = min(worst, acc)
        name = f"{c} {names[c]}" if names and c < len(names) else str(c)
        row = f"| {name} | {int(mine.sum())} | {right} | {100 * acc:.1f}% |"
        if real is not None:
            row += f" {rate(real[real_y == c])} |"
        print(row)
    total = float((got == sy).mean())
    row = f"| all | {len(sy)} | {int((got == sy).sum())} | {100 * total:.1f}% |"
    if real is not None:
        row += f" {rate(real)} |"
    print(row)
    print()
    print(f"lowest class: {100 * worst:.1f}%")
    if a.min is not None and worst < a.min:
        print(f"check-conditional: a class is below {100 * a.min:.1f}%",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
