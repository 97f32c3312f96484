"""Project names and folders, the documents folder listing, and the error classes."""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import pytest

from lexi_pipelines.common.files import file_sha256
from lexi_pipelines.documents.errors import DocumentsInputError, ExtractionError
from lexi_pipelines.documents.inventory import (
    MEDIA_TYPES,
    media_type_of,
    resolve_inside,
    scan_documents,
)
from lexi_pipelines.documents.projects import (
    discover_projects,
    project_paths,
    validate_project_name,
)


def write(path: Path, content: bytes | str = b"content") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


@pytest.fixture
def documents(tmp_path: Path) -> Path:
    root = tmp_path / "project" / "documents"
    write(root / "b.pdf", b"%PDF-1.4")
    write(root / "a.txt", "alpha")
    write(root / "nested" / "deeper" / "c.docx", b"PK")
    write(root / "nested" / "d.md", "# d")
    write(root / "Upper.HTML", "<p>x</p>")
    return root


# -- scan_documents ------------------------------------------------------------------------------


def test_scan_lists_supported_files_at_any_depth_sorted(documents: Path) -> None:
    inventory = scan_documents(documents)
    assert [e.relative_path for e in inventory.files] == [
        "Upper.HTML",
        "a.txt",
        "b.pdf",
        "nested/d.md",
        "nested/deeper/c.docx",
    ]
    by_path = {e.relative_path: e for e in inventory.files}
    assert by_path["a.txt"].size == 5
    assert by_path["a.txt"].media_type == "text/plain"
    assert by_path["Upper.HTML"].media_type == "text/html"
    assert by_path["nested/deeper/c.docx"].media_type == MEDIA_TYPES[".docx"]
    assert by_path["b.pdf"].mtime_ns == (documents / "b.pdf").stat().st_mtime_ns
    assert inventory.skipped == []


def test_scan_ignores_hidden_lock_and_partial_files(documents: Path) -> None:
    for name in [".hidden.txt", "~$lock.docx", "upload.pdf.part", ".report.pdf.abc.part",
                 "x.tmp", "y.crdownload", ".git/config.txt", "sub/.cache/z.pdf"]:  # fmt: skip
        write(documents / name)
    paths = [e.relative_path for e in scan_documents(documents).files]
    assert paths == ["Upper.HTML", "a.txt", "b.pdf", "nested/d.md", "nested/deeper/c.docx"]
    assert scan_documents(documents).skipped == []


def test_scan_reports_unsupported_files(documents: Path) -> None:
    write(documents / "sheet.xlsx")
    write(documents / "nested" / "README")
    write(documents / "old.doc")
    inventory = scan_documents(documents)
    assert {(s.relative_path, s.reason) for s in inventory.skipped} == {
        ("sheet.xlsx", "unsupported file type"),
        ("nested/README", "unsupported file type"),
        ("old.doc", "unsupported file type"),
    }
    assert "sheet.xlsx" not in [e.relative_path for e in inventory.files]


def test_scan_skips_a_symlink_leading_outside(documents: Path, tmp_path: Path) -> None:
    secret = write(tmp_path / "outside" / "secret.txt", "do not read")
    (documents / "leak.txt").symlink_to(secret)
    (documents / "nested" / "leak2.txt").symlink_to(
        Path("..") / ".." / ".." / "outside" / "secret.txt"
    )
    inventory = scan_documents(documents)
    assert "leak.txt" not in [e.relative_path for e in inventory.files]
    assert {(s.relative_path, s.reason) for s in inventory.skipped} == {
        ("leak.txt", "symlink points outside the project folder"),
        ("nested/leak2.txt", "symlink points outside the project folder"),
    }


def test_scan_allows_a_symlink_inside(documents: Path) -> None:
    (documents / "alias.txt").symlink_to(documents / "a.txt")
    (documents / "nested" / "relative.txt").symlink_to(Path("..") / "a.txt")
    inventory = scan_documents(documents)
    by_path = {e.relative_path: e for e in inventory.files}
    assert by_path["alias.txt"].size == by_path["a.txt"].size == 5
    assert by_path["nested/relative.txt"].size == 5
    assert inventory.skipped == []


