"""Sparse journeys: only the (area, school) pairs within ``journey.max_minutes`` are kept.

A base is never offered a journey longer than ``journey.max_minutes``, and a child falls back
only on a special school within it, so a pair past it is never looked at. Keeping the pairs
within reach instead of a dense areas x schools matrix makes memory grow with the pairs, not
with areas x schools (a national instance would need about 5 GB per dense array).

:class:`SchoolPairs` holds journey minutes per (origin, school) pair grouped by school (the
compressed sparse column layout); :class:`RowJourneys` gives every demand row its area's pairs
without copying them, since the rows of one area (its phases, need groups and age bands) share
its journeys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray


def spans(start: NDArray[np.intp], stop: NDArray[np.intp]) -> NDArray[np.intp]:
    """Concatenate ``arange(start[k], stop[k])`` over k without a Python loop."""
    lengths = np.asarray(stop - start, dtype=np.intp)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.intp)
    offsets = np.repeat(np.asarray(start, dtype=np.intp) - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(total, dtype=np.intp)


@dataclass(frozen=True)
class SchoolPairs:
    """Journey minutes of the (origin, school) pairs within reach, grouped by school.

    Attributes
    ----------
    indptr
        School ``j``'s pairs are ``indptr[j]:indptr[j + 1]``; shape (n_schools + 1,).
    origin
        Origin (area) position of each pair, ascending within each school.
    minutes
        Journey minutes of each pair (every one finite and within the cutoff it was built for).
    n_origins
        Number of origins (areas).
    """

    indptr: NDArray[np.intp]
    origin: NDArray[np.intp]
    minutes: NDArray[np.float64]
    n_origins: int

    @property
    def n_schools(self) -> int:
        """Number of schools."""
        return len(self.indptr) - 1

    def __len__(self) -> int:
        return len(self.origin)

    def of(self, school: int) -> slice:
        """The positions of school ``school``'s pairs."""
        return slice(int(self.indptr[school]), int(self.indptr[school + 1]))

    def of_schools(self, schools: NDArray[np.intp]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Every pair of ``schools``: (pair positions, the school of each)."""
        schools = np.asarray(schools, dtype=np.intp)
        start, stop = self.indptr[schools], self.indptr[schools + 1]
        return spans(start, stop), np.repeat(schools, stop - start)

    def dense(self) -> NDArray[np.float64]:
        """Minutes as a dense (n_origins, n_schools) matrix, ``inf`` where out of reach."""
        matrix = np.full((self.n_origins, self.n_schools), np.inf)
        school = np.repeat(np.arange(self.n_schools), np.diff(self.indptr))
        matrix[self.origin, school] = self.minutes
        return matrix

    @classmethod
    def from_dense(cls, minutes: NDArray[np.float64], *, max_minutes: float) -> SchoolPairs:
        """The pairs of a dense (n_origins, n_schools) matrix within ``max_minutes``."""
        minutes = np.asarray(minutes, dtype=np.float64)
        by_school = minutes.T
        school, origin = np.nonzero(by_school <= max_minutes)  # origins ascending per school
        indptr = np.zeros(minutes.shape[1] + 1, dtype=np.intp)
        np.cumsum(np.bincount(school, minlength=minutes.shape[1]), out=indptr[1:])
        return cls(indptr, origin.astype(np.intp), minutes[origin, school], minutes.shape[0])

    @classmethod
    def from_triples(
        cls,
        origin: NDArray[np.intp],
        school: NDArray[np.intp],
        minutes: NDArray[np.float64],
        *,
        n_origins: int,
        n_schools: int,
    ) -> SchoolPairs:
        """Pairs given in any order (each pair once), grouped by school, origins ascending."""
        order = np.lexsort((origin, school))
        indptr = np.zeros(n_schools + 1, dtype=np.intp)
        np.cumsum(np.bincount(school, minlength=n_schools), out=indptr[1:])
        return cls(
            indptr,
            np.asarray(origin, dtype=np.intp)[order],
            np.asarray(minutes, dtype=np.float64)[order],
            n_origins,
        )


@dataclass(frozen=True)
class RowJourneys:
    """Journey minutes from each demand row to each school, through the row's area.

    Attributes
    ----------
    pairs
        The (area, school) pairs within reach and their journey minutes.
    row_area
        Area position of each demand row.
    """

    pairs: SchoolPairs
    row_area: NDArray[np.intp]
    _area_order: NDArray[np.intp] = field(init=False, repr=False)
    _area_ptr: NDArray[np.intp] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # The rows of each area, ascending: a CSR index from area to rows.
        order = np.argsort(self.row_area, kind="stable").astype(np.intp)
        ptr = np.zeros(self.pairs.n_origins + 1, dtype=np.intp)
        np.cumsum(np.bincount(self.row_area, minlength=self.pairs.n_origins), out=ptr[1:])
        object.__setattr__(self, "_area_order", order)
        object.__setattr__(self, "_area_ptr", ptr)

    @property
    def n_rows(self) -> int:
        """Number of demand rows."""
        return len(self.row_area)

    def to_schools(
        self, schools: NDArray[np.intp]
    ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
        """Every (row, school) pair within reach of ``schools``.

        Returns
        -------
        rows, school, pair
            The demand row, the school, and the position of the (area, school) pair that
            holds the journey minutes; grouped by school in the order given, rows ascending.
        """
        schools = np.asarray(schools, dtype=np.intp)
        start, stop = self.pairs.indptr[schools], self.pairs.indptr[schools + 1]
        pair = spans(start, stop)
        which = np.repeat(np.arange(len(schools), dtype=np.intp), stop - start)
        area = self.pairs.origin[pair]
        first, last = self._area_ptr[area], self._area_ptr[area + 1]
        count = last - first
        rows = self._area_order[spans(first, last)]
        which, pair = np.repeat(which, count), np.repeat(pair, count)
        order = np.lexsort((rows, which))
        return rows[order], schools[which[order]], pair[order]

    def minutes(self, pair: NDArray[np.intp]) -> NDArray[np.float64]:
        """Journey minutes of the given pairs."""
        return self.pairs.minutes[pair]

    def subset(self, rows: NDArray[np.intp]) -> RowJourneys:
        """The journeys of the given rows only (positions), in that order."""
        return RowJourneys(self.pairs, self.row_area[rows])

    def dense(self) -> NDArray[np.float64]:
        """Minutes as a dense (n_rows, n_schools) matrix, ``inf`` where out of reach."""
        return self.pairs.dense()[self.row_area]

    @classmethod
    def from_dense(cls, minutes: NDArray[np.float64], *, max_minutes: float) -> RowJourneys:
        """Each row of a dense (n_rows, n_schools) matrix as its own area."""
        pairs = SchoolPairs.from_dense(minutes, max_minutes=max_minutes)
        return cls(pairs, np.arange(pairs.n_origins, dtype=np.intp))
