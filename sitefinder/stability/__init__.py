"""How sure the plan is: the plan chosen again under the assumptions that decide it.

:mod:`.ranges` resolves the ``[robustness]`` ranges into the assumptions a run varies and a
run's settings; :mod:`.shifts` works out once what the inputs-bound ones change (the share of
EHC plans needing a base place, today's unrecorded places, demand's growth); :mod:`.perturb`
derives one run's network; :mod:`.runs` chooses the set again in every run and at each end of
each range, and finds where each base flips, here or on worker processes (:mod:`.pool`);
:mod:`.statement` turns what they found (:mod:`.outcome`) into the stability statement and the
one-at-a-time sensitivity.

The plan (:func:`sitefinder.plan.choose_plan`) runs them; this package imports the plan's own
procedure for choosing a set only when a run uses it.
"""
