"""Reading document labels from a project's files.

Where labels live (under ``{storage}/{project}/``):

- ``labels.tsv`` and ``labels/{field}.tsv``: LexiClass's ``doc_id<TAB>label`` for one field
  (``default`` for the root file, the file's stem otherwise), with an optional third column
  ``train`` or ``test``;
- ``labels.csv`` / ``labels.jsonl`` (at the root or in ``labels/``): columns ``doc_id``,
  ``field``, ``label`` and an optional ``split``.

Without a split, a seeded stratified split holds out ``TEST_FRACTION`` of each class (at
least one document of any class with two or more), the same for the same labels every time.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lexi_pipelines.classification.errors import ClassificationInputError

TEST_FRACTION = 0.2
DEFAULT_FIELD = "default"
_FIELD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_SPLITS = {"train": True, "training": True, "test": False, "testing": False}


@dataclass(frozen=True)
class LabelRecord:
    document_id: str
    label: str
    split: bool | None  # True: training, False: test, None: not given
    source: str
    line: int


@dataclass
class FieldLabels:
    name: str
    records: list[LabelRecord] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)

    @property
    def classes(self) -> list[str]:
        return sorted({r.label for r in self.records})

    def content_hash(self) -> str:
        h = hashlib.sha256()
        for r in sorted(self.records, key=lambda r: r.document_id):
            h.update(f"{r.document_id}\t{r.label}\t{r.split}\n".encode())
        return h.hexdigest()

    def assigned_splits(self, seed: str) -> dict[str, bool]:
        """``document_id -> is_training``: given splits kept, the rest split per class."""
        result = {r.document_id: r.split for r in self.records if r.split is not None}
        by_class: dict[str, list[str]] = defaultdict(list)
        for r in self.records:
            if r.split is None:
                by_class[r.label].append(r.document_id)
        rng = random.Random(hashlib.sha256(f"{seed}:{self.name}".encode()).hexdigest())
        for label in sorted(by_class):
            docs = sorted(by_class[label])
            rng.shuffle(docs)
            held_out = round(len(docs) * TEST_FRACTION) if len(docs) >= 2 else 0
            held_out = max(held_out, 1) if len(docs) >= 2 else 0
            for i, doc in enumerate(docs):
                result[doc] = i >= held_out
        return {doc: bool(flag) for doc, flag in result.items()}


def label_files(project_root: Path) -> list[Path]:
    candidates = [project_root / f"labels.{ext}" for ext in ("tsv", "csv", "jsonl")]
    folder = project_root / "labels"
    if folder.is_dir():
        candidates += sorted(
            p for p in folder.iterdir() if p.suffix in (".tsv", ".csv", ".jsonl") and p.is_file()
        )
    found = [p for p in candidates if p.is_file()]
    root = project_root.resolve()
    for path in found:
        # As for documents: only files inside the project are read, links included.
        if not path.resolve().is_relative_to(root):
            source = str(path.relative_to(project_root))
            raise ClassificationInputError(
                f"{source}: links to {path.resolve()}, outside the project folder",
                source=source,
                field="path",
            )
    return found


def read_labels(project_root: Path) -> dict[str, FieldLabels]:
    """Every field's labels from the project's label files; one document, one label per field."""
    fields: dict[str, FieldLabels] = {}
    seen: dict[tuple[str, str], LabelRecord] = {}
    for path in label_files(project_root):
        for field_name, record in _records(path, project_root):
            key = (field_name, record.document_id)
            if key in seen and seen[key].label != record.label:
                first = seen[key]
                raise ClassificationInputError(
                    f"{record.source}: line {record.line}: document {record.document_id!r} is "
                    f"labelled {record.label!r} for field {field_name!r}, but "
                    f"{first.source} line {first.line} says {first.label!r}",
                    source=record.source,
                    item=f"line {record.line}",
                    field="label",
                )
            if key in seen:
                continue
            seen[key] = record
            labels = fields.setdefault(field_name, FieldLabels(field_name))
            labels.records.append(record)
            labels.sources.add(record.source)
    return fields


def _records(path: Path, root: Path) -> Iterator[tuple[str, LabelRecord]]:
    source = str(path.relative_to(root))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ClassificationInputError(
            f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})", source=source
        ) from exc
    if path.suffix == ".tsv":
        field_name = DEFAULT_FIELD if path.parent == root else path.stem
        yield from ((field_name, r) for r in _tsv(text, source))
    elif path.suffix == ".csv":
        yield from _table(csv.DictReader(io.StringIO(text)), source, header_line=1)
    else:
        yield from _jsonl(text, source)


def _fail(source: str, line: int, column: str, message: str) -> ClassificationInputError:
    return ClassificationInputError(
        f"{source}: line {line}: column {column!r}: {message}",
        source=source,
        item=f"line {line}",
        field=column,
    )


def _split(value: str | None, source: str, line: int) -> bool | None:
    if value is None or not value.strip():
        return None
    flag = _SPLITS.get(value.strip().lower())
    if flag is None:
        raise _fail(source, line, "split", f"{value!r} is not one of train, test")
    return flag


def _checked(value: object, source: str, line: int, column: str) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise _fail(source, line, column, "missing value")
    return text


def _field_name(value: object, source: str, line: int) -> str:
    name = _checked(value, source, line, "field")
    if not _FIELD_NAME.fullmatch(name):
        raise _fail(source, line, "field", f"{name!r} is not a valid field name")
    return name


def _tsv(text: str, source: str) -> Iterator[LabelRecord]:
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = raw.split("\t")
        if number == 1 and parts[0].strip().lower() in ("doc_id", "document_id"):
            continue  # a header line
        if len(parts) not in (2, 3):
            raise _fail(source, number, "doc_id", f"expected doc_id<TAB>label, got {raw!r}")
        doc = _checked(parts[0], source, number, "doc_id")
        label = _checked(parts[1], source, number, "label")
        split = _split(parts[2] if len(parts) == 3 else None, source, number)
        yield LabelRecord(doc, label, split, source, number)


def _table(
    rows: csv.DictReader[str], source: str, header_line: int
) -> Iterator[tuple[str, LabelRecord]]:
    try:
        header = rows.fieldnames or []
    except csv.Error as exc:
        raise ClassificationInputError(
            f"{source}: line {header_line}: not readable as CSV: {exc}",
            source=source,
            item=f"line {header_line}",
        ) from exc
    missing = {"doc_id", "field", "label"} - set(header)
    if missing:
        raise ClassificationInputError(
            f"{source}: missing columns {sorted(missing)} (need doc_id, field, label; split "
            "optional)",
            source=source,
            field=sorted(missing)[0],
        )
    number = header_line
    try:
        for number, row in enumerate(rows, header_line + 1):
            yield (
                _field_name(row.get("field"), source, number),
                LabelRecord(
                    _checked(row.get("doc_id"), source, number, "doc_id"),
                    _checked(row.get("label"), source, number, "label"),
                    _split(row.get("split"), source, number),
                    source,
                    number,
                ),
            )
    except csv.Error as exc:  # e.g. a field above the csv module's size limit
        raise ClassificationInputError(
            f"{source}: line {number + 1}: not readable as CSV: {exc}",
            source=source,
            item=f"line {number + 1}",
        ) from exc


def _jsonl(text: str, source: str) -> Iterator[tuple[str, LabelRecord]]:
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            # ValueError: a JSONDecodeError, or an integer of more digits than Python converts;
            # RecursionError: arrays or objects nested thousands deep.
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)[:200]
            raise ClassificationInputError(
                f"{source}: line {number}: malformed JSON: {reason}",
                source=source,
                item=f"line {number}",
            ) from exc
        if not isinstance(row, dict):
            raise _fail(source, number, "doc_id", "each line must be a JSON object")
        split = row.get("split")
        yield (
            _field_name(row.get("field"), source, number),
            LabelRecord(
                _checked(row.get("doc_id"), source, number, "doc_id"),
                _checked(row.get("label"), source, number, "label"),
                _split(None if split is None else str(split), source, number),
                source,
                number,
            ),
        )
