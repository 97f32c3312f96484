"""Listing the files of a project's documents folder, safely and cheaply (stat only)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MEDIA_TYPES = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True)
class FileEntry:
    relative_path: str  # POSIX-style, relative to the documents folder
    size: int
    mtime_ns: int
    media_type: str


@dataclass(frozen=True)
class SkippedFile:
    relative_path: str
    reason: str


@dataclass
class Inventory:
    files: list[FileEntry] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)

    def digest(self) -> str:
        """Changes whenever a file is added, removed, resized or touched."""
        h = hashlib.sha256()
        for entry in self.files:
            h.update(f"{entry.relative_path}\0{entry.size}\0{entry.mtime_ns}\n".encode())
        return h.hexdigest()


def media_type_of(path: str) -> str | None:
    return MEDIA_TYPES.get(os.path.splitext(path)[1].lower())


def _is_ignored(name: str) -> bool:
    # Hidden files, editor lock files and partial uploads are not documents (yet).
    return name.startswith((".", "~$")) or name.endswith((".part", ".tmp", ".crdownload"))


def scan_documents(documents_dir: Path) -> Inventory:
    """Every supported file under ``documents_dir`` (any depth), sorted by relative path.

    Symlinks are followed only when their target stays inside the folder; anything else that
    is not a plain supported file is reported in ``skipped`` with the reason.
    """
    inventory = Inventory()
    if not documents_dir.is_dir():
        return inventory
    root = documents_dir.resolve()
    for relative, entry in _walk(root, ""):
        if _is_ignored(entry.name):
            continue
        media_type = media_type_of(entry.name)
        if media_type is None:
            inventory.skipped.append(SkippedFile(relative, "unsupported file type"))
            continue
        try:
            if entry.is_symlink():
                target = Path(entry.path).resolve()
                if not target.is_relative_to(root):
                    inventory.skipped.append(
                        SkippedFile(relative, "symlink points outside the project folder")
                    )
                    continue
            stat = entry.stat()  # follows a link that stays inside
        except OSError as exc:
            inventory.skipped.append(SkippedFile(relative, f"cannot stat: {exc.strerror}"))
            continue
        inventory.files.append(FileEntry(relative, stat.st_size, stat.st_mtime_ns, media_type))
    inventory.files.sort(key=lambda e: e.relative_path)
    return inventory


def _walk(directory: Path, prefix: str) -> Iterator[tuple[str, os.DirEntry[str]]]:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        relative = f"{prefix}{entry.name}"
        if entry.is_dir(follow_symlinks=False):
            if not _is_ignored(entry.name):
                yield from _walk(Path(entry.path), relative + "/")
        elif entry.is_symlink() and entry.is_dir(follow_symlinks=True):
            continue  # linked folders are not followed: they could loop or lead outside
        elif entry.is_file(follow_symlinks=True) or entry.is_symlink():
            yield relative, entry


def resolve_inside(documents_dir: Path, relative_path: str) -> Path:
    """The absolute path of ``relative_path``; refuses ``..`` and links leaving the folder."""
    root = documents_dir.resolve()
    path = (root / relative_path).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"{relative_path!r} resolves outside {root}")
    return path
