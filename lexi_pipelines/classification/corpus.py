"""20 Newsgroups "bydate" read straight from its tar.gz (nothing is extracted).

The classic loaders decode posts as latin-1 (every byte maps to a character, so nothing
fails) and keep the full post. We do the same by default: headers, signatures and quotes
stay in, which is the setting the accuracy target refers to. ``strip_headers=True`` drops
everything up to the first blank line (the RFC 822 header block) for a harder, leak-free
variant.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass, field
from pathlib import Path

ARCHIVE_NAME = "20news-bydate.tar.gz"
TRAIN_PREFIX = "20news-bydate-train"
TEST_PREFIX = "20news-bydate-test"


def default_data_dir() -> Path:
    """``<repo>/../shared/data/20news``: the shared data folder beside the checkout."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "20news"


def default_archive() -> Path:
    return default_data_dir() / ARCHIVE_NAME


@dataclass
class Split:
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class NewsgroupsCorpus:
    train: Split
    test: Split

    @property
    def categories(self) -> list[str]:
        return sorted(set(self.train.labels))


def strip_header(text: str) -> str:
    _, sep, body = text.partition("\n\n")
    return body if sep else text


def load_20newsgroups(
    path: str | Path | None = None,
    *,
    categories: list[str] | None = None,
    strip_headers: bool = False,
) -> NewsgroupsCorpus:
    """Train and test posts, in a stable order (category, then file name).

    ``path`` is the tar.gz or the folder holding it; ``categories`` keeps only those groups.
    Raises ``FileNotFoundError`` when the archive is missing.
    """
    archive = Path(path) if path is not None else default_archive()
    if archive.is_dir():
        archive = archive / ARCHIVE_NAME
    if not archive.is_file():
        raise FileNotFoundError(f"20 Newsgroups archive not found: {archive}")
    wanted = set(categories) if categories else None
    rows: dict[str, list[tuple[str, str, str]]] = {TRAIN_PREFIX: [], TEST_PREFIX: []}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            parts = member.name.split("/")
            if len(parts) != 3 or parts[0] not in rows:
                continue
            split, category, name = parts
            if wanted is not None and category not in wanted:
                continue
            handle = tar.extractfile(member)
            if handle is None:
                continue
            text = handle.read().decode("latin-1")
            rows[split].append((category, name, strip_header(text) if strip_headers else text))
    if wanted is not None and (missing := wanted - {c for c, _, _ in rows[TRAIN_PREFIX]}):
        raise ValueError(f"unknown 20 Newsgroups categories: {sorted(missing)}")
    splits = []
    for prefix in (TRAIN_PREFIX, TEST_PREFIX):
        ordered = sorted(rows[prefix], key=lambda r: (r[0], int(r[1]) if r[1].isdigit() else 0))
        splits.append(Split([t for _, _, t in ordered], [c for c, _, _ in ordered]))
    return NewsgroupsCorpus(train=splits[0], test=splits[1])
