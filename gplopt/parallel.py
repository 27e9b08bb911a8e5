"""Executors over ``concurrent.futures``: in-process, local processes, or Dask (a scheduler address or a
local cluster, through ``Client.get_executor()``). Work is keyed by what is computed (sample years, designs,
study points), never by who computes it, so the executor never changes a result."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, TypeVar

from gplopt.errors import GploptError

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
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(scheduler, timeout=30)
            except OSError as exc:
                raise GploptError(f"--scheduler {scheduler}: must be a reachable Dask scheduler, got {exc}") from None
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
