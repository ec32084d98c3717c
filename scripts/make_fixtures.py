#!/usr/bin/env python3
"""Writes the scikit-learn reference values that Lathe's tests compare against.

Run from the repository root, in a virtual env with scripts/requirements.txt:

    python3 -m venv .build-venv && .build-venv/bin/pip install -r scripts/requirements.txt
    .build-venv/bin/python scripts/make_fixtures.py

Every fixture lands in Tests/LatheTests/Fixtures/ as JSON. Tests read only those files, never
Python, so CI does not need this script.
"""
import csv
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error
from sklearn.model_selection import KFold

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "LatheTests", "Fixtures")


def load_numeric(name):
    with open(os.path.join(ROOT, "datasets", name, name + ".csv"), newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], np.array(rows[1:], dtype=float)
    return header[:-1], body[:, :-1], body[:, -1]


def write(name, payload):
    payload = {"generator": "scripts/make_fixtures.py", "sklearn": sklearn.__version__, **payload}
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(payload, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", name)


def linear_case(label, model, x, y, rows=None, duplicate=None):
    fitted = model.fit(x, y)
    return {
        "label": label,
        "estimator": "linreg" if isinstance(model, LinearRegression) else "ridge",
        "params": {k: v for k, v in model.get_params().items() if k in ("alpha", "fit_intercept", "tol")},
        "rows": rows,
        "duplicate_column": duplicate,
        "coef": fitted.coef_.tolist(),
        "intercept": float(fitted.intercept_),
    }


def linear_fixtures():
    _, x, y = load_numeric("diabetes")
    cases = [
        linear_case("linreg", LinearRegression(), x, y),
        linear_case("linreg no intercept", LinearRegression(fit_intercept=False), x, y),
        linear_case("ridge", Ridge(), x, y),
        linear_case("ridge alpha=10", Ridge(alpha=10.0), x, y),
        linear_case("ridge alpha=0.01 no intercept", Ridge(alpha=0.01, fit_intercept=False), x, y),
    ]
    # Rank-deficient: column 0 appears twice, so the minimum-norm solution splits its weight.
    xd = np.hstack([x, x[:, :1]])
    cases.append(linear_case("linreg rank-deficient", LinearRegression(), xd, y, duplicate=0))
    cases.append(linear_case("ridge rank-deficient", Ridge(), xd, y, duplicate=0))
    # Fewer rows than features: Ridge solves the dual (kernel) system.
    rows = list(range(6))
    cases.append(linear_case("ridge dual", Ridge(alpha=0.5), x[rows], y[rows], rows=rows))
    cases.append(linear_case("linreg underdetermined", LinearRegression(), x[rows], y[rows], rows=rows))
    write("linear_diabetes.json", {"dataset": "diabetes", "cases": cases})


def cv_fixtures():
    _, x, y = load_numeric("diabetes")
    folds = []
    for train, test in KFold(5, shuffle=True, random_state=0).split(x):
        pred = LinearRegression().fit(x[train], y[train]).predict(x[test])
        folds.append({
            "test": test.tolist(),
            "r2": r2_score(y[test], pred),
            "rmse": root_mean_squared_error(y[test], pred),
            "mae": mean_absolute_error(y[test], pred),
        })
    perms = {str(seed): np.random.RandomState(seed).permutation(n).tolist()
             for seed, n in [(0, 10), (42, 100), (4294967295, 37)]}
    write("kfold_diabetes.json", {"dataset": "diabetes", "model": "linreg", "folds": 5, "seed": 0,
                                  "fold_results": folds, "permutations": perms})


def metric_fixtures():
    rng = np.random.RandomState(7)
    cases = []
    for n in (1, 2, 5, 50):
        expected = rng.normal(100, 30, n)
        predicted = expected + rng.normal(0, 10, n)
        cases.append((expected, predicted))
    constant = np.full(4, 3.0)
    cases.append((constant, constant))            # perfect fit on a constant: r2 = 1
    cases.append((constant, constant + 1.0))      # imperfect fit on a constant: r2 = 0 (force_finite)
    out = []
    for expected, predicted in cases:
        out.append({
            "expected": expected.tolist(), "predicted": predicted.tolist(),
            "r2": r2_score(expected, predicted) if len(expected) > 1 else None,
            "rmse": root_mean_squared_error(expected, predicted),
            "mae": mean_absolute_error(expected, predicted),
        })
    write("regression_metrics.json", {"cases": out})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    which = sys.argv[1:] or ["linear", "cv", "metrics"]
    for name in which:
        {"linear": linear_fixtures, "cv": cv_fixtures, "metrics": metric_fixtures}[name]()
