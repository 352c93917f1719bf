"""Where the batch runs: in this process, on a local dask.distributed cluster, or on an existing one.

The unit of distributed work is one recording file (all its stages). Inside
a file, inference runs its chunked passes on the worker's own threads, so a
worker needs the file on a path it can read (shared storage on a real
cluster) and memory for one file's inference (docs/scaling.md).
"""

from __future__ import annotations

import contextlib

from ..errors import ConfigError

#: how long to wait for an existing scheduler before giving up
CONNECT_TIMEOUT = "20s"


@contextlib.contextmanager
def executor(workers: int = 0, scheduler: str = ""):
    """Yield ``(client, description)``; ``client`` is None for in-process runs.

    Examples
    --------
    >>> with executor(0, "") as (client, where):
    ...     print(client, where)
    None threads in this process
    """
    if scheduler:
        from distributed import Client

        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"cannot reach the dask scheduler at {scheduler} ({exc})") from None
        try:
            n = len(client.scheduler_info().get("workers", {}))
            yield client, f"dask.distributed scheduler {scheduler} ({n} workers)"
        finally:
            client.close()
    elif workers and workers > 0:
        from distributed import Client, LocalCluster

        # one file at a time per worker process; inference threads inside it
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster, set_as_default=False)
        try:
            yield client, f"local dask.distributed cluster, {workers} worker processes"
        finally:
            client.close()
            cluster.close()
    else:
        yield None, "threads in this process"
