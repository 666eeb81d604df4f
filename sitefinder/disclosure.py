"""Disclosure control: no published number may give back a count of 1 to threshold-1 children.

Every output (terminal table, CSV, JSON, HTML report, GeoPackage, compare and sweep tables)
passes its figures through :func:`protect`, the one place the rules are applied:

1. **Counts.** A count of children ``x`` with ``0 < |x| < t`` (``t`` the scenario's
   ``suppression_threshold``) is withheld. Zero is shown: it identifies no one.
2. **Harm.** A harm figure ``h`` with ``0 < |h| < t x unmet`` harm points is withheld, unless
   it is spread over a count of at least ``t`` children shown in its row (a base's children
   served, an area's children). One child adds at most ``unmet`` harm points (a child without
   a place; every allowed journey scores less), so a smaller figure divided by one child's
   harm could give a count under ``t``.
3. **Rows.** When a count in a row is withheld, every harm figure in that row is withheld with
   it, and so is any share of the withheld children (a school's share of pupils with an EHC
   plan, times its pupils, gives the count back). Journey minutes are not withheld: they are
   measured between an area's point and a school, so they describe places, not children.
4. **Margins.** Where rows add up to a published total (areas to the authority's totals,
   assignment lines to their area and base), more cells are withheld, smallest first, until
   the withheld cells of each column add up to 0 or to at least ``t`` children (harm: ``t x
   unmet`` harm points, or the harm of at least ``t`` children together), so the total minus
   the shown rows gives back no small count.

A withheld count is written ``<t`` (:func:`withheld_count`, the one place that text is made),
any other withheld figure ``c`` (the DfE's mark for confidential), and NULL in the GeoPackage.

The rules protect figures derived from child-level records (a pupil list, a counts file).
Demand modelled from published statistics (ONS population x DfE SEN2 rates) counts no
identified child: its figures are *estimates*, shown rounded with a note saying so
(:attr:`Rule.estimates`), unless the scenario sets ``disclosure.modelled = "protect"``.
Pupils with an EHC plan at a school (GIAS) are counts of real children: they are protected in
every run (:meth:`Rule.of_records`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

if TYPE_CHECKING:
    from sitefinder.config import Scenario

Kind = Literal["count", "harm", "minutes", "share", "number", "money", "text", "flag", "id"]
"""What a column holds: children (``count``), harm points (``harm``), journey minutes or their
mean (``minutes``), a fraction (``share``: of runs, a gap), another number (``number``: ranks,
places), a sum of money (``money``: pounds, never withheld), or ``text``, ``flag``
(true/false) and ``id`` (URNs, area codes)."""
CONFIDENTIAL = "c"
"""The mark of a withheld figure that is not a count (DfE and ONS use ``c``)."""


def withheld_count(threshold: int) -> str:
    """The text of a withheld count: ``<threshold`` (e.g. ``<5``)."""
    return f"<{threshold}"


ESTIMATES_NOTE = (
    "Children's figures are modelled estimates from published statistics (ONS population x"
    " DfE SEN2 rates), not counts of identified children: they are shown rounded (children to"
    " 1 decimal, harm points to 2) and are not withheld as small counts"
    ' (disclosure.modelled = "protect" withholds them).'
)
"""The note of a run whose children's figures are modelled estimates."""


def disclosure_text(threshold: int, *, estimates: bool = False) -> str:
    """The sentence explaining figures withheld below ``threshold`` children; with
    ``estimates``, that the children's figures are modelled estimates shown rounded."""
    if estimates:
        if threshold == 0:
            return ESTIMATES_NOTE
        return (
            f"{ESTIMATES_NOTE} Pupils with an EHC plan at a school are counts: fewer than"
            f" {threshold} are shown as {withheld_count(threshold)}."
        )
    if threshold == 0:
        return "Disclosure control is off (suppression_threshold = 0)."
    return (
        f"Counts of fewer than {threshold} children are shown as {withheld_count(threshold)};"
        f" {CONFIDENTIAL} marks a figure withheld so that no such count can be worked out from"
        " it."
    )


