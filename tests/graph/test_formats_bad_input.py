"""Damaged or malformed connectome inputs (CSV, GraphML, truth .h5) are one-line errors, never internal ones.

Each case was an internal error (a KeyError, TypeError, IsADirectoryError,
csv.Error, OverflowError or a bare ValueError) found by the fuzzer
(tests/fuzz_cases.py); each must now be a ConnectomeFormatError naming the
file, and exit status 2 from the command line.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from connectome.cli import main
from connectome.errors import ConnectomeFormatError
from connectome.graph.connectome import Connectome
from connectome.graph.formats import read_connectome


def _truth(path, **replace):
    """A valid 3-neuron truth file; ``replace`` maps dataset names to new values (None: delete)."""
    cols = {
        "neurons/id": np.arange(3),
        "neurons/x_um": np.zeros(3),
        "neurons/is_excitatory": np.ones(3, bool),
        "edges/pre": np.array([0, 1]),
        "edges/post": np.array([1, 2]),
        "edges/weight_mv": np.array([0.5, -0.2]),
        "edges/delay_ms": np.array([1.0, 2.0]),
        "edges/kind": np.array([1, 2]),
    }
    cols.update(replace)
    with h5py.File(path, "w") as fh:
        for k, v in cols.items():
            if v is None:
                continue
            if isinstance(v, str) and v == "group":
                fh.create_group(k)
            else:
                fh[k] = v
    return path


def _assert_clean(path, capsys, *fragments):
    with pytest.raises(ConnectomeFormatError) as ei:
        read_connectome(path)
    assert ei.value.path is not None
    for f in fragments:
        assert f in str(ei.value)
    rc = main(["compile", str(path), "--out", str(path.parent / "out" / "m.map.h5"), "-q", "--no-baselines"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("connectome: error: ") and "internal error" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (path.parent / "out").exists() or not any((path.parent / "out").iterdir())


def test_valid_truth_reads(tmp_path):
    c = read_connectome(_truth(tmp_path / "t.truth.h5"))
    assert (c.n_neurons, c.n_edges) == (3, 2)
    assert c.edges["kind"].tolist() == [1, 2]


@pytest.mark.parametrize(
    "replace, fragment",
    [
        ({"neurons/id": "group"}, "/neurons/id is a group"),
        ({"edges/weight_mv": "group"}, "/edges/weight_mv is a group"),
        ({"neurons/id": None}, "no /neurons/id"),
        ({"edges/weight_mv": None}, "no /edges/weight_mv"),
        ({"edges/pre": None}, "no /edges/pre"),
        ({"neurons/id": np.asarray(3.0)}, "expected one dimension"),
        ({"neurons/id": np.zeros((3, 2))}, "expected one dimension"),
        ({"edges/pre": np.array([b"x", b"y"])}, "expected numbers"),
        ({"edges/weight_mv": np.array([b"x", b"y"])}, "expected numbers"),
        ({"neurons/x_um": np.zeros(2)}, "neuron column 'x_um' has 2 rows, expected 3"),
        ({"edges/delay_ms": np.zeros(4)}, "edge column 'delay_ms' has 4 rows"),
        ({"neurons/id": np.array([0.0, np.nan, 2.0])}, "integer neuron ids"),
        ({"edges/post": np.array([1.0, np.nan])}, "integer neuron ids"),
        ({"edges/post": np.array([1, -1])}, "unknown neuron"),
        ({"edges/kind": np.array([1, 4])}, "unknown edge kind code 4"),
        ({"edges/kind": np.array([1.0, 2.5])}, "whole numbers"),
        ({"neurons/id": np.zeros(0, int), "neurons/x_um": None, "neurons/is_excitatory": None}, "no neurons"),
    ],
)
def test_bad_truth_is_a_clean_error(tmp_path, capsys, replace, fragment):
    _assert_clean(_truth(tmp_path / "t.truth.h5", **replace), capsys, fragment)


def test_damaged_truth_file(tmp_path, capsys):
    p = _truth(tmp_path / "t.truth.h5")
    data = bytearray(p.read_bytes())
    for i in range(0, len(data), 97):  # damage the object headers and B-trees, keep the superblock
        if i > 64:
            data[i] ^= 0x5A
    p.write_bytes(bytes(data))
    _assert_clean(p, capsys)


def _csv_dir(d):
    Connectome.from_edges([0, 1], [1, 2], weight_mv=[0.5, -0.2], kind=["excitatory", "inhibitory"]).write_csv(
        d
    )
    return d


@pytest.mark.parametrize("name", ["edges.csv", "neurons.csv"])
def test_csv_that_is_a_directory(tmp_path, capsys, name):
    d = _csv_dir(tmp_path / "con")
    (d / name).unlink()
    (d / name).mkdir()
    _assert_clean(d, capsys, "is a directory")


def test_neurons_csv_with_only_a_header(tmp_path, capsys):
    d = _csv_dir(tmp_path / "con")
    (d / "neurons.csv").write_text((d / "neurons.csv").read_text().splitlines()[0] + "\n")
    _assert_clean(d, capsys, "no neurons")


def test_stray_carriage_return_in_a_text_column(tmp_path, capsys):
    d = _csv_dir(tmp_path / "con")
    (d / "neurons.csv").write_text("neuron_id,channels\n0,1\n1,\r2\n2,3\n")
    _assert_clean(d, capsys, "malformed CSV")


@pytest.mark.parametrize("cell", ["nan", "1.5", "1e20", "inf"])
def test_neuron_id_not_an_integer(tmp_path, capsys, cell):
    d = _csv_dir(tmp_path / "con")
    (d / "neurons.csv").write_text(f"neuron_id,x_um\n0,1\n1,2\n{cell},3\n")
    _assert_clean(d, capsys, "integer neuron ids")


def test_unreadable_summary_json_is_ignored(tmp_path):
    d = _csv_dir(tmp_path / "con")
    (d / "summary.json").mkdir()
    c = read_connectome(d)
    assert c.n_edges == 2 and "summary" not in c.meta


GRAPHML = """<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="d0" for="edge" attr.name="weight_mv" attr.type="double" />
  <graph edgedefault="directed">
    <node id="{a}" />
    <node id="1" />
    <edge source="{a}" target="1"><data key="d0">0.5</data></edge>
  </graph>
