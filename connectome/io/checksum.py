"""Checksums recorded in every output.

``file_fingerprint`` is a sampled SHA-256 — size, the first and last MiB and
64 evenly spaced 64-KiB blocks — cheap enough for recordings of tens of GB
and sensitive to truncation, replacement and most edits. ``sha256_file`` is
the full digest, for small files (maps, connectomes).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256_file(path, block: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(block), b""):
            h.update(chunk)
    return h.hexdigest()


def _files(path: Path):
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file())


def file_fingerprint(path) -> str:
    """Sampled SHA-256 of a file or of every file in a directory store (zarr)."""
    path = Path(path)
    h = hashlib.sha256()
    for f in _files(path):
        size = f.stat().st_size
        h.update(os.fsencode(f.relative_to(path) if f != path else f.name))
        h.update(size.to_bytes(8, "little"))
        with open(f, "rb") as fh:
            if size <= (4 << 20):
                h.update(fh.read())
                continue
            offsets = [0, max(0, size - (1 << 20))]
            step = size // 65
            offsets += [k * step for k in range(1, 65)]
            for off in offsets:
                fh.seek(off)
                h.update(fh.read(1 << 20 if off in offsets[:2] else 1 << 16))
    return "sampled-sha256:" + h.hexdigest()
