"""``connectome inspect`` and ``connectome compare`` as a user runs them."""

import json

import pytest

from connectome.cli import main


def _run(capsys, *args):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_inspect_text_json_figures_and_export(sample_dir, sample_recording, tmp_path, capsys):
    rc, text, err = _run(capsys, "inspect", sample_dir, "--null-samples", "20")
    assert rc == 0, err
    for head in (
        "neurons        10",
        "synapses       8",
        "reciprocity",
        "clustering",
        "motifs",
        "in-degree",
        "weights",
        "distance",
        "E/I",
    ):
        assert head in text, head
    rc, text, err = _run(capsys, "inspect", sample_dir, "--json", "--null-samples", "20", "--seed", "4")
    doc = json.loads(text)
    s = doc["statistics"]
    assert rc == 0 and s["neurons"] == 10 and s["synapses"] == 8 and s["motifs"]["seed"] == 4
    figs = tmp_path / "figs"
    rc, text, err = _run(
        capsys,
        "inspect",
        sample_dir,
        "--figures",
        figs,
        "--pair",
        3,
        4,
        "--recording",
        sample_recording,
        "--null-samples",
        "10",
        "--export",
        tmp_path / "g.json",
        "-q",
    )
    assert rc == 0, err
    pngs, svgs = sorted(figs.glob("*.png")), sorted(figs.glob("*.svg"))
    assert (
        [p.stem for p in pngs]
        == [p.stem for p in svgs]
        == ["adjacency", "degrees", "distance", "grid", "motifs", "pair_3_4", "weights"]
    )
    for p in pngs:
        assert p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and p.stat().st_size > 10_000, p
    for p in svgs:
        data = p.read_bytes()
        assert b"<svg" in data[:2000] and data.rstrip().endswith(b"</svg>") and len(data) > 10_000, p
    assert sorted(p.name for p in figs.iterdir() if p.suffix not in (".png", ".svg")) == ["inspect.json"]
    side = json.loads((figs / "inspect.json").read_text())
    assert side["pair"]["n_pre_spikes"] == 43 and side["statistics"]["synapses"] == 8
    assert "pair           3 → 4" in text and "export" in text
    assert len(json.loads((tmp_path / "g.json").read_text())["links"]) == 8


def test_inspect_bad_input_is_one_line(sample_dir, tmp_path, capsys):
    cases = [
        (["inspect", tmp_path / "missing"], "no such file or directory"),
        (["inspect", sample_dir, "--pair", 3, 99, "--recording", tmp_path / "x.h5"], "no neuron 99"),
        (["inspect", sample_dir, "--pair", 3, 3], "two different neurons"),
        (["inspect", sample_dir, "--kinds", "chemcal"], "unknown synapse kind"),
        (["inspect", sample_dir, "--export", tmp_path / "g.dot", "--null-samples", "0"], "cannot export"),
        (["inspect", sample_dir, "--pair", 3, 4, "--recording", tmp_path / "none.h5"], "no such file"),
        (["compare", sample_dir, tmp_path / "nothing.graphml"], "no such file or directory"),
    ]
    (tmp_path / "empty").mkdir()
    cases.append((["inspect", tmp_path / "empty"], "neither edges.csv nor connectome.graphml"))
    for args, msg in cases:
        rc, text, err = _run(capsys, *args)
        assert rc == 2, (args, err)
        assert err.startswith("connectome: error: ") and err.count("\n") == 1 and msg in err, (args, err)
    assert not (tmp_path / "g.dot").exists()


def test_compare_truth_with_itself_and_with_inference(sample_dir, sample_truth, tmp_path, capsys):
    rc, text, err = _run(capsys, "compare", sample_truth, sample_truth)
    assert rc == 0, err
    assert "precision      1.000   recall 1.000   F1 1.000   Jaccard 1.000" in text
    assert "by channels" in text
    rc, text, err = _run(
        capsys, "compare", sample_dir, sample_truth, "--json", "--export", tmp_path / "a.gexf"
    )
    r = json.loads(text)
    assert rc == 0 and r["matching"]["method"] == "channels" and r["b"]["truth"]
    assert r["edges"]["true_positives"] + r["edges"]["false_positives"] == r["a"]["pairs"] == 8
    assert (tmp_path / "a.gexf").stat().st_size > 0
    rc, text, err = _run(capsys, "compare", sample_dir, sample_truth, "--match", "ids")
    assert rc == 0 and "by ids (requested)" in text


@pytest.mark.parametrize("args", [["inspect", "--help"], ["compare", "--help"]])
def test_help(capsys, args):
    rc, text, _ = _run(capsys, *args)
    assert rc == 0 and "Usage" in text
