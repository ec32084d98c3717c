#!/usr/bin/env python3
"""Checks `lathe vectorize` output against scikit-learn's TfidfVectorizer, read with Python's
own safetensors package (so the file format is checked by an independent reader too).

    .build-venv/bin/python scripts/check_vectorize.py [DATASET ...]    (default: sms_spam 20news)

For each dataset and each setting in TEXT_CONFIGS it runs the release `lathe` binary, loads the
file, and compares vocabulary (term for term, index for index), idf and the CSR matrix (per
entry, tolerance 1e-12). Exits non-zero on any difference.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import scipy.sparse as sp
from safetensors.numpy import load_file, safe_open
from sklearn.feature_extraction.text import TfidfVectorizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import ROOT, TEXT_CONFIGS, load_text  # noqa: E402

LATHE = os.path.join(ROOT, ".build", "release", "lathe")
FILES = {"sms_spam": "sms_spam/sms_spam.tsv", "20news": "20news/20news-bydate-train.jsonl.gz"}


def check(dataset, name, lathe_settings, params):
    labels, docs = load_text(FILES[dataset])
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "f.safetensors")
        args = [LATHE, "vectorize", dataset, "--out", out, "--quiet"]
        for k, v in lathe_settings.items():
            args += ["--set", f"{k}={v}"]
        subprocess.run(args, check=True, cwd=ROOT)
        tensors = load_file(out)
        with safe_open(out, "np") as f:
            meta = f.metadata()
    shape = tuple(json.loads(meta["shape"]))
    x = sp.csr_matrix((tensors["X.data"], tensors["X.indices"], tensors["X.indptr"]), shape=shape)
    b, o = tensors["vocabulary.bytes"].tobytes(), tensors["vocabulary.offsets"]
    terms = [b[o[i]:o[i + 1]].decode("utf-8") for i in range(len(o) - 1)]

    v = TfidfVectorizer(**params)
    expected = v.fit_transform(docs)
    expected_terms = sorted(v.vocabulary_, key=v.vocabulary_.get)
    problems = []
    if terms != expected_terms:
        problems.append(f"vocabulary differs ({len(terms)} vs {len(expected_terms)} terms)")
    if not np.allclose(tensors["idf"], v.idf_, rtol=0, atol=1e-12):
        problems.append("idf differs")
    if shape != expected.shape:
        problems.append(f"shape {shape} vs {expected.shape}")
    else:
        diff = abs(x - expected)
        worst = diff.max() if diff.nnz else 0.0
        if worst > 1e-12:
            problems.append(f"matrix differs by up to {worst:g}")
    if json.loads(meta["labels"]) != labels:
        problems.append("labels differ")
    status = "OK " if not problems else "BAD"
    print(f"{status} {dataset:8} {name:8} shape {shape}, {x.nnz} stored, {len(terms)} terms"
          + ("" if not problems else ": " + "; ".join(problems)))
    return not problems


if __name__ == "__main__":
    datasets = sys.argv[1:] or list(FILES)
    ok = all([check(d, n, ls, p) for d in datasets for n, (ls, p) in TEXT_CONFIGS.items()])
    sys.exit(0 if ok else 1)