@dataclass(frozen=True, slots=True)
class Withheld:
    """A figure withheld by disclosure control; ``str()`` gives its published text.

    A count under the threshold reads ``<5``; a count of the threshold or more, withheld only
    so that a published total gives no small count back (rule 4), reads ``c`` like every
    other withheld figure: "<5" would be untrue of it.
    """

    kind: Kind
    threshold: int
    small: bool = True

    def __str__(self) -> str:
        if self.kind == "count" and self.small:
            return withheld_count(self.threshold)
        return CONFIDENTIAL


@dataclass(frozen=True, slots=True)
class Rule:
    """The disclosure rule of a run.

    Attributes
    ----------
    threshold
        Counts of children below this (and above 0) are withheld (children).
    unmet
        Harm points of one child without a place, the most one child can add (harm points).
    estimates
        The children's figures are modelled estimates from published statistics: nothing is
        withheld (:meth:`of_records` is the rule for counts of real children in the same run).
    """

    threshold: int
    unmet: float
    estimates: bool = False

    def of_records(self) -> Rule:
        """This rule for counts of real children (a school's pupils with an EHC plan), which
        are protected even when the run's children are estimates."""
        return Rule(self.threshold, self.unmet)

    @property
    def harm_threshold(self) -> float:
        """Harm figures below this (and above 0) are withheld (harm points)."""
        return self.threshold * self.unmet

    def hides(self, value: object, kind: Kind) -> bool:
        """Whether ``value`` of ``kind`` is withheld on its own (rules 1 and 2)."""
        if self.estimates or value is None or isinstance(value, Withheld | str | bool):
            return False
        try:
            size = abs(round(float(value), 6))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
        if math.isnan(size):
            return False
        if kind == "count":
            return 0 < size < self.threshold
        if kind == "harm":
            return 0 < size < self.harm_threshold
        return False


def rule_for(scenario: Scenario, *, per_child: float | None = None) -> Rule:
    """The disclosure rule of ``scenario``: its threshold and the most harm one child carries.

    ``per_child`` is that harm (harm points) when the run knows it (its fallback journeys, see
    :attr:`sitefinder.pipeline.RankResult.disclosure_rule`); else ``harm.unmet``, which exceeds
    every allowed journey's harm under the flat fallback. The rule's ``estimates`` is the
    scenario's (:attr:`sitefinder.config.Scenario.estimates`).
    """
    unmet = scenario.harm.unmet if per_child is None else per_child
    return Rule(threshold=scenario.suppression_threshold, unmet=unmet, estimates=scenario.estimates)


def _hidden_cells(
    values: pd.DataFrame, kinds: Mapping[str, Kind], about: Mapping[str, str], rule: Rule
) -> dict[str, NDArray[np.bool_]]:
    hidden = {}
    for column, kind in kinds.items():
        hidden[column] = np.array([rule.hides(v, kind) for v in values[column]], dtype=bool)
    for column, kind in kinds.items():
        count = about.get(column)
        if kind == "harm" and count in kinds:
            # Spread over a shown count of at least t children: no small count to divide out.
            spread = pd.to_numeric(values[count], errors="coerce").fillna(0.0).abs()
            hidden[column] &= ~(spread >= rule.threshold).to_numpy()
    return hidden


