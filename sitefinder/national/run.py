"""Rank a national scenario authority by authority: one task per authority, on dask or here.

Each task writes its authority's slices of the national files (:mod:`sitefinder.national.split`)
to a temporary folder on the worker, runs the ordinary one-authority pipeline
(:func:`sitefinder.pipeline.rank`) with its own plan, and returns what the national outputs
need: the published (disclosure-controlled) ranking, plan and network of the authority, its
GeoPackage layers when asked, the raw network figures and journeys that national totals are
made from, and the task's time and memory. Nothing is written until every authority has
succeeded: an authority's bad input fails the run with every authority's problems listed.

Children crossing authority borders to a base are not modelled: each authority's children are
offered its own schools as hosts; special schools over the border within
``inputs.schools.cross_border_km`` are places its children without a base place may take.
"""

from __future__ import annotations

import ctypes
import gc
import json
import resource
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.authorities import Authority
from sitefinder.config import National, Scenario, with_settings
from sitefinder.errors import DataError, ScenarioError, SitefinderError
from sitefinder.model.greedy import Pick
from sitefinder.model.network import Metrics, weighted_quantile
from sitefinder.model.select import SelectionMethod
from sitefinder.national.curve import PASSES, Curve, rule_curve
from sitefinder.national.split import AuthorityInputs, NationalInputs, split_national
from sitefinder.plan.stopping import StoppingRule

NationalProgress = Callable[[str, int, int], None]
"""``progress(authority, done, total)``: called as each authority finishes."""

CROSS_BORDER = (
    "each authority is ranked on its own schools and areas: children crossing authority"
    " borders to a base are not modelled; special schools of other authorities within"
    " inputs.schools.cross_border_km of its areas are places its children without a base"
    " place may take"
)
"""The sentence every national output carries."""


def peak_memory_mib() -> float:
    """Peak resident memory of this process so far (MiB).

    Linux's ``VmHWM`` where there is one: ``ru_maxrss`` carries a parent's peak into a
    spawned worker, which would credit every dask worker with the client's memory.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@dataclass(frozen=True)
class Flows:
    """Journeys of the children placed in bases: minutes and children of each (area, base)
    line, for national percentiles."""

    minutes: NDArray[np.float64]
    children: NDArray[np.float64]


@dataclass(frozen=True)
class AuthorityRun:
    """One authority's run, as the national outputs need it.

    Attributes
    ----------
    authority
        The authority.
    document
        Its published ranking, plan, network, warnings and notes
        (:func:`sitefinder.report.to_json`'s object, disclosure-controlled, in terms of the
        national files).
    before, after
        Its network figures today and with its plan (raw: for national totals only).
    flows
        Journeys of the placed children, ``before`` and ``after``.
    per_child
        The most harm one child without a place carries in its run (harm points; its
        disclosure rule).
    layers
        Its GeoPackage layers (:func:`sitefinder.export.layers`, ``run_info`` left out), when
        asked for.
    timings
        Seconds per stage of its run (``load, prepare, travel, evaluate, plan``) and the task.
    peak_mib
        Peak resident memory of the process that ran it, at its end (MiB).
    curve
        Marginal harm averted by each base of its greedy build order that its stopping rule
        admits, refused bases passed over (harm points; :mod:`sitefinder.national.curve`): its
        harm-by-number-of-bases curve, for the national allocation.
    curve_stopped
        Why the rule ended its curve before ``national.max_bases`` bases: the first base it
        refused, in words (``""`` when it did not).
    gap
        Its children needing a base place and places in bases today, by ``phase`` and
        ``need_group`` in the data's year (raw: national outputs publish it
        disclosure-controlled).
    point
        Easting and northing of the mean of its areas' points (metres, EPSG:27700), where the
        national map draws it.
    """

    authority: Authority
    document: dict[str, Any]
    before: Metrics
    after: Metrics
    flows: dict[str, Flows]
    per_child: float
    layers: dict[str, pd.DataFrame] | None
    timings: dict[str, float]
    peak_mib: float
    curve: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    curve_stopped: str = ""
    gap: pd.DataFrame = field(default_factory=pd.DataFrame)
    point: tuple[float, float] = (float("nan"), float("nan"))


@dataclass(frozen=True)
class AuthorityFailure:
    """An authority whose inputs stopped its run: the problems, about the national files."""

    authority: Authority
    problems: list[str]


_PUBLISHED = ("ranking", "plan", "network", "warnings", "notes")
"""The keys of an authority's ranking document the national outputs read."""


def _relabel(value: Any, inputs: AuthorityInputs, folder: Path) -> Any:
    """Every string in a JSON-like value in terms of the national files."""
    if isinstance(value, str):
        return inputs.relabel(value, folder)
    if isinstance(value, list):
        return [_relabel(v, inputs, folder) for v in value]
    if isinstance(value, dict):
        return {k: _relabel(v, inputs, folder) for k, v in value.items()}
    return value


