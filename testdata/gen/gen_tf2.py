"""gen_tf2.py: fixtures written by tf.keras 2.13, tf.keras 2.15 and tf-keras
2.21, the oracles for their `.keras` layouts and their TensorFlow-op layers
(TFOpLambda, SlicingOpLambda).

Run it with each oracle's interpreter; each run writes its own files and
its own manifest, so the three never overwrite each other:

    bash testdata/gen/setup_tf2.sh 2.13 && testdata/gen/.venv-tf213/bin/python testdata/gen/gen_tf2.py
    bash testdata/gen/setup_tf2.sh 2.15 && testdata/gen/.venv-tf215/bin/python testdata/gen/gen_tf2.py
    bash testdata/gen/setup.sh && testdata/gen/.venv/bin/python testdata/gen/gen_tf2.py

It writes testdata/tfk/<model>/<saver>.{keras,h5} (saver: tf213, tf215,
tfk221), each with <file>.tfk.summary.txt (model.summary() of the model
load_model gives back, captured from stdout as gen_models.py does),
<file>.output<i>.npy (that model's predictions on input<i>.npy) and
testdata/tfk/manifest.<saver>.json: per file the Keras version, the
layers and the stored weight elements. Inputs are seeded, so every saver
writes the same input<i>.npy.
"""

import contextlib
import io
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["CUDA_VISIBLE_DEVICES"] = ""

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

try:
    import tf_keras as K  # tf-keras 2.21 (the main fixture venv)
    SAVER = "tfk221"
except ImportError:
    from tensorflow import keras as K  # tf.keras 2.13 / 2.15
    SAVER = "tf" + "".join(tf.__version__.split(".")[:2])

OUT = Path(__file__).resolve().parent.parent / "tfk"

tf.config.threading.set_inter_op_parallelism_threads(1)
tf.config.threading.set_intra_op_parallelism_threads(1)


def seeded(seed):
    tf.random.set_seed(seed)
    np.random.seed(seed)


def randomize_bn(model, seed=3):
    """Random BatchNormalization statistics, so that no layer is an identity."""
    rng = np.random.default_rng(seed)
    for layer in all_layers(model):
        if isinstance(layer, K.layers.BatchNormalization):
            g, b, m, v = layer.get_weights()
            layer.set_weights([
                rng.uniform(0.5, 1.5, g.shape).astype("float32"),
                rng.uniform(-0.5, 0.5, b.shape).astype("float32"),
                rng.uniform(-0.5, 0.5, m.shape).astype("float32"),
                rng.uniform(0.5, 1.5, v.shape).astype("float32"),
            ])


def all_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, K.Model):
            yield from all_layers(layer)


# --- models ---------------------------------------------------------------

def cnn_seq():
    return K.Sequential([
        K.Input((8, 8, 3)),
        K.layers.Conv2D(4, 3, activation="relu"),
        K.layers.BatchNormalization(),
        K.layers.MaxPooling2D(),
        K.layers.Conv2D(6, 2, padding="same"),
        K.layers.Flatten(),
        K.layers.Dense(5, activation="tanh"),
        K.layers.Dense(3, activation="softmax"),
    ]), [(8, 8, 3)]


def dense_fn():
    a = K.Input((6,), name="a")
    b = K.Input((4,), name="b")
    x = K.layers.Dense(8, activation="relu")(a)
    y = K.layers.Dense(8)(b)
    z = K.layers.Add()([x, y])
    z = K.layers.Dense(5, activation="sigmoid")(z)
    w = K.layers.Concatenate()([z, b])
    out = K.layers.Dense(2)(w)
    return K.Model([a, b], out), [(6,), (4,)]


def rnn_fn():
    x = K.Input((5, 3))
    h = K.layers.LSTM(4, return_sequences=True)(x)
    h = K.layers.Bidirectional(K.layers.GRU(3, return_sequences=True))(h)
    h = K.layers.SimpleRNN(2)(h)
    out = K.layers.Dense(2)(h)
    return K.Model(x, out), [(5, 3)]


def nested_fn():
    inner_seq = K.Sequential([K.Input((6,)), K.layers.Dense(5, activation="relu"),
                              K.layers.Dense(4)], name="inner_seq")
    i = K.Input((4,))
    j = K.layers.Dense(3, activation="tanh")(i)
    inner_fn = K.Model(i, K.layers.Dense(4)(j), name="inner_fn")
    x = K.Input((6,))
    h = K.layers.Dense(6)(x)
    h = inner_seq(h)
    h = inner_fn(h)
    out = K.layers.Dense(2)(h)
    return K.Model(x, out), [(6,)]


