"""``connectome <verb>``: a thin command-line layer over the library.

Every command turns a :class:`~connectome.errors.ConnectomeError` into one
line on stderr naming the file and the problem, and exit status 2. Set
``CONNECTOME_DEBUG=1`` to see full tracebacks.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from . import __version__
from .errors import ConnectomeError

#: Modules that contribute commands: each defines ``COMMANDS``, a list of click commands.
COMMAND_MODULES = [
    "connectome.commands.info",
    "connectome.commands.simulate",
    "connectome.commands.infer",
    "connectome.commands.compile",
    "connectome.commands.run",
    "connectome.commands.inspect", "connectome.commands.compare",
    "connectome.commands.verify", "connectome.commands.imprint",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="connectome")
def cli():
    """Copy a neuronal network's synaptic connectivity from intracellular array
    recordings and paste it onto non-volatile memory crossbars."""


for _name in COMMAND_MODULES:
    for _cmd in importlib.import_module(_name).COMMANDS:
        cli.add_command(_cmd)


def main(argv=None) -> int:
    """Console-script entry point."""
    debug = os.environ.get("CONNECTOME_DEBUG") not in (None, "", "0")
    try:
        rv = cli.main(args=argv, prog_name="connectome", standalone_mode=False)
    except ConnectomeError as exc:
        if debug:
            raise
        click.echo(f"connectome: error: {exc}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("connectome: aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("connectome: interrupted", err=True)
        return 130
    except MemoryError:
        click.echo("connectome: error: out of memory (try a smaller --chunk or fewer workers)", err=True)
        return 3
    except Exception as exc:  # a bug: say so in one line, point to the traceback switch
        if debug:
            raise
        click.echo(f"connectome: internal error: {type(exc).__name__}: {exc} "
                   "(set CONNECTOME_DEBUG=1 for a traceback and please report it)", err=True)
        return 1
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
