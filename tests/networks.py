"""Small demand tables for the model tests."""

import numpy as np
from hypothesis import strategies as st

from sitefinder.model.network import DemandRows, Site


def demand_rows(children, klass) -> DemandRows:
    """Rows with a 45-minute limit and 25 harm points per child left without a place."""
    n = len(children)
    return DemandRows(
        np.asarray(children, dtype=float),
        np.asarray(klass, dtype=np.intp),
        np.full(n, 45.0),
        np.full(n, 25.0),
    )


def site(capacity, classes, rows, minutes) -> Site:
    """A base of ``capacity`` places for ``classes`` reaching ``rows`` in ``minutes`` (harm: a
    tenth of the minutes)."""
    minutes = np.asarray(minutes, dtype=float)
    return Site(
        float(capacity), frozenset(classes), np.asarray(rows, dtype=np.intp), minutes, minutes / 10
    )


@st.composite
def random_networks(draw, *, rows, classes, children, minutes, existing, options):
    """Demand rows, ``existing`` bases serving one or two classes and 1 to ``options`` trial
    bases of one class each, drawn for hypothesis (``rows``: (fewest, most); ``children``
    and ``minutes``: strategies for one row's children and one journey)."""
    n_rows = draw(st.integers(*rows))
    klass = draw(st.lists(st.integers(0, classes - 1), min_size=n_rows, max_size=n_rows))
    counts = draw(st.lists(children, min_size=n_rows, max_size=n_rows))

    def drawn(serves):
        reach = [r for r in range(n_rows) if klass[r] in serves]
        journeys = draw(st.lists(minutes, min_size=len(reach), max_size=len(reach)))
        return site(draw(st.integers(1, 10)), serves, reach, journeys)

    bases = [
        drawn(draw(st.sets(st.integers(0, classes - 1), min_size=1, max_size=2)))
        for _ in range(existing)
    ]
    trials = [
        drawn({draw(st.integers(0, classes - 1))}) for _ in range(draw(st.integers(1, options)))
    ]
    return demand_rows(counts, klass), bases, trials
