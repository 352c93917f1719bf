"""GraphML / GEXF / node-link JSON export (connectome/graph/export.py)."""

import json

import networkx as nx
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
