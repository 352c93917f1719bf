"""Helpers shared by commands: progress bars and KEY=VALUE parameters."""

from __future__ import annotations

import contextlib
import sys

import click

from ..errors import ConfigError


@contextlib.contextmanager
def progress_bar(quiet: bool):
    """A tqdm bar on stderr; None when quiet."""
    if quiet:
        yield None
        return
    from tqdm import tqdm

    # disable=None: no bar when stderr is not a terminal (logs, CI)
    bar = tqdm(total=1, file=sys.stderr, leave=False, dynamic_ncols=True, mininterval=0.5, disable=None)
    try:
        yield bar
    finally:
        bar.close()


def parse_params(pairs) -> dict:
    """``("a=1", "b=x")`` → ``{"a": 1, "b": "x"}`` with numbers, booleans and lists parsed as TOML values."""
    import tomllib

    out = {}
    for item in pairs:
        if "=" not in item:
            raise ConfigError(f"--param expects KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = tomllib.loads(f"v = {v}")["v"]
        except tomllib.TOMLDecodeError:
            out[k.strip()] = v
    return out


def check_input(path, what: str = "input"):
    """Refuse an unusable input path with one clear line: missing, a symlink loop, unreadable.

    Runs before any work so that a permission problem or a loop is named as such
    (not as a missing file, and not as a usage message).
    """
    import errno
    import os

    from ..errors import ConnectomeError

    if path is None:
        return None
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ConnectomeError(
                f"symlink loop: the {what} path is a symbolic link that resolves to itself", path
            ) from None
        if exc.errno == errno.ENOENT:
            why = ("a symbolic link to nothing (its target does not exist)" if os.path.islink(path)
                   else "no such file or directory")
            raise ConnectomeError(f"{why}", path) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise ConnectomeError(f"permission denied: cannot read the {what}", path) from None
        raise
    if not os.access(path, os.R_OK) or (os.path.isdir(path) and not os.access(path, os.X_OK)):
        raise ConnectomeError(f"permission denied: cannot read the {what}", path)
    return path


def echo_err(msg: str) -> None:
    click.echo(msg, err=True)


# ------------------------------------------------------------------ shared options
# The same flag means the same thing in every command (README "Commands"): -o/--out the output,
# -q/--quiet no progress bar and nothing on stdout, --json a machine-readable summary on stdout.
def out_option(help: str, *, required: bool = False, dest: str = "out"):
    """``-o/--out PATH``: where the command writes."""
    return click.option("--out", "-o", dest, type=click.Path(), required=required, default=None, help=help)


def quiet_option(help: str = "No progress bar and nothing on stdout (outputs are still written)."):
    """``-q/--quiet``."""
    return click.option("--quiet", "-q", is_flag=True, help=help)


def json_option(help: str = "Print a machine-readable JSON summary on stdout instead of text."):
    """``--json``."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def echo_json(obj) -> None:
    """``obj`` as JSON on stdout (sorted keys; numpy scalars as numbers, paths as text)."""
    import json

    def default(o):
        item = getattr(o, "item", None)
        return item() if callable(item) else str(o)

    click.echo(json.dumps(obj, indent=1, sort_keys=True, default=default))


def recording_options(f):
    """``--series``, ``--segment``, ``--format``: which data of a recording file to read
    (:func:`connectome.io.open_recording`); the command receives ``series``, ``segment``, ``rec_format``."""
    f = click.option("--format", "rec_format", default=None, metavar="NAME",
                     help="Reader: cnea, nwb, zarr, or a SpikeInterface format (maxwell, intan, "
                          "openephysbinary, spikeglx, biocam, mcsraw, si-folder, …); default: by content.")(f)
    f = click.option("--segment", type=int, default=None, metavar="K",
                     help="Segment K (0-based) of a recording with gaps in time.")(f)
    return click.option("--series", default=None, metavar="NAME",
                        help="NWB series to read (default: the highest-rate ElectricalSeries).")(f)


def open_kwargs(series=None, segment=None, rec_format=None) -> dict:
    """:func:`connectome.io.open_recording` keywords of :func:`recording_options` (unset ones left out)."""
    d = {"series": series, "segment": segment, "format": rec_format}
    return {k: v for k, v in d.items() if v is not None}


def echo_warnings(caught) -> None:
    """Print recorded warnings as ``connectome: warning: …`` lines on stderr (each distinct message once)."""
    seen = set()
    for w in caught:
        if not issubclass(w.category, UserWarning):  # library deprecations and numpy runtime noise
            continue
        msg = str(w.message)
        if msg not in seen:
            seen.add(msg)
            click.echo(f"connectome: warning: {msg}", err=True)
