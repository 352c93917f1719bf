"""Fingerprint every output of a pipeline run, so that two versions of the code can be compared.

Runs ``connectome run PIPELINE`` (default: ``pipelines/demo.toml``, the bundled
sample) into a fresh temporary directory and prints one line per output file,
``sha256  relative/path``, sorted by path. Files whose content holds wall-clock
times or software versions are normalised first:

- JSON files (``summary.json``, ``*.summary.json``, ``run-manifest.json``,
  ``.state/*.json``, ``*.verify.json``): the fields listed in
  :data:`VOLATILE_KEYS` (wall-clock timings, start/finish dates, software
  versions, the resume key), at any depth, every absolute path, and the
  sha256 of JSON files recorded in an ``outputs`` table are replaced by
  ``"*"``; the JSON is then re-serialised with sorted keys;
- HTML reports (``report.html``): not content-compared (they embed the
  normalised JSON and the date of the run); only listed, as ``-``.

Every other file (CSV, GraphML, HDF5 connectivity and programming maps) is
hashed byte for byte: the project's outputs are deterministic and must stay so.

Usage::

    python benchmarks/identical_outputs.py [PIPELINE.toml] [--keep DIR] > before.txt
    # change the code, then
    python benchmarks/identical_outputs.py [PIPELINE.toml] > after.txt
    diff before.txt after.txt && echo identical

Exit status 0 on a successful run (whatever the hashes), 1 if the pipeline failed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: JSON keys whose values change from run to run (wall-clock times, versions) or with any edit of the
#: code (``key``: the pipeline's resume key digests each stage's source code, by design)
VOLATILE_KEYS = {
    "timings",
    "timings_s",
    "versions",
    "connectome_version",
    "seconds",
    "started",
    "finished",
    "key",
    "abs_path",
}


def _normalise(obj, key: str = ""):
    """``obj`` with volatile fields replaced by ``"*"`` (see the module docstring)."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k in VOLATILE_KEYS:
                out[k] = "*"
            elif key == "outputs" and str(k).endswith(".json"):
                out[k] = "*"  # the sha256 of a JSON file that holds timings; that file is compared normalised
            else:
                out[k] = _normalise(v, k)
        return out
    if isinstance(obj, list):
        return [_normalise(v, key) for v in obj]
    if isinstance(obj, str) and os.path.isabs(obj):
        return "*"  # where the run happened (temporary directory, checkout)
    return obj


def file_digest(path: Path) -> str:
    """sha256 of ``path`` after normalisation (see the module docstring); ``-`` for HTML."""
    name = path.name.lower()
    if name.endswith(".html"):
        return "-"
    if name.endswith(".json"):
        try:
            data = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError):
            pass
        else:
            text = json.dumps(_normalise(data), sort_keys=True, indent=1)
            return hashlib.sha256(text.encode()).hexdigest()
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fingerprint_tree(root: Path) -> list[tuple[str, str]]:
    """``(digest, relative path)`` of every file below ``root``, sorted by path."""
    out = []
    for p in sorted(root.rglob("*")):
        if p.is_file():
            out.append((file_digest(p), p.relative_to(root).as_posix()))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pipeline", nargs="?", default=str(ROOT / "pipelines" / "demo.toml"))
    ap.add_argument(
        "--keep", default=None, help="write the outputs here (kept) instead of a temporary directory"
    )
    args = ap.parse_args(argv)
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="identical-outputs-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        out = tmp / "out"
        if out.exists():
            shutil.rmtree(out)
        env = {**os.environ, "MPLBACKEND": "Agg"}
        # run from the temporary directory: the code is whichever ``connectome`` PYTHONPATH (or the
        # installed package) gives, never the working directory's
        code = (
            "import sys, connectome, connectome.cli; print(connectome.__file__, file=sys.stderr); "
            "sys.exit(connectome.cli.main(sys.argv[1:]))"
        )
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                "run",
                str(Path(args.pipeline).resolve()),
                "--out",
                str(out),
                "--quiet",
            ],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout + proc.stderr)
            return 1
        sys.stderr.write(f"code: {proc.stderr.splitlines()[0] if proc.stderr else '?'}\n")
        for digest, rel in fingerprint_tree(out):
            print(f"{digest}  {rel}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