</graphml>
"""


def test_graphml_node_ids_beyond_int64_are_numbered(tmp_path):
    p = tmp_path / "g.graphml"
    p.write_text(GRAPHML.format(a="99999999999999999999"))
    c = read_connectome(p)  # labels that are not int64 ids: the nodes are numbered 0..N-1, as for text labels
    assert c.neuron_id.tolist() == [0, 1] and c.n_edges == 1


def test_graphml_duplicate_ids_after_conversion(tmp_path, capsys):
    p = tmp_path / "g.graphml"
    p.write_text(GRAPHML.format(a="01"))
    _assert_clean(p, capsys, "not unique")


def test_graphml_weight_text(tmp_path, capsys):
    p = tmp_path / "g.graphml"
    p.write_text(
        GRAPHML.format(a="0").replace('attr.type="double"', 'attr.type="string"').replace("0.5", "abc")
    )
    _assert_clean(p, capsys, "weight_mv")


def test_symlink_loop_is_named(tmp_path, capsys):
    loop = tmp_path / "loop.graphml"
    loop.symlink_to(tmp_path / "loop.graphml")
    with pytest.raises(ConnectomeFormatError, match="symbolic link to nothing"):
        read_connectome(loop)
    rc = main(["compile", str(loop), "--out", str(tmp_path / "out" / "m.map.h5"), "-q"])
    assert rc == 2 and "symbolic link" in capsys.readouterr().err
