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
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from typer.core import TyperGroup

from sitefinder.errors import (
    WRITE_FAILURES,
    CommandLineError,
    DataError,
    ScenarioError,
    SitefinderError,
    processed_file,
)
from sitefinder.model.methods import SelectionMethod
from sitefinder.resources import default_scenario_path

if TYPE_CHECKING:
    from typer._click.core import Context as ClickContext  # Typer's own copy of Click

    from sitefinder.config import Scenario
    from sitefinder.national import NationalResult, Task, Workers
    from sitefinder.published import PublishedRun
    from sitefinder.scaffold import InitResult

# Only what parsing and --help need is imported here: each command imports the library parts
# it uses (pandas, geopandas, HiGHS, matplotlib, dask, scikit-learn take seconds to load), so
# ``sitefinder --help``, ``--version`` and usage errors answer at once.

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
        # ``sitefinder`` alone: the help, once. Click builds the error from ``get_help()``,
        # which Typer's rich help prints as it goes (returning ""); plain help is its message.
        text = exc.format_message()
        if text.strip():
            typer.echo(text)
        return
    hint = f" (see: {context.command_path} --help)" if context is not None else ""
    message = exc.format_message().strip().replace("\n", " ")
    typer.echo(f"error: {message}{hint}", err=True)


@contextmanager
def _ctrl_c_outside_a_command() -> Iterator[None]:
    # A command's own Ctrl-C is said by _user_errors; one while Click parses the command line
    # would otherwise end silently (Typer turns it into exit 130 without a word).
    try:
        yield
    except KeyboardInterrupt:
        typer.echo("error: interrupted (Ctrl-C); nothing was done", err=True)
        raise typer.Exit(code=130) from None


class _Command(TyperGroup):
    """The command group, with usage mistakes reported as ``error:`` lines (exit 2)."""

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        with _ctrl_c_outside_a_command():
            return super().parse_args(ctx, args)

    def invoke(self, ctx: ClickContext) -> Any:
        with _ctrl_c_outside_a_command():  # the command's own parsing
            return super().invoke(ctx)

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
            except typer.Abort as exc:  # Click's: the input ended while it read it
                ended = isinstance(exc.__cause__, EOFError)
                why = ": the input ended" if ended else ""
                typer.echo(f"error: aborted{why}; nothing was done", err=True)
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
        configs = kwargs.get("configs")
        if isinstance(configs, list) and configs:  # compare: the files it was given
            fallback = "the scenarios " + ", ".join(str(path) for path in configs)
        elif config is None and "network" in kwargs:  # travel reads no scenario by default
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
        except OSError as exc:
            if exc.errno not in WRITE_FAILURES or processed_file(exc) is not None:
                _unexpected(exc, processed_file(exc) or fallback)
            if exc.filename:  # an output file: its path too long, its disk full
                shown = str(exc.filename)
                shown = shown if len(shown) <= 120 else shown[:57] + "..." + shown[-60:]
                typer.echo(
                    f"error: {shown}: cannot be written ({exc.strerror or exc}): choose a"
                    " shorter path, or a folder on a disk with room",
                    err=True,
                )
                raise typer.Exit(code=1) from None
            # Standard output full or gone (a full disk, a closed pipe): say so once.
            sys.stdout = Path(os.devnull).open("w", encoding="utf-8")  # noqa: SIM115
            typer.echo(
                f"error: the output could not be written ({exc.strerror or exc}): check the disk"
                " or pipe it goes to, or write it to a file with --output",
                err=True,
            )
            raise typer.Exit(code=1) from None
        except Exception as exc:  # noqa: BLE001 - the last resort: _unexpected says it or re-raises
            _unexpected(exc, processed_file(exc) or fallback)
        raise AssertionError("unreachable")  # every branch above returns or raises

    return wrapper


