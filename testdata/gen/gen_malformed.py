#!/usr/bin/env python3
"""kerascope bad-input fixtures: testdata/bad/.

Regenerate, from the repository root (after `make fixtures` has made the
venv and the base models; `make fixtures` also runs this script):

    testdata/gen/.venv/bin/python testdata/gen/gen_malformed.py

Every file under testdata/bad/ is written by this script; nothing there is
typed by hand. The Go test cmd/kerascope/bad_test.go reads
testdata/bad/expected.json and checks `kerascope check --json` and
`kerascope summary` on each file against it; its golden files
(testdata/bad/golden/<file>.check.txt, kerascope's text output) are written
by `go test ./cmd/kerascope -run Bad -update`, not by this script.

How the files are made
----------------------
This script never imports Keras. Each malformed file starts from a file that
real Keras wrote, one of testdata/models/<model>/{tfk.h5,k3.h5,k3.keras},
and is broken with h5py (legacy .h5 files and the model.weights.h5 member of
.keras archives) or by rewriting the zip (members, headers). So everything
that is not deliberately broken is still Keras's own bytes.

Output is deterministic: h5py edits record no times (track_times=False),
zip members get the fixed date 1980-01-01 00:00:00 and fixed attributes,
and the two archives with forged headers are written byte by byte. A rerun
with unchanged base files rewrites identical bytes.

expected.json
-------------
Sorted keys, indent=1. `files.<name>` holds, for each file:

  base           the Keras-written file it was made from, with base_sha256
  broken         what was changed, in words
  sha256, size   of the file written
  check_exit     expected exit code of `kerascope check FILE` (and --json)
  check_strict_exit  the same with --strict
  summary_exit   expected exit code of `kerascope summary FILE`: 1 wherever
                 Keras's own load_model refuses the file (a weight of the
                 wrong shape, missing or extra: checked with Keras 3.15.1),
                 since Keras prints no summary of a model it cannot load
  problems       EVERY problem the file has that `check --json` must
                 report: severity, kind, layer ("" for the model as a
                 whole), optionally weight (the stored dataset concerned)
                 and index (the first bad element of a NaN/Inf weight, as
                 "(i, j)"), and any_kind when more than one kind
                 describes the truth (the first is `kind`).
  error          for files check cannot report on (exit 1 or 3 with one
                 line on stderr and nothing on stdout): a part of that line.

Naming: bad_* fail the check (exit 1), unsupported_* are valid Keras that
kerascope refuses or flags (warnings; fail only with --strict),
notkeras_* are not Keras models at all (exit 3).

These expectations describe what each file really has (what this script
broke), not what some version of kerascope happens to print.
"""

import base64
import hashlib
import io
import json
import os
import struct
import sys
import tempfile
import warnings
import zipfile
import zlib

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "testdata", "models")
OUT = os.path.join(ROOT, "testdata", "bad")

# Fixed zip entry date (the earliest a zip can record) and Unix attributes
# (-rw-r--r--), as Keras 3 writes config.json and metadata.json.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_ATTR = 0o100644 << 16

SEQ_TFK = "core_seq/tfk.h5"  # tf-keras 2.21: dense, einsum_dense, dense_1 carry weights
SEQ_K3H5 = "core_seq/k3.h5"  # Keras 3 legacy h5 of the same model
SEQ_KERAS = "core_seq/k3.keras"  # Keras 3 archive of the same model (not compiled)
RNN_KERAS = "rnn_2units/k3.keras"  # Keras 3 archive, compiled: stores Adam's variables too


def base_path(rel):
    return os.path.join(MODELS, rel)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def problem(kind, layer, severity="error", weight=None, index=None, any_kind=None):
    p = {"kind": kind, "layer": layer, "severity": severity}
    if weight is not None:
        p["weight"] = weight
    if index is not None:
        p["index"] = index
    if any_kind is not None:
        p["any_kind"] = any_kind
    return p


# ---------------------------------------------------------------- HDF5 edits


