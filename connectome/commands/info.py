"""``connectome info FILE``: what a recording holds, at a glance."""

from __future__ import annotations

import json

import click
import numpy as np

from ..io import open_recording
from ..spikes.qc import channel_glance
from ._common import open_kwargs, recording_options


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TB"


def glance_recording(rec, n_windows: int = 8, window_s: float = 1.0) -> dict:
    """Channel statistics from ``n_windows`` evenly spread windows of ``window_s``.

    Memory is bounded by one window (``window_s`` × channels), whatever the
    recording's length.
    """
    win = max(1, min(rec.n_samples, int(round(window_s * rec.sampling_rate_hz))))
    n_windows = max(1, min(n_windows, rec.n_samples // win))
    starts = np.unique(np.linspace(0, rec.n_samples - win, num=n_windows).astype(np.int64))
    lim = rec.raw_limits()  # the same definition of saturation as infer's masking
    agg = None
    sat_samples = np.zeros(rec.n_channels, np.int64)
    for s in starts:
        raw = rec.get_raw(int(s), int(s) + win)
        sat_samples += np.count_nonzero(rec.saturated(raw), axis=0)
        x = rec.to_mv(raw)
        g = channel_glance(
            x,
            raw=raw if lim else None,
            raw_limits=lim,
            artefact_samples=int(round(0.05 * rec.sampling_rate_hz)),
        )
        if agg is None:
            agg = {k: [v] for k, v in g.items()}
        else:
            for k, v in g.items():
                agg[k].append(v)
    out = {
        "noise_mv": np.median(agg["noise_mv"], axis=0),
        "peak_mv": np.max(agg["peak_mv"], axis=0),
        "flat": np.all(agg["flat"], axis=0),
        "saturated_frac": np.mean(agg["saturated_frac"], axis=0),
        "nonfinite_frac": np.mean(agg["nonfinite_frac"], axis=0),
        "coupled": np.any(agg["coupled"], axis=0),
        "saturated_samples": sat_samples,
        "sampled_s": len(starts) * win / rec.sampling_rate_hz,
    }
    return out


def grid_extent(rec) -> tuple:
    """``(first_row, first_col, n_rows, n_cols)`` of the electrodes' grid positions.

    Positions may start anywhere (also below zero); the grid spans the
    smallest to the largest row and column actually used.
    """
    rows, cols = np.asarray(rec.rows, np.int64), np.asarray(rec.cols, np.int64)
    if rows.size == 0:
        return 0, 0, 0, 0
    r0, c0 = int(rows.min()), int(cols.min())
    return r0, c0, int(rows.max()) - r0 + 1, int(cols.max()) - c0 + 1


def _grid_map(rec, g) -> list[str]:
    """One character per electrode on its grid: # coupled, . noise, F flat, S saturated, ! NaN."""
    r0, c0, nr, nc = grid_extent(rec)
    if nr * nc > 128 * 128 or nr * nc == 0:
        return []
    grid = np.full((nr, nc), " ", dtype="<U1")
    sym = np.full(rec.n_channels, ".", dtype="<U1")
    sym[g["coupled"]] = "#"
    sym[g["saturated_frac"] > 0.01] = "S"
    sym[g["flat"]] = "F"
    sym[g["nonfinite_frac"] > 0] = "!"
    grid[np.asarray(rec.rows, np.int64) - r0, np.asarray(rec.cols, np.int64) - c0] = sym
    return ["".join(r) for r in grid]


@click.command("info")
@click.argument("path", type=click.Path())
@click.option(
    "--windows", default=8, show_default=True, help="Number of 1-s windows sampled for the channel glance."
)
@click.option("--channels", "show_channels", is_flag=True, help="Print one line per channel.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of text.")
@recording_options
def info_cmd(path, windows, show_channels, as_json, series, segment, rec_format):
    """Describe a recording: size, timing, chunking and a per-channel glance.

    The glance (noise level, coupled or not, flat, saturated) is computed from
    a bounded sample of the file: WINDOWS one-second windows spread over its
    length, so it costs the same for a 1-minute or a 1-hour recording.
    """
    rec = open_recording(path, **open_kwargs(series, segment, rec_format))
    g = glance_recording(rec, n_windows=windows)
    summary = {
        "path": str(rec.path),
        "format": rec.format,
        "channels": rec.n_channels,
        "samples": rec.n_samples,
        "sampling_rate_hz": rec.sampling_rate_hz,
        "duration_s": rec.duration_s,
        "dtype": str(rec.dtype),
        "chunks": list(rec.file_chunks or rec.chunks),
        "size_on_disk_bytes": rec.nbytes_on_disk(),
        "uncompressed_bytes": rec.n_samples * rec.n_channels * rec.dtype.itemsize,
        "grid": [int(rec.rows.max()) + 1, int(rec.cols.max()) + 1],
        "pitch_um": rec.pitch_um,
        "origin_um": list(rec.origin_um),
        "geometry_source": rec.geometry_source,
        "attrs": {k: v for k, v in rec.attrs.items() if isinstance(v, (str, int, float))},
        "glance": {
            "sampled_s": g["sampled_s"],
            "coupled": int(g["coupled"].sum()),
            "flat": int(g["flat"].sum()),
            "saturated": int((g["saturated_frac"] > 0.01).sum()),
            "saturated_samples": int(g["saturated_samples"].sum()),
            "channels_with_saturated_samples": int(np.count_nonzero(g["saturated_samples"])),
            "with_nan_or_inf": int((g["nonfinite_frac"] > 0).sum()),
            "noise_mv_median": float(np.median(g["noise_mv"])),
        },
    }
    if as_json:
        summary["per_channel"] = {k: np.asarray(v).tolist() for k, v in g.items() if k != "sampled_s"}
        click.echo(json.dumps(summary, indent=1))
        return
    s = summary
    ratio = s["uncompressed_bytes"] / max(1, s["size_on_disk_bytes"])
    lines = [
        f"file          {s['path']}  ({s['format']})",
        f"channels      {s['channels']}  on a {s['grid'][0]}×{s['grid'][1]} grid",
        f"geometry      pitch {s['pitch_um']:g} µm, origin ({s['origin_um'][0]:g}, {s['origin_um'][1]:g}) µm"
        f"  ({s['geometry_source']})",
        f"duration      {s['duration_s']:.3f} s  ({s['samples']} samples at {s['sampling_rate_hz']:g} Hz)",
        f"dtype         {s['dtype']}",
        f"chunks        {s['chunks'][0]} samples × {s['chunks'][1]} channels",
        f"size on disk  {_human_bytes(s['size_on_disk_bytes'])}  "
        f"(uncompressed {_human_bytes(s['uncompressed_bytes'])}, ×{ratio:.1f})",
    ]
    for k in ("device", "start_time", "series_note", "identifier", "session_start_time"):
        if k in s["attrs"]:
            lines.append(f"{k:<13} {s['attrs'][k]}")
    gl = s["glance"]
    lines += [
        f"glance        from {gl['sampled_s']:.1f} s sampled: {gl['coupled']} coupled, "
        f"{s['channels'] - gl['coupled'] - gl['flat']} noise-only, {gl['flat']} flat, "
        f"{gl['saturated']} saturated (> 1 % of samples), {gl['with_nan_or_inf']} with NaN/Inf",
        f"saturation    {gl['saturated_samples']} samples at the raw limits on "
        f"{gl['channels_with_saturated_samples']} channels (in the sampled windows; infer masks them)",
        f"noise         median {gl['noise_mv_median'] * 1000:.1f} µV rms (high-frequency, robust)",
    ]
    grid = _grid_map(rec, g)
    if grid:
        lines.append("map           # coupled  . noise only  F flat  S saturated  ! NaN/Inf")
        lines += ["              " + r for r in grid]
    if show_channels:
        lines.append("channel  row  col  noise_uV  peak_mV  coupled  flat  saturated")
        for i in range(rec.n_channels):
            lines.append(
                f"{i:7d} {rec.rows[i]:4d} {rec.cols[i]:4d} {g['noise_mv'][i] * 1000:9.1f} "
                f"{g['peak_mv'][i]:8.2f} {'yes' if g['coupled'][i] else 'no':>8} "
                f"{'yes' if g['flat'][i] else 'no':>5} {g['saturated_frac'][i]:10.3f}"
            )
    click.echo("\n".join(lines))


COMMANDS = [info_cmd]
