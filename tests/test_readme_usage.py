"""The README's usage lines match the commands: every command that writes a file offers
``--overwrite`` in its usage line and in its ``--help``."""

from __future__ import annotations

import os
import re
from pathlib import Path

from typer.testing import CliRunner

from sitefinder.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"
COMMANDS = README.parent / "docs" / "commands.md"


def _usage_lines() -> dict[str, str]:
    text = COMMANDS.read_text(encoding="utf-8")
    block = text.split("# Commands", 1)[1].split("```text", 1)[1].split("```", 1)[0]
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


def _worked_examples() -> list[tuple[str, list[str]]]:
    """The README's worked examples: ``SITEFINDER_REAL_DATA=... sitefinder ...`` in backticks."""
    text = README.read_text(encoding="utf-8")
    found = re.findall(r"`SITEFINDER_REAL_DATA=(\S+)\s+sitefinder\s+([^`]+)`", text)
    return [(folder, command.split()) for folder, command in found]


def test_the_worked_examples_run_as_written_with_a_relative_data_folder(real_data, monkeypatch):
    # As written: from the checkout, SITEFINDER_REAL_DATA relative to it (../shared/data in the
    # README; here the relative path from the checkout to this machine's data folder).
    examples = _worked_examples()
    assert [args[-1] for _, args in examples] == [
        "configs/examples/trafford.toml",
        "configs/examples/rutland.toml",
    ]
    root = README.parent
    monkeypatch.chdir(root)
    relative = os.path.relpath(real_data.resolve(), root)
    assert not Path(relative).is_absolute()
    for folder, args in examples:
        assert folder == "../shared/data"
        result = CliRunner().invoke(app, args, env={"SITEFINDER_REAL_DATA": relative})
        assert result.exit_code == 0, result.output
        assert "error:" not in result.output
        assert "candidate host schools for new inclusion bases" in result.stdout.splitlines()[0]