def mobilenet_fn():
    base = K.applications.MobileNetV2(include_top=False, weights=None,
                                      input_shape=(32, 32, 3), alpha=0.35)
    x = K.Input((32, 32, 3))
    h = base(x)
    h = K.layers.GlobalAveragePooling2D()(h)
    out = K.layers.Dense(3, activation="softmax")(h)
    return K.Model(x, out), [(32, 32, 3)]


def tfops_arith():
    x = K.Input((4, 3))
    y = K.Input((4, 3))
    a = x + y
    b = a - 1.5
    c = b * y
    d = c / (tf.abs(x) + 1.0)
    e = d ** 2
    f = tf.math.add(e, x)
    g = tf.math.subtract(f, y)
    h = tf.math.multiply(g, 0.5)
    i = tf.math.divide(h, 2.0)
    j = tf.math.maximum(i, x)
    k = tf.math.minimum(j, 3.0)
    l = tf.math.negative(k)
    m = tf.math.pow(tf.abs(l) + 1.0, 0.5)
    return K.Model([x, y], [m, -x + 2.0 * y]), [(4, 3), (4, 3)]


def tfops_math():
    x = K.Input((5,))
    p = tf.abs(x) + 0.5
    outs = [tf.math.sqrt(p), tf.math.rsqrt(p), tf.math.square(x), tf.math.exp(x),
            tf.math.log(p), tf.math.sigmoid(x), tf.math.tanh(x), tf.math.erf(x),
            tf.math.softplus(x), tf.math.abs(x)]
    return K.Model(x, tf.concat(outs, axis=-1)), [(5,)]


def tfops_reduce():
    x = K.Input((3, 4))
    outs = [tf.math.reduce_sum(x, axis=1), tf.math.reduce_mean(x, axis=-1),
            tf.math.reduce_max(x, axis=1), tf.math.reduce_min(x, axis=2),
            tf.reduce_mean(x, axis=[1, 2], keepdims=False)[:, None],
            tf.reshape(tf.reduce_sum(x, axis=1, keepdims=True), (-1, 4))]
    return K.Model(x, outs), [(3, 4)]


def tfops_nn():
    x = K.Input((3, 6))
    outs = [tf.nn.relu(x), tf.nn.relu6(x * 4.0), tf.nn.gelu(x), tf.nn.silu(x),
            tf.nn.softmax(x, axis=-1), tf.math.l2_normalize(x, axis=-1),
            tf.clip_by_value(x, -0.5, 0.5)]
    return K.Model(x, outs), [(3, 6)]


def tfops_shape():
    x = K.Input((2, 3))
    y = K.Input((3, 4))
    m = tf.matmul(x, y)
    t = tf.transpose(m, perm=[0, 2, 1])
    r = tf.reshape(t, (-1, 8))
    e = tf.expand_dims(r, axis=1)
    s = tf.squeeze(e, axis=1)
    st = tf.stack([s, s * 2.0], axis=1)
    c = tf.cast(st, "float32")
    lm = tf.linalg.matmul(x, y, transpose_a=False)
    sp = tf.split(y, 2, axis=-1)
    return K.Model([x, y], [c, lm, sp[0] + sp[1], tf.concat([x, x], axis=1)]), [(2, 3), (3, 4)]


def tfops_slice():
    x = K.Input((4, 5))
    # tf.keras 2.13 and 2.15 cannot save an Ellipsis in a slice.
    outs = [x[:, 0], x[:, 1:3], x[:, ::2, 1:], x[:, None, 2],
            x[:, :, tf.newaxis, 0:4:3]]
    return K.Model(x, outs), [(4, 5)]


def tfops_ellipsis():
    """Ellipsis slices: tf-keras 2.21 saves them, 2.13 and 2.15 cannot."""
    x = K.Input((3, 4, 5))
    return K.Model(x, [x[..., -1], x[..., 1:3], x[:, ..., ::2]]), [(3, 4, 5)]


