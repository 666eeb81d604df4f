"""Write a ranking run as ONE self-contained HTML report, fit to attach to a council paper.

The report is rendered from Jinja2 templates shipped in ``sitefinder/render/templates``
(``report.html.j2`` and ``report.css``), autoescaped, so a council can restyle it: files of the
same names in a ``template_dir`` (``sitefinder report --template-dir``) replace the packaged
ones. The file needs nothing else: styles are inline in a ``<style>`` block, the map is
embedded as a base64 ``data:`` PNG, and there are no scripts, fonts or links. It holds a
plain-English summary, the map, the plan and how it was chosen, the ranking, the network before
and after, the strongest candidates left out, robustness (when run), every scenario assumption
with its value and where it came from (:attr:`sitefinder.config.Scenario.origins`), input
checksums, warnings, the sitefinder version and the credits. Every table comes from the
presentation layer (:mod:`sitefinder.report`), so figures and disclosure control match the
terminal table, CSV and JSON. The same run gives the same bytes (the ``Generated`` line shows
the day, or ``SOURCE_DATE_EPOCH``'s).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from sitefinder.columns import LEFT_OUT, PLAN, RANKING, Column
from sitefinder.config import Scenario
from sitefinder.errors import OutputError
from sitefinder.pipeline import RankResult
from sitefinder.render.staticmap import credits, map_png
from sitefinder.report import (
    disclosure_note,
    left_out_frame,
    people_table,
    plan_frame,
    plan_notes,
    published_notes,
    published_warnings,
    ranking_frame,
    summary_rows,
)
from sitefinder.targets import check_target, write_atomic
from sitefinder.version import __version__

TEMPLATE = "report.html.j2"
"""The report's template; ``report.css`` holds its style (included inline)."""
_MAP_DPI = 150
_NUMERIC = ("count", "harm", "minutes", "share", "number")


@dataclass(frozen=True)
class _Heading:
    label: str
    numeric: bool = False


@dataclass(frozen=True)
class _Cell:
    text: str
    css: str = ""


@dataclass(frozen=True)
class _Row:
    cells: list[_Cell]
    css: str = ""


@dataclass(frozen=True)
class _Table:
    columns: list[_Heading]
    rows: list[_Row] = field(default_factory=list)


def _css(column: Column) -> str:
    if column.kind in _NUMERIC:
        return "num"
    return {"name": "school", "notes": "notes"}.get(column.key, "text" if column.show else "")


def _view(
    result: RankResult, frame: pd.DataFrame, spec: tuple[Column, ...], *, shade: bool = False
) -> _Table:
    """A protected table as headings and text cells (the terminal table's columns and text)."""
    columns, rows = people_table(result, frame, spec)
    flags = frame["in_plan"].tolist() if shade and "in_plan" in frame else [False] * len(rows)
    return _Table(
        [_Heading(c.label, c.kind in _NUMERIC) for c in columns],
        [
            _Row([_Cell(text, _css(c)) for c, text in zip(columns, row, strict=True)],
                 "plan" if bool(flag) else "")
            for row, flag in zip(rows, flags, strict=True)
        ],
    )  # fmt: skip


def _plain(headings: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()):
    return _Table(
        [_Heading(h, i in numeric) for i, h in enumerate(headings)],
        [
            _Row([_Cell(text, "num" if i in numeric else "") for i, text in enumerate(row)])
            for row in rows
        ],
    )


# ---------------------------------------------------------------------------------------------
# Scenario assumptions and where each value came from


