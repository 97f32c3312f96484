"""Label files: LexiClass's labels.tsv, CSV and JSONL; splits; clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from lexi_pipelines.classification.errors import ClassificationInputError
from lexi_pipelines.classification.labels import DEFAULT_FIELD, read_labels


def test_tsv_csv_and_jsonl_fields(tmp_path: Path) -> None:
    (tmp_path / "labels.tsv").write_text("doc_id\tlabel\na\tcontract\nb\tcourt\ttest\n")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "urgency.tsv").write_text("a\thigh\nb\tlow\n")
    (tmp_path / "labels.csv").write_text(
        "doc_id,field,label,split\na,region,eu,train\nb,region,us,\n"
    )
    (tmp_path / "labels.jsonl").write_text(
        '{"doc_id": "c", "field": "region", "label": "eu", "split": "test"}\n'
    )
    fields = read_labels(tmp_path)
    assert sorted(fields) == sorted([DEFAULT_FIELD, "urgency", "region"])
    default = fields[DEFAULT_FIELD]
    assert [(r.document_id, r.label, r.split) for r in default.records] == [
        ("a", "contract", None),
        ("b", "court", False),
    ]
    assert fields["region"].classes == ["eu", "us"]
    assert {r.document_id: r.split for r in fields["region"].records} == {
        "a": True,
        "b": None,
        "c": False,
    }


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("labels.tsv", "a\tx\nb\n", "labels.tsv: line 2: column 'doc_id'"),
        ("labels.tsv", "a\t  \n", "line 1: column 'label': missing value"),
        ("labels.tsv", "a\tx\tmaybe\n", "column 'split': 'maybe' is not one of train, test"),
        ("labels.csv", "doc_id,label\na,x\n", "missing columns ['field']"),
        ("labels.csv", "doc_id,field,label\na,bad field,x\n", "line 2: column 'field'"),
        ("labels.jsonl", '{"doc_id": "a", "field": "f", "label": "x"}\n{oops\n', "line 2"),
    ],
)
def test_bad_label_files_name_file_line_and_column(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(ClassificationInputError) as raised:
        read_labels(tmp_path)
    assert message in str(raised.value)
    assert raised.value.source == name


def test_conflicting_labels_for_one_document_are_refused(tmp_path: Path) -> None:
    (tmp_path / "labels.tsv").write_text("a\tx\n")
    (tmp_path / "labels.csv").write_text(f"doc_id,field,label\na,{DEFAULT_FIELD},y\n")
    with pytest.raises(ClassificationInputError, match=r"labelled 'y'.*says 'x'"):
        read_labels(tmp_path)


def test_seeded_split_is_stratified_and_stable(tmp_path: Path) -> None:
    rows = [f"d{i:03d}\t{'a' if i % 3 else 'b'}" for i in range(60)]
    (tmp_path / "labels.tsv").write_text("\n".join(rows) + "\n")
    labels = read_labels(tmp_path)[DEFAULT_FIELD]
    first = labels.assigned_splits(seed="proj")
    assert first == labels.assigned_splits(seed="proj")
    assert first != labels.assigned_splits(seed="other")
    for cls, size in (("a", 40), ("b", 20)):
        docs = [r.document_id for r in labels.records if r.label == cls]
        held_out = sum(1 for d in docs if not first[d])
        assert held_out == round(size * 0.2)
    assert labels.content_hash() == read_labels(tmp_path)[DEFAULT_FIELD].content_hash()
