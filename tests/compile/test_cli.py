"""``connectome compile`` and ``connectome map-info`` as a user runs them."""

import json

import pytest

from connectome.cli import main
from connectome.graph import Connectome
from connectome.graph.formats import write_csv, write_graphml


@pytest.fixture(scope="module")
def infer_dir(tmp_path_factory, small_connectome):
    d = tmp_path_factory.mktemp("infer")
    write_csv(small_connectome, d)
    return d


def _run(capsys, *args):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_compile_infer_dir_and_map_info(tmp_path, capsys, infer_dir, small_connectome):
    out = tmp_path / "map.h5"
    rc, text, err = _run(capsys, "compile", infer_dir, "--technology", "rram", "--crossbar", "128x128",
                         "--layers", "8", "--out", out)
    assert rc == 0, err
    assert "tiles" in text and "lower bound" in text and out.exists()
    rc, text, err = _run(capsys, "map-info", out)
    assert rc == 0, err
    assert "structural invariants: OK" in text and "map.summary.json" in text and "crossbar 128x128" in text
    rc, text, _ = _run(capsys, "map-info", "--json", out)
    s = json.loads(text)
    assert s["synapses"] == small_connectome.n_edges and s["layers"] == 8
    side = json.loads((tmp_path / "map.summary.json").read_text())
    assert set(side["timings_s"]) >= {"compile_s", "tiling_s"}
    assert set(side["tiles_by_ordering"]) == {"identity", "metis", "naive_identity_grid", "rcm", "spectral"}


def test_compile_edges_csv_graphml_and_zarr(tmp_path, capsys, infer_dir):
    gml = tmp_path / "c.graphml"
    c = Connectome.from_edges([1, 2, 3], [2, 3, 1], weight_mv=[0.4, -0.2, 0.1], delay_ms=[1.0, 2.0, 3.0])
    write_graphml(c, gml)
    for src, out, tech in ((infer_dir / "edges.csv", tmp_path / "e.zarr", "pcm"), (gml, tmp_path / "g.h5", "flash")):
        rc, _, err = _run(capsys, "compile", src, "-t", tech, "--out", out, "-q")
        assert rc == 0, err
        rc, _, err = _run(capsys, "map-info", out)
        assert rc == 0, err


def test_options_reach_the_map(tmp_path, capsys, infer_dir):
    user = tmp_path / "user.toml"
    user.write_text('base = "pcm"\nname = "pcm-2x"\n[conductance]\ng_max_us = 50.0\n')
    out = tmp_path / "m.h5"
    rc, text, err = _run(capsys, "compile", infer_dir, "--technology-file", user, "--scheme", "split",
                         "--clip", "p95", "--delay-buckets", "2", "--power-budget", "5", "--seed", "3",
                         "--partitioner", "rcm", "--crossbar", "64x64", "--json", "--out", out)
    assert rc == 0, err
    s = json.loads(text)
    assert s["technology"] == "pcm-2x" and s["scheme"] == "split" and s["partitioner"] == "rcm"
    assert s["clipped"] > 0 and s["delays"]["buckets"] == 2 and s["power_budget_mw"] == 5.0
    assert s["peak_power_mw"] <= 5.0


BAD = {
    "unknown technology": (["-t", "unobtainium"], "accepted names: flash (nand"),
    "crossbar too big": (["-t", "rram", "--crossbar", "4096x4096"], "exceeds the rram limit of 1024x1024"),
    "crossbar syntax": (["-t", "rram", "--crossbar", "big"], "--crossbar expects ROWSxCOLS"),
    "too many layers": (["-t", "mram", "--layers", "8"], "8 layers exceed the mram limit of 1"),
    "bad suffix": (["-t", "rram", "--out", "map.txt"], "unknown programming-map suffix"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_options_one_line_exit_2(tmp_path, capsys, infer_dir, case):
    args, phrase = BAD[case]
    if "--out" not in args:
        args = args + ["--out", str(tmp_path / "m.h5")]
    args = [a if a != "map.txt" else str(tmp_path / a) for a in args]
    rc, _, err = _run(capsys, "compile", infer_dir, *args)
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and phrase in err and err.startswith("connectome: error:")
    assert not (tmp_path / "m.h5").exists()


def test_nan_weights_named(tmp_path, capsys):
    f = tmp_path / "edges.csv"
    f.write_text("pre,post,kind,weight_mv,delay_ms\n1,2,excitatory,0.5,1\n2,3,excitatory,nan,1\n"
                 "3,1,inhibitory,,1\n")
    rc, _, err = _run(capsys, "compile", f, "-t", "rram", "--out", tmp_path / "m.h5")
    assert rc == 2
    assert str(f) in err and "2 edge(s) have a non-finite weight_mv" in err and "2→3" in err and "3→1" in err
    assert not (tmp_path / "m.h5").exists()


def test_empty_connectome_valid_empty_map(tmp_path, capsys):
    f = tmp_path / "edges.csv"
    f.write_text("pre,post,kind,weight_mv,delay_ms\n")
    out = tmp_path / "empty.h5"
    rc, text, err = _run(capsys, "compile", f, "-t", "flash", "--out", out)
    assert rc == 0, err
    rc, text, err = _run(capsys, "map-info", "--json", out)
    assert rc == 0, err
    assert json.loads(text)["tiles"] == 0


def test_map_info_reports_corruption(tmp_path, capsys, infer_dir):
    out = tmp_path / "m.h5"
    assert _run(capsys, "compile", infer_dir, "-t", "rram", "-q", "--out", out)[0] == 0
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0x01
    out.write_bytes(bytes(data))
    rc, _, err = _run(capsys, "map-info", out)
    assert rc == 2 and "corrupted" in err and str(out) in err and len(err.strip().splitlines()) == 1
    rc, _, err = _run(capsys, "map-info", tmp_path / "missing.h5")
    assert rc == 2 and "no such file" in err


def test_compile_is_deterministic_via_cli(tmp_path, capsys, infer_dir):
    for name in ("a.h5", "b.h5"):
        assert _run(capsys, "compile", infer_dir, "-t", "pcm", "-q", "--seed", "2", "--out", tmp_path / name)[0] == 0
    assert (tmp_path / "a.h5").read_bytes() == (tmp_path / "b.h5").read_bytes()
    a = json.loads((tmp_path / "a.summary.json").read_text())
    b = json.loads((tmp_path / "b.summary.json").read_text())
    a.pop("timings_s"), b.pop("timings_s")
    assert a == b
