#!/usr/bin/env python3
"""kerascope against ONNX Runtime and Keras: the Python half of `make bench-keras`.

Run from the repository root with the fixture venv plus the benchmark's
extra packages (testdata/gen/setup.sh, then requirements-bench.txt; the
Makefile does both):

    testdata/gen/.venv/bin/python testdata/gen/bench_keras.py \\
        [--go-worker bin/kerascope-bench] [--models NAME,...] [--rounds 5] \\
        [--budget 0.6] [--json OUT] [--no-eager]

Models (bench_models.py makes them, with ONNX conversions, in the
git-ignored testdata/gen/.bench/): the four fixtures rnn_1unit, bench_lstm,
bench_cnn, bench_mlp (batch 64); MobileNetV2, ResNet50 and EfficientNetB0 at
224×224 (batch 8); a 2-layer LSTM/GRU sequence model and a small transformer
encoder (batch 64). For each model the driver starts four long-lived worker
processes on the same files:

  * go: GO_WORKER MODEL INPUT BATCH (kerascope's Go API, cmd/kerascope-bench);
  * tf.function: this script --worker tffunc: Keras 3 compiled,
    tf.function(lambda x: model(x, training=False), reduce_retracing=True),
    jit_compile off (TensorFlow's default threads: all cores);
  * ort: --worker ort: ONNX Runtime's CPU provider on the tf2onnx conversion,
    intra_op_num_threads = the CPU count, all graph optimizations;
  * eager: --worker eager: model(x, training=False), a footnote figure.

Line protocol (driver -> worker on stdin, one JSON line back):

    single N   N predictions of the first sample -> {"ns": [...]}
    batch N    N predictions of the batch        -> {"ns": [...]}
    rss        -> {"maxrss_kb": K}
    dump PATH  the batch's first output written as .npy -> {"ok": true}
    quit       exit 0 (no reply)

Before timing, the driver checks that kerascope's batch output matches
tf.function's within 1e-5 + 1e-4·|want| (and reports ONNX Runtime's largest
difference); a mismatch is reported with the model's conditioning (how much
Keras's own output moves when the input moves by 1e-6 relative) and makes
the run fail. It measures the machine's fp32 peak with numpy's
float32 2048×2048 product on all cores (its bundled OpenBLAS). Then, after
warm-up, it runs --rounds rounds of single and batch calls on every worker,
rotating the worker order each round and waiting SETTLE seconds before each
worker's turn, with as many calls per round as fit in --budget seconds (at
least 3 single and 2 batch calls). Figures are medians.
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

ROOT = Path(__file__).resolve().parents[2]
GEN = Path(__file__).resolve().parent
BENCH_DIR = GEN / ".bench"
DEFAULT_MODELS = ("rnn_1unit", "bench_lstm", "bench_cnn", "bench_mlp",
                  "mobilenetv2", "resnet50", "efficientnetb0", "seq_lstm_gru",
                  "transformer")
# Seconds every worker waits before its turn in a round, so that the thread
# pools of the one before (ONNX Runtime's and TensorFlow's spin after each
# call) have gone quiet and do not take a core from it.
SETTLE = 0.05

WORKERS = ("go", "go_before", "tffunc", "ort", "eager")
LABEL = {"go": "kerascope", "go_before": "kerascope before", "tffunc": "tf.function",
         "ort": "ONNX Runtime", "eager": "eager Keras"}
REPLY_TIMEOUT = 900.0
ATOL, RTOL = 1e-5, 1e-4


# ---------------------------------------------------------------------------
# Python workers
# ---------------------------------------------------------------------------
def py_worker(kind, model_dir, batch):
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    import numpy as np

    d = Path(model_dir)
    x = np.load(d / "input.npy")[:batch]
    x1 = x[:1]
    if kind == "ort":
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = os.cpu_count()
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(str(d / "model.onnx"), so,
                                    providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name

        def run(inp):
            return sess.run(None, {name: inp})
    else:
        import keras
        import tensorflow as tf

        model = keras.models.load_model(d / "model.keras", compile=False)

        def to_numpy(y):
            return [keras.ops.convert_to_numpy(t) for t in keras.tree.flatten(y)]

        if kind == "tffunc":
            fn = tf.function(lambda t: model(t, training=False), jit_compile=False,
                             reduce_retracing=True)

            def run(inp):
                return to_numpy(fn(inp))
        else:
            def run(inp):
                return to_numpy(model(inp, training=False))

    def timed(inp, n):
        out = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            run(inp)
            out.append(time.perf_counter_ns() - t0)
        return out

    run(x1)
    run(x)
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
                reply = {"ns": timed(x1, int(parts[1]))}
            elif cmd == "batch":
                reply = {"ns": timed(x, int(parts[1]))}
            elif cmd == "dump":
                np.save(parts[1], np.asarray(run(x)[0]))
                reply = {"ok": True}
            elif cmd == "cond":
                # How much the output moves for an input moved by 1e-6
                # relative: the model's own sensitivity to rounding.
                rng = np.random.default_rng(1)
                y0 = np.asarray(run(x)[0], dtype=np.float64)
                xp = (x * (1 + 1e-6 * rng.standard_normal(x.shape))).astype(x.dtype)
                y1 = np.asarray(run(xp)[0], dtype=np.float64)
                rel = np.abs(y1 - y0) / (np.abs(y0) + 1e-30)
                reply = {"max_abs": float(np.max(np.abs(y1 - y0))),
                         "median_rel": float(np.median(rel)),
                         "max_out": float(np.max(np.abs(y0)))}
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
        return ns

    def peak_rss_kb(self):
        """The worker's peak resident memory: VmHWM of its own address
        space. getrusage's ru_maxrss would not do: Linux carries it over
        exec from the forking driver, whose own peak (numpy, the peak
        measurement) it then reports for every small worker."""
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return self.ask("rss").get("maxrss_kb")

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
    return {"cpu": model, "logical_cpus": os.cpu_count(), "os": platform.platform()}


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
            "tensorflow": v("tensorflow-cpu") or v("tensorflow"),
            "onnxruntime": v("onnxruntime"), "tf2onnx": v("tf2onnx"),
            "numpy": v("numpy"), "go": go or "unavailable", "go_worker": go_worker}


def measure_peak():
    """GFLOP/s of numpy's float32 2048×2048 product on all cores, best of 5."""
    import numpy as np

    n = 2048
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = a.T.copy()
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(5))
    return 2 * n ** 3 / best / 1e9


