#!/usr/bin/env python3
"""kerascope fixture generator: the Python oracle behind testdata/models/.

Regenerate every fixture, from the repository root:

    make fixtures

which runs

    bash testdata/gen/setup.sh && testdata/gen/.venv/bin/python testdata/gen/gen_models.py

setup.sh creates the git-ignored venv testdata/gen/.venv from the pinned
testdata/gen/requirements.txt. The fixtures it writes are committed, so
`go test` never needs Python. Nothing under testdata/models/ is typed by hand.

Other invocations:

    gen_models.py rnn_2units ...     only these models (manifest entries of
                                     the others are kept)
    gen_models.py --force            rewrite model files even when their
                                     content is unchanged (see "Stability")
    gen_models.py --verify-stdout    after generating, re-run every summary in
                                     a fresh `python -c ... > file` process
                                     and check the captured text is
                                     byte-identical
    gen_models.py --list             list the registered models

How it works
------------
Every Keras call happens in a fresh worker subprocess (this same file, run
with --worker): one to build/train/save per writer ("k3" = Keras 3, "tfk" =
tf-keras) and one per (file, loader) pair to load the file back and capture
what a user of that file sees. Fresh processes keep auto-generated names
(`input_layer`, `simple_rnn_cell`, ...) independent of what else ran, so
adding a model never changes another model's fixtures. (Keras 3 and tf_keras
can in fact be imported into one process; TF_USE_LEGACY_KERAS only changes
what `tf.keras` points to and is irrelevant because the generator imports
`keras` and `tf_keras` by name. It is removed from the workers' environment
anyway.)

Summaries are the exact text that reaches stdout when stdout is not a
terminal: the worker sets COLUMNS=80 / LINES=24 (what Python and rich fall
back to with no terminal at all) and captures sys.stdout with
contextlib.redirect_stdout around a plain `model.summary()` (no print_fn).
rich builds its Console inside summary(), sees a non-tty file and emits no
ANSI codes. Environment variables that would change that (FORCE_COLOR,
TTY_COMPATIBLE, ...) are removed from the workers' environment.

The 88-column Keras 3 summary is taken with COLUMNS=92: rich crops every
printed line to the console width, so `summary(line_length=88)` under the
80-column fallback loses its last 8 columns. 92 is the narrowest terminal in
which Keras 3 itself picks 88 (min(88, columns - 4)); the generator checks
that `summary()` and `summary(line_length=88)` agree there.

Stability
---------
Training is seeded (`set_random_seed(0)` before building each model), single
threaded, with TF op determinism on and oneDNN off, so reruns give the same
weights. Saved files still carry save dates (`.keras`: metadata.json
date_saved and the zip entry time of model.weights.h5). To keep reruns from
producing diffs, a newly saved file replaces the committed one only when its
content differs beyond those dates and the `shared_object_id`s of
config.json (Python id()s, new in every process; compared after renumbering
them in order of appearance). HDF5 is compared object by object: same groups,
datasets, attributes, dtypes and values. Otherwise the committed
file is kept, and the outputs/summaries are then recomputed from it.

Adding a model
--------------
Write a builder `def build(K, flavor)` that returns an uncompiled model;
K is the `keras` module (flavor "k3") or the `tf_keras` module (flavor
"tfk"), so one builder serves both. Register it with MODELS.append(Spec(...))
giving the data function (x_train, y_train, x_pred) and which writers to run.
Give the model and all layers explicit names so every file of a model shows
the same names.
"""

import os
import sys

# ---------------------------------------------------------------------------
# Environment: must be fixed before keras, tensorflow or rich are imported.
# ---------------------------------------------------------------------------
FIXED_ENV = {
    "COLUMNS": "80",  # shutil.get_terminal_size()/rich fallback without a tty
    "LINES": "24",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",  # oneDNN may change float rounding
    "TF_DETERMINISTIC_OPS": "1",
    "CUDA_VISIBLE_DEVICES": "-1",
    "KERAS_BACKEND": "tensorflow",
    "PYTHONHASHSEED": "0",
    "PYTHONIOENCODING": "utf-8",
}
# Variables that would make rich or Keras behave unlike a plain pipe, or pick
# another Keras.
DROPPED_ENV = (
    "FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "TERM",
    "COLORTERM", "JUPYTER_COLUMNS", "JUPYTER_LINES", "TF_USE_LEGACY_KERAS",
    "KERAS_HOME",
)

