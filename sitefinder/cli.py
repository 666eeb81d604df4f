"""The ``sitefinder`` command: parse, make one library call, render.

Every failure ends as ``error: ...`` lines on stderr and an exit code, in two places:
:func:`_user_errors` around each command (project exceptions: 1, or 2 for command-line
values; Ctrl-C: 130; SIGTERM or SIGHUP: 143; anything unexpected: one line naming the file
being processed, 1, with the traceback only under ``SITEFINDER_DEBUG=1``) and
:class:`_Command` around parsing (usage mistakes: 2). Results go to stdout, everything else
(progress, warnings, messages) to stderr so stdout stays clean for pipes.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from sitefinder.config import Journey, Scenario, load_scenario, with_settings
from sitefinder.disclosure import format_count
from sitefinder.discover import ROLE_LABELS
from sitefinder.errors import (
    CommandLineError,
    DataError,
    ScenarioError,
    SitefinderError,
    processed_file,
)
from sitefinder.export import check_target as check_geopackage
from sitefinder.export import write_geopackage
from sitefinder.model.select import SelectionMethod
from sitefinder.pipeline import RankResult, check_inputs, rank
from sitefinder.render import draw_map, write_report
from sitefinder.report import (
    compare_csv,
    compare_table,
    published_notes,
    published_warnings,
    ranking_table,
    run_notes,
    to_csv,
    to_json,
)
from sitefinder.resources import default_scenario_path
from sitefinder.scaffold import InitResult, describe, init_scenario
from sitefinder.scaffold import resolve_authority as _authority_of
from sitefinder.scaffold import resolve_data_folder as _folder_of
from sitefinder.scenarios import compare, sweep
from sitefinder.targets import check_target, write_text_atomic
from sitefinder.travel import travel_matrix, write_matrix
from sitefinder.version import __version__
from sitefinder.why import explain_school, why_document, why_json, why_text

MAX_SHOWN = 50
"""Problems listed one per line at most; the rest are counted in one more line."""


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C so partial files are removed."""


@contextmanager
def _termination_unwinds() -> Iterator[None]:
    # Python's default for SIGTERM ends the process at once, skipping every ``finally``;
    # raising instead lets the atomic writers remove their partial files.
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        for number in caught:
            signal.signal(number, signal.SIG_IGN)  # one clean unwind, not a second one inside
        raise Terminated(signum)

    caught = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    previous = {number: signal.signal(number, handler) for number in caught}
    try:
        yield
    finally:
        for number, action in previous.items():
            signal.signal(number, action)


def _usage_error(exc: typer.TyperException) -> None:
    context = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and context is not None:
        typer.echo(context.get_help())  # ``sitefinder`` alone: the help, as Click shows it
        return
    hint = f" (see: {context.command_path} --help)" if context is not None else ""
    message = exc.format_message().strip().replace("\n", " ")
    typer.echo(f"error: {message}{hint}", err=True)


