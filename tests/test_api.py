"""The public Python API: names exported at the top level behave as documented."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import sitefinder


def test_p_median_on_a_hand_solved_matrix():
    # Four towns on a line at 0, 2, 3 and 10 km, two with twice the children.
    x = np.array([0.0, 2.0, 3.0, 10.0])
    cost = np.abs(x[:, None] - x[None, :])
    result = sitefinder.p_median(cost, 2, weights=[2.0, 1.0, 1.0, 2.0])
    # Sites 0 and 3: 0 + 2 + 3 + 0 = 5; sites 1 and 3 would cost 2x2 + 0 + 1 + 0 = 5 too, but
    # sites 2 and 3 cost 2x3 + 1 = 7 and sites 0 and 2 cost 7 x 2 = 14. Both optima give 5.
    assert result.objective == pytest.approx(5.0)
    assert result.gap == 0.0 and result.proven
    assert list(result.sites) in ([0, 3], [1, 3])


def test_p_median_prints_nothing_on_stdout():
    # HiGHS prints a banner on its first use in a process: it must not reach stdout, where
    # sitefinder writes CSV and JSON.
    code = (
        "import numpy as np, sitefinder;sitefinder.p_median(np.array([[0.0, 1.0], [1.0, 0.0]]), 1)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout == ""


def test_every_public_name_is_exported():
    for name in sitefinder.__all__:
        assert hasattr(sitefinder, name), name
