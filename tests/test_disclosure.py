"""Disclosure control: attack every output and fail on any count of 1-4 children recovered.

Two attacks, on the terminal table, CSV, JSON, HTML report and GeoPackage of the demo (whose
later picks and areas serve only a few children each):

- **division**: every harm figure published in a row is divided by every per-child harm a
  reader could work out from the published settings and minutes (a child without a place,
  one journey's harm, the harm a journey saves); a quotient within 0.02 of a withheld count of
  that row gives the count back;
- **differencing**: published totals minus the published rows they add up to (the network's
  totals against the areas, each area's and base's children against its assignment lines)
  must leave 0 or at least the threshold (harm: 0 or at least threshold x unmet harm).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sitefinder import load_scenario, rank, with_settings, write_geopackage
from sitefinder.cli import app
from sitefinder.disclosure import Rule, Withheld, protect
from sitefinder.errors import ScenarioError
from sitefinder.render import write_report
from sitefinder.report import ranking_table, to_csv, to_json
from sitefinder.resources import bundled_root, default_scenario_path

TOP = 10
THRESHOLD = 5


@pytest.fixture(scope="module", params=["flat", "special_school"])
def demo(request):
    """The demo under the flat fallback (every child without a place carries the same harm,
    the easiest to divide by) and under the default fallback journeys."""
    settings_ = {"top": TOP, "fallback.method": request.param}
    return rank(with_settings(load_scenario(default_scenario_path()), settings_))


def _number(text: object) -> float | None:
    """A published cell as a number, or None when withheld, blank or text."""
    if text is None or isinstance(text, bool):
        return None
    try:
        value = float(str(text).replace(",", ""))
    except ValueError:
        return None
    return None if math.isnan(value) else value


def _unmets(result) -> list[float]:
    """The harm of one child without a place, row by row (fallback journey plus mismatch)."""
    return sorted({round(float(u), 9) for u in result.fallback.unmet_harm})


def _per_child(result, phase: str, minutes: list[float | None]) -> list[float]:
    """Every per-child harm a reader could compute from the settings and shown minutes: a
    child without a place (each fallback journey's harm plus the mismatch), the mismatch, one
    journey's harm and the harm a journey saves."""
    scenario = result.scenario
    curve = scenario.harm.curve(phase)
    unmets = _unmets(result)
    mismatch = [] if scenario.fallback.method == "flat" else [scenario.fallback.mismatch]
    harms = [float(curve(m)) for m in minutes if m is not None]
    found = [*unmets, *mismatch, *harms, *(u - h for u in unmets for h in harms)]
    found += [abs(a - b) for a in harms for b in harms]
    return [p for p in found if p > 1e-6]


def _divides(harm: list[float | None], per_child: list[float], secrets: set[int]) -> set[int]:
    recovered = set()
    for value in harm:
        if value is None or value == 0:
            continue
        for unit in per_child:
            quotient = abs(value) / unit
            nearest = round(quotient)
            if 1 <= nearest < THRESHOLD and abs(quotient - nearest) < 0.02 and nearest in secrets:
                recovered.add(nearest)
    return recovered


def _ranking_secrets(demo) -> dict[int, set[int]]:
    """Rank -> the withheld counts of its row (true values 1-4)."""
    found = {}
    for row in demo.ranking.head(TOP).itertuples():
        counts = [row.children_served, row.newly_placed, row.within_limit_gain]
        found[int(row.rank)] = {round(c) for c in counts if 0 < round(c, 6) < THRESHOLD}
    return found


def _attack_rows(demo, rows: list[dict[str, object]]) -> list[str]:
    """Division attack on ranking rows given as published key -> cell."""
    secrets = _ranking_secrets(demo)
    leaks = []
    for row in rows:
        rank_ = int(_number(row["rank"]) or 0)
        minutes = [_number(row.get("minutes_before")), _number(row.get("minutes_after"))]
        harm = [_number(row.get("harm_averted")), _number(row.get("harm_averted_standalone"))]
        per_child = _per_child(demo, str(row["phase"]), minutes)
        if found := _divides(harm, per_child, secrets[rank_]):
            leaks.append(f"rank {rank_}: {sorted(found)} from harm {harm}")
        served = _number(row.get("children_served"))
        spread = [harm[0] if served is None or served < THRESHOLD else None, harm[1]]
        for value in spread:  # a small harm figure, of no count of 5 or more, gives one back
            if value and 0 < abs(value) < THRESHOLD * demo.disclosure_rule.unmet:
                leaks.append(f"rank {rank_}: harm {value} under {THRESHOLD} children's worth")
    return leaks


def test_the_demo_has_small_counts_to_protect(demo):
    secrets = _ranking_secrets(demo)
    assert sum(bool(s) for s in secrets.values()) >= 4
    if demo.scenario.fallback.method != "flat":
        return
    # Without protection, "harm averted 74.51, served <5" gives back 3 children.
    row = demo.ranking.set_index("rank").loc[5]
    assert 0 < row.children_served < THRESHOLD
    # (3 children, less the small harm of their journeys to the new base)
    assert row.harm_averted / demo.disclosure_rule.unmet == pytest.approx(3, abs=0.1)


def test_csv_and_json_give_back_no_count(demo):
    rows = list(csv.DictReader(io.StringIO(to_csv(demo, top=TOP))))
    assert _attack_rows(demo, rows) == []
    document = json.loads(to_json(demo, top=TOP))
    assert _attack_rows(demo, document["ranking"]) == []
    assert any(r["harm_averted"] == "c" for r in document["ranking"])
    assert any(r["children_served"] == "<5" for r in document["ranking"])
    for base in document["plan"]["chosen"]:
        served = _number(base["children_served"])
        harm = _number(base["harm_averted"])
        assert served is None or served >= THRESHOLD or harm is None


def test_terminal_table_and_html_give_back_no_count(demo, tmp_path):
    from rich.console import Console

    console = Console(width=140, record=True, file=io.StringIO())
    console.print(ranking_table(demo, top=TOP))
    terminal = console.export_text()
    report = write_report(demo, tmp_path / "r.html", generated="").read_text(encoding="utf-8")
    for row in demo.ranking.head(TOP).itertuples():
        if not _ranking_secrets(demo)[int(row.rank)]:
            continue
        for value in (row.harm_averted, row.harm_averted_standalone):
            if value >= THRESHOLD * demo.disclosure_rule.unmet:
                continue  # shown elsewhere by coincidence is no leak: it divides to 5 or more
            assert f"{value:.2f}" not in terminal
            assert f"{value:.2f}" not in report
    # The HTML ranking, attacked cell by cell.
    section = report.split('<section id="ranking">')[1].split("</section>")[0]
    table = re.findall(r"<tr[^>]*>(.*?)</tr>", section)
    heads = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<th[^>]*>(.*?)</th>", table[0])]
    cells = []
    for row in table[1:]:
        texts = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        cells.append(dict(zip(heads, texts, strict=True)))
    rows = []
    for cell in cells:
        before, _, after = cell["Minutes before → after"].partition(" → ")
        phase = cell["New base"].split(":")[0]
        rows.append(
            {"rank": cell["Rank"], "phase": phase, "harm_averted": cell["Harm averted (in order)"],
             "harm_averted_standalone": cell["Harm averted (alone)"],
             "children_served": cell["Children served"],
             "minutes_before": before, "minutes_after": after}
        )  # fmt: skip
    assert len(rows) == TOP
    assert _attack_rows(demo, rows) == []


def _published_totals(demo) -> dict[str, dict[str, object]]:
    return json.loads(to_json(demo, top=TOP))["network"]


def test_geopackage_gives_back_no_count_by_division_or_differencing(demo, tmp_path):
    path = write_geopackage(demo, tmp_path / "d.gpkg")
    areas = gpd.read_file(path, layer="demand")
    truth = demo.areas.set_index("area_code")
    unmet = demo.disclosure_rule.unmet
    totals = _published_totals(demo)
    # Division: no area's shown harm divides into one of its withheld counts.
    for row in areas.itertuples():
        real = truth.loc[row.area_code]
        secrets = {
            round(real[c]) for c in ("children", "unmet_before", "unmet_after",
                                     "within_limit_before", "within_limit_after")
            if 0 < round(real[c], 6) < THRESHOLD
        }  # fmt: skip
        harm = [_number(row.harm_before), _number(row.harm_after), _number(row.harm_averted)]
        assert _divides(harm, _unmets(demo), secrets) == set(), row.area_code
    # Differencing: the network's totals minus the shown areas.
    pairs = {
        "children": ("before", "children"), "unmet_before": ("before", "unmet"),
        "unmet_after": ("after", "unmet"), "within_limit_before": ("before", "within_limit"),
        "within_limit_after": ("after", "within_limit"),
        "harm_before": ("before", "total_harm"), "harm_after": ("after", "total_harm"),
    }  # fmt: skip
    for column, (state, key) in pairs.items():
        total = _number(totals[state][key])
        if total is None:
            continue
        residual = round(total - areas[column].fillna(0).sum(), 1)
        limit = THRESHOLD * unmet if column.startswith("harm") else THRESHOLD
        # Harm left over from the shown areas is the harm of the hidden areas' children
        # together: no small count when those are 5 or more (their unmet: checked above).
        hidden = truth.loc[areas.loc[areas[column].isna(), "area_code"], "children"].sum()
        spread = column.startswith("harm") and hidden >= THRESHOLD
        assert residual == 0 or abs(residual) >= limit - 0.1 or spread, (column, residual)
    # Differencing the lines: each area's placed children and each base's served children.
    lines = gpd.read_file(path, layer="assignments")
    placed = (truth["children"] - truth["unmet_after"].fillna(0)).round(6)
    for code, group in lines.groupby("area_code"):
        shown = areas.set_index("area_code").loc[code]
        if pd.isna(shown["children"]) or pd.isna(shown["unmet_after"]):
            continue
        residual = round(placed.loc[code] - group["children"].fillna(0).sum(), 6)
        assert residual == 0 or residual >= THRESHOLD, (code, residual)
    planned = gpd.read_file(path, layer="planned_bases").set_index("site")
    for site, group in lines.groupby("site"):
        if site not in planned.index or pd.isna(planned.loc[site, "children_served"]):
            continue
        residual = round(planned.loc[site, "children_served"] - group["children"].fillna(0).sum())
        assert residual == 0 or residual >= THRESHOLD, (site, residual)
    # No harm under threshold x unmet anywhere, no per-school EHC count of 1-4.
    candidates = gpd.read_file(path, layer="candidates")
    harm_columns = [c for c in candidates.columns if c.startswith("standalone_")]
    values = candidates[harm_columns].to_numpy(dtype=float).ravel()
    values = values[np.isfinite(values)]
    assert not ((values > 0) & (values < THRESHOLD * unmet)).any()
    ehcp = candidates["ehcp_pupils"].dropna()
    assert ((ehcp == 0) | (ehcp >= THRESHOLD)).all()


def test_plan_areas_served_give_back_no_count(demo):
    """A base's children minus its listed areas (when all are listed) leaves no small count."""
    for row in json.loads(to_json(demo, top=TOP))["plan"]["chosen"]:
        served = _number(row["children_served"])
        if served is None or "more area" in row["areas_served"]:
            continue
        shown = [_number(n) for n in re.findall(r"\(([^()]*)\)(?:,|$)", row["areas_served"])]
        residual = served - sum(n for n in shown if n is not None)
        assert residual == 0 or residual >= THRESHOLD


# --- the rule itself ---------------------------------------------------------------------------


def test_rows_and_margins_on_a_hand_checked_table():
    rule = Rule(threshold=5, unmet=25.0)
    table = pd.DataFrame(
        {
            "area": ["a", "b", "c", "d"],
            "children": [3.0, 20.0, 0.0, 6.0],
            "harm": [75.0, 300.0, 0.0, 150.0],
            "minutes": [10.0, 20.0, float("nan"), 30.0],
        }
    )
    kinds = {"children": "count", "harm": "harm", "minutes": "minutes"}
    out = protect(table, kinds, rule, margins=[None])
    # a: 3 children withheld; its harm (75 = 3 x 25) with it (rules 1-3). The total 29 minus
    # the shown rows would leave 3, so the smallest other row (d, 6) is withheld too (rule 4).
    assert isinstance(out.at[0, "children"], Withheld) and str(out.at[0, "children"]) == "<5"
    assert isinstance(out.at[0, "harm"], Withheld) and str(out.at[0, "harm"]) == "c"
    # d's 6 children are withheld only to protect the total: "c", never an untrue "<5".
    assert isinstance(out.at[3, "children"], Withheld) and str(out.at[3, "children"]) == "c"
    assert isinstance(out.at[3, "harm"], Withheld)
    assert out.at[1, "children"] == 20.0 and out.at[1, "harm"] == 300.0
    assert out.at[2, "children"] == 0.0  # zero identifies no one
    assert out["minutes"].tolist()[:2] == [10.0, 20.0]  # minutes describe places


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=12),
    st.integers(min_value=2, max_value=10),
)
def test_what_is_withheld_never_adds_up_to_a_small_count(counts, threshold):
    rule = Rule(threshold=threshold, unmet=25.0)
    table = pd.DataFrame({"children": [float(c) for c in counts]})
    out = protect(table, {"children": "count"}, rule, margins=[None])
    hidden = [c for c, v in zip(counts, out["children"], strict=True) if isinstance(v, Withheld)]
    shown = [v for v in out["children"] if not isinstance(v, Withheld)]
    assert all(v == 0 or v >= threshold for v in shown)
    assert sum(hidden) == 0 or sum(hidden) >= threshold or sum(hidden) == sum(counts)
    # "<t" is said only of a count under t; a larger count withheld for the total reads "c".
    marks = {str(v) for c, v in zip(counts, out["children"], strict=True) if c >= threshold}
    assert f"<{threshold}" not in marks