def authority_scenario(scenario: Scenario, inputs: AuthorityInputs, folder: Path) -> Scenario:
    """The one-authority scenario of ``inputs``: the national scenario with the authority
    named and its inputs pointed at its slices in ``folder`` (none where the national files
    are read cut to it)."""
    settings: dict[str, object] = {
        **inputs.settings(folder),
        "name": f"{scenario.name}: {inputs.authority.name}",
    }
    alone = scenario.model_copy(update={"national": National()})
    return with_settings(alone, settings, origin="national run")


def _gap(result: Any) -> pd.DataFrame:
    """Children needing a base place and places today by phase and need group, in the data's
    year (the first of the sufficiency statement's)."""
    table = result.sufficiency
    if table is None or not len(table):
        return pd.DataFrame(columns=["phase", "need_group", "children", "places"])
    first = table[table["year"] == table["year"].min()]
    return (
        first[["phase", "need_group", "children", "places_today"]]
        .rename(columns={"places_today": "places"})
        .reset_index(drop=True)
    )


def _point(result: Any) -> tuple[float, float]:
    areas = result.data.areas
    if not len(areas):
        return (float("nan"), float("nan"))
    return (float(areas["easting"].mean()), float(areas["northing"].mean()))


@dataclass(frozen=True)
class Task:
    """What each authority's task does.

    Attributes
    ----------
    method
        How its plan is chosen (default the scenario's ``selection.method``).
    layers
        Also build its GeoPackage layers (for
        :func:`sitefinder.national.outputs.write_national_geopackage`).
    """

    method: SelectionMethod | str | None = None
    layers: bool = False


@dataclass(frozen=True)
class Workers:
    """Where the authorities' tasks run: one by one in this process (the default), on a
    local dask cluster of ``processes`` worker processes (one thread each), or on the workers
    of the dask ``scheduler`` at that address (the national files are read here and each
    authority's rows shipped to its task)."""

    processes: int | None = None
    scheduler: str | None = None

    @property
    def here(self) -> bool:
        """Whether the tasks run in this process, one by one."""
        return self.processes is None and self.scheduler is None

    def __str__(self) -> str:
        if self.here:
            return "this process"
        return self.scheduler or f"local cluster of {self.processes} worker process(es)"


def rank_authority(
    scenario: Scenario, inputs: AuthorityInputs, task: Task = Task()
) -> AuthorityRun | AuthorityFailure:
    """One task: rank one authority of a national scenario on its slices of the files.

    Parameters
    ----------
    scenario
        The national scenario.
    inputs
        The authority's slices (:func:`sitefinder.national.split.split_national`).
    task
        How its plan is chosen and whether its GeoPackage layers are built.
    """
    from sitefinder.export import layers as geopackage_layers
    from sitefinder.pipeline import rank
    from sitefinder.report import json_document

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sitefinder-national-") as name:
        folder = Path(name)
        inputs.write(folder)
        try:
            alone = authority_scenario(scenario, inputs, folder)
            stop = StoppingRule.from_scenario(alone)
            places = float(alone.base_size)
            limit = scenario.national.max_bases if scenario.national.asked else 0

            def curve_of(picks: Sequence[Pick]) -> Curve:
                return rule_curve(picks, stop=stop, places=places, limit=limit)

            # The order runs until the curve is complete: no later step is read.
            result = rank(
                alone,
                method=task.method,
                greedy_steps=limit + PASSES,
                greedy_until=lambda picks: curve_of(picks).complete(limit=limit),
            )
            if task.layers:  # drawn in the layers: read from the folder before it goes
                result.data.read_boundaries()
        except SitefinderError as exc:
            return AuthorityFailure(
                inputs.authority, [inputs.relabel(p, folder) for p in exc.problems]
            )
        # Only what the national outputs publish is made and travels back (an authority's
        # pathway, sufficiency and costs tables would only fill the client's memory), through
        # JSON and back: the values travel as the authority's own JSON holds them.
        made = json_document(result, top=scenario.top, keys=_PUBLISHED)
        document = _relabel(json.loads(json.dumps(made)), inputs, folder)
        frames = None
        if task.layers:
            frames = {k: v for k, v in geopackage_layers(result).items() if k != "run_info"}
    assert result.model is not None
    before = result.model.before
    placed = before.flow > 1e-9
    flows = {
        "before": Flows(before.pair_minutes[placed], before.flow[placed]),
        "after": Flows(
            result.assignments["minutes"].to_numpy(dtype=float),
            result.assignments["children"].to_numpy(dtype=float),
        ),
    }
    curve = curve_of(result.model.greedy.picks)
    timings = {**result.timings, "task": time.perf_counter() - start}
    run = AuthorityRun(
        inputs.authority,
        document,
        result.before,
        result.after,
        flows,
        result.disclosure_rule.unmet,
        frames,
        timings,
        peak_memory_mib(),
        curve=curve.marginals,
        curve_stopped=curve.stopped,
        gap=_gap(result),
        point=_point(result),
    )
    del result  # its LPs: a worker's next authority starts from the memory they held
    _give_back_memory()
    return run


