#!/usr/bin/env python3
"""Lathe against scikit-learn, side by side, in one run on one machine.

    bash Benchmarks/run.sh [--quick] [SUITE ...]      suites: linear (default: all)

Each suite prepares identical inputs, times scikit-learn here and Lathe through the release
`lathe-bench` binary, and prints a table of best-of-N wall times and the ratio Lathe/sklearn
(below 1 means Lathe is faster). Results are printed as Markdown so they paste into
BENCHMARKS.md. Nothing here is asserted; tests never look at timings.
"""
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date

import numpy as np
import sklearn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, ".build-bench")
BENCH = os.path.join(ROOT, ".build", "release", "lathe-bench")
QUICK = "--quick" in sys.argv


def best_of(repeats, fn):
    fastest = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def lathe(*args):
    out = subprocess.run([BENCH, *map(str, args)], check=True, capture_output=True, text=True).stdout
    return {r["name"]: r for r in map(json.loads, out.splitlines())}


def row(name, sk, la, note=""):
    return f"| {name} | {sk:.3f} | {la:.3f} | {la / sk:.2f}× | {note} |"


def suite_linear():
    rows, cols = (20_000, 100) if QUICK else (200_000, 200)
    rng = np.random.RandomState(0)
    x = rng.standard_normal((rows, cols))
    y = x @ rng.standard_normal(cols) + 0.1 * rng.standard_normal(rows)
    os.makedirs(WORK, exist_ok=True)
    xf, yf = os.path.join(WORK, "linear-x.f64"), os.path.join(WORK, "linear-y.f64")
    x.astype("<f8").tofile(xf)
    y.astype("<f8").tofile(yf)
    from sklearn.linear_model import LinearRegression, Ridge
    repeats = 3
    sk_ols = best_of(repeats, lambda: LinearRegression().fit(x, y))
    sk_ridge = best_of(repeats, lambda: Ridge(alpha=1.0).fit(x, y))
    la = lathe("linear", xf, yf, rows, cols, repeats)
    gemm = lathe("gemm", 2000, 3)["dgemm 2000"]
    flops = 2.0 * rows * cols * cols / 2  # X^T X via syrk
    out = [f"Dense linear models, {rows:,} × {cols} seeded Gaussian data, best of {repeats}:", "",
           "| task | scikit-learn (s) | Lathe (s) | Lathe / sklearn | note |", "|---|---|---|---|---|",
           row("LinearRegression fit", sk_ols, la["linreg fit"]["seconds"], "Lathe: LAPACK dgelsd (SVD); sklearn: scipy lstsq (gelsd)"),
           row("Ridge(alpha=1) fit", sk_ridge, la["ridge fit"]["seconds"],
               f"Lathe: dsyrk + dposv, {flops / la['ridge fit']['seconds'] / 1e9:.1f} GFLOP/s vs dgemm {gemm['gflops']:.1f}")]
    return out


SUITES = {"linear": suite_linear}

if __name__ == "__main__":
    chosen = [a for a in sys.argv[1:] if not a.startswith("--")] or list(SUITES)
    for name in chosen:
        if name not in SUITES:
            sys.exit(f"unknown suite {name}; choose from {', '.join(SUITES)}")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
    print(f"Run {date.today().isoformat()} on {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
          f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, Python {platform.python_version()}.")
    print(f"Command: bash Benchmarks/run.sh {' '.join(sys.argv[1:])}".rstrip())
    for name in chosen:
        print()
        print("\n".join(SUITES[name]()))