def edit_h5_bytes(data, edit):
    """Returns the bytes of HDF5 file `data` after edit(h5py.File) in r+ mode."""
    fd, tmp = tempfile.mkstemp(suffix=".h5")
    try:
        with os.fdopen(fd, "wb") as w:
            w.write(data)
        with h5py.File(tmp, "r+") as f:
            edit(f)
        with open(tmp, "rb") as r:
            return r.read()
    finally:
        os.remove(tmp)


def set_str_attr(obj, name, value):
    """Rewrites a string attribute keeping its HDF5 type (Keras writes
    variable-length UTF-8 strings)."""
    dt = obj.attrs.get_id(name).dtype
    obj.attrs.create(name, value, dtype=dt)


def set_list_attr(obj, name, values):
    dt = obj.attrs.get_id(name).dtype
    obj.attrs.create(name, np.array(values, dtype=dt), dtype=dt)


def weight_names(group):
    return [n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs["weight_names"]]


def replace_dataset(group, name, data):
    del group[name]
    group.create_dataset(name, data=data, track_times=False)


def legacy_weight(f, layer, suffix):
    """The group of a legacy .h5 layer and the weight_names entry ending in
    suffix ("kernel:0", "bias", ...)."""
    g = f["model_weights"][layer]
    for n in weight_names(g):
        base = n.rsplit("/", 1)[-1]
        if base == suffix or base.split(":")[0] == suffix:
            return g, n
    raise KeyError(f"{layer}: no weight {suffix} in {weight_names(g)}")


def delete_legacy_weight(f, layer, suffix, keep_name=False):
    g, n = legacy_weight(f, layer, suffix)
    del g[n]
    if not keep_name:
        set_list_attr(g, "weight_names", [w for w in weight_names(g) if w != n])
    return n


def model_config(f):
    c = f.attrs["model_config"]
    return json.loads(c.decode() if isinstance(c, bytes) else c)


def set_model_config(f, cfg):
    set_str_attr(f, "model_config", json.dumps(cfg))


# ----------------------------------------------------------------- zip edits


def zip_members(data):
    """The members of a zip, in order, as (name, bytes, compress_type)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i), i.compress_type) for i in z.infolist()]


def write_zip(members):
    """A zip of members [(name, bytes, compress_type)] with fixed dates and
    attributes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data, ctype in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = ctype
            info.create_system = 3
            info.external_attr = ZIP_ATTR
            if ctype == zipfile.ZIP_DEFLATED:
                z.writestr(info, data, compresslevel=9)
            else:
                z.writestr(info, data)
    return buf.getvalue()


def edit_keras_weights(data, edit):
    """A .keras archive whose model.weights.h5 member is edited with h5py."""
    out = []
    for name, body, ctype in zip_members(data):
        if name == "model.weights.h5":
            body = edit_h5_bytes(body, edit)
        out.append((name, body, ctype))
    return write_zip(out)


def forged_zip(members):
    """Writes a stored (uncompressed) zip byte by byte. Each member is
    (name, bytes, declared_size): the local and central headers declare
    declared_size as the uncompressed size (with a ZIP64 extra field when
    it does not fit 32 bits) while the data stored is the real bytes; the
    CRC is that of the real bytes."""
    dos_time, dos_date = 0, (0 << 9) | (1 << 5) | 1  # 1980-01-01 00:00:00
    out = bytearray()
    central = bytearray()
    for name, data, declared in members:
        nb = name.encode()
        crc = zlib.crc32(data) & 0xFFFFFFFF
        offset = len(out)
        zip64 = declared >= 0xFFFFFFFF
        if zip64:
            usize, csize = 0xFFFFFFFF, 0xFFFFFFFF
            local_extra = struct.pack("<HHQQ", 1, 16, declared, len(data))
            central_extra = struct.pack("<HHQQ", 1, 16, declared, len(data))
            version = 45
        else:
            usize, csize = declared, len(data)
            local_extra = central_extra = b""
            version = 20
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, version, 0, 0, dos_time, dos_date,
                           crc, csize, usize, len(nb), len(local_extra))
        out += nb + local_extra + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | version, version, 0, 0,
                               dos_time, dos_date, crc, csize, usize, len(nb), len(central_extra),
                               0, 0, 0, ZIP_ATTR, offset)
        central += nb + central_extra
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                       len(central), cd_offset, 0)
    return bytes(out)


