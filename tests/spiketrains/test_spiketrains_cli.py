"""``connectome infer`` in spike-train mode, end to end on tiny files, and the paste stages after it."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from synth import planted

from connectome.cli import main
from connectome.graph.connectome import Connectome


def spike_file(path, duration_s=300.0, data=False):
    t, u = planted(seed=2, duration_s=duration_s)
    with h5py.File(path, "w") as fh:
        fh.attrs["format"] = "cnea"
        fh["spikes/times_s"] = t
        fh["spikes/unit_id"] = u
        fh["units/id"] = np.arange(6)
        fh["units/x_um"] = np.arange(6) * 20.0
        fh["units/y_um"] = np.zeros(6)
        if data:
            d = fh.create_dataset("data", data=np.zeros((20000, 4), np.int16))
            d.attrs["sampling_rate_hz"] = 20000.0
            fh["channels/row"] = np.zeros(4, np.int64)
            fh["channels/col"] = np.arange(4)
    return path


def test_infer_spikes_end_to_end_then_compile(tmp_path, capsys):
    src = spike_file(tmp_path / "units.h5")
    out = tmp_path / "inf"
    assert main(["infer", str(src), "--out", str(out)]) == 0
    assert "spike-train mode" in capsys.readouterr().out
    names = sorted(p.name for p in out.iterdir())
    assert names == ["connectivity.h5", "connectome.graphml", "edges.csv", "neurons.csv", "summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mode"] == "spikes" and summary["weight_unit"].startswith("efficacy")
    con = Connectome.read(out)
    pairs = set(zip(con.edges["pre"].tolist(), con.edges["post"].tolist()))
    assert (0, 1) in pairs and (0, 5) not in pairs
    np.testing.assert_allclose(con.neurons["x_um"], np.arange(6) * 20.0)
    with h5py.File(out / "connectivity.h5") as fh:
        assert fh["score"].shape == (6, 6) and np.isfinite(fh["q_value"][0, 1])
    m = tmp_path / "m.map.h5"
    assert (
        main(
            [
                "compile",
                str(out),
                "--technology",
                "rram",
                "--crossbar",
                "16x16",
                "--layers",
                "1",
                "--out",
                str(m),
                "-q",
            ]
        )
        == 0
    )
    assert m.exists()
    capsys.readouterr()
    # no voltage traces to average in spike mode: one clear line, exit 2
    assert main(["inspect", str(out), "--pair", "0", "1"]) == 2
    assert "sorted spike trains" in capsys.readouterr().err
    # the functional check simulates PSPs in mV: refused for efficacies, nothing written
    assert main(["verify", str(m), "--connectome", str(out), "--functional"]) == 2
    assert "efficacy" in capsys.readouterr().err and not (tmp_path / "m.map.verify.json").exists()
    assert main(["verify", str(m), "--connectome", str(out), "-q"]) == 0


def test_same_bytes_twice(tmp_path):
    src = spike_file(tmp_path / "units.h5", duration_s=120.0)
    for d in ("a", "b"):
        assert main(["infer", str(src), "--out", str(tmp_path / d), "--quiet"]) == 0
    for name in ("edges.csv", "neurons.csv", "connectivity.h5", "connectome.graphml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_voltages_win_unless_told(tmp_path, capsys):
    src = spike_file(tmp_path / "both.h5", duration_s=60.0, data=True)
    assert main(["infer", str(src), "--out", str(tmp_path / "v"), "--quiet"]) == 0
    assert json.loads((tmp_path / "v" / "summary.json").read_text()).get("mode") != "spikes"
    assert main(["infer", str(src), "--out", str(tmp_path / "s"), "--mode", "spikes"]) == 0
    assert json.loads((tmp_path / "s" / "summary.json").read_text())["mode"] == "spikes"


@pytest.mark.parametrize(
    "t,u,fragment",
    [
        ([0.2, 0.1], [1, 1], "not in increasing order"),
        ([np.nan, 0.1], [1, 1], "not finite"),
        ([0.1, 0.1], [1, 1], "duplicate spike"),
    ],
)
def test_bad_spikes_exit_2_nothing_written(tmp_path, capsys, t, u, fragment):
    p = tmp_path / "bad.npz"
    np.savez(p, times_s=np.array(t), unit_id=np.array(u))
    out = tmp_path / "out"
    assert main(["infer", str(p), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(p) in err and fragment in err and err.startswith("connectome: error:")
    assert not out.exists() and sorted(x.name for x in tmp_path.iterdir()) == ["bad.npz"]


def test_api_infer_picks_spike_mode(tmp_path):
    import connectome

    src = spike_file(tmp_path / "units.h5", duration_s=120.0)
    inf = connectome.infer(str(src))
    assert inf.summary["mode"] == "spikes"
    inf.write(tmp_path / "w")
    with h5py.File(tmp_path / "w" / "connectivity.h5") as fh:
        assert "p_value" in fh and fh.attrs["mode"] == "spikes"


def test_infer_nwb_units(tmp_path, capsys):
    pynwb = pytest.importorskip("pynwb")
    from datetime import datetime, timezone

    t, u = planted(seed=3, duration_s=200.0)
    nwb = pynwb.NWBFile(
        session_description="t", identifier="x", session_start_time=datetime.now(timezone.utc)
    )
    for uid in range(6):
        nwb.add_unit(id=10 + uid, spike_times=t[u == uid])
    p = tmp_path / "units.nwb"
    with pynwb.NWBHDF5IO(str(p), "w") as io:
        io.write(nwb)
    assert main(["infer", str(p), "--out", str(tmp_path / "inf")]) == 0
    con = Connectome.read(tmp_path / "inf")
    assert con.neuron_id.tolist() == list(range(10, 16))
    assert (10, 11) in set(zip(con.edges["pre"].tolist(), con.edges["post"].tolist()))


def test_run_pipeline_over_sorted_sessions(tmp_path, capsys):
    for k in (1, 2):
        spike_file(tmp_path / f"s{k}.h5", duration_s=120.0)
    (tmp_path / "p.toml").write_text(
        '[run]\ninputs = ["s1.h5", "s2.h5"]\noutput = "out"\nstages = ["infer", "compile"]\n\n'
        '[[compile]]\ntechnology = "rram"\ncrossbar = "16x16"\nlayers = 1\n'
    )
    assert main(["run", str(tmp_path / "p.toml"), "--quiet", "--no-report"]) == 0
    for k in (1, 2):
        d = tmp_path / "out" / f"s{k}"
        assert json.loads((d / "infer" / "summary.json").read_text())["mode"] == "spikes"
        assert (d / "rram.map.h5").exists()
