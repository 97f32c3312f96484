"""Stable document ids: the file stem (LexiClass convention), unless it collides.

An id, once given, stays with its file for as long as the file exists; a later file whose stem
is taken gets the stem plus a short hash of its relative path.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import PurePosixPath

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_ID_LENGTH = 120


def stem_id(relative_path: str) -> str:
    stem = PurePosixPath(relative_path).stem
    safe = _UNSAFE.sub("-", stem).strip(".-")[:MAX_ID_LENGTH]
    return safe or "document"


def assign_ids(new_paths: Iterable[str], taken: Iterable[str]) -> dict[str, str]:
    """Ids for ``new_paths``, unique against ``taken`` and each other.

    Shallower paths choose first (then alphabetical order), so a top-level file keeps its plain
    stem when a nested one shares it. Compared case-insensitively: the ids name text files, and
    some file systems fold case.
    """
    used = {doc_id.lower() for doc_id in taken}
    assigned: dict[str, str] = {}
    for path in sorted(new_paths, key=lambda p: (p.count("/"), p)):
        candidate = stem_id(path)
        if candidate.lower() in used:
            digest = hashlib.sha1(path.encode()).hexdigest()[:8]
            base = f"{candidate[: MAX_ID_LENGTH - 12]}-{digest}"
            candidate, n = base, 2
            while candidate.lower() in used:
                candidate, n = f"{base}-{n}", n + 1
        used.add(candidate.lower())
        assigned[path] = candidate
    return assigned
