"""Every output says how close to optimal the plan is (issue 28). The JSON's
``plan.proven_optimal`` and ``plan.gap`` and the table's plan line are checked in
``test_cli.py``, the report in ``test_render.py``; a CSV on stdout is one table, so the run's
notes on stderr say it."""

from __future__ import annotations

import io

import pandas as pd
from typer.testing import CliRunner

from sitefinder.cli import app


def test_a_csv_run_says_on_stderr_how_close_to_optimal_its_plan_is():
    runner = CliRunner()
    exact = runner.invoke(app, ["rank", "--method", "optimal", "--format", "csv"])
    assert exact.exit_code == 0
    assert (
        "note: plan: proven optimal for the model (no set is better by more than 0.01 harm"
        " points)" in exact.stderr
    )
    heuristic = runner.invoke(app, ["rank", "--method", "greedy", "--format", "csv"])
    assert "note: plan: heuristic, no optimality bound" in heuristic.stderr
    assert "proven" not in heuristic.stderr
    for done in (exact, heuristic):  # the CSV itself stays one table
        assert "plan:" not in done.stdout and "rank" in done.stdout.splitlines()[0]
    assert list(pd.read_csv(io.StringIO(exact.stdout))["rank"])[:3] == [1, 2, 3]
