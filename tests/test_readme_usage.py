"""The README's usage lines match the commands: every command that writes a file offers
``--overwrite`` in its usage line and in its ``--help``."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from sitefinder.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"


def _usage_lines() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    block = text.split("## Commands", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    commands: dict[str, str] = {}
    current = ""
    for line in block.splitlines():
        if line.startswith("sitefinder "):
            current = line.split()[1]
            commands[current] = line
        elif line.strip() and current:
            commands[current] += " " + line.strip()
    return commands


def test_every_usage_line_that_writes_a_file_offers_overwrite():
    lines = _usage_lines()
    writers = {name for name, line in lines.items() if "--output" in line}
    assert writers == {"rank", "travel", "compare", "sweep", "map", "report", "init"}
    runner = CliRunner()
    for name in writers:
        assert "[--overwrite]" in lines[name], name
        shown = runner.invoke(app, [name, "--help"])
        assert shown.exit_code == 0, name
        assert "--overwrite" in shown.output, name


def test_every_command_has_a_usage_line():
    names = set(re.findall(r"^sitefinder (\w+)", "\n".join(_usage_lines().values()), re.M))
    commands = {c.name for c in app.registered_commands}
    assert names == commands
