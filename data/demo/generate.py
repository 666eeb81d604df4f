"""Generate Demoshire, sitefinder's fictional demo authority, into this folder.

Deterministic: one seeded generator, no other randomness, fixed rounding, so rerunning
reproduces every file byte for byte. Run with ``python data/demo/generate.py``.

Demoshire is a market town, Demoford, with a rural hinterland of villages, placed in
British National Grid metres (EPSG:27700). A river runs north-south through the town.
Existing bases sit in or near the town, so the rural east and west are poorly served:
that is what the demo is meant to show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon

HERE = Path(__file__).resolve().parent
SEED = 20261122
CENTRE = (452_000.0, 318_000.0)
TOWN_RADIUS = 3_500.0

# England 2025 primary need of EHC plans (DfE SEN2), percent.
NATIONAL_SHARES = {
    "ASD": 31.5, "SLCN": 21.3, "SEMH": 20.7, "MLD": 10.6, "SLD": 4.0, "PD": 3.9,
    "SpLD": 2.3, "HI": 1.4, "PMLD": 1.3, "OTH": 1.2, "VI": 0.8, "MSI": 0.3,
}  # fmt: skip
# Gentle phase tilt: speech and language needs are found earlier, SEMH later.
PHASE_TILT = {"primary": {"SLCN": 1.35, "SEMH": 0.75}, "secondary": {"SLCN": 0.55, "SEMH": 1.4}}
# Base-place rate: 5.3% of pupils have an EHC plan; the authority plans for about 1 in 18 of
# them (0.3% of children) to be best served in a mainstream base, above today's national 3.8%
# of plans placed in resourced provision or SEN units (DfE SEN2, January 2025).
BASE_PLACE_RATE = 0.003

VILLAGES = [  # name, offset from the centre (metres), relative size
    ("Hadley", (-11_000, 6_000), 1.0), ("Little Hadley", (-14_500, -2_500), 0.4),
    ("Ashby Parva", (-8_500, -8_000), 0.7), ("Westcombe", (-13_000, 9_500), 0.5),
    ("Kingsmere", (9_000, 7_500), 1.1), ("Brockton", (12_500, -1_500), 0.8),
    ("Eastwold", (14_000, 8_500), 0.5), ("Fenwick", (10_500, -8_500), 0.6),
    ("Northby", (1_500, 10_500), 0.7), ("Southam Cross", (-1_500, -10_500), 0.9),
    ("Oakley Green", (-5_000, 9_000), 0.4), ("Thornbury End", (5_500, -10_000), 0.45),
]  # fmt: skip
TOWN_PRIMARY_NAMES = [
    "St Mary's CofE Primary School", "Oakfield Primary School", "Riverside Primary School",
    "Demoford Park Primary School", "St Joseph's Catholic Primary School", "Meadow Lane Primary",
    "Castle Hill Primary School", "Greenway Primary Academy", "Willow Bank Primary School",
    "Bridge Street Primary School", "Holy Trinity CofE Primary School", "Millfield Primary School",
    "Orchard Way Primary School", "The Grange Primary School", "Station Road Primary School",
    "Beech Hill Primary Academy", "St Anne's CofE Primary School", "Ferry Lane Primary School",
    "Queensway Primary School", "Abbey Fields Primary School", "Lark Rise Primary School",
    "Hillcrest Primary School", "Market Cross Primary School", "Brookside Primary Academy",
    "Victoria Primary School", "Cedars Primary School", "Northgate Primary School",
    "Southgate Primary School", "Elmhurst Primary School", "Westfield Primary Academy",
    "Eastfield Primary School", "Kingfisher Primary School", "Mill Pond Primary School",
    "Parkside Primary School", "St Peter's CofE Primary School", "Heron Way Primary School",
    "Linden Primary School", "Ashgrove Primary School", "Foxhill Primary Academy",
    "Riverside Junior School",
]  # fmt: skip


def river_line() -> LineString:
    """The river through Demoford, north to south (EPSG:27700 metres)."""
    x, y = CENTRE
    return LineString(
        [(x - 1_500, y + 13_000), (x - 400, y + 5_000), (x + 300, y + 1_000),
         (x - 200, y - 2_500), (x + 900, y - 7_000), (x + 200, y - 13_000)]
    )  # fmt: skip


def boundary() -> Polygon:
    """The authority's outline: an irregular 32 km x 26 km shape."""
    x, y = CENTRE
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    wobble = 1 + 0.08 * np.sin(3 * angles) + 0.05 * np.cos(5 * angles)
    return Polygon(
        zip(x + 16_000 * wobble * np.cos(angles), y + 13_000 * wobble * np.sin(angles), strict=True)
    )


