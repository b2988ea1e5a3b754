#!/usr/bin/env python3
"""Every keras.applications architecture against kerascope (make verify-keras).

From the repository root, with the fixture venv (testdata/gen/setup.sh):

    testdata/gen/.venv/bin/python testdata/gen/verify_zoo.py [--only NAME...]
        [--flavour k3|tfk] [--kerascope BIN] [--out DIR] [--markdown FILE]

For each architecture in keras.applications (Keras 3) and tf_keras.applications
(tf-keras), one worker subprocess at a time (so memory is one model's):

- builds it with weights=None at the smallest input size it accepts (32x32,
  else 71, 75, ...), classes=1000, the random kernels Keras initializes after
  keras.utils.set_random_seed(0);
- randomizes the statistics and scales that would make layers identities:
  BatchNormalization gamma, beta, moving mean and variance, LayerScale's
  gamma, Normalization's mean and variance (see randomize);
- saves .keras and .h5 with the Keras that built it, loads each file back,
  and captures, from the loaded model, model.summary() as a non-terminal
  stdout gets it (gen_models.capture_summary, COLUMNS=80) and
  model.predict on a fixed input (two uniform(0, 255) images, seed 0);
- measures conditioning: the relative change of the output under a relative
  change of the input of one part in a million (each pixel times
  1 +- 1e-6), divided by 1e-6.

Then kerascope (the Go binary) reads every file: its summary must be
byte-identical, its predictions within 1e-5 + 1e-4|want|. The table lists
per architecture and flavour: summary identical, max abs error, max
relative error, conditioning. Nothing here loads a corpus file; everything
is built here. Files go to testdata/gen/.zoo (git-ignored).

With --logits, each architecture is built without its classifier's softmax
(classifier_activation=None), into another --out: where the softmax
saturates (every output 0 or 1 at this random initialization, conditioning
0: NASNetLarge), the logits still test the arithmetic.

With --f64, a file whose predictions miss is run once more by Keras in
float64 (the loaded model's config with every float32 dtype made float64,
its weights cast, the input cast): a second oracle that tells float32
rounding apart from a wrong computation. The row then says how far
kerascope and Keras's own float32 output are from it. The verdict stays
the float32 comparison: this only explains a miss.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

FLAVOURS = ("k3", "tfk")
SIZES = (32, 71, 75, 224, 331)  # tried in order until the builder accepts one
BATCH = 2
SEED = 0
ATOL, RTOL = 1e-5, 1e-4


def randomize(K, model, rng):
    """Set every scale and statistic that is an identity at initialization."""
    for layer in model._flatten_layers(include_self=False, recursive=True):
        for w in layer.weights:
            name = w.name.split("/")[-1].split(":")[0]
            shape = tuple(w.shape)
            if name == "gamma":  # BatchNormalization, LayerScale
                v = rng.uniform(0.5, 1.5, shape)
            elif name in ("beta", "moving_mean"):
                v = rng.normal(0, 0.1, shape)
            elif name == "moving_variance":
                v = rng.uniform(0.5, 1.5, shape)
            elif name == "mean" and layer.__class__.__name__ == "Normalization":
                v = rng.uniform(0.3, 0.6, shape)
            elif name == "variance" and layer.__class__.__name__ == "Normalization":
                v = rng.uniform(0.03, 0.09, shape)
            else:
                continue
            w.assign(v.astype(np.float32))


def worker(flavour, arch, out, logits=False):
    import gen_models as gm

    os.environ.update(gm.FIXED_ENV)
    tf, K = gm._import(flavour)
    out.mkdir(parents=True, exist_ok=True)
    ctor = getattr(K.applications, arch)
    model, size, errs = None, None, []
    for s in SIZES:
        try:
            K.utils.set_random_seed(SEED)
            # With logits, the classifier's softmax is left out, so that
            # an output saturated at one class (NASNet, MobileNet at this
            # random initialization: conditioning 0) still shows the
            # arithmetic behind it.
            kw = {"classifier_activation": None} if logits else {}
            model = ctor(weights=None, input_shape=(s, s, 3), **kw)
            size = s
            break
        except Exception as e:  # the builder refuses sizes below its minimum
            errs.append(f"{s}: {gm.error_text(e)}")
    info = {"arch": arch, "flavour": flavour, "size": size, "files": {}, "logits": logits}
    if model is None:
        info["error"] = "; ".join(errs)
        (out / "info.json").write_text(json.dumps(info, indent=1))
        return
    rng = np.random.default_rng(SEED)
    randomize(K, model, rng)
    x = rng.uniform(0, 255, (BATCH, size, size, 3)).astype(np.float32)
    np.save(out / "x.npy", x)
    y = model.predict(x, verbose=0)
    sign = rng.choice([-1.0, 1.0], x.shape)
    x2 = (x * (1 + 1e-6 * sign)).astype(np.float32)
    rel_in = float(np.max(np.abs(x2 - x)) / np.max(np.abs(x)))
    y2 = model.predict(x2, verbose=0)
    info["conditioning"] = float(np.max(np.abs(y2 - y)) / np.max(np.abs(y)) / rel_in)
    info["params"] = int(model.count_params())
    for fname in ("m.keras", "m.h5"):
        entry = info["files"][fname] = {}
        try:
            model.save(out / fname)
        except Exception as e:
            entry["save_error"] = gm.error_text(e)
            continue
        entry["size"] = (out / fname).stat().st_size
        try:
            loaded = K.models.load_model(out / fname, compile=False)
        except Exception as e:
            # Keras cannot read its own file (Keras 3 .h5 with ops taking
            # constants, applications' own classes): the model that wrote
            # it is the oracle for the predictions, and no summary exists.
            entry["load_error"] = gm.error_text(e)
            np.save(out / f"{fname}.y.npy", y.astype(np.float32))
            continue
        (out / f"{fname}.summary.txt").write_text(
            gm.capture_summary(loaded, gm.SUMMARY_K3_COLUMNS), encoding="utf-8")
        np.save(out / f"{fname}.y.npy", loaded.predict(x, verbose=0).astype(np.float32))
        del loaded
    (out / "info.json").write_text(json.dumps(info, indent=1))


def as_float64(o):
    """A model config with every float32 dtype made float64 (tf-keras
    writes dtype strings; Keras 3 writes DTypePolicy configs whose name is
    the string)."""
    if isinstance(o, dict):
        return {k: as_float64(v) for k, v in o.items()}
    if isinstance(o, list):
        return [as_float64(v) for v in o]
    return "float64" if o == "float32" else o


def worker_f64(flavour, d, fname):
    """Keras's predictions of a saved file computed in float64."""
    import gen_models as gm

    os.environ.update(gm.FIXED_ENV)
    tf, K = gm._import(flavour)
    m = K.models.load_model(d / fname, compile=False)
    if flavour == "k3":
        K.config.set_floatx("float64")
    else:
        K.backend.set_floatx("float64")
    m64 = m.__class__.from_config(as_float64(m.get_config()))
    m64.set_weights([w.astype(np.float64) if w.dtype == np.float32 else w for w in m.get_weights()])
    y = m64.predict(np.load(d / "x.npy").astype(np.float64), verbose=0)
    if y.dtype != np.float64:
        raise SystemExit(f"the float64 model computed {y.dtype}")
    np.save(d / f"{fname}.y64.npy", y)


