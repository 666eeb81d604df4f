"""The ``sitefinder`` console script: starts the command so that even Ctrl-C during start-up
(importing the scientific stack takes seconds) ends in one line, not a traceback."""

from __future__ import annotations

import gc
import sys


def main() -> None:
    """Entry point of the ``sitefinder`` console script."""
    try:
        from sitefinder.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted (Ctrl-C) while starting; nothing was done\n")
        raise SystemExit(130) from None
    try:
        run()
    finally:
        # The command is done and the process ends next. Shutting the interpreter down
        # collects garbage over every object of pandas, scipy and HiGHS several times (about
        # 0.2 s, as long as ranking the demo); frozen, they are freed without those passes.
        gc.freeze()
