"""Registering files from anywhere into a project's documents folder (the CLI's ``add``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from lexi_pipelines.common.files import copy_file_atomically
from lexi_pipelines.documents.errors import DocumentsInputError
from lexi_pipelines.documents.inventory import MEDIA_TYPES, media_type_of
from lexi_pipelines.documents.projects import project_paths


def add_files(
    storage: Path,
    project: str,
    files: Iterable[Path],
    *,
    subfolder: str = "",
    max_bytes: int | None = None,
) -> list[Path]:
    """Copy ``files`` into ``{storage}/{project}/documents/{subfolder}/``; returns the targets.

    Every file is checked before the first is copied, so a bad one copies nothing. Each copy
    lands under a temporary name first: the sensor never sees half a file.
    """
    paths = project_paths(storage, project)
    folder = paths.documents
    if subfolder:
        sub = PurePosixPath(subfolder)
        if sub.is_absolute() or ".." in sub.parts:
            raise DocumentsInputError(
                f"subfolder {subfolder!r} must be relative and stay inside the project",
                source=subfolder,
                field="subfolder",
            )
        folder = folder / sub
        # ".." is refused above; a symbolic link on the way could still lead out.
        if not folder.resolve().is_relative_to(paths.documents.resolve()):
            raise DocumentsInputError(
                f"subfolder {subfolder!r} leads outside the project's documents folder "
                f"(to {folder.resolve()})",
                source=subfolder,
                field="subfolder",
            )
    sources = [Path(f) for f in files]
    for source in sources:
        if not source.is_file():
            raise DocumentsInputError(f"{source}: no such file", source=str(source), field="path")
        if media_type_of(source.name) is None:
            raise DocumentsInputError(
                f"{source}: unsupported file type {source.suffix or '(none)'!r}; supported: "
                + ", ".join(sorted(MEDIA_TYPES)),
                source=str(source),
                field="extension",
            )
        if max_bytes is not None and source.stat().st_size > max_bytes:
            raise DocumentsInputError(
                f"{source}: {source.stat().st_size / 1e6:.1f} MB is above the limit of "
                f"{max_bytes / 1e6:.1f} MB",
                source=str(source),
                field="size",
            )
    folder.mkdir(parents=True, exist_ok=True)
    targets = []
    for source in sources:
        target = folder / source.name
        copy_file_atomically(source, target)
        targets.append(target)
    return targets
