"""The ``sitefinder`` console script: starts the command so that even Ctrl-C during start-up
(importing the scientific stack takes seconds) ends in one line, not a traceback."""

from __future__ import annotations

import sys


def main() -> None:
    """Entry point of the ``sitefinder`` console script."""
    try:
        from sitefinder.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted (Ctrl-C) while starting; nothing was done\n")
        raise SystemExit(130) from None
    run()
