"""add_files: copying files into a project's documents folder, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from lexi_pipelines.documents.errors import DocumentsInputError
from lexi_pipelines.documents.inbox import add_files
from lexi_pipelines.documents.inventory import scan_documents


@pytest.fixture
def storage_root(tmp_path: Path) -> Path:
    root = tmp_path / "storage"
    root.mkdir()
    return root


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "contract.pdf").write_bytes(b"%PDF-1.4 contract")
    (folder / "notes.txt").write_text("notes")
    (folder / "letter.docx").write_bytes(b"PK docx")
    (folder / "sheet.xlsx").write_bytes(b"PK xlsx")
    (folder / "big.txt").write_bytes(b"x" * 2000)
    return folder


def all_files(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_add_files_copies_into_documents(storage_root: Path, uploads: Path) -> None:
    sources = [uploads / "contract.pdf", uploads / "notes.txt"]
    targets = add_files(storage_root, "demo-legal", sources)
    documents = storage_root / "demo-legal" / "documents"
    assert targets == [documents / "contract.pdf", documents / "notes.txt"]
    assert all_files(documents) == ["contract.pdf", "notes.txt"]
    assert (documents / "contract.pdf").read_bytes() == b"%PDF-1.4 contract"
    assert (uploads / "contract.pdf").is_file()  # copied, not moved
    assert [e.relative_path for e in scan_documents(documents).files] == [
        "contract.pdf",
        "notes.txt",
    ]


def test_add_files_into_a_subfolder(storage_root: Path, uploads: Path) -> None:
    targets = add_files(
        storage_root, "demo-legal", [uploads / "letter.docx"], subfolder="2024/letters"
    )
    documents = storage_root / "demo-legal" / "documents"
    assert targets == [documents / "2024" / "letters" / "letter.docx"]
    assert all_files(documents) == ["2024/letters/letter.docx"]


def test_add_files_replaces_an_existing_file(storage_root: Path, uploads: Path) -> None:
    add_files(storage_root, "p", [uploads / "notes.txt"])
    (uploads / "notes.txt").write_text("newer notes")
    add_files(storage_root, "p", [uploads / "notes.txt"])
    assert (storage_root / "p" / "documents" / "notes.txt").read_text() == "newer notes"
    assert all_files(storage_root / "p") == ["documents/notes.txt"]


def test_no_partial_files_remain(storage_root: Path, uploads: Path) -> None:
    add_files(storage_root, "p", [uploads / "contract.pdf", uploads / "big.txt"], subfolder="s")
    names = [p.name for p in (storage_root / "p").rglob("*")]
    assert not [n for n in names if n.endswith(".part") or n.startswith(".")]


def test_add_files_accepts_strings_and_an_empty_list(storage_root: Path, uploads: Path) -> None:
    assert add_files(storage_root, "p", []) == []
    targets = add_files(storage_root, "p", [str(uploads / "notes.txt")])  # type: ignore[list-item]
    assert targets == [storage_root / "p" / "documents" / "notes.txt"]


def assert_refused(
    error: pytest.ExceptionInfo[DocumentsInputError], field: str, source: str | Path
) -> None:
    assert error.value.field == field
    assert error.value.source == str(source)
    assert str(source) in str(error.value)


def test_refuses_an_unsupported_extension(storage_root: Path, uploads: Path) -> None:
    with pytest.raises(DocumentsInputError, match="unsupported file type") as error:
        add_files(storage_root, "p", [uploads / "notes.txt", uploads / "sheet.xlsx"])
    assert_refused(error, "extension", uploads / "sheet.xlsx")
    assert ".xlsx" in str(error.value) and ".pdf" in str(error.value)  # names the supported ones
    assert all_files(storage_root) == []


def test_refuses_a_file_without_extension(storage_root: Path, uploads: Path) -> None:
    (uploads / "README").write_text("readme")
    with pytest.raises(DocumentsInputError, match=r"\(none\)") as error:
        add_files(storage_root, "p", [uploads / "README"])
    assert_refused(error, "extension", uploads / "README")


def test_refuses_a_missing_file(storage_root: Path, uploads: Path) -> None:
    missing = uploads / "missing.pdf"
    with pytest.raises(DocumentsInputError, match="no such file") as error:
        add_files(storage_root, "p", [uploads / "contract.pdf", missing])
    assert_refused(error, "path", missing)
    assert all_files(storage_root) == []


def test_refuses_a_folder(storage_root: Path, uploads: Path) -> None:
    folder = uploads / "folder.pdf"
    folder.mkdir()
    with pytest.raises(DocumentsInputError) as error:
        add_files(storage_root, "p", [folder])
    assert_refused(error, "path", folder)


def test_refuses_an_oversize_file(storage_root: Path, uploads: Path) -> None:
    with pytest.raises(DocumentsInputError, match="above the limit") as error:
        add_files(storage_root, "p", [uploads / "notes.txt", uploads / "big.txt"], max_bytes=1999)
    assert_refused(error, "size", uploads / "big.txt")
    assert all_files(storage_root) == []
    # At the limit is fine.
    add_files(storage_root, "p", [uploads / "big.txt"], max_bytes=2000)
    assert all_files(storage_root) == ["p/documents/big.txt"]


@pytest.mark.parametrize("subfolder", ["../x", "a/../../x", "..", "/abs/olute", "a/.."])
def test_refuses_a_subfolder_leaving_the_project(
    storage_root: Path, uploads: Path, subfolder: str
) -> None:
    with pytest.raises(DocumentsInputError, match="subfolder") as error:
        add_files(storage_root, "p", [uploads / "notes.txt"], subfolder=subfolder)
    assert error.value.field == "subfolder"
    assert error.value.source == subfolder
    assert all_files(storage_root.parent / "storage") == []
    assert not (storage_root.parent / "x").exists()


@pytest.mark.parametrize("project", ["", "..", "a/b", "-x", "x" * 129])
def test_refuses_a_bad_project_name(storage_root: Path, uploads: Path, project: str) -> None:
    with pytest.raises(DocumentsInputError, match="invalid project name") as error:
        add_files(storage_root, project, [uploads / "notes.txt"])
    assert error.value.field == "project"
    assert error.value.source == project
    assert all_files(storage_root) == []


def test_copies_get_the_default_mode_not_a_private_one(storage_root: Path, uploads: Path) -> None:
    import os
    import stat

    umask = os.umask(0o022)
    try:
        (target,) = add_files(storage_root, "cases", [uploads / "notes.txt"])
    finally:
        os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
