"""Write a ranking run as ONE self-contained HTML report, fit to attach to a council paper.

The report is rendered from Jinja2 templates shipped in ``sitefinder/render/templates``
(``report.html.j2`` and ``report.css``), autoescaped, so a council can restyle it: files of the
same names in a ``template_dir`` (``sitefinder report --template-dir``) replace the packaged
ones. The file needs nothing else: styles are inline in a ``<style>`` block, the map is
embedded as a base64 ``data:`` PNG, and there are no scripts, fonts or links. It holds a
plain-English summary, the map, the plan and how it was chosen, the ranking, the network before
and after, the strongest candidates left out, robustness (when run), every scenario assumption
with its value and where it came from (:attr:`sitefinder.config.Scenario.origins`), input
checksums, warnings, the sitefinder version and the credits. Everything comes from the run's
published tables and facts (:class:`~sitefinder.published.PublishedRun`), so figures and
disclosure control match the terminal table, CSV, JSON and GeoPackage, and a report drawn from a
saved run (``sitefinder report --from run.gpkg``) is the report ``rank --report`` wrote. The
same run gives the same bytes (the ``Generated`` line shows the day, or ``SOURCE_DATE_EPOCH``'s).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import pandas as pd

from sitefinder.columns import (
    FALLBACK_TOTALS,
    LEFT_OUT,
    PATHWAY,
    PLAN,
    PROGRAMME,
    PROGRAMME_YEARS,
    RANKING,
    SENSITIVITY,
    SPECIAL_SCHOOLS,
    STABILITY,
    SUFFICIENCY,
    Column,
)
from sitefinder.errors import OutputError
from sitefinder.published import PublishedRun, assumptions, published
from sitefinder.render.charts import sufficiency_png, tornado_png
from sitefinder.render.staticmap import map_measure, map_png, panel_phases
from sitefinder.render.webmap import webmap
from sitefinder.report import (
    cost_years_people,
    costs_people,
    people_table,
    placements_people,
    summary_rows,
)
from sitefinder.stability.statement import strong_rows
from sitefinder.targets import check_target, write_atomic

if TYPE_CHECKING:
    from sitefinder.pipeline import RankResult

__all__ = ["TEMPLATE", "assumptions", "generated_stamp", "render_report", "write_report"]

TEMPLATE = "report.html.j2"
"""The report's template; ``report.css`` holds its style (included inline)."""
_MAP_DPI = 150
_NUMERIC = ("count", "harm", "minutes", "share", "number", "money")


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
    run: PublishedRun, frame: pd.DataFrame, spec: tuple[Column, ...], *, shade: bool = False
) -> _Table:
    """A protected table as headings and text cells (the terminal table's columns and text)."""
    columns, rows = people_table(run, frame, spec)
    flags = frame["in_plan"].tolist() if shade and "in_plan" in frame else [False] * len(rows)
    return _Table(
        [_Heading(c.label, c.kind in _NUMERIC) for c in columns],
        [
            _Row([_Cell(text, _css(c)) for c, text in zip(columns, row, strict=True)],
                 "plan" if bool(flag) else "")
            for row, flag in zip(rows, flags, strict=True)
        ],
    )  # fmt: skip


def _columns(columns: list[Column], rows: list[list[str]], *, total: bool = False) -> _Table:
    """Text rows under their columns' headings; with ``total`` the last row is shaded."""
    return _Table(
        [_Heading(c.label, c.kind in _NUMERIC) for c in columns],
        [
            _Row([_Cell(text, _css(c)) for c, text in zip(columns, row, strict=True)],
                 "plan" if total and i == len(rows) - 1 else "")
            for i, row in enumerate(rows)
        ],
    )  # fmt: skip


def _plain(
    headings: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[int] = (),
    *,
    long: Sequence[int] = (),
) -> _Table:
    """A table of text; ``long`` columns hold unbroken text (paths, checksums) that may wrap
    anywhere, so the table fits a printed page."""

    def css(i: int) -> str:
        return "num" if i in numeric else "long" if i in long else ""

    return _Table(
        [_Heading(h, i in numeric) for i, h in enumerate(headings)],
        [_Row([_Cell(text, css(i)) for i, text in enumerate(row)]) for row in rows],
    )


# ---------------------------------------------------------------------------------------------
# Scenario assumptions and where each value came from


def _assumption_sections(run: PublishedRun) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = []
    for key, value, source in run["assumptions"].itertuples(index=False, name=None):
        name = key.split(".", 1)[0] if "." in key else "general"
        if not sections or sections[-1]["name"] != name:
            sections.append({"name": name, "rows": []})
        sections[-1]["rows"].append({"key": key, "value": value, "source": source})
    return sections


# ---------------------------------------------------------------------------------------------
# Sections


def _method_sentence(run: PublishedRun) -> str:
    method = (
        "an exact mixed-integer programme (HiGHS)"
        if run.facts.method == "optimal"
        else "greedy selection improved by interchange"
    )
    return f"Chosen together by {method}: {run.facts.proof}."


