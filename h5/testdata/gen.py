"""Generate the HDF5 fixtures of package h5.

Regenerate (from the repository root):

    testdata/gen/.venv/bin/python h5/testdata/gen.py

That venv has h5py 3.14 and numpy 2.4. The script rewrites every file below
in h5/testdata; commit them together. Tests read expected values from
expected.json, which this script writes from what h5py itself reads back, so
Go tests never hard-code what h5py "should" have written.

Files:
  attrs.h5       every attribute and dataset form package h5 must read or refuse
  truncated.h5   the first half of attrs.h5 (libhdf5 must report, not crash)
  userblock.h5   HDF5 file with a 512-byte user block: signature at offset 512
  float16.h5     all 65536 float16 bit patterns and numpy's float32 of each
  pickle.h5      a pickle named .h5 (not HDF5)
  expected.json  expected strings, shapes, dtypes and values
"""

import json
import os
import pickle

import h5py
import ml_dtypes
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def fixed_nullterm(width):
    """A fixed-length NULLTERM string type; h5py itself only writes NULLPAD."""
    t = h5py.h5t.C_S1.copy()
    t.set_size(width)
    t.set_strpad(h5py.h5t.STR_NULLTERM)
    return t


def write_attrs(f):
    a = f.attrs
    # Scalar strings, as Keras writes them at the root.
    a["vlen_ascii"] = b'{"class_name": "Sequential"}'  # bytes: vlen ASCII
    a["vlen_utf8"] = "3.15.1 \u00fcn\u00efc\u00f8d\u00e9 \u2713 \u6a21\u578b"  # str: vlen UTF-8
    a["fixed_scalar"] = np.bytes_(b"tensorflow")  # fixed-length scalar
    a["vlen_empty"] = b""
    # A long vlen string (Keras's model_config is often tens of KB).
    a["vlen_long"] = ("x" * 16000).encode()
    # String arrays.
    a["vlen_array"] = [b"input_layer", b"dense", b"dense_1"]  # h5py 3: vlen ASCII
    a["vlen_utf8_array"] = ["\u00e9t\u00e9", "", "\u6a21\u578b"]
    # NULLPAD S7: "input_1" fills its slot exactly (no NUL at all).
    a["fixed_array"] = np.array([b"input_1", b"dense", b"d"], dtype="S7")
    a["one_elem_array"] = [b"only"]
    a["empty_string_array"] = np.array([], dtype="S4")
    a["empty_float"] = np.asarray([])  # Keras's empty weight_names
    a["empty_int"] = np.array([], dtype=np.int64)
    a["float_array"] = np.array([1.0, 2.0, 3.0])
    a["float_scalar"] = np.float64(1.5)
    a["int_matrix"] = np.arange(6, dtype=np.int32).reshape(2, 3)
    a["string_matrix"] = np.array([[b"a", b"b"], [b"c", b"d"]], dtype="S1")

    # NULLTERM fixed-length array via the low-level API.
    vals = [b"abc", b"de", b""]
    t = fixed_nullterm(4)
    space = h5py.h5s.create_simple((len(vals),))
    at = h5py.h5a.create(f.id, b"nullterm_array", t, space)
    at.write(np.array(vals, dtype="S4"), mtype=t)


def write_tree(f):
    g = f.create_group("model_weights")
    g.attrs["layer_names"] = np.array([b"input_1", b"dense 1:a"], dtype="S9")
    g.create_group("input_1").attrs["weight_names"] = np.asarray([])
    d = g.create_group("dense 1:a")
    d.attrs["weight_names"] = [b"dense 1:a/kernel:0", b"dense 1:a/bias:0"]
    rng = np.random.default_rng(0)
    d["dense 1:a/kernel:0"] = rng.standard_normal((2, 3)).astype(np.float32)
    d["dense 1:a/bias:0"] = rng.standard_normal((3,)).astype(np.float32)

    data = f.create_group("data")
    data["f32"] = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
    data["f64"] = np.array([1.0 / 3, -2.5, 1e300], dtype=np.float64)
    data["f16"] = np.array([1, -0.5, 65504, 6e-8, np.inf, -np.inf], dtype=np.float16)
    data["f32be"] = np.array([1.5, -2.0], dtype=">f4")
    data["i64"] = np.array([1, 2], dtype=np.int64)
    data["u8"] = np.array([1, 2, 3], dtype=np.uint8)
    data["i16be"] = np.array([1, 2], dtype=">i2")
    data["bool"] = np.array([True, False])
    data["str"] = np.array([b"a", b"bc"], dtype=h5py.string_dtype("ascii"))
    data["compound"] = np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")])
    data["scalar_f32"] = np.float32(2.5)
    data["scalar_i64"] = np.int64(7)
    data["empty_f32"] = np.zeros((0, 3), dtype=np.float32)
    data.create_dataset("gzip_f32", data=np.linspace(-1, 1, 100, dtype=np.float32).reshape(10, 10),
                        chunks=(5, 5), compression="gzip")
    bf = data.create_dataset("bf16", data=np.array([1.5, -2, 3e38, 1e-40], dtype=ml_dtypes.bfloat16))
    bf.attrs["dtype"] = "bfloat16"  # exactly what Keras 3's H5Entry writes
    data.create_dataset("null", data=h5py.Empty("f4"))

    links = f.create_group("links")
    links["hard"] = data["f32"]  # a second hard link: a plain dataset
    links["soft"] = h5py.SoftLink("/data/f32")
    links["dangling"] = h5py.SoftLink("/nowhere")
    links["external"] = h5py.ExternalLink("other.h5", "/data")
    links["type"] = np.dtype("<f4")  # a committed datatype, neither group nor dataset
    links.create_group("sub")


