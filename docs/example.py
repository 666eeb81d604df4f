# ruff: noqa: T201 -- an example script: printing is its output
"""Rank the demo authority twice, with a steeper harm curve the second time, and compare.

Run from anywhere: ``python docs/example.py``. Writes a GeoPackage to a temporary folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyogrio

import sitefinder
from sitefinder.resources import default_scenario_path


def headline(label: str, result: sitefinder.RankResult) -> None:
    """Print the network before and after the plan, and the schools chosen."""
    before, after = result.before, result.after
    print(
        f"{label}: harm {before.total_harm:.1f} -> {after.total_harm:.1f} points, "
        f"unmet {before.unmet:.0f} -> {after.unmet:.0f} of {after.children:.0f} children, "
        f"mean {before.mean_minutes:.1f} -> {after.mean_minutes:.1f} min, "
        f"p95 {before.p95_minutes:.1f} -> {after.p95_minutes:.1f} min"
    )
    for row in result.plan.chosen.itertuples():
        print(f"  {row.choice}. {row.name} ({row.urn}): {row.phase} {row.need_group}")


def main() -> None:
    scenario = sitefinder.load_scenario(default_scenario_path())
    # Any setting by its dotted key, validated like the file.
    base = sitefinder.with_settings(scenario, {"bases": 2, "top": 5})
    steep = sitefinder.with_settings(base, {"harm.exponent": 2.0})

    results = {"exponent 1.5": sitefinder.rank(base), "exponent 2.0": sitefinder.rank(steep)}
    for label, result in results.items():
        headline(label, result)
    first, second = results.values()
    same = set(first.plan.chosen["urn"]) == set(second.plan.chosen["urn"])
    print(f"same schools chosen: {same}")
    columns = ["rank", "urn", "harm_averted", "harm_averted_placing", "harm_averted_journeys"]
    print(first.ranking[[*columns, "in_plan"]].round(2).to_string(index=False))

    with tempfile.TemporaryDirectory() as folder:
        path = sitefinder.write_geopackage(second, Path(folder) / "steep.gpkg")
        print(f"wrote {path.name}: {', '.join(name for name, _ in pyogrio.list_layers(path))}")


if __name__ == "__main__":
    main()
