"""``connectome <verb>``: a thin command-line layer over the library.

Every command turns a :class:`~connectome.errors.ConnectomeError` into one
line on stderr naming the file and the problem, and an exit status: 2 for
bad input or a refused output, 4 for an environment fault
(:class:`~connectome.errors.EnvironmentFault`, and every disk-full,
read-only or permission-denied OSError on an output), 3 out of memory, 1
an internal error or a batch with failures, 130 interrupted (SIGINT), 143
terminated (SIGTERM). Set ``CONNECTOME_DEBUG=1`` to see full tracebacks.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys

import click

from . import __version__
from .errors import (
    EXIT_BAD_INPUT,
    EXIT_ENVIRONMENT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NO_MEMORY,
    EXIT_TERMINATED,
    ConnectomeError,
    EnvironmentFault,
    fault_errno,
)

#: Modules that contribute commands: each defines ``COMMANDS``, a list of click commands.
COMMAND_MODULES = [
    "connectome.commands.info",
    "connectome.commands.simulate",
    "connectome.commands.infer",
    "connectome.commands.compile",
    "connectome.commands.run",
    "connectome.commands.inspect",
    "connectome.commands.compare",
    "connectome.commands.verify",
    "connectome.commands.imprint",
    "connectome.commands.report",
    "connectome.commands.convert",
    "connectome.commands.export",
]


LOG_LEVELS = ("debug", "info", "warning", "error")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="connectome")
@click.option("--verbose", "-v", is_flag=True, help="Log what each stage does on stderr (same as --log-level info).")
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False), default=None,
              help="Log messages of this level and above on stderr [default: warning].")
def cli(verbose, log_level):
    """Copy a neuronal network's synaptic connectivity from intracellular array
    recordings and paste it onto non-volatile memory crossbars.

    Options common to every command that writes something: -o/--out (where),
    -q/--quiet (no progress bar, nothing on stdout), --json (a machine-readable
    summary on stdout). --verbose and --log-level go before the command:
    `connectome -v infer REC -o DIR`.
    """
    configure_logging(log_level or ("info" if verbose else None))


def configure_logging(level: str | None) -> None:
    """Send the package's log records (logger ``connectome``) of ``level`` and above to stderr."""
    import logging

    logger = logging.getLogger("connectome")
    for h in [h for h in logger.handlers if getattr(h, "_connectome_cli", False)]:
        logger.removeHandler(h)  # main() may run several times in one process (tests)
    if level is None:
        logger.setLevel(logging.NOTSET)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._connectome_cli = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("connectome: %(levelname)s: %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level.upper())


for _name in COMMAND_MODULES:
    for _cmd in importlib.import_module(_name).COMMANDS:
        cli.add_command(_cmd)


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM, so that ``finally`` blocks remove temporaries."""


_signalled: list = []


def _on_sigterm(signum, frame):
    _signalled.append(signum)  # click turns the KeyboardInterrupt into Abort: remember why
    raise Terminated()


#: errno values that mean the machine, not the input, failed (exit status 4)
ENV_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EMFILE, errno.ENFILE}


def _os_error(exc: Exception) -> ConnectomeError:
    """An OSError that reached the command line as one of our errors, naming the path that failed."""
    from .io.atomic import claimed_outputs

    code = fault_errno(exc)  # h5py and zarr may wrap the C library's errno in the message
    text = str(exc)
    path = getattr(exc, "filename", None)
    outputs = claimed_outputs()
    is_output = path is None or any(
        os.path.abspath(path) == str(o)
        or os.path.abspath(path).startswith(str(o) + os.sep)
        or os.path.basename(path).startswith(f".{o.name}.tmp-")
        for o in outputs
    )
    if path is None and outputs:
        path = str(outputs[0])
    reasons = {
        errno.ENOSPC: "disk full (no space left on device)",
        errno.EDQUOT: "disk quota exceeded",
        errno.EROFS: "read-only file system",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.ELOOP: "symlink loop (too many levels of symbolic links)",
        errno.ENOENT: "no such file or directory",
        errno.EISDIR: "is a directory",
        errno.ENOTDIR: "not a directory",
        errno.ENAMETOOLONG: "file name too long",
        errno.EMFILE: "too many open files",
        errno.ENFILE: "too many open files",
    }
    reason = reasons.get(code) or (exc.strerror or text or type(exc).__name__)
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EMFILE, errno.ENFILE):
        return EnvironmentFault(reason, path)
    if code in (errno.EACCES, errno.EPERM):
        if is_output:
            return EnvironmentFault(f"{reason} (cannot write the output)", path)
        return ConnectomeError(f"{reason} (cannot read it)", path)
    return ConnectomeError(reason, path)


def _exit_status(exc: ConnectomeError) -> int:
    return EXIT_ENVIRONMENT if isinstance(exc, EnvironmentFault) else EXIT_BAD_INPUT


def main(argv=None) -> int:
    """Console-script entry point: one line per error, exit statuses as in README.md (docs/outputs.md)."""
    import signal
    import threading

    from .io.atomic import output_scope
    from .io.scratch import remove_all

    debug = os.environ.get("CONNECTOME_DEBUG") not in (None, "", "0")
    old = None
    _signalled.clear()
    if threading.current_thread() is threading.main_thread():
        old = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with output_scope():
            try:
                rv = cli.main(args=argv, prog_name="connectome", standalone_mode=False)
            except OSError as exc:
                if debug:
                    raise
                raise _os_error(exc) from exc
            except RuntimeError as exc:  # HDF5 reports a failed write (disk full) as a RuntimeError
                if debug or fault_errno(exc) not in ENV_ERRNOS:
                    raise
                raise _os_error(exc) from exc
    except ConnectomeError as exc:
        if debug:
            raise
        click.echo(f"connectome: error: {exc}", err=True)
        return _exit_status(exc)
    except click.exceptions.Abort:
        if _signalled:
            click.echo("connectome: terminated", err=True)
            return EXIT_TERMINATED
        click.echo("connectome: interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except Terminated:
        click.echo("connectome: terminated", err=True)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        click.echo("connectome: interrupted", err=True)
        return EXIT_INTERRUPTED
    except MemoryError:
        click.echo("connectome: error: out of memory (try a smaller --chunk or fewer workers)", err=True)
        return EXIT_NO_MEMORY
    except Exception as exc:  # a bug: say so in one line, point to the traceback switch
        if debug:
            raise
        click.echo(
            f"connectome: internal error: {type(exc).__name__}: {exc} "
            "(set CONNECTOME_DEBUG=1 for a traceback and please report it)",
            err=True,
        )
        return EXIT_FAILED
    finally:
        remove_all()
        if old is not None:
            signal.signal(signal.SIGTERM, old)
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
