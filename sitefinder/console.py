"""The ``sitefinder`` console script: starts the command so that even Ctrl-C during start-up
(importing the scientific stack takes seconds) ends in one line, not a traceback, and so that
the environment it runs in (a closed or full standard output, an ASCII terminal, a malformed
``SOURCE_DATE_EPOCH``) cannot turn into a crash."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from sitefinder.errors import WRITE_FAILURES


def _steady_environment() -> None:
    """Make the process's surroundings safe before anything else is imported."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None and not epoch.strip().isdigit():
        # Libraries read it when imported (scipy's does int() on it) and when saving images.
        del os.environ["SOURCE_DATE_EPOCH"]
        if sys.stderr is not None:
            sys.stderr.write(
                f"warning: SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds since"
                " 1970, so it is ignored (set it to e.g. 1735689600, or unset it)\n"
            )
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:  # closed by the shell (>&-): what it would show goes nowhere
            setattr(sys, name, Path(os.devnull).open("w", encoding="utf-8"))  # noqa: SIM115
            if name == "stdout" and sys.stderr is not None:
                sys.stderr.write(
                    "warning: standard output is closed, so what sitefinder would show there"
                    " is not shown (files named with --output, --map or --report are written)\n"
                )
            continue
        if hasattr(stream, "reconfigure"):
            # An ASCII terminal (PYTHONIOENCODING=ascii) gets "?" for an arrow or a pound
            # sign rather than an encoding error halfway through a table.
            stream.reconfigure(errors="replace")


def main() -> None:
    """Entry point of the ``sitefinder`` console script."""
    _steady_environment()
    try:
        from sitefinder.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted (Ctrl-C) while starting; nothing was done\n")
        raise SystemExit(130) from None
    try:
        run()
    except OSError as exc:
        if exc.errno not in WRITE_FAILURES:
            raise
        _write_failed(exc)
    finally:
        # The command is done and the process ends next. Shutting the interpreter down
        # collects garbage over every object of pandas, scipy and HiGHS several times (about
        # 0.2 s, as long as ranking the demo); frozen, they are freed without those passes.
        gc.freeze()
    try:
        sys.stdout.flush()
    except OSError as exc:
        _write_failed(exc)


def _write_failed(exc: OSError) -> None:
    """End with one line when the output cannot be written (a full disk, a closed pipe)."""
    try:
        sys.stdout = Path(os.devnull).open("w", encoding="utf-8")  # noqa: SIM115
        sys.stderr.write(
            f"error: the output could not be written ({exc.strerror or exc}): check the disk"
            " or pipe it goes to, or write it to a file with --output\n"
        )
    except OSError:
        pass  # nowhere left to say it
    raise SystemExit(1) from None
