#!/usr/bin/env python3
"""Lathe against scikit-learn, side by side, in one run on one machine.

    bash Benchmarks/run.sh [--quick] [SUITE ...]      suites: linear, text, classify, tree, mlp, cv, serve (default: all)

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
LATHE = os.path.join(ROOT, ".build", "release", "lathe")
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


def lathe_cv(*args):
    """Wall seconds and the `cv --json` document of `lathe cv ARGS --json`, as a user runs it."""
    start = time.perf_counter()
    out = subprocess.run([LATHE, "cv", *map(str, args), "--json"], check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return time.perf_counter() - start, json.loads(out)


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


def suite_tree():
    from sklearn.datasets import make_classification
    from sklearn.tree import DecisionTreeClassifier
    rows, cols = (20_000, 20) if QUICK else (100_000, 20)
    x, y = make_classification(n_samples=rows, n_features=cols, n_informative=10, random_state=0)
    os.makedirs(WORK, exist_ok=True)
    xf, yf = os.path.join(WORK, "tree-x.f64"), os.path.join(WORK, "tree-y.f64")
    x.astype("<f8").tofile(xf)
    y.astype("<f8").tofile(yf)
    repeats = 3
    fitted = []
    sk = best_of(repeats, lambda: fitted.append(DecisionTreeClassifier(random_state=0).fit(x, y)))
    la = lathe("tree", xf, yf, rows, cols, repeats)["tree fit"]
    t = fitted[-1].tree_
    return [f"Decision tree, `make_classification(n_samples={rows:,}, n_features={cols}, n_informative=10, random_state=0)`, "
            f"fit with defaults (`random_state=0`), best of {repeats}:", "",
            "| task | scikit-learn (s) | Lathe (s) | Lathe / sklearn | nodes (sklearn / Lathe) | depth (sklearn / Lathe) |",
            "|---|---|---|---|---|---|",
            f"| DecisionTreeClassifier fit | {sk:.3f} | {la['seconds']:.3f} | {la['seconds'] / sk:.2f}× "
            f"| {t.node_count} / {la['nodes']} | {t.max_depth} / {la['depth']} |"]


def peak_memory_mib():
    """This process's peak resident memory (VmHWM). Not getrusage: its maximum survives fork and
    exec, so a child started from this (large) process would report the parent's peak."""
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024


def run_measured(args):
    """Runs a worker; returns its measurements by name and its peak memory in MiB."""
    out = subprocess.run(args, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    rows = {r["name"]: r for r in map(json.loads, out.splitlines())}
    return rows, rows["peak memory"]["mib"]


def sklearn_tfidf_worker(train, test, repeats):
    """Runs in its own process (so its peak memory is its own): loads the corpus as the
    fixture script does, times TfidfVectorizer().fit_transform and transform."""
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from make_fixtures import load_text
    from sklearn.feature_extraction.text import TfidfVectorizer
    _, train_docs = load_text(train)
    _, test_docs = load_text(test)
    fit = transform = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        v = TfidfVectorizer()
        x = v.fit_transform(train_docs)
        middle = time.perf_counter()
        y = v.transform(test_docs)
        end = time.perf_counter()
        fit, transform = min(fit, middle - start), min(transform, end - middle)
    print(json.dumps({"name": "tfidf fit_transform", "seconds": fit, "shape": list(x.shape), "stored": x.nnz + y.nnz}))
    print(json.dumps({"name": "tfidf transform", "seconds": transform}))
    print(json.dumps({"name": "peak memory", "mib": peak_memory_mib()}))


def suite_text():
    train, test = "20news/20news-bydate-train.jsonl.gz", "20news/20news-bydate-test.jsonl.gz"
    repeats = 1 if QUICK else 3
    sk, sk_mem = run_measured([sys.executable, __file__, "--worker", "tfidf", train, test, str(repeats)])
    la, la_mem = run_measured([BENCH, "tfidf", os.path.join(ROOT, "datasets", train), os.path.join(ROOT, "datasets", test), str(repeats)])
    same = sk["tfidf fit_transform"]["shape"] == la["tfidf fit_transform"]["shape"] and \
        sk["tfidf fit_transform"]["stored"] == la["tfidf fit_transform"]["stored"]
    fit = sk["tfidf fit_transform"]
    # Equality, not just speed: `lathe vectorize` against scikit-learn on the same corpus.
    check = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "check_vectorize.py"), "20news"],
                           capture_output=True, text=True, cwd=ROOT)
    checks = [l for l in check.stdout.splitlines() if l.startswith(("OK", "BAD"))]
    return ["`scripts/check_vectorize.py 20news` (vocabulary, idf and matrix against scikit-learn, 1e-12 per entry):", "",
            *[f"    {l}" for l in checks], "", f"TF-IDF on 20 Newsgroups (train {fit['shape'][0]:,} documents → {fit['shape'][1]:,} terms; transform on the "
            f"test set), default TfidfVectorizer(), best of {repeats}, {os.cpu_count()} cores for Lathe "
            f"(scikit-learn is single-threaded here):", "",
            "| task | scikit-learn (s) | Lathe (s) | Lathe / sklearn | note |", "|---|---|---|---|---|",
            row("TfidfVectorizer fit_transform (train)", fit["seconds"], la["tfidf fit_transform"]["seconds"],
                "same shape and stored count" if same else "SHAPES DIFFER"),
            row("transform (test)", sk["tfidf transform"]["seconds"], la["tfidf transform"]["seconds"], ""),
            "", "| peak memory of the whole process | scikit-learn (MiB) | Lathe (MiB) | Lathe / sklearn |", "|---|---|---|---|",
            f"| load corpus + fit_transform + transform | {sk_mem:.0f} | {la_mem:.0f} | {la_mem / sk_mem:.2f}× |"]


