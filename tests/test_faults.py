"""Faults: full and read-only disks, races for one output name, kills, and the cache's limits.

Each output is written through one atomic writer (sitefinder.files.atomic_path): a test here
holds for every format. A small tmpfs stands in for a full or read-only disk where the machine
allows mounting one (root on Linux); elsewhere those tests skip and the fault-injected ones
(an ENOSPC or EROFS raised at the write) still run. Signals are sent to real subprocesses,
paused inside the write window by a hook in the child, never by timing luck.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from typer.testing import CliRunner

from sitefinder import files, load_scenario, rank, write_geopackage
from sitefinder.cli import app
from sitefinder.errors import OutputError
from sitefinder.render import draw_map, write_report
from sitefinder.resources import bundled_root, default_scenario_path
from sitefinder.roads import cache
from sitefinder.roads.cache import cached_drive_minutes, cached_road_network
from sitefinder.targets import atomic_path, check_target, write_text_atomic

runner = CliRunner()
DEMO = bundled_root() / "data" / "demo"
ROADS = DEMO / "roads.osm.pbf"
LINUX_ROOT = sys.platform == "linux" and hasattr(os, "geteuid") and os.geteuid() == 0


def partials(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if ".partial" in p.name or p.name.startswith(".tmp"))


@contextmanager
def tmpfs(folder: Path, options: str) -> Iterator[None]:
    """Mount a tmpfs at ``folder`` (skip the test where that is not allowed)."""
    if not LINUX_ROOT:
        pytest.skip("mounting a tmpfs needs root on Linux")
    folder.mkdir(exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@contextmanager
def full_disk(folder: Path, keep: dict[str, bytes] | None = None) -> Iterator[Path]:
    """A 256 KiB tmpfs at ``folder``, holding ``keep`` files, then filled to the last byte."""
    with tmpfs(folder, "size=256k"):
        for name, data in (keep or {}).items():
            (folder / name).write_bytes(data)
        with (folder / "filler").open("wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        yield folder


@pytest.fixture(scope="module")
def demo_result():
    return rank(load_scenario(default_scenario_path()))


# --- full disk ------------------------------------------------------------------------------------


def _writers(result):
    return {
        "GeoPackage": lambda path, overwrite: write_geopackage(result, path, overwrite=overwrite),
        "HTML report": lambda path, overwrite: write_report(result, path, overwrite=overwrite),
        "PNG image": lambda path, overwrite: draw_map(result, path, overwrite=overwrite),
        "CSV file": lambda path, overwrite: write_text_atomic(
            path, "a,b\n1,2\n", overwrite=overwrite
        ),
    }


_SUFFIX = {"GeoPackage": ".gpkg", "HTML report": ".html", "PNG image": ".png", "CSV file": ".csv"}


@pytest.mark.parametrize("kind", list(_SUFFIX))
def test_a_full_disk_says_so_for_every_format_and_keeps_the_old_file(demo_result, tmp_path, kind):
    name = "out" + _SUFFIX[kind]
    with full_disk(tmp_path / "disk", keep={name: b"the old file"}) as disk:
        target = disk / name
        with pytest.raises(OutputError) as caught:
            _writers(demo_result)[kind](target, True)
        assert caught.value.problems == [
            f"{target}: cannot write the {kind}: the disk is full (0 bytes free in {disk}; free"
            " some space or write to another folder); nothing was written"
        ]
        assert target.read_bytes() == b"the old file"
        assert partials(disk) == []


def test_a_full_disk_is_reported_when_the_write_fails_at_the_end(tmp_path, monkeypatch):
    # Fault injection where no tmpfs can be mounted: the disk fills while flushing.
    def no_space(path: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files, "_fsync", no_space)
    target = tmp_path / "m.csv"
    with pytest.raises(OutputError) as caught:
        write_text_atomic(target, "a\n1\n", overwrite=False)
    assert caught.value.problems == [
        f"{target}: cannot write the CSV file: the disk is full (no space left in {tmp_path};"
        " free some space or write to another folder); nothing was written"
    ]
    assert not target.exists()
    assert partials(tmp_path) == []


def test_a_full_disk_for_the_geopackage_through_the_command(tmp_path):
    with full_disk(tmp_path / "disk") as disk:
        result = runner.invoke(app, ["rank", "--output", str(disk / "plan.gpkg")])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: {disk / 'plan.gpkg'}: cannot write the GeoPackage: the disk is full (0 bytes"
        f" free in {disk}; free some space or write to another folder); nothing was written"
    )


# --- read-only folders ----------------------------------------------------------------------------


@contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    if LINUX_ROOT:  # root ignores permissions: a read-only mount is the real thing
        with tmpfs(folder, "ro,size=64k"):
            yield folder
        return
    if sys.platform == "win32":
        pytest.skip("POSIX permissions")
    folder.mkdir(exist_ok=True)
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)


def test_an_unwritable_output_folder_fails_before_the_work(tmp_path):
    with read_only(tmp_path / "ro") as folder:
        result = runner.invoke(app, ["rank", "--output", str(folder / "plan.gpkg")])
    assert result.exit_code == 1
    assert result.stdout == ""  # refused before ranking
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {folder / 'plan.gpkg'}: cannot write the GeoPackage: ")
    assert "read-only file system" in line or "permission denied" in line


def test_the_probe_reports_a_read_only_folder(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("sitefinder.targets.os.open", refuse)
    with pytest.raises(OutputError) as caught:
        check_target(tmp_path / "x.csv", overwrite=False, suffix=".csv", kind="CSV file")
    assert caught.value.problems == [
        f"{tmp_path / 'x.csv'}: cannot write the CSV file: the folder {tmp_path} is on a"
        " read-only file system (write to another folder); nothing was written"
    ]


def test_a_read_only_cache_is_a_warning_and_the_demo_still_ranks(tmp_path):
    with read_only(tmp_path / "home") as home:
        result = runner.invoke(
            app,
            ["rank", "--format", "csv"],
            env={"SITEFINDER_CACHE_DIR": "", "XDG_CACHE_HOME": "", "HOME": str(home)},
        )
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings[0].startswith(f"warning: cache folder {home / '.cache' / 'sitefinder'}")
    assert warnings[0].endswith(
        "; continuing without the cache (set SITEFINDER_CACHE_DIR or --cache-dir to a writable"
        " folder)"
    )
    assert result.stdout.startswith("rank,urn,name,")


# --- races for one name ---------------------------------------------------------------------------


def _race(target: Path, *, overwrite: bool, runners: int = 8) -> list[object]:
    """``runners`` threads write the same target; all publish at once after writing."""
    barrier = threading.Barrier(runners)
    outcomes: list[object] = [None] * runners

    def write(i: int) -> None:
        try:
            with atomic_path(target, overwrite=overwrite, kind="CSV file") as temporary:
                temporary.write_text(f"run {i}\n" * 1000)
                barrier.wait()  # everyone has passed any check and written in full
            outcomes[i] = "wrote"
        except OutputError as exc:
            outcomes[i] = exc.problems[0]

    threads = [threading.Thread(target=write, args=(i,)) for i in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_racing_runs_without_overwrite_never_replace_each_other(tmp_path):
    target = tmp_path / "same.csv"
    outcomes = _race(target, overwrite=False)
    assert outcomes.count("wrote") == 1
    winner = outcomes.index("wrote")
    assert target.read_text() == f"run {winner}\n" * 1000
    refused = {o for o in outcomes if o != "wrote"}
    assert refused == {
        f"{target}: already exists (written by another program while this run worked?); it was"
        " left as it is: pass --overwrite to replace it"
    }
    assert partials(tmp_path) == []


def test_racing_runs_with_overwrite_leave_one_whole_file(tmp_path):
    target = tmp_path / "same.csv"
    target.write_text("old\n")
    outcomes = _race(target, overwrite=True)
    assert outcomes == ["wrote"] * 8
    text = target.read_text()
    assert text in {f"run {i}\n" * 1000 for i in range(8)}
    assert partials(tmp_path) == []


def test_without_hard_links_the_name_is_still_taken_exclusively(tmp_path, monkeypatch):
    def no_links(source, destination):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(files.os, "link", no_links)
    target = tmp_path / "same.csv"
    assert _race(target, overwrite=False, runners=4).count("wrote") == 1
    assert partials(tmp_path) == []


def test_two_commands_racing_for_one_geopackage(tmp_path, demo_result, monkeypatch):
    # The command checks the name before ranking; a second run that passed the same check
    # must still not replace the first one's file when it publishes.
    target = tmp_path / "plan.gpkg"
    check_target(target, overwrite=False, suffix=".gpkg", kind="GeoPackage")
    write_geopackage(demo_result, target)
    first = target.read_bytes()
    monkeypatch.setattr("sitefinder.export.check_target", lambda path, overwrite: Path(path))
    with pytest.raises(OutputError, match="already exists"):
        write_geopackage(demo_result, target)
    assert target.read_bytes() == first
    assert pyogrio.list_layers(target) is not None
    assert partials(tmp_path) == []


# --- kills ----------------------------------------------------------------------------------------

_PAUSED_CHILD = """
import os, sys, time
from pathlib import Path
import sitefinder.files as files
import sitefinder.roads.cache as cache
flag, where = Path(os.environ["FAULT_FLAG"]), os.environ["FAULT_WHERE"]
def pause():
    flag.write_text(str(os.getpid()))
    time.sleep(120)
