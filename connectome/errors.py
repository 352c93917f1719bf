"""Exception classes. Each carries the file (when there is one) and the reason.

The library raises these; only the CLI turns them into one line and an exit code.
"""

from __future__ import annotations

import os


class ConnectomeError(Exception):
    """Base class for every error the package raises on purpose."""

    def __init__(self, reason: str, path: str | os.PathLike | None = None):
        self.reason = reason
        self.path = os.fspath(path) if path is not None else None
        super().__init__(self.__str__())

    def __str__(self) -> str:  # one line, naming the file first
        return f"{self.path}: {self.reason}" if self.path else self.reason


class RecordingError(ConnectomeError):
    """A recording file cannot be read or does not follow the CNEA contract."""


class ConnectomeFormatError(ConnectomeError):
    """A connectome input (inference directory, edges.csv, GraphML) is invalid."""


class ConfigError(ConnectomeError):
    """A pipeline config or a parameter is invalid."""


class TechnologyError(ConnectomeError):
    """An unknown technology, or parameters a technology cannot support."""


class MapError(ConnectomeError):
    """A programming map is invalid or corrupted."""


class OutputError(ConnectomeError):
    """An output path the command refuses to write: an existing file, a folder it
    did not write, or a folder holding one of its inputs (exit status 2)."""


class EnvironmentFault(ConnectomeError):
    """The machine, not the input, failed: disk full, a read-only or
    permission-denied output, a lock held by another run (exit status 4)."""


#: exit statuses of the ``connectome`` command (documented in README.md)
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_NO_MEMORY, EXIT_ENVIRONMENT, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
#: exit status after SIGTERM (128 + 15, the shell convention)
EXIT_TERMINATED = 143


def check_known_keys(keys, valid, what: str, path=None) -> None:
    """Raise :class:`ConfigError` for the first key not in ``valid``, naming the closest valid one.

    >>> check_known_keys(["q_treshold"], ["q_threshold"], "inference parameter")
    Traceback (most recent call last):
    ...
    connectome.errors.ConfigError: unknown inference parameter 'q_treshold' (did you mean 'q_threshold'?)
    """
    import difflib

    valid = sorted(valid)
    for k in keys:
        if k not in valid:
            close = difflib.get_close_matches(k, valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown {what} {k!r}{hint}", path)


def fault_errno(exc: BaseException) -> int | None:
    """The C ``errno`` behind an exception: ``exc.errno``, or parsed from the message of libraries
    (HDF5 via h5py, zarr) that wrap a failed write in a RuntimeError or an OSError without one.

    >>> fault_errno(RuntimeError("file write failed: errno = 28, error message = 'No space left on device'"))
    28
    >>> fault_errno(ValueError("bad")) is None
    True
    """
    import errno as _errno
    import re

    code = getattr(exc, "errno", None)
    if isinstance(code, int):
        return code
    text = str(exc)
    m = re.search(r"errno\s*=\s*(\d+)|\[Errno (\d+)\]", text)
    if m:
        return int(m.group(1) or m.group(2))
    for c, words in ((_errno.ENOSPC, "No space left on device"), (_errno.EROFS, "Read-only file system"),
                     (_errno.EDQUOT, "Disk quota exceeded"), (_errno.EACCES, "Permission denied")):
        if words in text:
            return c
    return None
