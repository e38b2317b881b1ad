"""Downloading a file from a list of mirrors, keeping it only if its checksum matches.

Each URL is tried in turn. A copy is accepted only when the MD5 of its *decompressed* bytes
(the raw bytes, if it is not gzip) equals the expected one: that checksum does not change if a
mirror recompresses the file. The download is checked in memory and only then written, through
a temporary file and an atomic rename, so a failed or rejected download leaves nothing behind.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import os
import time
import urllib.request
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ...atomic_file import write_bytes_atomic

# Seconds a connection may stay silent (connecting or between reads) before we give up on it.
TIMEOUT_SECONDS = 30.0
# Seconds one URL may take in total, so a server trickling bytes cannot hold us forever.
MAX_SECONDS_PER_URL = 600.0
# The largest MNIST file is ~10 MB compressed and 47 MB decompressed; anything far bigger is
# not what we asked for.
MAX_DOWNLOAD_BYTES = 64 * 2**20
MAX_DECOMPRESSED_BYTES = 256 * 2**20

_CHUNK_BYTES = 1 << 16

# An opener takes (url, timeout in seconds) and returns a response: a context manager with
# .read(n). urllib's urlopen is the default; tests pass their own.
Opener = Callable[[str, float], Any]


class DownloadError(OSError):
    """No URL gave a good copy. `tried` lists (url, what went wrong) for each attempt."""

    def __init__(self, message: str, tried: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.tried = tried


def urlopen_with_timeout(url: str, timeout: float) -> Any:
    """The default opener: `urllib.request.urlopen` with a timeout."""
    return urllib.request.urlopen(url, timeout=timeout)


def decompressed_md5(data: bytes, max_bytes: int = MAX_DECOMPRESSED_BYTES) -> str:
    """Hex MD5 of `data` after gunzipping it (of `data` itself if it is not gzip).

    Raises ValueError if the result would exceed `max_bytes`, and the gzip module's errors
    (EOFError, zlib.error, OSError) if the gzip stream is broken.
    """
    md5 = hashlib.md5()
    if not data.startswith(b"\x1f\x8b"):
        md5.update(data)
        return md5.hexdigest()
    total = 0
    # Decompress piece by piece: a tiny "gzip bomb" must not expand into gigabytes of memory.
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
        while chunk := f.read(1 << 20):
            total += len(chunk)
            if total > max_bytes:
                raise ValueError(f"decompresses to more than {max_bytes} bytes")
            md5.update(chunk)
    return md5.hexdigest()


def fetch(
    url: str,
    opener: Opener | None = None,
    timeout: float = TIMEOUT_SECONDS,
    max_seconds: float = MAX_SECONDS_PER_URL,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> bytes:
    """Download `url` into memory; raise OSError/ValueError if it is slow, too big or fails."""
    opener = opener or urlopen_with_timeout
    deadline = time.monotonic() + max_seconds
    chunks: list[bytes] = []
    size = 0
    with opener(url, timeout) as response:
        while chunk := response.read(_CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                raise ValueError(f"response is larger than {max_bytes} bytes")
            if time.monotonic() > deadline:
                raise TimeoutError(f"download took longer than {max_seconds:.0f} s")
            chunks.append(chunk)
    return b"".join(chunks)


def download_verified(
    urls: Sequence[str],
    dest: str | os.PathLike[str],
    md5: str,
    opener: Opener | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> Path:
    """Save the first copy from `urls` whose decompressed MD5 is `md5` to `dest`, atomically.

    The bytes are stored as downloaded (still compressed). Returns `dest`. Raises
    `DownloadError` listing every URL and its problem if none gave a good copy.
    """
    dest = Path(dest)
    tried: list[tuple[str, str]] = []
    for url in urls:
        try:
            data = fetch(url, opener=opener, timeout=timeout)
            got = decompressed_md5(data)
        # Everything one bad mirror can throw at us: network errors and timeouts (OSError),
        # HTTP protocol errors, malformed URLs and oversize data (ValueError), broken gzip.
        except (OSError, ValueError, EOFError, zlib.error, http.client.HTTPException) as e:
            tried.append((url, f"{type(e).__name__}: {e}"))
            continue
        if got != md5:
            tried.append((url, f"checksum mismatch: expected MD5 {md5}, got {got}; rejected"))
            continue
        write_bytes_atomic(dest, data)
        return dest
    lines = "\n".join(f"  {url}: {reason}" for url, reason in tried) or "  (no URLs given)"
    raise DownloadError(f"could not download {dest.name}; tried:\n{lines}", tried)
