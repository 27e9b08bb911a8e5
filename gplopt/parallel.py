"""Executors over ``concurrent.futures``: in-process, local processes, or Dask (a scheduler address or a
local cluster, through ``Client.get_executor()``). Work is keyed by what is computed (sample years, designs,
study points), never by who computes it, so the executor never changes a result."""

from __future__ import annotations

import os
import re
import signal
import socket
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, TypeVar

from gplopt.errors import GploptError, InstanceError

T = TypeVar("T")

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def pin_threads() -> None:
    """One math-library thread per worker process (set before workers start; inherited by them)."""
    for v in THREAD_VARS:
        os.environ[v] = "1"


def _worker_init(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    """Workers ignore Ctrl-C: the terminal sends SIGINT to the whole process group, and only the main process
    must react (say what was saved, shut the pool down). A worker would otherwise print a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)
    if initializer is not None:
        initializer(*initargs)


def _stop_worker(signum: int, frame: Any) -> None:
    """SIGTERM from the pool's owner: release this process's named semaphores (Pyomo makes one at import) so the
    resource tracker has nothing to warn about, then leave at once."""
    from multiprocessing import util

    util._run_finalizers(0)  # type: ignore[attr-defined]
    os._exit(0)


class QuietProcessPool(ProcessPoolExecutor):
    """A process pool whose workers ignore SIGINT from birth, and that stops them at once when it is shut down
    while an exception (Ctrl-C, an error) is propagating, instead of waiting for the tasks in flight."""

    def _spawn_process(self) -> None:  # type: ignore[override]
        # SIGINT ignored in the parent while a worker starts, so the child inherits SIG_IGN before Python runs
        # (a Ctrl-C in that instant is not lost: the main process still gets it from the next one).
        if threading.current_thread() is not threading.main_thread():
            super()._spawn_process()  # type: ignore[misc]
            return
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            super()._spawn_process()  # type: ignore[misc]
        finally:
            signal.signal(signal.SIGINT, previous)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if sys.exc_info()[0] is None:
            super().shutdown(wait=wait, cancel_futures=cancel_futures)
            return
        processes = list((getattr(self, "_processes", None) or {}).values())
        manager = getattr(self, "_executor_manager_thread", None)
        super().shutdown(wait=False, cancel_futures=True)
        for p in processes:
            if p.is_alive():
                p.terminate()
        for p in processes:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
        if manager is not None:
            manager.join(timeout=5)


class InlineExecutor(Executor):
    """Runs each task at submit time in this process (workers = 1)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        fut: Future[T] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut


ADDRESS = re.compile(r"^(?:(?P<scheme>tcp|tls)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-_]+):(?P<port>\d{1,5})/?$")
CONNECT_TIMEOUT_S = 3.0      # a TCP connection to the scheduler (refused: at once; unroutable: this long)
HANDSHAKE_TIMEOUT_S = 10.0   # the whole Dask client handshake


def parse_scheduler(value: str) -> tuple[str, int] | None:
    """``None`` for ``local``; ``(host, port)`` for a Dask address; InstanceError for anything else."""
    m = ADDRESS.match(value) if isinstance(value, str) else None
    if value == "local":
        return None
    port = int(m.group("port")) if m else 0
    if m is None or not 1 <= port <= 65535:
        raise InstanceError("--scheduler", "'local' or a Dask scheduler address tcp://HOST:PORT (port 1-65535)",
                            value)
    return m.group("host").strip("[]"), port


def probe_scheduler(value: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Fail in seconds, not after Dask's 30 s retry loop: a refused connection fails at once, an unroutable
    address after ``timeout``. Only opens (and closes) one TCP connection to the given address."""
    where = parse_scheduler(value)
    if where is None:
        return
    try:
        with socket.create_connection(where, timeout=timeout):
            pass
    except OSError as exc:
        reason = f"no answer within {timeout:g} s" if isinstance(exc, TimeoutError) else (
            exc.strerror or type(exc).__name__)
        raise GploptError(f"--scheduler {value}: must be a reachable Dask scheduler, got {reason}") from None


def _connect(client_cls: Any, scheduler: str) -> Any:
    """A Dask client for ``scheduler``, or GploptError within HANDSHAKE_TIMEOUT_S: a server that is not a
    Dask scheduler (it once made Dask try to allocate 3 EiB from garbage bytes) fails in seconds, not after
    Dask's own retry loop (the attempt is left to finish in a daemon thread)."""
    import dask

    probe_scheduler(scheduler)
    box: dict[str, Any] = {}

    def attempt() -> None:
        try:
            with dask.config.set({"distributed.comm.timeouts.connect": f"{CONNECT_TIMEOUT_S:g}s"}):
                box["client"] = client_cls(scheduler, timeout=HANDSHAKE_TIMEOUT_S)
        except Exception as exc:   # anything but a Dask scheduler answering: refused, garbage, timeouts
            box["error"] = exc

    t = threading.Thread(target=attempt, name="gplopt-dask-connect", daemon=True)
    t.start()
    t.join(HANDSHAKE_TIMEOUT_S)
    if "client" in box:
        return box["client"]
    reason = box.get("error") or f"no Dask handshake within {HANDSHAKE_TIMEOUT_S:g} s"
    raise GploptError(f"--scheduler {scheduler}: must be a reachable Dask scheduler, got {reason}")


class DaskExecutor(Executor):
    """A Dask client's executor; shutting it down closes the client (and the local cluster it made)."""

    def __init__(self, scheduler: str, workers: int) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise GploptError("--scheduler: must have the optional extra installed (pip install -e "
                              "'.[dask]'), got no dask.distributed") from None
        pin_threads()
        self.cluster = None
        if scheduler == "local":
            self.cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                        dashboard_address=":0")   # any free port: 8787 may be taken
            self.client = Client(self.cluster)
        else:
            self.client = _connect(Client, scheduler)
        self.inner = self.client.get_executor(pure=False)

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return self.inner.submit(fn, *args, **kwargs)  # type: ignore[no-any-return]

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(workers: int | None, initializer: Callable[..., None] | None = None,
                  initargs: tuple[Any, ...] = (), scheduler: str | None = None) -> Executor:
    """``scheduler``: None for local processes, ``"local"`` for a local Dask cluster, or an address."""
    n = workers if workers and workers > 0 else (os.cpu_count() or 1)
    if scheduler:
        return DaskExecutor(scheduler, n)
    if n == 1:
        if initializer is not None:
            initializer(*initargs)
        return InlineExecutor()
    import multiprocessing as mp

    pin_threads()
    return QuietProcessPool(max_workers=n, mp_context=mp.get_context("spawn"), initializer=_worker_init,
                            initargs=(initializer, initargs))