import contextlib  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import zipfile  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from importlib import metadata as importlib_metadata  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable, Dict, List, Optional, Tuple  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
TESTDATA = HERE.parent
MODELS_DIR = TESTDATA / "models"
MANIFEST = MODELS_DIR / "manifest.json"

# Writers: flavor -> files it saves. Loaders: flavor -> human name.
WRITER_FILES = {"k3": ["k3.keras", "k3.h5"], "tfk": ["tfk.h5"]}
FILE_WRITER = {f: w for w, fs in WRITER_FILES.items() for f in fs}
LOADERS = ["k3", "tfk"]
# Which loaders to try per file (tf-keras cannot read Keras 3 zips).
FILE_LOADERS = {"k3.keras": ["k3"], "k3.h5": ["k3", "tfk"], "tfk.h5": ["k3", "tfk"]}

SUMMARY_K3_COLUMNS = 80  # -> Keras 3 default line_length 76
SUMMARY_K3_WIDE_COLUMNS = 92  # -> console wide enough for line_length=88
SUMMARY_K3_WIDE = 88


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------
TIME_STEPS = 3
N_SAMPLES = 100
PRED_INDICES = list(range(0, 96, 12))  # 8 windows: samples 0, 12, ..., 84


def sine_data(features: int = 1, sequences: bool = False):
    """The RNN article's data: sin(2*pi*0.1*x) for x = 0, 1, 2, ...

    Each window of TIME_STEPS consecutive values predicts the next value of
    the sine. With features=2 each step holds (sin, cos) of the same x. With
    sequences=True the target has one value per step: the sine at the next x
    (shape (samples, TIME_STEPS, 1)); otherwise (samples, 1).
    Returns (x_train, y_train, x_pred), float32.
    """
    x = np.arange(N_SAMPLES + TIME_STEPS, dtype=np.float64)
    s = np.sin(2 * np.pi * 0.1 * x)
    c = np.cos(2 * np.pi * 0.1 * x)
    feats = np.stack([s, c][:features], axis=-1)  # (n, features)
    xs = np.stack([feats[i:i + TIME_STEPS] for i in range(N_SAMPLES)])
    if sequences:
        ys = np.stack([s[i + 1:i + 1 + TIME_STEPS] for i in range(N_SAMPLES)])
        ys = ys[..., None]
    else:
        ys = s[TIME_STEPS:TIME_STEPS + N_SAMPLES][:, None]
    xs = xs.astype(np.float32)
    ys = ys.astype(np.float32)
    return xs, ys, xs[PRED_INDICES]


# ---------------------------------------------------------------------------
# Model registry
# ---------------------------------------------------------------------------
@dataclass
class Spec:
    name: str
    description: str
    build: Callable  # build(K, flavor) -> uncompiled model
    data: Callable  # () -> (x_train, y_train, x_pred); x may be a list
    writers: Tuple[str, ...] = ("k3", "tfk")
    epochs: int = 5
    batch_size: int = 32
    learning_rate: float = 0.001
    loss: str = "mse"
    seed: int = 0
    extra: Dict = field(default_factory=dict)


def sequential(K, flavor, name, input_shape, layers_fn):
    """A Sequential model in each flavor's idiom.

    layers_fn(first) returns the layer list; pass **first to the first layer.
    Keras 3: `Sequential([keras.Input(shape), ...])`. tf-keras: the first
    layer gets `input_shape=...` (first == {"input_shape": shape}).
    """
    if flavor == "k3":
        return K.Sequential([K.Input(shape=input_shape)] + layers_fn({}),
                            name=name)
    return K.Sequential(layers_fn({"input_shape": input_shape}), name=name)


def build_rnn_1unit(K, flavor):
    L = K.layers
    return sequential(K, flavor, "rnn_1unit", (3, 1), lambda first: [
        L.SimpleRNN(1, activation="tanh", name="simple_rnn", **first),
        L.Dense(1, name="dense"),
    ])


