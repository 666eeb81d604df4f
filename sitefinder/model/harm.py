"""The harm curve: how much a one-way journey of a given length hurts a child.

Harm is measured in *harm points*. The curve scores nothing up to the free minutes; between
the free minutes and the DfE best-practice limit for the child's phase (45 minutes primary, 75
secondary) it rises as a power of the excess, so each extra minute hurts more than the last
(exponent > 1), reaching 1 point at the limit; past the limit a step and a steep per-minute
penalty are added. On top of the curve every minute travelled adds a small travel term
(``per_minute``), so harm rises from the first minute: among journeys the curve scores alike
(for example two journeys under the free minutes) the shorter always does less harm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

DEFAULT_PER_MINUTE = 0.01
"""Harm points per journey minute: 100 minutes of travel weigh as much as the curve's value
at the guidance limit, and the term stays a fifth of the curve's slope there (primary)."""


@dataclass(frozen=True, slots=True)
class HarmCurve:
    """Harm per child as a function of one-way journey minutes.

    Parameters
    ----------
    free_minutes
        Journey minutes the curve scores at zero (the travel term still counts them).
    limit_minutes
        Guidance limit in minutes; the curve scores 1 harm point there (plus the travel term).
    exponent
        Power of the excess minutes between the free minutes and the limit (> 0; > 1 makes
        each extra minute hurt more than the last).
    over_limit_step
        Harm points added as soon as a journey exceeds the limit.
    over_limit_per_minute
        Harm points added per minute past the limit, on top of the curve.
    per_minute
        Harm points added per journey minute from the first minute (the travel term); > 0 makes
        harm strictly increasing in minutes.
    """

    free_minutes: float
    limit_minutes: float
    exponent: float
    over_limit_step: float
    over_limit_per_minute: float
    per_minute: float = DEFAULT_PER_MINUTE

    def __call__(self, minutes: ArrayLike) -> NDArray[np.float64]:
        """Return harm points for each journey length in ``minutes`` (vectorised)."""
        t = np.asarray(minutes, dtype=np.float64)
        span = self.limit_minutes - self.free_minutes
        excess = np.clip(t - self.free_minutes, 0.0, None) / span
        h = excess**self.exponent
        past = np.clip(t - self.limit_minutes, 0.0, None)
        return np.asarray(
            h
            + np.where(t > self.limit_minutes, self.over_limit_step, 0.0)
            + self.over_limit_per_minute * past
            + self.per_minute * np.clip(t, 0.0, None),
            dtype=np.float64,
        )
