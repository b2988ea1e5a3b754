#!/usr/bin/env python3
"""Makes the models of `make bench-keras` (bench_keras.py) in a git-ignored
directory: never committed, rebuilt when missing.

    testdata/gen/.venv/bin/python testdata/gen/bench_models.py OUTDIR NAME...

For every NAME it writes OUTDIR/NAME/ with

  * model.keras  the Keras model: the fixture's k3.keras for the four
                 fixtures, else built here with random weights (weights=None)
                 and randomized BatchNormalization statistics, so that folding
                 them into convolutions is exercised;
  * input.npy    the input batch (the fixture's, or random);
  * model.onnx   the same model converted by tf2onnx (opset 17) from a
                 tf.function with a fixed input signature (tf2onnx does not
                 take Keras 3 models directly), the constants the function
                 captures made initializers;
  * meta.json    the batch size, multiply-adds per sample of the convolutions,
                 products and attention (2 FLOPs each), weight bytes and the
                 two largest activations of one sample.

Only the driver calls it; it needs the fixture venv plus
requirements-bench.txt.
"""

import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ("rnn_1unit", "bench_lstm", "bench_cnn", "bench_mlp")
# Name -> batch size of the throughput figure.
BATCH = {"rnn_1unit": 64, "bench_lstm": 64, "bench_cnn": 64, "bench_mlp": 64,
         "mobilenetv2": 8, "resnet50": 8, "efficientnetb0": 8,
         "seq_lstm_gru": 64, "transformer": 64}
SEED = 20261203


def build(name):
    """A freshly made model and its input batch (numpy)."""
    import numpy as np
    import keras
    from keras import layers

    rng = np.random.default_rng(SEED)
    keras.utils.set_random_seed(SEED)
    n = BATCH[name]
    if name in ("mobilenetv2", "resnet50", "efficientnetb0"):
        ctor = {"mobilenetv2": keras.applications.MobileNetV2,
                "resnet50": keras.applications.ResNet50,
                "efficientnetb0": keras.applications.EfficientNetB0}[name]
        model = ctor(weights=None, input_shape=(224, 224, 3))
        if name == "efficientnetb0":  # it rescales 0..255 itself
            x = rng.uniform(0, 255, (n, 224, 224, 3))
        else:
            x = rng.uniform(-1, 1, (n, 224, 224, 3))
        randomize_bn(model, rng)
        return model, x.astype("float32")
    if name == "seq_lstm_gru":
        inp = keras.Input((50, 32))
        h = layers.LSTM(128, return_sequences=True)(inp)
        h = layers.GRU(128)(h)
        out = layers.Dense(10, activation="softmax")(h)
        model = keras.Model(inp, out, name="seq_lstm_gru")
        return model, rng.normal(0, 1, (n, 50, 32)).astype("float32")
    if name == "transformer":
        inp = keras.Input((64, 128))
        a = layers.MultiHeadAttention(num_heads=4, key_dim=32)(inp, inp)
        h = layers.LayerNormalization()(layers.Add()([inp, a]))
        f = layers.Dense(256, activation="relu")(h)
        f = layers.Dense(128)(f)
        h = layers.LayerNormalization()(layers.Add()([h, f]))
        h = layers.GlobalAveragePooling1D()(h)
        out = layers.Dense(10, activation="softmax")(h)
        model = keras.Model(inp, out, name="transformer")
        return model, rng.normal(0, 1, (n, 64, 128)).astype("float32")
    raise SystemExit(f"bench_models.py: unknown model {name!r}")