# -------------------------------------------------------------- the fixtures

FIXTURES = []


def fixture(fn):
    FIXTURES.append(fn)
    return fn


@fixture
def bad_missing_bias_h5(b):
    def edit(f):
        delete_legacy_weight(f, "dense", "bias")

    return dict(
        name="bad_missing_bias.h5", base=SEQ_TFK, data=edit_h5_bytes(b(SEQ_TFK), edit),
        broken="deleted the dataset model_weights/dense/dense/bias:0 and its entry in the "
               "layer's weight_names: layer dense stores only its kernel",
        check_exit=1, summary_exit=1,
        problems=[problem("missing-weight", "dense", weight="bias")])


@fixture
def bad_missing_bias_dataset_h5(b):
    def edit(f):
        delete_legacy_weight(f, "dense", "bias", keep_name=True)

    return dict(
        name="bad_missing_bias_dataset.h5", base=SEQ_K3H5, data=edit_h5_bytes(b(SEQ_K3H5), edit),
        broken="deleted the dataset model_weights/dense/core_seq/dense/bias but kept "
               "core_seq/dense/bias in the layer's weight_names: the file lists a weight "
               "it does not store",
        check_exit=1, summary_exit=1,
        problems=[problem("missing-weight", "dense", weight="bias",
                          any_kind=["missing-weight", "unreadable-weights", "unreadable"])])


@fixture
def bad_kernel_shape_h5(b):
    def edit(f):
        g, n = legacy_weight(f, "dense", "kernel")
        replace_dataset(g, n, np.ascontiguousarray(g[n][()].T))

    return dict(
        name="bad_kernel_shape.h5", base=SEQ_TFK, data=edit_h5_bytes(b(SEQ_TFK), edit),
        broken="replaced the kernel of layer dense, shape (6, 8), by its transpose, "
               "shape (8, 6)",
        check_exit=1, summary_exit=1,
        problems=[problem("shape-mismatch", "dense", weight="dense/kernel:0")])


@fixture
def bad_extra_dataset_h5(b):
    def edit(f):
        g = f["model_weights"]["einsum_dense"]
        name = "core_seq/einsum_dense/extra"
        g.create_dataset(name, data=np.arange(5, dtype=np.float32), track_times=False)
        set_list_attr(g, "weight_names", weight_names(g) + [name])

    return dict(
        name="bad_extra_dataset.h5", base=SEQ_K3H5, data=edit_h5_bytes(b(SEQ_K3H5), edit),
        broken="added a float32 dataset core_seq/einsum_dense/extra of shape (5,) to layer "
               "einsum_dense and appended it to its weight_names: a third weight the "
               "layer does not have",
        check_exit=1, summary_exit=1,
        problems=[problem("unused-weight", "einsum_dense", weight="core_seq/einsum_dense/extra")])


@fixture
def bad_float64_h5(b):
    def edit(f):
        for layer in ("dense", "einsum_dense", "dense_1"):
            g = f["model_weights"][layer]
            for n in weight_names(g):
                replace_dataset(g, n, g[n][()].astype(np.float64))

    probs = [problem("dtype", layer, severity="warning", weight=f"{layer}/{w}:0")
             for layer in ("dense", "einsum_dense", "dense_1") for w in ("kernel", "bias")]
    return dict(
        name="bad_float64.h5", base=SEQ_TFK, data=edit_h5_bytes(b(SEQ_TFK), edit),
        broken="stored all six weights (kernel and bias of dense, einsum_dense, dense_1) as "
               "float64 with the same values; the layers compute in float32",
        check_exit=0, check_strict_exit=1, summary_exit=0, problems=probs)


NAN_AT = (2, 5)  # in dense's kernel, shape (6, 8)
INF_AT = (1,)  # in dense_1's bias, shape (2,)


@fixture
def bad_nan_h5(b):
    def edit(f):
        g, n = legacy_weight(f, "dense", "kernel")
        g[n][NAN_AT] = np.nan
        g, n = legacy_weight(f, "dense_1", "bias")
        g[n][INF_AT] = np.inf

    return dict(
        name="bad_nan.h5", base=SEQ_TFK, data=edit_h5_bytes(b(SEQ_TFK), edit),
        broken="set dense's kernel[2, 5] to NaN and dense_1's bias[1] to +Inf, in place",
        check_exit=1, summary_exit=0,
        problems=[problem("nan", "dense", weight="dense/kernel:0", index="(2, 5)"),
                  problem("inf", "dense_1", weight="dense_1/bias:0", index="(1)")])


