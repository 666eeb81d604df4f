"""Helpers for the plan tests: small authorities written as real input files, and a checker
that recomputes every explanation of a plan from exact assignments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sitefinder.disclosure import format_count
from sitefinder.instance import Instance, build_instance, existing_sites, site_at
from sitefinder.load import load_inputs
from sitefinder.model.network import Site, Solution, solve_network

SCHOOLS = "urn,name,phase,establishment_group,statutory_low_age,statutory_high_age,capacity,pupils,ehcp_pupils,easting,northing"  # noqa: E501


@dataclass(frozen=True)
class SmallAuthority:
    """A small authority's input tables, to write as sitefinder-layout CSVs.

    ``schools``: (urn, name, phase, easting, northing); ``bases``: (urn, phase, capacity,
    need_codes); ``areas``: (code, name, easting, northing); ``demand``: (code, phase,
    need_code, children). Coordinates are EPSG:27700 metres.
    """

    schools: list[tuple]
    bases: list[tuple]
    areas: list[tuple]
    demand: list[tuple]

    def write(self, folder: Path, *, extra: str = "") -> Path:
        """Write the CSVs and a scenario using them (``extra`` TOML first); returns its path."""
        folder.mkdir(parents=True, exist_ok=True)
        lines = [SCHOOLS]
        for urn, name, phase, x, y in self.schools:
            ages = (4, 11) if phase == "primary" else (11, 16) if phase == "secondary" else (4, 16)
            lines.append(f"{urn},{name},{phase},mainstream,{ages[0]},{ages[1]},900,600,6,{x},{y}")
        (folder / "schools.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        lines = ["urn,base_name,base_type,phase,capacity,need_codes"]
        lines += [
            f"{urn},Base {urn},resourced_provision,{phase},{cap},{codes}"
            for urn, phase, cap, codes in self.bases
        ]
        (folder / "bases.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        lines = ["area_code,area_name,easting,northing,child_pop_primary,child_pop_secondary"]
        lines += [f"{code},{name},{x},{y},100,100" for code, name, x, y in self.areas]
        (folder / "areas.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        lines = ["area_code,phase,need_code,children"]
        lines += [f"{code},{phase},{need},{n}" for code, phase, need, n in self.demand]
        (folder / "demand.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        path = folder / "scenario.toml"
        path.write_text(
            extra
            + "\n[inputs]\n"
            + "".join(
                f'{k} = "{folder / k}.csv"\n' for k in ("schools", "bases", "areas", "demand")
            ),
            encoding="utf-8",
        )
        return path


def random_authority(folder: Path, seed: int, *, bases: int = 3) -> Path:
    """A random authority in a 16 km square: 14 schools, 30 areas, 3 existing bases."""
    rng = np.random.default_rng(seed)
    schools = []
    for i in range(14):
        phase = "primary" if i < 9 else "secondary" if i < 13 else "all-through"
        x, y = rng.integers(400_000, 416_000), rng.integers(300_000, 316_000)
        schools.append((990100 + i, f"School {i}", phase, x, y))
    areas = [
        (f"E9{i:07d}", f"Area {i}", rng.integers(400_000, 416_000), rng.integers(300_000, 316_000))
        for i in range(30)
    ]
    existing = [
        (schools[0][0], "primary", int(rng.integers(3, 9)), "ASD;SLCN"),
        (schools[10][0], "secondary", int(rng.integers(3, 9)), "SEMH"),
        (schools[5][0], "primary", int(rng.integers(3, 9)), "MLD;SEMH"),
    ]
    demand = []
    for code, *_ in areas:
        for phase in ("primary", "secondary"):
            for need in rng.choice(["ASD", "SEMH", "MLD", "SLCN"], size=2, replace=False):
                if rng.random() < 0.45:
                    demand.append((code, phase, need, int(rng.integers(1, 4))))
    return SmallAuthority(schools, existing, areas, demand).write(
        folder, extra=f"bases = {bases}\n"
    )


@dataclass
class Rebuilt:
    """The arrays of a ranking run, built again independently of the plan's code."""

    model: Instance
    existing: list[Site]
    position: dict[str, int]
    class_id: dict[tuple[str, str], int]
    schools: pd.DataFrame

    def site(self, result, urn: str, phase: str, group: str, places: float) -> Site:
        return site_at(
            self.model,
            result.scenario,
            school=self.position[str(urn)],
            classes=frozenset({self.class_id[(phase, group)]}),
            capacity=places,
        )

    def harm(self, sites: list[Site]) -> Solution:
        return solve_network(self.model.rows, [*self.existing, *sites])