def _timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def fmt_ns(ns):
    if ns >= 1e9:
        return f"{ns / 1e9:.2f} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def fmt_rate(r):
    if r >= 1e6:
        return f"{r / 1e6:.2f} M/s"
    if r >= 1e4:
        return f"{r / 1e3:.1f} k/s"
    return f"{r:.0f}/s"


def check_outputs(name, mdir, workers, tmp):
    """Compares kerascope's and ONNX Runtime's batch outputs with
    tf.function's; returns a dict of findings."""
    import numpy as np

    paths = {}
    for k in ("go", "tffunc", "ort"):
        if k in workers:
            paths[k] = Path(tmp) / f"{name}.{k}.npy"
            workers[k].ask(f"dump {paths[k]}")
    want = np.load(paths["tffunc"]).astype(np.float64)
    res = {}
    for k in ("go", "ort"):
        if k not in paths:
            continue
        got = np.load(paths[k]).astype(np.float64)
        if got.shape != want.shape:
            res[k] = {"ok": False, "why": f"shape {got.shape}, want {want.shape}"}
            continue
        err = np.abs(got - want)
        tol = ATOL + RTOL * np.abs(want)
        res[k] = {"ok": bool(np.all(err <= tol)), "max_abs": float(err.max()),
                  "worst_over_tol": float((err / tol).max())}
    if not res["go"]["ok"]:
        res["conditioning"] = workers["tffunc"].ask("cond")
    return res


def bench_model(name, args, py_env, tmp):
    mdir = BENCH_DIR / name
    meta = json.loads((mdir / "meta.json").read_text())
    batch = meta["batch"]
    me = str(Path(__file__).resolve())
    kinds = [k for k in WORKERS if not (k == "eager" and args.no_eager)
             and not (k == "go_before" and not args.go_before)]
    workers = {}
    try:
        for k in kinds:
            if k in ("go", "go_before"):
                argv = [args.go_worker if k == "go" else args.go_before,
                        str(mdir / "model.keras"), str(mdir / "input.npy"), str(batch)]
            else:
                argv = [sys.executable, me, "--worker", k, str(mdir), str(batch)]
            workers[k] = Worker(LABEL[k], argv, env=py_env)
        print(f"  {name}: loading, checking outputs ...", file=sys.stderr, flush=True)
        check = check_outputs(name, mdir, workers, tmp)
        # Warm-up, then calls per round from the warm-up's speed.
        per = {}
        for k, w in workers.items():
            s = statistics.median(w.times("single", 3))
            b = statistics.median(w.times("batch", 2))
            per[k] = (max(3, min(args.single, int(args.budget * 1e9 / s))),
                      max(2, min(args.batch, int(args.budget * 1e9 / b))))
        raw = {k: {"single": [], "batch": []} for k in workers}
        order = list(workers)
        for r in range(args.rounds):
            print(f"  {name}: round {r + 1}/{args.rounds} ({', '.join(order)})",
                  file=sys.stderr, flush=True)
            for k in order:
                time.sleep(SETTLE)
                raw[k]["single"] += workers[k].times("single", per[k][0])
            for k in order:
                time.sleep(SETTLE)
                raw[k]["batch"] += workers[k].times("batch", per[k][1])
            order = order[1:] + order[:1]
        for k, w in workers.items():
            raw[k]["maxrss_kb"] = w.peak_rss_kb()
    finally:
        for w in workers.values():
            w.quit()
    res = {"meta": meta, "check": check, "raw": raw}
    flop = 2 * meta["macs_per_sample"]
    for k in workers:
        s = statistics.median(raw[k]["single"])
        b = statistics.median(raw[k]["batch"])
        res[k] = {"single_ns": s, "batch_ns": b, "batch_per_s": batch / (b / 1e9),
                  "single_gflops": flop / s, "batch_gflops": flop * batch / b,
                  "maxrss_kb": raw[k]["maxrss_kb"]}
    return res


