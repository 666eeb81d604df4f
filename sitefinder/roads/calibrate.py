"""A crow-fly drive-time estimator, calibrated on a routed sample of the real road network.

Routing every pair can be slow for an England-wide run; a model fitted on a few thousand
routed pairs estimates the rest from geometry alone. Features, per pair:

* straight-line distance (km) and its log, since circuity is largest on short trips;
* local road density at each end: network nodes per km² within ``radius_metres``, since
  dense (urban) ends are slow and sparse (rural) ends are fast but roundabout.

The model is a seeded :class:`~sklearn.ensemble.GradientBoostingRegressor` on minutes; a
linear regression on the same features is fitted too, and whichever has the lower
cross-validated mean absolute error (5-fold, seeded) is kept. It cannot see rivers or
motorways, so the reported MAE is the honest measure of what it misses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neighbors import KDTree

from sitefinder.roads.osm import RoadNetwork
from sitefinder.roads.paths import drive_minutes

FEATURES = ("crow_km", "log_crow_km", "origin_density", "destination_density")
# Radius of the road-density count, metres: a 1 km disc tells a town centre from a village.
DENSITY_RADIUS_METRES = 1000.0
# Cross-validation folds that choose between the two estimators and report the MAE.
FOLDS = 5


@dataclass(frozen=True, eq=False)
class CrowflyModel:
    """A fitted crow-fly estimator of drive minutes.

    Attributes
    ----------
    estimator
        The fitted scikit-learn regressor (minutes from :data:`FEATURES`).
    kind
        "gradient_boosting" or "linear": the one with the lower cross-validated MAE.
    cv_mae_minutes
        Its 5-fold cross-validated mean absolute error, minutes.
    linear_cv_mae_minutes, boosting_cv_mae_minutes
        Both candidates' cross-validated MAE, minutes.
    n_pairs
        Routed pairs it was fitted on.
    radius_metres
        Radius of the road-density count, metres.
    """

    estimator: GradientBoostingRegressor | LinearRegression
    kind: str
    cv_mae_minutes: float
    linear_cv_mae_minutes: float
    boosting_cv_mae_minutes: float
    n_pairs: int
    radius_metres: float
    tree: KDTree

    def features(self, origins_xy: ArrayLike, dests_xy: ArrayLike) -> NDArray[np.float64]:
        """Feature rows for every origin x destination pair, shape (n*m, 4)."""
        origins = np.asarray(origins_xy, dtype=float).reshape(-1, 2)
        dests = np.asarray(dests_xy, dtype=float).reshape(-1, 2)
        o_density = _density(self.tree, origins, self.radius_metres)
        d_density = _density(self.tree, dests, self.radius_metres)
        delta = origins[:, None, :] - dests[None, :, :]
        km = np.hypot(delta[..., 0], delta[..., 1]).ravel() / 1000.0
        return np.column_stack(
            [
                km,
                np.log1p(km),
                np.repeat(o_density, len(dests)),
                np.tile(d_density, len(origins)),
            ]
        )

    def predict(self, origins_xy: ArrayLike, dests_xy: ArrayLike) -> NDArray[np.float64]:
        """Estimated drive minutes, shape (n_origins, n_destinations), never negative."""
        origins = np.asarray(origins_xy, dtype=float).reshape(-1, 2)
        dests = np.asarray(dests_xy, dtype=float).reshape(-1, 2)
        if len(origins) == 0 or len(dests) == 0:
            return np.zeros((len(origins), len(dests)))
        rows = self.features(origins, dests)
        minutes = np.asarray(self.estimator.predict(rows), dtype=float)
        return np.maximum(minutes, 0.0).reshape(len(origins), len(dests))


def _density(tree: KDTree, points: NDArray[np.float64], radius: float) -> NDArray[np.float64]:
    """Network nodes per km² within ``radius`` metres of each point."""
    counts = tree.query_radius(points, r=radius, count_only=True)
    return np.asarray(counts, dtype=float) / (np.pi * (radius / 1000.0) ** 2)


def fit_crowfly(
    network: RoadNetwork,
    points_a: ArrayLike,
    points_b: ArrayLike,
    *,
    sample: int = 2000,
    seed: int = 0,
) -> CrowflyModel:
    """Route a seeded sample of pairs and fit a crow-fly estimator to their minutes.

    The road-density features count network nodes within :data:`DENSITY_RADIUS_METRES`
    metres; the two estimators are compared over :data:`FOLDS` cross-validation folds.

    Parameters
    ----------
    network
        The road network to route on.
    points_a, points_b
        Origins and destinations, shapes (n, 2) and (m, 2), EPSG:27700 metres. Pairs are drawn
        from a x b.
    sample
        Number of routed pairs to fit on (at most n*m).
    seed
        Seeds the sampling, the folds and the boosting, so the fit is reproducible.

    Returns
    -------
    CrowflyModel
    """
    radius_metres, folds = DENSITY_RADIUS_METRES, FOLDS
    a = np.asarray(points_a, dtype=float).reshape(-1, 2)
    b = np.asarray(points_b, dtype=float).reshape(-1, 2)
    rng = np.random.default_rng(seed)
    # Route a block of a-subset x b-subset (one search per chosen b point), then draw pairs.
    n_b = min(len(b), max(1, int(np.ceil(np.sqrt(sample)))))
    n_a = min(len(a), max(1, int(np.ceil(sample / n_b))))
    pick_a = np.sort(rng.choice(len(a), size=n_a, replace=False))
    pick_b = np.sort(rng.choice(len(b), size=n_b, replace=False))
    minutes, _ = drive_minutes(network, a[pick_a], b[pick_b])
    ia, ib = np.nonzero(np.isfinite(minutes))
    if len(ia) > sample:
        keep = np.sort(rng.choice(len(ia), size=sample, replace=False))
        ia, ib = ia[keep], ib[keep]
    if len(ia) < max(folds, 10):
        raise ValueError(f"only {len(ia)} routable pairs; need at least {max(folds, 10)}")
    tree = KDTree(network.xy)
    oa, db = a[pick_a][ia], b[pick_b][ib]
    km = np.hypot(*(oa - db).T) / 1000.0
    rows = np.column_stack(
        [
            km,
            np.log1p(km),
            _density(tree, oa, radius_metres),
            _density(tree, db, radius_metres),
        ]
    )
    target = minutes[ia, ib]
    split = KFold(n_splits=folds, shuffle=True, random_state=seed)
    boosting = GradientBoostingRegressor(
        n_estimators=200, max_depth=3, learning_rate=0.05, subsample=0.8, random_state=seed
    )
    linear = LinearRegression()
    scores = {
        "gradient_boosting": -cross_val_score(
            boosting, rows, target, cv=split, scoring="neg_mean_absolute_error"
        ).mean(),
        "linear": -cross_val_score(
            linear, rows, target, cv=split, scoring="neg_mean_absolute_error"
        ).mean(),
    }
    kind = min(scores, key=lambda k: scores[k])
    estimator = boosting if kind == "gradient_boosting" else linear
    estimator.fit(rows, target)
    return CrowflyModel(
        estimator=estimator,
        kind=kind,
        cv_mae_minutes=float(scores[kind]),
        linear_cv_mae_minutes=float(scores["linear"]),
        boosting_cv_mae_minutes=float(scores["gradient_boosting"]),
        n_pairs=len(target),
        radius_metres=float(radius_metres),
        tree=tree,
    )
