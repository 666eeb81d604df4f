"""Checks for ``sitefinder why``: recompute every figure and claim of an explanation from
fresh arrays, and attack its published document for small counts.

As in tests/plan_checks.py, the plan is rebuilt from its published table (``plan.chosen``)
and every assignment solved by the independent programme of tests/oracle.py."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from oracle import assign
from plan_checks import rebuild

from sitefinder.why.school import OPTION_COLUMNS

THRESHOLD = 5


def _figures(rows, solution_before, site_solution, site_index):
    at = (site_solution.pair_site == site_index) & (site_solution.flow > 1e-9)
    return (
        solution_before.objective - site_solution.objective,
        float(solution_before.unmet.sum() - site_solution.unmet.sum()),
        float(site_solution.flow[at].sum()),
    )


def check_explanation(result, explanation) -> list[str]:
    """Recompute every figure and claim of ``explanation`` from fresh arrays; list the false."""
    false: list[str] = []
    built = rebuild(result)
    scenario, plan = result.scenario, result.plan
    rows = built.model.rows
    planned = built.planned(result)
    chosen = plan.chosen.reset_index(drop=True)
    own = [i for i, u in enumerate(chosen["urn"]) if str(u) == explanation.urn]
    rest = [s for i, s in enumerate(planned) if i not in own]
    today = built.harm([])
    with_rest = built.harm(rest)
    after = built.harm(planned)

    def close(a: float, b: float, what: str) -> None:
        if not math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6):
            false.append(f"{explanation.urn} {what}: said {a}, is {b}")

    assert list(explanation.options.columns) == list(OPTION_COLUMNS)
    # A school hosting a base today with places to spare: a child is as near either base, so
    # how many the new one serves is one of many optima (harm and children placed are not).
    sites = result.sites
    shared = explanation.urn in set(sites.loc[sites["kind"] == "existing", "urn"].astype(str))
    for option in explanation.options.itertuples():
        site = built.site(result, explanation.urn, option.phase, option.need_group,
                          scenario.base_size)  # fmt: skip
        if option.in_plan:
            site = planned[own[0]]
        alone = built.harm([site])
        harm, placed, served = _figures(rows, today, alone, len(built.existing))
        close(option.alone_harm_averted, harm, f"{option.need_group} alone harm")
        close(option.alone_newly_placed, placed, f"{option.need_group} alone placed")
        if not shared:
            close(option.alone_children_served, served, f"{option.need_group} alone served")
        mismatch = float((today.unmet - alone.unmet) @ rows.mismatch)
        close(option.alone_placing, mismatch, f"{option.need_group} alone placing")
        trial = built.harm([*rest, site])
        harm, placed, served = _figures(rows, with_rest, trial, len(built.existing) + len(rest))
        close(option.plan_harm_averted, harm, f"{option.need_group} plan harm")
        close(option.plan_newly_placed, placed, f"{option.need_group} plan placed")
        if not shared:
            close(option.plan_children_served, served, f"{option.need_group} plan served")
        selection = scenario.selection
        children = site.capacity / 2 if selection.min_children is None else selection.min_children
        passes = harm > 1e-6 and (
            placed >= children - 1e-9 or harm >= selection.min_harm_averted - 1e-9
        )
        if bool(option.passes_rule) != passes:
            false.append(f"{explanation.urn} {option.need_group}: stopping rule {passes}")
        if option.greedy_rank is not pd.NA and option.greedy_rank is not None:
            row = result.ranking.set_index("rank").loc[int(option.greedy_rank)]
            if (str(row["urn"]), row["phase"], row["need_group"]) != (
                explanation.urn, option.phase, option.need_group,
            ):  # fmt: skip
                false.append(f"{explanation.urn}: greedy rank {option.greedy_rank} is not it")
            close(option.alone_harm_averted, float(row["harm_averted_standalone"]), "greedy")
    if own:
        served = explanation.areas["children"].sum()
        close(served, float(chosen.loc[own[0], "children_served"]), "areas served")
        return false
    if explanation.reference is None:
        return false
    reference = explanation.options.iloc[explanation.reference]
    site = built.site(result, explanation.urn, reference.phase, reference.need_group,
                      scenario.base_size)  # fmt: skip
    # Swaps: the plan with the option in each chosen base's place.
    for swap in explanation.swaps.itertuples():
        i = int(swap.choice) - 1
        swapped = built.harm([*planned[:i], *planned[i + 1 :], site])
        close(swap.harm_difference, swapped.objective - after.objective, f"swap #{swap.choice}")
        close(swap.unmet_difference, swapped.unmet.sum() - after.unmet.sum(), "swap unmet")
    # The children it would serve alone, wherever the plan puts them, add up.
    alone = built.harm([site])
    _, _, served = _figures(rows, today, alone, len(built.existing))
    if not shared:
        close(float(explanation.instead["children"].sum()), served, "children served instead")
    for row in explanation.instead.itertuples():
        if row.kind == "new":
            i = int(row.choice) - 1
            at = (after.pair_site == len(built.existing) + i) & (after.flow > 1e-9)
            if row.children > after.flow[at].sum() + 1e-6:
                false.append(f"{explanation.urn}: choice {row.choice} serves {row.children}")
    # As an extra base: every eligible option of every school without a planned base, solved.
    best = {u: v for u, v in _extra_gains(result, built).items() if u != explanation.urn}
    extra = explanation.extra
    assert extra is not None
    mine = float(explanation.options["plan_harm_averted"].max())
    rank_ = 1 + sum(v > mine + 1e-9 for v in best.values())
    if extra.rank != rank_:
        false.append(f"{explanation.urn}: extra rank {extra.rank}, is {rank_}")
    if extra.schools != len(best) + 1:
        false.append(f"{explanation.urn}: {extra.schools} schools ranked, is {len(best) + 1}")
    top = max([mine, *best.values()])
    close(extra.best_harm_averted, top, "best extra base")
    return false


def _extra_gains(result, built) -> dict[str, float]:
    """Each eligible school without a planned base: the most harm its best option averts as
    an extra base beside the plan (solved once per run: every explanation of it asks)."""
    if built.extra:
        return built.extra
    scenario = result.scenario
    planned = built.planned(result)
    after = built.harm(planned).objective
    planned_urns = {str(u) for u in result.plan.chosen["urn"]}
    for school in result.schools.itertuples():
        if not school.eligible or str(school.urn) in planned_urns:
            continue
        for phase in str(school.host_phases).split(", "):
            for group in scenario.new_base_groups:
                other = built.site(result, school.urn, phase, group, scenario.base_size)
                gain = (
                    after - assign(built.model.rows, [*built.existing, *planned, other]).objective
                )
                built.extra[str(school.urn)] = max(built.extra.get(str(school.urn), -np.inf), gain)
    return built.extra


def check_claims(result, document) -> list[str]:
    """Recompute the numbers in the sentences of ``document`` (what would have to change)."""
    false = []
    built = rebuild(result)
    planned = built.planned(result)
    after = built.harm(planned).objective
    option = next(
        o
        for o in document["options"]
        if (o["phase"], o["need_group"])
        == (document["reference_option"]["phase"], document["reference_option"]["need_group"])
    )
    site = built.site(result, document["urn"], option["phase"], option["need_group"],
                      result.scenario.base_size)  # fmt: skip
    for sentence in document["to_enter_the_plan"]:
        match = re.search(
            r"would (need to avert|lower the plan's harm by) (\d+\.\d+) (?:more )?harm points"
            r"(?: than .+?)? ?\(choice #(\d+)\)|in the place of .+? \(choice #(\d+)\) would lower"
            r" the plan's harm by (\d+\.\d+)",
            sentence,
        )
        if match is None:
            continue
        if match.group(4):
            choice, figure, sign = int(match.group(4)), match.group(5), -1
        else:
            choice, figure, sign = int(match.group(3)), match.group(2), 1
        said = sign * float(figure)
        i = choice - 1
        difference = built.harm([*planned[:i], *planned[i + 1 :], site]).objective - after
        digits = len(figure.split(".")[1])  # as printed: "0.110" has three
        if round(difference, digits) != round(said, digits):
            false.append(f"{document['urn']}: {sentence!r} but the swap adds {difference}")
    return false


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool | str):
        return None
    return float(value)  # type: ignore[arg-type]


def leaks(result, explanation, document) -> list[str]:
    """Division and differencing attacks on one document; returns what they recover.

    A run of modelled estimates (``disclosure.modelled = "show"``) withholds nothing of its
    children by design: then every figure must be shown, and a withheld one is reported.
    """
    t = THRESHOLD
    if result.disclosure_rule.estimates:
        return [
            f"{option['need_group']} {part} {key} withheld in a run of estimates"
            for option in document["options"]
            for part in ("alone", "with_plan")
            for key, value in option[part].items()
            if value in ("c", f"<{t}")
        ]
    unmet = result.disclosure_rule.unmet
    unmets = sorted({round(float(u), 9) for u in result.fallback.unmet_harm})
    per_child = [*unmets, result.scenario.fallback.mismatch]
    found: list[str] = []

    def attack(where: str, shown: dict, raw: dict[str, float], about: str) -> None:
        secrets = {round(v) for k, v in raw.items() if k in COUNTS and 0 < round(v, 6) < t}
        for key, value in shown.items():
            number = _number(value)
            if key in COUNTS and number is not None and 0 < abs(number) < t:
                found.append(f"{where} {key} = {number}")
            if key not in HARMS or number is None or number == 0:
                continue
            count = _number(shown.get(about))
            if abs(number) < t * unmet and (count is None or count < t):
                found.append(f"{where} {key} = {number} beside no count of {t}")
            for unit in per_child:
                quotient = abs(number) / unit
                if round(quotient) in secrets and abs(quotient - round(quotient)) < 0.02:
                    found.append(f"{where} {key} = {number} gives back {round(quotient)}")

    options = explanation.options
    for i, option in enumerate(document["options"]):
        for part, prefix in (("alone", "alone"), ("with_plan", "plan")):
            raw = {
                "harm_averted": options.loc[i, f"{prefix}_harm_averted"],
                "children_served": options.loc[i, f"{prefix}_children_served"],
                "newly_placed": options.loc[i, f"{prefix}_newly_placed"],
            }
            attack(f"{option['need_group']} {part}", option[part], raw, "children_served")
    for i, swap in enumerate(document["swaps"]):
        raw = explanation.swaps.iloc[i].to_dict()
        attack(f"swap #{swap['choice']}", swap, raw, "children_served")
    if document["extra_base"] is not None:
        extra = explanation.extra
        raw = {"children_served": extra.best_children_served,
               "newly_placed": extra.best_newly_placed}  # fmt: skip
        attack("extra", document["extra_base"], raw, "children_served")
    # Differencing: rows against the total they add up to, both published.
    reference = document["reference_option"]
    if reference is not None:
        total = next(
            _number(o["alone"]["children_served"])
            for o in document["options"]
            if (o["phase"], o["need_group"]) == (reference["phase"], reference["need_group"])
        )
        rows = [_number(r["children"]) for r in document["served_instead"]]
        left = (total or 0) - sum(r for r in rows if r is not None)
        if total is not None and 1e-6 < left < t - 1e-6:
            found.append(f"served instead: the total less the rows gives {left}")
    if document["planned"] is not None:
        total = _number(document["planned"]["children_served"])
        rows = [_number(r["children"]) for r in document["areas_served"]]
        left = (total or 0) - sum(r for r in rows if r is not None)
        if total is not None and 1e-6 < left < t - 1e-6:
            found.append(f"areas served: the total less the rows gives {left}")
    return found


COUNTS = {"children_served", "newly_placed", "unmet_difference", "children"}
HARMS = {"harm_averted", "harm_averted_placing", "harm_averted_journeys", "harm_difference"}


def left_out_standalone_errors(result) -> list[str]:
    """The plan's strongest left-out schools: each standalone figure equals the exact value of
    that option alone beside today's bases, solved by the independent programme (a base serving
    several classes shares its places)."""
    false = []
    built = rebuild(result)
    today = built.harm([]).objective
    for row in result.plan.left_out.itertuples():
        site = built.site(result, row.urn, row.phase, row.need_group, result.scenario.base_size)
        value = today - built.harm([site]).objective
        if abs(value - row.harm_averted_standalone) > 1e-6:
            false.append(f"{row.urn}: left out at {row.harm_averted_standalone}, alone {value}")
    return false
