"""Writing files atomically: readers see the old file or the complete new one, never half.

The bytes go to a temporary file in the destination's own directory (so `os.replace` is a
rename within one filesystem, which POSIX makes atomic), are flushed to disk, and only then
take the final name. If anything fails, the temporary file is removed.

`write_files_atomic` does this for several files that belong together (a model and its
metrics): every temporary file is written first, and only when all of them are complete are
they renamed, so a full disk never leaves a new model beside old metrics.

A process killed with `kill -9` while writing cannot remove its temporary file. The name of
a temporary file holds the writer's process id (`.model.npz.<pid>.<random>.tmp`), so the next
save of the same file removes those whose writer no longer runs: they never pile up.

A failed write raises `FileWriteError`, an OSError whose message names the file the user
asked for (not the temporary one) and the reason, e.g. "cannot write model.npz: No space
left on device".
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

TMP_SUFFIX = ".tmp"


class FileWriteError(OSError):
    """Writing `path` failed; the message names it and says why (errno kept from the cause)."""

    def __init__(self, path: str | os.PathLike[str], cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause))
        self.path = Path(path)

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.strerror}"


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path`, replacing any existing file in one atomic step."""
    write_files_atomic({path: data})


def write_files_atomic(files: dict[str | os.PathLike[str], bytes]) -> None:
    """Write each path -> bytes of `files`; all of them are replaced only once all are written.

    If any write fails (full disk, no permission), no file is replaced, no temporary file is
    left, and FileWriteError names the file that failed.
    """
    written: list[tuple[Path, str]] = []  # (final path, temporary name)
    try:
        for path, data in files.items():
            path = Path(path)
            remove_stale_temporaries(path)
            written.append((path, _write_temporary(path, data)))
        for path, tmp_name in written:
            try:
                os.replace(tmp_name, path)
            except OSError as e:
                raise FileWriteError(path, e) from e
    except BaseException:
        # BaseException, so that Ctrl-C during a large write also leaves no temp file.
        for _, tmp_name in written:
            _unlink_quietly(tmp_name)
        raise


def temporary_name(path: Path) -> Path:
    """A fresh temporary name for `path`: dot-prefixed (out of plain `ls` and our loaders,
    which look for exact final names), with our process id, in the same directory."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TMP_SUFFIX}")


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporary files of `path` left by writers that no longer run; return them."""
    removed = []
    try:
        candidates = list(path.parent.glob(f".{_glob_escape(path.name)}.*{TMP_SUFFIX}"))
    except OSError:
        return removed
    for tmp in candidates:
        parts = tmp.name[len(path.name) + 2 : -len(TMP_SUFFIX)].split(".")
        if len(parts) != 2 or not parts[0].isdigit() or _process_exists(int(parts[0])):
            continue  # not of our naming, or its writer may still be writing
        if _unlink_quietly(tmp):
            removed.append(tmp)
    return removed


def _write_temporary(path: Path, data: bytes) -> str:
    """Write `data` to a new temporary file beside `path`, on disk; return its name."""
    tmp_name = str(temporary_name(path))
    try:
        fd = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as e:
        raise FileWriteError(path, e) from e
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)  # the data must be on disk before the name points at it
        finally:
            os.close(fd)
    except BaseException as e:
        _unlink_quietly(tmp_name)
        if isinstance(e, OSError):
            raise FileWriteError(path, e) from e
        raise
    return tmp_name


def _process_exists(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of ours may be writing it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError as e:  # EPERM: it exists, owned by someone else
        return e.errno != errno.ESRCH
    return True


def _unlink_quietly(name: str | os.PathLike[str]) -> bool:
    try:
        os.unlink(name)
    except OSError:
        return False
    return True


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)
