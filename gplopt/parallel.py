"""Executors over ``concurrent.futures``: in-process, local processes, or Dask (a scheduler address or a
local cluster, through ``Client.get_executor()``). Work is keyed by what is computed (sample years, designs,
study points), never by who computes it, so the executor never changes a result."""

from __future__ import annotations

import os
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
    return ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"), initializer=initializer,
                               initargs=initargs)
