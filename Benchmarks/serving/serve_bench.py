#!/usr/bin/env python3
"""`lathe serve` against the Flask app deployment tutorials write, side by side, in one run.

    bash Benchmarks/run.sh serve [--quick]

1. Load: the sms_spam text classifier (TF-IDF + logistic regression, default settings on both
   sides) served by `lathe serve` and by `flask_app.py` (a pickled scikit-learn pipeline,
   `model.predict`), both on loopback, driven by wrk: single-instance requests and 100-instance
   batches, 64 connections, 20 s each (5 s with --quick); then the batches again at 8
   connections, where a batch's latency is its own work rather than the queue of 63 others;
   and GET /healthz at 64 connections, the floor of every row (no model, no body). Each row
   says how much CPU time the hypervisor took meanwhile (steal), and an idle probe before the
   servers start counts the machine's own stalls: on a shared virtual machine they set the p99s.
2. Hostile: 10,000 malformed or hostile requests (random bytes, deep JSON nesting, 10 MB
   strings, wrong types, raw garbage that is not HTTP) to `lathe serve`: every answer must be
   a 4xx, the server must stay up, and its resident memory is sampled throughout.
(The interoperability check with Triton's client is a test: Tests/Interop, run by `make test`.)

Prints Markdown for BENCHMARKS.md and exits non-zero when a check (not a timing) fails.
"""
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORK = os.path.join(ROOT, ".build-bench")
LATHE = os.path.join(ROOT, ".build", "release", "lathe")
HERE = os.path.dirname(os.path.abspath(__file__))


def load_sms():
    with open(os.path.join(ROOT, "datasets", "sms_spam", "sms_spam.tsv"), encoding="utf-8", newline="") as f:
        pairs = [line.split("\t", 1) for line in f.read().split("\n")[1:] if line]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port, path, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


def start_lathe(model, log_path, *extra):
    port = free_port()
    log = open(log_path, "wb")
    proc = subprocess.Popen([LATHE, "serve", model, "--port", str(port), *extra], stderr=log, stdout=subprocess.DEVNULL)
    wait_until_up(port, "/healthz")
    return proc, port


def start_flask(model_pickle, log_path):
    port = free_port()
    log = open(log_path, "wb")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "flask_app.py"), model_pickle, str(port)],
                            stderr=log, stdout=log)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the Flask app did not start")


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return None


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_ticks():
    """(steal, total) ticks of the whole machine so far, from /proc/stat: time the hypervisor
    gave this machine's virtual CPUs to someone else, against all of it."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return fields[7], sum(fields[:8])


STALL_PROBE = """
import sys, time
end = time.perf_counter() + float(sys.argv[1])
last, gaps = time.perf_counter(), []
while last < end:
    t = time.perf_counter()
    if t - last > 1e-3:
        gaps.append(t - last)
    last = t