def build_rnn_2units(K, flavor):
    L = K.layers
    return sequential(K, flavor, "rnn_2units", (3, 1), lambda first: [
        L.SimpleRNN(2, activation="tanh", name="simple_rnn", **first),
        L.Dense(1, name="dense"),
    ])


def build_rnn_2features(K, flavor):
    L = K.layers
    return sequential(K, flavor, "rnn_2features", (3, 2), lambda first: [
        L.SimpleRNN(2, activation="tanh", name="simple_rnn", **first),
        L.Dense(1, name="dense"),
    ])


def build_rnn_2features_seq(K, flavor):
    L = K.layers
    return sequential(K, flavor, "rnn_2features_seq", (3, 2), lambda first: [
        L.SimpleRNN(2, activation="tanh", return_sequences=True,
                    name="simple_rnn", **first),
        L.Dense(1, name="dense"),
    ])


MODELS: List[Spec] = [
    Spec("rnn_1unit",
         "RNN article model 1 (the bundled demo): SimpleRNN(1, tanh) + "
         "Dense(1) on windows of 3 sine values, input (3, 1); params 3 + 2.",
         build_rnn_1unit, lambda: sine_data(1)),
    Spec("rnn_2units",
         "RNN article model 2: SimpleRNN(2) + Dense(1), input (3, 1); "
         "params 8 + 3.",
         build_rnn_2units, lambda: sine_data(1)),
    Spec("rnn_2features",
         "RNN article model 3: SimpleRNN(2) + Dense(1), input (3, 2) with "
         "features (sin, cos); params 10 + 3.",
         build_rnn_2features, lambda: sine_data(2)),
    Spec("rnn_2features_seq",
         "RNN article model 4: SimpleRNN(2, return_sequences=True) + Dense(1), "
         "input (3, 2) (sin, cos), target the next sine at every step; output "
         "shapes (None, 3, 2) and (None, 3, 1).",
         build_rnn_2features_seq, lambda: sine_data(2, sequences=True)),
]
SPECS = {s.name: s for s in MODELS}


# ---------------------------------------------------------------------------
# Helpers shared by orchestrator and workers
# ---------------------------------------------------------------------------
def as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def input_names(x_pred) -> List[str]:
    xs = as_list(x_pred)
    if len(xs) == 1:
        return ["input.npy"]
    return [f"input{i}.npy" for i in range(len(xs))]


def output_names(fname: str, n: int) -> List[str]:
    if n == 1:
        return [f"{fname}.output.npy"]
    return [f"{fname}.output{i}.npy" for i in range(n)]


def summary_names(fname: str, loader: str) -> List[str]:
    if loader == "k3":
        return [f"{fname}.k3.summary.txt", f"{fname}.k3.summary{SUMMARY_K3_WIDE}.txt"]
    return [f"{fname}.tfk.summary.txt"]


def worker_env(keras_home: str, columns: Optional[int] = None) -> Dict[str, str]:
    env = dict(os.environ)
    for k in DROPPED_ENV:
        env.pop(k, None)
    env.update(FIXED_ENV)
    if columns is not None:
        env["COLUMNS"] = str(columns)
    env["KERAS_HOME"] = keras_home  # no user ~/.keras/keras.json
    return env


def error_text(e: BaseException) -> str:
    msg = str(e).strip().splitlines()
    first = msg[0] if msg else ""
    rest = " ".join(m.strip() for m in msg[1:] if m.strip())
    text = f"{type(e).__name__}: {first}"
    if rest:
        text += " " + rest
    return text[:600]


def shape_json(shape):
    if shape is None:
        return None
    if isinstance(shape, (list,)) or (
        isinstance(shape, tuple) and shape and isinstance(shape[0], (tuple, list))
    ):
        return [shape_json(s) for s in shape]
    return [None if d is None else int(d) for d in shape]


