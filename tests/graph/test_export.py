"""GraphML / GEXF / node-link JSON export (connectome/graph/export.py)."""

import json
import shutil
import subprocess

import networkx as nx
import numpy as np
import pytest

from connectome.errors import ConnectomeFormatError
from connectome.graph import Connectome
from connectome.graph.export import export_graph


@pytest.mark.parametrize("suffix", [".graphml", ".gexf", ".json"])
def test_round_trip(sample_dir, tmp_path, suffix):
    c = Connectome.read(sample_dir)
    p = export_graph(c, tmp_path / f"g{suffix}")
    if suffix == ".graphml":
        g = nx.read_graphml(p)
    elif suffix == ".gexf":
        g = nx.read_gexf(p)
    else:
        g = nx.node_link_graph(json.loads(p.read_text()), edges="links")
    assert g.number_of_nodes() == c.n_neurons and g.number_of_edges() == c.n_edges
    kinds = sorted(d["kind"] for *_, d in g.edges(data=True))
    assert kinds == sorted(c.kind_names().tolist())
    node = dict(g.nodes(data=True))[list(g.nodes)[0]]
    assert isinstance(node["n_spikes"], int) and "channels" in node  # counts stay integers


def test_nan_is_null_in_json_and_absent_in_graphml(tmp_path):
    c = Connectome(
        neurons={"neuron_id": [0, 1], "rate_hz": [1.5, float("nan")]},
        edges={"pre": [0], "post": [1], "weight_mv": [0.4]},
    )
    doc = json.loads(export_graph(c, tmp_path / "g.json").read_text())
    assert {n["id"]: n["rate_hz"] for n in doc["nodes"]} == {0: 1.5, 1: None}
    g = nx.read_graphml(export_graph(c, tmp_path / "g.graphml"))
    assert "rate_hz" not in g.nodes["1"]


def test_unknown_suffix_is_an_error(tmp_path):
    with pytest.raises(ConnectomeFormatError, match="cannot export"):
        export_graph(Connectome.from_edges([0], [1], weight_mv=[1.0]), tmp_path / "g.dot")
    assert not list(tmp_path.iterdir())


def test_json_loads_with_the_default_reader_of_current_and_older_networkx(sample_dir, tmp_path):
    c = Connectome.read(sample_dir)
    doc = json.loads(export_graph(c, tmp_path / "g.json").read_text())
    g = nx.node_link_graph(doc)  # networkx >= 3.4 reads "edges" by default
    old = nx.node_link_graph(doc, edges="links")  # what older networkx and d3 read
    for h in (g, old):
        assert h.number_of_edges() == c.n_edges
    assert doc["edges"] == doc["links"]


@pytest.mark.parametrize("suffix", [".graphml", ".gexf", ".json"])
def test_every_graph_export_has_a_conventional_weight(sample_dir, tmp_path, suffix):
    c = Connectome.read(sample_dir)
    p = export_graph(c, tmp_path / f"g{suffix}")
    g = {
        ".graphml": nx.read_graphml,
        ".gexf": nx.read_gexf,
        ".json": lambda q: nx.node_link_graph(json.loads(q.read_text())),
    }[suffix](p)
    for *_, d in g.edges(data=True):
        assert d["weight"] == pytest.approx(abs(d["weight_mv"]))
    # and so does the connectome.graphml infer writes; reading it back does not add a column
    g = nx.read_graphml(sample_dir / "connectome.graphml")
    assert all(d["weight"] == pytest.approx(abs(d["weight_mv"])) for *_, d in g.edges(data=True))
    assert "weight" not in Connectome.read(sample_dir / "connectome.graphml").edges


def test_gexf_has_positions_and_no_date(sample_dir, tmp_path):
    c = Connectome.read(sample_dir)
    a = export_graph(c, tmp_path / "a.gexf")
    b = export_graph(c, tmp_path / "b.gexf")
    assert a.read_bytes() == b.read_bytes()
    text = a.read_text()
    assert "lastmodifieddate" not in text and text.startswith("<?xml")
    g = nx.read_gexf(a)
    for k, nid in enumerate(c.neuron_id):
        pos = g.nodes[str(int(nid))]["viz"]["position"]
        assert (pos["x"], pos["y"]) == pytest.approx((c.neurons["x_um"][k], c.neurons["y_um"][k]))


def test_empty_edges_csv_has_the_schema_of_a_full_one(sample_dir, tmp_path):
    pd = pytest.importorskip("pandas")
    full = Connectome.read(sample_dir)
    empty = Connectome(neurons=dict(full.neurons), edges={k: v[:0] for k, v in full.edges.items()})
    empty.write_csv(tmp_path)
    header = (sample_dir / "edges.csv").read_text().splitlines()[0]
    assert (tmp_path / "edges.csv").read_text().splitlines()[0] == header
    # the same dtypes through the package's reader, so that tables concatenate
    back = Connectome.read(tmp_path)
    e_full, e_empty = full.to_pandas()[1], back.to_pandas()[1]
    assert list(e_empty.columns) == list(e_full.columns)
    both = pd.concat([e_empty, e_full], ignore_index=True)
    assert both.dtypes.to_dict() == e_full.dtypes.to_dict()
    # plain pandas, with the documented dtypes (a CSV carries none)
    from connectome.graph.tables import EDGE_SCHEMA

    dt = {k: str if v is object else v for k, v in EDGE_SCHEMA.items()}
    a, b = pd.read_csv(tmp_path / "edges.csv", dtype=dt), pd.read_csv(sample_dir / "edges.csv", dtype=dt)
    assert pd.concat([a, b], ignore_index=True).dtypes.to_dict() == b.dtypes.to_dict()
    # a connectome with no neurons at all
    Connectome(neurons={"neuron_id": np.zeros(0, np.int64)}, edges={}).write_csv(tmp_path / "none")
    n_header = (sample_dir / "neurons.csv").read_text().splitlines()[0]
    assert (tmp_path / "none" / "neurons.csv").read_text().splitlines()[0] == n_header
    assert (tmp_path / "none" / "edges.csv").read_text().splitlines()[0] == header


@pytest.mark.skipif(
    shutil.which("h5dump") is None, reason="h5dump not installed (apt-get install hdf5-tools)"
)
def test_infer_hdf5_output_loads_in_h5dump(sample_dir):
    r = subprocess.run(["h5dump", "-H", str(sample_dir / "connectivity.h5")], capture_output=True, text=True)
    assert r.returncode == 0 and "weight_mv" in r.stdout, r.stderr