class _Command(TyperGroup):
    """The command group, with usage mistakes reported as ``error:`` lines (exit 2)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        with _termination_unwinds():
            try:
                returned = super().main(
                    args=args,
                    prog_name=prog_name,
                    complete_var=complete_var,
                    standalone_mode=False,
                    windows_expand_args=windows_expand_args,
                    **extra,
                )
                code = returned if isinstance(returned, int) else 0
            except typer.TyperException as exc:  # Click's usage errors, vendored by Typer
                _usage_error(exc)
                code = exc.exit_code
            except typer.Abort:
                typer.echo("error: aborted", err=True)
                code = 1
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    cls=_Command,
    name="sitefinder",
    help="Rank mainstream schools as hosts for new SEND inclusion bases by the journey harm"
    " they avert.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

P = ParamSpec("P")
R = TypeVar("R")


class OutputFormat(StrEnum):
    """How ``rank`` writes its rows to stdout."""

    table = "table"
    csv = "csv"
    json = "json"


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Scenario TOML file. Default: the bundled demo authority (configs/demo.toml).",
        show_default=False,
    ),
]


def _show_problems(problems: list[str]) -> None:
    for problem in problems[:MAX_SHOWN]:
        typer.echo(f"error: {problem}", err=True)
    if len(problems) > MAX_SHOWN:
        typer.echo(
            f"error: ... and {len(problems) - MAX_SHOWN:,} more problem(s) not shown"
            " (fix these first)",
            err=True,
        )


def _first_line(exc: BaseException, limit: int = 200) -> str:
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _user_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn every failure of ``command`` into ``error:`` lines and an exit code.

    Project exceptions: one line per problem (at most :data:`MAX_SHOWN`), exit 1, or 2 for
    command-line values. Ctrl-C: 130. SIGTERM/SIGHUP: 143. Out of memory: 1, saying so.
    Anything else is a bug or an unforeseen fault: one line naming the file being processed
    and asking for a report, exit 1; ``SITEFINDER_DEBUG=1`` re-raises it to show the traceback.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        config = kwargs.get("config")
        if config is None and "network" in kwargs:  # travel reads no scenario by default
            fallback = f"the inputs of sitefinder {command.__name__.removesuffix('_command')}"
        else:
            fallback = f"the scenario {config or default_scenario_path()}"
        try:
            return command(*args, **kwargs)
        except SitefinderError as exc:
            _show_problems(exc.problems)
            raise typer.Exit(code=2 if isinstance(exc, CommandLineError) else 1) from None
        except KeyboardInterrupt:
            typer.echo("error: interrupted (Ctrl-C); unfinished outputs were removed", err=True)
            raise typer.Exit(code=130) from None
        except Terminated:
            typer.echo(
                "error: stopped by a termination signal; unfinished outputs were removed",
                err=True,
            )
            raise typer.Exit(code=143) from None
        except MemoryError as exc:
            where = processed_file(exc) or fallback
            typer.echo(
                f"error: out of memory while processing {where}; use a smaller extract (one"
                " authority's rows) or a machine with more memory",
                err=True,
            )
            raise typer.Exit(code=1) from None
        except Exception as exc:  # the last resort: nothing a user meets ends in a traceback
            if os.environ.get("SITEFINDER_DEBUG", "").strip() not in ("", "0"):
                raise
            where = processed_file(exc) or fallback
            typer.echo(
                f"error: unexpected {type(exc).__name__} while processing {where}:"
                f" {_first_line(exc)}. This is a bug in sitefinder: please report it with the"
                " command you ran (SITEFINDER_DEBUG=1 shows the details)",
                err=True,
            )
            raise typer.Exit(code=1) from None

    return wrapper


def _scenario(config: Path | None, **settings: int | None) -> Scenario:
    """The scenario file (or the demo) with the command line's settings (dotted keys) on top."""
    scenario = load_scenario(config or default_scenario_path())
    return with_settings(scenario, {key.replace("__", "."): v for key, v in settings.items()})