@fixture
def bad_truncated_h5(b):
    data = b(SEQ_TFK)
    return dict(
        name="bad_truncated.h5", base=SEQ_TFK, data=data[:len(data) // 2],
        broken=f"the first half ({len(data) // 2} of {len(data)} bytes) of the file",
        check_exit=1, summary_exit=1, problems=[], error="truncated")


@fixture
def bad_config_not_json_h5(b):
    def edit(f):
        c = json.dumps(model_config(f))
        set_str_attr(f, "model_config", c[:len(c) // 2])

    return dict(
        name="bad_config_not_json.h5", base=SEQ_TFK, data=edit_h5_bytes(b(SEQ_TFK), edit),
        broken="cut the model_config attribute to the first half of its JSON text",
        check_exit=1, summary_exit=1, problems=[], error="not valid JSON")


@fixture
def bad_duplicate_names_h5(b):
    def edit(f):
        cfg = model_config(f)
        (e,) = [l for l in cfg["config"]["layers"] if l["config"]["name"] == "einsum_dense"]
        e["config"]["name"] = "dense"
        set_model_config(f, cfg)

    return dict(
        name="bad_duplicate_names.h5", base=SEQ_K3H5, data=edit_h5_bytes(b(SEQ_K3H5), edit),
        broken="renamed layer einsum_dense to dense in model_config (the weights are "
               "unchanged): the config has two layers named dense, which Keras refuses",
        check_exit=1, summary_exit=1, problems=[], error='two layers are named "dense"')


MULTI_NAN_AT = (7, 3)  # in einsum_dense's kernel, shape (8, 4)


@fixture
def bad_multi_h5(b):
    def edit(f):
        delete_legacy_weight(f, "dense", "bias")
        g, n = legacy_weight(f, "einsum_dense", "kernel")
        g[n][MULTI_NAN_AT] = np.nan
        g, n = legacy_weight(f, "dense_1", "kernel")
        replace_dataset(g, n, np.zeros((12, 3), dtype=np.float32))

    return dict(
        name="bad_multi.h5", base=SEQ_TFK, data=edit_h5_bytes(b(SEQ_TFK), edit),
        broken="three problems in three layers: deleted dense's bias (dataset and "
               "weight_names entry); set einsum_dense's kernel[7, 3] to NaN; replaced "
               "dense_1's kernel, shape (12, 2), by zeros of shape (12, 3)",
        check_exit=1, summary_exit=1,
        problems=[problem("missing-weight", "dense", weight="bias"),
                  problem("nan", "einsum_dense", weight="einsum_dense/kernel:0", index="(7, 3)"),
                  problem("shape-mismatch", "dense_1", weight="dense_1/kernel:0")])


@fixture
def bad_kernel_shape_keras(b):
    def edit(f):
        g = f["layers/dense/vars"]
        replace_dataset(g, "0", np.ascontiguousarray(g["0"][()].T))

    return dict(
        name="bad_kernel_shape.keras", base=SEQ_KERAS, data=edit_keras_weights(b(SEQ_KERAS), edit),
        broken="in model.weights.h5, replaced layers/dense/vars/0 (dense's kernel, shape "
               "(6, 8)) by its transpose, shape (8, 6)",
        check_exit=1, summary_exit=1,
        problems=[problem("shape-mismatch", "dense", weight="/layers/dense/vars/0")])


@fixture
def bad_nan_keras(b):
    def edit(f):
        f["layers/dense/vars/0"][NAN_AT] = np.nan
        f["layers/dense_1/vars/1"][INF_AT] = -np.inf

    return dict(
        name="bad_nan.keras", base=SEQ_KERAS, data=edit_keras_weights(b(SEQ_KERAS), edit),
        broken="in model.weights.h5, set dense's kernel[2, 5] (layers/dense/vars/0) to NaN "
               "and dense_1's bias[1] (layers/dense_1/vars/1) to -Inf",
        check_exit=1, summary_exit=0,
        problems=[problem("nan", "dense", weight="/layers/dense/vars/0", index="(2, 5)"),
                  problem("inf", "dense_1", weight="/layers/dense_1/vars/1", index="(1)")])


@fixture
def bad_missing_weight_keras(b):
    def edit(f):
        del f["layers/dense/vars/1"]

    return dict(
        name="bad_missing_weight.keras", base=RNN_KERAS, data=edit_keras_weights(b(RNN_KERAS), edit),
        broken="in model.weights.h5, deleted layers/dense/vars/1 (dense's bias, shape (1,)); "
               "the optimizer's variables are kept",
        check_exit=1, summary_exit=1,
        problems=[problem("missing-weight", "dense", weight="bias")])


@fixture
def bad_config_not_json_keras(b):
    out = []
    for name, body, ctype in zip_members(b(SEQ_KERAS)):
        if name == "config.json":
            body = body[:len(body) // 2]
        out.append((name, body, ctype))
    return dict(
        name="bad_config_not_json.keras", base=SEQ_KERAS, data=write_zip(out),
        broken="cut config.json to the first half of its JSON text",
        check_exit=1, summary_exit=1, problems=[], error="not valid JSON")


@fixture
def bad_duplicate_member_keras(b):
    members = zip_members(b(SEQ_KERAS))
    (weights,) = [body for name, body, _ in members if name == "model.weights.h5"]

    def edit(f):
        f["layers/dense/vars/0"][NAN_AT] = np.nan

    members.append(("model.weights.h5", edit_h5_bytes(weights, edit), zipfile.ZIP_STORED))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns "Duplicate name"
        data = write_zip(members)
    return dict(
        name="bad_duplicate_member.keras", base=SEQ_KERAS, data=data,
        broken="appended a second member named model.weights.h5 (the same weights with "
               "dense's kernel[2, 5] = NaN): Python's zipfile (Keras) reads the last one, "
               "readers that take the first see the clean weights",
        check_exit=3, summary_exit=3, problems=[],
        error='two members named "model.weights.h5"')


HUGE_CONFIG = 0xFFFFFFFE  # 4 GiB - 2: the largest size a zip header holds without ZIP64
HUGE_WEIGHTS = 1 << 44  # 16 TiB, in a ZIP64 extra field


@fixture
def bad_huge_declared_keras(b):
    members = [(n, body, HUGE_CONFIG if n == "config.json" else len(body))
               for n, body, _ in zip_members(b(SEQ_KERAS))]
    return dict(
        name="bad_huge_declared.keras", base=SEQ_KERAS, data=forged_zip(members),
        broken=f"the members of the base archive, stored, but the local and central headers "
               f"of config.json declare an uncompressed size of {HUGE_CONFIG} bytes (the data "
               f"is the real config); the tool must refuse before allocating",
        check_exit=1, summary_exit=1, problems=[], error="declares")


@fixture
def bad_huge_declared_weights_keras(b):
    members = [(n, body, HUGE_WEIGHTS if n == "model.weights.h5" else len(body))
               for n, body, _ in zip_members(b(SEQ_KERAS))]
    return dict(
        name="bad_huge_declared_weights.keras", base=SEQ_KERAS, data=forged_zip(members),
        broken=f"the members of the base archive, stored, but the ZIP64 extra fields of "
               f"model.weights.h5 declare an uncompressed size of {HUGE_WEIGHTS} bytes "
               f"(16 TiB; the data is the real weights); the tool must refuse before "
               f"extracting",
        check_exit=1, summary_exit=1, problems=[], error="declares")


@fixture
def notkeras_zip_keras(b):
    members = [m for m in zip_members(b(SEQ_KERAS)) if m[0] != "config.json"]
    return dict(
        name="notkeras_zip.keras", base=SEQ_KERAS, data=write_zip(members),
        broken="the base archive without its config.json member (metadata.json and "
               "model.weights.h5 kept)",
        check_exit=3, summary_exit=3, problems=[], error="no config.json")


@fixture
def notkeras_plain_h5(b):
    fd, tmp = tempfile.mkstemp(suffix=".h5")
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["title"] = "kerascope fixture: an HDF5 file that is not a Keras model"
            f.create_dataset("data/values", data=np.arange(12, dtype=np.float32).reshape(3, 4),
                             track_times=False)
        with open(tmp, "rb") as r:
            data = r.read()
    finally:
        os.remove(tmp)
    return dict(
        name="notkeras_plain.h5", base=None, data=data,
        broken="a fresh HDF5 file (h5py) with a title attribute and one float32 dataset "
               "data/values: no model_config, no layer_names, no Keras groups",
        check_exit=3, summary_exit=3, problems=[], error="not one Keras saved")


# Junk standing in for a marshalled code object. It is not Python bytecode:
# its first byte, 0x00, is no marshal type code, so marshal.loads refuses it.
LAMBDA_JUNK = b"\x00kerascope fixture: junk bytes, not Python bytecode\x00"


@fixture
def unsupported_lambda_h5(b):
    def edit(f):
        cfg = model_config(f)
        layers = cfg["config"]["layers"]
        (i,) = [k for k, l in enumerate(layers) if l["config"]["name"] == "activation"]
        layers.insert(i + 1, {"class_name": "Lambda", "config": {
            "name": "lambda", "trainable": True, "dtype": "float32",
            "function": [base64.b64encode(LAMBDA_JUNK).decode(), None, None],
            "function_type": "lambda", "module": "__main__",
            "output_shape": None, "output_shape_type": "raw", "output_shape_module": None,
            "arguments": {}}})
        set_model_config(f, cfg)
        # tf-keras saves every layer, weightless ones too, in layer_names.
        mw = f["model_weights"]
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in mw.attrs["layer_names"]]
        names.insert(names.index("activation") + 1, "lambda")
        set_list_attr(mw, "layer_names", names)
        g = mw.create_group("lambda")
        g.attrs["weight_names"] = np.array([], dtype=np.float64)

    return dict(
        name="unsupported_lambda.h5", base=SEQ_TFK, data=edit_h5_bytes(b(SEQ_TFK), edit),
        broken="inserted after activation a tf-keras Lambda layer entry named lambda, "
               "function_type lambda, function [base64 of junk bytes, null, null], "
               "output_shape null (an identity on (None, 8)), plus its empty weights group "
               "and layer_names entry, as tf-keras saves a Lambda; the bytes are not code",
        check_exit=0, check_strict_exit=1, summary_exit=0,
        problems=[problem("lambda", "lambda", severity="warning")])


def main():
    if len(sys.argv) > 1:
        print(__doc__)
        sys.exit(0 if sys.argv[1:] in (["-h"], ["--help"]) else 2)
    cache = {}

    def b(rel):
        if rel not in cache:
            with open(base_path(rel), "rb") as r:
                cache[rel] = r.read()
        return cache[rel]

    made = [fn(b) for fn in FIXTURES]
    if os.path.isdir(OUT):
        for n in os.listdir(OUT):
            p = os.path.join(OUT, n)
            if os.path.isfile(p) and (n.endswith(".h5") or n.endswith(".keras")):
                os.remove(p)
    os.makedirs(OUT, exist_ok=True)
    files = {}
    for m in made:
        name, data = m.pop("name"), m.pop("data")
        with open(os.path.join(OUT, name), "wb") as w:
            w.write(data)
        m.setdefault("check_strict_exit", m["check_exit"])
        m["sha256"], m["size"] = sha256(data), len(data)
        if m["base"] is not None:
            m["base_sha256"] = sha256(b(m["base"]))
            m["base"] = "testdata/models/" + m["base"]
        files[name] = m
    doc = {
        "generator": "testdata/gen/.venv/bin/python testdata/gen/gen_malformed.py",
        "versions": {"h5py": h5py.__version__, "hdf5": h5py.version.hdf5_version,
                     "numpy": np.__version__},
        "files": files,
    }
    with open(os.path.join(OUT, "expected.json"), "w") as w:
        json.dump(doc, w, indent=1, sort_keys=True)
        w.write("\n")
    print(f"gen_malformed.py: wrote {len(files)} files and expected.json to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
