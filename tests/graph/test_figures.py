"""Figures (connectome/graph/figures.py): every file written, valid PNG and SVG, deterministic."""

import numpy as np

from connectome.graph import Connectome
from connectome.graph.figures import (
    neuron_order,
    plot_adjacency,
    plot_distance,
    plot_grid,
    plot_pair,
    plot_weights,
    save_figure,
)
from connectome.traces import pair_traces

PNG = b"\x89PNG\r\n\x1a\n"


def check_figure_files(paths, names=None):
    """Every path a non-trivial PNG or SVG (and, if given, exactly the figures ``names``)."""
    if names is not None:
        assert sorted({p.stem for p in paths}) == sorted(names)
    for p in paths:
        data = p.read_bytes()
        assert len(data) > 2000, p
        if p.suffix == ".png":
            assert data.startswith(PNG)
        else:
            assert p.suffix == ".svg" and b"<svg" in data[:2000] and data.rstrip().endswith(b"</svg>")


def test_pair_figure_is_deterministic(sample_dir, tmp_path):
    c = Connectome.read(sample_dir)
    tr = pair_traces(sample_dir, 3, 4, connectome=c)
    first = save_figure(plot_pair(tr), tmp_path / "a", "pair_3_4")
    again = save_figure(plot_pair(tr), tmp_path / "b", "pair_3_4")
    check_figure_files(first)
    for p, q in zip(first, again):  # no timestamps or random ids: same input, same bytes
        assert p.read_bytes() == q.read_bytes(), p.name


def test_larger_graph_and_degenerate_inputs(tmp_path):
    rng = np.random.default_rng(0)
    n, m = 400, 3000
    pre, post = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = pre != post
    kind = rng.choice([1, 2, 3], keep.sum(), p=[0.7, 0.25, 0.05])
    big = Connectome(
        neurons={"neuron_id": np.arange(n), "x_um": rng.uniform(0, 1000, n), "y_um": rng.uniform(0, 1000, n)},
        edges={
            "pre": pre[keep],
            "post": post[keep],
            "kind": kind,
            "weight_mv": np.where(kind == 2, -1, 1) * rng.lognormal(0, 0.5, keep.sum()),
        },
    )
    # above max_dense the adjacency is drawn as points; above max_arrows synapses are lines
    paths = save_figure(plot_adjacency(big, max_dense=100), tmp_path, "adjacency", dpi=80)
    paths += save_figure(plot_grid(big, max_arrows=100), tmp_path, "grid", dpi=80)
    # no edges, no positions: the figures say so instead of failing
    empty = Connectome(neurons={"neuron_id": [0, 1, 2]})
    for name, plot in (
        ("grid_empty", plot_grid),
        ("weights_empty", plot_weights),
        ("distance_empty", plot_distance),
        ("adjacency_empty", plot_adjacency),
    ):
        paths += save_figure(plot(empty), tmp_path, name, formats=("png",))
    check_figure_files(
        paths, ["adjacency", "grid", "grid_empty", "weights_empty", "distance_empty", "adjacency_empty"]
    )


def test_order_is_type_then_position():
    c = Connectome(
        neurons={
            "neuron_id": [0, 1, 2, 3],
            "type": ["inhibitory", "excitatory", "unknown", "excitatory"],
            "x_um": [0, 50, 0, 10],
            "y_um": [0, 20, 0, 20],
        }
    )
    assert c.neuron_id[neuron_order(c)].tolist() == [3, 1, 0, 2]


def test_every_title_and_legend_lies_inside_the_saved_figure(sample_dir):
    """At the saved size no title, axis label or legend is cut at the figure's edges
    (the first title line of the grid figure was)."""
    from connectome.graph.figures import plot_degrees

    c = Connectome.read(sample_dir)
    xy = (np.asarray(c.neurons["x_um"]), np.asarray(c.neurons["y_um"]))
    makers = (
        lambda: plot_grid(c, xy),
        lambda: plot_adjacency(c),
        lambda: plot_weights(c),
        lambda: plot_degrees(c),
        lambda: plot_distance(c),
    )
    for make in makers:
        fig = make()
        fig.set_dpi(150)
        fig.draw_without_rendering()
        W, H = fig.bbox.width, fig.bbox.height
        texts = [fig._suptitle] if fig._suptitle is not None else []
        for ax in fig.axes:
            texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        for leg in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
            texts += list(leg.get_texts())
        for t in texts:
            if not t.get_visible() or not t.get_text().strip():
                continue
            b = t.get_window_extent()
            assert b.x0 >= -1 and b.y0 >= -1 and b.x1 <= W + 1 and b.y1 <= H + 1, (t.get_text(), b, W, H)
