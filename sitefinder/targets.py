"""Output files: checked before any work, never overwritten unless asked."""

from __future__ import annotations

import secrets
from pathlib import Path

from sitefinder.errors import OutputError


def check_target(path: str | Path, *, overwrite: bool, suffix: str, kind: str) -> Path:
    """Check that an output of ``kind`` (named ``*suffix``) may be written at ``path``.

    Raises
    ------
    OutputError
        If the name does not end in ``suffix``, the file exists and ``overwrite`` is false, or
        the folder does not exist.
    """
    path = Path(path)
    if path.suffix.lower() != suffix:
        raise OutputError(f"{path}: the output must be a {kind} ending in {suffix}")
    if path.exists() and not overwrite:
        raise OutputError(f"{path}: already exists (pass --overwrite to replace it)")
    if not path.parent.is_dir():
        raise OutputError(f"{path}: folder {path.parent} does not exist (create it first)")
    return path


def write_atomic(path: Path, data: bytes, *, kind: str) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then replace.

    Raises
    ------
    OutputError
        If the file cannot be written; the target is left untouched.
    """
    temporary = path.with_name(f".{path.stem}-{secrets.token_hex(6)}{path.suffix}.tmp")
    try:
        with temporary.open("xb") as handle:
            handle.write(data)
        temporary.replace(path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the {kind} ({exc.strerror or exc})") from None
    finally:
        if temporary.exists():
            temporary.unlink()
    return path


def write_text_atomic(path: Path, text: str, *, kind: str = "CSV file") -> Path:
    """:func:`write_atomic` for UTF-8 text."""
    return write_atomic(path, text.encode("utf-8"), kind=kind)