def _summary(run: PublishedRun) -> dict[str, Any]:
    metrics = {label: (before, after) for label, before, after, _ in summary_rows(run)}
    harm = metrics["Total harm (harm points)"]
    totals = run["network"].set_index("state")["total_harm"]
    shown = all(text not in ("c", "") for text in harm)
    before, after = (float(totals["before"]), float(totals["after"])) if shown else (0.0, 0.0)
    return {
        "bases": len(run["plan_chosen"]),
        "plan_notes": list(run.facts.plan_sentences),
        "harm_before": harm[0],
        "harm_after": harm[1],
        "fall": f"{(before - after) / before:.0%}" if shown and before > 0 else "",
        "harm_scale": run.facts.harm_scale,
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


def _robustness(run: PublishedRun) -> dict[str, Any] | None:
    if not run.facts.runs:
        return None
    shares = run["robustness"]
    rows = [
        [f"{row.name} ({row.urn})", f"{float(row.share):.0%}", "yes" if row.in_plan else ""]
        for row in shares.head(15).itertuples()
        if float(row.share) > 0
    ]
    return {
        "text": run.facts.robustness_text,
        "table": _plain(["School (URN)", "Share of runs chosen", "In the plan"], rows, [1]),
        "stability": _view(run, strong_rows(run["stability"]), STABILITY, shade=True),
        "sensitivity": _view(run, run["sensitivity"], SENSITIVITY),
        "tornado": _png_text(tornado_png(run)),
    }


def _provenance(run: PublishedRun) -> tuple[_Table, _Table]:
    facts = run.facts
    rows = [
        ["sitefinder version", facts.version],
        ["Scenario file", facts.scenario_file or "none (built in a program)"],
        ["Scenario SHA-256 (the file and its extends chain)", facts.scenario_sha256],
        ["Journey minutes", facts.travel_method],
        ["Disclosure control", facts.disclosure_note],
    ]
    checksums = [list(row) for row in run["input_files"].itertuples(index=False, name=None)]
    return (
        _plain(["Item", "Value"], rows, long=[1]),
        _plain(["Input", "File", "SHA-256"], checksums, long=[1, 2]),
    )


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
    run: PublishedRun | RankResult,
    *,
    png: bytes,
    generated: str | None,
    template_dir: Path | None = None,
) -> str:
    """Build the report's HTML text around an already-rendered map.

    Parameters
    ----------
    run
        A ranking run, or what it published (:class:`~sitefinder.published.PublishedRun`).
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
    run = published(run)
    facts = run.facts
    plan_view = _view(run, run["plan_chosen"], PLAN)
    ranking = _view(run, run["ranking"], RANKING, shade=True)
    provenance, checksums = _provenance(run)
    context = {
        "name": facts.scenario_name,
        "base_size": facts.base_size,
        "version": facts.version,
        "generated": generated,
        "summary": _summary(run),
        "disclosure": facts.disclosure_note,
        "image": base64.b64encode(png).decode("ascii"),
        "webmap": webmap(run),
        "map_measure": _measure_words(run),
        "map_panels": [p.capitalize() for p in panel_phases(run)],
        "method": _method_sentence(run),
        "plan": plan_view,
        "plan_notes": list(facts.plan_notes),
        "ranking": ranking,
        "metrics": _plain(["Metric", "Before", "After", "Change"], summary_rows(run), [1, 2, 3]),
        "left_out": _view(run, run["plan_left_out"], LEFT_OUT),
        "fallback": _view(run, run["fallback_totals"], FALLBACK_TOTALS),
        "special_schools": _view(run, run["special_schools"], SPECIAL_SCHOOLS),
        "sufficiency": _view(run, run["sufficiency"], SUFFICIENCY),
        "programme": _view(run, run["programme"], PROGRAMME),
        "programme_years": _view(run, run["programme_years"], PROGRAMME_YEARS),
        "programme_notes": list(facts.programme_notes),
        "pathway": _view(run, run["pathway"], PATHWAY),
        "sufficiency_chart": _png_text(sufficiency_png(run)),
        "costs": _columns(*costs_people(run), total=True),
        "cost_placements": _columns(*placements_people(run)),
        "cost_years": _columns(*cost_years_people(run)),
        "cost_notes": list(facts.cost_notes),
        "cost_sources": _plain(["Key", "Value", "Source"], facts.cost_sources, [1]),
        "robustness": _robustness(run),
        "assumptions": _assumption_sections(run),
        "provenance": provenance,
        "checksums": checksums,
        "warnings": run.warnings,
        "notes": run.notes,
        "credits": facts.credits,
    }
    environment = _environment(template_dir)
    try:
        return environment.get_template(TEMPLATE).render(context)
    except jinja2.TemplateError as exc:
        where = template_dir or "the packaged templates"
        raise OutputError(f"{where}: the report template failed ({exc})") from None


def _measure_words(run: PublishedRun) -> str:
    """The printable map's measure in words, for its caption."""
    label = map_measure(run).label
    return label[0].lower() + label[1:]


def _png_text(png: bytes | None) -> str:
    return base64.b64encode(png).decode("ascii") if png else ""


def generated_stamp() -> str:
    """The day the report is made (UTC), or ``SOURCE_DATE_EPOCH``'s day when that is set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch.isdigit() else datetime.now(UTC)
    return moment.strftime("%Y-%m-%d")


def write_report(
    run: PublishedRun | RankResult,
    path: Path,
    *,
    overwrite: bool = False,
    generated: str | None = None,
    template_dir: Path | None = None,
) -> Path:
    """Write ``result`` as one self-contained HTML report (map embedded, no external links).

    Parameters
    ----------
    run
        A ranking run (:func:`sitefinder.rank`), or what it published
        (:func:`sitefinder.published.publish`, or read back from its GeoPackage by
        :func:`sitefinder.export.read_run`).
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
    run = published(run)
    png = map_png(run, dpi=_MAP_DPI)
    text = render_report(run, png=png, generated=generated or None, template_dir=template_dir)
    return write_atomic(path, text.encode("utf-8"), overwrite=overwrite, kind="HTML report")
