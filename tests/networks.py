"""Small demand tables for the model tests."""

import numpy as np

from sitefinder.model.network import DemandRows


def demand_rows(children, klass) -> DemandRows:
    """Rows with a 45-minute limit and 25 harm points per child left without a place."""
    n = len(children)
    return DemandRows(
        np.asarray(children, dtype=float),
        np.asarray(klass, dtype=np.intp),
        np.full(n, 45.0),
        np.full(n, 25.0),
    )