def test_a_plan_base_under_the_threshold_is_not_given_back_by_the_network_change(
    real_data, monkeypatch
):
    # Rutland's plan with every child without a base place out of authority (its independent
    # special schools not used): one base places 10 children, the other under 5; the network's
    # published change in children placed is their sum, so the 10 is withheld too (as "c": it
    # is not <5). Its modelled estimates are protected on request (by default they are shown).
    monkeypatch.setenv("SITEFINDER_REAL_DATA", str(real_data))
    examples = Path(__file__).resolve().parent.parent / "configs" / "examples"
    scenario = with_settings(
        load_scenario(examples / "rutland.toml"),
        # the minimum occupancy would keep the base of under 5 children out
        {
            "fallback.independent.use": False,
            "disclosure.modelled": "protect",
            "selection.min_occupancy": 0,
        },
    )
    data = json.loads(to_json(rank(scenario), top=3))
    placed = data["network"]["after"]["placed"] - data["network"]["before"]["placed"]
    newly = [base["newly_placed"] for base in data["plan"]["chosen"]]
    assert any(n == "<5" for n in newly)
    shown = [n for n in newly if not isinstance(n, str)]
    residual = round(placed - sum(shown), 6)
    assert residual == 0 or residual >= THRESHOLD or residual == round(placed, 6)
    assert all(n in ("<5", "c") or n >= THRESHOLD for n in newly)
    # The same plan is the greedy order's first two: the ranking's first rows are a margin too.
    first = [row["newly_placed"] for row in data["ranking"][: len(newly)]]
    residual = round(placed - sum(n for n in first if not isinstance(n, str)), 6)
    assert residual == 0 or residual >= THRESHOLD or residual == round(placed, 6)


