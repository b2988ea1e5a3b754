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
    gen_models.py --jobs=N           generate N models at a time (default:
                                     the number of CPUs; the output does not
                                     depend on it). A full run takes about
                                     15 minutes on 2 cores.

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
that `summary()` and `summary(line_length=88)` agree there. Likewise the
108-column summary of non-sequential-like models (those Keras 3 prints with
a "Connected to" column) is taken with COLUMNS=112. Models with a nested
model also get expand_nested=True summaries, and models whose Spec sets
show_trainable get show_trainable=True ones. Summary file names follow
F.<loader>.summary[<width>][.expand][.trainable].txt (see summary_plan), and
the manifest records each exact call.

Weights
-------
The RNN article models (mode "fit") are compiled and trained, so their files
hold optimizer state. The layer zoo (mode "random") is neither compiled nor
trained: after building, every float weight is drawn from a seeded normal
distribution (randomize_weights), which is fast and gives non-trivial
outputs. compiled_fn is compiled with loss/metric objects and trained.

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
"tfk"), so one builder serves both. Register it in MODELS: a Spec(...) with
the data function (x_train, y_train, x_pred) for a trained model, or
zoo(name, description, build, [(input_shape, dtype), ...]) for a model with
random weights. Give the model and all layers explicit names so every file
of a model shows the same names.
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
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import zipfile  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
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
SUMMARY_K3_WIDEST_COLUMNS = 112  # -> console wide enough for line_length=108
SUMMARY_K3_WIDEST = 108  # Keras 3 default for non-sequential-like models


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
    # "fit": compile and train (the file holds optimizer state);
    # "random": no compile, no training; every weight is set from a seeded
    # normal distribution (see randomize_weights).
    mode: str = "fit"
    epochs: int = 5
    batch_size: int = 32
    learning_rate: float = 0.001
    loss: str = "mse"
    # compile(K) -> extra model.compile kwargs (loss/metrics objects);
    # overrides `loss` when given.
    compile: Optional[Callable] = None
    seed: int = 0
    # Restrict the saved files (default: every file of every writer) and the
    # loaders tried per file (default FILE_LOADERS).
    files: Optional[Tuple[str, ...]] = None
    file_loaders: Optional[Dict[str, List[str]]] = None
    # Capture the wide Keras 3 summaries (summary88, and summary108 for
    # models Keras 3 does not treat as sequential-like).
    wide: bool = True
    # Capture show_trainable=True summaries (F.<loader>.summary.trainable.txt).
    show_trainable: bool = False
    # sys.setrecursionlimit in every worker (and in --verify-stdout).
    recursion_limit: Optional[int] = None
    # mode "random" only: "normal" draws every float weight from
    # normal(0, 0.5); "fan_in" draws kernels (rank >= 2) from
    # normal(0, 1/sqrt(fan_in)) so that deep/wide models (the benchmarks)
    # keep activations in a useful range (see randomize_weights).
    weight_init: str = "normal"
    # When set, Keras's predictions are not stored, for this reason (the
    # model is there for its summary and check only).
    no_predict: Optional[str] = None
    extra: Dict = field(default_factory=dict)


def sequential(K, flavor, name, input_shape, layers_fn, dtype=None):
    """A Sequential model in each flavor's idiom.

    layers_fn(first) returns the layer list; pass **first to the first layer.
    Keras 3: `Sequential([keras.Input(shape, dtype), ...])`. tf-keras: the
    first layer gets `input_shape=...` (first == {"input_shape": shape}); the
    dtype is not passed there (it would become the layer's dtype).
    """
    if flavor == "k3":
        return K.Sequential([K.Input(shape=input_shape, dtype=dtype)]
                            + layers_fn({}), name=name)
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

# ---------------------------------------------------------------------------
# The layer zoo: small models with seeded random weights (mode="random")
# that together cover every built-in layer class, each in Sequential and in
# Functional form where the class allows. Functional variants usually have
# a side branch, so that Keras 3 prints them as non-sequential-like (with a
# "Connected to" column, default width 108).
# ---------------------------------------------------------------------------
ZOO_BATCH = 2  # samples in input*.npy of zoo models
VOCAB = 12  # Embedding input_dim of the text models


def rand_inputs(seed: int, *inputs):
    """Deterministic prediction inputs, one array per (shape, dtype) pair.

    Float inputs are normal(0, 1) float32. Integer inputs ("int32") are token
    ids in [1, VOCAB) with the last two steps of sample 0 set to 0 (padding,
    masked by mask_zero=True). Returns an array, or a list for several.
    """
    rng = np.random.default_rng(seed)
    out = []
    for shape, dtype in inputs:
        full = (ZOO_BATCH,) + tuple(shape)
        if dtype == "int32":
            a = rng.integers(1, VOCAB, size=full).astype(np.int32)
            a[0, -2:] = 0
        else:
            a = rng.normal(size=full).astype(np.float32)
        out.append(a)
    return out[0] if len(out) == 1 else out


def zoo_data(*inputs, seed=7):
    return lambda: (None, None, rand_inputs(seed, *inputs))


def chain(x, layers):
    for layer in layers:
        x = layer(x)
    return x


def fn_input(K, shape, name="input", dtype=None):
    return K.Input(shape=shape, name=name, dtype=dtype)


# -- core ---------------------------------------------------------------------
def _core_layers(K, first):
    L = K.layers
    return [
        L.Dense(8, activation="relu", name="dense", **first),
        L.Activation("tanh", name="activation"),
        L.Dropout(0.2, name="dropout"),
        L.GaussianNoise(0.1, name="gaussian_noise"),
        L.GaussianDropout(0.1, name="gaussian_dropout"),
        L.AlphaDropout(0.1, name="alpha_dropout"),
        L.ActivityRegularization(l1=0.01, name="activity_regularization"),
        L.Reshape((2, 4), name="reshape"),
        L.Permute((2, 1), name="permute"),
        L.Flatten(name="flatten"),
        L.RepeatVector(3, name="repeat_vector"),
        L.EinsumDense("abc,cd->abd", output_shape=(3, 4), bias_axes="d",
                      name="einsum_dense"),
        L.Reshape((-1,), name="reshape_1"),
        L.Dense(2, name="dense_1"),
    ]


def build_core_seq(K, flavor):
    return sequential(K, flavor, "core_seq", (6,), lambda f: _core_layers(K, f))


def build_core_fn(K, flavor):
    L = K.layers
    x = fn_input(K, (6,))
    main = chain(x, _core_layers(K, {}))
    side = L.Dense(2, name="dense_side")(x)
    out = L.Concatenate(name="concatenate")([main, side])
    return K.Model(x, out, name="core_fn")


# -- text: Embedding, Masking, Bidirectional LSTM -----------------------------
def build_text_bilstm_seq(K, flavor):
    L = K.layers
    return sequential(K, flavor, "text_bilstm_seq", (5,), lambda f: [
        L.Embedding(VOCAB, 4, mask_zero=True, name="embedding", **f),
        L.Masking(0.0, name="masking"),
        L.Bidirectional(L.LSTM(3, name="lstm"), name="bidirectional"),
        L.Dense(1, activation="sigmoid", name="dense"),
    ], dtype="int32")


def build_text_fn(K, flavor):
    L = K.layers
    tokens = fn_input(K, (5,), "tokens", dtype="int32")
    feats = fn_input(K, (5, 3), "features")
    e = L.Embedding(VOCAB, 4, mask_zero=True, name="embedding")(tokens)
    e = L.Bidirectional(L.LSTM(3, return_sequences=True, name="lstm"),
                        merge_mode="ave", name="bidirectional")(e)
    e = L.LSTM(2, name="lstm_1")(e)
    f = L.Masking(0.0, name="masking")(feats)
    f = L.SimpleRNN(2, name="simple_rnn")(f)
    out = L.Dense(1, activation="sigmoid", name="dense")(
        L.Concatenate(name="concatenate")([e, f]))
    return K.Model([tokens, feats], out, name="text_fn")


# -- recurrent layers -----------------------------------------------------------
def build_rnn_seq(K, flavor):
    L = K.layers
    return sequential(K, flavor, "rnn_seq", (4, 3), lambda f: [
        L.SimpleRNN(4, return_sequences=True, go_backwards=True,
                    name="simple_rnn", **f),
        L.LSTM(3, return_sequences=True, name="lstm"),
        L.GRU(3, reset_after=False, return_sequences=True, name="gru_v1"),
        L.GRU(2, name="gru"),
        L.Dense(1, name="dense"),
    ])


def build_rnn_states_fn(K, flavor):
    """return_state, initial_state (an encoder-decoder), go_backwards."""
    L = K.layers
    x = fn_input(K, (4, 3))
    enc, h, c = L.LSTM(3, return_state=True, name="encoder")(x)
    seq, gh = L.GRU(3, return_sequences=True, return_state=True,
                    reset_after=False, name="gru_v1")(x)
    dec = L.LSTM(3, name="decoder")(seq, initial_state=[h, c])
    back, sh = L.SimpleRNN(2, return_state=True, go_backwards=True,
                           name="simple_rnn")(x)
    gru2 = L.GRU(2, name="gru")(x)
    cat = L.Concatenate(name="concatenate")([enc, dec, gh, back, sh, gru2])
    return K.Model(x, L.Dense(1, name="dense")(cat), name="rnn_states_fn")


def build_rnn_cells_seq(K, flavor):
    L = K.layers
    return sequential(K, flavor, "rnn_cells_seq", (4, 3), lambda f: [
        L.RNN(L.SimpleRNNCell(3, name="simple_rnn_cell"),
              return_sequences=True, name="rnn_simple", **f),
        L.RNN(L.LSTMCell(3, name="lstm_cell"), return_sequences=True,
              name="rnn_lstm"),
        L.RNN(L.GRUCell(2, reset_after=False, name="gru_cell"),
              return_sequences=True, go_backwards=True, name="rnn_gru"),
        L.RNN(L.StackedRNNCells([L.SimpleRNNCell(2, name="cell_0"),
                                 L.LSTMCell(2, name="cell_1"),
                                 L.GRUCell(2, name="cell_2")],
                                name="stacked_rnn_cells"),
              name="rnn_stacked"),
        L.Dense(1, name="dense"),
    ])


def build_rnn_cells_fn(K, flavor):
    L = K.layers
    x = fn_input(K, (4, 3))
    a = L.RNN(L.GRUCell(3, name="gru_cell"), name="rnn_gru")(x)
    outs = L.RNN(L.StackedRNNCells([L.LSTMCell(2, name="cell_0"),
                                    L.GRUCell(2, name="cell_1")],
                                   name="stacked_rnn_cells"),
                 return_state=True, name="rnn_stacked")(x)
    b = L.RNN(L.LSTMCell(2, name="lstm_cell"), name="rnn_lstm")(x)
    c = L.RNN(L.SimpleRNNCell(2, name="simple_rnn_cell"), name="rnn_simple")(x)
    cat = L.Concatenate(name="concatenate")([a, outs[0], b, c])
    return K.Model(x, L.Dense(1, name="dense")(cat), name="rnn_cells_fn")


def build_bidir_seq(K, flavor):
    L = K.layers
    return sequential(K, flavor, "bidir_seq", (4, 3), lambda f: [
        L.Bidirectional(L.LSTM(2, return_sequences=True, name="lstm"),
                        merge_mode="concat", name="bi_concat", **f),
        L.Bidirectional(L.GRU(2, return_sequences=True, name="gru"),
                        merge_mode="sum", name="bi_sum"),
        L.Bidirectional(L.SimpleRNN(2, return_sequences=True,
                                    name="simple_rnn"),
                        merge_mode="mul", name="bi_mul"),
        L.Bidirectional(L.LSTM(2, return_sequences=True, name="lstm_1"),
                        merge_mode="ave", name="bi_ave"),
        L.Bidirectional(L.LSTM(2, name="forward_lstm"),
                        backward_layer=L.GRU(2, go_backwards=True,
                                             name="backward_gru"),
                        name="bi_custom"),
        L.Dense(1, name="dense"),
    ])


def build_bidir_fn(K, flavor):
    L = K.layers
    x = fn_input(K, (4, 3))
    fwd, bwd = L.Bidirectional(L.LSTM(2, return_sequences=True, name="lstm"),
                               merge_mode=None, name="bi_none")(x)
    added = L.Add(name="add")([fwd, bwd])
    out, fh, fc, bh, bc = L.Bidirectional(
        L.LSTM(2, return_state=True, name="lstm_1"), name="bi_state")(added)
    cat = L.Concatenate(name="concatenate")([out, fh, bc])
    return K.Model(x, L.Dense(1, name="dense")(cat), name="bidir_fn")


def _timedist_layers(K, first):
    L = K.layers
    return [
        L.TimeDistributed(L.Conv2D(2, 3, name="conv2d"), name="td_conv2d",
                          **first),
        L.TimeDistributed(L.Flatten(name="flatten"), name="td_flatten"),
        L.TimeDistributed(L.Dense(3, name="dense"), name="td_dense"),
    ]


def build_timedist_seq(K, flavor):
    L = K.layers
    return sequential(K, flavor, "timedist_seq", (3, 4, 4, 1), lambda f:
                      _timedist_layers(K, f) + [
                          L.GRU(2, name="gru"), L.Dense(1, name="dense_1")])


def build_timedist_fn(K, flavor):
    L = K.layers
    x = fn_input(K, (3, 4, 4, 1))
    seq = chain(x, _timedist_layers(K, {}))
    a = L.GlobalAveragePooling1D(name="global_average_pooling1d")(seq)
    b = L.GlobalMaxPooling1D(name="global_max_pooling1d")(seq)
    out = L.Dense(1, name="dense_1")(L.Concatenate(name="concatenate")([a, b]))
    return K.Model(x, out, name="timedist_fn")


