"""Seeded fuzz cases for every reader, and a runner that classifies their outcome.

Shared by ``tests/test_fuzz.py`` (a quick, fixed-seed run) and
``benchmarks/fuzz.py`` (a long run with a table). A case is named by its id
``FAMILY:SEED:N``; the id alone rebuilds the same files and the same command
(:func:`build_case`), so every failure can be replayed.

Families and the command-line entry each case goes through:

=============  ===========================================  =======================================
family         input                                        command
=============  ===========================================  =======================================
rec-h5         CNEA-HDF5 recording (``connectome.io.writer``) ``info FILE --json`` or ``infer``
rec-zarr       CNEA-zarr v3 recording                        ``info FILE --json`` or ``infer``
rec-nwb        NWB-layout HDF5 (ElectricalSeries or           ``info FILE --json`` or ``infer``
               CurrentClampSeries), written with h5py
con-csv        inference directory (edges.csv, neurons.csv)  ``compile DIR --out MAP.h5``
con-graphml    GraphML                                       ``compile FILE --out MAP.h5``
con-truth      simulator truth ``.truth.h5``                 ``compile FILE --out MAP.h5``
map            programming map (``.map.h5`` / ``.map.zarr``)  ``map-info MAP`` or ``verify MAP``
=============  ===========================================  =======================================

Each case starts from a valid file and applies one mutation: attributes
missing, of the wrong type, NaN, huge, zero or negative; other shapes and
dtypes; swapped axes; truncation; byte flips; deleted or damaged zarr chunk
files; bad CSV cells and columns; malformed XML. Outcomes (:func:`classify`):

- ``clean``: exit 2 or 4 with one ``connectome: error: PATH: reason`` line;
- ``accepted``: exit 0;
- ``internal``: any other exit status, ``internal error`` or a traceback;
- ``hang``: no answer within the time limit (the worker process is killed);

and, independently, ``partial``: a file left behind by a failed command (or a
temporary left by a successful one, or anything left in the temporary
folder), and ``input_changed``: an input file modified or removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
import zlib
from pathlib import Path

import numpy as np

FAMILIES = ["rec-h5", "rec-zarr", "rec-nwb", "con-csv", "con-graphml", "con-truth", "map"]
#: names of temporaries that must never outlive a command
TEMP_PATTERNS = re.compile(r"(\.tmp-|^connectome-infer-|^connectome-imprint-|^\.connectome-tmp$)")

# ------------------------------------------------------------------ bad values
_BAD_SCALARS = ["abc", "", b"\xff\xfe", float("nan"), float("inf"), float("-inf"), 0, 0.0, -1, -1e-3, 1e300,
                1e-300, 2 ** 62, -(2 ** 40), True, 1j]
_BAD_JSON = ["abc", "", None, "NaN", 0, -1, 1e308, -1e308, 1e-308, 2 ** 63, [1, 2, 3], [], {"a": 1}, True]
_JUNK_CELLS = ["", " ", "nan", "NaN", "inf", "-inf", "1e400", "-1", "0", "1.5", "abc", '"', "'", "9" * 25, "é",
               ";", "1;2", "excitatory", "Inhibitory", "7", "True", "0x10", "1,2", "\t", "None", "-0", "1e-400",
               "\x00", "-9223372036854775809", "1 2"]


def _bad_attr(rng):
    """A bad attribute value (or ``None``: delete the attribute)."""
    r = rng.random()
    if r < 0.12:
        return None
    if r < 0.22:
        return np.array(_pick(rng, [[1.0, 2.0], [[1.0]], [np.nan] * 3, [0.0] * 7]))
    return _BAD_SCALARS[rng.integers(len(_BAD_SCALARS))]


def _set_h5_attr(obj, key, value):
    if value is None:
        if key in obj.attrs:
            del obj.attrs[key]
    else:
        obj.attrs[key] = value


def _flip_bytes(path: Path, rng, n=None):
    data = bytearray(path.read_bytes())
    if not data:
        return
    n = int(n or rng.integers(1, 24))
    for _ in range(n):
        i = int(rng.integers(len(data)))
        data[i] ^= int(rng.integers(1, 256))
    path.write_bytes(bytes(data))


def _truncate(path: Path, rng):
    size = path.stat().st_size
    keep = int(size * rng.random()) if rng.random() < 0.7 else int(rng.integers(0, min(size, 4096) + 1))
    with open(path, "r+b") as fh:
        fh.truncate(keep)


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file())


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


# ------------------------------------------------------------- recordings
def _rec_params(rng):
    n_ch = int(rng.integers(1, 17))
    return {
        "n_samples": int(rng.integers(20, 4000)),
        "n_channels": n_ch,
        "dtype": _pick(rng, ["int16", "int32", "uint16", "float32", "float64"]),
        "rate": float(_pick(rng, [1000.0, 5000.0, 10000.0, 20000.0, 25000.0])),
        "scalar_scale": bool(rng.random() < 0.7),
        "geometry": _pick(rng, ["none", "rowcol", "xy", "all"]),
        "chunk_samples": int(rng.integers(1, 5000)),
        "chunk_channels": int(rng.integers(1, n_ch + 1)),
    }


def _rec_samples(rng, p):
    x = rng.normal(0, 40, size=(p["n_samples"], p["n_channels"]))
    if p["dtype"].startswith("uint"):
        x = x + 30000
    return x.astype(p["dtype"])


def _grid(n_ch):
    side = int(np.ceil(np.sqrt(n_ch)))
    idx = np.arange(n_ch)
    return idx // side, idx % side


def write_valid_recording(path: Path, rng) -> dict:
    """A small valid CNEA recording (HDF5 or zarr by suffix) with random shape, dtype and geometry."""
    from connectome.io.writer import create_recording

    p = _rec_params(rng)
    rows, cols = _grid(p["n_channels"])
    geo = {}
    if p["geometry"] in ("rowcol", "all"):
        geo.update(rows=rows, cols=cols)
    if p["geometry"] in ("xy", "all"):
        geo.update(x_um=cols * 20.0, y_um=rows * 20.0)
    scale = 0.01 if p["scalar_scale"] else rng.uniform(0.005, 0.02, p["n_channels"])
    with create_recording(path, n_samples=p["n_samples"], n_channels=p["n_channels"],
                          sampling_rate_hz=p["rate"], dtype=p["dtype"], scale=scale, offset=-70.0,
                          chunk_samples=p["chunk_samples"], chunk_channels=p["chunk_channels"],
                          attrs={"pitch_um": 20.0}, **geo) as w:
        w.write(0, _rec_samples(rng, p))
    return p


_CHANNEL_TABLES = ["row", "col", "x_um", "y_um"]


def _bad_table(rng, n):
    kind = _pick(rng, ["short", "long", "nan", "dup", "huge", "negative", "string", "2d", "same", "float",
                       "empty", "inf"])
    if kind == "short":
        return np.arange(max(0, n - 1 - int(rng.integers(0, 3))))
    if kind == "long":
        return np.arange(n + 1 + int(rng.integers(0, 3)))
    if kind == "nan":
        v = np.arange(n, dtype=np.float64)
        v[int(rng.integers(n))] = np.nan
        return v
    if kind == "inf":
        v = np.arange(n, dtype=np.float64)
        v[int(rng.integers(n))] = np.inf
        return v
    if kind == "dup":
        return np.zeros(n, np.int64) + (np.arange(n) // 2)
    if kind == "huge":
        return np.arange(n, dtype=np.int64) + 2 ** 40
    if kind == "negative":
        return -np.arange(n, dtype=np.int64) - 1
    if kind == "string":
        return np.array([b"a"] * n)
    if kind == "2d":
        return np.zeros((n, 2))
    if kind == "same":
        return np.full(n, 3)
    if kind == "float":
        return np.arange(n) + 0.5
    return np.zeros(0)


def mutate_h5_recording(path: Path, rng, p) -> str:
    import h5py

    n, c = p["n_samples"], p["n_channels"]
    m = _pick(rng, ["valid", "attr-data", "attr-data", "attr-root", "dtype", "shape", "swap-axes", "no-data",
                    "data-group", "nonfinite", "channels", "channels", "spikes-only", "truncate", "flip",
                    "flip", "empty-file", "garbage", "tiny-chunks", "declared-huge"])
    if m == "valid":
        return m
    if m in ("truncate", "flip", "empty-file", "garbage"):
        return _mutate_bytes(path, rng, m)
    with h5py.File(path, "r+") as fh:
        if m == "attr-data":
            key = _pick(rng, ["sampling_rate_hz", "sampling_rate_hz", "scale", "offset", "units"])
            val = _bad_attr(rng)
            _set_h5_attr(fh["data"], key, val)
            return f"{m}:{key}={val!r}"
        if m == "attr-root":
            key = _pick(rng, ["format", "format_version", "pitch_um", "device", "start_time"])
            val = _bad_attr(rng)
            _set_h5_attr(fh, key, val)
            return f"{m}:{key}={val!r}"
        if m == "channels":
            key = _pick(rng, _CHANNEL_TABLES)
            if f"channels/{key}" in fh:
                del fh[f"channels/{key}"]
            val = _bad_table(rng, c)
            fh.create_dataset(f"channels/{key}", data=val)
            return f"{m}:{key}:shape={val.shape},dtype={val.dtype}"
        if m == "spikes-only":
            del fh["data"]
            fh.create_dataset("spikes/times_s", data=np.sort(rng.uniform(0, 1, 20)))
            fh.create_dataset("spikes/unit_id", data=rng.integers(0, 3, 20))
            return m
        if m == "no-data":
            del fh["data"]
            return m
        attrs = dict(fh["data"].attrs)
        data = fh["data"][()]
        del fh["data"]
        if m == "data-group":
            g = fh.create_group("data")
            g.attrs.update(attrs)
            return m
        if m == "dtype":
            dt = _pick(rng, ["int8", "uint8", "int64", "uint32", "uint64", "float16", "bool", "complex64", "S8"])
            new = data.astype(dt)
            m = f"{m}:{dt}"
        elif m == "shape":
            shp = _pick(rng, ["1d", "3d", "no-samples", "no-channels", "scalar", "1x1"])
            new = {"1d": lambda: data[:, 0], "3d": lambda: data[:, :, None].repeat(2, 2),
                   "no-samples": lambda: data[:0], "no-channels": lambda: data[:, :0],
                   "scalar": lambda: np.asarray(data.flat[0]), "1x1": lambda: data[:1, :1]}[shp]()
            m = f"{m}:{shp}"
        elif m == "swap-axes":
            new = np.ascontiguousarray(data.T)
        elif m == "nonfinite":
            new = data.astype(np.float32)
            k = int(rng.integers(1, new.size + 1))
            new.flat[rng.integers(0, new.size, k)] = _pick(rng, [np.nan, np.inf, -np.inf, 3e38])
            m = f"{m}:{k}"
        elif m == "tiny-chunks":
            new = data
        else:  # declared-huge: a sparse dataset declaring far more samples than stored
            big = int(_pick(rng, [10 ** 8, 10 ** 11]))  # gigabytes to terabytes declared, kilobytes stored
            ds = fh.create_dataset("data", shape=(big, c), dtype=data.dtype, chunks=(min(4096, n), c),
                                   maxshape=(None, c))
            ds[:n] = data
            ds.attrs.update(attrs)
            return f"{m}:{big}"
        kw = {"chunks": (1, 1), "compression": "gzip"} if m == "tiny-chunks" and new.ndim == 2 and new.size else {}
        ds = fh.create_dataset("data", data=new, **kw)
        ds.attrs.update(attrs)
    return m


def _mutate_bytes(path: Path, rng, m) -> str:
    if m == "truncate":
        _truncate(path, rng)
    elif m == "flip":
        _flip_bytes(path, rng)
    elif m == "empty-file":
        path.write_bytes(b"")
    else:
        path.write_bytes(rng.bytes(int(rng.integers(1, 3000))))
    return m


def mutate_zarr_recording(path: Path, rng, p) -> str:
    import zarr

    c = p["n_channels"]
    m = _pick(rng, ["valid", "attr-data", "attr-data", "attr-root", "delete-chunk", "delete-chunk",
                    "truncate-chunk", "flip-chunk", "empty-chunk", "meta-shape", "meta-dtype", "meta-json",
                    "meta-delete", "meta-format", "channels", "swap-axes", "no-data", "root-meta"])
    if m == "valid":
        return m
    data_dir = path / "data"
    chunks = [f for f in _files(data_dir / "c")] if (data_dir / "c").exists() else []
    if m in ("delete-chunk", "truncate-chunk", "flip-chunk", "empty-chunk"):
        if not chunks:
            return m + ":none"
        f = _pick(rng, chunks)
        if m == "delete-chunk":
            f.unlink()
        elif m == "truncate-chunk":
            _truncate(f, rng)
        elif m == "flip-chunk":
            _flip_bytes(f, rng)
        else:
            f.write_bytes(b"")
        return f"{m}:{f.relative_to(path)}"
    if m in ("attr-data", "attr-root", "meta-shape", "meta-dtype", "meta-format", "root-meta"):
        meta_path = (path if m in ("attr-root", "root-meta") else data_dir) / "zarr.json"
        meta = json.loads(meta_path.read_text())
        if m in ("attr-data", "attr-root"):
            keys = ["sampling_rate_hz", "sampling_rate_hz", "scale", "offset", "units"] if m == "attr-data" \
                else ["format", "format_version", "pitch_um"]
            key = _pick(rng, keys)
            val = _BAD_JSON[int(rng.integers(len(_BAD_JSON)))]
            attrs = meta.setdefault("attributes", {})
            if val is None:
                attrs.pop(key, None)
            else:
                attrs[key] = val
            m = f"{m}:{key}={val!r}"
        elif m == "meta-shape":
            shp = _pick(rng, [[0, c], [p["n_samples"] * 3, c], [p["n_samples"], c + 2], [p["n_samples"]],
                              [-5, c], [2 ** 40, c], [p["n_samples"], c, 2]])
            meta["shape"] = shp
            m = f"{m}:{shp}"
        elif m == "meta-dtype":
            dt = _pick(rng, ["int8", "float16", "bool", "uint64", "bogus", 7, "complex128"])
            meta["data_type"] = dt
            m = f"{m}:{dt}"
        elif m == "meta-format":
            key, val = _pick(rng, [("zarr_format", 2), ("zarr_format", "x"), ("node_type", "group"),
                                   ("node_type", "array"), ("codecs", []), ("chunk_grid", {"name": "bogus"})])
            meta[key] = val
            m = f"{m}:{key}={val!r}"
        else:
            meta.pop(_pick(rng, ["zarr_format", "node_type", "attributes"]), None)
        meta_path.write_text(json.dumps(meta))
        return m
    if m == "meta-json":
        f = _pick(rng, [path / "zarr.json", data_dir / "zarr.json"])
        _truncate(f, rng) if rng.random() < 0.5 else _flip_bytes(f, rng, 3)
        return f"{m}:{f.relative_to(path)}"
    if m == "meta-delete":
        f = _pick(rng, [path / "zarr.json", data_dir / "zarr.json"])
        f.unlink()
        return f"{m}:{f.relative_to(path)}"
    if m == "no-data":
        shutil.rmtree(data_dir)
        return m
    g = zarr.open_group(os.fspath(path), mode="r+")
    if m == "channels":
        key = _pick(rng, _CHANNEL_TABLES)
        val = _bad_table(rng, c)
        ch = g.require_group("channels")
        a = ch.create_array(key, shape=val.shape, dtype=val.dtype, overwrite=True)
        if val.size:
            a[...] = val
        return f"{m}:{key}:shape={val.shape},dtype={val.dtype}"
    # swap-axes
    old = g["data"]
    attrs, data = dict(old.attrs), old[...]
    a = g.create_array("data", shape=data.T.shape, dtype=data.dtype, overwrite=True)
    a[...] = data.T
    a.attrs.update(attrs)
    return m


def write_valid_nwb(path: Path, rng) -> dict:
    """A small NWB-layout HDF5 file: one ElectricalSeries, or several CurrentClampSeries."""
    import h5py

    n, c = int(rng.integers(20, 4000)), int(rng.integers(1, 10))
    rate = float(_pick(rng, [5000.0, 10000.0, 20000.0]))
    kind = _pick(rng, ["es", "es", "cc"])
    timing = _pick(rng, ["rate", "rate", "timestamps"])
    pitch = float(_pick(rng, [17.5, 20.0, 30.0]))
    rows, cols = _grid(c)
    with h5py.File(path, "w") as fh:
        fh.attrs["nwb_version"] = "2.7.0"
        fh.attrs["neurodata_type"] = "NWBFile"
        fh.attrs["identifier"] = "fuzz"
        acq = fh.create_group("acquisition")
        fh.create_group("general")
        el = fh.create_group("general/extracellular_ephys/electrodes")
        el.create_dataset("x", data=cols * pitch)
        el.create_dataset("y", data=rows * pitch)
        el.create_dataset("id", data=np.arange(c))

        def timing_of(g):
            if timing == "rate":
                st = g.create_dataset("starting_time", data=0.0)
                st.attrs["rate"] = rate
            else:
                g.create_dataset("timestamps", data=np.arange(n) / rate)

        if kind == "es":
            g = acq.create_group("ElectricalSeries")
            g.attrs["neurodata_type"] = "ElectricalSeries"
            d = g.create_dataset("data", data=(rng.normal(-0.07, 1e-4, (n, c))).astype(np.float32))
            d.attrs.update(unit="volts", conversion=1.0, offset=0.0, resolution=-1.0)
            g.create_dataset("electrodes", data=np.arange(c))
            if rng.random() < 0.4:
                g.create_dataset("channel_conversion", data=np.ones(c, np.float32))
            timing_of(g)
        else:
            for i in range(c):
                g = acq.create_group(f"ccs{i:02d}")
                g.attrs["neurodata_type"] = "CurrentClampSeries"
                d = g.create_dataset("data", data=(rng.normal(-0.07, 1e-4, n)).astype(np.float32))
                d.attrs.update(unit="volts", conversion=1.0, offset=0.0)
                timing_of(g)
    return {"n_samples": n, "n_channels": c, "kind": kind, "timing": timing}


def mutate_nwb(path: Path, rng, p) -> str:
    import h5py

    m = _pick(rng, ["valid", "no-data", "data-group", "series-dataset", "channel-conversion", "electrodes",
                    "electrodes", "timestamps", "rate", "conversion", "unit", "offset", "cc-2d", "cc-lengths",
                    "electrode-table", "no-acquisition", "empty-acquisition", "data-rank", "data-dtype",
                    "truncate", "flip", "empty-file"])
    if m in ("truncate", "flip", "empty-file"):
        return _mutate_bytes(path, rng, m)
    with h5py.File(path, "r+") as fh:
        acq = fh["acquisition"]
        names = sorted(acq)
        s = acq[names[int(rng.integers(len(names)))]]
        c = p["n_channels"]
        if m == "no-data":
            del s["data"]
        elif m == "data-group":
            del s["data"]
            s.create_group("data")
        elif m == "series-dataset":
            name, t = s.name, s.attrs["neurodata_type"]
            del fh[name]
            ds = fh.create_dataset(name, data=np.zeros((10, 2)))
            ds.attrs["neurodata_type"] = t
        elif m == "channel-conversion":
            if "channel_conversion" in s:
                del s["channel_conversion"]
            val = _pick(rng, [np.ones(c + 1), np.ones(max(c - 1, 0)), np.full(c, np.nan), np.zeros(c),
                              np.ones((c, 2)), np.array(b"x")])
            s.create_dataset("channel_conversion", data=val)
            m = f"{m}:shape={np.shape(val)}"
        elif m == "electrodes":
            if "electrodes" in s:
                del s["electrodes"]
            val = _pick(rng, [np.arange(c) + c, -np.arange(c) - 1, np.arange(c) + 0.5, np.zeros((c, 2), int),
                              np.arange(c + 3), np.array([2 ** 40] * c), np.zeros(0, int)])
            s.create_dataset("electrodes", data=val)
            m = f"{m}:{val.tolist()[:3]}"
        elif m == "timestamps":
            for k in ("starting_time", "timestamps"):
                if k in s:
                    del s[k]
            n = p["n_samples"]
            kind = _pick(rng, ["constant", "decreasing", "single", "nan", "empty", "huge-step", "2d", "string"])
            val = {"constant": lambda: np.zeros(n), "decreasing": lambda: -np.arange(n) / 1e4,
                   "single": lambda: np.zeros(1), "nan": lambda: np.full(n, np.nan), "empty": lambda: np.zeros(0),
                   "huge-step": lambda: np.arange(n) * 1e300, "2d": lambda: np.zeros((n, 2)),
                   "string": lambda: np.array([b"t"] * 3)}[kind]()
            s.create_dataset("timestamps", data=val)
            m = f"{m}:{kind}"
        elif m == "rate":
            if "starting_time" not in s:
                s.create_dataset("starting_time", data=0.0)
            val = _bad_attr(rng)
            _set_h5_attr(s["starting_time"], "rate", val)
            m = f"{m}={val!r}"
        elif m in ("conversion", "offset", "unit"):
            val = _bad_attr(rng) if m != "unit" or rng.random() < 0.5 else _pick(rng, ["kelvin", "mV", "uV", ""])
            if isinstance(s, h5py.Group) and "data" in s:
                _set_h5_attr(s["data"], m, val)
            m = f"{m}={val!r}"
        elif m == "cc-2d":
            if "data" in s:
                attrs = dict(s["data"].attrs)
                del s["data"]
                d = s.create_dataset("data", data=np.zeros((p["n_samples"], 2), np.float32))
                d.attrs.update(attrs)
            s.attrs["neurodata_type"] = "CurrentClampSeries"
        elif m == "cc-lengths":
            attrs = dict(s["data"].attrs)
            del s["data"]
            d = s.create_dataset("data", data=np.zeros(int(rng.integers(0, 50)), np.float32))
            d.attrs.update(attrs)
        elif m == "electrode-table":
            el = fh["general/extracellular_ephys/electrodes"]
            key = _pick(rng, ["x", "y"])
            del el[key]
            if rng.random() < 0.8:
                el.create_dataset(key, data=_bad_table(rng, c))
            m = f"{m}:{key}"
        elif m == "no-acquisition":
            del fh["acquisition"]
        elif m == "empty-acquisition":
            for k in names:
                del acq[k]
        elif m == "data-rank":
            attrs = dict(s["data"].attrs)
            del s["data"]
            d = s.create_dataset("data", data=np.zeros(_pick(rng, [(), (5, 2, 2), (0, c), (p["n_samples"], 0)])))
            d.attrs.update(attrs)
        elif m == "data-dtype":
            attrs = dict(s["data"].attrs)
            data = s["data"][()]
            del s["data"]
            dt = _pick(rng, ["S4", "bool", "complex64", "int8", "float16"])
            d = s.create_dataset("data", data=data.astype(dt))
            d.attrs.update(attrs)
            m = f"{m}:{dt}"
    return m


# ------------------------------------------------------------- connectomes
def random_connectome(rng):
    """A small random :class:`~connectome.graph.connectome.Connectome` with the inference columns."""
    from connectome.graph.connectome import Connectome

    n = int(rng.integers(1, 26))
    m = int(rng.integers(0, min(40, n * n) + 1))
    pre = rng.integers(0, n, m)
    post = rng.integers(0, n, m)
    key = np.unique(pre * 1000 + post)
    pre, post = key // 1000, key % 1000
    m = len(pre)
    kind = rng.integers(1, 4, m)
    w = np.where(kind == 2, -1, 1) * rng.uniform(0.05, 3.0, m)
    neurons = {"neuron_id": np.arange(n), "channels": np.array([f"{i};{i + 1}" for i in range(n)], dtype=object),
               "row": np.arange(n) // 8, "col": np.arange(n) % 8, "x_um": rng.uniform(0, 300, n),
               "y_um": rng.uniform(0, 300, n), "n_spikes": rng.integers(0, 500, n), "rate_hz": rng.uniform(0, 9, n),
               "type": np.array(["excitatory"] * n, dtype=object)}
    edges = {"pre": pre, "post": post, "kind": kind, "weight_mv": w, "delay_ms": rng.uniform(0.5, 5, m),
             "score": rng.uniform(3, 9, m), "p_value": rng.uniform(0, 1e-3, m), "q_value": rng.uniform(0, 1e-2, m),
             "subclass": np.array(["eventful" if k == 1 else "" for k in kind], dtype=object)}
    return Connectome(neurons=neurons, edges=edges, meta={"fuzz": True})


def write_valid_csv_dir(d: Path, rng) -> None:
    c = random_connectome(rng)
    c.write_csv(d)
    (d / "summary.json").write_text(json.dumps(c.summary()))


def _csv_rows(text: str) -> list[list[str]]:
    return [line.split(",") for line in text.split("\n")]


def _csv_text(rows) -> str:
    return "\n".join(",".join(r) for r in rows)


def mutate_csv_dir(d: Path, rng) -> str:
    target = d / _pick(rng, ["edges.csv", "edges.csv", "neurons.csv"])
    m = _pick(rng, ["valid", "cell", "cell", "cell", "drop-column", "rename-header", "dup-header", "row-fields",
                    "blank-lines", "crlf", "bom", "header-only", "empty-file", "no-header", "quote",
                    "unknown-neuron", "dup-neuron", "no-neurons", "summary", "truncate", "flip", "garbage",
                    "latin1", "kind", "ids", "is-directory"])
    if m in ("truncate", "flip", "garbage", "empty-file"):
        return f"{target.name}:{_mutate_bytes(target, rng, m)}"
    if m == "is-directory":
        target.unlink()
        target.mkdir()
        return f"{target.name}:{m}"
    if m == "no-neurons":
        (d / "neurons.csv").unlink()
        return m
    if m == "summary":
        (d / "summary.json").write_text(_pick(rng, ["{", "[]", "null", "1e999", '{"neurons": "x"}', "\xff"]))
        return m
    text = target.read_text()
    rows = _csv_rows(text.rstrip("\n"))
    header = rows[0]
    body = rows[1:]
    if m == "cell":
        if not body:
            body = [["0"] * len(header)]
        r = int(rng.integers(len(body)))
        col = int(rng.integers(len(header)))
        junk = _pick(rng, _JUNK_CELLS)
        if col < len(body[r]):
            body[r][col] = junk
        m = f"cell:{header[col]}={junk!r}"
    elif m == "drop-column":
        col = int(rng.integers(len(header)))
        m = f"drop-column:{header[col]}"
        rows = [r[:col] + r[col + 1:] for r in [header] + body]
        header, body = rows[0], rows[1:]
    elif m == "rename-header":
        col = int(rng.integers(len(header)))
        new = _pick(rng, ["", " pre ", "PRE", "weight", "x", "é", header[col].upper()])
        m = f"rename-header:{header[col]}->{new!r}"
        header[col] = new
    elif m == "dup-header":
        col = int(rng.integers(len(header)))
        header[int(rng.integers(len(header)))] = header[col]
        m = f"dup-header:{header[col]}"
    elif m == "row-fields":
        if body:
            r = int(rng.integers(len(body)))
            if rng.random() < 0.5:
                body[r] = body[r][:-int(rng.integers(1, len(body[r]) + 1))]
                m = "row-fields:fewer"
            else:
                body[r] = body[r] + ["1"] * int(rng.integers(1, 4))
                m = "row-fields:more"
    elif m == "blank-lines":
        for _ in range(int(rng.integers(1, 4))):
            body.insert(int(rng.integers(len(body) + 1)), [""])
    elif m == "header-only":
        body = []
    elif m == "no-header":
        header, body = (body[0], body[1:]) if body else (["0"], [])
    elif m == "quote":
        if body:
            r = int(rng.integers(len(body)))
            body[r][int(rng.integers(len(body[r])))] = '"unbalanced'
    elif m == "unknown-neuron" and target.name == "edges.csv" and body and body[0] != [""]:
        body[int(rng.integers(len(body)))][0] = str(int(rng.integers(10 ** 3, 10 ** 6)))
    elif m == "dup-neuron" and target.name == "neurons.csv" and len(body) > 1:
        body[1][0] = body[0][0]
    elif m == "kind" and target.name == "edges.csv" and body and "kind" in header:
        body[int(rng.integers(len(body)))][header.index("kind")] = _pick(
            rng, ["synapse", "Excitatory", " excitatory", "4", "0", "-1", "2.5", "", "EXCITATORY"])
    elif m == "ids" and body:
        col = 0
        body[int(rng.integers(len(body)))][col] = _pick(rng, ["1e20", "-5", "2.5", "9223372036854775808", "0x1"])
    out = _csv_text([header] + body) + "\n"
    if m == "crlf":
        out = out.replace("\n", "\r\n")
    elif m == "bom":
        out = "\ufeff" + out
    if m == "latin1":
        target.write_bytes(out.replace("excitatory", "excitatöry").encode("latin-1"))
    else:
        target.write_text(out)
    return f"{target.name}:{m}"


def write_valid_graphml(path: Path, rng) -> None:
    c = random_connectome(rng)
    if rng.random() < 0.3:
        import networkx as nx

        g = c.to_networkx()
        for _, dd in g.nodes(data=True):
            for k, v in list(dd.items()):
                if isinstance(v, float) and v != v:
                    del dd[k]
        nx.write_graphml(g, path)
    else:
        c.write_graphml(path)


def mutate_graphml(path: Path, rng) -> str:
    m = _pick(rng, ["valid", "truncate", "flip", "garbage", "empty-file", "drop-close-tag", "data-value",
                    "data-value", "attr-type", "no-source", "node-id", "dup-node", "dangling-edge", "no-keys",
                    "undirected", "nested-graph", "hyperedge", "entities", "external-entity", "weight-only",
                    "kind-word", "no-graph", "not-graphml"])
    if m in ("truncate", "flip", "garbage", "empty-file"):
        return _mutate_bytes(path, rng, m)
    text = path.read_text()
    if m == "drop-close-tag":
        tags = [mm.start() for mm in re.finditer(r"</", text)]
        if tags:
            i = _pick(rng, tags)
            j = text.index(">", i) + 1
            text = text[:i] + text[j:]
    elif m == "data-value":
        spans = [mm.span(1) for mm in re.finditer(r"<data key=\"[^\"]+\">([^<]*)</data>", text)]
        if spans:
            a, b = _pick(rng, spans)
            junk = _pick(rng, _JUNK_CELLS + ["&amp;", "&lt;", "1e999", "-1e999"])
            text = text[:a] + junk.replace("&", "&amp;").replace("<", "&lt;").replace("\x00", "") + text[b:]
            m = f"{m}:{junk!r}"
    elif m == "attr-type":
        spans = [mm.span(1) for mm in re.finditer(r'attr\.type="([^"]+)"', text)]
        if spans:
            a, b = _pick(rng, spans)
            new = _pick(rng, ["int", "long", "float", "double", "boolean", "string", "bogus", ""])
            text = text[:a] + new + text[b:]
            m = f"{m}:{new}"
    elif m == "no-source":
        text = re.sub(r' source="[^"]*"', "", text, count=1)
    elif m == "node-id":
        new = _pick(rng, ["a", "", "1.5", "-1", "99999999999999999999", "n0"])
        text = re.sub(r'<node id="[^"]*"', f'<node id="{new}"', text, count=1)
        m = f"{m}:{new!r}"
    elif m == "dup-node":
        text = text.replace('<node id="1"', '<node id="0"', 1)
    elif m == "dangling-edge":
        text = text.replace("</graph>", '<edge source="0" target="987654" />\n</graph>', 1)
    elif m == "no-keys":
        text = re.sub(r"\s*<key [^>]*/>", "", text)
    elif m == "undirected":
        text = text.replace('edgedefault="directed"', 'edgedefault="undirected"')
    elif m == "nested-graph":
        text = re.sub(r'(<node id="[^"]*")\s*/>', r'\1><graph edgedefault="directed"><node id="x"/></graph></node>',
                      text, count=1)
    elif m == "hyperedge":
        text = text.replace("</graph>", '<hyperedge><endpoint node="0"/></hyperedge>\n</graph>', 1)
    elif m == "entities":
        decl = ('<!DOCTYPE graphml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>')
        text = re.sub(r"^(<\?xml[^>]*\?>)", lambda mm: mm.group(1) + decl, text)
        text = text.replace('<graph edgedefault="directed">', '<graph edgedefault="directed" id="&c;">', 1)
    elif m == "external-entity":
        decl = '<!DOCTYPE graphml [<!ENTITY x SYSTEM "file:///nonexistent/connectome-fuzz">]>'
        text = re.sub(r"^(<\?xml[^>]*\?>)", lambda mm: mm.group(1) + decl, text)
        text = text.replace('<graph edgedefault="directed">', '<graph edgedefault="directed" id="&x;">', 1)
    elif m == "weight-only":
        text = text.replace('attr.name="weight_mv"', 'attr.name="weight"')
    elif m == "kind-word":
        text = re.sub(r">(excitatory|inhibitory|electrical)<", ">" + _pick(rng, ["gap", "EXC", "", "1"]) + "<",
                      text, count=1)
    elif m == "no-graph":
        text = re.sub(r"<graph .*</graph>", "", text, flags=re.S)
    elif m == "not-graphml":
        text = "<?xml version='1.0'?><root><child/></root>"
    path.write_text(text)
    return m


def write_valid_truth(path: Path, rng) -> None:
    import h5py

    c = random_connectome(rng)
    with h5py.File(path, "w") as fh:
        fh.attrs["format"] = "cnea-truth"
        fh.attrs["format_version"] = 1
        fh["neurons/id"] = c.neuron_id
        fh["neurons/x_um"] = c.neurons["x_um"]
        fh["neurons/y_um"] = c.neurons["y_um"]
        fh["neurons/is_excitatory"] = rng.random(c.n_neurons) < 0.8
        for k in ("pre", "post", "weight_mv", "delay_ms", "kind"):
            fh[f"edges/{k}"] = c.edges[k]


_TRUTH_DATASETS = ["neurons/id", "neurons/x_um", "neurons/is_excitatory", "edges/pre", "edges/post",
                   "edges/weight_mv", "edges/delay_ms", "edges/kind"]


def mutate_truth(path: Path, rng) -> str:
    import h5py

    m = _pick(rng, ["valid", "delete", "replace", "replace", "replace", "group", "no-edges", "truncate", "flip",
                    "garbage", "empty-file"])
    if m in ("truncate", "flip", "garbage", "empty-file"):
        return _mutate_bytes(path, rng, m)
    if m == "valid":
        return m
    with h5py.File(path, "r+") as fh:
        key = _pick(rng, _TRUTH_DATASETS)
        if m == "no-edges":
            del fh["edges"]
            return m
        n = fh[key].shape[0] if fh[key].ndim else 1
        del fh[key]
        if m == "delete":
            return f"{m}:{key}"
        if m == "group":
            fh.create_group(key)
            return f"{m}:{key}"
        kind = _pick(rng, ["short", "long", "nan", "string", "2d", "scalar", "huge", "negative", "dup", "kind",
                           "float", "empty"])
        val = {"short": lambda: np.arange(max(n - 1, 0)), "long": lambda: np.arange(n + 2),
               "nan": lambda: np.full(n, np.nan), "string": lambda: np.array([b"x"] * n),
               "2d": lambda: np.zeros((n, 2)), "scalar": lambda: np.asarray(3.0),
               "huge": lambda: np.full(n, 2 ** 62), "negative": lambda: -np.arange(n) - 1,
               "dup": lambda: np.zeros(n, int), "kind": lambda: np.full(n, _pick(rng, [0, 4, -1, 127])),
               "float": lambda: np.arange(n) + 0.5, "empty": lambda: np.zeros(0)}[kind]()
        fh.create_dataset(key, data=val)
        return f"{m}:{key}:{kind}"


# ------------------------------------------------------------------ maps
def write_valid_map(path: Path, rng, cache: Path) -> Path:
    """A valid programming map (compiled from a small random connectome); returns its connectome directory."""
    from connectome.cli import main

    variant = int(rng.integers(0, 3))
    suffix = _pick(rng, [".map.h5", ".map.h5", ".map.zarr"])
    base = cache / f"map{variant}{suffix}"
    con = cache / f"con{variant}"
    if not base.exists():
        cache.mkdir(parents=True, exist_ok=True)
        if not con.exists():
            vr = np.random.default_rng([424242, variant])
            c = random_connectome(vr)
            while c.n_edges == 0:
                c = random_connectome(vr)
            c.write_csv(con)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            rc = main(["compile", str(con), "--out", str(base), "-q", "--no-baselines", "--crossbar", "16x16",
                       "--layers", "2"])
        if rc != 0:
            raise RuntimeError(f"could not build the base map {base} (exit {rc})")
    out = path.with_name(path.name + suffix)
    if base.is_dir():
        shutil.copytree(base, out)
    else:
        shutil.copy2(base, out)
        side = base.with_name(base.name[:-3] + ".summary.json")
        if side.exists():
            shutil.copy2(side, out.with_name(out.name[:-3] + ".summary.json"))
    shutil.copytree(con, path.parent / "connectome")
    return out


def mutate_map(path: Path, rng) -> str:
    import h5py

    zarr_map = path.is_dir()
    m = _pick(rng, ["valid", "root-attr", "root-attr", "dataset-value", "dataset-value", "dataset-delete",
                    "dataset-dtype", "summary", "truncate", "flip", "flip", "garbage"])
    if m == "valid":
        return m
    if zarr_map:
        files = _files(path)
        if m in ("truncate", "flip", "garbage"):
            f = _pick(rng, files)
            return f"{_mutate_bytes(f, rng, m)}:{f.relative_to(path)}"
        if m == "summary":
            f = path / "summary.json"
            if f.exists():
                f.unlink() if rng.random() < 0.5 else f.write_text("{")
            return m
        if m == "dataset-delete":
            chunks = [f for f in files if "/c/" in f.as_posix() or f.parent.name == "c"]
            f = _pick(rng, chunks or files)
            f.unlink()
            return f"{m}:{f.relative_to(path)}"
        metas = [f for f in files if f.name == "zarr.json"]
        f = _pick(rng, metas)
        meta = json.loads(f.read_text())
        attrs = meta.setdefault("attributes", {})
        if attrs and rng.random() < 0.8:
            key = _pick(rng, sorted(attrs))
        else:
            key = "technology"
        val = _BAD_JSON[int(rng.integers(len(_BAD_JSON)))]
        if val is None:
            attrs.pop(key, None)
        else:
            attrs[key] = val
        f.write_text(json.dumps(meta))
        return f"attr:{f.parent.relative_to(path)}:{key}={val!r}"
    if m in ("truncate", "flip", "garbage"):
        return _mutate_bytes(path, rng, m)
    if m == "summary":
        side = path.with_name(path.name[:-3] + ".summary.json")
        if side.exists():
            side.unlink() if rng.random() < 0.5 else side.write_text(_pick(rng, ["{", "[]", '{"tiles": -1}']))
        return m
    with h5py.File(path, "r+") as fh:
        if m == "root-attr":
            key = _pick(rng, sorted(fh.attrs)) if len(fh.attrs) and rng.random() < 0.85 else "technology"
            val = _bad_attr(rng) if rng.random() < 0.6 else _pick(rng, ["pcm", "flash", "mram", "rram", 64, 2])
            _set_h5_attr(fh, key, val)
            return f"{m}:{key}={val!r}"
        names = []
        fh.visititems(lambda k, o: names.append(k) if isinstance(o, h5py.Dataset) else None)
        key = _pick(rng, names)
        ds = fh[key]
        if m == "dataset-value" and ds.size and ds.dtype.kind in "iuf":
            a = ds[()]
            idx = int(rng.integers(a.size))
            flat = a.reshape(-1)
            if a.dtype.kind in "iu":  # wrapped into the dataset's integer type
                new = np.array(_pick(rng, [0, -1, 1, 2 ** 30, int(flat[idx]) + 1]), dtype=np.int64).astype(a.dtype)
            else:
                new = _pick(rng, [np.nan, np.inf, -1.0, 0.0, 1e30, flat[idx] * 1.5])
            flat[idx] = new
            ds[...] = a
            return f"{m}:{key}[{idx}]"
        if m == "dataset-dtype" and ds.dtype.kind in "iuf":
            a, attrs = ds[()], dict(ds.attrs)
            del fh[key]
            new = fh.create_dataset(key, data=a.astype(_pick(rng, ["int8", "float16", "uint64", "float64"])))
            new.attrs.update(attrs)
            return f"{m}:{key}"
        del fh[key]
        return f"dataset-delete:{key}"


# ------------------------------------------------------------------ cases
def case_rng(case_id: str):
    family, seed, n = parse_id(case_id)
    return np.random.default_rng([int(seed), int(n), zlib.crc32(family.encode())])


def parse_id(case_id: str):
    family, seed, n = case_id.rsplit(":", 2)
    if family not in FAMILIES:
        raise ValueError(f"unknown fuzz family {family!r}; expected one of {FAMILIES}")
    return family, int(seed), int(n)


def case_ids(n_cases: int, seed: int, families=None) -> list[str]:
    """``n_cases`` ids spread round-robin over ``families``."""
    fams = list(families or FAMILIES)
    return [f"{fams[i % len(fams)]}:{seed}:{i}" for i in range(n_cases)]


def build_case(case_id: str, d: Path, cache: Path) -> dict:
    """Write the files of ``case_id`` into the empty directory ``d``; return the command to run.

    Returns a dict with ``argv`` (for :func:`connectome.cli.main`), ``mutation``
    (one line) and ``inputs`` (paths whose content must not change).
    """
    family, _, _ = parse_id(case_id)
    rng = case_rng(case_id)
    out = d / "out"
    if family in ("rec-h5", "rec-zarr", "rec-nwb"):
        f = d / ("rec.zarr" if family == "rec-zarr" else "rec.h5")
        if family == "rec-nwb":
            p = write_valid_nwb(f, rng)
            mutation = mutate_nwb(f, rng, p)
        else:
            p = write_valid_recording(f, rng)
            mutation = (mutate_zarr_recording if family == "rec-zarr" else mutate_h5_recording)(f, rng, p)
        if rng.random() < 0.3:
            argv = ["infer", str(f), "--out", str(out / "infer"), "--workers", "1", "--quiet"]
        else:
            argv = ["info", str(f), "--json"]
        inputs = [f]
    elif family in ("con-csv", "con-graphml", "con-truth"):
        if family == "con-csv":
            f = d / "con"
            f.mkdir()
            write_valid_csv_dir(f, rng)
            mutation = mutate_csv_dir(f, rng)
            src = f / "edges.csv" if rng.random() < 0.2 else f
        elif family == "con-graphml":
            f = d / "con.graphml"
            write_valid_graphml(f, rng)
            mutation = mutate_graphml(f, rng)
            src = f
        else:
            f = d / "rec.truth.h5"
            write_valid_truth(f, rng)
            mutation = mutate_truth(f, rng)
            src = f
        argv = ["compile", str(src), "--out", str(out / "x.map.h5"), "-q", "--no-baselines",
                "--partitioner", _pick(rng, ["metis", "rcm", "identity"]), "--crossbar", "16x16", "--layers", "2"]
        inputs = [f]
    else:
        f = write_valid_map(d / "m", rng, cache)
        mutation = mutate_map(f, rng)
        if rng.random() < 0.25:
            argv = ["verify", str(f), "--connectome", str(d / "connectome"), "--json",
                    "--out", str(out / "verify.json")]
        else:
            argv = ["map-info", str(f)]
        inputs = [f, d / "connectome"]
    return {"argv": argv, "mutation": mutation, "inputs": [str(p) for p in inputs]}


# -------------------------------------------------------------- classification
def _snapshot(root: Path) -> dict:
    snap = {}
    for p in _files(root) if root.exists() else []:
        try:
            snap[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
        except OSError:
            snap[str(p)] = None
    return snap


def classify(rc, stderr: str) -> str:
    """``clean``, ``accepted`` or ``internal`` from an exit status and the captured stderr."""
    if rc == 0 and "Traceback" not in stderr:
        return "accepted"
    if rc in (2, 4) and "connectome: error:" in stderr and "Traceback" not in stderr:
        return "clean"
    return "internal"


def _one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith("connectome: "):
            return ln[:300]
    return (lines[-1] if lines else "")[:300]


def run_in_worker(case_id: str, base: Path, cache: Path, on_start=None) -> dict:
    """Build and run one case in this process; return its outcome (no timeout here).

    ``on_start(spec)`` is called once the files are written, before the command runs.
    """
    from connectome.cli import main

    d = base / re.sub(r"[^A-Za-z0-9]+", "_", case_id)
    tmp = base / (d.name + ".tmp")
    shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)
    d.mkdir(parents=True)
    tmp.mkdir()
    res = {"id": case_id, "family": parse_id(case_id)[0]}
    try:
        with warnings.catch_warnings():  # zarr warns about the odd dtypes some mutations write
            warnings.simplefilter("ignore")
            spec = build_case(case_id, d, cache)
    except Exception as exc:  # the generator itself failed: report, never hide
        res.update(outcome="generator-error", mutation="?", error=f"{type(exc).__name__}: {exc}",
                   partial=[], input_changed=[], seconds=0.0, rc=None, argv=[])
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
        return res
    res.update(mutation=spec["mutation"], argv=spec["argv"])
    if on_start is not None:
        on_start(spec)
    before = _snapshot(d)
    inputs_before = {k: v for k, v in before.items() if any(k == i or k.startswith(i + os.sep) for i in spec["inputs"])}
    old_env = {k: os.environ.get(k) for k in ("TMPDIR", "CONNECTOME_TMPDIR", "CONNECTOME_DEBUG")}
    os.environ["TMPDIR"] = os.environ["CONNECTOME_TMPDIR"] = str(tmp)
    os.environ.pop("CONNECTOME_DEBUG", None)
    tempfile.tempdir = None
    err, outb = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(outb):
            rc = main(spec["argv"])
    except BaseException as exc:  # noqa: BLE001 - anything escaping main is a bug
        rc = None
        err.write("Traceback (escaped main)\n" + "".join(traceback.format_exception_only(type(exc), exc)))
    res["seconds"] = time.perf_counter() - t0
    for k, v in old_env.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    tempfile.tempdir = None
    stderr = err.getvalue()
    res["rc"] = rc
    res["outcome"] = classify(rc, stderr)
    res["error"] = _one_line(stderr)
    after = _snapshot(d)
    new = sorted(set(after) - set(before))
    if res["outcome"] != "accepted":
        partial = new
    else:
        partial = [p for p in new if any(TEMP_PATTERNS.search(part) for part in Path(p).parts)]
    partial += [str(p) for p in _files(tmp)]
    res["partial"] = [os.path.relpath(p, d) for p in partial]
    res["input_changed"] = sorted(os.path.relpath(k, d) for k, v in inputs_before.items() if after.get(k) != v)
    shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return res


def _worker_main(conn, base, cache, mem_limit):
    if mem_limit:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (mem_limit, mem_limit))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import connectome.cli  # noqa: F401 - import once, before the first case is timed

    while True:
        msg = conn.recv()
        if msg is None:
            return
        res = run_in_worker(msg, Path(base), Path(cache), on_start=lambda spec: conn.send(("start", spec)))
        if res["outcome"] == "generator-error":
            conn.send(("start", {"mutation": "?", "argv": []}))
        conn.send(("done", res))


class Runner:
    """Runs cases in a worker process; a case with no answer within ``timeout`` s is a hang.

    The worker is killed (by its own pid) and restarted after a hang.
    """

    def __init__(self, base: Path, timeout: float = 10.0, mem_limit: int | None = 3 * 2 ** 30, timeout_for=None):
        import multiprocessing as mp

        self.ctx = mp.get_context("spawn")
        self.base = Path(base)
        self.cache = self.base / "_cache"
        self.timeout = timeout
        self.timeout_for = timeout_for  # (family, mutation) -> seconds, or None for ``timeout``
        self.mem_limit = mem_limit
        self.proc = None

    def _start(self):
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker_main, args=(child, str(self.base), str(self.cache),
                                                                self.mem_limit), daemon=True)
        self.proc.start()

    def _kill(self):
        if self.proc is not None and self.proc.is_alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.join(5)
        self.proc = None

    def run(self, case_id: str) -> dict:
        if self.proc is None or not self.proc.is_alive():
            self._start()
        self.conn.send(case_id)
        try:
            if not self.conn.poll(120):  # building a case never takes this long: the worker died
                raise EOFError
            spec = self.conn.recv()[1]  # the files are written: the command starts now
            t0 = time.perf_counter()
            limit = self.timeout
            if self.timeout_for is not None:
                limit = self.timeout_for(parse_id(case_id)[0], spec["mutation"]) or limit
            if self.conn.poll(limit):
                return self.conn.recv()[1]
            seconds = time.perf_counter() - t0
            self._kill()
            return {"id": case_id, "family": parse_id(case_id)[0], "outcome": "hang",
                    "mutation": spec["mutation"], "error": f"no answer after {seconds:.1f} s", "partial": [],
                    "input_changed": [], "seconds": seconds, "rc": None, "argv": spec["argv"]}
        except (EOFError, OSError, BrokenPipeError):
            code = self.proc.exitcode if self.proc is not None else None
            self._kill()
            return {"id": case_id, "family": parse_id(case_id)[0], "outcome": "internal", "mutation": "?",
                    "error": f"worker process died (exit code {code})", "partial": [], "input_changed": [],
                    "seconds": 0.0, "rc": None, "argv": []}

    def close(self):
        if self.proc is not None and self.proc.is_alive():
            try:
                self.conn.send(None)
                self.proc.join(10)
            except OSError:
                pass
        self._kill()


def is_failure(res: dict) -> bool:
    """A case that breaks a promise: internal error, hang, partial output, changed input."""
    return res["outcome"] in ("internal", "hang", "generator-error") or bool(res["partial"]) \
        or bool(res["input_changed"])


def run_cases(ids, base: Path | None = None, timeout: float = 10.0, progress=None, timeout_for=None) -> list[dict]:
    """Run ``ids`` one after the other; return one result dict per case (see :func:`run_in_worker`).

    ``timeout_for(family, mutation)`` may give some cases another limit (seconds; None: ``timeout``).
    """
    own = base is None
    base = Path(tempfile.mkdtemp(prefix="connectome-fuzz-")) if own else Path(base)
    runner = Runner(base, timeout=timeout, timeout_for=timeout_for)
    out = []
    try:
        for i, cid in enumerate(ids):
            res = runner.run(cid)
            out.append(res)
            if progress:
                progress(i, res)
    finally:
        runner.close()
        if own:
            shutil.rmtree(base, ignore_errors=True)
    return out