def test_scan_does_not_follow_directory_symlinks(documents: Path, tmp_path: Path) -> None:
    write(tmp_path / "elsewhere" / "x.txt")
    (documents / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    inventory = scan_documents(documents)
    assert not any(e.relative_path.startswith("linked") for e in inventory.files)
    assert "linked" not in [s.relative_path for s in inventory.skipped]


def test_scan_reports_a_dangling_symlink(documents: Path) -> None:
    (documents / "dangling.pdf").symlink_to(documents / "missing.pdf")
    inventory = scan_documents(documents)
    assert "dangling.pdf" not in [e.relative_path for e in inventory.files]
    assert [s.relative_path for s in inventory.skipped] == ["dangling.pdf"]
    assert inventory.skipped[0].reason.startswith("cannot stat")


def test_scan_of_a_missing_or_empty_folder(tmp_path: Path) -> None:
    assert scan_documents(tmp_path / "missing").files == []
    (tmp_path / "empty").mkdir()
    inventory = scan_documents(tmp_path / "empty")
    assert inventory.files == [] and inventory.skipped == []
    assert inventory.digest() == scan_documents(tmp_path / "missing").digest()


def test_relative_paths_are_posix(documents: Path) -> None:
    for entry in scan_documents(documents).files:
        assert "\\" not in entry.relative_path
        assert not entry.relative_path.startswith("/")
        assert (documents / entry.relative_path).is_file()


def test_digest_changes_on_add_modify_delete_only(documents: Path) -> None:
    first = scan_documents(documents).digest()
    assert scan_documents(documents).digest() == first  # nothing changed

    write(documents / "ignored" / ".hidden.txt")
    write(documents / "~$lock.docx")
    write(documents / "notes.xlsx")
    assert scan_documents(documents).digest() == first  # nothing that counts changed

    new = write(documents / "new.txt", "new")
    added = scan_documents(documents).digest()
    assert added != first

    stat = new.stat()
    os.utime(new, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    touched = scan_documents(documents).digest()
    assert touched not in {first, added}

    new.write_text("new!")  # resized
    os.utime(new, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    resized = scan_documents(documents).digest()
    assert resized not in {first, added, touched}

    new.unlink()
    assert scan_documents(documents).digest() == first


def test_media_types() -> None:
    assert media_type_of("x.PDF") == "application/pdf"
    assert media_type_of("dir.pdf/readme") is None
    assert media_type_of("a.tar.gz") is None
    assert media_type_of("a.markdown") == "text/markdown"
    assert media_type_of(".txt") is None  # a hidden file named ".txt" has no extension


def test_file_sha256(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 17)  # several hash blocks
    path = write(tmp_path / "blob.pdf", data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    assert file_sha256(write(tmp_path / "empty.txt", b"")) == hashlib.sha256(b"").hexdigest()


# -- resolve_inside ------------------------------------------------------------------------------


def test_resolve_inside(documents: Path) -> None:
    assert resolve_inside(documents, "nested/d.md") == (documents / "nested" / "d.md").resolve()
    assert resolve_inside(documents, "nested/../a.txt") == (documents / "a.txt").resolve()


@pytest.mark.parametrize("relative", ["../x", "../../etc/passwd", "nested/../../x", "/etc/passwd"])
def test_resolve_inside_refuses_leaving_the_folder(documents: Path, relative: str) -> None:
    with pytest.raises(ValueError, match="outside"):
        resolve_inside(documents, relative)


def test_resolve_inside_refuses_a_link_leaving_the_folder(documents: Path, tmp_path: Path) -> None:
    (documents / "leak.txt").symlink_to(write(tmp_path / "secret.txt"))
    with pytest.raises(ValueError, match="outside"):
        resolve_inside(documents, "leak.txt")


# -- projects ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["demo-legal", "a.b_c", "A", "0", "project_2024", "x" * 128, "a-", "a.b.c"]
)
def test_valid_project_names(name: str) -> None:
    assert validate_project_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "..", ".", "a/b", "a\\b", "-x", "_x", ".hidden", "x" * 129, "a..b", "a b", "é", "a\n",
     "documents/../x", "a:b"],
)  # fmt: skip
def test_invalid_project_names(name: str) -> None:
    with pytest.raises(DocumentsInputError, match="invalid project name") as caught:
        validate_project_name(name)
    assert caught.value.field == "project"
    assert caught.value.source == name


def test_project_paths(tmp_path: Path) -> None:
    paths = project_paths(tmp_path, "demo-legal")
    assert paths.root == tmp_path / "demo-legal"
    assert paths.documents == tmp_path / "demo-legal" / "documents"
    assert paths.text == tmp_path / "demo-legal" / "text"
    assert paths.text_file("doc-1") == tmp_path / "demo-legal" / "text" / "doc-1.txt"
    with pytest.raises(DocumentsInputError):
        project_paths(tmp_path, "../escape")


def test_discover_projects(tmp_path: Path) -> None:
    for name in ["zeta", "alpha", "demo-legal"]:
        (tmp_path / name / "documents").mkdir(parents=True)
    (tmp_path / "no-documents" / "text").mkdir(parents=True)
    (tmp_path / ".hidden" / "documents").mkdir(parents=True)
    (tmp_path / "bad name" / "documents").mkdir(parents=True)
    write(tmp_path / "file-project" / "documents")  # a file, not a folder
    write(tmp_path / "loose.txt")
    assert discover_projects(tmp_path) == ["alpha", "demo-legal", "zeta"]
    assert discover_projects(tmp_path / "missing") == []


# -- errors --------------------------------------------------------------------------------------


def test_documents_input_error_survives_pickling() -> None:
    error = DocumentsInputError("bad project", source="a/b", field="project")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is DocumentsInputError
    assert str(copy) == "bad project"
    assert (copy.source, copy.field) == ("a/b", "project")


def test_extraction_error_is_an_exception() -> None:
    assert str(pickle.loads(pickle.dumps(ExtractionError("corrupt PDF")))) == "corrupt PDF"