def _give_back_memory() -> None:
    """Collect freed objects and return the C heap's free pages to the system (glibc's
    ``malloc_trim``; elsewhere nothing more): a worker ranks one authority after another,
    and the solver's freed memory would otherwise stay with it.

    A run's objects go when it is deleted (they hold no reference cycles: a full collection
    after each of the synthetic England's found none, at 55 ms each); the young generations
    are collected in case, and any older cycle at the collector's next full pass."""
    gc.collect(1)
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.malloc_trim(0)


def combined_metrics(runs: list[AuthorityRun], when: str) -> Metrics:
    """National network figures (``when`` = ``before`` or ``after``): totals added up, the mean
    journey weighted by children placed, the 95th percentile over every placed child."""
    parts = [getattr(run, when) for run in runs]

    def total(name: str) -> float:
        return float(sum(getattr(p, name) for p in parts))

    placed = total("placed")
    minutes = sum(p.mean_minutes * p.placed for p in parts if p.placed > 1e-9)
    flows = [run.flows[when] for run in runs]
    return Metrics(
        total_harm=total("total_harm"),
        children=total("children"),
        placed=placed,
        unmet=total("unmet"),
        within_limit=total("within_limit"),
        mean_minutes=float(minutes / placed) if placed > 1e-9 else float("nan"),
        p95_minutes=weighted_quantile(
            np.concatenate([f.minutes for f in flows] or [np.zeros(0)]),
            np.concatenate([f.children for f in flows] or [np.zeros(0)]),
            0.95,
        ),
        journey_harm=total("journey_harm"),
        mismatch_harm=total("mismatch_harm"),
    )


@dataclass(frozen=True)
class NationalResult:
    """A national scenario ranked authority by authority.

    Attributes
    ----------
    scenario
        The national scenario.
    runs
        Each authority's run, in GSS code order.
    before, after
        National network figures today and with every authority's plan (raw, as
        :attr:`sitefinder.pipeline.RankResult.before`; outputs publish them
        disclosure-controlled through :mod:`sitefinder.national.outputs`).
    checksums
        SHA-256 of each national input file.
    notes
        How the files were cut, what belonged to no authority, and that children crossing
        authority borders are not modelled.
    timings
        Seconds: ``split`` (reading and cutting the national files), ``cluster`` (starting
        the dask cluster), ``authorities`` (all authority tasks, wall) and ``total``.
    peak_mib
        Peak resident memory (MiB): ``client`` (this process) and one entry per worker.
    workers
        Where the tasks ran: ``"this process"``, ``"local cluster of N"`` or the scheduler.
    allocation
        The national allocation (``[national]``; :func:`sitefinder.national.allocate.
        allocation_table`, raw), None when none was asked for.
    """

    scenario: Scenario
    runs: list[AuthorityRun]
    before: Metrics
    after: Metrics
    checksums: dict[str, str]
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    peak_mib: dict[str, float] = field(default_factory=dict)
    workers: str = ""
    allocation: pd.DataFrame | None = None


def _serial(
    authorities: Sequence[AuthorityInputs],
    scenario: Scenario,
    task: Task,
    progress: NationalProgress | None,
) -> Iterator[AuthorityRun | AuthorityFailure]:
    for done, inputs in enumerate(authorities, start=1):
        outcome = rank_authority(scenario, inputs, task)
        if progress is not None:
            progress(inputs.authority.name, done, len(authorities))
        yield outcome


