"""``connectome simulate``: write a synthetic CNEA recording and its ground truth."""

from __future__ import annotations

import click

from ..errors import ConfigError
from ._common import echo_json, json_option, out_option, parse_params, progress_bar, quiet_option


def _grid(value: str) -> tuple:
    try:
        r, c = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--grid expects ROWSxCOLS (e.g. 64x64), got {value!r}") from None
    return (r, c)


@click.command("simulate")
@click.option("--neurons", type=int, default=2000, show_default=True, help="Neurons in the culture.")
@click.option("--grid", default="64x64", show_default=True, help="Electrode grid ROWSxCOLS.")
@click.option("--duration", type=float, default=60.0, show_default=True, help="Seconds of recording.")
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Random seed (same seed → identical files)."
)
@out_option("Recording to write (.h5 or .zarr); the truth goes to <stem>.truth.h5.", required=True)
@click.option(
    "--compression",
    type=click.Choice(["lzf", "gzip", "none"]),
    default=None,
    help="HDF5 compression (default lzf; gzip is smaller and slower).",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Any other simulator parameter (see docs/simulator.md), repeatable.",
)
@click.option(
    "--model",
    type=click.Choice(["psp", "hh"]),
    default="psp",
    show_default=True,
    help="psp: spike trains with PSP kernels added to V_m; hh: conductance-based "
    "Hodgkin–Huxley network with gap junctions (docs/simulator.md).",
)
@json_option()
@quiet_option()
def simulate_cmd(neurons, grid, duration, seed, out, compression, params, model, as_json, quiet):
    """Simulate a cultured network on a CNEA and write its recording and ground truth.

    The recording is streamed in one-second blocks: memory does not grow with
    --duration. Neurons, synapses, bursts, common input, membrane noise,
    electrode coupling, noise, drift and artefacts follow docs/simulator.md.
    """
    from ..api import simulate
    from ..io.atomic import check_output
    from ..simulate.run import truth_path_for

    if seed < 0:
        raise ConfigError(f"--seed must be an integer ≥ 0, got {seed}")
    d = parse_params(params)
    d.update(n_neurons=neurons, grid=_grid(grid), duration_s=duration, seed=seed)
    if compression:
        d["compression"] = compression
    check_output(out, "recording")
    check_output(truth_path_for(out), "truth")
    with progress_bar(quiet) as bar:
        res = simulate(out, d, model=model, progress=bar)
    k = res.n_edges
    if quiet:
        return
    if as_json:
        echo_json({"recording": str(res.recording_path), "truth": str(res.truth_path), "channels": res.n_channels,
                   "duration_s": res.duration_s, "neurons": res.n_neurons, "spikes": res.n_spikes,
                   "synapses": dict(k), "model": model, "seed": seed, "wall_s": round(res.wall_s, 3)})
        return
    click.echo(
        f"{res.recording_path}: {res.n_channels} channels × {res.duration_s:g} s, {res.n_neurons} neurons, "
        f"{res.n_spikes} spikes, synapses {k['excitatory']} excitatory / {k['inhibitory']} inhibitory / "
        f"{k['electrical']} electrical in {res.wall_s:.1f} s; truth → {res.truth_path}"
    )


COMMANDS = [simulate_cmd]
