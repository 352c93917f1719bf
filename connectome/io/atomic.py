"""Output safety: write-then-rename, and replace only what connectome wrote.

The rule every writing command follows (documented in ``docs/outputs.md``):

* an output is written under a temporary sibling name (``.NAME.tmp-…``) and
  renamed into place only when complete, so no half-written output is ever
  seen under its real name;
* an existing path is replaced only when it is provably a connectome output
  (:func:`recognise`: a marker the package writes, such as a programming
  map's root attribute ``format = "connectome-programming-map"`` or an
  inference folder's ``summary.json``) and, for folders, holds nothing but
  such outputs; anything else is refused with :class:`OutputError`;
* an output path that is, or contains, one of the command's inputs is
  refused (symlinks resolved), so no command can delete what it reads.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import shutil
import socket
import uuid
from pathlib import Path

from ..errors import OutputError

#: files an inference folder holds (``connectome infer``)
INFER_FILES = frozenset(
    {"neurons.csv", "edges.csv", "connectivity.h5", "connectome.graphml", "summary.json", "report.html"}
)
#: JSON ``format`` values of the package's own JSON outputs
JSON_FORMATS = frozenset({"connectome-run-manifest", "connectome-verify", "connectome-stage-state"})
#: HDF5 / zarr root ``format`` attributes of the package's own binary outputs
STORE_FORMATS = frozenset({"connectome-programming-map", "connectome-imprint", "cnea-truth"})
#: the ``device`` root attribute of a recording written by ``connectome simulate``
SIMULATED_DEVICE = "simulated CNEA (connectome simulator)"

#: outputs the running command has checked and may replace (and write inside)
_claimed: contextvars.ContextVar[tuple] = contextvars.ContextVar("connectome_claimed_outputs", default=())


def _is_tmp_name(name: str) -> bool:
    return name.startswith(".") and ".tmp-" in name


def _json_doc(path: Path):
    try:
        if path.stat().st_size > 64 << 20:
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def _h5_attrs(path: Path) -> dict | None:
    try:
        with open(path, "rb") as fh:
            if fh.read(8) != b"\x89HDF\r\n\x1a\n":
                return None
        import h5py

        with h5py.File(path, "r") as fh:
            return {k: fh.attrs[k] for k in ("format", "device") if k in fh.attrs}
    except Exception:  # unreadable or not HDF5: not ours
        return None


def _zarr_attrs(path: Path) -> dict | None:
    doc = _json_doc(path / "zarr.json")
    if doc is None:
        doc = _json_doc(path / ".zattrs")
        return doc
    return doc.get("attributes") if isinstance(doc.get("attributes"), dict) else None


def _as_str(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _store_kind(attrs: dict | None) -> str | None:
    if not attrs:
        return None
    fmt = _as_str(attrs.get("format", ""))
    if fmt == "connectome-programming-map":
        return "map"
    if fmt == "connectome-imprint":
        return "imprint"
    if fmt == "cnea-truth":
        return "truth"
    if fmt == "cnea" and _as_str(attrs.get("device", "")) == SIMULATED_DEVICE:
        return "recording"
    return None


def _dir_entries_ok(path: Path, allowed) -> bool:
    for p in path.iterdir():
        if _is_tmp_name(p.name) or p.name in allowed:
            continue
        if p.is_dir() and not p.is_symlink() and recognise(p) == "figures":
            continue
        return False
    return True


def recognise(path) -> str | None:
    """The kind of connectome output ``path`` is, or None when it cannot be proven to be one.

    Kinds: ``"infer"`` (a folder of only :data:`INFER_FILES` whose
    ``summary.json`` carries the parameters and versions, plus optional
    ``inspect`` figure folders), ``"figures"`` (a folder of PNG/SVG files and
    its ``inspect.json``), ``"run"`` (a folder with a ``run-manifest.json``),
    ``"map"``, ``"imprint"``, ``"truth"``, ``"recording"`` (a recording written
    by ``connectome simulate``), ``"json"`` (the package's JSON reports and
    map summaries), ``"export"`` (a graph exported by ``inspect``/``compare``) and
    ``"map-export"`` (a ``connectome map-export`` folder: ``manifest.json`` and the tile files it lists).
    A symlink is never recognised: replacing it would not replace what it
    points to.
    """
    p = Path(path)
    if p.is_symlink() or not p.exists():
        return None
    if p.is_dir():
        if (p / "run-manifest.json").is_file():
            doc = _json_doc(p / "run-manifest.json")
            return "run" if doc is not None and doc.get("format") == "connectome-run-manifest" else None
        if (p / ".run.lock").is_file() and all(q.name == ".run.lock" or q.is_dir() for q in p.iterdir()):
            return "run"  # a run killed before it wrote its first manifest
        if (p / "manifest.json").is_file():  # a map-export folder: its manifest and the tile files it lists
            doc = _json_doc(p / "manifest.json")
            if doc is not None and doc.get("format") == "connectome-tile-export":
                listed = {"manifest.json"} | {f for t in doc.get("tiles", []) for f in t.get("files", {}).values()}
                if all(_is_tmp_name(q.name) or q.name in listed for q in p.iterdir()):
                    return "map-export"
            return None
        if (p / "inspect.json").is_file():
            doc = _json_doc(p / "inspect.json")
            if (
                doc is not None
                and "statistics" in doc
                and "figures" in doc
                and all(
                    _is_tmp_name(q.name)
                    or q.name == "inspect.json"
                    or (q.is_file() and q.suffix in (".png", ".svg"))
                    for q in p.iterdir()
                )
            ):
                return "figures"
            return None
        if (p / "summary.json").is_file() and not (p / "zarr.json").exists():
            doc = _json_doc(p / "summary.json")
            if (
                doc is not None
                and isinstance(doc.get("versions"), dict)
                and "connectome" in doc["versions"]
                and "parameters" in doc
                and _dir_entries_ok(p, INFER_FILES)
            ):
                return "infer"
            return None
        kind = _store_kind(_zarr_attrs(p))
        if kind is not None and all(
            _is_tmp_name(q.name)
            or q.name in ("zarr.json", "summary.json", ".zattrs", ".zgroup")
            or (
                q.is_dir()
                and ((q / "zarr.json").exists() or (q / ".zgroup").exists() or (q / ".zarray").exists())
            )
            for q in p.iterdir()
        ):
            return kind
        return None
    suffix = p.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        return _store_kind(_h5_attrs(p))
    if suffix == ".json":
        doc = _json_doc(p)
        if doc is None:
            return None
        if doc.get("format") in JSON_FORMATS:
            return "json"
        if p.name.endswith(".summary.json") and "technology" in doc and "tiles" in doc:
            return "json"  # a programming map's side summary
        if _is_export_json(doc):
            return "export"
        return None
    if suffix in (".graphml", ".gexf"):
        try:
            with open(p, "rb") as fh:
                head = fh.read(8192)
        except OSError:
            return None
        root = b"<graphml" if suffix == ".graphml" else b"<gexf"
        return "export" if root in head and b"weight_mv" in head else None
    return None


def _is_export_json(doc: dict) -> bool:
    """A node-link graph with connectome's node and edge columns (``inspect``/``compare --export``)."""
    nodes, links = doc.get("nodes"), doc.get("links")
    if "directed" not in doc or not isinstance(nodes, list) or not isinstance(links, list):
        return False
    if links:
        return isinstance(links[0], dict) and "weight_mv" in links[0] and "kind" in links[0]
    return not nodes or (isinstance(nodes[0], dict) and "x_um" in nodes[0])


