"""On-demand inference: the latest passed model of a field labels texts given by a caller.

Unlike ``field_predictions`` (which predicts the project's own documents into the
``predictions`` table), this reads texts handed in by a person or a program, inline or as a
JSONL file of ``{"id": ..., "text": ...}`` lines, and writes one JSONL file of predictions
atomically. Pure module: the Dagster op in ``operations/jobs.py`` only wires it.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from lexi_pipelines.classification.artifacts import ModelStore
from lexi_pipelines.classification.errors import ArtifactIntegrityError, ClassificationInputError
from lexi_pipelines.classification.store import latest_model
from lexi_pipelines.common.files import write_text_atomically

_BATCH = 2000
# The rule of project folders and label field names: both become path segments.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class InferenceItem:
    id: str
    text: str


@dataclass
class InferenceResult:
    project: str
    field: str
    model_version: int
    output: Path
    count: int = 0
    by_label: dict[str, int] = dataclass_field(default_factory=dict)  # `field` is taken
    duration_s: float = 0.0

    @property
    def per_second(self) -> float:
        return self.count / self.duration_s if self.duration_s > 0 else 0.0


def validate_target(project: str, field_name: str) -> None:
    for kind, name in (("project", project), ("field", field_name)):
        if not _NAME.fullmatch(name) or ".." in name:
            raise ClassificationInputError(
                f"invalid {kind} name {name!r}: use 1-128 letters, digits, '_', '-' or '.', "
                "starting with a letter or digit",
                source=f"{project}/{field_name}",
                field=kind,
            )


def inference_dir(storage: Path, project: str, field_name: str) -> Path:
    return storage / project / "predictions" / field_name / "inference"


def output_path(
    storage: Path, project: str, field_name: str, run_id: str, requested: str | None = None
) -> Path:
    """``{storage}/{project}/predictions/{field}/inference/{run_id}.jsonl`` by default; a
    requested path (relative ones resolve against that folder) must stay inside storage,
    since anyone who can submit a run chooses it."""
    folder = inference_dir(storage, project, field_name)
    if not requested:
        return folder / f"{run_id}.jsonl"
    target = (folder / Path(requested).expanduser()).resolve()
    if not target.is_relative_to(storage.resolve()):
        raise ClassificationInputError(
            f"output {requested!r} resolves to {target}, outside the storage root {storage}",
            source=requested,
            field="output",
        )
    return target


def items_from_texts(texts: Sequence[str]) -> list[InferenceItem]:
    """Inline texts get ids ``text-1``, ``text-2``, ... in the order given."""
    items = []
    for n, text in enumerate(texts, 1):
        if not isinstance(text, str) or not text.strip():
            raise ClassificationInputError(
                f"text {n} is empty", source="texts", item=f"text {n}", field="text"
            )
        items.append(InferenceItem(f"text-{n}", text))
    return items


def read_items(path: Path) -> list[InferenceItem]:
    """Lines ``{"id": ..., "text": ...}`` (id optional: ``line-{n}``); blank lines skipped.

    Any bad line fails the whole file, naming the file, line and field: a partial answer
    to a batch request would be easy to mistake for a complete one.
    """
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError as exc:
        raise ClassificationInputError(
            f"{path}: no such file", source=str(path), field="file"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ClassificationInputError(
            f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})", source=str(path)
        ) from exc
    except OSError as exc:  # a folder, no permission: the caller's path to fix, not a retry
        raise ClassificationInputError(
            f"{path}: cannot read: {exc.strerror or exc}", source=str(path), field="file"
        ) from exc
    items: list[InferenceItem] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue

        def bad(message: str, key: str, line_no: int = n) -> ClassificationInputError:
            return ClassificationInputError(
                f"{path}: line {line_no}: {message}",
                source=str(path),
                item=f"line {line_no}",
                field=key,
            )

        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise bad(f"not JSON ({exc.msg} at column {exc.colno})", "line") from exc
        if not isinstance(record, dict):
            raise bad(f"expected an object with 'text', got {type(record).__name__}", "line")
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            raise bad("field 'text' is missing, not a string or empty", "text")
        raw_id = record.get("id", f"line-{n}")
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or str(raw_id) == "":
            raise bad(f"field 'id' must be a non-empty string or integer, got {raw_id!r}", "id")
        item_id = str(raw_id)
        if item_id in seen:
            raise bad(f"duplicate id {item_id!r} (first on line {seen[item_id]})", "id")
        seen[item_id] = n
        items.append(InferenceItem(item_id, text))
    if not items:
        raise ClassificationInputError(f"{path}: no texts", source=str(path), field="text")
    return items


def gather_items(texts: Sequence[str], file: Path | None) -> list[InferenceItem]:
    """Inline texts first, then the file's; ids must be unique across both."""
    items = items_from_texts(texts)
    if file is not None:
        items += read_items(file)
    if not items:
        raise ClassificationInputError("no texts given: pass texts or a file", field="texts")
    ids = Counter(item.id for item in items)
    if clashes := sorted(i for i, c in ids.items() if c > 1):
        raise ClassificationInputError(
            f"ids used by both inline texts and {file}: {clashes[:10]}",
            source=str(file),
            field="id",
        )
    return items


