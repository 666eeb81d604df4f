"""Journeys: minutes from each home area to each school.

For now the crow-fly model: straight-line distance x circuity at an average road speed gives
drive minutes; a shared SEND transport round takes ``ride_factor`` times as long, plus a fixed
overhead for pick-up and drop-off.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sitefinder.config import Journey


def crowfly_drive_minutes(
    origins: NDArray[np.float64], destinations: NDArray[np.float64], *, journey: Journey
) -> NDArray[np.float64]:
    """Estimate drive minutes between points from straight-line distance.

    Parameters
    ----------
    origins, destinations
        Point coordinates in metres (EPSG:27700), shapes (n, 2) and (m, 2).
    journey
        Gives ``circuity`` (road / straight-line distance) and ``speed_kmh``.

    Returns
    -------
    numpy.ndarray
        Drive minutes, shape (n, m).
    """
    delta = origins[:, None, :] - destinations[None, :, :]
    metres = np.hypot(delta[..., 0], delta[..., 1])
    return np.asarray(metres * journey.circuity / (journey.speed_kmh * 1000.0 / 60.0))


def journey_minutes(drive_minutes: NDArray[np.float64], *, journey: Journey) -> NDArray[np.float64]:
    """Turn drive minutes into a child's journey minutes on shared SEND transport."""
    return np.asarray(drive_minutes * journey.ride_factor + journey.overhead_minutes)
