#!/usr/bin/env python3
"""Keras vs kerascope inference benchmark: the Python half of `make bench-keras`.

Run from the repository root with the fixture venv (testdata/gen/setup.sh):

    testdata/gen/.venv/bin/python testdata/gen/bench_keras.py \\
        [--go-worker bin/kerascope-bench] [--models rnn_1unit,bench_lstm,...] \\
        [--rounds 7] [--single 50] [--batch 10] [--warmup 3] [--json OUT]

For each model (default: rnn_1unit, bench_lstm, bench_cnn, bench_mlp, file
testdata/models/<name>/k3.keras, input testdata/models/<name>/input.npy) the
driver starts two long-lived worker processes:

  * the Keras worker: this script, `bench_keras.py --worker MODEL_FILE
    INPUT_NPY` (TensorFlow backend, CPU only, TF's default thread pools,
    i.e. all cores);
  * the Go worker: `GO_WORKER MODEL_FILE INPUT_NPY`.

When the stored input has fewer than BATCH (64) samples (rnn_1unit has 8),
the driver first writes a temporary copy tiled to 64 samples and gives that
file to both workers, so "batch" always means 64 samples.

Line protocol (driver -> worker on stdin, one JSON line back on stdout):

    single N   N predictions of the first sample (batch of 1), timed one by
               one -> {"ns": [t1, ..., tN]}   (wall time per call, ns)
    batch N    N predictions of the first 64 samples  -> {"ns": [...]}
    rss        -> {"maxrss_kb": K}  (getrusage(RUSAGE_SELF).ru_maxrss)
    quit       exit 0 (no reply)

A worker may add keys; it reports a failure as {"error": "..."}. The Keras
worker times `model(x, training=False)` (result converted to numpy) and,
for batch, also `model.predict(x, batch_size=64, verbose=0)`; its "ns" is
the faster of the two by median and "method" says which ("call" or
"predict"); both series are included ("ns_call", "ns_predict").

The driver warms both workers up (--warmup rounds of `single 5`, `batch 2`)
and then runs --rounds rounds of: single (Keras, Go), batch (Keras, Go),
the order of the two workers flipped every round. It prints, per model,
the median single-sample latency of each and the ratio Keras/Go, the
batch-64 throughput (samples/s, from the median batch time) of each and the
ratio Go/Keras, and the peak RSS of each worker process.
"""

import argparse
import json
import os
import platform
import resource
import select
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata as importlib_metadata
from pathlib import Path

BATCH = 64
DEFAULT_MODELS = ("rnn_1unit", "bench_lstm", "bench_cnn", "bench_mlp")
ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = ROOT / "testdata" / "models"
REPLY_TIMEOUT = 900.0  # seconds for one reply (loading TF can be slow)


