"""Programming maps (``connectome compile`` output): write, read, verify.

A map is a few tables of columns (see docs/formats-progmap.md):

- ``/groups``   tile groups: ``group, cls`` (0 chemical, 1 electrical),
  ``polarity`` (0 differential, +1/−1 split arrays), ``delay_bucket``,
  ``delay_lo_ms``, ``delay_hi_ms``;
- ``/tiles``    ``tile, layer, y, x, group, col_block, part``,
  ``row_neuron`` (tiles × rows), ``col_neuron``, ``col_polarity``,
  ``col_significance`` (tiles × cols);
- ``/cells``    ``tile, row, col, pre, post, polarity, significance, level,
  g_target_us, pulses, unverified`` — one record per programmed cell, sorted
  by (tile, row, col);
- ``/schedule`` ``step, tile, row, t_start_us, t_end_us, pulses, energy_pj``
  and the pulse train (``polarity, amplitude_v, step_v, width_ns, reset_v,
  reset_width_ns, reset_first, verify_v, verify_ns, verify_reads,
  pulse_energy_pj``) in step (time) order; ``row = −1`` is a whole-tile
  erase (flash);
- ``/synapses`` ``pre, post, group, weight_mv, delay_ms, clipped`` — the
  source synapses as mapped (parallel edges of one group summed), sorted by
  (group, pre, post); it carries the delays and the clipping report.

Root attributes hold the contract's scalars plus ``manifest`` (JSON: sha256
of every dataset and of the source connectome) and ``summary`` (JSON).
HDF5 and zarr v3 trees are identical. Writing is atomic and deterministic
(no timestamps; fixed dataset and attribute order), so the same input,
parameters and seed give a byte-identical HDF5 file.

Examples
--------
>>> import numpy as np, tempfile, pathlib
>>> pm = ProgrammingMap.empty(attrs={"technology": "rram", "rows": 4, "cols": 4, "layers": 1,
...     "levels": 8, "g_min_us": 2.0, "g_max_us": 40.0, "mv_per_us": 0.1})
>>> path = pathlib.Path(tempfile.mkdtemp()) / "m.h5"
>>> write_map(pm, path)
>>> check_map_file(path)["cells"]
0
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, MapError
from .atomic import atomic_path
from .checksum import sha256_file

FORMAT = "connectome-programming-map"
FORMAT_VERSION = 2

#: Tables and their columns with dtypes, in file order (2-D columns marked by the "2d" flag).
TABLES: dict[str, dict[str, tuple[str, bool]]] = {
    "groups": {"group": ("<i4", False), "cls": ("<i1", False), "polarity": ("<i1", False),
               "delay_bucket": ("<i4", False), "delay_lo_ms": ("<f8", False), "delay_hi_ms": ("<f8", False)},
    "tiles": {"tile": ("<i4", False), "layer": ("<i4", False), "y": ("<i4", False), "x": ("<i4", False),
              "group": ("<i4", False), "col_block": ("<i4", False), "part": ("<i4", False),
              "row_neuron": ("<i8", True), "col_neuron": ("<i8", True), "col_polarity": ("<i1", True),
              "col_significance": ("<i8", True)},
    "cells": {"tile": ("<i4", False), "row": ("<i4", False), "col": ("<i4", False), "pre": ("<i8", False),
              "post": ("<i8", False), "polarity": ("<i1", False), "significance": ("<i8", False),
              "level": ("<i4", False), "g_target_us": ("<f8", False), "pulses": ("<i4", False),
              "unverified": ("|u1", False)},
    "schedule": {"step": ("<i8", False), "tile": ("<i4", False), "row": ("<i4", False),
                 "t_start_us": ("<f8", False), "t_end_us": ("<f8", False), "pulses": ("<i8", False),
                 "energy_pj": ("<f8", False), "polarity": ("<i1", False), "amplitude_v": ("<f8", False),
                 "step_v": ("<f8", False), "width_ns": ("<f8", False), "reset_v": ("<f8", False),
                 "reset_width_ns": ("<f8", False), "reset_first": ("|u1", False), "verify_v": ("<f8", False),
                 "verify_ns": ("<f8", False), "verify_reads": ("<i8", False),
                 "pulse_energy_pj": ("<f8", False)},
    "synapses": {"pre": ("<i8", False), "post": ("<i8", False), "group": ("<i4", False),
                 "weight_mv": ("<f8", False), "delay_ms": ("<f8", False), "clipped": ("|u1", False)},
}
#: Datasets added by format version 2 (pulse-level programming). A version-1 map lacks them; their digests
#: sit under the manifest's ``datasets_v2`` so that version-1 readers, which refuse a manifest listing
#: datasets they do not know, still read a version-2 map.
SINCE_V2 = frozenset(["cells/pulses", "cells/unverified"] + [
    f"schedule/{c}" for c in ("polarity", "amplitude_v", "step_v", "width_ns", "reset_v", "reset_width_ns",
                              "reset_first", "verify_v", "verify_ns", "verify_reads", "pulse_energy_pj")])
#: Root attributes every map has, in file order (then manifest, summary).
ROOT_ATTRS = ["format", "format_version", "technology", "rows", "cols", "layers", "levels", "g_min_us",
              "g_max_us", "mv_per_us", "scheme", "slices", "full_scale_mv", "partitioner", "seed",
              "power_budget_mw", "erase_us", "parameters"]
CHUNK = 1 << 20
#: Root attributes whose digests the manifest carries (every one that changes the map's meaning, and the
#: summary).
COVERED_ATTRS = ROOT_ATTRS + ["summary"]
ATTR_ALGORITHM = 'sha256 of the JSON {"name": name, "value": value} (sort_keys, ensure_ascii)'


@dataclass
class ProgrammingMap:
    """The compiled map: root attributes, tables of columns, and a summary."""

    attrs: dict
    tables: dict
    summary: dict = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict, compare=False)  # wall-clock, summary.json only
    sidecar: dict = field(default_factory=dict, compare=False)  # bulky per-tile lists, summary.json only

    @classmethod
    def empty(cls, attrs: dict, summary: dict | None = None) -> "ProgrammingMap":
        rows, cols = int(attrs["rows"]), int(attrs["cols"])
        tables: dict[str, dict[str, np.ndarray]] = {}
        for t, colspec in TABLES.items():
            tables[t] = {}
            for c, (dt, two_d) in colspec.items():
                width = cols if c.startswith("col_") else rows
                tables[t][c] = np.zeros((0, width) if two_d else 0, dtype=dt)
        base = {"format": FORMAT, "format_version": FORMAT_VERSION, "scheme": "differential", "slices": 1,
                "full_scale_mv": 1.0, "partitioner": "identity", "seed": 0, "power_budget_mw": 1.0,
                "erase_us": 0.0, "parameters": "{}"}
        return cls(attrs={**base, **attrs}, tables=tables, summary=dict(summary or {}))

    @classmethod
    def read(cls, path, check_checksums: bool = True) -> "ProgrammingMap":
        """:func:`read_map`."""
        return read_map(path, check_checksums)

    def write(self, path, extra_summary: dict | None = None) -> None:
        """:func:`write_map`."""
        write_map(self, path, extra_summary)

    # convenience
    def column(self, name: str) -> np.ndarray:
        t, c = name.split("/")
        return self.tables[t][c]

    def datasets(self):
        """(name, array) for every dataset, in file order (a version-1 map lacks the pulse datasets)."""
        for t, colspec in TABLES.items():
            for c in colspec:
                if c in self.tables[t]:
                    yield f"{t}/{c}", self.tables[t][c]

    @property
    def version(self) -> int:
        """The map's ``format_version`` (1 for maps without pulse trains)."""
        try:
            return int(self.attrs.get("format_version", 1))
        except (TypeError, ValueError):
            return 1


