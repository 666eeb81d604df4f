"""Reading and writing files safely: the one place that touches the disk's edge cases.

- :func:`file_sha256` streams a file through SHA-256 (checksums in outputs, cache keys).
- :func:`read_small` reads a small regular file with a size limit (scenario files), so a
  device (``/dev/zero``) or a FIFO named by mistake fails at once instead of hanging or filling
  memory.
- :func:`atomic_path` is the one writer of outputs and cache entries: content goes to a hidden
  ``.NAME.PID-TOKEN.partial.SUFFIX`` file beside the target, is flushed to disk, then published
  in one step. Without ``overwrite`` the target is created exclusively (a hard link, which fails
  if the name exists), so two runs racing for one name never replace each other's file; with
  ``overwrite`` it is an atomic :func:`os.replace`. A failure, Ctrl-C or SIGTERM (the CLI turns
  it into an exception) removes the partial file; partial files left by a killed run are swept
  the next time the folder is written.
- :func:`write_failure` says why a write failed in words (full disk, read-only, permissions).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sitefinder.errors import OutputError, processing

CHUNK_BYTES = 1 << 20
NAME_MAX_BYTES = 255  # the file-name limit of ext4, APFS, NTFS and most others
_PARTIAL = re.compile(r"^\..*\.(?P<pid>\d+)-[0-9a-f]{12}\.partial(?:\.[^.]*)?$")
_STEM_BYTES = 80
_FULL_BELOW_BYTES = 1 << 20
DEAD_GRACE_SECONDS = 60.0
"""A partial file whose process has gone is swept once it is this old (seconds)."""
ORPHAN_SECONDS = 24 * 3600.0
"""Any partial file this old (seconds) is swept, whoever wrote it."""


def file_sha256(path: Path | str) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB blocks (any size, bounded memory)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


class NotRegularFileError(ValueError):
    """A path names a folder, device, FIFO or socket where a regular file is needed."""


class TooLargeError(ValueError):
    """A file is larger than the limit for its kind."""


def read_small(path: Path, *, limit: int) -> bytes:
    """Read a regular file of at most ``limit`` bytes.

    The file is opened without blocking and checked on the open handle, so a FIFO never hangs
    the read and a device never streams forever.

    Raises
    ------
    OSError
        If the file cannot be opened or read (``FileNotFoundError`` when missing).
    NotRegularFileError
        If the path is a folder, device, FIFO or socket.
    TooLargeError
        If the file holds more than ``limit`` bytes.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except IsADirectoryError:
        raise NotRegularFileError("is a folder, not a file") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        if stat.S_ISDIR(mode):
            raise NotRegularFileError("is a folder, not a file")
        raise NotRegularFileError("is a device, FIFO or socket, not a regular file")
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise TooLargeError(f"is larger than {limit:,} bytes")
    return data


def name_too_long(path: Path) -> str | None:
    """A problem sentence when ``path``'s file name exceeds the usual 255-byte limit."""
    size = len(os.fsencode(path.name))
    if size > NAME_MAX_BYTES:
        return (
            f"the file name is {size} bytes long; file systems allow at most {NAME_MAX_BYTES}"
            " (choose a shorter name)"
        )
    return None


def partial_name(path: Path) -> Path:
    """A hidden, unique name beside ``path`` for its content while being written."""
    stem = os.fsencode(path.stem)[:_STEM_BYTES].decode(errors="ignore")
    suffix = path.suffix if len(path.suffix) <= 16 else ""
    return path.with_name(f".{stem}.{os.getpid()}-{secrets.token_hex(6)}.partial{suffix}")


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but is someone else's, or we cannot tell: keep its file
    return True


def sweep_partials(
    folder: Path, *, now: float | None = None, legacy: tuple[str, ...] = ()
) -> list[Path]:
    """Remove partial files left in ``folder`` by killed runs; return those removed.

    A partial file is stale when the process that wrote it has gone and it is older than
    :data:`DEAD_GRACE_SECONDS`, or when it is older than :data:`ORPHAN_SECONDS` (a run on
    another machine sharing the folder). ``legacy`` adds glob patterns of older temporary
    names, swept by the second rule only. Errors are ignored: sweeping is housekeeping.
    """
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    legacy_names = {p.name for pattern in legacy for p in folder.glob(pattern)}
    for entry in entries:
        match = _PARTIAL.match(entry.name)
        if match is None and entry.name not in legacy_names:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        dead = match is not None and not _running(int(match["pid"]))
        if (dead and age > DEAD_GRACE_SECONDS) or age > ORPHAN_SECONDS:
            with suppress(OSError):
                Path(entry.path).unlink()
                removed.append(Path(entry.path))
    return removed


