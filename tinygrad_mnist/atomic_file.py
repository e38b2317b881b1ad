"""Writing a file atomically: readers see the old file or the complete new one, never half.

The bytes go to a temporary file in the destination's own directory (so `os.replace` is a
rename within one filesystem, which POSIX makes atomic), are flushed to disk, and only then
take the final name. If anything fails, the temporary file is removed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path`, replacing any existing file in one atomic step."""
    path = Path(path)
    # A dot-prefixed name keeps half-written files out of plain `ls` and out of our loaders,
    # which only look for the exact final names.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            # mkstemp makes the file private (0600); give it the usual mode of a data file.
            os.chmod(f.fileno(), 0o644)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the data must be on disk before the name points at it
        os.replace(tmp_name, path)
    except BaseException:
        # BaseException, so that Ctrl-C during a large write also leaves no temp file.
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
