"""File helpers: atomic writes (readers see the old file or the new one, never half of one)
and content hashing."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path


def _replace_via_temporary(target: Path, write: Callable[[Path], object], suffix: str) -> None:
    # A named temporary in the same folder (same file system, so os.replace is atomic),
    # created with the default mode: mkstemp's 0600 would hide the file from other users.
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}{suffix}")
    try:
        write(temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text_atomically(target: Path, text: str, *, suffix: str = ".tmp") -> None:
    _replace_via_temporary(target, lambda tmp: tmp.write_text(text, encoding="utf-8"), suffix)


def copy_file_atomically(source: Path, target: Path, *, suffix: str = ".part") -> None:
    _replace_via_temporary(target, lambda tmp: shutil.copyfile(source, tmp), suffix)


def file_sha256(path: Path, block_size: int = 1 << 20) -> str:
    """Hex sha256 of a file's content, read in blocks (files may be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(block_size):
            digest.update(block)
    return digest.hexdigest()