def sklearn_classify_worker(train, test, model):
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from make_fixtures import load_text
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC
    from sklearn.tree import DecisionTreeClassifier
    y, train_docs = load_text(train)
    y_test, test_docs = load_text(test)
    v = TfidfVectorizer()
    x, x_test = v.fit_transform(train_docs), v.transform(test_docs)
    estimator = {"svm": LinearSVC(), "logreg": LogisticRegression(max_iter=1000),
                 "tree": DecisionTreeClassifier(random_state=0)}[model]
    start = time.perf_counter()
    estimator.fit(x, y)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(estimator.predict(x_test) == np.array(y_test)))
    print(json.dumps({"name": f"{model} fit", "seconds": seconds, "accuracy": accuracy, "peak memory": peak_memory_mib(),
                      "n_iter": np.asarray(getattr(estimator, "n_iter_", 0)).max().item()}))


def suite_classify():
    train, test = "20news/20news-bydate-train.jsonl.gz", "20news/20news-bydate-test.jsonl.gz"
    out = ["Classifiers on sparse 20 Newsgroups TF-IDF (fit on the 11,314 training documents, accuracy on the 7,532 "
           "test documents; one fit each, vectorizing not timed):", "",
           "| model | scikit-learn fit (s) | Lathe fit (s) | Lathe / sklearn | sklearn accuracy | Lathe accuracy | iterations (sklearn / Lathe) |",
           "|---|---|---|---|---|---|---|"]
    models = [("svm", "LinearSVC()", []), ("logreg", "LogisticRegression(max_iter=1000)", ["max_iter=1000"]),
              ("tree", "DecisionTreeClassifier(random_state=0)", [])]
    for model, label, settings in models:
        sk = json.loads(subprocess.run([sys.executable, __file__, "--worker", "classify", train, test, model],
                                       check=True, capture_output=True, text=True, cwd=ROOT).stdout.splitlines()[-1])
        la = json.loads(subprocess.run([BENCH, "classify", os.path.join(ROOT, "datasets", train),
                                        os.path.join(ROOT, "datasets", test), model, *settings],
                                       check=True, capture_output=True, text=True, cwd=ROOT).stdout.splitlines()[-1])
        out.append(f"| {model} vs {label} | {sk['seconds']:.2f} | {la['seconds']:.2f} | {la['seconds'] / sk['seconds']:.2f}× "
                   f"| {sk['accuracy']:.4f} | {la['accuracy']:.4f} | "
                   + (f"{sk['n_iter']} / {la['n_iter']} |" if la.get("n_iter") is not None else "– |"))
    return out