@contextmanager
def _progress(
    console: Console, label: str = "Evaluating candidates, "
) -> Iterator[Callable[[str, int, int], None] | None]:
    if not console.is_terminal:
        yield None
        return
    with Progress(
        TextColumn(label + "{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def update(message: str, done: int, total: int) -> None:
            bar.update(task, description=message, completed=done, total=total)

        yield update


def _report(notes: list[str], warnings: list[str]) -> None:
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sitefinder {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Rank mainstream schools as hosts for new SEND inclusion bases."""


@app.command("rank")
@_user_errors
def rank_command(
    config: ConfigOption = None,
    bases: Annotated[
        int | None,
        typer.Option(
            "--bases", "-k", min=0, max=200, help="New bases the plan adds [default: scenario]."
        ),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option(
            "--top", "-n", min=1, max=500, help="Ranked candidates to list [default: 10]."
        ),
    ] = None,
    method: Annotated[
        SelectionMethod | None,
        typer.Option(
            "--method",
            "-m",
            help="How the plan's set of new bases is chosen: greedy (build order plus"
            " interchange), optimal (exact MIP with its gap) or auto [default: scenario].",
            show_default=False,
        ),
    ] = None,
    runs: Annotated[
        int | None,
        typer.Option(
            "--runs",
            min=0,
            max=1000,
            help="Robustness runs with noisy demand and harm settings [default: scenario].",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="How to write the ranking to stdout.")
    ] = OutputFormat.table,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Also write everything to this GeoPackage (.gpkg)."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing --output file.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=256,
            help='National scenario (authority = "England"): local dask workers ranking the'
            " authorities [default: 2].",
            show_default=False,
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="National scenario: rank the authorities on an existing dask scheduler, e.g."
            " tcp://host:8786.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Rank candidate host schools and show the network before and after the new bases."""
    scenario = _scenario(config, bases=bases, top=top, robustness__runs=runs)
    if output is not None:
        check_geopackage(output, overwrite=overwrite)  # fail before the work, not after
    if scenario.national:
        _rank_national(scenario, method, output_format, output, overwrite, workers, scheduler)
        return
    if workers is not None or scheduler is not None:
        typer.echo(
            "note: --workers and --scheduler rank a national scenario's authorities in"
            " parallel; this scenario is one authority, ranked here",
            err=True,
        )
    err = Console(stderr=True)
    with _progress(err) as progress:
        result = rank(scenario, method=method, progress=progress)
    _report([*published_notes(result), *run_notes(result)], published_warnings(result))
    if output_format is OutputFormat.table:
        out = Console()
        if not out.is_terminal:  # piped to a file: do not squeeze the table into 80 columns
            out = Console(width=140)
        out.print(ranking_table(result, top=scenario.top))
    elif output_format is OutputFormat.csv:
        typer.echo(to_csv(result, top=scenario.top), nl=False)
    else:
        typer.echo(to_json(result, top=scenario.top), nl=False)
    if output is not None:
        write_geopackage(result, output, overwrite=overwrite)
        typer.echo(f"Wrote {output}", err=True)


def _rank_national(
    scenario: Scenario,
    method: SelectionMethod | None,
    output_format: OutputFormat,
    output: Path | None,
    overwrite: bool,
    workers: int | None,
    scheduler: str | None,
) -> None:
    """``rank`` of a national scenario: every authority with its own plan, on dask."""
    from sitefinder.national import outputs, rank_national

    err = Console(stderr=True)
    with _progress(err, "Ranking authorities: ") as progress:
        result = rank_national(
            scenario,
            method=method,
            workers=workers if workers is not None or scheduler is not None else 2,
            scheduler=scheduler,
            layers=output is not None,
            progress=progress,
        )
    _report(
        [*outputs.national_notes(result), *outputs.run_notes(result)],
        outputs.national_warnings(result),
    )
    if output_format is OutputFormat.table:
        out = Console()
        if not out.is_terminal:
            out = Console(width=140)
        out.print(outputs.national_table(result))
    elif output_format is OutputFormat.csv:
        typer.echo(outputs.to_national_csv(result), nl=False)
    else:
        typer.echo(outputs.to_national_json(result), nl=False)
    if output is not None:
        outputs.write_national_geopackage(result, output, overwrite=overwrite)
        typer.echo(f"Wrote {output}", err=True)


@app.command("validate")
@_user_errors
def validate_command(config: ConfigOption = None) -> None:
    """Check a scenario and every input file it names; report every problem at once."""
    scenario = _scenario(config)
    if scenario.national:
        from sitefinder.national.run import check_national

        summary = check_national(scenario)
    else:
        summary = check_inputs(scenario)
    _report(summary.notes, [*scenario.warnings, *summary.warnings])
    typer.echo(
        f"{scenario.source}: valid. {summary.schools} schools ({summary.mainstream} mainstream,"
        f" {summary.eligible} eligible to host), {summary.existing_bases} existing bases"
        f" ({summary.existing_places:.0f} places), {summary.areas} areas,"
        f" {format_count(summary.children, scenario.suppression_threshold)} children needing a"
        " base place."
    )


def _ranked(config: Path | None, bases: int | None, runs: int | None) -> RankResult:
    scenario = _scenario(config, bases=bases, robustness__runs=runs)
    with _progress(Console(stderr=True)) as progress:
        result = rank(scenario, progress=progress)
    _report([*published_notes(result), *run_notes(result)], published_warnings(result))
    return result


BasesOption = Annotated[
    int | None,
    typer.Option(
        "--bases", "-k", min=0, max=200, help="New bases the plan adds [default: scenario]."
    ),
]
RunsOption = Annotated[
    int | None,
    typer.Option(
        "--runs",
        min=0,
        max=1000,
        help="Robustness runs with noisy demand and harm settings [default: scenario].",
        show_default=False,
    ),
]
OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Replace an existing --output file.")
]


@app.command("map")
@_user_errors
def map_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="PNG file to write.")],
    config: ConfigOption = None,
    bases: BasesOption = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Draw an A4 map: journey minutes after the plan, existing and proposed bases."""
    check_target(output, overwrite=overwrite, suffix=".png", kind="PNG image")
    result = _ranked(config, bases, None)
    draw_map(result, output, overwrite=overwrite, top=result.scenario.top)
    typer.echo(f"Wrote {output}", err=True)


@app.command("report")
@_user_errors
def report_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")],
    config: ConfigOption = None,
    bases: BasesOption = None,
    runs: RunsOption = None,
    overwrite: OverwriteOption = False,
    template_dir: Annotated[
        Path | None,
        typer.Option(
            "--template-dir",
            help="Folder with your own report.html.j2 and/or report.css (restyle the report).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write one self-contained HTML report: plan, ranking, map, metrics and assumptions."""
    check_target(output, overwrite=overwrite, suffix=".html", kind="HTML report")
    result = _ranked(config, bases, runs)
    write_report(result, output, overwrite=overwrite, template_dir=template_dir)
    typer.echo(f"Wrote {output}", err=True)