def build_convlstm_seq(K, flavor):
    L = K.layers
    return sequential(K, flavor, "convlstm_seq", (3, 5, 2), lambda f: [
        L.ConvLSTM1D(2, 3, return_sequences=True, name="conv_lstm1d", **f),
        L.Reshape((3, 3, 2, 1), name="reshape"),
        L.ConvLSTM2D(2, (2, 1), name="conv_lstm2d"),
        L.Flatten(name="flatten"),
        L.Dense(1, name="dense"),
    ])


def build_convlstm_fn(K, flavor):
    L = K.layers
    x = fn_input(K, (3, 4, 4, 1))
    a = L.ConvLSTM2D(2, 3, padding="same", return_sequences=True,
                     go_backwards=True, name="conv_lstm2d")(x)
    a = L.ConvLSTM2D(1, 3, name="conv_lstm2d_1")(a)
    out, h, c = L.ConvLSTM2D(2, 2, strides=2, return_state=True,
                             name="conv_lstm2d_state")(x)
    b = L.Reshape((3, 16, 1), name="reshape")(x)
    b = L.ConvLSTM1D(2, 3, name="conv_lstm1d")(b)  # (14, 2)
    cat = L.Concatenate(name="concatenate")(
        [L.Flatten(name="flatten")(a), L.Flatten(name="flatten_1")(c),
         L.Flatten(name="flatten_2")(b)])
    return K.Model(x, L.Dense(1, name="dense")(cat), name="convlstm_fn")


# -- convolutions and pooling ---------------------------------------------------
def _conv1d_layers(K, first):
    L = K.layers
    return [
        L.Conv1D(4, 3, padding="causal", dilation_rate=2, name="conv1d_causal",
                 **first),  # (8, 4)
        L.SpatialDropout1D(0.1, name="spatial_dropout1d"),
        L.Conv1D(3, 3, strides=2, name="conv1d"),  # (3, 3)
        L.Conv1DTranspose(3, 3, strides=2, name="conv1d_transpose"),  # (7, 3)
        L.DepthwiseConv1D(3, depth_multiplier=2, name="depthwise_conv1d"),
        L.SeparableConv1D(4, 3, padding="same", name="separable_conv1d"),
        L.ZeroPadding1D(1, name="zero_padding1d"),
        L.Cropping1D((1, 0), name="cropping1d"),
        L.MaxPooling1D(2, name="max_pooling1d"),
        L.UpSampling1D(2, name="up_sampling1d"),
        L.AveragePooling1D(2, name="average_pooling1d"),
    ]


def build_conv1d_seq(K, flavor):
    L = K.layers
    return sequential(K, flavor, "conv1d_seq", (8, 2), lambda f:
                      _conv1d_layers(K, f) + [
                          L.GlobalMaxPooling1D(name="global_max_pooling1d"),
                          L.Dense(1, name="dense")])


def build_conv1d_fn(K, flavor):
    L = K.layers
    x = fn_input(K, (8, 2))
    y = chain(x, _conv1d_layers(K, {}))
    a = L.GlobalMaxPooling1D(name="global_max_pooling1d")(y)
    b = L.GlobalAveragePooling1D(keepdims=True,
                                 name="global_average_pooling1d")(y)
    b = L.Flatten(name="flatten")(b)
    out = L.Dense(1, name="dense")(L.Concatenate(name="concatenate")([a, b]))
    return K.Model(x, out, name="conv1d_fn")


def _conv2d_layers(K, first):
    L = K.layers
    return [
        L.Conv2D(4, 3, strides=2, padding="same", groups=2,
                 name="conv2d_grouped", **first),  # (4, 4, 4)
        L.BatchNormalization(name="batch_normalization"),
        L.SpatialDropout2D(0.1, name="spatial_dropout2d"),
        L.Conv2DTranspose(2, 3, strides=2, padding="same",
                          name="conv2d_transpose"),  # (8, 8, 2)
        L.DepthwiseConv2D(3, depth_multiplier=2, name="depthwise_conv2d"),
        L.SeparableConv2D(4, 3, padding="same", name="separable_conv2d"),
        L.Conv2D(3, 2, padding="valid", name="conv2d"),  # (5, 5, 3)
        L.ZeroPadding2D(((1, 0), (1, 0)), name="zero_padding2d"),
        L.Cropping2D(((1, 1), (0, 2)), name="cropping2d"),  # (4, 4, 3)
        L.MaxPooling2D(2, name="max_pooling2d"),
        L.UpSampling2D(2, name="up_sampling2d"),
        L.AveragePooling2D(2, name="average_pooling2d"),  # (2, 2, 3)
    ]


def build_conv2d_seq(K, flavor):
    L = K.layers
    return sequential(K, flavor, "conv2d_seq", (8, 8, 2), lambda f:
                      _conv2d_layers(K, f) + [
                          L.GlobalAveragePooling2D(
                              keepdims=True, name="global_average_pooling2d"),
                          L.GlobalMaxPooling2D(name="global_max_pooling2d"),
                          L.Dense(2, name="dense")])


def build_conv2d_fn(K, flavor):
    L = K.layers
    x = fn_input(K, (8, 8, 2))
    y = chain(x, _conv2d_layers(K, {}))
    a = L.GlobalMaxPooling2D(name="global_max_pooling2d")(y)
    b = L.GlobalAveragePooling2D(name="global_average_pooling2d")(y)
    out = L.Dense(2, name="dense")(L.Concatenate(name="concatenate")([a, b]))
    return K.Model(x, out, name="conv2d_fn")


def _conv3d_layers(K, first):
    L = K.layers
    return [
        L.Conv3D(2, 2, padding="same", name="conv3d", **first),  # (4,4,4,2)
        L.SpatialDropout3D(0.1, name="spatial_dropout3d"),
        L.Conv3DTranspose(2, 2, name="conv3d_transpose"),  # (5, 5, 5, 2)
        L.MaxPooling3D(2, name="max_pooling3d"),  # (2, 2, 2, 2)
        L.ZeroPadding3D(1, name="zero_padding3d"),  # (4, 4, 4, 2)
        L.Cropping3D(((1, 0), (1, 0), (0, 1)), name="cropping3d"),
        L.UpSampling3D(2, name="up_sampling3d"),  # (6, 6, 6, 2)
        L.AveragePooling3D(3, name="average_pooling3d"),  # (2, 2, 2, 2)
    ]


def build_conv3d_seq(K, flavor):
    L = K.layers
    return sequential(K, flavor, "conv3d_seq", (4, 4, 4, 1), lambda f:
                      _conv3d_layers(K, f) + [
                          L.GlobalAveragePooling3D(
                              keepdims=True, name="global_average_pooling3d"),
                          L.GlobalMaxPooling3D(name="global_max_pooling3d"),
                          L.Dense(1, name="dense")])


def build_conv3d_fn(K, flavor):
    L = K.layers
    x = fn_input(K, (4, 4, 4, 1))
    y = chain(x, _conv3d_layers(K, {}))
    a = L.GlobalMaxPooling3D(name="global_max_pooling3d")(y)
    b = L.GlobalAveragePooling3D(keepdims=True,
                                 name="global_average_pooling3d")(y)
    b = L.Flatten(name="flatten")(b)
    out = L.Dense(1, name="dense")(L.Concatenate(name="concatenate")([a, b]))
    return K.Model(x, out, name="conv3d_fn")


def build_channels_first_seq(K, flavor):
    L = K.layers
    cf = "channels_first"
    return sequential(K, flavor, "channels_first_seq", (2, 6, 6), lambda f: [
        L.Conv2D(3, 3, data_format=cf, name="conv2d", **f),  # (3, 4, 4)
        L.BatchNormalization(axis=1, name="batch_normalization"),
        L.MaxPooling2D(2, data_format=cf, name="max_pooling2d"),  # (3, 2, 2)
        L.UpSampling2D(2, data_format=cf, name="up_sampling2d"),
        L.AveragePooling2D(2, data_format=cf, name="average_pooling2d"),
        L.Reshape((3, 4), name="reshape"),  # channels_first 1D: (3, 4)
        L.Conv1D(2, 2, data_format=cf, name="conv1d"),  # (2, 3)
        L.GlobalAveragePooling1D(data_format=cf,
                                 name="global_average_pooling1d"),  # (2,)
        L.Dense(2, name="dense"),
    ])


def build_cnn_bn_seq(K, flavor):
    """A small image classifier with BatchNormalization (center/scale off)."""
    L = K.layers
    return sequential(K, flavor, "cnn_bn_seq", (6, 6, 1), lambda f: [
        L.Conv2D(4, 3, padding="same", name="conv2d", **f),
        L.BatchNormalization(center=False, name="batch_normalization"),
        L.ReLU(name="re_lu"),
        L.Conv2D(4, 3, name="conv2d_1"),
        L.BatchNormalization(scale=False, name="batch_normalization_1"),
        L.ReLU(name="re_lu_1"),
        L.MaxPooling2D(2, name="max_pooling2d"),
        L.Flatten(name="flatten"),
        L.Dense(3, activation="softmax", name="dense"),
    ])


def build_resblock_fn(K, flavor):
    """Residual blocks as ResNet and MobileNet build them: Add then an
    Activation("relu") or a ReLU layer, and ZeroPadding2D before a valid
    strided Conv2D and DepthwiseConv2D (kerascope folds these at load)."""
    L = K.layers
    x_in = fn_input(K, (8, 8, 3), "input")
    x = L.Conv2D(8, 3, padding="same", name="stem")(x_in)
    x = L.BatchNormalization(name="stem_bn")(x)
    x = L.ReLU(name="stem_relu")(x)
    y = L.Conv2D(8, 3, padding="same", name="block1_conv")(x)
    y = L.BatchNormalization(name="block1_bn")(y)
    x = L.Add(name="block1_add")([x, y])
    x = L.Activation("relu", name="block1_out")(x)
    y = L.Conv2D(8, 1, name="block2_conv")(x)
    x = L.Add(name="block2_add")([x, y])
    x = L.ReLU(max_value=6.0, name="block2_out")(x)
    x = L.ZeroPadding2D(((0, 1), (0, 1)), name="dw_pad")(x)
    x = L.DepthwiseConv2D(3, strides=2, name="dw")(x)
    x = L.ZeroPadding2D(1, name="conv_pad")(x)
    x = L.Conv2D(4, 3, strides=2, name="conv_s2")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    out = L.Dense(3, name="dense")(x)
    return K.Model(x_in, out, name="resblock_fn")


# -- normalization and preprocessing -----------------------------------------
def _adapted_normalization(K):
    norm = K.layers.Normalization(axis=-1, name="normalization")
    rng = np.random.default_rng(1)
    norm.adapt(rng.normal(1.0, 2.0, size=(16, 4, 4, 2)).astype(np.float32))
    return norm


def _norm_layers(K, first):
    L = K.layers
    return [
        L.Rescaling(0.25, offset=-0.5, name="rescaling", **first),
        L.Resizing(6, 6, name="resizing"),
        L.CenterCrop(4, 4, name="center_crop"),
        _adapted_normalization(K),
        L.LayerNormalization(name="layer_normalization"),
        L.GroupNormalization(groups=2, name="group_normalization"),
        L.UnitNormalization(name="unit_normalization"),
        L.BatchNormalization(name="batch_normalization"),
    ]


def build_norm_seq(K, flavor):
    L = K.layers
    return sequential(K, flavor, "norm_seq", (4, 4, 2), lambda f:
                      _norm_layers(K, f) + [L.Flatten(name="flatten"),
                                            L.Dense(2, name="dense")])


def build_norm_fn(K, flavor):
    L = K.layers
    x = fn_input(K, (4, 4, 2))
    y = L.Flatten(name="flatten")(chain(x, _norm_layers(K, {})))
    side = L.Flatten(name="flatten_1")(
        L.LayerNormalization(axis=[1, 2], name="layer_normalization_1")(x))
    out = L.Dense(2, name="dense")(L.Concatenate(name="concatenate")([y, side]))
    return K.Model(x, out, name="norm_fn")


# -- activation layers --------------------------------------------------------
def _act_layers(K, flavor, first):
    L = K.layers
    layers = [
        L.Dense(4, name="dense", **first),  # (4, 4)
        L.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.0, name="re_lu"),
        L.LeakyReLU(0.2, name="leaky_re_lu"),
        L.PReLU(shared_axes=[1], name="p_re_lu"),
        L.ELU(0.5, name="elu"),
    ]
    if flavor == "tfk":  # Keras 3 has no ThresholdedReLU
        layers.append(L.ThresholdedReLU(0.1, name="thresholded_re_lu"))
    return layers + [L.Softmax(axis=-1, name="softmax")]


def build_act_seq(K, flavor):
    L = K.layers
    return sequential(K, flavor, "act_seq", (4, 3), lambda f:
                      _act_layers(K, flavor, f) + [L.Flatten(name="flatten"),
                                                   L.Dense(2, name="dense_1")])


def build_act_fn(K, flavor):
    L = K.layers
    x = fn_input(K, (4, 3))
    y = L.Flatten(name="flatten")(chain(x, _act_layers(K, flavor, {})))
    side = L.Flatten(name="flatten_1")(
        L.PReLU(name="p_re_lu_1")(x))  # PReLU without shared_axes
    out = L.Dense(2, name="dense_1")(L.Concatenate(name="concatenate")([y, side]))
    return K.Model(x, out, name="act_fn")


# -- merging, attention, graph features -----------------------------------------
def build_merge_fn(K, flavor):
    """Two inputs, two outputs, every merge layer."""
    L = K.layers
    a_in, b_in = fn_input(K, (4,), "input_a"), fn_input(K, (4,), "input_b")
    a = L.Dense(3, name="dense_a")(a_in)
    b = L.Dense(3, name="dense_b")(b_in)
    merged = [
        L.Add(name="add")([a, b]),
        L.Subtract(name="subtract")([a, b]),
        L.Multiply(name="multiply")([a, b]),
        L.Average(name="average")([a, b]),
        L.Maximum(name="maximum")([a, b]),
        L.Minimum(name="minimum")([a, b]),
    ]
    dot = L.Dot(axes=1, normalize=True, name="dot")([a, b])
    cat = L.Concatenate(axis=-1, name="concatenate")(merged + [dot])
    out1 = L.Dense(1, name="out_1")(cat)
    out2 = L.Dense(2, activation="softmax", name="out_2")(
        L.Concatenate(name="concatenate_1")([a_in, b]))
    return K.Model([a_in, b_in], [out1, out2], name="merge_fn")


