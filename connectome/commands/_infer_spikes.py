"""``connectome infer`` on sorted spike trains (spike-train mode, docs/spiketrains.md)."""

from __future__ import annotations

import warnings

import click

from ._common import echo_warnings


def infer_spikes(
    recording, out_dir, q_threshold, min_pre_spikes, workers, params: dict, quiet=False, as_json=False
) -> None:
    """Run spike-train mode and print the one-line summary (the CLI's ``--mode spikes`` branch)."""
    from ..io.atomic import check_output
    from ..spiketrains import SpikeParams, infer_spike_trains_to

    d = dict(params)
    for k, v in (("q_threshold", q_threshold), ("min_spikes", min_pre_spikes), ("workers", workers)):
        if v is not None:
            d[k] = v
    p = SpikeParams.from_dict(d)
    check_output(out_dir, "infer", inputs=[recording], folder=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = infer_spike_trains_to(recording, out_dir, p)
    echo_warnings(caught)
    s = res.summary
    if quiet:
        return
    if as_json:
        from ._common import echo_json

        echo_json({"out": str(out_dir), **{key: s[key] for key in ("mode", "neurons", "synapses", "by_kind", "input")}})
        return
    k = s["by_kind"]
    click.echo(
        f"{recording}: {s['neurons']} units, {s['synapses']} synapses ({k['excitatory']} excitatory, "
        f"{k['inhibitory']} inhibitory) from {s['input']['spikes']} spikes, spike-train mode, in "
        f"{s['timings']['total_s']:.1f} s → {out_dir}"
    )