def sklearn_mlp_worker(name, max_iter):
    """5-fold stratified CV (seed 0) of MLPClassifier(random_state=0, max_iter) behind a scaler
    (numeric data) or TfidfVectorizer (text), fit time, epochs and accuracy over the folds."""
    import warnings
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from make_fixtures import load_numeric, load_text
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    warnings.simplefilter("ignore", ConvergenceWarning)
    if name == "sms_spam":
        y, x = load_text("sms_spam/sms_spam.tsv")
        x, y = np.array(x, dtype=object), np.array(y)
        first = TfidfVectorizer
    else:
        _, x, y = load_numeric(name, labels=True)
        first = StandardScaler
    fit = 0.0
    epochs = correct = 0
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(x, y):
        model = make_pipeline(first(), MLPClassifier(random_state=0, max_iter=int(max_iter)))
        start = time.perf_counter()
        model.fit(x[train], y[train])
        fit += time.perf_counter() - start
        epochs += model[-1].n_iter_
        correct += int(np.sum(model.predict(x[test]) == y[test]))
    print(json.dumps({"name": "mlp cv", "seconds": fit, "epochs": epochs, "accuracy": correct / len(y)}))


def sklearn_cv_worker(name, max_iter, n_jobs):
    """Wall seconds of `cross_validate` (5-fold stratified, seed 0) of the sms_spam TF-IDF + MLP
    pipeline with `n_jobs` (0: None, scikit-learn's default), and the mean accuracy."""
    import warnings
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from make_fixtures import load_text
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold, cross_validate
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    warnings.simplefilter("ignore", ConvergenceWarning)
    y, x = load_text(f"{name}/{name}.tsv")
    x, y = np.array(x, dtype=object), np.array(y)
    model = make_pipeline(TfidfVectorizer(), MLPClassifier(random_state=0, max_iter=int(max_iter)))
    start = time.perf_counter()
    scores = cross_validate(model, x, y, cv=StratifiedKFold(5, shuffle=True, random_state=0),
                            n_jobs=int(n_jobs) or None)["test_score"]
    print(json.dumps({"seconds": time.perf_counter() - start, "accuracy": float(scores.mean())}))


def suite_mlp():
    out = ["MLP, 5-fold stratified CV (seed 0) of `MLPClassifier(random_state=0, max_iter=N)` behind StandardScaler "
           "(digits) or TfidfVectorizer (sms_spam), both fitted per fold; fit time summed over the folds "
           "(vectorizing included in both), accuracy over all test rows:", "",
           "| data | scikit-learn fit (s) | Lathe fit (s) | Lathe / sklearn | per epoch: sklearn (ms) | per epoch: Lathe (ms) "
           "| per-epoch ratio | epochs (sklearn / Lathe) | accuracy (sklearn / Lathe) |",
           "|---|---|---|---|---|---|---|---|---|"]
    cases = [("digits", 500, ["scaler=standard", "max_iter=500"])]
    if not QUICK:
        cases.append(("sms_spam", 50, ["max_iter=50"]))
    for name, max_iter, settings in cases:
        sk = json.loads(subprocess.run([sys.executable, __file__, "--worker", "mlp", name, str(max_iter)],
                                       check=True, capture_output=True, text=True, cwd=ROOT).stdout.splitlines()[-1])
        la = json.loads(subprocess.run([BENCH, "mlp", name, *settings],
                                       check=True, capture_output=True, text=True, cwd=ROOT).stdout.splitlines()[-1])
        per_sk, per_la = sk["seconds"] / sk["epochs"], la["seconds"] / la["epochs"]
        out.append(f"| {name} (max_iter={max_iter}) | {sk['seconds']:.2f} | {la['seconds']:.2f} | {la['seconds'] / sk['seconds']:.3f}× "
                   f"| {1000 * per_sk:.2f} | {1000 * per_la:.2f} | {per_la / per_sk:.3f}× | {sk['epochs']} / {la['epochs']} "
                   f"| {sk['accuracy']:.4f} / {la['accuracy']:.4f} |")
    if QUICK:
        return out
    # The whole cross-validation as users run it: scikit-learn's `cross_validate` (its default
    # n_jobs=None runs the folds one after another; n_jobs=2 in worker processes) against
    # `lathe cv` (by default one fold per core, one thread each; --jobs 1: one fold at a time).
    out += ["", "The same sms_spam CV end to end, wall time of the whole run (loading, vectorizing, fitting and "
            "scoring every fold):", "",
            "| run | wall (s) | Lathe / sklearn default | mean accuracy |", "|---|---|---|---|"]
    runs = []
    for n_jobs in (0, 2):
        sk = json.loads(subprocess.run([sys.executable, __file__, "--worker", "cv", "sms_spam", "50", str(n_jobs)],
                                       check=True, capture_output=True, text=True, cwd=ROOT).stdout.splitlines()[-1])
        runs.append((f"scikit-learn `cross_validate`, n_jobs={n_jobs or None}", sk["seconds"], sk["accuracy"]))
    for jobs in ([], ["--jobs", "1"]):
        seconds, report = lathe_cv("sms_spam", "--model", "mlp", "--set", "max_iter=50", *jobs)
        runs.append((f"`lathe cv sms_spam --model mlp --set max_iter=50{' ' + ' '.join(jobs) if jobs else ''}`",
                     seconds, report["mean"]["accuracy"]))
    for label, seconds, accuracy in runs:
        out.append(f"| {label} | {seconds:.2f} | {seconds / runs[0][1]:.3f}× | {accuracy:.4f} |")
    return out


