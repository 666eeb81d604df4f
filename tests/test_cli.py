import csv
import io
import json

import pytest
import typer
from typer.testing import CliRunner

from sitefinder.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_rank_on_the_demo_lists_the_top_rows_and_summary():
    result = invoke("rank", "--bases", "2", "--top", "4")
    assert result.exit_code == 0, result.output
    assert "candidate host schools" in result.stdout
    assert "Network before and after 2 new bases" in result.stdout
    assert "In plan" in result.stdout and "yes" in result.stdout


def test_rank_csv_has_k_plan_rows_and_required_columns():
    result = invoke("rank", "--bases", "3", "--top", "5", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 5
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4", "5"]
    # Rows in the plan's chosen set (the exact MIP may differ from the greedy first three).
    plan = json.loads(invoke("rank", "--bases", "3", "--format", "json").stdout)["plan"]
    chosen = {(c["urn"], c["phase"], c["need_group"]) for c in plan["chosen"]}
    assert len(chosen) == 3
    # A row is in the plan when its school hosts a planned base, whatever the option.
    hosts = {urn for urn, _, _ in chosen}
    assert [r["in_plan"] == "True" for r in rows] == [r["urn"] in hosts for r in rows]
    assert any(
        r["in_plan"] == "True" and (r["urn"], r["phase"], r["need_group"]) not in chosen
        for r in rows
    )  # Millfield: ranked for one need group, planned for another
    for column in ("rank", "urn", "name", "phase", "need_group", "harm_averted"):
        assert column in rows[0]
    averted = [float(r["harm_averted"]) for r in rows if r["harm_averted"] != "c"]
    assert len(averted) >= 4 and all(a > 0 for a in averted)


def test_rank_json_matches_csv():
    as_json = json.loads(invoke("rank", "--top", "3", "--format", "json").stdout)["ranking"]
    as_csv = list(
        csv.DictReader(io.StringIO(invoke("rank", "--top", "3", "--format", "csv").stdout))
    )
    assert [r["urn"] for r in as_json] == [r["urn"] for r in as_csv]
    assert [r["harm_averted"] for r in as_json] == [float(r["harm_averted"]) for r in as_csv]


def test_same_inputs_give_identical_output():
    first = invoke("rank", "--format", "csv").stdout
    assert invoke("rank", "--format", "csv").stdout == first


def test_validate_demo():
    result = invoke("validate")
    assert result.exit_code == 0
    assert ": valid. " in result.stdout


def test_missing_config_file_is_one_line_exit_1(tmp_path):
    path = tmp_path / "missing.toml"
    result = invoke("rank", "--config", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {path}: scenario file not found (check the path given to --config)\n"
    )
    assert result.stdout == ""


def test_unknown_key_exit_1(scenario_file):
    path = scenario_file("[harm]\nfree_minuts = 3\n")
    result = invoke("validate", "--config", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {path}: harm.free_minuts: unknown key"
        " (check the spelling against the scenario reference)\n"
    )


def test_bad_value_exit_1(scenario_file):
    path = scenario_file("base_size = 0\n")
    result = invoke("rank", "--config", str(path))
    assert result.exit_code == 1
    assert result.stderr == f"error: {path}: base_size: must be from 1 to 200 places (got 0)\n"


def test_a_name_in_square_brackets_is_printed_as_written(scenario_file):
    # Rich would read "[draft]" as a markup tag and drop it from the table's title.
    path = scenario_file('name = "Demoshire [draft]"\n')
    result = invoke("rank", "--config", str(path), "--top", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Demoshire [draft]: candidate host schools")


def test_missing_data_file_and_bad_column_reported_together(scenario_file, tmp_path):
    schools = tmp_path / "schools.csv"
    schools.write_text("urn,name,phase,capacity,pupils,easting,northing\n1,A,primary,10,5,1,2\n")
    missing = tmp_path / "nowhere.csv"
    path = scenario_file(inputs={"schools": str(schools), "areas": str(missing)})
    result = invoke("validate", "--config", str(path))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {schools}: missing column establishment_group (the file has: urn, name, phase,"
        " capacity, pupils, easting, northing)",
        f"error: {missing}: file not found (check the path in the scenario's [inputs])",
    ]


def test_usage_error_exit_2():
    assert invoke("rank", "--bases", "-1").exit_code == 2
    assert invoke("rank", "--format", "xml").exit_code == 2


def _commands(group: typer.Typer):
    return [c.name or c.callback.__name__ for c in group.registered_commands]


@pytest.mark.parametrize("command", _commands(app))
def test_every_command_has_help(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Usage: " in result.stdout
    assert len(result.stdout.splitlines()) > 5


@pytest.mark.parametrize("command", _commands(app))
def test_every_option_help_is_shown_whole(command):
    # Rich reads "[...]" in help text as markup and silently drops it ("[default: 2]").
    click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    page = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "400"}).stdout
    shown = " ".join(page.replace("│", " ").split())  # box borders of wrapped lines out
    for param in click_command.params:
        text = " ".join((getattr(param, "help", None) or "").split())
        assert text in shown, (command, text)


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("sitefinder ")


def test_json_counts_are_numbers_or_suppressed_markers():
    document = json.loads(invoke("rank", "--top", "10", "--format", "json").stdout)
    rows = document["ranking"] + document["plan"]["chosen"]
    values = [
        r[k]
        for r in rows
        for k in ("children_served", "newly_placed", "within_limit_gain")
        if k in r
    ]
    assert all(
        (isinstance(v, int | float) and (v == 0 or abs(v) >= 5)) or v == "<5" for v in values
    )
    assert "<5" in values  # the demo's later picks serve only a few children


def test_rank_methods_show_the_plan_greedy_order_and_difference():
    result = invoke("rank", "--method", "optimal", "--top", "4")
    assert result.exit_code == 0, result.output
    out = result.stdout
    flat = " ".join(out.split())  # the terminal wraps the long proof
    assert (
        "The plan: 3 new base(s) chosen together (exact MIP, proven optimal for the model (no"
        " set is better by more than 0.01 harm points); within" in flat
    )
    assert "candidate host schools for new inclusion bases" in out  # the greedy order
    # piped, the plan table is wide enough that no heading is folded (at 140 columns its
    # caveats column was four letters wide)
    assert "Caveats" in out and "Areas served" in out
    assert "Total harm with the plan 37.27 against 37.38 for the greedy order's first 3:" in out
    assert "Strongest candidates left out" in out
    greedy = invoke("rank", "--method", "greedy", "--format", "json")
    plan = json.loads(greedy.stdout)["plan"]
    assert plan["method"] == "greedy" and plan["gap"] is None and not plan["proven_optimal"]
    assert plan["total_harm"] <= plan["greedy_total_harm"]


def test_robustness_runs_appear_in_the_table_and_json():
    result = invoke("rank", "--runs", "4", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["plan"]["robustness_runs"] == 4
    shares = [c["robustness"] for c in document["plan"]["chosen"]]
    assert all(s in (0.0, 0.25, 0.5, 0.75, 1.0) for s in shares)
    assert any(s > 0 for s in shares)
    table = invoke("rank", "--runs", "4").stdout
    assert "Robust: share of 4 runs" in table


def test_map_and_report_commands_write_their_files(tmp_path):
    png, html = tmp_path / "map.png", tmp_path / "report.html"
    result = invoke("map", "--output", str(png))
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.stderr.endswith(f"Wrote {png}\n")
    again = invoke("map", "--output", str(png))
    assert again.exit_code == 1
    assert again.stderr == f"error: {png}: already exists (pass --overwrite to replace it)\n"
    result = invoke("report", "--output", str(html))
    assert result.exit_code == 0, result.output
    text = html.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html>")
    assert "data:image/png;base64," in text and "<script src" not in text
    vector = invoke("map", "--output", str(tmp_path / "map.svg"))
    assert vector.exit_code == 0, vector.output
    assert b"<svg" in (tmp_path / "map.svg").read_bytes()[:400]
    jpeg = invoke("map", "--output", str(tmp_path / "map.jpg"))
    assert jpeg.exit_code == 1
    assert jpeg.stderr == (
        f"error: {tmp_path / 'map.jpg'}: the map must be a file ending in .png, .svg or .pdf"
        " (the extension chooses the format)\n"
    )
    wrong = invoke("report", "--output", str(tmp_path / "report.pdf"))
    assert wrong.exit_code == 1
    assert wrong.stderr == (
        f"error: {tmp_path / 'report.pdf'}: the output must be a HTML report ending in .html\n"
    )


def test_compare_shows_both_scenarios_and_writes_csv(scenario_file, tmp_path):
    first = scenario_file('name = "One base"\nbases = 1\n', name="one.toml")
    second = scenario_file('name = "Two bases"\nbases = 2\n', name="two.toml")
    out = tmp_path / "compare.csv"
    result = invoke("compare", str(first), str(second), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "One base" in result.stdout and "Two bases" in result.stdout
    assert "Sites not in the first scenario" in result.stdout
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["scenario"] for r in rows] == ["One base", "Two bases"]
    assert rows[0]["sites_added"] == "" and rows[1]["sites_added"] != ""
    assert float(rows[1]["harm_after"]) < float(rows[0]["harm_after"])


def test_compare_needs_two_files_and_sweep_checks_its_settings(scenario_file, tmp_path):
    one = scenario_file("")
    result = invoke("compare", str(one))
    assert (result.exit_code, result.stderr) == (
        2, "error: compare needs at least two scenario files\n",
    )  # fmt: skip
    result = invoke(
        "sweep", "--config", str(one), "--set", "harm.exponent", "--set", "harm.exponent=0,2",
        "--output", str(tmp_path / "s.csv"),
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --set harm.exponent: write KEY=V1,V2,... (e.g. harm.exponent=1,2,3)\n"
    )
    result = invoke(
        "sweep", "--config", str(one), "--set", "harm.exponent=0,2", "--set", "bases=1",
        "--output", str(tmp_path / "s.csv"),
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == (
        "error: command line: harm.exponent: must be above 0 and at most 10 (got 0)"
        " (--set harm.exponent=0)\n"
    )
    assert not (tmp_path / "s.csv").exists()


def test_bare_sitefinder_prints_its_help_once():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-m", "sitefinder"], capture_output=True, text=True, cwd=root, timeout=60
    )
    assert done.stdout.count("Usage: sitefinder [OPTIONS] COMMAND [ARGS]...") == 1, done.stdout
    assert " rank " in done.stdout and done.stderr == ""
    in_process = CliRunner().invoke(app, [])
    assert in_process.stdout.count("Usage: sitefinder") == 1


def test_rank_writes_any_published_table_as_csv():
    import io

    import pandas as pd

    document = json.loads(invoke("rank", "--format", "json").stdout)
    costs = invoke("rank", "--format", "csv", "--table", "costs")
    assert costs.exit_code == 0, costs.output
    table = pd.read_csv(io.StringIO(costs.stdout), dtype={"urn": str})
    bases = table[table["row"] == "base"]
    assert bases["urn"].tolist() == [b["urn"] for b in document["costs"]["bases"]]
    assert bases["capital"].tolist() == [b["capital"] for b in document["costs"]["bases"]]
    chosen = invoke("rank", "--format", "csv", "--table", "plan_chosen", "--bases", "2")
    planned = pd.read_csv(io.StringIO(chosen.stdout), dtype={"urn": str})
    assert len(planned) == 2 and "geometry" not in planned.columns
    wrong = invoke("rank", "--format", "csv", "--table", "plans")
    assert wrong.exit_code == 2
    assert wrong.stderr.startswith(
        "error: --table plans: no such table; choose one of ranking, candidates,"
    )
    assert "sufficiency, programme" in wrong.stderr and "run_facts" not in wrong.stderr
    alone = invoke("rank", "--table", "costs")
    assert alone.exit_code == 2
    assert alone.stderr == "error: --table chooses the CSV's table: give --format csv too\n"
