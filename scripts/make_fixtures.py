#!/usr/bin/env python3
"""Writes the scikit-learn reference values that Lathe's tests compare against.

Run from the repository root, in a virtual env with scripts/requirements.txt:

    python3 -m venv .build-venv && .build-venv/bin/pip install -r scripts/requirements.txt
    .build-venv/bin/python scripts/make_fixtures.py

Every fixture lands in Tests/LatheTests/Fixtures/ as JSON. Tests read only those files, never
Python, so CI does not need this script.
"""
import csv
import gzip
import io
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


def load_numeric(name, labels=False):
    """Feature names, features and targets of a bundled CSV; targets stay strings with `labels`."""
    with open(os.path.join(ROOT, "datasets", name, name + ".csv"), newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    x = np.array([r[:-1] for r in rows[1:]], dtype=float)
    y = np.array([r[-1] for r in rows[1:]])
    return header[:-1], x, (y if labels else y.astype(float))


def load_text(path):
    """Labels and texts as Lathe reads them: TSV with a header, or JSON lines, optionally gzipped."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(os.path.join(ROOT, "datasets", path), "rt", encoding="utf-8", newline="") as f:
        if ".jsonl" in path:
            rows = [json.loads(line) for line in f if line.strip()]
            return [r["label"] for r in rows], [r["text"] for r in rows]
        lines = f.read().split("\n")
    pairs = [line.split("\t", 1) for line in lines[1:] if line]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def write_matrix(name, config, x, vocabulary=None, idf=None):
    """A CSR matrix (and the fitted vectorizer's numbers) as gzipped safetensors, which the
    Swift tests read with Lathe's own safetensors reader."""
    from safetensors.numpy import save
    x = x.tocsr()
    x.sort_indices()
    tensors = {"X.indptr": x.indptr.astype("<i8"), "X.indices": x.indices.astype("<i8"),
               "X.data": x.data.astype("<f8")}
    if vocabulary is not None:
        terms = sorted(vocabulary, key=vocabulary.get)
        encoded = [t.encode("utf-8") for t in terms]
        tensors["vocabulary.bytes"] = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
        tensors["vocabulary.offsets"] = np.concatenate([[0], np.cumsum([len(e) for e in encoded])]).astype("<i8")
    if idf is not None:
        tensors["idf"] = idf.astype("<f8")
    meta = {"config": json.dumps(config, sort_keys=True), "shape": json.dumps(list(x.shape)),
            "sklearn": sklearn.__version__, "generator": "scripts/make_fixtures.py"}
    with gzip.open(os.path.join(OUT, name), "wb", compresslevel=9) as f:
        f.write(save(tensors, metadata=meta))
    print("wrote", name, x.shape, x.nnz)


# Settings named as on Lathe's command line (--set KEY=VALUE), with their scikit-learn form.
TEXT_CONFIGS = {
    "default": ({}, {}),
    "bigrams": ({"ngram_range": "1,2", "min_df": "2", "sublinear_tf": "true", "stop_words": "english"},
                {"ngram_range": (1, 2), "min_df": 2, "sublinear_tf": True, "stop_words": "english"}),
}


def text_fixtures():
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
    _, docs = load_text("sms_spam/sms_spam.tsv")
    for name, (lathe_settings, params) in TEXT_CONFIGS.items():
        v = TfidfVectorizer(**params)
        x = v.fit_transform(docs)
        write_matrix(f"tfidf_sms_spam_{name}.safetensors.gz", lathe_settings, x, v.vocabulary_, v.idf_)
    h = HashingVectorizer()
    write_matrix("hashing_sms_spam.safetensors.gz", {"vectorizer": "hashing"}, h.transform(docs))

    # The analyzer on awkward text, term by term.
    from sklearn.feature_extraction.text import CountVectorizer
    documents = [
        "Hello, World! Don't stop_me now: 3.14 is π, x2 y_z __ a1 b.",
        "Café crème brûlée — naïve façade; Ærøskøbing ÉCOLE ǅemal Straße İstanbul",
        "tabs\tand\x1cseps  double  spaces\n\nnew lines \u00a0nbsp\u3000ideo",
        "数字 ١٢٣ ½ ² Ⅻ ① 한국어 日本語テキスト emoji 😀😀 ok",
        "short a I x yz the and of THE Of",
        "",
        "   ",
        "ﬁne ﬂow ＦＵＬＬ width ℌilbert ㎏",
        "ΟΔΟΣ ΣΟΦΙΑ Σ ΑΣ. ΚΑΛΟΣ' ΟΔΟΣ-ΣΟΦΟΣ İSTANBUL",
    ]
    configs = [
        ({}, {}),
        ({"ngram_range": "1,3", "stop_words": "english"}, {"ngram_range": (1, 3), "stop_words": "english"}),
        ({"lowercase": "false"}, {"lowercase": False}),
        ({"strip_accents": "ascii"}, {"strip_accents": "ascii"}),
        ({"strip_accents": "unicode"}, {"strip_accents": "unicode"}),
        ({"analyzer": "char_wb", "ngram_range": "2,4"}, {"analyzer": "char_wb", "ngram_range": (2, 4)}),
        ({"analyzer": "char_wb", "ngram_range": "1,5", "strip_accents": "unicode"},
         {"analyzer": "char_wb", "ngram_range": (1, 5), "strip_accents": "unicode"}),
        ({"analyzer": "char", "ngram_range": "1,3"}, {"analyzer": "char", "ngram_range": (1, 3)}),
    ]
    cases = []
    for lathe_settings, params in configs:
        analyze = CountVectorizer(**params).build_analyzer()
        cases.append({"settings": lathe_settings, "terms": [analyze(d) for d in documents]})
    write("analyzer.json", {"documents": documents, "cases": cases})


def scaler_fixtures():
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.preprocessing import MinMaxScaler, Normalizer, StandardScaler
    _, x, _ = load_numeric("diabetes")
    dense = {
        "standard": StandardScaler().fit(x),
        "standard_no_mean": StandardScaler(with_mean=False).fit(x),
        "minmax": MinMaxScaler().fit(x),
    }
    out = {"dataset": "diabetes", "rows": 5}
    for name, scaler in dense.items():
        out[name] = {"transformed": scaler.transform(x[:5]).tolist(),
                     **{k: getattr(scaler, k).tolist() for k in ("mean_", "scale_", "min_") if getattr(scaler, k, None) is not None}}
    for norm in ("l1", "l2", "max"):
        out["normalizer_" + norm] = {"transformed": Normalizer(norm=norm).transform(x[:5]).tolist()}
    # Sparse: word counts of the first 300 sms_spam texts, scaled without centring.
    _, docs = load_text("sms_spam/sms_spam.tsv")
    counts = CountVectorizer().fit_transform(docs[:300])
    sparse = StandardScaler(with_mean=False).fit(counts)
    out["sparse_counts"] = {"documents": 300, "columns": counts.shape[1], "scale_": sparse.scale_.tolist(),
                            "transformed_row0": sparse.transform(counts[:1]).toarray().ravel().tolist()}
    write("scalers.json", out)


def logistic_fixtures():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    cases = []
    for name, standardize in [("breast_cancer", True), ("iris", False), ("wine", True)]:
        _, x, y = load_numeric(name, labels=True)
        if standardize:
            x = StandardScaler().fit_transform(x)
        model = LogisticRegression().fit(x, y)
        tight = LogisticRegression(tol=1e-10, max_iter=10000).fit(x, y)
        # How far scikit-learn's own default fit moves when only the row order (so the rounding)
        # changes: where the solver stops at max_iter rather than on its tolerance (iris), the
        # path amplifies rounding and no reimplementation can match closer than this.
        scale = np.abs(model.coef_).max()
        spread = {"coef": 0.0, "intercept": 0.0, "probabilities": 0.0}
        rng = np.random.RandomState(0)
        for _ in range(5):
            order = rng.permutation(len(y))
            other = LogisticRegression().fit(x[order], y[order])
            spread["coef"] = max(spread["coef"], float(np.abs(other.coef_ - model.coef_).max() / scale))
            spread["intercept"] = max(spread["intercept"], float(np.abs(other.intercept_ - model.intercept_).max() / scale))
            spread["probabilities"] = max(spread["probabilities"], float(np.abs(other.predict_proba(x) - model.predict_proba(x)).max()))
        cases.append({"dataset": name, "standardize": standardize, "classes": model.classes_.tolist(),
                      "coef": model.coef_.tolist(), "intercept": model.intercept_.tolist(),
                      "probabilities": model.predict_proba(x).tolist(), "n_iter": int(model.n_iter_[0]),
                      "permutation_spread": spread,
                      "tight_coef": tight.coef_.tolist(), "tight_intercept": tight.intercept_.tolist()})
    # Variants on standardized breast_cancer, each converged tightly: class weights, and L1.
    _, x, y = load_numeric("breast_cancer", labels=True)
    x = StandardScaler().fit_transform(x)
    variants = []
    for settings, params in [
        ({"class_weight": "balanced"}, {"class_weight": "balanced"}),
        ({"class_weight": "malignant:3"}, {"class_weight": {"malignant": 3}}),
        ({"penalty": "l1", "C": "0.5"}, {"penalty": "l1", "C": 0.5, "solver": "saga"}),
    ]:
        m = LogisticRegression(tol=1e-10, max_iter=100000, **params).fit(x, y)
        variants.append({"settings": settings, "coef": m.coef_.tolist(), "intercept": m.intercept_.tolist()})
    write("logistic.json", {"params": "LogisticRegression() and LogisticRegression(tol=1e-10, max_iter=10000)",
                            "cases": cases, "breast_cancer_variants": variants})


def tree_fixtures():
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    def arrays(model):
        t = model.tree_
        value = t.value[:, 0, :] if t.value.ndim == 3 else t.value
        return {"feature": t.feature.tolist(), "threshold": t.threshold.tolist(), "left": t.children_left.tolist(),
                "right": t.children_right.tolist(), "value": value.tolist(), "impurity": t.impurity.tolist(),
                "n_node_samples": t.n_node_samples.tolist(), "feature_importances": model.feature_importances_.tolist()}

    # Tie-free toy data (continuous features), small enough to read node by node.
    rng = np.random.RandomState(0)
    x = rng.uniform(-2, 2, size=(80, 4))
    y_class = ((x[:, 0] + 0.5 * x[:, 1] > 0).astype(int) + (x[:, 2] > 0.8).astype(int))
    y_value = x[:, 0] ** 2 + np.sin(2 * x[:, 1]) + 0.3 * x[:, 3] + 0.1 * rng.normal(size=80)
    toys = []
    for params in ({"max_depth": 3}, {"max_depth": 4, "criterion": "entropy"}, {"max_leaf_nodes": 6},
                   {"max_depth": 3, "min_samples_leaf": 5}, {"max_depth": 3, "class_weight": "balanced"}):
        m = DecisionTreeClassifier(random_state=0, **params).fit(x, y_class)
        toys.append({"task": "classification", "params": {k: str(v) for k, v in params.items()}, **arrays(m)})
    for params in ({"max_depth": 3}, {"max_depth": 3, "criterion": "absolute_error"}, {"max_leaf_nodes": 5}):
        m = DecisionTreeRegressor(random_state=0, **params).fit(x, y_value)
        toys.append({"task": "regression", "params": {k: str(v) for k, v in params.items()}, **arrays(m)})
    cv = {}
    for name in ("iris", "wine", "breast_cancer", "digits"):
        _, features, labels = load_numeric(name, labels=True)
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
        cv[name] = float(cross_val_score(DecisionTreeClassifier(random_state=0), features, labels, cv=folds).mean())
    _, features, target = load_numeric("diabetes")
    folds = KFold(5, shuffle=True, random_state=0)
    regression = {c: float(cross_val_score(DecisionTreeRegressor(random_state=0, criterion=c), features, target,
                                           cv=folds, scoring="r2").mean())
                  for c in ("squared_error", "absolute_error")}
    # Sparse input: TF-IDF sms_spam, vectorizer fitted inside each fold, and one tree on every row.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    labels, docs = load_text("sms_spam/sms_spam.tsv")
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    cv["sms_spam"] = float(cross_val_score(make_pipeline(TfidfVectorizer(), DecisionTreeClassifier(random_state=0)),
                                           docs, labels, cv=folds).mean())
    whole = DecisionTreeClassifier(random_state=0).fit(TfidfVectorizer().fit_transform(docs), labels)
    sparse_tree = {"node_count": int(whole.tree_.node_count), "depth": int(whole.get_depth()),
                   "feature": whole.tree_.feature.tolist(), "threshold": whole.tree_.threshold.tolist()}
    write("tree.json", {"x": x.tolist(), "y_class": y_class.tolist(), "y_value": y_value.tolist(), "toys": toys,
                        "cv_accuracy": cv, "diabetes_r2": regression, "sms_spam_tree": sparse_tree})


def mlp_fixtures():
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    warnings.simplefilter("ignore", ConvergenceWarning)

    # A few epochs of small networks, every solver path: weights and losses to compare
    # closely (the same initial draws, shuffles, batches and steps).
    short = []
    for name, model in [
        ("iris", MLPClassifier(hidden_layer_sizes=(7,), max_iter=5, random_state=0, batch_size=32)),
        ("iris", MLPClassifier(hidden_layer_sizes=(6, 5), activation="tanh", solver="sgd", learning_rate_init=0.05,
                               max_iter=4, random_state=3)),
        ("breast_cancer", MLPClassifier(hidden_layer_sizes=(5,), activation="logistic", max_iter=3, random_state=1)),
        ("breast_cancer", MLPClassifier(hidden_layer_sizes=(4,), solver="sgd", nesterovs_momentum=False,
                                        learning_rate="invscaling", learning_rate_init=0.1, max_iter=3, shuffle=False,
                                        random_state=2)),
        ("diabetes", MLPRegressor(hidden_layer_sizes=(8,), activation="identity", max_iter=4, alpha=0.01, random_state=0)),
        ("diabetes", MLPRegressor(hidden_layer_sizes=(8,), max_iter=6, early_stopping=True, random_state=5,
                                  learning_rate_init=0.01)),
    ]:
        _, x, y = load_numeric(name, labels=isinstance(model, MLPClassifier))
        x = StandardScaler().fit_transform(x)
        model.fit(x, y)
        params = {k: str(v).replace("(", "").replace(")", "").rstrip(",").replace(" ", "") for k, v in model.get_params().items()
                  if k in ("hidden_layer_sizes", "activation", "solver", "learning_rate_init", "max_iter", "random_state",
                           "batch_size", "nesterovs_momentum", "learning_rate", "shuffle", "alpha", "early_stopping")}
        params = {k: v.lower() if v in ("True", "False") else v for k, v in params.items()}
        short.append({"dataset": name, "task": "classification" if isinstance(model, MLPClassifier) else "regression",
                      "params": params, "coefs": [c.tolist() for c in model.coefs_],
                      "intercepts": [b.tolist() for b in model.intercepts_], "loss_curve": model.loss_curve_,
                      "n_iter": model.n_iter_})
    cv = {}
    for name in ("digits", "breast_cancer"):
        _, x, y = load_numeric(name, labels=True)
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
        cv[name] = float(cross_val_score(make_pipeline(StandardScaler(), MLPClassifier(random_state=0, max_iter=500)),
                                         x, y, cv=folds).mean())
    _, x, y = load_numeric("diabetes")
    r2 = float(cross_val_score(make_pipeline(StandardScaler(), MLPRegressor(random_state=0, max_iter=500)), x, y,
                               cv=KFold(5, shuffle=True, random_state=0), scoring="r2").mean())
    write("mlp.json", {"short": short, "cv_accuracy": cv, "diabetes_r2": r2})


def classification_fixtures():
    from sklearn.metrics import (accuracy_score, balanced_accuracy_score, f1_score, log_loss,
                                 precision_score, recall_score, roc_auc_score)
    from sklearn.model_selection import StratifiedKFold
    folds = {}
    for name in ("iris", "wine", "breast_cancer"):
        _, x, y = load_numeric(name, labels=True)
        for seed in (0, 7):
            folds[f"{name}/{seed}"] = [test.tolist() for _, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(x, y)]
    labels, docs = load_text("sms_spam/sms_spam.tsv")
    folds["sms_spam/0"] = [t.tolist() for _, t in StratifiedKFold(5, shuffle=True, random_state=0).split(docs, labels)]
    rng = np.random.RandomState(3)
    cases = []
    for k, n in [(2, 40), (3, 60), (4, 25)]:
        expected = rng.randint(0, k, n)
        predicted = np.where(rng.rand(n) < 0.7, expected, rng.randint(0, k, n))
        if k == 4:
            predicted[predicted == 3] = 0  # a class never predicted: zero division
        p = rng.dirichlet(np.ones(k), n)
        p[np.arange(n), expected] += 0.5
        p /= p.sum(axis=1, keepdims=True)
        scores = p[:, 1] if k == 2 else p
        case = {"classes": k, "expected": expected.tolist(), "predicted": predicted.tolist(), "probabilities": p.tolist(),
                "accuracy": accuracy_score(expected, predicted),
                "balanced_accuracy": balanced_accuracy_score(expected, predicted),
                "log_loss": log_loss(expected, p, labels=list(range(k))),
                "roc_auc": roc_auc_score(expected, scores, multi_class="ovr", average="macro", labels=list(range(k)))}
        for avg in ("macro", "micro", "weighted"):
            case[f"precision_{avg}"] = precision_score(expected, predicted, average=avg, zero_division=0)
            case[f"recall_{avg}"] = recall_score(expected, predicted, average=avg, zero_division=0)
            case[f"f1_{avg}"] = f1_score(expected, predicted, average=avg, zero_division=0)
        cases.append(case)
    write("classification.json", {"stratified_folds": folds, "metrics": cases})


def svm_fixtures():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC
    cases = []
    for name in ("breast_cancer", "iris"):
        _, x, y = load_numeric(name, labels=True)
        x = StandardScaler().fit_transform(x)
        weighted = {"malignant": 3.0} if name == "breast_cancer" else {"setosa": 2.0, "virginica": 0.5}
        for params in ({"tol": 1e-8, "max_iter": 100000}, {"tol": 1e-8, "max_iter": 100000, "loss": "hinge"},
                       {"tol": 1e-8, "max_iter": 100000, "class_weight": weighted}):
            m = LinearSVC(**params).fit(x, y)
            shown = {k: (",".join(f"{c}:{w}" for c, w in v.items()) if isinstance(v, dict) else str(v)) for k, v in params.items()}
            cases.append({"dataset": name, "params": shown, "coef": m.coef_.tolist(),
                          "intercept": m.intercept_.tolist(), "predicted": m.predict(x).tolist()})
    labels, docs = load_text("sms_spam/sms_spam.tsv")
    x = TfidfVectorizer().fit_transform(docs)
    m = LinearSVC(tol=1e-8, max_iter=100000).fit(x, labels)
    cases.append({"dataset": "sms_spam", "params": {"tol": "1e-08", "max_iter": "100000"}, "coef": m.coef_.tolist(),
                  "intercept": m.intercept_.tolist(), "predicted": m.predict(x).tolist()})
    write("svm.json", {"cases": cases})


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


def selection_fixtures():
    """`lathe compare`'s leaderboards (scikit-learn's pipelines: a StandardScaler in front of
    logreg, svm and mlp) and the splitters' index lists."""
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.model_selection import KFold, RepeatedStratifiedKFold, ShuffleSplit, StratifiedKFold, cross_validate
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
    warnings.simplefilter("ignore", ConvergenceWarning)
    scaled = lambda model: make_pipeline(StandardScaler(), model)
    compare = {}
    _, x, y = load_numeric("iris", labels=True)
    models = {"logreg": scaled(LogisticRegression()), "svm": scaled(LinearSVC(random_state=0)),
              "tree": DecisionTreeClassifier(random_state=0), "mlp": scaled(MLPClassifier(random_state=0))}
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    compare["iris"] = {name: cross_validate(m, x, y, cv=folds, scoring="accuracy")["test_score"].tolist()
                       for name, m in models.items()}
    _, x, y = load_numeric("diabetes")
    models = {"linreg": LinearRegression(), "ridge": Ridge(), "tree": DecisionTreeRegressor(random_state=0),
              "mlp": scaled(MLPRegressor(random_state=0))}
    folds = KFold(5, shuffle=True, random_state=0)
    compare["diabetes"] = {name: cross_validate(m, x, y, cv=folds, scoring="r2")["test_score"].tolist()
                           for name, m in models.items()}
    _, x, y = load_numeric("wine", labels=True)
    shuffle = [{"train": tr.tolist(), "test": te.tolist()}
               for tr, te in ShuffleSplit(n_splits=3, test_size=0.25, random_state=4).split(x)]
    repeated = [te.tolist() for _, te in RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=9).split(x, y)]
    write("selection.json", {"compare": compare, "shuffle_split": shuffle, "repeated_stratified_test": repeated})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    jobs = {"linear": linear_fixtures, "cv": cv_fixtures, "metrics": metric_fixtures, "text": text_fixtures,
            "scalers": scaler_fixtures, "logistic": logistic_fixtures,
            "classification": classification_fixtures, "svm": svm_fixtures, "tree": tree_fixtures, "mlp": mlp_fixtures,
            "selection": selection_fixtures}
    for name in sys.argv[1:] or list(jobs):
        jobs[name]()