def rebuild(result) -> Rebuilt:
    scenario = result.scenario
    data = load_inputs(scenario)
    model = build_instance(scenario, data)
    existing, _ = existing_sites(model, scenario, data)
    position = {str(u): i for i, u in enumerate(data.schools["urn"])}
    class_id = {c: i for i, c in enumerate(model.classes)}
    return Rebuilt(model, existing, position, class_id, data.schools)


_NUMBER = r"(-?\d+\.\d\d)"
_TIE = re.compile(
    r"^an equivalent alternative to (.+) \(choice #(\d+)\): in its place the plan's harm would"
    rf" rise by only {_NUMBER} harm points \(within the (\d+)% tie tolerance\)$"
)
_SAME = re.compile(
    rf"^serves the same areas as (.+) \(choice #(\d+)\), (\d+\.\d) km away"
    rf"(?:; would avert {_NUMBER} harm points less than (.+) in its place)?$"
)
_ONLY = re.compile(
    rf"^adds only {_NUMBER} harm points once the chosen bases are open"
    rf"(?:; would avert {_NUMBER} harm points less than (.+) \(choice #(\d+)\) in its place)?$"
)
_INSTEAD = re.compile(
    rf"^would avert {_NUMBER} harm points less than (.+) \(choice #(\d+)\) in its place; as an"
    rf" extra base it would avert {_NUMBER} harm points$"
)
_EXTRA = re.compile(
    rf"^as an extra base it would avert {_NUMBER} harm points, but no chosen base may give way"
    r" to it \(required, or counted in another phase and need group\)$"
)