def _unexpected(exc: Exception, where: str) -> NoReturn:
    """One line for a failure nothing foresaw, naming the file being processed; exit 1
    (``SITEFINDER_DEBUG=1`` re-raises it to show the traceback)."""
    if os.environ.get("SITEFINDER_DEBUG", "").strip() not in ("", "0"):
        raise exc
    typer.echo(
        f"error: unexpected {type(exc).__name__} while processing {where}:"
        f" {_first_line(exc)}. This is a bug in sitefinder: please report it with the"
        " command you ran (SITEFINDER_DEBUG=1 shows the details)",
        err=True,
    )
    raise typer.Exit(code=1) from None


def _scenario(config: Path | None, **settings: int | None) -> Scenario:
    """The scenario file (or the demo) with the command line's settings (dotted keys) on top."""
    from sitefinder.config import load_scenario, with_settings

    scenario = load_scenario(config or default_scenario_path())
    return with_settings(scenario, {key.replace("__", "."): v for key, v in settings.items()})


@contextmanager
def _progress(
    console: Console, label: str = ""
) -> Iterator[Callable[[str, int, int], None] | None]:
    if not console.is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn(label + "{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)
        shown = [""]

        def update(message: str, done: int, total: int) -> None:
            bar.update(task, description=message, completed=done, total=total)
            if message != shown[0]:  # a new stage is drawn at once, however quickly it ends
                shown[0] = message
                bar.refresh()

        yield update


def _stdout() -> Console:
    """The console tables are printed to: text is never read as rich markup (a name like
    "Trafford [draft]" stays whole), and a pipe gets 160 columns, not a table squeezed to 80."""
    out = Console(markup=False)
    return out if out.is_terminal else Console(markup=False, width=160)


def _report(notes: list[str], warnings: list[str]) -> None:
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


def _version(value: bool) -> None:
    if value:
        from sitefinder.version import __version__

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


BasesOption = Annotated[
    int | None,
    typer.Option(
        "--bases", "-k", min=0, max=200, help="New bases the plan adds (default: scenario)."
    ),
]
RunsOption = Annotated[
    int | None,
    typer.Option(
        "--runs",
        min=0,
        max=1000,
        help="Robustness runs: the plan chosen again N times, each run drawing the assumptions"
        " that decide it from the scenario's robustness ranges (default: scenario).",
        show_default=False,
    ),
]
OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Replace an existing --output file.")
]
TemplateOption = Annotated[
    Path | None,
    typer.Option(
        "--template-dir",
        help="Folder with your own report.html.j2 and/or report.css (restyle the report).",
        show_default=False,
    ),
]
FromOption = Annotated[
    Path | None,
    typer.Option(
        "--from",
        help="Draw a saved run: the GeoPackage written by sitefinder rank --output FILE.gpkg"
        " (nothing is recomputed; GeoPackage only).",
        show_default=False,
    ),
]


def _targets(outputs: list[tuple[Path | None, str, str]], *, overwrite: bool) -> list[Path | None]:
    """Check every output (path, suffix, kind) before any work: name, folder, permission."""
    from sitefinder.targets import check_target

    return [
        None if path is None else check_target(path, overwrite=overwrite, suffix=suffix, kind=kind)
        for path, suffix, kind in outputs
    ]


def _map_target(path: Path | None, *, overwrite: bool) -> Path | None:
    """Check the map's file before any work: its extension chooses PNG, SVG or PDF."""
    if path is None:
        return None
    from sitefinder.render.staticmap import check_map_target

    return check_map_target(path, overwrite=overwrite)


def _saved_run(path: Path, **given: object) -> PublishedRun:
    """The run saved in ``path``, refusing the options it fixed when it was made."""
    from sitefinder.export import read_run

    clashing = [f"--{name}" for name, value in given.items() if value is not None]
    if clashing:
        raise CommandLineError(
            f"--from draws the saved run {path} as it was made: leave out"
            f" {', '.join(clashing)} (rank the scenario again to change them)"
        )
    return read_run(path)


