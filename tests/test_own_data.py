"""A whole run on an authority's own files: GIAS extract, LSOA polygons, ONSPD, pupil list."""

from __future__ import annotations

import sqlite3

from layouts import standard_gias, write_boundaries, write_postcodes
from typer.testing import CliRunner

from sitefinder.cli import app

runner = CliRunner()


def _scenario(tmp_path, extra=0, settings=""):
    pupils = tmp_path / "pupils.csv"
    rows = ["pupil_id,postcode,primary_need,nc_year"]
    rows += [f"SECRET{i:03d},ZZ1 1AA,ASD,Y{i % 6 + 1}" for i in range(extra + 7)]
    rows += [f"SECRET{i:03d},ZZ2 2BB,SEMH,Y8" for i in range(100, 103)]
    pupils.write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = tmp_path / "own.toml"
    path.write_text(
        f"""
bases = 1
top = 3
[inputs.schools]
path = "{standard_gias(tmp_path / "gias.csv")}"
format = "gias"
authority = "358"
[inputs.boundaries]
path = "{write_boundaries(tmp_path / "lsoa.geojson")}"
code_column = "lsoa21cd"
name_column = "lsoa21nm"
[inputs]
postcodes = "{write_postcodes(tmp_path / "onspd.csv")}"
[inputs.demand]
method = "pupils"
path = "{pupils}"
{settings}
""",
        encoding="utf-8",
    )
    return path


def test_rank_from_a_pupil_list_never_shows_a_child(tmp_path):
    scenario = _scenario(tmp_path, extra=5)  # 12 primary ASD children, 8 unit places
    out = tmp_path / "shortlist.gpkg"
    result = runner.invoke(app, ["rank", "-c", str(scenario), "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "SECRET" not in result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("rank,urn,name,phase,need_group")
    # 4 primary ASD children have no place until a new primary base opens; the 3 secondary
    # SEMH children (an existing resourced provision serves them) are a suppressed count.
    first = lines[1].split(",")
    assert first[3:5] == ["primary", "communication_interaction"]
    with sqlite3.connect(out) as db:
        tables = [r[0] for r in db.execute("select table_name from gpkg_contents")]
        for table in tables:
            for row in db.execute(f'select * from "{table}"'):
                assert not any("SECRET" in str(v) for v in row)
        children = dict(db.execute("select area_code, children from demand"))
    # 3 children: withheld (NULL); and 12 too, since the published total 15 minus 12 gives 3.
    assert children == {"E01000001": None, "E01000002": None}


def test_validate_own_data_reports_what_it_read(tmp_path):
    result = runner.invoke(app, ["validate", "-c", str(_scenario(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "read 4 open establishment(s) of 358 (1 closed skipped)" in result.stderr
    assert "2 areas from" in result.stderr
    assert result.stdout.endswith(
        "valid. 4 schools (3 mainstream, 3 eligible to host), 2 existing bases (18 places),"
        " 2 areas, 10 children needing a base place.\n"
    )


def test_nothing_to_gain_is_said_plainly(tmp_path):
    # 7 primary ASD children and 8 unit places; 3 secondary children and a 10-place provision.
    # Without the travel term a nearer base could only shorten journeys the curve scores 0.
    out = tmp_path / "empty.gpkg"
    scenario = _scenario(tmp_path, settings="[harm]\nper_minute = 0.0")
    result = runner.invoke(app, ["rank", "-c", str(scenario), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "No new base would avert any harm" in result.stdout
    with sqlite3.connect(out) as db:
        assert db.execute("select count(*) from planned_bases").fetchone() == (0,)
