"""Say what was assumed: each assumption that changes the plan is a warning in ``validate``,
in ``rank`` (its stderr and its table) and in the JSON (issue 13, item 4).

The cases start from the two valid baselines of test_broken_inputs.py (a Trafford GIAS
extract with modelled demand, and the demo in sitefinder's own layout) and change one thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from layouts import GiasSchool, write_gias, write_sen2_caseload
from test_broken_inputs import Baseline, demo_baseline, gias_baseline, invoke


def _warned(config, expected: str) -> None:
    """``expected`` is a warning of validate, of rank (stderr and table) and of the JSON."""
    result = invoke(["validate", "--config", str(config)])
    assert result.exit_code == 0, result.output
    warnings = [w for w in result.stderr.splitlines() if w.startswith("warning: ")]
    assert any(expected in w for w in warnings), ("validate", warnings)
    result = invoke(["rank", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert any(expected in w for w in result.stderr.splitlines() if w.startswith("warning: "))
    table = " ".join(result.stdout.split())  # the table wraps long lines
    assert " ".join(expected.split()) in table, "rank table"
    result = invoke(["rank", "--config", str(config), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert any(expected in w for w in json.loads(result.stdout)["warnings"]), "JSON"


def _no_bases_with_sen2(base: Baseline) -> str:
    schools = [  # no base flags
        GiasSchool(f"10000{i}", f"Plain Primary {i}", xy=(str(376000 + 500 * i), "390000")).row()
        for i in range(1, 5)
    ]
    write_gias(base.gias, schools)
    return "existing bases: none given, but there are 72 of Trafford's children"


def _no_bases_without_sen2(base: Baseline) -> str:
    base.files["bases"].write_text(
        base.files["bases"].read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8"
    )  # header only
    return (
        "existing bases: none given, and no SEN2 count of children in bases to check against"
        " (inputs.demand.sen2_caseload), so every child starts without a base place"
    )


def _no_capacity(base: Baseline) -> str:
    return "1 base(s) have no recorded capacity, so 10 places are assumed"


def _no_population(base: Baseline) -> str:
    lines = base.population.read_text(encoding="utf-8").splitlines()
    base.population.write_text(
        "\n".join(line for line in lines if ",E01000002," not in line) + "\n", encoding="utf-8"
    )
    return (
        f"{base.population}: no population for 1 of the 2 areas, e.g. E01000002; no children"
        " are modelled there"
    )


def _share_under_half(base: Baseline) -> str:
    write_sen2_caseload(base.caseload, primary=1, secondary=1)  # 0.8% against 4% and 6%
    return "inputs.demand.share: Trafford's share of EHC plans placed in mainstream resourced"


def _share_over_twice(base: Baseline) -> str:
    write_sen2_caseload(base.caseload, primary=12, secondary=6)  # 10% against 4%
    return (
        "inputs.demand.share: Trafford's share of EHC plans placed in mainstream resourced"
        " provision or SEN units is over twice England's (SEN2 January 2025): primary (ages"
        " 4-10) 10.0% against 4.0%; demand planned from it follows Trafford's practice"
    )


CASES: dict[str, tuple[Callable[..., Baseline], Callable[[Baseline], str]]] = {
    "no bases, SEN2 has children in bases": (gias_baseline, _no_bases_with_sen2),
    "no bases, no SEN2": (demo_baseline, _no_bases_without_sen2),
    "no capacity": (gias_baseline, _no_capacity),
    "no population for an area": (gias_baseline, _no_population),
    "share under half England's": (gias_baseline, _share_under_half),
    "share over twice England's": (gias_baseline, _share_over_twice),
}


@pytest.mark.parametrize("case", CASES)
def test_assumption_is_a_warning_everywhere(tmp_path, case):
    make, edit = CASES[case]
    base = make(tmp_path)
    expected = edit(base)
    _warned(base.scenario(), expected)


def test_share_over_twice_is_not_said_when_englands_share_is_used(tmp_path):
    base = gias_baseline(tmp_path)
    _share_over_twice(base)
    base.sections["inputs.demand"]["share"] = "england"
    result = invoke(["validate", "--config", str(base.scenario())])
    assert result.exit_code == 0, result.output
    assert "over twice England's" not in result.stderr


def test_population_covering_every_area_says_nothing(tmp_path):
    result = invoke(["validate", "--config", str(gias_baseline(tmp_path).scenario())])
    assert result.exit_code == 0, result.output
    assert "no population for" not in result.stderr