if where == "write":
    real = files._fsync
    def paused(path):
        real(path)
        if not path.name.startswith(".network-") and not path.name.startswith(".matrix-"):
            pause()
    files._fsync = paused
else:
    real_route = cache.drive_minutes
    def route(*args, **kwargs):
        pause()
        return real_route(*args, **kwargs)
    cache.drive_minutes = route
from sitefinder.console import main
sys.argv = ["sitefinder", *sys.argv[1:]]
main()
"""


def _points(folder: Path) -> tuple[Path, Path]:
    origins = folder / "from.csv"
    origins.write_text("id,x,y\na,451800,318100\nb,450000,320800\n")
    destinations = folder / "to.csv"
    destinations.write_text("id,x,y\ns,452900,319000\n")
    return origins, destinations


def _paused_travel(folder: Path, where: str) -> tuple[subprocess.Popen[str], Path]:
    origins, destinations = _points(folder)
    flag = folder / "paused"
    target = folder / "out" / "minutes.csv"
    target.parent.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-c", _PAUSED_CHILD, "travel", "--network", str(ROADS), "--from",
         str(origins), "--to", str(destinations), "--output", str(target),
         "--cache-dir", str(folder / "cache")],
        env={**os.environ, "FAULT_FLAG": str(flag), "FAULT_WHERE": where},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A suite started in the background by a shell inherits SIGINT ignored, and a child
        # that starts with it ignored never turns Ctrl-C into KeyboardInterrupt.
        preexec_fn=_default_sigint,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not flag.exists():
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            pytest.fail(f"the child never paused: {child.communicate()}")
        time.sleep(0.05)
    return child, target


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(
    ("sent", "code", "line"),
    [
        (signal.SIGTERM, 143, "error: stopped by a termination signal; unfinished outputs were"
                              " removed"),
        (signal.SIGINT, 130, "error: interrupted (Ctrl-C); unfinished outputs were removed"),
        # The terminal closed (ssh dropped): the same clean unwind as SIGTERM.
        (signal.SIGHUP, 143, "error: stopped by a termination signal; unfinished outputs were"
                             " removed"),
    ],
    ids=["SIGTERM", "SIGINT", "SIGHUP"],
)  # fmt: skip
def test_a_signal_in_the_write_window_removes_the_partial_file(tmp_path, sent, code, line):
    child, target = _paused_travel(tmp_path, "write")
    assert len(partials(target.parent)) == 1  # written in full, not yet published
    child.send_signal(sent)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == code
    assert stderr.splitlines()[-1] == line
    assert "Traceback" not in stderr
    assert not target.exists()
    assert partials(target.parent) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_while_routing_is_one_line(tmp_path):
    child, target = _paused_travel(tmp_path, "route")
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130
    assert stderr.splitlines()[-1] == (
        "error: interrupted (Ctrl-C); unfinished outputs were removed"
    )
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert not target.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_killed_run_leaves_a_partial_file_that_the_next_write_sweeps(tmp_path):
    child, target = _paused_travel(tmp_path, "write")
    child.kill()  # SIGKILL: no chance to clean up
    child.communicate(timeout=60)
    (left,) = partials(target.parent)
    assert not target.exists()
    write_text_atomic(target.parent / "other.csv", "a\n", overwrite=False)
    assert left.exists()  # younger than the grace period: it might be a slow writer's
    old = time.time() - files.DEAD_GRACE_SECONDS - 60
    os.utime(left, (old, old))
    write_text_atomic(target.parent / "third.csv", "a\n", overwrite=False)
    assert not left.exists()


def test_partial_files_of_running_processes_are_kept(tmp_path):
    mine = files.partial_name(tmp_path / "x.csv")  # this process is alive
    mine.write_text("in progress")
    old = time.time() - files.ORPHAN_SECONDS + 60
    os.utime(mine, (old, old))
    assert files.sweep_partials(tmp_path) == []
    ancient = time.time() - files.ORPHAN_SECONDS - 60
    os.utime(mine, (ancient, ancient))
    assert files.sweep_partials(tmp_path) == [mine]


# --- the last resort ------------------------------------------------------------------------------


def test_an_unexpected_error_is_one_line_naming_the_file(monkeypatch, tmp_path):
    def broken(*args, **kwargs):
        raise RuntimeError("something nobody foresaw\nsecond line")

    monkeypatch.setattr("sitefinder.readers.tables._read_table", broken)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: unexpected RuntimeError while processing {DEMO / 'schools.csv'}: something"
        " nobody foresaw. This is a bug in sitefinder: please report it with the command you ran"
        " (SITEFINDER_DEBUG=1 shows the details)\n"
    )


def test_sitefinder_debug_shows_the_traceback(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("something nobody foresaw")

    monkeypatch.setattr("sitefinder.readers.tables._read_table", broken)
    result = runner.invoke(app, ["validate"], env={"SITEFINDER_DEBUG": "1"})
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)


def test_running_out_of_memory_is_one_line(monkeypatch):
    def huge(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr("sitefinder.checks.check_inputs", huge)  # validate imports it on use
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: out of memory while processing the scenario {default_scenario_path()}; use a"
        " smaller extract (one authority's rows) or a machine with more memory\n"
    )


def test_a_csv_too_large_for_memory_is_a_problem_of_that_file(monkeypatch, tmp_path):
    def huge(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr("sitefinder.readers.tables.pd.read_csv", huge)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: {DEMO / 'schools.csv'}: too large to read into memory (")
    assert first.endswith("MB); use an extract with the authority's rows only")


# --- the cache ------------------------------------------------------------------------------------


@pytest.fixture
def network(tmp_path):
    found, _ = cached_road_network(ROADS, cache_dir=tmp_path / "warm")
    return found


ORIGINS = np.array([[451800.0, 318100.0], [450000.0, 320800.0]])
DESTINATIONS = np.array([[452900.0, 319000.0]])


def test_a_cache_folder_that_is_a_file_is_a_warning(tmp_path, network):
    blocked = tmp_path / "cache"
    blocked.write_text("not a folder")
    minutes, _, use = cached_drive_minutes(network, ORIGINS, DESTINATIONS, cache_dir=blocked)
    assert minutes.shape == (2, 1) and not use.hit
    assert use.warnings == (
        f"cache folder {blocked} cannot be written (it is a file, not a folder); continuing"
        " without the cache (set SITEFINDER_CACHE_DIR or --cache-dir to a writable folder)",
    )


def test_a_full_cache_disk_is_a_warning(tmp_path, network):
    with full_disk(tmp_path / "disk") as disk:
        _, _, use = cached_drive_minutes(network, ORIGINS, DESTINATIONS, cache_dir=disk)
        assert not use.hit
        assert use.warnings[0].startswith(f"cache folder {disk} cannot be written (the disk is")
        assert partials(disk) == []


def test_a_well_formed_entry_of_the_wrong_shape_is_a_miss(tmp_path, network):
    folder = tmp_path / "cache"
    minutes, _, _ = cached_drive_minutes(network, ORIGINS, DESTINATIONS, cache_dir=folder)
    (entry,) = folder.glob("matrix-*.npz")
    with np.load(entry) as data:
        stored = dict(data)
    np.savez(entry, **{**stored, "minutes": np.zeros((5, 7))})  # well formed, wrong shape
    again, _, use = cached_drive_minutes(network, ORIGINS, DESTINATIONS, cache_dir=folder)
    assert not use.hit
    np.testing.assert_array_equal(again, minutes)
    _, _, use = cached_drive_minutes(network, ORIGINS, DESTINATIONS, cache_dir=folder)
    assert use.hit  # rewritten


def test_an_entry_for_other_points_is_a_miss(tmp_path, network):
    folder = tmp_path / "cache"
    cached_drive_minutes(network, ORIGINS, DESTINATIONS, cache_dir=folder)
    (entry,) = folder.glob("matrix-*.npz")
    moved = ORIGINS + 1000.0
    cached_drive_minutes(network, moved, DESTINATIONS, cache_dir=folder)
    (other,) = set(folder.glob("matrix-*.npz")) - {entry}
    other.write_bytes(entry.read_bytes())  # same shapes, but it claims the first points
    minutes, _, use = cached_drive_minutes(network, moved, DESTINATIONS, cache_dir=folder)
    assert not use.hit
    fresh, _, _ = cached_drive_minutes(network, moved, DESTINATIONS, cache_dir=tmp_path / "new")
    np.testing.assert_array_equal(minutes, fresh)


def test_a_network_entry_with_inconsistent_arrays_is_a_miss(tmp_path):
    folder = tmp_path / "cache"
    first, _ = cached_road_network(ROADS, cache_dir=folder)
    (entry,) = folder.glob("network-*.npz")
    with np.load(entry) as data:
        stored = dict(data)
    stored["indices"] = stored["indices"] + first.n_nodes  # points past the last node
    np.savez(entry, **stored)
    again, use = cached_road_network(ROADS, cache_dir=folder)
    assert not use.hit
    assert (again.graph != first.graph).nnz == 0


def test_stale_temporary_files_are_swept(tmp_path, network):
    folder = tmp_path / "cache"
    folder.mkdir()
    legacy = folder / ".tmp-abc123.npz"  # format 1's name
    dead = folder / ".matrix-x.999999999-0123456789ab.partial.npz"  # a killed run's
    fresh = folder / ".tmp-new.npz"
    for path in (legacy, dead, fresh):
        path.write_bytes(b"partial")
    old = time.time() - files.ORPHAN_SECONDS - 10
    os.utime(legacy, (old, old))
    stale = time.time() - files.DEAD_GRACE_SECONDS - 10
    os.utime(dead, (stale, stale))
    cached_drive_minutes(network, ORIGINS, DESTINATIONS, cache_dir=folder)
    assert not legacy.exists() and not dead.exists()
    assert fresh.exists()  # young: perhaps another run's, in progress


def test_the_cache_stays_under_its_limit_dropping_the_least_recently_used(
    tmp_path, network, monkeypatch
):
    folder = tmp_path / "cache"
    entry = {}
    for i in range(4):
        before = set(folder.glob("matrix-*.npz"))
        cached_drive_minutes(network, ORIGINS + 100.0 * i, DESTINATIONS, cache_dir=folder)
        (entry[i],) = set(folder.glob("matrix-*.npz")) - before
        stamp = time.time() - 100 * (10 - i)  # 0 is the oldest, 3 the newest
        os.utime(entry[i], (stamp, stamp))
    _, _, use = cached_drive_minutes(network, ORIGINS, DESTINATIONS, cache_dir=folder)
    assert use.hit  # a hit marks entry 0 as just used
    size = entry[0].stat().st_size
    monkeypatch.setenv("SITEFINDER_CACHE_MAX_MB", f"{3.5 * size / 2**20:.6f}")
    cached_drive_minutes(network, ORIGINS + 999.0, DESTINATIONS, cache_dir=folder)
    # Five entries of one size under a limit of 3.5: the two least recently used go.
    assert [entry[i].exists() for i in range(4)] == [True, False, False, True]
    assert len(list(folder.glob("matrix-*.npz"))) == 3


def test_a_limit_of_zero_turns_the_cache_off(tmp_path, network, monkeypatch):
    monkeypatch.setenv("SITEFINDER_CACHE_MAX_MB", "0")
    folder = tmp_path / "cache"
    for _ in range(2):
        _, _, use = cached_drive_minutes(network, ORIGINS, DESTINATIONS, cache_dir=folder)
        assert not use.hit and use.warnings == ()
    assert not folder.exists()


def test_an_entry_larger_than_the_limit_is_not_stored(tmp_path, network, monkeypatch):
    monkeypatch.setenv("SITEFINDER_CACHE_MAX_MB", "0.00001")
    folder = tmp_path / "cache"
    _, _, use = cached_drive_minutes(network, ORIGINS, DESTINATIONS, cache_dir=folder)
    assert use.warnings == (
        "cache: not storing a 0.0 MB entry, above the cache's limit of 0.0 MB (raise"
        " SITEFINDER_CACHE_MAX_MB to keep it)",
    )
    assert not list(folder.glob("*.npz"))


def test_the_default_limit_is_documented():
    assert cache.DEFAULT_MAX_MB == 2048
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "SITEFINDER_CACHE_MAX_MB" in readme and "2048" in readme
