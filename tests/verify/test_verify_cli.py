"""``connectome verify`` and ``connectome imprint`` as a user runs them: output, files, one-line errors."""

import json

import h5py
import pytest

from connectome.cli import main


def _run(capsys, *args):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_verify_prints_a_table_and_writes_the_report(capsys, maps, con_dir, tmp_path):
    rc, text, err = _run(capsys, "verify", maps["pcm"], "--connectome", con_dir, "--after", "1d", "--seed", "3")
    assert rc == 0, err
    assert "Pearson" in text and "decile" in text and "lost" in text and "after 1d (86400 s)" in text
    default = maps["pcm"].with_name("pcm.verify.json")
    r = json.loads(default.read_text())
    assert r["parameters"]["after_s"] == 86400.0 and r["parameters"]["seed"] == 3 and r["format"] == "connectome-verify"
    out = tmp_path / "sub" / "v.json"
    rc, text, err = _run(capsys, "verify", maps["pcm"], "--connectome", con_dir, "--after", "1d", "--seed", "3",
                         "--out", out, "--json")
    assert rc == 0, err
    assert json.loads(text) == json.loads(out.read_text()) == r  # same seed: same report


def test_verify_no_compensation_and_functional(capsys, maps, con_dir, tmp_path):
    out = tmp_path / "f.json"
    rc, text, err = _run(capsys, "verify", maps["rram"], "--connectome", con_dir, "--no-drift-compensation",
                         "--functional", "--functional-duration", "2", "--stuck-fraction", "0.01", "--out", out)
    assert rc == 0, err
    r = json.loads(out.read_text())
    assert not r["parameters"]["drift_compensation"] and r["device"]["stuck_cells"] > 0
    assert 0 <= r["functional"]["score"] <= 1 and "fidelity" in text


@pytest.mark.parametrize("args,needle", [
    (["--after", "1x"], "bad time '1x'"),
    (["--after", "-3"], "bad time"),
    (["--stuck-fraction", "1.5"], "stuck_fraction"),
    (["--functional", "--functional-duration", "0"], "duration_s"),
])
def test_verify_bad_options_exit_2_in_one_line(capsys, maps, con_dir, args, needle):
    rc, text, err = _run(capsys, "verify", maps["rram"], "--connectome", con_dir, *args)
    assert rc == 2 and needle in err and err.count("\n") == 1 and err.startswith("connectome: error:")


def test_verify_bad_inputs_exit_2_in_one_line(capsys, maps, con_dir, tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(maps["rram"].read_bytes()[:2000])
    for m, c, needle in ((tmp_path / "none.h5", con_dir, "no such file"), (bad, con_dir, "bad.h5"),
                         (maps["rram"], tmp_path / "nothing", "no such file"),
                         (con_dir / "edges.csv", con_dir, "programming-map suffix")):
        rc, _, err = _run(capsys, "verify", m, "--connectome", c)
        assert rc == 2 and needle in err and err.count("\n") == 1, err
    # a tampered dataset fails its checksum
    t = tmp_path / "t.h5"
    t.write_bytes(maps["rram"].read_bytes())
    with h5py.File(t, "r+") as fh:
        fh["cells/level"][0] = fh["cells/level"][0] + 1
    rc, _, err = _run(capsys, "verify", t, "--connectome", con_dir)
    assert rc == 2 and "sha256" in err and err.count("\n") == 1
    assert not (tmp_path / "t.verify.json").exists()


def test_imprint_cli_and_map_info(capsys, strong_recording, tmp_path):
    rec, truth = strong_recording
    out = tmp_path / "imp.h5"
    rc, text, err = _run(capsys, "imprint", rec, "--technology", "pcm", "--out", out, "--reference", truth,
                         "--duration", "20", "--nonlinearity", "1", "--param", "z_threshold=2.5")
    assert rc == 0, err
    assert "AUC" in text and "imprinted" in text and "20 s imprinted" in text
    rc, text, err = _run(capsys, "map-info", out)
    assert rc == 0 and "structural invariants: OK" in text
    with h5py.File(tmp_path / "imp.imprint.h5") as fh:
        info = json.loads(fh.attrs["info"])
    assert info["device"]["nl_ltp"] == 1.0 and info["params"]["z_threshold"] == 2.5 and info["technology"] == "pcm"


@pytest.mark.parametrize("args,needle", [
    (["-t", "mram"], "imprinting needs"),
    (["--param", "z_treshold=3"], "did you mean 'z_threshold'"),
    (["--nonlinearity", "20"], "nonlinearity 20"),
    (["--reference", "nowhere"], "no such file"),
    (["--param", "window_ms=[5, 1]"], "window_ms"),
])
def test_imprint_bad_options_exit_2_in_one_line(capsys, strong_recording, tmp_path, args, needle):
    rec, _ = strong_recording
    rc, _, err = _run(capsys, "imprint", rec, "--out", tmp_path / "x.h5", *args)
    assert rc == 2 and needle in err and err.count("\n") == 1, err
    assert not (tmp_path / "x.h5").exists()


def test_imprint_bad_recording_exit_2(capsys, tmp_path):
    rc, _, err = _run(capsys, "imprint", tmp_path / "missing.h5", "--out", tmp_path / "o" / "x.h5")
    assert rc == 2 and "missing.h5" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()
    rc, _, err = _run(capsys, "imprint", tmp_path / "missing.h5", "--out", tmp_path / "x.csv")
    assert rc == 2 and "suffix" in err


def test_verify_readout_flags(capsys, maps, con_dir, tmp_path):
    out = tmp_path / "r.json"
    rc, text, err = _run(capsys, "verify", maps["pcm"], "--connectome", con_dir, "--input-activity", "0.05",
                         "--out", out)
    assert rc == 0, err
    assert "read-out        wires 2.5 Ω/cell" in text and "0.05 of rows driven" in text
    assert json.loads(out.read_text())["device"]["readout"]["input_activity"] == 0.05
    rc, text, err = _run(capsys, "verify", maps["pcm"], "--connectome", con_dir, "--no-readout", "--out", out)
    assert rc == 0 and "read-out        ideal" in text
    rc, text, err = _run(capsys, "verify", maps["pcm"], "--connectome", con_dir, "--input-activity", "0",
                         "--out", out)
    assert rc == 2 and "input_activity" in err