def _resolved(p) -> Path:
    try:
        return Path(p).resolve()
    except (OSError, RuntimeError):  # a symlink loop: compare the path as given
        return Path(os.path.abspath(p))


def _within(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def _claimed_covers(path: Path) -> bool:
    """``path`` itself, or a file directly inside a folder, was claimed by :func:`check_output`."""
    parent = _resolved(path.parent)
    r = parent / path.name
    claimed = _claimed.get()
    return r in claimed or (parent in claimed and not (path.is_dir() and not path.is_symlink()))


def check_output(path, kind: str | tuple, inputs=(), *, folder: bool = False) -> Path:
    """Refuse (:class:`OutputError`) an output path the command may not write; claim it otherwise.

    Parameters
    ----------
    path : path
        The output (``--out``) the command is about to write.
    kind : str or tuple of str
        The :func:`recognise` kind(s) an existing ``path`` must have to be
        replaced.
    inputs : iterable of paths
        What the command reads; ``path`` may not be one of them or contain one.
    folder : bool
        The output is a folder: an existing empty folder is accepted.

    Returns the path. Once checked, the path (and, for a folder, what the
    command writes inside it) may be replaced by :func:`atomic_path` for the
    rest of the command.
    """
    path = Path(path)
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    target = _resolved(path)
    for i in inputs:
        if i is None:
            continue
        ri = _resolved(i)
        if _within(ri, target):
            what = "is" if ri == target else "contains"
            raise OutputError(f"output {what} the input {os.fspath(i)}; choose another output path", path)
    if path.is_symlink() and not path.exists():
        raise OutputError("output is a dangling symlink; remove it or choose another output path", path)
    if path.exists():
        if folder and path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
            pass
        elif recognise(path) not in kinds:
            if path.is_dir():
                why = "a symlink to a folder" if path.is_symlink() else "a folder"
                raise OutputError(
                    f"output exists and is {why} connectome did not write (not a connectome "
                    f"{' or '.join(kinds)} output); remove it or choose another path",
                    path,
                )
            raise OutputError(
                f"output exists and is a file connectome did not write (not a connectome "
                f"{' or '.join(kinds)} output); remove it or choose another path",
                path,
            )
    _claimed.set(_claimed.get() + (target,))
    return path


def claimed_outputs() -> tuple:
    """The outputs the running command has checked with :func:`check_output` (resolved)."""
    return _claimed.get()


@contextlib.contextmanager
def output_scope():
    """Forget the outputs claimed inside the block when it ends (one command = one scope)."""
    token = _claimed.set(_claimed.get())
    try:
        yield
    finally:
        _claimed.reset(token)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def json_safe(o):
    """``o`` with numpy scalars as Python numbers, tuples as lists, keys as text and non-finite floats as None.

    >>> import numpy as np
    >>> json_safe({1: (np.int64(2), float("nan"))})
    {'1': [2, None]}
    """
    import math

    if isinstance(o, dict):
        return {str(k): json_safe(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [json_safe(v) for v in o]
    item = getattr(o, "item", None)
    if callable(item) and type(o).__module__ == "numpy":  # a numpy scalar (numpy is not imported here)
        o = item()
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return o


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (a process we may not signal counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def _tmp_prefix(path: Path) -> str:
    return f".{path.name}.tmp-"


def clean_stale_temporaries(path) -> int:
    """Remove ``path``'s temporary siblings left by a killed process on this host; return how many.

    A temporary is named ``.NAME.tmp-HOST-PID-<random hex>``; it is removed only
    when HOST is this machine and PID is no longer running.
    """
    path = Path(path)
    host = socket.gethostname()
    n = 0
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return 0
    for p in siblings:
        if not p.name.startswith(_tmp_prefix(path)):
            continue
        owner = p.name[len(_tmp_prefix(path)) :].rsplit("-", 2)
        if len(owner) == 3 and owner[0] == host and owner[1].isdigit() and not pid_alive(int(owner[1])):
            _remove(p)
            n += 1
    return n


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, replace=None):
    """Yield a temporary sibling path; rename it onto ``path`` on success.

    Works for files and directories (zarr stores, output folders). On any
    exception the temporary is removed and ``path`` is left untouched. An
    existing ``path`` is replaced only when it is a connectome output
    (:func:`recognise`), sits inside an output the command claimed with
    :func:`check_output`, or ``replace(path)`` returns true; otherwise
    :class:`OutputError` is raised and ``path`` is left untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "out.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (d / "out.txt").read_text()
    'done'
    >>> _ = (d / "notes.txt").write_text("mine")
    >>> with atomic_path(d / "notes.txt") as tmp:  # doctest: +ELLIPSIS
    ...     _ = tmp.write_text("overwritten?")
    Traceback (most recent call last):
    ...
    connectome.errors.OutputError: ...notes.txt: output exists and connectome did not write it; ...
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(path)
    tmp = path.with_name(f"{_tmp_prefix(path)}{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        yield tmp
    except BaseException:
        _remove(tmp)
        raise
    if path.exists() or path.is_symlink():
        ok = recognise(path) is not None or _claimed_covers(path) or (replace is not None and replace(path))
        if (
            ok
            and path.is_dir()
            and not path.is_symlink()
            and _claimed_covers(path)
            and recognise(path) is None
        ):
            ok = not any(path.iterdir())  # a claimed folder is replaced only while still empty
        if not ok:
            _remove(tmp)
            raise OutputError(
                "output exists and connectome did not write it; remove it or choose another path", path
            )
        _remove(path)
    os.replace(tmp, path)