class WhyFormat(StrEnum):
    """How ``why`` writes its explanation to stdout."""

    text = "text"
    json = "json"


@app.command("why")
@_user_errors
def why_command(
    urn: Annotated[
        str, typer.Argument(help="The school's URN.", metavar="URN", show_default=False)
    ],
    config: ConfigOption = None,
    bases: BasesOption = None,
    output_format: Annotated[
        WhyFormat, typer.Option("--format", "-f", help="How to write the explanation to stdout.")
    ] = WhyFormat.text,
) -> None:
    """Explain one school: each rule it passes or fails, its options, and why it is in the plan
    or what would have to change for it to enter."""
    result = _ranked(config, bases, None)
    document = why_document(result, explain_school(result, urn))
    if output_format is WhyFormat.json:
        typer.echo(why_json(document), nl=False)
        return
    out = Console()
    if not out.is_terminal:  # piped to a file: do not squeeze the tables into 80 columns
        out = Console(width=140)
    out.print(why_text(document))


@contextmanager
def _run_progress(console: Console, what: str) -> Iterator[Callable[[int, int], None] | None]:
    """:func:`_progress` for callers that count runs (``done, total``) without a message."""
    with _progress(console, what) as update:
        yield None if update is None else (lambda done, total: update("", done, total))


@app.command("compare")
@_user_errors
def compare_command(
    configs: Annotated[
        list[Path], typer.Argument(help="Two or more scenario TOML files.", show_default=False)
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the table as CSV.")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=1, max=256, help="Run the scenarios on a local dask cluster."
        ),
    ] = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Run scenarios and show their headline figures side by side, and which sites differ."""
    if len(configs) < 2:
        raise CommandLineError("compare needs at least two scenario files")
    if output is not None:
        check_target(output, overwrite=overwrite, suffix=".csv", kind="CSV file")
    with _run_progress(Console(stderr=True), "Running scenarios") as progress:
        comparison = compare(configs, workers=workers, progress=progress)
    out = Console() if Console().is_terminal else Console(width=140)
    out.print(compare_table(comparison))
    if output is not None:
        write_text_atomic(output, compare_csv(comparison), overwrite=overwrite)
        typer.echo(f"Wrote {output}", err=True)


def _split_values(text: str) -> list[str]:
    """Split ``V1,V2,...`` on commas outside brackets and quotes (``[1, 2]`` stays whole)."""
    values, depth, quote, current = [], 0, "", ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            values.append(current.strip())
            current = ""
            continue
        current += char
    values.append(current.strip())
    return values


@app.command("sweep")
@_user_errors
def sweep_command(
    settings: Annotated[
        list[str],
        typer.Option(
            "--set",
            help="KEY=V1,V2,... (dotted scenario key, e.g. harm.exponent=1,2,3); repeat for a"
            " grid.",
            show_default=False,
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV file, one row per run.")],
    config: ConfigOption = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, max=256, help="Local dask workers [default: 2]."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="An existing dask scheduler, e.g. tcp://host:8786."),
    ] = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Run a grid of scenario overrides in parallel with dask; write one tidy row per run."""
    grid: dict[str, list[str]] = {}
    problems = []
    for item in settings:
        key, sep, values = item.partition("=")
        if not sep or not key.strip() or not values.strip():
            problems.append(f"--set {item}: write KEY=V1,V2,... (e.g. harm.exponent=1,2,3)")
            continue
        grid[key.strip()] = _split_values(values)
    if problems:
        raise CommandLineError(problems)
    check_target(output, overwrite=overwrite, suffix=".csv", kind="CSV file")
    with _run_progress(Console(stderr=True), "Sweeping") as progress:
        table = sweep(
            config or default_scenario_path(),
            grid,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
        )
    write_text_atomic(output, table.to_csv(index=False, lineterminator="\n"), overwrite=overwrite)
    typer.echo(f"Wrote {output}: {len(table)} run(s).", err=True)


