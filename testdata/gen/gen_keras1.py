#!/usr/bin/env python3
"""kerascope Keras 1 weight-layout fixtures: testdata/keras1/.

Regenerate, from the repository root (the venv is made by setup.sh):

    testdata/gen/.venv/bin/python testdata/gen/gen_keras1.py

Keras 1 itself no longer installs, but its weight layouts live on in the
loader every later Keras 2 kept (tf_keras/src/saving/legacy/hdf5_format.py,
preprocess_weights_for_loading): a legacy .h5 whose model_weights group
records no keras_version is read as Keras 1's, and

  - LSTM and GRU weights stored per gate, (W, U, b) for each gate, the
    LSTM's in the order i, c, f, o, are joined into Keras 2's three;
  - Theano-ordered Conv2D kernels (filters, channels, rows, cols) are
    transposed to (rows, cols, channels, filters);
  - Deconvolution2D kernels get their last two axes swapped (both orders);
  - Convolution1D kernels (length, 1, channels, filters) lose the unit axis.

For each model below this script builds it with tf_keras 2.21, draws every
weight from a seeded normal distribution, and writes

  <name>.h5             the model in Keras 1's layout: model_config in Keras
                        1's dialect (Convolution2D, nb_filter, dim_ordering,
                        output_dim, ...), the weights split and transposed as
                        Keras 1 stored them under Keras 1's names
                        (lstm_1_W_i, convolution2d_1_W), keras_version 1.2.2
                        at the root and none on model_weights;
  <name>.weights/<layer>.<i>.npy
                        the weights tf_keras's own loader makes of that file
                        (a twin with the same weights and a Keras 2 config is
                        loaded with tf_keras.models.load_model and its
                        get_weights() saved): what kerascope must read;
  <name>.input.npy, <name>.output.npy
                        an input and tf_keras's prediction on it. The
                        channels-first model cannot run on TensorFlow's CPU
                        kernels; its prediction comes from a channels-last
                        twin with the same weights (input transposed, a
                        Permute before Flatten), which computes the same
                        function.

and manifest.json (sorted keys) naming the files of each model. The script
asserts that the loader's weights equal the model's own (the conversion it
undid is exactly the one this script applied), so nothing here depends on
kerascope's reading of Keras 1.
"""

import hashlib
import json
import os
import pathlib
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import h5py
import numpy as np
import tf_keras as keras

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "testdata" / "keras1"


def seeded_weights(model, seed):
    rng = np.random.default_rng(seed)
    ws = []
    for w in model.get_weights():
        v = rng.normal(0, 0.5, size=w.shape).astype(np.float32)
        if w.ndim == 1 and np.all(w == 1):  # BN gamma / moving_variance stay positive
            v = np.abs(v) + 0.5
        ws.append(v)
    model.set_weights(ws)


# --- the models, each as a Keras 2 model and its Keras 1 config ------------


def rnn_model():
    m = keras.Sequential(
        [
            keras.Input((5, 4)),
            keras.layers.LSTM(3, return_sequences=True, recurrent_activation="hard_sigmoid", name="lstm_1"),
            keras.layers.GRU(2, reset_after=False, recurrent_activation="sigmoid", name="gru_1"),
            keras.layers.Dense(1, name="dense_1"),
        ],
        name="sequential_1",
    )
    cfg = [
        {"class_name": "LSTM", "config": {"name": "lstm_1", "trainable": True, "batch_input_shape": [None, 5, 4],
                                          "input_dtype": "float32", "output_dim": 3, "return_sequences": True,
                                          "go_backwards": False, "stateful": False, "unroll": False,
                                          "consume_less": "cpu", "init": "glorot_uniform", "inner_init": "orthogonal",
                                          "forget_bias_init": "one", "activation": "tanh",
                                          "inner_activation": "hard_sigmoid", "W_regularizer": None,
                                          "U_regularizer": None, "b_regularizer": None, "dropout_W": 0.0,
                                          "dropout_U": 0.0, "input_dim": 4, "input_length": None}},
        {"class_name": "GRU", "config": {"name": "gru_1", "trainable": True, "output_dim": 2,
                                         "return_sequences": False, "go_backwards": False, "stateful": False,
                                         "unroll": False, "consume_less": "cpu", "init": "glorot_uniform",
                                         "inner_init": "orthogonal", "activation": "tanh",
                                         "inner_activation": "sigmoid", "W_regularizer": None,
                                         "U_regularizer": None, "b_regularizer": None, "dropout_W": 0.0,
                                         "dropout_U": 0.0, "input_dim": 3, "input_length": None}},
        {"class_name": "Dense", "config": {"name": "dense_1", "trainable": True, "output_dim": 1, "init": "glorot_uniform",
                                           "activation": "linear", "W_regularizer": None, "b_regularizer": None,
                                           "activity_regularizer": None, "W_constraint": None, "b_constraint": None,
                                           "bias": True, "input_dim": 2}},
    ]
    return m, cfg, (2, 5, 4)


