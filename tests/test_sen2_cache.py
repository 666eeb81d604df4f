"""The SEN2 rows cache: the rows of the run's geographies, keyed by the file's content.

The files are written in the release's layout (tests/layouts.py): Trafford (E08000009, 358)
and, in the caseload file, England.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from layouts import write_sen2_caseload, write_sen2_needs

from sitefinder.config import load_scenario
from sitefinder.files import file_sha256
from sitefinder.load import load_inputs
from sitefinder.readers.sen2 import caseload_of, needs_of, read_sen2, read_sen2_of
from sitefinder.validate import Problems


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("sen2-*.npz"))


def _read(path: Path, kind: str, geographies: list[str], problems: Problems | None = None):
    return read_sen2_of(
        path,
        problems if problems is not None else Problems(),
        kind=kind,  # type: ignore[arg-type]
        geographies=geographies,
        sha256=file_sha256(path),
    )


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SITEFINDER_CACHE_DIR", str(folder))
    return folder


def test_a_hit_gives_the_rows_a_full_read_gives(tmp_path, cache):
    path = write_sen2_caseload(tmp_path / "caseload.csv", primary=5)
    geographies = ["Trafford", "England"]
    missed = _read(path, "caseload", geographies)
    assert missed is not None and len(_entries(cache)) == 1
    hit = _read(path, "caseload", geographies)
    assert hit is not None
    full = read_sen2(path, Problems(), kind="caseload")
    assert full is not None
    for name in ("trafford", "E08000009", "358", "England"):
        want = full.rows_of(name, Problems())
        pd.testing.assert_frame_equal(hit.rows_of(name, Problems()), want)
        pd.testing.assert_frame_equal(missed.rows_of(name, Problems()), want)
    own, england = caseload_of(hit, "Trafford", Problems()), caseload_of(hit, "England", Problems())
    assert own is not None and england is not None
    assert own.in_bases_at(4, 10) == 7 * 5 and own.age_year == 2025
    assert england.in_bases_at(11, 15) == 5 * 60
    assert hit.geographies("national") == ["England"]


def test_a_changed_file_is_read_again(tmp_path, cache):
    path = write_sen2_caseload(tmp_path / "caseload.csv", primary=5)
    first = _read(path, "caseload", ["358"])
    assert first is not None
    write_sen2_caseload(path, primary=8)  # same name, new content
    second = _read(path, "caseload", ["358"])
    assert second is not None and len(_entries(cache)) == 2
    own = caseload_of(second, "358", Problems())
    assert own is not None and own.in_bases_at(4, 10) == 7 * 8


def test_the_key_covers_kind_and_geographies(tmp_path, cache):
    needs = write_sen2_needs(tmp_path / "needs.csv")
    caseload = write_sen2_caseload(tmp_path / "caseload.csv")
    assert _read(needs, "needs", ["Trafford"]) is not None
    assert _read(caseload, "caseload", ["Trafford"]) is not None
    only = _read(caseload, "caseload", ["trafford "])  # the same geography: a hit
    assert len(_entries(cache)) == 2 and only is not None
    assert only.geographies("national") == []  # England was not asked for
    both = _read(caseload, "caseload", ["Trafford", "England"])
    assert len(_entries(cache)) == 3 and both is not None
    assert both.geographies("national") == ["England"]
    file = _read(needs, "needs", ["Trafford"])
    assert file is not None
    plans = needs_of(file, "Trafford", Problems())
    assert plans is not None and plans.all_plans == 1200 and plans.plans.isna().sum().sum() == 1


def test_a_file_with_problems_is_reported_and_not_cached(tmp_path, cache):
    path = write_sen2_needs(tmp_path / "needs.csv")
    text = path.read_text(encoding="utf-8-sig").replace(",age 5,120,", ",age 5,lots,", 1)
    path.write_text(text, encoding="utf-8")
    problems = Problems()
    assert _read(path, "needs", ["Trafford"], problems) is None
    assert any("'lots' is not a count of plans" in item for item in problems.items)
    assert _entries(cache) == []


def test_an_unwritable_cache_is_a_warning_and_the_read_goes_on(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SITEFINDER_CACHE_DIR", str(blocker))
    problems = Problems()
    file = _read(write_sen2_needs(tmp_path / "needs.csv"), "needs", ["Trafford"], problems)
    assert file is not None and problems.items == []
    assert len(problems.warnings) == 1
    assert f"cache folder {blocker} cannot be written" in problems.warnings[0]


def test_a_damaged_entry_is_a_miss_and_rewritten(tmp_path, cache):
    path = write_sen2_needs(tmp_path / "needs.csv")
    want = _read(path, "needs", ["Trafford"])
    (entry,) = _entries(cache)
    entry.write_bytes(b"not a zip file")
    again = _read(path, "needs", ["Trafford"])
    assert want is not None and again is not None
    pd.testing.assert_frame_equal(again.rows, want.rows)
    assert entry.stat().st_size > len(b"not a zip file")


def test_rutland_loads_the_same_with_and_without_the_cache(real_data, tmp_path, monkeypatch):
    scenario = load_scenario(Path(__file__).parent.parent / "configs" / "examples" / "rutland.toml")
    monkeypatch.setenv("SITEFINDER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SITEFINDER_CACHE_MAX_MB", "0")
    off = load_inputs(scenario)
    monkeypatch.delenv("SITEFINDER_CACHE_MAX_MB")
    missed = load_inputs(scenario)
    assert len(_entries(tmp_path / "cache")) == 2
    hit = load_inputs(scenario)
    for data in (missed, hit):
        for name in ("schools", "bases", "areas", "demand"):
            pd.testing.assert_frame_equal(getattr(data, name), getattr(off, name))
        assert (data.notes, data.warnings, data.checksums) == (
            off.notes,
            off.warnings,
            off.checksums,
        )