@app.command("travel")
@_user_errors
def travel_command(
    network: Annotated[
        Path, typer.Option("--network", help="OpenStreetMap extract (.osm.pbf or .osm).")
    ],
    origins: Annotated[
        Path,
        typer.Option("--from", help="Origins CSV: id,lon,lat (WGS84) or id,x,y (EPSG:27700)."),
    ],
    destinations: Annotated[
        Path, typer.Option("--to", help="Destinations CSV, same layout as --from.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Matrix CSV to write.")],
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Scenario whose [journey] settings to use; adds journey_minutes.",
            show_default=False,
        ),
    ] = None,
    cutoff: Annotated[
        float | None,
        typer.Option(
            "--cutoff", min=0, max=1440, help="Drives longer than this (minutes) are left empty."
        ),
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache-dir",
            help="Cache folder [default: $SITEFINDER_CACHE_DIR or the user cache folder].",
            show_default=False,
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing --output file.")
    ] = False,
    calibrate: Annotated[
        bool,
        typer.Option(
            "--calibrate",
            help="Also fit a crow-fly estimator on routed pairs and report its error (minutes).",
        ),
    ] = False,
) -> None:
    """Drive minutes from every origin to every destination over an OpenStreetMap network."""
    check_target(output, overwrite=overwrite, suffix=".csv", kind="CSV file")
    journey = load_scenario(config).journey if config else Journey()
    matrix = travel_matrix(
        network,
        origins,
        destinations,
        journey=journey,
        with_journeys=config is not None,
        cutoff_minutes=cutoff,
        cache_dir=cache_dir,
        calibrate=calibrate,
    )
    write_matrix(matrix, output, overwrite=overwrite)
    _report(matrix.notes, matrix.warnings)
    n_origins = matrix.table["origin_id"].nunique()
    n_destinations = matrix.table["destination_id"].nunique()
    typer.echo(
        f"Wrote {output}: {n_origins:,} origins x {n_destinations:,} destinations,"
        f" {matrix.unreachable:,} unreachable pair(s) left empty."
    )
    shares = ", ".join(f"{m} min {share:.1%}" for m, share in matrix.coverage.items())
    what = matrix.coverage_column.replace("_", " ")
    typer.echo(f"Origins within reach of any destination ({what}): {shares}.")