def conv_tf_model():
    m = keras.Sequential(
        [
            keras.Input((7, 2)),
            keras.layers.Conv1D(3, 3, activation="relu", name="convolution1d_1"),
            keras.layers.Reshape((5, 1, 3), name="reshape_1"),
            keras.layers.Conv2DTranspose(2, (2, 1), strides=(2, 1), name="deconvolution2d_1"),
            keras.layers.Flatten(name="flatten_1"),
            keras.layers.Dense(2, name="dense_1"),
        ],
        name="sequential_1",
    )
    cfg = [
        {"class_name": "Convolution1D", "config": {"name": "convolution1d_1", "trainable": True,
                                                   "batch_input_shape": [None, 7, 2], "input_dtype": "float32",
                                                   "nb_filter": 3, "filter_length": 3, "init": "glorot_uniform",
                                                   "activation": "relu", "border_mode": "valid",
                                                   "subsample_length": 1, "W_regularizer": None,
                                                   "b_regularizer": None, "activity_regularizer": None,
                                                   "W_constraint": None, "b_constraint": None, "bias": True,
                                                   "input_dim": 2, "input_length": 7}},
        {"class_name": "Reshape", "config": {"name": "reshape_1", "trainable": True, "target_shape": [5, 1, 3]}},
        {"class_name": "Deconvolution2D", "config": {"name": "deconvolution2d_1", "trainable": True, "nb_filter": 2,
                                                     "nb_row": 2, "nb_col": 1, "output_shape": [None, 10, 1, 2],
                                                     "init": "glorot_uniform", "activation": "linear",
                                                     "border_mode": "valid", "subsample": [2, 1],
                                                     "dim_ordering": "tf", "W_regularizer": None,
                                                     "b_regularizer": None, "activity_regularizer": None,
                                                     "W_constraint": None, "b_constraint": None, "bias": True}},
        {"class_name": "Flatten", "config": {"name": "flatten_1", "trainable": True}},
        {"class_name": "Dense", "config": {"name": "dense_1", "trainable": True, "output_dim": 2, "init": "glorot_uniform",
                                           "activation": "linear", "W_regularizer": None, "b_regularizer": None,
                                           "activity_regularizer": None, "W_constraint": None, "b_constraint": None,
                                           "bias": True, "input_dim": 20}},
    ]
    return m, cfg, (2, 7, 2)


def conv_th_layers(channels_first):
    fmt = "channels_first" if channels_first else "channels_last"
    axis = 1 if channels_first else -1
    layers = [
        keras.Input((2, 6, 6) if channels_first else (6, 6, 2)),
        keras.layers.Conv2D(3, (3, 2), data_format=fmt, name="convolution2d_1"),
        keras.layers.BatchNormalization(axis=axis, epsilon=1e-3, name="batchnormalization_1"),
        keras.layers.Activation("relu", name="activation_1"),
        keras.layers.Conv2DTranspose(2, (2, 2), strides=(2, 2), data_format=fmt, name="deconvolution2d_1"),
    ]
    if not channels_first:
        layers.append(keras.layers.Permute((3, 1, 2), name="permute_twin"))
    layers += [keras.layers.Flatten(name="flatten_1"), keras.layers.Dense(2, name="dense_1")]
    return layers