# The ranges --runs draws from, named in `rank --help` (tests/test_stability.py checks every
# robustness key is here and in docs/scenario.md). Rich markup: a bracket is written \\[.
RANGES_EPILOG = (
    "How sure the plan is (--runs N): each run draws every assumption that decides the plan"
    " from its range in the scenario's \\[robustness] section, low to high:"
    " robustness.exponent, robustness.free_minutes, robustness.unmet (harm.*);"
    " robustness.mismatch, robustness.out_of_authority_minutes (fallback.*, each end a number or"
    " one per phase); robustness.speed_kmh, robustness.circuity (crow-fly journeys),"
    " robustness.ride_factor (journey.*); robustness.existing_places (today's unrecorded base"
    " places); robustness.growth (demand's yearly growth); robustness.share (the shares of EHC"
    " plans needing a base place, a list); and robustness.demand_noise on every area's demand."
    " Set a range to false to switch it off (demand_noise = 0 for the noise), or \\[v, v] to hold"
    " it at v. Also robustness.runs, robustness.seed, robustness.workers (--workers) and"
    " robustness.time_limit_seconds. Every key with its unit and default: docs/scenario.md."
)


@app.command("rank", epilog=RANGES_EPILOG)
@_user_errors
def rank_command(
    config: ConfigOption = None,
    bases: BasesOption = None,
    top: Annotated[
        int | None,
        typer.Option(
            "--top", "-n", min=1, max=500, help="Ranked candidates to list (default: 10)."
        ),
    ] = None,
    method: Annotated[
        SelectionMethod | None,
        typer.Option(
            "--method",
            "-m",
            help="How the plan's set of new bases is chosen: greedy (build order plus"
            " interchange), optimal (exact MIP with its gap) or auto (default: scenario).",
            show_default=False,
        ),
    ] = None,
    runs: RunsOption = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="How to write the ranking to stdout.")
    ] = OutputFormat.table,
    table: Annotated[
        str | None,
        typer.Option(
            "--table",
            "-t",
            help="With --format csv: the published table to write instead of the ranking, e.g."
            " sufficiency, programme, programme_years, costs, stability, sensitivity, pathway,"
            " plan_chosen, fallback (any table or layer of the --output GeoPackage; a layer's"
            " rows without their geometry).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Also write the layers to this file, in the format its extension names: .gpkg"
            " (every layer and table, styled, with a QGIS project NAME.qgs beside it),"
            " .geojson, .fgb or .parquet (one file per layer beside it: NAME.LAYER.EXT, e.g."
            " plan.demand.geojson).",
            show_default=False,
        ),
    ] = None,
    crs: Annotated[
        str | None,
        typer.Option(
            "--crs",
            help="Reproject the --output layers to this EPSG code, e.g. 4326 for web maps"
            " (default: 27700, British National Grid).",
            show_default=False,
        ),
    ] = None,
    map_file: Annotated[
        Path | None,
        typer.Option(
            "--map",
            help="Also draw the A4 map to this file: .png, .svg or .pdf (by extension); a"
            " national scenario: each authority's gap and the national allocation.",
            show_default=False,
        ),
    ] = None,
    report_file: Annotated[
        Path | None,
        typer.Option(
            "--report", help="Also write the HTML report to this file.", show_default=False
        ),
    ] = None,
    template_dir: TemplateOption = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace existing --output, --map, --report files.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=256,
            help='National scenario (authority = "England"): local dask workers ranking the'
            " authorities (default: 2). One authority: local processes sharing the robustness"
            " runs (default: robustness.workers, 1).",
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
    """Rank candidate host schools and show the network before and after the new bases.

    One computation gives every output asked for: the table (or CSV, JSON) on stdout and any
    of the GeoPackage, the map and the HTML report, which therefore agree.
    """
    if template_dir is not None and report_file is None:
        raise CommandLineError("--template-dir restyles the report: give --report FILE.html too")
    if crs is not None and output is None:
        raise CommandLineError("--crs reprojects the --output layers: give --output FILE too")
    if table is not None:
        from sitefinder.report import check_csv_table

        if output_format is not OutputFormat.csv:
            raise CommandLineError("--table chooses the CSV's table: give --format csv too")
        check_csv_table(table)
    scenario = _scenario(config, bases=bases, top=top, robustness__runs=runs)
    # Every target is checked before the work, not after.
    png = _map_target(map_file, overwrite=overwrite)
    (html,) = _targets([(report_file, ".html", "HTML report")], overwrite=overwrite)
    gpkg = _layers_target(output, crs, overwrite=overwrite, national=scenario.is_national)
    if scenario.is_national:
        if html is not None:
            raise CommandLineError(
                "--report draws one authority: a national scenario writes --output (one"
                " GeoPackage for every authority), --map (England's gap and allocation) and the"
                " table, CSV or JSON"
            )
        from sitefinder.national import Task, Workers
        from sitefinder.national.outputs import write_national_geopackage

        national = _rank_national(
            scenario,
            task=Task(method=method, layers=gpkg is not None),
            workers=Workers(
                processes=2 if workers is None and scheduler is None else workers,
                scheduler=scheduler,
            ),
        )
        _print_national(national, output_format)
        if gpkg is not None:
            write_national_geopackage(national, gpkg, overwrite=overwrite)
            typer.echo(f"Wrote {gpkg}", err=True)
        if png is not None:
            from sitefinder.national.outputs import allocation_frame, gap_by_authority
            from sitefinder.render.national import draw_national_map

            draw_national_map(
                gap_by_authority(national),
                allocation_frame(national),
                png,
                title=scenario.name,
                overwrite=overwrite,
            )
            typer.echo(f"Wrote {png}", err=True)
        return
    if scheduler is not None:
        typer.echo(
            "note: --scheduler ranks a national scenario's authorities in parallel; this"
            " scenario is one authority, ranked here (--workers N shares its robustness runs"
            " between N local processes)",
            err=True,
        )
    if workers is not None:
        from sitefinder.config import with_settings

        scenario = with_settings(scenario, {"robustness.workers": workers})
    from sitefinder.pipeline import rank
    from sitefinder.published import publish
    from sitefinder.report import ranking_table, run_notes, to_csv, to_json

    err = Console(stderr=True)
    drawn = gpkg is not None or png is not None or html is not None
    with _progress(err) as progress:
        # Boundaries drawn in an output are read and checked with every other input.
        result = rank(scenario, method=method, progress=progress, boundaries=drawn)
    run = publish(result)
    _report([*run.notes, *run_notes(result)], run.warnings)
    if output_format is OutputFormat.table:
        out = _stdout()
        out.print(ranking_table(run, top=scenario.top))
    elif output_format is OutputFormat.csv:
        typer.echo(to_csv(run, top=scenario.top, table=table), nl=False)
    else:
        typer.echo(to_json(run, top=scenario.top), nl=False)
    _write_outputs(
        run, gpkg=gpkg, png=png, html=html, overwrite=overwrite, templates=template_dir, crs=crs
    )


