"""An LP over several components starts from their optimal bases side by side (warm.py)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from networks import demand_rows, site

from sitefinder.model.network import Site
from sitefinder.model.warm import ComponentTrials, WarmTransport, _Components


def _iterations(model: WarmTransport) -> int:
    return int(model._highs.getInfo().simplex_iteration_count)


@st.composite
def separate_groups(draw):
    """Groups of rows, each with its own bases (so each a component), some rows in no group,
    and a trial base reaching rows of several groups."""
    groups = draw(st.integers(2, 4))
    per = draw(st.integers(2, 5))
    lone = draw(st.integers(0, 3))
    n = groups * per + lone
    children = draw(st.lists(st.integers(1, 6), min_size=n, max_size=n))
    demand = demand_rows(children, [0] * n)
    minutes = st.integers(5, 90)
    bases = []
    for g in range(groups):
        rows = list(range(g * per, (g + 1) * per))
        for _ in range(draw(st.integers(1, 2))):
            reach = draw(st.lists(st.sampled_from(rows), min_size=1, unique=True))
            times = draw(st.lists(minutes, min_size=len(reach), max_size=len(reach)))
            bases.append(site(draw(st.integers(1, 8)), {0}, reach, times))
    # Each group's rows made one component: a base reaching the whole group.
    for g in range(groups):
        rows = list(range(g * per, (g + 1) * per))
        bases.append(site(draw(st.integers(1, 4)), {0}, rows, [60] * per))
    reach = draw(st.lists(st.integers(0, n - 1), min_size=2, unique=True))
    times = draw(st.lists(minutes, min_size=len(reach), max_size=len(reach)))
    trial = site(draw(st.integers(1, 10)), {0}, reach, times)
    return demand, groups, per, bases, trial


def _parts(demand, groups, per, bases, *, tried: Site | None):
    parts = []
    for g in range(groups):
        rows = np.arange(g * per, (g + 1) * per)
        mine = [b for b in bases if set(b.rows.tolist()) <= set(rows.tolist())]
        part = WarmTransport(demand, mine, rows)
        if tried is not None:  # a trial moves the solver's basis off the part's optimum
            part.trial(tried)
        parts.append(part)
    return parts


@settings(max_examples=60, deadline=None, derandomize=True)
@given(separate_groups(), st.booleans())
def test_joined_lp_starts_at_the_optimum_found_from_scratch(instance, tried):
    demand, groups, per, bases, trial = instance
    rows = np.arange(len(demand))
    # The parts' bases in the order the joined LP lists them (not the parts' order).
    ordered = bases[::-1]
    probe = site(3, {0}, [0, per], [15, 25]) if tried else None
    parts = _parts(demand, groups, per, bases, tried=probe)
    joined = WarmTransport(demand, ordered, rows, parts=parts)
    scratch = WarmTransport(demand, ordered, rows)
    assert _iterations(joined) == 0  # the side-by-side bases were optimal as they stood
    assert joined.objective == pytest.approx(scratch.objective, abs=1e-7)
    assert joined.trial(trial) == pytest.approx(scratch.trial(trial), abs=1e-7)


def test_joined_lp_hand_checked():
    # Two rows of 3 and 2 children, each with its own base of 2 places (10 and 20 minutes:
    # harm 1 and 2 a child), and a lone row of 1 child: 25 harm points a child left unmet.
    demand = demand_rows([3, 2, 1], [0, 0, 0])
    a, b = site(2, {0}, [0], [10]), site(2, {0}, [1], [20])
    parts = [
        WarmTransport(demand, [a], np.array([0])),
        WarmTransport(demand, [b], np.array([1])),
    ]
    joined = WarmTransport(demand, [a, b], np.arange(3), parts=parts)
    # Row 0: 2 placed (2) + 1 unmet (25); row 1: 2 placed (4); row 2: 1 unmet (25).
    assert joined.objective == pytest.approx(56.0)
    assert _iterations(joined) == 0
    # A base of 2 places at 5 minutes reaching rows 0 and 2 places the two unmet children.
    assert joined.trial(site(2, {0}, [0, 2], [5, 5])) == pytest.approx(56.0 - 2 * 24.5)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.data())
def test_components_kept_across_merges_match_counting_afresh(data):
    n = data.draw(st.integers(2, 25))
    rows = st.lists(st.integers(0, n - 1), min_size=1, max_size=5, unique=True)
    sites = [site(1, {0}, r, [10] * len(r)) for r in data.draw(st.lists(rows, max_size=12))]
    probes = [site(1, {0}, r, [10] * len(r)) for r in data.draw(st.lists(rows, min_size=1))]
    components = _Components(n, [])
    for opened in range(len(sites) + 1):
        fresh = _Components(n, sites[:opened])
        for probe in probes:  # asked before and after each merge, as the greedy asks
            assert components.roots(probe) == fresh.roots(probe)
            assert components.reached(probe) == fresh.reached(probe)
        if opened < len(sites):
            components.open(sites[opened])


def test_bound_across_components_reads_the_prices_after_an_opening():
    # Row 0: 3 children, base A of 2 places (harm 1 a child); row 1: 2 children, no base.
    demand = demand_rows([3, 2], [0, 0])
    trials = ComponentTrials(demand, [site(2, {0}, [0], [10])])
    spanning = site(3, {0}, [0, 1], [5, 5])  # 0.5 a child; rows of two components
    # Row 0 short of places: both rows priced at 25, 24.5 over the new base's harm. At a
    # place price of 24.5: 3 x 24.5 = 73.5.
    assert trials.bound(spanning, enough=np.inf) == pytest.approx(73.5)
    # Base B, 5 places at harm 2, fills row 0: its price falls to 2 (excess 1.5). At a place
    # price of 1.5: 3 x 1.5 + 2 x 23 = 50.5, the gain itself (row 1's 2 children placed, one
    # of row 0's moved from B: 49 + 1.5).
    trials.open(site(5, {0}, [0], [20]))
    assert trials.bound(spanning, enough=np.inf) == pytest.approx(50.5)
    assert trials.gain(spanning) == pytest.approx(50.5)