def _leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a dumped model as (dotted key path, value); empty tables are leaves."""
    if isinstance(value, dict) and value:
        for key in value:
            yield from _leaves(value[key], f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + "}"
    return str(value)


def assumptions(scenario: Scenario) -> list[tuple[str, str, str]]:
    """Every scenario setting as (key path, value, source), in the scenario's key order.

    The source is the scenario file that set the value (the file itself or a parent named by
    ``extends``), the origin of a later change (``command line``), or ``default``. File paths
    are shown resolved.
    """
    current = scenario.model_dump(exclude={"source", "source_sha256"})
    return [(key, _show(value), scenario.origin_of(key)) for key, value in _leaves(current)]


def _assumption_sections(scenario: Scenario) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = []
    for key, value, source in assumptions(scenario):
        name = key.split(".", 1)[0] if "." in key else "general"
        if not sections or sections[-1]["name"] != name:
            sections.append({"name": name, "rows": []})
        sections[-1]["rows"].append({"key": key, "value": value, "source": source})
    return sections


# ---------------------------------------------------------------------------------------------
# Sections


def _method_sentence(result: RankResult) -> str:
    plan = result.plan
    method = (
        "an exact mixed-integer programme (HiGHS)"
        if plan.method == "optimal"
        else "greedy selection improved by interchange"
    )
    return f"Chosen together by {method}: {plan.proof()}."


def _summary(result: RankResult) -> dict[str, Any]:
    metrics = {label: (before, after) for label, before, after, _ in summary_rows(result)}
    harm = metrics["Total harm (harm points)"]
    before, after = result.before.total_harm, result.after.total_harm
    shown = all(text not in ("c", "") for text in harm)
    return {
        "bases": len(result.plan.chosen),
        "plan_notes": list(result.plan.notes),
        "harm_before": harm[0],
        "harm_after": harm[1],
        "fall": f"{(before - after) / before:.0%}" if shown and before > 0 else "",
        "harm_scale": _harm_scale(result.scenario),
        "journey_before": metrics["Journey harm (harm points)"][0],
        "journey_after": metrics["Journey harm (harm points)"][1],
        "journey_share_before": metrics["Journey share of total harm"][0],
        "journey_share_after": metrics["Journey share of total harm"][1],
        "within_before": metrics["Placed within the guidance limit"][0],
        "within_after": metrics["Placed within the guidance limit"][1],
        "children": metrics["Children needing a place"][0],
        "unmet_before": metrics["Unmet need (children)"][0],
        "unmet_after": metrics["Unmet need (children)"][1],
        "minutes_before": metrics["Mean journey (minutes)"][0] or "n/a",
        "minutes_after": metrics["Mean journey (minutes)"][1] or "n/a",
    }


def _harm_scale(scenario: Scenario) -> str:
    """What a harm point is and what a child without a base place counts, in words."""
    text = (
        "The harm curve scores one harm point for a journey at the guidance limit, and every"
        f" journey minute adds {scenario.harm.per_minute:g}."
    )
    fallback = scenario.fallback
    if fallback.method == "flat":
        return text + f" A child without a base place counts {scenario.harm.unmet:g}."
    where = (
        "the nearest special school serving their need (or an out-of-authority placement"
        f" {fallback.out_of_authority_minutes:g} minutes away when that is nearer)"
        if fallback.method == "special_school"
        else f"an out-of-authority placement {fallback.out_of_authority_minutes:g} minutes away"
    )
    return text + (
        f" A child without a base place counts the harm of the journey to {where}, plus"
        f" {fallback.mismatch:g} for having no base place."
    )


def _robustness(result: RankResult) -> dict[str, Any] | None:
    plan, settings = result.plan, result.scenario.robustness
    if not plan.runs:
        return None
    ranges = [
        f"harm.{key} drawn from [{_show(getattr(settings, key)[0])},"
        f" {_show(getattr(settings, key)[1])}]"
        for key in ("exponent", "free_minutes", "unmet")
        if getattr(settings, key) is not None
    ]
    if settings.mismatch is not None:
        ranges.append(
            f"fallback.mismatch drawn from [{_show(settings.mismatch[0])},"
            f" {_show(settings.mismatch[1])}]"
        )
    text = (
        f"The plan was chosen again in {plan.runs} seeded runs (seed {settings.seed}), each"
        f" scaling every area's children by a random factor (standard deviation of its log"
        f" {settings.demand_noise:g})" + (f" with {', '.join(ranges)}" if ranges else "") + "."
        " Robustness is the share of runs in which the school hosts a chosen base."
    )
    if plan.unproven_runs:
        text += f" {plan.unproven_runs} run(s) stopped at their time limit with the best set found."
    names = result.schools.drop_duplicates("urn").set_index("urn")["name"]
    in_plan = set(plan.chosen.get("urn", pd.Series(dtype=str)).astype(str))
    shares = plan.robustness.sort_values(ascending=False, kind="stable")
    rows = [
        [
            f"{names.get(urn, '')} ({urn})",
            f"{float(share):.0%}",
            "yes" if str(urn) in in_plan else "",
        ]
        for urn, share in shares.head(15).items()
        if float(share) > 0
    ]
    return {
        "text": text,
        "table": _plain(["School (URN)", "Share of runs chosen", "In the plan"], rows, [1]),
    }


def _provenance(result: RankResult) -> tuple[_Table, _Table]:
    scenario = result.scenario
    files = scenario.inputs.files()
    rows = [
        ["sitefinder version", __version__],
        ["Scenario file", str(scenario.source or "none (built in a program)")],
        ["Scenario SHA-256 (the file and its extends chain)", scenario.source_sha256 or ""],
        ["Journey minutes", result.travel.method],
        ["Disclosure control", disclosure_note(result)],
    ]
    checksums = [
        [name, str(files.get(name, "")), digest] for name, digest in result.data.checksums.items()
    ]
    return _plain(["Item", "Value"], rows), _plain(["Input", "File", "SHA-256"], checksums)


def _environment(template_dir: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        if not Path(template_dir).is_dir():
            raise OutputError(
                f"{template_dir}: template folder not found (give a folder holding"
                f" {TEMPLATE} and/or report.css)"
            )
        loaders.append(jinja2.FileSystemLoader(str(template_dir)))
    loaders.append(jinja2.PackageLoader("sitefinder.render", "templates"))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_report(
    result: RankResult,
    *,
    png: bytes,
    generated: str | None,
    template_dir: Path | None = None,
) -> str:
    """Build the report's HTML text around an already-rendered map.

    Parameters
    ----------
    result
        A ranking run.
    png
        The map as PNG bytes (see :func:`sitefinder.render.staticmap.map_png`).
    generated
        The text of the ``Generated`` line, or None to leave the line out.
    template_dir
        A folder whose ``report.html.j2`` and/or ``report.css`` replace the packaged ones.

    Returns
    -------
    str
        The complete HTML document.

    Raises
    ------
    OutputError
        If ``template_dir`` is not a folder, or a template in it is broken.
    """
    plan_view = _view(result, plan_frame(result), PLAN)
    ranking = _view(result, ranking_frame(result, top=result.scenario.top), RANKING, shade=True)
    provenance, checksums = _provenance(result)
    context = {
        "name": result.scenario.name,
        "base_size": result.scenario.base_size,
        "version": __version__,
        "generated": generated,
        "summary": _summary(result),
        "disclosure": disclosure_note(result),
        "image": base64.b64encode(png).decode("ascii"),
        "method": _method_sentence(result),
        "plan": plan_view,
        "plan_notes": plan_notes(result),
        "ranking": ranking,
        "metrics": _plain(["Metric", "Before", "After", "Change"], summary_rows(result), [1, 2, 3]),
        "left_out": _view(result, left_out_frame(result), LEFT_OUT),
        "robustness": _robustness(result),
        "assumptions": _assumption_sections(result.scenario),
        "provenance": provenance,
        "checksums": checksums,
        "warnings": published_warnings(result),
        "notes": published_notes(result),
        "credits": credits(result),
    }
    environment = _environment(template_dir)
    try:
        return environment.get_template(TEMPLATE).render(context)
    except jinja2.TemplateError as exc:
        where = template_dir or "the packaged templates"
        raise OutputError(f"{where}: the report template failed ({exc})") from None


def generated_stamp() -> str:
    """The day the report is made (UTC), or ``SOURCE_DATE_EPOCH``'s day when that is set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch.isdigit() else datetime.now(UTC)
    return moment.strftime("%Y-%m-%d")