def _inside(
    rng: np.random.Generator, centre: tuple[float, float], spread: float
) -> tuple[float, float]:
    outline = boundary().buffer(-400)
    while True:
        px, py = rng.normal(centre[0], spread), rng.normal(centre[1], spread)
        if outline.contains(Point(px, py)):
            return px, py


def _villages() -> list[tuple[str, tuple[float, float], float]]:
    x, y = CENTRE
    return [(name, (x + dx, y + dy), size) for name, (dx, dy), size in VILLAGES]


def make_areas(rng: np.random.Generator) -> pd.DataFrame:
    """150 LSOA-like areas: 100 in the town, 50 rural, weighted by village size."""
    points, names, kinds = [], [], []
    for i in range(100):
        radius = TOWN_RADIUS * np.sqrt(rng.uniform(0, 1))
        angle = rng.uniform(0, 2 * np.pi)
        points.append((CENTRE[0] + radius * np.cos(angle), CENTRE[1] + radius * np.sin(angle)))
        names.append(f"Demoford {i // 4 + 1:03d}{'ABCD'[i % 4]}")
        kinds.append("town")
    villages = _villages()
    weights = np.array([size for *_, size in villages])
    picks = rng.choice(len(villages), size=50, p=weights / weights.sum())
    counts: dict[str, int] = {}
    for index in picks:
        name, centre, _ = villages[index]
        points.append(_inside(rng, centre, 1_800))
        counts[name] = counts.get(name, 0) + 1
        names.append(f"{name} {counts[name]:03d}{'ABCD'[counts[name] % 4]}")
        kinds.append("rural")
    xy = np.round(np.array(points))
    deprivation = np.where(
        np.array(kinds) == "town",
        # the east bank of the town is more deprived
        np.clip(1.0 + (xy[:, 0] - CENTRE[0]) / 4_000 + rng.normal(0, 0.25, len(xy)), 0.5, 2.0),
        np.clip(rng.normal(0.85, 0.2, len(xy)), 0.5, 2.0),
    )
    return pd.DataFrame(
        {
            "area_code": [f"E9{i + 1:07d}" for i in range(len(xy))],
            "area_name": names,
            "easting": xy[:, 0].astype(int),
            "northing": xy[:, 1].astype(int),
            "child_pop_primary": rng.integers(90, 200, len(xy)),
            "child_pop_secondary": rng.integers(60, 140, len(xy)),
            "deprivation": deprivation.round(2),
        }
    )