def _parsed(parse: Callable[[str], object]) -> Callable[[str], str]:
    """A Typer callback: check an option with ``parse``; a mistake exits 2 with its message."""

    def check(value: str) -> str:
        try:
            parse(value)
        except ScenarioError as exc:
            raise typer.BadParameter(exc.problems[0]) from None
        return value

    return check


def _render_init(result: InitResult) -> None:
    def shown(path: Path) -> str:
        return path.relative_to(result.folder).as_posix()

    echo = typer.echo
    echo(f"Files for {result.authority.label} in {result.folder}: {result.examined} looked at.")
    if result.chosen:
        echo("\nChosen:")
        for role, choice in result.chosen.items():
            echo(f"  {ROLE_LABELS[role]}: {shown(choice.candidate.path)}")
            echo(f"    {describe(choice, result.authority, facts=False)}")
    if result.passed:
        echo("\nNot used:")
        for passed in sorted(result.passed, key=lambda p: str(p.path)):
            echo(f"  {shown(passed.path)} ({ROLE_LABELS[passed.role]}): {passed.reason}")
    if result.unplaced:
        echo("\nNot recognised (ignored):")
        for unplaced in sorted(result.unplaced, key=lambda p: str(p.path)):
            echo(f"  {shown(unplaced.path)}: {unplaced.reason}")
    optional = [m for m in result.missing if not m.required]
    if optional:
        echo("\nNot found:")
        for item in optional:
            echo(f"  {ROLE_LABELS[item.role]}: {item.effect}.")
            echo(f"    Public source: {item.source}.")
    if result.written is None:
        echo("\nNo scenario written: the inputs named below are needed.")
        return
    echo(f"\nWrote {result.written}.")
    if result.summary is not None:
        summary = result.summary
        threshold = result.suppression_threshold
        _report(summary.notes, summary.warnings)
        echo(
            f"{result.written}: valid. {summary.schools} schools ({summary.mainstream}"
            f" mainstream, {summary.eligible} eligible to host), {summary.existing_bases}"
            f" existing bases ({summary.existing_places:.0f} places), {summary.areas} areas,"
            f" {format_count(summary.children, threshold)} children needing a base place."
        )
    else:
        echo(f"{result.written}: does not validate; fix the problems below and run"
             f" sitefinder validate --config {result.written}")  # fmt: skip


@app.command("init")
@_user_errors
def init_command(
    authority: Annotated[
        str,
        typer.Option(
            "--authority",
            "-a",
            help="The local authority: its name, GSS code or DfE LA code (Trafford, E08000009,"
            " 358).",
            callback=_parsed(_authority_of),
            show_default=False,
        ),
    ],
    data: Annotated[
        str,
        typer.Option(
            "--data",
            "-d",
            help="Folder of public files to search (quote '${VAR}' to write paths under the"
            " variable).",
            callback=_parsed(_folder_of),
            show_default=False,
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Scenario TOML file to write.")],
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing --output file.")
    ] = False,
) -> None:
    """Write a commented scenario for an authority from the public files found in a folder."""
    result = init_scenario(authority=authority, data=data, output=output, overwrite=overwrite)
    _render_init(result)
    if result.errors:
        raise DataError(result.errors)


def main() -> None:
    """Entry point of the ``sitefinder`` console script."""
    app(prog_name="sitefinder")
