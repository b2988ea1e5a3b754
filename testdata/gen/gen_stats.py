"""Writes testdata/models/weight_stats.json: numpy's statistics of every
float dataset in every fixture model file, the oracle for `kerascope weights`.

Regenerate with `make fixtures` (after gen_models.py), or alone:
    testdata/gen/.venv/bin/python testdata/gen/gen_stats.py

Reads the files with h5py only (never Keras); .keras archives are read
through zipfile. Statistics are over the finite values, in float64, with the
population standard deviation, as kerascope documents them.
"""
import io
import json
import zipfile
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1] / "models"


def stats(ds):
    a = np.asarray(ds[()], dtype=np.float64).ravel()
    finite = a[np.isfinite(a)]
    out = {"shape": list(ds.shape), "dtype": str(ds.dtype), "elements": int(a.size),
           "nan": int(np.isnan(a).sum()), "inf": int(np.isinf(a).sum())}
    if finite.size:
        out.update(min=float(finite.min()), max=float(finite.max()),
                   mean=float(finite.mean()), std=float(finite.std()))
    return out


def walk(f):
    found = {}

    def visit(name, obj):
        # Layer weights only: kerascope weights leaves optimizer state out.
        if name.split("/")[0] in ("optimizer", "optimizer_weights"):
            return
        if isinstance(obj, h5py.Dataset) and obj.dtype.kind == "f":
            found["/" + name] = stats(obj)

    f.visititems(visit)
    return found


def main():
    result = {}
    for path in sorted(ROOT.glob("*/*")):
        if path.parent.name.startswith("big_"):
            continue  # a thousand tiny layers: nothing the others do not cover
        if path.suffix == ".h5":
            with h5py.File(path, "r") as f:
                result[f"{path.parent.name}/{path.name}"] = walk(f)
        elif path.suffix == ".keras":
            with zipfile.ZipFile(path) as z:
                data = z.read("model.weights.h5")
            with h5py.File(io.BytesIO(data), "r") as f:
                result[f"{path.parent.name}/{path.name}"] = walk(f)
    (ROOT / "weight_stats.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