# ---------------------------------------------------------------------------
# Worker side (runs in a subprocess; imports Keras)
# ---------------------------------------------------------------------------
def _import(flavor):
    import tensorflow as tf

    # Single-threaded, deterministic kernels: same weights on any machine.
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.experimental.enable_op_determinism()
    if flavor == "k3":
        import keras as K
    else:
        import tf_keras as K
    return tf, K


def worker_save(task):
    spec = SPECS[task["model"]]
    flavor = task["flavor"]
    tf, K = _import(flavor)
    K.utils.set_random_seed(spec.seed)
    x_train, y_train, _ = spec.data()
    model = spec.build(K, flavor)
    model.compile(optimizer=K.optimizers.Adam(learning_rate=spec.learning_rate),
                  loss=spec.loss)
    hist = model.fit(x_train, y_train, epochs=spec.epochs,
                     batch_size=spec.batch_size, verbose=0)
    out = Path(task["outdir"])
    for fname in WRITER_FILES[flavor]:
        model.save(str(out / fname))
    losses = [float(v) for v in hist.history["loss"]]
    return {"loss_first_epoch": losses[0], "loss_last_epoch": losses[-1]}


def _layer_info_k3(layer):
    from keras.src.utils.summary_utils import count_params

    try:
        out = layer.output
        if isinstance(out, (list, tuple)):
            shape = [shape_json(tuple(t.shape)) for t in out]
        else:
            shape = shape_json(tuple(out.shape))
    except Exception as e:  # noqa: BLE001
        shape = f"<{error_text(e)}>"
    return {
        "name": layer.name,
        "class_name": layer.__class__.__name__,
        "output_shape": shape,
        "params": int(layer.count_params()) if layer.built else 0,
        "trainable_params": int(count_params(layer.trainable_weights)),
        "non_trainable_params": int(count_params(layer.non_trainable_weights)),
        "built": bool(layer.built),
        "weights": [{"path": w.path, "shape": shape_json(tuple(w.shape)),
                     "dtype": str(w.dtype), "trainable": bool(w.trainable)}
                    for w in layer.weights],
    }


def _layer_info_tfk(layer):
    from tf_keras.src.utils.layer_utils import count_params

    try:
        shape = shape_json(layer.output_shape)
    except AttributeError as e:
        shape = "multiple" if "multiple" in str(e) else f"<{error_text(e)}>"
    return {
        "name": layer.name,
        "class_name": layer.__class__.__name__,
        "output_shape": shape,
        "params": int(layer.count_params()) if layer.built else 0,
        "trainable_params": int(count_params(layer.trainable_weights)),
        "non_trainable_params": int(count_params(layer.non_trainable_weights)),
        "built": bool(layer.built),
        "weights": [{"path": w.name, "shape": shape_json(tuple(w.shape)),
                     "dtype": w.dtype.name, "trainable": bool(w.trainable)}
                    for w in layer.weights],
    }