def free_bytes(folder: Path) -> int | None:
    """Free space in ``folder``'s file system (bytes), or None when it cannot be told."""
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def write_failure(path: Path, kind: str, exc: BaseException) -> OutputError:
    """An :class:`OutputError` saying in words why writing ``path`` failed."""
    code = getattr(exc, "errno", None)
    folder = path.parent
    free = free_bytes(folder)
    nearly_full = free is not None and free < _FULL_BELOW_BYTES
    if code == errno.EROFS:
        why = f"the folder {folder} is on a read-only file system (write to another folder)"
    elif code in (errno.EACCES, errno.EPERM):
        why = f"permission denied in the folder {folder} (write to another folder)"
    elif code == errno.ENAMETOOLONG:
        why = "the file name is too long (choose a shorter name)"
    elif nearly_full or code in (errno.ENOSPC, errno.EDQUOT):
        # GDAL and SQLite report a full disk in their own words ("no such table"): the free
        # space tells.
        left = f"{free:,} bytes free" if nearly_full else "no space left"
        why = f"the disk is full ({left} in {folder}; free some space or write to another folder)"
    elif code == errno.ENOENT:
        why = f"the folder {folder} has gone or the file was removed while writing"
    else:
        detail = str(getattr(exc, "strerror", None) or exc).strip().splitlines()
        why = (detail[0] if detail else type(exc).__name__)[:300]
    return OutputError(f"{path}: cannot write the {kind}: {why}; nothing was written")


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _publish(temporary: Path, path: Path, *, overwrite: bool) -> None:
    if overwrite:
        temporary.replace(path)
        return
    try:
        os.link(temporary, path)  # fails if the name exists: exclusive and atomic
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK,
                             errno.ENOSYS, errno.EACCES):  # fmt: skip
            raise
        # No hard links here (FAT, some network shares): reserve the name exclusively, then
        # move the complete file onto the reservation.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        temporary.replace(path)
        return
    temporary.unlink()


@contextmanager
def atomic_path(
    path: Path,
    *,
    overwrite: bool,
    kind: str,
    errors: tuple[type[BaseException], ...] = (),
) -> Iterator[Path]:
    """Yield a hidden partial path beside ``path``; publish it when the block completes.

    The block writes the whole content to the yielded path (it may create the file itself,
    as GDAL does). Then the file is flushed to disk and published: created exclusively at
    ``path`` (``overwrite`` false) or atomically replacing it. On any failure, and on Ctrl-C
    or SIGTERM, the partial file is removed and ``path`` is untouched.

    Parameters
    ----------
    path
        The target file.
    overwrite
        Replace an existing file; otherwise an existing file is an error, even one that
        appears while the content is being written (another run racing for the name).
    kind
        What is written, for messages ("GeoPackage", "CSV file").
    errors
        Exception types (besides :class:`OSError`) that the block raises when writing fails,
        reported as an :class:`OutputError` like OS errors.

    Raises
    ------
    OutputError
        If the file cannot be written (saying why: full disk, read-only folder, permissions)
        or, without ``overwrite``, ``path`` exists.
    """
    path = Path(path)
    sweep_partials(path.parent)
    temporary = partial_name(path)
    failures: tuple[type[BaseException], ...] = (OSError, *errors)
    try:
        with processing(path):
            yield temporary
            _fsync(temporary)
            _publish(temporary, path, overwrite=overwrite)
    except FileExistsError:
        raise OutputError(
            f"{path}: already exists (written by another program while this run worked?);"
            " it was left as it is: pass --overwrite to replace it"
        ) from None
    except IsADirectoryError:
        raise OutputError(f"{path}: is a folder (give a file name)") from None
    except failures as exc:
        raise write_failure(path, kind, exc) from None
    finally:
        with suppress(OSError):
            temporary.unlink()
    with suppress(OSError):  # make the new name itself durable; not possible everywhere
        descriptor = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