def build_attention_fn(K, flavor):
    """MultiHeadAttention as self- and cross-attention, Attention,
    AdditiveAttention."""
    L = K.layers
    q = fn_input(K, (3, 4), "query")
    v = fn_input(K, (5, 4), "value")
    self_att = L.MultiHeadAttention(num_heads=2, key_dim=2,
                                    name="mha_self")(q, q)
    cross = L.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2,
                                 output_shape=(3,), name="mha_cross")(q, v)
    dot_att = L.Attention(use_scale=True, name="attention")([q, v])
    add_att = L.AdditiveAttention(name="additive_attention")([q, v, v])
    cat = L.Concatenate(name="concatenate")([self_att, cross, dot_att, add_att])
    out = L.Dense(1, name="dense")(L.GlobalAveragePooling1D(
        name="global_average_pooling1d")(cat))
    return K.Model([q, v], out, name="attention_fn")


def build_shared_fn(K, flavor):
    """Shared layers: one Dense called on two inputs of the same shape, one
    called on inputs of different ranks."""
    L = K.layers
    a = fn_input(K, (4,), "input_a")
    b = fn_input(K, (4,), "input_b")
    s = fn_input(K, (3, 4), "input_seq")
    same = L.Dense(3, name="shared_same")
    diff = L.Dense(2, name="shared_diff")
    sa, sb = same(a), same(b)
    da, ds = diff(a), diff(s)
    ds = L.GlobalAveragePooling1D(name="global_average_pooling1d")(ds)
    cat = L.Concatenate(name="concatenate")([sa, sb, da, ds])
    return K.Model([a, b, s], L.Dense(1, name="dense")(cat), name="shared_fn")


def _inner_block(K, flavor, trainable=True):
    """A Sequential block (no input shape: it is built by its first call)."""
    L = K.layers
    block = K.Sequential([L.Dense(4, activation="relu", name="inner_dense"),
                          L.Dense(3, name="inner_dense_1")], name="block")
    block.trainable = trainable
    return block


def build_nested_fn(K, flavor):
    """Sequential inside Functional inside Functional (frozen block)."""
    L = K.layers
    mid_in = fn_input(K, (5,), "middle_input")
    h = _inner_block(K, flavor, trainable=False)(mid_in)
    h = L.Dense(3, name="middle_dense")(h)
    middle = K.Model(mid_in, h, name="middle")
    x = fn_input(K, (4,))
    y = L.Dense(5, name="dense")(x)
    y = middle(y)
    skip = L.Dense(3, name="dense_skip")(x)
    out = L.Dense(1, name="dense_out")(L.Add(name="add")([y, skip]))
    return K.Model(x, out, name="nested_fn")


def build_inplace_fn(K, flavor):
    """Element-wise merges whose inputs are read again later, inside and
    outside a nested model: kerascope lets a merge write its output over
    an input only when nothing reads that input afterwards."""
    L = K.layers
    inner_in = fn_input(K, (6,), "inner_input")
    r = L.Add(name="inner_add")([inner_in, L.Dense(6, name="inner_dense")(inner_in)])
    inner = K.Model(inner_in, r, name="inner")
    x = fn_input(K, (6,))
    a = L.Dense(6, name="a")(x)
    b = inner(a)  # the inner Add reads a, which the outer model reads again
    c = L.Add(name="add_ab")([a, b])  # a read again below, b not
    d = L.Multiply(name="mul")([c, a])
    e = L.Subtract(name="sub")([L.Dense(6, name="e")(d), d])
    return K.Model(x, [e, c], name="inplace_fn")


def build_invres_fn(K, flavor):
    """Inverted residual blocks 32 wide: MobileNetV2's (1x1 expand, BN,
    ReLU6; depthwise 3x3, BN, ReLU6; project, residual Add) and
    EfficientNet's (expand with swish; ZeroPadding and a strided
    depthwise 3x3 with swish), whose expanding convolutions kerascope runs
    inside the depthwise loop, row by row."""
    L = K.layers
    x = fn_input(K, (32, 32, 8))
    h = L.Conv2D(24, 1, use_bias=False, name="expand")(x)
    h = L.BatchNormalization(name="expand_bn")(h)
    h = L.ReLU(6.0, name="expand_relu")(h)
    h = L.DepthwiseConv2D(3, padding="same", use_bias=False, name="depthwise")(h)
    h = L.BatchNormalization(name="depthwise_bn")(h)
    h = L.ReLU(6.0, name="depthwise_relu")(h)
    h = L.Conv2D(8, 1, use_bias=False, name="project")(h)
    h = L.BatchNormalization(name="project_bn")(h)
    a = L.Add(name="add")([x, h])
    e = L.Conv2D(32, 1, use_bias=False, name="expand2")(a)
    e = L.BatchNormalization(name="expand2_bn")(e)
    e = L.Activation("swish", name="expand2_swish")(e)
    e = L.ZeroPadding2D(((0, 1), (0, 1)), name="pad")(e)
    e = L.DepthwiseConv2D(3, strides=2, padding="valid", use_bias=False, name="depthwise2")(e)
    e = L.BatchNormalization(name="depthwise2_bn")(e)
    e = L.Activation("swish", name="depthwise2_swish")(e)
    e = L.Conv2D(16, 1, name="project2")(e)
    out = L.Dense(4, name="head")(L.GlobalAveragePooling2D(name="pool")(e))
    return K.Model(x, out, name="invres_fn")


def build_padpool_fn(K, flavor):
    """ZeroPadding2D before a "valid" MaxPooling2D, as ResNet's stem has
    it, after a relu (ResNet's) and on values of either sign (where the
    padded zeros win over negative cells): kerascope folds the padding
    into the pooling's window."""
    L = K.layers
    x = fn_input(K, (9, 9, 8))
    h = L.Conv2D(16, 3, padding="same", name="conv")(x)
    h = L.BatchNormalization(name="bn")(h)
    h = L.Activation("relu", name="relu")(h)
    h = L.ZeroPadding2D(1, name="pool_pad")(h)
    h = L.MaxPooling2D(3, strides=2, name="pool")(h)
    g = L.ZeroPadding2D(((1, 0), (0, 2)), name="signed_pad")(x)
    g = L.MaxPooling2D(2, name="signed_pool")(g)
    out = L.Concatenate(name="concat")([L.Flatten(name="f1")(h), L.Flatten(name="f2")(g)])
    return K.Model(x, out, name="padpool_fn")


def build_nested_seq(K, flavor):
    """A Sequential block inside a Sequential model."""
    L = K.layers
    return sequential(K, flavor, "nested_seq", (5,), lambda f: [
        L.Dense(5, name="dense", **f),
        _inner_block(K, flavor),
        L.Dense(1, name="dense_out"),
    ])


def build_frozen_seq(K, flavor):
    """trainable=False on a Dense layer: Non-trainable params."""
    L = K.layers
    return sequential(K, flavor, "frozen_seq", (4,), lambda f: [
        L.Dense(6, activation="relu", trainable=False, name="frozen_dense",
                **f),
        L.BatchNormalization(name="batch_normalization"),
        L.Dropout(0.1, name="dropout"),
        L.Dense(2, name="dense"),
    ])


def build_compiled_fn(K, flavor):
    L = K.layers
    x = fn_input(K, (4,))
    h = L.Dense(8, activation="relu", name="dense")(x)
    h = L.Dropout(0.1, name="dropout")(h)
    return K.Model(x, L.Dense(1, name="dense_out")(h), name="compiled_fn")


def compiled_fn_compile(K):
    return {"loss": K.losses.MeanSquaredError(),
            "metrics": [K.metrics.MeanAbsoluteError(), K.metrics.RootMeanSquaredError()]}


def compiled_fn_data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x @ np.array([[0.5], [-1.0], [0.25], [2.0]]) + 0.1).astype(np.float32)
    return x, y, x[:4]


BIG_LAYERS = 1000
BIG_CYCLE = ("dense", "relu", "tanh", "elu", "leaky_re_lu", "sigmoid",
             "re_lu", "softplus", "softmax", "linear")


def build_big_1000(K, flavor):
    """BIG_LAYERS layers: Dense(2) every tenth layer, weightless activation
    layers in between. Every layer costs 1-2.5 KB of HDF5 groups in the
    saved files whatever its size, so few Dense layers keep them smaller."""
    L = K.layers

    def make(i, first):
        kind = BIG_CYCLE[i % len(BIG_CYCLE)]
        name = f"{kind}_{i}"
        if kind == "dense":
            return L.Dense(2, name=name, **first)
        if kind == "re_lu":
            return L.ReLU(name=name)
        if kind == "softmax":
            return L.Softmax(name=name)
        if kind == "elu":
            return L.ELU(name=name)
        if kind == "leaky_re_lu":
            return L.LeakyReLU(name=name)
        return L.Activation(kind, name=name)

    return sequential(K, flavor, "big_1000", (2,), lambda f: [
        make(i, f if i == 0 else {}) for i in range(BIG_LAYERS)])


# ---------------------------------------------------------------------------
# Inference coverage: recurrent options, masking, Bidirectional merge modes,
# activations, channels_first, the remaining layer classes. Most have several
# outputs so that each option's result is checked on its own.
# ---------------------------------------------------------------------------
def flat_outputs(o):
    """A layer call's result as a flat list of tensors (return_state and
    merge_mode=None give nested lists in some flavours)."""
    if isinstance(o, (list, tuple)):
        return [t for e in o for t in flat_outputs(e)]
    return [o]


SEQ_T = 5  # time steps of the recurrent-option models


def rnn_opts_data(n_states, seed):
    """x (4, SEQ_T, 3) normal(0, 1), then n_states initial states (4, 2)."""
    def data():
        rng = np.random.default_rng(seed)
        xs = [rng.normal(size=(4, SEQ_T, 3)).astype(np.float32)]
        xs += [rng.normal(size=(4, 2)).astype(np.float32) for _ in range(n_states)]
        return None, None, xs
    return data


def build_rnn_simple_opts_fn(K, flavor):
    L = K.layers
    x = fn_input(K, (SEQ_T, 3))
    h0 = fn_input(K, (2,), "h0")
    outs = [
        L.SimpleRNN(3, return_sequences=True, activation="relu", use_bias=False,
                    name="seq_relu_nobias")(x),
        L.SimpleRNN(2, activation="hard_sigmoid", name="last_hard_sigmoid")(x),
        *flat_outputs(L.SimpleRNN(2, return_state=True, go_backwards=True,
                                  activation="sigmoid",
                                  name="state_backwards")(x)),
        *flat_outputs(L.SimpleRNN(2, return_sequences=True, return_state=True,
                                  name="seq_state_init")(x, initial_state=h0)),
        L.SimpleRNN(2, return_sequences=True, go_backwards=True,
                    name="seq_backwards")(x),
        *flat_outputs(L.RNN(L.SimpleRNNCell(2, activation="softsign",
                                            name="simple_rnn_cell"),
                            return_state=True, go_backwards=True,
                            name="rnn_cell_init")(x, initial_state=[h0])),
        L.RNN([L.SimpleRNNCell(2, name="cell_0"),
               L.SimpleRNNCell(3, use_bias=False, name="cell_1")],
              return_sequences=True, name="rnn_cell_list")(x),
    ]
    return K.Model([x, h0], outs, name="rnn_simple_opts_fn")


def build_rnn_lstm_opts_fn(K, flavor):
    L = K.layers
    x = fn_input(K, (SEQ_T, 3))
    h0, c0 = fn_input(K, (2,), "h0"), fn_input(K, (2,), "c0")
    stacked = flat_outputs(L.RNN(
        L.StackedRNNCells([L.LSTMCell(2, name="cell_0"),
                           L.LSTMCell(2, recurrent_activation="hard_sigmoid",
                                      name="cell_1")],
                          name="stacked_rnn_cells"),
        return_state=True, go_backwards=True, name="rnn_stacked_state")(x))
    outs = [
        *flat_outputs(L.LSTM(2, return_sequences=True, return_state=True,
                             name="seq_state_init")(x, initial_state=[h0, c0])),
        L.LSTM(3, go_backwards=True, use_bias=False,
               recurrent_activation="hard_sigmoid",
               name="backwards_nobias_hard_sigmoid")(x),
        L.LSTM(2, activation="relu", recurrent_activation="tanh",
               return_sequences=True, name="seq_relu_tanh")(x),
        *flat_outputs(L.LSTM(2, go_backwards=True, return_sequences=True,
                             return_state=True, activation="softsign",
                             name="seq_state_backwards")(x)),
        *flat_outputs(L.RNN(L.LSTMCell(2, recurrent_activation="hard_sigmoid",
                                       name="lstm_cell"),
                            return_state=True,
                            name="rnn_cell_init")(x, initial_state=[h0, c0])),
        L.RNN([L.LSTMCell(2, name="cell_a"), L.LSTMCell(3, name="cell_b")],
              return_sequences=True, name="rnn_cell_list")(x),
        *stacked,
    ]
    return K.Model([x, h0, c0], outs, name="rnn_lstm_opts_fn")