def conv_th_model():
    m = keras.Sequential(conv_th_layers(True), name="sequential_1")
    cfg = [
        {"class_name": "Convolution2D", "config": {"name": "convolution2d_1", "trainable": True,
                                                   "batch_input_shape": [None, 2, 6, 6], "input_dtype": "float32",
                                                   "nb_filter": 3, "nb_row": 3, "nb_col": 2, "init": "glorot_uniform",
                                                   "activation": "linear", "border_mode": "valid", "subsample": [1, 1],
                                                   "dim_ordering": "th", "W_regularizer": None, "b_regularizer": None,
                                                   "activity_regularizer": None, "W_constraint": None,
                                                   "b_constraint": None, "bias": True}},
        {"class_name": "BatchNormalization", "config": {"name": "batchnormalization_1", "trainable": True,
                                                        "epsilon": 1e-3, "mode": 0, "axis": 1, "momentum": 0.99,
                                                        "gamma_regularizer": None, "beta_regularizer": None}},
        {"class_name": "Activation", "config": {"name": "activation_1", "trainable": True, "activation": "relu"}},
        {"class_name": "Deconvolution2D", "config": {"name": "deconvolution2d_1", "trainable": True, "nb_filter": 2,
                                                     "nb_row": 2, "nb_col": 2, "output_shape": [None, 2, 8, 10],
                                                     "init": "glorot_uniform", "activation": "linear",
                                                     "border_mode": "valid", "subsample": [2, 2],
                                                     "dim_ordering": "th", "W_regularizer": None,
                                                     "b_regularizer": None, "activity_regularizer": None,
                                                     "W_constraint": None, "b_constraint": None, "bias": True}},
        {"class_name": "Flatten", "config": {"name": "flatten_1", "trainable": True}},
        {"class_name": "Dense", "config": {"name": "dense_1", "trainable": True, "output_dim": 2, "init": "glorot_uniform",
                                           "activation": "linear", "W_regularizer": None, "b_regularizer": None,
                                           "activity_regularizer": None, "W_constraint": None, "b_constraint": None,
                                           "bias": True, "input_dim": 160}},
    ]
    return m, cfg, (2, 2, 6, 6)


# --- Keras 1's storage of each layer's weights ------------------------------


def keras1_weights(layer, ws):
    """Returns [(name, array)] as Keras 1 stored the layer's weights ws."""
    cls, n = layer.__class__.__name__, layer.name
    if cls == "LSTM":
        k, u, b = ws
        gates = np.split(k, 4, axis=-1), np.split(u, 4, axis=-1), np.split(b, 4, axis=-1)
        out = []
        for g, letter in zip((0, 2, 1, 3), "icfo"):  # Keras 1's order i, c, f, o
            out += [(f"{n}_W_{letter}", gates[0][g]), (f"{n}_U_{letter}", gates[1][g]), (f"{n}_b_{letter}", gates[2][g])]
        return out
    if cls == "GRU":
        k, u, b = ws
        gates = np.split(k, 3, axis=-1), np.split(u, 3, axis=-1), np.split(b, 3, axis=-1)
        out = []
        for g, letter in enumerate("zrh"):
            out += [(f"{n}_W_{letter}", gates[0][g]), (f"{n}_U_{letter}", gates[1][g]), (f"{n}_b_{letter}", gates[2][g])]
        return out
    if cls == "Conv1D":
        return [(f"{n}_W", ws[0][:, None, :, :]), (f"{n}_b", ws[1])]
    if cls == "Conv2D" and layer.data_format == "channels_first":
        return [(f"{n}_W", np.transpose(ws[0], (3, 2, 0, 1))), (f"{n}_b", ws[1])]
    if cls == "Conv2DTranspose":
        # Keras 2 (rows, cols, filters, channels); Keras 1 th (filters,
        # channels, rows, cols), tf (rows, cols, channels, filters).
        k = np.transpose(ws[0], (2, 3, 0, 1)) if layer.data_format == "channels_first" else np.transpose(ws[0], (0, 1, 3, 2))
        return [(f"{n}_W", k), (f"{n}_b", ws[1])]
    if cls == "BatchNormalization":
        return list(zip([f"{n}_gamma", f"{n}_beta", f"{n}_running_mean", f"{n}_running_std"], ws))
    if cls == "Dense":
        return [(f"{n}_W", ws[0]), (f"{n}_b", ws[1])]
    assert not ws, cls
    return []