def suite_cv():
    """Issue 6: parallel folds against one fold at a time, the same scores either way."""
    out = ["`lathe cv` with the default parallelism (one fold per core, OpenBLAS on one thread per fold) against "
           "`--jobs 1`, 5-fold stratified CV (seed 0), wall time of the whole run (loading and vectorizing included), "
           "best of 5 runs alternating the two (this machine's timings drift by up to 2× between minutes):", "",
           "| run | --jobs 1 (s) | default (s) | default / --jobs 1 | scores equal |", "|---|---|---|---|---|"]
    cases = [("datasets/20news/20news-bydate-train.jsonl.gz", "svm")] if not QUICK else [("sms_spam", "svm")]
    for data, model in cases:
        serial = parallel = float("inf")
        for _ in range(1 if QUICK else 5):
            seconds, one = lathe_cv(data, "--model", model, "--jobs", "1")
            serial = min(serial, seconds)
            seconds, many = lathe_cv(data, "--model", model)
            parallel = min(parallel, seconds)
        equal = one["scores"] == many["scores"]
        out.append(f"| `lathe cv {data} --model {model}` | {serial:.2f} | {parallel:.2f} | {parallel / serial:.2f}× | {equal} |")
    return out


FAILED_CHECKS = []


def suite_serve():
    """`lathe serve` against the tutorials' Flask app under wrk, and hostile requests
    (Benchmarks/serving/serve_bench.py). Its pass/fail checks (no errors, every hostile answer
    a 4xx, flat memory) make the run exit non-zero; timings never do."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "serving"))
    import serve_bench
    lines, failures = serve_bench.suite_serve(QUICK)
    FAILED_CHECKS.extend(failures)
    return lines


SUITES = {"linear": suite_linear, "text": suite_text, "classify": suite_classify, "tree": suite_tree, "mlp": suite_mlp,
          "cv": suite_cv, "serve": suite_serve}

if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        if sys.argv[2] == "classify":
            sklearn_classify_worker(sys.argv[3], sys.argv[4], sys.argv[5])
        elif sys.argv[2] == "mlp":
            sklearn_mlp_worker(sys.argv[3], sys.argv[4])
        elif sys.argv[2] == "cv":
            sklearn_cv_worker(sys.argv[3], sys.argv[4], sys.argv[5])
        else:
            sklearn_tfidf_worker(sys.argv[3], sys.argv[4], int(sys.argv[5]))
        sys.exit(0)
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
    if FAILED_CHECKS:
        sys.exit("checks failed: " + "; ".join(FAILED_CHECKS))
