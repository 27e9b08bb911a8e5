"""Executors over ``concurrent.futures``: in-process, local processes. Work is keyed by what is computed
(sample years, designs), so the number of workers never changes a result."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def pin_threads() -> None:
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


def make_executor(workers: int | None, initializer: Callable[..., None] | None = None,
                  initargs: tuple[Any, ...] = ()) -> Executor:
    n = workers if workers and workers > 0 else (os.cpu_count() or 1)
    if n == 1:
        if initializer is not None:
            initializer(*initargs)
        return InlineExecutor()
    import multiprocessing as mp

    pin_threads()
    return ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"), initializer=initializer,
                               initargs=initargs)


def ordered_map(ex: Executor, fn: Callable[[Any], T], items: Iterable[Any]) -> Iterator[T]:
    futs = [ex.submit(fn, x) for x in items]
    for f in futs:
        yield f.result()
