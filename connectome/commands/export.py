"""``connectome export OUTDIR --nwb FILE.nwb``: a connectome and its neurons written back to NWB.

What is written (docs/interop.md, "Writing back to NWB"):

- the detected neurons as a ``Units`` table: ``spike_times`` (s, on the
  session's clock: the recording's start time + sample / rate), ``electrodes``
  (rows of the file's electrodes table: the neuron's channels), and the
  columns ``neuron_id``, ``type``, ``ap_amplitude_mv``, ``x_um``, ``y_um``;
- the connectome as a ``DynamicTable`` named ``synapses`` in the processing
  module ``connectome``: ``pre`` and ``post`` (``DynamicTableRegion`` into that
  Units table), ``kind``, ``weight`` (mV, the PSP amplitude), ``delay`` (ms),
  ``q`` (Benjamini–Hochberg q-value) and ``score``.

Spike times are not part of an inference directory: they are detected again
in the recording with the inference's own parameters (``summary.json``), and
each neuron's channels must be those of ``neurons.csv``.

With ``--append`` the tables are added to an existing NWB file (normally the
source recording): the file is copied to a temporary name, the tables are
added, and the copy replaces the file; ``/acquisition`` is never written. The
Units table goes to ``/units`` when the file has none, else to
``/processing/connectome/units``. The NWB Units table follows the NWB core
schema (Rübel et al. 2022, eLife 11:e78362).
"""

from __future__ import annotations

import datetime
import os
import shutil
import warnings
from pathlib import Path

import click
import numpy as np

from ..errors import ConfigError, ConnectomeFormatError
from ._common import progress_bar, quiet_option


def _require_pynwb():
    try:
        import pynwb
    except ImportError:
        raise ConfigError('writing NWB needs pynwb: pip install "connectome[interop]"') from None
    return pynwb


def neuron_spike_times(con, rec, params=None, progress=None) -> list[np.ndarray]:
    """Each neuron's spike times (s) in ``rec``, detected again with the inference's parameters.

    Raises :class:`~connectome.errors.ConnectomeFormatError` if the channels
    the detection merges into neurons are not those of ``con`` (a different
    recording, version or parameters).
    """
    from ..api import detect_spikes
    from ..graph.connectome import parse_channels
    from ..traces import inference_params

    p = params or inference_params(con)
    st = detect_spikes(rec, p, progress=progress)
    want = {tuple(sorted(parse_channels(c))): k for k, c in enumerate(con.neurons.get("channels", []))}
    out: list = [None] * con.n_neurons
    for j, chans in enumerate(st.neurons.channels):
        k = want.get(tuple(sorted(int(c) for c in chans)))
        if k is not None:
            out[k] = st.neuron_times_s(j)
    missing = [int(con.neuron_id[k]) for k, v in enumerate(out) if v is None]
    if missing:
        raise ConnectomeFormatError(
            f"the spikes detected in {rec.path} do not give neuron(s) {missing[:5]}"
            f"{' …' if len(missing) > 5 else ''} of the connectome (different recording or parameters)",
            con.meta.get("source", "connectome"),
        )
    start = float(rec.attrs.get("start_time_s", 0.0) or 0.0)
    return [np.asarray(t, np.float64) + start for t in out]


def _electrode_rows(nwb, rec, source_is_nwb: bool):
    """Electrodes-table row of each recording channel, creating the table in a new file."""
    import h5py

    if source_is_nwb and nwb.electrodes is not None:
        series = rec.attrs.get("series") or ""
        with h5py.File(rec.path, "r") as fh:
            node = fh.get(series) if series else None
            if node is not None and "electrodes" in node:
                return np.asarray(node["electrodes"][()], np.int64)
        return np.arange(rec.n_channels)
    if nwb.electrodes is not None and len(nwb.electrodes) >= rec.n_channels:
        return np.arange(rec.n_channels)
    dev = nwb.create_device(name="array", description="recording electrode array")
    grp = nwb.create_electrode_group(
        name="array", description="the recording's electrodes", location="culture", device=dev
    )
    for c in range(rec.n_channels):
        nwb.add_electrode(
            group=grp,
            location="culture",
            rel_x=float(rec.x_um[c]),
            rel_y=float(rec.y_um[c]),
        )
    return np.arange(rec.n_channels)


