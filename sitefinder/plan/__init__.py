"""The best set of new bases: choose it, explain each choice, and test how robust it is.

The ranking answers "which school next"; the plan answers "where should our K new bases go".
It is chosen by :func:`sitefinder.model.select.select_sites` (an exact mixed-integer programme
or greedy plus interchange) under a stopping rule that keeps out bases not worth adding
(:mod:`.stopping`), explained site by site with true reasons for the strongest sites left out
(:mod:`.explain`), given its equivalent alternatives within the tie tolerance (:mod:`.ties`),
and re-chosen under seeded noise on demand and harm parameters to show how often each site
survives (:mod:`.robustness`). :func:`choose_plan` (:mod:`.choose`) runs the steps.
"""

from sitefinder.plan.choose import choose_plan
from sitefinder.plan.result import Plan, PlanInputs
from sitefinder.plan.stopping import StoppingRule

__all__ = ["Plan", "PlanInputs", "StoppingRule", "choose_plan"]
