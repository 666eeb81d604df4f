"""Scenarios side by side: headline figures, comparisons and parameter sweeps.

:func:`headline` reduces a ranking run to one row of figures; :func:`compare` runs several
scenario files and lines their headlines up, noting which sites each plan adds or drops
against the first; :func:`sweep` runs a base scenario over a grid of ``--set`` overrides,
in parallel with dask.distributed (a local cluster by default, or a scheduler's workers).

Figures pass through :mod:`sitefinder.disclosure` (via :data:`sitefinder.columns.HEADLINE`):
a withheld count is the text ``<5``, another withheld figure ``c``, never the number.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import socket
import tomllib
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sitefinder.columns import HEADLINE, protected
from sitefinder.config import Scenario, load_scenario, with_settings
from sitefinder.disclosure import Withheld
from sitefinder.errors import CommandLineError, ScenarioError, SetupError
from sitefinder.pipeline import RankResult, rank

SweepProgress = Callable[[int, int], None]
"""``progress(done, total)``: called as each run finishes."""

HEADLINE_COLUMNS: tuple[str, ...] = (
    "scenario",
    "harm_before",
    "harm_after",
    "within_limit_after",
    "unmet_after",
    "mean_minutes_after",
    "p95_minutes_after",
    "capital",
    "net_saving_per_year",
    "payback_years",
    "sites",
    "selection_method",
    "gap",
)
"""The keys of :func:`headline`, in order."""


def _site_labels(result: RankResult) -> list[str]:
    chosen = result.plan.chosen
    if chosen.empty:
        return []
    return [
        f"{urn} {phase}/{group}"
        for urn, phase, group in zip(
            chosen["urn"], chosen["phase"], chosen["need_group"], strict=True
        )
    ]


def headline(result: RankResult) -> dict[str, Any]:
    """Return a ranking run's headline figures as one flat row.

    Parameters
    ----------
    result
        A ranking run (see :func:`sitefinder.rank`).

    Returns
    -------
    dict
        Keyed by :data:`HEADLINE_COLUMNS`: ``scenario`` (name), ``harm_before`` and
        ``harm_after`` (total harm points without and with the plan), ``within_limit_after``
        (children placed within the guidance limit) and ``unmet_after`` (children without a
        place) after the plan, ``mean_minutes_after`` and ``p95_minutes_after`` (journey
        minutes), ``capital`` (£), ``net_saving_per_year`` (£ a year) and ``payback_years``
        (years; NaN when the plan saves nothing) of the plan's business case
        (:mod:`sitefinder.costs`; money is never withheld), ``sites`` (the plan's new bases
        as ``"URN phase/group; ..."``),
        ``selection_method`` (``optimal`` or ``greedy``) and ``gap`` (the MIP's relative
        optimality gap; NaN for the heuristic). Figures withheld by disclosure control
        (:mod:`sitefinder.disclosure`) are the text ``"<threshold"`` (counts) or ``"c"``;
        otherwise floats.
    """
    after = result.after
    total = result.costs.total if result.costs is not None else {}
    payback = total.get("payback_years")
    raw = {
        "scenario": result.scenario.name,
        "harm_before": float(result.before.total_harm),
        "harm_after": float(after.total_harm),
        "within_limit_after": float(after.within_limit),
        "unmet_after": float(after.unmet),
        "mean_minutes_after": float(after.mean_minutes),
        "p95_minutes_after": float(after.p95_minutes),
        "capital": float(total.get("capital") or 0.0),
        "net_saving_per_year": float(total.get("net_saving_per_year") or 0.0),
        "payback_years": float("nan") if payback is None else round(payback, 1),
        "sites": "; ".join(_site_labels(result)),
        "selection_method": result.plan.method,
        "gap": float(result.plan.gap),
    }
    row = protected(pd.DataFrame([raw]), HEADLINE, result.disclosure_rule)
    return {
        key: str(value) if isinstance(value, Withheld) else value
        for key, value in row.iloc[0].to_dict().items()
    }


def _run(scenario: Scenario) -> dict[str, Any]:
    """Rank one scenario and return its headline (the unit of work shipped to workers)."""
    return headline(rank(scenario))


SCHEDULER_CONNECT_SECONDS = 5.0
"""How long to wait for a ``--scheduler`` to answer before giving up (seconds)."""


def _connect(client: Callable[..., Any], scheduler: str) -> Any:
    """A dask client of ``scheduler``, failing within seconds when it cannot be reached."""
    parsed = urllib.parse.urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        host = port = None
    network = parsed.scheme in ("tcp", "tls")
    if parsed.scheme not in ("tcp", "tls", "inproc", "ucx", "ws", "wss") or (
        network and (not host or port is None)
    ):
        raise CommandLineError(
            f"--scheduler {scheduler}: not a scheduler address; write tcp://HOST:PORT"
            " (e.g. tcp://10.0.0.5:8786)"
        )
    try:
        if network:  # a quick probe: dask's own connect waits 30 s before saying anything
            assert host is not None and port is not None
            socket.create_connection((host, port), timeout=SCHEDULER_CONNECT_SECONDS).close()
        return client(scheduler, timeout=f"{SCHEDULER_CONNECT_SECONDS * 2:g}s")
    except (OSError, TimeoutError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise SetupError(
            f"--scheduler {scheduler}: cannot reach the dask scheduler ({reason}); start it"
            " (dask scheduler) or check the address, or leave --scheduler out to run locally"
        ) from None


@dataclass(frozen=True)
class Cluster:
    """The dask cluster that scenario runs go to.

    Attributes
    ----------
    workers
        Worker processes of a local cluster started (and closed) for the runs (default 2,
        one thread each).
    scheduler
        Address of a running dask scheduler whose workers run them instead; the input files
        must be readable at the same paths on the workers.
    """

    workers: int | None = None
    scheduler: str | None = None


@contextlib.contextmanager
def dask_client(*, workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """A dask client of ``scheduler``, or of a local cluster of ``workers`` processes (default
    2, one thread each) started here and closed on leaving."""
    import dask
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if scheduler is not None:
            client = stack.enter_context(_connect(Client, scheduler))
        else:
            # A worker samples its own stack every 10 ms for the dashboard's profile, which is
            # off here: the sampling thread takes the GIL from the tasks (a national run's
            # tasks took 2-9% longer with it, measured). The workers copy this setting.
            stack.enter_context(dask.config.set({"distributed.worker.profile.enabled": False}))
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers or 2,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    # The scheduler serves health and metrics routes even without a dashboard,
                    # by default on port 8787 (warning when taken); a free local port instead.
                    scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                    # A worker's heartbeat can race the cluster's shutdown and log an ERROR
                    # traceback; task failures still reach the client as exceptions.
                    silence_logs=logging.CRITICAL,
                )
            )
            client = stack.enter_context(Client(cluster))
        yield client


def _run_all(
    scenarios: Sequence[Scenario], *, cluster: Cluster | None, progress: SweepProgress | None
) -> list[dict[str, Any]]:
    """Run every scenario, one by one here (no cluster) or on dask workers; headlines in the
    input order."""
    total = len(scenarios)
    if cluster is None:
        rows = []
        for done, scenario in enumerate(scenarios, start=1):
            rows.append(_run(scenario))
            if progress is not None:
                progress(done, total)
        return rows
    from distributed import as_completed

    results: list[dict[str, Any] | None] = [None] * total
    with dask_client(workers=cluster.workers, scheduler=cluster.scheduler) as client:
        futures = [client.submit(_run, scenario, pure=False) for scenario in scenarios]
        position = {future.key: i for i, future in enumerate(futures)}
        for done, future in enumerate(as_completed(futures), start=1):
            results[position[future.key]] = future.result()
            if progress is not None:
                progress(done, total)
    return [row for row in results if row is not None]


@dataclass(frozen=True)
class Comparison:
    """Several scenarios' headlines side by side.

    Attributes
    ----------
    table
        One row per scenario, in the order given: ``file`` (the scenario file), the
        :data:`HEADLINE_COLUMNS`, and ``sites_added`` / ``sites_removed`` (URNs in this
        scenario's plan but not the first's, and the reverse, as ``"URN; URN"``; empty for
        the first).
    added, removed
        The same differences as tuples of URNs, one per scenario (empty for the first).
    """

    table: pd.DataFrame
    added: tuple[tuple[str, ...], ...]
    removed: tuple[tuple[str, ...], ...]

    def to_csv(self) -> str:
        """Return :attr:`table` as CSV text (header + one row per scenario)."""
        buffer = io.StringIO()
        self.table.to_csv(buffer, index=False, lineterminator="\n")
        return buffer.getvalue()


def _urns(sites: str) -> list[str]:
    return [label.split(" ", 1)[0] for label in sites.split("; ") if label]


def _load_all(paths: Sequence[Path]) -> list[Scenario]:
    # Every file is read before anything runs, so all their problems show at once.
    scenarios: list[Scenario] = []
    problems: list[str] = []
    for path in paths:
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as exc:
            problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    return scenarios


def compare(
    paths: Sequence[Path],
    *,
    cluster: Cluster | None = None,
    progress: SweepProgress | None = None,
) -> Comparison:
    """Run each scenario file and line their headline figures up.

    Parameters
    ----------
    paths
        Scenario files; the first is the reference the others' sites are compared with.
    cluster
        The dask cluster to run on (a local one of some worker processes, or a running
        scheduler); default: one by one in this process.
    progress
        Optional ``progress(done, total)`` callback, called as each run finishes.

    Returns
    -------
    Comparison
        The tidy table and, per scenario, the URNs added to and removed from the first's plan.

    Raises
    ------
    ScenarioError
        If no file is given, or any file is invalid (every file's problems listed), before
        anything runs.
    DataError
        If a scenario's input files are missing or invalid.
    """
    if not paths:
        raise ScenarioError("compare: give at least one scenario file")
    scenarios = _load_all(paths)
    rows = _run_all(scenarios, cluster=cluster, progress=progress)
    reference = set(_urns(rows[0]["sites"]))
    added: list[tuple[str, ...]] = []
    removed: list[tuple[str, ...]] = []
    for i, row in enumerate(rows):
        urns = set(_urns(row["sites"]))
        added.append(() if i == 0 else tuple(sorted(urns - reference)))
        removed.append(() if i == 0 else tuple(sorted(reference - urns)))
    table = pd.DataFrame.from_records(rows, columns=list(HEADLINE_COLUMNS))
    table.insert(0, "file", [str(path) for path in paths])
    table["sites_added"] = ["; ".join(urns) for urns in added]
    table["sites_removed"] = ["; ".join(urns) for urns in removed]
    return Comparison(table=table, added=tuple(added), removed=tuple(removed))


def parse_value(text: str) -> Any:
    """Read a ``--set`` value as a TOML value, or as plain text when it is not one.

    ``"2"`` is an int, ``"1.5"`` a float, ``"true"`` a bool, ``'["primary"]'`` a list,
    ``'"abc"'`` and ``"abc"`` both the text ``abc``.
    """
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def _flag(settings: Mapping[str, str]) -> str:
    return " ".join(f"--set {key}={value}" for key, value in settings.items())


def _grid(
    base: Scenario, settings: Mapping[str, Sequence[str]]
) -> tuple[list[dict[str, Any]], list[Scenario]]:
    """Every grid point's parsed overrides and validated scenario, or every problem at once."""
    problems: list[str] = []
    for key, texts in settings.items():
        if isinstance(texts, str) or not texts:
            problems.append(f"--set {key}: give one or more values (e.g. {key}=1,2,3)")
    if problems:
        raise CommandLineError(problems)
    # Each value alone first, so a bad one is named once rather than at every grid point.
    for key, texts in settings.items():
        for text in texts:
            try:
                with_settings(base, {key: parse_value(text)})
            except ScenarioError as exc:
                problems += [f"{p} ({_flag({key: text})})" for p in exc.problems]
    if problems:
        raise CommandLineError(problems)
    points: list[dict[str, Any]] = []
    scenarios: list[Scenario] = []
    for combination in itertools.product(*settings.values()):
        written = dict(zip(settings, combination, strict=True))
        values = {key: parse_value(text) for key, text in written.items()}
        try:
            scenarios.append(with_settings(base, values))
        except ScenarioError as exc:
            problems += [f"{p} ({_flag(written)})" for p in exc.problems]
        points.append(values)
    if problems:
        raise CommandLineError(problems)
    return points, scenarios


def sweep(
    base: Path,
    settings: Mapping[str, Sequence[str]],
    *,
    cluster: Cluster | None = Cluster(),
    progress: SweepProgress | None = None,
) -> pd.DataFrame:
    """Run a scenario over every combination of overridden settings.

    Parameters
    ----------
    base
        The base scenario file.
    settings
        Dotted keys and the text values to try, e.g.
        ``{"harm.exponent": ["1", "2"], "bases": ["1", "2", "3"]}``. Each value is read as
        TOML (``"2"`` an int, ``"1.5"`` a float, ``"true"`` a bool), else as plain text. The
        grid is the cartesian product, the first key varying slowest.
    cluster
        The dask cluster to run on: by default a local one of 2 worker processes (one thread
        each), started and closed for the sweep; or a running scheduler. None runs one by one
        in this process, without dask (same results).
    progress
        Optional ``progress(done, total)`` callback, called as each run finishes.

    Returns
    -------
    pandas.DataFrame
        One row per grid point, in grid order: a column per setting (its parsed value), then
        the :data:`HEADLINE_COLUMNS`.

    Raises
    ------
    ScenarioError
        If the base file is invalid, or any setting is an unknown key or any value invalid
        (every problem listed, naming its ``--set``), before anything runs.
    DataError
        If the scenario's input files are missing or invalid.
    """
    scenario = load_scenario(base)
    points, scenarios = _grid(scenario, settings)
    rows = _run_all(scenarios, cluster=cluster, progress=progress)
    records = [{**point, **row} for point, row in zip(points, rows, strict=True)]
    return pd.DataFrame.from_records(records, columns=[*settings, *HEADLINE_COLUMNS])
