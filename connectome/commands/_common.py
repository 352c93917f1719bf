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


def echo_err(msg: str) -> None:
    click.echo(msg, err=True)