def check_explanations(result) -> list[str]:
    """Recompute every left-out reason and every areas-served entry; return what is false."""
    plan, scenario = result.plan, result.scenario
    tol = scenario.selection.tie_tolerance
    threshold = scenario.count_threshold  # 0 for modelled estimates: shown as they are
    built = rebuild(result)
    rows = built.model.rows
    n_existing = len(built.existing)
    sites = list(plan.sites)
    after = built.harm(sites)
    current = after.objective
    averted = [
        built.harm(sites[:i] + sites[i + 1 :]).objective - current for i in range(len(sites))
    ]
    false: list[str] = []
    names = dict(zip(result.data.areas["area_code"], result.data.areas["area_name"], strict=True))
    # Areas served: only areas with children from that base, with their counts, most first.
    for i, row in plan.chosen.iterrows():
        at = (after.pair_site == n_existing + i) & (after.flow > 1e-9)
        served = (
            pd.Series(
                after.flow[at], index=built.model.demand["area_code"].to_numpy()[after.pair_row[at]]
            )
            .groupby(level=0)
            .sum()
        )
        text = str(row["areas_served"])
        more = re.search(r" and (\d+) more area\(s\)$", text)
        listed = re.findall(
            r"([^,]+?) \(([^)]*)\)(?:, |$| and)", text.removesuffix(more.group(0)) if more else text
        )
        if len(listed) + (int(more.group(1)) if more else 0) != len(served):
            false.append(f"choice {row['choice']}: {len(served)} areas served, text says {text!r}")
        by_name = {names[c]: v for c, v in served.items()}
        for name, count in listed:
            name = name.strip()
            if name not in by_name:
                false.append(f"choice {row['choice']}: {name} has no children from it")
            elif format_count(float(by_name[name]), threshold) != count:
                false.append(f"choice {row['choice']}: {name} count {count} != {by_name[name]}")
        shown = sorted(by_name.values(), reverse=True)[: len(listed)]
        if [round(by_name[n.strip()], 6) for n, _ in listed if n.strip() in by_name] != [
            round(v, 6) for v in shown
        ]:
            false.append(f"choice {row['choice']}: areas not listed most children first")
    # Left-out reasons.
    position_of = {int(c): i for i, c in enumerate(plan.chosen["choice"])}
    for item in plan.left_out.itertuples():
        reason = str(item.reason)
        if "at higher harm" in reason:
            false.append(f"{item.urn}: says 'at higher harm'")
        match = next(
            (m for m in (p.match(reason) for p in (_TIE, _SAME, _ONLY, _INSTEAD, _EXTRA)) if m),
            None,
        )
        if match is None:  # a school the suitability rules excluded: its first note
            note = str(result.schools.set_index("urn").loc[item.urn, "notes"]).split("; ")[0]
            if reason not in (note, f"phase mismatch ({note})"):
                false.append(f"{item.urn}: reason {reason!r} is not its note {note!r}")
            continue
        site = built.site(result, item.urn, item.phase, item.need_group, scenario.base_size)

        def swap(i: int, site: Site = site) -> float:
            return built.harm([*sites[:i], *sites[i + 1 :], site]).objective - current

        chosen_rows = plan.chosen
        if match.re is _TIE:
            i = position_of[int(match.group(2))]
            difference = swap(i)
            if (
                abs(difference - float(match.group(3))) > 0.006
                or difference > tol * averted[i] + 1e-7
            ):
                false.append(f"{item.urn}: tie claim {reason!r}, swap adds {difference}")
            continue
        trial = solve_network(rows, [*built.existing, site])
        mine = (trial.pair_site == len(built.existing)) & (trial.flow > 1e-9)
        children = pd.Series(trial.flow[mine], index=trial.pair_row[mine]).groupby(level=0).sum()

        def shared(i: int, children: pd.Series = children) -> float:
            at = (after.pair_site == n_existing + i) & (after.flow > 1e-9)
            theirs = pd.Series(after.flow[at], index=after.pair_row[at]).groupby(level=0).sum()
            return float(np.minimum(children, theirs.reindex(children.index).fillna(0)).sum())

        swappable = [
            i
            for i in range(len(sites))
            if str(chosen_rows.iloc[i]["urn"])
            not in {str(u) for u in scenario.selection.required_urns}
        ]
        if any(swap(i) <= tol * averted[i] + 1e-7 for i in swappable):
            false.append(f"{item.urn}: an equivalent alternative not said to be one: {reason!r}")
        if match.re is _SAME:
            i = position_of[int(match.group(2))]
            if shared(i) < 0.5 * children.sum() - 1e-9:
                false.append(
                    f"{item.urn}: shares {shared(i)} of {children.sum()} children: {reason!r}"
                )
            here = built.schools.set_index(built.schools["urn"].astype(str)).loc[str(item.urn)]
            there = chosen_rows.iloc[i]
            km = (
                np.hypot(here["easting"] - there["easting"], here["northing"] - there["northing"])
                / 1000
            )
            if f"{km:.1f}" != match.group(3):
                false.append(f"{item.urn}: distance {km:.2f} km: {reason!r}")
            if match.group(4) is not None and abs(swap(i) - float(match.group(4))) > 0.006:
                false.append(f"{item.urn}: swap adds {swap(i)}: {reason!r}")
        else:
            if any(shared(i) >= 0.5 * children.sum() for i in range(len(sites))):
                false.append(f"{item.urn}: shares half its children with a base: {reason!r}")
            gain = current - built.harm([*sites, site]).objective
            said_gain, said_swap, choice = {
                _ONLY: (1, 2, 4),
                _INSTEAD: (4, 1, 3),
                _EXTRA: (1, None, None),
            }[match.re]
            if abs(max(gain, 0.0) - float(match.group(said_gain))) > 0.006:
                false.append(f"{item.urn}: adds {gain}: {reason!r}")
            if (match.re is _ONLY) != (gain < min(averted) - 1e-9):
                false.append(f"{item.urn}: adds {gain}, chosen avert {min(averted)}: {reason!r}")
            if (match.re is _EXTRA) != (not swappable):
                false.append(f"{item.urn}: a chosen base could give way: {reason!r}")
            if said_swap is not None and match.group(said_swap) is not None:
                i = position_of[int(match.group(choice))]
                best = min(swap(j) for j in swappable)
                if abs(swap(i) - float(match.group(said_swap))) > 0.006 or swap(i) > best + 1e-7:
                    false.append(f"{item.urn}: swap with #{i + 1} adds {swap(i)}: {reason!r}")
    return false