def _layers_target(
    output: Path | None, crs: str | None, *, overwrite: bool, national: bool
) -> Path | None:
    """Check the ``--output`` name (and the files it writes) and ``--crs`` before any work."""
    if output is None:
        return None
    if national:
        if crs is not None:
            raise CommandLineError("--crs: a national scenario writes its GeoPackage in EPSG:27700")
        (gpkg,) = _targets([(output, ".gpkg", "GeoPackage")], overwrite=overwrite)
        return gpkg
    from sitefinder.outputs.formats import crs_of, output_files

    crs_of(crs)
    output_files(output, overwrite=overwrite)
    return output


def _rank_national(scenario: Scenario, *, task: Task, workers: Workers) -> NationalResult:
    """``rank`` of a national scenario: every authority with its own plan, on dask, with a
    progress bar; its notes, timings and memory on stderr."""
    from sitefinder.national import outputs, rank_national

    err = Console(stderr=True)
    with _progress(err, "Ranking authorities: ") as progress:
        result = rank_national(scenario, task=task, workers=workers, progress=progress)
    _report(
        [*outputs.national_notes(result), *outputs.run_notes(result)],
        outputs.national_warnings(result),
    )
    return result


def _print_national(result: NationalResult, output_format: OutputFormat) -> None:
    """A national run's table, CSV or JSON on stdout."""
    from sitefinder.national import outputs

    if output_format is OutputFormat.table:
        out = _stdout()
        out.print(outputs.national_table(result))
    elif output_format is OutputFormat.csv:
        typer.echo(outputs.to_national_csv(result), nl=False)
    else:
        typer.echo(outputs.to_national_json(result), nl=False)