# ---------------------------------------------------------------------------
# Keras worker
# ---------------------------------------------------------------------------
def keras_worker(model_file, input_npy):
    # Protocol replies go to the real stdout; anything TF/Keras prints to
    # stdout is sent to stderr instead.
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")

    import numpy as np
    import keras

    model = keras.models.load_model(model_file, compile=False)
    x = np.load(input_npy)
    x1, xb = x[:1], x[:BATCH]

    def to_numpy(y):
        return [keras.ops.convert_to_numpy(t) for t in keras.tree.flatten(y)]

    def call(inp):
        return to_numpy(model(inp, training=False))

    def predict(inp):
        return to_numpy(model.predict(inp, batch_size=BATCH, verbose=0))

    def timed(fn, inp, n):
        out = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            fn(inp)
            out.append(time.perf_counter_ns() - t0)
        return out

    # Warm-up: build the traced functions for both batch shapes.
    for _ in range(3):
        call(x1)
        call(xb)
        predict(xb)

    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        try:
            cmd = parts[0]
            if cmd == "quit":
                return 0
            if cmd == "rss":
                reply = {"maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
            elif cmd == "single":
                reply = {"ns": timed(call, x1, int(parts[1]))}
            elif cmd == "batch":
                n = int(parts[1])
                ns_call = timed(call, xb, n)
                ns_pred = timed(predict, xb, n)
                fast = ("call" if statistics.median(ns_call) <= statistics.median(ns_pred)
                        else "predict")
                reply = {"ns": ns_call if fast == "call" else ns_pred,
                         "method": fast, "ns_call": ns_call, "ns_predict": ns_pred}
            else:
                reply = {"error": f"unknown command {line.strip()!r}"}
        except Exception as e:  # noqa: BLE001
            reply = {"error": f"{type(e).__name__}: {e}"}
        proto.write(json.dumps(reply) + "\n")
        proto.flush()
    return 0


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------
class WorkerError(RuntimeError):
    pass


class Worker:
    """A worker subprocess speaking the line protocol."""

    def __init__(self, label, argv, env=None):
        self.label = label
        self.argv = argv
        self.stderr = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=self.stderr, env=env, text=True, bufsize=1)
        except OSError as e:
            raise WorkerError(f"{label} worker could not start: "
                              f"{shlex.join(argv)}: {e}") from e

    def stderr_tail(self, n=20):
        self.stderr.seek(0)
        lines = self.stderr.read().decode("utf-8", "replace").splitlines()
        return "\n".join("    " + ln for ln in lines[-n:])

    def _died(self, what):
        try:
            rc = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            rc = None
        tail = self.stderr_tail()
        return WorkerError(
            f"{self.label} worker {what} (exit status {rc}); command: "
            f"{shlex.join(self.argv)}" + (f"\n  last stderr lines:\n{tail}" if tail else
                                          "\n  (no stderr output)"))

    def ask(self, cmd, timeout=REPLY_TIMEOUT):
        try:
            self.proc.stdin.write(cmd + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._died(f"died before {cmd!r}") from None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.kill()
            raise self._died(f"gave no reply to {cmd!r} within {timeout:.0f} s")
        line = self.proc.stdout.readline()
        if not line:
            raise self._died(f"died during {cmd!r}")
        try:
            reply = json.loads(line)
        except json.JSONDecodeError:
            raise WorkerError(f"{self.label} worker replied to {cmd!r} with "
                              f"something that is not JSON: {line[:200]!r}") from None
        if not isinstance(reply, dict):
            raise WorkerError(f"{self.label} worker: reply to {cmd!r} is not an "
                              f"object: {line[:200]!r}")
        if "error" in reply:
            raise WorkerError(f"{self.label} worker reported an error for "
                              f"{cmd!r}: {reply['error']}")
        return reply

    def times(self, cmd, n):
        reply = self.ask(f"{cmd} {n}")
        ns = reply.get("ns")
        if not isinstance(ns, list) or len(ns) != n:
            raise WorkerError(f"{self.label} worker: reply to '{cmd} {n}' needs "
                              f"'ns' with {n} numbers, got {str(reply)[:200]}")
        return reply

    def quit(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                self.kill()
        self.stderr.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def cpu_info():
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {"cpu": model, "logical_cpus": os.cpu_count(), "usable_cpus": usable,
            "os": platform.platform()}


def versions(go_worker):
    def v(dist):
        try:
            return importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            return None

    try:
        go = subprocess.run(["go", "version"], capture_output=True, text=True,
                            timeout=60).stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        go = None
    return {"python": platform.python_version(), "keras": v("keras"),
            "tensorflow": v("tensorflow") or v("tensorflow-cpu"),
            "numpy": v("numpy"), "go": go or "unavailable", "go_worker": go_worker}


def batch_input(input_npy, tmpdir):
    """The input file to give both workers: the stored one, or a copy tiled
    to BATCH samples when it has fewer."""
    import numpy as np

    x = np.load(input_npy)
    if len(x) >= BATCH:
        return str(input_npy), len(x), False
    reps = -(-BATCH // len(x))
    tiled = np.concatenate([x] * reps)[:BATCH]
    out = Path(tmpdir) / f"{Path(input_npy).parent.name}.input{BATCH}.npy"
    np.save(out, tiled)
    return str(out), len(x), True


def summarize(ns_single, ns_batch):
    med1 = statistics.median(ns_single)
    medb = statistics.median(ns_batch)
    return {"single_median_ns": med1, "single_min_ns": min(ns_single),
            "batch_median_ns": medb, "batch_min_ns": min(ns_batch),
            "batch_samples_per_s": BATCH / (medb / 1e9)}


def fmt_ns(ns):
    if ns >= 1e9:
        return f"{ns / 1e9:.3f} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.3f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def bench_model(name, args, keras_env, tmpdir):
    mdir = MODELS_DIR / name
    model_file = mdir / "k3.keras"
    input_npy = mdir / "input.npy"
    for p in (model_file, input_npy):
        if not p.exists():
            raise WorkerError(f"{name}: missing {p} (run gen_models.py {name})")
    inp, stored_n, tiled = batch_input(input_npy, tmpdir)
    keras_w = Worker("Keras", [sys.executable, str(Path(__file__).resolve()),
                               "--worker", str(model_file), inp], env=keras_env)
    try:
        go_w = Worker("Go", [args.go_worker, str(model_file), inp])
    except WorkerError:
        keras_w.kill()
        raise
    workers = {"keras": keras_w, "go": go_w}
    raw = {k: {"single": [], "batch": [], "batch_methods": []} for k in workers}
    try:
        print(f"  {name}: loading and warming up ...", file=sys.stderr, flush=True)
        for _ in range(args.warmup):
            for w in workers.values():
                w.times("single", 5)
                w.times("batch", 2)
        order = ["keras", "go"]
        for r in range(args.rounds):
            print(f"  {name}: round {r + 1}/{args.rounds} ({' first, '.join(order)} "
                  f"second)", file=sys.stderr, flush=True)
            for k in order:
                raw[k]["single"] += workers[k].times("single", args.single)["ns"]
            for k in order:
                reply = workers[k].times("batch", args.batch)
                raw[k]["batch"] += reply["ns"]
                raw[k]["batch_methods"].append(reply.get("method"))
                if k == "keras":
                    raw[k].setdefault("batch_call", []).extend(reply.get("ns_call", []))
                    raw[k].setdefault("batch_predict", []).extend(
                        reply.get("ns_predict", []))
            order.reverse()
        for k, w in workers.items():
            raw[k]["maxrss_kb"] = w.ask("rss").get("maxrss_kb")
    finally:
        for w in workers.values():
            w.quit()
    res = {"model_file": str(model_file.relative_to(ROOT)),
           "input_file": str(input_npy.relative_to(ROOT)),
           "stored_samples": stored_n, "tiled_to_batch": tiled,
           "batch_size": BATCH, "raw": raw}
    for k in workers:
        res[k] = summarize(raw[k]["single"], raw[k]["batch"])
        res[k]["maxrss_kb"] = raw[k]["maxrss_kb"]
    kb = res["keras"]
    if raw["keras"].get("batch_call") and raw["keras"].get("batch_predict"):
        kb["batch_call_median_ns"] = statistics.median(raw["keras"]["batch_call"])
        kb["batch_predict_median_ns"] = statistics.median(raw["keras"]["batch_predict"])
        kb["batch_method"] = ("model(x)" if kb["batch_call_median_ns"]
                              <= kb["batch_predict_median_ns"] else "model.predict")
    res["single_ratio_keras_over_go"] = (res["keras"]["single_median_ns"]
                                         / res["go"]["single_median_ns"])
    res["batch_ratio_go_over_keras"] = (res["go"]["batch_samples_per_s"]
                                        / res["keras"]["batch_samples_per_s"])
    return res


def print_model(name, res):
    k, g = res["keras"], res["go"]
    note = (f" (stored input has {res['stored_samples']} samples, tiled to "
            f"{BATCH})" if res["tiled_to_batch"] else "")
    print(f"\n{name}  [{res['model_file']}]{note}")
    print(f"  single-sample latency (median)  Keras {fmt_ns(k['single_median_ns']):>11}"
          f"   Go {fmt_ns(g['single_median_ns']):>11}"
          f"   Keras/Go {res['single_ratio_keras_over_go']:8.1f}x")
    method = k.get("batch_method", "model(x)")
    print(f"  batch-{BATCH} throughput            Keras {k['batch_samples_per_s']:>9.0f}/s"
          f"   Go {g['batch_samples_per_s']:>9.0f}/s"
          f"   Go/Keras {res['batch_ratio_go_over_keras']:8.1f}x"
          f"   (Keras figure: {method}, the faster")
    if "batch_call_median_ns" in k:
        print(f"{'':36}of model(x) {fmt_ns(k['batch_call_median_ns'])}, "
              f"predict {fmt_ns(k['batch_predict_median_ns'])} per batch)")
    else:
        print(f"{'':36})")

    def kb(v):
        return "?" if v is None else f"{v / 1024:.1f} MiB"

    print(f"  peak RSS                        Keras {kb(k['maxrss_kb']):>11}"
          f"   Go {kb(g['maxrss_kb']):>11}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        if len(argv) != 3:
            sys.exit("usage: bench_keras.py --worker MODEL_FILE INPUT_NPY")
        return keras_worker(argv[1], argv[2])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--go-worker", default="bin/kerascope-bench",
                    help="Go worker binary (default %(default)s)")
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS),
                    help="comma-separated fixture names (default %(default)s)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--single", type=int, default=50,
                    help="single-sample calls per worker per round")
    ap.add_argument("--batch", type=int, default=10,
                    help="batch-64 calls per worker per round")
    ap.add_argument("--warmup", type=int, default=3,
                    help="warm-up rounds (single 5, batch 2) per worker")
    ap.add_argument("--json", metavar="OUT", help="write all raw figures to OUT")
    args = ap.parse_args(argv)
    if min(args.rounds, args.single, args.batch) < 1 or args.warmup < 0:
        ap.error("--rounds, --single and --batch must be >= 1, --warmup >= 0")
    go_path = Path(args.go_worker)
    if not (go_path.is_file() and os.access(go_path, os.X_OK)):
        sys.exit(f"bench_keras.py: Go worker {args.go_worker!r} is not an "
                 f"executable file (build it first, or pass --go-worker PATH)")
    args.go_worker = str(go_path.resolve()) if os.sep in args.go_worker else args.go_worker

    keras_env = dict(os.environ)
    keras_env.update({"CUDA_VISIBLE_DEVICES": "", "KERAS_BACKEND": "tensorflow",
                      "TF_CPP_MIN_LOG_LEVEL": "2"})
    keras_env.pop("TF_USE_LEGACY_KERAS", None)

    command = shlex.join([sys.executable] + sys.argv)
    machine = cpu_info()
    vers = versions(args.go_worker)
    print("kerascope vs Keras inference benchmark")
    print(f"  machine : {machine['cpu']}, {machine['logical_cpus']} logical CPUs "
          f"({machine['usable_cpus']} usable); {machine['os']}")
    print(f"  versions: keras {vers['keras']}, tensorflow {vers['tensorflow']} "
          f"(CPU only, default threads), python {vers['python']}, {vers['go']}")
    print(f"  command : {command}")
    print(f"  protocol: {args.warmup} warm-up rounds, then {args.rounds} rounds of "
          f"single x{args.single} and batch-{BATCH} x{args.batch} per worker, "
          f"worker order flipped every round; figures are medians")

    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-keras-") as tmp:
        for name in [m for m in args.models.split(",") if m]:
            try:
                results[name] = bench_model(name, args, keras_env, tmp)
            except WorkerError as e:
                print(f"\n{name}: FAILED: {e}", flush=True)
                results[name] = {"error": str(e)}
                continue
            print_model(name, results[name])
            sys.stdout.flush()
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"command": command, "machine": machine, "versions": vers,
             "settings": {"rounds": args.rounds, "single": args.single,
                          "batch": args.batch, "warmup": args.warmup,
                          "batch_size": BATCH},
             "models": results}, indent=1) + "\n")
        print(f"\nraw figures written to {args.json}")
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
