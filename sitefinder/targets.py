"""Output files: checked before any work, never overwritten unless asked."""

from __future__ import annotations

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


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file, so no half file is left."""
    temporary = path.with_name(f".{path.name}.partial")
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write ({exc.strerror})") from None