# ------------------------------------------------------------------ checksums
def dataset_sha256(arr: np.ndarray) -> str:
    """sha256 of dtype, shape and the C-order bytes of an array."""
    a = np.ascontiguousarray(arr)
    h = hashlib.sha256()
    h.update(f"{a.dtype.str}{list(a.shape)}".encode())
    h.update(a.data.cast("B") if a.size else b"")
    return h.hexdigest()


def attribute_sha256(name: str, value) -> str:
    """sha256 of one root attribute: the JSON ``{"name": name, "value": value}`` (sorted keys, ASCII).

    Numbers keep their JSON type (``8`` and ``8.0`` differ), as they
    round-trip through both HDF5 and zarr attributes.
    """
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    try:
        doc = json.dumps({"name": name, "value": value}, sort_keys=True, ensure_ascii=True, allow_nan=True)
    except (TypeError, ValueError):
        # A value no writer produces (complex, object arrays, ...): digest its
        # repr under another key, so it can never match a written digest.
        doc = json.dumps({"name": name, "unencodable": repr(value)}, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(doc.encode()).hexdigest()


def _canonical(pm: ProgrammingMap) -> None:
    for t, colspec in TABLES.items():
        if t not in pm.tables:
            raise ValueError(f"programming map lacks table {t!r}")
        for c, (dt, two_d) in colspec.items():
            if c not in pm.tables[t] and f"{t}/{c}" in SINCE_V2 and pm.version < 2:
                continue  # a version-1 map written again keeps its version
            if c not in pm.tables[t]:
                raise ValueError(f"programming map lacks dataset {t}/{c} (format version {pm.version})")
            a = np.ascontiguousarray(pm.tables[t][c], dtype=dt)
            if a.ndim != (2 if two_d else 1):
                raise ValueError(f"{t}/{c} must be {'2' if two_d else '1'}-D")
            pm.tables[t][c] = a


def _root_attrs(pm: ProgrammingMap) -> dict:
    a = pm.attrs
    out = {}
    for k in ROOT_ATTRS:
        v = a[k]
        if isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    out["summary"] = json.dumps(pm.summary, sort_keys=True)
    pm.manifest["attributes"] = {"algorithm": ATTR_ALGORITHM,
                                 "digests": {k: attribute_sha256(k, out[k]) for k in COVERED_ATTRS}}
    manifest = json.dumps(pm.manifest, sort_keys=True)
    return {**{k: out[k] for k in ROOT_ATTRS}, "manifest": manifest, "summary": out["summary"]}


def _fmt(path: Path) -> str:
    s = path.suffix.lower()
    if s in (".h5", ".hdf5"):
        return "hdf5"
    if s == ".zarr":
        return "zarr"
    raise MapError(f"unknown programming-map suffix {s!r}: use .h5 or .zarr", path)


def check_map_path(path) -> str:
    """``"hdf5"`` or ``"zarr"`` from a map path's suffix; :class:`MapError` otherwise."""
    return _fmt(Path(path))


def summary_path(path) -> Path:
    """Where ``summary.json`` goes: ``MAP.summary.json`` beside an .h5, inside a .zarr store."""
    path = Path(path)
    if _fmt(path) == "zarr":
        return path / "summary.json"
    return path.with_name(path.stem + ".summary.json")


# ---------------------------------------------------------------------- write
#: HDF5 filters a map's datasets can be written with (``compression``). gzip (deflate) is in every HDF5
#: build (h5dump, HDFView, MATLAB, C) and deterministic; LZF is h5py's own filter (id 32000): other tools need
#: its plugin, and its compressed bytes can differ from run to run (liblzf's hash table is not initialised).
MAP_COMPRESSIONS = ("gzip", "lzf", "none")


def write_map(pm: ProgrammingMap, path, extra_summary: dict | None = None, compression: str = "gzip") -> None:
    """Write ``pm`` to ``path`` (.h5 or .zarr) atomically, with its manifest and summary.json.

    ``extra_summary`` (e.g. wall-clock timings) goes into summary.json only,
    never into the map itself, which stays byte-identical across runs.
    ``compression``: the HDF5 filter of the datasets (:data:`MAP_COMPRESSIONS`;
    always with shuffle and a Fletcher-32 checksum; ignored for zarr).
    """
    if compression not in MAP_COMPRESSIONS:
        raise ConfigError(f"compression must be one of {', '.join(MAP_COMPRESSIONS)}, not {compression!r}")
    path = Path(path)
    fmt = _fmt(path)
    _canonical(pm)
    source = pm.manifest.get("source", {})
    digests = {name: dataset_sha256(a) for name, a in pm.datasets()}
    pm.manifest = {"algorithm": "sha256 of dtype.str + shape + C-order bytes",
                   "datasets": {k: v for k, v in digests.items() if k not in SINCE_V2},
                   "source": source}
    if any(k in SINCE_V2 for k in digests):
        pm.manifest["datasets_v2"] = {k: v for k, v in digests.items() if k in SINCE_V2}
    attrs = _root_attrs(pm)
    side = {**pm.summary, **pm.sidecar, **(extra_summary or {})}
    if fmt == "hdf5":
        with atomic_path(path) as tmp:
            _write_hdf5(tmp, pm, attrs, compression)
            side["map_file_sha256"] = sha256_file(tmp)
            # a summary.json left from an earlier map would not match the new one
            summary_path(path).unlink(missing_ok=True)
        with atomic_path(summary_path(path)) as tmp:
            tmp.write_text(json.dumps(side, indent=1, sort_keys=True) + "\n")
    else:
        with atomic_path(path) as tmp:
            _write_zarr(tmp, pm, attrs)
            side["store_file_sha256"] = _store_hashes(tmp)
            (tmp / "summary.json").write_text(json.dumps(side, indent=1, sort_keys=True) + "\n")


def _chunks(a: np.ndarray):
    if a.size == 0:
        return None
    if a.ndim == 1:
        return (min(len(a), CHUNK),)
    return (max(1, min(a.shape[0], CHUNK // max(a.shape[1], 1))), a.shape[1])


def _write_hdf5(tmp: Path, pm: ProgrammingMap, attrs: dict, compression: str = "gzip") -> None:
    import h5py

    with h5py.File(tmp, "w", libver=("earliest", "v110")) as fh:
        for k, v in attrs.items():
            fh.attrs[k] = v
        for t in TABLES:
            fh.create_group(t)
        for name, a in pm.datasets():
            kw: dict[str, Any] = {"track_times": False}
            if a.size:
                kw.update(chunks=_chunks(a), shuffle=True, fletcher32=True)
                if compression != "none":
                    kw["compression"] = compression
            # flush now: chunks are placed in creation order, not in the order the
            # garbage collector happens to close datasets (bytes identical across processes)
            fh.create_dataset(name, data=a, **kw).flush()


def _write_zarr(tmp: Path, pm: ProgrammingMap, attrs: dict) -> None:
    import zarr

    root = zarr.open_group(os.fspath(tmp), mode="w", zarr_format=3)
    root.attrs.update(attrs)
    groups = {t: root.create_group(t) for t in TABLES}
    for name, a in pm.datasets():
        t, c = name.split("/")
        arr = groups[t].create_array(c, shape=a.shape, dtype=a.dtype, chunks=_chunks(a) or (1,) * a.ndim)
        if a.size:
            arr[...] = a


def _store_hashes(root: Path) -> dict:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != "summary.json":
            out[p.relative_to(root).as_posix()] = sha256_file(p)
    return out


# ----------------------------------------------------------------------- read
def read_map(path, check_checksums: bool = True) -> ProgrammingMap:
    """Read a map; with ``check_checksums`` every dataset is compared with the manifest.

    Raises
    ------
    MapError
        Not a map, a missing dataset or attribute, an unreadable (corrupted)
        chunk, or a checksum mismatch — one line naming the problem.
    """
    path = Path(path)
    if not path.exists():
        raise MapError("no such file or directory", path)
    fmt = _fmt(path)
    try:
        attrs, tables = _read_hdf5(path) if fmt == "hdf5" else _read_zarr(path)
    except MapError:
        raise
    except Exception as exc:  # h5py/zarr/codec errors on damaged files
        raise MapError(f"corrupted or unreadable map ({type(exc).__name__}: {_first_line(exc)})",
                       path) from None
    missing = [k for k in ROOT_ATTRS + ["manifest", "summary"] if k not in attrs]
    if missing:
        raise MapError(f"missing root attribute(s): {', '.join(missing)}", path)
    raw_summary = attrs.pop("summary")
    try:
        manifest = json.loads(attrs.pop("manifest"))
        summary = json.loads(raw_summary)
        if not isinstance(manifest, dict) or not isinstance(summary, dict):
            raise ValueError
    except (TypeError, ValueError):
        raise MapError("corrupted root attribute manifest or summary (not a JSON object)", path) from None
    pm = ProgrammingMap(attrs=attrs, tables=tables, summary=summary, manifest=manifest)
    if check_checksums:
        check_attributes(manifest, {**attrs, "summary": raw_summary}, path)
        sums = manifest.get("datasets", {})
        added = manifest.get("datasets_v2", {})
        if not isinstance(sums, dict) or not isinstance(added, dict):
            raise MapError("manifest dataset table is malformed (corrupted)", path)
        sums = {**sums, **added}
        for name, a in pm.datasets():
            want = sums.get(name)
            if want is None:
                raise MapError(f"manifest has no checksum for dataset {name}", path)
            if dataset_sha256(a) != want:
                raise MapError(f"dataset {name} does not match its sha256 in the manifest (corrupted)", path)
        extra = sorted(set(sums) - {n for n, _ in pm.datasets()})
        if extra:
            raise MapError(f"manifest lists datasets the map lacks: {', '.join(extra)}", path)
    return pm


def check_attributes(manifest: dict, attrs: dict, path) -> bool:
    """Compare the root attributes with their digests in the manifest.

    Returns True when they were checked. A map written before attribute
    digests existed (no ``attributes`` in its manifest) is accepted with a
    warning that its root attributes are unverified, and gives False.

    Raises
    ------
    MapError
        An attribute differs from its digest (naming the attribute), or the
        digest table is malformed or lacks a covered attribute.
    """
    cover = manifest.get("attributes")
    if cover is None:
        warnings.warn(f"{path}: the map's manifest has no attribute digests (written by an older version): "
                      "its root attributes (technology, rows, cols, levels, conductances, full scale …) are "
                      "unverified; recompile it to cover them", stacklevel=3)
        return False
    digests = cover.get("digests") if isinstance(cover, dict) else None
    if not isinstance(digests, dict):
        raise MapError("manifest attributes table is malformed (corrupted)", path)
    for name in COVERED_ATTRS:
        want = digests.get(name)
        if want is None:
            raise MapError(f"manifest has no digest for root attribute {name}", path)
        if attribute_sha256(name, attrs.get(name)) != want:
            shown = _short(attrs.get(name))
            raise MapError(f"root attribute {name} (= {shown}) does not match its sha256 in the "
                           "manifest (changed after the map was written)", path)
    return True


def _short(v) -> str:
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


def _first_line(exc) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""


def _expect_format(attrs: dict, path) -> int:
    """Check ``format``; return ``format_version``.

    A newer version is read for what this reader knows: versions only add
    datasets (their digests under new manifest keys) and never change the
    meaning of existing ones.
    """
    if attrs.get("format") != FORMAT:
        raise MapError(f"not a programming map (root attribute format = {attrs.get('format')!r})", path)
    v = attrs.get("format_version")
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise MapError(f"root attribute format_version = {_short(v)} is not a positive integer", path)
    return int(v)


def _expect_tables(get, path, version: int = FORMAT_VERSION) -> dict:
    tables: dict[str, dict[str, np.ndarray]] = {}
    for t, colspec in TABLES.items():
        tables[t] = {}
        for c, (dt, two_d) in colspec.items():
            a = get(f"{t}/{c}")
            if a is None and version < 2 and f"{t}/{c}" in SINCE_V2:
                continue  # a version-1 map: no pulse trains
            if a is None:
                raise MapError(f"missing dataset {t}/{c}", path)
            a = np.asarray(a)
            if a.dtype.str != np.dtype(dt).str or a.ndim != (2 if two_d else 1):
                raise MapError(f"dataset {t}/{c} has dtype {a.dtype.str} and {a.ndim} dimension(s), "
                               f"expected {np.dtype(dt).str} and {2 if two_d else 1}", path)
            tables[t][c] = a
    return tables


def _read_hdf5(path: Path):
    import h5py

    with h5py.File(path, "r") as fh:
        attrs = {k: _py(v) for k, v in fh.attrs.items()}
        version = _expect_format(attrs, path)
        return attrs, _expect_tables(lambda n: fh[n][()] if n in fh else None, path, version)


def _read_zarr(path: Path):
    import zarr

    root = zarr.open_group(os.fspath(path), mode="r", zarr_format=3)
    attrs = dict(root.attrs)
    version = _expect_format(attrs, path)

    def get(name):
        try:
            return root[name][...]
        except KeyError:
            return None

    return attrs, _expect_tables(get, path, version)


def _py(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.generic):
        return v.item()
    return v


# --------------------------------------------------------------------- verify
def check_map_file(path, check_invariants: bool = True) -> dict:
    """Re-read ``path``; check checksums (manifest and summary.json) and structural invariants.

    Returns the map's summary (with ``cells``, ``tiles`` … counts) plus
    ``checks``, the list of checks passed, or raises
    :class:`~connectome.errors.MapError` naming the map and what is wrong.
    """
    path = Path(path)
    pm = read_map(path)
    checks = ["chunks decode", "manifest sha256 of every dataset"]
    if "attributes" in pm.manifest:
        checks.append("manifest sha256 of every root attribute")
    if _check_sidecar(path):
        checks.append(f"file sha256 against {summary_path(path).name}")
    if check_invariants:
        problem = check_map(pm)
        if problem:
            raise MapError(problem, path)
        checks.append("structural invariants")
    out = dict(pm.summary)
    out.setdefault("cells", int(len(pm.tables["cells"]["tile"])))
    out.setdefault("tiles", int(len(pm.tables["tiles"]["tile"])))
    out["checks"] = checks
    return out


def _check_sidecar(path: Path) -> bool:
    """Compare the map's files with the checksums in summary.json; False if there is none."""
    side = summary_path(path)
    if not side.exists():
        return False
    try:
        d = json.loads(side.read_text())
    except (ValueError, UnicodeDecodeError):
        raise MapError(f"{side.name} is not valid JSON (corrupted)", path) from None
    if not isinstance(d, dict):
        raise MapError(f"{side.name} is not a JSON object (corrupted)", path)
    if _fmt(path) == "hdf5":
        want = d.get("map_file_sha256")
        if not want:
            return False
        if not isinstance(want, str):
            raise MapError(f"{side.name}: map_file_sha256 is not a string (corrupted)", path)
        if sha256_file(path) != want:
            raise MapError(f"file sha256 differs from the one recorded in {side.name} (corrupted)", path)
    else:
        want = d.get("store_file_sha256") or {}
        if not want:
            return False
        if not isinstance(want, dict):
            raise MapError(f"{side.name}: store_file_sha256 is not a JSON object (corrupted)", path)
        have = _store_hashes(path)
        for name in sorted(set(want) | set(have)):
            if want.get(name) != have.get(name):
                what = "missing" if name not in have else "unexpected" if name not in want else "changed"
                raise MapError(f"store file {name} is {what} relative to summary.json (corrupted)", path)
    return True


def _unique_sorted(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort based; numpy 2's hashing ``np.unique`` is slow on 10⁷ keys)."""
    s = np.sort(np.asarray(a))
    return s[np.concatenate([[True], s[1:] != s[:-1]])] if s.size else s



def _ragged(table: dict, name: str, n: int) -> str | None:
    """The first column of ``table`` whose length is not ``n``, as a message."""
    for col, arr in table.items():
        if len(arr) != n:
            return f"{name}/{col} has {len(arr)} rows, expected {n}"
    return None

def _check_tiles(pm: ProgrammingMap) -> str | None:
    """Groups and tiles: numbering, shapes, positions, one row per neuron, distinct columns."""
    a, T = pm.attrs, pm.tables
    rows, cols, layers = int(a["rows"]), int(a["cols"]), int(a["layers"])
    tiles, groups = T["tiles"], T["groups"]
    n_tiles = len(tiles["tile"])
    n_groups = len(groups["group"])
    if not np.array_equal(groups["group"], np.arange(n_groups)):
        return "groups/group is not 0..n−1"
    bad = _ragged({k: tiles[k] for k in ("tile", "layer", "y", "x", "group", "col_block", "part")}, "tiles",
                  n_tiles)
    if bad:
        return bad
    if not np.array_equal(tiles["tile"], np.arange(n_tiles)):
        return "tiles/tile is not 0..n−1"
    for name, width in (("row_neuron", rows), ("col_neuron", cols), ("col_polarity", cols),
                        ("col_significance", cols)):
        if tiles[name].shape != (n_tiles, width):
            return f"tiles/{name} has shape {tiles[name].shape}, expected ({n_tiles}, {width})"
    if n_tiles:
        if tiles["layer"].min() < 0 or tiles["layer"].max() >= layers or tiles["y"].min() < 0 \
                or tiles["x"].min() < 0:
            return "a tile is placed outside the stack (layer, y or x out of range)"
        pos = (tiles["layer"].astype(np.int64) * (int(tiles["y"].max()) + 1) + tiles["y"]) * \
            (int(tiles["x"].max()) + 1) + tiles["x"]
        if _unique_sorted(pos).size != n_tiles:
            return "two tiles share a (layer, y, x) position"
        if tiles["group"].min() < 0 or tiles["group"].max() >= n_groups:
            return "a tile names an unknown group"
        s = np.sort(tiles["row_neuron"], axis=1)
        if np.any((s[:, 1:] == s[:, :-1]) & (s[:, 1:] >= 0)):
            return "a neuron drives two rows of one tile"
        # a column carries one postsynaptic neuron; one neuron's columns differ in (polarity, significance)
        cn, cp, cs = tiles["col_neuron"], tiles["col_polarity"].astype(np.int64), tiles["col_significance"]
        used = cn >= 0
        if np.any(used & ((cp == 0) | (cs < 1))) or np.any(~used & ((cp != 0) | (cs != 0))):
            return "a used column lacks polarity/significance, or an unused one has them"
        if used.any():
            tt = np.broadcast_to(np.arange(n_tiles)[:, None], cn.shape)[used]
            key = np.stack([tt, cn[used], cp[used], cs[used]])
            if np.unique(key, axis=1).shape[1] != key.shape[1]:
                return "two columns of one tile carry the same neuron, polarity and significance"
    return None


def _check_cells(pm: ProgrammingMap) -> str | None:
    """Cells: inside their tiles, unique and sorted, consistent with the tile tables and levels."""
    a, T = pm.attrs, pm.tables
    rows, cols, levels = int(a["rows"]), int(a["cols"]), int(a["levels"])
    g_min, g_max = float(a["g_min_us"]), float(a["g_max_us"])
    tiles, cells = T["tiles"], T["cells"]
    n_tiles = len(tiles["tile"])
    n = len(cells["tile"])
    n = len(cells["tile"])
    bad = _ragged(cells, "cells", n)
    if bad:
        return bad
    if n:
        t, r, c = cells["tile"].astype(np.int64), cells["row"].astype(np.int64), cells["col"].astype(np.int64)
        if t.min() < 0 or t.max() >= n_tiles or r.min() < 0 or r.max() >= rows or c.min() < 0 \
                or c.max() >= cols:
            return "a cell lies outside its tile (tile, row or col out of range)"
        key = (t * rows + r) * cols + c
        if np.any(np.diff(key) <= 0):
            return "cells are not unique and sorted by (tile, row, col): two records for one cell"
        if np.any(tiles["row_neuron"][t, r] != cells["pre"]):
            return "a cell's pre differs from the neuron its tile row carries (row_neuron)"
        if np.any(tiles["col_neuron"][t, c] != cells["post"]):
            return "a cell's post differs from the neuron its tile column carries (col_neuron)"
        if np.any(tiles["col_polarity"][t, c] != cells["polarity"]) \
                or not np.all(np.abs(cells["polarity"]) == 1):
            return "a cell's polarity is not ±1 or differs from its column's"
        if np.any(tiles["col_significance"][t, c] != cells["significance"]) \
                or cells["significance"].min() < 1:
            return "a cell's significance differs from its column's"
        if cells["level"].min() < 0 or cells["level"].max() >= levels:
            return f"a cell level is outside 0..{levels - 1}"
        dg = (g_max - g_min) / (levels - 1)
        want = g_min + cells["level"] * dg
        if not np.allclose(cells["g_target_us"], want, rtol=1e-12, atol=1e-9 * max(abs(g_max), 1.0)):
            return "a cell's g_target_us is not g_min_us + level × Δg"
    return None


def _check_synapses(pm: ProgrammingMap) -> str | None:
    """Synapses: sorted, unique, and each decodes from its cells within half a step."""
    a, T = pm.attrs, pm.tables
    levels = int(a["levels"])
    g_min, g_max, mv_per_us = float(a["g_min_us"]), float(a["g_max_us"]), float(a["mv_per_us"])
    tiles, cells, syn, groups = T["tiles"], T["cells"], T["synapses"], T["groups"]
    n_groups = len(groups["group"])
    n = len(cells["tile"])
    m = len(syn["pre"])
    m = len(syn["pre"])
    bad = _ragged(syn, "synapses", m)
    if bad:
        return bad
    if m:
        if syn["group"].min() < 0 or syn["group"].max() >= n_groups:
            return "a synapse names an unknown group"
        sk = np.lexsort((syn["post"], syn["pre"], syn["group"]))
        if not np.array_equal(sk, np.arange(m)):
            return "synapses are not sorted by (group, pre, post)"
        same = (np.diff(syn["group"]) == 0) & (np.diff(syn["pre"]) == 0) & (np.diff(syn["post"]) == 0)
        if same.any():
            return "two synapse records for one (group, pre, post)"
    if n or m:
        cg = tiles["group"][cells["tile"]] if n else np.zeros(0, np.int64)
        o = np.lexsort((cells["post"], cells["pre"], cg))
        g_s, pre_s, post_s = cg[o], cells["pre"][o], cells["post"][o]
        contrib = (cells["polarity"][o] * cells["significance"][o].astype(np.float64)
                   * (cells["g_target_us"][o] - g_min) * mv_per_us)
        if n:
            brk = np.flatnonzero((np.diff(g_s) != 0) | (np.diff(pre_s) != 0) | (np.diff(post_s) != 0)) + 1
            start = np.concatenate([[0], brk])
        else:
            start = np.zeros(0, np.int64)
        if len(start) != m or not (np.array_equal(g_s[start], syn["group"]) and np.array_equal(pre_s[start],
                                                                                               syn["pre"])
                                   and np.array_equal(post_s[start], syn["post"])):
            return "cells and synapses disagree: a cell for a non-synapse or a synapse without cells"
        decoded = np.add.reduceat(contrib, start) if n else np.zeros(0)
        step = mv_per_us * (g_max - g_min) / (levels - 1)
        err = np.abs(decoded - syn["weight_mv"])
        clipped = syn["clipped"].astype(bool)
        bad = (err > 0.5 * step * (1 + 1e-9) + 1e-12) & ~clipped
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            return (f"synapse {int(syn['pre'][i])}→{int(syn['post'][i])} decodes to {decoded[i]:.6g} mV, "
                    f"source {syn['weight_mv'][i]:.6g} mV: beyond half a step ({0.5 * step:.3g} mV) and "
                    "not clipped")
        fs = float(a["full_scale_mv"])
        if clipped.any() and np.any(np.abs(syn["weight_mv"][clipped]) < fs):
            return "a synapse listed as clipped lies within the full scale"
    return None


def _check_schedule(pm: ProgrammingMap) -> str | None:
    """Schedule: every row with cells once, no tile or stack busy twice, power within budget."""
    a, T = pm.attrs, pm.tables
    rows = int(a["rows"])
    tiles, cells, sched = T["tiles"], T["cells"], T["schedule"]
    n_tiles = len(tiles["tile"])
    n = len(cells["tile"])
    k = len(sched["step"])
    bad = _ragged(sched, "schedule", k)
    if bad:
        return bad
    if k and not np.array_equal(sched["step"], np.arange(k)):
        return "schedule/step is not 0..n−1"
    if k and (sched["tile"].min() < 0 or sched["tile"].max() >= n_tiles or sched["row"].min() < -1
              or sched["row"].max() >= rows):
        return "a schedule entry names a tile or row outside the map"
    prog = sched["row"] >= 0
    if n:
        cell_rows = _unique_sorted(cells["tile"].astype(np.int64) * rows + cells["row"])
    else:
        cell_rows = np.zeros(0, np.int64)
    sched_rows = sched["tile"][prog].astype(np.int64) * rows + sched["row"][prog]
    su = _unique_sorted(sched_rows)
    if su.size != sched_rows.size:
        return "a tile row is programmed more than once in the schedule"
    if not np.array_equal(su, cell_rows):
        return "the schedule does not program exactly the tile rows that hold cells"
    if np.any(~prog) and float(a["erase_us"]) <= 0:
        return "the schedule erases a tile but the technology has no erase"
    if k:
        if np.any(sched["t_end_us"] < sched["t_start_us"]) or np.any(sched["t_start_us"] < 0):
            return "a schedule entry ends before it starts"
        if np.any(np.diff(sched["t_start_us"]) < 0):
            return "schedule steps are not in time order"
        o = np.lexsort((sched["t_start_us"], sched["tile"]))
        tt, t0, t1 = sched["tile"][o], sched["t_start_us"][o], sched["t_end_us"][o]
        same_tile = tt[1:] == tt[:-1]
        eps = 1e-9 * max(float(t1.max()), 1.0)
        if np.any(same_tile & (t0[1:] < t1[:-1] - eps)):
            return "a tile does two things at once (overlapping schedule entries)"
        # tiles of one stack share vertical lines: one of them is written at a time
        if n_tiles:
            st = (tiles["y"].astype(np.int64) * (int(tiles["x"].max()) + 1) + tiles["x"])[sched["tile"]]
            o = np.lexsort((sched["t_start_us"], st))
            ss, t0, t1 = st[o], sched["t_start_us"][o], sched["t_end_us"][o]
            if np.any((ss[1:] == ss[:-1]) & (t0[1:] < t1[:-1] - eps)):
                return "two tiles of one stack (shared lines) are programmed at once"
        dur = sched["t_end_us"] - sched["t_start_us"]
        power = np.where(dur > 0, sched["energy_pj"] / np.where(dur > 0, dur, 1.0), 0.0) * 1e-3
        from_t = np.concatenate([sched["t_start_us"], sched["t_end_us"]])
        d = np.concatenate([power, -power])
        kind = np.concatenate([np.ones(k), np.zeros(k)])
        oo = np.lexsort((kind, from_t))
        peak = float(np.cumsum(d[oo]).max())
        budget = float(a["power_budget_mw"])
        if peak > budget * (1 + 1e-9):
            return f"concurrent programming draws {peak:.6g} mW, above the declared budget of {budget:g} mW"
    return None


def _check_pulses(pm: ProgrammingMap) -> str | None:
    """Pulse trains (format version 2): per-cell pulse counts against each schedule entry's train.

    A program entry's ``pulses`` is the most any cell of its row needed; its
    energy is ``(Σ cell pulses [+ cells, when reset_first]) × pulse_energy_pj``;
    its duration is ``([reset_width_ns] + pulses·(width_ns + verify_ns) +
    verify_ns) / 1000`` µs with ``verify_reads = pulses + 1``. An erase entry
    has polarity −1, one pulse lasting ``width_ns`` and no verify read.
    """
    T = pm.tables
    cells, sched = T["cells"], T["schedule"]
    have = [k for k in SINCE_V2 if k.split("/")[1] in T[k.split("/")[0]]]
    if not have:
        return None if pm.version < 2 else "a version-2 map lacks its pulse datasets"
    if len(have) != len(SINCE_V2):
        return "some pulse datasets are missing: " + ", ".join(sorted(SINCE_V2 - set(have)))
    rows = int(pm.attrs["rows"])
    p, lev = cells["pulses"].astype(np.int64), cells["level"]
    if len(p) and (p.min() < 0 or np.any((lev == 0) & (p != 0)) or np.any((lev > 0) & (p < 1))):
        return "a cell's pulse count is negative, non-zero at level 0 or zero above level 0"
    if len(p) and np.any(cells["unverified"] > 1):
        return "cells/unverified is not 0 or 1"
    k = len(sched["step"])
    if not k:
        return None
    erase = sched["row"] < 0
    prog = ~erase
    pol = sched["polarity"]
    if np.any(prog & (pol != 1)) or np.any(erase & (pol != -1)):
        return "a program entry's polarity is not +1 or an erase entry's is not −1"
    floats = ("amplitude_v", "step_v", "width_ns", "reset_v", "reset_width_ns", "verify_v", "verify_ns",
              "pulse_energy_pj")
    for c in floats:
        v = sched[c]
        if not np.all(np.isfinite(v)) or np.any(v < 0):
            return f"schedule/{c} has a negative or non-finite value"
    if np.any(sched["width_ns"] <= 0):
        return "a schedule entry's pulse width is not positive"
    rf = sched["reset_first"].astype(np.int64)
    if np.any(rf > 1) or np.any(erase & (rf != 0)):
        return "schedule/reset_first is not 0/1, or set on an erase"
    # per program entry: the row's cells
    key_c = cells["tile"].astype(np.int64) * rows + cells["row"]
    key_s = sched["tile"][prog].astype(np.int64) * rows + sched["row"][prog]
    o = np.argsort(key_s, kind="stable")
    n = len(key_c)
    if n:
        brk = np.concatenate([[0], np.flatnonzero(np.diff(key_c) != 0) + 1])
        row_max = np.maximum.reduceat(p, brk)
        row_sum = np.add.reduceat(p, brk)
        row_n = np.diff(np.concatenate([brk, [n]]))
        row_key = key_c[brk]
    else:
        row_max = row_sum = row_n = row_key = np.zeros(0, np.int64)
    if not np.array_equal(row_key, key_s[o]):
        return "the schedule does not program exactly the tile rows that hold cells"
    sp = sched["pulses"][prog][o]
    if not np.array_equal(sp, row_max):
        i = int(np.flatnonzero(sp != row_max)[0])
        return (f"schedule entry for tile {int(row_key[i] // rows)} row {int(row_key[i] % rows)} has "
                f"{int(sp[i])} pulses, but its cells need {int(row_max[i])} (the most any cell of the row "
                "took)")
    e_want = (row_sum + rf[prog][o] * row_n) * sched["pulse_energy_pj"][prog][o]
    if not np.allclose(sched["energy_pj"][prog][o], e_want, rtol=1e-9, atol=1e-12):
        return "a schedule entry's energy_pj is not (Σ cell pulses [+ cells reset first]) × pulse_energy_pj"
    vr = sched["verify_reads"]
    if np.any(vr[prog] != sched["pulses"][prog] + 1) or np.any(vr[erase] != 0):
        return "schedule/verify_reads is not pulses + 1 for a program entry (0 for an erase)"
    if np.any(sched["pulses"][erase] != 1):
        return "an erase entry does not have exactly one pulse"
    dur = sched["t_end_us"] - sched["t_start_us"]
    want = np.where(erase, sched["width_ns"],
                    rf * sched["reset_width_ns"] + sched["pulses"] * (sched["width_ns"] + sched["verify_ns"])
                    + sched["verify_ns"]) * 1e-3
    if not np.allclose(dur, want, rtol=1e-9, atol=1e-9 * max(float(sched["t_end_us"].max()), 1.0)):
        i = int(np.flatnonzero(~np.isclose(dur, want, rtol=1e-9))[0])
        return (f"schedule step {i} lasts {dur[i]:.6g} µs but its pulse train takes {want[i]:.6g} µs "
                "([reset] + pulses × (width + verify) + verify)")
    return None


#: The checks of :func:`check_map`, in order (name, function).
MAP_CHECKS = (("tiles", _check_tiles), ("cells", _check_cells), ("synapses", _check_synapses),
              ("schedule", _check_schedule), ("pulses", _check_pulses))


def check_map(pm: ProgrammingMap) -> str | None:
    """First violated structural invariant of a map, or None (the steps of :data:`MAP_CHECKS`, vectorised).

    See docs/formats-progmap.md for the invariants.
    """
    for _name, check in MAP_CHECKS:
        problem = check(pm)
        if problem:
            return problem
    return None