print(sum(g > 5e-3 for g in gaps), sum(g > 1e-3 for g in gaps), max(gaps, default=0.0))
"""


def vcpu_stalls(seconds):
    """Stalls of an idle machine: one spinning process per core notes each gap over 1 ms
    between two clock reads (when its virtual CPU did not run). Returns the gaps over 5 ms
    and over 1 ms per second and the longest gap (ms), over all cores."""
    procs = [subprocess.Popen([sys.executable, "-c", STALL_PROBE, str(seconds)], stdout=subprocess.PIPE, text=True)
             for _ in range(os.cpu_count() or 1)]
    results = [proc.communicate()[0].split() for proc in procs]
    return (sum(int(r[0]) for r in results) / seconds, sum(int(r[1]) for r in results) / seconds,
            1e3 * max(float(r[2]) for r in results))


def wrk(port, path, body, seconds, connections=64):
    """Requests/s, p50 and p99 (ms), socket errors and non-2xx responses of one wrk run: a POST
    of `body`, or a GET when it is None."""
    script = os.path.join(WORK, "wrk-body.lua")
    with open(script, "w") as f:
        if body is not None:
            f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
            f.write("wrk.body = " + json.dumps(body) + "\n")
    # One wrk thread: the client shares the two cores with the server, and a second thread only
    # takes CPU from whichever server it measures.
    steal_before, total_before = cpu_ticks()
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script,
                          f"http://127.0.0.1:{port}{path}"], check=True, capture_output=True, text=True).stdout
    steal_after, total_after = cpu_ticks()

    def ms(label):
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": ms("50%"), "p99": ms("99%"),
            "errors": errors, "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "steal": 100 * (steal_after - steal_before) / max(1, total_after - total_before)}


def load_benchmark(lathe_model, sklearn_pickle, texts, seconds):
    # Before any server starts: how often this machine's virtual CPUs stop for milliseconds on
    # their own. A request in flight on a stopped CPU waits as long, so this bounds the p99s below.
    stalls = vcpu_stalls(10)
    single = json.dumps({"instances": [texts[0]]})
    batch = json.dumps({"instances": texts[:100]})
    lathe_proc, lathe_port = start_lathe(lathe_model, os.path.join(WORK, "serve-load.log"))
    flask_proc, flask_port = start_flask(sklearn_pickle, os.path.join(WORK, "flask-load.log"))
    results = {}
    try:
        for name, body, connections in (("single instance", single, 64), ("100-instance batch", batch, 64),
                                        ("100-instance batch, 8 connections", batch, 8)):
            # Warm both (connections, caches) before measuring.
            wrk(lathe_port, "/v1/models/spam:predict", body, 2, connections)
            wrk(flask_port, "/predict", body, 2, connections)
            results[name] = (wrk(lathe_port, "/v1/models/spam:predict", body, seconds, connections),
                             wrk(flask_port, "/predict", body, seconds, connections))
        # The floor under every row: the same server and client with no model and no body.
        health = wrk(lathe_port, "/healthz", None, seconds)
    finally:
        lathe_status = stop(lathe_proc)
        stop(flask_proc)
    out = ["### Load: `lathe serve` vs Flask + scikit-learn (sms_spam, TF-IDF + logistic regression)", "",
           f"wrk, 1 thread, 64 connections (8 where the row says so), {seconds} s per run, both servers on loopback on the same 2 cores as wrk. "
           "Lathe: `lathe serve spam.lathe` (release build, access log to a file). Flask: `flask_app.py` "
           "(`app.run`, threaded; `model.predict` of the pickled pipeline; Werkzeug's request log to a file).", "",
           f"Before the servers started, idle for 10 s, this machine's virtual CPUs stopped for over 5 ms {stalls[0]:.1f} "
           f"times a second and for over 1 ms {stalls[1]:.1f} times (the longest {stalls[2]:.1f} ms). Steal: the share of "
           "the machine's CPU time the hypervisor took during the row's wrk run (/proc/stat).", "",
           "| Requests | Server | Requests/s | p50 (ms) | p99 (ms) | Errors | Non-2xx | Steal | Lathe / Flask req/s |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    failures = []
    for name, (la, fl) in results.items():
        ratio = la["rps"] / fl["rps"]
        out.append(f"| {name} | Lathe | {la['rps']:.0f} | {la['p50']:.2f} | {la['p99']:.2f} | {la['errors']} | {la['non2xx']} | {la['steal']:.1f}% | {ratio:.1f}× |")
        out.append(f"| {name} | Flask | {fl['rps']:.0f} | {fl['p50']:.2f} | {fl['p99']:.2f} | {fl['errors']} | {fl['non2xx']} | {fl['steal']:.1f}% | |")
        if la["errors"] or la["non2xx"]:
            failures.append(f"Lathe had errors or non-2xx responses ({name})")
    out += ["", f"For reference, `GET /healthz` (no model, no body) on the same Lathe server, 64 connections: "
            f"{health['rps']:.0f} requests/s, p50 {health['p50']:.2f} ms, p99 {health['p99']:.2f} ms, steal {health['steal']:.1f}%: what wrk, the "
            "HTTP layer and this machine's scheduling cost with no prediction at all."]
    if lathe_status != 0:
        failures.append(f"lathe serve exited with {lathe_status} on SIGTERM")
    return out, failures, results


def hostile_requests(count, rng):
    """(kind, raw request bytes) for `count` hostile requests to the sms_spam model."""
    paths = ["/v1/models/spam:predict", "/v2/models/spam/infer", "/v1/models/nope:predict", "/v1/models/spam:predict?x=1"]
    wrong = ['{"instances": 5}', '{"instances": [1, 2]}', '{"instances": [[1.5]]}', '{"instances": [null]}',
             '{"instances": [{"text": "hi"}]}', '{"inputs": [{"name": "text", "datatype": "FP64", "shape": [1], "data": [1]}]}',
             '{"inputs": [{"name": "text", "datatype": "BYTES", "shape": [2], "data": ["a"]}]}', '{"instances": []}',
             '{"instances": ["a", ["b"]]}', '[]', '"text"', '{"instances": [1e999]}', '{"instances": [NaN]}']
    for i in range(count):
        kind = ["bytes", "nesting", "wrong types", "garbage", "truncated"][i % 5] if i % 100 != 99 else "10 MB string"
        path = rng.choice(paths)
        if kind == "bytes":
            body = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 2048)))
        elif kind == "nesting":
            depth = rng.randrange(65, 200_000)
            body = (b'{"instances": ' if path.startswith("/v1") else b'{"inputs": ') + b"[" * depth + b"]" * depth + b"}"
        elif kind == "wrong types":
            body = rng.choice(wrong).encode()
        elif kind == "truncated":
            valid = json.dumps({"instances": ["free entry in a weekly competition"] * 3}).encode()
            body = valid[: rng.randrange(1, len(valid) - 1)]
        elif kind == "10 MB string":
            body = b'{"instances": ["' + b"x" * (10 << 20) + b'"]}'
        else:  # not HTTP at all
            yield kind, bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 512))) + b"\r\n\r\n"
            continue
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        yield kind, head.encode() + body


def send_raw(port, data):
    """Sends `data` on a new connection; the status of the answer, or None when there was none."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (413) and closed; read what it said
        s.shutdown(socket.SHUT_WR)
        reply = b""
        try:
            while b"\r\n" not in reply:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    m = re.match(rb"HTTP/1\.[01] (\d{3})", reply)
    return int(m.group(1)) if m else None


