"""Any English authority from the national public files (issue 26's "Done when").

Run with ``python benchmarks/bench_any_authority.py DATA [--rank N] [--only NAME ...]``, DATA
being the shared data folder (the national files and all). It

- writes a scenario with ``sitefinder init`` for every one of the 153 authorities in the SEN2
  files (the folder examined once, as :func:`sitefinder.scaffold.examine_folder` allows) and
  validates it, printing wall and CPU seconds per authority and every failure;
- ranks ``--rank N`` of them (a spread: every 153/N-th by GSS code) with ``share = "england"``
  and prints, per authority, the modelled demand against an independent figure: the
  authority's EHC plans at the phases' ages (SEN2, read here with pandas) x England's share of
  plans at those ages in mainstream resourced provision or SEN units (the SEN2 caseload), and
  whether it is within 10%; and the rank's wall and CPU seconds.

The population (the LSOA GeoPackage's age bands, spread evenly over single years) places the
children in areas; their number is the authority's plans x the share, so the demand total is
checked against SEN2 directly.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import pandas as pd

from sitefinder import load_scenario, rank, with_settings
from sitefinder.authorities import Authority, all_authorities
from sitefinder.scaffold import examine_folder, init_scenario

PHASE_AGES = {"primary": (4, 10), "secondary": (11, 15)}
_IN_BASES = [
    f"mainstream_{kind}_{base}"
    for kind in ("la_maintained", "academy", "free_school")
    for base in ("resourced_provision", "senunit")
]


def expected_demand(data: Path, authority: Authority) -> dict[str, float]:
    """Plans at each phase's ages (SEN2 needs file, latest year) x England's share of plans in
    mainstream bases at those ages (SEN2 caseload, latest year), by phase."""
    needs = pd.read_csv(next(data.rglob("ehcp2025_sen_needs_all_plans_all_LAs.csv")), dtype=str)
    caseload = pd.read_csv(next(data.rglob("ehcp2025_caseload_all_LAs.csv")), dtype=str)
    ages = needs[needs["breakdown_topic"] == "Child or young persons age"]
    ages = ages[ages["time_period"] == ages["time_period"].max()]
    mine = ages[ages["new_la_code"] == authority.gss_code]
    case = caseload[caseload["breakdown_topic"] == "Child or young persons age"]
    case = case[(case["time_period"] == case["time_period"].max())]
    england = case[case["geographic_level"] == "National"]
    out = {}
    for phase, (low, high) in PHASE_AGES.items():
        labels = [f"age {a}" for a in range(low, high + 1)]
        plans = pd.to_numeric(mine[mine["breakdown"].isin(labels)]["ehc_plans"], errors="coerce")
        rows = england[england["breakdown"].isin(labels)]
        placed = rows[_IN_BASES].apply(pd.to_numeric, errors="coerce").sum().sum()
        total = pd.to_numeric(rows["ehcplans"], errors="coerce").sum()
        out[phase] = float(plans.sum()) * float(placed / total)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--rank", type=int, default=10, help="authorities to rank (a spread)")
    parser.add_argument("--only", nargs="*", help="these authorities only")
    args = parser.parse_args()
    authorities = [a for a in all_authorities() if not args.only or a.name in args.only]
    with TemporaryDirectory() as folder:
        start, cpu = time.perf_counter(), time.process_time()
        examined = examine_folder(args.data)
        print(f"examined {len(examined.files)} files: {time.perf_counter() - start:.1f} s wall,"
              f" {time.process_time() - cpu:.1f} s CPU")  # fmt: skip
        failures, times, written = [], [], {}
        for authority in authorities:
            wall, cpu = time.perf_counter(), time.process_time()
            output = Path(folder) / f"{authority.gss_code}.toml"
            result = init_scenario(
                authority=authority.gss_code, data=str(args.data), output=output,
                examined=examined,
            )  # fmt: skip
            spent = (time.perf_counter() - wall, time.process_time() - cpu)
            times.append(spent)
            print(f"{authority.name:45s} {'valid' if result.valid else 'FAILED':7s}"
                  f" {spent[0]:5.1f} s wall {spent[1]:5.1f} s CPU", flush=True)  # fmt: skip
            if result.valid:
                written[authority.gss_code] = output
            else:
                failures.append((authority.name, result.errors[:3]))
        walls = sorted(t[0] for t in times)
        cpus = sorted(t[1] for t in times)
        print(f"\ninit + validate, {len(times)} authorities: {len(failures)} failed;"
              f" total {sum(walls):.0f} s wall, {sum(cpus):.0f} s CPU; per authority median"
              f" {walls[len(walls) // 2]:.1f} s wall ({cpus[len(cpus) // 2]:.1f} s CPU), max"
              f" {walls[-1]:.1f} s wall ({cpus[-1]:.1f} s CPU)")  # fmt: skip
        for name, errors in failures:
            print(f"  FAILED {name}: {errors}")
        if not args.rank:
            return
        step = max(1, len(authorities) // args.rank)
        sample = [a for a in authorities[::step] if a.gss_code in written][: args.rank]
        print(f"\nrank (share = england), {len(sample)} authorities:")
        for authority in sample:
            scenario = with_settings(
                load_scenario(written[authority.gss_code]), {"inputs.demand.share": "england"}
            )
            wall, cpu = time.perf_counter(), time.process_time()
            result = rank(scenario)
            spent = (time.perf_counter() - wall, time.process_time() - cpu)
            demand = result.data.demand.groupby("phase")["children"].sum()
            expected = expected_demand(args.data, authority)
            cells = []
            for phase, figure in expected.items():
                got = float(demand.get(phase, 0.0))
                off = got / figure - 1 if figure else float("nan")
                cells.append(f"{phase} {got:7.1f} vs {figure:7.1f} ({off:+.1%})")
            ok = all(
                abs(float(demand.get(p, 0.0)) / f - 1) <= 0.10 for p, f in expected.items() if f
            )
            print(f"  {authority.name:40s} {'; '.join(cells)} {'ok' if ok else 'OFF'};"
                  f" rank {spent[0]:.1f} s wall, {spent[1]:.1f} s CPU", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