def capture_summary(model, columns, **kwargs) -> str:
    """What model.summary(**kwargs) writes to a non-terminal stdout."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(columns)  # read by shutil and by rich
    try:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            model.summary(**kwargs)
        return buf.getvalue()
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def worker_load(task):
    loader = task["loader"]
    path = task["file"]
    tf, K = _import(loader)
    info = {}
    model = None
    tried = [{}, {"compile": False}]
    for kwargs in tried:
        try:
            model = K.models.load_model(path, **kwargs)
        except Exception as e:  # noqa: BLE001
            info.setdefault("load_errors", []).append(
                {"load_kwargs": kwargs, "error": error_text(e)})
            continue
        info["load_kwargs"] = kwargs
        break
    if model is None:
        return info

    # Summaries first: what a user sees right after load_model.
    outdir = Path(task["outdir"])
    fname = Path(path).name
    names = summary_names(fname, loader)
    texts = {}
    if loader == "k3":
        texts[names[0]] = capture_summary(model, SUMMARY_K3_COLUMNS)
        texts[names[1]] = capture_summary(model, SUMMARY_K3_WIDE_COLUMNS,
                                          line_length=SUMMARY_K3_WIDE)
        default_wide = capture_summary(model, SUMMARY_K3_WIDE_COLUMNS)
        if default_wide != texts[names[1]]:
            raise SystemExit(f"{path}: summary() at COLUMNS="
                             f"{SUMMARY_K3_WIDE_COLUMNS} differs from "
                             f"summary(line_length={SUMMARY_K3_WIDE})")
    else:
        texts[names[0]] = capture_summary(model, SUMMARY_K3_COLUMNS)
    for n, t in texts.items():
        if "\x1b" in t:
            raise SystemExit(f"{path}: ANSI escape in summary {n}")
        (outdir / n).write_bytes(t.encode("utf-8"))
    info["summaries"] = sorted(texts)

    # Layers, parameter counts.
    if loader == "k3":
        from keras.src.models import Functional, Sequential
        from keras.src.utils.summary_utils import count_params, weight_memory_size

        layer_info = _layer_info_k3
        if isinstance(model, Functional) and not isinstance(model, Sequential):
            summary_layers = model._operations
        else:
            summary_layers = model.layers
        tw = getattr(model, "_collected_trainable_weights", model.trainable_weights)
        opt = model.optimizer if model.compiled else None
        opt_built = bool(opt is not None and opt.built)
        opt_vars = list(opt.variables) if opt_built else []
        opt_in_summary = opt_built
    else:
        from tf_keras.src.utils.layer_utils import count_params, weight_memory_size

        layer_info = _layer_info_tfk
        summary_layers = model.layers
        tw = getattr(model, "_collected_trainable_weights", model.trainable_weights)
        opt = getattr(model, "optimizer", None)
        opt_vars = []
        if opt is not None:
            v = opt.variables
            opt_vars = list(v() if callable(v) else v)
        opt_built = bool(opt_vars)
        opt_in_summary = False
    trainable = int(count_params(tw))
    non_trainable = int(count_params(model.non_trainable_weights))
    opt_params = int(count_params(opt_vars)) if opt_built else None
    info.update({
        "model_name": model.name,
        "model_class": model.__class__.__name__,
        "layers": [layer_info(layer) for layer in model.layers],
        "summary_layer_names": [layer.name for layer in summary_layers],
        "trainable_params": trainable,
        "non_trainable_params": non_trainable,
        "optimizer": None if opt is None else opt.__class__.__name__,
        "optimizer_params": opt_params,
        "optimizer_params_in_summary": opt_in_summary,
        "total_params_in_summary": trainable + non_trainable
        + (opt_params if opt_in_summary else 0),
        "memory_bytes": {
            "trainable": int(weight_memory_size(tw)),
            "non_trainable": int(weight_memory_size(model.non_trainable_weights)),
            "optimizer": int(weight_memory_size(opt_vars)) if opt_built else None,
        },
    })

    # Predictions with the Keras that wrote the file.
    if task["predict"]:
        xs = [np.load(p) for p in task["inputs"]]
        y = model.predict(xs[0] if len(xs) == 1 else xs, verbose=0)
        ys = as_list(y)
        onames = output_names(fname, len(ys))
        for n, arr in zip(onames, ys):
            np.save(outdir / n, np.asarray(arr, dtype=np.float32))
        info["outputs"] = onames
        info["output_shapes"] = [list(np.shape(a)) for a in ys]
    return info


def worker_main(task_json):
    task = json.loads(task_json)
    op = task["op"]
    if op == "save":
        res = worker_save(task)
    elif op == "load":
        res = worker_load(task)
    else:
        raise SystemExit(f"unknown op {op}")
    Path(task["result"]).write_text(json.dumps(res))


# ---------------------------------------------------------------------------
# Orchestrator side (never imports Keras)
# ---------------------------------------------------------------------------
def run_worker(task, keras_home):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        result = f.name
    task = dict(task, result=result)
    try:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--worker",
             json.dumps(task)],
            env=worker_env(keras_home), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout + proc.stderr)
            raise SystemExit(f"worker failed: {task['op']} {task.get('model')} "
                             f"{task.get('file', task.get('flavor'))}")
        return json.loads(Path(result).read_text())
    finally:
        os.unlink(result)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _attr_value(v):
    if isinstance(v, bytes):
        return ("bytes", v)
    if isinstance(v, np.ndarray):
        return ("array", v.dtype.str, v.shape,
                [x.decode() if isinstance(x, bytes) else x for x in v.ravel().tolist()])
    return (type(v).__name__, v)


def h5_signature(fileobj) -> list:
    """Everything in an HDF5 file that matters, in a comparable form."""
    import h5py

    sig = []
    with h5py.File(fileobj, "r") as f:
        def visit(name, obj):
            attrs = sorted((k, _attr_value(obj.attrs[k])) for k in obj.attrs)
            if isinstance(obj, h5py.Dataset):
                sig.append(("d", name, obj.dtype.str, obj.shape,
                            obj[()].tobytes() if obj.shape != () else
                            np.asarray(obj[()]).tobytes(), attrs))
            else:
                sig.append(("g", name, attrs))
        visit("/", f)
        f.visititems(visit)
    return sig


def canonical_config(raw: bytes):
    """config.json with `shared_object_id`s (Python id()s of the shared
    objects at save time, different in every process) renumbered in order of
    first appearance."""
    ids = {}

    def walk(o):
        if isinstance(o, dict):
            return {k: (ids.setdefault(v, len(ids)) if k == "shared_object_id"
                        else walk(v)) for k, v in o.items()}
        if isinstance(o, list):
            return [walk(v) for v in o]
        return o

    return walk(json.loads(raw))


def same_content(new: Path, old: Path) -> bool:
    """True when new and old differ at most in save dates."""
    if not old.exists():
        return False
    if new.read_bytes() == old.read_bytes():
        return True
    if new.suffix == ".h5":
        return h5_signature(str(new)) == h5_signature(str(old))
    if new.suffix == ".keras":
        with zipfile.ZipFile(new) as zn, zipfile.ZipFile(old) as zo:
            if zn.namelist() != zo.namelist():
                return False
            for name in zn.namelist():
                a, b = zn.read(name), zo.read(name)
                if name == "metadata.json":
                    ja, jb = json.loads(a), json.loads(b)
                    ja.pop("date_saved", None)
                    jb.pop("date_saved", None)
                    if ja != jb:
                        return False
                elif name == "config.json":
                    if canonical_config(a) != canonical_config(b):
                        return False
                elif name.endswith(".h5"):
                    if a != b and h5_signature(io.BytesIO(a)) != h5_signature(io.BytesIO(b)):
                        return False
                elif a != b:
                    return False
        return True
    return False


def stored_metadata(path: Path) -> dict:
    """keras_version (and backend) as stored in the file."""
    import h5py

    def s(v):
        return v.decode("utf-8") if isinstance(v, bytes) else str(v)

    if path.suffix == ".keras":
        with zipfile.ZipFile(path) as z:
            meta = json.loads(z.read("metadata.json"))
            cfg = json.loads(z.read("config.json"))
        return {"format": "keras-v3-zip", "keras_version": meta.get("keras_version"),
                "stored_class_name": cfg.get("class_name"),
                "stored_model_name": cfg.get("config", {}).get("name")}
    with h5py.File(path, "r") as f:
        cfg = json.loads(s(f.attrs["model_config"]))
        return {"format": "legacy-h5", "keras_version": s(f.attrs.get("keras_version")),
                "backend": s(f.attrs.get("backend")),
                "stored_class_name": cfg.get("class_name"),
                "stored_model_name": cfg.get("config", {}).get("name"),
                "has_training_config": "training_config" in f.attrs,
                "has_optimizer_weights": "optimizer_weights" in f}


def versions() -> dict:
    def v(dist):
        try:
            return importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            return None

    return {"python": platform.python_version(), "keras": v("keras"),
            "tensorflow": v("tensorflow"), "tensorflow_cpu": v("tensorflow-cpu"),
            "tf_keras": v("tf-keras"), "h5py": v("h5py"), "numpy": v("numpy"),
            "rich": v("rich")}


def generate_model(spec: Spec, vers: dict, keras_home: str, force: bool) -> dict:
    mdir = MODELS_DIR / spec.name
    mdir.mkdir(parents=True, exist_ok=True)
    saved_by = {"k3": f"keras {vers['keras']}", "tfk": f"tf_keras {vers['tf_keras']}"}
    produced = set()
    entry = {"description": spec.description, "files": {},
             "training": {"epochs": spec.epochs, "batch_size": spec.batch_size,
                          "optimizer": "Adam", "learning_rate": spec.learning_rate,
                          "loss": spec.loss, "seed": spec.seed}}

    # 1. Build, train and save with each writer, into a scratch directory.
    with tempfile.TemporaryDirectory() as tmp:
        train = {}
        for flavor in spec.writers:
            print(f"  {spec.name}: train+save with {flavor}", flush=True)
            train[flavor] = run_worker({"op": "save", "flavor": flavor,
                                        "model": spec.name, "outdir": tmp},
                                       keras_home)
        files = [f for w in spec.writers for f in WRITER_FILES[w]]
        for fname in files:
            new, old = Path(tmp) / fname, mdir / fname
            if not force and same_content(new, old):
                print(f"  {spec.name}: {fname} unchanged (kept committed bytes)")
            else:
                shutil.copyfile(new, old)
                print(f"  {spec.name}: {fname} written")
            produced.add(fname)
        entry["training"]["loss_by_writer"] = train

    # 2. Inputs for prediction.
    _, _, x_pred = spec.data()
    in_names = input_names(x_pred)
    for n, arr in zip(in_names, as_list(x_pred)):
        np.save(mdir / n, np.asarray(arr, dtype=np.float32))
        produced.add(n)
    entry["inputs"] = in_names
    entry["input_shapes"] = [list(np.shape(a)) for a in as_list(x_pred)]

    # 3. Load every file with every loader that may read it.
    for fname in files:
        path = mdir / fname
        writer = FILE_WRITER[fname]
        fentry = {"sha256": sha256(path), "size": path.stat().st_size,
                  "saved_by": saved_by[writer], "writer": writer,
                  **stored_metadata(path), "loaders": {}}
        for loader in FILE_LOADERS[fname]:
            print(f"  {spec.name}: load {fname} with {loader}", flush=True)
            res = run_worker({"op": "load", "loader": loader, "model": spec.name,
                              "file": str(path), "outdir": str(mdir),
                              "inputs": [str(mdir / n) for n in in_names],
                              "predict": loader == writer}, keras_home)
            if "load_kwargs" not in res:
                print(f"  {spec.name}: {loader} cannot load {fname}: "
                      f"{res['load_errors'][-1]['error'][:160]}")
            elif res.get("load_errors"):
                print(f"  {spec.name}: {loader} loads {fname} only with "
                      f"{res['load_kwargs']}")
            produced.update(res.get("summaries", []))
            produced.update(res.get("outputs", []))
            if "outputs" in res:
                fentry["outputs"] = res.pop("outputs")
                fentry["output_shapes"] = res.pop("output_shapes")
            fentry["loaders"][loader] = res
        entry["files"][fname] = fentry

    # 4. Remove what an earlier run made but this one did not.
    for p in mdir.iterdir():
        if p.name not in produced:
            print(f"  {spec.name}: removing stale {p.name}")
            p.unlink()
    return entry


def verify_stdout(manifest: dict, names: List[str], keras_home: str) -> bool:
    """Re-run each summary as `python -c '...; model.summary()' > file`."""
    ok = True
    for mname in names:
        mdir = MODELS_DIR / mname
        for fname, fentry in manifest["models"][mname]["files"].items():
            for loader, lentry in fentry["loaders"].items():
                if "load_kwargs" not in lentry:
                    continue
                mod = "keras" if loader == "k3" else "tf_keras"
                cases = [(lentry["summaries"][0] if loader == "tfk" else
                          f"{fname}.k3.summary.txt", None, "")]
                if loader == "k3":
                    cases.append((f"{fname}.k3.summary{SUMMARY_K3_WIDE}.txt",
                                  SUMMARY_K3_WIDE_COLUMNS,
                                  f"line_length={SUMMARY_K3_WIDE}"))
                    cases.append((f"{fname}.k3.summary{SUMMARY_K3_WIDE}.txt",
                                  SUMMARY_K3_WIDE_COLUMNS, ""))
                for sname, columns, args in cases:
                    code = (f"import {mod} as K; m = K.models.load_model("
                            f"{str(mdir / fname)!r}, **{lentry['load_kwargs']!r}); "
                            f"m.summary({args})")
                    env = worker_env(keras_home, columns)
                    if columns is None:  # pure no-terminal fallback
                        env.pop("COLUMNS")
                        env.pop("LINES")
                    with tempfile.TemporaryFile() as out:
                        subprocess.run([sys.executable, "-c", code], env=env,
                                       stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=subprocess.DEVNULL, check=True)
                        out.seek(0)
                        got = out.read()
                    want = (mdir / sname).read_bytes()
                    same = got == want
                    ok &= same
                    print(f"  verify {mname}/{sname} "
                          f"(COLUMNS={columns or 'unset'}, summary({args})): "
                          f"{'identical' if same else 'DIFFERENT'}", flush=True)
    return ok


def main(argv):
    if argv[:1] == ["--worker"]:
        worker_main(argv[1])
        return 0
    force = "--force" in argv
    verify = "--verify-stdout" in argv
    if "--list" in argv:
        for s in MODELS:
            print(f"{s.name}: {s.description}")
        return 0
    names = [a for a in argv if not a.startswith("--")]
    unknown = [n for n in names if n not in SPECS]
    if unknown:
        raise SystemExit(f"unknown model(s): {', '.join(unknown)}")
    todo = names or [s.name for s in MODELS]

    vers = versions()
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    manifest = {}
    if MANIFEST.exists() and names:
        manifest = json.loads(MANIFEST.read_text())
    manifest["generator"] = {
        "command": "make fixtures (bash testdata/gen/setup.sh && "
                   "testdata/gen/.venv/bin/python testdata/gen/gen_models.py)",
        "versions": vers,
        "environment": {k: v for k, v in FIXED_ENV.items()
                        if k not in ("PYTHONIOENCODING",)},
        "summaries": {
            "F.k3.summary.txt": f"Keras 3 loads F; model.summary() with stdout "
                                f"not a terminal, COLUMNS={SUMMARY_K3_COLUMNS} "
                                f"(=> line_length 76)",
            f"F.k3.summary{SUMMARY_K3_WIDE}.txt":
                f"Keras 3 loads F; model.summary(line_length={SUMMARY_K3_WIDE}) "
                f"with stdout not a terminal, COLUMNS={SUMMARY_K3_WIDE_COLUMNS} "
                f"(identical to model.summary() there)",
            "F.tfk.summary.txt": f"tf-keras loads F; model.summary() with stdout "
                                 f"not a terminal, COLUMNS={SUMMARY_K3_COLUMNS}",
        },
    }
    manifest.setdefault("models", {})
    with tempfile.TemporaryDirectory(prefix="kerascope-keras-home-") as keras_home:
        for name in todo:
            print(f"{name}:", flush=True)
            manifest["models"][name] = generate_model(SPECS[name], vers, keras_home, force)
        if not names:  # full run: drop models no longer registered
            for stale in sorted(set(manifest["models"]) - set(SPECS)):
                del manifest["models"][stale]
            for p in sorted(MODELS_DIR.iterdir()):
                if p.is_dir() and p.name not in SPECS:
                    print(f"removing stale model directory {p.name}")
                    shutil.rmtree(p)
        MANIFEST.write_text(json.dumps(manifest, sort_keys=True, indent=1) + "\n")
        print(f"wrote {MANIFEST.relative_to(TESTDATA.parent)}")
        if verify and not verify_stdout(manifest, todo, keras_home):
            print("verify-stdout: captured summaries differ from real stdout",
                  file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        # Workers get FIXED_ENV from the orchestrator; make sure of it even
        # when run by hand, before Keras, TF or rich are imported.
        for _k in DROPPED_ENV:
            if _k != "KERAS_HOME":
                os.environ.pop(_k, None)
        for _k, _v in FIXED_ENV.items():
            os.environ.setdefault(_k, _v)
    sys.exit(main(sys.argv[1:]))