def hostile_benchmark(lathe_model, count):
    proc, port = start_lathe(lathe_model, os.path.join(WORK, "serve-hostile.log"))
    rng = random.Random(7)
    statuses, kinds, samples = {}, {}, []
    start = time.perf_counter()
    before = rss_mib(proc.pid)
    try:
        for i, (kind, data) in enumerate(hostile_requests(count, rng)):
            status = send_raw(port, data)
            statuses[status] = statuses.get(status, 0) + 1
            kinds.setdefault(kind, {}).setdefault(status, 0)
            kinds[kind][status] += 1
            if i % 1000 == 999:
                samples.append(rss_mib(proc.pid))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/v1/models/spam:predict", body=json.dumps({"instances": ["still up?"]}))
        alive = conn.getresponse().status == 200
    finally:
        exit_status = stop(proc)
    seconds = time.perf_counter() - start
    answered_4xx = sum(n for s, n in statuses.items() if s is not None and 400 <= s < 500)
    out = ["### Hostile requests to `lathe serve`", "",
           f"{count} requests in {seconds:.1f} s, one connection each (`hostile_requests` in serve_bench.py, seed 7): "
           "random bytes as a JSON body, nesting up to 200,000 deep, 10 MB strings (1 in 100), wrong types and "
           "shapes, truncated JSON, and raw garbage that is not HTTP.", "",
           "| Kind | Answers |", "|---|---|"]
    for kind, by_status in sorted(kinds.items()):
        out.append(f"| {kind} | " + ", ".join(f"{s if s is not None else 'no answer'}: {n}" for s, n in sorted(by_status.items(), key=lambda kv: str(kv[0]))) + " |")
    out += ["", f"Every answer a 4xx: {answered_4xx} of {count}. Server up afterwards (a valid prediction answered 200): {alive}. "
            f"Exit status on SIGTERM: {exit_status}.",
            f"Resident memory (MiB): {before:.1f} before; after each 1,000 requests: " + ", ".join(f"{m:.1f}" for m in samples) + "."]
    failures = []
    if answered_4xx != count:
        failures.append(f"{count - answered_4xx} hostile requests were not answered with a 4xx: {statuses}")
    if not alive or exit_status != 0:
        failures.append("the server did not survive the hostile requests cleanly")
    if samples and max(samples[len(samples) // 2:]) > samples[0] * 1.25 + 5:
        failures.append(f"memory grew: {samples}")
    return out, failures


def suite_serve(quick=False):
    os.makedirs(WORK, exist_ok=True)
    import pickle

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    labels, texts = load_sms()
    lathe_model = os.path.join(WORK, "spam.lathe")
    subprocess.run([LATHE, "train", "sms_spam", "--model", "logreg", "--out", lathe_model, "--quiet"], check=True,
                   capture_output=True, cwd=ROOT)
    sklearn_pickle = os.path.join(WORK, "spam.pkl")
    with open(sklearn_pickle, "wb") as f:
        pickle.dump(make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(texts, labels), f)

    out, failures, _ = load_benchmark(lathe_model, sklearn_pickle, texts, 5 if quick else 20)
    hostile, hostile_failures = hostile_benchmark(lathe_model, 2000 if quick else 10_000)
    failures += hostile_failures
    out += [""] + hostile
    if failures:
        out += ["", "**Checks that failed:** " + "; ".join(failures)]
    return out, failures


if __name__ == "__main__":
    lines, failed = suite_serve("--quick" in sys.argv)
    print("\n".join(lines))
    sys.exit(1 if failed else 0)