def add_connectome(nwb, con, spike_times, electrode_rows) -> str:
    """Add the Units table and the ``connectome`` processing module to the pynwb ``NWBFile`` ``nwb``.

    Returns where the Units table went (``/units`` or ``/processing/connectome/units``).
    """
    from hdmf.common import DynamicTable, DynamicTableRegion
    from pynwb.misc import Units

    from ..graph.connectome import parse_channels

    if "connectome" in nwb.processing:
        raise ConfigError("the NWB file already has a processing module 'connectome' (exported before?)")
    module = nwb.create_processing_module("connectome", "functional synaptic connectome (connectome)")
    top = nwb.units is None
    units = Units(
        name="units",
        description="neurons detected by connectome (action potentials merged across electrodes)",
        electrode_table=nwb.electrodes,
    )
    n = con.neurons
    extra = [
        ("neuron_id", "neuron id in the connectome (neurons.csv)"),
        ("type", "excitatory, inhibitory or unknown (from the signs of its outgoing synapses)"),
        ("ap_amplitude_mv", "action-potential amplitude on its best electrode (mV)"),
        ("x_um", "position x (µm)"),
        ("y_um", "position y (µm)"),
    ]
    extra = [(k, d) for k, d in extra if k in n]
    for k, d in extra:
        units.add_column(name=k, description=d)
    for i in range(con.n_neurons):
        chans = parse_channels(n["channels"][i]) if "channels" in n else []
        row = {k: (str(n[k][i]) if n[k].dtype.kind in "OUS" else n[k][i].item()) for k, _ in extra}
        units.add_unit(
            spike_times=spike_times[i],
            electrodes=[int(electrode_rows[c]) for c in chans],
            id=int(con.neuron_id[i]),
            **row,
        )
    if top:
        nwb.units = units
        where = "/units"
    else:
        module.add(units)
        where = "/processing/connectome/units"
    e = con.edges
    row_of = {int(v): i for i, v in enumerate(con.neuron_id)}
    m = con.n_edges
    pre = [row_of[int(v)] for v in e["pre"]]
    post = [row_of[int(v)] for v in e["post"]]
    table = DynamicTable(
        name="synapses",
        description="directed synapses inferred by connectome; pre/post index the Units table",
        id=list(range(m)),
        columns=[
            DynamicTableRegion(
                name="pre", data=pre, description="presynaptic neuron (Units row)", table=units
            ),
            DynamicTableRegion(
                name="post", data=post, description="postsynaptic neuron (Units row)", table=units
            ),
        ],
    )

    def col(name, values, desc):
        table.add_column(name=name, description=desc, data=list(values))

    col("kind", con.kind_names() if m else [], "excitatory, inhibitory or electrical")
    col("weight", np.asarray(e["weight_mv"], np.float64), "PSP amplitude (mV); sign: excitatory +")
    col("delay", np.asarray(e["delay_ms"], np.float64), "synaptic delay (ms)")
    for name, key, desc in (("q", "q_value", "Benjamini–Hochberg q-value"), ("score", "score", "test score")):
        if key in e:
            col(name, np.asarray(e[key], np.float64), desc)
    module.add(table)
    return where