# --- threshold and determinism -----------------------------------------------------------------


def test_a_threshold_under_5_needs_allow_small_counts(scenario_file):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario_file("suppression_threshold = 0\n"))
    assert "allow_small_counts = true" in caught.value.problems[0]
    scenario = load_scenario(
        scenario_file("suppression_threshold = 3\nallow_small_counts = true\n")
    )
    assert scenario.warnings and "suppression_threshold = 3" in scenario.warnings[0]
    with pytest.raises(ScenarioError) as caught:
        with_settings(load_scenario(scenario_file()), {"suppression_threshold": 2})
    assert "allow_small_counts = true" in caught.value.problems[0]


def test_small_threshold_warns_on_every_run(scenario_file):
    path = scenario_file("suppression_threshold = 0\nallow_small_counts = true\nbases = 1\n")
    runner = CliRunner()
    for args in (["rank", "--top", "2"], ["validate"]):
        result = runner.invoke(app, [*args, "--config", str(path)])
        assert result.exit_code == 0, result.output
        assert "warning: suppression_threshold = 0: disclosure control is switched off" in (
            result.stderr
        )
    document = json.loads(
        runner.invoke(app, ["rank", "--top", "2", "--format", "json", "-c", str(path)]).stdout
    )
    assert any("switched off" in w for w in document["warnings"])


