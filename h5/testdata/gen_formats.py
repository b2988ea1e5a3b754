"""Generate formats_*.h5: the HDF5 structures package h5 must read beyond
what Keras writes, in three file-format generations.

Regenerate (from the repository root), with any venv that has h5py and numpy:

    python h5/testdata/gen_formats.py

No expected values are written: the differential test (h5/diff_test.go,
build tag libhdf5) reads these files through libhdf5 as the oracle.

  formats_earliest.h5  superblock 0, object header 1, symbol-table groups
  formats_v108.h5      superblock 2, object header 2, compact and dense links
                       and attributes (fractal heap, v2 B-trees), layout 3
  formats_v110.h5      superblock 3, layout 4 (single-chunk index)
"""

import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def write(f, multi_chunk, dense):
    rng = np.random.default_rng(1)
    # Many links: dense link storage past 8 in the new formats.
    many = f.create_group("many_links")
    for i in range(40):
        many.create_group(f"g{i:02d}")
        many[f"d{i:02d}"] = np.full((2,), i, dtype=np.float32)
    # Many attributes, and a large one: dense attribute storage.
    a = f.create_group("many_attrs")
    for i in range(30):
        a.attrs[f"a{i:02d}"] = f"value {i}".encode()
    a.attrs["names"] = [f"layer_{i}".encode() for i in range(200)]
    a.attrs["utf8"] = ["\u00e9t\u00e9", "\u6a21\u578b"]
    if dense:  # an attribute over 64 KB needs dense storage
        a.attrs["big"] = np.bytes_(b"x" * 70000)
    t = h5py.h5t.C_S1.copy()
    t.set_size(6)
    t.set_strpad(h5py.h5t.STR_SPACEPAD)
    at = h5py.h5a.create(a.id, b"spacepad", t, h5py.h5s.create_simple((2,)))
    at.write(np.array([b"ab    ", b"cdef  "], dtype="S6"), mtype=t)

    d = f.create_group("data")
    x = rng.standard_normal((7, 5, 3)).astype(np.float32)
    chunks = (3, 2, 3) if multi_chunk else x.shape
    d.create_dataset("shuffle_gzip_fletcher", data=x, chunks=chunks, shuffle=True,
                     compression="gzip", fletcher32=True)
    d.create_dataset("f16_gzip", data=x.astype(np.float16), chunks=chunks, compression="gzip")
    d.create_dataset("f64_shuffle", data=x.astype(np.float64), chunks=chunks, shuffle=True)
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    sid = h5py.h5s.create_simple((5,))
    ds = h5py.h5d.create(d.id, b"compact", h5py.h5t.IEEE_F32LE, sid, dcpl=dcpl)
    ds.write(h5py.h5s.ALL, h5py.h5s.ALL, np.arange(5, dtype=np.float32))
    # Never written: reads as the fill value.
    d.create_dataset("unwritten_fill", shape=(4, 3), dtype=np.float32, fillvalue=1.25)
    d.create_dataset("unwritten_zero", shape=(6,), dtype=np.float64)
    if multi_chunk:
        p = d.create_dataset("partial_chunks", shape=(10, 4), dtype=np.float32, chunks=(3, 4),
                             fillvalue=-7.5)
        p[0:3] = 1.0
        p[9] = 2.0
    d["f32be"] = x[0].astype(">f4")
    d["f64be"] = x[0].astype(">f8")
    d["scalar"] = np.float64(-0.1)
    d["vlen_str"] = np.array(["a", "bc", ""], dtype=h5py.string_dtype())


def main():
    for name, libver, multi in [("earliest", ("earliest", "v108"), True), ("v108", ("v108", "v108"), True),
                                ("v110", ("v110", "v110"), False)]:
        with h5py.File(os.path.join(HERE, f"formats_{name}.h5"), "w", libver=libver) as f:
            write(f, multi, name != "earliest")


if __name__ == "__main__":
    main()
