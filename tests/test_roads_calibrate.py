"""Crow-fly estimator calibrated on routed demo journeys."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sitefinder.roads.calibrate import fit_crowfly
from sitefinder.roads.osm import read_road_network

DEMO_DIR = Path(__file__).resolve().parents[1] / "data" / "demo"


def test_fit_crowfly_on_demo_is_seeded_and_reports_cv_mae():
    network = read_road_network(DEMO_DIR / "roads.osm.pbf")
    areas = pd.read_csv(DEMO_DIR / "areas.csv")[["easting", "northing"]].to_numpy(dtype=float)
    schools = pd.read_csv(DEMO_DIR / "schools.csv")[["easting", "northing"]].to_numpy(dtype=float)
    model = fit_crowfly(network, areas, schools, sample=400, seed=7)
    again = fit_crowfly(network, areas, schools, sample=400, seed=7)
    assert model.n_pairs == 400
    assert (
        0 < model.cv_mae_minutes == min(model.linear_cv_mae_minutes, model.boosting_cv_mae_minutes)
    )
    predicted = model.predict(areas[:5], schools[:3])
    assert predicted.shape == (5, 3) and (predicted >= 0).all()
    np.testing.assert_array_equal(predicted, again.predict(areas[:5], schools[:3]))
    assert model.cv_mae_minutes < 5.0
