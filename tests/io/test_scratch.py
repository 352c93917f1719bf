"""Stale scratch cleaning never touches folders that are not the package's (connectome/io/scratch.py)."""

import os
import socket
import time

from connectome.io import scratch


def _aged(path, seconds=3600):
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_clean_stale_in_a_shared_temp_folder_keeps_other_folders(tmp_path):
    other = tmp_path / "someone-elses-work"  # no owner file, old: not ours
    other.mkdir()
    (other / "data.txt").write_text("keep me")
    _aged(other)
    ours = tmp_path / "connectome-infer-crashed"  # ours, ownerless, empty and old: stale
    ours.mkdir()
    _aged(ours)
    results = tmp_path / "connectome-results"  # a user's (or a benchmark's) folder with our prefix: not ours
    results.mkdir()
    (results / "edges.csv").write_text("keep me too")
    _aged(results)
    dead = tmp_path / "connectome-infer-dead"  # ours, owner gone
    dead.mkdir()
    (dead / "owner").write_text(f"{socket.gethostname()} 999999999\n")
    removed = scratch.clean_stale(tmp_path)
    assert sorted(p.name for p in removed) == ["connectome-infer-crashed", "connectome-infer-dead"]
    assert (other / "data.txt").read_text() == "keep me"
    assert (results / "edges.csv").read_text() == "keep me too"


def test_clean_stale_in_the_dedicated_folder_removes_ownerless_folders(tmp_path):
    root = tmp_path / scratch.SCRATCH_NAME
    root.mkdir()
    old = root / "demo-abc"
    old.mkdir()
    _aged(old)
    fresh = root / "demo-new"  # just made: its owner file may be on its way
    fresh.mkdir()
    assert scratch.clean_stale(root) == [old]
    assert fresh.exists()


def test_a_library_call_without_an_output_spares_the_system_temp_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(scratch.ENV, raising=False)
    monkeypatch.setattr(scratch.tempfile, "gettempdir", lambda: str(tmp_path))
    other = tmp_path / "build-cache"
    other.mkdir()
    _aged(other)
    d = scratch.make_scratch("connectome-test-")
    try:
        assert d.parent == tmp_path
    finally:
        scratch.release(d)
    assert other.exists() and not d.exists()