def test_the_same_run_gives_the_same_bytes(tmp_path, monkeypatch):
    """Timings live only in notes (stderr) and run_info: table, JSON and report are identical."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    runner = CliRunner()
    outputs = []
    for attempt in ("a", "b"):
        table = runner.invoke(app, ["rank"]).stdout
        as_json = runner.invoke(app, ["rank", "--format", "json"]).stdout
        report = tmp_path / f"{attempt}.html"
        assert runner.invoke(app, ["report", "--output", str(report)]).exit_code == 0
        outputs.append((table, as_json, report.read_bytes()))
    assert outputs[0] == outputs[1]
    assert " s)" not in outputs[0][0] and '"seconds"' not in outputs[0][1]
    assert b"Generated 2026-01-01" in outputs[0][2]
    assert "plan chosen in" in runner.invoke(app, ["rank"]).stderr  # timings: stderr only


def test_trafford_outputs_give_back_no_count(trafford_result, tmp_path):
    """Modelled demand on a real authority, protected on request (disclosure.modelled =
    "protect"): fractional counts, most areas under 5 children. By default its estimates are
    shown."""
    shown = json.loads(to_json(trafford_result, top=TOP))
    assert not [row for row in shown["ranking"] if {"<5", "c"} & set(map(str, row.values()))]
    assert "modelled estimates" in shown["disclosure"]
    result = rank(with_settings(trafford_result.scenario, {"disclosure.modelled": "protect"}))
    rows = json.loads(to_json(result, top=TOP))["ranking"]
    assert "<5" in [row["children_served"] for row in rows]
    assert _attack_rows(result, rows) == []
    test_geopackage_gives_back_no_count_by_division_or_differencing(result, tmp_path)


def test_notes_give_back_no_ehc_count(scenario_file, tmp_path):
    """A small school over the high-SEND share: its note must not give the share of its
    withheld EHC count, which times the published pupils would give the count back."""
    schools = pd.read_csv(bundled_root() / "data" / "demo" / "schools.csv", dtype=str)
    small = schools["urn"] == "990041"
    schools.loc[small, ["pupils", "ehcp_pupils"]] = ["40", "3"]  # 7.5%, above 6%
    schools.to_csv(tmp_path / "schools.csv", index=False)
    scenario = load_scenario(scenario_file(inputs={"schools": str(tmp_path / "schools.csv")}))
    path = write_geopackage(rank(scenario), tmp_path / "s.gpkg")
    candidates = gpd.read_file(path, layer="candidates").set_index("urn")
    row = candidates.loc["990041"]
    assert row["pupils"] == 40 and pd.isna(row["ehcp_pupils"]) and pd.isna(row["ehcp_share"])
    assert (
        "already high-SEND (EHC plans above 6% of pupils; <5 pupils, share withheld)"
        in row["notes"]
    )
    for note, pupils in zip(candidates["notes"].fillna(""), candidates["pupils"], strict=True):
        for percent in re.findall(r"(\d+(?:\.\d+)?)% EHC plans", note):
            count = round(float(percent) / 100 * pupils)
            assert not 0 < count < THRESHOLD, note
    shown = candidates.loc["990022", "notes"]  # 18 of 181 pupils: the share may be shown
    assert "already high-SEND (9.9% EHC plans, above 6%)" in shown