@dataclass(frozen=True, eq=False)
class _Cells:
    """A table being protected: its columns' kinds, what each harm or mean is about, the rule,
    and the cells withheld so far (``hidden``, per column, updated in place)."""

    values: pd.DataFrame
    kinds: Mapping[str, Kind]
    about: Mapping[str, str]
    rule: Rule
    hidden: dict[str, NDArray[np.bool_]]

    def rows_rule(self) -> None:
        """Rule 3: a row with a withheld count withholds its harm, and what is about it."""
        hidden = self.hidden
        row = np.zeros(len(self.values), dtype=bool)
        for column, kind in self.kinds.items():
            if kind == "count":
                row |= hidden[column]
        for column, kind in self.kinds.items():
            if kind == "harm":
                hidden[column] |= row
            elif self.about.get(column) in hidden:
                hidden[column] |= hidden[self.about[column]]

    def margins(self, groups: Sequence[str | None]) -> bool:
        """One pass of rule 4; returns True when it withheld another cell."""
        values, kinds, about, rule = self.values, self.kinds, self.about, self.rule
        hidden = self.hidden
        changed = False
        for group in groups:
            keys = (
                np.zeros(len(values), dtype=np.int64)
                if group is None
                else pd.factorize(values[group].astype(str), sort=True)[0]
            )
            for column, kind in kinds.items():
                if kind not in ("count", "harm"):
                    continue
                limit = rule.threshold if kind == "count" else rule.harm_threshold
                data = pd.to_numeric(values[column], errors="coerce").fillna(0.0).abs().to_numpy()
                for key in np.unique(keys):
                    members = np.flatnonzero(keys == key)
                    withheld = members[hidden[column][members]]
                    total = round(float(data[withheld].sum()), 6)
                    if not 0 < total < limit:
                        continue
                    if kind == "harm" and about.get(column) in kinds:
                        spread = pd.to_numeric(values[about[column]], errors="coerce").fillna(0.0)
                        if float(spread.abs().to_numpy()[withheld].sum()) >= rule.threshold:
                            continue  # harm of t or more children together: no small count
                    shown = members[~hidden[column][members] & (data[members] > 1e-9)]
                    if len(shown) == 0:
                        continue
                    smallest = shown[np.argsort(data[shown], kind="stable")[0]]
                    hidden[column][smallest] = True
                    changed = True
        return changed


def protect(
    table: pd.DataFrame,
    kinds: Mapping[str, Kind],
    rule: Rule,
    *,
    about: Mapping[str, str] | None = None,
    margins: Sequence[str | None] = (),
) -> pd.DataFrame:
    """Return ``table`` with every figure the rules withhold replaced by a :class:`Withheld`.

    Parameters
    ----------
    table
        One row per published row (a candidate, a base, an area, an assignment line).
    kinds
        The kind of each column to protect (see :data:`Kind`); other columns pass unchanged.
    rule
        The run's threshold and unmet harm.
    about
        For a harm, mean or share column, the count column of the children it is about
        (rules 2 and 3).
    margins
        Totals the rows add up to that are published elsewhere: ``None`` for the whole
        table, or a column name for each group's total (e.g. ``"area_code"``).

    Returns
    -------
    pandas.DataFrame
        A copy; protected columns hold numbers, NaN, or :class:`Withheld` markers.
    """
    kinds = {c: k for c, k in kinds.items() if c in table.columns}
    about = dict(about or {})
    cells = _Cells(table, kinds, about, rule, _hidden_cells(table, kinds, about, rule))
    cells.rows_rule()
    while margins and cells.margins(margins):
        cells.rows_rule()
    hidden = cells.hidden
    out = table.copy()
    for column, kind in kinds.items():
        if hidden[column].any():
            # A plain object array: a table of an authority's areas hides thousands of cells,
            # and pandas' cell assignment costs tens of microseconds each.
            values = out[column].to_numpy(dtype=object, copy=True)
            for row in np.flatnonzero(hidden[column]):
                small = kind != "count" or rule.hides(values[row], "count")
                values[row] = Withheld(kind, rule.threshold, small=small)
            out[column] = values
    return out


def format_count(value: float, threshold: int) -> str:
    """Format a count of children for people (messages, labels): withheld, whole, or 1 decimal."""
    if value is None or math.isnan(value):
        return ""
    if Rule(threshold, 0.0).hides(value, "count"):
        return withheld_count(threshold)
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"


def is_withheld(value: object) -> bool:
    """Whether a cell of a :func:`protect` result is withheld."""
    return isinstance(value, Withheld)