def _write_outputs(
    run: PublishedRun,
    *,
    gpkg: Path | None = None,
    png: Path | None = None,
    html: Path | None = None,
    overwrite: bool,
    templates: Path | None = None,
    crs: str | None = None,
) -> None:
    """Write the files asked for, each from the one published run, each whole or not at all."""
    if gpkg is not None:
        from sitefinder.outputs import write_run

        for written in write_run(run, gpkg, crs=crs, overwrite=overwrite):
            typer.echo(f"Wrote {written}", err=True)
    if png is not None:
        from sitefinder.render import draw_map

        draw_map(run, png, overwrite=overwrite)
        typer.echo(f"Wrote {png}", err=True)
    if html is not None:
        from sitefinder.render import write_report

        write_report(run, html, overwrite=overwrite, template_dir=templates)
        typer.echo(f"Wrote {html}", err=True)


@app.command("validate")
@_user_errors
def validate_command(config: ConfigOption = None) -> None:
    """Check a scenario and every input file it names; report every problem at once."""
    from sitefinder.checks import check_inputs
    from sitefinder.disclosure import format_count

    scenario = _scenario(config)
    if scenario.is_national:
        from sitefinder.national.run import check_national

        summary = check_national(scenario)
    else:
        summary = check_inputs(scenario)
    _report(summary.notes, [*scenario.warnings, *summary.warnings])
    typer.echo(
        f"{scenario.source}: valid. {summary.schools} schools ({summary.mainstream} mainstream,"
        f" {summary.eligible} eligible to host), {summary.existing_bases} existing bases"
        f" ({summary.existing_places:.0f} places), {summary.areas} areas,"
        f" {format_count(summary.children, scenario.count_threshold)} children needing a"
        " base place."
    )


def _published(config: Path | None, bases: int | None, runs: int | None, saved: Path | None) -> Any:
    """The run to draw: read from ``saved`` (a GeoPackage), or ranked now and published."""
    if saved is not None:
        return _saved_run(saved, config=config, bases=bases, runs=runs)
    from sitefinder.pipeline import rank
    from sitefinder.published import publish
    from sitefinder.report import run_notes

    scenario = _scenario(config, bases=bases, robustness__runs=runs)
    with _progress(Console(stderr=True)) as progress:
        result = rank(scenario, progress=progress, boundaries=True)  # the map and report draw them
    run = publish(result)
    _report([*run.notes, *run_notes(result)], run.warnings)
    return run


