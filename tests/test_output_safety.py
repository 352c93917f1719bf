"""Output safety: a command replaces only what it wrote, never an input; temporaries never outlive it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connectome.cli import main
from connectome.errors import EnvironmentFault, OutputError
from connectome.io import scratch
from connectome.io.atomic import atomic_path, check_output, clean_stale_temporaries, output_scope, recognise
from connectome.simulate import SimParams, simulate

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "sample.h5"


@pytest.fixture(scope="module")
def rec(tmp_path_factory) -> Path:
    """A tiny simulated recording (16 channels, 4 s) and its truth file beside it."""
    d = tmp_path_factory.mktemp("rec")
    p = SimParams(n_neurons=12, grid=(4, 4), duration_s=4.0, seed=5)
    return Path(simulate(p, d / "rec.h5").recording)


@pytest.fixture(scope="module")
def truth(rec) -> Path:
    return rec.with_name("rec.truth.h5")


def _run(argv, capsys):
    rc = main([str(a) for a in argv])
    return rc, capsys.readouterr().err.strip()


def _one_line_error(err: str, needle: str) -> None:
    assert err.startswith("connectome: error: ") and len(err.splitlines()) == 1, err
    assert needle in err, err


# --------------------------------------------------------------------- infer --out


def test_infer_refuses_an_output_folder_holding_the_input(tmp_path, rec, capsys):
    d = tmp_path / "d"
    d.mkdir()
    (d / "rec.h5").write_bytes(rec.read_bytes())
    rc, err = _run(["infer", d / "rec.h5", "--out", d, "--quiet"], capsys)
    assert rc == 2
    _one_line_error(err, "output contains the input")
    assert (d / "rec.h5").read_bytes() == rec.read_bytes()
    assert sorted(p.name for p in d.iterdir()) == ["rec.h5"]


def test_infer_refuses_out_dot_where_the_recording_is(tmp_path, rec, capsys, monkeypatch):
    (tmp_path / "rec.h5").write_bytes(rec.read_bytes())
    monkeypatch.chdir(tmp_path)
    rc, err = _run(["infer", "rec.h5", "--out", ".", "--quiet"], capsys)
    assert rc == 2
    _one_line_error(err, "output contains the input rec.h5")
    assert (tmp_path / "rec.h5").exists()


def test_infer_refuses_output_that_is_the_input_through_a_symlink(tmp_path, rec, capsys):
    link = tmp_path / "link"
    link.symlink_to(rec)
    rc, err = _run(["infer", rec, "--out", link, "--quiet"], capsys)
    assert rc == 2
    _one_line_error(err, "output is the input")
    assert rec.exists() and link.is_symlink()


def test_infer_refuses_a_folder_of_unrelated_files_and_a_regular_file(tmp_path, rec, capsys):
    e = tmp_path / "e"
    e.mkdir()
    (e / "notes.txt").write_text("mine")
    rc, err = _run(["infer", rec, "--out", e, "--quiet"], capsys)
    assert rc == 2
    _one_line_error(err, "is a folder connectome did not write")
    assert (e / "notes.txt").read_text() == "mine"
    f = tmp_path / "f.txt"
    f.write_text("mine")
    rc, err = _run(["infer", rec, "--out", f, "--quiet"], capsys)
    assert rc == 2
    _one_line_error(err, "is a file connectome did not write")
    assert f.read_text() == "mine"


def test_infer_replaces_its_own_output_and_refuses_it_once_a_user_file_is_added(tmp_path, rec, capsys):
    out = tmp_path / "inf"
    out.mkdir()  # an empty folder is accepted
    rc, _ = _run(["infer", rec, "--out", out, "--quiet"], capsys)
    assert rc == 0 and recognise(out) == "infer"
    rc, _ = _run(["infer", rec, "--out", out, "--quiet"], capsys)
    assert rc == 0 and recognise(out) == "infer"
    assert not list(tmp_path.glob(".*"))  # no temporaries, no .connectome-tmp left beside it
    (out / "my_notes.txt").write_text("keep")
    rc, err = _run(["infer", rec, "--out", out, "--quiet"], capsys)
    assert rc == 2 and (out / "my_notes.txt").read_text() == "keep"


# --------------------------------------------------------------------- other commands


def test_compile_refuses_foreign_paths_and_replaces_its_own_map(tmp_path, truth, capsys):
    z = tmp_path / "m.map.zarr"
    z.mkdir()
    (z / "notes.txt").write_text("mine")
    args = ["compile", truth, "--crossbar", "32x32", "--layers", "2", "--quiet", "--partitioner", "rcm"]
    rc, err = _run(args + ["--out", z], capsys)
    assert rc == 2 and (z / "notes.txt").read_text() == "mine"
    _one_line_error(err, "not a connectome map output")
    f = tmp_path / "other.map.h5"
    f.write_text("mine")
    rc, _ = _run(args + ["--out", f], capsys)
    assert rc == 2 and f.read_text() == "mine"
    m = tmp_path / "m.map.h5"
    (tmp_path / "m.map.summary.json").write_text('{"mine": 1}')  # a user's file where the summary would go
    rc, err = _run(args + ["--out", m], capsys)
    assert rc == 2 and json.loads((tmp_path / "m.map.summary.json").read_text()) == {"mine": 1}
    (tmp_path / "m.map.summary.json").unlink()
    for _ in range(2):  # the second run replaces the first run's map and summary
        rc, _ = _run(args + ["--out", m], capsys)
        assert rc == 0 and recognise(m) == "map" and recognise(tmp_path / "m.map.summary.json") == "json"
    z2 = tmp_path / "n.map.zarr"
    for _ in range(2):
        rc, _ = _run(args + ["--out", z2], capsys)
        assert rc == 0 and recognise(z2) == "map"


def test_simulate_replaces_only_its_own_recording(tmp_path, capsys):
    out = tmp_path / "s.h5"
    out.write_text("a real recording of mine")
    args = ["simulate", "--neurons", "3", "--grid", "2x2", "--duration", "1", "--quiet"]
    rc, err = _run(args + ["--out", out], capsys)
    assert rc == 2 and out.read_text() == "a real recording of mine"
    out2 = tmp_path / "t.h5"
    for _ in range(2):
        rc, _ = _run(args + ["--out", out2], capsys)
        assert rc == 0 and recognise(out2) == "recording" and recognise(tmp_path / "t.truth.h5") == "truth"


def test_inspect_and_compare_exports_and_figures(tmp_path, truth, capsys):
    foreign = tmp_path / "g.graphml"
    foreign.write_text("<graphml>mine</graphml>")
    rc, err = _run(["inspect", truth, "--null-samples", "0", "--export", foreign], capsys)
    assert rc == 2 and foreign.read_text() == "<graphml>mine</graphml>"
    _one_line_error(err, "not a connectome export output")
    for suffix in (".graphml", ".gexf", ".json"):
        e = tmp_path / f"e{suffix}"
        for _ in range(2):
            rc, _ = _run(["inspect", truth, "--null-samples", "0", "--export", e], capsys)
            assert rc == 0 and recognise(e) == "export"
    rc, err = _run(["compare", truth, truth, "--export", truth], capsys)
    assert rc == 2 and "is the input" in err
    figs = tmp_path / "figs"
    figs.mkdir()
    (figs / "holiday.png").write_bytes(b"mine")
    rc, err = _run(["inspect", truth, "--null-samples", "0", "--figures", figs], capsys)
    assert rc == 2 and (figs / "holiday.png").read_bytes() == b"mine"


def test_verify_refuses_a_foreign_report_path(tmp_path, truth, capsys):
    m = tmp_path / "m.map.h5"
    assert _run(["compile", truth, "--crossbar", "32x32", "--layers", "2", "--partitioner", "rcm", "--quiet",
                 "--out", m], capsys)[0] == 0
    foreign = tmp_path / "report.json"
    foreign.write_text('{"mine": true}')
    rc, err = _run(["verify", m, "--connectome", truth, "--quiet", "--out", foreign], capsys)
    assert rc == 2 and json.loads(foreign.read_text()) == {"mine": True}
    rc, _ = _run(["verify", m, "--connectome", truth, "--quiet"], capsys)
    assert rc == 0 and recognise(tmp_path / "m.map.verify.json") == "json"


def test_run_refuses_a_non_empty_foreign_output_root(tmp_path, rec, capsys):
    root = tmp_path / "root"
    root.mkdir()
    (root / "thesis.tex").write_text("mine")
    (tmp_path / "p.toml").write_text(f'[run]\ninputs = ["{rec}"]\noutput = "root"\n')
    rc, err = _run(["run", tmp_path / "p.toml", "--quiet"], capsys)
    assert rc == 2 and sorted(p.name for p in root.iterdir()) == ["thesis.tex"]
    _one_line_error(err, "not a connectome run output")


# --------------------------------------------------------------------- atomic_path itself


def test_atomic_path_never_removes_an_unrelated_path(tmp_path):
    for target in (tmp_path / "file.csv", tmp_path / "folder"):
        if target.suffix:
            target.write_text("mine")
        else:
            target.mkdir()
            (target / "x").write_text("mine")
        with pytest.raises(OutputError, match="did not write"):
            with atomic_path(target) as tmp:
                tmp.write_text("new")
        assert (target.read_text() if target.is_file() else (target / "x").read_text()) == "mine"
        assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


def test_atomic_path_replaces_files_inside_a_claimed_output_folder(tmp_path):
    d = tmp_path / "figs"
    d.mkdir()
    with output_scope():
        check_output(d, "figures", folder=True)
        for text in ("one", "two"):
            with atomic_path(d / "a.png") as tmp:
                tmp.write_text(text)
        assert (d / "a.png").read_text() == "two"
    with pytest.raises(OutputError):  # outside the command that claimed it, the folder is not provably ours
        with atomic_path(d / "a.png") as tmp:
            tmp.write_text("three")


def test_stale_temporary_siblings_of_dead_processes_are_removed(tmp_path):
    target = tmp_path / "out.h5"
    dead = tmp_path / f".out.h5.tmp-{socket.gethostname()}-999999999-deadbeef"
    live = tmp_path / f".out.h5.tmp-{socket.gethostname()}-{os.getpid()}-cafecafe"
    other_host = tmp_path / ".out.h5.tmp-elsewhere-1-00000000"
    for p in (dead, live, other_host):
        p.write_text("x")
    assert clean_stale_temporaries(target) == 1
    assert not dead.exists() and live.exists() and other_host.exists()


# --------------------------------------------------------------------- scratch


def test_scratch_location_owner_file_and_cleanup(tmp_path, monkeypatch):
    monkeypatch.delenv(scratch.ENV, raising=False)
    out = tmp_path / "result"
    with pytest.raises(RuntimeError):
        with scratch.scratch_dir("connectome-test-", near=out) as d:
            assert d.parent == tmp_path / ".connectome-tmp"
            host, pid = (d / "owner").read_text().split()
            assert host == socket.gethostname() and int(pid) == os.getpid()
            raise RuntimeError("boom")
    assert not (tmp_path / ".connectome-tmp").exists()
    monkeypatch.setenv(scratch.ENV, str(tmp_path / "elsewhere"))
    with scratch.scratch_dir("connectome-test-", near=out) as d:
        assert d.parent == tmp_path / "elsewhere"
    assert not d.exists()


def test_scratch_removes_folders_of_killed_runs(tmp_path, monkeypatch):
    monkeypatch.setenv(scratch.ENV, str(tmp_path))
    stale = tmp_path / "connectome-infer-killed"
    stale.mkdir()
    (stale / "binned.f16").write_bytes(b"\0" * 64)
    (stale / "owner").write_text(f"{socket.gethostname()} 999999999\n")
    alive = tmp_path / "connectome-infer-alive"
    alive.mkdir()
    (alive / "owner").write_text(f"{socket.gethostname()} {os.getpid()}\n")
    with scratch.scratch_dir("connectome-test-"):
        pass
    assert not stale.exists() and alive.exists()


def test_scratch_refuses_a_temporary_larger_than_the_free_space(tmp_path, monkeypatch):
    monkeypatch.setenv(scratch.ENV, str(tmp_path))
    with pytest.raises(EnvironmentFault, match="not enough disk space"):
        with scratch.scratch_dir("connectome-test-", planned_bytes=scratch.free_bytes(tmp_path) + (1 << 40)):
            pass
    assert list(tmp_path.iterdir()) == []
    assert scratch.free_bytes(tmp_path / "not" / "yet") > 0


def _default_sigint():
    # a job started in the background by a non-interactive shell (nohup, `cmd &`) inherits SIGINT ignored, and
    # Python then leaves it ignored: give the child the default disposition, as an interactive user's has
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_infer_removes_the_temporaries(tmp_path, sig, status):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop(scratch.ENV, None)
    for attempt in range(3):
        work = tmp_path / f"try{attempt}"
        proc = subprocess.Popen([sys.executable, "-m", "connectome.cli", "infer", str(SAMPLE), "--out",
                                 str(work / "out"), "--quiet"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, preexec_fn=_default_sigint)
        tmp = work / ".connectome-tmp"
        deadline = time.time() + 120
        while not list(tmp.glob("connectome-infer-*/binned.f16")) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, "infer finished before it could be interrupted"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        if proc.returncode == 0 and (work / "out" / "summary.json").exists():
            continue  # on a loaded machine the signal can land after infer's last step: no case, try again
        assert proc.returncode == status, err
        assert not tmp.exists() and not (work / "out").exists()
        assert b"Traceback" not in err
        return
    pytest.fail("infer finished before the signal arrived, three times")
