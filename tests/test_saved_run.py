"""One run, every output: rank writes the table, GeoPackage, map and report from one computation,
and map and report drawn later from the saved GeoPackage are the same files, byte for byte."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from sitefinder import load_scenario, rank, with_settings
from sitefinder.cli import app
from sitefinder.columns import records
from sitefinder.disclosure import Withheld
from sitefinder.errors import DataError
from sitefinder.export import read_run, write_geopackage
from sitefinder.published import LAYERS, RUN_FORMAT, TABLES, publish, spec
from sitefinder.report import to_json
from sitefinder.resources import default_scenario_path

runner = CliRunner()
EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}


def invoke(*args: str):
    return runner.invoke(app, list(args), env=EPOCH)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """``rank`` writing every output at once, on the demo with robustness runs (every table
    has rows) and the flat fallback (small counts to withhold)."""
    folder = tmp_path_factory.mktemp("saved")
    config = folder / "demo.toml"
    config.write_text(
        f'extends = "{default_scenario_path().as_posix()}"\ntop = 6\n'
        '[fallback]\nmethod = "flat"\n[robustness]\nruns = 2\n',
        encoding="utf-8",
    )
    ranked = invoke(
        "rank", "--config", str(config), "--format", "json",
        "--output", str(folder / "run.gpkg"), "--map", str(folder / "map.png"),
        "--report", str(folder / "report.html"),
    )  # fmt: skip
    assert ranked.exit_code == 0, ranked.output
    return folder, ranked


def test_rank_writes_every_output_from_one_run(saved):
    folder, ranked = saved
    for name in ("run.gpkg", "map.png", "report.html"):
        assert f"Wrote {folder / name}\n" in ranked.stderr
    assert ranked.stderr.count("plan chosen in") == 1  # one computation
    # The stdout JSON is what the saved run publishes.
    assert to_json(read_run(folder / "run.gpkg"), top=6) == ranked.stdout


def test_report_and_map_from_the_saved_run_are_byte_identical(saved):
    folder, _ = saved
    report = invoke("report", "--from", str(folder / "run.gpkg"), "-o", str(folder / "r2.html"))
    assert report.exit_code == 0, report.output
    picture = invoke("map", "--from", str(folder / "run.gpkg"), "-o", str(folder / "m2.png"))
    assert picture.exit_code == 0, picture.output
    assert "plan chosen" not in report.stderr + picture.stderr  # nothing recomputed
    assert (folder / "r2.html").read_bytes() == (folder / "report.html").read_bytes()
    assert (folder / "m2.png").read_bytes() == (folder / "map.png").read_bytes()
    text = (folder / "r2.html").read_text(encoding="utf-8")
    assert "Robustness" in text and "Generated 2023-11-14" in text


def test_a_saved_run_reads_back_cell_for_cell(tmp_path):
    scenario = with_settings(
        load_scenario(default_scenario_path()), {"fallback.method": "flat", "top": 8}
    )
    run = publish(rank(scenario))
    back = read_run(write_geopackage(run, tmp_path / "run.gpkg"))
    assert back.facts == run.facts
    withheld = 0
    for name in (*LAYERS, *TABLES):
        if name == "run_facts":
            continue
        mine, theirs = run[name], back[name]
        assert list(theirs.columns) == list(mine.columns), name
        assert len(theirs) == len(mine), name
        for column in mine.columns:
            for a, b in zip(mine[column], theirs[column], strict=True):
                if isinstance(a, Withheld):
                    withheld += 1
                    assert b == a, (name, column)  # withheld stays withheld, of its kind
                elif pd.isna(a):
                    assert pd.isna(b), (name, column)
                elif isinstance(a, str):
                    assert b == a, (name, column)
                else:  # a number stays a number (a float written as text would print raw)
                    assert not isinstance(b, str) and float(b) == float(a), (name, column, a, b)
        if spec(name, mine):
            assert records(theirs, spec(name, theirs)) == records(mine, spec(name, mine))
    assert withheld > 20  # the flat demo withholds many small counts and their harm
    polygons = [s for s in run.area_shapes if s is not None]
    assert polygons and all(
        shapely.equals_exact(a, b, tolerance=0)
        for a, b in zip(run.area_shapes, back.area_shapes, strict=True)
        if a is not None
    )


def test_a_real_rural_run_saved_and_drawn_again_is_the_same_report(real_data, tmp_path):
    """Rutland on its roads: left-out sites, alternatives and polygons read back exactly."""
    from pathlib import Path

    config = Path(__file__).resolve().parent.parent / "configs" / "examples" / "rutland.toml"
    env = {**EPOCH, "SITEFINDER_REAL_DATA": str(real_data)}
    first = runner.invoke(
        app,
        ["rank", "-c", str(config), "-o", str(tmp_path / "run.gpkg"), "--report",
         str(tmp_path / "a.html"), "--format", "csv"],
        env=env,
    )  # fmt: skip
    assert first.exit_code == 0, first.output
    again = runner.invoke(
        app,
        ["report", "--from", str(tmp_path / "run.gpkg"), "-o", str(tmp_path / "b.html")],
        env=env,
    )
    assert again.exit_code == 0, again.output
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()


def _refused(path, tmp_path) -> list[str]:
    lines = []
    for command, out in (("map", "m.png"), ("report", "r.html")):
        result = invoke(command, "--from", str(path), "--output", str(tmp_path / out))
        assert result.exit_code == 1, result.output
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
        assert not (tmp_path / out).exists()
        lines.append(result.stderr)
    assert lines[0] == lines[1]
    return lines


def test_map_and_report_refuse_a_file_sitefinder_did_not_write(tmp_path):
    text = tmp_path / "notes.gpkg"
    text.write_text("not a geopackage\n", encoding="utf-8")
    assert "not a GeoPackage" in _refused(text, tmp_path)[0]
    other = tmp_path / "other.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs="EPSG:27700").to_file(other)
    assert "not a GeoPackage written by sitefinder rank" in _refused(other, tmp_path)[0]
    assert "file not found" in _refused(tmp_path / "missing.gpkg", tmp_path)[0]


def test_map_and_report_refuse_a_run_of_another_format(tmp_path, saved):
    folder, _ = saved
    old = tmp_path / "old.gpkg"
    old.write_bytes((folder / "run.gpkg").read_bytes())
    with closing(sqlite3.connect(old)) as connection, connection:
        connection.execute("UPDATE run_info SET value = '0' WHERE key = 'run_format'")
    message = _refused(old, tmp_path)[0]
    assert f"in run format 0; this sitefinder reads run format {RUN_FORMAT}" in message
    with closing(sqlite3.connect(old)) as connection, connection:
        connection.execute(
            "UPDATE run_info SET value = ? WHERE key = 'run_format'", (str(RUN_FORMAT),)
        )
        connection.execute("DROP TABLE plan_left_out")
    assert "has no plan_left_out table" in _refused(old, tmp_path)[0]
    with closing(sqlite3.connect(old)) as connection, connection:
        connection.execute("DELETE FROM run_info WHERE key = 'run_format'")  # before format 1
    with pytest.raises(
        DataError, match=f"run format none; this sitefinder reads run format {RUN_FORMAT}"
    ):
        read_run(old)


def test_from_refuses_the_options_the_run_fixed(saved, tmp_path):
    folder, _ = saved
    result = invoke(
        "report", "--from", str(folder / "run.gpkg"), "--bases", "2", "-o", str(tmp_path / "r.html")
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --from draws the saved run")
    assert "--bases" in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_every_target_is_checked_before_any_work(tmp_path):
    taken = tmp_path / "map.png"
    taken.write_bytes(b"keep")
    result = invoke(
        "rank", "--output", str(tmp_path / "run.gpkg"), "--map", str(taken),
        "--report", str(tmp_path / "report.html"),
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr == f"error: {taken}: already exists (pass --overwrite to replace it)\n"
    assert result.stdout == ""  # nothing ranked
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.png"]
    missing = invoke("rank", "--report", str(tmp_path / "no" / "r.html"), "--map", "x.png")
    assert missing.exit_code == 1 and "does not exist" in missing.stderr
    styled = invoke("rank", "--template-dir", str(tmp_path))
    assert styled.exit_code == 2 and "--report" in styled.stderr


def test_a_count_withheld_for_a_margin_reads_back_as_c_not_under_5():
    from sitefinder.disclosure import Rule, protect
    from sitefinder.export import _marked, _nulls

    rule = Rule(threshold=5, unmet=25.0)
    table = pd.DataFrame({"area_code": ["a", "b", "c"], "children": [3.0, 6.0, 20.0]})
    shown = protect(table, {"children": "count"}, rule, margins=[None])
    assert [str(v) for v in shown["children"]] == ["<5", "c", "20.0"]
    stored = _nulls(shown)
    assert stored["withheld"].tolist() == ["children", "children=c", ""]
    assert stored["children"].isna().tolist() == [True, True, False]
    back = _marked("demand", stored, 5)
    assert [str(v) for v in back["children"]] == ["<5", "c", "20.0"]
