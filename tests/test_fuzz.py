"""Quick fuzz of every reader through the command line (fixed seed; the long run is benchmarks/fuzz.py).

Every case must end in a clean error (exit 2/4, one ``connectome: error:``
line) or be accepted; none may be an internal error, hang, leave a partial
output or a temporary, or change its input. Failing cases are listed with
their id: ``python benchmarks/fuzz.py --replay ID`` rebuilds and reruns one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import fuzz_cases as fc

SEED = 20261204
N_CASES = 140  # 20 per family
LIMIT_S = 10.0  # a hang, as in benchmarks/fuzz.py (every input is a few kB)

def _describe(bad) -> str:
    return "\n".join(f"{r['id']} [{r['mutation']}] {r['outcome']}: {r['error']}"
                     + (f" partial={r['partial']}" if r["partial"] else "")
                     + (f" input_changed={r['input_changed']}" if r["input_changed"] else "") for r in bad)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return fc.run_cases(fc.case_ids(N_CASES, SEED), base=tmp_path_factory.mktemp("fuzz"), timeout=LIMIT_S)


@pytest.mark.parametrize("family", fc.FAMILIES)
def test_family_breaks_no_promise(results, family):
    mine = [r for r in results if r["family"] == family]
    assert len(mine) == N_CASES // len(fc.FAMILIES)
    bad = [r for r in mine if fc.is_failure(r)]
    assert not bad, f"{len(bad)} of {len(mine)} {family} cases broke a promise:\n" + _describe(bad)
    # the cases exercise the readers: most mutations are refused, and valid or harmless ones are read
    outcomes = {r["outcome"] for r in mine}
    assert "clean" in outcomes


def test_every_family_accepts_its_valid_file(tmp_path):
    """The unmutated file of each family is accepted (exit 0): the generator starts from valid inputs."""
    import numpy as np

    from connectome.cli import main

    rng = np.random.default_rng(7)
    fc.write_valid_recording(tmp_path / "r.h5", rng)
    fc.write_valid_recording(tmp_path / "r.zarr", rng)
    fc.write_valid_nwb(tmp_path / "n.h5", rng)
    fc.write_valid_csv_dir(tmp_path / "con", rng)
    fc.write_valid_graphml(tmp_path / "g.graphml", rng)
    fc.write_valid_truth(tmp_path / "t.truth.h5", rng)
    (tmp_path / "m").mkdir()
    m = fc.write_valid_map(tmp_path / "m" / "m", rng, tmp_path / "cache")
    for argv in (["info", str(tmp_path / "r.h5")], ["info", str(tmp_path / "r.zarr")],
                 ["info", str(tmp_path / "n.h5")], ["map-info", str(m)]):
        assert main(argv) == 0, argv
    for i, src in enumerate(("con", "g.graphml", "t.truth.h5")):
        assert main(["compile", str(tmp_path / src), "--out", str(tmp_path / f"o{i}.map.h5"), "-q",
                     "--no-baselines"]) == 0, src


def test_case_ids_rebuild_the_same_files(tmp_path):
    """A case id alone rebuilds byte-identical files and the same command (what --replay relies on)."""
    for fam in fc.FAMILIES:
        cid = f"{fam}:5:{fc.FAMILIES.index(fam)}"
        a, b = tmp_path / f"{fam}-a", tmp_path / f"{fam}-b"
        a.mkdir()
        b.mkdir()
        sa, sb = fc.build_case(cid, a, tmp_path / "cache"), fc.build_case(cid, b, tmp_path / "cache")
        assert sa["mutation"] == sb["mutation"]
        assert [x.replace(str(a), "") for x in sa["argv"]] == [x.replace(str(b), "") for x in sb["argv"]]
        files_a = {p.relative_to(a): p.read_bytes() for p in a.rglob("*") if p.is_file()}
        files_b = {p.relative_to(b): p.read_bytes() for p in b.rglob("*") if p.is_file()}
        if fam in ("rec-zarr", "map"):  # zarr metadata is JSON: same content
            files_a = {k: json.loads(v) if k.name == "zarr.json" else v for k, v in files_a.items()}
            files_b = {k: json.loads(v) if k.name == "zarr.json" else v for k, v in files_b.items()}
        if fam in ("rec-h5", "rec-nwb", "con-truth", "map"):  # HDF5 object headers may hold times: compare keys
            files_a, files_b = set(files_a), set(files_b)
        assert files_a == files_b, fam


def test_classify():
    assert fc.classify(0, "") == "accepted"
    assert fc.classify(2, "connectome: error: x.h5: truncated HDF5 file\n") == "clean"
    assert fc.classify(4, "connectome: error: out: read-only output folder\n") == "clean"
    assert fc.classify(1, "connectome: internal error: KeyError: 'x' (set CONNECTOME_DEBUG=1 …)\n") == "internal"
    assert fc.classify(2, "Usage: connectome info [OPTIONS] FILE\nError: no such option\n") == "internal"
    assert fc.classify(2, "Traceback (most recent call last):\nconnectome: error: x\n") == "internal"
    assert fc.classify(None, "") == "internal"


def test_partial_output_and_changed_input_are_detected(tmp_path, monkeypatch):
    """The detectors themselves: a failing command that leaves a file, and one that edits its input."""
    import connectome.cli

    def leaves_file(argv):
        out = Path(argv[argv.index("--out") + 1])
        out.parent.mkdir(parents=True, exist_ok=True)
        Path(os.environ["TMPDIR"], "scratch.bin").write_bytes(b"x")
        out.with_name("." + out.name + ".tmp-1234abcd").write_bytes(b"half")
        print("connectome: error: x: refused", file=__import__("sys").stderr)
        return 2

    monkeypatch.setattr(connectome.cli, "main", leaves_file)
    res = fc.run_in_worker("con-csv:0:3", tmp_path, tmp_path / "cache")
    assert res["outcome"] == "clean"
    assert any(".tmp-1234abcd" in p for p in res["partial"]) and any("scratch.bin" in p for p in res["partial"])
    assert fc.is_failure(res)

    def edits_input(argv):
        Path(argv[1]).write_bytes(b"overwritten")
        return 0

    monkeypatch.setattr(connectome.cli, "main", edits_input)
    res = fc.run_in_worker("con-truth:0:5", tmp_path, tmp_path / "cache")
    assert res["outcome"] == "accepted" and res["input_changed"] == ["rec.truth.h5"]
    assert fc.is_failure(res)


def test_hang_is_detected_and_the_worker_restarted(tmp_path):
    runner = fc.Runner(tmp_path, timeout=0.0)
    try:
        res = runner.run("con-truth:0:5")
        assert res["outcome"] == "hang" and res["mutation"] != "?"
        runner.timeout = 30.0
        assert runner.run("con-truth:0:5")["outcome"] in ("clean", "accepted")
    finally:
        runner.close()


# Cases of the long run (``python benchmarks/fuzz.py --cases 10000``, seed 0) that were
# internal errors once: damaged HDF5 object headers and heaps (h5py KeyError/RuntimeError),
# a root attribute ``format`` that is an array, CurrentClampSeries of mixed dtypes, a map
# summary.json that is a JSON list, root attributes set to complex numbers or arrays.
FORMER_INTERNAL = ["rec-h5:0:175", "rec-h5:0:1519", "rec-h5:0:1988", "rec-h5:0:3773", "rec-h5:0:4515",
                   "rec-h5:0:8659", "rec-h5:0:4956", "rec-nwb:0:2893", "rec-nwb:0:8269", "map:0:881",
                   "map:0:1280", "map:0:2141", "map:0:8833"]


def test_former_internal_errors_are_clean(tmp_path):
    res = fc.run_cases(FORMER_INTERNAL, base=tmp_path, timeout=LIMIT_S)
    assert [r["outcome"] for r in res] == ["clean"] * len(FORMER_INTERNAL), _describe(res)
    assert not any(fc.is_failure(r) for r in res)