def print_model(name, res, peak):
    meta, chk = res["meta"], res["check"]
    b = meta["batch"]
    print(f"\n{name}: {meta['params']:,} parameters, "
          f"{2 * meta['macs_per_sample'] / 1e9:.3f} GFLOP per sample, batch {b}")
    g = chk["go"]
    verdict = ("matches" if g["ok"] else "DOES NOT MATCH")
    print(f"  kerascope {verdict} tf.function (max |diff| {g.get('max_abs', float('nan')):.2e}, "
          f"worst {g.get('worst_over_tol', float('nan')):.2f}× the tolerance); "
          f"ONNX Runtime max |diff| {chk.get('ort', {}).get('max_abs', float('nan')):.2e}")
    if "conditioning" in chk:
        c = chk["conditioning"]
        print(f"  conditioning: a 1e-6 relative input change moves Keras's own output by "
              f"up to {c['max_abs']:.2e} (median relative {c['median_rel']:.2e}, "
              f"largest output {c['max_out']:.2e})")
    print(f"  {'':14} {'1 sample':>10} {'batch ' + str(b):>11} {'samples/s':>11} "
          f"{'GFLOP/s':>8} {'% peak':>7} {'peak RSS':>9}")
    for k in WORKERS:
        if k not in res:
            continue
        r = res[k]
        rss = r["maxrss_kb"] / 1024 if r["maxrss_kb"] else float("nan")
        print(f"  {LABEL[k]:14} {fmt_ns(r['single_ns']):>10} {fmt_ns(r['batch_ns']):>11} "
              f"{fmt_rate(r['batch_per_s']):>11} {r['batch_gflops']:8.1f} "
              f"{100 * r['batch_gflops'] / peak:6.0f}% {rss:7.0f} MB")
    go = res["go"]
    for k in ("ort", "tffunc"):
        if k in res:
            print(f"  kerascope vs {LABEL[k]}: latency {res[k]['single_ns'] / go['single_ns']:.2f}× "
                  f"(>1: kerascope faster), throughput {go['batch_per_s'] / res[k]['batch_per_s']:.2f}×")
    budget = 1.5 * (meta["weight_bytes"] + b * meta["largest_two_activations_bytes"]) / 2**20
    print(f"  RSS target 1.5 × (weights + two largest activations of the batch) = {budget:.0f} MB")