def load_passed_model(
    engine: Engine, storage: Path, project: str, field_name: str
) -> tuple[int, Any]:
    """Version and fitted pipeline of the newest model that passed evaluation."""
    row = latest_model(engine, project, field_name, passed_only=True)
    if row is None:
        raise ClassificationInputError(
            f"{project}/{field_name}: no model has passed evaluation yet; train one first "
            f"(lexi jobs submit training --project {project} --field {field_name})",
            source=f"{project}/{field_name}",
            field="model",
        )
    version = int(row["version"])
    try:
        pipeline, _manifest = ModelStore(storage).load(project, field_name, version)
    except FileNotFoundError as exc:
        raise ArtifactIntegrityError(f"{project}/{field_name} v{version}: {exc}") from exc
    return version, pipeline


def predict_rows(
    pipeline: Any, items: Sequence[InferenceItem], version: int
) -> Iterable[dict[str, Any]]:
    """``{id, label, score, probabilities?, model_version}`` per item, in batches."""
    proba = getattr(pipeline, "predict_proba", None)
    classes = [str(c) for c in getattr(pipeline, "classes", [])]
    for start in range(0, len(items), _BATCH):
        batch = items[start : start + _BATCH]
        texts = [item.text for item in batch]
        if callable(proba) and classes:
            matrix = proba(texts)
            for item, row in zip(batch, matrix, strict=True):
                best = int(row.argmax())
                yield {
                    "id": item.id,
                    "label": classes[best],
                    "score": round(float(row[best]), 6),
                    "probabilities": {
                        c: round(float(p), 6) for c, p in zip(classes, row, strict=True)
                    },
                    "model_version": version,
                }
        else:
            labels, scores = pipeline.predict(texts)
            for item, label, score in zip(batch, labels, scores, strict=True):
                yield {
                    "id": item.id,
                    "label": str(label),
                    "score": round(float(score), 6),
                    "model_version": version,
                }


def run_inference(
    engine: Engine,
    storage: Path,
    project: str,
    field_name: str,
    items: Sequence[InferenceItem],
    output: Path,
) -> InferenceResult:
    """Predict ``items`` with the latest passed model and write ``output`` atomically."""
    version, pipeline = load_passed_model(engine, storage, project, field_name)
    started = time.perf_counter()
    rows = list(predict_rows(pipeline, items, version))
    duration = time.perf_counter() - started
    output.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(output, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return InferenceResult(
        project=project,
        field=field_name,
        model_version=version,
        output=output,
        count=len(rows),
        by_label=dict(sorted(Counter(r["label"] for r in rows).items())),
        duration_s=duration,
    )
