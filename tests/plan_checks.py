"""Helpers for the plan tests: small authorities written as real input files, and a checker
that recomputes every explanation of a plan from exact assignments.

The checker takes the plan as the run published it (``plan.chosen``: each base's school,
phase, need group and places), never the run's own site objects, and solves every assignment
with the independent linear programme of :mod:`oracle`, never sitefinder's solver. Only the
model's inputs come from sitefinder (the demand rows and the pairs a base at a school may
serve, :func:`rebuild`); tests/test_hand_computed.py checks those by hand."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from oracle import Assignment, assign

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

    def harm(self, sites: list[Site]) -> Assignment:
        """Today's bases and ``sites`` solved by the independent programme (:mod:`oracle`)."""
        key = tuple(id(s) for s in sites)  # safe: the cache keeps the sites alive
        if key not in self._solved:
            self._solved[key] = (tuple(sites), assign(self.model.rows, [*self.existing, *sites]))
        return self._solved[key][1]

    def flows(self, sites: list[Site]) -> Solution:
        """The flows sitefinder's own solver gives: which of several optimal assignments a
        text describes (areas served, children shared) depends on the solution the run chose,
        so those words are checked against that solver's; every value, against :meth:`harm`."""
        return solve_network(self.model.rows, [*self.existing, *sites])

    def planned(self, result) -> list[Site]:
        """The plan's new bases rebuilt from its published table, in its order."""
        if not self._planned:
            self._planned = [
                self.site(result, str(row.urn), row.phase, row.need_group, float(row.places))
                for row in result.plan.chosen.itertuples()
            ]
        return self._planned

    _solved: dict[tuple[int, ...], tuple[tuple[Site, ...], Assignment]] = field(
        default_factory=dict
    )
    _planned: list[Site] = field(default_factory=list)
    extra: dict[str, float] = field(default_factory=dict)  # why_checks' extra-base gains


_REBUILT: dict[int, tuple[object, Rebuilt]] = {}


def rebuild(result) -> Rebuilt:
    """The model's inputs read again from the scenario's files (once per result)."""
    if id(result) in _REBUILT and _REBUILT[id(result)][0] is result:
        return _REBUILT[id(result)][1]
    scenario = result.scenario
    data = load_inputs(scenario)
    model = build_instance(scenario, data)
    existing, _ = existing_sites(model, scenario, data)
    position = {str(u): i for i, u in enumerate(data.schools["urn"])}
    class_id = {c: i for i, c in enumerate(model.classes)}
    built = Rebuilt(model, existing, position, class_id, data.schools)
    _REBUILT.clear()  # one result at a time: a module's shared run, or one test's
    _REBUILT[id(result)] = (result, built)
    return built


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
    n_existing = len(built.existing)
    sites = built.planned(result)
    after = built.harm(sites)
    current = after.objective
    without = [built.harm(sites[:i] + sites[i + 1 :]) for i in range(len(sites))]
    averted = [w.objective - current for w in without]
    false: list[str] = []
    # The published totals: today's harm, the plan's, and what each base averts and places.
    for said, value, what in (
        (result.before.total_harm, built.harm([]).objective, "harm today"),
        (result.after.total_harm, current, "harm with the plan"),
    ):
        if abs(said - value) > 1e-6 * max(1.0, abs(value)):
            false.append(f"{what}: published {said}, solved {value}")
    for i, row in plan.chosen.reset_index(drop=True).iterrows():
        placed = float(without[i].unmet.sum() - after.unmet.sum())
        if abs(row["harm_averted"] - averted[i]) > 1e-6 or abs(row["newly_placed"] - placed) > 1e-6:
            false.append(
                f"choice {row['choice']}: averts {row['harm_averted']} placing"
                f" {row['newly_placed']}, solved {averted[i]} placing {placed}"
            )
    names = dict(zip(result.data.areas["area_code"], result.data.areas["area_name"], strict=True))
    # Areas served: only areas with children from that base (in the published assignment),
    # with their counts, most first.
    assigned = result.assignments[result.assignments["kind"] == "new"]
    for _, row in plan.chosen.iterrows():
        mine = assigned[
            (assigned["urn"].astype(str) == str(row["urn"]))
            & (assigned["phase"] == row["phase"])
            & (assigned["need_group"] == row["need_group"])
        ]
        served = mine[mine["children"] > 1e-9].groupby("area_code")["children"].sum()
        if abs(served.sum() - row["children_served"]) > 1e-6:
            false.append(f"choice {row['choice']}: serves {served.sum()} in the assignment")
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
    flows = built.flows(sites)
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
        trial = built.flows([site])
        mine = (trial.pair_site == len(built.existing)) & (trial.flow > 1e-9)
        children = pd.Series(trial.flow[mine], index=trial.pair_row[mine]).groupby(level=0).sum()

        def shared(i: int, children: pd.Series = children) -> float:
            at = (flows.pair_site == n_existing + i) & (flows.flow > 1e-9)
            theirs = pd.Series(flows.flow[at], index=flows.pair_row[at]).groupby(level=0).sum()
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
            if said_swap is not None and choice is not None and match.group(said_swap):
                i = position_of[int(match.group(choice))]
                best = min(swap(j) for j in swappable)
                if abs(swap(i) - float(match.group(said_swap))) > 0.006 or swap(i) > best + 1e-7:
                    false.append(f"{item.urn}: swap with #{i + 1} adds {swap(i)}: {reason!r}")
    return false