def dec(x):
    return x.decode() if isinstance(x, (bytes, np.bytes_)) else str(x)


def dtype_name(d):
    """Package h5's dtype names, derived from NumPy's view of the dataset."""
    dt = d.dtype
    if d.attrs.get("dtype") == "bfloat16":
        return "bfloat16"
    if h5py.check_string_dtype(dt) or dt.kind == "S":
        return "string"
    if dt.kind == "b":
        return "bool"
    if dt.kind in "fiu":
        prefix = {"f": "float", "i": "int", "u": "uint"}[dt.kind]
        big = dt.byteorder == ">" and dt.itemsize > 1
        return f"{prefix}{8 * dt.itemsize}" + (">" if big else "")
    if dt.fields:
        return "other:compound"
    return "other:" + dt.kind


def expected_of(f):
    """What h5py reads back; the Go tests compare against this."""
    out = {"attrs": {}, "children": {}, "datasets": {}}

    def add_attrs(obj_path, obj):
        for k, v in obj.attrs.items():
            key = obj_path + "@" + k
            if isinstance(v, (bytes, np.bytes_, str)):
                out["attrs"][key] = {"string": dec(v)}
            elif isinstance(v, np.ndarray) and v.ndim == 1 and (
                    v.dtype.kind in "SOU" or (v.dtype.kind == "f" and v.size == 0)):
                out["attrs"][key] = {"strings": [dec(x) for x in v]}

    add_attrs("/", f)

    def visit(name, obj):
        path = "/" + name if name else "/"
        if isinstance(obj, h5py.Group):
            add_attrs(path, obj)
            groups, datasets = [], []
            for k in obj.keys():  # h5py lists in name order too
                if not isinstance(obj.get(k, getlink=True), h5py.HardLink):
                    continue
                cls = obj.get(k, getclass=True)
                if cls is h5py.Group:
                    groups.append(k)
                elif cls is h5py.Dataset:
                    datasets.append(k)
            out["children"][path] = {"groups": groups, "datasets": datasets}
        elif isinstance(obj, h5py.Dataset) and not path.startswith("/links/"):
            e = {"dtype": dtype_name(obj), "shape": None if obj.shape is None else list(obj.shape)}
            if e["dtype"] in ("float16", "float32", "float64", "bfloat16") and obj.shape is not None:
                v = np.asarray(obj[()])
                if e["dtype"] == "bfloat16":
                    v = v.view(ml_dtypes.bfloat16)
                with np.errstate(over="ignore"):  # 1e300 becomes inf, as in Go's float32()
                    v = v.astype(np.float32).reshape(-1)
                # float32 bit patterns keep inf and exact values through JSON.
                e["bits"] = [int(x) for x in v.view(np.uint32)]
            out["datasets"][path] = e

    visit("", f)
    f.visititems(visit)
    return out


def main():
    with h5py.File(path("attrs.h5"), "w") as f:
        write_attrs(f)
        write_tree(f)
    with h5py.File(path("attrs.h5"), "r") as f:
        expected = expected_of(f)

    with open(path("attrs.h5"), "rb") as src:
        raw = src.read()
    with open(path("truncated.h5"), "wb") as dst:
        dst.write(raw[: len(raw) // 2])

    with h5py.File(path("userblock.h5"), "w", userblock_size=512) as f:
        f.attrs["where"] = b"after a 512-byte user block"
    expected["userblock"] = "after a 512-byte user block"

    bits = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    with h5py.File(path("float16.h5"), "w") as f:
        f.create_dataset("f16", data=bits.view(np.float16), chunks=(4096,), compression="gzip")
        # numpy's conversion, stored as raw float32 bits so NaN payloads survive.
        f.create_dataset("f32", data=bits.view(np.float16).astype(np.float32),
                         chunks=(4096,), compression="gzip")

    with open(path("pickle.h5"), "wb") as f:
        pickle.dump({"not": "hdf5"}, f, protocol=4)

    with open(path("expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
