"""The business case of a plan: what its new bases cost to build and run, and what they save.

Everything here is arithmetic on the run's own figures, with the scenario's ``[costs]``
(:class:`sitefinder.config.Costs`); nothing is solved again, so it adds no time to a run.

For the plan in total:

- **capital** (£) = for each new base, ``capital_per_base`` + places x ``capital_per_place``;
- **revenue** (£ a year) = the new places x ``revenue_per_place`` (a place is funded whether
  or not it is filled);
- **transport change** (£ a year) = the cost of every journey with the plan - today's, each
  child's journey costing ``transport_per_child`` + ``transport_per_minute`` x its one-way
  minutes (journeys to the authority's bases, and the fallback journeys of children without
  one; a child with no journey, under the flat fallback, costs none);
- **placement change** (£ a year) = for each kind of place a child without a base place takes
  (special, independent, non-maintained, a base across the border, out of authority), the
  children in it with the plan - today, x what such a place costs a year;
- **net saving** (£ a year) = -(revenue + transport change + placement change);
- **payback** (years) = capital / net saving, when the plan saves money (else none);
  discounted payback and net present value use ``discount_rate`` over ``appraisal_years``;
- **equivalent annual cost** of the capital (£ a year) = capital / the annuity factor
  (capital / ``appraisal_years`` at a zero rate), and the **net cost a year** = that - the net
  saving; **cost per child placed** and **per harm point averted** divide the net cost a year
  by the children the plan newly places in a base and by the harm points it averts.

Per base, capital and revenue are the base's own; the plan's transport and placement change
(and so the net saving and payback) are shared between its bases in proportion to the
children each newly places (the plan would lose them without it), or to the children each
serves when none newly places any: the bases work together, so a base's share is an
apportionment, while the plan's totals are exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sitefinder.config import Costs

PLACE_KINDS = ("special", "independent", "non_maintained", "base_cross_border", "out_of_authority")
"""The kinds of place a child without a base place takes (``RankResult.unplaced``'s ``kind``)."""

BASE_COLUMNS = [
    "choice", "urn", "name", "phase", "need_group", "places", "capital", "revenue_per_year",
    "transport_change_per_year", "placement_change_per_year", "net_saving_per_year",
    "payback_years", "discounted_payback_years", "net_present_value", "annual_capital",
    "net_cost_per_year", "cost_per_child_placed", "cost_per_harm_point", "children_served",
    "newly_placed", "harm_averted", "share",
]  # fmt: skip
"""The columns of :attr:`BusinessCase.bases`, in order."""

TOTAL_KEYS = [
    "capital", "revenue_per_year", "transport_change_per_year", "placement_change_per_year",
    "net_saving_per_year", "payback_years", "discounted_payback_years", "net_present_value",
    "annual_capital", "net_cost_per_year", "children_placed", "harm_averted",
    "cost_per_child_placed", "cost_per_harm_point", "discount_rate", "appraisal_years",
]  # fmt: skip
"""The keys of :attr:`BusinessCase.total`, in order."""


@dataclass(frozen=True)
class Appraisal:
    """A capital sum against a saving a year, over an appraisal period.

    Attributes
    ----------
    payback_years
        Capital / saving (years); None when nothing is saved (never pays back); 0 with no
        capital and a saving.
    discounted_payback_years
        Years until the discounted savings repay the capital; None when they never do (not
        even after infinitely many years at this rate).
    net_present_value
        -capital + the saving each year for ``years`` years, discounted (£).
    annual_capital
        The capital as an equal sum each year of the period with the same present value
        (equivalent annual cost, £ a year).
    """

    payback_years: float | None
    discounted_payback_years: float | None
    net_present_value: float
    annual_capital: float


def annuity_factor(rate: float, years: int) -> float:
    """The present value of £1 a year at the end of each of ``years`` years at ``rate``
    (``years`` at a zero rate)."""
    if rate <= 0:
        return float(years)
    return (1.0 - (1.0 + rate) ** -years) / rate


def appraise(capital: float, saving: float, *, rate: float, years: int) -> Appraisal:
    """Payback, discounted payback, net present value and equivalent annual capital.

    Parameters
    ----------
    capital
        Spent now (£).
    saving
        Saved at the end of each year (£ a year; negative: a cost a year).
    rate
        Discount rate (a fraction a year, 0-1).
    years
        Appraisal period (years).
    """
    factor = annuity_factor(rate, years)
    if saving <= 1e-9:
        payback = discounted = None
    elif capital <= 0:
        payback = discounted = 0.0
    else:
        payback = capital / saving
        if rate <= 0:
            discounted = payback
        else:
            left = 1.0 - capital * rate / saving  # (1 + r)^-n = 1 - capital r / saving
            discounted = -math.log(left) / math.log1p(rate) if left > 0 else None
    return Appraisal(
        payback_years=payback,
        discounted_payback_years=discounted,
        net_present_value=-capital + saving * factor,
        annual_capital=capital / factor,
    )


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 1e-9 else None


@dataclass(frozen=True)
class BusinessCase:
    """What the plan costs and saves (see the module docstring for every formula).

    Attributes
    ----------
    bases
        One row per new base (:data:`BASE_COLUMNS`): ``places``, ``capital`` (£),
        ``revenue_per_year``, ``transport_change_per_year``, ``placement_change_per_year``
        and ``net_saving_per_year`` (£ a year; a change below 0 is a saving),
        ``payback_years`` and ``discounted_payback_years`` (NaN: never),
        ``net_present_value`` (£), ``annual_capital`` and ``net_cost_per_year`` (£ a year),
        ``cost_per_child_placed`` (£ a year a child newly placed) and ``cost_per_harm_point``
        (£ a year a harm point averted; NaN when it places none or averts none), its
        ``share`` of the plan's changes, and the figures it comes with from the plan
        (``children_served``, ``newly_placed``, ``harm_averted``).
    total
        The plan's totals (:data:`TOTAL_KEYS`); None where a figure does not exist (no
        payback, no child placed).
    placements
        One row per kind of place: ``kind, cost_per_child`` (£ a year), ``today``, ``plan``
        (children) and ``change_per_year`` (£ a year).
    transport
        One row per network (``today``, ``plan``): ``children`` with a journey, their
        ``child_minutes`` (one-way minutes added up) and ``cost_per_year`` (£ a year).
    years
        With a programme, the case of each of its years
        (:data:`sitefinder.costs.programme.YEAR_COLUMNS`); empty without one.
    """

    bases: pd.DataFrame
    total: dict[str, float | None]
    placements: pd.DataFrame
    transport: pd.DataFrame = field(default_factory=pd.DataFrame)
    years: pd.DataFrame = field(default_factory=pd.DataFrame)


def _placements(costs: Costs, unplaced: pd.DataFrame) -> pd.DataFrame:
    rows = []
    kinds = [*PLACE_KINDS, *(["flat"] if (unplaced.get("kind") == "flat").any() else [])]
    for kind in kinds:
        mine = unplaced[unplaced["kind"] == kind] if len(unplaced) else unplaced
        today = float(mine.loc[mine["network"] == "today", "children"].sum()) if len(mine) else 0.0
        plan = float(mine.loc[mine["network"] == "plan", "children"].sum()) if len(mine) else 0.0
        price = costs.place_cost(kind)
        rows.append(
            {
                "kind": kind,
                "cost_per_child": price,
                "today": today,
                "plan": plan,
                "change_per_year": (plan - today) * price,
            }
        )
    return pd.DataFrame(
        rows, columns=["kind", "cost_per_child", "today", "plan", "change_per_year"]
    )


def _transport(
    costs: Costs, unplaced: pd.DataFrame, *, in_bases: dict[str, tuple[float, float]]
) -> pd.DataFrame:
    rows = []
    for network in ("today", "plan"):
        children, minutes = in_bases[network]
        if len(unplaced):
            mine = unplaced[(unplaced["network"] == network) & (unplaced["kind"] != "flat")]
            children += float(mine["children"].sum())
            minutes += float((mine["children"] * mine["minutes"]).sum())
        rows.append(
            {
                "network": network,
                "children": children,
                "child_minutes": minutes,
                "cost_per_year": children * costs.transport_per_child
                + minutes * costs.transport_per_minute,
            }
        )
    return pd.DataFrame(rows, columns=["network", "children", "child_minutes", "cost_per_year"])


def business_case(
    costs: Costs,
    *,
    bases: pd.DataFrame,
    unplaced: pd.DataFrame,
    in_bases: dict[str, tuple[float, float]],
    children_placed: float,
    harm_averted: float,
) -> BusinessCase:
    """The business case of a plan.

    Parameters
    ----------
    costs
        The scenario's ``[costs]`` figures (£).
    bases
        The plan's new bases, one row each: ``choice, urn, name, phase, need_group, places,
        children_served, newly_placed, harm_averted`` (children, harm points).
    unplaced
        Where children without a base place go, today and with the plan
        (:attr:`sitefinder.pipeline.RankResult.unplaced`: ``network, kind, children,
        minutes``).
    in_bases
        For ``"today"`` and ``"plan"``: (children in the authority's bases, their one-way
        journey minutes added up).
    children_placed
        Children the plan newly places in the authority's bases (children).
    harm_averted
        Harm points the plan averts.

    Returns
    -------
    BusinessCase
        Per base and in total.
    """
    placements = _placements(costs, unplaced)
    transport = _transport(costs, unplaced, in_bases=in_bases)
    cost = transport.set_index("network")["cost_per_year"]
    transport_change = float(cost["plan"] - cost["today"])
    placement_change = float(placements["change_per_year"].sum())

    table = bases.reindex(
        columns=["choice", "urn", "name", "phase", "need_group", "places", "children_served",
                 "newly_placed", "harm_averted"]
    ).reset_index(drop=True)  # fmt: skip
    places = table["places"].astype(float).to_numpy()
    table["capital"] = costs.capital_per_base + places * costs.capital_per_place
    table["revenue_per_year"] = places * costs.revenue_per_place
    weights = table["newly_placed"].astype(float).fillna(0.0).clip(lower=0.0).to_numpy()
    if weights.sum() <= 1e-9:
        weights = table["children_served"].astype(float).fillna(0.0).clip(lower=0.0).to_numpy()
    if weights.sum() <= 1e-9:
        weights = np.ones(len(table))
    share = weights / weights.sum() if len(table) else weights
    table["share"] = share
    table["transport_change_per_year"] = share * transport_change
    table["placement_change_per_year"] = share * placement_change
    table["net_saving_per_year"] = -(
        table["revenue_per_year"]
        + table["transport_change_per_year"]
        + table["placement_change_per_year"]
    )
    rate, years = costs.discount_rate, costs.appraisal_years
    per_base = [
        appraise(float(c), float(s), rate=rate, years=years)
        for c, s in zip(table["capital"], table["net_saving_per_year"], strict=True)
    ]
    table["payback_years"] = [
        np.nan if a.payback_years is None else a.payback_years for a in per_base
    ]
    table["discounted_payback_years"] = [
        np.nan if a.discounted_payback_years is None else a.discounted_payback_years
        for a in per_base
    ]
    table["net_present_value"] = [a.net_present_value for a in per_base]
    table["annual_capital"] = [a.annual_capital for a in per_base]
    net_cost = table["annual_capital"].to_numpy(dtype=float) - table[
        "net_saving_per_year"
    ].to_numpy(dtype=float)
    table["net_cost_per_year"] = net_cost
    table["cost_per_child_placed"] = [
        np.nan if (r := _ratio(c, float(n))) is None else r
        for c, n in zip(net_cost, table["newly_placed"].fillna(0.0), strict=True)
    ]
    table["cost_per_harm_point"] = [
        np.nan if (r := _ratio(c, float(h))) is None else r
        for c, h in zip(net_cost, table["harm_averted"].fillna(0.0), strict=True)
    ]

    capital = float(table["capital"].sum())
    revenue = float(table["revenue_per_year"].sum())
    saving = -(revenue + transport_change + placement_change)
    whole = appraise(capital, saving, rate=rate, years=years)
    net_cost_year = whole.annual_capital - saving
    total: dict[str, float | None] = {
        "capital": capital,
        "revenue_per_year": revenue,
        "transport_change_per_year": transport_change,
        "placement_change_per_year": placement_change,
        "net_saving_per_year": saving,
        "payback_years": whole.payback_years,
        "discounted_payback_years": whole.discounted_payback_years,
        "net_present_value": whole.net_present_value,
        "annual_capital": whole.annual_capital,
        "net_cost_per_year": net_cost_year,
        "children_placed": children_placed,
        "harm_averted": harm_averted,
        "cost_per_child_placed": _ratio(net_cost_year, children_placed),
        "cost_per_harm_point": _ratio(net_cost_year, harm_averted),
        "discount_rate": rate,
        "appraisal_years": float(years),
    }
    return BusinessCase(
        bases=table.reindex(columns=BASE_COLUMNS),
        total=total,
        placements=placements,
        transport=transport,
    )
