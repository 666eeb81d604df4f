"""Allow ``python -m sitefinder``."""

from sitefinder.console import main

main()