def kerascope(binary, args):
    p = subprocess.run([binary] + args, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr.strip()


def compare(binary, d, fname):
    """kerascope's summary and predictions on one file against Keras's."""
    r = {"file": fname}
    if not (d / f"{fname}.y.npy").exists():
        r["error"] = "no Keras output"
        return r
    want_sum = d / f"{fname}.summary.txt"
    code, out, err = kerascope(binary, ["summary", str(d / fname)])
    r["summary"] = (code == 0 and out == want_sum.read_text(encoding="utf-8")) if want_sum.exists() else None
    if code != 0:
        r["summary_error"] = err
    got_path = d / f"{fname}.got.npy"
    code, _, err = kerascope(binary, ["predict", str(d / fname), "--input",
                                      str(d / "x.npy"), "--output", str(got_path)])
    if code != 0:
        r["predict_error"] = err
        return r
    got, want = np.load(got_path).astype(np.float64), np.load(d / f"{fname}.y.npy").astype(np.float64)
    got_path.unlink()
    y64 = d / f"{fname}.y64.npy"
    if y64.exists() and np.load(y64).shape == got.shape:
        truth = np.load(y64)
        for who, y in (("f64_kerascope", got), ("f64_keras", want)):
            e = np.abs(y - truth)
            r[who + "_abs"] = float(e.max())
            r[who + "_within"] = bool(np.all(e <= ATOL + RTOL * np.abs(truth)))
    if got.shape != want.shape:
        r["predict_error"] = f"shape {got.shape}, want {want.shape}"
        return r
    err = np.abs(got - want)
    r["max_abs"] = float(err.max())
    r["max_rel"] = float((err / np.maximum(np.abs(want), 1e-30)).max())
    # relative to the output's scale, to set against conditioning
    r["rel_to_scale"] = float(err.max() / np.abs(want).max())
    r["within"] = bool(np.all(err <= ATOL + RTOL * np.abs(want)))
    return r


def f64_verdict(r):
    """What the float64 oracle says of a miss. When Keras's own float32
    output is not within the tolerance of its float64 one, the network's
    float32 rounding alone moves the outputs past the tolerance: no float32
    implementation can be held to Keras's bits there, and the question is
    only whether kerascope is as close to the exact answer as Keras is. The
    verdict column stays the float32 comparison."""
    ratio = r["f64_kerascope_abs"] / max(r["f64_keras_abs"], 1e-30)
    if r["f64_keras_within"]:
        if r["f64_kerascope_within"]:
            return "both within float64's tolerance"
        return "kerascope off: Keras's float32 is within float64's tolerance, kerascope's is not"
    side = "closer to" if ratio <= 1 else "further from"
    return f"float32-limited, kerascope {side} float64 ({ratio:.2g}x Keras's distance)"


def row(arch, flavour, fname, r, info):
    fl = {"k3": "keras3", "tfk": "tf_keras"}[flavour] + " " + fname[1:] + (" logits" if info.get("logits") else "")
    if "error" in info:
        return [arch, fl, "-", "-", "-", "-", "-", "build: " + info["error"][:60]]
    f = info["files"].get(fname, {})
    if "save_error" in f:
        return [arch, fl, "-", "-", "-", "-", f"{info['conditioning']:.3g}",
                "Keras cannot save it: " + f["save_error"][:60]]
    note = r.get("error") or r.get("summary_error") or r.get("predict_error") or ""
    if "f64_kerascope_abs" in r:
        note = (f"{f64_verdict(r)}; against Keras in float64: kerascope {r['f64_kerascope_abs']:.2g} "
                f"({'within' if r['f64_kerascope_within'] else 'not within'}), "
                f"Keras float32 {r['f64_keras_abs']:.2g} "
                f"({'within' if r['f64_keras_within'] else 'not within'}) " + note).strip()
    if info.get("conditioning") == 0:
        note = ("conditioning 0: the outputs do not move under the input change (a saturated softmax, or activations "
                "clipped everywhere), so this row tests the plumbing more than the arithmetic " + note).strip()
    if "load_error" in f:
        note = ("Keras cannot load it (oracle: the model that saved it): " + f["load_error"][:50] + " " + note).strip()
    ok = "yes" if r.get("within") else "no"
    summ = {True: "yes", False: "no", None: "n/a"}[r.get("summary")]
    return [arch, fl, str(info["size"]), summ,
            f"{r['max_abs']:.2g}" if "max_abs" in r else "-",
            f"{r['max_rel']:.2g}" if "max_rel" in r else "-",
            f"{info['conditioning']:.3g}", (ok if "max_abs" in r else "no") + (" " + note[:220] if note else "")]


HEAD = ["architecture", "flavour", "input", "summary identical", "max abs error",
        "max rel error", "conditioning", "within 1e-5+1e-4|want|"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", nargs=3, metavar=("FLAVOUR", "ARCH", "DIR"))
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--skip", nargs="*", default=[])
    ap.add_argument("--flavour", choices=FLAVOURS, action="append")
    ap.add_argument("--kerascope", default=str(ROOT / "bin" / "kerascope"))
    ap.add_argument("--out", default=str(HERE / ".zoo"))
    ap.add_argument("--reuse", action="store_true", help="keep Keras outputs already made")
    ap.add_argument("--compare-only", action="store_true", help="only compare architectures whose Keras outputs exist")
    ap.add_argument("--markdown", help="also write the table as Markdown to this file")
    ap.add_argument("--f64", action="store_true", help="run Keras in float64 on every file that misses")
    ap.add_argument("--worker-f64", nargs=3, metavar=("FLAVOUR", "DIR", "FILE"))
    ap.add_argument("--logits", action="store_true",
                    help="build without the classifier's softmax (classifier_activation=None); use another --out")
    a = ap.parse_args()
    if a.worker:
        worker(a.worker[0], a.worker[1], Path(a.worker[2]), a.logits)
        return
    if a.worker_f64:
        worker_f64(a.worker_f64[0], Path(a.worker_f64[1]), a.worker_f64[2])
        return
    out = Path(a.out)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    archs = {}
    for fl in a.flavour or FLAVOURS:
        mod = "keras" if fl == "k3" else "tf_keras"
        names = subprocess.run([sys.executable, "-c", f"import {mod} as K; print(' '.join(n for n in dir(K.applications) if n[0].isupper()))"],
                               capture_output=True, text=True, env=env, check=True).stdout.split()
        archs[fl] = [n for n in names if (a.only is None or n in a.only) and n not in a.skip]
    rows, results = [], []
    for fl, names in archs.items():
        for arch in names:
            d = out / fl / arch
            if a.compare_only and not (d / "info.json").exists():
                continue
            if not ((a.reuse or a.compare_only) and (d / "info.json").exists()):
                t = time.time()
                p = subprocess.run([sys.executable, __file__, "--worker", fl, arch, str(d)] + (["--logits"] if a.logits else []),
                                   capture_output=True, text=True, env=env)
                if p.returncode != 0:
                    d.mkdir(parents=True, exist_ok=True)
                    (d / "info.json").write_text(json.dumps({"arch": arch, "flavour": fl, "error": p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}", "files": {}}))
                print(f"# {fl} {arch}: Keras side {time.time() - t:.0f} s", file=sys.stderr, flush=True)
            info = json.loads((d / "info.json").read_text())
            for fname in ("m.keras", "m.h5"):
                r = compare(a.kerascope, d, fname) if "error" not in info else {}
                if (a.f64 and "max_abs" in r and not r["within"] and "f64_kerascope_abs" not in r
                        and "load_error" not in info["files"].get(fname, {})):
                    p = subprocess.run([sys.executable, __file__, "--worker-f64", fl, str(d), fname],
                                       capture_output=True, text=True, env=env)
                    if p.returncode != 0:
                        print(f"# {fl} {arch} {fname}: float64 run failed: {p.stderr.strip().splitlines()[-1:]}", file=sys.stderr, flush=True)
                    r = compare(a.kerascope, d, fname)
                results.append({"info": info, "result": r})
                rows.append(row(arch, fl, fname, r, info))
                print(" | ".join(rows[-1]), flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    widths = [max(len(r[i]) for r in rows + [HEAD]) for i in range(len(HEAD))]
    print()
    for r in [HEAD] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write("| " + " | ".join(HEAD) + " |\n|" + "---|" * len(HEAD) + "\n")
            for r in rows:
                f.write("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |\n")


if __name__ == "__main__":
    main()