def markdown(results, peak):
    rows = ["| model | batch | 1-sample latency: kerascope / ORT / tf.function | "
            "ratio vs ORT, vs tf.function | batch throughput: kerascope / ORT / tf.function | "
            "ratio vs ORT, vs tf.function | kerascope GFLOP/s (% of peak) | peak RSS: kerascope / ORT |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in results.items():
        if "error" in r:
            rows.append(f"| {name} | – | failed: {r['error'].splitlines()[0][:80]} | | | | | |")
            continue
        go, o, t = r["go"], r["ort"], r["tffunc"]
        before = ""
        if "go_before" in r:
            gb = r["go_before"]
            before = (f" (before: {fmt_ns(gb['single_ns'])}, {fmt_rate(gb['batch_per_s'])})")
        rows.append(
            f"| {name} | {r['meta']['batch']} | {fmt_ns(go['single_ns'])} / {fmt_ns(o['single_ns'])} / "
            f"{fmt_ns(t['single_ns'])} | {o['single_ns'] / go['single_ns']:.2f}×, "
            f"{t['single_ns'] / go['single_ns']:.2f}× | {fmt_rate(go['batch_per_s'])} / "
            f"{fmt_rate(o['batch_per_s'])} / {fmt_rate(t['batch_per_s'])} | "
            f"{go['batch_per_s'] / o['batch_per_s']:.2f}×, {go['batch_per_s'] / t['batch_per_s']:.2f}× | "
            f"{go['batch_gflops']:.1f} ({100 * go['batch_gflops'] / peak:.0f}%) | "
            f"{go['maxrss_kb'] / 1024:.0f} / {o['maxrss_kb'] / 1024:.0f} MB |{before}")
    notes = [f"{n}: {fmt_ns(r['eager']['single_ns'])}, {fmt_rate(r['eager']['batch_per_s'])}"
             for n, r in results.items() if "eager" in r]
    if notes:
        rows.append("\nEager Keras (model(x), 1-sample latency, batch throughput): "
                    + "; ".join(notes) + ".")
    return "\n".join(rows)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        if len(argv) != 4 or argv[1] not in ("tffunc", "ort", "eager"):
            sys.exit("usage: bench_keras.py --worker tffunc|ort|eager MODEL_DIR BATCH")
        return py_worker(argv[1], argv[2], int(argv[3]))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--go-worker", default="bin/kerascope-bench")
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--budget", type=float, default=0.6,
                    help="seconds of single and of batch calls per worker per round")
    ap.add_argument("--single", type=int, default=200, help="most single calls per round")
    ap.add_argument("--batch", type=int, default=50, help="most batch calls per round")
    ap.add_argument("--no-eager", action="store_true", help="leave eager Keras out")
    ap.add_argument("--go-before", metavar="BIN",
                    help="a second Go worker (an earlier build) timed alongside, as 'before'")
    ap.add_argument("--json", metavar="OUT", help="write all raw figures to OUT")
    args = ap.parse_args(argv)
    go_path = Path(args.go_worker)
    if not (go_path.is_file() and os.access(go_path, os.X_OK)):
        sys.exit(f"bench_keras.py: Go worker {args.go_worker!r} is not an executable file")
    args.go_worker = str(go_path.resolve())
    if args.go_before:
        args.go_before = str(Path(args.go_before).resolve())
    models = [m for m in args.models.split(",") if m]

    py_env = dict(os.environ)
    py_env.update({"CUDA_VISIBLE_DEVICES": "", "KERAS_BACKEND": "tensorflow",
                   "TF_CPP_MIN_LOG_LEVEL": "3"})
    py_env.pop("TF_USE_LEGACY_KERAS", None)
    made = subprocess.run([sys.executable, str(GEN / "bench_models.py"), str(BENCH_DIR)] + models,
                          env=py_env, stdout=sys.stderr)
    if made.returncode != 0:
        sys.exit("bench_keras.py: making the models failed")

    command = shlex.join([sys.executable] + sys.argv)
    machine = cpu_info()
    vers = versions(args.go_worker)
    peak = measure_peak()
    print("kerascope vs ONNX Runtime and Keras: inference benchmark")
    print(f"  machine : {machine['cpu']}, {machine['logical_cpus']} logical CPUs; {machine['os']}")
    print(f"  fp32 peak (numpy float32 2048² product, all cores; best before any model): "
          f"{peak:.0f} GFLOP/s at the start, the final figure below")
    print(f"  versions: keras {vers['keras']}, tensorflow {vers['tensorflow']}, onnxruntime "
          f"{vers['onnxruntime']} (tf2onnx {vers['tf2onnx']}, opset 17), python "
          f"{vers['python']}, {vers['go']}")
    print(f"  command : {command}")
    print(f"  protocol: {args.rounds} rounds after warm-up, worker order rotated every round, "
          f"~{args.budget:g} s of calls per worker per round; medians")

    results = {}
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-keras-") as tmp:
        for name in models:
            # The machine may be busier at the start than later: the peak
            # is the best measured before any model.
            peak = max(peak, measure_peak())
            try:
                results[name] = bench_model(name, args, py_env, tmp)
            except WorkerError as e:
                print(f"\n{name}: FAILED: {e}", flush=True)
                results[name] = {"error": str(e)}
                failed = True
                continue
            print_model(name, results[name], peak)
            if not results[name]["check"]["go"]["ok"]:
                failed = True
            sys.stdout.flush()
    print(f"\nfp32 peak, best measured during the run: {peak:.0f} GFLOP/s "
          f"(GFLOP/s percentages above used the best so far)")
    print("\n" + markdown(results, peak))
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"command": command, "machine": machine, "versions": vers, "peak_gflops": peak,
             "models": results}, indent=1) + "\n")
        print(f"\nraw figures written to {args.json}")
    if failed:
        print("\nbench_keras.py: some model failed or did not match Keras (see above)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
