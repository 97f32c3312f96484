"""Document ids: the file stem, made safe, with a deterministic hash suffix on collisions."""

from __future__ import annotations

import hashlib
import re

import pytest

from lexi_pipelines.documents.ids import MAX_ID_LENGTH, assign_ids, stem_id

SAFE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")


def suffix(path: str) -> str:
    return hashlib.sha1(path.encode()).hexdigest()[:8]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("contract.pdf", "contract"),
        ("folder/sub/contract.pdf", "contract"),
        ("Lease Agreement (final).docx", "Lease-Agreement-final"),
        ("report.v2.final.pdf", "report.v2.final"),
        ("a  b\tc.txt", "a-b-c"),
        ("__init__.md", "__init__"),
        ("-leading-dash.txt", "leading-dash"),
        ("..dots..txt", "dots"),
        ("what?.html", "what"),
        ("noextension", "noextension"),
    ],
)
def test_stem_id(path: str, expected: str) -> None:
    assert stem_id(path) == expected
    assert SAFE.fullmatch(stem_id(path))


@pytest.mark.parametrize("path", ["résumé.txt", "Vertrag §5 (Entwurf).docx", "a/b:c*d|e.pdf"])
def test_unsafe_characters_never_reach_the_id(path: str) -> None:
    doc_id = stem_id(path)
    assert SAFE.fullmatch(doc_id), doc_id
    assert "/" not in doc_id and ".." not in doc_id


@pytest.mark.parametrize("path", ["###.pdf", "....txt", "日本語.pdf", "dir/---.docx", "--.md"])
def test_stem_without_safe_characters_is_document(path: str) -> None:
    assert stem_id(path) == "document"


def test_long_stems_are_cut() -> None:
    doc_id = stem_id("x" * 500 + ".pdf")
    assert doc_id == "x" * MAX_ID_LENGTH


def test_unique_stems_keep_their_stem() -> None:
    assert assign_ids(["b.pdf", "a/a.txt", "c.docx"], taken=[]) == {
        "a/a.txt": "a",
        "b.pdf": "b",
        "c.docx": "c",
    }


def test_same_stem_in_different_folders() -> None:
    ids = assign_ids(["z/report.pdf", "a/report.pdf"], taken=[])
    # Sorted order decides who keeps the plain stem: the same answer on every run.
    assert ids == {"a/report.pdf": "report", "z/report.pdf": f"report-{suffix('z/report.pdf')}"}


def test_same_stem_with_different_extensions() -> None:
    ids = assign_ids(["report.pdf", "report.docx", "report.txt"], taken=[])
    assert ids["report.docx"] == "report"
    assert ids["report.pdf"] == f"report-{suffix('report.pdf')}"
    assert ids["report.txt"] == f"report-{suffix('report.txt')}"
    assert len(set(ids.values())) == 3


def test_case_insensitive_collisions() -> None:
    ids = assign_ids(["Report.pdf", "report.txt", "REPORT.docx"], taken=[])
    assert len({doc_id.lower() for doc_id in ids.values()}) == 3
    assert ids["REPORT.docx"] == "REPORT"  # first in sorted order
    assert ids["Report.pdf"] == f"Report-{suffix('Report.pdf')}"
    assert ids["report.txt"] == f"report-{suffix('report.txt')}"


def test_sanitized_stems_can_collide() -> None:
    ids = assign_ids(["a b.pdf", "a-b.pdf", "a?b.pdf"], taken=[])
    assert ids["a b.pdf"] == "a-b"
    assert len({doc_id.lower() for doc_id in ids.values()}) == 3


def test_assignment_is_deterministic_and_order_independent() -> None:
    paths = ["x/doc.pdf", "y/doc.pdf", "doc.txt", "DOC.md", "other.pdf"]
    first = assign_ids(paths, taken=["doc"])
    assert assign_ids(list(reversed(paths)), taken=["doc"]) == first
    assert assign_ids(iter(paths), taken=iter(["doc"])) == first


def test_taken_ids_are_never_reassigned() -> None:
    ids = assign_ids(["new/contract.pdf"], taken=["contract", "other"])
    assert ids == {"new/contract.pdf": f"contract-{suffix('new/contract.pdf')}"}


def test_taken_ids_are_compared_case_insensitively() -> None:
    ids = assign_ids(["Contract.pdf"], taken=["CONTRACT"])
    assert ids["Contract.pdf"].lower() != "contract"
    assert ids["Contract.pdf"] == f"Contract-{suffix('Contract.pdf')}"


def test_taken_hashed_id_gets_a_counter() -> None:
    path = "b/report.pdf"
    hashed = f"report-{suffix(path)}"
    ids = assign_ids([path], taken=["report", hashed])
    assert ids == {path: f"{hashed}-2"}
    ids = assign_ids([path], taken=["report", hashed, f"{hashed}-2"])
    assert ids == {path: f"{hashed}-3"}


def test_hashed_ids_of_long_stems_stay_within_the_limit() -> None:
    paths = [f"{folder}/{'y' * 300}.pdf" for folder in "abc"]
    ids = assign_ids(paths, taken=["y" * MAX_ID_LENGTH])
    assert len(set(ids.values())) == 3
    assert all(len(doc_id) <= MAX_ID_LENGTH for doc_id in ids.values())
    assert all(SAFE.fullmatch(doc_id) for doc_id in ids.values())


def test_many_documents_get_unique_ids() -> None:
    paths = [f"folder{i % 7}/{name}.{ext}" for i, name in enumerate(["a", "A", "b"] * 20)
             for ext in ("pdf", "txt")]  # fmt: skip
    ids = assign_ids(paths, taken=["a", "B"])
    assert len(ids) == len(set(paths))
    assert len({doc_id.lower() for doc_id in ids.values()}) == len(ids)
    assert not {"a", "b"} & {doc_id.lower() for doc_id in ids.values()}


def test_empty_stem_ids_collide_like_any_other() -> None:
    ids = assign_ids(["###.pdf", "???.txt"], taken=[])
    assert ids["###.pdf"] == "document"
    assert ids["???.txt"] == f"document-{suffix('???.txt')}"


def test_nothing_new() -> None:
    assert assign_ids([], taken=["a"]) == {}