def randomize_bn(model, rng):
    """Gives every BatchNormalization statistics and an affine part other
    than the identity's, as a trained model has."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            vals = []
            for w in layer.weights:
                shape = tuple(w.shape)
                key = w.path.rsplit("/", 1)[-1]
                if key == "gamma":
                    vals.append(rng.uniform(0.5, 1.5, shape))
                elif key == "beta":
                    vals.append(rng.normal(0, 0.1, shape))
                elif key == "moving_mean":
                    vals.append(rng.normal(0, 0.1, shape))
                elif key == "moving_variance":
                    vals.append(rng.uniform(0.5, 1.5, shape))
                else:
                    raise SystemExit(f"unexpected BatchNormalization weight {w.path}")
            layer.set_weights([v.astype("float32") for v in vals])


def flops_and_memory(model):
    """Multiply-adds per sample of the layers that dominate (convolutions,
    dense products, recurrent cells, attention), weight bytes, and the byte
    sizes of the two largest layer outputs of one sample."""
    import math
    import keras

    def prod(shape):
        return math.prod(int(d) for d in shape if d is not None)

    macs = 0
    acts = []

    def visit(m):
        nonlocal macs
        for layer in m.layers:
            if isinstance(layer, keras.Model):
                visit(layer)
                continue
            try:
                out_shape = layer.output.shape
                # A layer called on several tensors (MultiHeadAttention's
                # query and value) lists them: its shapes are the first's.
                first = layer.input[0] if isinstance(layer.input, (list, tuple)) else layer.input
                in_shape = first.shape
            except (AttributeError, ValueError, IndexError):
                continue
            if isinstance(layer.output, (list, tuple)):
                continue
            acts.append(prod(out_shape[1:]) * 4)
            cls = type(layer).__name__
            if cls in ("Conv1D", "Conv2D", "Conv3D"):
                k = layer.kernel.shape  # (*k, in/groups, filters)
                macs += prod(out_shape[1:-1]) * prod(k)
            elif cls in ("DepthwiseConv1D", "DepthwiseConv2D"):
                macs += prod(out_shape[1:-1]) * prod(layer.kernel.shape)
            elif cls == "Dense":
                macs += prod(in_shape[1:-1]) * prod(layer.kernel.shape)
            elif cls in ("LSTM", "GRU", "SimpleRNN"):
                steps, feat = in_shape[1], in_shape[2]
                u = layer.units
                g = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}[cls]
                macs += steps * (feat + u) * g * u
            elif cls == "MultiHeadAttention":
                t = in_shape[1]
                for w in layer.weights:
                    if w.path.endswith("kernel"):
                        macs += t * prod(w.shape)
                heads, kd = layer.num_heads, layer.key_dim
                macs += 2 * heads * t * t * kd
            elif cls == "Embedding":
                pass
    visit(model)
    acts.sort(reverse=True)
    return {"macs_per_sample": int(macs),
            "weight_bytes": int(sum(prod(w.shape) * 4 for w in model.weights)),
            "largest_two_activations_bytes": int(sum(acts[:2]))}


def to_onnx(model, x, path):
    import tensorflow as tf
    import tf2onnx

    import numpy as np

    spec = (tf.TensorSpec((None,) + tuple(x.shape[1:]), tf.as_dtype(x.dtype), name="x"),)
    fn = tf.function(lambda t: model(t, training=False))
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=17,
                                             output_path=str(path))
    # Constants the function captures (Normalization's mean and variance in
    # EfficientNet) come out as graph inputs: make them the initializers
    # (constants) they are.
    cf = fn.get_concrete_function(*spec)
    names = {i.name for i in proto.graph.input} - {"x:0", "x"}
    if not names:
        return
    import onnx
    from onnx import numpy_helper

    found = set()
    for ph, val in zip(cf.graph.internal_captures, cf.captured_inputs):
        if ph.name in names and val.dtype != tf.resource:
            proto.graph.initializer.append(numpy_helper.from_array(np.asarray(val.numpy()), ph.name))
            found.add(ph.name)
    if names - found:
        raise SystemExit(f"tf2onnx left inputs it did not freeze: {sorted(names - found)}")
    keep = [i for i in proto.graph.input if i.name not in found]
    del proto.graph.input[:]
    proto.graph.input.extend(keep)
    onnx.save(proto, str(path))


def make(outdir, name):
    import numpy as np
    import keras

    d = Path(outdir) / name
    if (d / "meta.json").exists():
        return
    tmp = Path(outdir) / (name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if name in FIXTURES:
        src = ROOT / "testdata" / "models" / name
        shutil.copy(src / "k3.keras", tmp / "model.keras")
        x = np.load(src / "input.npy")
        n = BATCH[name]
        if len(x) < n:
            x = np.concatenate([x] * -(-n // len(x)))[:n]
        np.save(tmp / "input.npy", x[:n])
        model = keras.models.load_model(tmp / "model.keras", compile=False)
    else:
        model, x = build(name)
        model.save(tmp / "model.keras")
        np.save(tmp / "input.npy", x)
    to_onnx(model, x, tmp / "model.onnx")
    meta = {"name": name, "batch": BATCH[name], "params": int(model.count_params()),
            "made_with": {"keras": keras.__version__}}
    meta.update(flops_and_memory(model))
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    shutil.rmtree(d, ignore_errors=True)
    tmp.rename(d)


def main(argv):
    if len(argv) < 2:
        sys.exit("usage: bench_models.py OUTDIR NAME...")
    for name in argv[1:]:
        print(f"  making {name} ...", file=sys.stderr, flush=True)
        make(argv[0], name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
