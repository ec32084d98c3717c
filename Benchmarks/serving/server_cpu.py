#!/usr/bin/env python3
"""Server CPU per request of two `lathe` builds, alternated, under the load benchmark's
single-instance requests (wrk, 64 connections): a comparison of builds that holds up better
than requests/s when the machine's speed drifts, since both builds see each phase.

    .build-bench-venv/bin/python Benchmarks/serving/server_cpu.py OLD_LATHE NEW_LATHE [ROUNDS] [SECONDS]

Needs the model that `bash Benchmarks/run.sh serve` writes (.build-bench/spam.lathe) and wrk.
"""
import json
import os
import subprocess
import sys

import serve_bench as sb


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def main():
    builds = {"old": sys.argv[1], "new": sys.argv[2]}
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    seconds = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    _, texts = sb.load_sms()
    model = os.path.join(sb.WORK, "spam.lathe")
    body = json.dumps({"instances": [texts[0]]})
    for _ in range(rounds):
        for name, binary in builds.items():
            port = sb.free_port()
            proc = subprocess.Popen([binary, "serve", model, "--port", str(port)], stderr=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL)
            try:
                sb.wait_until_up(port, "/healthz")
                sb.wrk(port, "/v1/models/spam:predict", body, 1, 64)
                before = cpu_seconds(proc.pid)
                result = sb.wrk(port, "/v1/models/spam:predict", body, seconds, 64)
                used = cpu_seconds(proc.pid) - before
            finally:
                sb.stop(proc)
            print(f"{name}: {result['rps']:.0f} req/s, p99 {result['p99']:.2f} ms, "
                  f"server CPU {1e6 * used / result['requests']:.1f} µs a request", flush=True)


if __name__ == "__main__":
    main()
