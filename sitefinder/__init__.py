"""sitefinder: rank mainstream schools as hosts for new SEND inclusion bases.

The library does the work; the ``sitefinder`` command is a thin layer on top::

    from sitefinder import load_scenario, rank, write_geopackage

    scenario = load_scenario("configs/demo.toml")
    result = rank(scenario)
    print(result.ranking[["rank", "urn", "name", "harm_averted"]])
    write_geopackage(result, "shortlist.gpkg")
"""

from __future__ import annotations

__version__ = "0.1.0"

from sitefinder.config import Scenario, load_scenario, with_overrides, with_section
from sitefinder.errors import DataError, OutputError, ScenarioError, SitefinderError
from sitefinder.export import write_geopackage
from sitefinder.model.harm import HarmCurve
from sitefinder.model.pmedian import PMedianResult, p_median
from sitefinder.model.select import Selection, select_sites
from sitefinder.pipeline import RankResult, check_inputs, rank
from sitefinder.scaffold import InitResult, init_scenario

__all__ = [
    "DataError",
    "HarmCurve",
    "InitResult",
    "OutputError",
    "PMedianResult",
    "RankResult",
    "Scenario",
    "ScenarioError",
    "Selection",
    "SitefinderError",
    "__version__",
    "check_inputs",
    "init_scenario",
    "load_scenario",
    "p_median",
    "rank",
    "select_sites",
    "with_overrides",
    "with_section",
    "write_geopackage",
]