def rank_national(
    scenario: Scenario,
    *,
    task: Task = Task(),
    workers: Workers = Workers(),
    progress: NationalProgress | None = None,
    split: NationalInputs | None = None,
) -> NationalResult:
    """Rank every authority of a national scenario, each with its own plan.

    Parameters
    ----------
    scenario
        A national scenario (``authority = "England"``).
    task
        How each authority's plan is chosen and whether its GeoPackage layers are built.
    workers
        Where the authorities are ranked (default: one by one in this process).
    progress
        Optional ``progress(authority, done, total)`` callback.
    split
        The national files already cut (default: cut them here).

    Raises
    ------
    ScenarioError
        If the scenario is not national.
    DataError
        Listing every problem of every authority (named), before anything is returned.
    """
    if not scenario.is_national:
        raise ScenarioError(
            f"authority = {scenario.authority!r}: not a national scenario (use rank, or"
            ' authority = "England")'
        )
    started = time.perf_counter()
    timings: dict[str, float] = {}
    inputs = split if split is not None else split_national(scenario)
    timings["split"] = time.perf_counter() - started
    authorities = inputs.authorities
    outcomes: list[AuthorityRun | AuthorityFailure] = []
    peaks: dict[str, float] = {}
    if workers.here:
        begun = time.perf_counter()
        outcomes = list(_serial(authorities, scenario, task, progress))
        timings["authorities"] = time.perf_counter() - begun
    else:
        from distributed import as_completed

        from sitefinder.scenarios import dask_client

        begun = time.perf_counter()
        with dask_client(workers=workers.processes, scheduler=workers.scheduler) as client:
            timings["cluster"] = time.perf_counter() - begun
            begun = time.perf_counter()
            scattered = client.scatter(scenario, broadcast=True)
            # The largest authorities first, so that none is left running alone at the end.
            largest = sorted(authorities, key=lambda one: -one.schools * one.areas)
            pending = as_completed(
                [client.submit(rank_authority, scattered, one, task, pure=False) for one in largest]
            )
            found: list[AuthorityRun | AuthorityFailure | None] = [None] * len(largest)
            position = {one.authority.gss_code: i for i, one in enumerate(authorities)}
            for done, future in enumerate(pending, start=1):
                outcome = future.result()
                future.release()  # the worker drops its copy of the result once it is here
                found[position[outcome.authority.gss_code]] = outcome
                if progress is not None:
                    progress(outcome.authority.name, done, len(largest))
            timings["authorities"] = time.perf_counter() - begun
            worker_peaks = client.run(peak_memory_mib)
            peaks.update({f"worker {i + 1}": float(v) for i, v in enumerate(worker_peaks.values())})
        outcomes = [o for o in found if o is not None]
    failures = [o for o in outcomes if isinstance(o, AuthorityFailure)]
    if failures:
        raise DataError(
            [f"{f.authority.name}: {problem}" for f in failures for problem in f.problems]
        )
    runs = [o for o in outcomes if isinstance(o, AuthorityRun)]
    allocation: pd.DataFrame | None = None
    allocated: list[str] = []
    if scenario.national.asked:
        from sitefinder.national.allocate import allocation_table

        allocation, allocated = allocation_table(runs, scenario)
    timings["total"] = time.perf_counter() - started
    peaks = {"client": peak_memory_mib(), **peaks}
    return NationalResult(
        scenario=scenario,
        runs=runs,
        before=combined_metrics(runs, "before"),
        after=combined_metrics(runs, "after"),
        checksums=inputs.checksums,
        notes=[*inputs.notes, CROSS_BORDER, *allocated],
        timings=timings,
        peak_mib=peaks,
        workers=str(workers),
        allocation=allocation,
    )


def check_national(scenario: Scenario, *, progress: NationalProgress | None = None) -> Any:
    """Check a national scenario: cut its files, then check each authority's inputs as
    ``sitefinder validate`` checks one authority's (serially).

    Returns
    -------
    sitefinder.pipeline.InputSummary
        The authorities' figures added up; every authority's warnings, named.

    Raises
    ------
    DataError
        Listing every problem of the national files and of every authority (named).
    """
    from sitefinder.pipeline import InputSummary, check_inputs

    inputs = split_national(scenario)
    problems: list[str] = []
    summaries = []
    for done, one in enumerate(inputs.authorities, start=1):
        with tempfile.TemporaryDirectory(prefix="sitefinder-national-") as name:
            folder = Path(name)
            one.write(folder)
            try:
                summary = check_inputs(authority_scenario(scenario, one, folder))
            except SitefinderError as exc:
                problems += [
                    f"{one.authority.name}: {one.relabel(p, folder)}" for p in exc.problems
                ]
            else:
                summaries.append(summary)
                summary.warnings[:] = [
                    f"{one.authority.name}: {one.relabel(w, folder)}" for w in summary.warnings
                ]
        if progress is not None:
            progress(one.authority.name, done, len(inputs.authorities))
    if problems:
        raise DataError(problems)
    return InputSummary(
        schools=sum(s.schools for s in summaries),
        mainstream=sum(s.mainstream for s in summaries),
        eligible=sum(s.eligible for s in summaries),
        existing_bases=sum(s.existing_bases for s in summaries),
        existing_places=sum(s.existing_places for s in summaries),
        areas=sum(s.areas for s in summaries),
        children=sum(s.children for s in summaries),
        warnings=[w for s in summaries for w in s.warnings],
        notes=[
            *inputs.notes,
            f"{len(summaries)} authorities checked; each authority's notes: sitefinder rank"
            " --format json",
        ],
    )
