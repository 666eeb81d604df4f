"""sitefinder: rank mainstream schools as hosts for new SEND inclusion bases.

The library does the work; the ``sitefinder`` command is a thin layer on top::

    from sitefinder import load_scenario, rank, write_geopackage

    scenario = load_scenario("configs/demo.toml")
    result = rank(scenario)
    print(result.ranking[["rank", "urn", "name", "harm_averted"]])
    write_geopackage(result, "shortlist.gpkg")
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sitefinder.checks import check_inputs
    from sitefinder.config import (
        Scenario,
        load_scenario,
        with_settings,
    )
    from sitefinder.errors import (
        CommandLineError,
        DataError,
        OutputError,
        ScenarioError,
        SetupError,
        SitefinderError,
    )
    from sitefinder.export import write_geopackage
    from sitefinder.model.harm import HarmCurve
    from sitefinder.model.methods import SelectionMethod
    from sitefinder.model.pmedian import PMedianResult, p_median
    from sitefinder.model.select import (
        SelectionResult,
        SelectionRules,
        SolverSettings,
        select_sites,
    )
    from sitefinder.pipeline import RankResult, rank
    from sitefinder.scaffold import InitResult, init_scenario
    from sitefinder.version import __version__
    from sitefinder.why import SchoolExplanation, explain_school

# The public names load on first use, so the command starts (and answers Ctrl-C, --version
# and usage errors) without importing pandas, geopandas and HiGHS first; even the version
# (package metadata) is read only when asked for.
_HOMES = {
    "__version__": "sitefinder.version",
    "Scenario": "sitefinder.config",
    "load_scenario": "sitefinder.config",
    "with_settings": "sitefinder.config",
    "CommandLineError": "sitefinder.errors",
    "DataError": "sitefinder.errors",
    "SetupError": "sitefinder.errors",
    "OutputError": "sitefinder.errors",
    "ScenarioError": "sitefinder.errors",
    "SitefinderError": "sitefinder.errors",
    "write_geopackage": "sitefinder.export",
    "HarmCurve": "sitefinder.model.harm",
    "PMedianResult": "sitefinder.model.pmedian",
    "p_median": "sitefinder.model.pmedian",
    "SelectionMethod": "sitefinder.model.methods",
    "SelectionResult": "sitefinder.model.select",
    "SelectionRules": "sitefinder.model.select",
    "SolverSettings": "sitefinder.model.select",
    "select_sites": "sitefinder.model.select",
    "RankResult": "sitefinder.pipeline",
    "check_inputs": "sitefinder.checks",
    "rank": "sitefinder.pipeline",
    "InitResult": "sitefinder.scaffold",
    "init_scenario": "sitefinder.scaffold",
    "SchoolExplanation": "sitefinder.why",
    "explain_school": "sitefinder.why",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'sitefinder' has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


__all__ = [
    "CommandLineError",
    "DataError",
    "HarmCurve",
    "InitResult",
    "OutputError",
    "PMedianResult",
    "RankResult",
    "Scenario",
    "ScenarioError",
    "SchoolExplanation",
    "SelectionMethod",
    "SelectionResult",
    "SelectionRules",
    "SetupError",
    "SitefinderError",
    "SolverSettings",
    "__version__",
    "check_inputs",
    "explain_school",
    "init_scenario",
    "load_scenario",
    "p_median",
    "rank",
    "select_sites",
    "with_settings",
    "write_geopackage",
]
