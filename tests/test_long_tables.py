"""A long demand table (one row per child) is read a chunk at a time as categories, checked once
per distinct value and added up per area, phase, need and age: the same answers and the same
lines as a cell-by-cell reading, checked here against sums and lines worked out in the test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitefinder.readers import tables
from sitefinder.readers.own_layout import read_demand_counts
from sitefinder.validate import NumberRule, Problems

AREAS = pd.DataFrame({"area_code": ["E1", "E2", "E3"]})


def test_cells_are_checked_once_per_value_and_named_at_every_line():
    table = pd.DataFrame({"n": ["1", "x", "1", " ", "x", "2.5", "-1", "1e400"]})
    problems = Problems()
    values = problems.numbers(Path("f.csv"), table, "n", rule=NumberRule(minimum=0))
    assert problems.items == [
        "f.csv: column n, line 5: blank value (fill it in)",
        "f.csv: column n, lines 3, 6: not a number (write digits only)",
        "f.csv: column n, line 9: not a finite number (write digits only)",
        "f.csv: column n, line 8: must be >= 0",
    ]
    assert values.tolist()[:3] == [1.0, pytest.approx(np.nan, nan_ok=True), 1.0]
    assert values.iloc[5] == 2.5 and values.iloc[[1, 3, 4, 6, 7]].isna().all()


def test_rows_repeating_an_area_phase_need_and_age_are_added_up(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "CHUNK_ROWS", 2)  # several chunks, categories joined
    path = tmp_path / "demand.csv"
    path.write_text(
        "area_code,phase,need_code,age,children\n"
        "E2,primary,ASD,5,1\n"
        "E1 ,secondary,SEMH,12,2\n"  # a space: the same area as E1
        "E2,primary,ASD,5,1.5\n"
        "E1,secondary,SEMH,12,1\n"
        "E2,primary,ASD,6,1\n"
        "E3,primary, ASD,,4\n"
        "E3,primary,ASD,,1\n",
        encoding="utf-8",
    )
    problems = Problems()
    demand = read_demand_counts(path, problems, areas=AREAS)
    assert problems.items == [] and demand is not None
    rows = [tuple(r) for r in demand.astype(object).where(demand.notna(), None).to_numpy()]
    assert rows == [  # in the order each first appears
        ("E2", "primary", "ASD", 5, 2.5),
        ("E1", "secondary", "SEMH", 12, 3.0),
        ("E2", "primary", "ASD", 6, 1.0),
        ("E3", "primary", "ASD", None, 5.0),
    ]
    assert [str(t) for t in demand.dtypes] == ["str", "str", "str", "Int64", "float64"]


def test_a_bad_row_of_a_long_table_is_named_at_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "CHUNK_ROWS", 3)
    lines = ["area_code,phase,need_code,children"] + ["E1,primary,ASD,1"] * 10
    lines[8] = "E9,primary,ASD,two"  # line 9
    path = tmp_path / "demand.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = Problems()
    read_demand_counts(path, problems, areas=AREAS)
    assert problems.items == [
        f"{path}: column children, line 9: not a number (write digits only)",
        f"{path}: column area_code, line 9: not an area_code in the areas file (add the area or"
        " fix the code)",
    ]


_ROW = st.tuples(
    st.sampled_from(["E1", "E2", " E3", "E3"]),
    st.sampled_from(["primary", "secondary"]),
    st.sampled_from(["ASD", "SLCN", "SEMH"]),
    st.sampled_from(["", "5", "12"]),
    st.integers(min_value=0, max_value=3),
)


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(_ROW, min_size=1, max_size=40), chunk=st.integers(1, 7))
def test_the_totals_are_the_files_sums(tmp_path_factory, rows, chunk):
    # Against the sums of the file's rows worked out here with plain Python.
    path = tmp_path_factory.mktemp("d") / "demand.csv"
    body = "".join(f"{a},{p},{n},{g},{c}\n" for a, p, n, g, c in rows)
    path.write_text("area_code,phase,need_code,age,children\n" + body, encoding="utf-8")
    expected: dict[tuple[str, str, str, int | None], float] = {}
    for area, phase, need, age, children in rows:
        key = (area.strip(), phase, need, int(age) if age else None)
        expected[key] = expected.get(key, 0.0) + children
    original = tables.CHUNK_ROWS
    tables.CHUNK_ROWS = chunk
    try:
        problems = Problems()
        demand = read_demand_counts(path, problems, areas=AREAS)
    finally:
        tables.CHUNK_ROWS = original
    assert problems.items == [] and demand is not None
    got = {
        (a, p, n, None if pd.isna(g) else int(g)): c
        for a, p, n, g, c in demand.itertuples(index=False)
    }
    assert got == expected
    assert list(got) == list(expected)  # first appearance order
