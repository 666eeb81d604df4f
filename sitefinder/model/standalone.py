"""Each option's standalone value, valued exactly when an output asks for it.

An option's *standalone* value is the harm it averts added alone to today's network (harm
points). The greedy order's first step values only the options that could be its best pick;
every other option keeps an upper bound from today's LP prices (weak duality; see
:mod:`sitefinder.model.bounds`). Outputs that read standalone values ask here: the plan's
required schools (one school's options), the strongest sites left out and the candidates in
contention for the robustness runs (the strongest few of a set, found best bound first, so they
are those of valuing every option), and the schools table (every option). Each value is a trial
on a warm copy of today's network, taken before the greedy opened its first pick.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
from numpy.typing import NDArray

from sitefinder.model.network import Site
from sitefinder.model.warm import ComponentTrials, similar_order

_TIE = 1e-9  # harm points: values this close count as equal (the greedy's rule)


class StandaloneValues:
    """The standalone value of every option (harm points), each valued once, when first read.

    Parameters
    ----------
    options
        The candidate sites.
    values
        Values already known (NaN where not yet valued).
    bounds
        An upper bound on each value (harm points; the value itself where known).
    today
        Today's network with its warm LPs (not opened further), for trials of the rest.
    """

    def __init__(
        self,
        options: Sequence[Site],
        values: NDArray[np.float64],
        bounds: NDArray[np.float64],
        today: ComponentTrials,
    ) -> None:
        self._options = options
        self._values = np.asarray(values, dtype=np.float64).copy()
        known = ~np.isnan(self._values)
        self._bounds = np.where(known, self._values, np.asarray(bounds, dtype=np.float64))
        self._today = today
        self.trials = 0

    def __len__(self) -> int:
        return len(self._values)

    @property
    def known(self) -> NDArray[np.bool_]:
        """Whether each option has been valued."""
        return ~np.isnan(self._values)

    def today(self) -> ComponentTrials:
        """Today's network as warm LPs, for trials of other sites against it (not to open)."""
        return self._today

    def of(self, indices: Sequence[int] | NDArray[np.intp]) -> NDArray[np.float64]:
        """The exact values of ``indices`` (harm points), valuing any not yet valued."""
        index = np.asarray(indices, dtype=np.intp)
        todo = sorted({int(i) for i in index[np.isnan(self._values[index])]})
        if todo:
            today = self.today()
            for i in similar_order(self._options, todo):
                self._values[i] = self._bounds[i] = today.gain(self._options[i])
                self.trials += 1
        return self._values[index].copy()

    def all(self) -> NDArray[np.float64]:
        """Every option's exact value (harm points)."""
        return self.of(np.arange(len(self._values)))

    def strongest(
        self,
        indices: Sequence[int] | NDArray[np.intp],
        k: int,
        *,
        key: Sequence[Hashable] | None = None,
    ) -> NDArray[np.float64]:
        """Values of ``indices`` that decide the ``k`` strongest, NaN for the rest.

        With ``key`` (one label per option, e.g. its school) the ``k`` strongest labels, each
        as strong as its best option. Options are valued best bound first until no bound
        left reaches the ``k``-th strongest value (ties count), so every option that could be
        among the strongest (or tie with them) has its exact value, and sorting the result
        (NaN last) gives the order of valuing every option.
        """
        index = np.asarray(indices, dtype=np.intp)
        best: dict[Hashable, float] = {}
        for position in np.argsort(-self._bounds[index], kind="stable").tolist():
            i = int(index[position])
            if len(best) >= k:
                kth = sorted(best.values(), reverse=True)[k - 1]
                if self._bounds[i] < kth - _TIE:
                    break  # no option from here on can reach the k strongest
            value = float(self.of([i])[0])
            label: Hashable = i if key is None else key[i]
            best[label] = max(best.get(label, -np.inf), value)
        return self._values[index].copy()