@app.command("map")
@_user_errors
def map_command(
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Map file to write: .png, .svg or .pdf (by extension)."
        ),
    ],
    config: ConfigOption = None,
    bases: BasesOption = None,
    saved: FromOption = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Draw an A4 map (PNG, SVG or PDF): children without a base place or journeys after the
    plan, existing and proposed bases; one panel per phase when both are planned."""
    png = _map_target(output, overwrite=overwrite)
    _write_outputs(_published(config, bases, None, saved), png=png, overwrite=overwrite)


@app.command("report")
@_user_errors
def report_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")],
    config: ConfigOption = None,
    bases: BasesOption = None,
    runs: RunsOption = None,
    saved: FromOption = None,
    overwrite: OverwriteOption = False,
    template_dir: TemplateOption = None,
) -> None:
    """Write one self-contained HTML report: plan, ranking, map, metrics and assumptions."""
    (html,) = _targets([(output, ".html", "HTML report")], overwrite=overwrite)
    run = _published(config, bases, runs, saved)
    _write_outputs(run, html=html, overwrite=overwrite, templates=template_dir)


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
    from sitefinder.pipeline import rank
    from sitefinder.published import publish
    from sitefinder.report import run_notes
    from sitefinder.why import explain_school, why_document, why_json, why_text

    scenario = _scenario(config, bases=bases)
    with _progress(Console(stderr=True)) as progress:
        result = rank(scenario, progress=progress)
    run = publish(result)
    _report([*run.notes, *run_notes(result)], run.warnings)
    document = why_document(result, explain_school(result, urn))
    if output_format is WhyFormat.json:
        typer.echo(why_json(document), nl=False)
        return
    _stdout().print(why_text(document))


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
    from sitefinder.report import compare_csv, compare_table
    from sitefinder.scenarios import Cluster, compare
    from sitefinder.targets import check_target, write_text_atomic

    if len(configs) < 2:
        raise CommandLineError("compare needs at least two scenario files")
    if output is not None:
        check_target(output, overwrite=overwrite, suffix=".csv", kind="CSV file")
    with _run_progress(Console(stderr=True), "Running scenarios") as progress:
        cluster = None if workers is None else Cluster(workers=workers)
        comparison = compare(configs, cluster=cluster, progress=progress)
    out = _stdout()
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
        typer.Option("--workers", min=1, max=256, help="Local dask workers (default: 2)."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="An existing dask scheduler, e.g. tcp://host:8786."),
    ] = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Run a grid of scenario overrides in parallel with dask; write one tidy row per run."""
    from sitefinder.scenarios import Cluster, sweep
    from sitefinder.targets import check_target, write_text_atomic

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
            cluster=Cluster(workers=workers, scheduler=scheduler),
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
            help="Scenario whose journey settings (its journey section) to use; adds"
            " journey_minutes.",
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
            help="Cache folder (default: $SITEFINDER_CACHE_DIR or the user cache folder).",
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
    from sitefinder.config import Journey, load_scenario
    from sitefinder.targets import check_target
    from sitefinder.travel import travel_matrix, write_matrix

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


def _authority_of(value: str) -> object:
    from sitefinder.config import NATIONAL
    from sitefinder.scaffold import resolve_authority

    if value.strip().casefold() in NATIONAL:
        return value
    return resolve_authority(value)


def _folder_of(value: str) -> object:
    from sitefinder.scaffold import resolve_data_folder

    return resolve_data_folder(value)


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
    from sitefinder.disclosure import format_count
    from sitefinder.discover import ROLE_LABELS
    from sitefinder.scaffold import describe

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
            " 358); England writes a national scenario from the folder's national files.",
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
    from sitefinder.config import NATIONAL
    from sitefinder.scaffold import init_scenario

    if authority.strip().casefold() in NATIONAL:
        from sitefinder.national.scaffold import england_scenario

        written = england_scenario(data=data, output=output, overwrite=overwrite)
        for role, path in written.chosen.items():
            typer.echo(f"  {role}: {path}")
        typer.echo(
            f"Wrote {written.path}: England, {written.authorities} authorities in its schools"
            " file, each ranked on the national files cut to it (sitefinder rank --config"
            f" {written.path.name} --workers 2)."
        )
        return
    result = init_scenario(authority=authority, data=data, output=output, overwrite=overwrite)
    _render_init(result)
    if result.errors:
        raise DataError(result.errors)


def main() -> None:
    """Entry point of the ``sitefinder`` console script."""
    app(prog_name="sitefinder")
