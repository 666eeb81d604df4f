"""Readers for the files authorities really hold, by their real column names.

Each reader takes a path and a :class:`~sitefinder.validate.Problems` collector, records every
problem it finds instead of raising, and returns a clean table (or None when the file cannot be
used at all), so one run reports every problem in every file.
"""
