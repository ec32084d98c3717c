#!/usr/bin/env python3
"""A client we did not write against `lathe serve`: Triton's `tritonclient[http]` calls the
Open Inference Protocol routes (/v2 health, model metadata, infer with JSON tensors,
binary_data=False), and its predictions, and those of /v1, must equal `lathe predict --json`
on the same messages, exactly.

    python triton_interop.py LATHE_BINARY        (run by `make test` through run.sh)
"""
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import tritonclient.http as triton

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(lathe):
    start = time.perf_counter()
    with open(os.path.join(ROOT, "datasets", "sms_spam", "sms_spam.tsv"), encoding="utf-8", newline="") as f:
        texts = [line.split("\t", 1)[1] for line in f.read().split("\n")[1:201] if line]
    work = tempfile.mkdtemp(prefix="lathe-interop-")
    model = os.path.join(work, "spam.lathe")
    subprocess.run([lathe, "train", "sms_spam", "--model", "logreg", "--out", model, "--quiet"], check=True, cwd=ROOT,
                   capture_output=True)
    expected = [json.loads(line) for line in subprocess.run(
        [lathe, "predict", model, "--json"], input="\n".join(texts) + "\n", check=True, capture_output=True, text=True
    ).stdout.splitlines()]

    log_path = os.path.join(work, "serve.log")
    server = subprocess.Popen([lathe, "serve", model, "--port", "0"], stderr=open(log_path, "wb"), stdout=subprocess.DEVNULL)
    failures = []
    try:
        port = None
        deadline = time.time() + 60
        while port is None and time.time() < deadline and server.poll() is None:
            time.sleep(0.05)
            m = re.search(r'"message":"listening".*?"port":(\d+)|"port":(\d+).*?"message":"listening"', open(log_path).read())
            port = m and int(m.group(1) or m.group(2))
        if port is None:
            sys.exit(f"interop: lathe serve did not start: {open(log_path).read()}")

        client = triton.InferenceServerClient(url=f"127.0.0.1:{port}")
        if not (client.is_server_live() and client.is_server_ready() and client.is_model_ready("spam")):
            failures.append("health or readiness")
        metadata = client.get_model_metadata("spam")
        if [(i["name"], i["datatype"], i["shape"]) for i in metadata["inputs"]] != [("text", "BYTES", [-1])]:
            failures.append(f"model metadata inputs: {metadata['inputs']}")
        if [o["name"] for o in metadata["outputs"]] != ["label", "probabilities"]:
            failures.append(f"model metadata outputs: {metadata['outputs']}")

        text = triton.InferInput("text", [len(texts)], "BYTES")
        text.set_data_from_numpy(np.array([t.encode() for t in texts], dtype=np.object_), binary_data=False)
        outputs = [triton.InferRequestedOutput("label", binary_data=False),
                   triton.InferRequestedOutput("probabilities", binary_data=False)]
        result = client.infer("spam", [text], outputs=outputs, request_id="interop-1")
        labels = [b.decode() if isinstance(b, bytes) else str(b) for b in result.as_numpy("label").tolist()]
        probabilities = result.as_numpy("probabilities")
        if result.get_response().get("id") != "interop-1":
            failures.append("the request id was not echoed")
        if labels != [e["label"] for e in expected]:
            failures.append("/v2 labels differ from lathe predict")
        if probabilities.shape != (len(texts), 2) or any(
                probabilities[i].tolist() != [e["probabilities"]["ham"], e["probabilities"]["spam"]] for i, e in enumerate(expected)):
            failures.append("/v2 probabilities differ from lathe predict")
        # Without requested outputs the client asks for binary data; the server answers in JSON, which it reads.
        plain = client.infer("spam", [text])
        if [b.decode() if isinstance(b, bytes) else str(b) for b in plain.as_numpy("label").tolist()] != labels:
            failures.append("/v2 without requested outputs")
        try:
            client.get_model_metadata("missing")
            failures.append("an unknown model did not raise")
        except triton.InferenceServerException as error:
            if "no model named missing" not in str(error):
                failures.append(f"unknown model error: {error}")

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/v1/models/spam:predict", body=json.dumps({"instances": texts}),
                     headers={"Content-Type": "application/json"})
        if json.loads(conn.getresponse().read())["predictions"] != expected:
            failures.append("/v1 predictions differ from lathe predict")
    finally:
        server.terminate()
        status = server.wait(timeout=30)
    if status != 0:
        failures.append(f"lathe serve exited with {status} on SIGTERM")
    if failures:
        sys.exit("interop: FAILED: " + "; ".join(failures))
    from importlib.metadata import version
    print(f"interop: tritonclient {version('tritonclient')} against lathe serve: health, metadata and "
          f"infer on {len(texts)} messages; /v1 and /v2 equal lathe predict ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main(sys.argv[1])
