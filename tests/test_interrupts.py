"""Ctrl-C while the command is still starting (importing the scientific stack takes seconds),
and Click's ``Abort`` (a Ctrl-C or end of input while Click itself is parsing the command
line): one line and the right exit code, never a traceback. SIGTERM, SIGHUP and Ctrl-C while a
command works are in tests/test_faults.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import typer
from typer.core import TyperCommand, TyperGroup
from typer.testing import CliRunner

from sitefinder.cli import app

# The console script, with the import of the command module held until Ctrl-C comes.
_SLOW_START = """
import importlib.abc, os, sys, time
from pathlib import Path

class Slow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "sitefinder.cli":
            Path(os.environ["FAULT_FLAG"]).touch()
            while True:
                time.sleep(0.05)
        return None

sys.meta_path.insert(0, Slow())
from sitefinder.console import main
sys.argv = ["sitefinder", "rank"]
main()
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_while_starting_is_one_line(tmp_path):
    flag = tmp_path / "starting"
    child = subprocess.Popen(
        [sys.executable, "-c", _SLOW_START],
        env={**os.environ, "FAULT_FLAG": str(flag)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while not flag.exists():
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            pytest.fail(f"the child never started: {child.communicate()}")
        time.sleep(0.02)
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 130
    assert stderr == "error: interrupted (Ctrl-C) while starting; nothing was done\n"
    assert stdout == ""


runner = CliRunner()


@pytest.mark.parametrize(
    ("raised", "code", "line"),
    [
        # Click turns a Ctrl-C or end of input during its own parsing into Abort.
        (KeyboardInterrupt, 130, "error: interrupted (Ctrl-C); nothing was done"),
        (EOFError, 1, "error: aborted: the input ended; nothing was done"),
        (typer.Abort, 1, "error: aborted; nothing was done"),
    ],
    ids=["Ctrl-C", "end of input", "Abort"],
)
def test_an_abort_while_parsing_is_one_line(monkeypatch, raised, code, line):
    def parse(*args, **kwargs):
        raise raised()

    monkeypatch.setattr(TyperGroup, "parse_args", parse)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == code
    assert [x for x in result.stderr.splitlines() if x.strip()] == [line]
    assert result.stdout == ""
    assert isinstance(result.exception, SystemExit)


def test_ctrl_c_while_a_command_parses_its_options_is_one_line(monkeypatch):
    def parse(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(TyperCommand, "parse_args", parse)  # validate's own options
    result = runner.invoke(app, ["validate", "--config", "x.toml"])
    assert result.exit_code == 130
    assert result.stderr == "error: interrupted (Ctrl-C); nothing was done\n"
