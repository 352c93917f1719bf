"""``connectome convert IN --out REC.h5|.zarr``: any readable recording to CNEA-HDF5 or zarr v3."""

from __future__ import annotations

import click

from ._common import open_kwargs, out_option, progress_bar, quiet_option, recording_options


@click.command("convert")
@click.argument("source", type=click.Path())
@out_option("Recording to write: .h5 (CNEA-HDF5) or .zarr (zarr v3).", required=True)
@recording_options
@click.option(
    "--compression",
    type=click.Choice(["gzip", "lzf", "none"]),
    default="gzip",
    show_default=True,
    help="HDF5 filter (gzip/deflate is in every HDF5 build; lzf needs a plugin outside h5py).",
)
@click.option(
    "--chunk-s", type=float, default=1.0, show_default=True, help="Seconds read and written per block."
)
@quiet_option()
def convert_cmd(source, out, series, segment, rec_format, compression, chunk_s, quiet):
    """Convert SOURCE (an NWB file, a CNEA file, or any recording SpikeInterface
    reads) into a CNEA recording: raw samples with their scale and offset to mV,
    channel positions, sampling rate and session metadata, streamed block by
    block (memory does not grow with the recording's length)."""
    from ..io import open_recording
    from ..io.atomic import check_output
    from ._common import check_input

    check_input(source, "recording")
    rec = open_recording(source, **open_kwargs(series, segment, rec_format))
    check_output(out, "recording", inputs=[source])
    with progress_bar(quiet) as bar:
        convert_recording(rec, out, compression=compression, chunk_s=chunk_s, progress=bar)
    if not quiet:
        click.echo(
            f"{source}: {rec.n_channels} channels, {rec.duration_s:.3f} s at {rec.sampling_rate_hz:g} Hz "
            f"({rec.dtype}) → {out}"
        )


def convert_recording(rec, out, *, compression: str = "gzip", chunk_s: float = 1.0, progress=None):
    """Write the :class:`~connectome.io.Recording` ``rec`` to ``out`` (.h5 or .zarr), streamed."""
    import numpy as np

    from ..io import create_recording

    keep = (
        "identifier",
        "session_start_time",
        "session_description",
        "series",
        "source_format",
        "start_time_s",
        "nwb_version",
        "channel_ids",
    )
    attrs = {k: v for k, v in rec.attrs.items() if k in keep}
    attrs["pitch_um"] = float(rec.pitch_um)
    attrs["converted_from"] = str(rec.path)
    step = max(1, int(round(chunk_s * rec.sampling_rate_hz)))
    scale = rec.scale if rec.scale.ndim else float(rec.scale)
    offset = rec.offset if rec.offset.ndim else float(rec.offset)
    if progress is not None:
        progress.reset(total=rec.n_samples)
    with create_recording(
        out,
        n_samples=rec.n_samples,
        n_channels=rec.n_channels,
        sampling_rate_hz=rec.sampling_rate_hz,
        dtype=rec.dtype,
        scale=scale,
        offset=offset,
        rows=rec.rows,
        cols=rec.cols,
        x_um=np.asarray(rec.x_um, np.float64),
        y_um=np.asarray(rec.y_um, np.float64),
        attrs=attrs,
        chunk_samples=min(step, 65536),
        compression=compression,
    ) as w:
        for s in range(0, rec.n_samples, step):
            w.write(s, rec.get_raw(s, s + step))
            if progress is not None:
                progress.update(min(step, rec.n_samples - s))
    return out


COMMANDS = [convert_cmd]