def make_boundaries(areas: pd.DataFrame) -> dict:
    """Voronoi cells of the area points, clipped to the authority, as WGS84 GeoJSON."""
    points = shapely.points(areas[["easting", "northing"]].to_numpy(dtype=float))
    cells = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=boundary())
    outline = boundary()
    to_wgs84 = Transformer.from_crs(27700, 4326, always_xy=True)
    features = []
    for code, name, point in zip(areas["area_code"], areas["area_name"], points, strict=True):
        cell = next(c for c in cells.geoms if c.contains(point)).intersection(outline)
        lon, lat = to_wgs84.transform(*np.asarray(cell.exterior.coords).T)
        ring = [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat, strict=True)]
        features.append(
            {
                "type": "Feature",
                "properties": {"area_code": code, "area_name": name},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


# Every school is mixed; one grammar school selects by ability (GIAS AdmissionsPolicy), and
# primary schools have no admissions policy in GIAS's sense ("Not applicable").
SELECTIVE = {"Demoford Grammar School"}


@dataclass(frozen=True)
class Kind:
    """What a school is: its phase, establishment group and statutory ages (years)."""

    phase: str
    group: str
    ages: tuple[int, int]


@dataclass(frozen=True)
class Roll:
    """A school's places and pupils, and how many of them have an EHC plan (children)."""

    capacity: int
    pupils: int
    ehcp: int


def _school(urn, name, kind: Kind, roll: Roll, xy) -> dict:
    admissions = (
        "selective" if name in SELECTIVE
        else "not applicable" if kind.phase == "primary"
        else "non-selective"
    )  # fmt: skip
    return {
        "urn": urn, "name": name, "phase": kind.phase, "establishment_group": kind.group,
        "gender": "mixed", "admissions_policy": admissions,
        "statutory_low_age": kind.ages[0], "statutory_high_age": kind.ages[1],
        "capacity": int(roll.capacity), "pupils": int(roll.pupils), "ehcp_pupils": int(roll.ehcp),
        "easting": round(xy[0]), "northing": round(xy[1]),
    }  # fmt: skip


def make_schools(rng: np.random.Generator) -> pd.DataFrame:
    """About 80 schools: primaries in town and villages, secondaries, all-through, special,
    independent."""
    rows: list[dict] = []
    urn = iter(range(990001, 999999))

    def fill(capacity: int, full_from: float = 0.75, full_to: float = 1.05) -> int:
        return int(capacity * rng.uniform(full_from, full_to))

    def ehcp(pupils: int) -> int:
        share = rng.uniform(0.07, 0.10) if rng.uniform() < 0.08 else rng.uniform(0.02, 0.05)
        return round(pupils * share)

    def add(name: str, kind: Kind, capacity: int, xy, roll: Roll | None = None) -> None:
        """Add a school; its pupils and EHC plans are drawn when ``roll`` does not give them."""
        if roll is None:
            pupils = fill(capacity)
            roll = Roll(capacity, pupils, ehcp(pupils))
        rows.append(_school(next(urn), name, kind, roll, xy))

    primary = Kind("primary", "mainstream", (4, 11))
    secondary = Kind("secondary", "mainstream", (11, 18))

    for name in TOWN_PRIMARY_NAMES:
        capacity = int(rng.choice([210, 315, 420, 630], p=[0.3, 0.2, 0.4, 0.1]))
        add(name, primary, capacity, _inside(rng, CENTRE, TOWN_RADIUS / 1.6))
    for village, centre, size in _villages():
        count = 3 if size >= 0.9 else 2 if size >= 0.6 else 1
        for k in range(count):
            name = [f"{village} Primary School", f"{village} CofE Primary School",
                    f"St Andrew's {village} Primary School"][k]  # fmt: skip
            capacity = int(rng.choice([90, 105, 140, 210]))
            add(name, primary, capacity, _inside(rng, centre, 500))
    secondaries = [
        ("Demoford Academy", CENTRE, 1500), ("Demoford High School", CENTRE, 1200),
        ("St Edmund's Catholic High School", CENTRE, 1000), ("Riverside College", CENTRE, 1650),
        ("Castle Hill Academy", CENTRE, 1100), ("Demoford Grammar School", CENTRE, 900),
        ("Hadley Community College", _villages()[0][1], 1000),
        ("Kingsmere School", _villages()[4][1], 1100),
        ("Southam Cross Academy", _villages()[9][1], 950),
        ("Brockton Valley School", _villages()[5][1], 900),
    ]  # fmt: skip
    for name, centre, capacity in secondaries:
        spread = TOWN_RADIUS / 1.8 if centre == CENTRE else 600
        add(name, secondary, capacity, _inside(rng, centre, spread))
    for name, centre in [
        ("Demoford All Saints School", CENTRE),
        ("Fenwick Academy", _villages()[7][1]),
    ]:
        add(name, Kind("all-through", "mainstream", (4, 18)), 1400, _inside(rng, centre, 800))
    specials = [("Brook House School", "primary"), ("Demoford Park Special School", "all-through"),
                ("The Beacon School", "secondary")]  # fmt: skip
    for name, phase in specials:
        pupils = int(rng.integers(80, 160))
        roll = Roll(pupils + 10, pupils, pupils)  # every pupil of a special school has a plan
        add(name, Kind(phase, "special", (2, 19)), pupils + 10, _inside(rng, CENTRE, 3000), roll)
    independents = [
        ("Demoford School", "all-through"), ("St Hilda's Preparatory School", "primary"),
        ("Kingsmere Hall School", "secondary"), ("Hadley Manor School", "secondary"),
    ]  # fmt: skip
    for name, phase in independents:
        ages = {"primary": (3, 11), "secondary": (11, 18), "all-through": (3, 18)}[phase]
        add(
            name,
            Kind(phase, "independent", ages),
            int(rng.integers(200, 700)),
            _inside(rng, CENTRE, 6000),
        )
    return pd.DataFrame(rows)


LABELS = {"resourced_provision": "Resourced Provision", "sen_unit": "SEN Unit"}


def make_bases(schools: pd.DataFrame) -> pd.DataFrame:
    """Six existing bases, all in the town, so the rural east and west are poorly served."""
    by_name = schools.set_index("name")["urn"]
    specs = [
        ("Oakfield Primary School", "resourced_provision", "primary", 16, "ASD;SLCN"),
        ("Riverside Primary School", "sen_unit", "primary", 10, "SEMH"),
        ("Millfield Primary School", "resourced_provision", "primary", 10, "MLD;SpLD"),
        ("Demoford Academy", "resourced_provision", "secondary", 16, "ASD"),
        ("Castle Hill Academy", "sen_unit", "secondary", 10, "SEMH"),
        ("Riverside College", "resourced_provision", "secondary", 8, "HI;VI;PD"),
    ]
    return pd.DataFrame(
        [
            {"urn": by_name[host], "base_name": f"{host} {LABELS[kind]}", "base_type": kind,
             "phase": phase, "capacity": places, "need_codes": codes}
            for host, kind, phase, places, codes in specs
        ]
    )  # fmt: skip


def make_demand(rng: np.random.Generator, areas: pd.DataFrame) -> pd.DataFrame:
    """Children needing a base place: Poisson counts by area, phase and need code."""
    rows = []
    for area in areas.itertuples():
        for phase, population in (
            ("primary", area.child_pop_primary),
            ("secondary", area.child_pop_secondary),
        ):
            shares = np.array(
                [s * PHASE_TILT[phase].get(c, 1.0) for c, s in NATIONAL_SHARES.items()]
            )
            expected = population * BASE_PLACE_RATE * area.deprivation * shares / shares.sum()
            for code, children in zip(NATIONAL_SHARES, rng.poisson(expected), strict=True):
                if children > 0:
                    rows.append(
                        {
                            "area_code": area.area_code,
                            "phase": phase,
                            "need_code": code,
                            "children": int(children),
                        }
                    )
    return pd.DataFrame(rows)


def main() -> None:
    rng = np.random.default_rng(SEED)
    areas = make_areas(rng)
    schools = make_schools(rng)
    bases = make_bases(schools)
    demand = make_demand(rng, areas)
    write = {"lineterminator": "\n", "index": False}
    schools.to_csv(HERE / "schools.csv", **write)
    bases.to_csv(HERE / "bases.csv", **write)
    areas.drop(columns="deprivation").to_csv(HERE / "areas.csv", **write)
    demand.to_csv(HERE / "demand.csv", **write)
    (HERE / "boundaries.geojson").write_text(
        json.dumps(make_boundaries(areas)) + "\n", encoding="utf-8"
    )

    print(f"schools: {len(schools)}")
    print(schools.groupby(["establishment_group", "phase"]).size().to_string())
    print(f"areas: {len(areas)}; existing bases: {len(bases)} ({bases['capacity'].sum()} places)")
    totals = (
        demand.groupby("need_code")["children"].sum().reindex(list(NATIONAL_SHARES), fill_value=0)
    )
    total = int(totals.sum())
    print(f"children needing a base place: {total}")
    for code, children in totals.items():
        share = children / total
        print(f"  {code:5s} {children:4d}  {share:6.1%}  (England {NATIONAL_SHARES[code]}%)")


if __name__ == "__main__":
    main()
