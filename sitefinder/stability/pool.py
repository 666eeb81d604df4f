"""Where the runs are solved: here one by one, or on local worker processes.

The workers are forked from this process where the system allows (Linux), so they start at
once with the inputs already loaded; elsewhere they are spawned and each is sent the inputs
once. Either way every task is a pure function of the shared context and its own arguments,
and results come back in the order the tasks were given, so the answer does not depend on the
number of workers.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
Progress = Callable[[str, int, int], None]
Task = Callable[[Any, Item], Result]

# The context of this worker process's tasks, set once when the worker starts.
_shared: list[Any] = []


def _adopt(context: Any) -> None:
    _shared[:] = [context]


def _call(task: Task[Item, Result], item: Item) -> Result:
    return task(_shared[0], item)


class Pool:
    """Tasks on one shared context, here or on worker processes (use :func:`pool`)."""

    def __init__(self, context: Any, executor: ProcessPoolExecutor | None) -> None:
        self._context = context
        self._executor = executor

    def map(
        self,
        task: Task[Item, Result],
        items: Sequence[Item],
        *,
        label: str,
        progress: Progress | None = None,
    ) -> list[Result]:
        """``task(context, item)`` for every item, in the items' order; ``progress(label,
        done, total)`` after each."""
        total = len(items)
        if self._executor is None:
            results = []
            for done, item in enumerate(items, start=1):
                results.append(task(self._context, item))
                if progress is not None:
                    progress(label, done, total)
            return results
        futures = {self._executor.submit(_call, task, item): i for i, item in enumerate(items)}
        found: dict[int, Result] = {}
        for done, future in enumerate(as_completed(futures), start=1):
            found[futures[future]] = future.result()
            if progress is not None:
                progress(label, done, total)
        return [found[i] for i in range(total)]


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


@contextmanager
def pool(context: Any, *, workers: int) -> Iterator[Pool]:
    """A :class:`Pool` of ``workers`` processes sharing ``context`` (one: this process, as
    also inside a worker process of another pool, such as a national run's, which may not
    start processes of its own)."""
    if workers <= 1 or multiprocessing.current_process().daemon:
        yield Pool(context, None)
        return
    executor = ProcessPoolExecutor(
        max_workers=workers, mp_context=_context(), initializer=_adopt, initargs=(context,)
    )
    try:
        yield Pool(context, executor)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
