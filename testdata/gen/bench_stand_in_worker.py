#!/usr/bin/env python3
"""TEST STAND-IN for the Go benchmark worker (bin/kerascope-bench); not a
benchmark of anything. It speaks bench_keras.py's line protocol with fake
timings so the driver can be tested without the Go side:

    testdata/gen/.venv/bin/python testdata/gen/bench_keras.py \\
        --go-worker testdata/gen/bench_stand_in_worker.py --rounds 2

Usage: bench_stand_in_worker.py MODEL_FILE INPUT_NPY. It only checks that
both files exist and "predicts" by sleeping. BENCH_STAND_IN_FAIL=<command>
makes it exit with status 3 on that command (e.g. "batch"), to test how the
driver reports a worker that dies; BENCH_STAND_IN_FAIL=start exits at once.
"""
import json
import os
import resource
import sys
import time


def main():
    fail = os.environ.get("BENCH_STAND_IN_FAIL", "")
    if len(sys.argv) != 3 or not all(os.path.exists(p) for p in sys.argv[1:]):
        sys.exit(f"usage: {sys.argv[0]} MODEL_FILE INPUT_NPY (files must exist)")
    if fail == "start":
        sys.exit("stand-in: failing at start as asked")
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == fail:
            print(f"stand-in: dying on {parts[0]!r} as asked", file=sys.stderr)
            sys.exit(3)
        if parts[0] == "quit":
            return
        if parts[0] == "rss":
            reply = {"maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
        elif parts[0] in ("single", "batch"):
            pause = 20e-6 if parts[0] == "single" else 200e-6
            ns = []
            for _ in range(int(parts[1])):
                t0 = time.perf_counter_ns()
                time.sleep(pause)
                ns.append(time.perf_counter_ns() - t0)
            reply = {"ns": ns}
        else:
            reply = {"error": f"unknown command {line.strip()!r}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
