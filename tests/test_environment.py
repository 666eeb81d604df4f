"""The environment a command runs in never turns into a crash: a full or closed standard output,
an ASCII terminal, a malformed SOURCE_DATE_EPOCH (issue 27). Each runs the installed console
script as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = [sys.executable, "-c", "from sitefinder.console import main; main()"]


def _run(args, *, env=None, stdout=subprocess.PIPE, **more):
    environment = {**os.environ, **(env or {})}
    environment.pop("SITEFINDER_DEBUG", None)
    return subprocess.run(
        [*SCRIPT, *args], env=environment, stdout=stdout, stderr=subprocess.PIPE,
        text=True, timeout=300, check=False, **more,
    )  # fmt: skip


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("note:")]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_full_standard_output_is_one_line_and_exit_1():
    with Path("/dev/full").open("w") as full:
        done = _run(["rank", "--top", "2"], stdout=full)
    assert done.returncode == 1
    assert _errors(done.stderr) == [
        "error: the output could not be written (No space left on device): check the disk or"
        " pipe it goes to, or write it to a file with --output"
    ]


def test_an_ascii_terminal_gets_question_marks_not_a_crash():
    done = _run(["rank", "--top", "2"], env={"PYTHONIOENCODING": "ascii"})
    assert done.returncode == 0, done.stderr
    assert "\u2192" not in done.stdout and "?" in done.stdout
    assert _errors(done.stderr) == []


def test_a_malformed_source_date_epoch_is_ignored_with_a_warning(tmp_path):
    done = _run(
        ["rank", "--top", "2", "--map", str(tmp_path / "m.png")],
        env={"SOURCE_DATE_EPOCH": "abc"},
    )
    assert done.returncode == 0, done.stderr
    assert _errors(done.stderr)[0] == (
        "warning: SOURCE_DATE_EPOCH='abc' is not a whole number of seconds since 1970, so it"
        " is ignored (set it to e.g. 1735689600, or unset it)"
    )
    assert (tmp_path / "m.png").stat().st_size > 0


def test_a_closed_standard_output_says_so_and_still_writes_files(tmp_path):
    done = subprocess.run(
        f'"{sys.executable}" -c "from sitefinder.console import main; main()"'
        f' rank --top 2 --map "{tmp_path / "m.png"}" >&-',
        shell=True, stderr=subprocess.PIPE, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _errors(done.stderr)[0].startswith("warning: standard output is closed")
    assert (tmp_path / "m.png").stat().st_size > 0


def test_an_output_path_too_long_is_one_line_naming_it(tmp_path):
    long = tmp_path.joinpath(*(["a" * 200] * 22), "x.gpkg")
    done = _run(["rank", "--top", "2", "--output", str(long)])
    assert done.returncode == 1
    (line,) = _errors(done.stderr)
    assert line.startswith(f"error: {str(long)[:57]}...")
    assert line.endswith(
        "x.gpkg: cannot be written (File name too long): choose a shorter path, or a folder on"
        " a disk with room"
    )
