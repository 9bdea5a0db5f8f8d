#!/usr/bin/python3
"""The polynomial coefficients in src/fastmath.h.

Near-minimax fits by Lawson's iteratively reweighted least squares on a dense
Chebyshev-spaced grid, targets in 40-digit mpmath; then the coefficients are
rounded to float32 and evaluated the way the C code does (float32 Horner), to
show the error the header will have.

    scripts/fit-fastmath.py [EXP_Q_DEGREE [LOG1P_P_DEGREE]]   # default 4 7

Needs Debian's python3-numpy and python3-mpmath.
"""
import sys
import numpy as np
import mpmath as mp

mp.mp.dps = 40


def lawson(x, target, basis_scale, weight, deg, iters=300):
    """Minimise max |weight * basis_scale * (sum c_k x^k - target)|."""
    A = np.vander(x, deg + 1, increasing=True) * (weight * basis_scale)[:, None]
    b = target * weight * basis_scale
    w = np.ones_like(x)
    for _ in range(iters):
        sw = np.sqrt(w)
        c, *_ = np.linalg.lstsq(A * sw[:, None], b * sw, rcond=None)
        err = np.abs(A @ c - b)
        w = w * err
        w /= w.sum()
    return c, np.max(np.abs(A @ c - b))


def horner32(c, x):
    acc = np.float32(c[-1]) * np.ones_like(x, dtype=np.float32)
    for k in range(len(c) - 2, -1, -1):
        acc = (acc * x + np.float32(c[k])).astype(np.float32)
    return acc


def fit_exp(deg):
    # exp(r) = 1 + r + r^2 Q(r); fit Q to (e^r - 1 - r)/r^2, relative error.
    h = 0.3466
    r = np.cos(np.linspace(0, np.pi, 20001)) * h
    r = r[np.abs(r) > 1e-6]
    g = np.array([float((mp.exp(mp.mpf(v)) - 1 - v) / mp.mpf(v) ** 2) for v in r])
    c, e = lawson(r, g, r * r, np.exp(-r), deg)
    print(f"exp: Q degree {deg}, approximation max rel error {e:.3g}")
    c32 = c.astype(np.float32)
    rr = np.linspace(-h, h, 200001).astype(np.float32)
    q = horner32(c32, rr)
    p = (np.float32(1) + (rr + rr * rr * q).astype(np.float32)).astype(np.float32)
    ref = np.exp(rr.astype(np.longdouble))
    print(f"  float32 eval on r: max rel err {np.max(np.abs((p - ref) / ref)):.3g}")
    return c32


def fit_log1p(deg):
    # log1p(e) = e + e^2 P(e) on [0, 1], relative error (softplus of a
    # negative x is log1p(e) itself, small and needed to relative accuracy).
    e = (np.cos(np.linspace(0, np.pi, 20001)) + 1) / 2
    e = e[e > 1e-6]
    h = np.array([float((mp.log1p(mp.mpf(v)) - v) / mp.mpf(v) ** 2) for v in e])
    c, err = lawson(e, h, e * e, 1 / np.log1p(e), deg)
    print(f"log1p: P degree {deg}, approximation max rel error {err:.3g}")
    c32 = c.astype(np.float32)
    ee = np.linspace(0, 1, 400001).astype(np.float32)
    y = (ee + (ee * ee).astype(np.float32) * horner32(c32, ee)).astype(np.float32)
    ref = np.log1p(ee.astype(np.longdouble))
    nz = ref > 0
    print(f"  float32 eval: max abs err {np.max(np.abs(y - ref)):.3g}, "
          f"max rel err {np.max(np.abs(y - ref)[nz] / ref[nz]):.3g}")
    return c32


def show(name, c):
    print(name)
    for k, v in enumerate(c):
        print(f"  c{k} = {float(v):.9e}f  ({float(v).hex()})")


if __name__ == "__main__":
    show("Q for exp", fit_exp(int(sys.argv[1]) if len(sys.argv) > 1 else 4))
    show("P for log1p", fit_log1p(int(sys.argv[2]) if len(sys.argv) > 2 else 7))
