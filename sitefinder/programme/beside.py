"""Work done on a second process while this one does other work (the programme beside the plan).

:func:`beside` starts a task on a child forked from this process: it starts at once with every
input already in memory (nothing is sent to it), and its answer comes back pickled through a
pipe when :meth:`Pending.result` asks for it. The task must be a pure function of what the
process holds when it starts (no state is shared back but its answer), so its answer is the one
this process would have computed. Where a second process cannot help or is not safe (one CPU,
not Linux, a thread other than the main one, a worker process), or was not asked for, the
task runs here instead, when its result is first asked for; so does a task whose child failed
(an error, a signal, out of memory), so that any error is raised here, as a serial run raises
it. Warnings the child raised are raised again here.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import signal
import struct
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Generic, TypeVar

T = TypeVar("T")

_HEADER = struct.Struct("<Q")  # the answer's length in bytes, before it


def _cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether a task can run on a second process here: on Linux (where ``fork`` is safe with
    the scientific libraries loaded; macOS's system libraries are not), from the main thread of
    a process that is not itself a worker (``daemon``), with two CPUs."""
    return (
        sys.platform.startswith("linux")
        and hasattr(os, "fork")
        and threading.current_thread() is threading.main_thread()
        and not multiprocessing.current_process().daemon
        and _cpus() >= 2
    )


class Pending(Generic[T]):
    """The answer of a task started by :func:`beside`."""

    def __init__(self, task: Callable[[], T], pid: int | None, fd: int | None) -> None:
        self._task = task
        self._pid = pid
        self._fd = fd
        self._done: list[T] = []

    @property
    def forked(self) -> bool:
        """Whether the task was started on a second process."""
        return self._pid is not None

    def result(self) -> T:
        """The task's answer: the child's, or computed here (see the module's docstring)."""
        if self._done:
            return self._done[0]
        answer = self._read() if self._fd is not None else None
        if answer is None:
            value = self._task()
        else:
            value, seen = answer
            for item in seen:
                warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
        self._done.append(value)
        return value

    def _read(self) -> tuple[T, list[warnings.WarningMessage]] | None:
        assert self._fd is not None
        with os.fdopen(self._fd, "rb") as pipe:
            self._fd = None
            data = pipe.read()
        self._reap()
        if len(data) < _HEADER.size or _HEADER.unpack_from(data)[0] != len(data) - _HEADER.size:
            return None  # the child failed before its whole answer was written
        ok, value, seen = pickle.loads(data[_HEADER.size :])  # our own child's answer
        return (value, seen) if ok else None

    def _reap(self) -> None:
        if self._pid is not None:
            os.waitpid(self._pid, 0)
            self._pid = None

    def stop(self) -> None:
        """Stop the child if it is still running (its answer no longer wanted)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._pid is not None:
            with suppress(ProcessLookupError):  # already gone
                os.kill(self._pid, signal.SIGKILL)
            self._reap()


def _child(task: Callable[[], object], fd: int) -> None:
    """The child's whole life: the task, its answer written to ``fd``, and out (never
    returning into the parent's code, and never touching the parent's stdout or stderr)."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        for name in ("SIGTERM", "SIGHUP"):  # not the command's unwinding: the parent's
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), signal.SIG_DFL)
        with warnings.catch_warnings(record=True) as seen:
            try:
                answer: tuple[bool, object, list[warnings.WarningMessage]] = (True, task(), [])
            except BaseException:  # noqa: BLE001 - the parent runs the task again to raise it
                answer = (False, None, [])
        answer = (answer[0], answer[1], [_plain(w) for w in seen])
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(_HEADER.pack(len(data)) + data)
        code = 0
    finally:
        os._exit(code)


def _plain(item: warnings.WarningMessage) -> warnings.WarningMessage:
    """A warning as it can be pickled (its message text, its category and where)."""
    message = item.message if isinstance(item.message, Warning) else Warning(str(item.message))
    return warnings.WarningMessage(
        item.category(str(message)), item.category, item.filename, item.lineno
    )


def _started(task: Callable[[], T]) -> Pending[T]:
    """``task`` started on a forked child; here instead when the system refuses a process
    (out of memory, or of processes)."""
    try:
        read, write = os.pipe()
    except OSError:
        return Pending(task, None, None)
    # The child's collector leaves alone what it inherits (tracing it would copy every page
    # of it from the parent); this process's goes on as before (unless its caller froze some).
    thaw = gc.get_freeze_count() == 0
    if thaw:
        gc.freeze()
    try:
        with warnings.catch_warnings():  # Python 3.12 warns of fork with threads running
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        if thaw:
            gc.unfreeze()
        os.close(read)
        os.close(write)
        return Pending(task, None, None)
    if pid == 0:  # pragma: no cover - the child (its coverage is not collected)
        os.close(read)
        _child(task, write)
    if thaw:
        gc.unfreeze()
    os.close(write)
    return Pending(task, pid, read)


@contextmanager
def beside(task: Callable[[], T], *, fork: bool = True) -> Iterator[Pending[T]]:
    """Start ``task`` on a second process (where :func:`can_fork` and ``fork``), for
    :meth:`Pending.result` to read later; on leaving the block, a child whose answer was not
    read is stopped."""
    pending = _started(task) if fork and can_fork() else Pending(task, None, None)
    try:
        yield pending
    finally:
        pending.stop()