def export_nwb(source, nwb_path, *, append: bool = False, recording=None, progress=None) -> dict:
    """Write the connectome of ``source`` (an inference directory) to ``nwb_path``.

    ``append``: add to the existing NWB file ``nwb_path`` (see the module docstring).
    Returns a dict: ``path``, ``units`` (where the Units table went), ``neurons``, ``synapses``.
    """
    pynwb = _require_pynwb()
    from ..graph.formats import read_connectome
    from ..io import open_recording
    from ..io.atomic import atomic_path
    from ..traces import recording_keywords, resolve_recording

    con = read_connectome(source)
    rec_path = resolve_recording(source, con, recording)
    given = ((con.meta.get("summary") or {}).get("input")) or {}
    rec = open_recording(rec_path, **recording_keywords(con))
    spikes = neuron_spike_times(con, rec, progress=progress)
    nwb_path = Path(nwb_path)
    source_is_nwb = rec.attrs.get("source_format") == "nwb"
    with atomic_path(nwb_path, replace=lambda _p: append) as tmp, warnings.catch_warnings():
        # the temporary name does not end in .nwb; pynwb warns about that
        warnings.filterwarnings("ignore", message="The file path provided", category=UserWarning)
        if append:
            shutil.copyfile(nwb_path, tmp)
            with pynwb.NWBHDF5IO(os.fspath(tmp), "a") as io:
                nwb = io.read()
                same = source_is_nwb and Path(rec.path).resolve() == nwb_path.resolve()
                rows = _electrode_rows(nwb, rec, same)
                where = add_connectome(nwb, con, spikes, rows)
                io.write(nwb)
        else:
            start = rec.attrs.get("session_start_time")
            try:
                t0 = datetime.datetime.fromisoformat(str(start)) if start else None
            except ValueError:
                t0 = None
            if t0 is None:
                t0 = datetime.datetime.fromtimestamp(0, datetime.timezone.utc)
            elif t0.tzinfo is None:
                t0 = t0.replace(tzinfo=datetime.timezone.utc)
            nwb = pynwb.NWBFile(
                session_description=str(rec.attrs.get("session_description") or f"connectome of {rec.path}"),
                identifier=str(rec.attrs.get("identifier") or f"connectome {given.get('fingerprint', '')}"),
                session_start_time=t0,
            )
            rows = _electrode_rows(nwb, rec, False)
            where = add_connectome(nwb, con, spikes, rows)
            with pynwb.NWBHDF5IO(os.fspath(tmp), "w") as io:
                io.write(nwb)
    return {"path": str(nwb_path), "units": where, "neurons": con.n_neurons, "synapses": con.n_edges}


@click.command("export")
@click.argument("source", type=click.Path())
@click.option(
    "--nwb",
    "nwb_path",
    required=True,
    type=click.Path(),
    help="NWB file to write (new), or to add to with --append.",
)
@click.option(
    "--append",
    is_flag=True,
    help="Add the Units and connectome tables to the existing NWB file (e.g. the source recording); "
    "its acquisition is left as it is.",
)
@click.option(
    "--recording",
    type=click.Path(),
    default=None,
    help="The recording the connectome was inferred from (default: the one summary.json names).",
)
@quiet_option()
def export_cmd(source, nwb_path, append, recording, quiet):
    """Write the connectome in SOURCE (an infer output directory) to NWB: its
    neurons as a Units table (spike times, electrodes, type, AP amplitude) and
    its synapses as a table in the processing module 'connectome'."""
    from ..io.atomic import check_output
    from ._common import check_input

    check_input(source, "connectome")
    p = Path(nwb_path)
    if append:
        check_input(nwb_path, "NWB file")
    elif p.exists():
        raise ConfigError(f"{nwb_path} exists: use --append to add to it, or choose another path")
    else:
        check_output(nwb_path, "nwb", inputs=[source])
    with progress_bar(quiet) as bar:
        r = export_nwb(source, nwb_path, append=append, recording=recording, progress=bar)
    if not quiet:
        click.echo(
            f"{source}: {r['neurons']} neurons ({r['units']}), {r['synapses']} synapses "
            f"(/processing/connectome/synapses) → {r['path']}"
        )


COMMANDS = [export_cmd]