def build_rnn_gru_opts_fn(K, flavor):
    L = K.layers
    x = fn_input(K, (SEQ_T, 3))
    h0 = fn_input(K, (2,), "h0")
    outs = [
        *flat_outputs(L.GRU(2, reset_after=False, return_sequences=True,
                            return_state=True,
                            name="v1_seq_state_init")(x, initial_state=h0)),
        *flat_outputs(L.GRU(2, reset_after=True, return_state=True,
                            name="v3_state_init")(x, initial_state=[h0])),
        L.GRU(2, reset_after=True, go_backwards=True, use_bias=False,
              recurrent_activation="hard_sigmoid",
              name="v3_backwards_nobias_hard_sigmoid")(x),
        L.GRU(3, reset_after=False, use_bias=False, activation="relu",
              name="v1_nobias_relu")(x),
        L.GRU(2, reset_after=False, recurrent_activation="hard_sigmoid",
              go_backwards=True, return_sequences=True,
              name="v1_seq_backwards_hard_sigmoid")(x),
        L.GRU(2, reset_after=True, activation="softsign",
              recurrent_activation="tanh", return_sequences=True,
              name="v3_seq_softsign")(x),
        *flat_outputs(L.RNN(L.GRUCell(2, reset_after=False, name="gru_cell"),
                            go_backwards=True, return_state=True,
                            name="rnn_cell_init")(x, initial_state=[h0])),
        L.RNN([L.GRUCell(2, name="cell_0"),
               L.GRUCell(2, reset_after=False, use_bias=False, name="cell_1")],
              return_sequences=True, name="rnn_cell_list")(x),
    ]
    return K.Model([x, h0], outs, name="rnn_gru_opts_fn")


MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def build_bidir_modes_fn(K, flavor):
    """Every merge_mode twice: return_sequences=True with return_state
    (LSTM, GRU, SimpleRNN in turn) and return_sequences=False."""
    L = K.layers
    x = fn_input(K, (4, 3))
    kinds = [L.LSTM, L.GRU, L.SimpleRNN]
    outs = []
    for i, mode in enumerate(MERGE_MODES):
        tag = mode or "none"
        rnn = kinds[i % 3]
        outs += flat_outputs(L.Bidirectional(
            rnn(2, return_sequences=True, return_state=True, name=f"rnn_{tag}"),
            merge_mode=mode, name=f"bi_{tag}_seq_state")(x))
        rnn = kinds[(i + 1) % 3]
        outs += flat_outputs(L.Bidirectional(
            rnn(2, name=f"rnn_{tag}_last"), merge_mode=mode,
            name=f"bi_{tag}_last")(x))
    return K.Model(x, outs, name="bidir_modes_fn")


MASK_T = 6


def mask_tokens():
    """Token ids (5, MASK_T): padding at the end, at the start, in the
    middle, everywhere (a fully masked sequence), nowhere."""
    return np.array([[3, 7, 1, 5, 0, 0],
                     [0, 0, 4, 2, 9, 6],
                     [8, 0, 2, 0, 0, 11],
                     [0, 0, 0, 0, 0, 0],
                     [1, 2, 3, 4, 5, 6]], dtype=np.int32)