def write_report(
    result: RankResult,
    path: Path,
    *,
    overwrite: bool = False,
    generated: str | None = None,
    template_dir: Path | None = None,
) -> Path:
    """Write ``result`` as one self-contained HTML report (map embedded, no external links).

    Parameters
    ----------
    result
        A ranking run (:func:`sitefinder.rank`).
    path
        Where to write the report (must end in ``.html``; the folder must exist).
    overwrite
        Replace an existing file.
    generated
        Text of the ``Generated`` line; None (the default) uses the day (UTC, or
        ``SOURCE_DATE_EPOCH``) and an empty string leaves the line out.
    template_dir
        A folder whose ``report.html.j2`` and/or ``report.css`` replace the packaged ones.

    Returns
    -------
    Path
        The file written. It appears only when complete.

    Raises
    ------
    OutputError
        If the name does not end in ``.html``, the file exists and ``overwrite`` is false, the
        folder does not exist, the template folder is missing or broken, or the file cannot be
        written.
    """
    path = check_target(path, overwrite=overwrite, suffix=".html", kind="HTML report")
    if generated is None:
        generated = generated_stamp()
    png = map_png(result, dpi=_MAP_DPI, top=result.scenario.top)
    text = render_report(result, png=png, generated=generated or None, template_dir=template_dir)
    return write_atomic(path, text.encode("utf-8"), overwrite=overwrite, kind="HTML report")
