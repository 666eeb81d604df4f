"""The harm curve: how much a one-way journey of a given length hurts a child.

Harm is measured in *harm points*: one point is the harm of a journey exactly at the DfE
best-practice limit for the child's phase (45 minutes primary, 75 secondary). Below the free
minutes a journey does no harm; between the free minutes and the limit harm rises as a power
of the excess, so each extra minute hurts more than the last (exponent > 1); past the limit a
step and a steep per-minute penalty are added.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True, slots=True)
class HarmCurve:
    """Harm per child as a function of one-way journey minutes.

    Parameters
    ----------
    free_minutes
        Journey minutes that do no harm.
    limit_minutes
        Guidance limit in minutes; a journey of exactly this length scores 1 harm point.
    exponent
        Power of the excess minutes between the free minutes and the limit (> 0; > 1 makes
        each extra minute hurt more than the last).
    over_limit_step
        Harm points added as soon as a journey exceeds the limit.
    over_limit_per_minute
        Harm points added per minute past the limit, on top of the curve.
    """

    free_minutes: float
    limit_minutes: float
    exponent: float
    over_limit_step: float
    over_limit_per_minute: float

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
            + self.over_limit_per_minute * past,
            dtype=np.float64,
        )