def write_keras1(path, model, cfg, keras2_config):
    """Writes model as Keras 1 saved it; with keras2_config, the same file
    with a Keras 2 config for tf_keras to load (the weights are the same
    bytes)."""
    with h5py.File(path, "w", track_order=False) as f:
        f.attrs["keras_version"] = np.bytes_("1.2.2")
        if keras2_config:
            f.attrs["model_config"] = np.bytes_(json.dumps({"class_name": "Sequential", "config": model.get_config()}))
        else:
            f.attrs["model_config"] = np.bytes_(json.dumps({"class_name": "Sequential", "config": cfg}))
        g = f.create_group("model_weights")
        names = [l.name for l in model.layers]
        g.attrs["layer_names"] = np.array([np.bytes_(x) for x in names])
        for layer in model.layers:
            lg = g.create_group(layer.name)
            stored = keras1_weights(layer, [w.numpy() for w in layer.weights])
            lg.attrs["weight_names"] = np.array([np.bytes_(x) for x, _ in stored], dtype="S") if stored else np.array([], dtype="S1")
            for x, arr in stored:
                lg.create_dataset(x, data=np.asarray(arr, dtype=np.float32), track_times=False)


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    manifest = {}
    rng = np.random.default_rng(1)
    for seed, (name, build) in enumerate([("k1_rnn", rnn_model), ("k1_conv_tf", conv_tf_model), ("k1_conv_th", conv_th_model)]):
        keras.utils.set_random_seed(seed)
        model, cfg, in_shape = build()
        seeded_weights(model, seed)
        want = [w.copy() for w in model.get_weights()]
        write_keras1(OUT / f"{name}.h5", model, cfg, False)
        with tempfile.TemporaryDirectory() as tmp:
            twin_path = pathlib.Path(tmp) / "twin.h5"
            write_keras1(twin_path, model, cfg, True)
            loaded = keras.models.load_model(twin_path, compile=False)
        got = loaded.get_weights()
        assert len(got) == len(want) and all(np.array_equal(a, b) for a, b in zip(got, want)), name
        wdir = OUT / f"{name}.weights"
        wdir.mkdir()
        files = {}
        for layer in loaded.layers:
            for i, w in enumerate(layer.get_weights()):
                fn = f"{layer.name}.{i}.npy"
                np.save(wdir / fn, w.astype(np.float32))
                files.setdefault(layer.name, []).append(fn)
        x = rng.uniform(-1, 1, size=in_shape).astype(np.float32)
        np.save(OUT / f"{name}.input.npy", x)
        if name == "k1_conv_th":
            # TensorFlow's CPU kernels run no channels-first convolution: a
            # channels-last twin with the same weights computes the same.
            twin = keras.Sequential(conv_th_layers(False))
            twin.set_weights(want)
            y = twin.predict(np.transpose(x, (0, 2, 3, 1)), verbose=0)
        else:
            y = loaded.predict(x, verbose=0)
        np.save(OUT / f"{name}.output.npy", y.astype(np.float32))
        manifest[name] = {
            "file": f"{name}.h5",
            "sha256": hashlib.sha256((OUT / f"{name}.h5").read_bytes()).hexdigest(),
            "input": f"{name}.input.npy",
            "output": f"{name}.output.npy",
            "weights": {k: [f"{name}.weights/{v}" for v in vs] for k, vs in files.items()},
            "tf_keras": keras.__version__,
        }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
