"""Temporary working folders (scratch): one documented place, always cleaned up.

Where temporaries live (``docs/outputs.md``):

1. ``$CONNECTOME_TMPDIR`` when it is set;
2. otherwise a ``.connectome-tmp/`` folder next to the output (in the output
   path's parent folder).

The output's own disk is the default on purpose: the largest temporary (the
binned traces of ``infer``, a few bytes per channel and bin) scales with the
recording, and the system temp folder is often a small RAM-backed tmpfs;
the disk that must hold the outputs is the one the user chose. Each scratch
folder (``.connectome-tmp/PREFIX-<random suffix>/``) holds an ``owner`` file with
the process id and host name. It is removed when the block that created it
ends (normally or by an exception, including the ``KeyboardInterrupt`` the
CLI raises on SIGINT and SIGTERM), at interpreter exit, and — after a
``kill -9``, which nothing can catch — by the next scratch folder created in
the same place, which removes every folder whose owner process on this host
is gone.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

from ..errors import EnvironmentFault
from .atomic import pid_alive

#: name of the scratch folder created next to an output when ``$CONNECTOME_TMPDIR`` is not set
SCRATCH_NAME = ".connectome-tmp"
#: environment variable naming the scratch folder
ENV = "CONNECTOME_TMPDIR"
OWNER = "owner"

_live: set[Path] = set()
_lock = threading.Lock()


def scratch_root(near=None, folder=None) -> Path:
    """Where scratch folders are created: ``$CONNECTOME_TMPDIR``, else ``.connectome-tmp`` beside the output.

    ``near`` is the output path (its parent folder is used), ``folder`` the
    output's parent folder itself. With neither (a library call without an
    output) and no variable, the system temp folder.
    """
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    if folder is not None:
        return Path(os.path.abspath(folder)) / SCRATCH_NAME
    if near is None:
        return Path(tempfile.gettempdir())
    return Path(os.path.abspath(near)).parent / SCRATCH_NAME


def free_bytes(path) -> int:
    """Bytes available to this user on the file system holding ``path`` (or its nearest existing parent)."""
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    return shutil.disk_usage(p).free


def check_space(path, planned_bytes: int, what: str = "temporary") -> None:
    """Raise :class:`EnvironmentFault` when ``planned_bytes`` exceed the free space at ``path``.

    >>> check_space(".", 0)
    >>> check_space(".", 1 << 62)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    connectome.errors.EnvironmentFault: ...: not enough disk space for the temporary...
    """
    free = free_bytes(path)
    if planned_bytes > free:
        raise EnvironmentFault(
            f"not enough disk space for the {what}: it needs {_human(planned_bytes)}, "
            f"{_human(free)} free (set {ENV} to a larger disk)",
            path,
        )


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"  # pragma: no cover


def _owner(folder: Path):
    try:
        host, pid = (folder / OWNER).read_text().split()[:2]
        return host, int(pid)
    except (OSError, ValueError):
        return None


#: the start of every scratch folder's name made by the package (``make_scratch`` prefixes)
SCRATCH_PREFIX = "connectome-"


def clean_stale(root) -> list[Path]:
    """Remove scratch folders under ``root`` whose owner process on this host is no longer running.

    Only folders that are this package's scratch folders are candidates: those
    with an owner file, and — in a folder that is not ``.connectome-tmp``
    (the system temp folder, ``$CONNECTOME_TMPDIR``) — only those whose name
    starts with :data:`SCRATCH_PREFIX`, and of those an ownerless one only
    when it is empty (a scratch folder whose process died before writing its
    owner file holds nothing yet; a user's ``/tmp/connectome-results`` or a
    benchmark's ``connectome-…`` folder holds files). Anything else in a
    shared temp folder is never touched.
    """
    root = Path(root)
    dedicated = root.name == SCRATCH_NAME
    removed: list[Path] = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    host = socket.gethostname()
    for d in entries:
        if not d.is_dir() or d.is_symlink():
            continue
        if not dedicated and not d.name.startswith(SCRATCH_PREFIX):
            continue  # not ours: another program's (or user's) folder in a shared temp folder
        owner = _owner(d)
        if owner is None:
            # an owner file is written right after the folder: one without it older than a minute is stale
            try:
                stale = time.time() - d.stat().st_mtime > 60 and (dedicated or not any(d.iterdir()))
            except OSError:
                continue
        else:
            stale = owner[0] == host and not pid_alive(owner[1])
        if stale:
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


def _rmdir_if_empty(root: Path) -> None:
    if root.name == SCRATCH_NAME:
        with contextlib.suppress(OSError):
            root.rmdir()


def _forget(d: Path) -> None:
    with _lock:
        _live.discard(d)
    shutil.rmtree(d, ignore_errors=True)
    _rmdir_if_empty(d.parent)


def remove_all() -> None:
    """Remove every scratch folder this process still holds (at exit and on termination signals)."""
    with _lock:
        live = list(_live)
    for d in live:
        _forget(d)


atexit.register(remove_all)


def make_scratch(prefix: str = "connectome-", near=None, folder=None, planned_bytes: int = 0) -> Path:
    """A fresh scratch folder; the caller removes it with :func:`release` (exit and termination do too).

    Parameters
    ----------
    prefix : str
        Start of the folder's name (e.g. ``"connectome-infer-"``).
    near : path, optional
        The output the temporaries serve: the folder is created in
        ``.connectome-tmp/`` beside it unless ``$CONNECTOME_TMPDIR`` is set.
    folder : path, optional
        The output's parent folder (instead of ``near``).
    planned_bytes : int
        Bytes the caller will write there; :class:`EnvironmentFault` when the
        disk has less free space.
    """
    root = scratch_root(near, folder)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvironmentFault(f"cannot create the temporary folder: {exc.strerror or exc}", root) from None
    clean_stale(root)
    if planned_bytes:
        check_space(root, planned_bytes)
    try:
        d = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
        with _lock:
            _live.add(d)
        (d / OWNER).write_text(f"{socket.gethostname()} {os.getpid()}\n")
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM):
            raise EnvironmentFault(f"cannot create the temporary folder: {exc.strerror}", root) from None
        raise
    return d


@contextlib.contextmanager
def scratch_dir(prefix: str = "connectome-", near=None, folder=None, planned_bytes: int = 0):
    """:func:`make_scratch` as a context manager: the folder is removed when the block ends.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "result"
    >>> with scratch_dir("demo-", near=out) as d:
    ...     _ = (d / "x.bin").write_bytes(b"0" * 10)
    ...     d.parent.name
    '.connectome-tmp'
    >>> d.exists(), d.parent.exists()
    (False, False)
    """
    d = make_scratch(prefix, near=near, folder=folder, planned_bytes=planned_bytes)
    try:
        yield d
    finally:
        _forget(d)


def release(d) -> None:
    """Remove a scratch folder made by :func:`make_scratch`."""
    _forget(Path(d))
