"""Write a ranking run as ONE self-contained HTML report, fit to attach to a council paper.

The file needs nothing else: styles are inline in a ``<style>`` block, the map is embedded as a
base64 ``data:`` PNG, and there are no scripts, fonts or links to other resources. It holds a
plain-English summary, the map, the plan and how it was chosen, the ranking, the network before
and after, the strongest candidates left out, robustness (when run), every scenario assumption
with its value and where it came from, input checksums, the sitefinder version and the
attribution. Counts of children pass through :mod:`sitefinder.disclosure`; all text is escaped.
Apart from the ``Generated`` line, the same inputs give the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import math
import tomllib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from sitefinder import __version__
from sitefinder.config import Scenario
from sitefinder.disclosure import format_count
from sitefinder.pipeline import RankResult
from sitefinder.render.staticmap import ATTRIBUTION, map_png
from sitefinder.targets import check_target, write_atomic

DEFAULT = "default"
OVERRIDE = "set when run (command line or program)"
_MAP_DPI = 150
_STYLE = """
body { font-family: "Segoe UI", Arial, Helvetica, sans-serif; font-size: 10.5pt;
       color: #1a1a1a; margin: 1.5em auto; max-width: 60em; padding: 0 1em; line-height: 1.4; }
h1 { font-size: 1.7em; margin-bottom: 0.1em; }
h2 { font-size: 1.25em; border-bottom: 2px solid #6a1b9a; padding-bottom: 0.15em;
     margin-top: 1.6em; }
p.subtitle { color: #444; margin-top: 0; }
p.generated, p.small, td.small, figcaption { color: #555; font-size: 0.88em; }
table { border-collapse: collapse; width: 100%; margin: 0.6em 0 1em; font-size: 0.92em; }
th, td { border: 1px solid #c8c8c8; padding: 0.25em 0.45em; vertical-align: top;
         text-align: left; }
th { background: #efe8f4; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.key, td.mono { font-family: Consolas, "DejaVu Sans Mono", monospace; font-size: 0.9em;
                  word-break: break-all; }
tr.section td { background: #f5f5f5; font-weight: bold; }
tr.plan td { background: #f7f1fb; }
ul.summary li { margin-bottom: 0.25em; }
figure { margin: 1em 0; }
figure img { width: 100%; height: auto; border: 1px solid #c8c8c8; }
footer { margin-top: 2em; border-top: 1px solid #c8c8c8; padding-top: 0.5em; color: #555;
         font-size: 0.85em; }
@media print { body { max-width: none; margin: 0; } h2 { break-after: avoid; }
               tr { break-inside: avoid; } }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _number(value: float, digits: int, *, empty: str = "") -> str:
    return empty if value is None or math.isnan(float(value)) else f"{float(value):.{digits}f}"


def _count(value: float, threshold: int) -> str:
    return format_count(float(value), threshold)


def _table(
    headings: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Sequence[int] = (),
    raw: bool = False,
    row_classes: Sequence[str] | None = None,
) -> str:
    """An HTML table; cells are escaped unless ``raw`` (already-escaped HTML)."""
    head = "".join(
        f'<th class="num">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>"
        for i, h in enumerate(headings)
    )
    body = []
    for index, row in enumerate(rows):
        cells = "".join(
            f'<td class="num">{c if raw else _e(c)}</td>'
            if i in numeric
            else f"<td>{c if raw else _e(c)}</td>"
            for i, c in enumerate(row)
        )
        css = row_classes[index] if row_classes else ""
        body.append(f'<tr class="{css}">{cells}</tr>' if css else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# ---------------------------------------------------------------------------------------------
# Scenario assumptions and where each value came from


def _leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a dumped model as (dotted key path, value); empty tables are leaves."""
    if isinstance(value, dict) and value:
        for key in value:
            yield from _leaves(value[key], f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _lookup(table: dict[str, Any], key: str) -> tuple[str, Any] | None:
    """Find ``key`` (a dotted path) in a parsed TOML table.

    Returns ``("exact", value)`` when the key is written in the file, ``("shorthand", value)``
    when a prefix of it is written as a plain value (``schools = "x.csv"`` for
    ``inputs.schools.path``), else None.
    """
    node: Any = table
    parts = key.split(".")
    for depth, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
        if depth < len(parts) - 1 and not isinstance(node, dict):
            return ("shorthand", node) if parts[-1] == "path" else None
    return ("exact", node)


def _normal(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value


def _defaults(scenario: Scenario) -> dict[str, Any] | None:
    """The dumped scenario with every key at its default (the inputs kept)."""
    try:
        built = Scenario.model_validate({"inputs": scenario.inputs.model_dump()})
    except ValidationError:
        return None
    return dict(_leaves(built.model_dump(exclude={"source", "source_sha256"})))


def _file_table(scenario: Scenario) -> tuple[dict[str, Any] | None, str]:
    """The scenario file as parsed TOML (None if unavailable or changed) and a note on it."""
    source = scenario.source
    if source is None:
        return None, "The scenario was built in a program, not read from a file."
    try:
        raw = Path(source).read_bytes()
    except OSError as exc:
        return None, f"The scenario file {source} could not be read again ({exc.strerror})."
    if scenario.source_sha256 and hashlib.sha256(raw).hexdigest() != scenario.source_sha256:
        return None, f"The scenario file {source} has changed since this run."
    try:
        return tomllib.loads(raw.decode("utf-8")), ""
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None, f"The scenario file {source} could not be parsed again."


def assumptions(scenario: Scenario) -> tuple[list[tuple[str, str, str]], str]:
    """Every scenario setting as (key path, value, source), and a note on how sources were found.

    The source is the scenario file's path for values written in it, ``default`` for values
    the file leaves out, and ``set when run`` for values changed afterwards (e.g. by a
    command-line flag). File paths are shown resolved.

    Parameters
    ----------
    scenario
        The scenario of the run.

    Returns
    -------
    tuple
        The rows, in the scenario's key order, and a note (empty when nothing to say).
    """
    current = scenario.model_dump(exclude={"source", "source_sha256"})
    defaults = _defaults(scenario)
    table, note = _file_table(scenario)
    rows = []
    for key, value in _leaves(current):
        default = defaults.get(key, _MISSING) if defaults is not None else _MISSING
        found = _lookup(table, key) if table is not None else None
        if found is not None:
            in_file = (
                found[0] == "shorthand"
                or isinstance(value, Path)
                or key.startswith("inputs.")
                or _normal(found[1]) == _normal(value)
            )
            source = str(scenario.source) if in_file else OVERRIDE
        elif default is _MISSING:
            source = DEFAULT if table is not None else "scenario"
        else:
            source = DEFAULT if _normal(default) == _normal(value) else OVERRIDE
        rows.append((key, _show(value), source))
    return rows, note


_MISSING = object()


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


# ---------------------------------------------------------------------------------------------
# Sections


def _method_text(result: RankResult) -> str:
    plan = result.plan
    method = (
        "an exact mixed-integer programme (HiGHS)"
        if plan.method == "optimal"
        else "greedy selection improved by interchange"
    )
    if plan.proven:
        how = "proven optimal (optimality gap 0%)"
    elif math.isnan(plan.gap):
        how = "a heuristic with no optimality bound"
    else:
        how = f"optimality gap {plan.gap:.2%} when the time limit was reached"
    return f"Chosen together by {method}: {how}, in {plan.seconds:.1f} s."


def _summary(result: RankResult) -> str:
    scenario, plan = result.scenario, result.plan
    t = scenario.suppression_threshold
    before, after = result.before, result.after
    n = len(plan.chosen)
    items = [
        f"The plan adds <strong>{n} new inclusion base{'s' if n != 1 else ''}</strong> of"
        f" {scenario.base_size} places each."
        + (
            f" {scenario.new_bases} were asked for; the others would avert no harm."
            if n < scenario.new_bases
            else ""
        ),
        f"Total harm falls from <strong>{before.total_harm:.1f}</strong> to"
        f" <strong>{after.total_harm:.1f}</strong> harm points"
        + (
            f" ({(before.total_harm - after.total_harm) / before.total_harm:.0%} less)."
            if before.total_harm > 0
            else "."
        )
        + " One harm point is one journey at the guidance limit; a child without a place"
        f" counts {scenario.harm.unmet:g}.",
        f"Children placed within the guidance journey limit: <strong>"
        f"{_e(_count(before.within_limit, t))}</strong> before, <strong>"
        f"{_e(_count(after.within_limit, t))}</strong> after, of"
        f" {_e(_count(before.children, t))} children needing a place.",
        f"Unmet need (children with no suitable place): <strong>{_e(_count(before.unmet, t))}"
        f"</strong> before, <strong>{_e(_count(after.unmet, t))}</strong> after.",
        f"Mean journey of children placed: {_number(before.mean_minutes, 1, empty='n/a')}"
        f" minutes before, {_number(after.mean_minutes, 1, empty='n/a')} after (more children"
        " placed can mean a longer average).",
    ]
    lis = "".join(f"<li>{item}</li>" for item in items)
    return (
        f'<ul class="summary">{lis}</ul><p class="small">Counts of fewer than {t} children'
        f" are shown as &lt;{t} to protect individuals.</p>"
    )


def _minutes(before: float, after: float) -> str:
    shown_before = _number(before, 1, empty="none")
    return f"{shown_before} → {_number(after, 1)}"


def _group_label(result: RankResult, key: object) -> str:
    group = result.scenario.need_groups.get(str(key))
    return group.label if group is not None else str(key)


def _plan_section(result: RankResult) -> str:
    plan = result.plan
    t = result.scenario.suppression_threshold
    parts = [f"<p>{_e(_method_text(result))}</p>"]
    if plan.chosen.empty:
        parts.append("<p>No new base would avert any harm.</p>")
        return "".join(parts)
    headings = [
        "Choice",
        "School (URN)",
        "Phase",
        "Need group",
        "Places",
        "Children served",
        "Harm averted",
        "Minutes before → after",
        "Areas served (children)",
        "Greedy rank",
    ]
    numeric = [0, 4, 5, 6, 7, 9]
    if plan.runs:
        headings.append("Robustness")
        numeric.append(10)
    rows = []
    for row in plan.chosen.to_dict("records"):
        cells = [
            str(int(row["choice"])),
            f"{row['name']} ({row['urn']})",
            str(row["phase"]),
            _group_label(result, row["need_group"]),
            str(int(row["places"])),
            _count(row["children_served"], t),
            _number(row["harm_averted"], 2),
            _minutes(row["minutes_before"], row["minutes_after"]),
            str(row.get("areas_served", "")),
            "-" if pd.isna(row.get("greedy_rank")) else str(int(row["greedy_rank"])),
        ]
        if plan.runs:
            cells.append(_share(row.get("robustness")))
        rows.append(cells)
    parts.append(_table(headings, rows, numeric=numeric))
    notes = [
        "Harm averted: what the plan would lose without that base (harm points). Minutes: the"
        " mean journey in the areas and groups the base serves, before and after it opens"
        " (none: those children had no place before)."
    ]
    if not math.isnan(plan.greedy_objective):
        difference = plan.greedy_objective - plan.objective
        notes.append(
            f"Total harm with the plan {plan.objective:.2f} harm points against"
            f" {plan.greedy_objective:.2f} for the greedy order's first"
            f" {result.scenario.bases}"
            + (f": {difference:.2f} less." if difference > 1e-6 else ": the same.")
        )
    parts.extend(f'<p class="small">{_e(n)}</p>' for n in notes)
    return "".join(parts)


def _share(value: float | None) -> str:
    if value is None or math.isnan(float(value)):
        return ""
    return f"{float(value):.0%}"


def _ranking_section(result: RankResult) -> str:
    t = result.scenario.suppression_threshold
    top = result.scenario.top
    ranking = result.ranking.head(top)
    if ranking.empty:
        return (
            "<p>No new base would avert any harm: today's bases already place every child the"
            " candidates could reach.</p>"
        )
    headings = [
        "Rank",
        "School (URN)",
        "Phase",
        "Need group",
        "Harm averted (in order)",
        "Harm averted (alone)",
        "Children served",
        "Newly placed",
        "Brought within limit",
        "Minutes before → after",
        "In plan",
        "Notes",
    ]
    numeric = [0, 4, 5, 6, 7, 8, 9]
    if result.plan.runs:
        headings.insert(11, "Robustness")
        numeric.append(11)
    rows, classes = [], []
    for row in ranking.to_dict("records"):
        cells = [
            str(int(row["rank"])),
            f"{row['name']} ({row['urn']})",
            str(row["phase"]),
            str(row["need_group_label"]),
            _number(row["harm_averted"], 2),
            _number(row["harm_averted_standalone"], 2),
            _count(row["children_served"], t),
            _count(row["newly_placed"], t),
            _count(row["within_limit_gain"], t),
            _minutes(row["minutes_before"], row["minutes_after"]),
            "yes" if bool(row["in_plan"]) else "",
            str(row["notes"] or ""),
        ]
        if result.plan.runs:
            cells.insert(11, _share(row["robustness"]))
        rows.append(cells)
        classes.append("plan" if bool(row["in_plan"]) else "")
    note = (
        f"The first {len(ranking)} candidates in greedy build order: the best new base first,"
        " then the best given that one, and so on. Harm averted (in order) is the marginal"
        " value given the bases above; (alone) is the value added to today's network alone."
        " Shaded rows are in the plan."
    )
    return _table(headings, rows, numeric=numeric, row_classes=classes) + (
        f'<p class="small">{_e(note)}</p>'
    )


_METRICS = [
    ("Total harm (harm points)", "total_harm", "harm"),
    ("Children needing a place", "children", "count"),
    ("Children placed", "placed", "count"),
    ("Placed within the guidance limit", "within_limit", "count"),
    ("Unmet need (children)", "unmet", "count"),
    ("Mean journey (minutes)", "mean_minutes", "minutes"),
    ("95th percentile journey (minutes)", "p95_minutes", "minutes"),
]


def _metrics_section(result: RankResult) -> str:
    t = result.scenario.suppression_threshold

    def show(value: float, kind: str) -> str:
        if kind == "count":
            return _count(value, t)
        return _number(value, 2 if kind == "harm" else 1)

    rows = []
    for label, attribute, kind in _METRICS:
        before = float(getattr(result.before, attribute))
        after = float(getattr(result.after, attribute))
        change = show(after - before, kind)
        sign = "+" if after - before > 0 and change and not change.startswith("<") else ""
        rows.append([label, show(before, kind), show(after, kind), sign + change])
    return _table(["Metric", "Before", "After", "Change"], rows, numeric=[1, 2, 3])


def _left_out_section(result: RankResult) -> str:
    left = result.plan.left_out
    if left.empty:
        return "<p>No other candidate would avert harm.</p>"
    rows = [
        [
            f"{row['name']} ({row['urn']})",
            str(row["phase"]),
            _group_label(result, row["need_group"]),
            _number(row["harm_averted_standalone"], 2),
            str(row["reason"]),
        ]
        for row in left.to_dict("records")
    ]
    return _table(
        ["School (URN)", "Phase", "Need group", "Harm averted (alone)", "Why not chosen"],
        rows,
        numeric=[3],
    )


def _robustness_section(result: RankResult) -> str:
    plan, settings = result.plan, result.scenario.robustness
    ranges = [
        f"harm.{key} drawn from [{_show(getattr(settings, key)[0])},"
        f" {_show(getattr(settings, key)[1])}]"
        for key in ("exponent", "free_minutes", "unmet")
        if getattr(settings, key) is not None
    ]
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
    table = (
        _table(["School (URN)", "Share of runs chosen", "In the plan"], rows, numeric=[1])
        if rows
        else ""
    )
    return f"<p>{_e(text)}</p>{table}"


def _assumptions_section(result: RankResult) -> str:
    rows, note = assumptions(result.scenario)
    body = []
    section = None
    for key, value, source in rows:
        top = key.split(".", 1)[0] if "." in key else "general"
        if top != section:
            section = top
            body.append(f'<tr class="section"><td colspan="3">{_e(section)}</td></tr>')
        body.append(
            f'<tr><td class="key">{_e(key)}</td><td class="mono">{_e(value)}</td>'
            f'<td class="small">{_e(source)}</td></tr>'
        )
    intro = (
        "Every setting of the scenario, as used in this run. Source: the scenario file for"
        " values written in it; default for values it leaves out; set when run for values"
        " changed afterwards (for example by a command-line flag)."
    )
    extra = f'<p class="small">{_e(note)}</p>' if note else ""
    return (
        f"<p>{_e(intro)}</p>{extra}<table><thead><tr><th>Key</th><th>Value</th><th>Source</th>"
        f"</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _provenance_section(result: RankResult) -> str:
    scenario = result.scenario
    files = scenario.inputs.files()
    rows = [
        ["sitefinder version", __version__],
        ["Scenario file", str(scenario.source or "none (built in a program)")],
        ["Scenario SHA-256", scenario.source_sha256 or ""],
        ["Journey minutes", result.travel.method],
        [
            "Suppression threshold",
            f"counts of children above 0 and below {scenario.suppression_threshold} are shown"
            f" as <{scenario.suppression_threshold}"
            if scenario.suppression_threshold > 0
            else "none",
        ],
    ]
    checksums = [
        [name, str(files.get(name, "")), digest] for name, digest in result.data.checksums.items()
    ]
    parts = [_table(["Item", "Value"], rows)]
    if checksums:
        parts.append("<h3>Input files (SHA-256)</h3>")
        parts.append(_table(["Input", "File", "SHA-256"], checksums))
    if result.warnings:
        parts.append("<h3>Warnings</h3><ul>")
        parts.extend(f"<li>{_e(w)}</li>" for w in result.warnings)
        parts.append("</ul>")
    return "".join(parts)


def render_report(result: RankResult, *, png: bytes, generated: str | None) -> str:
    """Build the report's HTML text around an already-rendered map.

    Parameters
    ----------
    result
        A ranking run.
    png
        The map as PNG bytes (see :func:`sitefinder.render.staticmap.map_png`).
    generated
        The text of the ``Generated`` line, or None to leave the line out.

    Returns
    -------
    str
        The complete HTML document.
    """
    scenario = result.scenario
    name = _e(scenario.name)
    image = base64.b64encode(png).decode("ascii")
    n = len(result.plan.chosen)
    sections = [
        ("summary", "Summary", _summary(result)),
        (
            "map",
            "Map",
            f'<figure><img alt="Map of {name}: areas shaded by mean journey after the plan,'
            f' existing and new bases and the top candidates" src="data:image/png;base64,'
            f'{image}"><figcaption>Areas shaded by the mean one-way journey after the plan;'
            " hatched areas still have children without a place. New bases are numbered by"
            " choice, candidates by rank.</figcaption></figure>",
        ),
        (
            "plan",
            f"The plan: {n} new base{'s' if n != 1 else ''} chosen together",
            _plan_section(result),
        ),
        ("ranking", "Ranking of candidate host schools", _ranking_section(result)),
        ("network", "The network before and after the plan", _metrics_section(result)),
        ("left-out", "Strongest candidates left out", _left_out_section(result)),
    ]
    if result.plan.runs:
        sections.append(("robustness", "Robustness", _robustness_section(result)))
    sections += [
        ("assumptions", "Assumptions", _assumptions_section(result)),
        ("provenance", "Inputs and provenance", _provenance_section(result)),
    ]
    body = "".join(
        f'<section id="{key}"><h2>{_e(title)}</h2>{content}</section>'
        for key, title, content in sections
    )
    when = f'<p class="generated">Generated {_e(generated)}</p>' if generated else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{name}: sites for new inclusion bases</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n"
        f'<header><h1>{name}</h1>\n<p class="subtitle">Candidate host schools for new SEND'
        f" inclusion bases ({scenario.base_size} places each), ranked by the journey harm they"
        f" avert. sitefinder {_e(__version__)}.</p>\n{when}</header>\n"
        f"{body}\n"
        f"<footer><p>{_e(ATTRIBUTION)} Made with sitefinder {_e(__version__)}.</p></footer>\n"
        "</body>\n</html>\n"
    )


def write_report(
    result: RankResult, path: Path, *, overwrite: bool = False, generated: str | None = None
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
        Text of the ``Generated`` line; None (the default) uses the current UTC time and an
        empty string leaves the line out, making the file depend on its inputs alone.

    Returns
    -------
    Path
        The file written. It appears only when complete.

    Raises
    ------
    OutputError
        If the name does not end in ``.html``, the file exists and ``overwrite`` is false, the
        folder does not exist, or the file cannot be written.
    """
    path = check_target(path, overwrite=overwrite, suffix=".html", kind="HTML report")
    if generated is None:
        generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    png = map_png(result, dpi=_MAP_DPI, top=result.scenario.top)
    text = render_report(result, png=png, generated=generated or None)
    return write_atomic(path, text.encode("utf-8"), overwrite=overwrite, kind="HTML report")
