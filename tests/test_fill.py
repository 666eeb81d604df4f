"""The greedy fill's step passes candidates over on their bound yet picks what the full scan
picks (ties included: the first of tied copies)."""

import numpy as np
import pytest
from test_select import make_site, random_case

from sitefinder.model.fill import best_addition
from sitefinder.model.network import DemandRows
from sitefinder.model.scoring import SetScorer

_TOL = 1e-9


def full_scan(scorer, open_, eligible):
    """The fill's step as it was: every eligible candidate solved, first strict best kept."""
    best, best_j = np.inf, -1
    for j in eligible:
        open_[j] = True
        value = scorer.harm(open_)
        open_[j] = False
        if value < best - _TOL:
            best, best_j = value, int(j)
    return best_j, best


@pytest.mark.parametrize("seed", range(12))
def test_each_step_picks_what_solving_every_candidate_picks(seed):
    rng = np.random.default_rng(seed)
    demand, existing, candidates = random_case(rng, n_rows=10, n_cand=9)
    candidates = candidates + candidates[:3]  # tied copies: the first one must win
    exact = SetScorer(demand, existing, candidates)
    pruned = SetScorer(demand, existing, candidates)
    solved: list[int] = []

    def score(open_):
        solved.append(1)
        return pruned.harm(open_)

    open_ = np.zeros(len(candidates), dtype=bool)
    for _ in range(5):
        eligible = np.flatnonzero(~open_)
        want_j, want = full_scan(exact, open_, eligible)
        got_j, got = best_addition(
            pruned,
            open_,
            pruned.harm(open_),
            eligible,
            score=score,
            tolerance=_TOL,
            deadline=np.inf,
        )
        assert got_j == want_j
        assert got == pytest.approx(want, abs=1e-9)
        open_[got_j] = True


def test_a_candidate_its_bound_rules_out_is_not_solved():
    # Two rows of 5 children; candidate 0 serves both at no harm, the rest reach one row only
    # at a harm near the unmet harm: their bound is below what candidate 0 already averts.
    demand = DemandRows(
        np.array([5.0, 5.0]), np.zeros(2, dtype=np.intp), np.full(2, 45.0), np.full(2, 30.0)
    )
    candidates = [make_site([0, 1], [0, 0], 10)] + [make_site([0], [29], 5) for _ in range(6)]
    scorer = SetScorer(demand, [], candidates)
    calls: list[int] = []

    def score(open_):
        calls.append(int(np.flatnonzero(open_).sum()))
        return scorer.harm(open_)

    open_ = np.zeros(len(candidates), dtype=bool)
    j, value = best_addition(
        scorer, open_, scorer.harm(open_), np.arange(7), score=score, tolerance=_TOL, deadline=1e18
    )
    assert (j, value) == (0, 0.0)
    assert len(calls) == 1  # the six weak ones are passed over unsolved
    assert not open_.any()
