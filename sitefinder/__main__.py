"""Allow ``python -m sitefinder``."""

from sitefinder.cli import main

main()
