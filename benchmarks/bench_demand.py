"""The SEN2 files and the demand and capacity options, on the real public files.

Run with ``SITEFINDER_REAL_DATA=../shared/data python benchmarks/bench_demand.py``. Prints:

- Trafford's modelled demand by phase with each ``inputs.demand.share`` against the children
  SEN2 (January 2025) places in mainstream resourced provision or SEN units at those ages;
- the assumed places of Trafford's existing bases (GIAS records no capacity) against SEN2,
  with the default capacity and with ``capacity_from = "sen2"``;
- the shares by phase, authority against England, for Trafford, Rutland and the Isle of Wight;
- how long reading and checking each SEN2 file and every geography in it takes.

The scenario's own figures against SEN2, with its plan, are in ``bench_defensible.py``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from sitefinder import load_scenario, with_settings
from sitefinder.demand import demand_by_phase, pooled_share
from sitefinder.disclosure import format_count
from sitefinder.load import load_inputs
from sitefinder.readers.sen2 import caseload_of, needs_of, read_sen2
from sitefinder.validate import Problems

TRAFFORD = Path(__file__).resolve().parents[1] / "configs" / "examples" / "trafford.toml"
AGES = {"primary": (4, 10), "secondary": (11, 15)}
ORIGIN = "bench_demand.py"


def main() -> None:
    folder = os.environ.get("SITEFINDER_REAL_DATA")
    if not folder:
        sys.exit("set SITEFINDER_REAL_DATA to the shared data folder")
    dfe = Path(folder) / "dfe"
    problems = Problems()
    start = time.perf_counter()
    caseload = read_sen2(dfe / "ehcp2025_caseload_all_LAs.csv", problems, kind="caseload")
    read_caseload = time.perf_counter() - start
    start = time.perf_counter()
    needs = read_sen2(dfe / "ehcp2025_sen_needs_all_plans_all_LAs.csv", problems, kind="needs")
    read_needs = time.perf_counter() - start
    assert caseload is not None and needs is not None, problems.items
    start = time.perf_counter()
    geographies = ["England", *caseload.geographies("regional"), *needs.geographies("authority")]
    for code in geographies:
        assert caseload_of(caseload, code, problems) is not None, problems.items
        assert needs_of(needs, code, problems) is not None, problems.items
    every = time.perf_counter() - start
    print(
        f"SEN2 files read and checked: caseload {read_caseload:.2f} s, needs {read_needs:.2f} s;"
        f" {len(geographies)} geographies taken out of both in {every:.2f} s"
    )

    england = caseload_of(caseload, "England", problems)
    assert england is not None
    print("\nShare of EHC plans in mainstream resourced provision or SEN units, January 2025:")
    for name in ("Trafford", "Rutland", "Isle of Wight"):
        own = caseload_of(caseload, name, problems)
        assert own is not None
        parts = []
        for phase, (low, high) in AGES.items():
            national = pooled_share(england, low, high)
            parts.append(
                f"{phase} {format_count(own.in_bases_at(low, high), 5)} children,"
                f" {pooled_share(own, low, high):.1%} (England {national:.1%})"
            )
        print(f"  {name:14} all ages {own.base_share:.1%}; " + "; ".join(parts))

    scenario = load_scenario(TRAFFORD)
    own = caseload_of(caseload, "Trafford", problems)
    assert own is not None
    sen2 = {phase: own.in_bases_at(low, high) for phase, (low, high) in AGES.items()}
    print("\nTrafford demand by phase (children) against SEN2 January 2025 children in bases:")
    print(f"  {'share':12} {'primary':>9} {'secondary':>10} {'total':>8}  seconds")
    print(
        f"  {'SEN2':12} {sen2['primary']:9.1f} {sen2['secondary']:10.1f} {sum(sen2.values()):8.1f}"
    )
    for share in ("authority", "higher", "england"):
        start = time.perf_counter()
        data = load_inputs(with_settings(scenario, {"inputs.demand.share": share}, origin=ORIGIN))
        seconds = time.perf_counter() - start
        totals = demand_by_phase(data.demand)
        print(
            f"  {share:12} {totals['primary']:9.1f} {totals['secondary']:10.1f}"
            f" {totals.sum():8.1f}  {seconds:.2f}"
        )

    print("\nTrafford existing bases: places against SEN2 children in bases")
    for capacity_from in ("default", "sen2"):
        data = load_inputs(
            with_settings(scenario, {"inputs.schools.capacity_from": capacity_from}, origin=ORIGIN)
        )
        bases = data.bases
        by_phase = bases.groupby("phase")["capacity"].sum()
        assumed = int(bases["capacity_assumed"].sum())
        print(
            f"  capacity_from = {capacity_from!r}: {bases['capacity'].sum():.0f} places in"
            f" {len(bases)} bases ({assumed} assumed): primary {by_phase.get('primary', 0):.0f},"
            f" secondary {by_phase.get('secondary', 0):.0f}; SEN2 {sum(sen2.values()):.0f}"
            f" (primary {sen2['primary']:.0f}, secondary {sen2['secondary']:.0f})"
        )


if __name__ == "__main__":
    main()