def mask_features(seed=11):
    """Float (5, MASK_T, 3) with all features 0 where mask_tokens() is 0,
    except that sample 3 keeps step 2 (GlobalAveragePooling1D of a fully
    masked sequence is 0/0 = NaN in both flavours); sample 4 has steps
    where only some features are 0 (not masked)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(5, MASK_T, 3)).astype(np.float32)
    pad = mask_tokens() == 0
    pad[3, 2] = False
    x[pad] = 0.0
    x[4, 1, 0] = 0.0
    x[4, 3, :2] = 0.0
    return x


def build_mask_embed_fn(K, flavor):
    L = K.layers
    tokens = fn_input(K, (MASK_T,), "tokens", dtype="int32")
    e = L.Embedding(VOCAB, 3, mask_zero=True, name="embedding")(tokens)
    outs = [
        L.LSTM(2, name="lstm")(e),
        L.LSTM(2, return_sequences=True, name="lstm_seq")(e),
        *flat_outputs(L.GRU(2, return_sequences=True, return_state=True,
                            name="gru_seq_state")(e)),
        L.GRU(2, reset_after=False, go_backwards=True, name="gru_v1_back")(e),
        L.SimpleRNN(2, go_backwards=True, return_sequences=True,
                    name="simple_rnn_back_seq")(e),
        L.Bidirectional(L.LSTM(2, return_sequences=True, name="lstm_bi"),
                        name="bi_lstm_seq")(e),
        *flat_outputs(L.Bidirectional(L.GRU(2, return_state=True,
                                            name="gru_bi"),
                                      merge_mode="sum",
                                      name="bi_gru_state")(e)),
        L.Dense(2, name="dense_seq")(e),
    ]
    return K.Model(tokens, outs, name="mask_embed_fn")


def build_mask_float_fn(K, flavor):
    L = K.layers
    feats = fn_input(K, (MASK_T, 3), "features")
    m = L.Masking(0.0, name="masking")(feats)
    seq = L.LSTM(3, return_sequences=True, name="lstm_seq")(m)
    outs = [
        seq,
        L.GRU(2, reset_after=False, name="gru_v1")(m),
        *flat_outputs(L.SimpleRNN(2, return_state=True,
                                  name="simple_rnn_state")(m)),
        L.Bidirectional(L.SimpleRNN(2, return_sequences=True,
                                    name="simple_rnn_bi"),
                        merge_mode="mul", name="bi_simple_rnn_seq")(m),
        L.Bidirectional(L.GRU(2, name="gru_bi"), merge_mode="ave",
                        name="bi_gru")(m),
        L.GlobalAveragePooling1D(name="gap_masked_input")(m),
        L.GlobalAveragePooling1D(name="gap_masked_lstm")(seq),
        L.Attention(name="attention")([seq, seq]),
        L.Attention(use_scale=True, score_mode="concat",
                    name="attention_concat")([seq, m]),
        L.Dense(2, name="dense_seq")(m),
    ]
    return K.Model(feats, outs, name="mask_float_fn")


ACT_WIDTH = 12


def activation_names(flavor):
    """Every activation each flavour resolves by name (Keras 3.15's
    keras.activations ALL_OBJECTS except 'threshold', which needs arguments;
    tf-keras 2.21's tf_keras.activations functions)."""
    if flavor == "k3":
        return ["celu", "elu", "exponential", "gelu", "glu", "hard_shrink",
                "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh",
                "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish",
                "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink",
                "softmax", "softplus", "softsign", "sparse_plus",
                "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh",
                "tanh_shrink"]
    return ["elu", "exponential", "gelu", "hard_sigmoid", "leaky_relu",
            "linear", "log_softmax", "mish", "relu", "relu6", "selu",
            "sigmoid", "silu", "softmax", "softplus", "softsign", "swish",
            "tanh"]


def build_act_names_fn(K, flavor):
    """Activation(name) on the input for every name, concatenated in
    activation_names order (glu halves its 12 columns to 6). Dense(4,
    activation=name) goes through the same functions and only for a few
    names (a Dense per name doubles the files' size)."""
    L = K.layers
    x = fn_input(K, (ACT_WIDTH,))
    names = activation_names(flavor)
    acts = [L.Activation(n, name=f"act_{n}")(x) for n in names]
    dense = [L.Dense(4, activation=n, name=f"dense_{n}")(x)
             for n in ("hard_sigmoid", "gelu", "selu")]
    return K.Model(x, [L.Concatenate(name="concat_act")(acts),
                       L.Concatenate(name="concat_dense")(dense)],
                   name="act_names_fn")


def act_names_data():
    """(4, ACT_WIDTH) in [-6.5, 6.5]: row 0 hits the breakpoints of the
    clipping/shrink functions exactly, row 1 just beside them, rows 2-3
    uniform(-5, 5)."""
    rng = np.random.default_rng(5)
    row0 = np.array([-6.5, -5, -3, -2.5, -1, -0.5, 0, 0.5, 1, 2.5, 3, 6.5])
    row1 = np.array([-4.2, -3.1, -2.9, -2.6, -2.4, -1.1, -0.9, -0.4, 0.6, 0.9,
                     3.2, 5.9])
    x = np.stack([row0, row1, rng.uniform(-5, 5, ACT_WIDTH),
                  rng.uniform(-5, 5, ACT_WIDTH)])
    return None, None, x.astype(np.float32)


def build_act_args_fn(K, flavor):
    """Advanced activation layers with non-default arguments, each applied
    to the (3, 4, 2) input and returned as its own output."""
    L = K.layers
    x = fn_input(K, (3, 4, 2))
    slope = ({"negative_slope": 0.05} if flavor == "k3" else {"alpha": 0.05})
    layers = [
        L.LeakyReLU(**slope, name="leaky_re_lu_005"),
        L.LeakyReLU(name="leaky_re_lu_default"),
        L.ELU(alpha=2.0, name="elu_2"),
        L.ELU(name="elu_default"),
        L.ReLU(max_value=2.0, name="re_lu_max2"),
        L.ReLU(negative_slope=0.2, threshold=1.0, name="re_lu_slope_thr"),
        L.ReLU(max_value=3.0, negative_slope=0.1, threshold=0.5,
               name="re_lu_all"),
        L.Softmax(axis=1, name="softmax_axis1"),
        L.Softmax(axis=(1, 2), name="softmax_axis12"),
        L.PReLU(shared_axes=[1, 2], name="p_re_lu_shared12"),
        L.PReLU(shared_axes=[3], name="p_re_lu_shared3"),
    ]
    if flavor == "tfk":
        layers.append(L.ThresholdedReLU(theta=0.7, name="thresholded_re_lu"))
    return K.Model(x, [layer(x) for layer in layers], name="act_args_fn")


def act_args_data():
    rng = np.random.default_rng(6)
    return None, None, rng.uniform(-5, 5, size=(2, 3, 4, 2)).astype(np.float32)


def build_misc_fn(K, flavor):
    """Identity, ConvLSTM3D (both flavours); RMSNormalization and
    BatchNormalization(synchronized=True) (Keras 3) or
    SyncBatchNormalization (tf-keras)."""
    L = K.layers
    x = fn_input(K, (2, 3, 3, 3, 1))
    v = fn_input(K, (3, 4), "vector")
    outs = [
        L.ConvLSTM3D(2, 2, return_sequences=True, name="conv_lstm3d_seq")(x),
        L.ConvLSTM3D(1, 2, padding="same", go_backwards=True,
                     name="conv_lstm3d")(x),
        L.Identity(name="identity")(v),
    ]
    if flavor == "k3":
        outs += [L.RMSNormalization(name="rms_normalization")(v),
                 L.RMSNormalization(axis=[1, 2], epsilon=0.1,
                                    name="rms_normalization_12")(v),
                 L.BatchNormalization(synchronized=True,
                                      name="batch_normalization_sync")(v)]
    else:
        outs.append(L.experimental.SyncBatchNormalization(
            name="sync_batch_normalization")(v))
    return K.Model([x, v], outs, name="misc_fn")


def build_channels_first_ok_fn(K, flavor):
    """channels_first layers that TensorFlow's CPU kernels can run in that
    flavour (Keras 3 transposes pooling and depthwise/separable/3D
    convolutions to channels_last; tf-keras passes NCHW to TF, which has CPU
    kernels only for some ops)."""
    L = K.layers
    cf = "channels_first"
    x1 = fn_input(K, (2, 6), "input_1d")
    x2 = fn_input(K, (2, 5, 5), "input_2d")
    x3 = fn_input(K, (2, 4, 4, 4), "input_3d")
    outs = []
    # 1D: pooling, global pooling (both flavours).
    a = L.MaxPooling1D(2, data_format=cf, name="max_pooling1d")(x1)
    outs.append(L.GlobalMaxPooling1D(data_format=cf,
                                     name="global_max_pooling1d")(a))
    outs.append(L.AveragePooling1D(2, strides=1, data_format=cf,
                                   name="average_pooling1d")(x1))
    # 2D.
    b = L.BatchNormalization(axis=1, name="batch_normalization")(x2)
    b = L.DepthwiseConv2D(2, depth_multiplier=2, data_format=cf,
                          name="depthwise_conv2d")(b)  # (4, 4, 4)
    b = L.UpSampling2D((1, 2), data_format=cf, name="up_sampling2d")(b)
    b = L.ZeroPadding2D(((1, 0), (0, 2)), data_format=cf,
                        name="zero_padding2d")(b)  # (4, 5, 10)
    b = L.Cropping2D(((0, 1), (2, 1)), data_format=cf,
                     name="cropping2d")(b)  # (4, 4, 7)
    outs.append(L.Flatten(data_format=cf, name="flatten")(b))
    outs.append(L.GlobalAveragePooling2D(data_format=cf,
                                         name="global_average_pooling2d")(b))
    outs.append(L.GlobalMaxPooling2D(data_format=cf,
                                     name="global_max_pooling2d")(b))
    # 3D.
    c = L.AveragePooling3D(2, data_format=cf, name="average_pooling3d")(x3)
    c = L.UpSampling3D((2, 1, 1), data_format=cf, name="up_sampling3d")(c)
    c = L.ZeroPadding3D(1, data_format=cf, name="zero_padding3d")(c)
    c = L.Cropping3D(((1, 0), (0, 1), (1, 1)), data_format=cf,
                     name="cropping3d")(c)
    outs.append(c)
    outs.append(L.MaxPooling3D(2, data_format=cf, name="max_pooling3d")(x3))
    outs.append(L.GlobalAveragePooling3D(data_format=cf,
                                         name="global_average_pooling3d")(x3))
    outs.append(L.GlobalMaxPooling3D(data_format=cf,
                                     name="global_max_pooling3d")(x3))
    if flavor == "k3":
        outs += [
            L.MaxPooling2D(2, data_format=cf, name="max_pooling2d")(x2),
            L.AveragePooling2D(2, strides=1, data_format=cf,
                               name="average_pooling2d")(x2),
            L.SeparableConv2D(2, 2, data_format=cf,
                              name="separable_conv2d")(x2),
            L.SeparableConv1D(3, 2, data_format=cf,
                              name="separable_conv1d")(x1),
            L.DepthwiseConv1D(2, data_format=cf, name="depthwise_conv1d")(x1),
            L.Conv3D(2, 2, data_format=cf, name="conv3d")(x3),
        ]
    else:
        outs += [
            L.Conv2DTranspose(2, 2, strides=2, data_format=cf,
                              name="conv2d_transpose")(x2),
            # x3 read as (time 2, channels 4, 4, 4).
            L.ConvLSTM2D(2, 2, data_format=cf, name="conv_lstm2d")(x3),
        ]
    return K.Model([x1, x2, x3], outs, name="channels_first_ok_fn")


# -- fixed batch sizes (issue 11) ----------------------------------------------
FIXED_BATCH = 8  # the batch size the fixed-batch models declare


def build_fixed_batch_fn(K, flavor):
    """An Input declaring batch size 8 (Keras 3 batch_shape, tf-keras
    batch_input_shape); Keras's predict runs it on any batch size."""
    L = K.layers
    x = K.Input(shape=(6, 3), batch_size=FIXED_BATCH, name="input")
    a = L.Conv1D(4, 3, activation="relu", name="conv1d")(x)
    a = L.Flatten(name="flatten")(a)
    b = L.GlobalAveragePooling1D(name="gap")(x)
    y = L.Concatenate(name="concat")([a, b])
    y = L.Dense(2, name="dense")(y)
    return K.Model(x, y, name="fixed_batch_fn")


def build_fixed_batch_seq(K, flavor):
    L = K.layers
    return K.Sequential([K.Input(shape=(5,), batch_size=FIXED_BATCH),
                         L.Dense(4, activation="tanh", name="dense"),
                         L.Reshape((2, 2), name="reshape"),
                         L.LSTM(3, name="lstm")], name="fixed_batch_seq")


def build_stateful_seq(K, flavor):
    """A stateful LSTM: Keras carries its states between batches, so the
    declared batch size (4) is the only one it takes."""
    L = K.layers
    return K.Sequential([K.Input(shape=(3, 2), batch_size=4),
                         L.LSTM(3, stateful=True, name="lstm"),
                         L.Dense(1, name="dense")], name="stateful_seq")


def batch_data(n, shape, seed):
    def data():
        rng = np.random.default_rng(seed)
        return None, None, rng.normal(size=(n,) + shape).astype(np.float32)
    return data


# -- built-in layers kerascope reads but does not run (issue 11) --------------
def build_strings_fn(K, flavor):
    """Keras's string and lookup preprocessing layers, with fixed
    vocabularies: summary and check only (kerascope takes no strings)."""
    L = K.layers
    text = K.Input(shape=(1,), dtype="string", name="text")
    words = K.Input(shape=(2,), dtype="string", name="words")
    ids = K.Input(shape=(2,), dtype="int64", name="ids")
    tv = L.TextVectorization(max_tokens=8, output_sequence_length=4,
                             vocabulary=["the", "cat", "dog", "sat"],
                             name="text_vectorization")(text)
    e = L.Embedding(8, 3, name="embedding")(tv)
    e = L.GlobalAveragePooling1D(name="gap")(e)
    e = L.Dense(2, name="dense")(e)
    s = L.StringLookup(vocabulary=["a", "b", "c"], name="string_lookup")(words)
    h = L.Hashing(num_bins=5, name="hashing")(words)
    i = L.IntegerLookup(vocabulary=[3, 5, 7], name="integer_lookup")(ids)
    c = L.Concatenate(name="concat")([s, h, i])
    return K.Model([text, words, ids], [e, c], name="strings_fn")


def strings_data():
    return None, None, [np.array([["the cat sat"], ["a dog"]]),
                        np.array([["a", "b"], ["c", "zz"]]),
                        np.array([[3, 5], [7, 1]], dtype=np.int64)]


# -- keras.applications families, small (issue 11) ---------------------------
def _apps(flavor, module):
    """keras.src.applications.<module> or tf_keras's: the builders and the
    layer classes the applications define for themselves."""
    import importlib
    root = "keras.src.applications." if flavor == "k3" else "tf_keras.src.applications."
    return importlib.import_module(root + module)


def build_app_mobilenetv3_fn(K, flavor):
    """MobileNetV3 from Keras's own builder (include_preprocessing: the
    Rescaling with offset), with a two-block stack from its own
    _inverted_res_block: squeeze-and-excite, hard_sigmoid and hard_swish as
    Keras writes them (Keras 3: ops Add(x, 3.0) and Multiply(x, 1/6);
    tf-keras: TFOpLambda)."""
    mv3 = _apps(flavor, "mobilenet_v3")

    def stack_fn(x, kernel, activation, se_ratio):
        x = mv3._inverted_res_block(x, 1, 8, 3, 2, se_ratio, mv3.relu, 0)
        return mv3._inverted_res_block(x, 4, 8, kernel, 1, se_ratio, activation, 1)

    m = mv3.MobileNetV3(stack_fn, 16, input_shape=(32, 32, 3), model_type="small",
                        weights=None, classes=5)
    return m


def build_app_convnext_fn(K, flavor):
    """ConvNeXt from Keras's own builder at depth 1 and width 8 per stage,
    with drop_path_rate > 0 so that StochasticDepth appears beside
    LayerScale (classes keras.applications defines itself)."""
    cn = _apps(flavor, "convnext")
    return cn.ConvNeXt(depths=[1, 1, 1, 1], projection_dims=[8, 8, 8, 8],
                       drop_path_rate=0.1, input_shape=(32, 32, 3),
                       weights=None, classes=5)


def build_app_inception_resnet_fn(K, flavor):
    """One block35 of InceptionResNetV2 from Keras's own
    inception_resnet_block: its residual sum is CustomScaleLayer, a class
    the applications module defines."""
    irv = _apps(flavor, "inception_resnet_v2")
    if getattr(irv, "layers", None) is None:
        # tf_keras sets the module's `layers` only inside
        # InceptionResNetV2(); its helpers read that global.
        irv.layers = K.layers
    x = K.Input(shape=(8, 8, 16), name="input")
    y = irv.inception_resnet_block(x, 0.17, "block35", 1)
    y = K.layers.GlobalAveragePooling2D(name="gap")(y)
    y = K.layers.Dense(3, name="dense")(y)
    return K.Model(x, y, name="app_inception_resnet_fn")


# -- benchmark models (Keras 3 .keras only) ------------------------------------
BENCH_BATCH = 64
BENCH_VOCAB = 10000
BENCH_MAXLEN = 80


def build_bench_mlp(K, flavor):
    L = K.layers
    return sequential(K, flavor, "bench_mlp", (784,), lambda f: [
        L.Dense(256, activation="relu", name="dense", **f),
        L.Dense(256, activation="relu", name="dense_1"),
        L.Dense(10, activation="softmax", name="dense_2"),
    ])


def build_bench_cnn(K, flavor):
    """Keras's mnist_convnet example."""
    L = K.layers
    return sequential(K, flavor, "bench_cnn", (28, 28, 1), lambda f: [
        L.Conv2D(32, 3, activation="relu", name="conv2d", **f),
        L.MaxPooling2D(2, name="max_pooling2d"),
        L.Conv2D(64, 3, activation="relu", name="conv2d_1"),
        L.MaxPooling2D(2, name="max_pooling2d_1"),
        L.Flatten(name="flatten"),
        L.Dropout(0.5, name="dropout"),
        L.Dense(10, activation="softmax", name="dense"),
    ])


def build_bench_lstm(K, flavor):
    """Keras's imdb_lstm example shape: Embedding(10000, 64), LSTM(64)."""
    L = K.layers
    return sequential(K, flavor, "bench_lstm", (BENCH_MAXLEN,), lambda f: [
        L.Embedding(BENCH_VOCAB, 64, name="embedding", **f),
        L.LSTM(64, name="lstm"),
        L.Dense(1, activation="sigmoid", name="dense"),
    ], dtype="int32")


def bench_data(kind):
    def data():
        rng = np.random.default_rng(64)
        if kind == "mlp":
            x = rng.uniform(0, 1, size=(BENCH_BATCH, 784))
        elif kind == "cnn":
            x = rng.uniform(0, 1, size=(BENCH_BATCH, 28, 28, 1))
        else:
            x = rng.integers(1, BENCH_VOCAB, size=(BENCH_BATCH, BENCH_MAXLEN))
            # pad_sequences' default: zeros before shorter reviews.
            lengths = rng.integers(20, BENCH_MAXLEN + 1, size=BENCH_BATCH)
            lengths[:BENCH_BATCH // 2] = BENCH_MAXLEN
            for i, n in enumerate(lengths):
                x[i, :BENCH_MAXLEN - n] = 0
            return None, None, x.astype(np.int32)
        return None, None, x.astype(np.float32)
    return data


def zoo(name, description, build, inputs, **kw):
    return Spec(name, description, build, zoo_data(*inputs), mode="random",
                **kw)


F32 = "float32"
MODELS += [
    zoo("core_seq", "Sequential: Dense, Activation, the noise/dropout layers, "
        "ActivityRegularization, Reshape, Permute, Flatten, RepeatVector, "
        "EinsumDense.", build_core_seq, [((6,), F32)]),
    zoo("core_fn", "Functional version of core_seq with a Dense side branch "
        "and Concatenate.", build_core_fn, [((6,), F32)]),
    zoo("text_bilstm_seq", "Text classifier: Embedding(mask_zero=True), "
        "Masking, Bidirectional(LSTM), Dense(sigmoid); int32 token input.",
        build_text_bilstm_seq, [((5,), "int32")]),
    zoo("text_fn", "Two inputs (int32 tokens, float32 features): "
        "Embedding(mask_zero) -> Bidirectional(LSTM, ave) -> LSTM; Masking -> "
        "SimpleRNN; Concatenate.", build_text_fn,
        [((5,), "int32"), ((5, 3), F32)]),
    zoo("rnn_seq", "SimpleRNN(go_backwards), LSTM, GRU(reset_after=False), "
        "GRU(reset_after=True), all return_sequences but the last.",
        build_rnn_seq, [((4, 3), F32)]),
    zoo("rnn_states_fn", "return_state on LSTM/GRU/SimpleRNN; the LSTM "
        "states initialise a decoder LSTM (initial_state).",
        build_rnn_states_fn, [((4, 3), F32)]),
    zoo("rnn_cells_seq", "RNN over SimpleRNNCell, LSTMCell, GRUCell and "
        "StackedRNNCells.", build_rnn_cells_seq, [((4, 3), F32)]),
    zoo("rnn_cells_fn", "Functional RNN over cells; RNN(StackedRNNCells, "
        "return_state=True).", build_rnn_cells_fn, [((4, 3), F32)]),
    zoo("bidir_seq", "Bidirectional with merge_mode concat, sum, mul, ave, "
        "and a custom backward_layer (GRU backward of an LSTM).",
        build_bidir_seq, [((4, 3), F32)]),
    zoo("bidir_fn", "Bidirectional merge_mode=None (two outputs) and "
        "Bidirectional(LSTM, return_state=True) (five outputs).",
        build_bidir_fn, [((4, 3), F32)]),
    zoo("timedist_seq", "TimeDistributed over Conv2D, Flatten and Dense.",
        build_timedist_seq, [((3, 4, 4, 1), F32)]),
    zoo("timedist_fn", "Functional TimeDistributed, global pooling 1D branches.",
        build_timedist_fn, [((3, 4, 4, 1), F32)]),
    zoo("convlstm_seq", "ConvLSTM1D (return_sequences), Reshape, ConvLSTM2D.",
        build_convlstm_seq, [((3, 5, 2), F32)]),
    zoo("convlstm_fn", "ConvLSTM2D (go_backwards, padding same), "
        "ConvLSTM2D(return_state=True), Reshape -> ConvLSTM1D.",
        build_convlstm_fn,
        [((3, 4, 4, 1), F32)]),
    zoo("conv1d_seq", "Conv1D (causal, dilated, strided), SpatialDropout1D, "
        "Conv1DTranspose, DepthwiseConv1D, SeparableConv1D, ZeroPadding1D, "
        "Cropping1D, MaxPooling1D, UpSampling1D, AveragePooling1D, "
        "GlobalMaxPooling1D.", build_conv1d_seq, [((8, 2), F32)]),
    zoo("conv1d_fn", "conv1d_seq's layers, then GlobalMaxPooling1D and "
        "GlobalAveragePooling1D(keepdims=True) branches.", build_conv1d_fn,
        [((8, 2), F32)]),
    zoo("conv2d_seq", "Conv2D (groups=2, strides, same/valid), "
        "BatchNormalization, SpatialDropout2D, Conv2DTranspose, "
        "DepthwiseConv2D, SeparableConv2D, ZeroPadding2D, Cropping2D, "
        "pooling, UpSampling2D, GlobalAveragePooling2D(keepdims=True), "
        "GlobalMaxPooling2D.",
        build_conv2d_seq, [((8, 8, 2), F32)]),
    zoo("conv2d_fn", "conv2d_seq's layers, then GlobalMaxPooling2D and "
        "GlobalAveragePooling2D branches.", build_conv2d_fn,
        [((8, 8, 2), F32)]),
    zoo("conv3d_seq", "Conv3D, SpatialDropout3D, Conv3DTranspose, "
        "MaxPooling3D, ZeroPadding3D, Cropping3D, UpSampling3D, "
        "AveragePooling3D, GlobalAveragePooling3D(keepdims=True), "
        "GlobalMaxPooling3D.", build_conv3d_seq,
        [((4, 4, 4, 1), F32)]),
    zoo("conv3d_fn", "conv3d_seq's layers, then GlobalMaxPooling3D and "
        "GlobalAveragePooling3D(keepdims=True) branches.", build_conv3d_fn,
        [((4, 4, 4, 1), F32)]),
    zoo("channels_first_seq", "data_format='channels_first': Conv2D, "
        "BatchNormalization(axis=1), MaxPooling2D, UpSampling2D, "
        "AveragePooling2D, Conv1D, GlobalAveragePooling1D.",
        build_channels_first_seq, [((2, 6, 6), F32)]),
    zoo("resblock_fn", "Residual blocks: Add then Activation(relu) or "
        "ReLU(max_value), ZeroPadding2D before strided valid Conv2D and "
        "DepthwiseConv2D.", build_resblock_fn, [((8, 8, 3), F32)]),
    zoo("cnn_bn_seq", "Small CNN: Conv2D, BatchNormalization(center=False), "
        "ReLU, Conv2D, BatchNormalization(scale=False), MaxPooling2D, "
        "Flatten, Dense(softmax).", build_cnn_bn_seq, [((6, 6, 1), F32)]),
    zoo("norm_seq", "Rescaling, Resizing, CenterCrop, Normalization "
        "(adapted), LayerNormalization, GroupNormalization, "
        "UnitNormalization, BatchNormalization.", build_norm_seq,
        [((4, 4, 2), F32)]),
    zoo("norm_fn", "norm_seq's layers plus a LayerNormalization(axis=[1, 2]) "
        "branch.", build_norm_fn, [((4, 4, 2), F32)]),
    zoo("act_seq", "ReLU(max_value, negative_slope), LeakyReLU, "
        "PReLU(shared_axes=[1]), ELU, ThresholdedReLU (tf-keras only), "
        "Softmax.", build_act_seq, [((4, 3), F32)]),
    zoo("act_fn", "act_seq's layers plus a PReLU branch.", build_act_fn,
        [((4, 3), F32)]),
    zoo("merge_fn", "Two inputs and two outputs; Add, Subtract, Multiply, "
        "Average, Maximum, Minimum, Dot(normalize=True), Concatenate.",
        build_merge_fn, [((4,), F32), ((4,), F32)]),
    zoo("attention_fn", "MultiHeadAttention self-attention (query, query) "
        "and cross-attention (query, value; value_dim, output_shape), "
        "Attention(use_scale), AdditiveAttention([q, v, k]).",
        build_attention_fn, [((3, 4), F32), ((5, 4), F32)]),
    zoo("shared_fn", "Shared layers: Dense called on two inputs of the same "
        "shape and Dense called on a (4,) and a (3, 4) input.",
        build_shared_fn, [((4,), F32), ((4,), F32), ((3, 4), F32)]),
    zoo("nested_fn", "Sequential 'block' (frozen) inside Functional "
        "'middle' inside Functional 'nested_fn'.", build_nested_fn,
        [((4,), F32)], show_trainable=True),
    zoo("inplace_fn", "Add, Multiply and Subtract whose inputs are read "
        "again later, inside and outside a nested model, and an output "
        "read by a later merge.", build_inplace_fn, [((6,), F32)]),
    zoo("invres_fn", "Inverted residual blocks 32 wide, MobileNetV2's "
        "(ReLU6, residual Add) and EfficientNet's (swish, ZeroPadding, "
        "strided depthwise).", build_invres_fn, [((32, 32, 8), F32)]),
    zoo("padpool_fn", "ZeroPadding2D folded into the MaxPooling2D that "
        "reads it: after a relu (ResNet's stem) and on signed values.",
        build_padpool_fn, [((9, 9, 8), F32)]),
    zoo("nested_seq", "Sequential 'block' inside a Sequential.",
        build_nested_seq, [((5,), F32)]),
    zoo("frozen_seq", "Dense(trainable=False), BatchNormalization, Dropout, "
        "Dense: Non-trainable params.", build_frozen_seq, [((4,), F32)],
        show_trainable=True),
    Spec("compiled_fn", "Compiled with loss and metric objects "
         "(MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError) and "
         "fitted, so every file holds optimizer state.", build_compiled_fn,
         compiled_fn_data, compile=compiled_fn_compile, epochs=3,
         batch_size=16),
    zoo("big_1000", f"Summary benchmark: a Sequential of {BIG_LAYERS} layers: "
        "Dense(2), Activation(relu), Activation(tanh), ELU, LeakyReLU, "
        "Activation(sigmoid), ReLU, Activation(softplus), Softmax, "
        "Activation(linear), repeated. Building or loading it needs "
        "sys.setrecursionlimit above the default 1000.",
        build_big_1000, [((2,), F32)], files=("k3.keras", "tfk.h5"),
        file_loaders={"k3.keras": ["k3"], "tfk.h5": ["tfk"]}, wide=False,
        recursion_limit=10000),
]


def zoo_custom(name, description, build, data, **kw):
    """A random-weight model with hand-made prediction inputs."""
    return Spec(name, description, build, data, mode="random", **kw)


BENCH_FILES = dict(writers=("k3",), files=("k3.keras",),
                   file_loaders={"k3.keras": ["k3"]}, weight_init="fan_in")
MODELS += [
    zoo_custom("rnn_simple_opts_fn", "SimpleRNN options, one output each: "
               "activation relu/hard_sigmoid/sigmoid/softsign, use_bias=False, "
               "return_state, go_backwards, return_sequences, initial_state "
               "from a second model input h0; RNN(SimpleRNNCell) with "
               "initial_state; RNN([cell, cell]) (a cell list).",
               build_rnn_simple_opts_fn, rnn_opts_data(1, 21), wide=False),
    zoo_custom("rnn_lstm_opts_fn", "LSTM options, one output each: "
               "initial_state from inputs h0, c0; go_backwards; "
               "use_bias=False; recurrent_activation hard_sigmoid/tanh; "
               "activation relu/softsign; return_state with and without "
               "return_sequences; RNN(LSTMCell) with initial_state; "
               "RNN([cell, cell]); RNN(StackedRNNCells, return_state, "
               "go_backwards).", build_rnn_lstm_opts_fn, rnn_opts_data(2, 22), wide=False),
    zoo_custom("rnn_gru_opts_fn", "GRU options, one output each: "
               "reset_after False and True with initial_state (input h0), "
               "return_state, return_sequences, go_backwards, use_bias=False, "
               "recurrent_activation hard_sigmoid/tanh, activation "
               "relu/softsign; RNN(GRUCell(reset_after=False)) with "
               "initial_state; RNN([cell, cell]).",
               build_rnn_gru_opts_fn, rnn_opts_data(1, 23), wide=False),
    zoo("bidir_modes_fn", "Bidirectional in every merge_mode (concat, sum, "
        "mul, ave, None), each with return_sequences+return_state (LSTM, GRU "
        "or SimpleRNN) and with return_sequences=False; every result is a "
        "model output.", build_bidir_modes_fn, [((4, 3), F32)], wide=False),
    zoo_custom("mask_embed_fn", "Embedding(mask_zero=True) feeding LSTM "
               "(last and sequences), GRU (return_state, sequences), "
               "GRU(reset_after=False, go_backwards), SimpleRNN(go_backwards, "
               "sequences), Bidirectional LSTM (sequences) and GRU (sum, "
               "return_state) and Dense on the masked "
               "sequence. Input rows: padding at the end, at the start, in "
               "the middle, all padding, none.",
               build_mask_embed_fn, lambda: (None, None, mask_tokens()), wide=False),
    zoo_custom("mask_float_fn", "Masking(0.0) feeding LSTM (sequences), "
               "GRU(reset_after=False), SimpleRNN(return_state), "
               "Bidirectional SimpleRNN (mul) and GRU (ave), "
               "GlobalAveragePooling1D of the masked input and of the LSTM "
               "sequence, Attention (dot and concat score modes) on masked "
               "query/value, Dense. Input rows as in mask_embed_fn except "
               "that the all-padding row keeps one step (a fully masked "
               "row makes GlobalAveragePooling1D 0/0 = NaN in both "
               "flavours), plus steps with only some features 0 (not "
               "masked).",
               build_mask_float_fn, lambda: (None, None, mask_features()), wide=False),
    zoo_custom("act_names_fn", "Every activation each flavour knows by name "
               "(Keras 3: 31 names, all of keras.activations but 'threshold'; "
               "tf-keras: 18), as Activation(name) on the input (output 0, "
               "concatenated in name order, see activation_names in "
               "gen_models.py; glu gives 6 columns, the others 12) and "
               "Dense(4, activation=name) for hard_sigmoid, gelu, selu "
               "(output 1). Inputs in [-6.5, 6.5], row 0 on the breakpoints.",
               build_act_names_fn, act_names_data, wide=False),
    zoo_custom("act_args_fn", "Activation layers with non-default arguments, "
               "one output each: LeakyReLU(0.05) and default, ELU(2.0) and "
               "default, ReLU(max_value), ReLU(negative_slope, threshold), "
               "ReLU(all three), Softmax(axis=1), Softmax(axis=(1, 2)), "
               "PReLU(shared_axes=[1, 2]) and [3], ThresholdedReLU(0.7) "
               "(tf-keras only). Inputs uniform(-5, 5).",
               build_act_args_fn, act_args_data, wide=False),
    zoo("misc_fn", "ConvLSTM3D (return_sequences; padding same with "
        "go_backwards), Identity; Keras 3: RMSNormalization (default and "
        "axis=[1, 2]), BatchNormalization(synchronized=True); tf-keras: "
        "SyncBatchNormalization.", build_misc_fn,
        [((2, 3, 3, 3, 1), F32), ((3, 4), F32)], wide=False),
    zoo("channels_first_ok_fn", "data_format='channels_first' layers that "
        "TF's CPU kernels run in the flavour (so outputs exist): both: "
        "MaxPooling1D, AveragePooling1D, GlobalMaxPooling1D, "
        "BatchNormalization(axis=1), DepthwiseConv2D, UpSampling2D/3D, "
        "ZeroPadding2D/3D, Cropping2D/3D, Flatten(channels_first), global "
        "pooling 2D/3D, AveragePooling3D, MaxPooling3D; Keras 3 also "
        "MaxPooling2D, AveragePooling2D, SeparableConv1D/2D, "
        "DepthwiseConv1D, Conv3D; tf-keras also Conv2DTranspose, ConvLSTM2D.",
        build_channels_first_ok_fn,
        [((2, 6), F32), ((2, 5, 5), F32), ((2, 4, 4, 4), F32)], wide=False),
    zoo_custom("bench_mlp", "Benchmark (Keras 3 .keras only): Dense(256, "
               "relu), Dense(256, relu), Dense(10, softmax) on 784 inputs; "
               "64 uniform(0, 1) samples; fan-in scaled random weights.",
               build_bench_mlp, bench_data("mlp"), wide=False, **BENCH_FILES),
    zoo_custom("bench_cnn", "Benchmark (Keras 3 .keras only): Keras's "
               "mnist_convnet: Conv2D(32, 3, relu), MaxPooling2D, Conv2D(64, "
               "3, relu), MaxPooling2D, Flatten, Dropout(0.5), Dense(10, "
               "softmax) on (28, 28, 1); 64 uniform(0, 1) images; fan-in "
               "scaled random weights.",
               build_bench_cnn, bench_data("cnn"), wide=False, **BENCH_FILES),
    zoo_custom("bench_lstm", "Benchmark (Keras 3 .keras only): Keras's "
               "imdb_lstm shape: Embedding(10000, 64), LSTM(64), Dense(1, "
               "sigmoid) on 80 int32 token ids; 64 samples, ids in [1, 9999], "
               "half of them zero-padded at the start (no mask); fan-in "
               "scaled random weights.",
               build_bench_lstm, bench_data("lstm"), wide=False, **BENCH_FILES),
    zoo("app_mobilenetv3_fn", "keras.applications MobileNetV3 (small head) "
        "from Keras's builder with a two-block stack: Rescaling with offset, "
        "squeeze-and-excite, hard_sigmoid/hard_swish as ops (Keras 3) or "
        "TFOpLambda (tf-keras).", build_app_mobilenetv3_fn,
        [((32, 32, 3), F32)], wide=False, weight_init="fan_in"),
    zoo("app_convnext_fn", "keras.applications ConvNeXt from Keras's builder, "
        "depths 1, widths 8: LayerScale, StochasticDepth, Normalization "
        "preprocessing, LayerNormalization.", build_app_convnext_fn,
        [((32, 32, 3), F32)], wide=False, weight_init="fan_in"),
    zoo("app_inception_resnet_fn", "keras.applications InceptionResNetV2's "
        "block35 from Keras's inception_resnet_block: Conv2D, "
        "BatchNormalization, Concatenate, CustomScaleLayer.",
        build_app_inception_resnet_fn, [((8, 8, 16), F32)], wide=False,
        weight_init="fan_in"),
    zoo_custom("strings_fn", "TextVectorization, StringLookup, Hashing, "
               "IntegerLookup with fixed vocabularies, Embedding, Dense: "
               "summary and check only.", build_strings_fn, strings_data,
               wide=False, no_predict="not stored: string inputs, which "
               "kerascope does not take (summary and check only)"),
    zoo_custom("fixed_batch_fn", "Functional model whose Input declares "
               "batch size 8 (Conv1D, Flatten, GlobalAveragePooling1D, "
               "Concatenate, Dense); predicted on a batch of 3, as Keras's "
               "predict allows.", build_fixed_batch_fn,
               batch_data(3, (6, 3), 31), wide=False),
    zoo_custom("fixed_batch_seq", "Sequential whose Input declares batch "
               "size 8 (Dense, Reshape, LSTM); predicted on a batch of 5.",
               build_fixed_batch_seq, batch_data(5, (5,), 32), wide=False),
    zoo_custom("stateful_seq", "Stateful LSTM with declared batch size 4; "
               "predicted on exactly 4 samples (the first batch, from zero "
               "states). Another batch size is refused.",
               build_stateful_seq, batch_data(4, (3, 2), 33), wide=False),
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


def summary_name(fname: str, loader: str, width: Optional[int] = None,
                 expand: bool = False, trainable: bool = False) -> str:
    """F.<loader>.summary[<width>][.expand][.trainable].txt"""
    return (f"{fname}.{loader}.summary{width or ''}"
            f"{'.expand' if expand else ''}{'.trainable' if trainable else ''}"
            f".txt")


def summary_plan(loader: str, spec: Spec, sequential_like: bool,
                 nested: bool) -> List[dict]:
    """Every summary to capture for one loaded file, as the exact call:
    COLUMNS (environment), line_length (None = Keras's default),
    expand_nested, show_trainable. `width` is the number in the file name.
    """
    calls = [dict(width=None, COLUMNS=SUMMARY_K3_COLUMNS, line_length=None,
                  expand_nested=False, show_trainable=False)]
    if loader == "k3" and spec.wide:
        calls.append(dict(width=SUMMARY_K3_WIDE, COLUMNS=SUMMARY_K3_WIDE_COLUMNS,
                          line_length=SUMMARY_K3_WIDE, expand_nested=False,
                          show_trainable=False))
        if not sequential_like:
            calls.append(dict(width=SUMMARY_K3_WIDEST,
                              COLUMNS=SUMMARY_K3_WIDEST_COLUMNS,
                              line_length=SUMMARY_K3_WIDEST,
                              expand_nested=False, show_trainable=False))
    flags = []
    if nested:
        flags.append((True, False))
    if spec.show_trainable:
        flags.append((False, True))
        if nested:
            flags.append((True, True))
    for expand, trainable in flags:
        calls.append(dict(width=None, COLUMNS=SUMMARY_K3_COLUMNS,
                          line_length=None, expand_nested=expand,
                          show_trainable=trainable))
    return calls


def summary_kwargs(call: dict) -> dict:
    """The keyword arguments of model.summary() for a planned call."""
    kw = {}
    if call["line_length"] is not None:
        kw["line_length"] = call["line_length"]
    if call["expand_nested"]:
        kw["expand_nested"] = True
    if call["show_trainable"]:
        kw["show_trainable"] = True
    return kw


def effective_line_length(loader: str, call: dict, sequential_like: bool) -> int:
    """The table width Keras uses for a call (mirrors print_summary)."""
    if call["line_length"] is not None:
        return call["line_length"]
    if loader == "k3":
        default = (88 if sequential_like else 108) + (12 if call["show_trainable"] else 0)
        return min(default, call["COLUMNS"] - 4)
    return (65 if sequential_like else 98) + (11 if call["show_trainable"] else 0)


def worker_env(keras_home: str, columns: Optional[int] = None) -> Dict[str, str]:
    env = dict(os.environ)
    for k in DROPPED_ENV:
        env.pop(k, None)
    env.update(FIXED_ENV)
    if columns is not None:
        env["COLUMNS"] = str(columns)
    env["KERAS_HOME"] = keras_home  # no user ~/.keras/keras.json
    return env


def _no_addresses(text: str) -> str:
    """Drop Python object addresses (`<function dot at 0x7f...>`), which
    change from run to run."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text)


def error_text(e: BaseException) -> str:
    msg = _no_addresses(str(e)).strip().splitlines()
    first = msg[0] if msg else ""
    rest = " ".join(m.strip() for m in msg[1:] if m.strip())
    text = f"{type(e).__name__}: {first}"
    if rest:
        text += " " + rest
    return text[:600]


def op_error_text(e: BaseException) -> str:
    """A TF runtime error without the traceback TF puts into the message:
    the exception type and the last message line that is not a stack frame
    (e.g. "The Conv2D op currently only supports the NHWC tensor format on
    the CPU. ...")."""
    lines = [ln.strip() for ln in _no_addresses(str(e)).splitlines() if ln.strip()]
    keep = [ln for ln in lines if not ln.startswith(("File ", "Detected at node",
                                                     "[[", "Graph execution error"))]
    return f"{type(e).__name__}: {keep[-1] if keep else (lines[0] if lines else '')}"[:600]


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


def randomize_weights(model, flavor: str, seed: int, init: str = "normal") -> int:
    """Set every float weight from numpy's default_rng(seed), in
    model.weights order: normal(0, 0.5), except BatchNormalization
    moving_variance uniform(0.5, 1.5) (so always positive). Adapted
    Normalization layers keep their mean/variance/count. With
    init="fan_in", arrays of rank >= 2 other than embeddings are drawn from
    normal(0, 1/sqrt(fan_in)), fan_in = product of all but the last
    dimension; embeddings and rank-1 arrays (biases) stay normal(0, 0.5).
    Returns the number of arrays set."""
    rng = np.random.default_rng(seed)
    keep = set()
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if layer.__class__.__name__ == "Normalization":
            keep.update(id(w) for w in layer.weights)
    values, n = [], 0
    for w in model.weights:
        v = np.asarray(w.numpy())
        name = w.path if flavor == "k3" else w.name
        if id(w) in keep or not np.issubdtype(v.dtype, np.floating):
            values.append(v)
            continue
        if "moving_variance" in name:
            new = rng.uniform(0.5, 1.5, size=v.shape)
        elif init == "fan_in" and v.ndim >= 2 and "embeddings" not in name:
            fan_in = int(np.prod(v.shape[:-1]))
            new = rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=v.shape)
        else:
            new = rng.normal(0.0, 0.5, size=v.shape)
        values.append(new.astype(v.dtype))
        n += 1
    model.set_weights(values)
    return n


def writer_files(spec: Spec, flavor: str) -> List[str]:
    return [f for f in WRITER_FILES[flavor] if spec.files is None or f in spec.files]


def worker_save(task):
    spec = SPECS[task["model"]]
    flavor = task["flavor"]
    tf, K = _import(flavor)
    K.utils.set_random_seed(spec.seed)
    model = spec.build(K, flavor)
    if spec.mode == "fit":
        x_train, y_train, _ = spec.data()
        kwargs = spec.compile(K) if spec.compile else {"loss": spec.loss}
        model.compile(optimizer=K.optimizers.Adam(learning_rate=spec.learning_rate),
                      **kwargs)
        hist = model.fit(x_train, y_train, epochs=spec.epochs,
                         batch_size=spec.batch_size, verbose=0)
        losses = [float(v) for v in hist.history["loss"]]
        res = {"loss_first_epoch": losses[0], "loss_last_epoch": losses[-1]}
    else:
        res = {"randomized_arrays": randomize_weights(model, flavor, spec.seed,
                                                      spec.weight_init)}
    out = Path(task["outdir"])
    for fname in writer_files(spec, flavor):
        model.save(str(out / fname))
    return res


def _is_nested_model(layer) -> bool:
    """What Keras's expand_nested expands: a layer with a non-empty .layers."""
    return bool(getattr(layer, "layers", None))


def _k3_structure_shapes(x):
    if isinstance(x, (list, tuple)):
        return [_k3_structure_shapes(e) for e in x]
    if isinstance(x, dict):
        return {k: _k3_structure_shapes(v) for k, v in x.items()}
    return shape_json(tuple(x.shape))


def _k3_graph_nodes(model):
    """ids of the nodes of a Keras 3 model's own graph, or None."""
    functional = getattr(model, "_functional", None)  # Sequential
    nodes = getattr(functional if functional is not None else model, "_nodes", None)
    return None if nodes is None else {id(n) for n in nodes}


def _layer_info_k3(layer, graph=None):
    import rich.text
    from keras.src.utils.summary_utils import count_params, format_layer_shape

    try:
        shape = _k3_structure_shapes(layer.output)
    except Exception as e:  # noqa: BLE001
        shape = f"<{error_text(e)}>"
    try:
        shown = rich.text.Text.from_markup(format_layer_shape(layer)).plain
    except Exception as e:  # noqa: BLE001
        shown = f"<{error_text(e)}>"
    info = {
        "name": layer.name,
        "class_name": layer.__class__.__name__,
        "output_shape": shape,
        "summary_output_shape": shown,
        "params": int(layer.count_params()) if layer.built else 0,
        "trainable_params": int(count_params(layer.trainable_weights)),
        "non_trainable_params": int(count_params(layer.non_trainable_weights)),
        "trainable": bool(layer.trainable),
        "built": bool(layer.built),
        "weights": [{"path": w.path, "shape": shape_json(tuple(w.shape)),
                     "dtype": str(w.dtype), "trainable": bool(w.trainable)}
                    for w in layer.weights],
    }
    nodes = getattr(layer, "_inbound_nodes", [])
    if len(nodes) > 1:
        # Keras 3 Sequential adds a node to every layer each time it
        # rebuilds its graph (once per layer added), so count them all but
        # list only the calls in the model's current graph.
        info["inbound_nodes"] = len(nodes)
    in_graph = [n for n in nodes if graph is None or id(n) in graph]
    if len(in_graph) > 1:
        # One entry per call, shaped like output_shape (Keras keeps a node's
        # outputs as a flat list; one output is shown unwrapped).
        per_node = [_k3_structure_shapes(n.outputs) for n in in_graph]
        info["node_output_shapes"] = [s[0] if len(s) == 1 else s for s in per_node]
    if _is_nested_model(layer):
        sub_graph = _k3_graph_nodes(layer)
        info["layers"] = [_layer_info_k3(sub, sub_graph) for sub in layer.layers]
    return info


def _op_info_k3(op):
    """A summary row that is not a Layer: a Keras op node of a Functional
    graph (e.g. NotEqual/Any that compute masks)."""
    import rich.text
    from keras.src.utils.summary_utils import format_layer_shape

    try:
        shape = _k3_structure_shapes(op.output)
    except Exception as e:  # noqa: BLE001
        shape = f"<{error_text(e)}>"
    try:
        shown = rich.text.Text.from_markup(format_layer_shape(op)).plain
    except Exception as e:  # noqa: BLE001
        shown = f"<{error_text(e)}>"
    return {"name": op.name, "class_name": op.__class__.__name__,
            "output_shape": shape, "summary_output_shape": shown,
            "params": 0, "is_layer": False}


def _tfk_graph_nodes(model):
    """Node keys ("<layer>_ib-<i>") of a tf-keras model's own graph, or None."""
    return getattr(model, "_network_nodes", None)


def _layer_info_tfk(layer, graph=None):
    from tf_keras.src.utils.layer_utils import count_params

    try:
        shape = shape_json(layer.output_shape)
    except AttributeError as e:
        shape = "multiple" if "multiple" in str(e) else f"<{error_text(e)}>"
    # What print_summary shows in the Output Shape column.
    try:
        shown = str(layer.output_shape)
    except AttributeError:
        shown = "multiple"
    except RuntimeError:
        shown = "?"
    info = {
        "name": layer.name,
        "class_name": layer.__class__.__name__,
        "output_shape": shape,
        "summary_output_shape": shown,
        "params": int(layer.count_params()) if layer.built else 0,
        "trainable_params": int(count_params(layer.trainable_weights)),
        "non_trainable_params": int(count_params(layer.non_trainable_weights)),
        "trainable": bool(layer.trainable),
        "built": bool(layer.built),
        "weights": [{"path": w.name, "shape": shape_json(tuple(w.shape)),
                     "dtype": w.dtype.name, "trainable": bool(w.trainable)}
                    for w in layer.weights],
    }
    nodes = getattr(layer, "_inbound_nodes", [])
    if len(nodes) > 1:
        info["inbound_nodes"] = len(nodes)
    in_graph = [i for i in range(len(nodes))
                if graph is None or f"{layer.name}_ib-{i}" in graph]
    if len(in_graph) > 1:
        info["node_output_shapes"] = [shape_json(layer.get_output_shape_at(i))
                                      for i in in_graph]
    if _is_nested_model(layer):
        sub_graph = _tfk_graph_nodes(layer)
        info["layers"] = [_layer_info_tfk(sub, sub_graph) for sub in layer.layers]
    return info


def layer_classes(model) -> List[str]:
    """Sorted class names of every layer in the model, nested ones included:
    layers of nested models, wrapped layers (Bidirectional, TimeDistributed),
    the cell of a generic RNN and the cells of StackedRNNCells, and
    InputLayer when the model has inputs. The top model's class is not
    included (Sequential/Functional appear only for nested models)."""
    names = set()
    seen = set()

    def walk(obj, top=False):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        cls = obj.__class__.__name__
        if not top:
            names.add(cls)
        if cls in ("Bidirectional", "TimeDistributed"):
            for attr in ("forward_layer", "backward_layer"):
                sub = getattr(obj, attr, None)
                if sub is not None:
                    walk(sub)
            if cls == "TimeDistributed":
                walk(obj.layer)
        if cls == "RNN":
            walk(obj.cell)
        for cell in getattr(obj, "cells", None) or []:
            walk(cell)
        if _is_nested_model(obj):
            if getattr(obj, "inputs", None):
                names.add("InputLayer")
            for sub in obj.layers:
                walk(sub)

    walk(model, top=True)
    return sorted(names)


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
    spec = SPECS[task["model"]]
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
    default_text = capture_summary(model, SUMMARY_K3_COLUMNS)
    sequential_like = "Connected to" not in default_text
    nested = any(_is_nested_model(layer) for layer in model.layers)
    texts, calls = {}, {}
    for call in summary_plan(loader, spec, sequential_like, nested):
        name = summary_name(fname, loader, call["width"], call["expand_nested"],
                            call["show_trainable"])
        kwargs = summary_kwargs(call)
        text = capture_summary(model, call["COLUMNS"], **kwargs)
        if call["width"] is not None:
            # The wide captures use the narrowest COLUMNS at which Keras 3
            # itself picks that width, so summary() must print the same.
            if capture_summary(model, call["COLUMNS"]) != text:
                raise SystemExit(f"{path}: summary() at COLUMNS={call['COLUMNS']} "
                                 f"differs from summary({kwargs})")
        if "\x1b" in text:
            raise SystemExit(f"{path}: ANSI escape in summary {name}")
        texts[name] = text
        calls[name] = {
            "COLUMNS": call["COLUMNS"], "line_length": call["line_length"],
            "expand_nested": call["expand_nested"],
            "show_trainable": call["show_trainable"],
            "effective_line_length": effective_line_length(loader, call,
                                                           sequential_like),
        }
    if texts[summary_name(fname, loader)] != default_text:
        raise SystemExit(f"{path}: summary() is not stable")
    for n, t in texts.items():
        (outdir / n).write_bytes(t.encode("utf-8"))
    info["summaries"] = sorted(texts)
    info["summary_calls"] = calls
    info["sequential_like"] = sequential_like

    # Layers, parameter counts.
    if loader == "k3":
        from keras.src.models import Functional, Sequential
        from keras.src.utils.summary_utils import count_params, weight_memory_size

        from keras.src.layers import Layer

        layer_info = _layer_info_k3
        graph = _k3_graph_nodes(model)
        if isinstance(model, Functional) and not isinstance(model, Sequential):
            summary_layers = model._operations
        else:
            summary_layers = model.layers
        summary_ops = [_op_info_k3(op) for op in summary_layers
                       if not isinstance(op, Layer)] or None
        tw = getattr(model, "_collected_trainable_weights", model.trainable_weights)
        opt = model.optimizer if model.compiled else None
        opt_built = bool(opt is not None and opt.built)
        opt_vars = list(opt.variables) if opt_built else []
        opt_in_summary = opt_built
    else:
        from tf_keras.src.utils.layer_utils import count_params, weight_memory_size

        layer_info = _layer_info_tfk
        graph = _tfk_graph_nodes(model)
        summary_layers = model.layers
        summary_ops = None
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
    opt_var_info = [{"path": getattr(v, "path", None) or v.name,
                     "shape": shape_json(tuple(v.shape)),
                     "dtype": str(getattr(v.dtype, "name", v.dtype))}
                    for v in opt_vars]
    info.update({
        "model_name": model.name,
        "model_class": model.__class__.__name__,
        "covers": layer_classes(model),
        "layers": [layer_info(layer, graph) for layer in model.layers],
        "summary_layer_names": [layer.name for layer in summary_layers],
        "summary_operations": summary_ops,
        "trainable_params": trainable,
        "non_trainable_params": non_trainable,
        "optimizer": None if opt is None else opt.__class__.__name__,
        "optimizer_params": opt_params,
        "optimizer_variables": opt_var_info if opt_built else None,
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
        try:
            y = model.predict(xs[0] if len(xs) == 1 else xs, verbose=0)
        except Exception as e:  # noqa: BLE001
            info["predict_error"] = op_error_text(e)
            return info
        ys = as_list(y)
        onames = output_names(fname, len(ys))
        for n, arr in zip(onames, ys):
            np.save(outdir / n, np.asarray(arr, dtype=np.float32))
        info["outputs"] = onames
        info["output_shapes"] = [list(np.shape(a)) for a in ys]
    return info


def worker_main(task_json):
    task = json.loads(task_json)
    spec = SPECS.get(task.get("model"))
    if spec is not None and spec.recursion_limit:
        sys.setrecursionlimit(spec.recursion_limit)
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


def spec_files(spec: Spec) -> List[str]:
    return [f for w in spec.writers for f in WRITER_FILES[w]
            if spec.files is None or f in spec.files]


def spec_file_loaders(spec: Spec, fname: str) -> List[str]:
    if spec.file_loaders is not None:
        return spec.file_loaders.get(fname, [])
    return FILE_LOADERS[fname]


def generate_model(spec: Spec, vers: dict, keras_home: str, force: bool) -> dict:
    mdir = MODELS_DIR / spec.name
    mdir.mkdir(parents=True, exist_ok=True)
    saved_by = {"k3": f"keras {vers['keras']}", "tfk": f"tf_keras {vers['tf_keras']}"}
    log = lambda msg: print(f"  {spec.name}: {msg}", flush=True)  # noqa: E731
    produced = set()
    entry = {"description": spec.description, "files": {}}
    if spec.mode == "fit":
        entry["training"] = {"epochs": spec.epochs, "batch_size": spec.batch_size,
                             "optimizer": "Adam", "learning_rate": spec.learning_rate,
                             "loss": spec.loss, "seed": spec.seed}
        if spec.compile is not None:
            entry["training"]["loss"] = None  # objects: see training.compile
    else:
        entry["weights"] = {
            "mode": "random", "seed": spec.seed,
            "how": "not compiled, not trained; every float weight set in "
                   "model.weights order from numpy default_rng(seed): "
                   "normal(0, 0.5), BatchNormalization moving_variance "
                   "uniform(0.5, 1.5); adapted Normalization layers keep "
                   "their mean/variance/count",
        }
        if spec.weight_init == "fan_in":
            entry["weights"]["how"] += (
                "; weight_init fan_in: arrays of rank >= 2 other than "
                "embeddings from normal(0, 1/sqrt(fan_in)), fan_in = product "
                "of all but the last dimension")
    if spec.recursion_limit:
        entry["recursion_limit"] = spec.recursion_limit

    # 1. Build, train and save with each writer, into a scratch directory.
    files = spec_files(spec)
    with tempfile.TemporaryDirectory() as tmp:
        saved = {}
        for flavor in spec.writers:
            log(f"{'train+save' if spec.mode == 'fit' else 'save'} with {flavor}")
            saved[flavor] = run_worker({"op": "save", "flavor": flavor,
                                        "model": spec.name, "outdir": tmp},
                                       keras_home)
        for fname in files:
            new, old = Path(tmp) / fname, mdir / fname
            if not force and same_content(new, old):
                log(f"{fname} unchanged (kept committed bytes)")
            else:
                shutil.copyfile(new, old)
                log(f"{fname} written")
            produced.add(fname)
        if spec.mode == "fit":
            entry["training"]["loss_by_writer"] = saved
            if spec.compile is not None:
                # Describe the compile arguments without importing Keras here.
                entry["training"]["compile"] = saved_compile_description(spec)
        else:
            entry["weights"]["randomized_arrays_by_writer"] = {
                w: r["randomized_arrays"] for w, r in saved.items()}

    # 2. Inputs for prediction, in the dtype Keras is fed.
    _, _, x_pred = spec.data()
    in_names = input_names(x_pred)
    for n, arr in zip(in_names, as_list(x_pred)):
        np.save(mdir / n, np.asarray(arr))
        produced.add(n)
    entry["inputs"] = in_names
    entry["input_shapes"] = [list(np.shape(a)) for a in as_list(x_pred)]
    entry["input_dtypes"] = [str(np.asarray(a).dtype) for a in as_list(x_pred)]

    # 3. Load every file with every loader that may read it.
    covers = set()
    for fname in files:
        path = mdir / fname
        writer = FILE_WRITER[fname]
        fentry = {"sha256": sha256(path), "size": path.stat().st_size,
                  "saved_by": saved_by[writer], "writer": writer,
                  **stored_metadata(path), "loaders": {}}
        for loader in spec_file_loaders(spec, fname):
            log(f"load {fname} with {loader}")
            res = run_worker({"op": "load", "loader": loader, "model": spec.name,
                              "file": str(path), "outdir": str(mdir),
                              "inputs": [str(mdir / n) for n in in_names],
                              "predict": loader == writer and not spec.no_predict},
                             keras_home)
            if "load_kwargs" not in res:
                log(f"{loader} cannot load {fname}: "
                    f"{res['load_errors'][-1]['error'][:160]}")
            elif res.get("load_errors"):
                log(f"{loader} loads {fname} only with {res['load_kwargs']}")
            if "predict_error" in res:
                log(f"{loader} cannot predict with {fname}: "
                    f"{res['predict_error'][:160]}")
            produced.update(res.get("summaries", []))
            produced.update(res.get("outputs", []))
            if "outputs" in res:
                fentry["outputs"] = res.pop("outputs")
                fentry["output_shapes"] = res.pop("output_shapes")
            if "predict_error" in res:
                fentry["outputs"] = []
                fentry["outputs_missing"] = res.pop("predict_error")
            if spec.no_predict and loader == writer:
                fentry["outputs"] = []
                fentry["outputs_missing"] = spec.no_predict
            if loader == writer and "covers" in res:
                fentry["covers"] = res["covers"]
                covers.update(res["covers"])
            fentry["loaders"][loader] = res
        entry["files"][fname] = fentry
    entry["covers"] = sorted(covers)

    # 4. Remove what an earlier run made but this one did not.
    for p in mdir.iterdir():
        if p.name not in produced:
            log(f"removing stale {p.name}")
            p.unlink()
    return entry


def saved_compile_description(spec: Spec) -> dict:
    """Class names of the compile() objects of a spec, from the model's
    stored training config (the .h5 files keep it as JSON)."""
    import h5py

    out = {}
    for fname in spec_files(spec):
        if not fname.endswith(".h5"):
            continue
        path = MODELS_DIR / spec.name / fname
        with h5py.File(path, "r") as f:
            raw = f.attrs.get("training_config")
        if raw is None:
            continue
        cfg = json.loads(raw.decode() if isinstance(raw, bytes) else raw)

        def names(o):
            if isinstance(o, dict) and "class_name" in o:
                return o["class_name"]
            if isinstance(o, list):
                return [names(x) for x in o]
            if isinstance(o, dict):
                return {k: names(v) for k, v in o.items()}
            return o

        out[fname] = {"loss": names(cfg.get("loss")),
                      "metrics": names(cfg.get("metrics"))}
    return out


def verify_stdout(manifest: dict, names: List[str], keras_home: str) -> bool:
    """Re-run each summary as `python -c '...; model.summary(...)' > file`.

    Default-width captures run with COLUMNS and LINES unset (the pure
    no-terminal fallback); wide ones with their COLUMNS, both with the
    explicit line_length and with plain summary()."""
    ok = True
    for mname in names:
        mdir = MODELS_DIR / mname
        limit = manifest["models"][mname].get("recursion_limit")
        prelude = f"import sys; sys.setrecursionlimit({limit}); " if limit else ""
        for fname, fentry in manifest["models"][mname]["files"].items():
            for loader, lentry in fentry["loaders"].items():
                if "load_kwargs" not in lentry:
                    continue
                mod = "keras" if loader == "k3" else "tf_keras"
                cases = []
                for sname, call in sorted(lentry["summary_calls"].items()):
                    kw = {k: call[k] for k in ("line_length", "expand_nested",
                                               "show_trainable") if call[k]}
                    args = ", ".join(f"{k}={v!r}" for k, v in kw.items())
                    if call["line_length"] is None:
                        cases.append((sname, None, args))
                    else:
                        cases.append((sname, call["COLUMNS"], args))
                        rest = ", ".join(f"{k}={v!r}" for k, v in kw.items()
                                         if k != "line_length")
                        cases.append((sname, call["COLUMNS"], rest))
                for sname, columns, args in cases:
                    code = (f"{prelude}import {mod} as K; m = K.models.load_model("
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


SUMMARY_DOCS = {
    "F.k3.summary.txt":
        f"Keras 3 loads F; model.summary() with stdout not a terminal, "
        f"COLUMNS={SUMMARY_K3_COLUMNS} (=> line_length 76)",
    f"F.k3.summary{SUMMARY_K3_WIDE}.txt":
        f"Keras 3 loads F; model.summary(line_length={SUMMARY_K3_WIDE}) with "
        f"stdout not a terminal, COLUMNS={SUMMARY_K3_WIDE_COLUMNS} (identical "
        f"to model.summary() there)",
    f"F.k3.summary{SUMMARY_K3_WIDEST}.txt":
        f"only for models Keras 3 does not print as sequential-like (the "
        f"summary has a 'Connected to' column): Keras 3 loads F; "
        f"model.summary(line_length={SUMMARY_K3_WIDEST}) with stdout not a "
        f"terminal, COLUMNS={SUMMARY_K3_WIDEST_COLUMNS} (identical to "
        f"model.summary() there)",
    "F.tfk.summary.txt":
        f"tf-keras loads F; model.summary() with stdout not a terminal, "
        f"COLUMNS={SUMMARY_K3_COLUMNS}",
    "F.<loader>.summary.expand.txt":
        "only for models with a nested model: model.summary(expand_nested=True) "
        f"with COLUMNS={SUMMARY_K3_COLUMNS}",
    "F.<loader>.summary.trainable.txt":
        "only for models whose spec asks for it: "
        f"model.summary(show_trainable=True) with COLUMNS={SUMMARY_K3_COLUMNS}",
    "F.<loader>.summary.expand.trainable.txt":
        "both: model.summary(expand_nested=True, show_trainable=True) with "
        f"COLUMNS={SUMMARY_K3_COLUMNS}",
    "naming": "F.<loader>.summary[<width>][.expand][.trainable].txt; <width> "
              "present = summary(line_length=<width>) with COLUMNS = width + 4; "
              "absent = Keras's default width with COLUMNS=80. "
              "files.<F>.loaders.<loader>.summary_calls records every call.",
}


def dump_json(o, level: int = 0) -> str:
    """JSON with sorted keys and one-space indents, like
    json.dumps(o, sort_keys=True, indent=1), except that a list without
    objects inside is written on one line when that line is short (shapes
    such as [null, 3, 2])."""
    pad = " " * level
    if isinstance(o, dict):
        if not o:
            return "{}"
        items = [f"{pad} {json.dumps(k)}: {dump_json(v, level + 1)}"
                 for k, v in sorted(o.items())]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(o, list):
        if not o:
            return "[]"
        flat = json.dumps(o)
        if "{" not in flat and len(flat) <= 100:
            return flat
        items = [f"{pad} {dump_json(v, level + 1)}" for v in o]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(o)


def main(argv):
    if argv[:1] == ["--worker"]:
        worker_main(argv[1])
        return 0
    force = "--force" in argv
    verify = "--verify-stdout" in argv
    jobs = os.cpu_count() or 1
    rest = []
    for a in argv:
        if a.startswith("--jobs="):
            jobs = max(1, int(a.split("=", 1)[1]))
        else:
            rest.append(a)
    argv = rest
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
        "summaries": SUMMARY_DOCS,
    }
    manifest.setdefault("models", {})
    with tempfile.TemporaryDirectory(prefix="kerascope-keras-home-") as keras_home:
        # Models are independent (every Keras call is its own process), so
        # several can be generated at once; results do not depend on --jobs.
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {name: pool.submit(generate_model, SPECS[name], vers,
                                         keras_home, force) for name in todo}
            for name in todo:
                manifest["models"][name] = futures[name].result()
        if not names:  # full run: drop models no longer registered
            for stale in sorted(set(manifest["models"]) - set(SPECS)):
                del manifest["models"][stale]
            for p in sorted(MODELS_DIR.iterdir()):
                if p.is_dir() and p.name not in SPECS:
                    print(f"removing stale model directory {p.name}")
                    shutil.rmtree(p)
        MANIFEST.write_text(dump_json(manifest) + "\n")
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