def tfops_dense_fn():
    """A time-series transformer block as real Keras 2 models write them."""
    x = K.Input((6, 4))
    a = K.layers.MultiHeadAttention(num_heads=2, key_dim=2)(x, x)
    h = K.layers.LayerNormalization(epsilon=1e-6)(a + x)
    f = K.layers.Dense(4, activation="relu")(h)
    h2 = f + h
    out = K.layers.Dense(2)(K.layers.GlobalAveragePooling1D()(h2))
    return K.Model(x, out), [(6, 4)]


MODELS = {
    "cnn_seq": cnn_seq,
    "dense_fn": dense_fn,
    "rnn_fn": rnn_fn,
    "nested_fn": nested_fn,
    "mobilenet_fn": mobilenet_fn,
    "tfops_arith": tfops_arith,
    "tfops_math": tfops_math,
    "tfops_reduce": tfops_reduce,
    "tfops_nn": tfops_nn,
    "tfops_shape": tfops_shape,
    "tfops_slice": tfops_slice,
    "tfops_dense_fn": tfops_dense_fn,
    "tfops_ellipsis": tfops_ellipsis,
}

# Models a saver cannot write.
SKIP = {"tf213": {"tfops_ellipsis"}, "tf215": {"tfops_ellipsis"}}

# Formats each model is saved in: the MobileNetV2 one only as .keras, to
# keep the repository small.
FORMATS = {"mobilenet_fn": ["keras"], "tfops_ellipsis": ["h5"]}


def capture_summary(model):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        model.summary()
    return buf.getvalue()


def stored_elements(model):
    return int(sum(np.prod(w.shape) for w in model.weights))


def rescan_model(manifest, name):
    """Describe the files an earlier run saved, without saving them again."""
    d = OUT / name
    n_in = len(list(d.glob("input*.npy")))
    for fmt in ["keras", "h5"]:
        fname = f"{SAVER}.{fmt}"
        if not (d / fname).exists():
            continue
        loaded = K.models.load_model(str(d / fname), compile=False)
        manifest["files"][f"{name}/{fname}"] = {
            "inputs": n_in, "outputs": len(list(d.glob(f"{fname}.output*.npy"))),
            "weight_elements": stored_elements(loaded),
            "layers": [l.__class__.__name__ for l in loaded.layers],
        }


def main():
    mpath = OUT / f"manifest.{SAVER}.json"
    manifest = {"files": {}}
    if mpath.exists():  # a run for some models keeps the others' entries
        manifest = json.loads(mpath.read_text())
    manifest.update(saver=SAVER, tensorflow=tf.__version__, keras=getattr(K, "__version__", None) or __import__("keras").__version__)
    rescan = "--manifest-only" in sys.argv
    only = [a for a in sys.argv[1:] if not a.startswith("--")]
    for name, build in MODELS.items():
        if (only and name not in only) or name in SKIP.get(SAVER, ()):
            continue
        if rescan:
            rescan_model(manifest, name)
            continue
        seeded(1)
        model, shapes = build()
        randomize_bn(model)
        d = OUT / name
        d.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(7)
        inputs = [rng.uniform(-1, 1, (2,) + s).astype("float32") for s in shapes]
        for i, x in enumerate(inputs):
            np.save(d / f"input{i}.npy", x)
        for fmt in FORMATS.get(name, ["keras", "h5"]):
            fname = f"{SAVER}.{fmt}"
            path = d / fname
            model.save(str(path))
            loaded = K.models.load_model(str(path), compile=False)
            (d / f"{fname}.tfk.summary.txt").write_text(capture_summary(loaded))
            outs = loaded(inputs if len(inputs) > 1 else inputs[0], training=False)
            outs = outs if isinstance(outs, (list, tuple)) else [outs]
            first = model(inputs if len(inputs) > 1 else inputs[0], training=False)
            first = first if isinstance(first, (list, tuple)) else [first]
            for i, (o, f) in enumerate(zip(outs, first)):
                o = np.asarray(o, dtype="float32")
                np.testing.assert_allclose(o, np.asarray(f), rtol=1e-6, atol=1e-6)
                np.save(d / f"{fname}.output{i}.npy", o)
            manifest["files"][f"{name}/{fname}"] = {
                "inputs": len(inputs), "outputs": len(outs),
                "weight_elements": stored_elements(loaded),
                "layers": [l.__class__.__name__ for l in loaded.layers],
            }
            print(name, fname, "ok", file=sys.stderr)
        mpath.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    mpath.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
