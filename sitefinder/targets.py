"""Output files: checked before any work, never overwritten unless asked.

:func:`check_target` fails fast (before a long run) on everything that can be known in advance:
the name, an existing file, a missing or unwritable folder. The writing itself goes through
:func:`sitefinder.files.atomic_path`, which creates the file exclusively (or replaces it
atomically with ``overwrite``), so the check can never be outrun by another process.
"""

from __future__ import annotations

import os
from pathlib import Path

from sitefinder.errors import OutputError
from sitefinder.files import atomic_path, name_too_long, partial_name, write_failure

__all__ = ["atomic_path", "check_target", "write_atomic", "write_text_atomic"]


def _probe_folder(path: Path, kind: str) -> None:
    # Create and remove a partial file: the only sure test that the folder takes new files
    # (permissions, read-only mounts and full inode tables all show up here).
    probe = partial_name(path)
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise write_failure(path, kind, exc) from None
    probe.unlink()


def check_target(path: str | Path, *, overwrite: bool, suffix: str, kind: str) -> Path:
    """Check that an output of ``kind`` (named ``*suffix``) may be written at ``path``.

    Raises
    ------
    OutputError
        If the name does not end in ``suffix`` or is too long, the file (or a link, even to
        nothing) exists and ``overwrite`` is false, the path is a folder, or the folder does
        not exist or cannot be written.
    """
    path = Path(path)
    if path.suffix.lower() != suffix:
        raise OutputError(f"{path}: the output must be a {kind} ending in {suffix}")
    if (long := name_too_long(path)) is not None:
        raise OutputError(f"{path.name[:40]}...{path.suffix}: {long}")
    if path.is_dir():
        raise OutputError(f"{path}: is a folder (give a file name ending in {suffix})")
    if path.exists() and not overwrite:
        raise OutputError(f"{path}: already exists (pass --overwrite to replace it)")
    if path.is_symlink() and not path.exists() and not overwrite:
        # The name is taken by a link to nothing: writing would fail only after the work, and
        # sitefinder never writes through a link (it could point anywhere).
        raise OutputError(
            f"{path}: is a link to {path.readlink()}, which does not exist; sitefinder does"
            " not write through links: remove the link, choose another name, or pass"
            " --overwrite to replace the link itself"
        )
    if not path.parent.is_dir():
        raise OutputError(f"{path}: folder {path.parent} does not exist (create it first)")
    _probe_folder(path, kind)
    return path


def write_atomic(path: Path, data: bytes, *, overwrite: bool, kind: str) -> Path:
    """Write ``data`` to ``path`` atomically; exclusively unless ``overwrite``.

    Raises
    ------
    OutputError
        If the file cannot be written, or exists and ``overwrite`` is false; the target is
        left untouched.
    """
    with (
        atomic_path(path, overwrite=overwrite, kind=kind) as temporary,
        temporary.open("xb") as handle,
    ):
        handle.write(data)
    return path


def write_text_atomic(path: Path, text: str, *, overwrite: bool, kind: str = "CSV file") -> Path:
    """:func:`write_atomic` for UTF-8 text."""
    return write_atomic(path, text.encode("utf-8"), overwrite=overwrite, kind=kind)
